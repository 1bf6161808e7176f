//! Table-driven conformance tests built from shared/reference/kong-admin-api.md (every row of
//! §7 plus the entity, verb, body, list and node rules of §0–§5). Each write case whose body
//! is `Both` runs twice: once as JSON and once as the equivalent form-urlencoded body.

use kong_sim::SimConfig;
use serde_json::{json, Value};

use crate::harness::{client, json_to_form, send, start, Body};

mod cases;
use cases::cases;

#[derive(Clone)]
enum B {
    None,
    /// Run as JSON and as form-urlencoded.
    Both(Value),
    Json(Value),
    Raw(&'static str, &'static str),
}

#[derive(Clone, Debug)]
enum Expect {
    Eq(Value),
    Absent,
    Present,
    Contains(&'static str),
    Len(usize),
}

#[derive(Clone)]
struct Case {
    name: &'static str,
    version: &'static str,
    db_less: bool,
    token: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
    setup: Vec<(&'static str, String, Value)>,
    method: &'static str,
    path: String,
    body: B,
    status: u16,
    expect: Vec<(&'static str, Expect)>,
    header_expect: Vec<(&'static str, &'static str)>,
}

fn case(name: &'static str, method: &'static str, path: &str, body: B, status: u16) -> Case {
    Case {
        name,
        version: "3.9.0",
        db_less: false,
        token: None,
        headers: Vec::new(),
        setup: Vec::new(),
        method,
        path: path.to_string(),
        body,
        status,
        expect: Vec::new(),
        header_expect: Vec::new(),
    }
}

impl Case {
    /// A setup request (JSON body, must answer 2xx). `{N}` in later paths/bodies is the id
    /// returned by setup step N.
    fn given(mut self, method: &'static str, path: &str, body: Value) -> Self {
        self.setup.push((method, path.to_string(), body));
        self
    }
    fn eq(mut self, ptr: &'static str, v: Value) -> Self {
        self.expect.push((ptr, Expect::Eq(v)));
        self
    }
    fn absent(mut self, ptr: &'static str) -> Self {
        self.expect.push((ptr, Expect::Absent));
        self
    }
    fn present(mut self, ptr: &'static str) -> Self {
        self.expect.push((ptr, Expect::Present));
        self
    }
    fn contains(mut self, ptr: &'static str, s: &'static str) -> Self {
        self.expect.push((ptr, Expect::Contains(s)));
        self
    }
    fn len(mut self, ptr: &'static str, n: usize) -> Self {
        self.expect.push((ptr, Expect::Len(n)));
        self
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.header_expect.push((name, value));
        self
    }
    fn version(mut self, v: &'static str) -> Self {
        self.version = v;
        self
    }
    fn db_less(mut self) -> Self {
        self.db_less = true;
        self
    }
    fn token(mut self, t: &'static str) -> Self {
        self.token = Some(t);
        self
    }
    fn with_header(mut self, k: &'static str, v: &'static str) -> Self {
        self.headers.push((k, v));
        self
    }
}

fn subst(text: &str, ids: &[String]) -> String {
    let mut out = text.to_string();
    for (i, id) in ids.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), id);
    }
    out
}

fn subst_value(v: &Value, ids: &[String]) -> Value {
    serde_json::from_str(&subst(&v.to_string(), ids)).unwrap()
}

fn check(
    case: &Case,
    encoding: &str,
    reply: &crate::harness::Reply,
    ids: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    let tag = format!("[{} / {encoding}]", case.name);
    if reply.status != case.status {
        problems.push(format!(
            "{tag} status {} != {} body {}",
            reply.status, case.status, reply.raw
        ));
        return problems;
    }
    for (ptr, expect) in &case.expect {
        let got = reply.body.pointer(ptr);
        let ok = match expect {
            Expect::Eq(v) => got == Some(&subst_value(v, ids)),
            Expect::Absent => got.is_none(),
            Expect::Present => got.is_some_and(|v| !v.is_null()),
            Expect::Contains(s) => match got {
                Some(Value::String(text)) => text.contains(s),
                Some(v) => v.to_string().contains(s),
                None => false,
            },
            Expect::Len(n) => got.and_then(Value::as_array).is_some_and(|a| a.len() == *n),
        };
        if !ok {
            problems.push(format!(
                "{tag} at `{ptr}` expected {expect:?}, got {got:?}; body {}",
                reply.raw
            ));
        }
    }
    for (name, value) in &case.header_expect {
        let got = reply.headers.get(*name).and_then(|v| v.to_str().ok());
        if got != Some(*value) {
            problems.push(format!(
                "{tag} header {name}: expected {value:?}, got {got:?}"
            ));
        }
    }
    problems
}

async fn run(case: &Case, encoding: &str) -> Vec<String> {
    let sim = start(SimConfig {
        version: case.version.to_string(),
        db_less: case.db_less,
        admin_token: case.token.map(str::to_string),
        ..SimConfig::default()
    })
    .await;
    let http = client();
    let base = sim.admin_url();
    let mut ids = Vec::new();
    for (i, (method, path, body)) in case.setup.iter().enumerate() {
        let path = subst(path, &ids);
        let body = if body.is_null() {
            Body::None
        } else {
            Body::Json(subst_value(body, &ids))
        };
        let reply = send(&http, &base, method, &path, &body, &case.headers).await;
        if !(200..300).contains(&reply.status) {
            return vec![format!(
                "[{} / {encoding}] setup step {i} {method} {path} answered {} {}",
                case.name, reply.status, reply.raw
            )];
        }
        ids.push(reply.body["id"].as_str().unwrap_or_default().to_string());
    }
    let body = match (&case.body, encoding) {
        (B::None, _) => Body::None,
        (B::Both(v), "form") => Body::Form(json_to_form(&subst_value(v, &ids))),
        (B::Both(v) | B::Json(v), _) => Body::Json(subst_value(v, &ids)),
        (B::Raw(ct, s), _) => Body::Raw(ct, (*s).to_string()),
    };
    let path = subst(&case.path, &ids);
    let reply = send(&http, &base, case.method, &path, &body, &case.headers).await;
    let problems = check(case, encoding, &reply, &ids);
    sim.shutdown().await;
    problems
}

#[tokio::test]
async fn reference_table() {
    let mut problems = Vec::new();
    let mut runs = 0;
    for case in cases() {
        let encodings: &[&str] = if matches!(case.body, B::Both(_)) {
            &["json", "form"]
        } else {
            &["json"]
        };
        for encoding in encodings {
            runs += 1;
            problems.extend(run(&case, encoding).await);
        }
    }
    assert!(runs > 150, "table shrank: {runs} runs");
    assert!(
        problems.is_empty(),
        "{} of {runs} conformance runs failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn form_encoding_of_json_matches_kong_conventions() {
    let form = json_to_form(
        &json!({"hosts": ["a", "b"], "healthchecks": {"active": {"timeout": 3}}, "path": null}),
    );
    assert_eq!(
        form,
        "healthchecks.active.timeout=3&hosts[]=a&hosts[]=b&path="
    );
}

/// Targets are listed newest first (created_at has ms precision, so space the inserts).
#[tokio::test]
async fn targets_are_listed_newest_first() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let base = sim.admin_url();
    send(
        &http,
        &base,
        "POST",
        "/upstreams",
        &Body::Json(json!({"name": "up.test"})),
        &[],
    )
    .await;
    for t in ["a.test", "b.test", "c.test"] {
        let r = send(
            &http,
            &base,
            "POST",
            "/upstreams/up.test/targets",
            &Body::Json(json!({"target": t})),
            &[],
        )
        .await;
        assert_eq!(r.status, 201);
        assert!(r.body["created_at"].is_f64() || r.body["created_at"].is_number());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let r = send(
        &http,
        &base,
        "GET",
        "/upstreams/up.test/targets",
        &Body::None,
        &[],
    )
    .await;
    let order: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["c.test:8000", "b.test:8000", "a.test:8000"]);
}

/// Following `offset` through every page of a top-level list visits each entity once, in id order.
#[tokio::test]
async fn following_offsets_visits_everything_in_id_order() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let base = sim.admin_url();
    for i in 0..7 {
        let body = Body::Json(json!({"name": format!("s{i}"), "host": "h.test", "tags": ["t"]}));
        assert_eq!(
            send(&http, &base, "POST", "/services", &body, &[])
                .await
                .status,
            201
        );
    }
    let mut seen = Vec::new();
    let mut path = "/services?size=3&tags=t".to_string();
    loop {
        let r = send(&http, &base, "GET", &path, &Body::None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        for s in r.body["data"].as_array().unwrap() {
            seen.push(s["id"].as_str().unwrap().to_string());
        }
        let Some(next) = r.body["next"].as_str() else {
            assert!(r.body.get("offset").is_none());
            break;
        };
        assert!(
            next.contains("&tags=t&size=3"),
            "next keeps tags and size: {next}"
        );
        path = next.to_string();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 7);
}
