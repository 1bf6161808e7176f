//! The data plane: a snapshot of the configuration that lags Admin API writes by the
//! propagation delay (like a Kong node polling its database), Kong's router for the simple
//! cases, smooth weighted round-robin (nginx style) over targets, and forwarding.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::header_match::HeaderRule;
use crate::server::{full, Body, Conn};
use crate::store::Db;

/// A compiled, immutable view of the configuration.
#[derive(Default)]
pub(crate) struct Snapshot {
    routes: Vec<RouteEntry>,
    services: HashMap<String, ServiceEntry>,
    upstreams: HashMap<String, UpstreamEntry>,
}

struct RouteEntry {
    hosts: Vec<String>,
    paths: Vec<String>,
    methods: Vec<String>,
    headers: Vec<HeaderRule>,
    strip_path: bool,
    preserve_host: bool,
    regex_priority: i64,
    created_at: f64,
    service: Option<String>,
}

struct ServiceEntry {
    host: String,
    port: u16,
    path: Option<String>,
    retries: u32,
    read_timeout: Duration,
}

pub(crate) struct UpstreamEntry {
    pub(crate) id: String,
    pub(crate) host_header: Option<String>,
    /// (target id, host, port, weight)
    pub(crate) targets: Vec<(String, String, u16, u32)>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Snapshot {
    pub(crate) fn build(db: &Db) -> Snapshot {
        let mut snap = Snapshot::default();
        for svc in db.services.values() {
            let id = svc["id"].as_str().unwrap_or_default().to_string();
            if svc["enabled"] == json!(false) {
                continue;
            }
            snap.services.insert(
                id,
                ServiceEntry {
                    host: svc["host"].as_str().unwrap_or_default().to_string(),
                    port: svc["port"].as_u64().unwrap_or(80) as u16,
                    path: svc["path"].as_str().map(str::to_string),
                    retries: svc["retries"].as_u64().unwrap_or(5) as u32,
                    read_timeout: Duration::from_millis(
                        svc["read_timeout"].as_u64().unwrap_or(60000),
                    ),
                },
            );
        }
        for route in db.routes.values() {
            let protocols = strings(&route["protocols"]);
            if !protocols.iter().any(|p| p == "http" || p == "https") {
                continue;
            }
            let service = route["service"]["id"].as_str().map(str::to_string);
            if let Some(id) = &service {
                // A route of a disabled service is not routed at all.
                if !snap.services.contains_key(id) {
                    continue;
                }
            }
            let headers = route["headers"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| HeaderRule::new(k, &strings(v)))
                        .collect()
                })
                .unwrap_or_default();
            snap.routes.push(RouteEntry {
                hosts: strings(&route["hosts"])
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                paths: strings(&route["paths"]),
                methods: strings(&route["methods"]),
                headers,
                strip_path: route["strip_path"] != json!(false),
                preserve_host: route["preserve_host"] == json!(true),
                regex_priority: route["regex_priority"].as_i64().unwrap_or(0),
                created_at: route["created_at"].as_f64().unwrap_or(0.0),
                service,
            });
        }
        for (name, up) in db.upstream_table() {
            snap.upstreams.insert(name, up);
        }
        snap
    }
}

/// Smooth weighted round-robin state of one upstream (nginx `ngx_http_upstream_get_peer`).
#[derive(Default)]
struct Wrr {
    signature: Vec<(String, u32)>,
    current: Vec<i64>,
}

impl Wrr {
    fn pick(&mut self, peers: &[(String, u32)]) -> Option<usize> {
        if peers.is_empty() {
            return None;
        }
        if self.signature != peers {
            self.signature = peers.to_vec();
            self.current = vec![0; peers.len()];
        }
        let total: i64 = peers.iter().map(|(_, w)| i64::from(*w)).sum();
        let mut best = 0;
        for (i, (_, w)) in peers.iter().enumerate() {
            self.current[i] += i64::from(*w);
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        Some(best)
    }
}

/// Shared data-plane state.
pub(crate) struct DataPlane {
    history: Mutex<VecDeque<(Instant, Arc<Snapshot>)>>,
    /// Set by [`DataPlane::invalidate`]: the store whose current state the next request
    /// builds the snapshot from (planes without delay only).
    stale: Mutex<Option<Arc<Mutex<Db>>>>,
    delay: Duration,
    balancers: Mutex<HashMap<String, Wrr>>,
    /// Manual health marks by target id (`PUT …/healthy|unhealthy`); in memory, immediate,
    /// shared by the nodes of one store.
    health: Arc<Mutex<HashMap<String, bool>>>,
    client: Client<HttpConnector, Full<Bytes>>,
    version: String,
}

impl DataPlane {
    pub(crate) fn new(
        delay: Duration,
        version: &str,
        health: Arc<Mutex<HashMap<String, bool>>>,
    ) -> DataPlane {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let mut history = VecDeque::new();
        history.push_back((Instant::now(), Arc::new(Snapshot::default())));
        DataPlane {
            history: Mutex::new(history),
            stale: Mutex::new(None),
            delay,
            balancers: Mutex::new(HashMap::new()),
            health,
            client,
            version: version.to_string(),
        }
    }

    pub(crate) fn publish(&self, snapshot: Arc<Snapshot>) {
        let mut history = self.history.lock().unwrap();
        history.push_back((Instant::now(), snapshot));
        // Older snapshots than the one in use now are never needed again; drop them so a
        // data plane nobody asks keeps only what its delay still hides.
        Self::prune(&mut history, self.delay);
    }

    /// Whether this plane uses every write at once (no propagation delay).
    pub(crate) fn is_immediate(&self) -> bool {
        self.delay.is_zero()
    }

    /// A write changed `db` (the caller holds its lock): the next request builds the snapshot
    /// from it. Only for a plane without delay, which never serves an older state.
    pub(crate) fn invalidate(&self, db: &Arc<Mutex<Db>>) {
        *self.stale.lock().unwrap() = Some(db.clone());
    }

    /// The newest snapshot that is at least `delay` old.
    pub(crate) fn current(&self) -> Arc<Snapshot> {
        // Lock order as in a write: the store, then `stale`, then `history`; a request that
        // finds the snapshot stale waits for the store, so no request answered after a write
        // serves the state before it.
        let source = self.stale.lock().unwrap().clone();
        if let Some(source) = source {
            let db = source.lock().unwrap();
            let mut stale = self.stale.lock().unwrap();
            if stale.is_some() {
                let snapshot = Arc::new(Snapshot::build(&db));
                self.history
                    .lock()
                    .unwrap()
                    .push_back((Instant::now(), snapshot));
                *stale = None;
            }
        }
        let mut history = self.history.lock().unwrap();
        Self::prune(&mut history, self.delay);
        history[0].1.clone()
    }

    fn prune(history: &mut VecDeque<(Instant, Arc<Snapshot>)>, delay: Duration) {
        let now = Instant::now();
        let visible = history
            .iter()
            .rposition(|(t, _)| now.duration_since(*t) >= delay)
            .unwrap_or(0);
        history.drain(..visible);
    }

    fn pick(&self, up: &UpstreamEntry) -> Option<(String, u16)> {
        let health = self.health.lock().unwrap();
        let eligible: Vec<&(String, String, u16, u32)> = up
            .targets
            .iter()
            .filter(|(id, _, _, w)| *w > 0 && health.get(id).copied() != Some(false))
            .collect();
        drop(health);
        let peers: Vec<(String, u32)> = eligible.iter().map(|t| (t.0.clone(), t.3)).collect();
        let mut balancers = self.balancers.lock().unwrap();
        let index = balancers.entry(up.id.clone()).or_default().pick(&peers)?;
        let t = eligible[index];
        Some((t.1.clone(), t.2))
    }

    fn kong_error(&self, status: u16, message: &str) -> Response<Body> {
        Response::builder()
            .status(status)
            .header("content-type", "application/json; charset=utf-8")
            .header("server", format!("kong/{}", self.version))
            .body(full(json!({ "message": message }).to_string()))
            .unwrap()
    }

    pub(crate) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        conn: Conn,
    ) -> Response<Body> {
        let started = Instant::now();
        let snap = self.current();
        let (parts, body) = req.into_parts();
        let host_header = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let host = host_without_port(&host_header).to_ascii_lowercase();
        let path = parts.uri.path().to_string();
        let method = parts.method.as_str().to_string();
        let Some((route, prefix)) = find_route(&snap, &method, &host, &path, &parts.headers) else {
            return self.kong_error(404, "no Route matched with those values");
        };
        let Some(service) = route.service.as_ref().and_then(|id| snap.services.get(id)) else {
            return self.kong_error(503, "no Service found with those values");
        };
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return self.kong_error(400, "Bad request"),
        };
        let upstream_path = upstream_path(
            service.path.as_deref(),
            &path,
            prefix.filter(|_| route.strip_path),
        );
        let path_and_query = match parts.uri.query() {
            Some(q) => format!("{upstream_path}?{q}"),
            None => upstream_path,
        };
        let balancer = snap.upstreams.get(&service.host);
        let attempts = service.retries + 1;
        for _ in 0..attempts {
            let (target_host, target_port, host_for_header) = match balancer {
                Some(up) => match self.pick(up) {
                    Some((h, p)) => {
                        let hh = up.host_header.clone().unwrap_or_else(|| host_port(&h, p));
                        (h, p, hh)
                    }
                    None => {
                        return self.kong_error(503, "failure to get a peer from the ring-balancer")
                    }
                },
                None => (
                    service.host.clone(),
                    service.port,
                    host_port(&service.host, service.port),
                ),
            };
            let uri = format!(
                "http://{}{path_and_query}",
                host_port(&target_host, target_port)
            );
            let mut builder = Request::builder().method(parts.method.clone()).uri(uri);
            for (name, value) in &parts.headers {
                if !is_hop_by_hop(name.as_str()) && name != "host" {
                    builder = builder.header(name, value);
                }
            }
            let host_value = if route.preserve_host {
                host_header.clone()
            } else {
                host_for_header
            };
            builder = builder
                .header("host", host_value)
                .header("x-forwarded-for", conn.peer.ip().to_string())
                .header("x-real-ip", conn.peer.ip().to_string())
                .header("x-forwarded-proto", "http")
                .header("x-forwarded-host", host.clone())
                .header("x-forwarded-path", path.clone());
            let Ok(request) = builder.body(Full::new(body.clone())) else {
                return self.kong_error(500, "An unexpected error occurred");
            };
            let upstream_started = Instant::now();
            match tokio::time::timeout(service.read_timeout, self.client.request(request)).await {
                Err(_) => return self.kong_error(504, "The upstream server is timed out"),
                Ok(Err(e)) if e.is_connect() => {}
                Ok(Err(_)) => {
                    return self.kong_error(
                        502,
                        "An invalid response was received from the upstream server",
                    );
                }
                Ok(Ok(resp)) => {
                    let upstream_ms = upstream_started.elapsed().as_millis();
                    let (mut rparts, rbody) = resp.into_parts();
                    let hop: Vec<_> = rparts
                        .headers
                        .keys()
                        .filter(|k| is_hop_by_hop(k.as_str()))
                        .cloned()
                        .collect();
                    for k in hop {
                        rparts.headers.remove(k);
                    }
                    let extra = [
                        ("via", format!("1.1 kong/{}", self.version)),
                        ("x-kong-upstream-latency", upstream_ms.to_string()),
                        (
                            "x-kong-proxy-latency",
                            (started.elapsed().as_millis().saturating_sub(upstream_ms)).to_string(),
                        ),
                    ];
                    for (k, v) in extra {
                        if let Ok(v) = v.parse() {
                            rparts.headers.insert(k, v);
                        }
                    }
                    let body: Body = rbody.map_err(Into::into).boxed();
                    return Response::from_parts(rparts, body);
                }
            }
        }
        self.kong_error(
            502,
            "An invalid response was received from the upstream server",
        )
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn host_matches(pattern: &str, host: &str) -> Option<bool> {
    let pattern = host_without_port(pattern);
    if let Some(suffix) = pattern.strip_prefix('*') {
        return (host.ends_with(suffix) && host.len() > suffix.len()).then_some(false);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return (host.starts_with(prefix) && host.len() > prefix.len()).then_some(false);
    }
    (pattern == host).then_some(true)
}

/// Pick the best matching route; returns it and the matched path prefix.
fn find_route<'a>(
    snap: &'a Snapshot,
    method: &str,
    host: &str,
    path: &str,
    headers: &http::HeaderMap,
) -> Option<(&'a RouteEntry, Option<&'a str>)> {
    type Rank = (usize, bool, usize, usize, i64, f64);
    let mut best: Option<(Rank, &RouteEntry, Option<&str>)> = None;
    for route in &snap.routes {
        let mut categories = 0;
        if !route.methods.is_empty() {
            if !route.methods.iter().any(|m| m == method) {
                continue;
            }
            categories += 1;
        }
        let mut plain_host = false;
        if !route.hosts.is_empty() {
            match route
                .hosts
                .iter()
                .filter_map(|h| host_matches(h, host))
                .max()
            {
                Some(plain) => plain_host = plain,
                None => continue,
            }
            categories += 1;
        }
        let mut prefix = None;
        if !route.paths.is_empty() {
            // Regex paths (`~…`) are not modelled: they never match.
            prefix = route
                .paths
                .iter()
                .filter(|p| !p.starts_with('~') && path.starts_with(p.as_str()))
                .max_by_key(|p| p.len())
                .map(String::as_str);
            if prefix.is_none() {
                continue;
            }
            categories += 1;
        }
        if !route.headers.is_empty() {
            if !route.headers.iter().all(|rule| rule.matches(headers)) {
                continue;
            }
            categories += 1;
        }
        // Kong's priority: match weight, plain hosts only, then the number of headers.
        let key = (
            categories,
            plain_host,
            route.headers.len(),
            prefix.map_or(0, str::len),
            route.regex_priority,
            -route.created_at,
        );
        if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
            best = Some((key, route, prefix));
        }
    }
    best.map(|(_, r, p)| (r, p))
}

/// `path_handling = v0`: service path + the request path minus the stripped prefix.
fn upstream_path(service_path: Option<&str>, request_path: &str, strip: Option<&str>) -> String {
    let rest = match strip {
        Some(prefix) => &request_path[prefix.len()..],
        None => request_path,
    };
    let base = service_path.unwrap_or("/");
    if rest.is_empty() || rest == "/" {
        if service_path.is_none() {
            return "/".into();
        }
        return base.to_string();
    }
    match (base.ends_with('/'), rest.starts_with('/')) {
        (true, true) => format!("{base}{}", &rest[1..]),
        (false, false) => format!("{base}/{rest}"),
        _ => format!("{base}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_wrr_has_no_long_runs() {
        let mut wrr = Wrr::default();
        let peers = vec![("a".to_string(), 100), ("b".to_string(), 50)];
        let picks: Vec<usize> = (0..6).map(|_| wrr.pick(&peers).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 0, 1, 0]);
        let mut count = [0; 2];
        for _ in 0..600 {
            count[wrr.pick(&peers).unwrap()] += 1;
        }
        assert_eq!(count, [400, 200]);
    }

    #[test]
    fn wrr_empty_is_none() {
        assert!(Wrr::default().pick(&[]).is_none());
    }

    #[test]
    fn paths_join_like_v0() {
        assert_eq!(upstream_path(Some("/address"), "/", None), "/address");
        assert_eq!(upstream_path(Some("/address"), "/x", None), "/address/x");
        assert_eq!(upstream_path(None, "/api/x", Some("/api")), "/x");
        assert_eq!(upstream_path(None, "/api", Some("/api")), "/");
        assert_eq!(upstream_path(Some("/s/"), "/api/x", Some("/api")), "/s/x");
    }

    #[test]
    fn wildcard_hosts() {
        assert_eq!(host_matches("*.example.com", "a.example.com"), Some(false));
        assert_eq!(host_matches("example.*", "example.org"), Some(false));
        assert_eq!(host_matches("a.test", "a.test"), Some(true));
        assert_eq!(host_matches("*.example.com", "example.com"), None);
    }
}
