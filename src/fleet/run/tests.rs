//! The scheduling rules with fake members: order, `maxParallel`, stopping, the policies and the
//! fleet's exit code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indexmap::IndexMap;

use super::*;
use crate::fleet::load::{Member, Wave};

/// Six members `m0..m5` in waves of 1, 2 and 3, `maxParallel: 2`.
fn fleet(on_failure: OnFailure, pause: Option<Duration>) -> Fleet {
    let waves_of = [0, 1, 1, 2, 2, 2];
    let members = waves_of
        .iter()
        .enumerate()
        .map(|(i, &w)| Member {
            name: format!("m{i}"),
            vars: IndexMap::new(),
            values: IndexMap::new(),
            wave: w,
        })
        .collect();
    Fleet {
        file: "f.yaml".into(),
        name: "f".into(),
        plan_file: "p.yaml".into(),
        members,
        waves: vec![
            Wave {
                members: vec![0],
                max_parallel: 2,
                pause_before: None,
            },
            Wave {
                members: vec![1, 2],
                max_parallel: 2,
                pause_before: pause,
            },
            Wave {
                members: vec![3, 4, 5],
                max_parallel: 2,
                pause_before: None,
            },
        ],
        on_failure,
    }
}

#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl Progress for Seen {
    fn wave(&self, wave: usize, state: &str) {
        self.0.lock().unwrap().push(format!("wave{wave}:{state}"));
    }
    fn member(&self, member: usize, state: &str, _: &MemberResult) {
        self.0.lock().unwrap().push(format!("m{member}:{state}"));
    }
}

fn failing(exit: Exit) -> MemberResult {
    MemberResult::failed(CliError::usage("x", "y").with_exit(exit), false)
}

/// Member `at` fails with `exit`; every other one moves and succeeds.
fn fails_at(at: usize, exit: Exit) -> impl Fn(usize) -> MemberResult {
    move |i| {
        if i == at {
            failing(exit)
        } else {
            MemberResult::ok(true, "ok")
        }
    }
}

trait WithExit {
    fn with_exit(self, exit: Exit) -> Self;
}

impl WithExit for CliError {
    fn with_exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }
}

/// Runs the fleet with `outcome(i)` per member; returns the report, what ran, what was rolled
/// back, the most members that ran at once and the progress lines.
async fn drive(
    f: &Fleet,
    outcome: impl Fn(usize) -> MemberResult,
    rollback_exit: Exit,
) -> (Report, Vec<usize>, Vec<usize>, usize, Vec<String>) {
    let ran = Mutex::new(Vec::new());
    let rolled = Mutex::new(Vec::new());
    let now = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let seen = Seen::default();
    let report = run_waves(
        f,
        async |i| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10 * (i as u64 + 1))).await;
            now.fetch_sub(1, Ordering::SeqCst);
            ran.lock().unwrap().push(i);
            outcome(i)
        },
        async |i| {
            rolled.lock().unwrap().push(i);
            if rollback_exit == Exit::Ok {
                MemberResult::ok(true, "rolled back")
            } else {
                failing(rollback_exit)
            }
        },
        async |d| {
            tokio::time::sleep(d).await;
            true
        },
        &seen,
    )
    .await;
    let lines = seen.0.into_inner().unwrap();
    (
        report,
        ran.into_inner().unwrap(),
        rolled.into_inner().unwrap(),
        peak.load(Ordering::SeqCst),
        lines,
    )
}

#[tokio::test(start_paused = true)]
async fn waves_run_in_order_at_most_max_parallel_at_once() {
    let f = fleet(OnFailure::Halt, None);
    let (report, ran, rolled, peak, _) =
        drive(&f, |_| MemberResult::ok(true, "ok"), Exit::Ok).await;
    assert_eq!(report.exit(), Exit::Ok);
    assert_eq!(ran.len(), 6);
    assert_eq!(ran[0], 0, "wave 1 first");
    assert!(
        ran[1..3].contains(&1) && ran[1..3].contains(&2),
        "wave 2 next: {ran:?}"
    );
    assert_eq!(peak, 2, "maxParallel 2");
    assert!(rolled.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_in_wave_2_leaves_wave_3_unstarted_and_halt_rolls_nothing_back() {
    let f = fleet(OnFailure::Halt, None);
    let (report, ran, rolled, _, lines) = drive(&f, fails_at(2, Exit::RolledBack), Exit::Ok).await;
    assert_eq!(report.exit(), Exit::RolledBack);
    assert!(ran.iter().all(|&i| i < 3), "no wave-3 member ran: {ran:?}");
    assert!(rolled.is_empty());
    assert_eq!(report.stopped_at, Some(1));
    assert!(
        lines.contains(&"wave2:not_started".to_string()),
        "{lines:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn rollback_wave_restores_the_members_of_the_failed_wave_this_run_moved() {
    let f = fleet(OnFailure::RollbackWave, None);
    let (report, _, rolled, _, _) = drive(&f, fails_at(2, Exit::RolledBack), Exit::Ok).await;
    assert_eq!(
        rolled,
        vec![1],
        "m1 moved and is rolled back; m2 rolled itself back"
    );
    assert_eq!(report.exit(), Exit::RolledBack);
    assert!(report.moved(), "wave 1 keeps its new side");
}

#[tokio::test(start_paused = true)]
async fn rollback_all_goes_back_wave_by_wave_and_a_failed_rollback_is_exit_4() {
    let f = fleet(OnFailure::RollbackAll, None);
    let (report, _, rolled, _, _) = drive(
        &f,
        |i| {
            if i == 2 {
                failing(Exit::RolledBack)
            } else {
                MemberResult::ok(i != 1, "ok")
            }
        },
        Exit::Uncertain,
    )
    .await;
    assert_eq!(
        rolled,
        vec![0],
        "m1 did not move in this run, so only m0 is rolled back"
    );
    assert_eq!(report.exit(), Exit::Uncertain);
}

#[tokio::test(start_paused = true)]
async fn a_gate_pauses_the_fleet_without_rolling_back() {
    let f = fleet(OnFailure::RollbackAll, None);
    let (report, ran, rolled, _, _) = drive(&f, fails_at(0, Exit::Paused), Exit::Ok).await;
    assert_eq!(ran, vec![0]);
    assert!(rolled.is_empty());
    assert_eq!(report.exit(), Exit::Paused);
}

#[tokio::test(start_paused = true)]
async fn an_error_before_anything_moved_is_exit_1_and_after_is_exit_3() {
    let f = fleet(OnFailure::Halt, None);
    let (report, ..) = drive(&f, |_| failing(Exit::Error), Exit::Ok).await;
    assert_eq!(report.exit(), Exit::Error);
    let (report, ..) = drive(&f, fails_at(1, Exit::Error), Exit::Ok).await;
    assert_eq!(report.exit(), Exit::RolledBack);
}

#[tokio::test(start_paused = true)]
async fn pause_before_is_waited_only_after_a_change() {
    let f = fleet(OnFailure::Halt, Some(Duration::from_mins(10)));
    let start = tokio::time::Instant::now();
    let (_, _, _, _, lines) = drive(&f, |_| MemberResult::ok(false, "up to date"), Exit::Ok).await;
    assert!(
        start.elapsed() < Duration::from_mins(10),
        "nothing changed: no pause"
    );
    assert!(!lines.iter().any(|l| l.ends_with("pausing")));
    let start = tokio::time::Instant::now();
    let (_, _, _, _, lines) = drive(&f, |_| MemberResult::ok(true, "ok"), Exit::Ok).await;
    assert!(
        start.elapsed() >= Duration::from_mins(10),
        "wave 1 changed: wave 2 waits"
    );
    assert!(lines.contains(&"wave1:pausing".to_string()));
}
