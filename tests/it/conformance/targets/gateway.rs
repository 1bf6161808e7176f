//! The real gateways, as processes the test starts on free loopback ports and kills by PID:
//! HAProxy (runtime API; a backend `app` with `blue1` at weight 100 and `green1` at 0, as its
//! configuration file says) and Traefik (REST provider, empty at start; record and lock in a
//! state file). bgctl reaches their management API through a [`FaultProxy`], which logs the
//! writes and holds or loses the answer of one; the suite reads traffic from the gateway
//! directly (HAProxy's `get weight`, Traefik's `/api/http/services`). Traefik has header
//! routes: the scenario sends its requests through Traefik's entry point and reads bgctl's
//! routers and services (`…-bgctl-…@rest`) from Traefik's API. The backends are kong-sim
//! apps; the plans verify through the gateway, which needs them to name themselves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kong_sim::{Backend, BackendConfig};

use crate::conformance::fault_proxy::{FaultProxy, Proto};
use crate::conformance::run::unique;
use crate::conformance::target::{Cap, Fault, PlanSpec, Target, Traffic, Write};
use crate::gateways;

/// The gateway binary; the suite runs every provider, so a missing one fails the test (even
/// with `BGCTL_SKIP_GATEWAYS=1`, which only skips `gateways.rs`).
fn need(bin: Option<PathBuf>, name: &str) -> PathBuf {
    bin.unwrap_or_else(|| panic!("`{name}` is not installed; the conformance suite needs it"))
}

async fn backends() -> (Backend, Backend) {
    (
        Backend::start(BackendConfig::new("blue-1"))
            .await
            .expect("backend"),
        Backend::start(BackendConfig::new("green-1"))
            .await
            .expect("backend"),
    )
}

const HEALTH: &str = "healthCheck:
  http: {path: /health, expectStatus: [200]}
  timeout: 1s
  interval: 200ms
  healthyThreshold: 2
  unhealthyThreshold: 2
verify:
  samples: 60
  tolerance: 5
  timeout: 5s
";
const CANARY_EXTRA: &str =
    "    verify: {samples: 60, tolerance: 5, timeout: 5s}\n    cleanupDelay: 0s\n";

/// The plan without its `proxyUrl` line (no data-plane verification) and without `verify`
/// (a `verify` block without a proxy is refused by validation).
fn no_proxy(text: &str) -> String {
    text.replace(
        "verify:\n  samples: 60\n  tolerance: 5\n  timeout: 5s\n",
        "",
    )
    .lines()
    .filter(|l| {
        let l = l.trim_start();
        !l.starts_with("proxyUrl:") && !l.starts_with("verify:")
    })
    .fold(String::new(), |s, l| s + l + "\n")
}

fn write_plan(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join(format!("plan-{}.yaml", unique()));
    std::fs::write(&path, text).expect("write plan");
    path
}

pub struct Haproxy {
    gw: gateways::Haproxy,
    proxy: FaultProxy,
    blue: Backend,
    green: Backend,
}

impl Haproxy {
    /// One runtime API command from the test itself (not through the proxy).
    fn command(&self, line: &str) -> String {
        self.gw.command(line)
    }

    fn weight(&self, server: &str) -> u64 {
        let reply = self.command(&format!("get weight app/{server}"));
        reply
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("get weight app/{server}: {reply}"))
    }
}

impl Target for Haproxy {
    async fn start() -> Haproxy {
        let bin = need(gateways::haproxy_bin(), "haproxy");
        let (blue, green) = backends().await;
        let gw = gateways::Haproxy::start_with(
            &bin,
            "app",
            &[("blue1", blue.addr(), 100), ("green1", green.addr(), 0)],
        )
        .await;
        let proxy =
            FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], gw.api)), Proto::Line).await;
        Haproxy {
            gw,
            proxy,
            blue,
            green,
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[Cap::Canary, Cap::Proxy, Cap::Targets]
    }

    fn backends(&self, env: &str) -> Vec<&Backend> {
        match env {
            "blue" => vec![&self.blue],
            "green" => vec![&self.green],
            _ => Vec::new(),
        }
    }

    const NAME: &'static str = "haproxy";

    /// The weight and state commands of the plan's servers (the record's `set var` is not).
    fn is_traffic_write(&self, w: &Write) -> bool {
        w.path.starts_with("set server app/blue") || w.path.starts_with("set server app/green")
    }

    fn fail_green_requests(&self, on: bool) -> bool {
        self.green.set_error_rate(if on { 1.0 } else { 0.0 });
        true
    }

    fn dir(&self) -> &Path {
        self.gw.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "HAPROXY_RUNTIME_API".into(),
                format!("tcp://{}", self.proxy.addr),
            ),
            (
                "HAPROXY_PROXY_URL".into(),
                format!("http://127.0.0.1:{}", self.gw.front),
            ),
            ("BLUE_1".into(), self.blue.addr().to_string()),
            ("GREEN_1".into(), self.green.addr().to_string()),
        ]
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let text = format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata:\n  name: web-haproxy\nprovider:\n  haproxy:\n    runtimeApi: ${{HAPROXY_RUNTIME_API}}\n    backend: app\n    proxyUrl: ${{HAPROXY_PROXY_URL}}\n{}environments:\n  blue:\n    servers:\n      - {{name: blue1, address: \"${{BLUE_1}}\", weight: 100}}\n{}  green:\n    servers:\n      - {{name: green1, address: \"${{GREEN_1}}\", weight: 100}}\n{HEALTH}{}",
            super::kong::provider_lines(&spec.provider),
            spec.extra_blue_target.as_ref().map_or(String::new(), |a| format!(
                "      - {{name: blue2, address: \"{a}\", weight: 100}}\n"
            )),
            spec.tail(CANARY_EXTRA)
        );
        let text = if spec.no_proxy { no_proxy(&text) } else { text };
        write_plan(self.dir(), &text)
    }

    async fn lock_present(&self) -> bool {
        self.command("show servers state app")
            .contains("bgctl-lock")
    }

    fn lock_may_be_anonymous(&self) -> bool {
        true
    }

    async fn traffic(&self) -> Traffic {
        let (b, g) = (self.weight("blue1"), self.weight("green1"));
        assert!(b + g > 0, "every weight is 0: HAProxy answers 503");
        match (b, g) {
            (_, 0) => Traffic::Blue,
            (0, _) => Traffic::Green,
            _ => Traffic::Split(100.0 * g as f64 / (b + g) as f64),
        }
    }

    fn writes(&self) -> Vec<Write> {
        self.proxy.writes()
    }

    fn clear_log(&self) {
        self.proxy.clear_log();
    }

    fn arm(&self, _reference: &[Write], k: usize, fault: Fault) {
        self.proxy.arm(k, fault);
    }

    fn fault_met(&self, _reference: &[Write], _k: usize, _fault: Fault) -> bool {
        self.proxy.met()
    }

    fn clear_faults(&self) {
        self.proxy.clear_faults();
    }

    fn fail_green(&self, failing: bool) -> bool {
        self.green.set_error_rate(if failing { 1.0 } else { 0.0 });
        true
    }
}

pub struct Traefik {
    gw: gateways::Traefik,
    proxy: FaultProxy,
    blue: Backend,
    green: Backend,
}

impl Traefik {
    fn state(&self) -> PathBuf {
        self.gw.dir.path().join("state/web.json")
    }
}

impl Target for Traefik {
    async fn start() -> Traefik {
        let bin = need(gateways::traefik_bin(), "traefik");
        let (blue, green) = backends().await;
        let gw = gateways::Traefik::start(&bin).await;
        let proxy =
            FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], gw.api)), Proto::Http).await;
        Traefik {
            gw,
            proxy,
            blue,
            green,
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[
            Cap::Canary,
            Cap::Proxy,
            Cap::Targets,
            Cap::HeaderRoutes,
            Cap::Mirror,
        ]
    }

    /// Traefik's `Header` compares values byte for byte.
    fn header_values_ignore_case(&self) -> bool {
        false
    }

    fn data_plane(&self) -> Option<(String, &'static str)> {
        // The plan's router matches every host (`PathPrefix(`/`)`).
        Some((format!("http://127.0.0.1:{}", self.gw.web), "localhost"))
    }

    /// bgctl's routers and services in Traefik's own view (`…-bgctl-…@rest`).
    async fn owned_routes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kind in ["routers", "services"] {
            let list: serde_json::Value = reqwest::get(format!(
                "http://127.0.0.1:{}/api/http/{kind}?per_page=1000",
                self.gw.api
            ))
            .await
            .expect("traefik api")
            .json()
            .await
            .expect("json");
            for o in list.as_array().expect("a list") {
                let name = o["name"].as_str().unwrap_or_default();
                if name.contains("-bgctl-") {
                    let name = name.trim_end_matches("@rest");
                    out.push(format!("{} {name}", kind.trim_end_matches('s')));
                }
            }
        }
        out
    }

    async fn after_restore(&self, ctx: &str) {
        let left = self.owned_routes().await;
        assert!(
            left.is_empty(),
            "{ctx}: header routes left after restoring blue: {left:?}"
        );
    }

    async fn after_converge(
        &self,
        _lock_left: bool,
        _out: &std::process::Output,
        ctx: &str,
    ) -> String {
        let left = self.owned_routes().await;
        assert!(
            left.is_empty(),
            "{ctx}: header routes left after converging: {left:?}"
        );
        String::new()
    }

    fn backends(&self, env: &str) -> Vec<&Backend> {
        match env {
            "blue" => vec![&self.blue],
            "green" => vec![&self.green],
            _ => Vec::new(),
        }
    }

    const NAME: &'static str = "traefik";

    /// Every write to Traefik is the whole configuration (record and lock are in a file).
    fn is_traffic_write(&self, w: &Write) -> bool {
        w.method == "PUT"
    }

    fn fail_green_requests(&self, on: bool) -> bool {
        self.green.set_error_rate(if on { 1.0 } else { 0.0 });
        true
    }

    fn dir(&self) -> &Path {
        self.gw.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "TRAEFIK_API_URL".into(),
                format!("http://{}", self.proxy.addr),
            ),
            (
                "TRAEFIK_PROXY_URL".into(),
                format!("http://127.0.0.1:{}", self.gw.web),
            ),
            (
                "BGCTL_STATE_FILE".into(),
                self.state().display().to_string(),
            ),
            ("BLUE_1".into(), self.blue.addr().to_string()),
            ("GREEN_1".into(), self.green.addr().to_string()),
        ]
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let text = format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata:\n  name: web-traefik\nprovider:\n  traefik:\n    apiUrl: ${{TRAEFIK_API_URL}}\n    service: app\n    router:\n      rule: \"PathPrefix(`/`)\"\n      entryPoints: [web]\n    proxyUrl: ${{TRAEFIK_PROXY_URL}}\n    stateFile: ${{BGCTL_STATE_FILE}}\n{}environments:\n  blue:\n    servers:\n      - {{url: \"http://${{BLUE_1}}\"}}\n{}  green:\n    servers:\n      - {{url: \"http://${{GREEN_1}}\"}}\n{HEALTH}{}",
            super::kong::provider_lines(&spec.provider),
            spec.extra_blue_target.as_ref().map_or(String::new(), |a| format!(
                "      - {{url: \"http://{a}\"}}\n"
            )),
            spec.tail(CANARY_EXTRA)
        );
        let text = if spec.no_proxy { no_proxy(&text) } else { text };
        write_plan(self.dir(), &text)
    }

    async fn lock_present(&self) -> bool {
        let mut lock = self.state().into_os_string();
        lock.push(".lock");
        Path::new(&lock).exists()
    }

    async fn traffic(&self) -> Traffic {
        let resp = reqwest::get(format!(
            "http://127.0.0.1:{}/api/http/services/app@rest",
            self.gw.api
        ))
        .await
        .expect("traefik api");
        if resp.status().as_u16() == 404 {
            return Traffic::Missing;
        }
        let service: serde_json::Value = resp.json().await.expect("json");
        let (mut blue, mut green) = (0.0, 0.0);
        for entry in service["weighted"]["services"]
            .as_array()
            .expect("weighted services")
        {
            let weight = entry["weight"].as_f64().unwrap_or(1.0);
            match entry["name"].as_str().unwrap_or_default() {
                name if name.starts_with("app-blue") => blue += weight,
                name if name.starts_with("app-green") => green += weight,
                other => panic!("foreign service `{other}`: {service}"),
            }
        }
        assert!(blue + green > 0.0, "no weight at all: {service}");
        match (blue, green) {
            (_, 0.0) => Traffic::Blue,
            (0.0, _) => Traffic::Green,
            _ => Traffic::Split(100.0 * green / (blue + green)),
        }
    }

    fn writes(&self) -> Vec<Write> {
        self.proxy.writes()
    }

    fn clear_log(&self) {
        self.proxy.clear_log();
    }

    fn arm(&self, _reference: &[Write], k: usize, fault: Fault) {
        self.proxy.arm(k, fault);
    }

    fn fault_met(&self, _reference: &[Write], _k: usize, _fault: Fault) -> bool {
        self.proxy.met()
    }

    fn clear_faults(&self) {
        self.proxy.clear_faults();
    }

    fn fail_green(&self, failing: bool) -> bool {
        self.green.set_error_rate(if failing { 1.0 } else { 0.0 });
        true
    }
}
