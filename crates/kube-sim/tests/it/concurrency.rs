//! The race hook and direct writes: a client's stale resourceVersion must lose with 409.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn bump_before_next_write_turns_a_read_modify_write_into_409() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(SERVICES, &service("web", "blue")).await;
    let (_, read) = api.get(&format!("{SERVICES}/web")).await;
    sim.bump_before_next_write("default", "web");
    let mut modified = read.clone();
    modified["spec"]["selector"]["version"] = json!("green");
    let (code, st) = api.put(&format!("{SERVICES}/web"), &modified).await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(st["reason"], "Conflict");
    let now = sim.get("v1", "Service", "default", "web").unwrap();
    assert_eq!(
        now["spec"]["selector"]["version"], "blue",
        "the losing write changed nothing"
    );
    assert!(now["metadata"]["annotations"]["kube-sim/concurrent-write"].is_string());
    assert!(rv(&now) > rv(&read));
    // The hook fires once: re-read, retry, win.
    let (_, fresh) = api.get(&format!("{SERVICES}/web")).await;
    let mut retry = fresh.clone();
    retry["spec"]["selector"]["version"] = json!("green");
    let (code, _) = api.put(&format!("{SERVICES}/web"), &retry).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn bump_before_next_write_also_defeats_a_patch_precondition() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, created) = api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    sim.bump_before_next_write("default", "web");
    let body = format!(
        r#"{{"metadata":{{"resourceVersion":"{}"}},"spec":{{"rules":[{{"backendRefs":[{{"name":"web-green","port":80,"weight":100}}]}}]}}}}"#,
        rv(&created)
    );
    let (code, _) = api.patch(&format!("{HTTPROUTES}/web"), MERGE, &body).await;
    assert_eq!(code, 409);
    // A patch without a precondition is not affected by the concurrent annotation change.
    sim.bump_before_next_write("default", "web");
    let (code, _) = api
        .patch(
            &format!("{HTTPROUTES}/web"),
            MERGE,
            r#"{"metadata":{"labels":{"x":"y"}}}"#,
        )
        .await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn put_object_seeds_and_bumps_like_another_client() {
    let sim = sim().await;
    let seeded = sim.put_object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "blue", "namespace": "shop"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}},
        "status": {"observedGeneration": 1, "replicas": 2, "availableReplicas": 2}}));
    assert_eq!(seeded["metadata"]["generation"], 1);
    assert_eq!(
        seeded["status"]["availableReplicas"], 2,
        "seeds keep a given status"
    );
    assert!(
        sim.get("v1", "Namespace", "", "shop").is_some(),
        "namespace created"
    );
    let mut changed = seeded.clone();
    changed["spec"]["replicas"] = json!(3);
    let again = sim.put_object(changed);
    assert_eq!(again["metadata"]["generation"], 2);
    assert!(rv(&again) > rv(&seeded));
    assert_eq!(again["metadata"]["uid"], seeded["metadata"]["uid"]);
}

/// client-go's Lease lock: GET, then PUT the object read; the slower contender gets 409.
#[tokio::test]
async fn two_lease_contenders_cannot_both_win() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "bgctl-web"}, "spec": {"leaseDurationSeconds": 15}});
    api.post(LEASES, &lease).await;
    let path = format!("{LEASES}/bgctl-web");
    let (_, read_a) = api.get(&path).await;
    let (_, read_b) = api.get(&path).await;
    let mut a = read_a.clone();
    a["spec"]["holderIdentity"] = json!("a");
    let mut b = read_b.clone();
    b["spec"]["holderIdentity"] = json!("b");
    let (code_a, _) = api.put(&path, &a).await;
    let (code_b, st) = api.put(&path, &b).await;
    assert_eq!((code_a, code_b), (200, 409), "{st}");
    assert_eq!(
        sim.get("coordination.k8s.io/v1", "Lease", "default", "bgctl-web")
            .unwrap()["spec"]["holderIdentity"],
        "a"
    );
    // Leases do not allow unconditional updates.
    let mut blind = b.clone();
    blind["metadata"]["resourceVersion"] = json!("");
    let (code, _) = api.put(&path, &blind).await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn delete_preconditions_are_checked() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, d) = api.post(DEPLOYMENTS, &deployment("blue", "web:1", 1)).await;
    let client = reqwest::Client::new();
    let url = format!("{}{DEPLOYMENTS}/blue", sim.url());
    let stale = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "preconditions": {"resourceVersion": (rv(&d) - 1).to_string()}});
    let resp = client.delete(&url).json(&stale).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    let fresh = json!({"preconditions": {"resourceVersion": rv(&d).to_string(), "uid": d["metadata"]["uid"]}});
    let resp = client.delete(&url).json(&fresh).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}
