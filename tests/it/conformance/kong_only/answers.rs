//! Misbehaving Admin API answers.

use super::*;

// ---------------------------------------------------------------------------------------------
// 8. Misbehaving gateway answers
// ---------------------------------------------------------------------------------------------

type Answer = (u16, &'static str, String);

/// A tiny fake Admin API (raw HTTP/1.1, one answer per connection) on 127.0.0.1:0 whose answer
/// to each path comes from `answer`. Returns its URL and a request counter.
async fn fake_admin(answer: fn(&str, usize) -> Answer) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65_536 {
                    match tcp.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let n = seen.fetch_add(1, Ordering::Relaxed);
                let (status, ctype, body) = answer(&path, n);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    (url, count)
}

const JSON: &str = "application/json";

fn not_found() -> Answer {
    (404, JSON, r#"{"message":"Not found"}"#.into())
}

fn service_ok() -> Answer {
    (
        200,
        JSON,
        r#"{"id":"3f1c","name":"address-service","host":"address.v1.service","tags":[]}"#.into(),
    )
}

async fn status_against(answer: fn(&str, usize) -> Answer) -> (Output, Duration, usize) {
    let stack = Stack::start().await;
    let (url, count) = fake_admin(answer).await;
    let plan = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let (out, took) = spawn(
        &stack,
        &["--timeout", "30s", "status", "--no-probe", "-f", p(&plan)],
        &[("KONG_ADMIN_URL", url.as_str())],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert!(!stderr(&out).contains("panicked"), "{}", render(&out));
    (out, took, count.load(Ordering::Relaxed))
}

/// Malformed JSON, an HTML error page, a `data` that is not an array and a service without a
/// `host`: each a clear exit-1 error naming the call, never a panic or a wrong status.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_admin_answers_are_clear_errors() {
    let (out, _, _) = status_against(|path, _| {
        if path.starts_with("/services/") {
            (200, JSON, r#"{"id": "x", "host": "#.into())
        } else {
            not_found()
        }
    })
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("GET /services/address-service") && stderr(&out).contains("not JSON"),
        "{}",
        render(&out)
    );

    let (out, _, _) = status_against(|_, _| (502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>".into())).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("HTTP 502") && stderr(&out).contains("Bad Gateway"),
        "{}",
        render(&out)
    );

    let (out, _, _) = status_against(|path, _| {
        if path.starts_with("/services/") {
            service_ok()
        } else if path.starts_with("/upstreams/address.v1.service/targets") {
            (
                200,
                JSON,
                r#"{"data": {"target": "127.0.0.1:1"}, "next": null}"#.into(),
            )
        } else if path.starts_with("/upstreams/address.v1.service") {
            (
                200,
                JSON,
                r#"{"id":"u1","name":"address.v1.service"}"#.into(),
            )
        } else {
            not_found()
        }
    })
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("without a `data` array"),
        "{}",
        render(&out)
    );

    for body in [
        r#"{"id":"3f1c","name":"address-service"}"#,
        r#"{"id":"3f1c","host":42}"#,
        "[]",
        "7",
    ] {
        let answer: fn(&str, usize) -> Answer = match body {
            "[]" => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, "[]".into())
                } else {
                    not_found()
                }
            },
            "7" => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, "7".into())
                } else {
                    not_found()
                }
            },
            b if b.contains("42") => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, r#"{"id":"3f1c","host":42}"#.into())
                } else {
                    not_found()
                }
            },
            _ => |path, _| {
                if path.starts_with("/services/") {
                    (
                        200,
                        JSON,
                        r#"{"id":"3f1c","name":"address-service"}"#.into(),
                    )
                } else {
                    not_found()
                }
            },
        };
        let (out, _, _) = status_against(answer).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "service {body}: {}",
            render(&out)
        );
        assert!(
            stderr(&out).contains("host"),
            "service {body}: {}",
            render(&out)
        );
    }
}

/// Pagination that repeats an offset stops at once; one whose offsets never end stops at the
/// client's page limit (or the run's deadline) — bounded in requests and time.
#[tokio::test(flavor = "multi_thread")]
async fn endless_pagination_is_bounded() {
    fn page(path: &str, n: usize, repeat: bool) -> Answer {
        if path.starts_with("/services/") {
            service_ok()
        } else if path.starts_with("/upstreams/address.v1.service/targets") {
            let offset = if repeat {
                "same".to_string()
            } else {
                format!("o{n}")
            };
            (200, JSON, format!(r#"{{"data":[],"offset":"{offset}"}}"#))
        } else if path.starts_with("/upstreams/address.v1.service") {
            (
                200,
                JSON,
                r#"{"id":"u1","name":"address.v1.service"}"#.into(),
            )
        } else {
            not_found()
        }
    }
    let (out, _, requests) = status_against(|path, n| page(path, n, true)).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("repeats offset `same`"),
        "{}",
        render(&out)
    );
    assert!(requests < 10, "{requests}");

    let (out, took, requests) = status_against(|path, n| page(path, n, false)).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let err = stderr(&out);
    assert!(
        err.contains("pages") || err.contains("deadline"),
        "{}",
        render(&out)
    );
    println!(
        "endless pagination: stopped after {requests} requests in {:.1}s",
        took.as_secs_f64()
    );
    assert!(requests <= 10_010, "{requests}");
}
