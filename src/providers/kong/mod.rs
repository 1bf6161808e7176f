//! Kong through its OSS Admin API, with OSS primitives only.
//!
//! * Environments are upstreams with targets; the service's `host` names the upstream that gets
//!   traffic (seed 000). A blue-green switch is one `PATCH /services/{s}` of `host`.
//! * A canary points the service at a bgctl-owned *mixed* upstream holding both sides' targets
//!   with computed weights ([`crate::providers::weights`]); the stable and canary upstreams are never
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

mod changes;
pub mod client;
mod live;
mod lock;
pub mod mode;
pub use crate::plan::names;
mod tags;
mod traffic;

use reqwest::Method;
use serde_json::{json, Value};

use self::client::{urlencode, KongClient};
use self::live::Live;
use self::tags::{has_tag, merge_tags, parse_record, str_list, tag_map, tag_safe, tags_of};
use super::{
    Call, Change, EnvState, LockError, LockInfo, Provider, ProviderError, Record, Snapshot, Traffic,
};
use crate::plan::model::{Plan, ServiceSpec};
use crate::providers::lock as providers_lock;
use crate::providers::weights;

const TAG_PREFIX: &str = "bgctl.";
const MANAGED: &str = "managed-by-bgctl";

/// Desired state of one environment.
#[derive(Debug, Clone)]
struct EnvSpec {
    name: String,
    upstream: String,
    targets: Vec<(String, u32)>,
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
    /// What the Admin API node says it is, read once per run ([`Kong::node`]).
    node: tokio::sync::OnceCell<mode::NodeInfo>,
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
            node: tokio::sync::OnceCell::new(),
        }
    }

    /// What the Admin API node is (its mode and version), from `GET /` the first time it is
    /// asked; a node does not change mode while one bgctl command runs.
    pub async fn node(&self) -> Result<&mode::NodeInfo, ProviderError> {
        self.node
            .get_or_try_init(|| mode::detect(&self.client))
            .await
            .map_err(|e| match e {
                mode::DetectError::Kong(e) => ProviderError::Kong(e),
                other => ProviderError::State(format!("{}: {other}", self.client.base())),
            })
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

    fn service_body(&self, host: &str, tags: &[String]) -> Value {
        json!({
            "name": self.service.name,
            "host": host,
            "path": self.service.path,
            "protocol": self.service.protocol.clone().unwrap_or_else(|| "http".into()),
            "tags": tags,
        })
    }

    fn lock_store(&self) -> lock::LockUpstream<'_> {
        lock::LockUpstream {
            client: &self.client,
            name: &self.lock_name,
        }
    }

    /// Seconds of lock lifetime.
    pub fn lock_ttl(&self) -> u64 {
        self.lock_ttl
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
            .map(|u| lock::parse(&u).0);
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
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra,
            routing: None,
            live: crate::providers::Live::new(live),
        })
    }

    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
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

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        let body = change.call.body.clone().unwrap_or(Value::Null);
        let target = (change.call.method == "POST")
            .then(|| body.get("target").and_then(Value::as_str))
            .flatten();
        match target {
            Some(target) => self.post_target(&change.call, target, &body).await,
            None => self
                .do_call(&change.call)
                .await
                .map(drop)
                .map_err(Into::into),
        }
    }

    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        self.traffic_plan(&live, to, record).unwrap_or_default()
    }

    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        // The writes are planned from the snapshot given (a snapshot another provider made
        // carries nothing for Kong: read the live state then).
        let live = match snap.live.get::<Live>() {
            Some(live) => live.clone(),
            None => self.read_live().await?,
        };
        for call in self.traffic_plan(&live, to, record)? {
            let change = Change {
                action: "update",
                entity: "traffic",
                name: String::new(),
                detail: String::new(),
                call,
                wave: None,
            };
            self.apply(&change).await?;
        }
        Ok(())
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        // The service's other tags are kept: read them now (no cached copy).
        let path = format!("/services/{}", urlencode(&self.service.name));
        let Some(service) = self.client.get(&path).await? else {
            return Ok(());
        };
        let live = Live {
            service: Some(service),
            ..Live::default()
        };
        let tags = self.service_tags(&live, record);
        self.client
            .write(
                Method::PATCH,
                &format!("/services/{}", urlencode(&self.service.name)),
                Some(&json!({"tags": tags})),
                true,
            )
            .await?;
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
        providers_lock::take(&self.lock_store(), me, providers_lock::Take::forced(force)).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        providers_lock::release(&self.lock_store(), me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        providers_lock::renew(&self.lock_store(), me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        providers_lock::holds(&self.lock_store(), me).await
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
