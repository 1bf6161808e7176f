//! The rollout lock: a `coordination.k8s.io/v1` Lease named `<rollout>-bgctl-lock`, taken the
//! way client-go's `leaselock` does. GET it; if it does not exist, create it (a 409
//! `AlreadyExists` means someone else was faster: read again); if it is ours, expired, released
//! or being forced, PUT the object we read — it carries its `resourceVersion`, so a 409 means we
//! lost the race. `holderIdentity` is `<user@host pid N> run <id>`; `renewTime` plus
//! `leaseDurationSeconds` is the expiry; `leaseTransitions` counts changes of holder.
//! Releasing deletes the Lease with a `resourceVersion` precondition, so a Lease someone else took
//! over meanwhile is never deleted. A create or takeover that failed without a clear answer is
//! read back: if the Lease names this run, the write landed and the run holds the lock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::client::{KubeClient, KubeError, LEASE};
use crate::providers::{LockError, LockInfo, ProviderError};

/// How often a lost race is retried before giving up.
const ATTEMPTS: usize = 5;

fn micro_time(secs: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn parse_time(v: &Value) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(v.as_str()?).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
    let renew = parse_time(&spec["renewTime"])
        .or_else(|| parse_time(&spec["acquireTime"]))
        .unwrap_or(0);
    Some(LockInfo {
        holder: holder.to_string(),
        run_id: run_id.to_string(),
        since: parse_time(&spec["acquireTime"]).unwrap_or(renew),
        expires: renew + spec["leaseDurationSeconds"].as_u64().unwrap_or(0),
    })
}

fn spec_for(me: &LockInfo, transitions: u64) -> Value {
    json!({
        "holderIdentity": identity(me),
        "leaseDurationSeconds": me.expires.saturating_sub(me.since).max(1),
        "acquireTime": micro_time(me.since),
        "renewTime": micro_time(me.since),
        "leaseTransitions": transitions,
    })
}

/// Takes the Lease for `me`.
pub async fn acquire(
    client: &KubeClient,
    name: &str,
    rollout: &str,
    me: &LockInfo,
    force: bool,
) -> Result<(), LockError> {
    let provider = |e| LockError::Provider(ProviderError::Kube(e));
    // A create or takeover that failed without landing (a 5xx, a lost connection) is tried
    // again from a fresh read, like a lost race: both are conditional, so a repeat never takes
    // a Lease someone else took meanwhile.
    let mut failed: Option<KubeError> = None;
    for _ in 0..ATTEMPTS {
        let Some(mut cur) = client.get(&LEASE, name).await.map_err(provider)? else {
            let body = json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "annotations": {"bgctl.dev/owner": rollout}},
                "spec": spec_for(me, 0),
            });
            match client.create(&LEASE, &body).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_already_exists() || e.is_conflict() => continue,
                Err(e) if e.outcome_unknown() => {
                    if is_ours(client, name, me).await {
                        return Ok(());
                    }
                    failed = Some(e);
                    continue;
                }
                Err(e) => return Err(provider(e)),
            }
        };
        let held = parse(&cur);
        let transitions = cur["spec"]["leaseTransitions"].as_u64().unwrap_or(0);
        let next = match &held {
            Some(h) if h.run_id == me.run_id => return Ok(()),
            Some(h) if !force && h.expires > now() => return Err(LockError::Held(h.clone())),
            Some(h) => {
                tracing::warn!(holder = %h.holder, "taking over a {} Lease", if force { "held" } else { "expired" });
                transitions + 1
            }
            None => transitions + 1,
        };
        cur["spec"] = spec_for(me, next);
        match client.replace(&LEASE, name, &cur).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() || e.is_not_found() => {}
            Err(e) if e.outcome_unknown() => {
                if is_ours(client, name, me).await {
                    return Ok(());
                }
                failed = Some(e);
            }
            Err(e) => return Err(provider(e)),
        }
    }
    Err(match failed {
        Some(e) => provider(e),
        None => LockError::Provider(ProviderError::State(
            "the Lease kept changing hands; try again".into(),
        )),
    })
}

/// Whether the Lease now names this run: a create or takeover whose answer was lost landed, and
/// the run holds the lock (and releases it) like any other — not a Lease left behind that blocks
/// every run until it expires. A failed read counts as "no".
async fn is_ours(client: &KubeClient, name: &str, me: &LockInfo) -> bool {
    matches!(
        client.get(&LEASE, name).await,
        Ok(Some(cur)) if parse(&cur).is_some_and(|h| h.run_id == me.run_id)
    )
}

/// Pauses between tries of a release that met a server error.
const RELEASE_BACKOFF: [Duration; 2] = [Duration::from_millis(300), Duration::from_secs(1)];

/// Releases the Lease if `me` holds it. The release re-reads and deletes with a
/// `resourceVersion` precondition, so it is safe to repeat: a 5xx, 429 or lost connection is
/// tried again (three tries in all) rather than leaving the Lease to block every run until it
/// expires.
pub async fn release(client: &KubeClient, name: &str, me: &LockInfo) -> Result<(), ProviderError> {
    let mut backoff = RELEASE_BACKOFF.iter();
    loop {
        match release_once(client, name, me).await {
            Err(e) if e.outcome_unknown() => match backoff.next() {
                Some(pause) => {
                    tracing::debug!("releasing the Lease failed ({e}); trying again");
                    tokio::time::sleep(*pause).await;
                }
                None => return Err(e.into()),
            },
            other => return other.map_err(Into::into),
        }
    }
}

async fn release_once(client: &KubeClient, name: &str, me: &LockInfo) -> Result<(), KubeError> {
    for _ in 0..ATTEMPTS {
        let Some(cur) = client.get(&LEASE, name).await? else {
            return Ok(());
        };
        if parse(&cur).is_none_or(|h| h.run_id != me.run_id) {
            return Ok(());
        }
        match client
            .delete(&LEASE, name, cur["metadata"]["resourceVersion"].as_str())
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The current holder, if any and not expired-and-released.
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
        let lease = json!({"spec": spec_for(&me, 2)});
        assert_eq!(lease["spec"]["leaseDurationSeconds"], 900);
        assert!(lease["spec"]["renewTime"]
            .as_str()
            .unwrap()
            .ends_with(".000000Z"));
        assert_eq!(parse(&lease), Some(me));
        assert_eq!(parse(&json!({"spec": {"holderIdentity": ""}})), None);
    }
}
