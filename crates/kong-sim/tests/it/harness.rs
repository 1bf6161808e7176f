//! Shared helpers: start a simulator, send Admin API requests with JSON or form bodies.

use std::fmt::Write as _;

use kong_sim::{KongSim, SimConfig};
use serde_json::{Map, Value};

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub raw: String,
    pub headers: reqwest::header::HeaderMap,
}

/// How a body is sent.
#[derive(Clone, Debug)]
pub enum Body {
    None,
    Json(Value),
    Form(String),
    Raw(&'static str, String),
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(8)
        .build()
        .unwrap()
}

pub async fn start(config: SimConfig) -> KongSim {
    KongSim::start(config).await.expect("kong-sim starts")
}

pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: &Body,
    headers: &[(&str, &str)],
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method, format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req = match body {
        Body::None => req,
        Body::Json(v) => req
            .header("content-type", "application/json")
            .body(v.to_string()),
        Body::Form(s) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(s.clone()),
        Body::Raw(ct, s) => {
            let req = if ct.is_empty() {
                req
            } else {
                req.header("content-type", *ct)
            };
            req.body(s.clone())
        }
    };
    let resp = req.send().await.expect("request is answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        raw,
        headers,
    }
}

fn enc(s: &str) -> String {
    form_encode(s)
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~*".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, map: &Map<String, Value>, out: &mut Vec<String>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&key, inner, out),
            Value::Array(items) => {
                for item in items {
                    out.push(format!("{}[]={}", enc(&key), enc(&scalar(item))));
                }
            }
            other => out.push(format!("{}={}", enc(&key), enc(&scalar(other)))),
        }
    }
}

/// The form-urlencoded equivalent of a JSON object (`a[]=x`, dotted nesting, null = empty).
pub fn json_to_form(v: &Value) -> String {
    let mut out = Vec::new();
    if let Value::Object(map) = v {
        flatten("", map, &mut out);
    }
    out.join("&")
}
