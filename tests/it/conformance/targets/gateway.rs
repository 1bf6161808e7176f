//! The real gateways, as processes the test starts on free loopback ports and kills by PID:
//! HAProxy (runtime API; a backend `app` with `blue1` at weight 100 and `green1` at 0, as its
//! configuration file says) and Traefik (REST provider, empty at start; record and lock in a
//! state file). bgctl reaches their management API through a [`FaultProxy`], which logs the
//! writes and holds or loses the answer of one; the suite reads traffic from the gateway
//! directly (HAProxy's `get weight`, Traefik's `/api/http/services`). The backends are kong-sim
//! apps; the plans verify through the gateway, which needs them to name themselves.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig};

use crate::conformance::fault_proxy::{FaultProxy, Proto};
use crate::conformance::run::unique;
use crate::conformance::target::{Cap, Fault, PlanSpec, Target, Traffic, Write};
use crate::harness::root;

/// A process started by a test, killed by PID when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_proc(what: &str, cmd: &mut Command, log: &Path) -> Proc {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    Proc(
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}")),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

async fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let stop = Instant::now() + Duration::from_secs(15);
    while !ready() {
        assert!(Instant::now() < stop, "{what} did not come up within 15s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A binary from PATH (or `path`); the suite needs it (`./scripts/test` installs it).
fn tool(name: &str, path: Option<PathBuf>) -> PathBuf {
    path.filter(|p| p.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
        .unwrap_or_else(|| panic!("`{name}` is not installed (./scripts/test installs it)"))
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

fn write_plan(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join(format!("plan-{}.yaml", unique()));
    std::fs::write(&path, text).expect("write plan");
    path
}

pub struct Haproxy {
    _proc: Proc,
    api: u16,
    front: u16,
    proxy: FaultProxy,
    blue: Backend,
    green: Backend,
    dir: tempfile::TempDir,
}

impl Haproxy {
    /// One runtime API command from the test itself (not through the proxy).
    fn command(&self, line: &str) -> String {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.api)).expect("runtime api");
        s.write_all(format!("{line}\n").as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
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
        let bin = tool("haproxy", None);
        let (blue, green) = backends().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (api, front) = (free_port(), free_port());
        let cfg = format!(
            "global\n    stats socket ipv4@127.0.0.1:{api} level admin\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{front}\n    default_backend app\n\
             backend app\n    balance roundrobin\n\
             \x20   server blue1 {} weight 100\n    server green1 {} weight 0\n",
            blue.addr(),
            green.addr()
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write haproxy.cfg");
        let log = dir.path().join("haproxy.log");
        let proc = start_proc(
            "haproxy",
            Command::new(bin).arg("-db").arg("-f").arg(&path),
            &log,
        );
        wait_for("haproxy", || accepts(api) && accepts(front)).await;
        let proxy = FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], api)), Proto::Line).await;
        Haproxy {
            _proc: proc,
            api,
            front,
            proxy,
            blue,
            green,
            dir,
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[Cap::Canary]
    }

    const NAME: &'static str = "haproxy";

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "HAPROXY_RUNTIME_API".into(),
                format!("tcp://{}", self.proxy.addr),
            ),
            (
                "HAPROXY_PROXY_URL".into(),
                format!("http://127.0.0.1:{}", self.front),
            ),
            ("BLUE_1".into(), self.blue.addr().to_string()),
            ("GREEN_1".into(), self.green.addr().to_string()),
        ]
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let text = format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata:\n  name: web-haproxy\nprovider:\n  haproxy:\n    runtimeApi: ${{HAPROXY_RUNTIME_API}}\n    backend: app\n    proxyUrl: ${{HAPROXY_PROXY_URL}}\n{}environments:\n  blue:\n    servers:\n      - {{name: blue1, address: \"${{BLUE_1}}\", weight: 100}}\n  green:\n    servers:\n      - {{name: green1, address: \"${{GREEN_1}}\", weight: 100}}\n{HEALTH}{}",
            super::kong::provider_lines(&spec.provider),
            spec.tail(CANARY_EXTRA)
        );
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
}

pub struct Traefik {
    _proc: Proc,
    api: u16,
    web: u16,
    proxy: FaultProxy,
    blue: Backend,
    green: Backend,
    dir: tempfile::TempDir,
}

impl Traefik {
    fn state(&self) -> PathBuf {
        self.dir.path().join("state/web.json")
    }
}

impl Target for Traefik {
    async fn start() -> Traefik {
        let bin = tool(
            "traefik",
            Some(
                std::env::var_os("TRAEFIK")
                    .map_or_else(|| root().join(".venv/bin/traefik"), PathBuf::from),
            ),
        );
        let (blue, green) = backends().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (api, web) = (free_port(), free_port());
        let log = dir.path().join("traefik.log");
        let proc = start_proc(
            "traefik",
            Command::new(bin)
                .arg(format!("--entryPoints.web.address=127.0.0.1:{web}"))
                .arg(format!("--entryPoints.traefik.address=127.0.0.1:{api}"))
                .args([
                    "--api.insecure=true",
                    "--providers.rest.insecure=true",
                    "--providers.providersThrottleDuration=0s",
                    "--log.level=ERROR",
                    "--global.checkNewVersion=false",
                    "--global.sendAnonymousUsage=false",
                ])
                .current_dir(dir.path()),
            &log,
        );
        wait_for("traefik", || accepts(api) && accepts(web)).await;
        // The API routes answer 404 for a moment after the port opens.
        let client = reqwest::Client::new();
        let stop = Instant::now() + Duration::from_secs(15);
        while !client
            .get(format!("http://127.0.0.1:{api}/api/overview"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < stop,
                "traefik's API did not come up within 15s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let proxy = FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], api)), Proto::Http).await;
        Traefik {
            _proc: proc,
            api,
            web,
            proxy,
            blue,
            green,
            dir,
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[Cap::Canary]
    }

    const NAME: &'static str = "traefik";

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "TRAEFIK_API_URL".into(),
                format!("http://{}", self.proxy.addr),
            ),
            (
                "TRAEFIK_PROXY_URL".into(),
                format!("http://127.0.0.1:{}", self.web),
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
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata:\n  name: web-traefik\nprovider:\n  traefik:\n    apiUrl: ${{TRAEFIK_API_URL}}\n    service: app\n    router:\n      rule: \"PathPrefix(`/`)\"\n      entryPoints: [web]\n    proxyUrl: ${{TRAEFIK_PROXY_URL}}\n    stateFile: ${{BGCTL_STATE_FILE}}\n{}environments:\n  blue:\n    servers:\n      - {{url: \"http://${{BLUE_1}}\"}}\n  green:\n    servers:\n      - {{url: \"http://${{GREEN_1}}\"}}\n{HEALTH}{}",
            super::kong::provider_lines(&spec.provider),
            spec.tail(CANARY_EXTRA)
        );
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
            self.api
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
}
