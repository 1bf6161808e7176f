//! kube-sim: a fake Kubernetes API server for bgctl's tests.
//!
//! It owns just enough of the API server to be faithful for the objects a blue-green/canary
//! release touches — Services, Deployments (with a test-driven stand-in for the Deployment
//! controller), Leases, Ingresses, Gateway API HTTPRoutes, Contour HTTPProxies and Istio
//! VirtualServices/DestinationRules — plus the Namespaces and discovery documents real clients
//! such as `kubectl` need. Writes follow the generic registry's rules (one global
//! resourceVersion, generation on spec changes, optimistic concurrency, `kind: Status` errors).
//! Tests drive it in-process ([`KubeSim::start`]) or as the `kube-sim serve` binary, and steer it
//! with fault injection, a race hook, Deployment behaviours and a request log.
//!
//! What is not modelled is listed in the crate README.

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod conn;
mod controller;
mod discovery;
mod faults;
mod http;
mod openapi;
mod patch;
mod resources;
pub mod route_eval;
mod selector;
mod status;
mod store;

pub use faults::{FaultAction, FaultRule, Faults};

use store::{Store, Target};

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free one. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Deployments become ready (or stall, or fail) this long after they are created or their
    /// spec changes. `None`: only when a test calls [`KubeSim::tick`].
    pub ready_after: Option<Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ready_after: None,
        }
    }
}

/// What the simulated Deployment controller does with one Deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeploymentBehavior {
    /// All replicas become updated, ready and available (`NewReplicaSetAvailable`).
    #[default]
    Ready,
    /// The new generation is observed and updated, but no replica becomes available.
    Stall,
    /// Like `Stall`, and `Progressing=False` with reason `ProgressDeadlineExceeded`.
    Fail,
}

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedRequest {
    /// `GET`, `PATCH`, …
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The request's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// The HTTP status answered — or, for a lost answer, the status it would have had; 0 for
    /// a request whose connection was reset before it was carried out.
    pub status: u16,
    /// The connection was reset instead of answering (`Reset` and `LoseAnswer` faults).
    pub aborted: bool,
}

impl LoggedRequest {
    /// The request body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

pub(crate) struct Inner {
    pub store: Mutex<Store>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub faults: Faults,
    pub shutdown: watch::Sender<bool>,
    pub addr: SocketAddr,
    pub ready_after: Option<Duration>,
}

/// A running simulator. Dropping it stops the server too; [`KubeSim::shutdown`] waits for it.
pub struct KubeSim {
    inner: Arc<Inner>,
    server: Option<JoinHandle<()>>,
    controller: Option<JoinHandle<()>>,
}

impl KubeSim {
    /// Bind, seed the standard namespaces (`default`, `kube-system`, `kube-public`,
    /// `kube-node-lease`) and serve.
    pub async fn start(cfg: SimConfig) -> std::io::Result<KubeSim> {
        let listener = TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, _) = watch::channel(false);
        let mut store = Store::default();
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            store.ensure_namespace(ns);
        }
        let inner = Arc::new(Inner {
            store: Mutex::new(store),
            log: Mutex::new(Vec::new()),
            faults: Faults::default(),
            shutdown,
            addr,
            ready_after: cfg.ready_after,
        });
        let app = http::router(inner.clone());
        let mut stop = inner.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<conn::ConnHandle>();
            let graceful =
                axum::serve(conn::Listener(listener), app).with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                });
            if let Err(e) = graceful.await {
                tracing::error!("kube-sim server stopped: {e}");
            }
        });
        let controller = cfg.ready_after.map(|delay| {
            let inner = inner.clone();
            let period = (delay / 4).clamp(Duration::from_millis(5), Duration::from_millis(50));
            tokio::spawn(async move {
                let mut stop = inner.shutdown.subscribe();
                let mut every = tokio::time::interval(period);
                loop {
                    tokio::select! {
                        _ = every.tick() => {
                            let mut store = inner.store.lock().expect("store lock");
                            controller::reconcile(&mut store, Some(delay), false);
                        }
                        _ = stop.wait_for(|s| *s) => break,
                    }
                }
            })
        });
        tracing::info!("kube-sim listening on http://{addr}");
        Ok(KubeSim {
            inner,
            server: Some(server),
            controller,
        })
    }

    /// Where a request would go through the stored HTTPRoute, VirtualService or HTTPProxy
    /// ([`route_eval`]); `None` when the object is missing or no rule matches. Also served at
    /// `GET /debug/route/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}?method=&path=&header=Name:Value`.
    pub fn route(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        name: &str,
        req: &route_eval::Request,
    ) -> Option<route_eval::Routed> {
        let obj = self.get(api_version, kind, ns, name)?;
        route_eval::evaluate(kind, &obj, req)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The router itself, for in-process clients (e.g. `kube::Client::new(router, "default")`).
    /// It shares state, faults and the request log with the listening server.
    pub fn router(&self) -> axum::Router {
        http::router(self.inner.clone())
    }

    /// Write a kubeconfig whose current context `kube-sim` points at this server, namespace
    /// `default`, with a dummy bearer-token user.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, kubeconfig(&self.url()))
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.inner.log.lock().expect("log lock").clone()
    }

    /// Forget the request log.
    pub fn clear_requests(&self) {
        self.inner.log.lock().expect("log lock").clear();
    }

    /// The stored object, rendered in `api_version`. `ns` is ignored for cluster-scoped kinds.
    pub fn get(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let (r, version) = resources::by_kind(api_version, kind)?;
        let t = Target {
            r,
            version,
            ns: ns.to_string(),
        };
        let store = self.inner.store.lock().expect("store lock");
        store.get(&t, name).map(|o| Store::render(r, &t.version, o))
    }

    /// Seed or overwrite an object directly, as another client would (bumps the
    /// resourceVersion; generation when the spec changes; keeps a given `status`). The
    /// namespace (`metadata.namespace`, default `default`) is created if missing.
    ///
    /// # Panics
    /// On an unknown apiVersion/kind, a missing name, or an invalid object.
    pub fn put_object(&self, obj: Value) -> Value {
        let api_version = obj["apiVersion"].as_str().unwrap_or("");
        let kind = obj["kind"].as_str().unwrap_or("");
        let (r, version) = resources::by_kind(api_version, kind)
            .unwrap_or_else(|| panic!("kube-sim does not serve {api_version} {kind}"));
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let t = Target { r, version, ns };
        self.inner
            .store
            .lock()
            .expect("store lock")
            .put_direct(&t, obj)
    }

    /// Remove an object directly (no finalizers honoured). Returns whether it existed.
    pub fn delete_object(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> bool {
        let Some((r, version)) = resources::by_kind(api_version, kind) else {
            return false;
        };
        let t = Target {
            r,
            version,
            ns: ns.to_string(),
        };
        let mut store = self.inner.store.lock().expect("store lock");
        let Some(obj) = store.get(&t, name).cloned() else {
            return false;
        };
        let mut no_finalizers = obj;
        no_finalizers["metadata"]["finalizers"] = Value::Array(Vec::new());
        store.put_direct(&t, no_finalizers);
        store.delete(&t, name, &Value::Null, false).is_ok()
    }

    /// How the Deployment controller treats `ns/name` from now on (re-evaluated on the next
    /// controller pass: after `ready_after`, or at the next [`KubeSim::tick`]).
    pub fn set_deployment_behavior(&self, ns: &str, name: &str, b: DeploymentBehavior) {
        let mut store = self.inner.store.lock().expect("store lock");
        let key = (ns.to_string(), name.to_string());
        store.behaviors.insert(key.clone(), b);
        store.pending.insert(key, std::time::Instant::now());
    }

    /// Run the Deployment controller once, now, for every Deployment.
    pub fn tick(&self) {
        let mut store = self.inner.store.lock().expect("store lock");
        controller::reconcile(&mut store, self.inner.ready_after, true);
    }

    /// Race hook: just before the next write (PUT, PATCH or DELETE, any subresource) to the
    /// object `ns/name` (any kind), kube-sim changes an annotation on it
    /// (`kube-sim/concurrent-write`), bumping its resourceVersion — so a write carrying the
    /// resourceVersion the client read gets 409 Conflict. Cluster-scoped objects use `ns = ""`.
    pub fn bump_before_next_write(&self, ns: &str, name: &str) {
        self.inner
            .store
            .lock()
            .expect("store lock")
            .bump_hooks
            .push((ns.to_string(), name.to_string()));
    }

    /// The fault-injection rules (a shared handle).
    pub fn faults(&self) -> Faults {
        self.inner.faults.clone()
    }

    /// Stop serving: in-flight requests finish, hung ones are released with 503.
    pub async fn shutdown(mut self) {
        let _ = self.inner.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(c) = self.controller.take() {
            c.abort();
        }
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        let _ = self.inner.shutdown.send(true);
        if let Some(s) = self.server.take() {
            s.abort();
        }
        if let Some(c) = self.controller.take() {
            c.abort();
        }
    }
}

/// A kubeconfig for `server` (context `kube-sim`, namespace `default`, a dummy token).
pub fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-sim
  cluster:
    server: {server}
contexts:
- name: kube-sim
  context:
    cluster: kube-sim
    namespace: default
    user: kube-sim
current-context: kube-sim
preferences: {{}}
users:
- name: kube-sim
  user:
    token: kube-sim-dummy-token
"
    )
}
