//! The seed blue/green scenario (shared/seeds/000_*.txt) over real HTTP: the seed's curl
//! sequence with form bodies, targets pointing at backends started here, then traffic through
//! the proxy with the observed split checked (2/3–1/3, then 1/2–1/2 after the PATCH).

use std::collections::HashMap;

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};
use serde_json::json;

use crate::harness::{client, send, start, Body};

async fn backend(name: &str) -> Backend {
    Backend::start(BackendConfig::new(name)).await.unwrap()
}

async fn form(
    sim: &KongSim,
    http: &reqwest::Client,
    method: &str,
    path: &str,
    body: &str,
) -> serde_json::Value {
    let r = send(
        http,
        &sim.admin_url(),
        method,
        path,
        &Body::Form(body.to_string()),
        &[],
    )
    .await;
    assert!(
        r.status == 201 || r.status == 200,
        "{method} {path} {body} -> {} {}",
        r.status,
        r.raw
    );
    r.body
}

/// Send `n` requests through the proxy with `host`, 4 at a time; count `X-Backend` values.
pub async fn split(proxy: &str, host: &str, n: usize) -> HashMap<String, usize> {
    let http = client();
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let http = http.clone();
        let url = format!("{proxy}/");
        let host = host.to_string();
        tasks.push(tokio::spawn(async move {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for _ in (worker..n).step_by(4) {
                let resp = http.get(&url).header("host", &host).send().await.unwrap();
                let key = match resp.headers().get("x-backend") {
                    Some(v) => v.to_str().unwrap().to_string(),
                    None => format!("status {}", resp.status().as_u16()),
                };
                *counts.entry(key).or_default() += 1;
            }
            counts
        }));
    }
    let mut total: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        for (k, v) in t.await.unwrap() {
            *total.entry(k).or_default() += v;
        }
    }
    total
}

fn near(got: usize, want: usize, n: usize) -> bool {
    got.abs_diff(want) * 100 <= n * 3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_blue_green_split_over_http() {
    let (b1, b2, g1, g2) = (
        backend("blue-1").await,
        backend("blue-2").await,
        backend("green-1").await,
        backend("green-2").await,
    );
    let sim = start(SimConfig::default()).await;
    let http = client();
    // The seed's sequence, with the 192.168.34.x targets replaced by our backends.
    form(&sim, &http, "POST", "/upstreams", "name=address.v1.service").await;
    form(
        &sim,
        &http,
        "POST",
        "/upstreams/address.v1.service/targets",
        &format!("target={}&weight=100", b1.addr()),
    )
    .await;
    form(
        &sim,
        &http,
        "POST",
        "/upstreams/address.v1.service/targets",
        &format!("target={}&weight=50", b2.addr()),
    )
    .await;
    form(
        &sim,
        &http,
        "POST",
        "/services/",
        "name=address-service&host=address.v1.service&path=/address",
    )
    .await;
    form(
        &sim,
        &http,
        "POST",
        "/services/address-service/routes/",
        "hosts[]=address.mydomain.com",
    )
    .await;

    let n = 600;
    let counts = split(&sim.proxy_url(), "address.mydomain.com", n).await;
    assert!(
        near(counts.get("blue-1").copied().unwrap_or(0), 400, n),
        "{counts:?}"
    );
    assert!(
        near(counts.get("blue-2").copied().unwrap_or(0), 200, n),
        "{counts:?}"
    );
    assert_eq!(counts.values().sum::<usize>(), n, "{counts:?}");

    // The service path is prepended upstream.
    let resp = http
        .get(format!("{}/x", sim.proxy_url()))
        .header("host", "address.mydomain.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-backend-path"], "/address/x");
    assert!(resp.headers()["via"]
        .to_str()
        .unwrap()
        .contains("kong/3.9.0"));

    form(&sim, &http, "POST", "/upstreams", "name=address.v2.service").await;
    form(
        &sim,
        &http,
        "POST",
        "/upstreams/address.v2.service/targets",
        &format!("target={}&weight=100", g1.addr()),
    )
    .await;
    form(
        &sim,
        &http,
        "POST",
        "/upstreams/address.v2.service/targets",
        &format!("target={}&weight=100", g2.addr()),
    )
    .await;
    form(
        &sim,
        &http,
        "PATCH",
        "/services/address-service",
        "host=address.v2.service",
    )
    .await;

    let counts = split(&sim.proxy_url(), "address.mydomain.com", n).await;
    assert!(
        near(counts.get("green-1").copied().unwrap_or(0), 300, n),
        "{counts:?}"
    );
    assert!(
        near(counts.get("green-2").copied().unwrap_or(0), 300, n),
        "{counts:?}"
    );
    assert_eq!(counts.values().sum::<usize>(), n, "{counts:?}");
    assert_eq!(b1.request_count() + b2.request_count(), 601);

    // Kong matches hosts exactly: another host has no route.
    let resp = http
        .get(format!("{}/", sim.proxy_url()))
        .header("host", "other.test")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        json!({"message": "no Route matched with those values"})
    );
}

#[tokio::test]
async fn weights_zero_health_marks_and_direct_hosts() {
    let (blue, green) = (backend("blue").await, backend("green").await);
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let post = |path: &'static str, body: serde_json::Value| {
        let http = http.clone();
        let admin = admin.clone();
        async move { send(&http, &admin, "POST", path, &Body::Json(body), &[]).await }
    };
    post("/upstreams", json!({"name": "app.internal"})).await;
    post(
        "/upstreams/app.internal/targets",
        json!({"target": blue.addr().to_string(), "weight": 100}),
    )
    .await;
    post(
        "/upstreams/app.internal/targets",
        json!({"target": green.addr().to_string(), "weight": 0}),
    )
    .await;
    post("/services", json!({"name": "app", "host": "app.internal"})).await;
    post("/services/app/routes", json!({"paths": ["/app"]})).await;
    // Direct service: host:port with no upstream of that name.
    post(
        "/services",
        json!({"name": "direct", "url": format!("http://{}/base", green.addr())}),
    )
    .await;
    post(
        "/services/direct/routes",
        json!({"paths": ["/direct"], "strip_path": true}),
    )
    .await;

    let proxy = sim.proxy_url();
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("{proxy}{path}");
        async move { http.get(url).send().await.unwrap() }
    };
    for _ in 0..10 {
        assert_eq!(
            get("/app").await.headers()["x-backend"],
            "blue",
            "weight 0 gets nothing"
        );
    }
    let r = get("/direct/y").await;
    assert_eq!(r.headers()["x-backend"], "green");
    assert_eq!(r.headers()["x-backend-path"], "/base/y");

    // A target marked unhealthy by hand leaves the balancer; with every target out, 503.
    let r = send(
        &http,
        &admin,
        "PUT",
        &format!("/upstreams/app.internal/targets/{}/unhealthy", blue.addr()),
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 204);
    let r = get("/app").await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["message"],
        "failure to get a peer from the ring-balancer"
    );
    send(
        &http,
        &admin,
        "PUT",
        &format!("/upstreams/app.internal/targets/{}/healthy", blue.addr()),
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(get("/app").await.status(), 200);

    // A dead target: Kong answers 502 after its retries.
    blue.shutdown().await;
    let r = get("/app").await;
    assert_eq!(r.status(), 502);
}
