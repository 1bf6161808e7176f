//! A lost answer during `rollback`/`abort`, a flaky Admin API, and rollbacks that fail.

use super::*;

/// `rollback` and `abort` whose traffic write lands but loses its answer still succeed (exit 0,
/// stable serves, `status` agrees, no lock left): the service `PATCH` is idempotent, so the
/// client sends it again and gets the answer.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_during_rollback_and_abort_still_succeeds() {
    let lose_service_patch = || FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::LoseAnswer,
    };
    // Blue-green: green live, then `rollback`.
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let green = bg_plan(&stack, "green", &[]);
    for plan in [&blue, &green] {
        let out = bgctl(&stack, &["plan", "apply", "--yes", p(plan)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    }
    stack.sim.clear_requests();
    stack.sim.faults().add(lose_service_patch());
    let out = bgctl(&stack, &["rollback", "--yes", "-f", p(&green)]).await;
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "rollback: {}", render(&out));
    let patches = writes(&stack)
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
        .count();
    assert_eq!(
        patches,
        2,
        "the lost write and its repeat: {:?}",
        writes(&stack)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &green, "after rollback").await;
    assert!(st["lock"].is_null(), "{st}");

    // Canary: paused at a gate at 10 %, then `abort`.
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(
        &stack,
        "[{setWeight: 10}, {pause: {}}, {setWeight: 100}]",
        &[],
    );
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(6), "at the gate: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(MIXED_UP));
    stack.sim.faults().add(lose_service_patch());
    let out = bgctl(&stack, &["abort", "--yes", "-f", p(&plan)]).await;
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "abort: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &plan, "after abort").await;
    assert!(st["lock"].is_null(), "{st}");
    assert_eq!(st["record"]["phase"], "aborted", "{st}");
}

// ---------------------------------------------------------------------------------------------
// 2. Flaky Admin API
// ---------------------------------------------------------------------------------------------

const RUN_TIMEOUT_SECS: u64 = 20;

#[derive(Clone, Copy, Debug)]
enum Injection {
    Random(f64),
    /// Fail the next `n` Admin API calls after `skip` calls.
    Next {
        skip: u32,
        n: u32,
    },
}

/// One run under faults; checks the exit-code contract and the state after it. Returns the number
/// of faults the simulator injected (answers it did not give normally) and the exit code.
async fn flaky_run(action: &FaultAction, inj: Injection, canary: bool) -> (usize, i32) {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let plan = if canary {
        canary_plan(&stack, THREE_STEPS, &[REQUEST_TIMEOUT])
    } else {
        bg_plan(&stack, "green", &[REQUEST_TIMEOUT])
    };
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "prepare: {}", render(&out));
    stack.sim.clear_requests();
    let faults = stack.sim.faults();
    match inj {
        Injection::Random(rate) => faults.set_random(rate, action.clone()),
        Injection::Next { skip, n } => faults.add(FaultRule {
            method: None,
            path: "*".into(),
            skip,
            times: n,
            action: action.clone(),
        }),
    }
    let timeout = format!("{RUN_TIMEOUT_SECS}s");
    let child = spawn(
        &stack,
        &["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)],
        &[],
    );
    let (out, took) = child.wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30)).await;
    faults.clear();
    let ctx = format!("{action:?} {inj:?} canary={canary}");
    let log = stack.sim.requests();
    let injected = log
        .iter()
        .filter(|r| r.status == 0 || r.status == 429 || r.status >= 500)
        .count();
    // The run's total time, its closing writes (automatic rollback, lock release) included, is
    // bounded by `--timeout` plus a margin for process start.
    assert!(
        took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
        "{ctx}: took {took:?} with --timeout {timeout}"
    );
    let code = out.status.code();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{ctx}: {}", render(&out));
    let h = host(&stack).await;
    match code {
        Some(0) => assert_eq!(
            h.as_deref(),
            Some(GREEN_UP),
            "{ctx}: exit 0 but not at the end state"
        ),
        Some(1 | 3) => assert_eq!(
            h.as_deref(),
            Some(BLUE_UP),
            "{ctx}: exit {code:?} but stable is not serving: {}",
            render(&out)
        ),
        Some(4) => assert!(
            err.contains("state:") && err.contains("to finish by hand: bgctl "),
            "{ctx}: exit 4 must print the state and a command: {}",
            render(&out)
        ),
        _ => panic!("{ctx}: undocumented exit: {}", render(&out)),
    }
    // Never half-switched: the status agrees with Kong and the service points at exactly one
    // environment or at the mix while the record says a canary is in progress.
    assert_status_truthful(&stack, &plan, &ctx).await;
    // Retries only where idempotent: a target `POST` that got no answer is never re-sent blind
    // with the same body — only after a read-back of that target answered 404 (it did not
    // land). The lock `POST` may be re-sent: it reads back a 409 and recognises its own run.
    for (i, r) in log.iter().enumerate() {
        if r.method == "POST" && r.path.ends_with("/targets") && r.status == 0 {
            if let Some(j) = log[i + 1..]
                .iter()
                .position(|x| x.method == "POST" && x.path == r.path && x.body == r.body)
            {
                let between = &log[i + 1..i + 1 + j];
                assert!(
                    between.iter().any(|x| x.method == "GET"
                        && x.path.starts_with(&format!("{}/", r.path))
                        && x.status == 404),
                    "{ctx}: an unanswered target POST was re-sent without reading it back: {r:?}"
                );
            }
        }
    }
    (injected, code.unwrap_or(-1))
}

async fn flaky_matrix(action: FaultAction) {
    let started = Instant::now();
    let mut runs = 0;
    let mut injected = 0;
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let matrix = [
        (Injection::Random(0.05), true),
        (Injection::Random(0.2), true),
        (Injection::Next { skip: 0, n: 3 }, true),
        (Injection::Next { skip: 25, n: 3 }, true),
        (Injection::Random(0.2), false),
    ];
    for (inj, canary) in matrix {
        let (n, code) = flaky_run(&action, inj, canary).await;
        injected += n;
        *codes.entry(code).or_insert(0) += 1;
        runs += 1;
    }
    println!(
        "flaky matrix {action:?}: {runs} runs, {injected} faults injected (unanswered or error answers in the log), exit codes {codes:?}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// 500 at 5% / 20% / the next 3 calls: complete, or fail with a documented code and a truthful state.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_500() {
    flaky_matrix(status_fault(500, None)).await;
}

/// 502: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_502() {
    flaky_matrix(status_fault(502, None)).await;
}

/// 503: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_503() {
    flaky_matrix(status_fault(503, None)).await;
}

/// 429 with `Retry-After: 1`: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_429_retry_after() {
    flaky_matrix(status_fault(429, Some(1))).await;
}

/// Connection reset without an answer: as above; unanswered target POSTs are re-sent only after
/// a read-back shows they did not land.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_connection_reset() {
    flaky_matrix(FaultAction::Reset).await;
}

/// A hang past the 500 ms per-call timeout: as above, and the run stays inside `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_hang_past_timeout() {
    flaky_matrix(FaultAction::Hang { ms: 1500 }).await;
}

/// A slow answer just under the per-call timeout: always completes.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_delay_under_timeout() {
    flaky_matrix(FaultAction::Delay { ms: 350 }).await;
}

/// Regression (found by the flaky matrix design review): a write that fails after the canary
/// moved traffic used to exit 1 ("before any traffic change") with the service left on the mix.
/// It now rolls back to stable and exits 3.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_after_traffic_moved_rolls_back_with_exit_3() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    // The first service PATCH (to 10%) lands; the second (to 50%) gets a 400, never retried.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 1,
        times: 1,
        action: FaultAction::Status {
            code: 400,
            retry_after: None,
            body: Some(r#"{"message":"schema violation"}"#.into()),
        },
    });
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    assert!(
        stderr(&out).contains("rolled back to `blue`") && stderr(&out).contains("schema violation"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert_status_truthful(&stack, &plan, "after a failed write mid-canary").await;
}

// ---------------------------------------------------------------------------------------------
// 3. Rollback that fails
// ---------------------------------------------------------------------------------------------

fn services_patch_fails(skip: u32) -> FaultRule {
    FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip,
        times: 1000,
        action: FaultAction::Reset,
    }
}

/// The Admin API goes away exactly when `rollback` writes: exit 4, the last known state and the
/// exact command (with the real plan path) to finish.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_whose_write_fails_exits_4_with_state_and_command() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let green = bg_plan(&stack, "green", &[REQUEST_TIMEOUT]);
    for plan in [&blue, &green] {
        let out = bgctl(&stack, &["plan", "apply", "--yes", p(plan)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    }
    stack.sim.faults().add(services_patch_fails(0));
    let out = bgctl(
        &stack,
        &["--timeout", "20s", "rollback", "--yes", "-f", p(&green)],
    )
    .await;
    stack.sim.faults().clear();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    assert!(
        err.contains("state: ") && err.contains("green"),
        "last known state: {err}"
    );
    let cmd = format!("bgctl switch --to blue -f {} --yes", p(&green));
    assert!(err.contains(&cmd), "the exact command `{cmd}`: {err}");
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    // The printed command finishes the job once the API is back.
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let out = bgctl(&stack, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
}

/// A canary whose verification fails rolls back on its own; when that rollback's write fails too:
/// exit 4, the last known state (the split) and the command to finish.
#[tokio::test(flavor = "multi_thread")]
async fn canary_auto_rollback_that_fails_exits_4() {
    // The data plane never catches up within the verification timeout, so verification fails.
    let stack = Stack::with_config(SimConfig {
        propagation_delay: Duration::from_mins(10),
        ..SimConfig::default()
    })
    .await;
    // Blue must be live in the data plane before the canary: apply it through the Admin API
    // while the data plane lags; without `proxyUrl` this first apply does not verify.
    let no_verify = write_plan(
        &stack,
        "blue-nv.yaml",
        "seed.yaml",
        &[
            ("ACTIVE", "blue"),
            ("    proxyUrl: ${KONG_PROXY_URL}\n", ""),
            // A `verify` block without a proxy is refused by validation.
            (
                "verify:\n  samples: 60\n  tolerance: 5\n  timeout: 5s\n",
                "",
            ),
        ],
        &[],
    );
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&no_verify)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = write_plan(
        &stack,
        "canary-fail.yaml",
        "canary.yaml",
        &[
            (
                CANARY_STEPS,
                "    steps: [{setWeight: 10}, {setWeight: 100}]\n",
            ),
            (
                CANARY_VERIFY,
                "    verify: {samples: 20, tolerance: 1, timeout: 1s}\n",
            ),
        ],
        &[REQUEST_TIMEOUT],
    );
    // The first service PATCH moves traffic to 10%; every later one (the rollback) fails.
    stack.sim.faults().add(services_patch_fails(1));
    let out = bgctl(
        &stack,
        &["--timeout", "30s", "plan", "apply", "--yes", p(&plan)],
    )
    .await;
    stack.sim.faults().clear();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    assert!(err.contains("rollback to `blue` failed"), "{err}");
    assert!(
        err.contains("state: last known: traffic goes to blue 90.0% / green 10.0%"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "to finish by hand: bgctl abort -f {} --yes",
            p(&plan)
        )),
        "{err}"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(MIXED_UP));
    assert_status_truthful(&stack, &plan, "after a failed auto-rollback").await;
}

/// The working deadline runs out while a canary's write hangs: the automatic rollback still has
/// the reserve `--timeout` keeps for the closing writes (`bgctl::deadline::closing_reserve`, 2 s
/// of 8 s here) and sends traffic back (exit 3), instead of finding no time left for its own
/// calls (exit 4). The run stays within `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn canary_whose_timeout_runs_out_mid_write_still_rolls_back() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = write_plan(
        &stack,
        "canary-deadline.yaml",
        "canary.yaml",
        &[
            (
                CANARY_STEPS,
                "    steps: [{setWeight: 10}, {setWeight: 100}]\n",
            ),
            (CANARY_VERIFY, ""),
        ],
        &[],
    );
    // The first service PATCH moves traffic to 10%; the next one (100%) hangs past the deadline.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 1,
        times: 1,
        action: FaultAction::Hang { ms: 60_000 },
    });
    let started = Instant::now();
    let out = bgctl(
        &stack,
        &["--timeout", "8s", "plan", "apply", "--yes", p(&plan)],
    )
    .await;
    let took = started.elapsed();
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    assert!(
        stderr(&out).contains("rolled back to `blue`"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert!(took < Duration::from_secs(8 + 2), "took {took:?}");
    assert_status_truthful(&stack, &plan, "after a rollback in the closing reserve").await;
}
