//! Mirroring and header routes on the Kubernetes routers through the real binary (issue 16),
//! against kube-sim with the conformance targets' objects: the documented object each router
//! gets for `setMirrorRoute {name: shadow, percentage: 50, match: …}`, where requests go with it
//! (kube-sim's evaluator over the stored object), that weight steps move the mirror rule's
//! backends with the user's rule, and that removing it (a later step, or `abort`) restores the
//! user's spec exactly.

use serde_json::{json, Value};

use crate::conformance::run::{bgctl, bgctl_exit, p};
use crate::conformance::scenarios::blue_live;
use crate::conformance::target::{stderr, PlanSpec, Target};
use crate::conformance::targets::kube::{Kube, CONTOUR_WEIGHTS, GATEWAY, ISTIO};
use crate::harness::render;

use kube_sim::route_eval::{Request, Routed};

impl<const R: usize> Kube<R> {
    /// (apiVersion, kind, name, list key) of the routing object.
    fn routing() -> (&'static str, &'static str, &'static str, &'static str) {
        match R {
            GATEWAY => (
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                "myapp",
                "rules",
            ),
            ISTIO => ("networking.istio.io/v1", "VirtualService", "myapp", "http"),
            _ => ("projectcontour.io/v1", "HTTPProxy", "blog", "routes"),
        }
    }

    fn object(&self) -> Value {
        let (api, kind, name, _) = Self::routing();
        self.get(api, kind, name).expect("routing object")
    }

    /// The mirror's `match`: Contour has no method condition, so a header there.
    fn mirror_match() -> &'static str {
        match R {
            GATEWAY | ISTIO => "[{method: {exact: GET}}]",
            _ => "[{headers: {X-Shadow: {exact: '1'}}}]",
        }
    }

    /// A request the mirror matches (`true`) or not.
    fn request(matched: bool) -> Request {
        let (method, headers) = match (R, matched) {
            (GATEWAY | ISTIO, true) => ("GET", vec![]),
            (GATEWAY | ISTIO, false) => ("POST", vec![]),
            (_, true) => ("GET", vec![("X-Shadow".to_string(), "1".to_string())]),
            (_, false) => ("GET", vec![]),
        };
        Request {
            method: method.into(),
            path: if R == ISTIO || R == GATEWAY {
                "/"
            } else {
                "/blog/a"
            }
            .into(),
            headers,
        }
    }

    fn route(&self, matched: bool) -> Routed {
        let (api, kind, name, _) = Self::routing();
        let ns = if R == ISTIO || R == GATEWAY {
            "default"
        } else {
            "marketing"
        };
        self.sim
            .route(api, kind, ns, name, &Self::request(matched))
            .expect("a rule matches")
    }

    /// The canary's name as the evaluator reports backends.
    fn green() -> &'static str {
        match R {
            GATEWAY => "myapp-v2",
            ISTIO => "myapp/v2",
            _ => "green",
        }
    }

    fn blue() -> &'static str {
        match R {
            GATEWAY => "myapp-v1",
            ISTIO => "myapp/v1",
            _ => "blue",
        }
    }

    /// The owned mirror rule is the documented shape for this router.
    fn assert_mirror_object(obj: &Value) {
        let (_, _, _, key) = Self::routing();
        let list = obj["spec"][key].as_array().expect("rule list");
        assert_eq!(list.len(), 2, "the mirror rule and the user's: {obj}");
        let rule = &list[0];
        assert_eq!(
            obj["metadata"]["annotations"]["bgctl.dev/owned-routes"], "bgctl-mirror-shadow",
            "{obj}"
        );
        match R {
            GATEWAY => {
                assert_eq!(rule["name"], "bgctl-mirror-shadow");
                assert_eq!(
                    rule["matches"],
                    json!([{"path": {"type": "PathPrefix", "value": "/"}, "method": "GET"}])
                );
                assert_eq!(
                    rule["filters"],
                    json!([{"type": "RequestMirror", "requestMirror": {
                        "backendRef": {"name": "myapp-v2", "port": 8080}, "percent": 50}}])
                );
            }
            ISTIO => {
                assert_eq!(rule["name"], "bgctl-mirror-shadow");
                assert_eq!(rule["match"], json!([{"method": {"exact": "GET"}}]));
                assert_eq!(rule["mirror"], json!({"host": "myapp", "subset": "v2"}));
                assert_eq!(rule["mirrorPercentage"], json!({"value": 50}));
            }
            _ => {
                assert!(rule.get("name").is_none(), "HTTPProxy routes have no name");
                assert_eq!(
                    rule["conditions"],
                    json!([{"prefix": "/blog"}, {"header": {"name": "X-Shadow", "exact": "1"}}])
                );
                let mirrors: Vec<&Value> = rule["services"]
                    .as_array()
                    .expect("services")
                    .iter()
                    .filter(|s| s["mirror"] == true)
                    .collect();
                assert_eq!(
                    mirrors,
                    [&json!({"name": "green", "port": 80, "mirror": true, "weight": 50})]
                );
            }
        }
    }
}

/// Mirror → gate → 20 % → gate → mirror removed → gate, each gate passed by `promote`; then
/// `abort`. A second run sets the mirror and is aborted at once: the spec is the user's again.
async fn mirror_on<const R: usize>() {
    let t = Kube::<R>::start().await;
    blue_live(&t).await;
    let (_, _, _, key) = Kube::<R>::routing();
    let before = t.object();
    let steps = format!(
        "[{{setMirrorRoute: {{name: shadow, percentage: 50, match: {}}}}}, {{pause: {{}}}}, {{setWeight: 20}}, {{pause: {{}}}}, {{setMirrorRoute: {{name: shadow}}}}, {{pause: {{}}}}, {{setWeight: 100}}]",
        Kube::<R>::mirror_match()
    );
    let plan = t.plan(&PlanSpec::canary(&steps));
    let out = bgctl(&t, &["plan", "validate", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    let obj = t.object();
    Kube::<R>::assert_mirror_object(&obj);
    assert_eq!(
        obj["spec"][key][1], before["spec"][key][0],
        "the user's rule is untouched"
    );
    // A matching request is answered by blue and copied to green at 50 %; others are not copied.
    let hit = t.route(true);
    assert_eq!(hit.rule, 0);
    assert_eq!(hit.mirrors, [(Kube::<R>::green().to_string(), 50.0)]);
    assert!(
        hit.backends
            .iter()
            .all(|(n, w)| n == Kube::<R>::blue() || *w == 0),
        "{hit:?}"
    );
    let miss = t.route(false);
    assert_eq!((miss.rule, miss.mirrors.len()), (1, 0), "{miss:?}");
    let st = bgctl_exit(&t, &["status", "-o", "json", "-f", p(&plan)], 0).await;
    let st: Value = serde_json::from_slice(&st.stdout).expect("status json");
    assert_eq!(st["record"]["routes"], json!(["mirror:shadow"]), "{st}");
    assert!(
        st["extra"]
            .to_string()
            .contains("bgctl-mirror-shadow (mirror → "),
        "status lists the mirror rule: {st}"
    );

    // 20 %: the mirror rule's backends move with the user's rule; the copy stays at 50 %.
    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 6).await;
    let hit = t.route(true);
    let weight = |r: &Routed, who: &str| -> u64 {
        r.backends
            .iter()
            .filter(|(n, _)| n == who)
            .map(|(_, w)| w)
            .sum()
    };
    assert_eq!(
        (
            weight(&hit, Kube::<R>::blue()),
            weight(&hit, Kube::<R>::green())
        ),
        (80, 20),
        "{hit:?}"
    );
    assert_eq!(hit.mirrors, [(Kube::<R>::green().to_string(), 50.0)]);
    let miss = t.route(false);
    assert_eq!(
        (
            weight(&miss, Kube::<R>::blue()),
            weight(&miss, Kube::<R>::green())
        ),
        (80, 20)
    );

    // Removed: no owned rule, no annotation; the user's rule carries only the weights.
    let out = bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 6).await;
    assert!(
        stderr(&out).contains("remove mirror route `shadow`"),
        "{}",
        render(&out)
    );
    let obj = t.object();
    assert_eq!(obj["spec"][key].as_array().map(Vec::len), Some(1), "{obj}");
    assert!(obj["metadata"]["annotations"]
        .get("bgctl.dev/owned-routes")
        .is_none());
    assert!(t.route(true).mirrors.is_empty());
    bgctl_exit(&t, &["abort", "--yes", "-f", p(&plan)], 0).await;

    // Set and aborted at once: the spec is exactly what it was before the run (the weights the
    // first run's abort left included).
    let before = t.object();
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    Kube::<R>::assert_mirror_object(&t.object());
    bgctl_exit(&t, &["abort", "--yes", "-f", p(&plan)], 0).await;
    let after = t.object();
    assert_eq!(
        after["spec"], before["spec"],
        "abort restores the spec exactly"
    );
    assert!(after["metadata"]["annotations"]
        .get("bgctl.dev/owned-routes")
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_mirror_is_a_request_mirror_rule_removed_without_a_trace() {
    mirror_on::<{ GATEWAY }>().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn istio_mirror_is_a_mirror_entry_removed_without_a_trace() {
    mirror_on::<{ ISTIO }>().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn contour_mirror_is_a_mirror_service_removed_without_a_trace() {
    mirror_on::<{ CONTOUR_WEIGHTS }>().await;
}

/// `plans/gateway-api-header-canary.yaml` end to end against the Gateway API target's objects:
/// testers reach green at the first gate, the mirror copies GETs at the second, the promotion
/// leaves no bgctl rule behind.
#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_api_header_canary_example_runs_end_to_end() {
    let t = Kube::<GATEWAY>::start().await;
    blue_live(&t).await;
    let plan = t.dir().join("gateway-api-header-canary.yaml");
    std::fs::copy(
        crate::harness::root().join("plans/gateway-api-header-canary.yaml"),
        &plan,
    )
    .expect("copy plan");
    let testers = |cookie: &str| Request {
        method: "GET".into(),
        path: "/".into(),
        headers: vec![("Cookie".into(), cookie.into())],
    };
    let route = |req: &Request| {
        t.sim
            .route(
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                "default",
                "myapp",
                req,
            )
            .expect("a rule matches")
    };

    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    let with = route(&testers("a=1; beta=1"));
    assert_eq!(
        (with.name.as_deref(), with.backends.as_slice()),
        (
            Some("bgctl-header-testers"),
            &[("myapp-v2".to_string(), 100)][..]
        )
    );
    let without = route(&testers("beta=10"));
    assert_eq!(without.backends, [("myapp-v1".to_string(), 1)]);
    // `status` (text) names the rule bgctl owns.
    let st = bgctl_exit(&t, &["status", "-f", p(&plan)], 0).await;
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("HTTPRoute rule bgctl-header-testers (header route → myapp-v2)"),
        "{}",
        render(&st)
    );

    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 6).await;
    let get = route(&Kube::<GATEWAY>::request(true));
    assert_eq!(get.name.as_deref(), Some("bgctl-mirror-shadow"));
    assert_eq!(get.mirrors, [("myapp-v2".to_string(), 50.0)]);
    assert!(route(&testers("beta=1")).name.as_deref() == Some("bgctl-mirror-shadow"));

    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 0).await;
    let obj = t.object();
    assert_eq!(
        obj["spec"]["rules"].as_array().map(Vec::len),
        Some(1),
        "{obj}"
    );
    assert_eq!(
        route(&Kube::<GATEWAY>::request(true)).backends,
        [("myapp-v1".to_string(), 0), ("myapp-v2".to_string(), 100)]
    );
}

/// A lost answer at every write of the header-route canary (set, 50 %, remove, 100 %) on each
/// router: the route write is re-read and recomputed, never repeated blind, and the run
/// converges with no bgctl rule left (the target's `after_converge`).
async fn lost_answer_matrix_of_a_header_canary<const R: usize>() {
    crate::conformance::scenarios::faults::lost_answer_matrix::<Kube<R>>(
        crate::conformance::scenarios::faults::Stage::HeaderCanary,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answer_at_every_write_of_a_header_canary_gateway_api() {
    lost_answer_matrix_of_a_header_canary::<{ GATEWAY }>().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answer_at_every_write_of_a_header_canary_istio() {
    lost_answer_matrix_of_a_header_canary::<{ ISTIO }>().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answer_at_every_write_of_a_header_canary_contour() {
    lost_answer_matrix_of_a_header_canary::<{ CONTOUR_WEIGHTS }>().await;
}
