//! The wave scheduler: waves in order, a wave's members concurrently up to `maxParallel` (in
//! this one task: each member's engine awaits its own provider, so no thread is needed), a
//! failure stops the fleet per `onFailure`, and the fleet's exit code is worked out from its
//! members'. Running a member is a closure ([`super::member`] in the binary, fakes in the tests
//! below), so the scheduling rules are tested without a gateway.
//!
//! Members share one thread: the engine's futures are not `Send` (`engine::execute::Run` holds
//! a `dyn Future` without `+ Send`), so they cannot be spawned onto the runtime's other workers.
//! A member spends its time waiting on the network, so this costs little; making the engine's
//! futures `Send` would let a large wave use every core.
//!
//! Decisions:
//! * A member that fails (any exit but 0 and 6) stops the fleet: no member that has not started
//!   starts, in its wave or a later one; members already running finish.
//! * A member paused at a gate (exit 6) pauses the fleet the same way, without rolling anything
//!   back; `bgctl fleet promote` continues it.
//! * `rollbackWave` and `rollbackAll` roll back only members **this run moved** (outcome
//!   `changed`): a member that was already live on the new side before this run is left alone,
//!   and the failed member rolled itself back already (that is what exit 3 says).
//! * `pauseBefore` is a bake time: it is waited only when an earlier wave changed something in
//!   this run, so a re-run that finds everything finished does not sit through it.
//! * Exit: 4 when a member or a policy rollback needs a person; else 130, 5 when a member was
//!   interrupted or locked; else 3 when a member failed and stable serves it (rolled back, or
//!   traffic never moved) — 1 instead when the failure was an error and nothing in the fleet
//!   moved; else 6 when a member is paused; else 0.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt as _;

use super::load::Fleet;
use super::model::OnFailure;
use crate::error::CliError;
use crate::exit::Exit;

/// How one member's run ended.
#[derive(Debug)]
pub struct MemberResult {
    /// The exit code `bgctl plan apply` would have had.
    pub exit: Exit,
    /// This run changed where the member's traffic goes (and it stayed changed).
    pub moved: bool,
    /// Paused at a manual gate (rather than needing `--yes`).
    pub gate: bool,
    /// One line.
    pub summary: String,
    /// The error, when it failed.
    pub error: Option<CliError>,
}

impl MemberResult {
    /// A success.
    pub fn ok(moved: bool, summary: impl Into<String>) -> MemberResult {
        MemberResult {
            exit: Exit::Ok,
            moved,
            gate: false,
            summary: summary.into(),
            error: None,
        }
    }

    /// A failure.
    pub fn failed(error: CliError, gate: bool) -> MemberResult {
        MemberResult {
            exit: error.exit,
            moved: false,
            gate,
            summary: error.headline.clone(),
            error: Some(error),
        }
    }

    /// Neither success nor a pause.
    pub fn is_failure(&self) -> bool {
        !matches!(self.exit, Exit::Ok | Exit::Paused)
    }
}

/// What the scheduler tells the renderer.
pub trait Progress {
    /// A wave starts (`state`: `started`, `pausing`, `not_started`).
    fn wave(&self, wave: usize, state: &str);
    /// A member ended (`state`: see [`crate::ui::json::CliLine::FleetMember`]).
    fn member(&self, member: usize, state: &str, result: &MemberResult);
}

/// Everything a fleet run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Per member (fleet order): how its run ended; `None`: not started.
    pub results: Vec<Option<MemberResult>>,
    /// Policy rollbacks: member and result.
    pub rollbacks: Vec<(usize, MemberResult)>,
    /// The wave the fleet stopped in, if it stopped.
    pub stopped_at: Option<usize>,
    /// Interrupted during a wave's `pauseBefore`.
    pub interrupted: bool,
}

/// Rolls back the members `todo` of one wave, at most `max_parallel` at once; results in the
/// order they end.
pub async fn rollback_wave(
    todo: Vec<usize>,
    max_parallel: usize,
    rollback: &impl AsyncFn(usize) -> MemberResult,
) -> Vec<(usize, MemberResult)> {
    futures::stream::iter(todo)
        .map(|i| async move { (i, rollback(i).await) })
        .buffer_unordered(max_parallel)
        .collect()
        .await
}

/// A member's state after a rollback, as progress lines and events name it.
pub fn rollback_state(r: &MemberResult) -> &'static str {
    match (r.exit, r.moved) {
        (Exit::Ok, true) => "rolled_back",
        (Exit::Ok, false) => "up_to_date",
        _ => "failed",
    }
}

/// Runs the waves. `run(i)` runs member `i`; `rollback(i)` rolls it back; `pause(d)` waits
/// a wave's `pauseBefore` and returns false when interrupted.
pub async fn run_waves(
    fleet: &Fleet,
    run: impl AsyncFn(usize) -> MemberResult,
    rollback: impl AsyncFn(usize) -> MemberResult,
    pause: impl AsyncFn(Duration) -> bool,
    progress: &dyn Progress,
) -> Report {
    let mut report = Report {
        results: (0..fleet.members.len()).map(|_| None).collect(),
        ..Report::default()
    };
    let mut changed_so_far = false;
    for (w, wave) in fleet.waves.iter().enumerate() {
        if report.stopped_at.is_some() || report.interrupted {
            progress.wave(w, "not_started");
            continue;
        }
        if let (Some(d), true) = (wave.pause_before, changed_so_far) {
            progress.wave(w, "pausing");
            if !pause(d).await {
                report.interrupted = true;
                progress.wave(w, "not_started");
                continue;
            }
        }
        progress.wave(w, "started");
        let stop = AtomicBool::new(false);
        let results: Vec<(usize, Option<MemberResult>)> =
            futures::stream::iter(wave.members.iter().copied())
                .map(|i| {
                    let (run, stop) = (&run, &stop);
                    async move {
                        if stop.load(Ordering::SeqCst) {
                            return (i, None);
                        }
                        let r = run(i).await;
                        if r.exit != Exit::Ok {
                            stop.store(true, Ordering::SeqCst);
                        }
                        (i, Some(r))
                    }
                })
                .buffer_unordered(wave.max_parallel)
                .collect()
                .await;
        for (i, r) in results {
            if let Some(r) = &r {
                changed_so_far |= r.moved;
                let state = match (r.exit, r.moved) {
                    (Exit::Ok, true) => "changed",
                    (Exit::Ok, false) => "up_to_date",
                    (Exit::Paused, _) => "paused",
                    _ => "failed",
                };
                progress.member(i, state, r);
            }
            report.results[i] = r;
        }
        let failed = wave.members.iter().any(|&i| {
            report.results[i]
                .as_ref()
                .is_some_and(MemberResult::is_failure)
        });
        let paused = wave.members.iter().any(|&i| {
            report.results[i]
                .as_ref()
                .is_some_and(|r| r.exit == Exit::Paused)
        });
        if failed || paused {
            report.stopped_at = Some(w);
        }
        if !failed {
            continue;
        }
        let interrupted = wave.members.iter().any(|&i| {
            report.results[i]
                .as_ref()
                .is_some_and(|r| r.exit == Exit::Interrupted)
        });
        let waves: Vec<usize> = match fleet.on_failure {
            _ if interrupted => Vec::new(),
            OnFailure::Halt => Vec::new(),
            OnFailure::RollbackWave => vec![w],
            OnFailure::RollbackAll => (0..=w).rev().collect(),
        };
        for back in waves {
            let wave = &fleet.waves[back];
            let todo: Vec<usize> = wave
                .members
                .iter()
                .copied()
                .filter(|&i| {
                    report.results[i]
                        .as_ref()
                        .is_some_and(|r| r.exit == Exit::Ok && r.moved)
                })
                .collect();
            for (i, r) in rollback_wave(todo, wave.max_parallel, &rollback).await {
                progress.member(i, rollback_state(&r), &r);
                report.rollbacks.push((i, r));
            }
        }
    }
    report
}

impl Report {
    /// Members that were rolled back by the policy and are no longer moved.
    fn rolled_back(&self, i: usize) -> bool {
        self.rollbacks
            .iter()
            .any(|(m, r)| *m == i && r.exit == Exit::Ok && r.moved)
    }

    /// Whether anything in the fleet is left moved by this run.
    pub fn moved(&self) -> bool {
        self.results
            .iter()
            .enumerate()
            .any(|(i, r)| r.as_ref().is_some_and(|r| r.moved) && !self.rolled_back(i))
    }

    /// The fleet's exit code (see the module docs).
    pub fn exit(&self) -> Exit {
        let exits: Vec<Exit> = self
            .results
            .iter()
            .flatten()
            .map(|r| r.exit)
            .chain(self.rollbacks.iter().map(|(_, r)| match r.exit {
                Exit::Ok => Exit::Ok,
                _ => Exit::Uncertain,
            }))
            .collect();
        for worst in [
            Exit::Uncertain,
            Exit::Interrupted,
            Exit::Locked,
            Exit::RolledBack,
        ] {
            if exits.contains(&worst) {
                return worst;
            }
        }
        if exits.iter().any(|e| matches!(e, Exit::Error | Exit::Usage)) {
            let anything_moved = self.results.iter().flatten().any(|r| r.moved);
            return if anything_moved {
                Exit::RolledBack
            } else {
                Exit::Error
            };
        }
        if self.interrupted {
            return Exit::Interrupted;
        }
        if exits.contains(&Exit::Paused) {
            return Exit::Paused;
        }
        Exit::Ok
    }
}

#[cfg(test)]
mod tests;
