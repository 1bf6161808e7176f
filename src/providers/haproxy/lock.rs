//! The HAProxy lock's storage for the shared protocol ([`crate::providers::lock`]).

use std::time::Duration;

use super::runtime::{ok_reply, HaproxyError};
use super::Haproxy;
use crate::providers::lock::{self, Claim, LockJson, LockStore, Stored};
use crate::providers::write::Written;
use crate::providers::{unknown_lock, LockInfo, ProviderError};

/// The lock's storage: a server `bgctl-lock.<rollout>` in the backend (`add server` refuses a
/// second one with the same name: an atomic create) and its details in a process variable.
/// HAProxy stamps nothing, so each write records HAProxy's own clock (`Uptime_sec` of `show
/// info`) in the details, and expiry is judged against that clock ([`lock`] module docs).
pub(super) struct LockServer<'a>(pub(super) &'a Haproxy);

/// `Uptime_sec` in a `show info` reply.
fn uptime_in(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix("Uptime_sec:"))
        .and_then(|v| v.trim().parse().ok())
}

impl LockServer<'_> {
    /// HAProxy's clock: seconds since its process started.
    async fn uptime(&self) -> Result<u64, ProviderError> {
        let reply = self.0.api.raw("show info").await?;
        uptime_in(&reply).ok_or_else(|| {
            ProviderError::State(format!(
                "HAProxy's `show info` has no `Uptime_sec`: {}",
                reply.lines().next().unwrap_or_default()
            ))
        })
    }

    /// The details to store for `claim`, stamped with HAProxy's clock.
    async fn details(&self, claim: &Claim) -> Result<LockJson, ProviderError> {
        Ok(LockJson {
            stamp: Some(self.uptime().await?),
            ..LockJson::of(claim)
        })
    }

    async fn add(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let h = self.0;
        let add = format!("add server {} 127.0.0.1:9 weight 0", h.srv(&h.lock_server));
        match h.api.exec(&add, ok_reply(&add)).await {
            Ok(()) => {}
            Err(HaproxyError::Refused { reply, .. }) if reply.contains("Already exists") => {
                return Ok(Written::Conflict)
            }
            Err(e) if e.outcome_unknown() => {
                // The answer was lost: read back. No lock server: the add did not land, try
                // again. One whose details name another run: that run's add came first.
                // One without details (a released lock's are cleared, see `del`): ours — the
                // one case this cannot tell apart is another runner's add landing in the
                // same few milliseconds, before it wrote its details.
                if !h
                    .read_servers()
                    .await?
                    .iter()
                    .any(|s| s.name == h.lock_server)
                {
                    return Ok(Written::Unknown(e.into()));
                }
                let details: Option<LockJson> = h.get_var(&h.lock_var).await?;
                if details.is_some_and(|j| j.info.run_id != claim.info.run_id) {
                    return Ok(Written::Conflict);
                }
            }
            Err(e) => return Err(e.into()),
        }
        let details = self.details(claim).await?;
        h.run(&Haproxy::set_var_command(&h.lock_var, &details))
            .await?;
        Ok(Written::Done)
    }

    /// Deletes the lock server, then clears its details (JSON `null`), so a later runner whose
    /// `add server` answer is lost does not mistake a released holder's details for a live one.
    /// (A runner that takes the lock in the milliseconds between the two loses its details and
    /// reads as holding a lock of unknown holder; it then fails its next renewal, loudly.)
    async fn del(&self) -> Result<(), ProviderError> {
        let h = self.0;
        let del = format!("del server {}", h.srv(&h.lock_server));
        match h.api.exec(&del, ok_reply(&del)).await {
            Ok(()) => {}
            Err(HaproxyError::Refused { reply, .. }) if reply.contains("No such server") => {}
            Err(e) if e.outcome_unknown() => {
                if !h.landed(&del).await? {
                    h.run(&del).await?;
                }
            }
            Err(e) => return Err(e.into()),
        }
        h.run(&Haproxy::set_var_command(&h.lock_var, &())).await
    }
}

impl LockStore for LockServer<'_> {
    type Version = Option<LockInfo>;

    async fn read(&self) -> Result<Option<Stored<Option<LockInfo>>>, ProviderError> {
        let h = self.0;
        let servers = h.read_servers().await?;
        if !servers.iter().any(|s| s.name == h.lock_server) {
            return Ok(None);
        }
        let mut held: Option<LockJson> = h.get_var(&h.lock_var).await?;
        if held.is_none() {
            // Taken a moment ago and its details not written yet.
            tokio::time::sleep(Duration::from_millis(100)).await;
            held = h.get_var(&h.lock_var).await?;
        }
        let written = match held.as_ref() {
            Some(LockJson { stamp: Some(s), .. }) => Some(*s),
            // Written by an older bgctl: dated once from its recorded start, on this clock.
            Some(j) => {
                let age = lock::unix_now().saturating_sub(j.info.expires.saturating_sub(j.ttl()));
                Some(self.uptime().await?.saturating_sub(age))
            }
            None => None,
        };
        Ok(Some(match held {
            Some(j) => Stored {
                ttl: j.ttl(),
                info: j.info.clone(),
                written,
                version: Some(j.info),
            },
            None => Stored {
                info: unknown_lock("the lock's details are not written", h.lock_ttl),
                ttl: h.lock_ttl,
                written: None,
                version: None,
            },
        }))
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        self.uptime().await
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        self.add(claim).await
    }

    async fn replace(
        &self,
        version: &Option<LockInfo>,
        claim: &Claim,
    ) -> Result<Written, ProviderError> {
        let h = self.0;
        let cur: Option<LockJson> = h.get_var(&h.lock_var).await?;
        if cur.map(|j| j.info) != *version {
            return Ok(Written::Conflict);
        }
        if version
            .as_ref()
            .is_some_and(|v| v.run_id == claim.info.run_id)
        {
            // A renewal: only the details change.
            let details = self.details(claim).await?;
            h.run(&Haproxy::set_var_command(&h.lock_var, &details))
                .await?;
            return Ok(Written::Done);
        }
        // Breaking someone else's: delete the server, then add it again (only one of two
        // breakers gets it).
        self.del().await?;
        self.add(claim).await
    }

    async fn delete(&self, version: &Option<LockInfo>) -> Result<Written, ProviderError> {
        let h = self.0;
        let cur: Option<LockJson> = h.get_var(&h.lock_var).await?;
        if cur.map(|j| j.info) != *version {
            return Ok(Written::Conflict);
        }
        self.del().await?;
        Ok(Written::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_read_from_show_info() {
        let info =
            "Name: HAProxy\nVersion: 2.6.12\nUptime: 0d 0h01m05s\nUptime_sec: 65\nMemmax_MB: 0\n";
        assert_eq!(uptime_in(info), Some(65));
        assert_eq!(uptime_in("Name: HAProxy\n"), None);
        assert_eq!(uptime_in("Uptime_sec: soon\n"), None);
    }
}
