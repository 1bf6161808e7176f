//! The closed enum over the real backends. The engine is generic over [`Provider`], and native
//! `async fn` in traits is not object-safe, so the CLI holds one [`AnyProvider`] (built by
//! [`super::select::build`]) and every method only delegates to the backend inside.

use super::routes::ActiveRoute;
use super::{
    haproxy, kong, kubernetes, traefik, Call, Change, LockError, LockInfo, PendingRetire, Provider,
    ProviderError, Record, Snapshot, Traffic,
};

/// The closed set of providers; the CLI builds one from the plan and the engine is generic
/// over [`Provider`], so this enum only delegates. Adding a backend means one variant here and
/// one arm per macro; the engine does not change.
#[allow(clippy::large_enum_variant)] // one per run: the size difference does not matter
pub enum AnyProvider {
    /// Kong Admin API.
    Kong(kong::Kong),
    /// HAProxy runtime API.
    Haproxy(haproxy::Haproxy),
    /// Traefik REST provider.
    Traefik(traefik::Traefik),
    /// Kubernetes API server.
    Kubernetes(kubernetes::Kubernetes),
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyProvider::Kong($p) => $e,
            AnyProvider::Haproxy($p) => $e,
            AnyProvider::Traefik($p) => $e,
            AnyProvider::Kubernetes($p) => $e,
        }
    };
}

/// Like `delegate!` for async methods: each provider's future is boxed so the engine's futures
/// stay small whatever the largest provider needs (clippy `large_futures`).
macro_rules! delegate_async {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyProvider::Kong($p) => Box::pin($e).await,
            AnyProvider::Haproxy($p) => Box::pin($e).await,
            AnyProvider::Traefik($p) => Box::pin($e).await,
            AnyProvider::Kubernetes($p) => Box::pin($e).await,
        }
    };
}

impl Provider for AnyProvider {
    fn describe(&self) -> String {
        delegate!(self, p => p.describe())
    }
    fn status_columns(&self) -> [&'static str; 3] {
        delegate!(self, p => p.status_columns())
    }
    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        delegate_async!(self, p => p.snapshot())
    }
    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        delegate!(self, p => p.setup_changes(snap))
    }
    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.apply(change))
    }
    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        delegate!(self, p => p.traffic_calls(snap, to, record))
    }
    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.set_traffic(snap, to, record))
    }
    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.write_record(record))
    }
    fn set_parallelism(&self, n: usize) {
        delegate!(self, p => p.set_parallelism(n));
    }
    fn probe_targets(&self, env: &str) -> Vec<String> {
        delegate!(self, p => p.probe_targets(env))
    }
    fn new_targets(&self, snap: &Snapshot, env: &str) -> Vec<String> {
        delegate!(self, p => p.new_targets(snap, env))
    }
    fn achieved_split(
        &self,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        delegate!(self, p => p.achieved_split(stable, canary, percent))
    }
    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        delegate_async!(self, p => p.lock(me, force))
    }
    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.unlock(me))
    }
    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        delegate_async!(self, p => p.renew(me))
    }
    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        delegate_async!(self, p => p.holds(me))
    }
    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        delegate_async!(self, p => p.cleanup(snap))
    }
    async fn prepare(
        &self,
        env: &str,
        deadline: tokio::time::Instant,
    ) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.prepare(env, deadline))
    }
    async fn retire(
        &self,
        old: &str,
        live: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<String>, ProviderError> {
        delegate_async!(self, p => p.retire(old, live, deadline))
    }
    fn pending_retire(&self, snap: &Snapshot) -> Option<PendingRetire> {
        delegate!(self, p => p.pending_retire(snap))
    }
    fn route_calls(&self, snap: &Snapshot, routes: &[ActiveRoute]) -> Vec<Call> {
        delegate!(self, p => p.route_calls(snap, routes))
    }
    async fn set_routes(
        &self,
        snap: &Snapshot,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        delegate_async!(self, p => p.set_routes(snap, routes))
    }
    async fn settled(&self, deadline: tokio::time::Instant) -> Result<super::Settled, String> {
        delegate_async!(self, p => p.settled(deadline))
    }
}
