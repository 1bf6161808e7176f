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
//! * Traefik keeps no field it does not know and offers no conditional write, so the rollout
//!   record and the lock cannot live in Traefik: they live in a state file on the runner
//!   ([`super::statefile`], `provider.traefik.stateFile`). That is the one place where bgctl
//!   keeps local state; runs that share a rollout must share that file.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::statefile::StateFile;
use super::{
    traffic_from_weights, Call, Change, EnvState, LockError, LockInfo, Provider, ProviderError,
    Record, Snapshot, Traffic,
};
use crate::plan::model::{Plan, TraefikRouter};

/// Environment weights are per mille of the weighted service.
const SCALE: f64 = 1000.0;

/// A Traefik API failure.
#[derive(Debug, thiserror::Error)]
pub enum TraefikError {
    /// The API did not answer.
    #[error("cannot reach the Traefik API at {url}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered with an unexpected status.
    #[error("Traefik answered {method} {url} with HTTP {status}: {body}")]
    Status {
        /// Method.
        method: String,
        /// The URL.
        url: String,
        /// Status.
        status: u16,
        /// Body, trimmed.
        body: String,
    },
    /// Traefik took the configuration but reports it broken.
    #[error("Traefik accepted the configuration but did not enable it: {0}")]
    Rejected(String),
    /// The configuration did not become live in time.
    #[error("Traefik did not apply the configuration within {timeout:?}: {detail}")]
    NotApplied {
        /// The limit.
        timeout: Duration,
        /// What was still different.
        detail: String,
    },
}

#[derive(Debug, Clone)]
struct Env {
    name: String,
    lb: String,
    servers: Vec<(String, Option<u32>)>,
}

#[derive(Debug, Clone, Default)]
struct Live {
    /// Environment weights of the weighted service, by environment; `None` when it is missing.
    weights: Option<HashMap<String, u64>>,
    /// Server URLs of each environment's load balancer, by environment.
    servers: HashMap<String, Vec<String>>,
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
    live: Mutex<Live>,
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
            live: Mutex::new(Live::default()),
        })
    }

    /// The state file holding the record and lock.
    pub fn state_file(&self) -> &StateFile {
        &self.state
    }

    fn env(&self, name: &str) -> Option<&Env> {
        self.envs.iter().find(|e| e.name == name)
    }

    async fn get(&self, path: &str) -> Result<Option<Value>, TraefikError> {
        let url = format!("{}{path}", self.api);
        let resp =
            self.http
                .get(&url)
                .send()
                .await
                .map_err(|source| TraefikError::Unreachable {
                    url: url.clone(),
                    source,
                })?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(TraefikError::Status {
                method: "GET".into(),
                url,
                status: status.as_u16(),
                body: body.trim().to_string(),
            });
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| TraefikError::Status {
                method: "GET".into(),
                url,
                status: status.as_u16(),
                body: format!("not JSON ({e})"),
            })
    }

    async fn put_config(&self, config: &Value) -> Result<(), TraefikError> {
        let url = format!("{}/api/providers/rest", self.api);
        let resp = self
            .http
            .put(&url)
            .json(config)
            .send()
            .await
            .map_err(|source| TraefikError::Unreachable {
                url: url.clone(),
                source,
            })?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(TraefikError::Status {
                method: "PUT".into(),
                url,
                status: status.as_u16(),
                body: resp.text().await.unwrap_or_default().trim().to_string(),
            })
        }
    }

    async fn read_live(&self) -> Result<Live, TraefikError> {
        let mut live = Live::default();
        if let Some(svc) = self
            .get(&format!("/api/http/services/{}@rest", self.service))
            .await?
        {
            let mut weights = HashMap::new();
            for s in svc["weighted"]["services"].as_array().into_iter().flatten() {
                let name = s["name"].as_str().unwrap_or_default();
                let name = name.split('@').next().unwrap_or_default();
                if let Some(e) = self.envs.iter().find(|e| e.lb == name) {
                    weights.insert(e.name.clone(), s["weight"].as_u64().unwrap_or(1));
                }
            }
            live.weights = Some(weights);
        }
        for e in &self.envs {
            if let Some(lb) = self
                .get(&format!("/api/http/services/{}@rest", e.lb))
                .await?
            {
                live.servers.insert(e.name.clone(), server_urls(&lb));
            }
        }
        Ok(live)
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

    /// The whole dynamic configuration bgctl owns, with these environment weights.
    fn config(&self, weights: &[(String, u64)]) -> Value {
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
        json!({"http": {
            "routers": {self.router_name.clone(): router},
            "services": services,
        }})
    }

    fn put_call(&self, weights: &[(String, u64)]) -> Call {
        Call {
            method: "PUT".into(),
            path: "/api/providers/rest".into(),
            body: Some(self.config(weights)),
            idempotent: true,
        }
    }

    /// Everything that must be live for `weights`, or why it is not yet.
    async fn check_applied(
        &self,
        weights: &[(String, u64)],
    ) -> Result<Result<(), String>, ProviderError> {
        let mut errors = Vec::new();
        let mut pending = Vec::new();
        let svc_name = format!("{}@rest", self.service);
        match self.get(&format!("/api/http/services/{svc_name}")).await? {
            None => pending.push(format!("service `{svc_name}` does not exist yet")),
            Some(svc) => {
                let live: HashMap<String, u64> = svc["weighted"]["services"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        (
                            s["name"]
                                .as_str()
                                .unwrap_or_default()
                                .split('@')
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                            s["weight"].as_u64().unwrap_or(1),
                        )
                    })
                    .collect();
                let want: HashMap<String, u64> = self
                    .envs
                    .iter()
                    .map(|e| {
                        (
                            e.lb.clone(),
                            weights.iter().find(|w| w.0 == e.name).map_or(0, |w| w.1),
                        )
                    })
                    .collect();
                if live == want {
                    status_of(&svc, &svc_name, &mut errors);
                } else {
                    pending.push(format!("`{svc_name}` has weights {live:?}, want {want:?}"));
                }
            }
        }
        for e in &self.envs {
            let name = format!("{}@rest", e.lb);
            match self.get(&format!("/api/http/services/{name}")).await? {
                None => pending.push(format!("service `{name}` does not exist yet")),
                Some(lb) => {
                    let want: Vec<String> = e.servers.iter().map(|s| s.0.clone()).collect();
                    if sorted(server_urls(&lb)) == sorted(want) {
                        status_of(&lb, &name, &mut errors);
                    } else {
                        pending.push(format!("`{name}` does not have the plan's servers yet"));
                    }
                }
            }
        }
        let router_name = format!("{}@rest", self.router_name);
        match self
            .get(&format!("/api/http/routers/{router_name}"))
            .await?
        {
            None => pending.push(format!("router `{router_name}` does not exist yet")),
            Some(r) => {
                let service = r["service"].as_str().unwrap_or_default();
                if r["rule"].as_str() == Some(self.router.rule.as_str())
                    && service.split('@').next() == Some(self.service.as_str())
                {
                    status_of(&r, &router_name, &mut errors);
                } else {
                    pending.push(format!(
                        "router `{router_name}` does not have the plan's rule yet"
                    ));
                }
            }
        }
        if pending.is_empty() && !errors.is_empty() {
            return Err(TraefikError::Rejected(errors.join("; ")).into());
        }
        if pending.is_empty() {
            Ok(Ok(()))
        } else {
            pending.extend(errors);
            Ok(Err(pending.join("; ")))
        }
    }

    /// Polls until the configuration for `weights` is live and enabled, or the apply timeout.
    async fn wait_applied(&self, weights: &[(String, u64)]) -> Result<(), ProviderError> {
        let stop = Instant::now() + self.apply_timeout;
        loop {
            match self.check_applied(weights).await? {
                Ok(()) => return Ok(()),
                Err(detail) if Instant::now() >= stop => {
                    return Err(TraefikError::NotApplied {
                        timeout: self.apply_timeout,
                        detail,
                    }
                    .into())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }

    async fn put_and_wait(&self, weights: &[(String, u64)]) -> Result<(), ProviderError> {
        self.put_config(&self.config(weights)).await?;
        self.wait_applied(weights).await?;
        let live = self.read_live().await?;
        *self.live.lock().expect("live lock") = live;
        Ok(())
    }

    fn live_weights(&self, live: &Live) -> Vec<(String, u64)> {
        self.envs
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    live.weights
                        .as_ref()
                        .and_then(|w| w.get(&e.name).copied())
                        .unwrap_or(0),
                )
            })
            .collect()
    }
}

/// Stable and canary per mille for a canary `percent`; both stay above 0 strictly between.
pub fn split_per_mille(percent: f64) -> (u64, u64) {
    let p = percent.clamp(0.0, 100.0);
    let mut c = (p * SCALE / 100.0).round() as u64;
    if p > 0.0 && p < 100.0 {
        c = c.clamp(1, SCALE as u64 - 1);
    }
    (SCALE as u64 - c, c)
}

fn server_urls(lb: &Value) -> Vec<String> {
    lb["loadBalancer"]["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s["url"]
                .as_str()
                .map(|u| u.trim_end_matches('/').to_string())
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    for s in &mut v {
        *s = s.trim_end_matches('/').to_string();
    }
    v.sort();
    v
}

/// Adds Traefik's own error text for an object that is not `enabled`.
fn status_of(obj: &Value, name: &str, errors: &mut Vec<String>) {
    let status = obj["status"].as_str().unwrap_or("unknown");
    let text: Vec<String> = match &obj["error"] {
        Value::Array(a) => a
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    if status != "enabled" || !text.is_empty() {
        errors.push(format!(
            "`{name}` is {status}{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {}", text.join(", "))
            }
        ));
    }
}

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
        format!("traefik {} service {}", self.api, self.service)
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
        *self.live.lock().expect("live lock") = live;
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra: vec![format!("state file {}", self.state.path().display())],
            routing: None,
        })
    }

    fn setup_changes(&self, _snap: &Snapshot) -> Vec<Change> {
        let live = self.live.lock().expect("live lock").clone();
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
            call: self.put_call(&self.live_weights(&live)),
        }]
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        let live = self.live.lock().expect("live lock").clone();
        let weights = self.live_weights(&live);
        if change.call.path != "/api/providers/rest" {
            return Err(ProviderError::State(format!(
                "not a REST provider write: {}",
                change.call
            )));
        }
        self.put_and_wait(&weights).await
    }

    fn traffic_calls(&self, _snap: &Snapshot, to: &Traffic, _record: &Record) -> Vec<Call> {
        self.weights_for(to)
            .map(|w| vec![self.put_call(&w)])
            .unwrap_or_default()
    }

    async fn set_traffic(
        &self,
        _snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let weights = self.weights_for(to)?;
        self.put_and_wait(&weights).await?;
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

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        self.state.lock(me, force)
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        self.state.unlock(me)
    }

    async fn cleanup(&self, _snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_mille_split_rounds_and_keeps_both_sides_alive() {
        assert_eq!(split_per_mille(0.0), (1000, 0));
        assert_eq!(split_per_mille(10.0), (900, 100));
        assert_eq!(split_per_mille(12.5), (875, 125));
        assert_eq!(split_per_mille(0.01), (999, 1));
        assert_eq!(split_per_mille(99.99), (1, 999));
        assert_eq!(split_per_mille(100.0), (0, 1000));
    }

    #[test]
    fn config_is_router_to_weighted_to_one_lb_per_env() {
        let plan: Plan = serde_yaml_ng::from_str(
            r"
apiVersion: bgctl.dev/v1
kind: Rollout
metadata: {name: web}
provider:
  traefik:
    apiUrl: http://127.0.0.1:8081/
    service: app
    stateFile: /tmp/x.json
    router: {rule: 'PathPrefix(`/`)', entryPoints: [web]}
environments:
  blue: {servers: [{url: 'http://127.0.0.1:1'}]}
  green: {servers: [{url: 'http://127.0.0.1:2', weight: 3}]}
strategy: {blueGreen: {activeEnvironment: blue}}
",
        )
        .unwrap();
        let t = Traefik::new(&plan).unwrap();
        let w = t
            .weights_for(&Traffic::Env {
                env: "green".into(),
            })
            .unwrap();
        let c = t.config(&w);
        assert_eq!(c["http"]["routers"]["app"]["service"], "app");
        assert_eq!(
            c["http"]["services"]["app"]["weighted"]["services"],
            json!([{"name": "app-blue", "weight": 0}, {"name": "app-green", "weight": 1000}])
        );
        assert_eq!(
            c["http"]["services"]["app-green"]["loadBalancer"]["servers"],
            json!([{"url": "http://127.0.0.1:2", "weight": 3}])
        );
        assert_eq!(t.probe_targets("blue"), ["127.0.0.1:1"]);
    }
}
