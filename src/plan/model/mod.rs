//! The plan's data model: what a `bgctl.dev/v1` `Rollout` file may contain.
//!
//! These types are the contract with users. They derive `JsonSchema` so `bgctl schema` and the
//! unknown-key suggestions come from the same source. Unknown keys are not rejected by serde
//! here (that would stop at the first one); the loader collects every unknown key with
//! `serde_ignored` and reports them all. Numbers that Kong restricts (weights) are read as
//! wide integers so the semantic pass can report them with their key path instead of serde
//! failing on the first overflow.
//!
//! Parts: this file holds the root ([`Plan`], [`Metadata`]) and the value types every part uses
//! ([`Dur`], [`Secret`], [`Expr`]); [`provider`] the `provider:` block of each backend;
//! [`backend`] which one of them a plan uses and what it can do; [`environment`] the Kong service and routes and the environments traffic moves between;
//! [`strategy`] blue-green and canary; [`routes`] the canary's header and mirror routes; [`checks`] the health check, `verify`, analysis checks
//! and hooks. Every type is re-exported here, so `plan::model::X` names any of them.

use std::time::Duration;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::analysis::condition::Condition;

mod backend;
mod checks;
mod environment;
mod provider;
mod routes;
mod strategy;

pub use backend::*;
pub use checks::*;
pub use environment::*;
pub use provider::*;
pub use routes::*;
pub use strategy::*;

/// A condition expression (see `analysis::condition`), validated when the plan loads.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Expr(#[schemars(with = "String")] pub Condition);

/// A whole rollout plan.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Plan {
    /// Always `bgctl.dev/v1`.
    pub api_version: String,
    /// Always `Rollout`.
    pub kind: String,
    /// Identifies the rollout; its name scopes the lock and the recorded state.
    pub metadata: Metadata,
    /// Where traffic is moved: exactly one provider.
    pub provider: ProviderSpec,
    /// The service whose traffic is switched (Kong service and routes).
    #[serde(default)]
    pub service: Option<ServiceSpec>,
    /// The sides of the release, by name (usually `blue` and `green`).
    pub environments: IndexMap<String, Environment>,
    /// How bgctl probes each target of a side before sending it traffic.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    /// Optional data-plane verification through `provider.*.proxyUrl`.
    #[serde(default)]
    pub verify: Option<Verify>,
    /// Named analysis checks, referenced from the strategy.
    #[serde(default)]
    pub checks: IndexMap<String, CheckSpec>,
    /// Commands and webhooks run around traffic changes.
    #[serde(default)]
    pub hooks: Hooks,
    /// Blue-green or canary.
    pub strategy: Strategy,
    /// What happens on Ctrl-C / SIGTERM during a rollout.
    #[serde(default)]
    pub on_interrupt: Option<InterruptPolicy>,
    /// Webhooks and Slack told of each transition ([`crate::notify`]).
    #[serde(default)]
    pub notifications: Vec<crate::notify::Notification>,
}

/// Rollout identity.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Metadata {
    /// The rollout's name (letters, digits, `-`, `.`, `_`).
    pub name: String,
}

/// Interrupt policy for Ctrl-C / SIGTERM during a canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum InterruptPolicy {
    /// Send all traffic back to stable (default).
    Rollback,
    /// Leave traffic where it is and record a pause.
    Pause,
}

/// A string that is never printed (header values, tokens).
#[derive(Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret value, for the HTTP layer only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

/// A duration written like `2s`, `1m30s`, `250ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim())
            .map(Dur)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration `{text}`: {e} (write e.g. `2s`, `1m30s`, `250ms`)"
                ))
            })
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl Plan {
    /// The Kong provider settings (validation guarantees one provider is set).
    pub fn kong(&self) -> Option<&KongProvider> {
        self.provider.kong.as_ref()
    }

    /// The Kubernetes provider settings, if the plan uses Kubernetes.
    pub fn kubernetes(&self) -> Option<&KubernetesProvider> {
        self.provider.kubernetes.as_ref()
    }

    /// The HAProxy provider settings, if the plan uses HAProxy.
    pub fn haproxy(&self) -> Option<&HaproxyProvider> {
        self.provider.haproxy.as_ref()
    }

    /// The Traefik provider settings, if the plan uses Traefik.
    pub fn traefik(&self) -> Option<&TraefikProvider> {
        self.provider.traefik.as_ref()
    }

    /// The (first) data-plane URL of the plan's backend (`None` when not set).
    pub fn proxy_url(&self) -> Option<&str> {
        self.proxy_urls().first().copied()
    }

    /// Every data-plane URL: Kong's `proxyUrl` then its `proxyUrls` (each once), or the other
    /// backends' `proxyUrl` ([`Backend::proxy_url`]).
    pub fn proxy_urls(&self) -> Vec<&str> {
        if let Some(k) = self.kong() {
            let mut urls: Vec<&str> = Vec::new();
            for url in k.proxy_url.iter().chain(&k.proxy_urls) {
                if !urls.contains(&url.as_str()) {
                    urls.push(url);
                }
            }
            return urls;
        }
        self.provider
            .backend()
            .ok()
            .and_then(Backend::proxy_url)
            .into_iter()
            .collect()
    }

    /// The lock lifetime of the plan's backend (default 15 minutes).
    pub fn lock_ttl(&self) -> Duration {
        self.provider
            .backend()
            .ok()
            .and_then(Backend::lock_ttl)
            .map_or(Duration::from_mins(15), |d| d.0)
    }
}
