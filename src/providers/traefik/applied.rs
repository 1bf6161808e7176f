//! **A 200 proves nothing**: after every PUT, poll Traefik's own view of the router and
//! services (and the owned header and mirror routes, [`super::routes`]) until what bgctl wrote
//! is live and `enabled`, and report Traefik's error text when it took the configuration but
//! did not enable it.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{server_urls, sorted, Traefik, TraefikError};
use crate::providers::ProviderError;

impl Traefik {
    /// Everything that must be live for `config` (a document from [`Traefik::config`]), or
    /// why it is not yet.
    pub(super) async fn check_applied(
        &self,
        config: &Value,
    ) -> Result<Result<(), String>, ProviderError> {
        let weights = &self.weights_in(config);
        let mut errors = Vec::new();
        let mut pending = Vec::new();
        let svc_name = format!("{}@rest", self.service);
        match self.get(&format!("/api/http/services/{svc_name}")).await? {
            None => pending.push(format!("service `{svc_name}` does not exist yet")),
            Some(svc) => {
                let live: HashMap<String, u64> = svc["weighted"]["services"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        (
                            s["name"]
                                .as_str()
                                .unwrap_or_default()
                                .split('@')
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                            s["weight"].as_u64().unwrap_or(1),
                        )
                    })
                    .collect();
                let want: HashMap<String, u64> = self
                    .envs
                    .iter()
                    .map(|e| {
                        (
                            e.lb.clone(),
                            weights.iter().find(|w| w.0 == e.name).map_or(0, |w| w.1),
                        )
                    })
                    .collect();
                if live == want {
                    status_of(&svc, &svc_name, &mut errors);
                } else {
                    pending.push(format!("`{svc_name}` has weights {live:?}, want {want:?}"));
                }
            }
        }
        for e in &self.envs {
            let name = format!("{}@rest", e.lb);
            match self.get(&format!("/api/http/services/{name}")).await? {
                None => pending.push(format!("service `{name}` does not exist yet")),
                Some(lb) => {
                    let want: Vec<String> = e.servers.iter().map(|s| s.0.clone()).collect();
                    if sorted(server_urls(&lb)) == sorted(want) {
                        status_of(&lb, &name, &mut errors);
                    } else {
                        pending.push(format!("`{name}` does not have the plan's servers yet"));
                    }
                }
            }
        }
        let router_name = format!("{}@rest", self.router_name);
        match self
            .get(&format!("/api/http/routers/{router_name}"))
            .await?
        {
            None => pending.push(format!("router `{router_name}` does not exist yet")),
            Some(r) => {
                let service = r["service"].as_str().unwrap_or_default();
                if r["rule"].as_str() == Some(self.router.rule.as_str())
                    && service.split('@').next() == Some(self.service.as_str())
                {
                    status_of(&r, &router_name, &mut errors);
                } else {
                    pending.push(format!(
                        "router `{router_name}` does not have the plan's rule yet"
                    ));
                }
            }
        }
        let owned = self.read_owned().await?;
        let differs = Self::owned_pending(&owned.owned, &self.owned_in(config));
        if differs.is_empty() {
            errors.extend(owned.errors);
        }
        pending.extend(differs);
        if pending.is_empty() && !errors.is_empty() {
            return Err(TraefikError::Rejected(errors.join("; ")).into());
        }
        if pending.is_empty() {
            Ok(Ok(()))
        } else {
            pending.extend(errors);
            Ok(Err(pending.join("; ")))
        }
    }

    /// Polls until `config` is live and enabled, or the apply timeout.
    pub(super) async fn wait_applied(&self, config: &Value) -> Result<(), ProviderError> {
        let stop = Instant::now() + self.apply_timeout;
        loop {
            match self.check_applied(config).await? {
                Ok(()) => return Ok(()),
                Err(detail) if Instant::now() >= stop => {
                    return Err(TraefikError::NotApplied {
                        timeout: self.apply_timeout,
                        detail,
                    }
                    .into())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }
}

pub(super) fn status_of(obj: &Value, name: &str, errors: &mut Vec<String>) {
    let status = obj["status"].as_str().unwrap_or("unknown");
    let text: Vec<String> = match &obj["error"] {
        Value::Array(a) => a
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    if status != "enabled" || !text.is_empty() {
        errors.push(format!(
            "`{name}` is {status}{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {}", text.join(", "))
            }
        ));
    }
}
