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
//! * **The lock** is a Lease ([`lease`]).
//! * **After a verified promotion**, `oldDeployment: scaleToZero | delete` retires the previous
//!   side's Deployment after `scaleDownDelay` — only if traffic still goes entirely to the new
//!   side at that moment (seed 004's "delete the old deployment"). The delay counts from the
//!   promotion's recorded time. A run killed before the retirement leaves it owed: the record
//!   says `completed` with the old side as `previous` and its Deployment still there, and the
//!   next `plan apply` (or `switch` to the live side) finishes it instead of saying "up to date"
//!   ([`Provider::pending_retire`]). Rollbacks and aborts never retire.

pub mod client;
pub mod lease;
pub mod rollout;
pub mod traffic;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::time::Instant;

use self::client::{Kind, KubeClient, DEPLOYMENT, DESTINATION_RULE};
use self::rollout::Readiness;
use self::traffic::{Router, Side};
use super::{
    Call, Change, EnvState, LockError, LockInfo, PendingRetire, Phase, Provider, ProviderError,
    Record, Snapshot, Traffic,
};
use crate::plan::model::{OldDeployment, Plan};
use crate::providers::{record, write};

/// Annotation prefix for the record and ownership.
pub const ANNOTATION_PREFIX: &str = "bgctl.dev/";
/// How often a write that met a 409 is recomputed and retried.
const ATTEMPTS: usize = 5;
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

    fn traffic_of(&self, obj: Option<&Value>, record: &Record) -> Traffic {
        let Some(obj) = obj else {
            return Traffic::Missing;
        };
        let names = match (&record.stable, &record.canary) {
            (Some(s), Some(c)) => Some((s.as_str(), c.as_str())),
            _ => self.canary.as_ref().map(|(s, c)| (s.as_str(), c.as_str())),
        };
        traffic::read(self.router, obj, &self.sides(), names)
    }

    fn owner_check(&self, obj: &Value) -> Result<(), ProviderError> {
        match obj["metadata"]["annotations"][format!("{ANNOTATION_PREFIX}owner")].as_str() {
            Some(owner) if owner != self.rollout => Err(ProviderError::State(format!(
                "{} `{}` belongs to rollout `{owner}` (annotation `{ANNOTATION_PREFIX}owner`), not `{}`",
                self.kind.kind, self.object, self.rollout
            ))),
            _ => Ok(()),
        }
    }

    /// The whole merge patch for the traffic object: precondition, record and (optionally) the
    /// routing change, in one write.
    fn traffic_patch(
        &self,
        obj: &Value,
        to: Option<&Traffic>,
        record: &Record,
    ) -> Result<Value, ProviderError> {
        self.owner_check(obj)?;
        let mut patch = json!({"metadata": {
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "annotations": self.record_annotations(obj, record),
        }});
        if let Some(to) = to {
            let sides = self.sides();
            let want = traffic::desired(to, &sides).map_err(ProviderError::State)?;
            if let Some(spec) =
                traffic::spec_patch(self.router, obj, &sides, &want).map_err(|e| {
                    ProviderError::State(format!("{} `{}`: {e}", self.kind.kind, self.object))
                })?
            {
                patch["spec"] = spec;
            }
        }
        Ok(patch)
    }

    /// `bgctl.dev/*` annotations for `record`; keys the record leaves empty are removed.
    fn record_annotations(&self, obj: &Value, record: &Record) -> Value {
        let mut out = Map::new();
        if let Some(live) = obj["metadata"]["annotations"].as_object() {
            for k in live.keys().filter(|k| k.starts_with(ANNOTATION_PREFIX)) {
                out.insert(k.clone(), Value::Null);
            }
        }
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.insert(format!("{ANNOTATION_PREFIX}{k}"), Value::String(v));
            }
        };
        put("owner", Some(self.rollout.clone()));
        // The record's fields ([`record::encode`]); a list is one annotation, one item a line.
        for f in record::encode(record) {
            put(&f.key, Some(f.values.join("\n")));
        }
        Value::Object(out)
    }

    /// Writes `to` and `record` into the traffic object with a patch conditional on the
    /// `resourceVersion` it was computed from: first from `given` (the object the snapshot
    /// read), then, after a 409 or a write whose answer was lost, from a fresh read
    /// ([`write::converge`]). A repeat after a lost answer sends the same routing and record,
    /// never applied on top of a change someone else made.
    async fn write_traffic(
        &self,
        given: Option<&Value>,
        to: Option<&Traffic>,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let given = Mutex::new(given.cloned());
        write::converge(
            || async {
                let taken = given.lock().expect("given lock").take();
                let obj = match taken {
                    Some(obj) => obj,
                    None => self.client.get(&self.kind, &self.object).await?.ok_or_else(|| {
                        ProviderError::State(format!(
                            "{} `{}` does not exist in namespace `{}`; create it first (bgctl changes its routing, it does not create it)",
                            self.kind.kind,
                            self.object,
                            self.ns()
                        ))
                    })?,
                };
                Ok(write::Step::Write(self.traffic_patch(&obj, to, record)?))
            },
            |patch| async move {
                match self
                    .client
                    .merge_patch(&self.kind, &self.object, &patch)
                    .await
                {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if e.is_conflict() => {
                        tracing::info!(
                            "{} `{}` changed since it was read (409); re-reading",
                            self.kind.kind,
                            self.object
                        );
                        Ok(write::Written::Conflict)
                    }
                    Err(e) if e.outcome_unknown() => Ok(write::Written::Unknown(e.into())),
                    Err(e) => Err(e.into()),
                }
            },
            "the traffic object kept changing (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }

    /// Istio: every environment that gets traffic must have its subset in the DestinationRule.
    async fn check_subsets(&self, to: &Traffic) -> Result<(), ProviderError> {
        let Some(dr) = &self.destination_rule else {
            return Ok(());
        };
        let want = traffic::desired(to, &self.sides()).map_err(ProviderError::State)?;
        let Some(obj) = self.client.get(&DESTINATION_RULE, dr).await? else {
            return Err(ProviderError::State(format!(
                "DestinationRule `{dr}` does not exist in namespace `{}`",
                self.ns()
            )));
        };
        let subsets: Vec<&str> = obj["spec"]["subsets"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
            .unwrap_or_default();
        for e in &self.envs {
            let Some(subset) = &e.side.subset else {
                continue;
            };
            if want.get(&e.side.env).copied().unwrap_or(0) > 0
                && !subsets.contains(&subset.as_str())
            {
                return Err(ProviderError::State(format!(
                    "DestinationRule `{dr}` has no subset `{subset}` (environment `{}`); it defines {}",
                    e.side.env,
                    if subsets.is_empty() { "none".to_string() } else { subsets.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ") }
                )));
            }
        }
        Ok(())
    }

    /// Contour root `includes`: the child HTTPProxy of every environment about to get traffic
    /// must exist and must not be `invalid` (Contour's `status.currentStatus`; `orphaned` is
    /// what a child nobody includes yet looks like, so it is fine).
    async fn check_children(&self, to: &Traffic) -> Result<(), ProviderError> {
        if self.router != Router::HttpProxyInclude {
            return Ok(());
        }
        let want = traffic::desired(to, &self.sides()).map_err(ProviderError::State)?;
        let root_ns = self.ns();
        for e in &self.envs {
            let Some(inc) = &e.side.include else {
                continue;
            };
            if want.get(&e.side.env).copied().unwrap_or(0) == 0 {
                continue;
            }
            let ns = inc.namespace.as_deref().unwrap_or(&root_ns);
            let Some(child) = self
                .client
                .get_in(&client::HTTP_PROXY, ns, &inc.name)
                .await?
            else {
                return Err(ProviderError::State(format!(
                    "HTTPProxy `{}` (the child of environment `{}`) does not exist in namespace `{ns}`; create it before switching `{}` to it; traffic was not moved",
                    inc.name, e.side.env, self.object
                )));
            };
            if child["status"]["currentStatus"].as_str() == Some("invalid") {
                return Err(ProviderError::State(format!(
                    "HTTPProxy `{ns}/{}` (the child of environment `{}`) is invalid according to Contour: {}; traffic was not moved",
                    inc.name,
                    e.side.env,
                    child["status"]["description"]
                        .as_str()
                        .filter(|d| !d.is_empty())
                        .unwrap_or("(no description)")
                )));
            }
        }
        Ok(())
    }

    /// The manifest as bgctl wants it live (owner annotation added, namespace checked).
    fn desired_deployment(&self, env: &EnvSpec) -> Result<Option<Value>, ProviderError> {
        let Some(m) = &env.manifest else {
            return Ok(None);
        };
        let mut m = m.clone();
        let ns = self.ns();
        if let Some(theirs) = m["metadata"]["namespace"].as_str() {
            if theirs != ns {
                return Err(ProviderError::State(format!(
                    "the manifest of `{}` is for namespace `{theirs}`, but the plan uses `{ns}`",
                    env.side.env
                )));
            }
        }
        if let Some(meta) = m["metadata"].as_object_mut() {
            meta.remove("namespace");
        }
        m["metadata"]["annotations"][format!("{ANNOTATION_PREFIX}owner")] = json!(self.rollout);
        Ok(Some(m))
    }

    /// The fields of a manifest that bgctl converges (only those the manifest sets: a merge
    /// patch with `null` would delete them).
    fn managed_fields(m: &Value) -> Value {
        let mut meta = Map::new();
        for key in ["labels", "annotations"] {
            if let Some(v) = m["metadata"].get(key).filter(|v| !v.is_null()) {
                meta.insert(key.into(), v.clone());
            }
        }
        let mut out = json!({ "metadata": meta });
        if let Some(spec) = m.get("spec").filter(|v| !v.is_null()) {
            out["spec"] = spec.clone();
        }
        out
    }

    fn deployment_change(&self, env: &EnvSpec, live: Option<&Value>) -> Option<Change> {
        let want = self.desired_deployment(env).ok()??;
        let ns = self.ns();
        match live {
            None => Some(Change {
                action: "create",
                entity: "deployment",
                name: env.deployment.clone(),
                detail: format!("from the manifest of `{}`", env.side.env),
                call: Call {
                    method: "POST".into(),
                    path: DEPLOYMENT.path(&ns, None),
                    body: Some(want),
                    idempotent: true,
                },
            }),
            Some(live) => {
                let fields = Kubernetes::managed_fields(&want);
                if rollout::contains(live, &fields) {
                    return None;
                }
                let mut patch = fields;
                patch["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
                Some(Change {
                    action: "update",
                    entity: "deployment",
                    name: env.deployment.clone(),
                    detail: format!("converge to the manifest of `{}`", env.side.env),
                    call: Call {
                        method: "PATCH".into(),
                        path: DEPLOYMENT.path(&ns, Some(&env.deployment)),
                        body: Some(patch),
                        idempotent: true,
                    },
                })
            }
        }
    }

    /// Creates or converges one environment's Deployment, re-reading after a 409.
    async fn converge_deployment(&self, env: &EnvSpec) -> Result<(), ProviderError> {
        for attempt in 1..=ATTEMPTS {
            let live = self.client.get(&DEPLOYMENT, &env.deployment).await?;
            let Some(change) = self.deployment_change(env, live.as_ref()) else {
                return Ok(());
            };
            let body = change.call.body.clone().unwrap_or(Value::Null);
            let result = if live.is_none() {
                self.client.create(&DEPLOYMENT, &body).await
            } else {
                self.client
                    .merge_patch(&DEPLOYMENT, &env.deployment, &body)
                    .await
            };
            match result {
                Ok(_) => return Ok(()),
                Err(e) if (e.is_conflict() || e.is_already_exists()) && attempt < ATTEMPTS => {
                    tracing::info!(
                        attempt,
                        "deployment `{}` changed since it was read; re-reading",
                        env.deployment
                    );
                }
                // No answer, or a server error: the write may have landed. The next attempt
                // reads the Deployment again and finds it converged, or writes again — the
                // create is refused if it exists and the patch is conditional, so a repeat
                // never applies twice.
                Err(e) if e.outcome_unknown() && attempt < ATTEMPTS => {
                    tracing::info!(
                        attempt,
                        "writing deployment `{}` failed ({e}); reading it back",
                        env.deployment
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("the last attempt returns")
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

    /// Scales a Deployment to zero with a conditional merge patch.
    async fn scale_to_zero(&self, name: &str) -> Result<(), ProviderError> {
        for attempt in 1..=ATTEMPTS {
            let Some(d) = self.client.get(&DEPLOYMENT, name).await? else {
                return Ok(());
            };
            let patch = json!({"metadata": {"resourceVersion": d["metadata"]["resourceVersion"]}, "spec": {"replicas": 0}});
            match self.client.merge_patch(&DEPLOYMENT, name, &patch).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() && attempt < ATTEMPTS => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

fn parse_record(obj: Option<&Value>) -> Record {
    let Some(ann) = obj.and_then(|o| o["metadata"]["annotations"].as_object()) else {
        return Record::default();
    };
    record::decode(|key, list| {
        let v = ann
            .get(&format!("{ANNOTATION_PREFIX}{key}"))
            .and_then(Value::as_str);
        match v {
            Some(v) if list => v.lines().map(str::to_string).collect(),
            Some(v) => vec![v.to_string()],
            None => Vec::new(),
        }
    })
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
            extra: Vec::new(),
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

    async fn cleanup(&self, _snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }

    async fn prepare(&self, env: &str, deadline: Instant) -> Result<(), ProviderError> {
        let Some(e) = self.env(env) else {
            return Err(ProviderError::State(format!("unknown environment `{env}`")));
        };
        if e.manifest.is_some() {
            self.converge_deployment(e).await?;
        }
        // Stop waiting a little before the run's deadline, so releasing the Lease still fits.
        let until = deadline
            .checked_sub(DEADLINE_RESERVE)
            .filter(|u| *u > Instant::now())
            .unwrap_or(deadline);
        let mut last = String::from("not read yet");
        loop {
            if Instant::now() >= until {
                return Err(ProviderError::NotReady(format!(
                    "not rolled out before the run's deadline: {last}"
                )));
            }
            let d = match self.client.get(&DEPLOYMENT, &e.deployment).await {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return Err(ProviderError::NotReady(format!(
                        "Deployment `{}` does not exist in namespace `{}`",
                        e.deployment,
                        self.ns()
                    )))
                }
                Err(client::KubeError::Deadline { .. }) => continue,
                Err(err) => return Err(err.into()),
            };
            match rollout::readiness(&d) {
                Readiness::Ready => return Ok(()),
                Readiness::Failed(why) => return Err(ProviderError::NotReady(why)),
                Readiness::Progressing(why) => {
                    tracing::debug!("{why}");
                    last = why;
                    tokio::time::sleep_until((Instant::now() + POLL).min(until)).await;
                }
            }
        }
    }

    async fn retire(
        &self,
        old: &str,
        live: &str,
        deadline: Instant,
    ) -> Result<Vec<String>, ProviderError> {
        if self.old == OldDeployment::Keep {
            return Ok(Vec::new());
        }
        let Some(e) = self.env(old) else {
            return Ok(Vec::new());
        };
        // Already retired (a run that resumed after the promotion): nothing to wait for.
        if self.client.get(&DEPLOYMENT, &e.deployment).await?.is_none() {
            return Ok(Vec::new());
        }
        // The delay counts from the promotion as recorded, so a run that finishes the
        // retirement of a killed one waits only for what is left of it.
        let recorded = parse_record(self.client.get(&self.kind, &self.object).await?.as_ref());
        let wait = remaining_delay(self.scale_down_delay, recorded.at.as_deref());
        if !wait.is_zero() {
            if Instant::now() + wait > deadline {
                return Err(ProviderError::State(format!(
                    "the run's deadline comes before `scaleDownDelay` ends; `{}` was kept",
                    DEPLOYMENT.display(&e.deployment)
                )));
            }
            tokio::time::sleep(wait).await;
        }
        // Only retire the old side if nothing moved traffic back to it meanwhile.
        let obj = self.client.get(&self.kind, &self.object).await?;
        let record = parse_record(obj.as_ref());
        let now = self.traffic_of(obj.as_ref(), &record);
        if now
            != (Traffic::Env {
                env: live.to_string(),
            })
        {
            return Err(ProviderError::State(format!(
                "traffic no longer goes only to `{live}` ({now}); `{}` was kept",
                DEPLOYMENT.display(&e.deployment)
            )));
        }
        match self.old {
            OldDeployment::Delete => {
                if let Err(err) = self.client.delete(&DEPLOYMENT, &e.deployment, None).await {
                    // A DELETE whose answer was lost may have landed: read back; gone is retired.
                    let gone = err.outcome_unknown()
                        && matches!(self.client.get(&DEPLOYMENT, &e.deployment).await, Ok(None));
                    if !gone {
                        return Err(err.into());
                    }
                }
                Ok(vec![format!(
                    "{} (the old side `{old}`)",
                    DEPLOYMENT.display(&e.deployment)
                )])
            }
            OldDeployment::ScaleToZero => {
                self.scale_to_zero(&e.deployment).await?;
                Ok(vec![format!(
                    "the replicas of {} (scaled to 0; the old side `{old}`)",
                    DEPLOYMENT.display(&e.deployment)
                )])
            }
            OldDeployment::Keep => Ok(Vec::new()),
        }
    }

    fn pending_retire(&self, snap: &Snapshot) -> Option<PendingRetire> {
        let Traffic::Env { env: live } = &snap.traffic else {
            return None;
        };
        let r = &snap.record;
        // Only a promotion retires (a rollback or abort keeps the side it left, for diagnosis).
        let promoted = r.phase == Phase::Completed
            && matches!(r.action.as_deref(), Some("apply" | "switch" | "promote"));
        let old = r.previous.as_deref().filter(|o| promoted && o != live)?;
        let e = self.env(old)?;
        let d = snap
            .live
            .get::<Live>()?
            .deployments
            .get(&e.deployment)
            .cloned()
            .flatten()?;
        let path = DEPLOYMENT.path(&self.ns(), Some(&e.deployment));
        let (action, detail, call) = match self.old {
            OldDeployment::Keep => return None,
            OldDeployment::Delete => (
                "delete",
                "oldDeployment: delete",
                Call {
                    method: "DELETE".into(),
                    path,
                    body: None,
                    idempotent: true,
                },
            ),
            OldDeployment::ScaleToZero => {
                if d["spec"]["replicas"].as_u64() == Some(0) {
                    return None;
                }
                (
                    "update",
                    "oldDeployment: scaleToZero",
                    Call {
                        method: "PATCH".into(),
                        path,
                        body: Some(json!({"spec": {"replicas": 0}})),
                        idempotent: true,
                    },
                )
            }
        };
        Some(PendingRetire {
            old: old.to_string(),
            live: live.clone(),
            change: Change {
                action,
                entity: "deployment",
                name: e.deployment.clone(),
                detail: format!(
                    "retire the old side `{old}` ({detail}); the promotion to `{live}` did not finish it"
                ),
                call,
            },
        })
    }
}

/// What is left of `delay` since the promotion recorded at `at` (RFC 3339, whole seconds; one
/// second is added back so the truncation never shortens the delay). The whole delay when `at`
/// is missing or unreadable.
fn remaining_delay(delay: Duration, at: Option<&str>) -> Duration {
    let Some(at) = at.and_then(|a| humantime::parse_rfc3339(a).ok()) else {
        return delay;
    };
    let elapsed = std::time::SystemTime::now()
        .duration_since(at)
        .unwrap_or_default();
    delay.saturating_sub(elapsed.saturating_sub(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_down_delay_counts_from_the_recorded_promotion() {
        let delay = Duration::from_secs(30);
        let at = |ago: u64| {
            humantime::format_rfc3339_seconds(
                std::time::SystemTime::now() - Duration::from_secs(ago),
            )
            .to_string()
        };
        assert_eq!(remaining_delay(delay, None), delay);
        assert_eq!(remaining_delay(delay, Some("yesterday")), delay);
        // Just recorded: the whole delay (the record's whole seconds never shorten it).
        assert!(remaining_delay(delay, Some(&at(0))) >= Duration::from_secs(29));
        let left = remaining_delay(delay, Some(&at(20)));
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(11),
            "{left:?}"
        );
        assert_eq!(remaining_delay(delay, Some(&at(600))), Duration::ZERO);
    }
}
