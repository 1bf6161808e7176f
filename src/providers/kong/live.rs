//! Reading Kong's live state for one plan: the service, its routes, the environments' and the
//! mixed upstreams with their targets, and the lock upstream; and which side the service's
//! `host` sends traffic to (an environment's upstream, the mixed upstream at its targets'
//! weights, or something bgctl does not know).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::Value;

use super::client::{urlencode, KongError};
use super::Kong;
use crate::providers::{Record, Traffic};

/// What a snapshot read, kept in [`crate::providers::Live`] for the writes planned from it.
#[derive(Debug, Default, Clone)]
pub(super) struct Live {
    pub(super) service: Option<Value>,
    pub(super) routes: HashMap<String, Option<Value>>,
    pub(super) upstreams: HashMap<String, Option<Value>>,
    pub(super) targets: HashMap<String, Vec<Value>>,
    /// The bgctl-owned header routes and their service ([`super::routes`]).
    pub(super) owned: super::routes::Owned,
}

impl Kong {
    pub(super) async fn read_live(&self) -> Result<Live, KongError> {
        let svc_path = format!("/services/{}", urlencode(&self.service.name));
        let service = self.client.get(&svc_path).await?;
        // Traffic is read from `host`: a service without one is not an answer to work from.
        if let Some(svc) = &service {
            if svc.get("host").and_then(Value::as_str).is_none() {
                return Err(KongError::Unexpected {
                    method: Method::GET,
                    path: svc_path,
                    detail: "a service without a string `host`".into(),
                });
            }
        }
        let mut live = Live {
            service,
            ..Live::default()
        };
        for r in &self.service.routes {
            live.routes.insert(
                r.key().to_string(),
                self.client
                    .get(&format!("/routes/{}", urlencode(r.key())))
                    .await?,
            );
        }
        let mut names: Vec<&str> = self.envs.iter().map(|e| e.upstream.as_str()).collect();
        names.push(&self.mixed);
        for name in names {
            let up = self
                .client
                .get(&format!("/upstreams/{}", urlencode(name)))
                .await?;
            if up.is_some() {
                live.targets.insert(
                    name.to_string(),
                    self.client
                        .list(&format!("/upstreams/{}/targets", urlencode(name)))
                        .await?,
                );
            }
            live.upstreams.insert(name.to_string(), up);
        }
        live.upstreams.insert(
            self.lock_name.clone(),
            self.client
                .get(&format!("/upstreams/{}", urlencode(&self.lock_name)))
                .await?,
        );
        live.owned = Box::pin(self.read_owned(&live)).await?;
        Ok(live)
    }

    pub(super) fn traffic_of(&self, live: &Live, record: &Record) -> Traffic {
        let Some(svc) = &live.service else {
            return Traffic::Missing;
        };
        let host = svc.get("host").and_then(Value::as_str).unwrap_or_default();
        if let Some(env) = self.envs.iter().find(|e| e.upstream == host) {
            return Traffic::Env {
                env: env.name.clone(),
            };
        }
        if host == self.mixed {
            let (stable, canary) = (
                record.stable.clone().unwrap_or_default(),
                record.canary.clone().unwrap_or_default(),
            );
            let (mut c, mut total) = (0u64, 0u64);
            let canary_targets: Vec<&str> = self
                .env(&canary)
                .map(|e| e.targets.iter().map(|t| t.0.as_str()).collect())
                .unwrap_or_default();
            for t in live.targets.get(&self.mixed).into_iter().flatten() {
                let w = t.get("weight").and_then(Value::as_u64).unwrap_or(0);
                total += w;
                if canary_targets
                    .contains(&t.get("target").and_then(Value::as_str).unwrap_or_default())
                {
                    c += w;
                }
            }
            let percent = if total == 0 {
                0.0
            } else {
                100.0 * c as f64 / total as f64
            };
            return Traffic::Split {
                stable,
                canary,
                percent,
            };
        }
        Traffic::Foreign {
            target: host.to_string(),
        }
    }
}
