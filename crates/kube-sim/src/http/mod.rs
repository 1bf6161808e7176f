//! The HTTP face: one fallback handler that logs every request, applies injected faults,
//! routes `/api`, `/apis`, discovery and resource paths by hand (so odd-but-valid URLs such as
//! `?&limit=5` parse the way the real server parses them) and maps verbs to store operations.
//!
//! Parts: this file holds the handler, the router and the resource dispatch; [`objects`] the
//! verbs on objects (list, get/put/delete, the patch types, `scale`); [`watch`] watch streams.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::Value;

use crate::conn::ConnHandle;
use crate::discovery;
use crate::faults::FaultAction;
use crate::openapi;
use crate::patch;
use crate::resources;
use crate::status::{json_response, ApiError};
use crate::store::{Part, Target};
use crate::{Inner, LoggedRequest};

mod objects;
mod watch;

use objects::{list, object, scale};

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(handle).with_state(inner)
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    conn: Option<Extension<ConnectInfo<ConnHandle>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let path_query = uri
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_string());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Reset / LoseAnswer: the connection is aborted instead of answering.
    let mut abort = false;
    let mut not_carried_out = false;
    let response = match inner.faults.take(method.as_str(), &path) {
        Some(FaultAction::Status(code)) => {
            ApiError::from_code(code, format!("kube-sim: injected fault (HTTP {code})"))
                .into_response()
        }
        Some(FaultAction::Hang) => {
            let mut rx = inner.shutdown.subscribe();
            let _ = rx.wait_for(|stopping| *stopping).await;
            ApiError::from_code(503, "kube-sim: shutting down").into_response()
        }
        Some(FaultAction::Delay(d)) => {
            tokio::time::sleep(d).await;
            serve(&inner, &method, &path, uri.query(), &headers, &body)
        }
        Some(FaultAction::Reset) => {
            abort = true;
            not_carried_out = true;
            ().into_response()
        }
        Some(FaultAction::LoseAnswer) => {
            abort = true;
            serve(&inner, &method, &path, uri.query(), &headers, &body)
        }
        Some(FaultAction::AsGet) => serve(
            &inner,
            &Method::GET,
            &path,
            uri.query(),
            &headers,
            &Bytes::new(),
        ),
        None => serve(&inner, &method, &path, uri.query(), &headers, &body),
    };
    let status = if not_carried_out {
        0
    } else {
        response.status().as_u16()
    };
    tracing::debug!(%method, path = %path_query, status, abort, "request");
    inner.log.lock().expect("log lock").push(LoggedRequest {
        method: method.to_string(),
        path: path_query,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
        aborted: abort,
    });
    if abort {
        match conn {
            // hyper's write of this answer fails: the client gets a RST and no byte of it.
            Some(Extension(ConnectInfo(c))) => c.reset(),
            // In-process (`router()`): there is no connection to abort.
            None => {
                return ApiError::from_code(
                    503,
                    "kube-sim: connection reset (in-process: no connection to abort)",
                )
                .into_response()
            }
        }
    }
    response
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters; empty pieces (`?&`, `&&`) are skipped, the last value of a key wins.
#[derive(Debug, Default)]
pub(super) struct Query(HashMap<String, String>);

impl Query {
    fn parse(q: Option<&str>) -> Self {
        let mut m = HashMap::new();
        for piece in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            m.insert(percent_decode(k), percent_decode(v));
        }
        Query(m)
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }
}

pub(super) fn ok(code: u16, body: &Value) -> Response {
    json_response(StatusCode::from_u16(code).unwrap_or(StatusCode::OK), body)
}

fn serve(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    match route(inner, method, path, query, headers, body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn route(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get_only = |v: Option<Value>| -> Result<Response, ApiError> {
        if *method != Method::GET {
            return Err(ApiError::method_not_allowed(method.as_str()));
        }
        v.map(|v| ok(200, &v)).ok_or_else(ApiError::no_route)
    };
    match segs.as_slice() {
        ["version"] => get_only(Some(discovery::version())),
        ["healthz" | "livez" | "readyz"] => Ok((StatusCode::OK, "ok").into_response()),
        ["openapi", "v3"] => get_only(Some(openapi::root())),
        ["openapi", "v3", "api", v] => get_only(openapi::group_version("", v)),
        ["openapi", "v3", "apis", g, v] => get_only(openapi::group_version(g, v)),
        ["api"] => get_only(Some(discovery::api_versions(&inner.addr.to_string()))),
        ["apis"] => get_only(Some(discovery::group_list())),
        ["api", v] => get_only(discovery::resource_list("", v)),
        ["apis", g] => get_only(discovery::group(g)),
        ["apis", g, v] => get_only(discovery::resource_list(g, v)),
        ["debug", "route", "apis", g, v, "namespaces", ns, plural, name]
            if *method == Method::GET =>
        {
            debug_route(inner, g, v, ns, plural, name, query)
        }
        ["api", v, rest @ ..] => resource(inner, method, "", v, rest, query, headers, body),
        ["apis", g, v, rest @ ..] => resource(inner, method, g, v, rest, query, headers, body),
        _ => Err(ApiError::no_route()),
    }
}

/// `GET /debug/route/…`: where a request (`method`, `path`, `header=Name:Value`) would go
/// through the stored object ([`crate::route_eval`]); 404 when the object is missing or no rule
/// matches.
fn debug_route(
    inner: &Inner,
    group: &str,
    version: &str,
    ns: &str,
    plural: &str,
    name: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let r = resources::by_plural(group, version, plural).ok_or_else(ApiError::no_route)?;
    let q = Query::parse(query);
    let t = Target {
        r,
        version: version.to_string(),
        ns: ns.to_string(),
    };
    let obj = {
        let store = inner.store.lock().expect("store lock");
        store
            .get(&t, name)
            .cloned()
            .ok_or_else(ApiError::no_route)?
    };
    let req = crate::route_eval::Request {
        method: q.get("method").unwrap_or("GET").to_string(),
        path: q.get("path").unwrap_or("/").to_string(),
        headers: q
            .get("header")
            .and_then(|h| h.split_once(':'))
            .map(|(k, v)| vec![(k.trim().to_string(), v.trim().to_string())])
            .unwrap_or_default(),
    };
    let routed = crate::route_eval::evaluate(r.kind, &obj, &req).ok_or_else(ApiError::no_route)?;
    Ok(ok(200, &serde_json::to_value(routed).unwrap_or_default()))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn resource(
    inner: &Inner,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let (ns, plural, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if resources::by_plural(group, version, plural).is_some_and(|r| r.namespaced) =>
        {
            (*ns, *plural, tail)
        }
        [plural, tail @ ..] => ("", *plural, tail),
        [] => return Err(ApiError::no_route()),
    };
    let r = resources::by_plural(group, version, plural).ok_or_else(ApiError::no_route)?;
    let t = Target {
        r,
        version: version.to_string(),
        ns: ns.to_string(),
    };
    let q = Query::parse(query);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut store = inner.store.lock().expect("store lock");
    match tail {
        [] => match *method {
            Method::GET => {
                if matches!(q.get("watch"), Some("true" | "1")) {
                    return watch::watch(&mut store, inner, &t, &q);
                }
                Ok(ok(200, &list(&store, &t, &q)?))
            }
            Method::POST if r.namespaced && ns.is_empty() => {
                Err(ApiError::method_not_allowed("POST"))
            }
            Method::POST => {
                let obj = decode_body(content_type, body)?;
                let created = store.create(&t, obj, q.dry_run(), false)?;
                Ok(ok(201, &created))
            }
            Method::DELETE => {
                let items = list(&store, &t, &q)?;
                let mut deleted = Vec::new();
                for item in items["items"].as_array().into_iter().flatten() {
                    let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
                    let item_ns = item["metadata"]["namespace"].as_str().unwrap_or("");
                    let t = Target {
                        ns: item_ns.to_string(),
                        ..t.clone()
                    };
                    if store.delete(&t, &name, &Value::Null, q.dry_run()).is_ok() {
                        deleted.push(item.clone());
                    }
                }
                let mut out = items;
                out["items"] = Value::Array(deleted);
                Ok(ok(200, &out))
            }
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        [name] => {
            if r.namespaced && ns.is_empty() {
                return Err(ApiError::no_route());
            }
            object(
                &mut store,
                method,
                &t,
                name,
                Part::Main,
                &q,
                content_type,
                body,
            )
        }
        [name, "status"] if r.has_status && !(r.namespaced && ns.is_empty()) => {
            if !matches!(*method, Method::GET | Method::PUT | Method::PATCH) {
                return Err(ApiError::method_not_allowed(method.as_str()));
            }
            object(
                &mut store,
                method,
                &t,
                name,
                Part::Status,
                &q,
                content_type,
                body,
            )
        }
        [name, "scale"] if r.has_scale && !ns.is_empty() => {
            scale(&mut store, method, &t, name, &q, content_type, body)
        }
        _ => Err(ApiError::no_route()),
    }
}

/// Decode a POST/PUT body: JSON (default) or YAML.
pub(super) fn decode_body(content_type: &str, body: &Bytes) -> Result<Value, ApiError> {
    let mt = patch::media_type(content_type);
    match mt.as_str() {
        "" | "application/json" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "error decoding request body: json parse error: {e}"
            ))
        }),
        "application/yaml" | "application/apply-patch+yaml" => {
            serde_yaml_ng::from_slice::<Value>(body).map_err(|e| {
                ApiError::bad_request(format!(
                    "error decoding request body: yaml parse error: {e}"
                ))
            })
        }
        other => Err(ApiError::unsupported_body_type(other)),
    }
}
