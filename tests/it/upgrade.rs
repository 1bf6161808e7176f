//! The Kong cluster blue-green upgrade (`plans/kong-cluster-upgrade.yaml`, seed 001) through a
//! real HAProxy: cluster X (kong-sim 3.9.0) and cluster Y (kong-sim 3.9.1), each configured
//! through its own Admin API with the same service and route, are the two servers of HAProxy's
//! `kong` backend. Stand-in scripts for `kong migrations up` / `finish` append to a log file.
//!
//! - A healthy Y: `up` runs before any traffic moves, the split observed through HAProxy
//!   (by Kong's `Via` header) follows 90/10 → 50/50 → 0/100, and `finish` runs last.
//! - A Y that breaks `/checkout` (its share on `/` looks right): the probe check of
//!   `/checkout` through HAProxy fails at 10%, all traffic goes back to X (exit 3), and
//!   `finish` never runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

use crate::gateways::{haproxy_bin, Haproxy};
use crate::harness::{bgctl, render, root};

const OLD: &str = "3.9.0";
const NEW: &str = "3.9.1";

/// A Kong cluster: a kong-sim of `version` with service `app` → `app` on `/` and service
/// `checkout` → `checkout` on `/checkout`.
async fn cluster(version: &str, app: &Backend, checkout: &Backend) -> KongSim {
    let sim = KongSim::start(SimConfig {
        version: version.into(),
        ..SimConfig::default()
    })
    .await
    .expect("kong-sim");
    let client = reqwest::Client::new();
    for (path, body) in [
        (
            "/services",
            serde_json::json!({"name": "app", "url": app.url()}),
        ),
        (
            "/services/app/routes",
            serde_json::json!({"name": "app-route", "paths": ["/"]}),
        ),
        (
            "/services",
            serde_json::json!({"name": "checkout", "url": checkout.url()}),
        ),
        (
            "/services/checkout/routes",
            serde_json::json!({"name": "checkout-route", "paths": ["/checkout"], "strip_path": false}),
        ),
    ] {
        let resp = client
            .post(format!("{}{path}", sim.admin_url()))
            .json(&body)
            .send()
            .await
            .expect("admin api");
        assert_eq!(resp.status().as_u16(), 201, "POST {path}");
    }
    sim
}

fn proxy_addr(sim: &KongSim) -> SocketAddr {
    sim.proxy_url()
        .trim_start_matches("http://")
        .parse()
        .expect("proxy address")
}

/// Answers through HAProxy by the Kong version in `Via` (bounded by count and time).
async fn by_cluster(url: &str, n: usize) -> BTreeMap<String, usize> {
    let client = reqwest::Client::new();
    let mut counts = BTreeMap::new();
    let stop = Instant::now() + Duration::from_secs(10);
    for _ in 0..n {
        assert!(Instant::now() < stop, "sampling took over 10s");
        let who = match client.get(url).timeout(Duration::from_secs(3)).send().await {
            Ok(r) if r.status().is_success() => r
                .headers()
                .get("via")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .trim_start_matches("1.1 kong/")
                .to_string(),
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(_) => "error".into(),
        };
        *counts.entry(who).or_insert(0) += 1;
    }
    counts
}

/// Y's share in percent from HAProxy's live weights.
fn new_share(hx: &Haproxy) -> f64 {
    let w = |srv: &str| -> f64 {
        let reply = hx.command(&format!("get weight kong/{srv}"));
        reply
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("get weight kong/{srv}: {reply}"))
    };
    let (x, y) = (w("kong-x"), w("kong-y"));
    100.0 * y / (x + y)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kong_cluster_upgrade_through_haproxy_finishes_only_after_full_traffic() {
    let Some(bin) = haproxy_bin() else { return };
    let app = Backend::start(BackendConfig::new("app-1"))
        .await
        .expect("backend");
    let mut broken = BackendConfig::new("app-broken");
    broken.error_rate = 1.0;
    let broken = Backend::start(broken).await.expect("backend");

    for y_breaks in [false, true] {
        // A broken Y mishandles only `/checkout`: the split on `/` looks right, so only the
        // analysis (a probe of `/checkout` through HAProxy) can catch it.
        let x = cluster(OLD, &app, &app).await;
        let y = cluster(NEW, &app, if y_breaks { &broken } else { &app }).await;
        let hx = Haproxy::start_with(
            &bin,
            "kong",
            &[
                ("kong-x", proxy_addr(&x), 100),
                ("kong-y", proxy_addr(&y), 0),
            ],
        )
        .await;
        let log = hx.dir.path().join("migrations.log");
        let mut cmd = bgctl(hx.dir.path());
        cmd.env("HAPROXY_RUNTIME_API", format!("tcp://127.0.0.1:{}", hx.api))
            .env("HAPROXY_BACKEND", "kong")
            .env("HAPROXY_PROXY_URL", hx.url())
            .env("OLD_KONG_PROXY", proxy_addr(&x).to_string())
            .env("NEW_KONG_PROXY", proxy_addr(&y).to_string())
            .env("OLD_KONG_VERSION", OLD)
            .env("NEW_KONG_VERSION", NEW)
            .env("HEALTH_PATH", "/health")
            .env("PROBE_PATH", "/checkout")
            .env("SOAK", "1500ms")
            .env("MIGRATIONS_UP", format!("echo up >> '{}'", log.display()))
            .env(
                "MIGRATIONS_FINISH",
                format!("echo finish >> '{}'", log.display()),
            )
            .args(["plan", "apply", "--yes", "--timeout", "60s"])
            .arg(root().join("plans/kong-cluster-upgrade.yaml"));
        let run = tokio::task::spawn_blocking(move || cmd.output().expect("run bgctl"));

        // While it runs: at every split HAProxy serves, sample 200 requests through its
        // frontend (kept only if the weights did not move meanwhile).
        let mut seen: Vec<(f64, f64)> = Vec::new();
        let started = Instant::now();
        while !run.is_finished() && started.elapsed() < Duration::from_mins(1) {
            let live = new_share(&hx);
            if live > 0.0 && live < 100.0 && seen.last().is_none_or(|s| (s.0 - live).abs() > 0.5) {
                let c = by_cluster(&hx.url(), 200).await;
                if (new_share(&hx) - live).abs() < 0.01 {
                    let n: usize = c.values().sum();
                    let observed = 100.0 * *c.get(NEW).unwrap_or(&0) as f64 / n as f64;
                    eprintln!("HAProxy weights give Y {live:.2}%: observed {c:?}");
                    seen.push((live, observed));
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let out = run.await.expect("join");
        let text = render(&out);
        let ran = std::fs::read_to_string(&log).unwrap_or_default();
        if y_breaks {
            assert_eq!(out.status.code(), Some(3), "{text}");
            assert!(text.contains("through-haproxy: FAIL"), "{text}");
            assert_eq!(
                ran, "up\n",
                "`finish` must never run after a rollback:\n{text}"
            );
            assert!(new_share(&hx) < f64::EPSILON, "Y keeps weight: {text}");
            let c = by_cluster(&hx.url(), 100).await;
            assert_eq!(c.get(OLD), Some(&100), "all traffic back on X: {c:?}");
        } else {
            assert_eq!(out.status.code(), Some(0), "{text}");
            assert_eq!(ran, "up\nfinish\n", "{text}");
            let c = by_cluster(&hx.url(), 100).await;
            assert_eq!(c.get(NEW), Some(&100), "all traffic on Y: {c:?}");
            // Both intermediate steps were observed, each within tolerance of the weights.
            for want in [10.0, 50.0] {
                let (live, observed) = seen
                    .iter()
                    .copied()
                    .find(|(live, _)| (live - want).abs() < 1.0)
                    .unwrap_or_else(|| panic!("no sample at {want}%: {seen:?}\n{text}"));
                assert!(
                    (observed - live).abs() <= 5.0,
                    "at {want}%: observed {observed:.1}% through HAProxy, weights give {live:.2}%"
                );
            }
        }
        // The stand-in for `kong migrations up` ran before the first traffic change.
        let up = text
            .find("preSwitch hook")
            .expect("the preSwitch hook is reported");
        let first = text
            .find("setWeight 10")
            .expect("the first step is reported");
        assert!(up < first, "{text}");
    }
}
