//! The rest of the API surface: DELETE answers, lists and selectors, exact apiVersion/kind,
//! validation errors, namespaces, discovery, the scale subresource and the request log.

use serde_json::json;

use crate::support::*;

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
