//! What measures a release: bgctl's own health probes, data-plane `verify`, analysis checks
//! (Prometheus, webhook, exec, probe traffic) with their verdict policy, and hooks.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Dur, Expr, Secret};

/// Health probes run by bgctl itself against each target of a side.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HealthCheck {
    /// HTTP probe; without it a TCP connect is the probe.
    #[serde(default)]
    pub http: Option<HttpProbeSpec>,
    /// Timeout of one probe (default `2s`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Pause between rounds (default `1s`).
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Consecutive successes for a target to count as healthy (default 2).
    #[serde(default)]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures for a target to count as unhealthy (default 2).
    #[serde(default)]
    pub unhealthy_threshold: Option<u32>,
}

/// HTTP probe details.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HttpProbeSpec {
    /// Path requested on each target (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Accepted status codes (default 200–399).
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// `http` (default) or `https`.
    #[serde(default)]
    pub scheme: Option<String>,
}

/// `identity: blue` or `identity: [app-a, app-b]`: what `verify.header` says when this side
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Identity {
    /// One value.
    One(String),
    /// Several values (any of them marks this side).
    Many(Vec<String>),
}

impl Identity {
    /// The values, in the plan's order.
    pub fn values(&self) -> Vec<String> {
        match self {
            Identity::One(v) => vec![v.clone()],
            Identity::Many(list) => list.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Identity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Identity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Identity, E> {
                Ok(Identity::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Identity, A::Error> {
                let mut list = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    list.push(v);
                }
                Ok(Identity::Many(list))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Data-plane verification settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Verify {
    /// Response header naming the side that answered (default `X-Backend`). Setting it asks
    /// for identity-based verification: bgctl then refuses to start when the live side's
    /// answers do not carry it. Without it, answers that carry no identity are verified by
    /// health only (and the output says the split was not verifiable).
    #[serde(default)]
    pub header: Option<String>,
    /// Requests per sample (default 100).
    #[serde(default)]
    pub samples: Option<u32>,
    /// Allowed difference in percentage points between observed and expected share (default 5).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// How long to keep sampling until the data plane agrees (default `30s`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Host header for the sample requests (default: the first route host).
    #[serde(default)]
    pub host: Option<String>,
    /// Path for the sample requests (default: the first route path, else `/`).
    #[serde(default)]
    pub path: Option<String>,
}

/// An analysis check: exactly one source (`prometheus`, `webhook`, `exec`, `probe`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CheckSpec {
    /// A Prometheus instant query.
    #[serde(default)]
    pub prometheus: Option<PrometheusCheck>,
    /// An HTTP call; 2xx passes unless `successCondition` is given.
    #[serde(default)]
    pub webhook: Option<WebhookSpec>,
    /// A command; exit 0 passes.
    #[serde(default)]
    pub exec: Option<ExecSpec>,
    /// Requests sent by bgctl itself.
    #[serde(default)]
    pub probe: Option<ProbeCheck>,
    /// When a measurement passes, e.g. `result < 0.01`.
    #[serde(default)]
    pub success_condition: Option<Expr>,
    /// Time between measurements (default `10s`).
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Number of measurements (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    /// Failed measurements tolerated (default 0).
    #[serde(default)]
    pub failure_limit: Option<u32>,
    /// Consecutive errors tolerated before the check fails (default 4).
    #[serde(default)]
    pub consecutive_error_limit: Option<u32>,
    /// What an empty result means: `fail` (default), `inconclusive` or `pass`.
    #[serde(default)]
    pub no_data: Option<NoDataPolicy>,
}

/// `noData` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum NoDataPolicy {
    /// Empty result fails the measurement.
    Fail,
    /// Empty result is inconclusive: the rollout pauses for a person.
    Inconclusive,
    /// Empty result passes (explicitly chosen).
    Pass,
}

/// Prometheus query.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PrometheusCheck {
    /// Prometheus base URL.
    pub url: String,
    /// PromQL instant query.
    pub query: String,
    /// Query timeout (default `10s`).
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// An HTTP call.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct WebhookSpec {
    /// URL to call.
    pub url: String,
    /// HTTP method (default `POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// Call timeout (default `10s`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Extra headers; values are never printed.
    #[serde(default)]
    pub headers: IndexMap<String, Secret>,
    /// Redirects: `never` (default; a 3xx is an error naming its `Location`) or `sameOrigin`
    /// (follow a 307/308 to the URL's own scheme, host and port, at most 5 times).
    #[serde(default)]
    pub follow_redirects: FollowRedirects,
}

/// Which redirects a webhook call follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FollowRedirects {
    /// None: the headers never go anywhere but the URL the plan names.
    #[default]
    Never,
    /// 307/308 (method and body kept) to the same origin only.
    SameOrigin,
}

/// A command.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ExecSpec {
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// Time limit (default `5m`).
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// bgctl's own traffic as a check.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ProbeCheck {
    /// `proxy` (through the data plane).
    #[serde(default)]
    pub through: Option<String>,
    /// Request path (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Number of requests (default 100).
    #[serde(default)]
    pub requests: Option<u32>,
}

/// Hooks run around traffic changes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Hooks {
    /// Before the first traffic change.
    #[serde(default)]
    pub pre_switch: Vec<HookSpec>,
    /// After the final traffic change was verified.
    #[serde(default)]
    pub post_switch: Vec<HookSpec>,
    /// After an automatic rollback.
    #[serde(default)]
    pub on_rollback: Vec<HookSpec>,
}

/// One hook: exactly one of `exec` or `webhook`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HookSpec {
    /// A command; exit 0 passes.
    #[serde(default)]
    pub exec: Option<ExecSpec>,
    /// An HTTP call; 2xx passes.
    #[serde(default)]
    pub webhook: Option<WebhookSpec>,
}
