//! The seed's blue-green release end to end: the real binary against kong-sim and real local
//! backends, traffic observed through the simulator's proxy.

use kong_sim::{FaultAction, FaultRule, SimConfig};

use crate::harness::{bgctl, filter, render, root, run, Stack};

fn share(counts: &std::collections::BTreeMap<String, usize>, name: &str, n: usize) -> f64 {
    *counts.get(name).unwrap_or(&0) as f64 / n as f64
}

/// Seed 000: blue 100/50 serves 2/3–1/3; after the switch green 100/100 serves 1/2–1/2; rollback
/// returns to blue. Each step through the real binary, each split measured through the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn seed_blue_green_end_to_end() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let n = 600;
    let c = stack.split(n).await;
    assert!((share(&c, "blue-1", n) - 2.0 / 3.0).abs() < 0.04, "{c:?}");
    assert!((share(&c, "blue-2", n) - 1.0 / 3.0).abs() < 0.04, "{c:?}");

    let mut cmd = stack.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let c = stack.split(n).await;
    assert!((share(&c, "green-1", n) - 0.5).abs() < 0.04, "{c:?}");
    assert!((share(&c, "green-2", n) - 0.5).abs() < 0.04, "{c:?}");

    // The switch is one PATCH of the service host (plus the record marked verified after it,
    // and the lock's create and delete).
    let switch_writes: Vec<_> = stack
        .writes()
        .into_iter()
        .filter(|r| r.path.starts_with("/services/") && r.body.contains("\"host\""))
        .collect();
    assert!(
        switch_writes
            .last()
            .unwrap()
            .body
            .contains("address.v2.service"),
        "{switch_writes:?}"
    );

    let mut cmd = stack.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let c = stack.split(300).await;
    assert_eq!(
        c.get("green-1").copied().unwrap_or(0) + c.get("green-2").copied().unwrap_or(0),
        0,
        "{c:?}"
    );

    let mut cmd = stack.bgctl();
    cmd.args(["status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    insta::assert_snapshot!("status-after-rollback", render(&out));
}

/// A second apply of the same plan sees nothing to change: zero writes, not even the lock.
#[tokio::test(flavor = "multi_thread")]
async fn reapply_makes_zero_writes() {
    let stack = Stack::start().await;
    let plan = stack.plan("green");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    stack.sim.clear_requests();
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stack.writes().is_empty(),
        "writes on re-apply: {:?}",
        stack.writes()
    );
    assert!(
        !stack.sim.requests().is_empty(),
        "it did read the live state"
    );
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "diff", "--exit-code"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(0));
}

/// An unhealthy green stops the switch before traffic moves: exit 3, blue untouched.
#[tokio::test(flavor = "multi_thread")]
async fn unhealthy_green_aborts_switch_with_blue_untouched() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    stack.backends[3].set_healthy(false);
    stack.sim.clear_requests();
    let mut cmd = stack.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`green` is not healthy") && err.contains("HTTP 503"),
        "{err}"
    );
    assert!(
        stack
            .writes()
            .iter()
            .all(|r| !r.path.starts_with("/services")),
        "the service was written: {:?}",
        stack.writes()
    );
    let c = stack.split(60).await;
    assert_eq!(
        c.keys().filter(|k| k.starts_with("green")).count(),
        0,
        "{c:?}"
    );
}

/// Without a terminal and without `--yes`, a traffic change is refused with exit 6 and no write.
#[tokio::test(flavor = "multi_thread")]
async fn non_interactive_without_yes_refuses() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(stack.writes().is_empty());
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--dry-run", "-v"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PUT /upstreams/address.v1.service"),
        "{}",
        render(&out)
    );
    assert!(
        stack.writes().is_empty(),
        "dry run wrote: {:?}",
        stack.writes()
    );
}

/// A lock held by another run stops this one with exit 5 naming the holder; `--force-unlock`
/// breaks it.
#[tokio::test(flavor = "multi_thread")]
async fn lock_contention_exits_5_naming_the_holder() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let far = 4_000_000_000u64;
    let body = serde_json::json!({"name": "address-service.bgctl-lock", "tags": ["managed-by-bgctl", "bgctl.lock-holder=alice@ci-7 pid 42", "bgctl.lock-run=aaaaaaaaaaaa", "bgctl.lock-since=1700000000", format!("bgctl.lock-expires={far}")]});
    let resp = reqwest::Client::new()
        .post(format!("{}/upstreams", stack.sim.admin_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(5), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("alice@ci-7 pid 42"),
        "{}",
        render(&out)
    );
    assert!(
        stack
            .writes()
            .iter()
            .all(|r| r.path == "/upstreams" && r.method == "POST"),
        "only the lock attempt: {:?}",
        stack.writes()
    );
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes", "--force-unlock"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
}

/// 502s and a 429 with `Retry-After` are retried; the run still succeeds. A 400 is not retried.
#[tokio::test(flavor = "multi_thread")]
async fn retries_5xx_and_429_but_not_4xx() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let faults = stack.sim.faults();
    faults.add(FaultRule {
        method: Some("PUT".into()),
        path: "/upstreams/*".into(),
        skip: 0,
        times: 2,
        action: FaultAction::Status {
            code: 502,
            retry_after: None,
            body: None,
        },
    });
    faults.add(FaultRule {
        method: Some("PUT".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Status {
            code: 429,
            retry_after: Some(1),
            body: None,
        },
    });
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let statuses: Vec<u16> = stack
        .sim
        .requests()
        .iter()
        .filter(|r| r.is_write())
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 502).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );

    faults.add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 5,
        action: FaultAction::Status {
            code: 400,
            retry_after: None,
            body: Some(r#"{"message":"bad request"}"#.into()),
        },
    });
    stack.sim.clear_requests();
    let mut cmd = stack.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_ne!(out.status.code(), Some(0), "{}", render(&out));
    let patches = stack
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
        .count();
    assert_eq!(patches, 1, "a 400 must not be retried");
}

/// Header values from the plan never appear in any output, even at `-vvv` and in errors.
#[tokio::test(flavor = "multi_thread")]
async fn admin_token_is_never_printed() {
    let token = "s3cr3t-T0KEN-value";
    let stack = Stack::with_config(SimConfig {
        admin_token: Some(token.into()),
        ..SimConfig::default()
    })
    .await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.env("KONG_ADMIN_TOKEN", token)
        .args(["-vvv", "plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let text = render(&out);
    assert!(!text.contains(token), "token leaked:\n{text}");
    let mut cmd = stack.bgctl();
    cmd.env("KONG_ADMIN_TOKEN", "wrong-token-zzz")
        .args(["-vvv", "-o", "json", "status", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let text = render(&out);
    assert!(
        text.contains("401") && !text.contains("wrong-token-zzz") && !text.contains(token),
        "{text}"
    );
}

/// `bgctl demo` runs unattended on a fresh machine and ends with the status table.
#[test]
fn demo_runs_unattended() {
    let out = bgctl(&root())
        .args(["--timeout", "2m", "demo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let stdout = filter(&String::from_utf8_lossy(&out.stdout));
    assert!(stdout.contains("live:     blue"), "{stdout}");
}

/// When the Admin API fails exactly as rollback moves traffic, the run exits 4 and says what
/// state Kong is in and which command finishes the job.
#[tokio::test(flavor = "multi_thread")]
async fn failed_rollback_exits_4_with_state_and_command() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    for args in [
        vec!["plan", "apply", "--yes"],
        vec!["switch", "--to", "green", "--yes", "-f"],
    ] {
        let mut cmd = stack.bgctl();
        cmd.args(&args).arg(&plan);
        assert_eq!(run(cmd).await.status.code(), Some(0));
    }
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 50,
        action: FaultAction::Status {
            code: 503,
            retry_after: None,
            body: None,
        },
    });
    let mut cmd = stack.bgctl();
    cmd.args(["--timeout", "20s", "rollback", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("last known: traffic goes to green") && err.contains("bgctl switch --to blue"),
        "{err}"
    );
    assert_eq!(
        stack.service_host().await,
        "address.v2.service",
        "nothing half-done: green still serves"
    );
}

/// Blue-green analysis: a failing `prePromotionAnalysis` moves nothing (exit 3); a failing
/// `postPromotionAnalysis` rolls back in one write (exit 3) and runs the `onRollback` hook.
#[tokio::test(flavor = "multi_thread")]
async fn blue_green_pre_and_post_promotion_analysis() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    let marker = stack.dir.path().join("rolled-back");
    let checks = format!(
        "checks:\n  gate: {{exec: {{command: [sh, -c, 'echo measured 42 >&2; exit 1']}}}}\nhooks:\n  onRollback: [{{exec: {{command: [touch, '{}']}}}}]\nstrategy:",
        marker.display()
    );
    for (stage, expect_host) in [
        ("prePromotionAnalysis", "address.v1.service"),
        ("postPromotionAnalysis", "address.v1.service"),
    ] {
        let replaced = format!("activeEnvironment: green\n    {stage}: {{checks: [gate]}}");
        let p = stack.plan_from(
            "seed.yaml",
            &[
                ("activeEnvironment: ACTIVE", &replaced),
                ("strategy:", &checks),
            ],
        );
        stack.sim.clear_requests();
        let mut cmd = stack.bgctl();
        cmd.args(["plan", "apply", "--yes"]).arg(&p);
        let out = run(cmd).await;
        let text = render(&out);
        assert_eq!(out.status.code(), Some(3), "{stage}: {text}");
        assert!(
            text.contains("gate: FAIL") && text.contains("measured 42"),
            "{stage}: the verdict explains itself: {text}"
        );
        assert_eq!(stack.service_host().await, expect_host, "{stage}");
        let service_writes = stack
            .writes()
            .iter()
            .filter(|r| r.path.starts_with("/services/"))
            .count();
        if stage == "prePromotionAnalysis" {
            assert_eq!(service_writes, 0, "nothing moved before promotion");
            assert!(!marker.exists(), "no rollback, no onRollback hook");
        } else {
            assert_eq!(
                service_writes, 3,
                "switch, its record marked verified, then one write back"
            );
            assert!(marker.exists(), "the onRollback hook ran");
        }
    }
}
