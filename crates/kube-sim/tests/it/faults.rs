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

/// Sends one raw HTTP/1.1 request and reads until the server ends the connection. Returns the
/// bytes received and how the connection ended: `Err(ConnectionReset)` for a RST, `Ok` for a FIN.
async fn raw_request(
    sim: &kube_sim::KubeSim,
    head: &str,
    body: &str,
) -> (Vec<u8>, std::io::Result<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let req = format!(
        "{head} HTTP/1.1\r\nhost: kube-sim\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("the server ended the connection within 5 s");
    (got, ended)
}

/// Not one byte of an answer, and the connection ended with a RST (not a FIN).
fn assert_reset_without_answer(got: &[u8], ended: std::io::Result<()>) {
    assert!(
        got.is_empty(),
        "no byte of an answer: {:?}",
        String::from_utf8_lossy(got)
    );
    assert_eq!(
        ended.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset),
        "a RST, not a FIN"
    );
}

#[tokio::test]
async fn reset_next_aborts_the_connection_with_a_rst_and_does_not_write() {
    let sim = sim().await;
    sim.faults().reset_next("POST", "*/services", 1);
    let body = service("web", "blue").to_string();
    let (got, ended) = raw_request(&sim, &format!("POST {SERVICES}"), &body).await;
    assert_reset_without_answer(&got, ended);
    assert!(
        sim.get("v1", "Service", "default", "web").is_none(),
        "not carried out"
    );
    let log = sim.requests();
    assert_eq!((log[0].status, log[0].aborted), (0, true), "{log:?}");
    // An HTTP client sees a connection error; the next request is served.
    sim.faults().reset_next("GET", "*/services", 1);
    let err = reqwest::get(format!("{}{SERVICES}", sim.url()))
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    let (code, _) = Api::new(&sim).get(SERVICES).await;
    assert_eq!(code, 200);
    assert!(sim.faults().pending().is_empty());
}

#[tokio::test]
async fn lose_answer_next_stores_the_write_then_resets() {
    let sim = sim().await;
    sim.faults().lose_answer_next("POST", "*/services", 1);
    let body = service("web", "blue").to_string();
    let (got, ended) = raw_request(&sim, &format!("POST {SERVICES}"), &body).await;
    assert_reset_without_answer(&got, ended);
    let svc = sim
        .get("v1", "Service", "default", "web")
        .expect("the write landed");
    assert_eq!(svc["spec"]["selector"]["version"], "blue");
    let log = sim.requests();
    assert_eq!(
        (log[0].status, log[0].aborted),
        (201, true),
        "logged as it would have been"
    );
    // Through an HTTP client: the PATCH is applied, the client gets an error, not a status.
    sim.faults()
        .lose_answer_next("PATCH", "/api/v1/namespaces/*/services/web", 1);
    let err = reqwest::Client::new()
        .patch(format!("{}{SERVICES}/web", sim.url()))
        .header("content-type", MERGE)
        .body(r#"{"spec":{"selector":{"version":"green"}}}"#)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(
        sim.get("v1", "Service", "default", "web").unwrap()["spec"]["selector"]["version"],
        "green"
    );
    let last = sim.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.status, last.aborted),
        ("PATCH", 200, true)
    );
}

#[tokio::test]
async fn a_random_rate_faults_about_that_share_of_requests() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(SERVICES, &service("web", "blue")).await;
    sim.faults()
        .set_random(0.5, kube_sim::FaultAction::Status(500));
    let mut failed = 0;
    for _ in 0..200 {
        let (code, _) = api.get(&format!("{SERVICES}/web")).await;
        assert!(code == 200 || code == 500, "{code}");
        failed += usize::from(code == 500);
    }
    assert!(
        (60..=140).contains(&failed),
        "{failed} of 200 failed at 50 %"
    );
    // Resets at a random rate: every request either succeeds or is a connection error.
    sim.faults().set_random(0.5, kube_sim::FaultAction::Reset);
    let client = reqwest::Client::new();
    let mut reset = 0;
    for _ in 0..40 {
        match client
            .get(format!("{}{SERVICES}/web", sim.url()))
            .send()
            .await
        {
            Ok(r) => assert_eq!(r.status(), 200),
            Err(e) => {
                assert!(e.status().is_none(), "{e:?}");
                reset += 1;
            }
        }
    }
    assert!((5..=35).contains(&reset), "{reset} of 40 reset at 50 %");
    assert_eq!(
        sim.requests().iter().filter(|r| r.aborted).count(),
        reset,
        "each reset is logged"
    );
    sim.faults().clear();
    let (code, _) = api.get(SERVICES).await;
    assert_eq!(code, 200);
}
