//! Canary releases: weighted steps, timed pauses, manual gates, promote/abort from any runner.
//!
//! The plan's steps run in order. Each `setWeight` below 100 points the service at the
//! provider's mixed target (Kong: a bgctl-owned upstream holding both sides' targets with
//! weights from [`super::weights`]) and records `step`/`weight`/`phase` in the same write, so
//! another machine can see and continue the rollout. `setWeight: 100` points the service at the
//! canary's own object and the mixed one is removed after `cleanupDelay`.
//!
//! Manual gates (`pause: {}`): on a terminal without `--yes` bgctl asks; otherwise it records
//! the pause in the target system and exits 6 (or, with `--wait`, waits until someone runs
//! `bgctl promote`, which then continues the rollout in the promoting process). `plan apply` on a
//! paused rollout resumes from the recorded step. A failed verification or Ctrl-C sends all
//! traffic back to stable in one write (the interrupt policy can leave it paused instead).

use std::time::Duration;

use tokio::time::Instant;

use super::analysis::Judgement;
use super::events::Event;
use super::execute::Run;
use super::step::{Step, Waiting};
use super::{Engine, EngineError, Outcome};
use crate::plan::model::{Canary, InterruptPolicy};
use crate::providers::{Phase, Provider, Record, Snapshot, Traffic};

/// How a canary run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `plan apply`: fresh, or resume from the recorded step; gates stop the run.
    Apply,
    /// `promote`: pass the gate the rollout waits at, then continue.
    Promote,
    /// `promote --full`: skip the remaining steps and go to 100%.
    PromoteFull,
}

/// Canary-specific options.
#[derive(Debug, Clone, Copy, Default)]
pub struct CanaryOptions {
    /// Wait at a manual gate instead of exiting 6.
    pub wait: bool,
}

impl<P: Provider> Engine<'_, P> {
    pub(crate) fn canary_spec(&self) -> Result<&Canary, EngineError> {
        self.plan
            .strategy
            .canary
            .as_ref()
            .ok_or_else(|| EngineError::Invalid("the plan's strategy is not a canary".into()))
    }

    pub(crate) fn canary_record(
        &self,
        c: &Canary,
        action: &str,
        phase: Phase,
        step: usize,
        weight: Option<f64>,
        waiting: Option<String>,
    ) -> Record {
        let mut r = self.record(action, phase, Some(c.stable.clone()));
        r.step = Some(step);
        r.weight = weight;
        r.stable = Some(c.stable.clone());
        r.canary = Some(c.canary.clone());
        r.waiting = waiting;
        // The header and mirror routes active once the steps before `step` ran, while the
        // canary is under way (a finished or abandoned one has them removed in `cleanup`).
        if matches!(phase, Phase::Progressing | Phase::Paused) {
            r.routes = crate::providers::routes::route_keys(c, step);
        }
        r
    }

    /// Runs (or resumes, or promotes) the canary.
    ///
    /// Like `deploy`, the state is read again under the lock and the run starts from that read:
    /// a run that waited for another one continues from where that one left off, or finds the
    /// canary complete, instead of starting it over.
    pub async fn canary(&self, start: Start, copts: CanaryOptions) -> Result<Outcome, EngineError> {
        let c = self.canary_spec()?;
        let snap = self.observe().await?;
        let Some(planned) = self.canary_start(c, start, &snap)? else {
            return self.up_to_date(&snap).await;
        };
        self.emit(Event::Planned {
            steps: planned.steps.clone(),
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        // Every command that moves traffic follows one rule: asked on a terminal, `--yes`
        // otherwise (exit 6 without it). Resuming with `plan apply` continues what was agreed.
        match start {
            Start::Apply if planned.resume.is_none() => self.confirm(&format!(
                "Start a canary of `{}`: {} → {} in {} steps?",
                self.plan.metadata.name,
                c.stable,
                c.canary,
                c.steps.len()
            ))?,
            Start::Apply => {}
            Start::Promote => self.confirm(&format!(
                "Promote the canary of `{}` past its gate (traffic now {})?",
                self.plan.metadata.name, snap.traffic
            ))?,
            Start::PromoteFull => self.confirm(&format!(
                "Send all traffic of `{}` to {} now (traffic now {})?",
                self.plan.metadata.name, c.canary, snap.traffic
            ))?,
        }
        // The health baseline before anything is written; a fresh start also checks that the
        // live side carries the identity the plan verifies by.
        self.baseline(&snap, start == Start::Apply && planned.resume.is_none())
            .await?;
        self.probe_new_first(&planned.steps).await?;
        let result = Box::pin(self.with_lock(async {
            let snap = self.snapshot().await?;
            let Some(planned) = self.canary_start(c, start, &snap)? else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
            let action = if start == Start::Apply {
                "apply"
            } else {
                "promote"
            };
            // Ensuring objects and probing the canary move no traffic: an interrupt there needs
            // no rollback. From the first step that may move traffic on, it does.
            let split = planned
                .steps
                .iter()
                .position(|s| {
                    !matches!(
                        s,
                        Step::Ensure { .. } | Step::Probe { .. } | Step::ProbeNew { .. }
                    )
                })
                .unwrap_or(planned.steps.len());
            let (prepare, rollout) = planned.steps.split_at(split);
            let mut run = Run {
                previous: Some(c.stable.clone()),
                to: Traffic::Env {
                    env: c.canary.clone(),
                },
                record: None,
                canary: Some(c),
                action,
                extra: false,
                background: None,
                fresh: Some(snap.clone()),
            };
            let result = async {
                self.steps_loop(c, prepare, &mut run).await?;
                self.run_steps(c, rollout, &mut run).await
            }
            .await;
            match result {
                Ok(()) => {
                    self.emit(Event::Done {
                        summary: format!("canary complete: `{}` takes all traffic", c.canary),
                    });
                    Ok(Outcome::Changed(Traffic::Env {
                        env: c.canary.clone(),
                    }))
                }
                // A failed write after traffic moved: back to stable (exit 3), or exit 4.
                Err(e) => Err(self.after_failure(e, &snap.traffic, Some(&c.stable)).await),
            }
        }));
        match result.await {
            Err(EngineError::PausedAtGate { step, .. }) if copts.wait => {
                // The lock is released while waiting; SIGINT/SIGTERM follows `onInterrupt` now.
                let policy = self.plan.on_interrupt.unwrap_or(InterruptPolicy::Rollback);
                tokio::select! {
                    r = self.wait_for_promotion(step) => r,
                    () = self.signals.interrupted() => Err(Box::pin(self.interrupt_at_gate(c, step - 1, policy)).await),
                }
            }
            other => other,
        }
    }

    /// Runs the steps; SIGINT/SIGTERM stops them and applies the plan's interrupt policy.
    async fn run_steps<'s>(
        &'s self,
        c: &Canary,
        steps: &'s [Step],
        run: &mut Run<'s>,
    ) -> Result<(), EngineError> {
        let policy = self.plan.on_interrupt.unwrap_or(InterruptPolicy::Rollback);
        let mut running = Box::pin(self.steps_loop(c, steps, run));
        tokio::select! {
            r = &mut running => r,
            () = self.signals.interrupted() => {
                drop(running);
                Err(self.on_interrupt(c, policy).await)
            }
        }
    }

    /// Executes the steps in order. While the background analysis runs, each step runs beside
    /// it, and its verdict is acted on as soon as it comes (a failure stops a pause at once).
    async fn steps_loop<'s>(
        &'s self,
        c: &Canary,
        steps: &'s [Step],
        run: &mut Run<'s>,
    ) -> Result<(), EngineError> {
        let total = c.steps.len();
        for step in steps {
            let mut bg = if matches!(step, Step::AwaitBackground) {
                None
            } else {
                run.background.take()
            };
            let result = {
                let fut = self.execute(step, run);
                tokio::pin!(fut);
                loop {
                    tokio::select! {
                        r = &mut fut => break r,
                        j = async { bg.as_mut().expect("guarded").as_mut().await }, if bg.is_some() => {
                            bg = None;
                            if let Err(e) = self.background_verdict(c, j, total).await {
                                break Err(e);
                            }
                        }
                    }
                }
            };
            if run.background.is_none() {
                run.background = bg;
            }
            result?;
        }
        Ok(())
    }

    /// A canary step's data-plane check: only when the plan asks for it (`strategy.canary.verify`
    /// or a top-level `verify`).
    pub(crate) async fn verify_step(&self, c: &Canary, expected: f64) -> Result<(), String> {
        if c.verify.is_none() && self.plan.verify.is_none() {
            return self.settle().await;
        }
        self.verify_env(&c.canary, expected).await
    }

    /// Acts on the background analysis' verdict.
    pub(crate) async fn background_verdict(
        &self,
        c: &Canary,
        j: Judgement,
        total: usize,
    ) -> Result<(), EngineError> {
        match j {
            Judgement::Pass => Ok(()),
            Judgement::Fail(why) => Err(self
                .fail_canary(c, &format!("background analysis: {why}"))
                .await),
            Judgement::Inconclusive(why) => Err(self.pause_inconclusive(c, total, &why).await),
        }
    }

    /// A failed check: all traffic back to stable now (exit 3), or exit 4 if that fails.
    pub(crate) async fn fail_canary(&self, c: &Canary, why: &str) -> EngineError {
        let current = match self.snapshot().await {
            Ok(s) => s.traffic,
            Err(_) => self.last_traffic(&Traffic::Foreign {
                target: "unknown".into(),
            }),
        };
        self.roll_back_after_failure(&current, Some(&c.stable), why)
            .await
    }

    /// Writes the record of a gate or a timed pause. With nothing live yet (a canary whose first
    /// step waits, on a fresh target) it goes with a write that sends all traffic to stable:
    /// requests need somewhere to go while the rollout waits, and on some backends the record
    /// lives with the traffic object (Kong: the service's tags), so without it the wait would
    /// be recorded nowhere and no other runner could pass the gate.
    async fn write_waiting_record(
        &self,
        c: &Canary,
        snap: Option<Snapshot>,
        record: &Record,
    ) -> Result<(), EngineError> {
        match snap {
            Some(snap) if snap.traffic == Traffic::Missing => {
                let to = Traffic::Env {
                    env: c.stable.clone(),
                };
                self.move_traffic(&snap, &to, record).await
            }
            _ => self.write_record(record).await,
        }
    }

    /// Records that the rollout waits at a gate at `index` (a person passes it with `promote`).
    async fn record_gate(
        &self,
        c: &Canary,
        index: usize,
        waiting: Waiting,
    ) -> Result<(), EngineError> {
        let snap = self.snapshot().await.ok();
        let weight = snap.as_ref().and_then(|s| s.record.weight);
        let record = self.canary_record(
            c,
            "pause",
            Phase::Paused,
            index,
            weight,
            Some(waiting.encode()),
        );
        self.write_waiting_record(c, snap, &record).await?;
        self.emit(Event::Paused {
            step: index,
            waiting,
            remaining_secs: None,
        });
        Ok(())
    }

    /// An inconclusive verdict: record a gate for a person (`promote` passes it, `abort` ends it).
    pub(crate) async fn pause_inconclusive(
        &self,
        c: &Canary,
        index: usize,
        why: &str,
    ) -> EngineError {
        if let Err(e) = self
            .record_gate(c, index, Waiting::Inconclusive { step: index })
            .await
        {
            self.emit(Event::Warning {
                message: format!("recording the pause failed: {e}"),
            });
        }
        EngineError::Inconclusive {
            stage: format!("analysis at step {}", index + 1),
            why: why.to_string(),
        }
    }

    /// A `setWeight` step: moves traffic to the split (or all of it to the canary at 100%),
    /// recording the next step in the same write, then verifies it where the plan says so.
    pub(crate) async fn set_weight(
        &self,
        c: &Canary,
        (percent, achieved): (f64, f64),
        next_step: usize,
        action: &str,
        fresh: Option<Snapshot>,
    ) -> Result<(), EngineError> {
        let snap = match fresh {
            Some(snap) => snap,
            None => self.snapshot().await?,
        };
        let (to, expected) = if percent >= 100.0 {
            (
                Traffic::Env {
                    env: c.canary.clone(),
                },
                100.0,
            )
        } else {
            self.emit(Event::Weight {
                requested: percent,
                achieved,
            });
            let split = Traffic::Split {
                stable: c.stable.clone(),
                canary: c.canary.clone(),
                percent: achieved,
            };
            (split, achieved)
        };
        let phase = if percent >= 100.0 {
            Phase::Completed
        } else {
            Phase::Progressing
        };
        let record =
            Self::unverified(&self.canary_record(c, action, phase, next_step, Some(percent), None));
        self.move_traffic(&snap, &to, &record).await?;
        if let Err(reason) = self.verify_step(c, expected).await {
            return Err(self
                .roll_back_after_failure(&to, Some(&c.stable), &reason)
                .await);
        }
        self.mark_verified(&record).await;
        Ok(())
    }

    /// A timed pause of which `d` is left; `since` (unix seconds) is when it started, recorded
    /// so that a run resuming it waits out only the rest.
    pub(crate) async fn timed_pause(
        &self,
        c: &Canary,
        index: usize,
        d: Duration,
        since: u64,
    ) -> Result<(), EngineError> {
        let until = Instant::now() + d;
        if until > self.opts.deadline.get() {
            return Err(EngineError::Invalid(format!(
                "the pause at step {} ({}) is longer than the time left before `--timeout`",
                index + 1,
                humantime::format_duration(d)
            )));
        }
        let snap = self.snapshot().await.ok();
        let weight = snap.as_ref().and_then(|s| s.record.weight);
        // A pause starting now is dated by the record's own `at`; a resumed one names its start.
        let waiting = Waiting::TimedPause {
            step: index,
            since: (since < super::now_secs()).then_some(since),
        };
        let record = self.canary_record(
            c,
            "pause",
            Phase::Paused,
            index + 1,
            weight,
            Some(waiting.encode()),
        );
        self.write_waiting_record(c, snap, &record).await?;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            self.emit(Event::Paused {
                step: index,
                waiting,
                remaining_secs: Some(left.as_secs()),
            });
            if left.is_zero() {
                return Ok(());
            }
            tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        }
    }

    /// A manual gate: asked on a terminal without `--yes`; otherwise recorded in the target
    /// system, and the run stops (exit 6) until someone promotes.
    pub(crate) async fn gate(&self, c: &Canary, index: usize) -> Result<(), EngineError> {
        if self.opts.interactive
            && !self.opts.yes
            && self.reporter.confirm(&format!(
                "Manual gate at step {}: continue the canary?",
                index + 1
            ))
        {
            return Ok(());
        }
        self.record_gate(c, index, Waiting::Gate { step: index })
            .await?;
        Err(EngineError::PausedAtGate {
            step: index + 1,
            rollout: self.plan.metadata.name.clone(),
        })
    }

    /// `--wait` at a gate, after the lock was released: polls the record until another runner
    /// passes the gate (that run continues the rollout) or the deadline comes.
    async fn wait_for_promotion(&self, step: usize) -> Result<Outcome, EngineError> {
        let index = step - 1;
        loop {
            if Instant::now() + Duration::from_secs(1) >= self.opts.deadline.get() {
                return Err(EngineError::PausedAtGate {
                    step,
                    rollout: self.plan.metadata.name.clone(),
                });
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let snap = self.snapshot().await?;
            if snap.record.phase != Phase::Paused || snap.record.step != Some(index) {
                let who = snap.record.by.unwrap_or_else(|| "someone".into());
                self.emit(Event::Done { summary: format!("the gate at step {step} was passed by {who}; that run continues the rollout") });
                return Ok(Outcome::HandedOver);
            }
        }
    }

    /// `abort`: all traffic back to stable in one write, recorded as aborted.
    pub async fn abort(&self) -> Result<Outcome, EngineError> {
        let c = self.canary_spec()?;
        let snap = self.observe().await?;
        let to = Traffic::Env {
            env: c.stable.clone(),
        };
        if snap.traffic == to
            && snap.record.phase != Phase::Paused
            && snap.record.phase != Phase::Progressing
            && snap.record.phase != Phase::Verifying
            && snap.extra.is_empty()
        {
            self.emit(Event::UpToDate {
                traffic: snap.traffic.clone(),
            });
            return Ok(Outcome::UpToDate);
        }
        // `previous` stays the stable side: a `rollback` after an abort has nothing to undo.
        let record = self.canary_record(c, "abort", Phase::Aborted, 0, Some(0.0), None);
        let question = format!(
            "Abort the canary of `{}` and send all traffic to {}?",
            self.plan.metadata.name, c.stable
        );
        self.send_back(&snap, &c.stable, &record, "aborted", &question)
            .await
    }
}

#[cfg(test)]
#[path = "canary_tests.rs"]
mod tests;
