//! Hybrid mode (issue 15 §3): a control plane whose data planes apply its configuration after
//! their own delays, report `config_hash`/`last_seen` on `/clustering/data-planes`, and can be
//! cut off from syncing (keeping their last configuration) and reconnected.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};
use serde_json::{json, Value};

use crate::harness::{client, send, start, Body};

async fn served_by(http: &reqwest::Client, proxy: &str) -> Result<String, u16> {
    let r = http
        .get(format!("{proxy}/"))
        .header("host", "app.test")
        .send()
        .await
        .expect("proxy answers");
    match r.headers().get("x-backend") {
        Some(name) => Ok(name.to_str().unwrap().to_string()),
        None => Err(r.status().as_u16()),
    }
}

async fn data_planes(http: &reqwest::Client, admin: &str) -> Vec<Value> {
    let r = send(
        http,
        admin,
        "GET",
        "/clustering/data-planes",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["next"], Value::Null);
    r.body["data"].as_array().expect("data is a list").clone()
}

fn hashes(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|dp| dp["config_hash"].as_str().unwrap().to_string())
        .collect()
}

async fn write(http: &reqwest::Client, admin: &str, method: &str, path: &str, body: Value) {
    let r = send(http, admin, method, path, &Body::Json(body), &[]).await;
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.raw);
}

/// `app.test` → upstream `app.internal` with `backend` as its one target.
async fn setup(http: &reqwest::Client, admin: &str, backend: &Backend) {
    write(
        http,
        admin,
        "POST",
        "/upstreams",
        json!({"name": "app.internal"}),
    )
    .await;
    let target = json!({"target": backend.addr().to_string()});
    write(
        http,
        admin,
        "POST",
        "/upstreams/app.internal/targets",
        target,
    )
    .await;
    let svc = json!({"name": "app", "host": "app.internal"});
    write(http, admin, "POST", "/services", svc).await;
    let route = json!({"hosts": ["app.test"]});
    write(http, admin, "POST", "/services/app/routes", route).await;
}

/// Polls until `f` holds (at most 5 s); returns how long it took.
async fn until<F, Fut>(what: &str, f: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if f().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_control_plane_says_so_and_lists_its_data_planes_as_kong_does() {
    let sim = start(SimConfig::hybrid(&[Duration::ZERO, Duration::ZERO])).await;
    let http = client();
    let admin = sim.admin_url();
    let root = send(&http, &admin, "GET", "/", &Body::None, &[]).await;
    assert_eq!(root.body["configuration"]["role"], "control_plane");
    assert_eq!(root.body["configuration"]["database"], "postgres");
    // Kong's control plane has no `configuration_hash` of its own.
    let status = send(&http, &admin, "GET", "/status", &Body::None, &[]).await;
    assert!(
        status.body.get("configuration_hash").is_none(),
        "{}",
        status.raw
    );

    let list = data_planes(&http, &admin).await;
    assert_eq!(list.len(), 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for dp in &list {
        for key in [
            "id",
            "ip",
            "hostname",
            "version",
            "sync_status",
            "config_hash",
        ] {
            assert!(dp[key].is_string(), "{key} in {dp}");
        }
        assert_eq!(dp["sync_status"], "normal");
        assert_eq!(dp["config_hash"], "0".repeat(32), "nothing configured yet");
        let seen = dp["last_seen"].as_u64().expect("last_seen is unix seconds");
        assert!(seen.abs_diff(now) <= 2, "{seen} vs {now}");
        assert!(dp["ttl"].as_u64().unwrap() > 0);
        assert!(dp["labels"].is_object() && dp["cert_details"].is_object());
    }
    assert_ne!(list[0]["id"], list[1]["id"]);
    assert_eq!(sim.proxy_urls(), sim.data_plane_urls());
    assert_eq!(sim.proxy_urls().len(), 2);

    // A traditional node has no such route.
    let plain = start(SimConfig::default()).await;
    let r = send(
        &http,
        &plain.admin_url(),
        "GET",
        "/clustering/data-planes",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 404);
    let root = send(&http, &plain.admin_url(), "GET", "/", &Body::None, &[]).await;
    assert_eq!(root.body["configuration"]["role"], "traditional");
}

#[tokio::test]
async fn each_data_plane_applies_a_write_after_its_delay_and_reports_its_hash() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let delays = [100, 400, 900].map(Duration::from_millis);
    let sim = start(SimConfig::hybrid(&delays)).await;
    let http = client();
    let admin = sim.admin_url();
    let proxies = sim.data_plane_urls();
    let written = Instant::now();
    setup(&http, &admin, &blue).await;

    let mut seen_after = Vec::new();
    for proxy in &proxies {
        let h = http.clone();
        let p = proxy.clone();
        until("served blue", || {
            let (h, p) = (h.clone(), p.clone());
            async move { served_by(&h, &p).await.as_deref() == Ok("blue") }
        })
        .await;
        seen_after.push(written.elapsed());
    }
    for (i, delay) in delays.iter().enumerate() {
        assert!(
            seen_after[i] + Duration::from_millis(30) >= *delay,
            "data plane {} served after {:?}, its delay is {delay:?}",
            i + 1,
            seen_after[i]
        );
    }
    // Converged: one hash, not the empty one, reported by every data plane.
    let list = data_planes(&http, &admin).await;
    let converged = hashes(&list);
    assert!(
        converged.iter().all(|h| h == &converged[0]),
        "{converged:?}"
    );
    assert_ne!(converged[0], "0".repeat(32));
    assert!(converged[0].len() == 32 && converged[0].chars().all(|c| c.is_ascii_hexdigit()));

    // The next write: the fast data plane reports a new hash before the slow one.
    write(
        &http,
        &admin,
        "PATCH",
        "/services/app",
        json!({"retries": 3}),
    )
    .await;
    let h = http.clone();
    let a = admin.clone();
    let old = converged[0].clone();
    until("data plane 1 reports a new hash", || {
        let (h, a, old) = (h.clone(), a.clone(), old.clone());
        async move { hashes(&data_planes(&h, &a).await)[0] != old }
    })
    .await;
    let mid = hashes(&data_planes(&http, &admin).await);
    assert_eq!(
        mid[2], old,
        "the slowest data plane still has the old configuration"
    );
    until("every data plane has the new hash", || {
        let (h, a, old) = (http.clone(), admin.clone(), old.clone());
        async move {
            let now = hashes(&data_planes(&h, &a).await);
            now.iter().all(|x| x != &old && x == &now[0])
        }
    })
    .await;
}

#[tokio::test]
async fn a_data_plane_cut_off_keeps_its_config_and_stops_heartbeating_then_catches_up() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let green = Backend::start(BackendConfig::new("green")).await.unwrap();
    let mut config = SimConfig::hybrid(&[Duration::ZERO, Duration::from_millis(100)]);
    config.hybrid.as_mut().unwrap().ping_interval = Duration::from_millis(200);
    let sim = start(config).await;
    let http = client();
    let admin = sim.admin_url();
    let proxies = sim.data_plane_urls();
    setup(&http, &admin, &blue).await;
    for proxy in &proxies {
        let (h, p) = (http.clone(), proxy.clone());
        until("blue everywhere", || {
            let (h, p) = (h.clone(), p.clone());
            async move { served_by(&h, &p).await.as_deref() == Ok("blue") }
        })
        .await;
    }
    let before = data_planes(&http, &admin).await;

    // Cut data plane 2 off through the control port, then switch to green.
    let control = sim.control_url();
    let r = http
        .post(format!("{control}/data-planes/2/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let green_target = json!({"target": green.addr().to_string(), "weight": 100});
    write(
        &http,
        &admin,
        "POST",
        "/upstreams/app.internal/targets",
        green_target,
    )
    .await;
    let blue_path = format!("/upstreams/app.internal/targets/{}", blue.addr());
    write(&http, &admin, "PATCH", &blue_path, json!({"weight": 0})).await;
    let (h, p) = (http.clone(), proxies[0].clone());
    until("data plane 1 serves green", || {
        let (h, p) = (h.clone(), p.clone());
        async move { served_by(&h, &p).await.as_deref() == Ok("green") }
    })
    .await;
    // Wait past several heartbeats: data plane 2 still serves blue and its report ages.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for _ in 0..5 {
        assert_eq!(served_by(&http, &proxies[1]).await.as_deref(), Ok("blue"));
    }
    let after = data_planes(&http, &admin).await;
    assert_eq!(
        after.len(),
        2,
        "the control plane still lists the silent data plane"
    );
    assert_eq!(after[1]["config_hash"], before[1]["config_hash"]);
    assert_ne!(after[0]["config_hash"], before[0]["config_hash"]);
    let seen = |v: &Value| v["last_seen"].as_u64().unwrap();
    assert!(
        seen(&after[0]) >= seen(&after[1]) + 2,
        "the live data plane keeps heartbeating, the cut-off one does not: {after:?}"
    );
    let view: Value = http
        .get(format!("{control}/data-planes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view[1]["syncing"], false);
    assert_eq!(view[0]["syncing"], true);

    // Reconnected: it heartbeats at once and catches up after its delay.
    assert!(sim.resume_sync(1));
    let (h, p) = (http.clone(), proxies[1].clone());
    until("data plane 2 serves green", || {
        let (h, p) = (h.clone(), p.clone());
        async move { served_by(&h, &p).await.as_deref() == Ok("green") }
    })
    .await;
    let caught_up = hashes(&data_planes(&http, &admin).await);
    assert_eq!(caught_up[0], caught_up[1]);
    assert!(!sim.resume_sync(5), "no such data plane");
    let r = http
        .post(format!("{control}/data-planes/9/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_write_in_flight_to_a_data_plane_that_is_cut_off_is_dropped() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let sim: KongSim = start(SimConfig::hybrid(&[Duration::from_millis(300)])).await;
    let http = client();
    setup(&http, &sim.admin_url(), &blue).await;
    assert!(sim.stop_sync(0));
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Never received: still no route.
    assert_eq!(served_by(&http, &sim.proxy_url()).await, Err(404));
    assert_eq!(
        hashes(&data_planes(&http, &sim.admin_url()).await)[0],
        "0".repeat(32)
    );
}

#[test]
fn the_binary_runs_a_control_plane_with_data_planes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kong-sim"))
        .args([
            "serve",
            "--role",
            "control_plane",
            "--data-planes",
            "127.0.0.1:0,127.0.0.1:0,127.0.0.1:0",
            "--propagation-delay",
            "200ms,500ms,1s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines[0].starts_with("admin http://127.0.0.1:"), "{lines:?}");
    for line in &lines[1..4] {
        assert!(line.starts_with("proxy http://127.0.0.1:"), "{lines:?}");
    }
    assert!(
        lines[4].starts_with("control http://127.0.0.1:"),
        "{lines:?}"
    );

    // A delay list that does not match the data planes is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_kong-sim"))
        .args([
            "serve",
            "--role",
            "control_plane",
            "--data-planes",
            "127.0.0.1:0,127.0.0.1:0",
            "--propagation-delay",
            "1s,2s,3s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 values for 2 data plane"));
}
