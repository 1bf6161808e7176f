//! Concurrent runs and stale locks, and signals.

use super::*;

// ---------------------------------------------------------------------------------------------
// 4. Concurrent runs and locks
// ---------------------------------------------------------------------------------------------

/// Four processes apply the same canary at once: exactly one proceeds; the others exit 5 naming
/// the holder, or — if they reached the lock after the winner released it — find the rollout up
/// to date (exit 0, no traffic write). Never a second canary.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_applies_one_proceeds_others_exit_5() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    stack.sim.clear_requests();
    let children: Vec<Running> = (0..4)
        .map(|_| spawn(&stack, &["plan", "apply", "--yes", p(&plan)], &[]))
        .collect();
    let mut codes = BTreeMap::new();
    // A run slow enough to start after the winner finished reads the rollout as up to date
    // and exits 0 without taking the lock.
    let mut up_to_date = 0;
    for c in children {
        let (out, _) = c.wait(Duration::from_mins(1)).await;
        let code = out.status.code().unwrap_or(-1);
        match code {
            0 if stderr(&out).contains("up to date") => up_to_date += 1,
            0 => {}
            5 => assert!(
                stderr(&out).contains("locked by tester@") && stderr(&out).contains("pid "),
                "{}",
                render(&out)
            ),
            _ => panic!("unexpected exit: {}", render(&out)),
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    let lock_wins = stack
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/upstreams" && r.status == 201)
        .count();
    let to_mix = stack
        .writes()
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path.starts_with("/services/")
                && r.body.contains(MIXED_UP)
                && r.body.contains("bgctl.weight=10\"")
        })
        .count();
    println!("concurrent applies: exit codes {codes:?}, locks taken {lock_wins}, up to date {up_to_date}, canaries started {to_mix}");
    assert_eq!(to_mix, 1, "exactly one canary ran");
    let zeros = codes.get(&0).copied().unwrap_or(0);
    assert!(
        zeros - up_to_date <= lock_wins && lock_wins <= zeros,
        "every exit 0 took the lock once or found the rollout up to date \
         (exit 0: {zeros}, up to date: {up_to_date}, locks taken: {lock_wins})"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
}

/// A run that reads the live state, then waits for the lock while another run completes the
/// canary, must not act on what it read before: it re-reads under the lock and finds the rollout
/// up to date instead of starting the canary again (traffic going back from 100% to 10%).
#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_waited_for_the_lock_replans_from_fresh_state() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    stack.sim.clear_requests();
    // The first lock attempt (run B's) is held back 6 s before Kong processes it.
    stack.sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/upstreams".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Delay { ms: 6000 },
    });
    let b = spawn(&stack, &["plan", "apply", "--yes", p(&plan)], &[]);
    let mut pending = false;
    for _ in 0..500 {
        if stack
            .sim
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/upstreams")
        {
            pending = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(pending, "run B never tried the lock");
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(0), "run A: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    let before = stack
        .writes()
        .iter()
        .filter(|r| r.path.starts_with("/services/"))
        .count();
    let (out, _) = b.wait(Duration::from_mins(1)).await;
    assert_eq!(out.status.code(), Some(0), "run B: {}", render(&out));
    let after = stack
        .writes()
        .iter()
        .filter(|r| r.path.starts_with("/services/"))
        .count();
    assert_eq!(
        before,
        after,
        "run B moved traffic from a stale read: {:?}",
        stack.writes()
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
}

/// A lock left by a SIGKILLed run blocks later runs of another user (exit 5: its holder is
/// not theirs to judge by pid) until it expires (`lockTtl: 3s`); then the next run treats it as
/// stale, breaks it with a warning and proceeds. (The same user on this host would break it at
/// once: `conformance::*::a_dead_local_holders_lock_is_broken_with_a_message`.)
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_runs_lock_blocks_until_it_expires() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &["lockTtl: 3s"]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let green = bg_plan(&stack, "green", &["lockTtl: 3s"]);
    stack.sim.faults().add(services_hang());
    let mut child = spawn(&stack, &["plan", "apply", "--yes", p(&green)], &[]);
    let mut hung = false;
    for _ in 0..1000 {
        if stack
            .writes()
            .iter()
            .any(|r| r.method == "PATCH" && r.status == 0)
        {
            hung = true;
            break;
        }
        assert!(!child.exited());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(hung);
    child.signal("KILL");
    let _ = child.wait(Duration::from_secs(10)).await;
    let killed_at = Instant::now();
    stack.sim.faults().clear();
    let other = [("USER", "other")];
    let out = spawn(&stack, &["plan", "apply", "--yes", p(&green)], &other)
        .wait(Duration::from_mins(1))
        .await
        .0;
    assert_eq!(out.status.code(), Some(5), "{}", render(&out));
    assert!(
        stderr(&out).contains("locked by tester@"),
        "{}",
        render(&out)
    );
    // Expiry has second granularity: wait until the lock's `expires` is in the past.
    tokio::time::sleep(Duration::from_millis(4200).saturating_sub(killed_at.elapsed())).await;
    let out = spawn(&stack, &["plan", "apply", "--yes", p(&green)], &other)
        .wait(Duration::from_mins(1))
        .await
        .0;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("breaking a stale lock"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    assert!(!upstreams(&stack).await.iter().any(|u| u == LOCK_UP));
}

fn services_hang() -> FaultRule {
    FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Hang { ms: 60_000 },
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Signals
// ---------------------------------------------------------------------------------------------

/// Starts a canary that pauses 60 s at 10% and waits until it is there.
async fn canary_at_pause(stack: &Stack) -> (Running, PathBuf) {
    let blue = bg_plan(stack, "blue", &[]);
    let out = bgctl(stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(
        stack,
        "[{setWeight: 10}, {pause: {duration: 60s}}, {setWeight: 100}]",
        &[],
    );
    stack.sim.clear_requests();
    let child = spawn(stack, &["plan", "apply", "--yes", p(&plan)], &[]);
    let mut paused = false;
    for _ in 0..1000 {
        // The pause is recorded with a service PATCH after the move to 10%.
        if stack
            .writes()
            .iter()
            .filter(|r| r.path.starts_with("/services/") && r.status == 200)
            .count()
            >= 2
        {
            paused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(paused, "the canary never reached its pause");
    (child, plan)
}

/// SIGTERM during a canary follows the interrupt policy like Ctrl-C: rolled back, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_canary_rolls_back_and_exits_130() {
    let stack = Stack::start().await;
    let (child, plan) = canary_at_pause(&stack).await;
    child.signal("TERM");
    let (out, _) = child.wait(Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert!(stderr(&out).contains("rolled back"), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &plan, "after SIGTERM").await;
    assert!(st["lock"].is_null(), "the lock is released: {st}");
}

/// A second Ctrl-C while the rollback's write is in flight does not stop it: the rollback
/// finishes, the outcome is printed, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn second_sigint_during_the_rollback_still_finishes_it() {
    let stack = Stack::start().await;
    let (child, plan) = canary_at_pause(&stack).await;
    // Writes so far (since the canary started): lock POST, mixed upstream and targets, the 10%
    // PATCH and the pause PATCH. The next service PATCH is the rollback: slow it down.
    let patches = stack
        .writes()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
        .count();
    // A rule counts only requests after it was added: skip 0 is the rollback's PATCH.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Delay { ms: 1500 },
    });
    child.signal("INT");
    let mut in_flight = false;
    for _ in 0..500 {
        let w = stack.writes();
        if w.iter()
            .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
            .count()
            > patches
            && w.last().is_some_and(|r| r.status == 0)
        {
            in_flight = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(in_flight, "the rollback PATCH never started");
    child.signal("INT");
    let (out, _) = child.wait(Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert!(stderr(&out).contains("rolled back"), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert_status_truthful(&stack, &plan, "after two SIGINTs").await;
}
