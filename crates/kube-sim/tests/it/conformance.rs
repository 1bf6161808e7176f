//! Verbs, status codes, `kind: Status` bodies, resourceVersion and generation rules (reference
//! §4 of kubernetes.md).

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

#[tokio::test]
async fn delete_answers_status_or_the_object_as_the_real_registry_does() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("green", "web:1", 1))
        .await;
    let (code, st) = api.delete(&format!("{DEPLOYMENTS}/green")).await;
    assert_eq!(code, 200);
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["status"], "Success");
    assert_eq!(st["details"]["kind"], "deployments");
    let (code, _) = api.get(&format!("{DEPLOYMENTS}/green")).await;
    assert_eq!(code, 404);
    let (code, _) = api.delete(&format!("{DEPLOYMENTS}/green")).await;
    assert_eq!(code, 404);
    api.post(SERVICES, &service("web", "blue")).await;
    let (code, obj) = api.delete(&format!("{SERVICES}/web")).await;
    assert_eq!(
        (code, obj["kind"].as_str()),
        (200, Some("Service")),
        "ReturnDeletedObject"
    );
    // Finalizers keep the object, terminating, until the last one is removed.
    let mut route = httproute("web", 1, 1);
    route["metadata"]["finalizers"] = json!(["example.com/hold"]);
    api.post(HTTPROUTES, &route).await;
    let (code, obj) = api.delete(&format!("{HTTPROUTES}/web")).await;
    assert_eq!(code, 202);
    assert!(obj["metadata"]["deletionTimestamp"].is_string());
    let (code, _) = api
        .patch(
            &format!("{HTTPROUTES}/web"),
            MERGE,
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = api.get(&format!("{HTTPROUTES}/web")).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn lists_have_list_kinds_selectors_and_pages() {
    let sim = sim().await;
    let api = Api::new(&sim);
    for (name, version) in [("a", "blue"), ("b", "green"), ("c", "green")] {
        let mut s = service(name, version);
        s["metadata"]["labels"]["version"] = json!(version);
        api.post(SERVICES, &s).await;
    }
    let (code, list) = api.get(SERVICES).await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "ServiceList");
    assert_eq!(list["apiVersion"], "v1");
    assert!(list["metadata"]["resourceVersion"].is_string());
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (_, list) = api
        .get(&format!("{SERVICES}?labelSelector=version%3Dgreen"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (_, list) = api
        .get(&format!("{SERVICES}?fieldSelector=metadata.name%3Db"))
        .await;
    assert_eq!(list["items"][0]["metadata"]["name"], "b");
    let (_, page) = api.get(&format!("{SERVICES}?&limit=2")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let token = page["metadata"]["continue"]
        .as_str()
        .expect("continue token");
    let (_, rest) = api
        .get(&format!(
            "{SERVICES}?&limit=2&continue={}",
            token.replace('/', "%2F")
        ))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["metadata"]["name"], "c");
    // All namespaces.
    let (_, all) = api.get("/api/v1/services").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn api_version_and_kind_are_exact_and_versions_share_storage() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut wrong = deployment("green", "x", 1);
    wrong["apiVersion"] = json!("apps/v1beta1");
    let (code, st) = api.post(DEPLOYMENTS, &wrong).await;
    assert_eq!((code, st["reason"].as_str()), (400, Some("BadRequest")));
    let mut wrong = deployment("green", "x", 1);
    wrong["kind"] = json!("StatefulSet");
    let (code, _) = api.post(DEPLOYMENTS, &wrong).await;
    assert_eq!(code, 400);
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "web"}, "spec": {"hosts": ["web"], "http": [{"route": [
            {"destination": {"host": "web", "subset": "blue"}, "weight": 100}]}]}});
    let (code, _) = api
        .post(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
            &vs,
        )
        .await;
    assert_eq!(code, 201);
    let (code, old) = api
        .get("/apis/networking.istio.io/v1beta1/namespaces/default/virtualservices/web")
        .await;
    assert_eq!(code, 200);
    assert_eq!(old["apiVersion"], "networking.istio.io/v1beta1");
    assert_eq!(
        sim.get("networking.istio.io/v1", "VirtualService", "default", "web")
            .unwrap()["apiVersion"],
        "networking.istio.io/v1"
    );
}

#[tokio::test]
async fn validation_errors_are_422_with_causes() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (code, st) = api.post(HTTPROUTES, &httproute("web", 2_000_000, 10)).await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(st["details"]["kind"], "HTTPRoute");
    assert_eq!(st["details"]["group"], "gateway.networking.k8s.io");
    assert_eq!(st["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(
        st["details"]["causes"][0]["field"],
        "spec.rules[0].backendRefs[0].weight"
    );
    assert!(st["message"].as_str().unwrap().starts_with("HTTPRoute.gateway.networking.k8s.io \"web\" is invalid: spec.rules[0].backendRefs[0].weight: Invalid value: 2000000"));
    let proxy = json!({"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy", "metadata": {"name": "web"},
        "spec": {"routes": [{"services": [{"name": "web-blue", "port": 80, "weight": -1}]}]}});
    let (code, _) = api
        .post(
            "/apis/projectcontour.io/v1/namespaces/default/httpproxies",
            &proxy,
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = api.post(SERVICES, &service("Not_A_Name", "blue")).await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn writes_into_a_missing_namespace_are_404() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (code, st) = api
        .post("/api/v1/namespaces/shop/services", &service("web", "blue"))
        .await;
    assert_eq!(code, 404);
    assert_eq!(st["message"], "namespaces \"shop\" not found");
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    let (code, _) = api.post("/api/v1/namespaces", &ns).await;
    assert_eq!(code, 201);
    let (code, _) = api
        .post("/api/v1/namespaces/shop/services", &service("web", "blue"))
        .await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn discovery_lists_the_served_groups() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, v) = api.get("/api").await;
    assert_eq!(v["versions"], json!(["v1"]));
    let (_, g) = api.get("/apis").await;
    let names: Vec<&str> = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for want in [
        "apps",
        "coordination.k8s.io",
        "networking.k8s.io",
        "gateway.networking.k8s.io",
        "projectcontour.io",
        "networking.istio.io",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let (_, rl) = api.get("/apis/apps/v1").await;
    assert_eq!(rl["kind"], "APIResourceList");
    let res: Vec<&str> = rl["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        res,
        ["deployments", "deployments/status", "deployments/scale"]
    );
    let (code, _) = api.get("/apis/split.smi-spec.io/v1alpha4").await;
    assert_eq!(code, 404);
    let (code, ver) = api.get("/version").await;
    assert_eq!((code, ver["major"].as_str()), (200, Some("1")));
}

#[tokio::test]
async fn deployment_scale_subresource_reads_and_writes_replicas() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("blue", "web:1", 3)).await;
    let (code, sc) = api.get(&format!("{DEPLOYMENTS}/blue/scale")).await;
    assert_eq!(code, 200);
    assert_eq!(
        (sc["kind"].as_str(), sc["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(3))
    );
    let (code, _) = api
        .patch(
            &format!("{DEPLOYMENTS}/blue/scale"),
            MERGE,
            r#"{"spec":{"replicas":0}}"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        sim.get("apps/v1", "Deployment", "default", "blue").unwrap()["spec"]["replicas"],
        0
    );
}

#[tokio::test]
async fn the_request_log_records_method_path_content_type_body_and_status() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(SERVICES, &service("web", "blue")).await;
    sim.clear_requests();
    api.patch(
        &format!("{SERVICES}/web?fieldManager=bgctl"),
        MERGE,
        r#"{"spec":{"selector":{"version":"green"}}}"#,
    )
    .await;
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "PATCH");
    assert_eq!(
        log[0].path,
        "/api/v1/namespaces/default/services/web?fieldManager=bgctl"
    );
    assert_eq!(log[0].content_type.as_deref(), Some(MERGE));
    assert_eq!(
        log[0].json().unwrap()["spec"]["selector"]["version"],
        "green"
    );
    assert_eq!(log[0].status, 200);
}
