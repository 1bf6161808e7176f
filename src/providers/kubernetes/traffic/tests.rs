//! Unit tests of the routing reads and patches, over JSON (no server).
use super::*;

fn sides_svc() -> Vec<Side> {
    vec![
        Side {
            env: "blue".into(),
            service: Some("blue-svc".into()),
            ..Side::default()
        },
        Side {
            env: "green".into(),
            service: Some("green-svc".into()),
            ..Side::default()
        },
    ]
}

#[test]
fn httproute_switch_adds_the_missing_backend_and_zeroes_the_old() {
    let obj = json!({"spec": {"rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": "blue-svc", "port": 80}]},
        {"backendRefs": [{"name": "other", "port": 80}]}
    ]}});
    let sides = sides_svc();
    assert_eq!(
        read(Router::HttpRoute, &obj, &sides, None),
        Traffic::Env { env: "blue".into() }
    );
    let want = desired(
        &Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 10.0,
        },
        &sides,
    )
    .unwrap();
    let patch = spec_patch(Router::HttpRoute, &obj, &sides, &want)
        .unwrap()
        .unwrap();
    assert_eq!(
        patch["rules"][0]["backendRefs"],
        json!([{"name": "blue-svc", "port": 80, "weight": 90},
               {"name": "green-svc", "port": 80, "weight": 10}])
    );
    assert_eq!(
        patch["rules"][1], obj["spec"]["rules"][1],
        "unmanaged rule kept"
    );
    let mut after = obj.clone();
    after["spec"]["rules"] = patch["rules"].clone();
    assert_eq!(
        read(Router::HttpRoute, &after, &sides, Some(("blue", "green"))),
        Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 10.0
        }
    );
    assert!(spec_patch(Router::HttpRoute, &after, &sides, &want)
        .unwrap()
        .is_none());
}

#[test]
fn contour_without_weights_is_an_even_split() {
    let obj = json!({"spec": {"routes": [{"services": [
        {"name": "blue-svc", "port": 80}, {"name": "green-svc", "port": 80}]}]}});
    match read(Router::HttpProxy, &obj, &sides_svc(), None) {
        Traffic::Split { percent, .. } => assert!((percent - 50.0).abs() < 1e-9),
        other => panic!("{other:?}"),
    }
}

#[test]
fn istio_weights_sum_to_100_and_foreign_is_reported() {
    let sides = vec![
        Side {
            env: "blue".into(),
            subset: Some("v1".into()),
            ..Side::default()
        },
        Side {
            env: "green".into(),
            subset: Some("v2".into()),
            ..Side::default()
        },
    ];
    let obj = json!({"spec": {"http": [{"route": [
        {"destination": {"host": "myapp", "subset": "v1"}}]}]}});
    assert_eq!(
        read(Router::VirtualService, &obj, &sides, None),
        Traffic::Env { env: "blue".into() }
    );
    let want = desired(
        &Traffic::Env {
            env: "green".into(),
        },
        &sides,
    )
    .unwrap();
    let patch = spec_patch(Router::VirtualService, &obj, &sides, &want)
        .unwrap()
        .unwrap();
    let route = &patch["http"][0]["route"];
    assert_eq!(route[0]["weight"], 0);
    assert_eq!(
        route[1],
        json!({"destination": {"host": "myapp", "subset": "v2"}, "weight": 100})
    );
    let foreign = json!({"spec": {"http": [{"route": [
        {"destination": {"host": "myapp", "subset": "v1"}, "weight": 50},
        {"destination": {"host": "myapp", "subset": "v9"}, "weight": 50}]}]}});
    assert!(matches!(
        read(Router::VirtualService, &foreign, &sides, None),
        Traffic::Foreign { .. }
    ));
}

#[test]
fn service_selector_patch_removes_keys_the_new_side_lacks() {
    let sides = vec![
        Side {
            env: "blue".into(),
            selector: [
                ("app".into(), "myapp".into()),
                ("version".into(), "v1".into()),
            ]
            .into(),
            ..Side::default()
        },
        Side {
            env: "green".into(),
            selector: [
                ("app".into(), "myapp".into()),
                ("track".into(), "green".into()),
            ]
            .into(),
            ..Side::default()
        },
    ];
    let obj = json!({"spec": {"selector": {"app": "myapp", "version": "v1"}}});
    let want = desired(
        &Traffic::Env {
            env: "green".into(),
        },
        &sides,
    )
    .unwrap();
    let patch = spec_patch(Router::Service, &obj, &sides, &want)
        .unwrap()
        .unwrap();
    assert_eq!(
        patch,
        json!({"selector": {"version": null, "track": "green"}})
    );
}

fn sides_include() -> Vec<Side> {
    vec![
        Side {
            env: "green".into(),
            include: Some(Include {
                name: "blog".into(),
                namespace: None,
            }),
            ..Side::default()
        },
        Side {
            env: "blue".into(),
            include: Some(Include {
                name: "blog2".into(),
                namespace: Some("marketing".into()),
            }),
            ..Side::default()
        },
    ]
}

fn root(includes: &Value) -> Value {
    json!({"metadata": {"name": "root-blog", "namespace": "marketing"},
           "spec": {"virtualhost": {"fqdn": "yangcs.net"}, "includes": includes}})
}

fn to(env: &str) -> BTreeMap<String, u64> {
    desired(&Traffic::Env { env: env.into() }, &sides_include()).unwrap()
}

#[test]
fn includes_switch_renames_only_the_managed_entry() {
    let docs = json!({"name": "docs", "namespace": "docs", "conditions": [{"prefix": "/docs"}]});
    let obj = root(&json!([
        docs,
        {"name": "blog", "conditions": [{"prefix": "/blog"}], "extra": true}
    ]));
    let sides = sides_include();
    assert_eq!(
        read(Router::HttpProxyInclude, &obj, &sides, None),
        Traffic::Env {
            env: "green".into()
        }
    );
    assert_eq!(
        describe_include(&obj, &sides).as_deref(),
        Some("includes HTTPProxy `marketing/blog` (environment `green`) for `prefix: /blog`")
    );
    let patch = spec_patch(Router::HttpProxyInclude, &obj, &sides, &to("blue"))
        .unwrap()
        .unwrap();
    // The root's own namespace is not written into an entry that had none.
    assert_eq!(
        patch,
        json!({"includes": [docs,
            {"name": "blog2", "conditions": [{"prefix": "/blog"}], "extra": true}]})
    );
    let mut after = obj.clone();
    after["spec"]["includes"] = patch["includes"].clone();
    assert_eq!(
        read(Router::HttpProxyInclude, &after, &sides, None),
        Traffic::Env { env: "blue".into() }
    );
    assert!(
        spec_patch(Router::HttpProxyInclude, &after, &sides, &to("blue"))
            .unwrap()
            .is_none()
    );
    let back = spec_patch(Router::HttpProxyInclude, &after, &sides, &to("green"))
        .unwrap()
        .unwrap();
    assert_eq!(back, json!({"includes": obj["spec"]["includes"]}));
}

#[test]
fn includes_namespace_is_kept_when_present_and_set_when_different() {
    // An entry with an explicit namespace keeps one.
    let obj = root(&json!([{"name": "blog", "namespace": "marketing",
                            "conditions": [{"prefix": "/blog"}]}]));
    let patch = spec_patch(
        Router::HttpProxyInclude,
        &obj,
        &sides_include(),
        &to("blue"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        patch["includes"],
        json!([{"name": "blog2", "namespace": "marketing", "conditions": [{"prefix": "/blog"}]}])
    );
    // A child in another namespace gets it written; a same-named child elsewhere is not
    // the environment's.
    let mut sides = sides_include();
    sides[1].include = Some(Include {
        name: "blog".into(),
        namespace: Some("staging".into()),
    });
    let obj = root(&json!([{"name": "blog"}]));
    assert_eq!(
        read(Router::HttpProxyInclude, &obj, &sides, None),
        Traffic::Env {
            env: "green".into()
        }
    );
    let patch = spec_patch(Router::HttpProxyInclude, &obj, &sides, &to("blue"))
        .unwrap()
        .unwrap();
    assert_eq!(
        patch["includes"],
        json!([{"name": "blog", "namespace": "staging"}])
    );
    let mut after = obj.clone();
    after["spec"]["includes"] = patch["includes"].clone();
    assert_eq!(
        read(Router::HttpProxyInclude, &after, &sides, None),
        Traffic::Env { env: "blue".into() }
    );
}

#[test]
fn includes_of_no_or_both_children_are_foreign_and_splits_are_refused() {
    let sides = sides_include();
    let other = root(&json!([{"name": "legacy", "conditions": [{"prefix": "/blog"}]}]));
    assert_eq!(
        read(Router::HttpProxyInclude, &other, &sides, None),
        Traffic::Foreign {
            target: "includes marketing/legacy (no environment's HTTPProxy)".into()
        }
    );
    let err = spec_patch(Router::HttpProxyInclude, &other, &sides, &to("blue")).unwrap_err();
    assert!(err.contains("no entry of `spec.includes`"), "{err}");
    let both = root(
        &json!([{"name": "blog", "conditions": [{"prefix": "/blog"}]},
                            {"name": "blog2", "conditions": [{"prefix": "/preview"}]}]),
    );
    assert_eq!(
        read(Router::HttpProxyInclude, &both, &sides, None),
        Traffic::Foreign {
            target: "includes marketing/blog (green) and marketing/blog2 (blue) at once".into()
        }
    );
    assert!(spec_patch(Router::HttpProxyInclude, &both, &sides, &to("blue")).is_err());
    assert_eq!(
        read(Router::HttpProxyInclude, &root(&json!([])), &sides, None),
        Traffic::Foreign {
            target: "no includes".into()
        }
    );
    let obj = root(&json!([{"name": "blog"}]));
    let split = desired(
        &Traffic::Split {
            stable: "green".into(),
            canary: "blue".into(),
            percent: 10.0,
        },
        &sides,
    )
    .unwrap();
    let err = spec_patch(Router::HttpProxyInclude, &obj, &sides, &split).unwrap_err();
    assert!(err.contains("cannot split traffic"), "{err}");
}
