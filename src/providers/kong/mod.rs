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
//!
//! # Deployment modes (issue 15)
//!
//! The mode is read from every node of the plan (`GET /` on `adminUrl` and each of
//! `adminUrls`, once per run: [`Kong::mode`]); the nodes must agree with each other and with
//! `provider.kong.mode` when the plan states one, and a hybrid data plane is refused (exit 2)
//! before any write ([`mode::agree`]). Then:
//!
//! * **traditional**: the entity calls above, to `adminUrl` (nodes sharing the database pick
//!   them up; `proxyUrls` verifies each node);
//! * **DB-less**: the same planned calls, carried out on each node's declarative
//!   configuration and pushed with `POST /config` ([`dbless`], [`declarative`],
//!   [`dbless_lock`]);
//! * **hybrid control plane**: the traditional path (entity writes to the control plane).
//!   A control plane's post-write wait — until every data plane reports the new
//!   configuration — belongs after each write in [`Provider::apply`], [`Provider::set_traffic`],
//!   [`Provider::write_record`] and [`Provider::cleanup`] below, where the
//!   `KongMode::ControlPlane` arm is marked (`hybrid.rs` owns it).

pub mod adopt;
mod changes;
pub mod client;
mod dbless;
mod dbless_lock;
mod declarative;
pub mod hybrid;
mod live;
mod lock;
pub mod mode;
pub use self::mode::{NodeReport, NodeState};
mod routes;
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
use crate::providers::routes::ActiveRoute;
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
    /// The plan has header route steps: owned routes are read with every snapshot.
    has_routes: bool,
    /// Every node's Admin API: `adminUrl` first, then `adminUrls`.
    nodes: Vec<KongClient>,
    /// `provider.kong.mode`.
    mode_spec: Option<crate::plan::model::KongModeSpec>,
    /// The mode every node agreed on ([`Kong::mode`]).
    mode: tokio::sync::OnceCell<mode::KongMode>,
    /// Target writes of one canary step in flight at once (`--parallelism`,
    /// [`Provider::set_parallelism`]).
    parallelism: std::sync::atomic::AtomicUsize,
    /// DB-less: one read-modify-push at a time within a run (the lock heartbeat and a traffic
    /// write never interleave).
    push: tokio::sync::Mutex<()>,
    /// Hybrid mode: what the data planes reported before this run's writes not yet
    /// confirmed on them ([`hybrid`]).
    hybrid: std::sync::Mutex<Option<hybrid::Before>>,
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
        let mut nodes = vec![client.clone()];
        for url in &kong.admin_urls {
            if nodes.iter().all(|n| n.base() != url.trim_end_matches('/')) {
                nodes.push(client.with_base(url));
            }
        }
        Kong {
            nodes,
            mode_spec: kong.mode,
            mode: tokio::sync::OnceCell::new(),
            push: tokio::sync::Mutex::new(()),
            parallelism: std::sync::atomic::AtomicUsize::new(crate::engine::DEFAULT_PARALLELISM),
            client,
            rollout: plan.metadata.name.clone(),
            lock_name: format!("{}.bgctl-lock", safe.trim_matches(['-', '.'])),
            lock_ttl: kong.lock_ttl.map_or(15 * 60, |d| d.0.as_secs().max(1)),
            service,
            envs,
            mixed,
            has_routes: routes::plan_has_routes(plan),
            hybrid: std::sync::Mutex::new(None),
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

    async fn write_record_entity(&self, record: &Record) -> Result<(), ProviderError> {
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

    fn config_lock(&self) -> dbless_lock::ConfigLock<'_> {
        dbless_lock::ConfigLock { kong: self }
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
        let live = if self.dbless().await? {
            let nodes = self.read_nodes().await?;
            self.live_of(nodes)
        } else {
            self.read_live().await?
        };
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
                let mut targets: Vec<(String, u32)> = live
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
                // In the plan's order (then by address), not Kong's creation order, which
                // concurrent target writes make arbitrary: `status` reads the same every time.
                // (One lookup table per environment: a comparison that searched the plan's list
                // made this quadratic, 15 s of CPU per read at 10,000 targets.)
                let rank: std::collections::HashMap<&str, usize> = e
                    .targets
                    .iter()
                    .enumerate()
                    .map(|(i, (p, _))| (p.as_str(), i))
                    .collect();
                targets.sort_by_cached_key(|(t, _)| {
                    (
                        rank.get(t.as_str()).copied().unwrap_or(usize::MAX),
                        t.clone(),
                    )
                });
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
        let mut extra = if live.upstreams.get(&self.mixed).is_some_and(Option::is_some) {
            vec![format!("upstream {} (canary mix)", self.mixed)]
        } else {
            Vec::new()
        };
        extra.extend(self.owned_extra(&live.owned));
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
        let changes = self.setup_entity_changes(&live);
        if live.nodes.is_some() {
            return self.dbless_setup_changes(&live, &changes);
        }
        changes
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        if self.dbless().await? {
            return self.dbless_apply(change).await;
        }
        self.hybrid_before_write().await?;
        let body = change.call.body.clone().unwrap_or(Value::Null);
        let target = (change.call.method == "POST")
            .then(|| body.get("target").and_then(Value::as_str))
            .flatten();
        // Hybrid control plane: the wait for the data planes belongs after this write.
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
        let calls = self.traffic_plan(&live, to, record).unwrap_or_default();
        if live.nodes.is_some() {
            return self.dbless_calls(&live, &calls);
        }
        calls
    }

    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        if self.dbless().await? {
            return self.dbless_set_traffic(to, record).await;
        }
        // The writes are planned from the snapshot given (a snapshot another provider made
        // carries nothing for Kong: read the live state then).
        let live = match snap.live.get::<Live>() {
            Some(live) if live.nodes.is_none() => live.clone(),
            _ => self.read_live().await?,
        };
        self.hybrid_before_write().await?;
        let changes = self.traffic_changes(&live, to, record)?;
        let limit = self.parallelism.load(std::sync::atomic::Ordering::Relaxed);
        crate::engine::waves::run(&changes, limit, |c| self.apply(c)).await
    }

    fn set_parallelism(&self, n: usize) {
        self.parallelism
            .store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        if self.dbless().await? {
            return self.dbless_write_record(record).await;
        }
        self.write_record_entity(record).await
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
        let how = providers_lock::Take::forced(force);
        if self.dbless().await? {
            return providers_lock::take(&self.config_lock(), me, how).await;
        }
        providers_lock::take(&self.lock_store(), me, how).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        if self.dbless().await? {
            return providers_lock::release(&self.config_lock(), me).await;
        }
        providers_lock::release(&self.lock_store(), me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        if self.dbless().await? {
            return providers_lock::renew(&self.config_lock(), me).await;
        }
        providers_lock::renew(&self.lock_store(), me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        if self.dbless().await? {
            return providers_lock::holds(&self.config_lock(), me).await;
        }
        providers_lock::holds(&self.lock_store(), me).await
    }

    async fn settled(&self, deadline: tokio::time::Instant) -> Result<super::Settled, String> {
        self.hybrid_settled(deadline).await
    }

    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        if matches!(snap.traffic, Traffic::Split { .. }) || snap.extra.is_empty() {
            return Ok(Vec::new());
        }
        if self.dbless().await? {
            return self.dbless_cleanup().await;
        }
        // Header routes first (issue 16); then the mixed upstream, when it is there.
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        let mut done = Box::pin(self.remove_owned(&live)).await?;
        if snap.live.get::<Live>().is_some()
            && !live.upstreams.get(&self.mixed).is_some_and(Option::is_some)
        {
            return Ok(done);
        }
        self.client
            .write(
                Method::DELETE,
                &format!("/upstreams/{}", urlencode(&self.mixed)),
                None,
                true,
            )
            .await?;
        done.push(format!("upstream {}", self.mixed));
        Ok(done)
    }

    fn route_calls(&self, snap: &Snapshot, routes: &[ActiveRoute]) -> Vec<Call> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        let calls = self.owned_calls(&live, routes);
        if live.nodes.is_some() {
            return self.dbless_calls(&live, &calls);
        }
        calls
    }

    async fn set_routes(
        &self,
        snap: &Snapshot,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        if self.dbless().await? {
            return self.dbless_set_routes(routes).await;
        }
        let live = match snap.live.get::<Live>() {
            Some(live) => live.clone(),
            None => self.read_live().await?,
        };
        Box::pin(self.set_owned(&live, routes)).await
    }
}
