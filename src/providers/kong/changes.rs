//! What differs between the plan and Kong, as entity writes: upstreams and their targets
//! (raises before lowers, then deletes), routes, and the adoption of entities bgctl finds
//! without its tag.

use serde_json::{json, Value};

use super::client::urlencode;
use super::{has_tag, merge_tags, str_list, tags_of, Kong, Live};
use crate::plan::model::RouteSpec;
use crate::providers::{Call, Change};

impl Kong {
    pub(super) fn route_body(&self, r: &RouteSpec, service_ref: &Value) -> Value {
        let mut body = json!({
            "hosts": r.hosts,
            "paths": r.paths,
            "methods": r.methods,
            "strip_path": r.strip_path.unwrap_or(true),
            "service": service_ref,
            "tags": self.owned_tags(),
        });
        // A route the plan names only by id is created (after someone deleted it) without a
        // name: Kong takes the id from `PUT /routes/{id}`.
        if !r.name.is_empty() {
            body["name"] = json!(r.name);
        }
        body
    }

    pub(super) fn route_changes(&self, live: &Live, service_ref: &Value, out: &mut Vec<Change>) {
        for r in &self.service.routes {
            let path = format!("/routes/{}", urlencode(r.key()));
            match live.routes.get(r.key()).cloned().flatten() {
                None => out.push(Change {
                    action: "create",
                    entity: "route",
                    name: r.label(),
                    detail: route_detail(r),
                    call: Call {
                        method: "PUT".into(),
                        path,
                        body: Some(self.route_body(r, service_ref)),
                        idempotent: true,
                    },
                }),
                Some(cur) => {
                    let mut patch = serde_json::Map::new();
                    let mut what = Vec::new();
                    for (key, want) in [
                        ("hosts", &r.hosts),
                        ("paths", &r.paths),
                        ("methods", &r.methods),
                    ] {
                        if str_list(cur.get(key)) != *want {
                            patch.insert(key.into(), json!(want));
                            what.push(format!("{key} {:?} → {want:?}", str_list(cur.get(key))));
                        }
                    }
                    let strip = r.strip_path.unwrap_or(true);
                    if cur.get("strip_path").and_then(Value::as_bool) != Some(strip) {
                        patch.insert("strip_path".into(), json!(strip));
                        what.push(format!("strip_path → {strip}"));
                    }
                    let cur_service = cur
                        .get("service")
                        .and_then(|s| s.get("id"))
                        .and_then(Value::as_str);
                    let want_service = service_ref.get("id").and_then(Value::as_str);
                    if want_service.is_some() && cur_service != want_service {
                        patch.insert("service".into(), service_ref.clone());
                        what.push(format!("service → `{}`", self.service.name));
                    }
                    if !has_tag(&cur, &self.owner_tag()) {
                        patch.insert(
                            "tags".into(),
                            json!(merge_tags(&tags_of(Some(&cur)), &self.owned_tags())),
                        );
                        what.push("adopt (tag as owned)".into());
                    }
                    if !patch.is_empty() {
                        out.push(Change {
                            action: "update",
                            entity: "route",
                            name: r.label(),
                            detail: what.join(", "),
                            call: Call {
                                method: "PATCH".into(),
                                path,
                                body: Some(Value::Object(patch)),
                                idempotent: true,
                            },
                        });
                    }
                }
            }
        }
    }

    pub(super) fn upstream_changes(
        &self,
        live: &Live,
        name: &str,
        targets: &[(String, u32)],
        out: &mut Vec<Change>,
    ) {
        let up_path = format!("/upstreams/{}", urlencode(name));
        let existing = live.upstreams.get(name).cloned().flatten();
        match &existing {
            None => out.push(Change {
                action: "create",
                entity: "upstream",
                name: name.to_string(),
                detail: format!("{} target(s)", targets.len()),
                call: Call {
                    method: "PUT".into(),
                    path: up_path.clone(),
                    body: Some(json!({"name": name, "tags": self.owned_tags()})),
                    idempotent: true,
                },
            }),
            Some(up) if !has_tag(up, &self.owner_tag()) => out.push(Change {
                action: "update",
                entity: "upstream",
                name: name.to_string(),
                detail: "adopt (tag as owned)".into(),
                call: Call {
                    method: "PATCH".into(),
                    path: up_path.clone(),
                    body: Some(json!({"tags": merge_tags(&tags_of(Some(up)), &self.owned_tags())})),
                    idempotent: true,
                },
            }),
            Some(_) => {}
        }
        let live_targets: Vec<Value> = live.targets.get(name).cloned().unwrap_or_default();
        let find = |t: &str| {
            live_targets
                .iter()
                .find(|v| v.get("target").and_then(Value::as_str) == Some(t))
        };
        let mut raises = Vec::new();
        let mut lowers = Vec::new();
        for (target, weight) in targets {
            match find(target) {
                None => raises.push(Change {
                    action: "create",
                    entity: "target",
                    name: format!("{name}/{target}"),
                    detail: format!("weight {weight}"),
                    call: Call {
                        method: "POST".into(),
                        path: format!("{up_path}/targets"),
                        body: Some(
                            json!({"target": target, "weight": weight, "tags": self.owned_tags()}),
                        ),
                        idempotent: false,
                    },
                }),
                Some(cur) => {
                    let w = cur.get("weight").and_then(Value::as_u64).unwrap_or(0);
                    if w != u64::from(*weight) {
                        let id = cur.get("id").and_then(Value::as_str).unwrap_or(target);
                        let c = Change {
                            action: "update",
                            entity: "target",
                            name: format!("{name}/{target}"),
                            detail: format!("weight {w} → {weight}"),
                            call: Call {
                                method: "PATCH".into(),
                                path: format!("{up_path}/targets/{}", urlencode(id)),
                                body: Some(json!({"weight": weight})),
                                idempotent: true,
                            },
                        };
                        if u64::from(*weight) > w {
                            raises.push(c);
                        } else {
                            lowers.push(c);
                        }
                    }
                }
            }
        }
        out.extend(raises);
        out.extend(lowers);
        for cur in &live_targets {
            let t = cur
                .get("target")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !targets.iter().any(|(want, _)| want == t) {
                let id = cur.get("id").and_then(Value::as_str).unwrap_or(t);
                out.push(Change {
                    action: "delete",
                    entity: "target",
                    name: format!("{name}/{t}"),
                    detail: "not in the plan".into(),
                    call: Call {
                        method: "DELETE".into(),
                        path: format!("{up_path}/targets/{}", urlencode(id)),
                        body: None,
                        idempotent: true,
                    },
                });
            }
        }
    }

    pub(super) fn service_ref(live: &Live, name: &str) -> Value {
        match live.service.as_ref().and_then(|s| s.get("id")) {
            Some(id) => json!({"id": id}),
            None => json!({"name": name}),
        }
    }
}

fn route_detail(r: &RouteSpec) -> String {
    let mut parts = Vec::new();
    if !r.hosts.is_empty() {
        parts.push(format!("hosts {}", r.hosts.join(" ")));
    }
    if !r.paths.is_empty() {
        parts.push(format!("paths {}", r.paths.join(" ")));
    }
    if !r.methods.is_empty() {
        parts.push(format!("methods {}", r.methods.join(" ")));
    }
    parts.join(", ")
}
