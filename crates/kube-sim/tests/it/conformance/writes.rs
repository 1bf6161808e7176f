//! Writes: create, PUT, the patch flavours and server-side apply — status codes, `kind: Status`
//! bodies, resourceVersion preconditions and generation rules.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn create_returns_201_with_server_metadata() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (code, svc) = api.post(SERVICES, &service("web", "blue")).await;
    assert_eq!(code, 201, "{svc}");
    assert_eq!(svc["apiVersion"], "v1");
    assert_eq!(svc["kind"], "Service");
    assert!(svc["metadata"]["uid"]
        .as_str()
        .is_some_and(|u| u.len() == 36));
    assert!(svc["metadata"]["creationTimestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert!(
        svc["metadata"].get("generation").is_none(),
        "Services have no generation"
    );
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP", "defaulted");
    let (code, dep) = api
        .post(DEPLOYMENTS, &deployment("green", "web:2", 2))
        .await;
    assert_eq!(code, 201, "{dep}");
    assert_eq!(dep["metadata"]["generation"], 1);
    assert!(rv(&dep) > rv(&svc), "one global counter");
}

#[tokio::test]
async fn creating_an_existing_name_is_409_already_exists() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("green", "web:2", 1))
        .await;
    let (code, st) = api
        .post(DEPLOYMENTS, &deployment("green", "web:2", 1))
        .await;
    assert_eq!(code, 409);
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["reason"], "AlreadyExists");
    assert_eq!(st["message"], "deployments.apps \"green\" already exists");
    assert_eq!(
        st["details"],
        json!({"name": "green", "group": "apps", "kind": "deployments"})
    );
}

#[tokio::test]
async fn missing_objects_are_404_status() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (code, st) = api.get(&format!("{DEPLOYMENTS}/nope")).await;
    assert_eq!(code, 404);
    assert_eq!(
        st,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "deployments.apps \"nope\" not found", "reason": "NotFound",
               "details": {"name": "nope", "group": "apps", "kind": "deployments"}, "code": 404})
    );
    let (code, st) = api.get(&format!("{SERVICES}/nope")).await;
    assert_eq!(code, 404);
    assert_eq!(
        st["details"],
        json!({"name": "nope", "kind": "services"}),
        "core group has no group key"
    );
    // PUT to a missing Deployment or CR is 404; PATCH too.
    let (code, _) = api
        .put(&format!("{DEPLOYMENTS}/nope"), &deployment("nope", "x", 1))
        .await;
    assert_eq!(code, 404);
    let (code, _) = api.patch(&format!("{HTTPROUTES}/nope"), MERGE, "{}").await;
    assert_eq!(code, 404);
    // Unknown resources and groups.
    let (code, st) = api
        .get("/apis/example.com/v1/namespaces/default/widgets")
        .await;
    assert_eq!((code, st["reason"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn put_to_a_missing_service_or_lease_creates_it() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (code, _) = api
        .put(&format!("{SERVICES}/web"), &service("web", "blue"))
        .await;
    assert_eq!(code, 201);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "bgctl-web"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}});
    let (code, _) = api.put(&format!("{LEASES}/bgctl-web"), &lease).await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn stale_resource_version_is_409_conflict() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, created) = api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    let mut first = created.clone();
    first["spec"]["rules"][0]["backendRefs"][0]["weight"] = json!(50);
    let (code, updated) = api.put(&format!("{HTTPROUTES}/web"), &first).await;
    assert_eq!(code, 200, "{updated}");
    // A second writer still holding the original resourceVersion loses.
    let mut second = created.clone();
    second["spec"]["rules"][0]["backendRefs"][0]["weight"] = json!(0);
    let (code, st) = api.put(&format!("{HTTPROUTES}/web"), &second).await;
    assert_eq!(code, 409);
    assert_eq!(st["reason"], "Conflict");
    assert_eq!(
        st["message"],
        "Operation cannot be fulfilled on httproutes.gateway.networking.k8s.io \"web\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(st["details"]["kind"], "httproutes");
}

#[tokio::test]
async fn unconditional_put_is_allowed_for_builtins_but_422_for_custom_resources() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(SERVICES, &service("web", "blue")).await;
    let (code, _) = api
        .put(&format!("{SERVICES}/web"), &service("web", "green"))
        .await;
    assert_eq!(code, 200);
    api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    let (code, st) = api
        .put(&format!("{HTTPROUTES}/web"), &httproute("web", 0, 100))
        .await;
    assert_eq!(code, 422);
    assert_eq!(st["reason"], "Invalid");
    assert_eq!(st["details"]["kind"], "HTTPRoute", "422 names the Kind");
    assert_eq!(
        st["details"]["causes"][0]["field"],
        "metadata.resourceVersion"
    );
    assert!(st["message"]
        .as_str()
        .unwrap()
        .contains("must be specified for an update"));
}

#[tokio::test]
async fn a_write_that_changes_nothing_keeps_the_resource_version() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, created) = api.post(SERVICES, &service("web", "blue")).await;
    let (code, same) = api.put(&format!("{SERVICES}/web"), &created).await;
    assert_eq!(code, 200);
    assert_eq!(rv(&same), rv(&created));
    let (_, same) = api
        .patch(
            &format!("{SERVICES}/web"),
            MERGE,
            r#"{"spec":{"selector":{"version":"blue"}}}"#,
        )
        .await;
    assert_eq!(rv(&same), rv(&created));
}

#[tokio::test]
async fn generation_moves_on_spec_changes_only() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("green", "web:1", 1))
        .await;
    let path = format!("{DEPLOYMENTS}/green");
    let (_, d) = api
        .patch(
            &path,
            MERGE,
            r#"{"metadata":{"annotations":{"bgctl/owner":"x"}}}"#,
        )
        .await;
    assert_eq!(d["metadata"]["generation"], 1, "metadata is not spec");
    let before = rv(&d);
    let (_, d) = api.patch(&path, MERGE, r#"{"spec":{"replicas":3}}"#).await;
    assert_eq!(d["metadata"]["generation"], 2);
    assert!(rv(&d) > before);
    // Main-resource writes ignore status; /status writes ignore everything else.
    let (_, d) = api
        .patch(&path, MERGE, r#"{"status":{"replicas":7}}"#)
        .await;
    assert!(d["status"].get("replicas").is_none(), "{d}");
    let (code, d) = api
        .patch(
            &format!("{path}/status"),
            MERGE,
            r#"{"spec":{"replicas":9},"status":{"replicas":7}}"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(d["status"]["replicas"], 7);
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["metadata"]["generation"], 2,
        "status writes keep generation"
    );

    // Custom resources: everything but metadata and status counts.
    api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    let path = format!("{HTTPROUTES}/web");
    let (_, r) = api
        .patch(&path, MERGE, r#"{"metadata":{"labels":{"a":"b"}}}"#)
        .await;
    assert_eq!(r["metadata"]["generation"], 1);
    let (_, r) = api
        .patch(
            &format!("{path}/status"),
            MERGE,
            r#"{"status":{"parents":[]}}"#,
        )
        .await;
    assert_eq!(r["metadata"]["generation"], 1);
    let (_, r) = api
        .patch(
            &path,
            JSON_PATCH,
            r#"[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":50}]"#,
        )
        .await;
    assert_eq!(r["metadata"]["generation"], 2);
    assert_eq!(r["spec"]["rules"][0]["backendRefs"][1]["weight"], 50);
}

#[tokio::test]
async fn merge_patch_follows_rfc7386_and_honours_an_embedded_resource_version() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, svc) = api.post(SERVICES, &service("web", "blue")).await;
    let path = format!("{SERVICES}/web");
    let stale = rv(&svc);
    let (code, svc) = api
        .patch(&path, MERGE, &format!(r#"{{"metadata":{{"resourceVersion":"{stale}"}},"spec":{{"selector":{{"version":"green","app":null}}}}}}"#))
        .await;
    assert_eq!(code, 200, "{svc}");
    assert_eq!(
        svc["spec"]["selector"],
        json!({"version": "green"}),
        "null deletes"
    );
    let (code, st) = api
        .patch(&path, MERGE, &format!(r#"{{"metadata":{{"resourceVersion":"{stale}"}},"spec":{{"selector":{{"version":"blue"}}}}}}"#))
        .await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(st["reason"], "Conflict");
    let (_, svc) = api
        .patch(&path, MERGE, r#"{"spec":{"ports":[{"port":81}]}}"#)
        .await;
    assert_eq!(
        svc["spec"]["ports"].as_array().unwrap().len(),
        1,
        "arrays are replaced"
    );
    assert_eq!(svc["spec"]["ports"][0]["port"], 81);
}

#[tokio::test]
async fn json_patch_failures_are_422_and_bad_json_is_400() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    let path = format!("{HTTPROUTES}/web");
    let (code, st) = api
        .patch(&path, JSON_PATCH, r#"[{"op":"test","path":"/spec/rules/0/backendRefs/0/weight","value":80},{"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":0}]"#)
        .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(st["reason"], "Invalid");
    assert_eq!(
        st["message"],
        "the server rejected our request due to an error in our request"
    );
    let (code, _) = api
        .patch(
            &path,
            JSON_PATCH,
            r#"[{"op":"remove","path":"/spec/nothing/here"}]"#,
        )
        .await;
    assert_eq!(code, 422);
    let (code, st) = api.patch(&path, JSON_PATCH, "[{not json").await;
    assert_eq!((code, st["reason"].as_str()), (400, Some("BadRequest")));
    let (code, r) = api
        .patch(&path, JSON_PATCH, r#"[{"op":"test","path":"/spec/rules/0/backendRefs/0/weight","value":90},{"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":80}]"#)
        .await;
    assert_eq!(code, 200);
    assert_eq!(r["spec"]["rules"][0]["backendRefs"][0]["weight"], 80);
}

#[tokio::test]
async fn strategic_merge_patch_is_415_on_custom_resources_only() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(HTTPROUTES, &httproute("web", 90, 10)).await;
    let (code, st) = api
        .patch(&format!("{HTTPROUTES}/web"), STRATEGIC, "{}")
        .await;
    assert_eq!(code, 415);
    assert_eq!(st["reason"], "UnsupportedMediaType");
    assert_eq!(
        st["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
    api.post(DEPLOYMENTS, &deployment("green", "web:1", 1))
        .await;
    let (code, d) = api
        .patch(
            &format!("{DEPLOYMENTS}/green"),
            STRATEGIC,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}}"#,
        )
        .await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "web:2"
    );
    let (code, _) = api
        .patch(&format!("{DEPLOYMENTS}/green"), "text/plain", "{}")
        .await;
    assert_eq!(code, 415);
}

#[tokio::test]
async fn apply_needs_a_field_manager_and_creates_or_merges() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let path = format!("{HTTPROUTES}/web");
    let body = httproute("web", 90, 10).to_string();
    let (code, st) = api.patch(&path, APPLY, &body).await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(
        st["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (code, st) = api.patch(&format!("{path}?force=true"), MERGE, "{}").await;
    assert_eq!(code, 422);
    assert!(st["message"]
        .as_str()
        .unwrap()
        .contains("force: Forbidden: may not be specified for non-apply patch"));
    let (code, created) = api
        .patch(&format!("{path}?fieldManager=bgctl"), APPLY, &body)
        .await;
    assert_eq!(code, 201, "{created}");
    let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: web\n  labels: {owner: bgctl}\n";
    let (code, merged) = api
        .patch(
            &format!("{path}?&fieldManager=bgctl&force=true"),
            APPLY,
            yaml,
        )
        .await;
    assert_eq!(code, 200, "{merged}");
    assert_eq!(merged["metadata"]["labels"]["owner"], "bgctl");
    assert_eq!(
        merged["spec"]["rules"][0]["backendRefs"][0]["weight"], 90,
        "unlisted fields kept"
    );
}
