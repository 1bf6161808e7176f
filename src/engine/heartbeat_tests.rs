//! The heartbeat and the fence over the in-memory fake, under a paused clock: another run
//! takes the lock (or rewrites the record) while this one pauses.

use std::time::Duration;

use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::events::Collect;
use crate::engine::{Engine, EngineError, Options};
use crate::providers::fake::{canary_plan, Fake};
use crate::providers::{LockInfo, Phase};

fn plan(steps: &str, ttl: &str) -> crate::plan::Plan {
    canary_plan(steps, &format!(", lockTtl: {ttl}"))
}

fn moves(fake: &Fake) -> Vec<String> {
    fake.moves()
}

fn mallory() -> LockInfo {
    LockInfo {
        holder: "mallory@elsewhere pid 7".into(),
        run_id: "m".into(),
        since: 0,
        expires: u64::MAX,
    }
}

/// Runs the canary of `plan`; `after` (virtual time into the run) `meddle` changes the fake as
/// another runner would. Returns the run's result.
async fn run_with(
    plan: &crate::plan::Plan,
    fake: &Fake,
    after: Duration,
    meddle: impl FnOnce(&Fake),
) -> Result<crate::engine::Outcome, EngineError> {
    let opts = Options::unattended(Duration::from_hours(1));
    let events = Collect::default();
    let engine = Engine::new(fake, plan, &opts, &events);
    let run = engine.canary(Start::Apply, CanaryOptions::default());
    let other = async {
        tokio::time::sleep(after).await;
        meddle(fake);
    };
    tokio::join!(run, other).0
}

/// The lock is taken over during a long pause: the next renewal (every third of `lockTtl`)
/// finds it and stops the run at once — exit 5 naming the new holder, no further traffic
/// write, long before the pause would have ended. (Without the heartbeat the run would wake
/// and send everything to green.)
#[tokio::test(start_paused = true)]
async fn a_renewal_that_finds_the_lock_taken_stops_the_run() {
    let plan = plan(
        "[{setWeight: 10}, {pause: {duration: 30m}}, {setWeight: 100}]",
        "30s",
    );
    let fake = Fake::new(&["blue", "green"]);
    let started = tokio::time::Instant::now();
    let err = run_with(&plan, &fake, Duration::from_mins(1), |f| {
        f.state.lock().unwrap().lock = Some(mallory());
    })
    .await
    .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Locked, "{err}");
    assert!(err.to_string().contains("mallory@elsewhere pid 7"), "{err}");
    assert_eq!(moves(&fake), ["blue 90.0% / green 10.0%"]);
    assert!(
        started.elapsed() < Duration::from_mins(2),
        "it waited out the pause"
    );
    // Mallory's lock is left alone.
    assert_eq!(fake.state.lock().unwrap().lock, Some(mallory()));
}

/// The lock is taken over between two renewals: the fence before the next traffic write finds
/// it and the run stops without writing, naming the holder.
#[tokio::test(start_paused = true)]
async fn the_fence_stops_a_write_after_the_lock_was_taken() {
    let plan = plan(
        "[{setWeight: 10}, {pause: {duration: 2m}}, {setWeight: 100}]",
        "1h",
    );
    let fake = Fake::new(&["blue", "green"]);
    let err = run_with(&plan, &fake, Duration::from_mins(1), |f| {
        f.state.lock().unwrap().lock = Some(mallory());
    })
    .await
    .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Locked, "{err}");
    assert!(err.to_string().contains("mallory@elsewhere pid 7"), "{err}");
    assert_eq!(moves(&fake), ["blue 90.0% / green 10.0%"]);
}

/// The record was rewritten by another run (an abort by a runner that did not see the lock)
/// while this run still seems to hold the lock: the fence compares the record's generation
/// and stops the write, naming who wrote it.
#[tokio::test(start_paused = true)]
async fn the_fence_stops_a_write_after_the_record_changed() {
    let plan = plan(
        "[{setWeight: 10}, {pause: {duration: 2m}}, {setWeight: 100}]",
        "1h",
    );
    let fake = Fake::new(&["blue", "green"]);
    let err = run_with(&plan, &fake, Duration::from_mins(1), |f| {
        let mut st = f.state.lock().unwrap();
        st.record.phase = Phase::Aborted;
        st.record.action = Some("abort".into());
        st.record.by = Some("mallory@elsewhere".into());
        st.record.at = Some("2030-01-01T00:00:00Z".into());
    })
    .await
    .unwrap_err();
    assert_eq!(err.exit(), crate::exit::Exit::Locked, "{err}");
    let EngineError::LockLost { why, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        err.to_string().contains("mallory@elsewhere") && why.contains("`abort` (aborted"),
        "{err}: {why}"
    );
    assert_eq!(moves(&fake), ["blue 90.0% / green 10.0%"]);
}

/// Nobody meddles: the heartbeat keeps renewing through a pause many times the lock's lifetime
/// and the run completes and releases its lock.
#[tokio::test(start_paused = true)]
async fn the_heartbeat_keeps_a_long_pause_alive() {
    let plan = plan(
        "[{setWeight: 10}, {pause: {duration: 10m}}, {setWeight: 100}]",
        "30s",
    );
    let fake = Fake::new(&["blue", "green"]);
    run_with(&plan, &fake, Duration::ZERO, |_| {})
        .await
        .expect("the run completes");
    assert_eq!(moves(&fake), ["blue 90.0% / green 10.0%", "green"]);
    assert_eq!(fake.state.lock().unwrap().lock, None);
}
