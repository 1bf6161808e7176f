//! Unit tests of the owned header and mirror rules, over JSON (no server).
use super::*;
use crate::plan::model::ValueMatch;
use crate::providers::kubernetes::traffic::{self, Router, Side};
use crate::providers::routes::Cond;
use crate::providers::Traffic;

/// RFC 7396 merge patch, as the API server applies it.
fn merge(target: &mut Value, patch: &Value) {
    if let Some(p) = patch.as_object() {
        if !target.is_object() {
            *target = json!({});
        }
        let t = target.as_object_mut().unwrap();
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    } else {
        *target = patch.clone();
    }
}

fn svc_sides() -> Vec<Side> {
    ["blue", "green"]
        .iter()
        .map(|env| Side {
            env: (*env).into(),
            service: Some(format!("{env}-svc")),
            ..Side::default()
        })
        .collect()
}

fn istio_sides() -> Vec<Side> {
    [("blue", "v1"), ("green", "v2")]
        .iter()
        .map(|(env, subset)| Side {
            env: (*env).into(),
            service: Some("app".into()),
            subset: Some((*subset).into()),
            ..Side::default()
        })
        .collect()
}

fn header(alts: &[(&str, ValueMatch)]) -> ActiveRoute {
    ActiveRoute {
        name: "testers".into(),
        kind: RouteKind::Header,
        to: "green".into(),
        matches: alts
            .iter()
            .map(|(n, v)| {
                vec![Cond::Header {
                    name: (*n).into(),
                    value: v.clone(),
                }]
            })
            .collect(),
        percent: None,
    }
}

fn mirror(percent: f64, conds: Vec<Cond>) -> ActiveRoute {
    ActiveRoute {
        name: "shadow".into(),
        kind: RouteKind::Mirror,
        to: "green".into(),
        matches: vec![conds],
        percent: Some(percent),
    }
}

fn exact(s: &str) -> ValueMatch {
    ValueMatch::Exact(s.into())
}

/// Applies the patch for `routes` and checks that the result needs no further patch.
fn converge(router: Router, obj: &Value, sides: &[Side], routes: &[ActiveRoute]) -> Value {
    let patch = routes_patch(router, obj, sides, routes)
        .unwrap()
        .expect("a patch");
    assert_eq!(
        patch["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"],
        "the write is conditional"
    );
    let mut out = obj.clone();
    merge(&mut out, &patch);
    assert_eq!(
        routes_patch(router, &out, sides, routes).unwrap(),
        None,
        "converged after one write"
    );
    out
}

fn httproute() -> Value {
    json!({"metadata": {"resourceVersion": "7", "annotations": {"bgctl.dev/owner": "r"}},
           "spec": {"rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}, {"path": {"type": "Exact", "value": "/"}}],
         "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-a", "value": "1"}]}}],
         "backendRefs": [{"name": "blue-svc", "port": 8080, "weight": 90}, {"name": "green-svc", "port": 8080, "weight": 10}]},
        {"backendRefs": [{"name": "other", "port": 80}]}
    ]}})
}

#[test]
fn httproute_header_rule_is_first_with_every_managed_match_plus_the_headers() {
    let obj = httproute();
    let route = header(&[
        ("X-Canary", exact("yes")),
        ("Cookie", ValueMatch::Regex("beta=1".into())),
    ]);
    let out = converge(Router::HttpRoute, &obj, &svc_sides(), &[route]);
    let rules = out["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    let owned_rule = &rules[0];
    assert_eq!(owned_rule["name"], "bgctl-header-testers");
    assert_eq!(
        owned_rule["backendRefs"],
        json!([{"name": "green-svc", "port": 8080, "weight": 100}]),
        "only the canary"
    );
    // 2 managed matches × 2 alternatives, the path kept.
    let matches = owned_rule["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 4);
    assert_eq!(
        matches[0],
        json!({"path": {"type": "PathPrefix", "value": "/api"},
               "headers": [{"type": "Exact", "name": "X-Canary", "value": "yes"}]})
    );
    assert_eq!(
        matches[3],
        json!({"path": {"type": "Exact", "value": "/"},
               "headers": [{"type": "RegularExpression", "name": "Cookie", "value": ".*(?:beta=1).*"}]})
    );
    assert_eq!(
        owned_rule["filters"], obj["spec"]["rules"][0]["filters"],
        "the rule's filters carry over"
    );
    assert_eq!(&rules[1..], &obj["spec"]["rules"].as_array().unwrap()[..]);
    assert_eq!(
        out["metadata"]["annotations"]["bgctl.dev/owned-routes"],
        "bgctl-header-testers"
    );
    // The user's rule is what traffic is read from, not the owned one.
    assert!(matches!(
        traffic::read(Router::HttpRoute, &out, &svc_sides(), None),
        Traffic::Split { percent, .. } if (percent - 10.0).abs() < 1e-9
    ));
    assert_eq!(
        describe_owned(Router::HttpRoute, "HTTPRoute", &out),
        ["HTTPRoute rule bgctl-header-testers (header route → green-svc)"]
    );
    // Removal restores the object exactly (spec and the annotation).
    let back = converge(Router::HttpRoute, &out, &svc_sides(), &[]);
    assert_eq!(back["spec"], obj["spec"]);
    assert_eq!(
        back["metadata"]["annotations"],
        obj["metadata"]["annotations"]
    );
}

#[test]
fn prefix_becomes_an_anchored_regex_that_whole_value_matchers_accept_too() {
    let out = converge(
        Router::HttpRoute,
        &httproute(),
        &svc_sides(),
        &[header(&[("X-Team", ValueMatch::Prefix("qa.".into()))])],
    );
    let h = &out["spec"]["rules"][0]["matches"][0]["headers"][0];
    assert_eq!(h["type"], "RegularExpression");
    assert_eq!(h["value"], "^qa\\..*");
    let re = regex::Regex::new(&format!("^(?:{})$", h["value"].as_str().unwrap())).unwrap();
    assert!(re.is_match("qa.berlin") && !re.is_match("xqa.berlin") && !re.is_match("qax"));
}

#[test]
fn owned_rules_are_recognised_by_the_annotation_when_the_server_drops_rule_names() {
    let out = converge(
        Router::HttpRoute,
        &httproute(),
        &svc_sides(),
        &[header(&[("X-Canary", exact("yes"))])],
    );
    // A Gateway API CRD before v1.2 prunes `rules[].name`.
    let mut pruned = out.clone();
    pruned["spec"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert_eq!(
        owned(Router::HttpRoute, &pruned),
        [(0, "bgctl-header-testers".to_string())]
    );
    let back = routes_patch(Router::HttpRoute, &pruned, &svc_sides(), &[])
        .unwrap()
        .expect("removal");
    let mut after = pruned.clone();
    merge(&mut after, &back);
    assert_eq!(after["spec"], httproute()["spec"]);
    // And weights are never written into the owned header rule.
    let want = traffic::desired(
        &Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 50.0,
        },
        &svc_sides(),
    )
    .unwrap();
    let spec = traffic::spec_patch(Router::HttpRoute, &pruned, &svc_sides(), &want)
        .unwrap()
        .unwrap();
    assert_eq!(spec["rules"][0], pruned["spec"]["rules"][0]);
    assert_eq!(spec["rules"][1]["backendRefs"][1]["weight"], 50);
}

#[test]
fn httproute_mirror_copies_the_rule_and_adds_a_request_mirror_whose_weights_follow_the_split() {
    let route = mirror(
        50.0,
        vec![Cond::Method {
            value: exact("GET"),
        }],
    );
    let out = converge(
        Router::HttpRoute,
        &httproute(),
        &svc_sides(),
        std::slice::from_ref(&route),
    );
    let m = &out["spec"]["rules"][0];
    assert_eq!(m["name"], "bgctl-mirror-shadow");
    assert_eq!(m["matches"][0]["method"], "GET");
    assert_eq!(
        m["backendRefs"],
        httproute()["spec"]["rules"][0]["backendRefs"],
        "the answer still comes from the split"
    );
    assert_eq!(
        m["filters"][1],
        json!({"type": "RequestMirror", "requestMirror": {
            "backendRef": {"name": "green-svc", "port": 8080}, "percent": 50}})
    );
    let want = traffic::desired(
        &Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 30.0,
        },
        &svc_sides(),
    )
    .unwrap();
    let spec = traffic::spec_patch(Router::HttpRoute, &out, &svc_sides(), &want)
        .unwrap()
        .unwrap();
    let mut after = out.clone();
    merge(&mut after, &json!({ "spec": spec }));
    assert_eq!(after["spec"]["rules"][0]["backendRefs"][1]["weight"], 30);
    assert_eq!(
        routes_patch(Router::HttpRoute, &after, &svc_sides(), &[route]).unwrap(),
        None,
        "a weight write leaves the mirror converged"
    );
    // A fractional percentage is written as a fraction.
    let out = converge(
        Router::HttpRoute,
        &httproute(),
        &svc_sides(),
        &[mirror(
            12.5,
            vec![Cond::Method {
                value: exact("GET"),
            }],
        )],
    );
    assert_eq!(
        out["spec"]["rules"][0]["filters"][1]["requestMirror"]["fraction"],
        json!({"numerator": 1250, "denominator": 10000})
    );
}

#[test]
fn a_mirror_path_outside_a_managed_rule_gets_no_match_there() {
    let route = mirror(
        100.0,
        vec![Cond::Path {
            value: ValueMatch::Prefix("/api/v2".into()),
        }],
    );
    let out = converge(Router::HttpRoute, &httproute(), &svc_sides(), &[route]);
    // `/api` narrows to `/api/v2`; the exact `/` cannot match it.
    assert_eq!(
        out["spec"]["rules"][0]["matches"],
        json!([{"path": {"type": "PathPrefix", "value": "/api/v2"}}])
    );
    assert!(out["spec"]["rules"][0]["filters"][1]["requestMirror"]
        .get("percent")
        .is_none());
}

fn virtual_service() -> Value {
    json!({"metadata": {"resourceVersion": "3"}, "spec": {"hosts": ["app"], "http": [
        {"name": "primary", "match": [{"uri": {"prefix": "/"}}], "timeout": "5s",
         "route": [{"destination": {"host": "app", "subset": "v1"}, "weight": 100}]}
    ]}})
}

#[test]
fn istio_header_entry_is_first_and_mirror_sets_mirror_and_percentage() {
    let obj = virtual_service();
    let routes = [
        header(&[("X-Canary", ValueMatch::Prefix("ye".into()))]),
        mirror(
            50.0,
            vec![Cond::Method {
                value: ValueMatch::Regex("GET|HEAD".into()),
            }],
        ),
    ];
    let out = converge(Router::VirtualService, &obj, &istio_sides(), &routes);
    let http = out["spec"]["http"].as_array().unwrap();
    assert_eq!(http.len(), 3);
    assert_eq!(http[0]["name"], "bgctl-header-testers");
    assert_eq!(
        http[0]["match"],
        json!([{"uri": {"prefix": "/"}, "headers": {"x-canary": {"prefix": "ye"}}}]),
        "Istio header names are lower-case"
    );
    assert_eq!(
        http[0]["route"],
        json!([{"destination": {"host": "app", "subset": "v2"}, "weight": 100}])
    );
    assert_eq!(http[0]["timeout"], "5s");
    assert_eq!(http[1]["name"], "bgctl-mirror-shadow");
    assert_eq!(
        http[1]["match"][0]["method"],
        json!({"regex": ".*(?:GET|HEAD).*"})
    );
    assert_eq!(http[1]["mirror"], json!({"host": "app", "subset": "v2"}));
    assert_eq!(http[1]["mirrorPercentage"], json!({"value": 50}));
    assert_eq!(http[1]["route"], obj["spec"]["http"][0]["route"]);
    assert_eq!(http[2], obj["spec"]["http"][0]);
    assert_eq!(
        traffic::read(Router::VirtualService, &out, &istio_sides(), None),
        Traffic::Env { env: "blue".into() }
    );
    // Removing only the header route keeps the mirror.
    let one = converge(Router::VirtualService, &out, &istio_sides(), &routes[1..]);
    assert_eq!(one["spec"]["http"].as_array().unwrap().len(), 2);
    assert_eq!(one["spec"]["http"][0]["name"], "bgctl-mirror-shadow");
    let back = converge(Router::VirtualService, &one, &istio_sides(), &[]);
    assert_eq!(back["spec"], obj["spec"]);
}

fn http_proxy() -> Value {
    json!({"metadata": {"resourceVersion": "9"}, "spec": {"routes": [
        {"conditions": [{"prefix": "/blog"}],
         "services": [{"name": "blue-svc", "port": 80, "weight": 100}, {"name": "green-svc", "port": 80, "weight": 0}]}
    ]}})
}

#[test]
fn contour_alternatives_are_separate_owned_routes_recognised_by_the_annotation() {
    let obj = http_proxy();
    let route = header(&[
        ("X-Canary", exact("yes")),
        ("X-Team", ValueMatch::Prefix("qa".into())),
    ]);
    let out = converge(Router::HttpProxy, &obj, &svc_sides(), &[route]);
    let routes = out["spec"]["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3);
    assert!(
        routes[0].get("name").is_none(),
        "HTTPProxy routes have no name"
    );
    assert_eq!(
        routes[0]["conditions"],
        json!([{"prefix": "/blog"}, {"header": {"name": "X-Canary", "exact": "yes"}}])
    );
    assert_eq!(
        routes[1]["conditions"],
        json!([{"prefix": "/blog"}, {"header": {"name": "X-Team", "regex": "^qa.*"}}])
    );
    assert_eq!(
        routes[0]["services"],
        json!([{"name": "green-svc", "port": 80, "weight": 100}])
    );
    assert_eq!(
        out["metadata"]["annotations"]["bgctl.dev/owned-routes"],
        "bgctl-header-testers\nbgctl-header-testers-1"
    );
    assert_eq!(
        owned(Router::HttpProxy, &out),
        [
            (0, "bgctl-header-testers".to_string()),
            (1, "bgctl-header-testers-1".to_string())
        ]
    );
    assert_eq!(
        traffic::read(Router::HttpProxy, &out, &svc_sides(), None),
        Traffic::Env { env: "blue".into() }
    );
    let back = converge(Router::HttpProxy, &out, &svc_sides(), &[]);
    assert_eq!(back["spec"], obj["spec"]);
}

#[test]
fn contour_mirror_is_a_mirror_service_whose_weight_is_the_percentage() {
    let route = mirror(
        50.0,
        vec![Cond::Header {
            name: "X-Shadow".into(),
            value: exact("1"),
        }],
    );
    let out = converge(
        Router::HttpProxy,
        &http_proxy(),
        &svc_sides(),
        std::slice::from_ref(&route),
    );
    let services = &out["spec"]["routes"][0]["services"];
    assert_eq!(
        services[2],
        json!({"name": "green-svc", "port": 80, "mirror": true, "weight": 50})
    );
    // A weight change moves the copied services, never the mirror's percentage.
    let want = traffic::desired(
        &Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 20.0,
        },
        &svc_sides(),
    )
    .unwrap();
    let spec = traffic::spec_patch(Router::HttpProxy, &out, &svc_sides(), &want)
        .unwrap()
        .unwrap();
    let mut after = out.clone();
    merge(&mut after, &json!({ "spec": spec }));
    let services = &after["spec"]["routes"][0]["services"];
    assert_eq!(services[1]["weight"], 20);
    assert_eq!(services[2]["weight"], 50);
    assert!(matches!(
        traffic::read(Router::HttpProxy, &after, &svc_sides(), None),
        Traffic::Split { percent, .. } if (percent - 20.0).abs() < 1e-9
    ));
    assert_eq!(
        routes_patch(Router::HttpProxy, &after, &svc_sides(), &[route]).unwrap(),
        None
    );
}

#[test]
fn no_managed_rule_is_an_error_not_a_silent_no_op() {
    let obj = json!({"metadata": {"resourceVersion": "1"}, "spec": {"rules": [{"backendRefs": [{"name": "other"}]}]}});
    let err = routes_patch(
        Router::HttpRoute,
        &obj,
        &svc_sides(),
        &[header(&[("X-Canary", exact("yes"))])],
    )
    .unwrap_err();
    assert!(
        err.contains("no rule of `spec.rules` names an environment"),
        "{err}"
    );
    assert_eq!(
        routes_patch(Router::HttpRoute, &obj, &svc_sides(), &[]).unwrap(),
        None
    );
}

#[test]
fn gateway_api_rule_and_match_limits_are_said_before_the_write() {
    let mut obj = httproute();
    let many: Vec<Value> = (0..33)
        .map(|i| json!({"path": {"type": "PathPrefix", "value": format!("/p{i}")}}))
        .collect();
    obj["spec"]["rules"][0]["matches"] = Value::Array(many);
    let two = header(&[("X-A", exact("1")), ("X-B", exact("2"))]);
    let err = routes_patch(Router::HttpRoute, &obj, &svc_sides(), &[two]).unwrap_err();
    assert!(
        err.contains("would have 66 matches") && err.contains("at most 64"),
        "{err}"
    );
    let mut obj = httproute();
    let rule = obj["spec"]["rules"][0].clone();
    obj["spec"]["rules"] = Value::Array(vec![rule; 9]);
    let err = routes_patch(
        Router::HttpRoute,
        &obj,
        &svc_sides(),
        &[header(&[("X-A", exact("1"))])],
    )
    .unwrap_err();
    assert!(err.contains("would make 18 rules"), "{err}");
}

#[test]
fn a_server_answering_whole_floats_as_integers_still_reads_as_converged() {
    let route = mirror(
        12.5,
        vec![Cond::Method {
            value: exact("GET"),
        }],
    );
    let mut out = converge(
        Router::VirtualService,
        &virtual_service(),
        &istio_sides(),
        std::slice::from_ref(&route),
    );
    assert_eq!(
        out["spec"]["http"][0]["mirrorPercentage"],
        json!({"value": 12.5})
    );
    // The owned entry's copy of the weight read back as 100.0, the user's as 100.
    out["spec"]["http"][0]["route"][0]["weight"] = json!(100.0);
    assert_eq!(out["spec"]["http"][1]["route"][0]["weight"], json!(100));
    assert_eq!(
        routes_patch(Router::VirtualService, &out, &istio_sides(), &[route]).unwrap(),
        None
    );
}
