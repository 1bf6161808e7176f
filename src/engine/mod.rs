//! The rollout engine: turns a validated plan and a live snapshot into a flat list of concrete
//! steps (entity writes, probe, traffic move, verification), then runs them.
//!
//! Order keeps traffic flowing: the new side is ensured and healthy before traffic moves, the old
//! side is left intact so rollback is one write, and a failed verification moves traffic back at
//! once. The engine emits [`events::Event`]s and never prints. It takes the lock only when it
//! will write: an `apply` that finds nothing to change makes no write at all.

pub mod analysis;
pub mod canary;
pub mod events;
pub mod verify;
pub mod weights;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use self::analysis::Judgement;
use self::events::{Event, Reporter};
use crate::exit::Exit;
use crate::plan::Plan;
use crate::probe::{self, ProbeSpec};
use crate::providers::{
    LockError, LockInfo, Phase, Provider, ProviderError, Record, Snapshot, Traffic,
};

/// Plain options for a run (resolved from flags, environment and plan; never clap types).
#[derive(Debug, Clone)]
pub struct Options {
    /// Skip confirmation prompts.
    pub yes: bool,
    /// Whether prompts can be shown (stdin and stderr are terminals).
    pub interactive: bool,
    /// Print what would change and stop.
    pub dry_run: bool,
    /// Break a lock held by someone else.
    pub force_unlock: bool,
    /// The run's deadline.
    pub deadline: crate::deadline::Deadline,
    /// Who is running (`user@host`).
    pub who: String,
}

impl Options {
    /// Defaults for a non-interactive run with `--yes` and the given timeout.
    pub fn unattended(timeout: Duration) -> Options {
        Options {
            yes: true,
            interactive: false,
            dry_run: false,
            force_unlock: false,
            deadline: crate::deadline::Deadline::after(timeout),
            who: whoami(),
        }
    }
}

/// `user@host` for records and locks.
pub fn whoami() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// Why a run did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The provider failed before traffic moved.
    #[error("reading or preparing the live state failed")]
    Provider(#[source] ProviderError),
    /// Another run holds the lock.
    #[error("rollout `{rollout}` is locked by {}", .lock.holder)]
    Locked {
        /// Rollout.
        rollout: String,
        /// The holder.
        lock: LockInfo,
    },
    /// A traffic change needs confirmation that cannot be asked for.
    #[error("this run would move traffic and needs confirmation")]
    NeedsConfirmation,
    /// The user said no.
    #[error("cancelled; nothing was changed")]
    Declined,
    /// The side to go live is unhealthy; traffic did not move.
    #[error("`{env}` is not healthy; traffic was not moved")]
    Unhealthy {
        /// Environment.
        env: String,
        /// Unhealthy targets with details.
        failures: Vec<String>,
    },
    /// The rollout failed (verification, or a write after traffic moved) and traffic went back.
    #[error("the rollout failed; traffic was rolled back to `{to}`")]
    RolledBack {
        /// Rolled back to.
        to: String,
        /// Why.
        reason: String,
    },
    /// Something failed and the state is uncertain.
    #[error("{headline}")]
    Uncertain {
        /// What happened.
        headline: String,
        /// What is known about the state.
        state: String,
        /// The command that finishes the job by hand.
        command: String,
    },
    /// A manual gate was reached and the run may not wait.
    #[error("rollout `{rollout}` is paused at the manual gate (step {step})")]
    PausedAtGate {
        /// 1-based step number.
        step: usize,
        /// Rollout.
        rollout: String,
    },
    /// SIGINT/SIGTERM: what was done about it.
    #[error("interrupted: {outcome}")]
    Interrupted {
        /// What was done.
        outcome: String,
    },
    /// Analysis (or a hook) said no before traffic moved.
    #[error("{stage} failed; traffic was not moved")]
    AnalysisFailed {
        /// Which analysis or hook.
        stage: String,
        /// The verdict summaries with measured values.
        why: String,
    },
    /// Analysis was inconclusive: a person decides.
    #[error("{stage} was inconclusive; traffic was not moved")]
    Inconclusive {
        /// Which analysis.
        stage: String,
        /// The verdict summaries.
        why: String,
    },
    /// Rollback has nowhere to go.
    #[error("there is nothing to roll back to")]
    NoPrevious,
    /// The requested move makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl EngineError {
    /// The exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            EngineError::Provider(_) | EngineError::Declined | EngineError::NoPrevious => {
                Exit::Error
            }
            EngineError::Locked { .. } => Exit::Locked,
            EngineError::NeedsConfirmation
            | EngineError::PausedAtGate { .. }
            | EngineError::Inconclusive { .. } => Exit::Paused,
            EngineError::Interrupted { .. } => Exit::Interrupted,
            EngineError::Unhealthy { .. }
            | EngineError::RolledBack { .. }
            | EngineError::AnalysisFailed { .. } => Exit::RolledBack,
            EngineError::Uncertain { .. } => Exit::Uncertain,
            EngineError::Invalid(_) => Exit::Usage,
        }
    }

    /// What the user can do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            EngineError::Locked { lock, .. } => vec![
                format!(
                    "held since {} by run {}; it expires at {}",
                    rfc3339(lock.since),
                    lock.run_id,
                    rfc3339(lock.expires)
                ),
                "wait for that run to finish, or break a stale lock with `--force-unlock`".into(),
            ],
            EngineError::NeedsConfirmation => vec![
                "pass `--yes` to confirm in a non-interactive run (CI), or run it in a terminal"
                    .into(),
            ],
            EngineError::Unhealthy { failures, .. } => {
                let mut h: Vec<String> =
                    failures.iter().map(|f| format!("unhealthy: {f}")).collect();
                h.push("fix the targets (or the plan's `healthCheck`) and run again; the live side was not touched".into());
                h
            }
            EngineError::RolledBack { reason, .. } => vec![reason.clone()],
            EngineError::AnalysisFailed { why, .. } => vec![why.clone(), "the live side was not touched".into()],
            EngineError::Inconclusive { why, .. } => vec![why.clone(), "decide: run again to re-measure, or `bgctl switch`/`abort` by hand".into()],
            EngineError::Uncertain { state, command, .. } => vec![
                format!("state: {state}"),
                format!("to finish by hand: {command}"),
            ],
            EngineError::PausedAtGate { .. } => vec![
                "the pause is recorded in the target system; continue from any machine with `bgctl promote -f <plan>`".into(),
                "or send all traffic back with `bgctl abort -f <plan>`; `bgctl plan apply --wait` waits for the promotion".into(),
            ],
            EngineError::NoPrevious => vec![
                "no earlier side is recorded in the target system; use `bgctl switch --to ENV`"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }
}

impl From<ProviderError> for EngineError {
    fn from(e: ProviderError) -> Self {
        EngineError::Provider(e)
    }
}

/// How a successful run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing differed.
    UpToDate,
    /// Dry run: nothing was written.
    DryRun,
    /// Changes were made; traffic now goes to this.
    Changed(Traffic),
    /// Another runner passed the gate this run waited at and continues the rollout.
    HandedOver,
}

/// RFC 3339 UTC for unix seconds.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs one rollout operation against a provider.
pub struct Engine<'a, P: Provider> {
    /// The provider.
    pub provider: &'a P,
    /// The plan.
    pub plan: &'a Plan,
    /// Options.
    pub opts: &'a Options,
    /// Event sink.
    pub reporter: &'a dyn Reporter,
    /// HTTP client for probes and verification.
    pub http: reqwest::Client,
    run_id: String,
    /// Whether this run changed where traffic goes (or may have: a write whose outcome is
    /// unknown). A failure after that rolls back instead of exiting 1.
    moved: AtomicBool,
    /// The last traffic state this run knows of.
    last_traffic: Mutex<Option<Traffic>>,
    /// The latest verdict per check (`name OUTCOME value`), written into the record.
    verdicts: Mutex<Vec<String>>,
}

/// What a blue-green `deploy` will do, computed from one snapshot.
struct DeployPlan {
    changes: Vec<crate::providers::Change>,
    moves: bool,
    previous: Option<String>,
    record: Record,
    to: Traffic,
}

/// Traffic states compare equal when they send the same shares to the same places (the percent
/// read back from live weights may differ from the computed one in the last bits).
pub(crate) fn same_traffic(a: &Traffic, b: &Traffic) -> bool {
    match (a, b) {
        (
            Traffic::Split {
                stable: s1,
                canary: c1,
                percent: p1,
            },
            Traffic::Split {
                stable: s2,
                canary: c2,
                percent: p2,
            },
        ) => s1 == s2 && c1 == c2 && (p1 - p2).abs() < 1e-6,
        _ => a == b,
    }
}

impl<'a, P: Provider> Engine<'a, P> {
    /// An engine for one run.
    pub fn new(
        provider: &'a P,
        plan: &'a Plan,
        opts: &'a Options,
        reporter: &'a dyn Reporter,
    ) -> Self {
        let http = crate::http::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_else(|_| crate::http::client());
        Engine {
            provider,
            plan,
            opts,
            reporter,
            http,
            run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            moved: AtomicBool::new(false),
            last_traffic: Mutex::new(None),
            verdicts: Mutex::new(Vec::new()),
        }
    }

    /// Whether this run has (or may have) changed where traffic goes.
    pub(crate) fn moved(&self) -> bool {
        self.moved.load(Ordering::SeqCst)
    }

    /// The last traffic state this run knows of (`fallback` when it knows none).
    pub(crate) fn last_traffic(&self, fallback: &Traffic) -> Traffic {
        self.last_traffic
            .lock()
            .expect("last traffic")
            .clone()
            .unwrap_or_else(|| fallback.clone())
    }

    fn set_last_traffic(&self, t: &Traffic) {
        *self.last_traffic.lock().expect("last traffic") = Some(t.clone());
    }

    #[allow(clippy::needless_pass_by_value)] // events are built inline at the call sites
    pub(crate) fn emit(&self, e: Event) {
        self.reporter.event(&e);
    }

    fn lock_info(&self) -> LockInfo {
        let since = now_secs();
        let ttl = self.plan.lock_ttl().as_secs();
        LockInfo {
            holder: format!("{} pid {}", self.opts.who, std::process::id()),
            run_id: self.run_id.clone(),
            since,
            expires: since + ttl,
        }
    }

    pub(crate) fn record(&self, action: &str, phase: Phase, previous: Option<String>) -> Record {
        Record {
            previous,
            phase,
            action: Some(action.into()),
            at: Some(rfc3339(now_secs())),
            by: Some(self.opts.who.clone()),
            verdicts: self.verdicts.lock().expect("verdicts lock").clone(),
            ..Record::default()
        }
    }

    /// Reads the live state and reports it.
    pub async fn observe(&self) -> Result<Snapshot, EngineError> {
        let snap = self.provider.snapshot().await?;
        self.emit(Event::Observed {
            rollout: self.plan.metadata.name.clone(),
            provider: self.provider.describe(),
            traffic: snap.traffic.clone(),
        });
        Ok(snap)
    }

    pub(crate) fn confirm(&self, question: &str) -> Result<(), EngineError> {
        if self.opts.yes || self.opts.dry_run {
            return Ok(());
        }
        if !self.opts.interactive {
            return Err(EngineError::NeedsConfirmation);
        }
        if self.reporter.confirm(question) {
            Ok(())
        } else {
            Err(EngineError::Declined)
        }
    }

    pub(crate) async fn with_lock<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let me = self.lock_info();
        match self.provider.lock(&me, self.opts.force_unlock).await {
            Ok(()) => self.emit(Event::LockAcquired {
                holder: me.holder.clone(),
            }),
            Err(LockError::Held(lock)) => {
                return Err(EngineError::Locked {
                    rollout: self.plan.metadata.name.clone(),
                    lock,
                })
            }
            Err(LockError::Provider(e)) => return Err(e.into()),
        }
        let mut result = f.await;
        // Releasing the lock closes the run: it may use the reserve `--timeout` keeps for that.
        self.opts.deadline.grant_closing();
        match self.provider.unlock(&me).await {
            Ok(()) => self.emit(Event::LockReleased),
            Err(e) => {
                self.emit(Event::Warning {
                    message: format!(
                        "could not release the lock ({e}); it expires at {}",
                        rfc3339(me.expires)
                    ),
                });
                // The command that finishes the job must break this run's own lock.
                if let Err(EngineError::Uncertain { state, command, .. }) = &mut result {
                    *command = command.replace(" --yes", " --yes --force-unlock");
                    state.push_str(&format!(
                        "; this run's lock (run {}) is still held until {}",
                        me.run_id,
                        rfc3339(me.expires)
                    ));
                }
            }
        }
        result
    }

    /// What `deploy` would do from `snap`; `None` when nothing differs.
    fn deploy_plan(&self, target: &str, action: &str, snap: &Snapshot) -> Option<DeployPlan> {
        let changes = self.provider.setup_changes(snap);
        let to = Traffic::Env {
            env: target.to_string(),
        };
        let moves = snap.traffic != to;
        if changes.is_empty() && !moves {
            return None;
        }
        let previous = match &snap.traffic {
            Traffic::Env { env } => Some(env.clone()),
            Traffic::Split { stable, .. } => Some(stable.clone()),
            _ => snap.record.previous.clone(),
        };
        let record = self.record(
            action,
            Phase::Completed,
            if moves {
                previous.clone()
            } else {
                snap.record.previous.clone()
            },
        );
        Some(DeployPlan {
            changes,
            moves,
            previous,
            record,
            to,
        })
    }

    /// Ensures the environments and makes `target` live (blue-green `apply` and `switch`).
    ///
    /// The plan shown and confirmed is computed from a read before the lock; under the lock the
    /// state is read again and the writes are computed from that read, so a run that waited for
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
        let traffic_calls = if first.moves {
            self.provider.traffic_calls(&snap, &first.to, &first.record)
        } else {
            Vec::new()
        };
        self.emit(Event::Planned {
            changes: first.changes.clone(),
            traffic: first
                .moves
                .then(|| (snap.traffic.clone(), first.to.clone())),
            traffic_calls,
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        if first.moves {
            self.confirm(&format!(
                "Move all traffic of `{}` from {} to {target}?",
                self.plan.metadata.name, snap.traffic
            ))?;
        }
        self.with_lock(async {
            let snap = self.provider.snapshot().await?;
            let Some(plan) = self.deploy_plan(target, action, &snap) else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
            self.set_last_traffic(&snap.traffic);
            for change in &plan.changes {
                self.emit(Event::Write {
                    change: change.clone(),
                });
                self.provider.apply(change).await?;
            }
            if !plan.moves {
                return Ok(Outcome::Changed(snap.traffic.clone()));
            }
            self.probe_env(target).await?;
            let bg = self.plan.strategy.blue_green.as_ref();
            if let Some(pre) = bg.and_then(|b| b.pre_promotion_analysis.as_ref()) {
                match self.analyse("prePromotion", &pre.checks).await {
                    Judgement::Pass => {}
                    Judgement::Fail(why) => {
                        return Err(EngineError::AnalysisFailed {
                            stage: "prePromotionAnalysis".into(),
                            why,
                        })
                    }
                    Judgement::Inconclusive(why) => {
                        return Err(EngineError::Inconclusive {
                            stage: "prePromotionAnalysis".into(),
                            why,
                        })
                    }
                }
            }
            if let Err(why) = self
                .run_hooks("preSwitch", &self.plan.hooks.pre_switch)
                .await
            {
                return Err(EngineError::AnalysisFailed {
                    stage: "preSwitch hook".into(),
                    why,
                });
            }
            let snap = self.provider.snapshot().await?;
            if let Err(e) = self.move_traffic(&snap, &plan.to, &plan.record).await {
                return Err(self
                    .after_failure(e, &snap.traffic, plan.previous.as_deref())
                    .await);
            }
            if let Err(reason) = self.verify_env(target, 100.0).await {
                return Err(self
                    .roll_back_after_failure(&plan.to, plan.previous.as_deref(), &reason)
                    .await);
            }
            if let Some(post) = bg.and_then(|b| b.post_promotion_analysis.as_ref()) {
                if let Judgement::Fail(why) | Judgement::Inconclusive(why) =
                    self.analyse("postPromotion", &post.checks).await
                {
                    return Err(self
                        .roll_back_after_failure(
                            &plan.to,
                            plan.previous.as_deref(),
                            &format!("postPromotionAnalysis: {why}"),
                        )
                        .await);
                }
            }
            if let Err(why) = self
                .run_hooks("postSwitch", &self.plan.hooks.post_switch)
                .await
            {
                return Err(self
                    .roll_back_after_failure(
                        &plan.to,
                        plan.previous.as_deref(),
                        &format!("postSwitch hook failed: {why}"),
                    )
                    .await);
            }
            if let Some(old) = plan.previous.as_deref().filter(|p| *p != target) {
                match self
                    .provider
                    .retire(old, target, self.opts.deadline.get())
                    .await
                {
                    Ok(done) => done
                        .into_iter()
                        .for_each(|object| self.emit(Event::CleanedUp { object })),
                    Err(e) => self.emit(Event::Warning {
                        message: format!("`{target}` is live, but retiring `{old}` failed: {e}"),
                    }),
                }
            }
            self.emit(Event::Done {
                summary: format!("`{target}` is live"),
            });
            Ok(Outcome::Changed(plan.to.clone()))
        })
        .await
    }

    /// Where traffic and objects already match the plan: finishes a retirement an earlier run
    /// was killed before making (see [`Provider::pending_retire`]), else reports "up to date"
    /// without a single write.
    pub(crate) async fn up_to_date(&self, snap: &Snapshot) -> Result<Outcome, EngineError> {
        let Some(pending) = self.provider.pending_retire(snap) else {
            self.emit(Event::UpToDate {
                traffic: snap.traffic.clone(),
            });
            return Ok(Outcome::UpToDate);
        };
        self.emit(Event::Planned {
            changes: vec![pending.change],
            traffic: None,
            traffic_calls: Vec::new(),
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        self.with_lock(async {
            let snap = self.provider.snapshot().await?;
            let Some(p) = self.provider.pending_retire(&snap) else {
                self.emit(Event::UpToDate {
                    traffic: snap.traffic.clone(),
                });
                return Ok(Outcome::UpToDate);
            };
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
    pub async fn rollback(&self) -> Result<Outcome, EngineError> {
        let snap = self.observe().await?;
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
            return Err(EngineError::Invalid(format!("`{to}` is already live")));
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
                state: format!("traffic still goes to {}; nothing was changed", snap.traffic),
                command: format!(
                    "restore `{to}` (its Deployment, or a `manifest` in the plan), then bgctl switch --to {to} -f <plan> --yes"
                ),
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
        self.emit(Event::Planned {
            changes: Vec::new(),
            traffic: Some((snap.traffic.clone(), target.clone())),
            traffic_calls: self.provider.traffic_calls(snap, &target, record),
        });
        if self.opts.dry_run {
            return Ok(Outcome::DryRun);
        }
        self.confirm(question)?;
        self.with_lock(async {
            if !self.moved() {
                self.bring_back(snap, to).await?;
            }
            self.emit(Event::RollingBack {
                reason: reason.to_string(),
                to: to.to_string(),
            });
            if let Err(e) = self.move_traffic(snap, &target, record).await {
                return Err(EngineError::Uncertain {
                    headline: format!(
                        "sending traffic to `{to}` failed: {}",
                        crate::error::chain(&e).join(": ")
                    ),
                    state: format!("last known: traffic goes to {}", snap.traffic),
                    command: format!("bgctl switch --to {to} -f <plan> --yes"),
                });
            }
            if let Err(why) = self.verify_env(to, 100.0).await {
                return Err(EngineError::Uncertain {
                    headline: format!(
                        "traffic was sent to `{to}`, but the data plane does not confirm it"
                    ),
                    state: format!("the target system says `{to}` is live; {why}"),
                    command: format!(
                        "bgctl status -f <plan>; then bgctl switch --to {to} -f <plan> --yes"
                    ),
                });
            }
            self.cleanup().await;
            self.emit(Event::Done {
                summary: format!("{reason}: `{to}` takes all traffic"),
            });
            Ok(Outcome::Changed(target.clone()))
        })
        .await
    }

    /// Removes temporary objects that traffic no longer uses.
    pub async fn cleanup(&self) {
        match self.provider.snapshot().await {
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

    /// Moves traffic and reports it.
    pub async fn move_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), EngineError> {
        if let Err(e) = self.provider.set_traffic(snap, to, record).await {
            // A write whose answer was lost (timeout, reset) may still have landed: read back
            // before deciding what happened. An unreadable state counts as possibly moved.
            match self.provider.snapshot().await {
                Ok(now)
                    if same_traffic(&now.traffic, to)
                        && now.record.phase == record.phase
                        && now.record.step == record.step
                        && self.provider.setup_changes(&now).is_empty() =>
                {
                    self.emit(Event::Warning {
                        message: format!(
                            "the traffic write reported an error ({e}) but reading the live state back shows it applied"
                        ),
                    });
                }
                Ok(now) => {
                    if !same_traffic(&now.traffic, &snap.traffic) {
                        self.moved.store(true, Ordering::SeqCst);
                    }
                    self.set_last_traffic(&now.traffic);
                    return Err(e.into());
                }
                Err(_) => {
                    self.moved.store(true, Ordering::SeqCst);
                    return Err(e.into());
                }
            }
        }
        self.moved.store(true, Ordering::SeqCst);
        self.set_last_traffic(to);
        self.emit(Event::TrafficSet {
            from: snap.traffic.clone(),
            to: to.clone(),
        });
        Ok(())
    }

    /// Probes an environment's targets; an unhealthy one stops the run before traffic moves.
    pub async fn probe_env(&self, env: &str) -> Result<(), EngineError> {
        match self.provider.prepare(env, self.opts.deadline.get()).await {
            Ok(()) => {}
            Err(ProviderError::NotReady(why)) => {
                return Err(EngineError::Unhealthy {
                    env: env.to_string(),
                    failures: vec![why],
                })
            }
            Err(e) => return Err(e.into()),
        }
        let Some(hc) = &self.plan.health_check else {
            return Ok(());
        };
        let spec = ProbeSpec::from_plan(hc);
        let targets = self.provider.probe_targets(env);
        self.emit(Event::ProbeStarted {
            env: env.to_string(),
            targets: targets.len(),
        });
        let on = |h: &probe::TargetHealth| {
            self.reporter.event(&Event::ProbeResult {
                env: env.to_string(),
                health: h.clone(),
            });
        };
        let results =
            probe::wait_healthy(&self.http, &spec, &targets, self.opts.deadline.get(), &on).await;
        let failures: Vec<String> = results
            .iter()
            .filter(|r| !r.healthy)
            .map(|r| format!("{}: {}", r.target, r.detail))
            .collect();
        self.emit(Event::ProbeDone {
            env: env.to_string(),
            healthy: results.len() - failures.len(),
            unhealthy: failures.len(),
        });
        if failures.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Unhealthy {
                env: env.to_string(),
                failures,
            })
        }
    }

    /// Verifies through the proxy that `env` gets `expected` percent; `Ok` when not configured.
    pub async fn verify_env(&self, env: &str, expected: f64) -> Result<(), String> {
        let over = self
            .plan
            .strategy
            .canary
            .as_ref()
            .and_then(|c| c.verify.as_ref());
        let Some(v) = verify::Verifier::from_plan(self.plan, over) else {
            return Ok(());
        };
        let on = |s: &verify::Sample, observed: f64| {
            self.reporter.event(&Event::VerifySample {
                expected,
                observed,
                requests: s.requests,
                by_side: s.by_side.clone(),
                failed: s.failed,
            });
        };
        match v
            .until(&self.http, env, expected, self.opts.deadline.get(), &on)
            .await
        {
            Ok(observed) => {
                self.emit(Event::Verified { ok: true, detail: format!("`{env}` answered {observed:.1}% through the proxy (expected {expected:.1}% ± {:.1})", v.tolerance) });
                Ok(())
            }
            Err(detail) => {
                self.emit(Event::Verified {
                    ok: false,
                    detail: detail.clone(),
                });
                Err(detail)
            }
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
            return EngineError::Uncertain {
                headline: "the rollout failed and there is no earlier side to roll back to".into(),
                state: format!("traffic goes to {failed}; {reason}"),
                command: "bgctl status -f <plan>".into(),
            };
        };
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
        let finish = if self.plan.strategy.canary.is_some() {
            "bgctl abort -f <plan> --yes".to_string()
        } else {
            format!("bgctl switch --to {prev} -f <plan> --yes")
        };
        let result = async {
            let snap = self.provider.snapshot().await?;
            self.move_traffic(&snap, &to, &record).await
        }
        .await;
        if result.is_ok() {
            self.cleanup().await;
        }
        self.on_rollback_hooks().await;
        match result {
            Ok(()) => match self.verify_env(prev, 100.0).await {
                Ok(()) => EngineError::RolledBack {
                    to: prev.to_string(),
                    reason: reason.to_string(),
                },
                Err(again) => EngineError::Uncertain {
                    headline: format!(
                        "rolled back to `{prev}`, but the data plane does not confirm it"
                    ),
                    state: format!("the Admin API says `{prev}` is live; {again}"),
                    command: finish.clone(),
                },
            },
            Err(e) => EngineError::Uncertain {
                headline: format!("rollback to `{prev}` failed: {e}"),
                state: format!("last known: traffic goes to {}", self.last_traffic(failed)),
                command: finish,
            },
        }
    }
}
