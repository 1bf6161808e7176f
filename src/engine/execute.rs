//! Running the expanded steps: one `match` over [`Step`], shared by blue-green and canary runs.
//!
//! What a failure does depends on where it happens, not on the strategy's code path: before
//! traffic moved it is returned as it is (nothing to undo); after, traffic goes back to the
//! side that served before in one write (exit 3), or the error says what a person must do
//! (exit 4). [`Run`] carries what the steps share: that side, the final destination, the record
//! a blue-green switch writes and the canary's background analysis.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use super::analysis::Judgement;
use super::events::Event;
use super::step::{HookKind, Stage, Step};
use super::{Engine, EngineError, Outcome};
use crate::plan::model::Canary;
use crate::providers::{Phase, Provider, ProviderError, Record, Snapshot, Traffic};

/// The background analysis of a canary, running beside the steps.
pub(crate) type Background<'a> = Pin<Box<dyn Future<Output = Judgement> + 'a>>;

/// What the steps of one run share.
pub(crate) struct Run<'a> {
    /// The side that served before; a failure after traffic moved goes back to it.
    pub previous: Option<String>,
    /// Where traffic goes at the end.
    pub to: Traffic,
    /// The record a blue-green switch writes with the traffic change.
    pub record: Option<Record>,
    /// The canary, for canary runs.
    pub canary: Option<&'a Canary>,
    /// The recorded action (`apply`, `switch`, `promote`).
    pub action: &'a str,
    /// The final traffic step found temporary objects to remove.
    pub extra: bool,
    /// The background analysis, once started.
    pub background: Option<Background<'a>>,
    /// The live state as read under the lock, while nothing has been written since: the next
    /// traffic step uses it instead of reading again. Probes and analysis keep it (they write
    /// nothing the traffic write depends on; a backend that needs more re-reads in its own
    /// write); every other step drops it.
    pub fresh: Option<Snapshot>,
}

impl<'a, P: Provider> Engine<'a, P> {
    /// Ensures the environments and makes `target` live (blue-green `apply` and `switch`).
    ///
    /// The plan shown and confirmed is computed from a read before the lock; under the lock the
    /// state is read again and the steps are expanded from that read, so a run that waited for
    /// another one never acts on what it saw before (it finds the rollout up to date instead).
    pub async fn deploy(&self, target: &str, action: &str) -> Result<Outcome, EngineError> {
        if !self.plan.environments.contains_key(target) {
            return Err(EngineError::Invalid(format!(
                "environment `{target}` is not defined in the plan"
            )));
        }
        let snap = self.observe().await?;
        let Some(first) = self.deploy_plan(target, action, &snap) else {
            return self.up_to_date(&snap).await;
        };
        self.emit(Event::Planned {
            steps: first.steps.clone(),
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        if first.moves {
            self.confirm(&format!(
                "Move all traffic of `{}` from {} to {target}?",
                self.plan.metadata.name, snap.traffic
            ))?;
            // The health baseline (and the identity check) before anything is written.
            self.baseline(&snap, true).await?;
        }
        self.probe_new_first(&first.steps).await?;
        self.with_lock(async {
            let snap = self.snapshot().await?;
            let Some(plan) = self.deploy_plan(target, action, &snap) else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
            self.set_last_traffic(&snap.traffic);
            let mut run = Run {
                previous: plan.previous.clone(),
                to: plan.to.clone(),
                record: Some(plan.record.clone()),
                canary: None,
                action,
                extra: false,
                background: None,
                fresh: Some(snap.clone()),
            };
            for step in &plan.steps {
                self.execute(step, &mut run).await?;
            }
            if !plan.moves {
                return Ok(Outcome::Changed(snap.traffic.clone()));
            }
            self.emit(Event::Done {
                summary: format!("`{target}` is live"),
            });
            Ok(Outcome::Changed(plan.to.clone()))
        })
        .await
    }

    /// Runs one step.
    pub(crate) async fn execute(
        &'a self,
        step: &'a Step,
        run: &mut Run<'a>,
    ) -> Result<(), EngineError> {
        let total = run.canary.map_or(0, |c| c.steps.len());
        if !matches!(
            step,
            Step::Probe { .. }
                | Step::ProbeNew { .. }
                | Step::Analysis { .. }
                | Step::BackgroundAnalysis { .. }
                | Step::AwaitBackground
                | Step::SetWeight { .. }
                | Step::Switch { .. }
        ) {
            run.fresh = None;
        }
        match step {
            Step::Ensure { changes } => {
                self.ensure(changes).await?;
                // Before traffic moves to what was set up, it must be there to move to.
                self.settle()
                    .await
                    .map_err(|why| ProviderError::NotReady(why).into())
            }
            Step::Probe { env } => self.probe_env(env).await,
            Step::ProbeNew { env, targets } => self.probe_new(env, targets).await,
            Step::Analysis { stage, checks } => {
                if let Stage::Step(index) = stage {
                    self.emit(Event::Step {
                        index: *index,
                        total,
                        description: format!("analysis {}", checks.join(", ")),
                    });
                }
                let judgement = self.analyse(&stage.label(), checks).await;
                self.judged(*stage, judgement, run).await
            }
            Step::BackgroundAnalysis { checks } => {
                run.background = Some(Box::pin(self.analyse("background", checks)));
                Ok(())
            }
            Step::AwaitBackground => match (run.background.take(), run.canary) {
                (Some(running), Some(c)) => {
                    let j = running.await;
                    self.background_verdict(c, j, total).await
                }
                _ => Ok(()),
            },
            Step::Hook { hook } => {
                let hooks = match hook {
                    HookKind::PreSwitch => &self.plan.hooks.pre_switch,
                    HookKind::PostSwitch => &self.plan.hooks.post_switch,
                };
                match (self.run_hooks(hook.name(), hooks).await, hook) {
                    (Ok(()), _) => Ok(()),
                    (Err(why), HookKind::PreSwitch) => Err(EngineError::AnalysisFailed {
                        stage: "preSwitch hook".into(),
                        why,
                    }),
                    (Err(why), HookKind::PostSwitch) => Err(self
                        .roll_back_after_failure(
                            &run.to,
                            run.previous.as_deref(),
                            &format!("postSwitch hook failed: {why}"),
                        )
                        .await),
                }
            }
            Step::SetWeight {
                step,
                requested,
                achieved,
                ..
            } => {
                let c = self.canary_spec()?;
                self.emit(Event::Step {
                    index: *step,
                    total,
                    description: format!("setWeight {requested}"),
                });
                let fresh = run.fresh.take();
                self.set_weight(c, (*requested, *achieved), *step + 1, run.action, fresh)
                    .await
            }
            Step::Route {
                step: index,
                change,
                routes,
                ..
            } => {
                self.emit(Event::Step {
                    index: *index,
                    total,
                    description: change.clone(),
                });
                // Boxed: it keeps the run's future small (clippy `large_futures`).
                Box::pin(self.route(self.canary_spec()?, *index, routes, run.action)).await
            }
            Step::Pause {
                step,
                millis,
                since,
            } => {
                let d = Duration::from_millis(*millis);
                // A pause an earlier run started goes on from where it was, not from zero.
                let (left, started) = match since {
                    Some(s) => (super::interrupt::remaining(d, *s), *s),
                    None => (d, super::now_secs()),
                };
                let mut description = format!("pause {}", humantime::format_duration(d));
                if since.is_some() {
                    description += &format!(
                        " (resumed: {} left)",
                        humantime::format_duration(Duration::from_secs(left.as_secs()))
                    );
                }
                self.emit(Event::Step {
                    index: *step,
                    total,
                    description,
                });
                self.timed_pause(self.canary_spec()?, *step, left, started)
                    .await
            }
            Step::Gate { step } => {
                self.emit(Event::Step {
                    index: *step,
                    total,
                    description: "manual gate".into(),
                });
                self.gate(self.canary_spec()?, *step).await
            }
            Step::Switch { to, if_needed, .. } => self.switch(to, *if_needed, run).await,
            Step::Cleanup { delay_millis } => {
                // Only a provider with a temporary object to remove (Kong's mixed upstream)
                // waits for requests in flight; weights on one object leave nothing behind.
                if run.extra {
                    let left = self
                        .opts
                        .deadline
                        .get()
                        .saturating_duration_since(Instant::now());
                    tokio::time::sleep(Duration::from_millis(*delay_millis).min(left)).await;
                }
                self.cleanup().await;
                Ok(())
            }
            Step::Retire { old, live, .. } => {
                // The provider re-checks that traffic is still all on `live`; this run first
                // checks it still holds the rollout. A fence that cannot read the target skips
                // the retirement like a failed one (the next `plan apply` finishes it).
                match self.fence().await {
                    Ok(()) => {}
                    Err(lost @ EngineError::LockLost { .. }) => return Err(lost),
                    Err(e) => {
                        self.emit(Event::Warning {
                            message: format!(
                                "`{live}` is live, but retiring `{old}` was skipped: {}",
                                crate::error::chain(&e).join(": ")
                            ),
                        });
                        return Ok(());
                    }
                }
                match self
                    .provider
                    .retire(old, live, self.opts.deadline.get())
                    .await
                {
                    Ok(done) => done
                        .into_iter()
                        .for_each(|object| self.emit(Event::CleanedUp { object })),
                    Err(e) => self.emit(Event::Warning {
                        message: format!("`{live}` is live, but retiring `{old}` failed: {e}"),
                    }),
                }
                Ok(())
            }
        }
    }

    /// All traffic to `to`, then verified; a failure after traffic moved goes back to the side
    /// that served before. A canary's final promotion is skipped when its last step already
    /// sent everything to the canary and recorded the rollout complete.
    async fn switch(
        &self,
        to: &str,
        if_needed: bool,
        run: &mut Run<'a>,
    ) -> Result<(), EngineError> {
        let snap = match run.fresh.take() {
            Some(snap) => snap,
            None => self.snapshot().await?,
        };
        let target = Traffic::Env {
            env: to.to_string(),
        };
        run.extra = !snap.extra.is_empty();
        if let Some(c) = run.canary {
            if if_needed && snap.traffic == target && snap.record.phase == Phase::Completed {
                return Ok(());
            }
            let total = c.steps.len();
            let record = Self::unverified(&self.canary_record(
                c,
                run.action,
                Phase::Completed,
                total,
                Some(100.0),
                None,
            ));
            self.move_traffic(&snap, &target, &record).await?;
            if let Err(reason) = self.verify_step(c, 100.0).await {
                return Err(self
                    .roll_back_after_failure(&target, Some(&c.stable), &reason)
                    .await);
            }
            self.mark_verified(&record).await;
            return Ok(());
        }
        let record = Self::unverified(&run.record.clone().unwrap_or_default());
        if let Err(e) = self.move_traffic(&snap, &target, &record).await {
            return Err(self
                .after_failure(e, &snap.traffic, run.previous.as_deref())
                .await);
        }
        if let Err(reason) = self.verify_env(to, 100.0).await {
            return Err(self
                .roll_back_after_failure(&target, run.previous.as_deref(), &reason)
                .await);
        }
        self.mark_verified(&record).await;
        Ok(())
    }

    /// What an analysis verdict does at `stage`.
    async fn judged(
        &self,
        stage: Stage,
        judgement: Judgement,
        run: &Run<'a>,
    ) -> Result<(), EngineError> {
        match (stage, judgement) {
            (_, Judgement::Pass) => Ok(()),
            (Stage::PrePromotion, Judgement::Fail(why)) => Err(EngineError::AnalysisFailed {
                stage: "prePromotionAnalysis".into(),
                why,
            }),
            (Stage::PrePromotion, Judgement::Inconclusive(why)) => Err(EngineError::Inconclusive {
                stage: "prePromotionAnalysis".into(),
                why,
            }),
            (Stage::PostPromotion, Judgement::Fail(why) | Judgement::Inconclusive(why)) => {
                Err(self
                    .roll_back_after_failure(
                        &run.to,
                        run.previous.as_deref(),
                        &format!("postPromotionAnalysis: {why}"),
                    )
                    .await)
            }
            (Stage::Step(index), Judgement::Fail(why)) => {
                let c = self.canary_spec()?;
                Err(self
                    .fail_canary(c, &format!("analysis at step {}: {why}", index + 1))
                    .await)
            }
            (Stage::Step(index), Judgement::Inconclusive(why)) => {
                let c = self.canary_spec()?;
                Err(self.pause_inconclusive(c, index, &why).await)
            }
        }
    }

    /// Where traffic and objects already match the plan: finishes a retirement an earlier run
    /// was killed before making (see [`Provider::pending_retire`]), else reports "up to date"
    /// without a single write.
    pub(crate) async fn up_to_date(
        &self,
        snap: &crate::providers::Snapshot,
    ) -> Result<Outcome, EngineError> {
        let Some(pending) = self.provider.pending_retire(snap) else {
            self.emit(Event::UpToDate {
                traffic: snap.traffic.clone(),
            });
            return Ok(Outcome::UpToDate);
        };
        self.emit(Event::Planned {
            steps: vec![Step::Retire {
                old: pending.old.clone(),
                live: pending.live.clone(),
                writes: vec![pending.change.call.clone()],
            }],
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        self.with_lock(async {
            let snap = self.snapshot().await?;
            let Some(p) = self.provider.pending_retire(&snap) else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
            self.fence().await?;
            for object in self
                .provider
                .retire(&p.old, &p.live, self.opts.deadline.get())
                .await?
            {
                self.emit(Event::CleanedUp { object });
            }
            self.emit(Event::Done {
                summary: format!("`{}` is live; `{}` is retired", p.live, p.old),
            });
            Ok(Outcome::Changed(snap.traffic.clone()))
        })
        .await
    }
}
