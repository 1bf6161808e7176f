//! `propagation_delay`: the data plane sees Admin API writes only after the delay.

use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, SimConfig};
use serde_json::json;

use crate::harness::{client, send, start, Body};

async fn first_backend(http: &reqwest::Client, proxy: &str) -> Option<String> {
    let r = http
        .get(format!("{proxy}/"))
        .header("host", "app.test")
        .send()
        .await
        .ok()?;
    r.headers()
        .get("x-backend")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn data_plane_lags_admin_writes_by_the_delay() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let green = Backend::start(BackendConfig::new("green")).await.unwrap();
    let delay = Duration::from_millis(400);
    let sim = start(SimConfig {
        propagation_delay: delay,
        ..SimConfig::default()
    })
    .await;
    let http = client();
    let admin = sim.admin_url();
    let proxy = sim.proxy_url();
    let post = |path: &'static str, body: serde_json::Value| {
        let (http, admin) = (http.clone(), admin.clone());
        async move { send(&http, &admin, "POST", path, &Body::Json(body), &[]).await }
    };
    post("/upstreams", json!({"name": "app.internal"})).await;
    post(
        "/upstreams/app.internal/targets",
        json!({"target": blue.addr().to_string()}),
    )
    .await;
    post("/services", json!({"name": "app", "host": "app.internal"})).await;
    let written = Instant::now();
    post("/services/app/routes", json!({"hosts": ["app.test"]})).await;

    // Not visible yet: no route.
    let r = http
        .get(format!("{proxy}/"))
        .header("host", "app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Visible once the delay has passed.
    loop {
        if first_backend(&http, &proxy).await.as_deref() == Some("blue") {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(3),
            "route never became visible"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        written.elapsed() >= delay.saturating_sub(Duration::from_millis(20)),
        "visible after {:?}",
        written.elapsed()
    );

    // Switch blue -> green: old traffic continues until the delay passes.
    post(
        "/upstreams/app.internal/targets",
        json!({"target": green.addr().to_string(), "weight": 100}),
    )
    .await;
    let switched = Instant::now();
    let r = send(
        &http,
        &admin,
        "PATCH",
        &format!("/upstreams/app.internal/targets/{}", blue.addr()),
        &Body::Json(json!({"weight": 0})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    for _ in 0..5 {
        assert_eq!(first_backend(&http, &proxy).await.as_deref(), Some("blue"));
    }
    assert!(
        switched.elapsed() < delay,
        "test too slow to observe the lag"
    );
    tokio::time::sleep(delay).await;
    for _ in 0..5 {
        assert_eq!(first_backend(&http, &proxy).await.as_deref(), Some("green"));
    }
}

#[tokio::test]
async fn without_delay_writes_are_visible_at_once() {
    let blue = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let body = json!({"name": "app", "url": format!("http://{}", blue.addr())});
    send(&http, &admin, "POST", "/services", &Body::Json(body), &[]).await;
    send(
        &http,
        &admin,
        "POST",
        "/services/app/routes",
        &Body::Json(json!({"hosts": ["app.test"]})),
        &[],
    )
    .await;
    assert_eq!(
        first_backend(&http, &sim.proxy_url()).await.as_deref(),
        Some("blue")
    );
}
