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

use super::events::Event;
use std::future::Future;
use std::pin::Pin;

use super::analysis::Judgement;
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

enum Gate {
    Continue,
    Paused,
}

/// Canary-specific options.
#[derive(Debug, Clone, Copy, Default)]
pub struct CanaryOptions {
    /// Wait at a manual gate instead of exiting 6.
    pub wait: bool,
}

impl<P: Provider> Engine<'_, P> {
    fn canary_spec(&self) -> Result<&Canary, EngineError> {
        self.plan
            .strategy
            .canary
            .as_ref()
            .ok_or_else(|| EngineError::Invalid("the plan's strategy is not a canary".into()))
    }

    fn canary_record(
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
        r
    }

    /// Where a canary run starts, from the recorded state.
    fn resume_point(c: &Canary, snap: &Snapshot) -> Option<usize> {
        let r = &snap.record;
        let ours = r.canary.as_deref() == Some(c.canary.as_str())
            && r.stable.as_deref() == Some(c.stable.as_str());
        (ours && matches!(r.phase, Phase::Progressing | Phase::Paused)).then(|| r.step.unwrap_or(0))
    }

    /// Where a run starts from `snap`: `None` when the canary is already complete, else the
    /// recorded resume point, the first step to run and the setup writes.
    #[allow(clippy::type_complexity)]
    fn canary_start(
        &self,
        c: &Canary,
        start: Start,
        snap: &Snapshot,
    ) -> Result<Option<(Option<usize>, usize, Vec<crate::providers::Change>)>, EngineError> {
        let resume = Self::resume_point(c, snap);
        let gate_step = resume.filter(|_| {
            snap.record.phase == Phase::Paused
                && snap
                    .record
                    .waiting
                    .as_deref()
                    .is_some_and(|w| w.starts_with("manual gate"))
        });
        if start != Start::Apply && resume.is_none() {
            return Err(EngineError::Invalid(format!(
                "rollout `{}` has no canary in progress to promote (phase {})",
                self.plan.metadata.name,
                snap.record.phase.as_str()
            )));
        }
        let at_end = resume.is_none()
            && snap.traffic
                == (Traffic::Env {
                    env: c.canary.clone(),
                })
            && self.provider.setup_changes(snap).is_empty();
        if at_end && snap.extra.is_empty() {
            return Ok(None);
        }
        if at_end {
            // A run killed after its last traffic write left the mix behind: only the final
            // cleanup is left to do.
            return Ok(Some((Some(c.steps.len()), c.steps.len(), Vec::new())));
        }
        let first = match (start, resume) {
            (Start::PromoteFull, _) => c.steps.len(),
            (Start::Promote, Some(step)) if gate_step == Some(step) => step + 1,
            (_, Some(step)) => step,
            (Start::Apply, None) => 0,
            (_, None) => unreachable!("checked above"),
        };
        let changes = if resume.is_none() {
            self.provider.setup_changes(snap)
        } else {
            Vec::new()
        };
        Ok(Some((resume, first, changes)))
    }

    /// Runs (or resumes, or promotes) the canary.
    ///
    /// Like `deploy`, the state is read again under the lock and the run starts from that read:
    /// a run that waited for another one continues from where that one left off, or finds the
    /// canary complete, instead of starting it over.
    pub async fn canary(&self, start: Start, copts: CanaryOptions) -> Result<Outcome, EngineError> {
        let c = self.canary_spec()?;
        let snap = self.observe().await?;
        let Some((resume, _, changes)) = self.canary_start(c, start, &snap)? else {
            return self.up_to_date(&snap).await;
        };
        self.emit(Event::Planned {
            changes,
            traffic: None,
            traffic_calls: Vec::new(),
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        if start == Start::Apply && resume.is_none() {
            self.confirm(&format!(
                "Start a canary of `{}`: {} → {} in {} steps?",
                self.plan.metadata.name,
                c.stable,
                c.canary,
                c.steps.len()
            ))?;
        }
        let result = Box::pin(self.with_lock(async {
            let snap = self.provider.snapshot().await?;
            let Some((resume, first, changes)) = self.canary_start(c, start, &snap)? else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
            for change in &changes {
                self.emit(Event::Write {
                    change: change.clone(),
                });
                self.provider.apply(change).await?;
            }
            if resume.is_none() {
                self.probe_env(&c.canary).await?;
            }
            let result = self.run_steps(c, first, start).await;
            // A failed write after traffic moved: back to stable (exit 3), or exit 4.
            match result {
                Err(e) => Err(self.after_failure(e, &snap.traffic, Some(&c.stable)).await),
                ok => ok,
            }
        }));
        match result.await {
            Err(EngineError::PausedAtGate { step, .. }) if copts.wait => {
                self.wait_for_promotion(step).await
            }
            other => other,
        }
    }

    async fn run_steps(
        &self,
        c: &Canary,
        first: usize,
        start: Start,
    ) -> Result<Outcome, EngineError> {
        let policy = self.plan.on_interrupt.unwrap_or(InterruptPolicy::Rollback);
        let mut steps = Box::pin(self.steps_loop(c, first, start));
        tokio::select! {
            r = &mut steps => r,
            () = interrupted() => {
                drop(steps);
                Err(self.on_interrupt(c, policy).await)
            }
        }
    }

    async fn steps_loop(
        &self,
        c: &Canary,
        first: usize,
        start: Start,
    ) -> Result<Outcome, EngineError> {
        let action = if start == Start::Apply {
            "apply"
        } else {
            "promote"
        };
        let total = c.steps.len();
        if first == 0 {
            if let Err(why) = self
                .run_hooks("preSwitch", &self.plan.hooks.pre_switch)
                .await
            {
                return Err(EngineError::AnalysisFailed {
                    stage: "preSwitch hook".into(),
                    why,
                });
            }
        }
        // Background analysis starts once step `startAfterStep` is done and must have passed
        // before the final promotion; it runs concurrently with the steps.
        let background = c.analysis.as_ref();
        let start_after = background.and_then(|a| a.start_after_step).unwrap_or(0);
        let mut bg: Option<Pin<Box<dyn Future<Output = Judgement> + '_>>> = None;
        let mut bg_started = false;
        for index in first..total {
            if let Some(a) = background.filter(|_| !bg_started && index > start_after) {
                bg = Some(Box::pin(self.analyse("background", &a.checks)));
                bg_started = true;
            }
            let step = Box::pin(self.run_step(c, index, action));
            tokio::pin!(step);
            loop {
                tokio::select! {
                    r = &mut step => { r?; break; }
                    j = async { bg.as_mut().expect("guarded").as_mut().await }, if bg.is_some() => {
                        bg = None;
                        self.background_verdict(c, j, total).await?;
                    }
                }
            }
        }
        if let Some(running) = bg.take() {
            self.background_verdict(c, running.await, total).await?;
        } else if let Some(a) = background.filter(|_| !bg_started) {
            let j = self.analyse("background", &a.checks).await;
            self.background_verdict(c, j, total).await?;
        }
        // Every plan ends at 100%: make the canary's own object live and drop the mixed one.
        let snap = self.provider.snapshot().await?;
        let to = Traffic::Env {
            env: c.canary.clone(),
        };
        if snap.traffic != to || snap.record.phase != Phase::Completed {
            let record = self.canary_record(c, action, Phase::Completed, total, Some(100.0), None);
            self.move_traffic(&snap, &to, &record).await?;
            if let Err(reason) = self.verify_step(c, 100.0).await {
                return Err(self
                    .roll_back_after_failure(&to, Some(&c.stable), &reason)
                    .await);
            }
        }
        if let Err(why) = self
            .run_hooks("postSwitch", &self.plan.hooks.post_switch)
            .await
        {
            return Err(self
                .roll_back_after_failure(
                    &to,
                    Some(&c.stable),
                    &format!("postSwitch hook failed: {why}"),
                )
                .await);
        }
        // Only a provider with a temporary object to remove (Kong's mixed upstream, listed in
        // `extra`) waits `cleanupDelay` for in-flight requests; weights on one object
        // (Kubernetes routes) leave nothing behind.
        if !snap.extra.is_empty() {
            tokio::time::sleep(
                c.cleanup_delay.map_or(Duration::from_secs(2), |d| d.0).min(
                    self.opts
                        .deadline
                        .get()
                        .saturating_duration_since(Instant::now()),
                ),
            )
            .await;
        }
        self.cleanup().await;
        // The stable side no longer serves: retire it as the plan says (Kubernetes
        // `oldDeployment`; the provider re-checks that traffic is still all on the canary).
        match self
            .provider
            .retire(&c.stable, &c.canary, self.opts.deadline.get())
            .await
        {
            Ok(done) => done
                .into_iter()
                .for_each(|object| self.emit(Event::CleanedUp { object })),
            Err(e) => self.emit(Event::Warning {
                message: format!(
                    "`{}` is live, but retiring `{}` failed: {e}",
                    c.canary, c.stable
                ),
            }),
        }
        self.emit(Event::Done {
            summary: format!("canary complete: `{}` takes all traffic", c.canary),
        });
        Ok(Outcome::Changed(to))
    }

    /// A canary step's data-plane check: only when the plan asks for it (`strategy.canary.verify`).
    async fn verify_step(&self, c: &Canary, expected: f64) -> Result<(), String> {
        if c.verify.is_none() {
            return Ok(());
        }
        self.verify_env(&c.canary, expected).await
    }

    /// Runs one step (not the final promotion).
    async fn run_step(&self, c: &Canary, index: usize, action: &str) -> Result<(), EngineError> {
        let total = c.steps.len();
        let step = &c.steps[index];
        if let Some(w) = step.set_weight {
            self.emit(Event::Step {
                index,
                total,
                description: format!("setWeight {w}"),
            });
            self.set_weight(c, w, index + 1, action).await
        } else if let Some(d) = step.pause.as_ref().and_then(|p| p.duration) {
            self.emit(Event::Step {
                index,
                total,
                description: format!("pause {}", humantime::format_duration(d.0)),
            });
            self.timed_pause(c, index, d.0).await
        } else if step.pause.is_some() {
            self.emit(Event::Step {
                index,
                total,
                description: "manual gate".into(),
            });
            match self.gate(c, index).await? {
                Gate::Continue => Ok(()),
                Gate::Paused => Err(EngineError::PausedAtGate {
                    step: index + 1,
                    rollout: self.plan.metadata.name.clone(),
                }),
            }
        } else if let Some(a) = &step.analysis {
            self.emit(Event::Step {
                index,
                total,
                description: format!("analysis {}", a.checks.join(", ")),
            });
            match self
                .analyse(&format!("step {}", index + 1), &a.checks)
                .await
            {
                Judgement::Pass => Ok(()),
                Judgement::Fail(why) => Err(self
                    .fail_canary(c, &format!("analysis at step {}: {why}", index + 1))
                    .await),
                Judgement::Inconclusive(why) => Err(self.pause_inconclusive(c, index, &why).await),
            }
        } else {
            Ok(())
        }
    }

    /// Acts on the background analysis' verdict.
    async fn background_verdict(
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
    async fn fail_canary(&self, c: &Canary, why: &str) -> EngineError {
        let current = match self.provider.snapshot().await {
            Ok(s) => s.traffic,
            Err(_) => self.last_traffic(&Traffic::Foreign {
                target: "unknown".into(),
            }),
        };
        self.roll_back_after_failure(&current, Some(&c.stable), why)
            .await
    }

    /// Records that the rollout waits at a gate at `index` (a person passes it with `promote`).
    async fn record_gate(
        &self,
        c: &Canary,
        index: usize,
        waiting: String,
    ) -> Result<(), EngineError> {
        let weight = self
            .provider
            .snapshot()
            .await
            .ok()
            .and_then(|s| s.record.weight);
        let record = self.canary_record(
            c,
            "pause",
            Phase::Paused,
            index,
            weight,
            Some(waiting.clone()),
        );
        self.provider.write_record(&record).await?;
        self.emit(Event::Paused {
            step: index,
            waiting,
            remaining_secs: None,
        });
        Ok(())
    }

    /// An inconclusive verdict: record a gate for a person (`promote` passes it, `abort` ends it).
    async fn pause_inconclusive(&self, c: &Canary, index: usize, why: &str) -> EngineError {
        let waiting = format!(
            "manual gate at step {} (analysis inconclusive): run `bgctl promote` or `bgctl abort`",
            index + 1
        );
        if let Err(e) = self.record_gate(c, index, waiting).await {
            self.emit(Event::Warning {
                message: format!("recording the pause failed: {e}"),
            });
        }
        EngineError::Inconclusive {
            stage: format!("analysis at step {}", index + 1),
            why: why.to_string(),
        }
    }

    async fn set_weight(
        &self,
        c: &Canary,
        percent: f64,
        next_step: usize,
        action: &str,
    ) -> Result<(), EngineError> {
        let snap = self.provider.snapshot().await?;
        let (to, expected) = if percent >= 100.0 {
            (
                Traffic::Env {
                    env: c.canary.clone(),
                },
                100.0,
            )
        } else {
            let achieved = self
                .provider
                .achieved_split(&c.stable, &c.canary, percent)?;
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
        let record = self.canary_record(c, action, phase, next_step, Some(percent), None);
        self.move_traffic(&snap, &to, &record).await?;
        if let Err(reason) = self.verify_step(c, expected).await {
            return Err(self
                .roll_back_after_failure(&to, Some(&c.stable), &reason)
                .await);
        }
        Ok(())
    }

    async fn timed_pause(&self, c: &Canary, index: usize, d: Duration) -> Result<(), EngineError> {
        let until = Instant::now() + d;
        if until > self.opts.deadline.get() {
            return Err(EngineError::Invalid(format!(
                "the pause at step {} ({}) is longer than the time left before `--timeout`",
                index + 1,
                humantime::format_duration(d)
            )));
        }
        let weight = self
            .provider
            .snapshot()
            .await
            .ok()
            .and_then(|s| s.record.weight);
        let record = self.canary_record(
            c,
            "pause",
            Phase::Paused,
            index + 1,
            weight,
            Some(format!("timed pause at step {}", index + 1)),
        );
        self.provider.write_record(&record).await?;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            self.emit(Event::Paused {
                step: index,
                waiting: format!("timed pause at step {}", index + 1),
                remaining_secs: Some(left.as_secs()),
            });
            if left.is_zero() {
                return Ok(());
            }
            tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        }
    }

    /// A manual gate.
    async fn gate(&self, c: &Canary, index: usize) -> Result<Gate, EngineError> {
        if self.opts.interactive
            && !self.opts.yes
            && self.reporter.confirm(&format!(
                "Manual gate at step {}: continue the canary?",
                index + 1
            ))
        {
            return Ok(Gate::Continue);
        }
        let waiting = format!(
            "manual gate at step {}: run `bgctl promote -f <plan>`",
            index + 1
        );
        self.record_gate(c, index, waiting).await?;
        Ok(Gate::Paused)
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
            let snap = self.provider.snapshot().await?;
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
            && snap.extra.is_empty()
        {
            self.emit(Event::UpToDate {
                traffic: snap.traffic.clone(),
            });
            return Ok(Outcome::UpToDate);
        }
        let mut record = self.canary_record(c, "abort", Phase::Aborted, 0, Some(0.0), None);
        record.previous = Some(c.canary.clone());
        let question = format!(
            "Abort the canary of `{}` and send all traffic to {}?",
            self.plan.metadata.name, c.stable
        );
        self.send_back(&snap, &c.stable, &record, "aborted", &question)
            .await
    }

    async fn on_interrupt(&self, c: &Canary, policy: InterruptPolicy) -> EngineError {
        match policy {
            InterruptPolicy::Pause => {
                self.emit(Event::Interrupted {
                    action:
                        "leaving traffic where it is and recording a pause (onInterrupt: pause)"
                            .into(),
                });
                let snap = self.provider.snapshot().await.ok();
                let (step, weight) =
                    snap.map_or((0, None), |s| (s.record.step.unwrap_or(0), s.record.weight));
                let record = self.canary_record(c, "interrupt", Phase::Paused, step, weight, Some(format!("interrupted at step {step}: run `bgctl plan apply` to resume or `bgctl abort`")));
                match self.provider.write_record(&record).await {
                    Ok(()) => EngineError::Interrupted {
                        outcome: "traffic left as it was; the rollout is recorded as paused".into(),
                    },
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
                let mut record =
                    self.canary_record(c, "interrupt", Phase::RolledBack, 0, Some(0.0), None);
                record.previous = Some(c.canary.clone());
                let result = async {
                    let snap = self.provider.snapshot().await?;
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
                    Err(e) => EngineError::Uncertain {
                        headline: format!(
                            "interrupted, and the rollback to `{}` failed: {e}",
                            c.stable
                        ),
                        state: "traffic may still be split between the sides".into(),
                        command: "bgctl abort -f <plan> --yes".into(),
                    },
                }
            }
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::engine::events::Collect;
    use crate::engine::Options;
    use crate::plan::{parse_with_env, Limits};
    use crate::providers::fake::Fake;
    use crate::providers::LockInfo;

    fn plan(steps: &str) -> crate::plan::Plan {
        let text = [
            "apiVersion: bgctl.dev/v1",
            "kind: Rollout",
            "metadata: {name: t}",
            "provider: {kong: {adminUrl: 'http://127.0.0.1:9'}}",
            "service: {name: s, routes: [{name: r, paths: [/]}]}",
            "environments:",
            "  blue: {upstream: b.up, targets: [{target: '127.0.0.1:1'}]}",
            "  green: {upstream: g.up, targets: [{target: '127.0.0.1:2'}]}",
            "strategy:",
            "  canary: {stable: blue, canary: green, cleanupDelay: 0s, steps: STEPS}",
        ]
        .join("\n")
        .replace("STEPS", steps);
        parse_with_env(Path::new("t.yaml"), &text, &|_| None, &Limits::default())
            .expect("valid test plan")
            .plan
    }

    fn percents(fake: &Fake) -> Vec<String> {
        fake.state
            .lock()
            .unwrap()
            .moves
            .iter()
            .map(ToString::to_string)
            .collect()
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
        let text = [
            "apiVersion: bgctl.dev/v1",
            "kind: Rollout",
            "metadata: {name: t}",
            "provider: {kong: {adminUrl: 'http://127.0.0.1:9'}}",
            "service: {name: s, routes: [{name: r, paths: [/]}]}",
            "environments:",
            "  blue: {upstream: b.up, targets: [{target: '127.0.0.1:1'}]}",
            "  green: {upstream: g.up, targets: [{target: '127.0.0.1:2'}]}",
            "checks:",
            "  bad: {exec: {command: [sh, -c, 'exit 7']}}",
            "  good: {exec: {command: [sh, -c, 'exit 0']}}",
            "strategy:",
            "  canary: {stable: blue, canary: green, cleanupDelay: 0s, BACKGROUND steps: STEPS}",
        ]
        .join("\n")
        .replace("STEPS", steps)
        .replace("BACKGROUND", background);
        parse_with_env(Path::new("t.yaml"), &text, &|_| None, &Limits::default())
            .expect("valid test plan")
            .plan
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
}
