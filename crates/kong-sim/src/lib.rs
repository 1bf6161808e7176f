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
mod errors;
mod faults;
mod log;
mod proxy;
mod schema;
mod server;
mod store;

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
    /// How long after an Admin API write the data plane starts using it.
    pub propagation_delay: Duration,
    pub admin_addr: SocketAddr,
    pub proxy_addr: SocketAddr,
    pub control_addr: SocketAddr,
}

impl Default for SimConfig {
    fn default() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        SimConfig {
            version: "3.9.0".into(),
            db_less: false,
            admin_token: None,
            propagation_delay: Duration::ZERO,
            admin_addr: any,
            proxy_addr: any,
            control_addr: any,
        }
    }
}

/// A running simulator. Dropping it or calling [`KongSim::shutdown`] stops every listener.
pub struct KongSim {
    admin_addr: SocketAddr,
    proxy_addr: SocketAddr,
    control_addr: SocketAddr,
    log: log::RequestLog,
    faults: Faults,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl KongSim {
    /// Bind the admin, proxy and control listeners and start serving.
    pub async fn start(config: SimConfig) -> io::Result<KongSim> {
        let admin_listener = server::bind(config.admin_addr)?;
        let proxy_listener = server::bind(config.proxy_addr)?;
        let control_listener = server::bind(config.control_addr)?;
        let admin_addr = admin_listener.local_addr()?;
        let proxy_addr = proxy_listener.local_addr()?;
        let control_addr = control_listener.local_addr()?;

        let log = log::RequestLog::default();
        let faults = Faults::default();
        let dp = Arc::new(proxy::DataPlane::new(
            config.propagation_delay,
            &config.version,
        ));
        let admin = Arc::new(admin::Admin {
            ver: schema::Ver::parse(&config.version),
            db_less: config.db_less,
            token: config.admin_token.clone(),
            node_id: uuid::Uuid::new_v4().to_string(),
            db: Mutex::new(store::Db::default()),
            log: log.clone(),
            faults: faults.clone(),
            dp: dp.clone(),
            config_hash: Mutex::new(None),
            listeners: Mutex::new((admin_addr.to_string(), proxy_addr.to_string())),
            total_requests: AtomicU64::new(0),
        });
        let control = Arc::new(control::Control {
            log: log.clone(),
            faults: faults.clone(),
        });

        let (stop, stopped) = watch::channel(false);
        let admin_handler: server::Handler =
            Arc::new(move |req, conn| Box::pin(admin.clone().handle(req, conn)));
        let proxy_handler: server::Handler =
            Arc::new(move |req, conn| Box::pin(dp.clone().handle(req, conn)));
        let control_handler: server::Handler =
            Arc::new(move |req, conn| Box::pin(control.clone().handle(req, conn)));
        let tasks = vec![
            server::spawn(admin_listener, admin_handler, stopped.clone()),
            server::spawn(proxy_listener, proxy_handler, stopped.clone()),
            server::spawn(control_listener, control_handler, stopped),
        ];
        Ok(KongSim {
            admin_addr,
            proxy_addr,
            control_addr,
            log,
            faults,
            stop,
            tasks,
        })
    }

    /// `http://127.0.0.1:PORT` of the Admin API.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// `http://127.0.0.1:PORT` of the data plane.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy_addr)
    }

    /// `http://127.0.0.1:PORT` of the control port.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// Admin API requests in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.all()
    }

    pub fn clear_requests(&self) {
        self.log.clear();
    }

    /// Handle on the fault table (cheap clone).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Stop all listeners and drop open connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
