//! SIGINT/SIGTERM during a canary: the plan's `onInterrupt` policy, applied at once wherever
//! the run is — between or inside steps, in a timed pause, or waiting at a manual gate with
//! `--wait` (where the lock was released: it is taken again to roll back, and a gate another
//! runner passed meanwhile is left to that runner).
//!
//! `rollback` (the default) sends all traffic to stable and exits 130; `pause` leaves traffic
//! where it is and records the pause — inside a timed pause with the time the pause started,
//! so `plan apply` waits out only what is left of it.

use std::time::Duration;

use super::events::Event;
use super::step::{Remedy, Waiting};
use super::{now_secs, Engine, EngineError};
use crate::plan::model::{Canary, InterruptPolicy};
use crate::providers::{Phase, Provider, Record, Traffic};

impl<P: Provider> Engine<'_, P> {
    pub(crate) async fn on_interrupt(&self, c: &Canary, policy: InterruptPolicy) -> EngineError {
        match policy {
            InterruptPolicy::Pause => {
                self.emit(Event::Interrupted {
                    action:
                        "leaving traffic where it is and recording a pause (onInterrupt: pause)"
                            .into(),
                });
                let snap = self.snapshot().await.ok();
                let (step, weight) = snap
                    .as_ref()
                    .map_or((0, None), |s| (s.record.step.unwrap_or(0), s.record.weight));
                // Interrupted inside a timed pause: keep when it started, so a resumed run
                // waits out only what is left of it.
                let since = snap.as_ref().and_then(|s| pause_started(&s.record));
                let record = self.canary_record(
                    c,
                    "interrupt",
                    Phase::Paused,
                    step,
                    weight,
                    Some(Waiting::Interrupted { step, since }.encode()),
                );
                match self.write_record(&record).await {
                    Ok(()) => EngineError::Interrupted {
                        outcome: "traffic left as it was; the rollout is recorded as paused".into(),
                    },
                    Err(lost @ EngineError::LockLost { .. }) => lost,
                    Err(e) => EngineError::Interrupted {
                        outcome: format!("traffic left as it was; recording the pause failed: {e}"),
                    },
                }
            }
            InterruptPolicy::Rollback => {
                self.emit(Event::Interrupted {
                    action: format!(
                        "sending all traffic back to `{}` (a second Ctrl-C will not stop this)",
                        c.stable
                    ),
                });
                let to = Traffic::Env {
                    env: c.stable.clone(),
                };
                self.opts.deadline.grant_closing();
                let record =
                    self.canary_record(c, "interrupt", Phase::RolledBack, 0, Some(0.0), None);
                let result = async {
                    let snap = self.snapshot().await?;
                    self.move_traffic(&snap, &to, &record).await
                }
                .await;
                match result {
                    Ok(()) => {
                        self.cleanup().await;
                        EngineError::Interrupted {
                            outcome: format!("rolled back: `{}` takes all traffic", c.stable),
                        }
                    }
                    Err(lost @ EngineError::LockLost { .. }) => lost,
                    Err(e) => EngineError::Uncertain {
                        headline: format!(
                            "interrupted, and the rollback to `{}` failed: {e}",
                            c.stable
                        ),
                        state: "traffic may still be split between the sides".into(),
                        remedy: Remedy::run(vec![super::step::Command::Abort]),
                    },
                }
            }
        }
    }

    /// SIGINT/SIGTERM while `--wait`ing at the gate at `index` (0-based): the policy, at once.
    pub(crate) async fn interrupt_at_gate(
        &self,
        c: &Canary,
        index: usize,
        policy: InterruptPolicy,
    ) -> EngineError {
        if policy == InterruptPolicy::Pause {
            self.emit(Event::Interrupted {
                action: "leaving the rollout paused at its gate (onInterrupt: pause)".into(),
            });
            return EngineError::Interrupted {
                outcome: format!(
                    "traffic left as it was; the rollout stays paused at the manual gate at step {}",
                    index + 1
                ),
            };
        }
        let result = self
            .with_lock(async {
                let snap = self.snapshot().await?;
                if snap.record.phase != Phase::Paused || snap.record.step != Some(index) {
                    return Ok(EngineError::Interrupted {
                        outcome:
                            "the gate was passed by another run meanwhile; traffic was left to it"
                                .into(),
                    });
                }
                Ok(self.on_interrupt(c, policy).await)
            })
            .await;
        match result {
            Ok(e) => e,
            Err(EngineError::Locked { lock, .. }) => EngineError::Interrupted {
                outcome: format!(
                    "traffic left as it was: another run ({}) holds the rollout",
                    lock.holder
                ),
            },
            Err(lost @ EngineError::LockLost { .. }) => lost,
            Err(e) => EngineError::Uncertain {
                headline: format!(
                    "interrupted at the gate, and rolling back to `{}` failed: {}",
                    c.stable,
                    crate::error::chain(&e).join(": ")
                ),
                state: "traffic may still be split between the sides".into(),
                remedy: Remedy::run(vec![super::step::Command::Abort]),
            },
        }
    }
}

/// When the timed pause a record is in started (unix seconds): the start a timed pause or an
/// interrupt inside one recorded, else — a record written before starts were recorded — the
/// time of the pause record itself.
pub(crate) fn pause_started(r: &Record) -> Option<u64> {
    if r.phase != Phase::Paused {
        return None;
    }
    match Waiting::parse(r.waiting.as_deref()?)? {
        Waiting::TimedPause { step, since } if r.step == Some(step + 1) => since.or_else(|| {
            let at = humantime::parse_rfc3339(r.at.as_deref()?).ok()?;
            Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
        }),
        Waiting::Interrupted { since, .. } => since,
        _ => None,
    }
}

/// What is left of a pause of `d` that started at `since` (unix seconds). The record keeps
/// whole seconds, so one second of slack keeps the pause from ever being shortened.
pub(crate) fn remaining(d: Duration, since: u64) -> Duration {
    let elapsed = now_secs().saturating_sub(since);
    d.saturating_sub(Duration::from_secs(elapsed.saturating_sub(1)))
}

/// SIGINT/SIGTERM listeners that live as long as the engine. A run waits for a signal in
/// more than one place — beside the steps, then at a `--wait` gate after its lock is released —
/// and a listener created for each wait would lose a signal that arrives between two of them
/// (tokio delivers a signal to the listeners that exist when it arrives). One pair, created at
/// the first wait and kept, holds such a signal until the next wait sees it at once.
#[derive(Default)]
pub(crate) struct Signals(tokio::sync::Mutex<Option<Listeners>>);

#[cfg(unix)]
struct Listeners {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(not(unix))]
struct Listeners;

impl Listeners {
    #[cfg(unix)]
    fn new() -> Option<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Some(Listeners {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> Option<Self> {
        None
    }
}

impl Signals {
    /// Resolves on SIGINT or SIGTERM, including one that arrived since the previous wait ended.
    /// Cancel-safe: a wait dropped by the `select!` it is in keeps the listeners armed.
    pub(crate) async fn interrupted(&self) {
        let mut listeners = self.0.lock().await;
        if listeners.is_none() {
            *listeners = Listeners::new();
        }
        match listeners.as_mut() {
            #[cfg(unix)]
            Some(l) => {
                tokio::select! {
                    _ = l.int.recv() => {}
                    _ = l.term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal that arrives between two waits (as at a `--wait` gate, while the lock is
    /// released) is seen by the next wait at once; a listener created after it (what each wait
    /// used to do) never sees it. SIGTERM, so a Ctrl-C on `cargo test` still ends the tests.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_between_two_waits_is_not_lost() {
        use tokio::signal::unix::{signal, SignalKind};
        use tokio::time::timeout;
        let signals = Signals::default();
        // The first wait arms the listeners and is dropped, as a `select!` drops it.
        assert!(timeout(Duration::from_millis(50), signals.interrupted())
            .await
            .is_err());
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut late = signal(SignalKind::terminate()).expect("a listener");
        assert!(
            timeout(Duration::from_millis(300), late.recv())
                .await
                .is_err(),
            "a listener created after the signal saw it: the test cannot tell the fix apart"
        );
        assert!(
            timeout(Duration::from_secs(5), signals.interrupted())
                .await
                .is_ok(),
            "the signal that arrived between the waits was lost"
        );
    }

    /// What is left of a pause counts from its recorded start, never shortened by the record's
    /// whole seconds; a pause record of an older version is dated by its `at`.
    #[test]
    fn a_resumed_pause_counts_from_its_recorded_start() {
        let d = Duration::from_mins(1);
        assert_eq!(remaining(d, now_secs()), d);
        assert_eq!(remaining(d, now_secs() - 3), Duration::from_secs(58));
        assert_eq!(remaining(d, now_secs() - 600), Duration::ZERO);
        let at = now_secs() - 3;
        let paused = |waiting: &str, step| Record {
            phase: Phase::Paused,
            step: Some(step),
            waiting: Some(waiting.into()),
            at: Some(super::super::rfc3339(at)),
            ..Record::default()
        };
        assert_eq!(pause_started(&paused("timed pause at step 2", 2)), Some(at));
        let started = Waiting::TimedPause {
            step: 1,
            since: Some(at - 10),
        };
        assert_eq!(pause_started(&paused(&started.encode(), 2)), Some(at - 10));
        let interrupted = Waiting::Interrupted {
            step: 2,
            since: Some(at - 10),
        };
        assert_eq!(
            pause_started(&paused(&interrupted.encode(), 2)),
            Some(at - 10)
        );
        // Not in a pause: a gate, or a pause record of another step.
        assert_eq!(pause_started(&paused("manual gate at step 3", 2)), None);
        assert_eq!(pause_started(&paused("timed pause at step 2", 5)), None);
    }
}
