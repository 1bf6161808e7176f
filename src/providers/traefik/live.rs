//! What bgctl reads back from Traefik: the weighted service's environment weights, each
//! environment's servers and the owned header and mirror routes ([`super::routes`]), and the
//! same figures out of a configuration document bgctl wrote (to compare the two).

use std::collections::HashMap;

use serde_json::Value;

use super::{routes, Traefik, TraefikError};
use crate::providers::{ProviderError, Snapshot};

#[derive(Debug, Clone, Default)]
pub(super) struct Live {
    /// Environment weights of the weighted service, by environment; `None` when it is missing.
    pub(super) weights: Option<HashMap<String, u64>>,
    /// Server URLs of each environment's load balancer, by environment.
    pub(super) servers: HashMap<String, Vec<String>>,
    /// The bgctl-owned header and mirror routes ([`routes`]).
    pub(super) owned: routes::Owned,
}

impl Traefik {
    /// Reads the weighted service, each environment's load balancer and the owned routes.
    pub(super) async fn read_live(&self) -> Result<Live, TraefikError> {
        let mut live = Live::default();
        if let Some(svc) = self
            .get(&format!("/api/http/services/{}@rest", self.service))
            .await?
        {
            let mut weights = HashMap::new();
            for s in svc["weighted"]["services"].as_array().into_iter().flatten() {
                let name = s["name"].as_str().unwrap_or_default();
                let name = name.split('@').next().unwrap_or_default();
                if let Some(e) = self.envs.iter().find(|e| e.lb == name) {
                    weights.insert(e.name.clone(), s["weight"].as_u64().unwrap_or(1));
                }
            }
            live.weights = Some(weights);
        }
        for e in &self.envs {
            if let Some(lb) = self
                .get(&format!("/api/http/services/{}@rest", e.lb))
                .await?
            {
                live.servers.insert(e.name.clone(), server_urls(&lb));
            }
        }
        live.owned = self.read_owned().await?.owned;
        Ok(live)
    }

    /// The live state in `snap`, or read now when the snapshot is not this provider's.
    pub(super) async fn live_of(&self, snap: &Snapshot) -> Result<Live, ProviderError> {
        Ok(match snap.live.get::<Live>() {
            Some(live) => live.clone(),
            None => self.read_live().await?,
        })
    }

    /// The environment weights a configuration document written by [`Self::config`] holds.
    pub(super) fn weights_in(&self, config: &Value) -> Vec<(String, u64)> {
        let listed = &config["http"]["services"][&self.service]["weighted"]["services"];
        self.envs
            .iter()
            .map(|e| {
                let w = listed
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|s| s["name"].as_str() == Some(e.lb.as_str()))
                    .and_then(|s| s["weight"].as_u64())
                    .unwrap_or(0);
                (e.name.clone(), w)
            })
            .collect()
    }

    pub(super) fn live_weights(&self, live: &Live) -> Vec<(String, u64)> {
        self.envs
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    live.weights
                        .as_ref()
                        .and_then(|w| w.get(&e.name).copied())
                        .unwrap_or(0),
                )
            })
            .collect()
    }
}

pub(super) fn server_urls(lb: &Value) -> Vec<String> {
    lb["loadBalancer"]["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s["url"]
                .as_str()
                .map(|u| u.trim_end_matches('/').to_string())
        })
        .collect()
}

pub(super) fn sorted(mut v: Vec<String>) -> Vec<String> {
    for s in &mut v {
        *s = s.trim_end_matches('/').to_string();
    }
    v.sort();
    v
}
