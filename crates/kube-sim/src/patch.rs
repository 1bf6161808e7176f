//! The four PATCH flavours, applied to a stored object as JSON:
//! RFC 7386 merge patch, RFC 6902 JSON patch, a strategic merge patch good enough for what
//! kubectl sends to built-in kinds, and server-side apply modelled as "create, or merge the
//! applied configuration" (no managedFields, no field-manager conflicts; see the README).

use serde_json::{Map, Value};

/// The PATCH flavour, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchKind {
    /// The flavour for a Content-Type header value (parameters such as `charset` ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match media_type(ct).as_str() {
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchKind::Apply)
            }
            _ => None,
        }
    }
}

/// `application/json; charset=utf-8` → `application/json`.
pub(crate) fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// RFC 7386: objects merge recursively, `null` deletes, everything else (arrays too) replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902; the error text is what the 422 carries.
pub(crate) fn json_patch(target: &mut Value, patch: &Value) -> Result<(), JsonPatchError> {
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| JsonPatchError::Decode(e.to_string()))?;
    json_patch::patch(target, &ops).map_err(|e| JsonPatchError::Apply(e.to_string()))
}

/// Why a JSON patch was refused: undecodable (400) or not applicable (422).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonPatchError {
    #[error("{0}")]
    Decode(String),
    #[error("{0}")]
    Apply(String),
}

/// The merge key of a list field in a built-in object, as the Go struct tags declare it
/// (`patchMergeKey`). Lists not named here are atomic (replaced whole).
fn merge_key(field: &str, sample: Option<&Value>) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "hostAliasesNames"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "topologySpreadConstraints" => "topologyKey",
        "hostAliases" => "ip",
        "ports" => {
            // Container ports merge on containerPort, Service ports on port.
            if sample.and_then(|v| v.get("containerPort")).is_some() {
                "containerPort"
            } else {
                "port"
            }
        }
        _ => return None,
    })
}

/// Primitive lists that merge as sets (`patchStrategy:"merge"` on a `[]string`).
fn is_merging_primitive_list(field: &str) -> bool {
    field == "finalizers"
}

/// A strategic merge patch, as `k8s.io/apimachinery/pkg/util/strategicpatch` applies it to
/// the built-in kinds kube-sim serves: maps merge, `null` deletes, lists with a merge key merge
/// element-wise, and the directives kubectl emits (`$patch`, `$retainKeys`,
/// `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) are honoured.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = p.clone();
        replaced.remove("$patch");
        *target = Value::Object(strip_directives(replaced));
        return;
    }
    if p.get("$patch").and_then(Value::as_str) == Some("delete") {
        *target = Value::Object(Map::new());
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        unreachable!("made an object above")
    };
    for (key, value) in p {
        if key == "$patch" || key == "$retainKeys" {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(remove)) = (t.get_mut(field), value) {
                list.retain(|v| !remove.contains(v));
            }
            continue;
        }
        if key.starts_with("$setElementOrder/") {
            continue;
        }
        if value.is_null() {
            t.remove(key);
            continue;
        }
        match value {
            Value::Object(_) => {
                strategic_merge(t.entry(key.clone()).or_insert(Value::Null), value);
                if value.get("$patch").and_then(Value::as_str) == Some("delete") {
                    t.remove(key);
                }
            }
            Value::Array(items) => {
                let existing = t.remove(key);
                let merged = merge_list(key, existing, items);
                t.insert(key.clone(), merged);
            }
            other => {
                t.insert(key.clone(), other.clone());
            }
        }
    }
    // `$setElementOrder/<field>`: reorder the merged list as the patch lists it.
    for (key, order) in p {
        if let (Some(field), Value::Array(order)) = (key.strip_prefix("$setElementOrder/"), order) {
            if let Some(Value::Array(list)) = t.get_mut(field) {
                reorder(field, list, order);
            }
        }
    }
    if let Some(Value::Array(keep)) = p.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
}

fn merge_list(field: &str, existing: Option<Value>, items: &[Value]) -> Value {
    let existing = match existing {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    if is_merging_primitive_list(field) {
        let mut out = existing;
        for item in items {
            if !out.contains(item) {
                out.push(item.clone());
            }
        }
        return Value::Array(out);
    }
    let Some(mk) = merge_key(field, items.first().or(existing.first())) else {
        // Atomic list: replaced, with directives stripped from its elements.
        return Value::Array(
            items
                .iter()
                .map(|v| match v {
                    Value::Object(m) => Value::Object(strip_directives(m.clone())),
                    other => other.clone(),
                })
                .collect(),
        );
    };
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Value::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .cloned()
                .collect(),
        );
    }
    let mut out = existing;
    for item in items {
        let key = item.get(mk).cloned();
        let pos = key
            .as_ref()
            .and_then(|k| out.iter().position(|e| e.get(mk) == Some(k)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge(&mut out[i], item),
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, item);
                out.push(fresh);
            }
        }
    }
    Value::Array(out)
}

fn reorder(field: &str, list: &mut Vec<Value>, order: &[Value]) {
    let mk = merge_key(field, list.first());
    let matches = |elem: &Value, o: &Value| match mk {
        Some(mk) => elem.get(mk).is_some() && elem.get(mk) == o.get(mk),
        None => elem == o,
    };
    let mut sorted = Vec::with_capacity(list.len());
    for o in order {
        if let Some(i) = list.iter().position(|e| matches(e, o)) {
            sorted.push(list.remove(i));
        }
    }
    sorted.append(list);
    *list = sorted;
}

fn strip_directives(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| !k.starts_with('$'));
    for v in m.values_mut() {
        if let Value::Object(inner) = v {
            *inner = strip_directives(std::mem::take(inner));
        }
    }
    m
}

/// Server-side apply, simplified: the applied configuration is merged onto the live object
/// like a merge patch (lists replaced). Fields the manager stopped applying are not removed.
pub(crate) fn apply(target: &mut Value, applied: &Value) {
    merge_patch(target, applied);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut t = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]},
            {"name": "side", "image": "s:1"}
        ]}}}});
        strategic_merge(
            &mut t,
            &json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                "containers": [{"name": "app", "image": "a:2"}]
            }}}}),
        );
        let cs = &t["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["name"], "side");
        assert_eq!(cs[1]["image"], "a:2");
        assert_eq!(cs[1]["ports"][0]["containerPort"], 80);
    }

    #[test]
    fn strategic_merge_deletes_list_element_and_map_key() {
        let mut t = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}});
        strategic_merge(
            &mut t,
            &json!({"metadata": {"labels": {"a": null}},
                "spec": {"ports": [{"port": 443, "$patch": "delete"}]}}),
        );
        assert_eq!(t["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(t["spec"]["ports"], json!([{"port": 80, "name": "http"}]));
    }

    #[test]
    fn strategic_merge_retain_keys_drops_others() {
        let mut t =
            json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}});
        strategic_merge(
            &mut t,
            &json!({"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}),
        );
        assert_eq!(t, json!({"strategy": {"type": "Recreate"}}));
    }
}
