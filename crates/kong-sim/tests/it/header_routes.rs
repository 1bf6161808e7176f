//! Routing by header like Kong 3.x (issue 16): a route that adds `headers` to another route's
//! hosts wins for requests that carry a matching value (more matching attributes), exact values
//! compare case-insensitively, and a `~*` value is a regex looked for in the lower-cased value.
//! Which backend answered is read from the backends' own counters.

use kong_sim::{Backend, BackendConfig, SimConfig};
use serde_json::json;

use crate::harness::{client, send, start, Body};

async fn hits(http: &reqwest::Client, proxy: &str, header: Option<(&str, &str)>) -> u16 {
    let mut req = http.get(format!("{proxy}/")).header("host", "app.test");
    if let Some((k, v)) = header {
        req = req.header(k, v);
    }
    req.send().await.expect("proxied").status().as_u16()
}

#[tokio::test]
async fn a_header_route_wins_for_matching_requests_only() {
    let stable = Backend::start(BackendConfig::new("stable")).await.unwrap();
    let canary = Backend::start(BackendConfig::new("canary")).await.unwrap();
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let proxy = sim.proxy_url();
    for (name, host, backend) in [
        ("app", "stable.internal", &stable),
        ("app-canary", "canary.internal", &canary),
    ] {
        send(
            &http,
            &admin,
            "PUT",
            &format!("/upstreams/{host}"),
            &Body::Json(json!({"name": host})),
            &[],
        )
        .await;
        send(
            &http,
            &admin,
            "POST",
            &format!("/upstreams/{host}/targets"),
            &Body::Json(json!({"target": backend.addr().to_string()})),
            &[],
        )
        .await;
        let r = send(
            &http,
            &admin,
            "PUT",
            &format!("/services/{name}"),
            &Body::Json(json!({"host": host})),
            &[],
        )
        .await;
        assert!(r.status < 300, "{}", r.raw);
    }
    // The plain route first (older), then the header routes on the same host.
    let routes = [
        (
            "plain",
            json!({"hosts": ["app.test"], "service": {"name": "app"}}),
        ),
        (
            "by-exact",
            json!({"hosts": ["app.test"], "headers": {"X-Canary": ["Yes"]}, "service": {"name": "app-canary"}}),
        ),
        (
            "by-regex",
            json!({"hosts": ["app.test"], "headers": {"cookie": ["~*(^|; )beta=(1|on)(;|$)"]}, "service": {"name": "app-canary"}}),
        ),
    ];
    for (name, body) in routes {
        let r = send(
            &http,
            &admin,
            "PUT",
            &format!("/routes/{name}"),
            &Body::Json(body),
            &[],
        )
        .await;
        assert!(r.status < 300, "{name}: {}", r.raw);
    }
    let cases: [(Option<(&str, &str)>, bool); 7] = [
        (None, false),
        (Some(("x-canary", "yes")), true),
        (Some(("X-Canary", "YES")), true),
        (Some(("x-canary", "yes please")), false),
        (Some(("cookie", "a=b; BETA=On; c=d")), true),
        (Some(("cookie", "beta=2")), false),
        (Some(("cookie", "xbeta=1")), false),
    ];
    for (header, to_canary) in cases {
        let (s0, c0) = (stable.request_count(), canary.request_count());
        for _ in 0..5 {
            assert_eq!(hits(&http, &proxy, header).await, 200, "{header:?}");
        }
        let (s, c) = (stable.request_count() - s0, canary.request_count() - c0);
        let want = if to_canary { (0, 5) } else { (5, 0) };
        assert_eq!((s, c), want, "{header:?}: (stable, canary)");
    }
}
