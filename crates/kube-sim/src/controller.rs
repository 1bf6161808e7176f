//! A deterministic stand-in for the Deployment controller (no ReplicaSets, no Pods): it writes
//! the Deployment `status` that `kubectl rollout status`, Flagger and kube-runtime read —
//! `observedGeneration`, the replica counts and the `Available`/`Progressing` conditions — for
//! one of three behaviours a test picks per Deployment.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::resources;
use crate::store::{now_rfc3339, Store, Target};
use crate::DeploymentBehavior;

/// One controller pass. With `force` (a test's `tick()`), every Deployment gets the status its
/// behaviour calls for now; otherwise only those whose `ready_after` delay has passed.
pub(crate) fn reconcile(store: &mut Store, ready_after: Option<Duration>, force: bool) {
    let now = Instant::now();
    let due: Vec<(String, String)> = if force {
        let r = resources::by_plural("apps", "v1", "deployments").expect("deployments");
        let t = Target {
            r,
            version: "v1".into(),
            ns: String::new(),
        };
        store
            .list(&t)
            .iter()
            .map(|d| {
                (
                    d["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    d["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    } else {
        let Some(delay) = ready_after else { return };
        store
            .pending
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= delay)
            .map(|(k, _)| k.clone())
            .collect()
    };
    for (ns, name) in due {
        store.pending.remove(&(ns.clone(), name.clone()));
        let behavior = store
            .behaviors
            .get(&(ns.clone(), name.clone()))
            .copied()
            .unwrap_or_default();
        let r = resources::by_plural("apps", "v1", "deployments").expect("deployments");
        let t = Target {
            r,
            version: "v1".into(),
            ns,
        };
        let Some(dep) = store.get(&t, &name) else {
            continue;
        };
        let status = desired_status(dep, behavior);
        store.write_status(&t, &name, status);
    }
}

/// The status the controller converges to for `behavior`. Condition timestamps are kept when
/// a condition does not change, so a repeated pass is a no-op.
fn desired_status(dep: &Value, behavior: DeploymentBehavior) -> Value {
    let name = dep["metadata"]["name"].as_str().unwrap_or("");
    let generation = dep["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = dep["spec"]["replicas"].as_i64().unwrap_or(1);
    let rs = format!("{name}-{}", pod_template_hash(&dep["spec"]["template"]));
    let old = &dep["status"];
    let (available, available_cond, progressing_cond) = match behavior {
        DeploymentBehavior::Ready => (
            replicas,
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".to_string(),
            ),
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs}\" has successfully progressed."),
            ),
        ),
        DeploymentBehavior::Stall => (
            0,
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".to_string(),
            ),
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs}\" is progressing."),
            ),
        ),
        DeploymentBehavior::Fail => (
            0,
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".to_string(),
            ),
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{rs}\" has timed out progressing."),
            ),
        ),
    };
    let conditions = vec![
        condition(old, "Available", available_cond),
        condition(old, "Progressing", progressing_cond),
    ];
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "conditions": conditions,
    });
    if available > 0 {
        status["readyReplicas"] = json!(available);
        status["availableReplicas"] = json!(available);
    }
    if replicas - available > 0 {
        status["unavailableReplicas"] = json!(replicas - available);
    }
    status
}

fn condition(old_status: &Value, ty: &str, (st, reason, message): (&str, &str, String)) -> Value {
    let old = old_status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty));
    let now = now_rfc3339();
    let same = old.is_some_and(|c| {
        c["status"] == st && c["reason"] == reason && c["message"] == message.as_str()
    });
    let transition = match old {
        Some(c) if c["status"] == st => c["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let update = if same {
        old.map_or(json!(now), |c| c["lastUpdateTime"].clone())
    } else {
        json!(now)
    };
    json!({
        "type": ty,
        "status": st,
        "reason": reason,
        "message": message,
        "lastUpdateTime": update,
        "lastTransitionTime": transition,
    })
}

/// A stable, pod-template-hash-looking suffix for the simulated ReplicaSet name.
fn pod_template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // FNV-1a over the template's JSON: deterministic across runs and processes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|i| ALPHABET[((h >> (i * 6)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}
