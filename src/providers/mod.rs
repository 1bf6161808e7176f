//! Providers move traffic on a concrete system. The engine talks to them through the small
//! [`Provider`] trait: read a snapshot of the live state, list the writes that make the
//! environments match the plan, apply one write, point traffic somewhere (recording the rollout
//! state in the same write where the system allows it), and take or release the lock.
//!
//! State that another runner needs lives in the target system ([`Record`], [`LockInfo`]), so
//! any machine can continue, promote or roll back a rollout another one started (Kong: tags;
//! HAProxy: process variables and a lock server; Traefik keeps no unknown fields, so its record
//! and lock live in a state file on the runner, see [`statefile`]).
//!
//! The engine is generic over [`Provider`]; native `async fn` in traits is not object-safe, so
//! the CLI gets the closed enum [`AnyProvider`] from [`select::build`], the one place that maps a
//! plan's backend to its provider.
//!
//! What is the same for every backend is written once, beside the trait, and each provider
//! only supplies storage or wire format: [`lock`] (take, renew, fence, expiry by the target's
//! clock, break, release), [`write`] (a conditional write whose answer was lost, or that met a
//! conflict, is re-read and decided again), [`weights`] (one split, the backend's maximum and
//! granularity as parameters), [`record`] (the rollout record as flat fields for tags and
//! annotations, or as JSON, both from `Record`'s serde).
//!
//! A provider keeps no hidden cache between calls: [`Snapshot::live`] carries what the
//! snapshot was read from, and `setup_changes`, `traffic_calls` and `set_traffic` plan from the
//! snapshot they are given.
//!
//! # Why each method of [`Provider`] is there
//!
//! The trait was reviewed for methods to drop or merge (issue 12); what is left is either
//! different per backend or a hook with a default. `cleanup`, `prepare`, `retire`,
//! `pending_retire` and `status_columns` have defaults, because most backends have nothing to
//! do there (only Kong has a temporary mixed upstream; only Kubernetes has Deployments to wait
//! for and retire).
//!
//! * `describe`, `status_columns` — what `status` and the plan header print; per backend.
//! * `snapshot` — the one read of the live state every decision starts from.
//! * `setup_changes` + `apply` — the writes that make the environments match the plan, listed
//!   first (so `plan diff` and `--dry-run` show them) and made one by one (so progress and a
//!   crash point are per write; writes the provider marks independent with [`Change::wave`]
//!   run several at a time, in list order within a bound). Kept apart from traffic because
//!   they never move traffic.
//! * `traffic_calls` + `set_traffic` — the same split for the traffic write: the exact calls for
//!   the step list, then the write itself, which also records the rollout state in the same
//!   write where the backend allows it.
//! * `write_record` — the record alone (a pause, an abort that moves nothing); not a
//!   `set_traffic` to the current traffic, which on some backends would be a real write.
//! * `achieved_split` — the share the backend's integer weights can reach for a requested
//!   percent (its `weights::Scale`, or whole percent on Kubernetes), printed next to the
//!   request and used by verification before anything is written.
//! * `probe_targets` — the addresses health probes go to (none on Kubernetes, where readiness
//!   comes from `prepare`).
//! * `lock`, `unlock`, `renew`, `holds` — the lock protocol is written once ([`lock`]); every
//!   backend's four methods are one call each into it with its store (tags, a Lease, a
//!   variable, a file). They could become defaults over a `lock_store()` method; they are left
//!   as they are while the protocol itself (heartbeat, fencing) is being changed, so that work
//!   does not also have to move every backend.
//! * `cleanup`, `prepare`, `retire`, `pending_retire` — hooks with defaults, described on each.
//! * `route_calls` + `set_routes` — header and mirror routes (issue 16): the calls for the step
//!   list, then the convergence of the owned route objects to a list. Defaults for the backends
//!   that cannot express them (validation refuses those plans first). A backend that has them
//!   lists its live routes in [`Snapshot::extra`] and removes them in `cleanup` once traffic no
//!   longer splits, so promotion, `abort`, `rollback` and the automatic rollback remove them.
//! * `settled` — a hook with a default: where a write reaches the data plane through another
//!   system (Kong hybrid mode's data planes), the wait until it did, bounded by the step's
//!   verification deadline.

mod any;
pub mod fake;
pub mod haproxy;
mod hints;
pub mod kong;
pub mod kubernetes;
pub mod lock;
pub mod record;
pub use record::{Phase, Record};
pub mod routes;
pub mod select;
pub mod statefile;
pub mod traefik;
pub mod weights;
pub mod write;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use any::AnyProvider;

/// Where the service's traffic goes right now.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Traffic {
    /// The traffic object does not exist yet.
    Missing,
    /// All traffic goes to one environment.
    Env {
        /// Environment name.
        env: String,
    },
    /// A canary split.
    Split {
        /// Stable environment.
        stable: String,
        /// Canary environment.
        canary: String,
        /// Canary share in percent, as achieved by the live weights.
        percent: f64,
    },
    /// Something bgctl does not recognise (e.g. a host no environment uses).
    Foreign {
        /// What the traffic object points at.
        target: String,
    },
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Traffic::Missing => f.write_str("nothing (not created yet)"),
            Traffic::Env { env } => write!(f, "{env}"),
            Traffic::Split {
                stable,
                canary,
                percent,
            } => write!(
                f,
                "{stable} {:.1}% / {canary} {percent:.1}%",
                100.0 - percent
            ),
            Traffic::Foreign { target } => {
                write!(f, "`{target}` (not an environment of this plan)")
            }
        }
    }
}

/// A lock held in the target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LockInfo {
    /// `user@host pid N run R`.
    pub holder: String,
    /// Unique id of the run that holds it.
    pub run_id: String,
    /// Unix seconds when it was taken.
    pub since: u64,
    /// Unix seconds after which it is stale.
    pub expires: u64,
}

/// Live state of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvState {
    /// The provider-level object behind the environment (Kong upstream, HAProxy backend/servers,
    /// Traefik service, Kubernetes Deployment); its kind names the status column.
    pub object: String,
    /// Whether it exists.
    pub exists: bool,
    /// Live targets and weights.
    pub targets: Vec<(String, u32)>,
}

/// A read of the live state.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Where traffic goes.
    pub traffic: Traffic,
    /// Recorded rollout state.
    pub record: Record,
    /// Current lock, if any.
    pub lock: Option<LockInfo>,
    /// Each environment's live state, in plan order.
    pub envs: Vec<(String, EnvState)>,
    /// Other entities bgctl owns for this rollout (e.g. a canary's mixed upstream).
    pub extra: Vec<String>,
    /// How the traffic object routes, where that says more than `traffic` (e.g. which child
    /// HTTPProxy a Contour root includes, and for which conditions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// What the provider read, for the writes planned from this snapshot
    /// ([`Provider::setup_changes`], [`Provider::traffic_calls`], [`Provider::set_traffic`]).
    #[serde(skip)]
    pub live: Live,
}

/// The provider's own reading behind a [`Snapshot`]: the snapshot carries what it was read
/// from, so the writes planned from it need no cache inside the provider. Only the provider
/// that took the snapshot looks inside; for any other (or none) it is empty, and the provider
/// reads the target again.
#[derive(Clone, Default)]
pub struct Live(Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl Live {
    /// Wraps a provider's reading.
    pub(crate) fn new<T: std::any::Any + Send + Sync>(reading: T) -> Live {
        Live(Some(std::sync::Arc::new(reading)))
    }

    /// The reading, if it is a `T`.
    pub(crate) fn get<T: std::any::Any>(&self) -> Option<&T> {
        self.0.as_deref().and_then(|r| r.downcast_ref::<T>())
    }
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Live(..)"
        } else {
            "Live(none)"
        })
    }
}

/// One planned write.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// Entity kind, e.g. `upstream`.
    pub entity: &'static str,
    /// Entity name.
    pub name: String,
    /// What changes.
    pub detail: String,
    /// The exact call.
    pub call: Call,
    /// Which writes may be made at the same time: consecutive changes with the same
    /// `Some(wave)` do not depend on each other, so the engine makes up to `--parallelism` of
    /// them at once (and the next change only after the whole wave). `None` — what every
    /// backend's writes are unless it says otherwise — is a write of its own, made after
    /// everything before it and before everything after it: the list order.
    #[serde(skip)]
    pub wave: Option<u32>,
}

/// One Admin API call.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Path below the Admin API base URL.
    pub path: String,
    /// JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Safe to retry after an ambiguous failure.
    #[serde(skip)]
    pub idempotent: bool,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it.
    #[error("the rollout is locked by {}", .0.holder)]
    Held(LockInfo),
    /// This run's lock is gone: released or broken by another run, nobody holds it now
    /// (only [`Provider::renew`] says this).
    #[error("this run's lock is gone (released or broken by another run)")]
    Gone,
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// A provider failure.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Kong Admin API failure.
    #[error(transparent)]
    Kong(#[from] kong::client::KongError),
    /// HAProxy runtime API failure.
    #[error(transparent)]
    Haproxy(#[from] haproxy::HaproxyError),
    /// Traefik API failure.
    #[error(transparent)]
    Traefik(#[from] traefik::TraefikError),
    /// Kubernetes API failure.
    #[error(transparent)]
    Kube(#[from] kubernetes::client::KubeError),
    /// An environment did not become ready to take traffic (nothing was moved).
    #[error("{0}")]
    NotReady(String),
    /// The live state is not one bgctl can work from.
    #[error("{0}")]
    State(String),
    /// The target accepted a traffic write (or the engine cannot tell), but reading it back
    /// does not show it applied: the write may still land later, so the engine treats traffic
    /// as possibly moved (roll back, or exit 4), never as done.
    #[error("{0}")]
    NotApplied(String),
}

/// The operations the engine needs from a traffic backend.
#[allow(async_fn_in_trait)]
pub trait Provider {
    /// A one-line description, e.g. `kong http://127.0.0.1:8001`.
    fn describe(&self) -> String;
    /// The `bgctl status` column headers for [`EnvState::object`], its targets and their
    /// weights (Kong: an upstream's targets and target weights).
    fn status_columns(&self) -> [&'static str; 3] {
        ["UPSTREAM", "TARGET", "WEIGHT"]
    }
    /// Reads the live state.
    async fn snapshot(&self) -> Result<Snapshot, ProviderError>;
    /// Writes that make the environments (and traffic-neutral settings) match the plan.
    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change>;
    /// Applies one planned write.
    async fn apply(&self, change: &Change) -> Result<(), ProviderError>;
    /// The call(s) that would point traffic at `to` (for dry runs and `-v`).
    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call>;
    /// Points traffic at `to`, recording `record` atomically with it where possible.
    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError>;
    /// Writes only the record (pauses, aborts that move no traffic).
    async fn write_record(&self, record: &Record) -> Result<(), ProviderError>;
    /// The canary share, in percent, that this backend's integer weights achieve for a
    /// requested `percent` (printed next to the requested one and used by verification).
    fn achieved_split(
        &self,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError>;
    /// Addresses (`host:port`) of an environment's targets with weight > 0, for probes.
    fn probe_targets(&self, env: &str) -> Vec<String>;
    /// The plan's targets of `env` that `snap` does not show live (added, or re-addressed):
    /// the engine probes them before the write that puts them into a side that serves.
    /// Default: [`Provider::probe_targets`] minus the addresses in `snap.envs` (right where the
    /// snapshot lists live addresses; a provider whose snapshot lists the plan's overrides it).
    fn new_targets(&self, snap: &Snapshot, env: &str) -> Vec<String> {
        let live: Vec<&str> = snap
            .envs
            .iter()
            .filter(|(e, _)| e == env)
            .flat_map(|(_, s)| s.targets.iter().map(|t| t.0.as_str()))
            .collect();
        self.probe_targets(env)
            .into_iter()
            .filter(|t| !live.contains(&t.as_str()))
            .collect()
    }
    /// Takes the lock; `force` breaks a lock someone else holds.
    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError>;
    /// Releases the lock if `me` holds it.
    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError>;
    /// Renews the lock `me` holds (the heartbeat): its lifetime starts again from now, on the
    /// target's clock. Fails when the lock is no longer this run's ([`lock::renew`]).
    async fn renew(&self, me: &LockInfo) -> Result<(), LockError>;
    /// Fencing: whether `me` still holds a live lock (its own, not expired on the target's
    /// clock). A run checks it before every traffic write ([`lock::holds`]).
    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError>;
    /// Removes temporary objects (Kong: a canary's mixed upstream) once traffic no longer uses
    /// them; returns what was removed. Default: a backend without temporary objects.
    async fn cleanup(&self, _snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
    /// Makes an environment ready to take traffic before any traffic moves (Kubernetes: wait
    /// for its Deployment's rollout, like `kubectl rollout status`). Default: nothing to wait for.
    async fn prepare(
        &self,
        _env: &str,
        _deadline: tokio::time::Instant,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
    /// After `live` was promoted and verified: retire the side that served before (`old`),
    /// e.g. scale down or delete its Deployment after a delay. Returns what was retired.
    async fn retire(
        &self,
        _old: &str,
        _live: &str,
        _deadline: tokio::time::Instant,
    ) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
    /// A retirement a completed promotion still owes (a run killed between the switch and
    /// [`Provider::retire`]): `snap` shows the promotion done, the recorded previous side still
    /// there. `plan apply` finishes it instead of calling the rollout up to date. Default: none.
    fn pending_retire(&self, _snap: &Snapshot) -> Option<PendingRetire> {
        None
    }
    /// The calls that make this backend's bgctl-owned header and mirror routes exactly
    /// `routes` (for the step list; empty when they already are). Default: a backend without
    /// routes, where no route is ever live.
    fn route_calls(&self, _snap: &Snapshot, _routes: &[routes::ActiveRoute]) -> Vec<Call> {
        Vec::new()
    }
    /// Makes the bgctl-owned header and mirror routes exactly `routes` (issue 16), removing every
    /// owned route not on the list. Default: a backend that cannot route by header; validation
    /// refuses such plans ([`crate::plan::model::route_refusals`]), so only an empty list
    /// reaches it, which has nothing to remove.
    async fn set_routes(
        &self,
        _snap: &Snapshot,
        routes: &[routes::ActiveRoute],
    ) -> Result<(), ProviderError> {
        match routes.first() {
            None => Ok(()),
            Some(r) => Err(ProviderError::State(format!(
                "{} cannot express the {}",
                self.describe(),
                r.describe()
            ))),
        }
    }
    /// How many independent writes of one traffic change (one [`Change::wave`]) may be in
    /// flight at once: the run's `--parallelism`, given when the engine starts. Default: a
    /// backend whose traffic change is one write.
    fn set_parallelism(&self, _n: usize) {}
    /// After this run's writes: waits until every place that serves traffic has the
    /// configuration they made (Kong hybrid mode: every connected data plane reports the
    /// control plane's new configuration), or `deadline`; `Err` says which one lags and since
    /// when, and the engine treats it as a failed verification. Default: a backend that serves
    /// what it was written (its read-back and proxy verification are the check).
    async fn settled(&self, _deadline: tokio::time::Instant) -> Result<Settled, String> {
        Ok(Settled::default())
    }
}

/// What [`Provider::settled`] found: lines for the output.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// What was confirmed (one `verified` line each).
    pub verified: Vec<String>,
    /// What was not counted, and why.
    pub warnings: Vec<String>,
}

/// A retirement left over by an earlier run (see [`Provider::pending_retire`]).
#[derive(Debug, Clone)]
pub struct PendingRetire {
    /// The side that served before the promotion.
    pub old: String,
    /// The side that serves now.
    pub live: String,
    /// The write it takes, for the plan shown before it is made.
    pub change: Change,
}

/// A lock whose details cannot be read (just taken, or unreadable): held, from now on, for
/// `ttl` seconds, so only `--force-unlock` or time breaks it.
pub(crate) fn unknown_lock(why: &str, ttl: u64) -> LockInfo {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LockInfo {
        holder: format!("unknown ({why})"),
        run_id: String::new(),
        since: now,
        expires: now + ttl,
    }
}

/// Where traffic goes, from each environment's live serving weight (plan order); shared by the
/// backends whose environments are weighted servers or services (HAProxy, Traefik).
///
/// One side with weight is [`Traffic::Env`]; two are a [`Traffic::Split`] whose stable side is
/// the recorded one when the record names both, else the first in plan order; none, or more than
/// two, is reported as [`Traffic::Foreign`] so the engine never mistakes it for a known state.
pub(crate) fn traffic_from_weights(totals: &[(String, u64)], record: &Record) -> Traffic {
    let live: Vec<&(String, u64)> = totals.iter().filter(|t| t.1 > 0).collect();
    match live.as_slice() {
        [] => Traffic::Foreign {
            target: "no environment has weight above 0".into(),
        },
        [one] => Traffic::Env { env: one.0.clone() },
        [a, b] => {
            let (stable, canary) = if record.stable.as_deref() == Some(b.0.as_str())
                && record.canary.as_deref() == Some(a.0.as_str())
            {
                (b, a)
            } else {
                (a, b)
            };
            Traffic::Split {
                stable: stable.0.clone(),
                canary: canary.0.clone(),
                percent: 100.0 * canary.1 as f64 / (stable.1 + canary.1) as f64,
            }
        }
        more => Traffic::Foreign {
            target: more
                .iter()
                .map(|t| t.0.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
        },
    }
}
