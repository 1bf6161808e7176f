//! The verbs on objects: lists (label and field selectors, paging), get/create/replace/delete,
//! the four patch types (JSON, merge, strategic merge, server-side apply) and the `scale`
//! subresource.

use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::{decode_body, ok, Query};
use crate::patch::{self, JsonPatchError, PatchKind};
use crate::resources::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, FieldError};
use crate::store::{Part, Store, Target};

pub(super) fn list(store: &Store, t: &Target, q: &Query) -> Result<Value, ApiError> {
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
pub(super) fn object(
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
pub(super) fn scale(
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
