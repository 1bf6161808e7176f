//! Kubernetes-only checks under faults (folded from `reliability_k8s.rs`), on kube-sim: what the
//! shared scenarios (`conformance::scenarios`) cannot say for every provider — a lost answer
//! during `rollback`/`abort`, a flaky API server at named fault points (500/503/429, hangs past
//! the request timeout, 409 races, connection resets, a 20 % random rate), and concurrent runs
//! with the Lease. `docs/reliability.md` lists the guarantees and the latest figures; the tests
//! print them (`--nocapture`).
//!
//! kube-sim's fault rules have no `skip`: a request takes the first rule that matches it and
//! still has uses left, and a hung request is only logged once it is answered (never, here). So a
//! kill point is armed with a zero-delay rule that absorbs the earlier writes to the same method
//! and path, followed by a hang rule; the kill point is reached when every rule is used up.
//!
//! Every loop is bounded in count and time, every child is killed by its PID when its guard
//! drops, and kube-sim listens on 127.0.0.1.

#![allow(clippy::wildcard_imports)] // the sections share this module's helpers

mod flaky;
mod locks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube_sim::{FaultAction, KubeSim, LoggedRequest};
use serde_json::{json, Value};

use crate::harness::{render, root};

const NS: &str = "default";
const SERVICE: &str = "myapp-service";
const ROUTE: &str = "myapp";
const ROUTE_API: &str = "gateway.networking.k8s.io/v1";
const LEASE_API: &str = "coordination.k8s.io/v1";

// ---------------------------------------------------------------------------------------------
// The cluster, plans and processes
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// Seed 004: blue serves behind `myapp-service`; `plan apply` creates green from its
    /// manifest, flips the selector and deletes blue (`scaleDownDelay: 0s`).
    Selector,
    /// The Gateway API canary 10 → 50 → 100 (no pauses).
    GatewayCanary,
}

impl Scenario {
    fn lease(self) -> &'static str {
        match self {
            Scenario::Selector => "myapp-bgctl-lock",
            Scenario::GatewayCanary => "myapp-gateway-bgctl-lock",
        }
    }
}

struct Cluster {
    sim: KubeSim,
    dir: tempfile::TempDir,
    scenario: Scenario,
}

impl Cluster {
    /// A fresh kube-sim with the scenario's objects: blue live and rolled out.
    async fn start(scenario: Scenario) -> Cluster {
        let (sim, dir) = crate::kubernetes::sim_and_workspace().await;
        let c = Cluster { sim, dir, scenario };
        match scenario {
            Scenario::Selector => {
                c.deployment("blue", "v1");
                c.sim.put_object(json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": SERVICE, "namespace": NS},
                    "spec": {"selector": {"app": "myapp", "version": "v1"},
                             "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
                }));
            }
            Scenario::GatewayCanary => {
                c.deployment("myapp-v1", "v1");
                c.deployment("myapp-v2", "v2");
                c.sim.put_object(json!({
                    "apiVersion": ROUTE_API, "kind": "HTTPRoute",
                    "metadata": {"name": ROUTE, "namespace": NS},
                    "spec": {"parentRefs": [{"name": "gw"}], "rules": [
                        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                         "backendRefs": [{"name": "myapp-v1", "port": 8080}]}]}
                }));
            }
        }
        c.sim.clear_requests();
        c
    }

    fn deployment(&self, name: &str, version: &str) {
        let labels = json!({"app": "myapp", "version": version});
        self.sim.put_object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": format!("{name}:1")}]}}}
        }));
        self.sim.tick();
    }

    /// Lets the earlier writes of `reference` with write `k`'s method and path through (a
    /// zero-delay rule absorbs them), so the next fault armed on that method and path hits
    /// exactly write `k`. Returns the fault handle to arm it on.
    fn pass_earlier_writes(&self, reference: &[(String, String)], k: usize) -> kube_sim::Faults {
        let (method, path) = &reference[k];
        let skip = reference[..k]
            .iter()
            .filter(|(m, pa)| m == method && pa == path)
            .count();
        let faults = self.sim.faults();
        if skip > 0 {
            faults.delay_next(method, path, skip, Duration::ZERO);
        }
        faults
    }

    /// The scenario's plan, with extra `provider.kubernetes` settings (`key: value` lines).
    fn plan(&self, extra: &[&str]) -> PathBuf {
        let mut lines = String::new();
        for l in extra {
            lines.push_str("    ");
            lines.push_str(l);
            lines.push('\n');
        }
        let text = match self.scenario {
            Scenario::Selector => {
                let t = std::fs::read_to_string(root().join("plans/k8s-service-selector.yaml"))
                    .expect("plan");
                let anchor = "    oldDeployment: delete\n";
                assert!(t.contains(anchor));
                t.replace(anchor, &format!("{anchor}{lines}"))
            }
            Scenario::GatewayCanary => {
                let t = std::fs::read_to_string(root().join("plans/k8s-gateway-api-canary.yaml"))
                    .expect("plan");
                let anchor = "    gatewayApi: {httpRoute: myapp}\n";
                assert!(t.contains(anchor) && t.contains("    steps:\n"));
                // Replace the example's steps (gates, pauses) with three plain weights.
                let t = t.replace(anchor, &format!("{anchor}{lines}"));
                let start = t.find("    steps:\n").expect("steps");
                let rest = &t[start + "    steps:\n".len()..];
                let len: usize = rest
                    .lines()
                    .take_while(|l| l.starts_with("      - "))
                    .map(|l| l.len() + 1)
                    .sum();
                format!(
                    "{}    steps: [{{setWeight: 10}}, {{setWeight: 50}}, {{setWeight: 100}}]\n{}",
                    &t[..start],
                    &rest[len..]
                )
            }
        };
        let path = self.dir.path().join(format!(
            "plan-{}.yaml",
            SPAWNED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).expect("write plan");
        path
    }

    fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_as("tester", args)
    }

    /// Like [`Cluster::spawn`], as another user (whose runs judge a lock of `tester`'s by
    /// expiry only, never by its pid).
    fn spawn_as(&self, user: &str, args: &[&str]) -> Running {
        let n = SPAWNED.fetch_add(1, Ordering::Relaxed);
        let out = self.dir.path().join(format!("out-{n}.txt"));
        let err = self.dir.path().join(format!("err-{n}.txt"));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("USER", user)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("SCALE_DOWN_DELAY", "0s")
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("out file"))
            .stderr(std::fs::File::create(&err).expect("err file"));
        Running {
            child: Some(cmd.spawn().expect("spawn bgctl")),
            out,
            err,
            started: Instant::now(),
        }
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.spawn(args).wait(Duration::from_mins(1)).await.0
    }

    fn writes(&self) -> Vec<LoggedRequest> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| is_write(&r.method))
            .collect()
    }

    fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<Value> {
        self.sim.get(api_version, kind, NS, name)
    }

    fn lease(&self) -> Option<Value> {
        self.get(LEASE_API, "Lease", self.scenario.lease())
    }

    fn has_deployment(&self, name: &str) -> bool {
        self.get("apps/v1", "Deployment", name).is_some()
    }

    /// Where traffic goes, read straight from the traffic object: `(env, green percent)`, where
    /// `env` is `blue`/`green` for all-or-nothing and `split` otherwise. Panics on a half-written
    /// object (a selector that is neither side's, weights that are neither side's nor a split).
    fn truth(&self) -> (&'static str, u64) {
        match self.scenario {
            Scenario::Selector => {
                let svc = self.get("v1", "Service", SERVICE).expect("service");
                let sel = &svc["spec"]["selector"];
                if *sel == json!({"app": "myapp", "version": "v1"}) {
                    ("blue", 0)
                } else if *sel == json!({"app": "myapp", "version": "v2"}) {
                    ("green", 100)
                } else {
                    panic!("half-written selector: {sel}")
                }
            }
            Scenario::GatewayCanary => {
                let route = self.get(ROUTE_API, "HTTPRoute", ROUTE).expect("route");
                let refs = route["spec"]["rules"][0]["backendRefs"]
                    .as_array()
                    .expect("backendRefs");
                let (mut blue, mut green) = (0u64, 0u64);
                for r in refs {
                    // Gateway API: a backendRef without a weight has weight 1.
                    let w = r["weight"].as_u64().unwrap_or(1);
                    match r["name"].as_str() {
                        Some("myapp-v1") => blue += w,
                        Some("myapp-v2") => green += w,
                        other => panic!("foreign backendRef {other:?}: {route}"),
                    }
                }
                assert!(blue + green > 0, "no weight at all: {route}");
                let pct = 100 * green / (blue + green);
                assert_eq!(
                    100 * green % (blue + green),
                    0,
                    "not a whole-percent split: {refs:?}"
                );
                match pct {
                    0 => ("blue", 0),
                    100 => ("green", 100),
                    p => ("split", p),
                }
            }
        }
    }
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

fn no_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

use crate::conformance::run::Running;

static SPAWNED: AtomicUsize = AtomicUsize::new(0);

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `bgctl status -o json` exits 0 and agrees with kube-sim: where traffic goes (and a split has
/// an in-progress record), and the Lease. Returns the status document.
async fn assert_status_truthful(c: &Cluster, plan: &Path, ctx: &str) -> Value {
    let out = c
        .run(&["-o", "json", "status", "--no-probe", "-f", p(plan)])
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{ctx}: status: {}",
        render(&out)
    );
    let st: Value = serde_json::from_slice(&out.stdout).expect("status json");
    let t = &st["traffic"];
    match c.truth() {
        ("split", pct) => {
            assert_eq!(t["kind"], "split", "{ctx}: {st}");
            assert_eq!(t["canary"], "green", "{ctx}: {st}");
            #[allow(clippy::cast_precision_loss)]
            let want = pct as f64;
            assert!(
                (t["percent"].as_f64().unwrap_or(-1.0) - want).abs() < 1e-6,
                "{ctx}: status says {t}, the HTTPRoute has {pct}%"
            );
            let phase = st["record"]["phase"].as_str().unwrap_or_default();
            assert!(
                ["progressing", "paused"].contains(&phase),
                "{ctx}: a split with a `{phase}` record: {st}"
            );
        }
        (env, _) => assert_eq!(
            (t["kind"].as_str(), t["env"].as_str()),
            (Some("env"), Some(env)),
            "{ctx}: {st}"
        ),
    }
    match c.lease().and_then(|l| {
        l["spec"]["holderIdentity"]
            .as_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
    }) {
        Some(holder) => assert!(
            st["lock"]["holder"]
                .as_str()
                .is_some_and(|h| h.starts_with("tester@") && holder.starts_with(h)),
            "{ctx}: the Lease is held by `{holder}`, status says {}",
            st["lock"]
        ),
        None => assert!(st["lock"].is_null(), "{ctx}: phantom lock: {st}"),
    }
    st
}

/// One complete run: its writes (method, path without query) are the kill points.
async fn reference_writes(s: Scenario) -> Vec<(String, String)> {
    let c = Cluster::start(s).await;
    let plan = c.plan(&[]);
    let out = c.run(&["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(0), "reference: {}", render(&out));
    c.writes()
        .into_iter()
        .map(|r| (r.method, no_query(&r.path).to_string()))
        .collect()
}

/// Arms a hang on write `k` of `reference`, starts `plan apply`, waits until that write is
/// pending, SIGKILLs the child and clears the faults. Returns the cluster and plan.
async fn kill_at(s: Scenario, reference: &[(String, String)], k: usize) -> (Cluster, PathBuf) {
    let c = Cluster::start(s).await;
    let plan = c.plan(&[]);
    let (method, path) = &reference[k];
    let faults = c.pass_earlier_writes(reference, k);
    faults.hang_next(method, path, 1);
    let mut child = c.spawn(&["plan", "apply", "--yes", p(&plan)]);
    let ctx = format!("{s:?} kill at write {k} ({method} {path})");
    let mut reached = false;
    for _ in 0..1500 {
        if faults.pending().is_empty() {
            reached = true;
            break;
        }
        assert!(!child.exited(), "{ctx}: bgctl exited before the kill point");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reached, "{ctx}: never reached the kill point");
    // Answered writes so far are exactly the reference's first k (the hung one is not logged).
    let w: Vec<(String, String)> = c
        .writes()
        .into_iter()
        .map(|r| (r.method, no_query(&r.path).to_string()))
        .collect();
    assert_eq!(
        w,
        reference[..k],
        "{ctx}: the writes differ from the reference"
    );
    child.kill();
    let _ = child.wait(Duration::from_secs(10)).await;
    faults.clear();
    (c, plan)
}

/// `plan apply` converges: while a Lease is left (`locked`, from `status`) by a run that is gone,
/// it breaks it saying so (`pid N is not running on this host`) — or, where it exits 5 naming the
/// holder, `--force-unlock` is needed; then traffic is at green, the record `completed`,
/// the plan's `oldDeployment: delete` done, and one more apply makes zero writes. Says how.
async fn converge(c: &Cluster, plan: &Path, locked: bool, ctx: &str) -> String {
    let s = c.scenario;
    let mut out = c.run(&["plan", "apply", "--yes", p(plan)]).await;
    let up_to_date = out.status.code() == Some(0) && stderr(&out).contains("up to date");
    let how = if locked && !up_to_date && out.status.code() != Some(5) {
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
        assert!(
            stderr(&out).contains("breaking the lock of tester@")
                && stderr(&out).contains("is not running on this host"),
            "{ctx}: a killed run's Lease is never silently taken: {}",
            render(&out)
        );
        "dead holder's Lease broken with a message"
    } else if locked && !up_to_date {
        assert!(
            stderr(&out).contains("locked by tester@"),
            "{ctx}: {}",
            render(&out)
        );
        out = c
            .run(&["plan", "apply", "--yes", "--force-unlock", p(plan)])
            .await;
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
        "exit 5, then --force-unlock"
    } else {
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
        if up_to_date {
            "up to date"
        } else {
            "apply"
        }
    };
    assert_eq!(c.truth().0, "green", "{ctx}: not converged after {how}");
    let st = assert_status_truthful(c, plan, ctx).await;
    assert_eq!(st["record"]["phase"], "completed", "{ctx}: {st}");
    let mut how = how.to_string();
    if s == Scenario::Selector {
        assert!(c.has_deployment("green"), "{ctx}");
        // `oldDeployment: delete` is finished even when the kill came between the
        // flip and the delete: the next apply retires blue instead of "up to date".
        assert!(
            !c.has_deployment("blue"),
            "{ctx}: blue kept after {how}: {}",
            render(&out)
        );
        if stderr(&out).contains("retire the old side") {
            how.push_str(" (finished retiring blue)");
        }
    }
    // Converged means idempotent: one more apply writes nothing.
    c.sim.clear_requests();
    let out = c.run(&["plan", "apply", "--yes", p(plan)]).await;
    assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    assert!(
        c.writes().is_empty(),
        "{ctx}: re-apply wrote {:#?}",
        c.writes()
    );
    how
}

/// `rollback` and `abort` whose traffic write lands but loses its answer still succeed: the
/// write is read back and found applied (exit 0, blue serves, `status` agrees, no Lease left).
/// The rollback also brings blue back first (deleted by `oldDeployment: delete`).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_a_lost_answer_during_rollback_and_abort_still_succeeds() {
    let c = Cluster::start(Scenario::Selector).await;
    let plan = c.plan(&[]);
    let out = c.run(&["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(c.truth().0, "green");
    c.sim.faults().lose_answer_next("PATCH", "*/services/*", 1);
    let out = c.run(&["rollback", "--yes", "-f", p(&plan)]).await;
    assert!(c.sim.faults().pending().is_empty(), "the fault was not met");
    c.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "rollback: {}", render(&out));
    assert_eq!(c.truth().0, "blue");
    assert!(c.lease().is_none(), "{}", render(&out));
    assert_status_truthful(&c, &plan, "after rollback").await;

    // A canary killed at its 50 % write (10 % live, recorded), then `abort`.
    let reference = reference_writes(Scenario::GatewayCanary).await;
    let k = reference
        .iter()
        .enumerate()
        .filter(|(_, (m, path))| m == "PATCH" && path.contains("/httproutes/"))
        .nth(1)
        .map(|(k, _)| k)
        .expect("a second HTTPRoute write");
    let (c, plan) = kill_at(Scenario::GatewayCanary, &reference, k).await;
    assert_eq!(c.truth(), ("split", 10));
    c.sim
        .faults()
        .lose_answer_next("PATCH", "*/httproutes/*", 1);
    let out = c
        .run(&["abort", "--yes", "--force-unlock", "-f", p(&plan)])
        .await;
    assert!(c.sim.faults().pending().is_empty(), "the fault was not met");
    c.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "abort: {}", render(&out));
    assert_eq!(c.truth().0, "blue");
    assert!(c.lease().is_none(), "{}", render(&out));
    let st = assert_status_truthful(&c, &plan, "after abort").await;
    assert_eq!(st["record"]["phase"], "aborted", "{st}");
}
