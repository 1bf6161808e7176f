//! Sending traffic back: a requested `rollback`, a canary's `abort`, and the automatic
//! rollback after a failure once traffic moved. Each is one traffic write to the side that
//! served before, then verified. When that fails the error carries the state as far as it is
//! known and a [`Remedy`]: what a person must run to finish the job (the CLI renders it).

use super::events::Event;
use super::step::{Command, Remedy, Step};
use super::{Engine, EngineError, Outcome};
use crate::providers::{Phase, Provider, Record, Snapshot, Traffic};

impl<P: Provider> Engine<'_, P> {
    /// A failure after this run may have moved traffic rolls back to `previous` (exit 3, or 4
    /// when that fails too); before any move it is returned as it is (exit 1).
    pub(crate) async fn after_failure(
        &self,
        err: EngineError,
        before: &Traffic,
        previous: Option<&str>,
    ) -> EngineError {
        match err {
            EngineError::Provider(e) if self.moved() => {
                let failed = self.last_traffic(before);
                self.roll_back_after_failure(&failed, previous, &e.to_string())
                    .await
            }
            other => other,
        }
    }

    /// Points traffic back at the recorded previous side (or the canary's stable side).
    ///
    /// After a canary was aborted or rolled back, its stable side is where traffic belongs:
    /// there is nothing to undo (exit 0 without a write), or, if traffic was moved since,
    /// `rollback` sends it to stable. It never "rolls back" to the canary that was given up.
    pub async fn rollback(&self) -> Result<Outcome, EngineError> {
        let snap = self.observe().await?;
        let r = &snap.record;
        if let (Phase::Aborted | Phase::RolledBack, Some(stable), Some(_)) =
            (r.phase, &r.stable, &r.canary)
        {
            let to = Traffic::Env {
                env: stable.clone(),
            };
            if snap.traffic == to && snap.extra.is_empty() {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            }
            let mut record = self.record("rollback", Phase::RolledBack, Some(stable.clone()));
            record.stable.clone_from(&r.stable);
            record.canary.clone_from(&r.canary);
            let question = format!(
                "Send all traffic of `{}` from {} back to {stable}?",
                self.plan.metadata.name, snap.traffic
            );
            return self
                .send_back(&snap, stable, &record, "requested", &question)
                .await;
        }
        let (to, current) = match &snap.traffic {
            Traffic::Split { stable, canary, .. } => (stable.clone(), Some(canary.clone())),
            Traffic::Env { env } => (
                snap.record
                    .previous
                    .clone()
                    .ok_or(EngineError::NoPrevious)?,
                Some(env.clone()),
            ),
            _ => (
                snap.record
                    .previous
                    .clone()
                    .ok_or(EngineError::NoPrevious)?,
                None,
            ),
        };
        if current.as_deref() == Some(to.as_str()) {
            if snap.extra.is_empty() {
                return Err(EngineError::Invalid(format!("`{to}` is already live")));
            }
            // All traffic is on `to`, but objects of this rollout still send some requests
            // elsewhere (a canary's header routes, issue 16): the rollback removes them.
            let mut record = self.record("rollback", Phase::RolledBack, Some(to.clone()));
            record.stable.clone_from(&r.stable);
            record.canary.clone_from(&r.canary);
            let question = format!(
                "Roll `{}` back: remove {} and keep all traffic on {to}?",
                self.plan.metadata.name,
                snap.extra.join(", ")
            );
            return self
                .send_back(&snap, &to, &record, "requested", &question)
                .await;
        }
        let record = self.record("rollback", Phase::RolledBack, current.clone());
        let question = format!(
            "Roll `{}` back from {} to {to}?",
            self.plan.metadata.name, snap.traffic
        );
        self.send_back(&snap, &to, &record, "requested", &question)
            .await
    }

    /// Before a requested rollback: a previous side whose objects were retired since (e.g.
    /// `oldDeployment: delete`) is brought back first — recreated from its manifest and waited
    /// for, like `switch --to` does — so the rollback still ends with it serving. A side that
    /// cannot be brought back fails the rollback before traffic moves: exit 4 (a rollback that
    /// failed), saying that traffic was not moved and what to restore.
    async fn bring_back(&self, snap: &Snapshot, to: &str) -> Result<(), EngineError> {
        let gone = snap.envs.iter().any(|(env, s)| env == to && !s.exists);
        if !gone {
            return Ok(());
        }
        self.emit(Event::Warning {
            message: format!("`{to}` was retired since it last served; bringing it back first"),
        });
        match self.probe_env(to).await {
            Ok(()) => Ok(()),
            Err(e) => Err(EngineError::Uncertain {
                headline: format!(
                    "cannot roll back: `{to}` cannot be brought back: {}",
                    match &e {
                        EngineError::Unhealthy { failures, .. } => failures.join("; "),
                        other => crate::error::chain(other).join(": "),
                    }
                ),
                state: format!(
                    "traffic still goes to {}; nothing was changed",
                    snap.traffic
                ),
                remedy: Remedy {
                    restore: Some(to.to_string()),
                    ..Remedy::run(vec![Command::Switch { to: to.to_string() }])
                },
            }),
        }
    }

    /// Sends all traffic to `to` in one write (rollback, abort): plan, confirm, lock, move,
    /// verify, clean up. A failure after this point is exit 4 with the state and the command
    /// that finishes the job, never a plain error.
    pub(crate) async fn send_back(
        &self,
        snap: &Snapshot,
        to: &str,
        record: &Record,
        reason: &str,
        question: &str,
    ) -> Result<Outcome, EngineError> {
        let target = Traffic::Env {
            env: to.to_string(),
        };
        let gone = snap.envs.iter().any(|(env, s)| env == to && !s.exists);
        let bring_back = gone.then(|| Step::Probe {
            env: to.to_string(),
        });
        self.emit(Event::Planned {
            steps: bring_back
                .into_iter()
                .chain([
                    Step::Switch {
                        to: to.to_string(),
                        if_needed: false,
                        writes: self.provider.traffic_calls(snap, &target, record),
                    },
                    Step::Cleanup { delay_millis: 0 },
                ])
                .collect(),
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        self.confirm(question)?;
        // The health baseline the move back is compared with; a rollback is never refused.
        self.baseline(snap, false).await?;
        self.with_lock(async {
            if !self.moved() {
                self.bring_back(snap, to).await?;
            }
            self.emit(Event::RollingBack {
                reason: reason.to_string(),
                to: to.to_string(),
            });
            if let Err(e) = self.move_traffic(snap, &target, record).await {
                if matches!(e, EngineError::LockLost { .. }) {
                    return Err(e);
                }
                return Err(EngineError::Uncertain {
                    headline: format!(
                        "sending traffic to `{to}` failed: {}",
                        crate::error::chain(&e).join(": ")
                    ),
                    state: format!("last known: traffic goes to {}", snap.traffic),
                    remedy: Remedy::run(vec![Command::Switch { to: to.to_string() }]),
                });
            }
            if let Err(why) = self.verify_restored(to).await {
                return Err(EngineError::Uncertain {
                    headline: format!(
                        "traffic was sent to `{to}`, but the data plane does not confirm it"
                    ),
                    state: format!("the target system says `{to}` is live; {why}"),
                    remedy: Remedy::run(vec![
                        Command::Status,
                        Command::Switch { to: to.to_string() },
                    ]),
                });
            }
            self.cleanup().await;
            // `reason` says why (`requested`, `aborted`); the summary says what happened.
            let done = if record.phase == Phase::Aborted {
                "canary aborted"
            } else {
                "rolled back"
            };
            self.emit(Event::Done {
                summary: format!("{done}: `{to}` takes all traffic"),
            });
            Ok(Outcome::Changed(target.clone()))
        })
        .await
    }

    /// Removes temporary objects that traffic no longer uses.
    pub async fn cleanup(&self) {
        match self.snapshot().await {
            Ok(snap) => match self.provider.cleanup(&snap).await {
                Ok(done) => done
                    .into_iter()
                    .for_each(|object| self.emit(Event::CleanedUp { object })),
                Err(e) => self.emit(Event::Warning {
                    message: format!("cleanup failed: {e}"),
                }),
            },
            Err(e) => self.emit(Event::Warning {
                message: format!("cleanup skipped: {e}"),
            }),
        }
    }

    /// After a failure with traffic moved: back to `previous` in one write, or report exit 4.
    pub async fn roll_back_after_failure(
        &self,
        failed: &Traffic,
        previous: Option<&str>,
        reason: &str,
    ) -> EngineError {
        let Some(prev) = previous else {
            self.record_failure(previous).await;
            return EngineError::Uncertain {
                headline: "the rollout failed and there is no earlier side to roll back to".into(),
                state: format!("traffic goes to {failed}; {reason}"),
                remedy: Remedy::run(vec![Command::Status]),
            };
        };
        self.note_why(reason);
        self.emit(Event::RollingBack {
            reason: reason.to_string(),
            to: prev.to_string(),
        });
        // The failure may be the deadline itself: the rollback still has the closing reserve.
        self.opts.deadline.grant_closing();
        let to = Traffic::Env {
            env: prev.to_string(),
        };
        let record = self.record("auto-rollback", Phase::RolledBack, None);
        // A canary is finished with `abort` (which also removes the mix); blue-green by
        // switching back.
        let finish = Remedy::run(vec![if self.plan.strategy.canary.is_some() {
            Command::Abort
        } else {
            Command::Switch {
                to: prev.to_string(),
            }
        }]);
        let result = async {
            let snap = self.snapshot().await?;
            self.move_traffic(&snap, &to, &record).await
        }
        .await;
        if let Err(lost @ EngineError::LockLost { .. }) = result {
            // Another run took over: it owns the rollout now; nothing more is written here.
            return lost;
        }
        if result.is_ok() {
            self.cleanup().await;
        }
        self.on_rollback_hooks().await;
        match result {
            Ok(()) => match self.verify_restored(prev).await {
                Ok(()) => EngineError::RolledBack {
                    to: prev.to_string(),
                    reason: reason.to_string(),
                },
                Err(again) => EngineError::Uncertain {
                    headline: format!(
                        "rolled back to `{prev}`, but the data plane does not confirm it"
                    ),
                    state: format!("the Admin API says `{prev}` is live; {again}"),
                    remedy: finish.clone(),
                },
            },
            Err(e) => {
                self.record_failure(previous).await;
                EngineError::Uncertain {
                    headline: format!("rollback to `{prev}` failed: {e}"),
                    state: format!("last known: traffic goes to {}", self.last_traffic(failed)),
                    remedy: finish,
                }
            }
        }
    }

    /// A failed rollout that could not be rolled back is recorded as `failed` where the record
    /// would read as success (`completed`, written with the traffic change), so neither
    /// `status` nor the next `apply` takes it for one. A record still `progressing` already
    /// makes the next apply resume and verify; it is kept with its step and weight. Best
    /// effort: the target may be what failed (then the traffic write's record stands).
    async fn record_failure(&self, previous: Option<&str>) {
        let mut record = match self.snapshot().await {
            Ok(snap) if !matches!(snap.record.phase, Phase::Completed | Phase::Verifying) => return,
            Ok(snap) => snap.record,
            Err(_) => {
                let mut r = self.record("fail", Phase::Failed, previous.map(str::to_string));
                if let Some(c) = self.plan.strategy.canary.as_ref() {
                    r.stable = Some(c.stable.clone());
                    r.canary = Some(c.canary.clone());
                }
                r
            }
        };
        record.phase = Phase::Failed;
        record.action = Some("fail".into());
        record.at = Some(super::rfc3339(super::now_secs()));
        record.by = Some(self.opts.who.clone());
        if let Err(e) = self.write_record(&record).await {
            self.emit(Event::Warning {
                message: format!("recording the failure in the target system failed: {e}"),
            });
        }
    }
}
