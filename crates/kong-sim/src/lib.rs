//! kong-sim: a Kong Gateway 3.x simulator for bgctl's tests and demo.
//!
//! It serves a faithful subset of Kong's Admin API (services, routes, upstreams, targets;
//! see `shared/reference/kong-admin-api.md`), a data plane that routes by host/path/method
//! and balances with smooth weighted round-robin, a control port for the request log and
//! fault injection, and small [`Backend`] apps to stand behind it. The crate README lists
//! what is faithful and what is knowingly not modelled.

// Crate-level allows, each for a reason:
// - match_same_arms: route tables read best one path shape per row;
// - unnecessary_wraps / unused_self: Admin handlers share one `Result<Reply, ApiError>` shape;
// - unused_async: `start` is async by the published API (other crates call `.await`);
// - needless_pass_by_value: owned JSON maps flow through the write pipeline.
#![allow(
    clippy::match_same_arms,
    clippy::unnecessary_wraps,
    clippy::unused_self,
    clippy::unused_async,
    clippy::needless_pass_by_value
)]

mod admin;
mod backend;
mod control;
mod declarative;
mod errors;
mod faults;
mod header_match;
mod log;
mod proxy;
mod schema;
mod server;
mod store;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use backend::{Backend, BackendConfig};
pub use faults::{FaultAction, FaultRule, Faults};
pub use log::LoggedRequest;

/// How to start a [`KongSim`].
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Kong version to report and emulate (`2.8.x` switches the documented 2.8 differences).
    pub version: String,
    /// DB-less mode: entity writes answer 405 (code 12); `POST /config` loads everything.
    pub db_less: bool,
    /// When set, every Admin API request needs this `Kong-Admin-Token` header (else 401).
    pub admin_token: Option<String>,
    /// How long after an Admin API write the data plane of node 1 starts using it.
    pub propagation_delay: Duration,
    /// Node 1's Admin API.
    pub admin_addr: SocketAddr,
    /// Node 1's proxy.
    pub proxy_addr: SocketAddr,
    /// The control port (one for the whole simulator).
    pub control_addr: SocketAddr,
    /// Nodes 2‥N. With a database every node serves the same store, and each node's data
    /// plane sees a write only after its own delay (Kong nodes polling one Postgres, picking
    /// changes up on their own `db_update_frequency` schedule). DB-less, each node holds its
    /// own declarative configuration and nothing is shared.
    pub extra_nodes: Vec<NodeConfig>,
}

/// Where one more node listens and how far its data plane lags (see
/// [`SimConfig::extra_nodes`]).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub admin_addr: SocketAddr,
    pub proxy_addr: SocketAddr,
    pub propagation_delay: Duration,
}

fn any_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Default for SimConfig {
    fn default() -> Self {
        let any = any_addr();
        SimConfig {
            version: "3.9.0".into(),
            db_less: false,
            admin_token: None,
            propagation_delay: Duration::ZERO,
            admin_addr: any,
            proxy_addr: any,
            control_addr: any,
            extra_nodes: Vec::new(),
        }
    }
}

impl SimConfig {
    /// One node per delay, all on ephemeral ports; node `i`'s data plane lags by `delays[i]`.
    /// An empty slice gives the single default node.
    pub fn cluster(delays: &[Duration]) -> SimConfig {
        let mut config = SimConfig::default();
        if let Some((first, rest)) = delays.split_first() {
            config.propagation_delay = *first;
            config.extra_nodes = rest
                .iter()
                .map(|delay| NodeConfig {
                    admin_addr: any_addr(),
                    proxy_addr: any_addr(),
                    propagation_delay: *delay,
                })
                .collect();
        }
        config
    }

    fn nodes(&self) -> Vec<NodeConfig> {
        let first = NodeConfig {
            admin_addr: self.admin_addr,
            proxy_addr: self.proxy_addr,
            propagation_delay: self.propagation_delay,
        };
        std::iter::once(first)
            .chain(self.extra_nodes.iter().cloned())
            .collect()
    }
}

/// One node of a running simulator: its Admin API, proxy, request log and fault table.
pub struct SimNode {
    admin_addr: SocketAddr,
    proxy_addr: SocketAddr,
    log: log::RequestLog,
    faults: Faults,
}

impl SimNode {
    /// `http://127.0.0.1:PORT` of this node's Admin API.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// `http://127.0.0.1:PORT` of this node's data plane.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy_addr)
    }

    /// This node's Admin API requests in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.all()
    }

    pub fn clear_requests(&self) {
        self.log.clear();
    }

    /// Handle on this node's fault table (cheap clone).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }
}

/// A running simulator of one or more Kong nodes. Dropping it or calling
/// [`KongSim::shutdown`] stops every listener.
pub struct KongSim {
    nodes: Vec<SimNode>,
    control_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The state nodes share: one store with a database, one per node DB-less.
fn new_store() -> admin::Store {
    admin::Store {
        db: Arc::new(Mutex::new(store::Db::default())),
        config_hash: Arc::new(Mutex::new(None)),
        health: Arc::new(Mutex::new(HashMap::new())),
        planes: Arc::new(Mutex::new(Vec::new())),
    }
}

impl KongSim {
    /// Bind every node's admin and proxy listeners and the control port, and start serving.
    pub async fn start(config: SimConfig) -> io::Result<KongSim> {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut nodes = Vec::new();
        let mut controls = Vec::new();
        let shared = new_store();
        for node in config.nodes() {
            let admin_listener = server::bind(node.admin_addr)?;
            let proxy_listener = server::bind(node.proxy_addr)?;
            let admin_addr = admin_listener.local_addr()?;
            let proxy_addr = proxy_listener.local_addr()?;
            let store = if config.db_less {
                new_store()
            } else {
                shared.clone()
            };
            let dp = Arc::new(proxy::DataPlane::new(
                node.propagation_delay,
                &config.version,
                store.health.clone(),
            ));
            store.planes.lock().unwrap().push(dp.clone());
            let log = log::RequestLog::default();
            let faults = Faults::default();
            let admin = Arc::new(admin::Admin {
                ver: schema::Ver::parse(&config.version),
                db_less: config.db_less,
                token: config.admin_token.clone(),
                node_id: uuid::Uuid::new_v4().to_string(),
                store,
                log: log.clone(),
                faults: faults.clone(),
                listeners: Mutex::new((admin_addr.to_string(), proxy_addr.to_string())),
                total_requests: AtomicU64::new(0),
            });
            let admin_handler: server::Handler =
                Arc::new(move |req, conn| Box::pin(admin.clone().handle(req, conn)));
            let proxy_handler: server::Handler =
                Arc::new(move |req, conn| Box::pin(dp.clone().handle(req, conn)));
            tasks.push(server::spawn(
                admin_listener,
                admin_handler,
                stopped.clone(),
            ));
            tasks.push(server::spawn(
                proxy_listener,
                proxy_handler,
                stopped.clone(),
            ));
            controls.push((log.clone(), faults.clone()));
            nodes.push(SimNode {
                admin_addr,
                proxy_addr,
                log,
                faults,
            });
        }
        let control_listener = server::bind(config.control_addr)?;
        let control_addr = control_listener.local_addr()?;
        let control = Arc::new(control::Control { nodes: controls });
        let control_handler: server::Handler =
            Arc::new(move |req, conn| Box::pin(control.clone().handle(req, conn)));
        tasks.push(server::spawn(control_listener, control_handler, stopped));
        Ok(KongSim {
            nodes,
            control_addr,
            stop,
            tasks,
        })
    }

    /// Every node, in the order they were configured (node 1 first).
    pub fn nodes(&self) -> &[SimNode] {
        &self.nodes
    }

    /// Every node's Admin API URL, node 1 first.
    pub fn admin_urls(&self) -> Vec<String> {
        self.nodes.iter().map(SimNode::admin_url).collect()
    }

    /// Every node's proxy URL, node 1 first.
    pub fn proxy_urls(&self) -> Vec<String> {
        self.nodes.iter().map(SimNode::proxy_url).collect()
    }

    /// `http://127.0.0.1:PORT` of node 1's Admin API.
    pub fn admin_url(&self) -> String {
        self.nodes[0].admin_url()
    }

    /// `http://127.0.0.1:PORT` of node 1's data plane.
    pub fn proxy_url(&self) -> String {
        self.nodes[0].proxy_url()
    }

    /// `http://127.0.0.1:PORT` of the control port.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// Node 1's Admin API requests in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.nodes[0].requests()
    }

    pub fn clear_requests(&self) {
        self.nodes[0].clear_requests();
    }

    /// Handle on node 1's fault table (cheap clone).
    pub fn faults(&self) -> Faults {
        self.nodes[0].faults()
    }

    /// Stop all listeners and drop open connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
