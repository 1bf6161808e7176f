//! The DB-less lock: the same `<service>.bgctl-lock` upstream and tags as with a database
//! ([`super::lock`]), kept in every node's declarative configuration.
//!
//! There is no compare-and-swap on `/config`, so the test-and-set is: read every node's
//! configuration; refuse (a conflict, which the shared protocol re-reads and judges) when the
//! lock is not what was read before — any lock for a take, another version for a renewal or a
//! break; push the configuration with only the lock row changed to every node; wait
//! [`SETTLE`]; read every node back and count the write as done only when every node shows
//! this run's claim (a release is done when every push was answered).
//!
//! **The race that remains.** Run B reads before run A's push lands and pushes after A's
//! read-back: both pushes "succeed", B's overwrote A's, and A believes it holds the lock until
//! it checks again. A checks before every traffic write (the engine's fence reads the lock on
//! every node), so A stops there with exit 5 — unless B's push lands in the moment between A's
//! fence read and A's own push. The window is the time one run takes from reading the nodes to
//! its push landing (one round trip plus building the document), at the start of a rollout.
//!
//! Expiry is judged on node 1's clock: the lock row's `updated_at`, which the node stamps
//! when it loads a configuration whose lock row has none (bgctl drops it on every lock write),
//! against the `Date` of node 1's answer.

use std::time::Duration;

use serde_json::Value;

use super::dbless::Nodes;
use super::lock::{parse, tags};
use super::Kong;
use crate::providers::lock::{self, Claim, LockStore, Stored};
use crate::providers::write::Written;
use crate::providers::ProviderError;

/// How long after a lock push the nodes are read back.
pub const SETTLE: Duration = Duration::from_millis(100);

/// The lock in the configurations of [`Kong`]'s DB-less nodes.
pub(super) struct ConfigLock<'a> {
    pub(super) kong: &'a Kong,
}

impl ConfigLock<'_> {
    fn name(&self) -> &str {
        &self.kong.lock_name
    }

    /// Every node's lock row, as one comparable version.
    fn version(&self, nodes: &Nodes) -> String {
        let rows: Vec<Option<&Value>> =
            nodes.docs.iter().map(|d| d.doc.lock(self.name())).collect();
        Value::from(
            rows.into_iter()
                .map(|r| r.cloned().unwrap_or(Value::Null))
                .collect::<Vec<_>>(),
        )
        .to_string()
    }

    fn run_ids(&self, nodes: &Nodes) -> Vec<Option<String>> {
        nodes
            .docs
            .iter()
            .map(|d| d.doc.lock(self.name()).map(|up| parse(up).0.run_id))
            .collect()
    }

    /// The test-and-set described in the module docs: `expect` is the version read before
    /// (`None`: no lock anywhere), `claim` what to write (`None`: remove the lock).
    async fn swap(
        &self,
        expect: Option<&String>,
        claim: Option<&Claim>,
    ) -> Result<Written, ProviderError> {
        {
            let _one_at_a_time = self.kong.push.lock().await;
            let nodes = self.kong.read_nodes().await?;
            let held = nodes.docs.iter().any(|d| d.doc.lock(self.name()).is_some());
            match expect {
                None if held => return Ok(Written::Conflict),
                Some(v) if *v != self.version(&nodes) => return Ok(Written::Conflict),
                _ => {}
            }
            let tags = match claim {
                Some(c) => Some(tags(&self.dated(c).await?)),
                None => None,
            };
            let want: Vec<_> = nodes
                .docs
                .iter()
                .map(|d| {
                    let mut doc = d.doc.clone();
                    doc.set_lock(self.name(), tags.clone());
                    doc
                })
                .collect();
            match self.kong.push_docs(&nodes, &want, None).await {
                Ok(()) => {}
                Err(ProviderError::NotApplied(why)) => {
                    return Ok(Written::Unknown(ProviderError::NotApplied(why)))
                }
                Err(ProviderError::Kong(e)) if e.answer_lost() => {
                    return Ok(Written::Unknown(ProviderError::Kong(e)))
                }
                Err(e) => return Err(e),
            }
        }
        let Some(c) = claim else {
            // A release: every push was answered; whoever locks next is not this run's
            // business, so there is nothing to wait for.
            return Ok(Written::Done);
        };
        tokio::time::sleep(SETTLE).await;
        let back = self.run_ids(&self.kong.read_nodes().await?);
        let done = back
            .iter()
            .all(|r| r.as_deref() == Some(c.info.run_id.as_str()));
        Ok(if done {
            Written::Done
        } else {
            Written::Conflict
        })
    }

    /// `claim` dated by node 1's clock (its `lock-expires` tag), when the node sends a `Date`.
    async fn dated(&self, claim: &Claim) -> Result<Claim, ProviderError> {
        Ok(match self.kong.client.server_time().await? {
            Some(now) => Claim {
                info: crate::providers::LockInfo {
                    expires: now.saturating_add(claim.ttl),
                    ..claim.info.clone()
                },
                ttl: claim.ttl,
                at: now,
            },
            None => claim.clone(),
        })
    }
}

impl LockStore for ConfigLock<'_> {
    /// Every node's lock row.
    type Version = String;

    async fn read(&self) -> Result<Option<Stored<String>>, ProviderError> {
        let nodes = self.kong.read_nodes().await?;
        let Some(up) = nodes.docs.iter().find_map(|d| d.doc.lock(self.name())) else {
            return Ok(None);
        };
        let (info, ttl) = parse(up);
        Ok(Some(Stored {
            info,
            ttl,
            written: up
                .get("updated_at")
                .and_then(Value::as_f64)
                .map(|t| t as u64),
            version: self.version(&nodes),
        }))
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        Ok(self
            .kong
            .client
            .server_time()
            .await?
            .unwrap_or_else(lock::unix_now))
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        self.swap(None, Some(claim)).await
    }

    async fn replace(&self, version: &String, claim: &Claim) -> Result<Written, ProviderError> {
        self.swap(Some(version), Some(claim)).await
    }

    async fn delete(&self, version: &String) -> Result<Written, ProviderError> {
        self.swap(Some(version), None).await
    }
}
