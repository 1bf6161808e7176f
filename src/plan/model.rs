//! The plan's data model: what a `bgctl.dev/v1` `Rollout` file may contain.
//!
//! These types are the contract with users. They derive `JsonSchema` so `bgctl schema` and the
//! unknown-key suggestions come from the same source. Unknown keys are not rejected by serde
//! here (that would stop at the first one); the loader collects every unknown key with
//! `serde_ignored` and reports them all. Numbers that Kong restricts (weights) are read as
//! wide integers so the semantic pass can report them with their key path instead of serde
//! failing on the first overflow.

use std::time::Duration;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::analysis::condition::Condition;

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
}

/// Rollout identity.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Metadata {
    /// The rollout's name (letters, digits, `-`, `.`, `_`).
    pub name: String,
}

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
    /// Headers sent on every Admin API call (e.g. `Kong-Admin-Token`). Values are never printed.
    #[serde(default)]
    pub headers: IndexMap<String, Secret>,
    /// The proxy (data plane) URL; when set, bgctl verifies traffic through it.
    #[serde(default)]
    pub proxy_url: Option<String>,
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

/// The Kong service and its routes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Kong service name.
    pub name: String,
    /// Upstream request path prefix (the service `path`).
    #[serde(default)]
    pub path: Option<String>,
    /// `http` (default) or `https`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Routes attached to the service.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

/// A Kong route.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RouteSpec {
    /// Route name (unique in Kong).
    pub name: String,
    /// Host names the route matches.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Path prefixes the route matches.
    #[serde(default)]
    pub paths: Vec<String>,
    /// HTTP methods the route matches.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Strip the matched path prefix (Kong default `true`).
    #[serde(default)]
    pub strip_path: Option<bool>,
}

/// One side of the release.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Environment {
    /// Kong: upstream name (a hostname: no IP, no port).
    #[serde(default)]
    pub upstream: Option<String>,
    /// Kong: the side's targets (`host:port`, default port 8000 as in Kong).
    #[serde(default)]
    pub targets: Vec<TargetSpec>,
    /// HAProxy and Traefik: the side's servers.
    #[serde(default)]
    pub servers: Vec<ServerSpec>,
    /// Kubernetes: the side's Deployment.
    #[serde(default)]
    pub deployment: Option<String>,
    /// Kubernetes: the labels that select this side's pods (a Service selector).
    #[serde(default)]
    pub selector: IndexMap<String, String>,
    /// Kubernetes: a Deployment manifest bgctl applies (create or converge) before the switch.
    #[serde(default)]
    pub manifest: Option<String>,
    /// Kubernetes: the side's backend Service (HTTPRoute `backendRefs`, HTTPProxy `services`,
    /// Istio destination `host`).
    #[serde(default)]
    pub service: Option<String>,
    /// Kubernetes/Istio: the DestinationRule subset of this side.
    #[serde(default)]
    pub subset: Option<String>,
    /// Kubernetes/Contour: the child HTTPProxy the root HTTPProxy (`contour.httpProxy`)
    /// includes while this side is live (blue-green by switching the root's `includes`).
    #[serde(default)]
    pub include: Option<ContourInclude>,
    /// Value of `verify.header` that identifies this side in proxy responses
    /// (default: the environment's name; a prefix match, so `blue` matches `blue-1`).
    #[serde(default)]
    pub identity: Option<String>,
}

/// A target of an upstream.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TargetSpec {
    /// `host[:port]`.
    pub target: String,
    /// 0–65535, default 100.
    #[serde(default = "default_weight")]
    pub weight: i64,
}

/// A server of an HAProxy backend (`name`, optional `address`) or of a Traefik
/// load-balancer service (`url`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServerSpec {
    /// HAProxy: the server's name in the backend.
    #[serde(default)]
    pub name: Option<String>,
    /// HAProxy: `ip:port`; needed only when bgctl must add the server.
    #[serde(default)]
    pub address: Option<String>,
    /// Traefik: the server's URL, e.g. `http://127.0.0.1:18082`.
    #[serde(default)]
    pub url: Option<String>,
    /// HAProxy: 0–256, default 100. Traefik: default 1.
    #[serde(default)]
    pub weight: Option<i64>,
}

fn default_weight() -> i64 {
    100
}

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

/// Data-plane verification settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Verify {
    /// Response header naming the side that answered (default `X-Backend`).
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

/// The release strategy. Exactly one key must be set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Strategy {
    /// All traffic moves at once.
    #[serde(default)]
    pub blue_green: Option<BlueGreen>,
    /// Traffic moves in weighted steps.
    #[serde(default)]
    pub canary: Option<Canary>,
}

/// Blue-green settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BlueGreen {
    /// The environment `plan apply` makes live.
    pub active_environment: String,
    /// Checks that must pass before the switch.
    #[serde(default)]
    pub pre_promotion_analysis: Option<AnalysisRef>,
    /// Checks that must pass after the switch; a failure rolls back.
    #[serde(default)]
    pub post_promotion_analysis: Option<AnalysisRef>,
}

/// Canary settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Canary {
    /// The environment serving now.
    pub stable: String,
    /// The environment being released.
    pub canary: String,
    /// Steps run in order.
    pub steps: Vec<CanaryStep>,
    /// Data-plane check after each `setWeight` (needs `proxyUrl`).
    #[serde(default)]
    pub verify: Option<Verify>,
    /// Background analysis for the whole canary.
    #[serde(default)]
    pub analysis: Option<BackgroundAnalysis>,
    /// Name of the bgctl-owned mixed upstream (default `<canary upstream>.bgctl-canary`).
    #[serde(default)]
    pub mixed_upstream: Option<String>,
    /// Delay before the mixed upstream is deleted after promotion (default `2s`).
    #[serde(default)]
    pub cleanup_delay: Option<Dur>,
}

/// One canary step: exactly one key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CanaryStep {
    /// Canary share of traffic in percent, 0–100.
    #[serde(default)]
    pub set_weight: Option<f64>,
    /// Timed pause (`{duration: 2m}`) or manual gate (`{}`).
    #[serde(default)]
    pub pause: Option<Pause>,
    /// Checks that must pass to continue.
    #[serde(default)]
    pub analysis: Option<AnalysisRef>,
}

/// A pause; without `duration` it is a manual gate.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Pause {
    /// How long to wait.
    #[serde(default)]
    pub duration: Option<Dur>,
}

/// A list of named checks.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AnalysisRef {
    /// Names from the plan's `checks`.
    pub checks: Vec<String>,
}

/// Background analysis over the canary.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BackgroundAnalysis {
    /// Names from the plan's `checks`.
    pub checks: Vec<String>,
    /// Index of the step after which the analysis starts (default 0).
    #[serde(default)]
    pub start_after_step: Option<usize>,
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

    /// The data-plane URL of whichever provider the plan uses (`None` when not set).
    pub fn proxy_url(&self) -> Option<&str> {
        self.kong()
            .and_then(|k| k.proxy_url.as_deref())
            .or_else(|| self.haproxy().and_then(|h| h.proxy_url.as_deref()))
            .or_else(|| self.traefik().and_then(|t| t.proxy_url.as_deref()))
    }

    /// The lock lifetime of whichever provider the plan uses (default 15 minutes).
    pub fn lock_ttl(&self) -> Duration {
        self.kong()
            .and_then(|k| k.lock_ttl)
            .or_else(|| self.haproxy().and_then(|h| h.lock_ttl))
            .or_else(|| self.traefik().and_then(|t| t.lock_ttl))
            .or_else(|| self.kubernetes().and_then(|k| k.lock_ttl))
            .map_or(Duration::from_mins(15), |d| d.0)
    }
}
