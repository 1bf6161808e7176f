//! The HTTP face: one fallback handler that logs every request, applies injected faults,
//! routes `/api`, `/apis`, discovery and resource paths by hand (so odd-but-valid URLs such as
//! `?&limit=5` parse the way the real server parses them) and maps verbs to store operations.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::{json, Value};

use crate::conn::ConnHandle;
use crate::discovery;
use crate::faults::FaultAction;
use crate::openapi;
use crate::patch::{self, JsonPatchError, PatchKind};
use crate::resources::{self, Resource};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{json_response, ApiError, FieldError};
use crate::store::{Part, Store, Target};
use crate::{Inner, LoggedRequest};

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
struct Query(HashMap<String, String>);

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

fn ok(code: u16, body: &Value) -> Response {
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
        ["api", v, rest @ ..] => resource(inner, method, "", v, rest, query, headers, body),
        ["apis", g, v, rest @ ..] => resource(inner, method, g, v, rest, query, headers, body),
        _ => Err(ApiError::no_route()),
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
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
                    return watch(&mut store, inner, &t, &q);
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
fn decode_body(content_type: &str, body: &Bytes) -> Result<Value, ApiError> {
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

fn list(store: &Store, t: &Target, q: &Query) -> Result<Value, ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))?;
    let after: Option<(String, String)> = q.get("continue").filter(|c| !c.is_empty()).map(|c| {
        let (ns, name) = c.split_once('/').unwrap_or(("", c));
        (ns.to_string(), name.to_string())
    });
    let key = |o: &Value| {
        (
            o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            o["metadata"]["name"].as_str().unwrap_or("").to_string(),
        )
    };
    let matching: Vec<&Value> = store
        .list(t)
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .filter(|o| after.as_ref().is_none_or(|a| key(o) > *a))
        .collect();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let page: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|o| {
            let mut o = Store::render(t.r, &t.version, o);
            if t.r.builtin {
                // Typed lists of built-ins carry no apiVersion/kind on their items.
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
            }
            o
        })
        .collect();
    let mut meta = json!({"resourceVersion": store.resource_version().to_string()});
    if matching.len() > page.len() {
        let (ns, name) = key(page.last().expect("non-empty page"));
        meta["continue"] = json!(format!("{ns}/{name}"));
        meta["remainingItemCount"] = json!(matching.len() - page.len());
    }
    Ok(json!({
        "kind": format!("{}List", t.r.kind),
        "apiVersion": t.r.api_version(&t.version),
        "metadata": meta,
        "items": page,
    }))
}

#[allow(clippy::too_many_arguments)]
fn object(
    store: &mut Store,
    method: &Method,
    t: &Target,
    name: &str,
    part: Part,
    q: &Query,
    content_type: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    match *method {
        Method::GET => store
            .get(t, name)
            .map(|o| ok(200, &Store::render(t.r, &t.version, o)))
            .ok_or_else(|| ApiError::not_found(t.r, name)),
        Method::PUT => {
            let obj = decode_body(content_type, body)?;
            store.take_bump_hook(t, name);
            let (code, out) = store.update(t, name, obj, part, q.dry_run(), false)?;
            Ok(ok(code, &out))
        }
        Method::PATCH => {
            let kind = patch_kind(t.r, content_type, q)?;
            let patch_body = decode_patch(kind, body)?;
            store.take_bump_hook(t, name);
            let Some(stored) = store.get(t, name) else {
                if kind == PatchKind::Apply && part == Part::Main {
                    let obj = applied_object(t, name, patch_body)?;
                    let created = store.create(t, obj, q.dry_run(), false)?;
                    return Ok(ok(201, &created));
                }
                return Err(ApiError::not_found(t.r, name));
            };
            let mut doc = Store::render(t.r, &t.version, stored);
            let stored_rv = doc["metadata"]["resourceVersion"].clone();
            apply_patch(kind, &mut doc, patch_body, t, name)?;
            // A patch that drops resourceVersion is still an (unconditional) patch.
            if doc["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .is_empty()
            {
                doc["metadata"]["resourceVersion"] = stored_rv;
            }
            let (code, out) = store.update(t, name, doc, part, q.dry_run(), true)?;
            Ok(ok(code, &out))
        }
        Method::DELETE if part == Part::Main => {
            let options: Value = if body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(body).map_err(|e| {
                    ApiError::bad_request(format!("error decoding DeleteOptions: {e}"))
                })?
            };
            store.take_bump_hook(t, name);
            let (code, out) = store.delete(t, name, &options, q.dry_run())?;
            Ok(ok(code, &out))
        }
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// The patch flavour, with the checks the real server makes before it looks the object up.
fn patch_kind(r: &Resource, content_type: &str, q: &Query) -> Result<PatchKind, ApiError> {
    let kind = PatchKind::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_patch_type(r.builtin))?;
    if kind == PatchKind::Strategic && !r.builtin {
        return Err(ApiError::unsupported_patch_type(false));
    }
    if kind == PatchKind::Apply && q.get("fieldManager").unwrap_or("").is_empty() {
        return Err(ApiError::invalid_patch_options(&FieldError::required(
            "fieldManager",
            "is required for apply patch",
        )));
    }
    if kind != PatchKind::Apply && q.get("force").is_some() {
        return Err(ApiError::invalid_patch_options(&FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        )));
    }
    Ok(kind)
}

fn decode_patch(kind: PatchKind, body: &Bytes) -> Result<Value, ApiError> {
    let v = if kind == PatchKind::Apply {
        serde_yaml_ng::from_slice::<Value>(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    let v = v.map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let shape_ok = if kind == PatchKind::Json {
        v.is_array()
    } else {
        v.is_object()
    };
    if shape_ok {
        Ok(v)
    } else {
        Err(ApiError::bad_request(format!(
            "error decoding patch: unexpected {} body",
            if kind == PatchKind::Json {
                "non-array"
            } else {
                "non-object"
            }
        )))
    }
}

/// The applied configuration of an apply patch, checked like a create body.
fn applied_object(t: &Target, name: &str, mut applied: Value) -> Result<Value, ApiError> {
    for field in ["apiVersion", "kind"] {
        if applied
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(ApiError::bad_request(format!(
                "invalid object type: {field} must be set in an apply patch"
            )));
        }
    }
    let m = applied
        .as_object_mut()
        .expect("apply bodies are objects")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    match m.get("name").and_then(Value::as_str) {
        None | Some("") => m["name"] = json!(name),
        Some(n) if n == name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
    }
    let _ = t;
    Ok(applied)
}

fn apply_patch(
    kind: PatchKind,
    doc: &mut Value,
    patch_body: Value,
    t: &Target,
    name: &str,
) -> Result<(), ApiError> {
    match kind {
        PatchKind::Merge => patch::merge_patch(doc, &patch_body),
        PatchKind::Strategic => patch::strategic_merge(doc, &patch_body),
        PatchKind::Json => patch::json_patch(doc, &patch_body).map_err(|e| match e {
            JsonPatchError::Decode(m) => {
                ApiError::bad_request(format!("error decoding patch: {m}"))
            }
            JsonPatchError::Apply(m) => ApiError::patch_failed(&m),
        })?,
        PatchKind::Apply => {
            let applied = applied_object(t, name, patch_body)?;
            patch::apply(doc, &applied);
        }
    }
    Ok(())
}

/// `/scale` of a Deployment, as an `autoscaling/v1` Scale.
fn scale(
    store: &mut Store,
    method: &Method,
    t: &Target,
    name: &str,
    q: &Query,
    content_type: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let to_scale = |d: &Value| {
        let selector = d["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": d["metadata"]["name"],
                "namespace": d["metadata"]["namespace"],
                "uid": d["metadata"]["uid"],
                "resourceVersion": d["metadata"]["resourceVersion"],
                "creationTimestamp": d["metadata"]["creationTimestamp"],
            },
            "spec": {"replicas": d["spec"]["replicas"]},
            "status": {"replicas": d["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
        })
    };
    let stored = store
        .get(t, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(t.r, name))?;
    let mut sc = to_scale(&stored);
    let new_scale = match *method {
        Method::GET => return Ok(ok(200, &sc)),
        Method::PUT => decode_body(content_type, body)?,
        Method::PATCH => {
            let kind = patch_kind(t.r, content_type, q)?;
            let p = decode_patch(kind, body)?;
            match kind {
                PatchKind::Json => patch::json_patch(&mut sc, &p).map_err(|e| match e {
                    JsonPatchError::Decode(m) => ApiError::bad_request(m),
                    JsonPatchError::Apply(m) => ApiError::patch_failed(&m),
                })?,
                PatchKind::Strategic => patch::strategic_merge(&mut sc, &p),
                PatchKind::Merge | PatchKind::Apply => patch::merge_patch(&mut sc, &p),
            }
            sc
        }
        _ => return Err(ApiError::method_not_allowed(method.as_str())),
    };
    let mut dep = Store::render(t.r, &t.version, &stored);
    dep["spec"]["replicas"] = new_scale["spec"]["replicas"].clone();
    match new_scale["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() => dep["metadata"]["resourceVersion"] = json!(rv),
        _ => {}
    }
    let (_, out) = store.update(t, name, dep, Part::Main, q.dry_run(), true)?;
    Ok(ok(200, &to_scale(&out)))
}

/// What a watch stream needs once the handler has returned.
struct WatchState {
    pending: std::collections::VecDeque<Value>,
    rx: tokio::sync::broadcast::Receiver<crate::store::Event>,
    stop: tokio::sync::watch::Receiver<bool>,
    deadline: Option<tokio::time::Instant>,
    t: Target,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl WatchState {
    fn wants(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn event(&self, kind: &str, obj: &Value) -> Value {
        json!({"type": kind, "object": Store::render(self.t.r, &self.t.version, obj)})
    }

    fn in_scope(&self, e: &crate::store::Event) -> bool {
        let (g, p, ns, _) = &e.key;
        g == self.t.r.group && p == self.t.r.plural && (self.t.ns.is_empty() || *ns == self.t.ns)
    }
}

/// `GET …?watch=true`: newline-delimited `{"type","object"}` events. `sendInitialEvents=true`
/// (client-go's watch-list) or no/zero resourceVersion start with ADDED events for the current
/// state; a resourceVersion replays what happened since, or ends in a 410 `Expired` ERROR event
/// when that is no longer in the history.
fn watch(store: &mut Store, inner: &Inner, t: &Target, q: &Query) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))?;
    let rv_param = q.get("resourceVersion").unwrap_or("");
    let send_initial = q.get("sendInitialEvents") == Some("true");
    let since: u64 = rv_param.parse().unwrap_or(0);
    let (replay, rx) = store.subscribe(since);
    let deadline = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| tokio::time::Instant::now() + std::time::Duration::from_secs(s));
    let mut st = WatchState {
        pending: std::collections::VecDeque::new(),
        rx,
        stop: inner.shutdown.subscribe(),
        deadline,
        t: t.clone(),
        labels,
        fields,
    };
    if send_initial || since == 0 {
        let initial: Vec<Value> = store
            .list(t)
            .into_iter()
            .filter(|o| st.wants(o))
            .map(|o| st.event("ADDED", o))
            .collect();
        st.pending.extend(initial);
        if send_initial {
            st.pending.push_back(json!({"type": "BOOKMARK", "object": {
                "kind": t.r.kind,
                "apiVersion": t.r.api_version(&t.version),
                "metadata": {
                    "resourceVersion": store.resource_version().to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            }}));
        }
    } else if let Some(events) = replay {
        let lines: Vec<Value> = events
            .iter()
            .filter(|e| st.in_scope(e) && st.wants(&e.object))
            .map(|e| st.event(e.kind, &e.object))
            .collect();
        st.pending.extend(lines);
    } else {
        let expired = ApiError::from_code(
            410,
            format!(
                "too old resource version: {since} ({})",
                store.resource_version()
            ),
        );
        st.pending
            .push_back(json!({"type": "ERROR", "object": expired.body()}));
        st.deadline = Some(tokio::time::Instant::now());
    }
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        if let Some(line) = st.pending.pop_front() {
            return Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(format!("{line}\n"))),
                st,
            ));
        }
        loop {
            let deadline = st.deadline;
            let timeout = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let ev = tokio::select! {
                ev = st.rx.recv() => ev,
                _ = st.stop.wait_for(|s| *s) => return None,
                () = timeout => return None,
            };
            match ev {
                Ok(e) => {
                    if st.in_scope(&e) && st.wants(&e.object) {
                        let line = st.event(e.kind, &e.object);
                        return Some((Ok(Bytes::from(format!("{line}\n"))), st));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
