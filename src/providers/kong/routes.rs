//! Header routes on Kong with OSS primitives only (issue 16).
//!
//! For every route of the plan's service and every alternative of an active `setHeaderRoute`,
//! bgctl owns one Kong route `<route>.bgctl-header-<name>-<n>` with the same `hosts`, `paths`,
//! `methods` and `strip_path` plus `headers`, pointing at a bgctl-owned service
//! `<service>.bgctl-canary` whose `host` is the canary's upstream. Kong's router picks the route
//! with more matching attributes first (the match weight counts `headers`, in the traditional
//! and the `traditional_compatible` router alike), so requests carrying the header reach the
//! canary and all others keep following the plan's route (the service's host or the mixed
//! upstream). The stable side and the plan's own route are never touched: rollback stays one
//! write, and removing the owned routes is the rest.
//!
//! How Kong matches the values (checked in Kong's `kong/router/transform.lua` and
//! `traditional.lua`; kong-sim's router does the same):
//! * `exact` is a plain value. Kong compares header values **case-insensitively** (both sides
//!   lower-cased), unlike Argo's Istio plugin: `X-Canary: YES` matches `exact: "yes"`.
//! * `regex` is written `~*<pattern>`, the one value of that header; Kong lower-cases the value
//!   and the pattern and looks for it anywhere in the value (unanchored), so validation refuses
//!   patterns whose escapes would change meaning when lower-cased.
//! * `prefix` has no Kong form: it is written as the regex `~*^<escaped prefix>`.
//!
//! Ownership: the owned routes carry `bgctl.route-of=<rollout>` besides the usual owner tags
//! and are found by that tag (`GET /routes?tags=…`), so `abort`, `rollback`, a cleanup after a
//! crash and `status` find every one, even one the current plan no longer names. They are read
//! only for plans with route steps, or when the record lists routes, so other plans make no
//! extra request. Mirroring is not here: OSS Kong has no mirror primitive (validation refuses).
//!
//! DB-less nodes: the same calls, planned from the reference node's document (where
//! [`super::declarative`] finds the owned routes by their tag), are carried into the
//! declarative configuration ([`Kong::dbless_set_routes`]): a route step is one config push
//! per node, and the owned routes and service count as bgctl's rows, so the "nothing bgctl
//! does not own changes" check keeps holding and a lagging node is brought level with them.

use serde_json::{json, Map, Value};

use super::client::{urlencode, KongError};
use super::tags::{has_tag, parse_record, str_list};
use super::{Kong, Live, TAG_PREFIX};
use crate::plan::model::{Plan, ValueMatch};
use crate::providers::routes::{ActiveRoute, Cond, RouteKind};
use crate::providers::{Call, ProviderError};

/// What [`Kong::read_owned`] read: the owned header routes and the owned canary service.
#[derive(Debug, Default, Clone)]
pub(super) struct Owned {
    pub(super) routes: Vec<Value>,
    pub(super) service: Option<Value>,
}

/// Whether the plan has route steps (then owned routes are read on every snapshot).
pub(super) fn plan_has_routes(plan: &Plan) -> bool {
    plan.strategy.canary.as_ref().is_some_and(|c| {
        c.steps
            .iter()
            .any(|s| s.set_header_route.is_some() || s.set_mirror_route.is_some())
    })
}

/// A Kong `headers` value for one condition (see the module docs).
fn kong_value(v: &ValueMatch) -> String {
    match v {
        ValueMatch::Exact(s) => s.clone(),
        ValueMatch::Prefix(p) => format!("~*^{}", regex::escape(p)),
        ValueMatch::Regex(r) => format!("~*{r}"),
    }
}

impl Kong {
    pub(super) fn route_tag(&self) -> String {
        format!("{TAG_PREFIX}route-of={}", self.rollout)
    }

    pub(super) fn canary_service_name(&self) -> String {
        format!("{}.bgctl-canary", self.service.name)
    }

    fn route_owned_tags(&self) -> Vec<String> {
        let mut tags = self.owned_tags();
        tags.push(self.route_tag());
        tags
    }

    /// Reads the owned routes and service, when the plan or the record has routes.
    pub(super) async fn read_owned(&self, live: &Live) -> Result<Owned, KongError> {
        let recorded = !parse_record(live.service.as_ref()).routes.is_empty();
        if !self.has_routes && !recorded {
            return Ok(Owned::default());
        }
        let routes = self
            .client
            .list(&format!("/routes?tags={}", urlencode(&self.route_tag())))
            .await?;
        let service = self
            .client
            .get(&format!(
                "/services/{}",
                urlencode(&self.canary_service_name())
            ))
            .await?;
        Ok(Owned { routes, service })
    }

    /// The owned objects as `status` lists them (in [`crate::providers::Snapshot::extra`]).
    pub(super) fn owned_extra(&self, owned: &Owned) -> Vec<String> {
        let mut out: Vec<String> = owned
            .routes
            .iter()
            .map(|r| {
                let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
                let headers = r
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}: {}", str_list(Some(v)).join(" | ")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                format!("route {name} (header route: {headers})")
            })
            .collect();
        if let Some(s) = &owned.service {
            let host = s.get("host").and_then(Value::as_str).unwrap_or("?");
            out.push(format!(
                "service {} (header routes → {host})",
                self.canary_service_name()
            ));
        }
        out
    }

    /// The Kong routes `routes` need, by name, with their bodies (`service` set by the caller).
    fn desired_routes(&self, routes: &[ActiveRoute]) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for active in routes.iter().filter(|r| r.kind == RouteKind::Header) {
            for plan_route in &self.service.routes {
                for (n, alt) in active.matches.iter().enumerate() {
                    let mut headers = Map::new();
                    for c in alt {
                        if let Cond::Header { name, value } = c {
                            headers.insert(name.to_ascii_lowercase(), json!([kong_value(value)]));
                        }
                    }
                    let name = format!("{}.bgctl-header-{}-{n}", plan_route.name, active.name);
                    out.push((
                        name.clone(),
                        json!({
                            "name": name,
                            "hosts": plan_route.hosts,
                            "paths": plan_route.paths,
                            "methods": plan_route.methods,
                            "strip_path": plan_route.strip_path.unwrap_or(true),
                            "headers": headers,
                            "tags": self.route_owned_tags(),
                        }),
                    ));
                }
            }
        }
        out
    }

    /// The canary upstream the owned service points at (the side of the first route).
    fn canary_host(&self, routes: &[ActiveRoute]) -> Option<String> {
        let to = &routes.first()?.to;
        self.env(to).map(|e| e.upstream.clone())
    }

    /// The service write `routes` need, if any.
    fn service_call(&self, owned: &Owned, routes: &[ActiveRoute]) -> Option<Call> {
        let host = self.canary_host(routes)?;
        let current = owned
            .service
            .as_ref()
            .and_then(|s| s.get("host"))
            .and_then(Value::as_str);
        let tags_ok = owned
            .service
            .as_ref()
            .is_some_and(|s| has_tag(s, &self.route_tag()));
        (current != Some(host.as_str()) || !tags_ok).then(|| Call {
            method: "PUT".into(),
            path: format!("/services/{}", urlencode(&self.canary_service_name())),
            body: Some(json!({
                "name": self.canary_service_name(),
                "host": host,
                "path": self.service.path,
                "protocol": self.service.protocol.clone().unwrap_or_else(|| "http".into()),
                "tags": self.route_owned_tags(),
            })),
            idempotent: true,
        })
    }

    /// Route writes (creates/updates, then deletes) from `owned` to `routes`; `service_id` is
    /// the owned service's id once known.
    fn route_writes(
        &self,
        owned: &Owned,
        routes: &[ActiveRoute],
        service_id: Option<&str>,
    ) -> Vec<Call> {
        let service_ref = match service_id {
            Some(id) => json!({"id": id}),
            None => json!({"name": self.canary_service_name()}),
        };
        let desired = self.desired_routes(routes);
        let mut out = Vec::new();
        for (name, body) in &desired {
            let current = owned
                .routes
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(name.as_str()));
            let same = current.is_some_and(|cur| {
                ["hosts", "paths", "methods"]
                    .iter()
                    .all(|k| str_list(cur.get(*k)) == str_list(body.get(*k)))
                    && cur.get("strip_path") == body.get("strip_path")
                    && headers_of(cur) == headers_of(body)
                    && service_id.is_some()
                    && cur
                        .get("service")
                        .and_then(|s| s.get("id"))
                        .and_then(Value::as_str)
                        == service_id
            });
            if !same {
                let mut body = body.clone();
                body["service"] = service_ref.clone();
                out.push(Call {
                    method: "PUT".into(),
                    path: format!("/routes/{}", urlencode(name)),
                    body: Some(body),
                    idempotent: true,
                });
            }
        }
        for cur in &owned.routes {
            let name = cur.get("name").and_then(Value::as_str);
            let id = cur.get("id").and_then(Value::as_str);
            if !desired.iter().any(|(n, _)| Some(n.as_str()) == name) {
                if let Some(key) = id.or(name) {
                    out.push(Call {
                        method: "DELETE".into(),
                        path: format!("/routes/{}", urlencode(key)),
                        body: None,
                        idempotent: true,
                    });
                }
            }
        }
        out
    }

    /// Every call from `live` to `routes` (for the step list and the read-back).
    pub(super) fn owned_calls(&self, live: &Live, routes: &[ActiveRoute]) -> Vec<Call> {
        let owned = &live.owned;
        let service = self.service_call(owned, routes);
        let id = if service.is_some() {
            None
        } else {
            owned
                .service
                .as_ref()
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
        };
        let mut out: Vec<Call> = service.into_iter().collect();
        out.extend(self.route_writes(owned, routes, id));
        if routes.is_empty() && owned.service.is_some() {
            out.push(self.delete_service_call());
        }
        out
    }

    fn delete_service_call(&self) -> Call {
        Call {
            method: "DELETE".into(),
            path: format!("/services/{}", urlencode(&self.canary_service_name())),
            body: None,
            idempotent: true,
        }
    }

    /// Converges the owned routes to `routes`: the service first (its id for the routes), then
    /// the routes, deletes last, and the service once no route needs it.
    pub(super) async fn set_owned(
        &self,
        live: &Live,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        let mut owned = live.owned.clone();
        if let Some(call) = self.service_call(&owned, routes) {
            owned.service = Some(self.do_call(&call).await?);
        }
        let id = owned
            .service
            .as_ref()
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        for call in self.route_writes(&owned, routes, id.as_deref()) {
            self.do_call(&call).await?;
        }
        if routes.is_empty() && owned.service.is_some() {
            self.do_call(&self.delete_service_call()).await?;
        }
        Ok(())
    }

    /// Removes every owned route and the owned service (cleanup once traffic no longer
    /// splits); returns what was removed.
    pub(super) async fn remove_owned(&self, live: &Live) -> Result<Vec<String>, ProviderError> {
        let done = self.owned_extra(&live.owned);
        if done.is_empty() {
            return Ok(done);
        }
        self.set_owned(live, &[]).await?;
        Ok(done)
    }
}

/// A route's `headers` as a comparable map (names lower-case, as Kong matches them).
fn headers_of(v: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = v
        .get("headers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), str_list(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
