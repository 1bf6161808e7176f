//! The HAProxy lock's storage for the shared protocol ([`crate::providers::lock`]).

use std::time::Duration;

use super::runtime::{ok_reply, HaproxyError};
use super::Haproxy;
use crate::providers::lock::{self, Claim, LockJson, LockStore, Stored};
use crate::providers::write::Written;
use crate::providers::{unknown_lock, LockInfo, ProviderError};

/// The lock's storage: a server `bgctl-lock.<rollout>` in the backend (`add server` refuses a
/// second one with the same name: an atomic create) and its details in a process variable.
/// HAProxy keeps no timestamp, so expiry compares the holder's recorded expiry with this
/// runner's clock ([`lock`] module docs).
pub(super) struct LockServer<'a>(pub(super) &'a Haproxy);

impl LockServer<'_> {
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
        h.run(&Haproxy::set_var_command(&h.lock_var, &LockJson::of(claim)))
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
        Ok(Some(match held {
            Some(j) => Stored {
                ttl: j.ttl(),
                info: j.info.clone(),
                written: None,
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
        Ok(lock::unix_now())
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
            h.run(&Haproxy::set_var_command(&h.lock_var, &LockJson::of(claim)))
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
