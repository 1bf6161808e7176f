//! The sampling client against a local server whose answers the test chooses.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::get as route;
use axum::Router;

use super::*;

async fn server() -> String {
    let app = Router::new()
        .route(
            "/named",
            route(|| async {
                let mut h = HeaderMap::new();
                h.insert("x-backend", HeaderValue::from_static("green-1"));
                (h, "green\n")
            }),
        )
        .route("/plain", route(|| async { "hello\n" }))
        .route(
            "/down",
            route(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down\n") }),
        )
        .route(
            "/moved",
            route(|| async {
                let mut h = HeaderMap::new();
                h.insert("location", HeaderValue::from_static("http://127.0.0.1:1/"));
                (StatusCode::FOUND, h, "")
            }),
        )
        .route(
            "/slow",
            route(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late\n"
            }),
        )
        .route(
            "/hostile",
            route(|| async {
                let mut h = HeaderMap::new();
                h.insert(
                    "x-backend",
                    HeaderValue::from_bytes("blue\u{202e}\tevil".as_bytes()).expect("header"),
                );
                (h, "x".repeat(1024 * 1024))
            }),
        )
        .route(
            "/host",
            route(|headers: HeaderMap| async move {
                let host = headers
                    .get("host")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let mut h = HeaderMap::new();
                h.insert("x-host", HeaderValue::from_str(&host).expect("host"));
                h
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn req<'a>(url: &'a str, header: Option<&'a str>) -> Request<'a> {
    Request {
        url,
        host: None,
        header,
    }
}

#[tokio::test]
async fn keeps_status_and_the_asked_header() {
    let base = server().await;
    let client = crate::http::client();
    let url = format!("{base}/named");
    let a = get(
        &client,
        &req(&url, Some("X-Backend")),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(a.status, Ok(200));
    assert_eq!(a.header.as_deref(), Some("green-1"));
    assert_eq!(a.failure(), None);
    // Not asked: not kept.
    let a = get(&client, &req(&url, None), Duration::from_secs(2)).await;
    assert_eq!(a.header, None);
    // Asked but not sent.
    let url = format!("{base}/plain");
    let a = get(
        &client,
        &req(&url, Some("X-Backend")),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!((a.status, a.header), (Ok(200), None));
}

#[tokio::test]
async fn five_hundreds_and_socket_errors_fail_redirects_do_not_and_are_not_followed() {
    let base = server().await;
    let client = crate::http::client();
    let url = format!("{base}/down");
    let a = get(&client, &req(&url, None), Duration::from_secs(2)).await;
    assert_eq!(a.failure().as_deref(), Some("HTTP 503"));
    let url = format!("{base}/moved");
    let a = get(&client, &req(&url, None), Duration::from_secs(2)).await;
    assert_eq!(a.status, Ok(302), "the 302 itself, not where it points");
    assert_eq!(a.failure(), None);
    let a = get(
        &client,
        &req("http://127.0.0.1:1/", None),
        Duration::from_secs(2),
    )
    .await;
    let why = a.failure().expect("refused");
    assert!(why.starts_with("unreachable ("), "{why}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_named_with_the_limit() {
    let base = server().await;
    let client = crate::http::client();
    let url = format!("{base}/slow");
    let a = get(&client, &req(&url, None), Duration::from_millis(200)).await;
    assert_eq!(a.status, Err("no answer within 200ms".to_string()));
    assert!(a.latency < Duration::from_secs(2), "{:?}", a.latency);
}

#[tokio::test]
async fn hostile_header_values_are_made_printable_and_a_big_body_still_answers() {
    let base = server().await;
    let client = crate::http::client();
    let url = format!("{base}/hostile");
    let a = get(
        &client,
        &req(&url, Some("x-backend")),
        Duration::from_secs(2),
    )
    .await;
    let value = a.header.expect("header");
    assert!(
        !value.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{value:?}"
    );
    assert!(value.starts_with("blue"), "{value:?}");
    assert_eq!(a.status, Ok(200));
}

#[tokio::test]
async fn sends_the_host_header_and_many_sends_n() {
    let base = server().await;
    let client = crate::http::client();
    let url = format!("{base}/host");
    let r = Request {
        url: &url,
        host: Some("address.mydomain.com"),
        header: Some("x-host"),
    };
    let answers = many(&client, &r, 7, 3, &|| Duration::from_secs(2)).await;
    assert_eq!(answers.len(), 7);
    assert!(answers
        .iter()
        .all(|a| a.header.as_deref() == Some("address.mydomain.com")));
}

#[test]
fn counts_are_most_frequent_first_and_capped() {
    let v = ["b", "a", "b", "c", "d", "b", "a"].map(String::from);
    assert_eq!(counted(v.iter().cloned(), 2), "b ×3, a ×2, others ×2");
    assert_eq!(counted(v.iter().cloned(), 9), "b ×3, a ×2, c ×1, d ×1");
    let answers = vec![
        Answer {
            status: Ok(500),
            latency: Duration::ZERO,
            header: None,
        },
        Answer {
            status: Ok(200),
            latency: Duration::ZERO,
            header: None,
        },
        Answer {
            status: Err("no answer within 1s".into()),
            latency: Duration::ZERO,
            header: None,
        },
        Answer {
            status: Ok(500),
            latency: Duration::ZERO,
            header: None,
        },
    ];
    assert_eq!(
        top_reasons(&answers, 3),
        "HTTP 500 ×2, no answer within 1s ×1"
    );
}
