//! Several Kong nodes in one simulator: with a database they share one store and each data
//! plane lags by its own delay (Kong nodes polling one Postgres, issue 15 §1); DB-less every
//! node holds its own declarative config (§2). Per-node request logs, faults and control paths.

use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, FaultAction, FaultRule, SimConfig};
use serde_json::{json, Value};

use crate::harness::{client, send, start, Body};

/// The backend that answered `GET /` for `app.test` through `proxy`, or the status when none.
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

/// How long after `since` `proxy` first served `want` (polling every 10 ms, at most 5 s).
async fn visible_after(
    http: &reqwest::Client,
    proxy: &str,
    want: &str,
    since: Instant,
) -> Duration {
    loop {
        if served_by(http, proxy).await.as_deref() == Ok(want) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "{proxy} never served {want}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn post(http: &reqwest::Client, admin: &str, path: &str, body: Value) -> Value {
    let r = send(http, admin, "POST", path, &Body::Json(body), &[]).await;
    assert_eq!(r.status, 201, "POST {path}: {}", r.raw);
    r.body
}

#[tokio::test]
async fn nodes_share_one_store_and_each_data_plane_lags_by_its_own_delay() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let delays = [0, 300, 800].map(Duration::from_millis);
    let sim = start(SimConfig::cluster(&delays)).await;
    assert_eq!(sim.nodes().len(), 3);
    let http = client();
    let admins = sim.admin_urls();
    let proxies = sim.proxy_urls();
    assert_eq!(admins[0], sim.admin_url());
    assert_eq!(proxies[0], sim.proxy_url());

    // Every node says what it is; node ids differ; each lists its own listeners.
    let mut ids = Vec::new();
    for (i, admin) in admins.iter().enumerate() {
        let root = send(&http, admin, "GET", "/", &Body::None, &[]).await.body;
        assert_eq!(root["configuration"]["database"], json!("postgres"));
        assert_eq!(root["configuration"]["role"], json!("traditional"));
        let listen = root["configuration"]["admin_listen"][0].as_str().unwrap();
        assert!(admin.ends_with(listen), "node {i}: {listen} vs {admin}");
        ids.push(root["node_id"].as_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "node ids are distinct");

    // Written through node 2, read back at once through node 3's Admin API: one store.
    post(
        &http,
        &admins[1],
        "/upstreams",
        json!({"name": "app.internal"}),
    )
    .await;
    post(
        &http,
        &admins[1],
        "/upstreams/app.internal/targets",
        json!({"target": blue.addr().to_string()}),
    )
    .await;
    post(
        &http,
        &admins[1],
        "/services",
        json!({"name": "app", "host": "app.internal"}),
    )
    .await;
    let written = Instant::now();
    post(
        &http,
        &admins[1],
        "/services/app/routes",
        json!({"hosts": ["app.test"]}),
    )
    .await;
    let r = send(
        &http,
        &admins[2],
        "GET",
        "/services/app/routes",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);

    // Each proxy serves the route after its own delay, and not before.
    for (proxy, delay) in proxies.iter().zip(delays) {
        if delay > Duration::ZERO {
            assert_eq!(served_by(&http, proxy).await, Err(404), "{proxy} too early");
        }
    }
    let mut seen = Vec::new();
    for proxy in &proxies {
        seen.push(visible_after(&http, proxy, "blue", written).await);
    }
    for (took, delay) in seen.iter().zip(delays) {
        assert!(*took + Duration::from_millis(20) >= delay, "{seen:?}");
        assert!(*took < delay + Duration::from_millis(400), "{seen:?}");
    }
}

#[tokio::test]
async fn db_less_nodes_hold_independent_configs() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let green = Backend::start(BackendConfig::new("green")).await.unwrap();
    let sim = start(SimConfig {
        db_less: true,
        ..SimConfig::cluster(&[Duration::ZERO, Duration::ZERO])
    })
    .await;
    let http = client();
    let (a, b) = (sim.nodes()[0].admin_url(), sim.nodes()[1].admin_url());
    for admin in [&a, &b] {
        let root = send(&http, admin, "GET", "/", &Body::None, &[]).await.body;
        assert_eq!(root["configuration"]["database"], json!("off"));
    }
    let config = |backend: &Backend| {
        json!({
            "_format_version": "3.0",
            "services": [{"name": "app", "url": format!("http://{}", backend.addr()),
                          "routes": [{"name": "app", "hosts": ["app.test"]}]}],
        })
    };
    post(&http, &a, "/config", config(&blue)).await;
    assert_eq!(
        served_by(&http, &sim.nodes()[0].proxy_url())
            .await
            .as_deref(),
        Ok("blue")
    );
    assert_eq!(
        served_by(&http, &sim.nodes()[1].proxy_url()).await,
        Err(404)
    );
    let r = send(&http, &b, "GET", "/services", &Body::None, &[]).await;
    assert_eq!(
        r.body["data"],
        json!([]),
        "node 2 did not get node 1's config"
    );

    post(&http, &b, "/config", config(&green)).await;
    assert_eq!(
        served_by(&http, &sim.nodes()[0].proxy_url())
            .await
            .as_deref(),
        Ok("blue")
    );
    assert_eq!(
        served_by(&http, &sim.nodes()[1].proxy_url())
            .await
            .as_deref(),
        Ok("green")
    );
    let hash = |admin: String| {
        let http = http.clone();
        async move {
            let status = send(&http, &admin, "GET", "/status", &Body::None, &[])
                .await
                .body;
            status["configuration_hash"].as_str().unwrap().to_string()
        }
    };
    assert_ne!(hash(a).await, hash(b).await);
}

#[tokio::test]
async fn request_logs_and_faults_are_per_node() {
    let sim = start(SimConfig::cluster(&[Duration::ZERO, Duration::ZERO])).await;
    let http = client();
    let (one, two) = (&sim.nodes()[0], &sim.nodes()[1]);
    two.faults().add(FaultRule {
        method: Some("GET".into()),
        path: "/services".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Status {
            code: 503,
            retry_after: None,
            body: None,
        },
    });
    let r = send(
        &http,
        &one.admin_url(),
        "GET",
        "/services",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        &http,
        &two.admin_url(),
        "GET",
        "/services",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(one.requests().len(), 1);
    assert_eq!(two.requests()[0].status, 503);
    assert_eq!(sim.requests(), one.requests(), "the sim's log is node 1's");

    // The control port: `/requests` is node 1, `/nodes/2/…` node 2, `/nodes/3` does not exist.
    let control = sim.control_url();
    let get = |path: &'static str| {
        let (http, control) = (http.clone(), control.clone());
        async move { send(&http, &control, "GET", path, &Body::None, &[]).await }
    };
    assert_eq!(get("/requests").await.body[0]["status"], json!(200));
    assert_eq!(get("/nodes/2/requests").await.body[0]["status"], json!(503));
    assert_eq!(get("/nodes/3/requests").await.status, 404);
    let r = send(
        &http,
        &control,
        "POST",
        "/nodes/2/faults",
        &Body::Json(json!({"path": "/status", "action": {"type": "status", "code": 502}})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201);
    let r = send(&http, &one.admin_url(), "GET", "/status", &Body::None, &[]).await;
    assert_eq!(r.status, 200);
    let r = send(&http, &two.admin_url(), "GET", "/status", &Body::None, &[]).await;
    assert_eq!(r.status, 502);
}
