//! Each test names the documented rule it checks.
use serde_json::json;

use super::*;

fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

fn names(r: &Routed) -> Vec<&str> {
    r.backends.iter().map(|(n, _)| n.as_str()).collect()
}

/// Gateway API `HTTPRouteRule.matches`: "the largest number of header matches" wins once path
/// and method tie — whatever the rule order.
#[test]
fn gateway_more_header_matches_win_over_rule_order() {
    let route = json!({"spec": {"rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": "blue", "weight": 90}, {"name": "green", "weight": 10}]},
        {"name": "canary", "matches": [{"path": {"type": "PathPrefix", "value": "/"},
                      "headers": [{"type": "Exact", "name": "X-Canary", "value": "yes"}]}],
         "backendRefs": [{"name": "green"}]}
    ]}});
    let with = evaluate(
        "HTTPRoute",
        &route,
        &req("GET", "/x", &[("x-canary", "yes")]),
    )
    .unwrap();
    assert_eq!((with.rule, names(&with)), (1, vec!["green"]));
    assert_eq!(with.name.as_deref(), Some("canary"));
    let without = evaluate(
        "HTTPRoute",
        &route,
        &req("GET", "/x", &[("x-canary", "no")]),
    )
    .unwrap();
    assert_eq!(
        without.backends,
        [("blue".into(), 90), ("green".into(), 10)]
    );
}

/// Gateway API: an `Exact` path beats any prefix, and a longer `PathPrefix` beats a shorter
/// one, before methods and headers count; `PathPrefix` matches whole path elements.
#[test]
fn gateway_exact_path_then_longest_prefix_then_method() {
    let route = json!({"spec": {"rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}, "method": "GET",
                      "headers": [{"type": "Exact", "name": "a", "value": "1"}]}],
         "backendRefs": [{"name": "root-get"}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "api"}]},
        {"matches": [{"path": {"type": "Exact", "value": "/api/health"}}], "backendRefs": [{"name": "health"}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "method": "POST"}], "backendRefs": [{"name": "api-post"}]}
    ]}});
    let go = |m: &str, p: &str| {
        names(&evaluate("HTTPRoute", &route, &req(m, p, &[("a", "1")])).unwrap())[0].to_string()
    };
    assert_eq!(go("GET", "/api/health"), "health");
    assert_eq!(go("GET", "/api/x"), "api");
    assert_eq!(go("POST", "/api/x"), "api-post");
    assert_eq!(
        go("GET", "/apix"),
        "root-get",
        "`/api` does not match `/apix`"
    );
}

/// Gateway API `RequestMirror`: `percent`, or `fraction` numerator/denominator.
#[test]
fn gateway_mirror_percent_and_fraction() {
    let route = json!({"spec": {"rules": [{"backendRefs": [{"name": "blue"}], "filters": [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "green"}, "percent": 50}},
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "shadow"}, "fraction": {"numerator": 1250, "denominator": 10000}}}
    ]}]}});
    let r = evaluate("HTTPRoute", &route, &req("GET", "/", &[])).unwrap();
    assert_eq!(r.mirrors, [("green".into(), 50.0), ("shadow".into(), 12.5)]);
}

/// Istio `HTTPRoute`: "The first rule matching an incoming request is used"; a missing
/// `match` matches everything; a lone destination takes all traffic.
#[test]
fn istio_first_matching_entry_wins() {
    let vs = json!({"spec": {"http": [
        {"name": "bgctl-header-testers", "match": [{"uri": {"prefix": "/"}, "headers": {"x-canary": {"regex": ".*(?:ye).*"}}}],
         "route": [{"destination": {"host": "app", "subset": "v2"}, "weight": 100}]},
        {"route": [{"destination": {"host": "app", "subset": "v1"}}],
         "mirror": {"host": "app", "subset": "v2"}, "mirrorPercentage": {"value": 25.0}},
        {"match": [{"headers": {"x-canary": {"exact": "yes"}}}], "route": [{"destination": {"host": "never"}}]}
    ]}});
    let r = evaluate(
        "VirtualService",
        &vs,
        &req("GET", "/", &[("X-Canary", "yes")]),
    )
    .unwrap();
    assert_eq!((r.rule, names(&r)), (0, vec!["app/v2"]));
    let r = evaluate(
        "VirtualService",
        &vs,
        &req("GET", "/", &[("X-Canary", "no")]),
    )
    .unwrap();
    assert_eq!(r.backends, [("app/v1".into(), 100)]);
    assert_eq!(r.mirrors, [("app/v2".into(), 25.0)]);
}

/// Contour: every condition must hold; routes with more header conditions are tried first;
/// with weights set, an unset weight is 0; a `mirror: true` service gets a copy, its `weight`
/// the percentage.
#[test]
fn contour_conditions_header_specificity_and_mirror_weight() {
    let proxy = json!({"spec": {"routes": [
        {"conditions": [{"prefix": "/blog"}],
         "services": [{"name": "blue", "weight": 80}, {"name": "green", "weight": 20}, {"name": "other"},
                      {"name": "green", "mirror": true, "weight": 50}]},
        {"conditions": [{"prefix": "/blog"}, {"header": {"name": "X-Canary", "exact": "yes"}}],
         "services": [{"name": "green", "weight": 100}]},
        {"conditions": [{"prefix": "/blog"}, {"header": {"name": "X-Team", "regex": "^qa.*"}}],
         "services": [{"name": "qa"}]}
    ]}});
    let r = evaluate(
        "HTTPProxy",
        &proxy,
        &req("GET", "/blog/1", &[("x-canary", "yes")]),
    )
    .unwrap();
    assert_eq!((r.rule, names(&r)), (1, vec!["green"]));
    let r = evaluate(
        "HTTPProxy",
        &proxy,
        &req("GET", "/blog/1", &[("x-team", "qa-1")]),
    )
    .unwrap();
    assert_eq!(names(&r), ["qa"]);
    let r = evaluate(
        "HTTPProxy",
        &proxy,
        &req("GET", "/blog/1", &[("x-team", "xqa")]),
    )
    .unwrap();
    assert_eq!(r.rule, 0, "regex matches the whole value");
    assert_eq!(
        r.backends,
        [
            ("blue".into(), 80),
            ("green".into(), 20),
            ("other".into(), 0)
        ]
    );
    assert_eq!(r.mirrors, [("green".into(), 50.0)]);
    assert!(evaluate("HTTPProxy", &proxy, &req("GET", "/docs", &[])).is_none());
}
