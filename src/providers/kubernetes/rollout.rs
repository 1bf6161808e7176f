//! Deployments: the manifests bgctl applies and the readiness verdict it waits for.
//!
//! Readiness is judged exactly as `kubectl rollout status` does
//! (kubectl `pkg/polymorphichelpers/rollout_status.go`): the controller has observed the
//! current generation, every replica is updated, no old replica remains, and every updated
//! replica is available; a `Progressing` condition with reason `ProgressDeadlineExceeded` is a
//! failure, not something to wait out.
//!
//! A manifest is converged, not blindly re-sent: bgctl compares the fields the manifest sets
//! (labels, annotations, `spec`) with the live object and writes only when one differs, so a
//! second `apply` makes no write.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

/// What a Deployment's status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Rolled out: every replica updated and available.
    Ready,
    /// Still rolling out (the message says what it waits for).
    Progressing(String),
    /// The rollout failed.
    Failed(String),
}

/// The `kubectl rollout status` verdict for a Deployment object.
pub fn readiness(obj: &Value) -> Readiness {
    let d: Deployment = match serde_json::from_value(obj.clone()) {
        Ok(d) => d,
        Err(e) => return Readiness::Failed(format!("unreadable Deployment: {e}")),
    };
    let name = d.metadata.name.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = d.status.unwrap_or_default();
    if generation > status.observed_generation.unwrap_or(0) {
        return Readiness::Progressing(format!(
            "waiting for Deployment `{name}` spec update to be observed"
        ));
    }
    if let Some(c) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
    {
        if c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return Readiness::Failed(format!(
                "Deployment `{name}` exceeded its progress deadline{}",
                c.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
        }
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < spec_replicas {
        return Readiness::Progressing(format!(
            "Deployment `{name}`: {updated} of {spec_replicas} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return Readiness::Progressing(format!(
            "Deployment `{name}`: {} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Readiness::Progressing(format!(
            "Deployment `{name}`: {available} of {updated} updated replicas are available"
        ));
    }
    Readiness::Ready
}

/// `available/desired` for status views.
pub fn replica_summary(obj: &Value) -> String {
    let want = obj["spec"]["replicas"].as_u64().unwrap_or(1);
    let avail = obj["status"]["availableReplicas"].as_u64().unwrap_or(0);
    format!("{avail}/{want} available")
}

/// Reads the Deployment named `name` from a manifest file (one or more YAML documents). It must
/// be `apps/v1` `Deployment`; its pod template labels must include `selector`. A missing
/// `metadata.name` is filled in.
pub fn load_manifest(
    path: &Path,
    name: &str,
    selector: &BTreeMap<String, String>,
) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut found = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let v: Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| format!("`{}` is not valid YAML: {e}", path.display()))?;
        if v.is_null() {
            continue;
        }
        if v["kind"].as_str() == Some("Deployment") {
            found.push(v);
        }
    }
    let mut d = match found.len() {
        0 => return Err(format!("`{}` holds no Deployment", path.display())),
        1 => found.remove(0),
        _ => found
            .into_iter()
            .find(|d| d["metadata"]["name"].as_str() == Some(name))
            .ok_or_else(|| {
                format!(
                    "`{}` holds several Deployments and none is named `{name}`",
                    path.display()
                )
            })?,
    };
    if d["apiVersion"].as_str() != Some("apps/v1") {
        return Err(format!(
            "`{}`: the Deployment's apiVersion must be `apps/v1`",
            path.display()
        ));
    }
    match d["metadata"]["name"].as_str() {
        None => d["metadata"]["name"] = Value::String(name.to_string()),
        Some(n) if n != name => {
            return Err(format!(
                "`{}` names Deployment `{n}`, but the environment's `deployment` is `{name}`",
                path.display()
            ))
        }
        Some(_) => {}
    }
    let labels = &d["spec"]["template"]["metadata"]["labels"];
    for (k, v) in selector {
        if labels[k].as_str() != Some(v.as_str()) {
            return Err(format!(
                "`{}`: the pod template lacks the label `{k}: {v}` from the environment's `selector`, so the switch would send traffic to no pod",
                path.display()
            ));
        }
    }
    Ok(d)
}

/// Whether every field `want` sets has the same value in `live` (objects compared key by key,
/// lists and scalars exactly).
pub fn contains(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| l.get(k).is_some_and(|lv| contains(lv, wv)) || wv.is_null()),
        (Value::Array(l), Value::Array(w)) => {
            l.len() == w.len() && l.iter().zip(w).all(|(a, b)| contains(a, b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => live == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(gen: i64, observed: i64, status: &Value) -> Value {
        let mut s = status.clone();
        s["observedGeneration"] = json!(observed);
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "green", "generation": gen},
               "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "a"}},
                        "template": {"metadata": {"labels": {"app": "a"}}}},
               "status": s})
    }

    #[test]
    fn rollout_status_rules() {
        let all = json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3});
        assert_eq!(readiness(&dep(2, 2, &all)), Readiness::Ready);
        assert!(matches!(
            readiness(&dep(3, 2, &all)),
            Readiness::Progressing(m) if m.contains("observed")
        ));
        let partial = json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 1});
        assert!(
            matches!(readiness(&dep(1, 1, &partial)), Readiness::Progressing(m) if m.contains("1 of 3"))
        );
        let old = json!({"replicas": 5, "updatedReplicas": 3, "availableReplicas": 3});
        assert!(
            matches!(readiness(&dep(1, 1, &old)), Readiness::Progressing(m) if m.contains("old replicas"))
        );
        let failed = json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 0,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                            "message": "ReplicaSet \"green-1\" has timed out progressing."}]});
        assert!(
            matches!(readiness(&dep(1, 1, &failed)), Readiness::Failed(m) if m.contains("progress deadline"))
        );
    }

    #[test]
    fn contains_ignores_server_defaults() {
        let live = json!({"spec": {"replicas": 3, "revisionHistoryLimit": 10,
            "template": {"spec": {"containers": [{"name": "a", "image": "x:1", "imagePullPolicy": "IfNotPresent"}]}}}});
        assert!(contains(
            &live,
            &json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}})
        ));
        assert!(!contains(
            &live,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:2"}]}}}})
        ));
    }
}
