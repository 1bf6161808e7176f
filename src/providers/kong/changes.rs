//! What differs between the plan and Kong, as entity writes: upstreams and their targets
//! (raises before lowers, then deletes), routes, and the adoption of entities bgctl finds
//! without its tag.
//!
//! Waves ([`Change::wave`]): an upstream's target writes do not depend on each other, so
//! its creates and raises are one wave, its lowers the next and its deletes the last; the
//! engine makes the writes of a wave several at a time (decK's default of 10) and starts a
//! wave only when the one before it is done, so the upstream exists before its first target
//! and an upstream never has zero total weight (every raise lands before any lower, every
//! lower before any delete). The upstream itself, the service and the routes stay writes of
//! their own, in the list order `plan diff` prints. Adjacent waves of the same kind from two
//! upstreams (the green side's raises right after the blue side's) merge into one, which is
//! as safe: they touch different upstreams.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::client::urlencode;
use super::{has_tag, merge_tags, str_list, tags_of, Kong, Live};
use crate::plan::model::RouteSpec;
use crate::providers::{Call, Change};

/// Target creates and weight raises of one upstream.
const WAVE_RAISE: u32 = 1;
/// Target weight lowers, after every raise.
const WAVE_LOWER: u32 = 2;
/// Targets the plan no longer lists, deleted last.
const WAVE_DELETE: u32 = 3;

impl Kong {
    /// The entity writes that make the environments (and traffic-neutral settings) match the
    /// plan, planned from `live` (the storage-neutral part of `setup_changes`).
    pub(super) fn setup_entity_changes(&self, live: &Live) -> Vec<Change> {
        let live = live.clone();
        let mut out = Vec::new();
        for e in &self.envs {
            self.upstream_changes(&live, &e.upstream, &e.targets, &mut out);
        }
        if let Some(svc) = &live.service {
            let mut patch = serde_json::Map::new();
            let mut what = Vec::new();
            let path = self.service.path.clone();
            if svc.get("path").and_then(Value::as_str).map(str::to_string) != path {
                patch.insert("path".into(), json!(path));
                what.push(format!("path → {path:?}"));
            }
            let proto = self
                .service
                .protocol
                .clone()
                .unwrap_or_else(|| "http".into());
            if svc.get("protocol").and_then(Value::as_str) != Some(proto.as_str()) {
                patch.insert("protocol".into(), json!(proto));
                what.push(format!("protocol → {proto}"));
            }
            if !patch.is_empty() {
                out.push(Change {
                    action: "update",
                    entity: "service",
                    name: self.service.name.clone(),
                    detail: what.join(", "),
                    call: Call {
                        method: "PATCH".into(),
                        path: format!("/services/{}", urlencode(&self.service.name)),
                        body: Some(Value::Object(patch)),
                        idempotent: true,
                    },
                    wave: None,
                });
            }
            self.route_changes(
                &live,
                &Kong::service_ref(&live, &self.service.name),
                &mut out,
            );
        }
        out
    }

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
                    wave: None,
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
                            wave: None,
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
                wave: None,
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
                wave: None,
            }),
            Some(_) => {}
        }
        let live_targets: &[Value] = live.targets.get(name).map_or(&[], Vec::as_slice);
        // By address (the first one listed, as a scan finds it): thousands of targets per
        // side are compared in linear time.
        let mut by_address: HashMap<&str, &Value> = HashMap::with_capacity(live_targets.len());
        for v in live_targets {
            if let Some(t) = v.get("target").and_then(Value::as_str) {
                by_address.entry(t).or_insert(v);
            }
        }
        let find = |t: &str| by_address.get(t).copied();
        let wanted: HashSet<&str> = targets.iter().map(|(t, _)| t.as_str()).collect();
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
                    wave: Some(WAVE_RAISE),
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
                            wave: None,
                        };
                        if u64::from(*weight) > w {
                            raises.push(Change {
                                wave: Some(WAVE_RAISE),
                                ..c
                            });
                        } else {
                            lowers.push(Change {
                                wave: Some(WAVE_LOWER),
                                ..c
                            });
                        }
                    }
                }
            }
        }
        out.extend(raises);
        out.extend(lowers);
        for cur in live_targets {
            let t = cur
                .get("target")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !wanted.contains(t) {
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
                    wave: Some(WAVE_DELETE),
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
