//! The document editor: planned entity calls land on bgctl's rows only.

use serde_json::json;

use super::*;

fn owned() -> Owned {
    Owned {
        service: "svc".into(),
        routes: vec!["r".into()],
        upstreams: vec!["blue".into(), "green".into()],
        route_tag: "bgctl.route-of=x".into(),
        canary_service: "svc.bgctl-canary".into(),
    }
}

fn doc() -> Doc {
    let yaml = r#"
_format_version: "3.0"
_transform: false
services:
  - {id: s1, name: svc, host: blue, tags: [bgctl.owner=x], updated_at: 5}
  - {id: s2, name: other, host: example.com}
routes:
  - {id: r1, name: r, service: s1, hosts: [a.example]}
  - {id: r2, name: other-route, service: s2, paths: [/o]}
upstreams:
  - {id: u1, name: blue}
targets:
  - {id: t1, upstream: u1, target: "10.0.0.1:80", weight: 100}
plugins:
  - {id: p1, name: rate-limiting, service: s1, config: {minute: 5}}
consumers:
  - {id: c1, username: ann}
"#;
    Doc::parse(&json!({ "config": yaml })).unwrap()
}

fn call(method: &str, path: &str, body: serde_json::Value) -> Call {
    Call {
        method: method.into(),
        path: path.into(),
        body: Some(body),
        idempotent: true,
    }
}

#[test]
fn entity_calls_change_only_the_rows_they_name() {
    let before = doc();
    let mut d = before.clone();
    d.apply(&call(
        "PUT",
        "/upstreams/green",
        json!({"name": "green", "tags": ["t"]}),
    ))
    .unwrap();
    d.apply(&call(
        "POST",
        "/upstreams/green/targets",
        json!({"target": "10.0.0.2:80", "weight": 7}),
    ))
    .unwrap();
    d.apply(&call("PATCH", "/services/svc", json!({"host": "green"})))
        .unwrap();
    d.apply(&call("DELETE", "/upstreams/blue/targets/t1", json!(null)))
        .unwrap();
    assert_eq!(
        d.foreign(&owned(), "lock"),
        before.foreign(&owned(), "lock")
    );
    let live = d.live(&owned(), "lock");
    assert_eq!(live.service.as_ref().unwrap()["host"], "green");
    // The changed row lost `updated_at` (the node stamps it); its id stayed.
    assert_eq!(live.service.as_ref().unwrap()["id"], "s1");
    assert!(live.service.as_ref().unwrap().get("updated_at").is_none());
    assert_eq!(live.targets["green"][0]["weight"], 7);
    assert!(live.targets["blue"].is_empty());
    // The route's reference reads as the Admin API gives it.
    assert_eq!(
        live.routes["r"].as_ref().unwrap()["service"],
        json!({"id": "s1"})
    );
}

#[test]
fn a_call_that_changes_nothing_leaves_the_document_as_read() {
    let before = doc();
    let mut d = before.clone();
    d.apply(&call("PATCH", "/services/svc", json!({"host": "blue"})))
        .unwrap();
    assert_eq!(d, before);
    assert!(d
        .apply(&call("PATCH", "/services/missing", json!({})))
        .is_err());
    assert!(d.apply(&call("POST", "/services", json!({}))).is_err());
}

#[test]
fn adopting_keeps_the_local_ids_and_every_foreign_row() {
    let mut reference = doc();
    reference
        .apply(&call("PATCH", "/services/svc", json!({"host": "green"})))
        .unwrap();
    reference
        .apply(&call("PUT", "/upstreams/green", json!({"name": "green"})))
        .unwrap();
    // Another node: the same service under another id, a plugin on it, no green upstream.
    let yaml = "
services:
  - {id: s9, name: svc, host: blue}
plugins:
  - {id: p9, name: key-auth, service: s9}
";
    let mut node = Doc::parse(&json!({ "config": yaml })).unwrap();
    let foreign = node.foreign(&owned(), "lock");
    node.adopt_owned(&reference, &owned());
    assert_eq!(node.foreign(&owned(), "lock"), foreign);
    let live = node.live(&owned(), "lock");
    assert_eq!(live.service.as_ref().unwrap()["id"], "s9");
    assert_eq!(live.service.as_ref().unwrap()["host"], "green");
    assert_eq!(
        live.routes["r"].as_ref().unwrap()["service"],
        json!({"id": "s9"})
    );
    assert!(live.upstreams["green"].is_some());
    assert_eq!(live.targets["blue"].len(), 1);
}

/// The header routes' writes (the calls `routes.rs` plans) on a document and a second node.
fn header_calls() -> Vec<Call> {
    let tags = json!(["managed-by-bgctl", "bgctl.owner=x", "bgctl.route-of=x"]);
    vec![
        call(
            "PUT",
            "/services/svc.bgctl-canary",
            json!({"name": "svc.bgctl-canary", "host": "green", "path": null, "tags": tags}),
        ),
        call(
            "PUT",
            "/routes/r.bgctl-header-testers-0",
            json!({"name": "r.bgctl-header-testers-0", "hosts": ["a.example"],
                   "headers": {"x-canary": ["yes"]}, "strip_path": true, "tags": tags,
                   "service": {"name": "svc.bgctl-canary"}}),
        ),
    ]
}

#[test]
fn header_routes_are_bgctl_rows_found_by_their_tag() {
    let before = doc();
    let mut d = before.clone();
    for c in header_calls() {
        d.apply(&c).unwrap();
    }
    // Nothing bgctl does not own changed, though two rows were added.
    assert_eq!(
        d.foreign(&owned(), "lock"),
        before.foreign(&owned(), "lock")
    );
    assert!(!d.same_meaning(&before));
    let live = d.live(&owned(), "lock");
    let svc = live.owned.service.as_ref().expect("the canary service");
    assert_eq!(svc["host"], "green");
    assert_eq!(live.owned.routes.len(), 1);
    let route = &live.owned.routes[0];
    // The reference was resolved to the service's id, in the Admin API's shape.
    assert_eq!(route["service"], json!({"id": svc["id"]}));
    assert_eq!(route["headers"], json!({"x-canary": ["yes"]}));
    // An untagged route of the same shape is someone else's.
    assert!(!live.owned.routes.iter().any(|r| r["name"] == "other-route"));

    // Removing them (the calls for an empty list) gives the document back in meaning.
    let id = route["id"].as_str().unwrap().to_string();
    d.apply(&call("DELETE", &format!("/routes/{id}"), json!(null)))
        .unwrap();
    d.apply(&call("DELETE", "/services/svc.bgctl-canary", json!(null)))
        .unwrap();
    assert!(d.same_meaning(&before), "{:?}", d.canonical());
}

#[test]
fn adopting_copies_header_routes_onto_the_other_nodes_service() {
    let mut reference = doc();
    for c in header_calls() {
        reference.apply(&c).unwrap();
    }
    // Another node: its own canary service id, a stale header route of an older step, and a
    // foreign route carrying another rollout's tag.
    let yaml = "
services:
  - {id: s9, name: svc, host: blue}
  - {id: c9, name: svc.bgctl-canary, host: blue, tags: [bgctl.route-of=x]}
routes:
  - {id: h9, name: r.bgctl-header-old-0, service: c9, tags: [bgctl.route-of=x]}
  - {id: f9, name: theirs, service: s9, tags: [bgctl.route-of=y]}
";
    let mut node = Doc::parse(&json!({ "config": yaml })).unwrap();
    let foreign = node.foreign(&owned(), "lock");
    node.adopt_owned(&reference, &owned());
    assert_eq!(node.foreign(&owned(), "lock"), foreign);
    let live = node.live(&owned(), "lock");
    let svc = live.owned.service.as_ref().unwrap();
    assert_eq!(
        (svc["id"].as_str(), svc["host"].as_str()),
        (Some("c9"), Some("green"))
    );
    let names: Vec<&str> = live
        .owned
        .routes
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["r.bgctl-header-testers-0"]);
    assert_eq!(live.owned.routes[0]["service"], json!({"id": "c9"}));
    // Both nodes now say the same about the header routes.
    let want = reference.live(&owned(), "lock");
    assert_eq!(
        super::header::header_key(&live),
        super::header::header_key(&want)
    );

    // The reference removes them: so does the node, and its foreign route stays.
    let mut empty = reference.clone();
    empty.remove_header_rows(&owned());
    node.adopt_owned(&empty, &owned());
    let live = node.live(&owned(), "lock");
    assert!(live.owned.routes.is_empty() && live.owned.service.is_none());
    assert_eq!(node.foreign(&owned(), "lock"), foreign);
}
