//! The `provider:` block: exactly one backend (Kong, HAProxy, Traefik, Kubernetes) with its
//! connection settings, timeouts and lock lifetime, and for Kubernetes the traffic object it
//! writes (Service selector, Gateway API, Contour, Istio).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Dur, Secret};

/// The traffic backend. Exactly one key must be set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Kong Gateway through its Admin API.
    #[serde(default)]
    pub kong: Option<KongProvider>,
    /// HAProxy through its runtime API (environments are servers of one backend).
    #[serde(default)]
    pub haproxy: Option<HaproxyProvider>,
    /// Traefik through its REST provider (environments are load-balancer services).
    #[serde(default)]
    pub traefik: Option<TraefikProvider>,
    /// Kubernetes through its API server (kubeconfig, in-cluster or exec credentials).
    #[serde(default)]
    pub kubernetes: Option<KubernetesProvider>,
}

/// HAProxy runtime API connection.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HaproxyProvider {
    /// The runtime API socket: `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`
    /// (needs `level admin`).
    pub runtime_api: String,
    /// The backend whose servers are the environments.
    pub backend: String,
    /// The frontend (data plane) URL; when set, bgctl verifies traffic through it.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// Timeout of one runtime API command (default `5s`).
    #[serde(default)]
    pub request_timeout: Option<Dur>,
    /// Lock lifetime; a lock older than this is stale (default `15m`).
    #[serde(default)]
    pub lock_ttl: Option<Dur>,
}

/// Traefik REST provider connection.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TraefikProvider {
    /// Base URL of Traefik's API entry point, e.g. `http://127.0.0.1:8081`.
    pub api_url: String,
    /// Name of the weighted service bgctl owns (each environment becomes `<service>-<env>`).
    pub service: String,
    /// The router that sends requests to the service.
    pub router: TraefikRouter,
    /// The entry point (data plane) URL; when set, bgctl verifies traffic through it.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// Where the rollout record and lock are kept (Traefik keeps no unknown fields); default
    /// `$XDG_STATE_HOME/bgctl/<rollout>.json`.
    #[serde(default)]
    pub state_file: Option<String>,
    /// How long to wait for Traefik to apply a configuration (default `10s`).
    #[serde(default)]
    pub apply_timeout: Option<Dur>,
    /// Timeout of one API call (default `10s`).
    #[serde(default)]
    pub request_timeout: Option<Dur>,
    /// Lock lifetime; a lock older than this is stale (default `15m`).
    #[serde(default)]
    pub lock_ttl: Option<Dur>,
}

/// Kubernetes API connection and the traffic object. Exactly one of `service`, `gatewayApi`,
/// `contour` or `istio` names the object whose routing bgctl changes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KubernetesProvider {
    /// kubeconfig context (default: the current context; `--context` overrides it).
    #[serde(default)]
    pub context: Option<String>,
    /// Namespace of every object (default: the context's namespace, else `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster).
    #[serde(default)]
    pub kubeconfig: Option<String>,
    /// Blue-green by flipping a Service's label selector.
    #[serde(default)]
    pub service: Option<K8sServiceRef>,
    /// Weights of a Gateway API HTTPRoute's `backendRefs`.
    #[serde(default)]
    pub gateway_api: Option<GatewayApiRef>,
    /// Weights of a Contour HTTPProxy's `services` or, when the environments name an
    /// `include`, the child a root HTTPProxy's `includes` entry names.
    #[serde(default)]
    pub contour: Option<ContourRef>,
    /// Weights of an Istio VirtualService's `route` destinations.
    #[serde(default)]
    pub istio: Option<IstioRef>,
    /// Wait this long after a verified promotion before retiring the old Deployment.
    #[serde(default)]
    pub scale_down_delay: Option<Dur>,
    /// What happens to the old side's Deployment after promotion (default `keep`).
    #[serde(default)]
    pub old_deployment: Option<OldDeployment>,
    /// Lease lifetime; a lock older than this is stale (default `15m`).
    #[serde(default)]
    pub lock_ttl: Option<Dur>,
    /// Timeout of one API call (default `30s`; the run's `--timeout` may cut it shorter).
    #[serde(default)]
    pub request_timeout: Option<Dur>,
}

/// A Service whose selector is flipped.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct K8sServiceRef {
    /// Service name.
    pub name: String,
}

/// A Gateway API HTTPRoute.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GatewayApiRef {
    /// HTTPRoute name.
    pub http_route: String,
}

/// A Contour HTTPProxy: weights of its `services` (environments with `service`), or the
/// root whose `includes` entry is switched between children (environments with `include`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ContourRef {
    /// HTTPProxy name.
    pub http_proxy: String,
}

/// A child HTTPProxy of a root HTTPProxy's `spec.includes`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ContourInclude {
    /// The child HTTPProxy's name.
    pub name: String,
    /// Its namespace (default: the provider's namespace, where the root is).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// An Istio VirtualService (and the DestinationRule defining its subsets).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IstioRef {
    /// VirtualService name.
    pub virtual_service: String,
    /// DestinationRule whose subsets must include every environment's `subset`.
    #[serde(default)]
    pub destination_rule: Option<String>,
}

/// What to do with the old side's Deployment after a verified promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OldDeployment {
    /// Leave it running (rollback stays instant).
    Keep,
    /// Scale it to zero replicas (rollback needs it scaled up again).
    ScaleToZero,
    /// Delete it (seed 004's `kubectl delete deployment blue`).
    Delete,
}

/// A Traefik HTTP router.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TraefikRouter {
    /// The router's rule, e.g. ``PathPrefix(`/`)``.
    pub rule: String,
    /// Entry points the router listens on, e.g. `[web]`.
    pub entry_points: Vec<String>,
    /// Router name (default: the service name).
    #[serde(default)]
    pub name: Option<String>,
    /// Router priority (Traefik default: the rule's length).
    #[serde(default)]
    pub priority: Option<i64>,
}

/// Kong Admin API connection.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KongProvider {
    /// Base URL of the Admin API, e.g. `http://127.0.0.1:8001` (a path prefix is allowed).
    pub admin_url: String,
    /// More Admin API URLs, one per DB-less node (`adminUrl` is the first node): DB-less Kong
    /// nodes each hold their own configuration, so bgctl reads and pushes it on every one.
    /// Every node listed must report the same mode.
    #[serde(default)]
    pub admin_urls: Vec<String>,
    /// The mode the nodes must report (`GET /`); when set, a node in another mode is refused
    /// before anything is written. Without it bgctl follows what the nodes say.
    #[serde(default)]
    pub mode: Option<KongModeSpec>,
    /// Headers sent on every Admin API call (e.g. `Kong-Admin-Token`). Values are never printed.
    #[serde(default)]
    pub headers: IndexMap<String, Secret>,
    /// The proxy (data plane) URL; when set, bgctl verifies traffic through it.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// More proxy URLs, one per Kong node of a cluster: verification and `probe` checks go
    /// through every one of them (and `proxyUrl`), and a step is done only when every node
    /// serves it. Nodes sharing a database each pick changes up on their own schedule.
    #[serde(default)]
    pub proxy_urls: Vec<String>,
    /// TLS settings for an `https://` Admin API.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// Timeout of one Admin API call (default `10s`).
    #[serde(default)]
    pub request_timeout: Option<Dur>,
    /// Lock lifetime; a lock older than this is stale (default `15m`).
    #[serde(default)]
    pub lock_ttl: Option<Dur>,
}

/// How the Kong nodes of `provider.kong` run (see the README, "Kong deployment modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KongModeSpec {
    /// Nodes with a database: entity writes.
    Traditional,
    /// `database = off`: one declarative configuration per node, pushed with `POST /config`.
    Dbless,
    /// A hybrid-mode control plane (`adminUrl`); its data planes are read-only.
    Hybrid,
}

/// TLS client settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TlsSpec {
    /// PEM file with the CA(s) that sign the Admin API's certificate.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// PEM client certificate (mutual TLS).
    #[serde(default)]
    pub cert_file: Option<String>,
    /// PEM client key (mutual TLS).
    #[serde(default)]
    pub key_file: Option<String>,
    /// Skip certificate verification (a warning is printed on every run).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}
