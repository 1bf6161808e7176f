//! Upstreams with thousands of targets: the target indexes (by upstream, by address, by
//! creation) must give the answers the table scans gave — newest-first pages that list every
//! target once, a 409 for a duplicate address, lookups by address, deletes that free the
//! address again (also by cascade) — and a data plane that builds its snapshot lazily must
//! still route by the last answered write.

use kong_sim::{Backend, BackendConfig, SimConfig};
use serde_json::{json, Value};

use crate::harness::{client, send, start, Body};

const N: usize = 1_500;

fn addr(i: usize) -> String {
    format!("10.9.{}.{}:80", i / 250, i % 250 + 1)
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let body = if body.is_null() {
        Body::None
    } else {
        Body::Json(body)
    };
    let r = send(http, base, method, path, &body, &[]).await;
    (r.status, r.body)
}

/// Every target of `up`, following the pages (`size=1000`).
async fn list_all(http: &reqwest::Client, base: &str, up: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = format!("/upstreams/{up}/targets?size=1000");
    for _ in 0..10 {
        let (status, page) = call(http, base, "GET", &path, Value::Null).await;
        assert_eq!(status, 200, "{page}");
        out.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["offset"].as_str() {
            Some(o) => path = format!("/upstreams/{up}/targets?size=1000&offset={o}"),
            None => return out,
        }
    }
    panic!("pagination did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_targets_keep_kongs_answers() {
    let sim = start(SimConfig::default()).await;
    let base = sim.admin_url();
    let http = client();
    assert_eq!(
        call(&http, &base, "PUT", "/upstreams/big", json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        call(&http, &base, "PUT", "/upstreams/small", json!({}))
            .await
            .0,
        200
    );
    for i in 0..N {
        let (status, body) = call(
            &http,
            &base,
            "POST",
            "/upstreams/big/targets",
            json!({"target": addr(i), "weight": 10}),
        )
        .await;
        assert_eq!(status, 201, "{i}: {body}");
    }
    // The same address in another upstream is not a duplicate; in the same one it is.
    let (status, _) = call(
        &http,
        &base,
        "POST",
        "/upstreams/small/targets",
        json!({"target": addr(700)}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(
        &http,
        &base,
        "POST",
        "/upstreams/big/targets",
        json!({"target": addr(700)}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["fields"]["target"], json!(addr(700)), "{body}");

    // Every target listed once, newest first, over two pages.
    let all = list_all(&http, &base, "big").await;
    let listed: Vec<&str> = all.iter().map(|t| t["target"].as_str().unwrap()).collect();
    let mut want: Vec<String> = (0..N).map(addr).collect();
    want.reverse();
    let created: Vec<f64> = all
        .iter()
        .map(|t| t["created_at"].as_f64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    let mut want_sorted: Vec<&str> = want.iter().map(String::as_str).collect();
    want_sorted.sort_unstable();
    assert_eq!(sorted, want_sorted, "each target exactly once");

    // By address: read, update, delete; the address is free again afterwards.
    let path = format!("/upstreams/big/targets/{}", addr(3));
    let (status, body) = call(&http, &base, "PATCH", &path, json!({"weight": 77})).await;
    assert_eq!((status, body["weight"].clone()), (200, json!(77)), "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, body) = call(
        &http,
        &base,
        "GET",
        &format!("/upstreams/big/targets/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!((status, body["target"].clone()), (200, json!(addr(3))));
    assert_eq!(
        call(&http, &base, "DELETE", &path, Value::Null).await.0,
        204
    );
    assert_eq!(call(&http, &base, "GET", &path, Value::Null).await.0, 404);
    let (status, _) = call(
        &http,
        &base,
        "POST",
        "/upstreams/big/targets",
        json!({"target": addr(3)}),
    )
    .await;
    assert_eq!(status, 201, "a deleted target's address can be used again");
    assert_eq!(list_all(&http, &base, "big").await.len(), N);

    // Deleting the upstream deletes its targets (cascade): a new upstream of that name
    // starts empty and takes the same addresses.
    assert_eq!(
        call(&http, &base, "DELETE", "/upstreams/big", Value::Null)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&http, &base, "PUT", "/upstreams/big", json!({}))
            .await
            .0,
        200
    );
    assert!(list_all(&http, &base, "big").await.is_empty());
    let (status, _) = call(
        &http,
        &base,
        "POST",
        "/upstreams/big/targets",
        json!({"target": addr(700)}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        list_all(&http, &base, "small").await.len(),
        1,
        "another upstream's targets stay"
    );
    sim.shutdown().await;
}

/// The proxy builds its routing table when a request comes after a write, not at every write:
/// each request must see every write answered before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_routes_by_the_last_answered_write() {
    let sim = start(SimConfig::default()).await;
    let base = sim.admin_url();
    let http = client();
    let a = Backend::start(BackendConfig::new("a")).await.unwrap();
    let b = Backend::start(BackendConfig::new("b")).await.unwrap();
    call(&http, &base, "PUT", "/upstreams/app", json!({})).await;
    call(&http, &base, "PUT", "/services/svc", json!({"host": "app"})).await;
    call(
        &http,
        &base,
        "PUT",
        "/routes/r",
        json!({"hosts": ["app.test"], "service": {"name": "svc"}}),
    )
    .await;
    let ta = call(
        &http,
        &base,
        "POST",
        "/upstreams/app/targets",
        json!({"target": a.addr().to_string(), "weight": 100}),
    )
    .await
    .1;
    let tb = call(
        &http,
        &base,
        "POST",
        "/upstreams/app/targets",
        json!({"target": b.addr().to_string(), "weight": 0}),
    )
    .await
    .1;
    let seen = |http: reqwest::Client, proxy: String| async move {
        let resp = http
            .get(format!("{proxy}/"))
            .header("host", "app.test")
            .send()
            .await
            .unwrap();
        resp.headers()
            .get("x-backend")
            .map(|v| v.to_str().unwrap().to_string())
    };
    for round in 0..20 {
        let (on, off) = if round % 2 == 0 {
            (&tb, &ta)
        } else {
            (&ta, &tb)
        };
        for (t, w) in [(on, 100), (off, 0)] {
            let path = format!("/upstreams/app/targets/{}", t["id"].as_str().unwrap());
            assert_eq!(
                call(&http, &base, "PATCH", &path, json!({"weight": w}))
                    .await
                    .0,
                200
            );
        }
        let want = if round % 2 == 0 { "b" } else { "a" };
        for _ in 0..3 {
            assert_eq!(
                seen(http.clone(), sim.proxy_url()).await.as_deref(),
                Some(want),
                "round {round}"
            );
        }
    }
    a.shutdown().await;
    b.shutdown().await;
    sim.shutdown().await;
}
