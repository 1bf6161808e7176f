//! A thin JSON client over `kube`: every object bgctl touches is handled as a
//! [`DynamicObject`] of a known [`Kind`], so built-in kinds and custom resources (HTTPRoute,
//! HTTPProxy, VirtualService) go through one code path and are never strategic-merge-patched.
//!
//! The connection is made lazily on the first call: the kubeconfig named in the plan, else
//! `KUBECONFIG`/`~/.kube/config` with the plan's context, else in-cluster configuration
//! (`Config::infer`). Exec credential plugins and token refresh come with kube. Errors are
//! flattened into [`KubeError`] with the API server's status code, reason and message, so the
//! renderer never prints kube's own nested error chain.

use crate::deadline::Deadline;
use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::Value;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// One request's time limit (the run's deadline may be shorter).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a read is tried in all before its failure is returned.
const READ_TRIES: usize = 3;
/// The pause before the second try of a read (doubled before the third).
const READ_BACKOFF: Duration = Duration::from_millis(200);

/// A Kubernetes kind bgctl reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Resource plural.
    pub plural: &'static str,
}

/// `v1` Service.
pub const SERVICE: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
};
/// `apps/v1` Deployment.
pub const DEPLOYMENT: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
};
/// `coordination.k8s.io/v1` Lease.
pub const LEASE: Kind = Kind {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
};
/// Gateway API `HTTPRoute`.
pub const HTTP_ROUTE: Kind = Kind {
    group: "gateway.networking.k8s.io",
    version: "v1",
    kind: "HTTPRoute",
    plural: "httproutes",
};
/// Contour `HTTPProxy`.
pub const HTTP_PROXY: Kind = Kind {
    group: "projectcontour.io",
    version: "v1",
    kind: "HTTPProxy",
    plural: "httpproxies",
};
/// Istio `VirtualService`.
pub const VIRTUAL_SERVICE: Kind = Kind {
    group: "networking.istio.io",
    version: "v1",
    kind: "VirtualService",
    plural: "virtualservices",
};
/// Istio `DestinationRule`.
pub const DESTINATION_RULE: Kind = Kind {
    group: "networking.istio.io",
    version: "v1",
    kind: "DestinationRule",
    plural: "destinationrules",
};

impl Kind {
    /// `apps/v1`, `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    /// The REST path of an object (or of the collection when `name` is `None`).
    pub fn path(&self, ns: &str, name: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match name {
            Some(n) => format!("{base}/namespaces/{ns}/{}/{n}", self.plural),
            None => format!("{base}/namespaces/{ns}/{}", self.plural),
        }
    }

    /// `deployment/blue`-style display name.
    pub fn display(&self, name: &str) -> String {
        format!("{}/{name}", self.kind.to_lowercase())
    }
}

/// A Kubernetes API failure, flattened for one clear message.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("cannot load the Kubernetes configuration: {detail}")]
    Config {
        /// What went wrong.
        detail: String,
    },
    /// The API server answered with an error status.
    #[error("{verb} {what}: {code} {reason}: {message}")]
    Api {
        /// `GET`, `PATCH`, …
        verb: &'static str,
        /// `service/myapp`.
        what: String,
        /// HTTP status.
        code: u16,
        /// Status reason (`NotFound`, `Conflict`, `Invalid`, …).
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The request did not get an answer.
    #[error("{verb} {what}: cannot reach the Kubernetes API server: {detail}")]
    Transport {
        /// `GET`, `PATCH`, …
        verb: &'static str,
        /// `service/myapp`.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// The run's deadline (or the request timeout) passed.
    #[error("{verb} {what}: no answer before the deadline")]
    Deadline {
        /// `GET`, `PATCH`, …
        verb: &'static str,
        /// `service/myapp`.
        what: String,
    },
}

impl KubeError {
    /// The HTTP status of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// 409 `Conflict` (a stale resourceVersion), not `AlreadyExists`.
    pub fn is_conflict(&self) -> bool {
        matches!(self, KubeError::Api { code: 409, reason, .. } if reason != "AlreadyExists")
    }

    /// 409 `AlreadyExists`.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, KubeError::Api { reason, .. } if reason == "AlreadyExists")
    }

    /// A failure a repeat may not meet: a 5xx or 429 answer, or no answer at all (the deadline
    /// aside).
    pub fn is_transient(&self) -> bool {
        matches!(self, KubeError::Transport { .. })
            || self.code().is_some_and(|c| c == 429 || c >= 500)
    }

    /// Whether the request's outcome is unknown and worth a repeat: a transient failure, or no
    /// answer before a request timed out (a passed run deadline fails the repeat at once). A
    /// read is simply sent again; a write is read back first (it may have landed).
    pub fn outcome_unknown(&self) -> bool {
        self.is_transient() || matches!(self, KubeError::Deadline { .. })
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    /// What a person can do about this failure, in the plan's terms; `status` is the command
    /// that shows the live state.
    pub fn hint(&self, status: &str) -> String {
        match self {
            KubeError::Config { .. } => "set `KUBECONFIG`, `provider.kubernetes.kubeconfig` or `--context`; nothing was changed".into(),
            // A write whose connection failed may have been carried out (the answer was lost).
            KubeError::Transport { verb: verb @ ("POST" | "PUT" | "PATCH" | "DELETE"), what, .. } => format!(
                "check that the cluster in the kubeconfig is reachable; the {verb} of {what} may have been carried out before the connection failed: run `{status}` to see the live state"
            ),
            KubeError::Transport { .. } => "check that the cluster in the kubeconfig is reachable; nothing was changed".into(),
            KubeError::Deadline { .. } => "raise `--timeout` or check why the API server is slow".into(),
            KubeError::Api { code: 401 | 403, .. } => "the API server refused the credentials or the RBAC role lacks a verb; see README § Kubernetes".into(),
            KubeError::Api { .. } => format!("run `{status}` to see the live state"),
        }
    }

    fn from_kube(verb: &'static str, what: String, e: kube::Error) -> KubeError {
        match e {
            kube::Error::Api(s) => KubeError::Api {
                verb,
                what,
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            other => KubeError::Transport {
                verb,
                what,
                detail: first_line(&other),
            },
        }
    }
}

/// The error chain in one line, without the repetitions of kube's messages (which interpolate
/// their source): each cause is kept only if the messages before it do not already say it.
fn first_line(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let msg = s.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        src = s.source();
    }
    parts.join(": ")
}

/// Where to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnSpec {
    /// kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// Context.
    pub context: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// One request's time limit (default [`REQUEST_TIMEOUT`]).
    pub request_timeout: Option<Duration>,
}

struct Conn {
    client: Client,
    ns: String,
    server: String,
}

/// The client for one run.
pub struct KubeClient {
    spec: ConnSpec,
    deadline: Option<Deadline>,
    conn: OnceCell<Conn>,
}

impl KubeClient {
    /// A client that connects on first use; requests stop at `deadline`.
    pub fn new(spec: ConnSpec, deadline: Option<Deadline>) -> KubeClient {
        KubeClient {
            spec,
            deadline,
            conn: OnceCell::new(),
        }
    }

    /// An already-built client (tests, in-process simulators).
    pub fn with_client(client: Client, ns: &str) -> KubeClient {
        let cell = OnceCell::new();
        let _ = cell.set(Conn {
            client,
            ns: ns.to_string(),
            server: "in-process".into(),
        });
        KubeClient {
            spec: ConnSpec::default(),
            deadline: None,
            conn: cell,
        }
    }

    /// `https://server namespace ns` once connected, else what the plan says.
    pub fn describe(&self) -> String {
        match self.conn.get() {
            Some(c) => format!("kubernetes {} namespace {}", c.server, c.ns),
            None => format!(
                "kubernetes context {} namespace {}",
                self.spec.context.as_deref().unwrap_or("(current)"),
                self.spec
                    .namespace
                    .as_deref()
                    .unwrap_or("(context default)")
            ),
        }
    }

    /// The namespace in use (known once connected).
    pub fn namespace(&self) -> String {
        self.conn
            .get()
            .map(|c| c.ns.clone())
            .or_else(|| self.spec.namespace.clone())
            .unwrap_or_else(|| "default".into())
    }

    async fn conn(&self) -> Result<&Conn, KubeError> {
        self.conn.get_or_try_init(|| connect(&self.spec)).await
    }

    async fn api(&self, kind: &Kind) -> Result<Api<DynamicObject>, KubeError> {
        let c = self.conn().await?;
        Ok(Api::namespaced_with(
            c.client.clone(),
            &c.ns,
            &kind.resource(),
        ))
    }

    async fn bounded<T>(
        &self,
        verb: &'static str,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, KubeError> {
        let limit = Instant::now() + self.spec.request_timeout.unwrap_or(REQUEST_TIMEOUT);
        let until = self.deadline.as_ref().map_or(limit, |d| d.get().min(limit));
        match tokio::time::timeout_at(until, fut).await {
            Ok(r) => r.map_err(|e| KubeError::from_kube(verb, what.to_string(), e)),
            Err(_) => Err(KubeError::Deadline {
                verb,
                what: what.to_string(),
            }),
        }
    }

    /// Runs a read again after a failure a repeat may not meet ([`KubeError::is_transient`], or
    /// one request's timeout while the run has time left): reads change nothing, so repeating
    /// them is always safe. [`READ_TRIES`] tries in all, with a short pause between them.
    async fn read_retrying<T, F, Fut>(&self, mut read: F) -> Result<T, KubeError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, KubeError>>,
    {
        let mut pause = READ_BACKOFF;
        for _ in 1..READ_TRIES {
            match read().await {
                Err(e) if e.outcome_unknown() => {
                    let run_ends = self.deadline.as_ref().map(Deadline::get);
                    if run_ends.is_some_and(|d| Instant::now() + pause >= d) {
                        return Err(e);
                    }
                    tracing::debug!("read failed ({e}); trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                other => return other,
            }
        }
        read().await
    }

    /// The API server's clock: the `Date` header of its answer to `GET /version`, in Unix
    /// seconds; `None` when the answer has none. Lock expiry is judged by it
    /// (`providers::lock`).
    pub async fn server_time(&self) -> Result<Option<u64>, KubeError> {
        let c = self.conn().await?;
        let resp = self
            .bounded("GET", "/version", async {
                let req = http::Request::get("/version")
                    .body(kube::client::Body::empty())
                    .map_err(kube::Error::HttpError)?;
                c.client.send(req).await
            })
            .await?;
        Ok(resp
            .headers()
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs()))
    }

    /// GET; `None` when it does not exist. Retried like every read ([`Self::read_retrying`]).
    pub async fn get(&self, kind: &Kind, name: &str) -> Result<Option<Value>, KubeError> {
        let api = self.api(kind).await?;
        let what = kind.display(name);
        let obj = self
            .read_retrying(|| self.bounded("GET", &what, api.get_opt(name)))
            .await?;
        Ok(obj.map(to_json))
    }

    /// GET of an object in namespace `ns` (e.g. a child HTTPProxy another namespace holds);
    /// `None` when it does not exist.
    pub async fn get_in(
        &self,
        kind: &Kind,
        ns: &str,
        name: &str,
    ) -> Result<Option<Value>, KubeError> {
        let c = self.conn().await?;
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), ns, &kind.resource());
        let what = format!("{} in namespace {ns}", kind.display(name));
        let obj = self
            .read_retrying(|| self.bounded("GET", &what, api.get_opt(name)))
            .await?;
        Ok(obj.map(to_json))
    }

    /// Every object of `kind` in the namespace (`bgctl init` looks for the Deployments a
    /// Service selects), at most 500: one page, retried like every read.
    pub async fn list(&self, kind: &Kind) -> Result<Vec<Value>, KubeError> {
        let api = self.api(kind).await?;
        let what = format!("{} list", kind.plural);
        let params = kube::api::ListParams::default().limit(500);
        let list = self
            .read_retrying(|| self.bounded("LIST", &what, api.list(&params)))
            .await?;
        Ok(list.items.into_iter().map(to_json).collect())
    }

    /// POST.
    pub async fn create(&self, kind: &Kind, body: &Value) -> Result<Value, KubeError> {
        let api = self.api(kind).await?;
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        let obj = from_json(kind, body)?;
        let out = self
            .bounded(
                "POST",
                &kind.display(name),
                api.create(&PostParams::default(), &obj),
            )
            .await?;
        Ok(to_json(out))
    }

    /// PATCH with `application/merge-patch+json` (RFC 7386). Put `metadata.resourceVersion` in
    /// the patch to make it conditional.
    pub async fn merge_patch(
        &self,
        kind: &Kind,
        name: &str,
        patch: &Value,
    ) -> Result<Value, KubeError> {
        let api = self.api(kind).await?;
        let out = self
            .bounded(
                "PATCH",
                &kind.display(name),
                api.patch(name, &PatchParams::default(), &Patch::Merge(patch)),
            )
            .await?;
        Ok(to_json(out))
    }

    /// PUT (the body's `metadata.resourceVersion` is the precondition).
    pub async fn replace(&self, kind: &Kind, name: &str, body: &Value) -> Result<Value, KubeError> {
        let api = self.api(kind).await?;
        let obj = from_json(kind, body)?;
        let out = self
            .bounded(
                "PUT",
                &kind.display(name),
                api.replace(name, &PostParams::default(), &obj),
            )
            .await?;
        Ok(to_json(out))
    }

    /// DELETE, optionally only if the object still has `resource_version`. A missing object
    /// counts as deleted.
    pub async fn delete(
        &self,
        kind: &Kind,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<(), KubeError> {
        let api = self.api(kind).await?;
        let dp = DeleteParams {
            preconditions: resource_version.map(|rv| Preconditions {
                resource_version: Some(rv.to_string()),
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match self
            .bounded("DELETE", &kind.display(name), api.delete(name, &dp))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

async fn connect(spec: &ConnSpec) -> Result<Conn, KubeError> {
    let config_err = |e: &dyn std::error::Error| KubeError::Config {
        detail: first_line(e),
    };
    let opts = KubeConfigOptions {
        context: spec.context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut config = if let Some(path) = &spec.kubeconfig {
        let kc = Kubeconfig::read_from(path).map_err(|e| KubeError::Config {
            detail: format!("{}: {}", path.display(), first_line(&e)),
        })?;
        Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| config_err(&e))?
    } else if spec.context.is_some() {
        Config::from_kubeconfig(&opts)
            .await
            .map_err(|e| config_err(&e))?
    } else {
        Config::infer().await.map_err(|e| config_err(&e))?
    };
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(spec.request_timeout.unwrap_or(REQUEST_TIMEOUT));
    config.reset_reader_on_write = true;
    let ns = spec
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    // The client policy of `crate::http` on kube's stack: a redirect is an error naming its
    // `Location`, every body is capped (kube collects bodies whole; a 1 GiB answer took 2 GiB).
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| config_err(&e))?
        .with_layer(&tower::util::MapResultLayer::new(crate::http::kube_answer))
        .build();
    Ok(Conn { client, ns, server })
}

fn to_json(obj: DynamicObject) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

fn from_json(kind: &Kind, body: &Value) -> Result<DynamicObject, KubeError> {
    let mut body = body.clone();
    body["apiVersion"] = Value::String(kind.api_version());
    body["kind"] = Value::String(kind.kind.to_string());
    serde_json::from_value(body).map_err(|e| KubeError::Config {
        detail: format!("cannot encode a {}: {e}", kind.kind),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_core_and_group_kinds() {
        assert_eq!(
            SERVICE.path("shop", Some("web")),
            "/api/v1/namespaces/shop/services/web"
        );
        assert_eq!(
            HTTP_ROUTE.path("shop", Some("web")),
            "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web"
        );
        assert_eq!(DEPLOYMENT.api_version(), "apps/v1");
    }
}
