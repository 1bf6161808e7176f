//! Benchmarks that compare bgctl with what a user does today, measured side by side in one run
//! (`cargo bench --bench compare`; results are copied into `docs/benchmarks.md`). These are not
//! tests: they print ratios, they assert nothing about speed.
//!
//! 1. The seed-000 setup with N targets per side against kong-sim: `bgctl plan apply` vs the
//!    seed's sequence of curl calls (one process per call) — wall time and Admin API calls;
//!    bgctl with its default `--parallelism` and with `--parallelism 1`. N = 10, 100, 1,000;
//!    `BGCTL_BENCH_10K=1` adds 10,000 (the curl sequence alone then takes minutes).
//!    Then kong-sim's own cost per target write, in an empty upstream and in one holding
//!    10,000 targets (a ratio near 1 says the cost does not grow with the upstream).
//! 2. Probe fan-out: one health round over 1,000 local targets that each answer after 20 ms —
//!    wall time against the 20 ms floor.
//! 3. Switch latency through a real HAProxy and Traefik: from spawning `bgctl switch` to the
//!    first answer from the new side and the last from the old one, seen by a polling client
//!    with 2 keep-alive connections, vs the raw alternative (HAProxy: one runtime API line over
//!    TCP from `bash`; Traefik: one `curl -X PUT` of the whole REST configuration).
//! 4. `bgctl plan validate` start-up time and peak memory vs `kubectl version --client`.
//!
//! `BGCTL_BENCH_ONLY=1,4` runs only the numbered tables.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

mod switch;

const BGCTL: &str = env!("CARGO_BIN_EXE_bgctl");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "../tests/support/seed_plan.rs"]
mod seed_plan_text;

fn seed_plan(dir: &Path, n: usize) -> PathBuf {
    let text = seed_plan_text::text(n, "green");
    let path = dir.join(format!("seed-{n}.yaml"));
    std::fs::write(&path, text).expect("write plan");
    path
}

fn curl(admin: &str, method: &str, path: &str, data: &[String]) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-o",
        "/dev/null",
        "-X",
        method,
        &format!("{admin}{path}"),
    ]);
    for d in data {
        cmd.args(["--data", d]);
    }
    let status = cmd.status().expect("curl");
    assert!(status.success(), "curl {method} {path}");
}

/// The seed's curl sequence, generalised to N targets per side, ending with the switch to green.
fn curl_sequence(admin: &str, n: usize) {
    for (side, up) in [(1, "address.v1.service"), (2, "address.v2.service")] {
        curl(admin, "POST", "/upstreams", &[format!("name={up}")]);
        for i in 0..n {
            curl(
                admin,
                "POST",
                &format!("/upstreams/{up}/targets"),
                &[
                    format!("target=10.{side}.{}.{}:80", i / 250, i % 250 + 1),
                    "weight=100".into(),
                ],
            );
        }
    }
    curl(
        admin,
        "POST",
        "/services/",
        &[
            "name=address-service".into(),
            "host=address.v1.service".into(),
            "path=/address".into(),
        ],
    );
    curl(
        admin,
        "POST",
        "/services/address-service/routes/",
        &["hosts[]=address.mydomain.com".into()],
    );
    curl(
        admin,
        "PATCH",
        "/services/address-service",
        &["host=address.v2.service".into()],
    );
}

/// `bgctl plan apply` of `plan` against a fresh kong-sim: wall time, admin calls, writes.
async fn bgctl_apply(plan: &Path, parallelism: usize) -> (Duration, usize, usize) {
    let sim = KongSim::start(SimConfig::default()).await.expect("sim");
    let admin = sim.admin_url();
    let plan = plan.to_path_buf();
    let t = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(BGCTL)
            .env("KONG_ADMIN_URL", admin)
            .args(["-q", "plan", "apply", "--yes", "--parallelism"])
            .arg(parallelism.to_string())
            .arg(&plan)
            .status()
            .expect("bgctl")
    })
    .await
    .expect("join");
    assert!(status.success());
    let took = t.elapsed();
    let calls = sim.requests();
    let writes = calls.iter().filter(|r| r.is_write()).count();
    sim.shutdown().await;
    (took, calls.len(), writes)
}

fn sizes() -> Vec<usize> {
    let mut sizes = vec![10, 100, 1000];
    if std::env::var("BGCTL_BENCH_10K").is_ok_and(|v| v == "1") {
        sizes.push(10_000);
    }
    sizes
}

async fn bench_apply(dir: &Path) -> String {
    let mut out = String::from("| targets per side | bgctl apply | curl sequence | ratio (curl / bgctl) | bgctl `--parallelism 1` | admin calls bgctl (writes) | admin calls curl |\n|---|---|---|---|---|---|---|\n");
    for n in sizes() {
        let plan = seed_plan(dir, n);
        let (bgctl, calls, writes) = bgctl_apply(&plan, bgctl::engine::DEFAULT_PARALLELISM).await;
        let (serial, _, _) = bgctl_apply(&plan, 1).await;

        let sim = KongSim::start(SimConfig::default()).await.expect("sim");
        let admin = sim.admin_url();
        let t = Instant::now();
        tokio::task::spawn_blocking(move || curl_sequence(&admin, n))
            .await
            .expect("join");
        let curl = t.elapsed();
        let curl_calls = sim.requests().len();
        sim.shutdown().await;
        out += &format!(
            "| {n} | {:.2} s | {:.2} s | {:.1}× | {:.2} s | {calls} ({writes}) | {curl_calls} |\n",
            bgctl.as_secs_f64(),
            curl.as_secs_f64(),
            curl.as_secs_f64() / bgctl.as_secs_f64(),
            serial.as_secs_f64(),
        );
    }
    out
}

/// kong-sim's cost per target write: 1,000 `POST`s (one keep-alive connection, one at a
/// time) into an empty upstream, and into one that already holds 10,000 targets.
async fn bench_sim_target_cost() -> String {
    async fn post_targets(http: &reqwest::Client, admin: &str, up: &str, from: usize, n: usize) {
        for i in from..from + n {
            let resp = http
                .post(format!("{admin}/upstreams/{up}/targets"))
                .json(&serde_json::json!({
                    "target": format!("10.{}.{}.{}:80", i / 62_500, i / 250 % 250, i % 250 + 1),
                    "weight": 100,
                }))
                .send()
                .await
                .expect("post");
            assert_eq!(resp.status().as_u16(), 201);
        }
    }
    let http = reqwest::Client::new();
    let mut times = Vec::new();
    for prefill in [0, 10_000] {
        let sim = KongSim::start(SimConfig::default()).await.expect("sim");
        let admin = sim.admin_url();
        let resp = http
            .put(format!("{admin}/upstreams/big"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("put");
        assert!(resp.status().is_success());
        post_targets(&http, &admin, "big", 0, prefill).await;
        let t = Instant::now();
        post_targets(&http, &admin, "big", prefill, 1000).await;
        times.push((prefill, t.elapsed()));
        sim.shutdown().await;
    }
    let mut out = String::from(
        "| targets already in the upstream | 1,000 target POSTs | per write |\n|---|---|---|\n",
    );
    for (prefill, took) in &times {
        out += &format!(
            "| {prefill} | {:.0} ms | {:.0} µs |\n",
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() * 1000.0
        );
    }
    out += &format!(
        "\nratio (10,000 / empty): {:.2}×\n",
        times[1].1.as_secs_f64() / times[0].1.as_secs_f64()
    );
    out
}

async fn bench_probe() -> String {
    let n = 1000;
    let mut backends = Vec::with_capacity(n);
    for i in 0..n {
        let mut cfg = BackendConfig::new(&format!("t{i}"));
        cfg.latency = Duration::from_millis(20);
        backends.push(Backend::start(cfg).await.expect("backend"));
    }
    let targets: Vec<String> = backends.iter().map(|b| b.addr().to_string()).collect();
    let spec = bgctl::probe::ProbeSpec {
        http_path: Some("/health".into()),
        scheme: "http".into(),
        expect: vec![200],
        timeout: Duration::from_secs(5),
        interval: Duration::from_millis(0),
        healthy_threshold: 1,
        unhealthy_threshold: 1,
    };
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(4)
        .build()
        .expect("client");
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    // Warm-up round (connection setup), then the measured one.
    let _ = bgctl::probe::wait_healthy(&client, &spec, &targets, deadline, &|_| {}).await;
    let t = Instant::now();
    let results = bgctl::probe::wait_healthy(&client, &spec, &targets, deadline, &|_| {}).await;
    let wall = t.elapsed();
    let healthy = results.iter().filter(|r| r.healthy).count();
    for b in backends {
        b.shutdown().await;
    }
    format!(
        "| targets | latency each | healthy | wall time | floor | wall / floor | sequential equivalent |\n|---|---|---|---|---|---|---|\n| {n} | 20 ms | {healthy} | {:.0} ms | 20 ms | {:.1}× | {} ms (n × 20 ms) |\n",
        wall.as_secs_f64() * 1000.0,
        wall.as_secs_f64() / 0.020,
        n * 20
    )
}

fn time_runs(program: &str, args: &[&str], runs: usize) -> Option<(f64, u64)> {
    let mut total = Duration::ZERO;
    let mut peak_kb = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(program)
            .args(args)
            .current_dir(root())
            .output()
            .ok()?;
        total += t.elapsed();
        if !out.status.success() {
            return None;
        }
        let kb = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0);
        peak_kb = peak_kb.max(kb);
    }
    Some((total.as_secs_f64() * 1000.0 / runs as f64, peak_kb))
}

fn bench_startup() -> String {
    let runs = 20;
    let kubectl = std::env::var("KUBECTL")
        .ok()
        .or_else(|| {
            Some(
                root()
                    .join(".venv/bin/kubectl")
                    .to_string_lossy()
                    .into_owned(),
            )
            .filter(|p| Path::new(p).exists())
        })
        .unwrap_or_else(|| "kubectl".into());
    let b = time_runs(
        BGCTL,
        &["plan", "validate", "plans/kong-blue-green.yaml"],
        runs,
    );
    let k = time_runs(&kubectl, &["version", "--client"], runs);
    let mut out = String::from("| command | mean wall time | peak RSS |\n|---|---|---|\n");
    match b {
        Some((ms, kb)) => {
            out += &format!(
                "| `bgctl plan validate plans/kong-blue-green.yaml` | {ms:.1} ms | {:.1} MiB |\n",
                kb as f64 / 1024.0
            );
        }
        None => out += "| bgctl | failed | |\n",
    }
    match k {
        Some((ms, kb)) => {
            out += &format!(
                "| `kubectl version --client` ({kubectl}) | {ms:.1} ms | {:.1} MiB |\n",
                kb as f64 / 1024.0
            );
        }
        None => out += &format!("| `kubectl version --client` | not available ({kubectl}) | |\n"),
    }
    if let (Some((bm, bk)), Some((km, kk))) = (b, k) {
        out += &format!(
            "\nratio kubectl / bgctl: wall time {:.1}×, peak memory {:.1}× ({runs} runs each)\n",
            km / bm,
            kk as f64 / bk.max(1) as f64
        );
    }
    out
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; nothing to list here
    }
    let only = std::env::var("BGCTL_BENCH_ONLY").unwrap_or_default();
    let run = |n: &str| only.is_empty() || only.split(',').any(|o| o.trim() == n);
    let dir = tempfile::tempdir().expect("tempdir");
    if run("1") {
        println!("## 1. Seed-000 setup: bgctl vs the seed's curl sequence\n");
        println!("{}", bench_apply(dir.path()).await);
        println!("kong-sim's cost per target write:\n");
        println!("{}", bench_sim_target_cost().await);
    }
    if run("2") {
        println!("## 2. Probe fan-out\n");
        println!("{}", bench_probe().await);
    }
    if run("3") {
        println!("## 3. Switch latency through HAProxy and Traefik\n");
        println!("{}", switch::bench_switch().await);
    }
    if run("4") {
        println!("## 4. Start-up: `bgctl plan validate` vs `kubectl version --client`\n");
        println!("{}", bench_startup());
    }
}
