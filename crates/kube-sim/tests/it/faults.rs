//! Fault injection: next-N failures, delays and hangs.

use std::time::{Duration, Instant};

use crate::support::*;

#[tokio::test]
async fn fail_next_answers_a_status_then_recovers() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(SERVICES, &service("web", "blue")).await;
    sim.faults()
        .fail_next("PATCH", "/api/v1/namespaces/*/services/web", 2, 500);
    let body = r#"{"spec":{"selector":{"version":"green"}}}"#;
    let path = format!("{SERVICES}/web");
    let (code, st) = api.get(&path).await;
    assert_eq!(code, 200, "GETs do not match a PATCH rule: {st}");
    for _ in 0..2 {
        let (code, st) = api.patch(&path, MERGE, body).await;
        assert_eq!(
            (code, st["kind"].as_str(), st["reason"].as_str()),
            (500, Some("Status"), Some("InternalError"))
        );
    }
    assert_eq!(
        sim.get("v1", "Service", "default", "web").unwrap()["spec"]["selector"]["version"],
        "blue"
    );
    let (code, _) = api.patch(&path, MERGE, body).await;
    assert_eq!(code, 200);
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
}

#[tokio::test]
async fn delay_next_slows_a_request_down() {
    let sim = sim().await;
    let api = Api::new(&sim);
    sim.faults().delay_next(
        "*",
        "/api/v1/namespaces/default/services",
        1,
        Duration::from_millis(300),
    );
    let start = Instant::now();
    let (code, _) = api.get(SERVICES).await;
    assert_eq!(code, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn hang_next_never_answers() {
    let sim = sim().await;
    sim.faults().hang_next("GET", "/api/v1/*", 1);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .get(format!("{}{SERVICES}", sim.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(sim.faults().pending().is_empty(), "the rule was used up");
    let (code, _) = Api::new(&sim).get(SERVICES).await;
    assert_eq!(code, 200);
    sim.shutdown().await;
}
