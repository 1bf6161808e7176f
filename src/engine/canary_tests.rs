//! Canary runs over the in-memory fake provider: steps, pauses under a paused clock, gates,
//! analysis verdicts and the lock.

use std::time::Duration;

use super::*;
use crate::engine::events::Collect;
use crate::engine::Options;
use crate::providers::fake::{canary_plan, test_plan, Fake};
use crate::providers::LockInfo;

fn plan(steps: &str) -> crate::plan::Plan {
    canary_plan(steps, "")
}

fn percents(fake: &Fake) -> Vec<String> {
    fake.moves()
}

/// Timed pauses cost no wall time under a paused clock, and each step moves traffic once.
#[tokio::test(start_paused = true)]
async fn steps_and_timed_pauses_run_in_order() {
    let plan = plan("[{setWeight: 10}, {pause: {duration: 2m}}, {setWeight: 50}, {pause: {duration: 30s}}, {setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(10));
    let events = Collect::default();
    let started = Instant::now();
    let out = Engine::new(&fake, &plan, &opts, &events)
        .canary(Start::Apply, CanaryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Changed(Traffic::Env {
            env: "green".into()
        })
    );
    assert!(
        started.elapsed() >= Duration::from_secs(150),
        "the pauses were waited for on the paused clock"
    );
    assert_eq!(
        percents(&fake),
        [
            "blue 90.0% / green 10.0%",
            "blue 50.0% / green 50.0%",
            "green"
        ]
    );
    let pauses = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Paused { .. }))
        .count();
    assert!(pauses >= 150, "a countdown event per second: {pauses}");
    assert_eq!(fake.state.lock().unwrap().record.phase, Phase::Completed);
    assert!(
        fake.state.lock().unwrap().lock.is_none(),
        "the lock is released"
    );
}

/// A pause longer than the time left is refused before waiting, not cut short silently.
#[tokio::test(start_paused = true)]
async fn a_pause_past_the_deadline_is_an_error() {
    let plan = plan("[{setWeight: 10}, {pause: {duration: 1h}}, {setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(1));
    let err = Engine::new(&fake, &plan, &opts, &Collect::default())
        .canary(Start::Apply, CanaryOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("longer than the time left"),
        "{err}"
    );
}

/// A manual gate records the pause (exit 6); apply stops there again; promote passes it.
#[tokio::test(start_paused = true)]
async fn gates_stop_until_promoted() {
    let plan = plan("[{setWeight: 20}, {pause: {}}, {setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(10));
    let (fake, plan, opts) = (&fake, &plan, &opts);
    let run = |start| async move {
        Engine::new(fake, plan, opts, &Collect::default())
            .canary(start, CanaryOptions::default())
            .await
    };
    let err = run(Start::Apply).await.unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Paused);
    assert_eq!(fake.state.lock().unwrap().record.step, Some(1));
    assert!(
        run(Start::Apply).await.is_err(),
        "apply resumes at the gate and stops again"
    );
    assert_eq!(percents(fake).len(), 1, "no extra traffic move while gated");
    run(Start::Promote).await.unwrap();
    assert_eq!(percents(fake).last().unwrap(), "green");
}

fn plan_with_checks(steps: &str, background: &str) -> crate::plan::Plan {
    test_plan(
        &format!(
            "{{canary: {{stable: blue, canary: green, cleanupDelay: 0s, {background} steps: {steps}}}}}
checks:
  bad: {{exec: {{command: [sh, -c, 'exit 7']}}}}
  good: {{exec: {{command: [sh, -c, 'exit 0']}}}}"
        ),
        "",
    )
}

/// A failing analysis step sends all traffic back to stable at once (exit 3); a passing one
/// lets the canary finish.
#[tokio::test]
async fn analysis_steps_gate_the_canary() {
    for (check, ok) in [("good", true), ("bad", false)] {
        let plan = plan_with_checks(
            &format!(
                "[{{setWeight: 10}}, {{analysis: {{checks: [{check}]}}}}, {{setWeight: 100}}]"
            ),
            "",
        );
        let fake = Fake::new(&["blue", "green"]);
        let opts = Options::unattended(Duration::from_mins(1));
        let result = Engine::new(&fake, &plan, &opts, &Collect::default())
            .canary(Start::Apply, CanaryOptions::default())
            .await;
        if ok {
            assert!(result.is_ok(), "{result:?}");
            assert_eq!(percents(&fake).last().unwrap(), "green");
        } else {
            let err = result.unwrap_err();
            assert_eq!(err.exit(), crate::exit::Exit::RolledBack, "{err}");
            assert_eq!(
                percents(&fake),
                ["blue 90.0% / green 10.0%", "blue"],
                "rolled back in one move"
            );
        }
    }
}

/// Background analysis runs beside the steps; its failure stops the canary mid-pause.
#[tokio::test]
async fn background_analysis_failure_rolls_back_during_a_pause() {
    let plan = plan_with_checks(
        "[{setWeight: 20}, {pause: {duration: 30s}}, {setWeight: 100}]",
        "analysis: {checks: [bad]},",
    );
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(1));
    let started = std::time::Instant::now();
    let err = Engine::new(&fake, &plan, &opts, &Collect::default())
        .canary(Start::Apply, CanaryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::RolledBack, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait out the 30s pause"
    );
    assert_eq!(percents(&fake), ["blue 80.0% / green 20.0%", "blue"]);
}

/// `promote` with nothing in progress is a usage error, not a silent success.
#[tokio::test(start_paused = true)]
async fn promote_without_a_rollout_is_refused() {
    let plan = plan("[{setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(1));
    let err = Engine::new(&fake, &plan, &opts, &Collect::default())
        .canary(Start::Promote, CanaryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Usage);
}

/// A lock held by another run stops the canary with exit 5 before any move.
#[tokio::test(start_paused = true)]
async fn a_held_lock_stops_the_run() {
    let plan = plan("[{setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    fake.state.lock().unwrap().lock = Some(LockInfo {
        holder: "other".into(),
        run_id: "x".into(),
        since: 0,
        expires: u64::MAX,
    });
    let opts = Options::unattended(Duration::from_mins(1));
    let err = Engine::new(&fake, &plan, &opts, &Collect::default())
        .canary(Start::Apply, CanaryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Locked);
    assert!(percents(&fake).is_empty());
}

/// The done lines of `abort` and `rollback` say what happened, not why it was asked for
/// (they read "requested: `blue` takes all traffic" before).
#[tokio::test(start_paused = true)]
async fn abort_and_rollback_say_what_they_did() {
    let plan = plan("[{setWeight: 20}, {pause: {}}, {setWeight: 100}]");
    let fake = Fake::new(&["blue", "green"]);
    let opts = Options::unattended(Duration::from_mins(10));
    let (fake, plan, opts) = (&fake, &plan, &opts);
    let canary = |start| async move {
        Engine::new(fake, plan, opts, &Collect::default())
            .canary(start, CanaryOptions::default())
            .await
    };
    let done = |events: &Collect| -> Vec<String> {
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Done { summary } => Some(summary.clone()),
                _ => None,
            })
            .collect()
    };
    canary(Start::Apply).await.unwrap_err();
    let events = Collect::default();
    Engine::new(fake, plan, opts, &events)
        .abort()
        .await
        .unwrap();
    assert_eq!(done(&events), ["canary aborted: `blue` takes all traffic"]);
    assert_eq!(percents(fake).last().unwrap(), "blue");

    canary(Start::Apply).await.unwrap_err();
    canary(Start::Promote).await.unwrap();
    assert_eq!(percents(fake).last().unwrap(), "green");
    let events = Collect::default();
    Engine::new(fake, plan, opts, &events)
        .rollback()
        .await
        .unwrap();
    assert_eq!(done(&events), ["rolled back: `blue` takes all traffic"]);
    assert_eq!(percents(fake).last().unwrap(), "blue");
}
