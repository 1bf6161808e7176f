//! The rollout lock's storage: a `coordination.k8s.io/v1` Lease named
//! `<rollout>-bgctl-lock`, used the way client-go's `leaselock` does, under the shared protocol
//! of [`crate::providers::lock`]. Create it (a 409 `AlreadyExists` means someone else was
//! faster); replace it with the object that was read — it carries its `resourceVersion`, so a
//! 409 means the race was lost; delete it with a `resourceVersion` precondition, so a Lease
//! someone else took over meanwhile is never deleted. A write that failed without a clear
//! answer is read back by the protocol ([`crate::providers::write`]): if the Lease names this
//! run, the write landed.
//!
//! `holderIdentity` is `<user@host pid N> run <id>`; `acquireTime` is when the holder took it,
//! `renewTime` its last renewal (the heartbeat), `leaseDurationSeconds` its lifetime, and
//! `leaseTransitions` counts changes of holder. Expiry is `renewTime + leaseDurationSeconds`
//! against the API server's `Date`, not this runner's clock — and `renewTime` itself is the
//! API server's `Date` read just before the write (not the runner's clock, which may be an hour
//! off: its lock would then look expired, or immortal, to everyone else).

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{json, Value};

use super::client::{KubeClient, KubeError, LEASE};
use crate::providers::lock::{self, Claim, LockStore, Stored};
use crate::providers::write::Written;
use crate::providers::{LockError, LockInfo, ProviderError};

fn micro_time(secs: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn parse_time(v: &Value) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(v.as_str()?).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// `holderIdentity` for a run.
pub fn identity(me: &LockInfo) -> String {
    format!("{} run {}", me.holder, me.run_id)
}

/// The lock described by a Lease; `None` when nobody holds it (released).
pub fn parse(lease: &Value) -> Option<LockInfo> {
    let spec = &lease["spec"];
    let who = spec["holderIdentity"].as_str().unwrap_or_default();
    if who.is_empty() {
        return None;
    }
    let (holder, run_id) = who.rsplit_once(" run ").unwrap_or((who, ""));
    let renew = renew_time(lease).unwrap_or(0);
    Some(LockInfo {
        holder: holder.to_string(),
        run_id: run_id.to_string(),
        since: parse_time(&spec["acquireTime"]).unwrap_or(renew),
        expires: renew + spec["leaseDurationSeconds"].as_u64().unwrap_or(0),
    })
}

fn renew_time(lease: &Value) -> Option<u64> {
    let spec = &lease["spec"];
    parse_time(&spec["renewTime"]).or_else(|| parse_time(&spec["acquireTime"]))
}

fn spec_for(claim: &Claim, transitions: u64) -> Value {
    json!({
        "holderIdentity": identity(&claim.info),
        "leaseDurationSeconds": claim.ttl,
        "acquireTime": micro_time(claim.info.since),
        "renewTime": micro_time(claim.at),
        "leaseTransitions": transitions,
    })
}

/// One Lease.
pub struct LeaseLock<'a> {
    /// The API.
    pub client: &'a KubeClient,
    /// The Lease's name.
    pub name: &'a str,
    /// The rollout, for the `bgctl.dev/owner` annotation.
    pub rollout: &'a str,
}

impl LeaseLock<'_> {
    /// `claim` dated by the API server's clock (`renewTime`).
    async fn on_server_clock(&self, claim: &Claim) -> Result<Claim, ProviderError> {
        Ok(Claim {
            at: self.now().await?,
            ..claim.clone()
        })
    }
}

/// A write's outcome from the API server's answer.
fn written(r: Result<Value, KubeError>) -> Result<Written, ProviderError> {
    match r {
        Ok(_) => Ok(Written::Done),
        Err(e) if e.is_already_exists() || e.is_conflict() || e.is_not_found() => {
            Ok(Written::Conflict)
        }
        Err(e) if e.outcome_unknown() => Ok(Written::Unknown(e.into())),
        Err(e) => Err(e.into()),
    }
}

impl LockStore for LeaseLock<'_> {
    /// The Lease as read (its `resourceVersion` is the precondition).
    type Version = Value;

    async fn read(&self) -> Result<Option<Stored<Value>>, ProviderError> {
        let Some(lease) = self.client.get(&LEASE, self.name).await? else {
            return Ok(None);
        };
        let Some(info) = parse(&lease) else {
            // Released (no holder): free, but the object is still there to be replaced.
            return Ok(Some(Stored {
                info: LockInfo {
                    holder: String::new(),
                    run_id: String::new(),
                    since: 0,
                    expires: 0,
                },
                ttl: 0,
                written: Some(0),
                version: lease,
            }));
        };
        Ok(Some(Stored {
            ttl: lease["spec"]["leaseDurationSeconds"].as_u64().unwrap_or(0),
            written: renew_time(&lease),
            info,
            version: lease,
        }))
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        Ok(self
            .client
            .server_time()
            .await?
            .unwrap_or_else(lock::unix_now))
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let claim = &self.on_server_clock(claim).await?;
        let body = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "annotations": {"bgctl.dev/owner": self.rollout}},
            "spec": spec_for(claim, 0),
        });
        written(self.client.create(&LEASE, &body).await)
    }

    async fn replace(&self, version: &Value, claim: &Claim) -> Result<Written, ProviderError> {
        let claim = &self.on_server_clock(claim).await?;
        let mut cur = version.clone();
        let transitions = cur["spec"]["leaseTransitions"].as_u64().unwrap_or(0);
        let same = parse(&cur).is_some_and(|h| h.run_id == claim.info.run_id);
        cur["spec"] = spec_for(claim, if same { transitions } else { transitions + 1 });
        written(self.client.replace(&LEASE, self.name, &cur).await)
    }

    async fn delete(&self, version: &Value) -> Result<Written, ProviderError> {
        let rv = version["metadata"]["resourceVersion"].as_str();
        match self.client.delete(&LEASE, self.name, rv).await {
            Ok(()) => Ok(Written::Done),
            Err(e) if e.is_conflict() => Ok(Written::Conflict),
            Err(e) if e.outcome_unknown() => Ok(Written::Unknown(e.into())),
            Err(e) => Err(e.into()),
        }
    }
}

/// Takes the Lease for `me` ([`lock::take`]).
pub async fn acquire(
    client: &KubeClient,
    name: &str,
    rollout: &str,
    me: &LockInfo,
    force: bool,
) -> Result<(), LockError> {
    lock::take(
        &LeaseLock {
            client,
            name,
            rollout,
        },
        me,
        lock::Take::forced(force),
    )
    .await
}

/// Releases the Lease if `me` holds it ([`lock::release`]): re-read and delete with a
/// `resourceVersion` precondition, so it is safe to repeat after a lost answer.
pub async fn release(client: &KubeClient, name: &str, me: &LockInfo) -> Result<(), ProviderError> {
    lock::release(
        &LeaseLock {
            client,
            name,
            rollout: "",
        },
        me,
    )
    .await
}

/// The current holder, if any and not released.
pub async fn current(client: &KubeClient, name: &str) -> Result<Option<LockInfo>, ProviderError> {
    Ok(client.get(&LEASE, name).await?.as_ref().and_then(parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_round_trip() {
        let me = LockInfo {
            holder: "ann@laptop pid 7".into(),
            run_id: "abc123def456".into(),
            since: 1_800_000_000,
            expires: 1_800_000_900,
        };
        let lease = json!({"spec": spec_for(&Claim::at(&me, me.since), 2)});
        assert_eq!(lease["spec"]["leaseDurationSeconds"], 900);
        assert!(lease["spec"]["renewTime"]
            .as_str()
            .unwrap()
            .ends_with(".000000Z"));
        assert_eq!(parse(&lease), Some(me));
        assert_eq!(parse(&json!({"spec": {"holderIdentity": ""}})), None);
    }
}
