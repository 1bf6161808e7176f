//! The `/debug/route/…` endpoint: where a request would go through a stored HTTPRoute (the
//! Gateway API's "largest number of header matches" rule decides between the two rules).

use serde_json::json;

use crate::support::{sim, Api};

#[tokio::test]
async fn debug_route_answers_the_chosen_rule_and_404s_for_no_match() {
    let sim = sim().await;
    let api = Api::new(&sim);
    sim.put_object(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/app"}}],
             "backendRefs": [{"name": "blue", "weight": 3}]},
            {"name": "testers", "matches": [{"path": {"type": "PathPrefix", "value": "/app"},
                "headers": [{"type": "Exact", "name": "X-Canary", "value": "yes"}]}],
             "backendRefs": [{"name": "green"}]}
        ]}
    }));
    let base = "/debug/route/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/web";
    let (code, body) = api
        .get(&format!(
            "{base}?method=GET&path=%2Fapp%2Fx&header=x-canary%3Ayes"
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rule"], 1);
    assert_eq!(body["name"], "testers");
    assert_eq!(body["backends"], json!([["green", 1]]));
    let (code, body) = api.get(&format!("{base}?path=%2Fapp")).await;
    assert_eq!((code, &body["backends"]), (200, &json!([["blue", 3]])));
    let (code, _) = api.get(&format!("{base}?path=%2Fother")).await;
    assert_eq!(code, 404);
    let (code, _) = api
        .get("/debug/route/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/missing")
        .await;
    assert_eq!(code, 404);
}
