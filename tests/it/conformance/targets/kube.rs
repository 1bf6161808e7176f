//! Kubernetes through kube-sim (in this process, a kubeconfig in the temp dir), once per
//! router: a Service selector, a Gateway API HTTPRoute, Contour HTTPProxy weights, a Contour
//! root's `includes`, and an Istio VirtualService. Each starts with blue's objects serving (the
//! traffic object is the user's; bgctl only patches it). kube-sim's request log gives the
//! writes; its fault rules have no `skip`, so write `k` is armed with a zero-delay rule that
//! absorbs the earlier writes with the same method and path, then the fault; it has been met
//! when every rule is used up. A hung request is logged only once answered (never, here).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube_sim::KubeSim;
use serde_json::{json, Value};

use crate::conformance::run::unique;
use crate::conformance::target::{
    stderr, Cap, Fault, ObjectRoute, PlanSpec, Target, Traffic, Write,
};
use crate::harness::render;

pub const SELECTOR: usize = 0;
pub const GATEWAY: usize = 1;
pub const CONTOUR_WEIGHTS: usize = 2;
pub const CONTOUR_INCLUDES: usize = 3;
pub const ISTIO: usize = 4;

/// Kubernetes with router `R` (one of the constants above).
pub struct Kube<const R: usize> {
    pub sim: KubeSim,
    dir: tempfile::TempDir,
}

pub type Selector = Kube<SELECTOR>;
pub type Gateway = Kube<GATEWAY>;
pub type ContourWeights = Kube<CONTOUR_WEIGHTS>;
pub type ContourIncludes = Kube<CONTOUR_INCLUDES>;
pub type Istio = Kube<ISTIO>;

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

fn no_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

impl<const R: usize> Kube<R> {
    fn ns() -> &'static str {
        match R {
            CONTOUR_WEIGHTS | CONTOUR_INCLUDES => "marketing",
            _ => "default",
        }
    }

    fn rollout() -> &'static str {
        match R {
            SELECTOR => "myapp",
            GATEWAY => "myapp-gateway",
            CONTOUR_WEIGHTS | CONTOUR_INCLUDES => "blog",
            _ => "myapp-istio",
        }
    }

    /// The Deployment of a side.
    pub fn deployment_of(env: &str) -> &'static str {
        match (R, env) {
            (SELECTOR, "blue") => "blue",
            (SELECTOR, _) => "green",
            (CONTOUR_WEIGHTS | CONTOUR_INCLUDES, "blue") => "blog-blue",
            (CONTOUR_WEIGHTS | CONTOUR_INCLUDES, _) => "blog-green",
            (_, "blue") => "myapp-v1",
            _ => "myapp-v2",
        }
    }

    pub fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<Value> {
        self.sim.get(api_version, kind, Self::ns(), name)
    }

    pub fn has_deployment(&self, env: &str) -> bool {
        self.get("apps/v1", "Deployment", Self::deployment_of(env))
            .is_some()
    }

    pub fn lease(&self) -> Option<Value> {
        self.get(
            "coordination.k8s.io/v1",
            "Lease",
            &format!("{}-bgctl-lock", Self::rollout()),
        )
    }

    fn deployment(&self, name: &str, labels: &Value) {
        self.sim.put_object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": Self::ns()},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": format!("{name}:1")}]}}}
        }));
        self.sim.tick();
    }

    fn objects(&self) {
        let v = |version: &str| json!({"app": "myapp", "version": version});
        match R {
            SELECTOR => {
                self.deployment("blue", &v("v1"));
                self.sim.put_object(json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "myapp-service", "namespace": "default"},
                    "spec": {"selector": v("v1"),
                             "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
                }));
            }
            GATEWAY => {
                self.deployment("myapp-v1", &v("v1"));
                self.deployment("myapp-v2", &v("v2"));
                self.sim.put_object(json!({
                    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                    "metadata": {"name": "myapp", "namespace": "default"},
                    "spec": {"parentRefs": [{"name": "gw"}], "rules": [
                        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                         "backendRefs": [{"name": "myapp-v1", "port": 8080}]}]}
                }));
            }
            CONTOUR_WEIGHTS | CONTOUR_INCLUDES => {
                self.deployment("blog-blue", &json!({"app": "blog", "color": "blue"}));
                self.deployment("blog-green", &json!({"app": "blog", "color": "green"}));
                let child = |name: &str, service: &str, status: &str| {
                    json!({
                        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
                        "metadata": {"name": name, "namespace": "marketing"},
                        "spec": {"routes": [{"conditions": [{"prefix": "/blog"}],
                                             "services": [{"name": service, "port": 80}]}]},
                        "status": {"currentStatus": status, "description": format!("{status} HTTPProxy")}
                    })
                };
                self.sim.put_object(child("blog", "blue", "valid"));
                if R == CONTOUR_INCLUDES {
                    self.sim.put_object(child("blog2", "green", "orphaned"));
                    self.sim.put_object(json!({
                        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
                        "metadata": {"name": "root-blog", "namespace": "marketing"},
                        "spec": {"virtualhost": {"fqdn": "blog.example"},
                                 "includes": [
                                     {"name": "docs", "namespace": "docs", "conditions": [{"prefix": "/docs"}]},
                                     {"name": "blog", "namespace": "marketing", "conditions": [{"prefix": "/blog"}]}]}
                    }));
                }
            }
            _ => {
                self.deployment("myapp-v1", &v("v1"));
                self.deployment("myapp-v2", &v("v2"));
                self.sim.put_object(json!({
                    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                    "metadata": {"name": "myapp", "namespace": "default"},
                    "spec": {"hosts": ["myapp"], "http": [{"route": [
                        {"destination": {"host": "myapp", "subset": "v1"}}]}]}
                }));
                self.sim.put_object(json!({
                    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                    "metadata": {"name": "myapp", "namespace": "default"},
                    "spec": {"host": "myapp", "subsets": [
                        {"name": "v1", "labels": {"version": "v1"}},
                        {"name": "v2", "labels": {"version": "v2"}}]}
                }));
            }
        }
    }

    /// The user's rule: the last of the list (the objects start with one rule, and bgctl places
    /// its header and mirror rules first); `Null` when the list is absent (a record-only patch).
    fn user_rule<'a>(obj: &'a Value, key: &str) -> &'a Value {
        obj["spec"][key]
            .as_array()
            .and_then(|l| l.last())
            .unwrap_or(&Value::Null)
    }

    /// The routing object: (apiVersion, kind, name, list key).
    fn router() -> Option<(&'static str, &'static str, &'static str, &'static str)> {
        match R {
            GATEWAY => Some((
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                "myapp",
                "rules",
            )),
            CONTOUR_WEIGHTS => Some(("projectcontour.io/v1", "HTTPProxy", "blog", "routes")),
            ISTIO => Some(("networking.istio.io/v1", "VirtualService", "myapp", "http")),
            _ => None,
        }
    }

    /// Indexes and names of the rules bgctl owns: named `bgctl-…`, or unnamed within the
    /// `bgctl.dev/owned-routes` annotation's count at the front (Contour routes have no name).
    fn owned_rules(obj: &Value, key: &str) -> Vec<(usize, String)> {
        let listed: Vec<&str> = obj["metadata"]["annotations"]["bgctl.dev/owned-routes"]
            .as_str()
            .map(|s| s.lines().collect())
            .unwrap_or_default();
        obj["spec"][key]
            .as_array()
            .map(|l| {
                l.iter()
                    .enumerate()
                    .filter_map(|(i, r)| match r["name"].as_str() {
                        Some(n) if n.starts_with("bgctl-") => Some((i, n.to_string())),
                        Some(_) => None,
                        None => listed.get(i).map(|n| (i, (*n).to_string())),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (blue weight, green weight) of a weighted list; a missing weight counts 1 (Gateway API;
    /// one entry alone takes everything either way).
    fn weighted(list: &Value, side: impl Fn(&Value) -> Option<bool>) -> Traffic {
        let (mut blue, mut green) = (0u64, 0u64);
        for e in list.as_array().expect("weighted list") {
            let w = e["weight"].as_u64().unwrap_or(1);
            match side(e) {
                Some(false) => blue += w,
                Some(true) => green += w,
                None => panic!("foreign entry {e} in {list}"),
            }
        }
        assert!(blue + green > 0, "no weight at all: {list}");
        assert_eq!(
            100 * green % (blue + green),
            0,
            "not a whole-percent split: {list}"
        );
        match 100 * green / (blue + green) {
            0 => Traffic::Blue,
            100 => Traffic::Green,
            p => Traffic::Split(p as f64),
        }
    }

    /// Every landed write to the traffic object set one of the `planned` green percents.
    fn assert_planned_writes(&self, planned: &[u64], ctx: &str) {
        for r in self
            .sim
            .requests()
            .iter()
            .filter(|r| r.status == 200 && r.method == "PATCH")
        {
            let body = r.json().unwrap_or_default();
            // A header/mirror route write (it sets or clears the owned-routes annotation, which
            // traffic writes never touch) moves no weight.
            if body["metadata"]["annotations"]
                .get("bgctl.dev/owned-routes")
                .is_some()
            {
                continue;
            }
            let list = match R {
                GATEWAY if r.path.contains("/httproutes/") => {
                    &Self::user_rule(&body, "rules")["backendRefs"]
                }
                CONTOUR_WEIGHTS if r.path.contains("/httpproxies/") => {
                    &Self::user_rule(&body, "routes")["services"]
                }
                ISTIO if r.path.contains("/virtualservices/") => {
                    &Self::user_rule(&body, "http")["route"]
                }
                _ => continue,
            };
            if let Some(entries) = list.as_array() {
                let w: Vec<u64> = entries
                    .iter()
                    .map(|b| b["weight"].as_u64().unwrap_or(1))
                    .collect();
                assert!(
                    w.len() == 2 && w[0] + w[1] == 100 && planned.contains(&w[1]),
                    "{ctx}: unplanned weights {w:?}"
                );
            }
        }
    }
}

impl<const R: usize> Target for Kube<R> {
    async fn start() -> Self {
        let (sim, dir) = crate::kubernetes::sim_and_workspace().await;
        let k = Kube { sim, dir };
        k.objects();
        k.sim.clear_requests();
        k
    }

    fn caps(&self) -> &'static [Cap] {
        match R {
            SELECTOR | CONTOUR_INCLUDES => &[],
            _ => &[Cap::Canary, Cap::HeaderRoutes, Cap::Mirror],
        }
    }

    /// A PATCH of the traffic object (the record is its annotations), not of the Lease or a
    /// Deployment.
    fn is_traffic_write(&self, w: &Write) -> bool {
        w.method == "PATCH" && !w.path.contains("/leases/") && !w.path.contains("/deployments/")
    }

    const NAME: &'static str = [
        "k8s-selector",
        "k8s-gateway-api",
        "k8s-contour-weights",
        "k8s-contour-includes",
        "k8s-istio",
    ][R];

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "KUBECONFIG".into(),
                self.dir.path().join("kubeconfig").display().to_string(),
            ),
            ("SCALE_DOWN_DELAY".into(), "0s".into()),
        ]
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let (router, envs) = match R {
            SELECTOR => (
                "    service: {name: myapp-service}\n    scaleDownDelay: 0s\n    oldDeployment: delete\n",
                "  blue: {deployment: blue, selector: {app: myapp, version: v1}, manifest: k8s/blue.yaml}\n  green: {deployment: green, selector: {app: myapp, version: v2}, manifest: k8s/green.yaml}\n",
            ),
            GATEWAY => (
                "    gatewayApi: {httpRoute: myapp}\n",
                "  blue: {deployment: myapp-v1, selector: {app: myapp, version: v1}, service: myapp-v1}\n  green: {deployment: myapp-v2, selector: {app: myapp, version: v2}, service: myapp-v2}\n",
            ),
            CONTOUR_WEIGHTS => (
                "    contour: {httpProxy: blog}\n",
                "  blue: {deployment: blog-blue, service: blue}\n  green: {deployment: blog-green, service: green}\n",
            ),
            CONTOUR_INCLUDES => (
                "    contour: {httpProxy: root-blog}\n",
                "  blue: {deployment: blog-blue, include: {name: blog}}\n  green: {deployment: blog-green, include: {name: blog2}}\n",
            ),
            _ => (
                "    istio: {virtualService: myapp, destinationRule: myapp}\n",
                "  blue: {deployment: myapp-v1, selector: {app: myapp, version: v1}, service: myapp, subset: v1}\n  green: {deployment: myapp-v2, selector: {app: myapp, version: v2}, service: myapp, subset: v2}\n",
            ),
        };
        let text = format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata:\n  name: {}\nprovider:\n  kubernetes:\n    namespace: {}\n{router}{}environments:\n{envs}{}",
            Self::rollout(),
            Self::ns(),
            super::kong::provider_lines(&spec.provider),
            spec.tail(""),
        );
        let path = self.dir().join(format!("plan-{}.yaml", unique()));
        std::fs::write(&path, text).expect("write plan");
        path
    }

    async fn lock_present(&self) -> bool {
        self.lease().is_some_and(|l| {
            l["spec"]["holderIdentity"]
                .as_str()
                .is_some_and(|h| !h.is_empty())
        })
    }

    async fn traffic(&self) -> Traffic {
        match R {
            SELECTOR => {
                let svc = self.get("v1", "Service", "myapp-service").expect("service");
                let sel = &svc["spec"]["selector"];
                if *sel == json!({"app": "myapp", "version": "v1"}) {
                    Traffic::Blue
                } else if *sel == json!({"app": "myapp", "version": "v2"}) {
                    Traffic::Green
                } else {
                    panic!("half-written selector: {sel}")
                }
            }
            GATEWAY => {
                let route = self
                    .get("gateway.networking.k8s.io/v1", "HTTPRoute", "myapp")
                    .expect("route");
                Self::weighted(
                    &Self::user_rule(&route, "rules")["backendRefs"],
                    |e| match e["name"].as_str() {
                        Some("myapp-v1") => Some(false),
                        Some("myapp-v2") => Some(true),
                        _ => None,
                    },
                )
            }
            CONTOUR_WEIGHTS => {
                let proxy = self
                    .get("projectcontour.io/v1", "HTTPProxy", "blog")
                    .expect("HTTPProxy");
                Self::weighted(
                    &Self::user_rule(&proxy, "routes")["services"],
                    |e| match e["name"].as_str() {
                        Some("blue") => Some(false),
                        Some("green") => Some(true),
                        _ => None,
                    },
                )
            }
            CONTOUR_INCLUDES => {
                let root = self
                    .get("projectcontour.io/v1", "HTTPProxy", "root-blog")
                    .expect("root-blog");
                let includes = root["spec"]["includes"].as_array().expect("includes");
                assert_eq!(includes.len(), 2, "{root}");
                assert_eq!(
                    includes[0]["name"], "docs",
                    "the other include is kept: {root}"
                );
                match includes[1]["name"].as_str() {
                    Some("blog") => Traffic::Blue,
                    Some("blog2") => Traffic::Green,
                    other => panic!("half-written include {other:?}: {root}"),
                }
            }
            _ => {
                let vs = self
                    .get("networking.istio.io/v1", "VirtualService", "myapp")
                    .expect("VirtualService");
                Self::weighted(&Self::user_rule(&vs, "http")["route"], |e| {
                    match e["destination"]["subset"].as_str() {
                        Some("v1") => Some(false),
                        Some("v2") => Some(true),
                        _ => None,
                    }
                })
            }
        }
    }

    fn writes(&self) -> Vec<Write> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| is_write(&r.method))
            .map(|r| Write {
                path: no_query(&r.path).to_string(),
                answered: !r.aborted,
                method: r.method,
            })
            .collect()
    }

    fn clear_log(&self) {
        self.sim.clear_requests();
    }

    fn arm(&self, reference: &[Write], k: usize, fault: Fault) {
        let Write { method, path, .. } = &reference[k];
        let skip = reference[..k]
            .iter()
            .filter(|w| &w.method == method && &w.path == path)
            .count();
        let faults = self.sim.faults();
        if skip > 0 {
            faults.delay_next(method, path, skip, Duration::ZERO);
        }
        match fault {
            Fault::Hang => faults.hang_next(method, path, 1),
            Fault::LoseAnswer => faults.lose_answer_next(method, path, 1),
            // kube-sim serves a GET of the object: 200, the object as it was.
            Fault::AnswerWithoutApplying | Fault::TurnIntoGet => {
                faults.as_get_next(method, path, 1);
            }
        }
    }

    fn fault_met(&self, reference: &[Write], k: usize, fault: Fault) -> bool {
        if !self.sim.faults().pending().is_empty() {
            return false;
        }
        if fault == Fault::LoseAnswer {
            let lost: Vec<_> = self
                .sim
                .requests()
                .into_iter()
                .filter(|r| r.aborted)
                .collect();
            assert!(
                lost.len() == 1
                    && lost[0].method == reference[k].method
                    && no_query(&lost[0].path) == reference[k].path
                    && lost[0].status < 300,
                "the lost write did not land: {lost:?}"
            );
        }
        true
    }

    fn clear_faults(&self) {
        self.sim.faults().clear();
    }

    fn refuse_next_traffic_write(&self) -> bool {
        let glob = match R {
            SELECTOR => "*/services/myapp-service",
            GATEWAY => "*/httproutes/myapp",
            CONTOUR_WEIGHTS => "*/httpproxies/blog",
            CONTOUR_INCLUDES => "*/httpproxies/root-blog",
            _ => "*/virtualservices/myapp",
        };
        self.sim.faults().fail_next("PATCH", glob, 1, 403);
        true
    }

    async fn owned_routes(&self) -> Vec<String> {
        let Some((api, kind, name, key)) = Self::router() else {
            return Vec::new();
        };
        let obj = self.get(api, kind, name).expect("routing object");
        Self::owned_rules(&obj, key)
            .into_iter()
            .map(|(_, n)| format!("{kind} rule {n}"))
            .collect()
    }

    async fn routed_by_object(&self, header: Option<&str>) -> Option<ObjectRoute> {
        let (api, kind, name, key) = Self::router()?;
        let req = kube_sim::route_eval::Request {
            method: "GET".into(),
            path: if R == CONTOUR_WEIGHTS { "/blog/1" } else { "/" }.into(),
            headers: header
                .map(|v| vec![("X-Canary".to_string(), v.to_string())])
                .unwrap_or_default(),
        };
        let routed = self.sim.route(api, kind, Self::ns(), name, &req)?;
        let obj = self.get(api, kind, name).expect("routing object");
        let weight = |env: &str| -> u64 {
            let backend = match (R, env) {
                (ISTIO, "blue") => "myapp/v1",
                (ISTIO, _) => "myapp/v2",
                (CONTOUR_WEIGHTS, e) => e,
                (_, "blue") => "myapp-v1",
                _ => "myapp-v2",
            };
            routed
                .backends
                .iter()
                .filter(|(n, _)| n == backend)
                .map(|(_, w)| w)
                .sum()
        };
        let owned = Self::owned_rules(&obj, key)
            .iter()
            .any(|(i, _)| *i == routed.rule);
        Some(ObjectRoute {
            blue: weight("blue"),
            green: weight("green"),
            rule: routed.rule,
            owned,
        })
    }

    async fn check_status(&self, st: &Value, ctx: &str) {
        if let Some(holder) = self.lease().and_then(|l| {
            l["spec"]["holderIdentity"]
                .as_str()
                .filter(|h| !h.is_empty())
                .map(str::to_string)
        }) {
            assert!(
                st["lock"]["holder"]
                    .as_str()
                    .is_some_and(|h| holder.starts_with(h)),
                "{ctx}: the Lease is held by `{holder}`, status says {}",
                st["lock"]
            );
        }
        if let Traffic::Split(_) = self.traffic().await {
            assert_eq!(st["traffic"]["canary"], "green", "{ctx}: {st}");
        }
    }

    /// A retirement the killed run owed (`oldDeployment: delete`) is shown as pending.
    async fn after_kill(&self, st: &Value, ctx: &str) {
        let owed = R == SELECTOR
            && self.traffic().await == Traffic::Green
            && st["record"]["phase"] == "completed"
            && self.has_deployment("blue");
        assert_eq!(
            st["pending"]
                .as_str()
                .is_some_and(|p| p.contains("retire the old side `blue`")),
            owed,
            "{ctx}: {st}"
        );
    }

    async fn after_faulted_run(&self, spec: &PlanSpec, out: &std::process::Output, ctx: &str) {
        let mut planned = vec![0, 100];
        if let crate::conformance::target::Strategy::Canary(steps) = &spec.strategy {
            let re = regex::Regex::new(r"setWeight: (\d+)").expect("regex");
            planned.extend(
                re.captures_iter(steps)
                    .map(|c| c[1].parse::<u64>().expect("weight")),
            );
        }
        self.assert_planned_writes(&planned, ctx);
        // The release is retried on a server error: a Lease is left (until it expires) only
        // when the run says so.
        if !stderr(out).contains("could not release the lock") {
            assert!(
                self.lease().is_none(),
                "{ctx}: the Lease outlived the run: {}",
                render(out)
            );
        }
        // ... and a run that says it failed to retire blue while blue is gone is wrong.
        if stderr(out).contains("retiring `blue` failed") {
            assert!(
                self.has_deployment("blue"),
                "{ctx}: blue was deleted: {}",
                render(out)
            );
        }
    }

    /// Blue serves, and its Deployment is there (a rollback brings it back from its manifest).
    async fn after_restore(&self, ctx: &str) {
        let left = self.owned_routes().await;
        assert!(left.is_empty(), "{ctx}: blue serves, but {left:?} are left");
        assert!(
            self.has_deployment("blue"),
            "{ctx}: blue serves, but its Deployment is gone"
        );
    }

    /// `oldDeployment: delete` is finished even when the kill came between the flip and the
    /// delete: the next apply retires blue instead of "up to date".
    async fn after_converge(
        &self,
        _lock_left: bool,
        out: &std::process::Output,
        ctx: &str,
    ) -> String {
        if self.traffic().await == Traffic::Green {
            let left = self.owned_routes().await;
            assert!(left.is_empty(), "{ctx}: promoted, but {left:?} are left");
        }
        if R != SELECTOR || self.traffic().await != Traffic::Green {
            return String::new();
        }
        assert!(self.has_deployment("green"), "{ctx}");
        assert!(
            !self.has_deployment("blue"),
            "{ctx}: blue kept: {}",
            render(out)
        );
        if stderr(out).contains("retire the old side") {
            " (finished retiring blue)".into()
        } else {
            String::new()
        }
    }
}
