//! Fault injection (library and control port) and backend runtime controls.

use std::time::{Duration, Instant};

use kong_sim::{Backend, BackendConfig, FaultAction, FaultRule, SimConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{client, send, start, Body};

fn rule(method: &str, path: &str, skip: u32, times: u32, action: FaultAction) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        skip,
        times,
        action,
    }
}

#[tokio::test]
async fn status_faults_skip_then_apply_with_retry_after() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let action = FaultAction::Status {
        code: 429,
        retry_after: Some(3),
        body: None,
    };
    sim.faults().add(rule("POST", "/upstreams*", 1, 2, action));
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = send(
            &http,
            &admin,
            "POST",
            "/upstreams",
            &Body::Json(json!({"name": format!("u{i}.test")})),
            &[],
        )
        .await;
        if r.status == 429 {
            assert_eq!(r.headers["retry-after"], "3");
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [201, 429, 429, 201]);
    // GET is not matched by a POST rule.
    assert_eq!(
        send(&http, &admin, "GET", "/upstreams", &Body::None, &[])
            .await
            .status,
        200
    );
    let log = sim.requests();
    let logged: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(logged, [201, 429, 429, 201, 200]);
    assert!(log[0].is_write() && !log[4].is_write());
    assert_eq!(log[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(log[0].body, r#"{"name":"u0.test"}"#);
    assert_eq!(log[4].path, "/upstreams");
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn hang_reset_and_delay() {
    let sim = start(SimConfig::default()).await;
    let admin = sim.admin_url();
    sim.faults()
        .add(rule("GET", "/hang", 0, 1, FaultAction::Hang { ms: 300 }));
    sim.faults()
        .add(rule("GET", "/reset", 0, 1, FaultAction::Reset));
    sim.faults()
        .add(rule("GET", "/status", 0, 1, FaultAction::Delay { ms: 200 }));

    // Hang: a client with a short timeout times out; the connection closes after `ms`.
    let short = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = short.get(format!("{admin}/hang")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    sim.faults()
        .add(rule("GET", "/hang", 0, 1, FaultAction::Hang { ms: 300 }));
    let started = Instant::now();
    let err = client()
        .get(format!("{admin}/hang"))
        .send()
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(290), "{err:?}");

    // Reset: the TCP connection is aborted with a RST.
    let addr = admin.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /reset HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let read = stream.read(&mut buf).await;
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a reset, got {read:?}"
    );

    // Lose answer: the write is made, the client gets a reset instead of the answer.
    sim.faults()
        .add(rule("POST", "/upstreams", 0, 1, FaultAction::LoseAnswer));
    let err = client()
        .post(format!("{admin}/upstreams"))
        .json(&json!({"name": "lost.upstream"}))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err:?}");
    let r = send(
        &client(),
        &admin,
        "GET",
        "/upstreams/lost.upstream",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "the write landed");
    let logged = sim
        .requests()
        .into_iter()
        .find(|l| l.method == "POST" && l.path == "/upstreams")
        .unwrap();
    assert_eq!(
        logged.status, 201,
        "logged with the status it would have had"
    );

    // Delay: answered normally, late.
    let started = Instant::now();
    let r = send(&client(), &admin, "GET", "/status", &Body::None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Rules are spent: everything is normal again.
    assert_eq!(
        send(&client(), &admin, "GET", "/hang", &Body::None, &[])
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn random_rate_and_control_port() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let control = sim.control_url();
    sim.faults().set_random(
        1.0,
        FaultAction::Status {
            code: 500,
            retry_after: None,
            body: Some("{}".into()),
        },
    );
    for _ in 0..5 {
        assert_eq!(
            send(&http, &admin, "GET", "/", &Body::None, &[])
                .await
                .status,
            500
        );
    }
    sim.faults().clear();
    assert_eq!(
        send(&http, &admin, "GET", "/", &Body::None, &[])
            .await
            .status,
        200
    );

    // Faults never touch the proxy port.
    sim.faults().add(rule(
        "GET",
        "*",
        0,
        100,
        FaultAction::Status {
            code: 418,
            retry_after: None,
            body: None,
        },
    ));
    let r = http
        .get(format!("{}/", sim.proxy_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The control port drives the same tables.
    let r = send(&http, &control, "DELETE", "/faults", &Body::None, &[]).await;
    assert_eq!(r.status, 200);
    let rule_json = json!({"method": "PATCH", "path": "/services/*", "skip": 0, "times": 1,
        "action": {"type": "status", "code": 503, "retry_after": null, "body": null}});
    assert_eq!(
        send(
            &http,
            &control,
            "POST",
            "/faults",
            &Body::Json(rule_json),
            &[]
        )
        .await
        .status,
        201
    );
    let r = send(
        &http,
        &admin,
        "PATCH",
        "/services/x",
        &Body::Json(json!({"retries": 1})),
        &[],
    )
    .await;
    assert_eq!(r.status, 503);
    let random = json!({"rate": 1.0, "action": {"type": "reset"}});
    assert_eq!(
        send(
            &http,
            &control,
            "POST",
            "/faults/random",
            &Body::Json(random),
            &[]
        )
        .await
        .status,
        200
    );
    assert!(http.get(format!("{admin}/")).send().await.is_err());
    send(&http, &control, "DELETE", "/faults", &Body::None, &[]).await;

    let r = send(&http, &control, "GET", "/requests", &Body::None, &[]).await;
    let log = r.body.as_array().unwrap();
    let patch = log.iter().find(|e| e["method"] == "PATCH").unwrap();
    assert_eq!(patch["path"], "/services/x");
    assert_eq!(patch["status"], 503);
    assert_eq!(patch["body"], r#"{"retries":1}"#);
    assert!(patch["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "content-type"));
    assert_eq!(
        send(&http, &control, "DELETE", "/requests", &Body::None, &[])
            .await
            .status,
        200
    );
    let r = send(&http, &control, "GET", "/requests", &Body::None, &[]).await;
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn backend_health_error_rate_and_metrics() {
    let backend = Backend::start(BackendConfig::new("blue")).await.unwrap();
    let http = client();
    let url = backend.url();
    let r = http.get(format!("{url}/anything")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backend"], "blue");
    assert_eq!(r.text().await.unwrap(), "blue\n");
    assert_eq!(
        http.get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok\n"
    );

    backend.set_healthy(false);
    assert_eq!(
        http.get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let r = http
        .put(format!("{url}/_sim/health"))
        .body(r#"{"healthy":true}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        http.get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    backend.set_error_rate(1.0);
    assert_eq!(
        http.get(format!("{url}/x")).send().await.unwrap().status(),
        500
    );
    let r = http
        .put(format!("{url}/_sim/error-rate"))
        .body(r#"{"rate":0}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        http.get(format!("{url}/x")).send().await.unwrap().status(),
        200
    );

    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("app_requests_total{color=\"blue\",code=\"200\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("app_requests_total{color=\"blue\",code=\"500\"} 1\n"),
        "{metrics}"
    );
    assert_eq!(backend.request_count(), 3);

    // Latency applies to normal requests.
    let mut config = BackendConfig::new("slow");
    config.latency = Duration::from_millis(50);
    let slow = Backend::start(config).await.unwrap();
    let started = Instant::now();
    http.get(format!("{}/", slow.url())).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    slow.shutdown().await;
    backend.shutdown().await;
}
