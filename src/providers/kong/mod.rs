//! Kong through its OSS Admin API, with OSS primitives only.
//!
//! * Environments are upstreams with targets; the service's `host` names the upstream that gets
//!   traffic (seed 000). A blue-green switch is one `PATCH /services/{s}` of `host`.
//! * A canary points the service at a bgctl-owned *mixed* upstream holding both sides' targets
//!   with computed weights ([`crate::engine::weights`]); the stable and canary upstreams are never
//!   modified, so rollback stays one `PATCH`.
//! * The rollout record lives in the service's tags (`bgctl.previous=blue`, `bgctl.phase=…`) and
//!   is written in the same `PATCH` that moves traffic, so state and traffic never disagree.
//! * The lock is an upstream named `<service>.bgctl-lock`: Kong's unique-name constraint makes
//!   `POST /upstreams` an atomic test-and-set (201 taken, 409 held). Holder, start and expiry
//!   are its tags. It is never referenced by a service, so it carries no traffic.
//! * Ownership: every entity bgctl creates or adopts is tagged `bgctl.owner=<rollout>`. bgctl
//!   only touches entities the plan names (service, routes, upstreams) plus its own mixed
//!   upstream and lock; targets of a named upstream are converged to the plan (created and
//!   updated first, extras deleted last, so an upstream never has zero total weight).

pub mod client;
pub use crate::plan::names;

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{json, Value};

use self::client::{urlencode, KongClient, KongError};
use super::{
    Call, Change, EnvState, LockError, LockInfo, Phase, Provider, ProviderError, Record, Snapshot,
    Traffic,
};
use crate::engine::weights;
use crate::plan::model::{Plan, RouteSpec, ServiceSpec};

const TAG_PREFIX: &str = "bgctl.";
const MANAGED: &str = "managed-by-bgctl";

/// Desired state of one environment.
#[derive(Debug, Clone)]
struct EnvSpec {
    name: String,
    upstream: String,
    targets: Vec<(String, u32)>,
}

#[derive(Debug, Default, Clone)]
struct Live {
    service: Option<Value>,
    routes: HashMap<String, Option<Value>>,
    upstreams: HashMap<String, Option<Value>>,
    targets: HashMap<String, Vec<Value>>,
}

/// The Kong provider for one plan.
pub struct Kong {
    client: KongClient,
    rollout: String,
    service: ServiceSpec,
    envs: Vec<EnvSpec>,
    mixed: String,
    lock_name: String,
    lock_ttl: u64,
    live: Mutex<Live>,
}

impl Kong {
    /// A provider for `plan` (which must have passed validation and use Kong).
    pub fn new(plan: &Plan, client: KongClient) -> Kong {
        let kong = plan.kong().expect("validated plan has a kong provider");
        let service = plan
            .service
            .clone()
            .expect("validated kong plan has a service");
        let envs = plan
            .environments
            .iter()
            .map(|(name, e)| EnvSpec {
                name: name.clone(),
                upstream: e.upstream.clone().unwrap_or_default(),
                targets: e
                    .targets
                    .iter()
                    .map(|t| {
                        (
                            names::normalize_target(&t.target).unwrap_or_else(|_| t.target.clone()),
                            u32::try_from(t.weight).unwrap_or(0),
                        )
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let canary_upstream = plan
            .strategy
            .canary
            .as_ref()
            .and_then(|c| plan.environments.get(&c.canary))
            .and_then(|e| e.upstream.as_deref())
            .unwrap_or("canary");
        let mixed = plan
            .strategy
            .canary
            .as_ref()
            .and_then(|c| c.mixed_upstream.clone())
            .unwrap_or_else(|| format!("{canary_upstream}.bgctl-canary"));
        let safe: String = service
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Kong {
            client,
            rollout: plan.metadata.name.clone(),
            lock_name: format!("{}.bgctl-lock", safe.trim_matches(['-', '.'])),
            lock_ttl: kong.lock_ttl.map_or(15 * 60, |d| d.0.as_secs().max(1)),
            service,
            envs,
            mixed,
            live: Mutex::new(Live::default()),
        }
    }

    /// The Admin API client.
    pub fn client(&self) -> &KongClient {
        &self.client
    }

    fn owner_tag(&self) -> String {
        format!("{TAG_PREFIX}owner={}", self.rollout)
    }

    fn owned_tags(&self) -> Vec<String> {
        vec![MANAGED.to_string(), self.owner_tag()]
    }

    fn env(&self, name: &str) -> Option<&EnvSpec> {
        self.envs.iter().find(|e| e.name == name)
    }

    async fn read_live(&self) -> Result<Live, KongError> {
        let svc_path = format!("/services/{}", urlencode(&self.service.name));
        let service = self.client.get(&svc_path).await?;
        // Traffic is read from `host`: a service without one is not an answer to work from.
        if let Some(svc) = &service {
            if svc.get("host").and_then(Value::as_str).is_none() {
                return Err(KongError::Unexpected {
                    method: Method::GET,
                    path: svc_path,
                    detail: "a service without a string `host`".into(),
                });
            }
        }
        let mut live = Live {
            service,
            ..Live::default()
        };
        for r in &self.service.routes {
            live.routes.insert(
                r.name.clone(),
                self.client
                    .get(&format!("/routes/{}", urlencode(&r.name)))
                    .await?,
            );
        }
        let mut names: Vec<&str> = self.envs.iter().map(|e| e.upstream.as_str()).collect();
        names.push(&self.mixed);
        for name in names {
            let up = self
                .client
                .get(&format!("/upstreams/{}", urlencode(name)))
                .await?;
            if up.is_some() {
                live.targets.insert(
                    name.to_string(),
                    self.client
                        .list(&format!("/upstreams/{}/targets", urlencode(name)))
                        .await?,
                );
            }
            live.upstreams.insert(name.to_string(), up);
        }
        live.upstreams.insert(
            self.lock_name.clone(),
            self.client
                .get(&format!("/upstreams/{}", urlencode(&self.lock_name)))
                .await?,
        );
        Ok(live)
    }

    fn traffic_of(&self, live: &Live, record: &Record) -> Traffic {
        let Some(svc) = &live.service else {
            return Traffic::Missing;
        };
        let host = svc.get("host").and_then(Value::as_str).unwrap_or_default();
        if let Some(env) = self.envs.iter().find(|e| e.upstream == host) {
            return Traffic::Env {
                env: env.name.clone(),
            };
        }
        if host == self.mixed {
            let (stable, canary) = (
                record.stable.clone().unwrap_or_default(),
                record.canary.clone().unwrap_or_default(),
            );
            let (mut c, mut total) = (0u64, 0u64);
            let canary_targets: Vec<&str> = self
                .env(&canary)
                .map(|e| e.targets.iter().map(|t| t.0.as_str()).collect())
                .unwrap_or_default();
            for t in live.targets.get(&self.mixed).into_iter().flatten() {
                let w = t.get("weight").and_then(Value::as_u64).unwrap_or(0);
                total += w;
                if canary_targets
                    .contains(&t.get("target").and_then(Value::as_str).unwrap_or_default())
                {
                    c += w;
                }
            }
            let percent = if total == 0 {
                0.0
            } else {
                100.0 * c as f64 / total as f64
            };
            return Traffic::Split {
                stable,
                canary,
                percent,
            };
        }
        Traffic::Foreign {
            target: host.to_string(),
        }
    }

    fn record_tags(&self, record: &Record) -> Vec<String> {
        let mut tags = self.owned_tags();
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                tags.push(format!("{TAG_PREFIX}{k}={}", tag_safe(&v)));
            }
        };
        push("previous", record.previous.clone());
        push("phase", Some(record.phase.as_str().to_string()));
        push("step", record.step.map(|s| s.to_string()));
        push("weight", record.weight.map(|w| w.to_string()));
        push("stable", record.stable.clone());
        push("canary", record.canary.clone());
        push("waiting", record.waiting.clone());
        push("action", record.action.clone());
        push("at", record.at.clone());
        push("by", record.by.clone());
        for v in &record.verdicts {
            tags.push(format!("{TAG_PREFIX}verdict={}", tag_safe(v)));
        }
        tags
    }

    /// The service's tags with bgctl's replaced by `record`'s.
    fn service_tags(&self, live: &Live, record: &Record) -> Vec<String> {
        let mut tags: Vec<String> = tags_of(live.service.as_ref())
            .into_iter()
            .filter(|t| !t.starts_with(TAG_PREFIX) && t != MANAGED)
            .collect();
        tags.extend(self.record_tags(record));
        tags
    }

    fn service_body(&self, host: &str, tags: &[String]) -> Value {
        json!({
            "name": self.service.name,
            "host": host,
            "path": self.service.path,
            "protocol": self.service.protocol.clone().unwrap_or_else(|| "http".into()),
            "tags": tags,
        })
    }

    fn route_body(&self, r: &RouteSpec, service_ref: &Value) -> Value {
        json!({
            "name": r.name,
            "hosts": r.hosts,
            "paths": r.paths,
            "methods": r.methods,
            "strip_path": r.strip_path.unwrap_or(true),
            "service": service_ref,
            "tags": self.owned_tags(),
        })
    }

    fn route_changes(&self, live: &Live, service_ref: &Value, out: &mut Vec<Change>) {
        for r in &self.service.routes {
            let path = format!("/routes/{}", urlencode(&r.name));
            match live.routes.get(&r.name).cloned().flatten() {
                None => out.push(Change {
                    action: "create",
                    entity: "route",
                    name: r.name.clone(),
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
                            name: r.name.clone(),
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

    fn upstream_changes(
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

    fn service_ref(live: &Live, name: &str) -> Value {
        match live.service.as_ref().and_then(|s| s.get("id")) {
            Some(id) => json!({"id": id}),
            None => json!({"name": name}),
        }
    }

    fn lock_tags(me: &LockInfo) -> Vec<String> {
        vec![
            MANAGED.to_string(),
            format!("{TAG_PREFIX}lock-holder={}", tag_safe(&me.holder)),
            format!("{TAG_PREFIX}lock-run={}", me.run_id),
            format!("{TAG_PREFIX}lock-since={}", me.since),
            format!("{TAG_PREFIX}lock-expires={}", me.expires),
        ]
    }

    fn parse_lock(up: &Value) -> LockInfo {
        let tags = tag_map(up);
        let num = |k: &str| tags.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        LockInfo {
            holder: tags
                .get("lock-holder")
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
            run_id: tags.get("lock-run").cloned().unwrap_or_default(),
            since: num("lock-since"),
            expires: num("lock-expires"),
        }
    }

    /// Seconds of lock lifetime.
    pub fn lock_ttl(&self) -> u64 {
        self.lock_ttl
    }

    /// Sets the weight of a target that exists (`targets` is the upstream's targets path).
    async fn converge_target(
        &self,
        targets: &str,
        target: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        let patch = Call {
            method: "PATCH".into(),
            path: format!("{targets}/{}", urlencode(target)),
            body: Some(json!({"weight": body.get("weight")})),
            idempotent: true,
        };
        self.do_call(&patch).await?;
        Ok(())
    }

    async fn do_call(&self, call: &Call) -> Result<Value, KongError> {
        let method = Method::from_bytes(call.method.as_bytes()).unwrap_or(Method::GET);
        self.client
            .write(method, &call.path, call.body.as_ref(), call.idempotent)
            .await
    }

    fn mixed_calls(
        &self,
        live: &Live,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<Vec<Call>, ProviderError> {
        let (Some(s), Some(c)) = (self.env(stable), self.env(canary)) else {
            return Err(ProviderError::State(format!(
                "unknown environments `{stable}`/`{canary}`"
            )));
        };
        let split = weights::split(
            &s.targets.iter().map(|t| t.1).collect::<Vec<_>>(),
            &c.targets.iter().map(|t| t.1).collect::<Vec<_>>(),
            percent,
        )
        .map_err(|e| ProviderError::State(format!("cannot split traffic {percent}%: {e}")))?;
        let targets: Vec<(String, u32)> = s
            .targets
            .iter()
            .zip(split.stable)
            .chain(c.targets.iter().zip(split.canary))
            .map(|(t, w)| (t.0.clone(), w))
            .collect();
        let mut changes = Vec::new();
        self.upstream_changes(live, &self.mixed, &targets, &mut changes);
        Ok(changes.into_iter().map(|c| c.call).collect())
    }

    fn traffic_plan(
        &self,
        live: &Live,
        to: &Traffic,
        record: &Record,
    ) -> Result<Vec<Call>, ProviderError> {
        let (mut calls, host) = match to {
            Traffic::Env { env } => {
                let e = self
                    .env(env)
                    .ok_or_else(|| ProviderError::State(format!("unknown environment `{env}`")))?;
                (Vec::new(), e.upstream.clone())
            }
            Traffic::Split {
                stable,
                canary,
                percent,
            } => (
                self.mixed_calls(live, stable, canary, *percent)?,
                self.mixed.clone(),
            ),
            Traffic::Missing | Traffic::Foreign { .. } => {
                return Err(ProviderError::State(
                    "traffic can only be pointed at an environment or a split".into(),
                ))
            }
        };
        let tags = self.service_tags(live, record);
        let svc_path = format!("/services/{}", urlencode(&self.service.name));
        if live.service.is_none() {
            calls.push(Call {
                method: "PUT".into(),
                path: svc_path,
                body: Some(self.service_body(&host, &tags)),
                idempotent: true,
            });
            let mut routes = Vec::new();
            self.route_changes(live, &json!({"name": self.service.name}), &mut routes);
            calls.extend(routes.into_iter().map(|c| c.call));
        } else {
            calls.push(Call {
                method: "PATCH".into(),
                path: svc_path,
                body: Some(json!({"host": host, "tags": tags})),
                idempotent: true,
            });
        }
        Ok(calls)
    }
}

impl Provider for Kong {
    fn describe(&self) -> String {
        format!("kong {}", self.client.base())
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let live = self.read_live().await?;
        let record = parse_record(live.service.as_ref());
        let lock = live
            .upstreams
            .get(&self.lock_name)
            .cloned()
            .flatten()
            .map(|u| Kong::parse_lock(&u));
        let envs = self
            .envs
            .iter()
            .map(|e| {
                let targets = live
                    .targets
                    .get(&e.upstream)
                    .map(|ts| {
                        ts.iter()
                            .map(|t| {
                                (
                                    t.get("target")
                                        .and_then(Value::as_str)
                                        .unwrap_or_default()
                                        .to_string(),
                                    t.get("weight").and_then(Value::as_u64).unwrap_or(0) as u32,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    e.name.clone(),
                    EnvState {
                        object: e.upstream.clone(),
                        exists: live.upstreams.get(&e.upstream).is_some_and(Option::is_some),
                        targets,
                    },
                )
            })
            .collect();
        let extra = if live.upstreams.get(&self.mixed).is_some_and(Option::is_some) {
            vec![format!("upstream {} (canary mix)", self.mixed)]
        } else {
            Vec::new()
        };
        let traffic = self.traffic_of(&live, &record);
        *self.live.lock().expect("live lock") = live;
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra,
            routing: None,
        })
    }

    fn setup_changes(&self, _snap: &Snapshot) -> Vec<Change> {
        let live = self.live.lock().expect("live lock").clone();
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

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        let body = change.call.body.clone().unwrap_or(Value::Null);
        let target = (change.call.method == "POST")
            .then(|| body.get("target").and_then(Value::as_str))
            .flatten();
        match (self.do_call(&change.call).await, target) {
            (Ok(_), _) => Ok(()),
            // A POST whose first attempt landed: the target exists; converge its weight.
            (Err(e), Some(target)) if e.status() == Some(reqwest::StatusCode::CONFLICT) => {
                self.converge_target(&change.call.path, target, &body).await
            }
            // A target POST is not idempotent, so it is never re-sent blind: when its answer is
            // lost, read the target back. There: converge its weight; not there: the POST did
            // not land and sending it again is safe.
            (Err(e), Some(target)) if e.answer_lost() => {
                let path = format!("{}/{}", change.call.path, urlencode(target));
                tracing::info!("the answer to a target POST was lost ({e}); reading {path} back");
                if self.client.get(&path).await?.is_some() {
                    self.converge_target(&change.call.path, target, &body).await
                } else {
                    self.do_call(&change.call).await?;
                    Ok(())
                }
            }
            (Err(e), _) => Err(e.into()),
        }
    }

    fn traffic_calls(&self, _snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        let live = self.live.lock().expect("live lock").clone();
        self.traffic_plan(&live, to, record).unwrap_or_default()
    }

    async fn set_traffic(
        &self,
        _snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let live = self.live.lock().expect("live lock").clone();
        for call in self.traffic_plan(&live, to, record)? {
            let change = Change {
                action: "update",
                entity: "traffic",
                name: String::new(),
                detail: String::new(),
                call,
            };
            self.apply(&change).await?;
        }
        // Keep the cached view current for a following step.
        let live = self.read_live().await?;
        *self.live.lock().expect("live lock") = live;
        Ok(())
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        let live = self.live.lock().expect("live lock").clone();
        if live.service.is_none() {
            return Ok(());
        }
        let tags = self.service_tags(&live, record);
        self.client
            .write(
                Method::PATCH,
                &format!("/services/{}", urlencode(&self.service.name)),
                Some(&json!({"tags": tags})),
                true,
            )
            .await?;
        let mut cached = self.live.lock().expect("live lock");
        if let Some(svc) = cached.service.as_mut() {
            svc["tags"] = json!(tags);
        }
        Ok(())
    }

    fn achieved_split(
        &self,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        let base = |env: &str| {
            self.env(env)
                .map(|e| e.targets.iter().map(|t| t.1).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        weights::split(&base(stable), &base(canary), percent)
            .map(|s| s.achieved_percent)
            .map_err(|e| ProviderError::State(format!("cannot split traffic {percent}%: {e}")))
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        self.env(env)
            .map(|e| {
                e.targets
                    .iter()
                    .filter(|t| t.1 > 0)
                    .map(|t| t.0.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        let body = json!({"name": self.lock_name, "tags": Kong::lock_tags(me)});
        for _ in 0..3 {
            match self
                .client
                .write(Method::POST, "/upstreams", Some(&body), true)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.status() == Some(reqwest::StatusCode::CONFLICT) => {
                    let Some(cur) = self
                        .client
                        .get(&format!("/upstreams/{}", urlencode(&self.lock_name)))
                        .await
                        .map_err(ProviderError::from)?
                    else {
                        continue;
                    };
                    let held = Kong::parse_lock(&cur);
                    if held.run_id == me.run_id {
                        return Ok(());
                    }
                    if !force && held.expires > me.since {
                        return Err(LockError::Held(held));
                    }
                    let id = cur
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or(&self.lock_name)
                        .to_string();
                    tracing::warn!(holder = %held.holder, "breaking a {} lock", if force { "held" } else { "stale" });
                    self.client
                        .write(
                            Method::DELETE,
                            &format!("/upstreams/{}", urlencode(&id)),
                            None,
                            true,
                        )
                        .await
                        .map_err(ProviderError::from)?;
                }
                Err(e) => return Err(LockError::Provider(e.into())),
            }
        }
        Err(LockError::Provider(ProviderError::State(
            "the lock kept changing hands; try again".into(),
        )))
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        if let Some(cur) = self
            .client
            .get(&format!("/upstreams/{}", urlencode(&self.lock_name)))
            .await?
        {
            if Kong::parse_lock(&cur).run_id == me.run_id {
                let id = cur
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(&self.lock_name)
                    .to_string();
                self.client
                    .write(
                        Method::DELETE,
                        &format!("/upstreams/{}", urlencode(&id)),
                        None,
                        true,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        if matches!(snap.traffic, Traffic::Split { .. }) || snap.extra.is_empty() {
            return Ok(Vec::new());
        }
        self.client
            .write(
                Method::DELETE,
                &format!("/upstreams/{}", urlencode(&self.mixed)),
                None,
                true,
            )
            .await?;
        Ok(vec![format!("upstream {}", self.mixed)])
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

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn tags_of(v: Option<&Value>) -> Vec<String> {
    str_list(v.and_then(|v| v.get("tags")))
}

fn has_tag(v: &Value, tag: &str) -> bool {
    tags_of(Some(v)).iter().any(|t| t == tag)
}

fn merge_tags(existing: &[String], add: &[String]) -> Vec<String> {
    let mut out = existing.to_vec();
    for t in add {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// `bgctl.key=value` tags as a map.
fn tag_map(v: &Value) -> HashMap<String, String> {
    tags_of(Some(v))
        .into_iter()
        .filter_map(|t| {
            t.strip_prefix(TAG_PREFIX)
                .and_then(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn parse_record(service: Option<&Value>) -> Record {
    let Some(svc) = service else {
        return Record::default();
    };
    let tags = tag_map(svc);
    let get = |k: &str| tags.get(k).cloned();
    Record {
        previous: get("previous"),
        phase: tags.get("phase").map_or(Phase::Idle, |p| Phase::parse(p)),
        step: get("step").and_then(|s| s.parse().ok()),
        weight: get("weight").and_then(|s| s.parse().ok()),
        stable: get("stable"),
        canary: get("canary"),
        waiting: get("waiting"),
        action: get("action"),
        at: get("at"),
        by: get("by"),
        verdicts: tags_of(Some(svc))
            .iter()
            .filter_map(|t| t.strip_prefix("bgctl.verdict="))
            .map(str::to_string)
            .collect(),
    }
}

/// Kong tags may not contain `,` or `/`.
fn tag_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ',' || c == '/' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect()
}
