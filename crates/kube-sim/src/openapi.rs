//! A skeletal OpenAPI v3 surface (`/openapi/v3` and one document per group version). It holds
//! only what clients read to decide how to talk to the server: each PATCH operation with its
//! `x-kubernetes-group-version-kind`, its query parameters (kubectl checks for
//! `fieldValidation` before it lets the server validate) and its accepted patch content types
//! (strategic merge patch only for built-in kinds). There are no schemas, so kubectl builds
//! strategic merge patches from its compiled-in types, as it does against old servers.

use serde_json::{json, Map, Value};

use crate::resources::{Resource, RESOURCES};

fn gv_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`.
pub(crate) fn root() -> Value {
    let mut paths = Map::new();
    for r in RESOURCES {
        for v in r.versions {
            let key = gv_key(r.group, v);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash=kube-sim")}),
            );
        }
    }
    json!({ "paths": paths })
}

fn param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn op(r: &Resource, version: &str, action: &str, params: &[&str], patch: bool) -> Value {
    let mut o = json!({
        "operationId": format!("{action}{}", r.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": version, "kind": r.kind},
        "parameters": params.iter().map(|p| param(p)).collect::<Vec<_>>(),
        "responses": {"200": {"description": "OK"}},
    });
    if patch {
        let mut content = Map::new();
        let mut types = vec![
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ];
        if r.builtin {
            types.push("application/strategic-merge-patch+json");
        }
        for t in types {
            content.insert(t.to_string(), json!({"schema": {"type": "object"}}));
        }
        o["requestBody"] = json!({"content": content, "required": true});
    }
    o
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/{g}/{v}`.
pub(crate) fn group_version(group: &str, version: &str) -> Option<Value> {
    let rs: Vec<&Resource> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.serves(version))
        .collect();
    if rs.is_empty() {
        return None;
    }
    let prefix = format!("/{}", gv_key(group, version));
    let write = ["dryRun", "fieldManager", "fieldValidation", "pretty"];
    let patch = [
        "dryRun",
        "fieldManager",
        "fieldValidation",
        "force",
        "pretty",
    ];
    let mut paths = Map::new();
    for r in rs {
        let base = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{prefix}/{}", r.plural)
        };
        paths.insert(
            base.clone(),
            json!({
                "get": op(r, version, "list", &["labelSelector", "fieldSelector", "limit", "continue"], false),
                "post": op(r, version, "post", &write, false),
                "delete": op(r, version, "deletecollection", &["labelSelector", "fieldSelector", "dryRun"], false),
            }),
        );
        paths.insert(
            format!("{base}/{{name}}"),
            json!({
                "get": op(r, version, "get", &["pretty"], false),
                "put": op(r, version, "put", &write, false),
                "patch": op(r, version, "patch", &patch, true),
                "delete": op(r, version, "delete", &["dryRun", "propagationPolicy", "gracePeriodSeconds"], false),
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (kube-sim)", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
