//! Kubernetes through its API server, with no controller installed.
//!
//! * **Environments are workloads**: a Deployment per side (`deployment`), the pod labels that
//!   select it (`selector`), and optionally a `manifest` bgctl applies — created when missing,
//!   converged with a conditional merge patch when a field it sets differs. Before any traffic
//!   moves to a side, [`Provider::prepare`] waits for its Deployment to roll out, judged like
//!   `kubectl rollout status` ([`rollout`]); `ProgressDeadlineExceeded` or the run's deadline
//!   stops the release with the live side untouched.
//! * **One traffic object** moves traffic ([`traffic`]): a Service's selector (blue-green, seeds
//!   002/004), Gateway API HTTPRoute `backendRefs` weights, Contour HTTPProxy `services` weights
//!   or a root HTTPProxy's `includes` entry switched between one child HTTPProxy per
//!   environment (seed 003, blue-green; the child is checked to exist and not be `invalid`
//!   first; the seed's `IngressRoute` CRD is removed upstream and not supported), or Istio
//!   VirtualService `route` weights with the DestinationRule's subsets checked first.
//! * **State lives on that object**: the rollout record and ownership are `bgctl.dev/*`
//!   annotations written in the *same* merge patch as the routing change, so state and traffic
//!   never disagree. Every write carries `metadata.resourceVersion`; a 409 re-reads the object,
//!   recomputes the patch and tries again (a bounded number of times). Custom resources only ever
//!   get JSON merge patches (never strategic merge, which they reject with 415).
//! * **Header routes and mirrors** (issue 16) are bgctl-owned rules placed first in the same
//!   object ([`routes`]), written by the same conditional merge patch; `status` lists them and
//!   `cleanup` removes them once traffic no longer splits (promotion, abort, rollback).
//! * **The lock** is a Lease ([`lease`]).
//! * **After a verified promotion**, `oldDeployment: scaleToZero | delete` retires the previous
//!   side's Deployment after `scaleDownDelay` — only if traffic still goes entirely to the new
//!   side at that moment (seed 004's "delete the old deployment"). The delay counts from the
//!   promotion's recorded time. A run killed before the retirement leaves it owed: the record
//!   says `completed` with the old side as `previous` and its Deployment still there, and the
//!   next `plan apply` (or `switch` to the live side) finishes it instead of saying "up to date"
//!   ([`Provider::pending_retire`]). Rollbacks and aborts never retire.

mod checks;
pub mod client;
mod deploy;
pub mod lease;
mod object;
mod owned;
pub mod rollout;
pub mod routes;
pub mod traffic;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::time::Instant;

use self::client::{Kind, KubeClient, DEPLOYMENT, DESTINATION_RULE};
use self::object::parse_record;
use self::rollout::Readiness;
use self::traffic::{Router, Side};
use super::{
    Call, Change, EnvState, LockError, LockInfo, PendingRetire, Phase, Provider, ProviderError,
    Record, Snapshot, Traffic,
};
use crate::plan::model::{OldDeployment, Plan};
use crate::providers::routes::ActiveRoute;

/// Annotation prefix for the record and ownership.
pub const ANNOTATION_PREFIX: &str = "bgctl.dev/";
/// Poll interval while waiting for a Deployment.
const POLL: Duration = Duration::from_millis(500);
/// Time kept back from the run's deadline when waiting, for the writes that end the run.
const DEADLINE_RESERVE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
struct EnvSpec {
    side: Side,
    deployment: String,
    manifest: Option<Value>,
}

#[derive(Debug, Default, Clone)]
struct Live {
    traffic: Option<Value>,
    deployments: HashMap<String, Option<Value>>,
}

/// The Kubernetes provider for one plan.
pub struct Kubernetes {
    client: KubeClient,
    rollout: String,
    router: Router,
    kind: Kind,
    object: String,
    destination_rule: Option<String>,
    envs: Vec<EnvSpec>,
    lease: String,
    old: OldDeployment,
    scale_down_delay: Duration,
    canary: Option<(String, String)>,
}

/// The connection settings of a plan (for [`KubeClient::new`]).
pub fn conn_spec(plan: &Plan) -> client::ConnSpec {
    let k = plan.kubernetes();
    client::ConnSpec {
        kubeconfig: k.and_then(|k| k.kubeconfig.clone()).map(PathBuf::from),
        context: k.and_then(|k| k.context.clone()),
        namespace: k.and_then(|k| k.namespace.clone()),
        request_timeout: k.and_then(|k| k.request_timeout).map(|d| d.0),
    }
}

/// A Kubernetes object name from a rollout name (lower case, `-` for anything else).
fn dns_name(s: &str) -> String {
    let mut out: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').to_string();
    out.truncate(40);
    out
}

impl Kubernetes {
    fn lease_lock(&self) -> lease::LeaseLock<'_> {
        lease::LeaseLock {
            client: &self.client,
            name: &self.lease,
            rollout: &self.rollout,
        }
    }

    /// A provider for `plan` (validated, with `provider.kubernetes`). Reads the manifests now,
    /// so a missing or mismatched file is reported before anything is written.
    pub fn new(plan: &Plan, client: KubeClient) -> Result<Kubernetes, String> {
        let k = plan
            .kubernetes()
            .ok_or("the plan has no Kubernetes provider")?;
        let (router, kind, object) = if let Some(s) = &k.service {
            (Router::Service, client::SERVICE, s.name.clone())
        } else if let Some(g) = &k.gateway_api {
            (Router::HttpRoute, client::HTTP_ROUTE, g.http_route.clone())
        } else if let Some(c) = &k.contour {
            let router = if plan.environments.values().any(|e| e.include.is_some()) {
                Router::HttpProxyInclude
            } else {
                Router::HttpProxy
            };
            (router, client::HTTP_PROXY, c.http_proxy.clone())
        } else if let Some(i) = &k.istio {
            (
                Router::VirtualService,
                client::VIRTUAL_SERVICE,
                i.virtual_service.clone(),
            )
        } else {
            return Err("no traffic object under `provider.kubernetes`".into());
        };
        let mut envs = Vec::new();
        for (name, e) in &plan.environments {
            let deployment = e.deployment.clone().unwrap_or_else(|| name.clone());
            let selector: BTreeMap<String, String> = e
                .selector
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let manifest = match &e.manifest {
                Some(path) => Some(rollout::load_manifest(
                    std::path::Path::new(path),
                    &deployment,
                    &selector,
                )?),
                None => None,
            };
            envs.push(EnvSpec {
                side: Side {
                    env: name.clone(),
                    selector,
                    service: e.service.clone(),
                    subset: e.subset.clone(),
                    include: e.include.as_ref().map(|i| traffic::Include {
                        name: i.name.clone(),
                        namespace: i.namespace.clone(),
                    }),
                },
                deployment,
                manifest,
            });
        }
        Ok(Kubernetes {
            client,
            rollout: plan.metadata.name.clone(),
            router,
            kind,
            object,
            destination_rule: k.istio.as_ref().and_then(|i| i.destination_rule.clone()),
            envs,
            lease: format!("{}-bgctl-lock", dns_name(&plan.metadata.name)),
            old: k.old_deployment.unwrap_or(OldDeployment::Keep),
            scale_down_delay: k.scale_down_delay.map_or(Duration::ZERO, |d| d.0),
            canary: plan
                .strategy
                .canary
                .as_ref()
                .map(|c| (c.stable.clone(), c.canary.clone())),
        })
    }

    /// The API client.
    pub fn client(&self) -> &KubeClient {
        &self.client
    }

    fn sides(&self) -> Vec<Side> {
        self.envs.iter().map(|e| e.side.clone()).collect()
    }

    fn env(&self, name: &str) -> Option<&EnvSpec> {
        self.envs.iter().find(|e| e.side.env == name)
    }

    fn ns(&self) -> String {
        self.client.namespace()
    }

    fn object_path(&self) -> String {
        self.kind.path(&self.ns(), Some(&self.object))
    }

    async fn read_live(&self) -> Result<Live, ProviderError> {
        let mut live = Live {
            traffic: self.client.get(&self.kind, &self.object).await?,
            ..Live::default()
        };
        for e in &self.envs {
            live.deployments.insert(
                e.deployment.clone(),
                self.client.get(&DEPLOYMENT, &e.deployment).await?,
            );
        }
        Ok(live)
    }
}

fn share(traffic: &Traffic, env: &str) -> u32 {
    match traffic {
        Traffic::Env { env: e } if e == env => 100,
        Traffic::Split {
            stable,
            canary,
            percent,
        } => {
            if canary == env {
                percent.round() as u32
            } else if stable == env {
                (100.0 - percent).round() as u32
            } else {
                0
            }
        }
        _ => 0,
    }
}

impl Provider for Kubernetes {
    fn status_columns(&self) -> [&'static str; 3] {
        ["DEPLOYMENT", "REPLICAS", "TRAFFIC %"]
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} {})",
            self.client.describe(),
            self.kind.kind,
            self.object
        )
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let live = self.read_live().await?;
        let record = parse_record(live.traffic.as_ref());
        let traffic = self.traffic_of(live.traffic.as_ref(), &record);
        let lock = lease::current(&self.client, &self.lease).await?;
        let envs = self
            .envs
            .iter()
            .map(|e| {
                let d = live.deployments.get(&e.deployment).cloned().flatten();
                let summary = d.as_ref().map(rollout::replica_summary);
                (
                    e.side.env.clone(),
                    EnvState {
                        object: DEPLOYMENT.display(&e.deployment),
                        exists: d.is_some(),
                        targets: summary
                            .map(|s| vec![(s, share(&traffic, &e.side.env))])
                            .unwrap_or_default(),
                    },
                )
            })
            .collect();
        let routing = match (&live.traffic, self.router) {
            (Some(obj), Router::HttpProxyInclude) => traffic::describe_include(obj, &self.sides())
                .map(|d| format!("{} `{}` {d}", self.kind.kind, self.object)),
            _ => None,
        };
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra: self.owned_extra(live.traffic.as_ref()),
            routing,
            live: crate::providers::Live::new(live),
        })
    }

    fn setup_changes(&self, _snap: &Snapshot) -> Vec<Change> {
        // Manifests are applied by `prepare`, for the side about to get traffic only: the live
        // side is never modified during a release, and a side retired after an earlier
        // promotion is not brought back by re-applying the plan.
        Vec::new()
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        match change.entity {
            "deployment" => {
                let env = self
                    .envs
                    .iter()
                    .find(|e| e.deployment == change.name)
                    .ok_or_else(|| {
                        ProviderError::State(format!("unknown Deployment `{}`", change.name))
                    })?;
                self.converge_deployment(env).await
            }
            other => Err(ProviderError::State(format!(
                "the Kubernetes provider does not write `{other}` objects"
            ))),
        }
    }

    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        let live = snap.live.get::<Live>().cloned().unwrap_or_default();
        let want = traffic::desired(to, &self.sides()).unwrap_or_default();
        let mut calls: Vec<Call> = self
            .envs
            .iter()
            .filter(|e| want.get(&e.side.env).copied().unwrap_or(0) > 0)
            .filter_map(|e| {
                self.deployment_change(
                    e,
                    live.deployments.get(&e.deployment).and_then(Option::as_ref),
                )
            })
            .map(|c| c.call)
            .collect();
        let Some(obj) = live.traffic else {
            return calls;
        };
        match self.traffic_patch(&obj, Some(to), record) {
            Ok(patch) => calls.push(Call {
                method: "PATCH".into(),
                path: self.object_path(),
                body: Some(patch),
                idempotent: true,
            }),
            Err(e) => tracing::debug!("no traffic call: {e}"),
        }
        calls
    }

    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        // Never send traffic to a side whose Deployment is gone (e.g. retired after an earlier
        // promotion): `switch --to` recreates it from its manifest and waits for it first.
        let want = traffic::desired(to, &self.sides()).map_err(ProviderError::State)?;
        for e in &self.envs {
            if want.get(&e.side.env).copied().unwrap_or(0) > 0
                && self.client.get(&DEPLOYMENT, &e.deployment).await?.is_none()
            {
                return Err(ProviderError::State(format!(
                    "Deployment `{}` of `{}` does not exist in namespace `{}`; traffic was not moved",
                    e.deployment,
                    e.side.env,
                    self.ns()
                )));
            }
        }
        self.check_subsets(to).await?;
        self.check_children(to).await?;
        let given = snap.live.get::<Live>().and_then(|l| l.traffic.as_ref());
        self.write_traffic(given, Some(to), record).await
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.write_traffic(None, None, record).await
    }

    /// Weights are whole percent (Istio requires integers summing to 100).
    fn achieved_split(
        &self,
        _stable: &str,
        _canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        Ok(percent.clamp(0.0, 100.0).round())
    }

    fn probe_targets(&self, _env: &str) -> Vec<String> {
        // Pods are rarely reachable from where bgctl runs; readiness comes from `prepare`.
        Vec::new()
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        lease::acquire(&self.client, &self.lease, &self.rollout, me, force).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        lease::release(&self.client, &self.lease, me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        crate::providers::lock::renew(&self.lease_lock(), me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        crate::providers::lock::holds(&self.lease_lock(), me).await
    }

    async fn prepare(&self, env: &str, deadline: Instant) -> Result<(), ProviderError> {
        self.prepare_env(env, deadline).await
    }

    async fn retire(
        &self,
        old: &str,
        live: &str,
        deadline: Instant,
    ) -> Result<Vec<String>, ProviderError> {
        self.retire_old(old, live, deadline).await
    }

    fn pending_retire(&self, snap: &Snapshot) -> Option<PendingRetire> {
        self.pending_retire_of(snap)
    }

    fn route_calls(&self, snap: &Snapshot, routes: &[ActiveRoute]) -> Vec<Call> {
        let obj = snap.live.get::<Live>().and_then(|l| l.traffic.as_ref());
        self.owned_calls(obj, routes)
    }

    async fn set_routes(
        &self,
        snap: &Snapshot,
        routes: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        let obj = snap.live.get::<Live>().and_then(|l| l.traffic.as_ref());
        self.write_owned(obj, routes).await
    }

    /// Removes the owned header and mirror rules once traffic no longer splits.
    async fn cleanup(&self, snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        if matches!(snap.traffic, Traffic::Split { .. }) || snap.extra.is_empty() {
            return Ok(Vec::new());
        }
        let obj = snap.live.get::<Live>().and_then(|l| l.traffic.as_ref());
        self.write_owned(obj, &[]).await?;
        Ok(snap.extra.clone())
    }
}
