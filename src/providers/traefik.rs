//! Traefik (v3) through its REST provider.
//!
//! * bgctl owns the REST provider's whole dynamic configuration: one router
//!   (`provider.traefik.router`) → one weighted service (`provider.traefik.service`) → one
//!   load-balancer service per environment (`<service>-<env>`, the plan's server URLs and
//!   weights). Every write is a `PUT /api/providers/rest` of that whole document: Traefik
//!   replaces the provider's configuration, so there is nothing to merge and a switch is one
//!   atomic write. Environment-level weights are per mille (`1000/0` for blue-green, `900/100`
//!   for a 10 % canary).
//! * **A 200 proves nothing.** Traefik applies a PUT asynchronously (30–175 ms measured) and
//!   accepts semantically broken configurations with 200 (the service then shows
//!   `status: disabled` and an `error` list, and traffic turns into 404s). After every PUT bgctl
//!   polls `GET /api/http/services/<name>@rest` and `GET /api/http/routers/<name>@rest` until
//!   the weights, servers and rule it wrote are live and `enabled`, within
//!   `provider.traefik.applyTimeout` (default 10 s), and fails with Traefik's own error text
//!   otherwise. Only then does the engine go on (and, say, stop the old side).
//! * **A lost answer is read back** ([`api`]): a PUT whose connection broke or timed out is
//!   checked by the same poll, and sent again only when Traefik does not show it.
//! * Traefik keeps no field it does not know and offers no conditional write, so the rollout
//!   record and the lock cannot live in Traefik: they live in a state file on the runner
//!   ([`super::statefile`], `provider.traefik.stateFile`). That is the one place where bgctl
//!   keeps local state; runs that share a rollout must share that file.
//! * Header routes and mirrors (issue 16) are bgctl-owned routers and services in the same
//!   document ([`routes`]): a weight change keeps them, the write that gives one environment all
//!   traffic drops them, and the read-back covers them like the rest.

use std::time::Duration;

use serde_json::{json, Value};

mod api;
mod applied;
mod error;
mod live;
mod routes;

use live::{server_urls, sorted, Live};

pub use error::TraefikError;

use super::lock;
use super::routes::ActiveRoute;
use super::statefile::StateFile;
use super::{
    traffic_from_weights, weights, Call, Change, EnvState, LockError, LockInfo, Provider,
    ProviderError, Record, Snapshot, Traffic,
};
use crate::plan::model::{Plan, TraefikRouter};

/// Environment weights are per mille of the weighted service.
const SCALE: f64 = 1000.0;

#[derive(Debug, Clone)]
struct Env {
    name: String,
    lb: String,
    servers: Vec<(String, Option<u32>)>,
}

/// The Traefik provider for one plan.
pub struct Traefik {
    http: reqwest::Client,
    api: String,
    service: String,
    router_name: String,
    router: TraefikRouter,
    envs: Vec<Env>,
    state: StateFile,
    apply_timeout: Duration,
}

impl Traefik {
    /// A provider for `plan` (which must have passed validation and use Traefik).
    pub fn new(plan: &Plan) -> Result<Traefik, String> {
        let spec = plan.traefik().ok_or("the plan has no Traefik provider")?;
        let state =
            StateFile::resolve(spec.state_file.as_deref(), &plan.metadata.name).map_err(|e| {
                format!(
                    "cannot place the rollout's state file ({e}); set `provider.traefik.stateFile`"
                )
            })?;
        let http = crate::http::builder()
            .timeout(
                spec.request_timeout
                    .map_or(Duration::from_secs(10), |d| d.0),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let envs = plan
            .environments
            .iter()
            .map(|(name, e)| Env {
                name: name.clone(),
                lb: format!("{}-{name}", spec.service),
                servers: e
                    .servers
                    .iter()
                    .map(|s| {
                        (
                            s.url.clone().unwrap_or_default(),
                            s.weight.and_then(|w| u32::try_from(w).ok()),
                        )
                    })
                    .collect(),
            })
            .collect();
        Ok(Traefik {
            http,
            api: spec.api_url.trim_end_matches('/').to_string(),
            service: spec.service.clone(),
            router_name: spec
                .router
                .name
                .clone()
                .unwrap_or_else(|| spec.service.clone()),
            router: spec.router.clone(),
            envs,
            state,
            apply_timeout: spec.apply_timeout.map_or(Duration::from_secs(10), |d| d.0),
        })
    }

    /// The state file holding the record and lock.
    pub fn state_file(&self) -> &StateFile {
        &self.state
    }

    fn env(&self, name: &str) -> Option<&Env> {
        self.envs.iter().find(|e| e.name == name)
    }

    /// Environment weights (per mille) for `to`.
    fn weights_for(&self, to: &Traffic) -> Result<Vec<(String, u64)>, ProviderError> {
        let mut out: Vec<(String, u64)> = self.envs.iter().map(|e| (e.name.clone(), 0)).collect();
        match to {
            Traffic::Env { env } => {
                self.env(env)
                    .ok_or_else(|| ProviderError::State(format!("unknown environment `{env}`")))?;
                for o in &mut out {
                    if &o.0 == env {
                        o.1 = SCALE as u64;
                    }
                }
            }
            Traffic::Split {
                stable,
                canary,
                percent,
            } => {
                if self.env(stable).is_none() || self.env(canary).is_none() {
                    return Err(ProviderError::State(format!(
                        "unknown environments `{stable}`/`{canary}`"
                    )));
                }
                let (s, c) = split_per_mille(*percent);
                for o in &mut out {
                    if &o.0 == stable {
                        o.1 = s;
                    } else if &o.0 == canary {
                        o.1 = c;
                    }
                }
            }
            Traffic::Missing | Traffic::Foreign { .. } => {
                return Err(ProviderError::State(
                    "traffic can only be pointed at an environment or a split".into(),
                ))
            }
        }
        Ok(out)
    }

    /// The whole dynamic configuration bgctl owns, with these environment weights and owned
    /// header and mirror routes.
    fn config(&self, weights: &[(String, u64)], owned: &routes::Owned) -> Value {
        let mut router = json!({
            "rule": self.router.rule,
            "entryPoints": self.router.entry_points,
            "service": self.service,
        });
        if let Some(p) = self.router.priority {
            router["priority"] = json!(p);
        }
        let mut services = serde_json::Map::new();
        services.insert(
            self.service.clone(),
            json!({"weighted": {"services": self.envs.iter().map(|e| json!({
                "name": e.lb,
                "weight": weights.iter().find(|w| w.0 == e.name).map_or(0, |w| w.1),
            })).collect::<Vec<_>>()}}),
        );
        for e in &self.envs {
            let servers: Vec<Value> = e
                .servers
                .iter()
                .map(|(url, w)| match w {
                    Some(w) => json!({"url": url, "weight": w}),
                    None => json!({"url": url}),
                })
                .collect();
            services.insert(
                e.lb.clone(),
                json!({"loadBalancer": {"servers": servers, "passHostHeader": true}}),
            );
        }
        let mut routers = serde_json::Map::new();
        routers.insert(self.router_name.clone(), router);
        Self::add_owned(owned, &mut routers, &mut services);
        json!({"http": {
            "routers": routers,
            "services": services,
        }})
    }

    fn put_call(&self, weights: &[(String, u64)], owned: &routes::Owned) -> Call {
        Call {
            method: "PUT".into(),
            path: "/api/providers/rest".into(),
            body: Some(self.config(weights, owned)),
            idempotent: true,
        }
    }
}

/// Stable and canary per mille for a canary `percent`; both stay above 0 strictly between
/// (the shared split with [`weights::Scale::PER_MILLE`]).
pub fn split_per_mille(percent: f64) -> (u64, u64) {
    let s = weights::Scale::PER_MILLE
        .split(
            &[1],
            &[1],
            if percent.is_nan() {
                0.0
            } else {
                percent.clamp(0.0, 100.0)
            },
        )
        .expect("one live target per side always splits");
    (u64::from(s.stable[0]), u64::from(s.canary[0]))
}

/// Adds Traefik's own error text for an object that is not `enabled`.
/// `host:port` of a server URL, for probes.
fn host_port(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
}

impl Provider for Traefik {
    fn status_columns(&self) -> [&'static str; 3] {
        ["SERVICE", "SERVER", "WEIGHT"]
    }

    fn describe(&self) -> String {
        // The state file is named here, not in `Snapshot::extra`: `extra` lists temporary
        // objects a rollout leaves behind (cleaned up, and "nothing to do" only when empty);
        // the state file is permanent, so listing it there made every `rollback` after an
        // `abort` write again and every cleanup wait its delay for nothing.
        format!(
            "traefik {} service {} (state file {})",
            self.api,
            self.service,
            self.state.path().display()
        )
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let live = self.read_live().await?;
        let record = self.state.read_record()?;
        let lock = self.state.read_lock()?;
        let envs = self
            .envs
            .iter()
            .map(|e| {
                let exists = live.servers.contains_key(&e.name);
                let targets = if exists {
                    e.servers
                        .iter()
                        .filter_map(|(u, w)| host_port(u).map(|hp| (hp, w.unwrap_or(1))))
                        .collect()
                } else {
                    Vec::new()
                };
                (
                    e.name.clone(),
                    EnvState {
                        object: format!("{}@rest", e.lb),
                        exists,
                        targets,
                    },
                )
            })
            .collect();
        let traffic = if live.weights.is_none() {
            Traffic::Missing
        } else {
            traffic_from_weights(&self.live_weights(&live), &record)
        };
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra: Self::owned_extra(&live.owned),
            routing: None,
            live: super::Live::new(live),
        })
    }

    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        if live.weights.is_none() {
            // Nothing of ours yet: the traffic write creates everything in one PUT.
            return Vec::new();
        }
        let differs: Vec<&str> = self
            .envs
            .iter()
            .filter(|e| {
                live.servers.get(&e.name).cloned().map(sorted)
                    != Some(sorted(e.servers.iter().map(|s| s.0.clone()).collect()))
            })
            .map(|e| e.name.as_str())
            .collect();
        if differs.is_empty() {
            return Vec::new();
        }
        vec![Change {
            action: "update",
            entity: "config",
            name: "rest provider".into(),
            detail: format!(
                "servers of {} (traffic weights unchanged)",
                differs.join(", ")
            ),
            call: self.put_call(&self.live_weights(&live), &live.owned),
            wave: None,
        }]
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        // The change carries the whole document it writes; its weights are what must go live.
        let (Some(body), "/api/providers/rest") = (&change.call.body, change.call.path.as_str())
        else {
            return Err(ProviderError::State(format!(
                "not a REST provider write: {}",
                change.call
            )));
        };
        self.put_applied(body).await
    }

    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, _record: &Record) -> Vec<Call> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        self.weights_for(to)
            .map(|w| vec![self.put_call(&w, &routes_after(to, &live.owned))])
            .unwrap_or_default()
    }

    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let weights = self.weights_for(to)?;
        let owned = routes_after(to, &self.live_of(snap).await?.owned);
        // The PUT and the state file are two writes: a change recorded `verifying` is recorded
        // first too, so a run killed after the PUT never reads as the state before it (the
        // next apply verifies instead of finding the old `completed`).
        if record.phase == super::Phase::Verifying {
            self.state.write_record(record)?;
        }
        self.put_applied(&self.config(&weights, &owned)).await?;
        self.state.write_record(record)
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.state.write_record(record)
    }

    fn achieved_split(
        &self,
        _stable: &str,
        _canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        let (s, c) = split_per_mille(percent);
        Ok(100.0 * c as f64 / (s + c).max(1) as f64)
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        self.env(env)
            .map(|e| {
                e.servers
                    .iter()
                    .filter(|s| s.1 != Some(0))
                    .filter_map(|s| host_port(&s.0))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The snapshot's targets are the plan's (Traefik's services do not carry their weights
    /// per server back): new ones are those whose URL the live load balancer lacks.
    fn new_targets(&self, snap: &Snapshot, env: &str) -> Vec<String> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        let serving = live.servers.get(env).cloned().unwrap_or_default();
        self.env(env)
            .map(|e| {
                e.servers
                    .iter()
                    .filter(|s| s.1 != Some(0) && !serving.contains(&s.0))
                    .filter_map(|s| host_port(&s.0))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        self.state.lock(me, force).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        self.state.unlock(me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        lock::renew(&self.state, me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        lock::holds(&self.state, me).await
    }

    /// Owned routes left while one environment takes all traffic (a rollback at a
    /// header-route-only stage, or a run killed after the switch): removed with one PUT that
    /// keeps the live weights.
    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        let live = self.live_of(snap).await?;
        if matches!(snap.traffic, Traffic::Split { .. })
            || live.owned.is_empty()
            || live.weights.is_none()
        {
            return Ok(Vec::new());
        }
        let config = self.config(&self.live_weights(&live), &routes::Owned::default());
        self.put_applied(&config).await?;
        Ok(Self::owned_extra(&live.owned))
    }

    fn route_calls(&self, snap: &Snapshot, routes: &[ActiveRoute]) -> Vec<Call> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        let want = self.desired_owned(routes);
        if live.owned == want {
            return Vec::new();
        }
        vec![self.put_call(&self.live_weights(&live), &want)]
    }

    async fn set_routes(
        &self,
        snap: &Snapshot,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        let live = self.live_of(snap).await?;
        let want = self.desired_owned(routes);
        if live.owned == want {
            return Ok(());
        }
        if live.weights.is_none() {
            return Err(ProviderError::State(format!(
                "Traefik has no service `{}@rest` of bgctl's yet, so there is nothing to add routes to; make a traffic step first",
                self.service
            )));
        }
        self.put_applied(&self.config(&self.live_weights(&live), &want))
            .await
    }
}

/// The owned routes a traffic write to `to` keeps: all of them while the canary splits, none
/// once one environment takes all traffic (promotion, abort, rollback — the write that ends
/// the canary also ends its routes, in the same PUT).
fn routes_after(to: &Traffic, live: &routes::Owned) -> routes::Owned {
    match to {
        Traffic::Split { .. } => live.clone(),
        _ => routes::Owned::default(),
    }
}

#[cfg(test)]
mod tests;
