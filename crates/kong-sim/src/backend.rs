//! A small upstream app for demos and tests: names itself in the body and `X-Backend` (unless
//! told not to, like real apps: [`Backend::set_named`]),
//! has `/health` and Prometheus `/metrics`, and can be told at runtime to fail health checks
//! or to answer a share of requests with 500.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::server::{self, full, Body, Conn};

/// How to start a [`Backend`].
#[derive(Clone, Debug)]
pub struct BackendConfig {
    /// Name used in the body (`<name>\n`), `X-Backend` and the metrics' `color` label.
    pub name: String,
    /// Where to listen; default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Share (0.0–1.0) of normal requests answered with 500.
    pub error_rate: f64,
    /// Added before answering each normal request.
    pub latency: Duration,
}

impl BackendConfig {
    /// Defaults: `127.0.0.1:0`, no errors, no latency.
    pub fn new(name: &str) -> Self {
        BackendConfig {
            name: name.to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            error_rate: 0.0,
            latency: Duration::ZERO,
        }
    }
}

struct State {
    name: String,
    healthy: AtomicBool,
    /// Whether answers carry `X-Backend` (real apps do not).
    named: AtomicBool,
    error_rate_bits: AtomicU64,
    latency: Duration,
    by_code: Mutex<BTreeMap<u16, u64>>,
    total: AtomicU64,
}

impl State {
    fn error_rate(&self) -> f64 {
        f64::from_bits(self.error_rate_bits.load(Ordering::Relaxed))
    }

    fn set_error_rate(&self, rate: f64) {
        self.error_rate_bits
            .store(rate.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }
}

/// A running backend. Dropping it or [`Backend::shutdown`] stops it.
pub struct Backend {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Backend {
    /// Bind and start serving.
    pub async fn start(config: BackendConfig) -> io::Result<Backend> {
        let listener = server::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            name: config.name,
            healthy: AtomicBool::new(true),
            named: AtomicBool::new(true),
            error_rate_bits: AtomicU64::new(0),
            latency: config.latency,
            by_code: Mutex::new(BTreeMap::new()),
            total: AtomicU64::new(0),
        });
        state.set_error_rate(config.error_rate);
        let (stop, stopped) = watch::channel(false);
        let for_handler = state.clone();
        let handler: server::Handler =
            Arc::new(move |req, conn| Box::pin(handle(for_handler.clone(), req, conn)));
        let task = server::spawn(listener, handler, stopped);
        Ok(Backend {
            addr,
            state,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Make `/health` answer 200 (`true`) or 503 (`false`).
    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::Relaxed);
    }

    pub fn set_error_rate(&self, rate: f64) {
        self.state.set_error_rate(rate);
    }

    /// Stop (`false`) or start sending `X-Backend` with each answer, like an app that does
    /// not identify itself. The body still names the backend.
    pub fn set_named(&self, named: bool) {
        self.state.named.store(named, Ordering::Relaxed);
    }

    /// Normal requests served (not `/health`, `/metrics` or `/_sim/*`).
    pub fn request_count(&self) -> u64 {
        self.state.total.load(Ordering::Relaxed)
    }

    /// Stop listening and drop open connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn text(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full("")))
}

async fn handle(state: Arc<State>, req: Request<Incoming>, _conn: Conn) -> Response<Body> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    match (method.as_str(), path.as_str()) {
        ("GET" | "HEAD", "/health") => {
            return if state.healthy.load(Ordering::Relaxed) {
                text(200, "ok\n".into())
            } else {
                text(503, "unhealthy\n".into())
            };
        }
        ("GET", "/metrics") => {
            let mut out = String::from(
                "# HELP app_requests_total Requests served, by status code.\n# TYPE app_requests_total counter\n",
            );
            for (code, n) in state.by_code.lock().unwrap().iter() {
                let _ = writeln!(
                    out,
                    "app_requests_total{{color=\"{}\",code=\"{code}\"}} {n}",
                    state.name
                );
            }
            return Response::builder()
                .header("content-type", "text/plain; version=0.0.4")
                .body(full(out))
                .unwrap_or_else(|_| Response::new(full("")));
        }
        ("PUT", "/_sim/health") => {
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return match value["healthy"].as_bool() {
                Some(h) => {
                    state.healthy.store(h, Ordering::Relaxed);
                    text(204, String::new())
                }
                None => text(400, "expected {\"healthy\":bool}\n".into()),
            };
        }
        ("PUT", "/_sim/error-rate") => {
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return match value["rate"].as_f64() {
                Some(rate) => {
                    state.set_error_rate(rate);
                    text(204, String::new())
                }
                None => text(400, "expected {\"rate\":number}\n".into()),
            };
        }
        _ => {}
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let rate = state.error_rate();
    let code: u16 = if rate > 0.0 && rand::random::<f64>() < rate {
        500
    } else {
        200
    };
    state.total.fetch_add(1, Ordering::Relaxed);
    *state.by_code.lock().unwrap().entry(code).or_default() += 1;
    let mut resp = Response::builder()
        .status(code)
        .header("content-type", "text/plain; charset=utf-8")
        .header("x-backend-path", path.as_str());
    if state.named.load(Ordering::Relaxed) {
        resp = resp.header("x-backend", state.name.as_str());
    }
    resp.body(full(format!("{}\n", state.name)))
        .unwrap_or_else(|_| Response::new(full("")))
}
