//! [`AnyProvider`]: the closed set of backends the CLI can drive, as one type.
//!
//! The engine is generic over [`Provider`] and native `async fn` in traits cannot be used
//! through `dyn`, so dispatch is a plain `match` per method. Adding a backend means one variant
//! here and one arm per method; the engine does not change.

use super::haproxy::Haproxy;
use super::kong::Kong;
use super::traefik::Traefik;
use super::{
    Call, Change, LockError, LockInfo, Provider, ProviderError, Record, Snapshot, Traffic,
};

/// One of the supported backends. There is one per run, so the size difference between
/// variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyProvider {
    /// Kong Admin API.
    Kong(Kong),
    /// HAProxy runtime API.
    Haproxy(Haproxy),
    /// Traefik REST provider.
    Traefik(Traefik),
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyProvider::Kong($p) => $e,
            AnyProvider::Haproxy($p) => $e,
            AnyProvider::Traefik($p) => $e,
        }
    };
}

impl Provider for AnyProvider {
    fn describe(&self) -> String {
        each!(self, p => p.describe())
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        each!(self, p => p.snapshot().await)
    }

    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        each!(self, p => p.setup_changes(snap))
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        each!(self, p => p.apply(change).await)
    }

    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        each!(self, p => p.traffic_calls(snap, to, record))
    }

    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        each!(self, p => p.set_traffic(snap, to, record).await)
    }

    fn achieved_split(
        &self,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        each!(self, p => p.achieved_split(stable, canary, percent))
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        each!(self, p => p.write_record(record).await)
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        each!(self, p => p.probe_targets(env))
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        each!(self, p => p.lock(me, force).await)
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        each!(self, p => p.unlock(me).await)
    }

    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        each!(self, p => p.cleanup(snap).await)
    }
}
