//! What traffic goes to: the Kong service and routes, and the environments (sides) a release
//! moves traffic between — Kong upstreams and targets, HAProxy/Traefik servers, Kubernetes
//! Deployments and selectors.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ContourInclude;

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

/// A Kong route, identified by its `name` or, for a route created without one (seed 000's
/// `POST /services/{s}/routes` with hosts only), by its `id`: Kong answers `/routes/{x}` for
/// either, so a plan can adopt an unnamed route as it is (`bgctl init` writes such a plan)
/// instead of creating a named duplicate beside it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RouteSpec {
    /// Route name (unique in Kong). Optional when `id` is given.
    #[serde(default)]
    pub name: String,
    /// Kong's id of an existing route (a UUID), for a route that has no name.
    #[serde(default)]
    pub id: Option<String>,
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

impl RouteSpec {
    /// How Kong is asked for this route (`/routes/{key}`): its `id` when given, else its name.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }

    /// The route as messages name it: `name`, or `id <uuid>` for an unnamed one.
    pub fn label(&self) -> String {
        match (&self.id, self.name.is_empty()) {
            (Some(id), true) => format!("id {id}"),
            _ => self.name.clone(),
        }
    }
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
    /// Value(s) of `verify.header` that identify this side in proxy responses: one string or
    /// a list (a side whose targets name themselves differently). Default: the environment's
    /// name. A prefix match, so `blue` matches `blue-1`. Setting it asks for identity-based
    /// verification: bgctl then refuses to start when the live side's answers do not carry it.
    #[serde(default)]
    pub identity: Option<super::Identity>,
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
