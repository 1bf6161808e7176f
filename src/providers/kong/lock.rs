//! The Kong lock's storage: an upstream named `<service>.bgctl-lock`. Kong's unique-name
//! constraint makes `POST /upstreams` an atomic create (409 when it exists); the holder's
//! details are its tags (`bgctl.lock-holder=…`, `lock-run`, `lock-since`, `lock-expires`, and
//! `lock-ttl`, which an older bgctl ignores). A renewal `PATCH`es the tags of the upstream by
//! id, which moves its `updated_at`; breaking someone else's lock deletes the upstream by id
//! and creates it again, so of two runs breaking it only one gets it, and a lock someone
//! re-created meanwhile (a new id) is never deleted. Expiry: `updated_at` (Kong 3.3+) against
//! the `Date` of Kong's answer; without `updated_at`, the recorded expiry against that `Date` —
//! and that expiry is itself computed from Kong's `Date` read just before the write, so no
//! runner's clock enters the judgement either way.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::client::{urlencode, KongClient};
use super::{tag_map, tag_safe, MANAGED, TAG_PREFIX};
use crate::providers::lock::{self, Claim, LockStore, Stored};
use crate::providers::write::Written;
use crate::providers::{LockInfo, ProviderError};

/// The tags of a lock upstream for `claim`.
pub fn tags(claim: &Claim) -> Vec<String> {
    let me = &claim.info;
    vec![
        MANAGED.to_string(),
        format!("{TAG_PREFIX}lock-holder={}", tag_safe(&me.holder)),
        format!("{TAG_PREFIX}lock-run={}", me.run_id),
        format!("{TAG_PREFIX}lock-since={}", me.since),
        format!("{TAG_PREFIX}lock-expires={}", me.expires),
        format!("{TAG_PREFIX}lock-ttl={}", claim.ttl),
    ]
}

/// The lock an upstream describes and its lifetime (`lock-ttl`, else `expires - since` as the
/// current release writes it).
pub fn parse(up: &Value) -> (LockInfo, u64) {
    let tags = tag_map(up);
    let num = |k: &str| tags.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
    let info = LockInfo {
        holder: tags
            .get("lock-holder")
            .cloned()
            .unwrap_or_else(|| "unknown".into()),
        run_id: tags.get("lock-run").cloned().unwrap_or_default(),
        since: num("lock-since"),
        expires: num("lock-expires"),
    };
    let ttl = tags
        .get("lock-ttl")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| info.expires.saturating_sub(info.since));
    (info, ttl)
}

/// The lock upstream of one service.
pub struct LockUpstream<'a> {
    /// The Admin API.
    pub client: &'a KongClient,
    /// The upstream's name.
    pub name: &'a str,
}

impl LockUpstream<'_> {
    /// `claim` dated by Kong's clock (its `lock-expires` tag), when Kong sends a `Date`.
    async fn dated(&self, claim: &Claim) -> Result<Claim, ProviderError> {
        Ok(match self.client.server_time().await? {
            Some(now) => Claim {
                info: LockInfo {
                    expires: now.saturating_add(claim.ttl),
                    ..claim.info.clone()
                },
                ttl: claim.ttl,
                at: now,
            },
            None => claim.clone(),
        })
    }

    async fn post(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let claim = &self.dated(claim).await?;
        let body = json!({"name": self.name, "tags": tags(claim)});
        match self
            .client
            .write(Method::POST, "/upstreams", Some(&body), true)
            .await
        {
            Ok(_) => Ok(Written::Done),
            Err(e) if e.status() == Some(StatusCode::CONFLICT) => Ok(Written::Conflict),
            Err(e) if e.answer_lost() => Ok(Written::Unknown(e.into())),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete_id(&self, id: &str) -> Result<Written, ProviderError> {
        match self
            .client
            .write(
                Method::DELETE,
                &format!("/upstreams/{}", urlencode(id)),
                None,
                true,
            )
            .await
        {
            Ok(_) => Ok(Written::Done),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(Written::Done),
            Err(e) if e.answer_lost() => Ok(Written::Unknown(e.into())),
            Err(e) => Err(e.into()),
        }
    }
}

/// `updated_at` (integer seconds on upstreams), when Kong keeps it.
fn updated_at(up: &Value) -> Option<u64> {
    up.get("updated_at").and_then(Value::as_u64)
}

impl LockStore for LockUpstream<'_> {
    /// The upstream's id.
    type Version = String;

    async fn read(&self) -> Result<Option<Stored<String>>, ProviderError> {
        let Some(up) = self
            .client
            .get(&format!("/upstreams/{}", urlencode(self.name)))
            .await?
        else {
            return Ok(None);
        };
        let (info, ttl) = parse(&up);
        Ok(Some(Stored {
            info,
            ttl,
            written: updated_at(&up),
            version: up
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(self.name)
                .to_string(),
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
        self.post(claim).await
    }

    async fn replace(&self, id: &String, claim: &Claim) -> Result<Written, ProviderError> {
        let cur = self
            .client
            .get(&format!("/upstreams/{}", urlencode(id)))
            .await?;
        let Some(cur) = cur else {
            return Ok(Written::Conflict);
        };
        if parse(&cur).0.run_id == claim.info.run_id {
            // A renewal: the tags change, `updated_at` moves.
            let body = json!({"tags": tags(&self.dated(claim).await?)});
            return match self
                .client
                .write(
                    Method::PATCH,
                    &format!("/upstreams/{}", urlencode(id)),
                    Some(&body),
                    true,
                )
                .await
            {
                Ok(_) => Ok(Written::Done),
                Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(Written::Conflict),
                Err(e) if e.answer_lost() => Ok(Written::Unknown(e.into())),
                Err(e) => Err(e.into()),
            };
        }
        match self.delete_id(id).await? {
            Written::Done => self.post(claim).await,
            other => Ok(other),
        }
    }

    async fn delete(&self, id: &String) -> Result<Written, ProviderError> {
        self.delete_id(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_the_current_release_format_reads() {
        let me = LockInfo {
            holder: "ann@laptop, a/b pid 7".into(),
            run_id: "r1".into(),
            since: 100,
            expires: 160,
        };
        let claim = Claim::at(&me, 130);
        let up = json!({"tags": tags(&claim)});
        let (info, ttl) = parse(&up);
        assert_eq!(info.holder, "ann@laptop- a-b pid 7");
        assert_eq!((info.since, info.expires, ttl), (100, 190, 60));
        // Written by the current release: no `lock-ttl`.
        let old = json!({"tags": [
            "managed-by-bgctl", "bgctl.lock-holder=x pid 1", "bgctl.lock-run=r",
            "bgctl.lock-since=100", "bgctl.lock-expires=1000"
        ]});
        assert_eq!(parse(&old).1, 900);
    }
}
