//! DB-less Kong (`database = off`): the same plans as with a database, stored differently.
//!
//! Each DB-less node holds its own declarative configuration and refuses entity writes (405
//! code 12). bgctl keeps the planning code shared — `changes.rs` and `traffic.rs` decide which
//! entities should look how, as entity calls — and swaps only the storage: every write here is
//! one cycle of
//!
//! 1. `GET /config` from every node (`provider.kong.adminUrl`, then `adminUrls`);
//! 2. the entity calls planned from the *reference* node's view carried out on its document
//!    ([`Doc::apply`]);
//! 3. on every node, bgctl's rows (the plan's service and routes, the environments' upstreams
//!    and targets, the canary's mixed upstream, the header routes and their service) made
//!    equal to the reference's, everything else in that node's document kept as it was
//!    ([`Doc::adopt_owned`]);
//! 4. `POST /config?check_hash=1` to each node whose document changed in meaning (304 = it
//!    already had it).
//!
//! So a canary step or a switch is one push per node, and a node that lags (a push that failed
//! there, a node restarted with an old configuration) is brought level by the next write.
//!
//! **Which node is the reference.** Every push that changes bgctl's rows raises a counter tag
//! on the service, `bgctl.generation=N`; the node with the highest counter has bgctl's latest
//! write (ties: the first listed). Other nodes whose bgctl rows differ from it are *lagging*:
//! `status` names them ([`Kong::node_report`]), and `plan apply` lists one config push per
//! lagging node among its setup changes, so they are converged before traffic moves.
//!
//! **The rollout record and the lock** live in the configuration like with a database (the
//! service's tags; the `<service>.bgctl-lock` upstream, see [`super::dbless_lock`]), so any
//! runner can continue. Writes of one run are serialized (`Kong::push`), so the lock heartbeat
//! never pushes a document read before a traffic push.
//!
//! **Concurrent writers.** `POST /config` replaces a node's whole configuration and has no
//! compare-and-swap: a change someone else pushes between bgctl's read and its push is lost.
//! Each cycle reads right before it pushes to keep that window short, and the lock keeps other
//! bgctl runs out; tools that push the whole configuration themselves must not run during a
//! rollout.

use std::sync::Arc;

use serde_json::{json, Value};

use super::client::{urlencode, KongClient, KongError};
use super::declarative::header::header_key;
use super::declarative::{Doc, Owned};
use super::live::Live;
use super::mode::KongMode;
use super::Kong;
use crate::providers::routes::ActiveRoute;
use crate::providers::{Call, Change, ProviderError, Record, Traffic};

/// One node's configuration as read.
#[derive(Debug, Clone)]
pub(super) struct NodeDoc {
    pub(super) url: String,
    pub(super) doc: Doc,
}

/// Every node's configuration, and which one is the reference.
#[derive(Debug, Clone)]
pub(super) struct Nodes {
    pub(super) docs: Vec<NodeDoc>,
    pub(super) reference: usize,
}

impl Nodes {
    pub(super) fn reference(&self) -> &NodeDoc {
        &self.docs[self.reference]
    }
}

/// `GET /config` of one node.
async fn read_one(client: &KongClient) -> Result<Doc, KongError> {
    let answer = client
        .get("/config")
        .await?
        .ok_or_else(|| KongError::Unexpected {
            method: reqwest::Method::GET,
            path: "/config".into(),
            detail: format!(
                "404 from `{}`: not a DB-less Kong node's Admin API",
                client.base()
            ),
        })?;
    Doc::parse(&answer).map_err(|detail| KongError::Unexpected {
        method: reqwest::Method::GET,
        path: "/config".into(),
        detail,
    })
}

impl Kong {
    pub(super) fn owned(&self) -> Owned {
        let mut upstreams: Vec<String> = self.envs.iter().map(|e| e.upstream.clone()).collect();
        upstreams.push(self.mixed.clone());
        Owned {
            service: self.service.name.clone(),
            routes: self.service.routes.iter().map(|r| r.name.clone()).collect(),
            upstreams,
            route_tag: self.route_tag(),
            canary_service: self.canary_service_name(),
        }
    }

    fn generation(&self, doc: &Doc) -> u64 {
        doc.service_tag(&self.service.name, "generation")
            .and_then(|g| g.parse().ok())
            .unwrap_or(0)
    }

    /// Reads every node's configuration (one `GET /config` each).
    pub(super) async fn read_nodes(&self) -> Result<Nodes, KongError> {
        let reads = futures::future::join_all(self.nodes.iter().map(read_one)).await;
        let mut docs = Vec::new();
        for (client, doc) in self.nodes.iter().zip(reads) {
            docs.push(NodeDoc {
                url: client.base().to_string(),
                doc: doc?,
            });
        }
        let mut reference = 0;
        for (i, d) in docs.iter().enumerate() {
            if self.generation(&d.doc) > self.generation(&docs[reference].doc) {
                reference = i;
            }
        }
        Ok(Nodes { docs, reference })
    }

    /// The planning view of a DB-less read: the reference node's rows; the lock as the first
    /// node that has one shows it.
    pub(super) fn live_of(&self, nodes: Nodes) -> Live {
        let owned = self.owned();
        let mut live = nodes.reference().doc.live(&owned, &self.lock_name);
        let lock = nodes
            .docs
            .iter()
            .find_map(|d| d.doc.lock(&self.lock_name).cloned());
        live.upstreams.insert(self.lock_name.clone(), lock);
        live.nodes = Some(Arc::new(nodes));
        live
    }

    /// The nodes whose bgctl rows differ from the reference's, with what differs.
    pub(super) fn lagging(&self, nodes: &Nodes) -> Vec<(String, String)> {
        let owned = self.owned();
        let reference = nodes.reference();
        let want = reference.doc.live(&owned, &self.lock_name);
        nodes
            .docs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != nodes.reference)
            .filter_map(|(_, d)| {
                let have = d.doc.live(&owned, &self.lock_name);
                let why = self.difference(&have, &want);
                (!why.is_empty()).then(|| (d.url.clone(), why.join(", ")))
            })
            .collect()
    }

    /// What makes `have` differ from `want`, in the terms of the planning code.
    fn difference(&self, have: &Live, want: &Live) -> Vec<String> {
        let mut out = Vec::new();
        let host = |l: &Live| {
            l.service
                .as_ref()
                .and_then(|s| s.get("host"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if host(have) != host(want) {
            out.push(format!(
                "service host {} (reference: {})",
                host(have).unwrap_or_else(|| "missing".into()),
                host(want).unwrap_or_else(|| "missing".into())
            ));
        }
        let gen = |l: &Live| {
            super::tags::tag_map(l.service.as_ref().unwrap_or(&Value::Null))
                .get("generation")
                .cloned()
                .unwrap_or_else(|| "0".into())
        };
        if gen(have) != gen(want) {
            out.push(format!(
                "bgctl generation {} (reference: {})",
                gen(have),
                gen(want)
            ));
        }
        for up in &self.owned().upstreams {
            let targets = |l: &Live| {
                let mut t: Vec<(String, u64)> = l
                    .targets
                    .get(up)
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        (
                            t.get("target")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .into(),
                            t.get("weight").and_then(Value::as_u64).unwrap_or(0),
                        )
                    })
                    .collect();
                t.sort();
                t
            };
            let exists = |l: &Live| l.upstreams.get(up).is_some_and(Option::is_some);
            if exists(have) != exists(want) || targets(have) != targets(want) {
                out.push(format!("upstream {up}"));
            }
        }
        if header_key(have) != header_key(want) {
            out.push("header routes".into());
        }
        if out.is_empty() {
            let strip = |l: &Live| {
                (
                    l.service.clone().map(|s| untimed_tags(&s)),
                    l.routes
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone().map(|r| untimed_tags(&r))))
                        .collect::<std::collections::BTreeMap<_, _>>(),
                )
            };
            if strip(have) != strip(want) {
                out.push("service or routes".into());
            }
        }
        out
    }

    /// The documents each node should hold after `calls` (planned from the reference's view):
    /// the reference's own document with the calls carried out (and its generation raised
    /// when bgctl's rows changed), and every other node's with bgctl's rows made equal to it.
    pub(super) fn desired(&self, nodes: &Nodes, calls: &[Call]) -> Result<Vec<Doc>, ProviderError> {
        let owned = self.owned();
        let reference = nodes.reference();
        let mut edited = reference.doc.clone();
        for call in calls {
            edited.apply(call).map_err(|why| {
                ProviderError::State(format!(
                    "{why} (DB-less configuration of `{}`)",
                    reference.url
                ))
            })?;
        }
        // The calls touch bgctl's rows only: any change is one of bgctl's.
        if !edited.same_meaning(&reference.doc) {
            let next = nodes
                .docs
                .iter()
                .map(|d| self.generation(&d.doc))
                .max()
                .unwrap_or(0)
                + 1;
            edited.set_service_tag(&self.service.name, "generation", &next.to_string());
        }
        Ok(nodes
            .docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i == nodes.reference {
                    edited.clone()
                } else {
                    let mut doc = d.doc.clone();
                    doc.adopt_owned(&edited, &owned);
                    doc
                }
            })
            .collect())
    }

    /// One write cycle: read every node, plan the calls from the reference's view, push the
    /// result to every node that needs it (or only to `only`). Serialized within the run.
    pub(super) async fn dbless_write<F>(
        &self,
        only: Option<&str>,
        plan: F,
    ) -> Result<(), ProviderError>
    where
        F: FnOnce(&Live) -> Result<Vec<Call>, ProviderError>,
    {
        let _one_at_a_time = self.push.lock().await;
        let nodes = self.read_nodes().await?;
        let live = self.live_of(nodes.clone());
        let calls = plan(&live)?;
        let want = self.desired(&nodes, &calls)?;
        self.push_docs(&nodes, &want, only).await?;
        self.check_pushed(&nodes, &want, only).await
    }

    /// Reads every node a push went to back: an answered push a node does not show (a proxy
    /// that turned it into a read, a node that answered without loading it) is
    /// [`ProviderError::NotApplied`], so the engine treats the traffic as possibly moved.
    async fn check_pushed(
        &self,
        before: &Nodes,
        want: &[Doc],
        only: Option<&str>,
    ) -> Result<(), ProviderError> {
        let owned = self.owned();
        let pushed: Vec<usize> = (0..want.len())
            .filter(|&i| {
                only.is_none_or(|u| u == before.docs[i].url)
                    && !want[i].same_meaning(&before.docs[i].doc)
            })
            .collect();
        if pushed.is_empty() {
            return Ok(());
        }
        let back = self.read_nodes().await?;
        for i in pushed {
            let have = back.docs[i].doc.live(&owned, &self.lock_name);
            let goal = want[i].live(&owned, &self.lock_name);
            let why = self.difference(&have, &goal);
            if !why.is_empty() {
                return Err(ProviderError::NotApplied(format!(
                    "`{}` answered the configuration push but does not show it ({})",
                    back.docs[i].url,
                    why.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Pushes `want[i]` to node `i` where it differs in meaning from what was read.
    pub(super) async fn push_docs(
        &self,
        nodes: &Nodes,
        want: &[Doc],
        only: Option<&str>,
    ) -> Result<(), ProviderError> {
        let mut pushed = 0usize;
        let mut failed: Vec<(String, KongError)> = Vec::new();
        let owned = self.owned();
        for ((node, doc), client) in nodes.docs.iter().zip(want).zip(&self.nodes) {
            if only.is_some_and(|u| u != node.url) || doc.same_meaning(&node.doc) {
                continue;
            }
            // Never push a document that changes anything bgctl does not own.
            if doc.foreign(&owned, &self.lock_name) != node.doc.foreign(&owned, &self.lock_name) {
                return Err(ProviderError::State(format!(
                    "bgctl's DB-less edit of `{}` would change entities it does not own; nothing was pushed there (please report this)",
                    node.url
                )));
            }
            match client.post_config(&doc.render()).await {
                Ok(_) => pushed += 1,
                Err(e) => failed.push((node.url.clone(), e)),
            }
        }
        match failed.into_iter().next() {
            None => Ok(()),
            Some((_, e)) if pushed == 0 && !e.answer_lost() => Err(e.into()),
            Some((url, e)) => Err(ProviderError::NotApplied(format!(
                "the configuration may not have reached every node: `{url}`: {}",
                crate::error::chain(&e).join(": ")
            ))),
        }
    }

    /// The DB-less form of a list of entity changes: one `POST /config` per node whose
    /// document changes, its detail summing up the entity changes (the document itself is
    /// not shown: it holds every other entity of the node, credentials included).
    pub(super) fn config_changes(
        &self,
        live: &Live,
        calls: &[Call],
        summary: &[String],
    ) -> Vec<Change> {
        let Some(nodes) = &live.nodes else {
            return Vec::new();
        };
        let Ok(want) = self.desired(nodes, calls) else {
            return Vec::new();
        };
        let lagging = self.lagging(nodes);
        nodes
            .docs
            .iter()
            .zip(&want)
            .filter(|(node, doc)| !doc.same_meaning(&node.doc))
            .map(|(node, _)| {
                let mut detail = summary.to_vec();
                if let Some((_, why)) = lagging.iter().find(|l| l.0 == node.url) {
                    detail.insert(
                        0,
                        format!(
                            "converge bgctl's entities to `{}` ({why})",
                            nodes.docs[nodes.reference].url
                        ),
                    );
                }
                Change {
                    action: "update",
                    entity: "config",
                    name: node.url.clone(),
                    detail: if detail.is_empty() {
                        "bgctl's entities".into()
                    } else {
                        detail.join("; ")
                    },
                    call: config_call(&node.url, &detail),
                    wave: None,
                }
            })
            .collect()
    }
}

/// The DB-less side of each [`crate::providers::Provider`] method: `mod.rs` dispatches here
/// when the nodes are DB-less, and each write becomes one [`Kong::dbless_write`] cycle.
impl Kong {
    /// Whether the nodes are DB-less ([`Kong::mode`], read once per run).
    pub(super) async fn dbless(&self) -> Result<bool, ProviderError> {
        Ok(self.mode().await? == KongMode::DbLess)
    }

    /// The setup changes as one config push per node, the entity changes as its summary.
    pub(super) fn dbless_setup_changes(&self, live: &Live, changes: &[Change]) -> Vec<Change> {
        let calls: Vec<Call> = changes.iter().map(|c| c.call.clone()).collect();
        let summary: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {} {}", c.action, c.entity, c.name))
            .collect();
        self.config_changes(live, &calls, &summary)
    }

    /// Entity calls as the config pushes that carry them (for the step list).
    pub(super) fn dbless_calls(&self, live: &Live, calls: &[Call]) -> Vec<Call> {
        let summary: Vec<String> = calls.iter().map(describe_call).collect();
        self.config_changes(live, calls, &summary)
            .into_iter()
            .map(|c| c.call)
            .collect()
    }

    /// One setup change: that node's push, planned again from what every node holds now.
    pub(super) async fn dbless_apply(&self, change: &Change) -> Result<(), ProviderError> {
        self.dbless_write(Some(&change.name), |live| {
            Ok(self
                .setup_entity_changes(live)
                .into_iter()
                .map(|c| c.call)
                .collect())
        })
        .await
    }

    /// A traffic write, planned from what every node holds now (a heartbeat may have pushed
    /// since the snapshot), one push per node.
    pub(super) async fn dbless_set_traffic(
        &self,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        self.dbless_write(None, |live| self.traffic_plan(live, to, record))
            .await
    }

    /// The rollout record: the service's tags, one push per node.
    pub(super) async fn dbless_write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.dbless_write(None, |live| {
            Ok(live
                .service
                .as_ref()
                .map(|_| Call {
                    method: "PATCH".into(),
                    path: format!("/services/{}", urlencode(&self.service.name)),
                    body: Some(json!({"tags": self.service_tags(live, record)})),
                    idempotent: true,
                })
                .into_iter()
                .collect())
        })
        .await
    }

    /// Header routes: the owned routes and their service made exactly `routes`, one push per
    /// node ([`super::routes`]).
    pub(super) async fn dbless_set_routes(
        &self,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        self.dbless_write(None, |live| Ok(self.owned_calls(live, routes)))
            .await
    }

    /// Once traffic no longer splits: the header routes, their service and the mixed upstream
    /// removed in one push per node; returns what was removed.
    pub(super) async fn dbless_cleanup(&self) -> Result<Vec<String>, ProviderError> {
        let mut done = Vec::new();
        self.dbless_write(None, |live| {
            let mut calls = self.owned_calls(live, &[]);
            done = self.owned_extra(&live.owned);
            // The mixed upstream is named even when only a lagging node still has it.
            let mixed_anywhere = live
                .nodes
                .as_ref()
                .is_some_and(|n| n.docs.iter().any(|d| d.doc.upstream(&self.mixed).is_some()));
            if mixed_anywhere || done.is_empty() {
                calls.push(Call {
                    method: "DELETE".into(),
                    path: format!("/upstreams/{}", urlencode(&self.mixed)),
                    body: None,
                    idempotent: true,
                });
                done.push(format!("upstream {}", self.mixed));
            }
            Ok(calls)
        })
        .await?;
        Ok(done)
    }
}

/// The call shown for one node's push: `POST /config?check_hash=1`, its body the summary of
/// the entity changes it carries.
pub(super) fn config_call(node: &str, summary: &[String]) -> Call {
    Call {
        method: "POST".into(),
        path: "/config?check_hash=1".into(),
        body: Some(serde_json::json!({ "node": node, "bgctl_changes": summary })),
        idempotent: true,
    }
}

/// One planned entity call in a push's summary: `PATCH /services/s host=x`.
pub(super) fn describe_call(call: &Call) -> String {
    let mut out = format!("{} {}", call.method, call.path);
    if let Some(Value::Object(body)) = &call.body {
        for key in ["host", "weight", "target"] {
            if let Some(v) = body.get(key) {
                out.push_str(&format!(
                    " {key}={}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                ));
            }
        }
    }
    out
}

/// A row without timestamps, for comparisons in meaning.
fn untimed_tags(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.remove("created_at");
        m.remove("updated_at");
    }
    v
}
