//! The rollout engine: turns a validated plan and a live snapshot into a flat list of concrete
//! steps ([`step::Step`], built by [`expand`]), then runs them ([`execute`], one `match`).
//!
//! Order keeps traffic flowing: the new side is ensured and healthy before traffic moves, the old
//! side is left intact so rollback is one write ([`rollback`]), and a failed verification moves
//! traffic back at once. The engine emits [`events::Event`]s and never prints; what a person
//! must do is data ([`step::Remedy`]), rendered as commands by the CLI. Every traffic write is
//! read back from the target before the run believes it (`readback.rs`). It takes the lock only
//! when it will write: an `apply` that finds nothing to change makes no write at all.

pub mod analysis;
pub mod canary;
pub mod events;
pub mod execute;
pub mod expand;
pub mod heartbeat;
pub mod history;
pub mod interrupt;
mod notify;
mod readback;
pub mod rollback;
mod routes;
pub mod step;
pub mod verify;
pub(crate) mod waves;
pub use crate::providers::weights;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use self::events::{Event, Reporter};
use self::step::{Remedy, Step};
use crate::exit::Exit;
use crate::plan::Plan;
use crate::probe::{self, ProbeSpec};
use crate::providers::{LockInfo, Phase, Provider, ProviderError, Record, Snapshot, Traffic};

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
    /// Who is running as history and notifications name them (a CI user and job link).
    pub actor: history::Actor,
    /// The command, as history names the run; empty: the action of the run's first record
    /// write (`apply`, `switch`, `rollback`, `promote`, `abort`).
    pub command: String,
    /// `release --set` values to record with the rollout (`KEY=VALUE`, escaped).
    pub vars: Vec<String>,
    /// How many independent setup writes (one [`crate::providers::Change::wave`]) may be in
    /// flight at once; 1 makes every write alone.
    pub parallelism: usize,
}

/// Setup writes in flight at once by default: decK's `--parallelism` default.
pub const DEFAULT_PARALLELISM: usize = 10;

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
            actor: history::Actor::detect(),
            command: String::new(),
            vars: Vec::new(),
            parallelism: DEFAULT_PARALLELISM,
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
        /// What a person must do to finish the job.
        remedy: Remedy,
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
    /// The plan verifies by identity but the live side's answers do not carry it; found
    /// before any write.
    #[error("{headline}")]
    NotIdentified {
        /// What is wrong.
        headline: String,
        /// What was seen.
        seen: String,
        /// What to do.
        hint: String,
    },
    /// This run lost its lock while it ran (taken over, broken, or not renewed in time): it
    /// stopped without writing more.
    #[error("rollout `{rollout}` was taken over{}: this run stopped without writing more", .holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    LockLost {
        /// Rollout.
        rollout: String,
        /// Who holds the lock now, if anyone.
        holder: Option<String>,
        /// How the run found out.
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
            EngineError::Provider(p) if p.is_usage() => Exit::Usage,
            EngineError::Provider(_) | EngineError::Declined | EngineError::NoPrevious => {
                Exit::Error
            }
            EngineError::Locked { .. } | EngineError::LockLost { .. } => Exit::Locked,
            EngineError::NeedsConfirmation
            | EngineError::PausedAtGate { .. }
            | EngineError::Inconclusive { .. } => Exit::Paused,
            EngineError::Interrupted { .. } => Exit::Interrupted,
            EngineError::Unhealthy { .. }
            | EngineError::RolledBack { .. }
            | EngineError::AnalysisFailed { .. } => Exit::RolledBack,
            EngineError::Uncertain { .. } => Exit::Uncertain,
            EngineError::Invalid(_) | EngineError::NotIdentified { .. } => Exit::Usage,
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
    /// The proxy sample taken before the first traffic change ([`verify`]).
    baseline: Mutex<Option<verify::Baseline>>,
    /// The lock this run holds and the record it expects ([`heartbeat`]).
    held: heartbeat::Held,
    /// New targets of a serving side this run probed healthy ([`Step::ProbeNew`]): probed
    /// before the lock is taken, so a refusal writes nothing at all, and not again under it.
    probed: Mutex<Vec<String>>,
    /// What every record write carries forward: history and vars ([`history`]).
    carried: history::Carried,
    /// SIGINT/SIGTERM, listened for across the run's waits ([`interrupt::Signals`]).
    signals: interrupt::Signals,
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
        // A traffic change of several independent writes (Kong's canary targets) makes them
        // as setup writes are made.
        provider.set_parallelism(opts.parallelism);
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
            baseline: Mutex::new(None),
            held: heartbeat::Held::default(),
            probed: Mutex::new(Vec::new()),
            carried: history::Carried::default(),
            signals: interrupt::Signals::default(),
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

    pub(crate) fn set_last_traffic(&self, t: &Traffic) {
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
        let snap = self.snapshot().await?;
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
        self.probe_targets(env, &self.provider.probe_targets(env))
            .await
    }

    /// Runs the plan's [`Step::ProbeNew`] steps before the lock: new targets of a serving side
    /// that are unhealthy stop the run before its first write (the lock's included).
    pub(crate) async fn probe_new_first(&self, steps: &[Step]) -> Result<(), EngineError> {
        for step in steps {
            if let Step::ProbeNew { env, targets } = step {
                self.probe_new(env, targets).await?;
            }
        }
        Ok(())
    }

    /// Probes the new targets of serving `env` that this run has not probed healthy yet.
    pub(crate) async fn probe_new(&self, env: &str, targets: &[String]) -> Result<(), EngineError> {
        let left: Vec<String> = {
            let probed = self.probed.lock().expect("probed lock");
            targets
                .iter()
                .filter(|t| !probed.contains(t))
                .cloned()
                .collect()
        };
        if left.is_empty() {
            return Ok(());
        }
        self.probe_targets(env, &left).await?;
        self.probed.lock().expect("probed lock").extend(left);
        Ok(())
    }

    /// Probes `targets` of `env` with the plan's health check (nothing without one); an
    /// unhealthy target stops the run before it gets traffic.
    pub async fn probe_targets(&self, env: &str, targets: &[String]) -> Result<(), EngineError> {
        let Some(hc) = &self.plan.health_check else {
            return Ok(());
        };
        let spec = ProbeSpec::from_plan(hc);
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
            probe::wait_healthy(&self.http, &spec, targets, self.opts.deadline.get(), &on).await;
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
}
