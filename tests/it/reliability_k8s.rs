//! Reliability under faults (issue 8) for the Kubernetes provider: the real binary against
//! kube-sim. A SIGKILL at every API write boundary of a Service selector flip and of a Gateway
//! API weight switch, a lost answer (write stored, connection reset) at every write of those and
//! the canary, a flaky API server (500/503/429, hangs past the request timeout, 409 races,
//! connection resets, a 20 % random rate of 500s or resets), and concurrent runs with the Lease. `docs/reliability.md` lists the guarantees and the
//! latest figures; the tests print them (`--nocapture`).
//!
//! kube-sim's fault rules have no `skip`: a request takes the first rule that matches it and
//! still has uses left, and a hung request is only logged once it is answered (never, here). So a
//! kill point is armed with a zero-delay rule that absorbs the earlier writes to the same method
//! and path, followed by a hang rule; the kill point is reached when every rule is used up.
//!
//! Every loop is bounded in count and time, every child is killed by its PID when its guard
//! drops, and kube-sim listens on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube_sim::{FaultAction, KubeSim, LoggedRequest, SimConfig};
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
    /// A blue-green plan over an HTTPRoute: `plan apply` makes green's weight 100.
    GatewaySwitch,
    /// The Gateway API canary 10 → 50 → 100 (no pauses).
    GatewayCanary,
}

impl Scenario {
    fn lease(self) -> &'static str {
        match self {
            Scenario::Selector => "myapp-bgctl-lock",
            Scenario::GatewaySwitch | Scenario::GatewayCanary => "myapp-gateway-bgctl-lock",
        }
    }
}

struct Cluster {
    sim: KubeSim,
    dir: tempfile::TempDir,
    scenario: Scenario,
}

const GATEWAY_BG: &str = "apiVersion: bgctl.dev/v1
kind: Rollout
metadata:
  name: myapp-gateway
provider:
  kubernetes:
    namespace: default
    gatewayApi: {httpRoute: myapp}
EXTRA
environments:
  blue: {deployment: myapp-v1, selector: {app: myapp, version: v1}, service: myapp-v1}
  green: {deployment: myapp-v2, selector: {app: myapp, version: v2}, service: myapp-v2}
strategy:
  blueGreen:
    activeEnvironment: ${ACTIVE:-green}
";

impl Cluster {
    /// A fresh kube-sim with the scenario's objects: blue live and rolled out.
    async fn start(scenario: Scenario) -> Cluster {
        let sim = KubeSim::start(SimConfig {
            ready_after: Some(Duration::from_millis(100)),
            ..SimConfig::default()
        })
        .await
        .expect("kube-sim");
        let dir = tempfile::tempdir().expect("tempdir");
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        std::fs::create_dir_all(dir.path().join("k8s")).expect("mkdir");
        for m in std::fs::read_dir(root().join("plans/k8s")).expect("plans/k8s") {
            let m = m.expect("entry").path();
            std::fs::copy(&m, dir.path().join("k8s").join(m.file_name().unwrap())).expect("copy");
        }
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
            Scenario::GatewaySwitch | Scenario::GatewayCanary => {
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
            Scenario::GatewaySwitch => GATEWAY_BG.replace("EXTRA\n", &lines),
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
        let n = SPAWNED.fetch_add(1, Ordering::Relaxed);
        let out = self.dir.path().join(format!("out-{n}.txt"));
        let err = self.dir.path().join(format!("err-{n}.txt"));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("USER", "tester")
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
            Scenario::GatewaySwitch | Scenario::GatewayCanary => {
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

use crate::reliability::Running;

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

// ---------------------------------------------------------------------------------------------
// 1. Crash at any point
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Branch {
    /// `rollback` (following its printed command if it needs one) restores blue.
    Restore,
    /// `plan apply` (`--force-unlock` past the killed run's Lease) converges.
    Converge,
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

/// After `rollback`: blue serves. Exit 1 "nothing to roll back to" (killed before the record
/// named a previous side) and exit 2 "already live" are fine when blue serves. Nothing here is
/// uncertain (no faults; the kill came before), so exit 4 fails the case — including after
/// blue's Deployment was deleted: rollback recreates it from its manifest first.
async fn restore(c: &Cluster, plan: &Path, force: bool, ctx: &str) -> String {
    let mut args = vec!["rollback", "--yes", "-f", p(plan)];
    if force {
        args.push("--force-unlock");
    }
    let out = c.run(&args).await;
    let err = stderr(&out);
    let how = match out.status.code() {
        Some(0) if err.contains("bringing it back first") => {
            "rollback (recreated blue from its manifest)".to_string()
        }
        Some(0) => "rollback".to_string(),
        Some(1) if err.contains("nothing to roll back to") => "nothing to roll back".into(),
        Some(2) if err.contains("is already live") => "already live".into(),
        _ => panic!("{ctx}: restore failed: {}", render(&out)),
    };
    assert_eq!(
        c.truth().0,
        "blue",
        "{ctx}: blue does not serve after {how}"
    );
    assert!(
        c.has_deployment(match c.scenario {
            Scenario::Selector => "blue",
            _ => "myapp-v1",
        }),
        "{ctx}: blue serves, but its Deployment is gone"
    );
    how
}

async fn crash_case(s: Scenario, reference: &[(String, String)], k: usize, b: Branch) -> String {
    let (c, plan) = kill_at(s, reference, k).await;
    let ctx = format!(
        "{s:?} kill at write {k} ({} {}), {b:?}",
        reference[k].0, reference[k].1
    );
    let st = assert_status_truthful(&c, &plan, &ctx).await;
    let locked = !st["lock"].is_null();
    // A retirement the killed run owed is shown as pending.
    let owed = s == Scenario::Selector
        && c.truth().0 == "green"
        && st["record"]["phase"] == "completed"
        && c.has_deployment("blue");
    assert_eq!(
        st["pending"]
            .as_str()
            .is_some_and(|p| p.contains("retire the old side `blue`")),
        owed,
        "{ctx}: {st}"
    );
    match b {
        Branch::Restore => {
            let out = c.run(&["rollback", "--yes", "-f", p(&plan)]).await;
            let how = if locked && out.status.code() == Some(5) {
                assert!(
                    stderr(&out).contains("locked by tester@"),
                    "{ctx}: {}",
                    render(&out)
                );
                restore(&c, &plan, true, &ctx).await
            } else {
                // No Lease left, or a restore that needs no lock: judge this run.
                drop(out);
                restore(&c, &plan, false, &ctx).await
            };
            assert_status_truthful(&c, &plan, &ctx).await;
            how
        }
        Branch::Converge => converge(&c, &plan, locked, &ctx).await,
    }
}

/// `plan apply` converges: while a Lease is left (`locked`, from `status`) it exits 5 naming
/// the holder and `--force-unlock` is needed; then traffic is at green, the record `completed`,
/// the plan's `oldDeployment: delete` done, and one more apply makes zero writes. Says how.
async fn converge(c: &Cluster, plan: &Path, locked: bool, ctx: &str) -> String {
    let s = c.scenario;
    let mut out = c.run(&["plan", "apply", "--yes", p(plan)]).await;
    let up_to_date = out.status.code() == Some(0) && stderr(&out).contains("up to date");
    let how = if locked && !up_to_date {
        assert_eq!(
            out.status.code(),
            Some(5),
            "{ctx}: a killed run's Lease is never silently taken: {}",
            render(&out)
        );
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

async fn crash_matrix(s: Scenario) {
    let started = Instant::now();
    let reference = reference_writes(s).await;
    assert!(!reference.is_empty());
    let mut recovered = 0;
    let mut total = 0;
    let mut retired = 0;
    for k in 0..reference.len() {
        for b in [Branch::Restore, Branch::Converge] {
            total += 1;
            let how = crash_case(s, &reference, k, b).await;
            recovered += 1;
            retired += usize::from(how.contains("finished retiring"));
            println!(
                "  {s:?} kill at write {k} ({} {}), {b:?}: {how}",
                reference[k].0, reference[k].1
            );
        }
    }
    println!(
        "k8s crash matrix {s:?}: {} kill points x 2 branches: {recovered}/{total} recovered (traffic, status, Lease, idempotent re-apply); re-applies that finished a killed run's retirement: {retired}; {:.1}s",
        reference.len(),
        started.elapsed().as_secs_f64()
    );
}

/// SIGKILL at every write of seed 004's selector flip (green created from its manifest, the
/// selector flipped, blue deleted): status is truthful, rollback restores blue, re-applying
/// converges (past the killed run's Lease with `--force-unlock`).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_crash_at_every_write_of_a_selector_flip_recovers() {
    crash_matrix(Scenario::Selector).await;
}

/// The same for a Gateway API weight switch (HTTPRoute backendRefs 100/0 → 0/100).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_crash_at_every_write_of_a_gateway_switch_recovers() {
    crash_matrix(Scenario::GatewaySwitch).await;
}

/// Write `k`'s answer is lost: kube-sim stores the write, then resets the connection (the
/// "write landed, answer lost" point a SIGKILL cannot produce). The run keeps the exit-code
/// contract, and `plan apply` then converges (`--force-unlock` only past a Lease the run said it
/// left) with an idempotent re-apply. Returns the exit code and how it converged.
async fn lose_answer_at(s: Scenario, reference: &[(String, String)], k: usize) -> (i32, String) {
    let c = Cluster::start(s).await;
    let plan = c.plan(&[]);
    let (method, path) = &reference[k];
    let faults = c.pass_earlier_writes(reference, k);
    faults.lose_answer_next(method, path, 1);
    let ctx = format!("{s:?} answer lost at write {k} ({method} {path})");
    let (out, took) = c
        .spawn(&["--timeout", "20s", "plan", "apply", "--yes", p(&plan)])
        .wait(Duration::from_secs(40))
        .await;
    let pending = faults.pending();
    faults.clear();
    assert!(
        pending.is_empty(),
        "{ctx}: the run never made that write: {}",
        render(&out)
    );
    let lost: Vec<_> = c.sim.requests().into_iter().filter(|r| r.aborted).collect();
    assert!(
        lost.len() == 1
            && lost[0].method == *method
            && no_query(&lost[0].path) == path
            && lost[0].status < 300,
        "{ctx}: the lost write did not land: {lost:?}"
    );
    assert!(
        took < Duration::from_secs(25),
        "{ctx}: took {took:?} with --timeout 20s"
    );
    let code = assert_contract(&c, &plan, &out, &ctx).await;
    // Every write is read back after an unknown outcome (traffic object, Lease, Deployment
    // create/patch, blue's DELETE) or harmless to repeat: a lost answer never fails the run.
    assert_eq!(code, 0, "{ctx}: {}", render(&out));
    // The write landed: a run that says "nothing was changed" is wrong.
    assert!(
        !stderr(&out).contains("nothing was changed"),
        "{ctx}: the lost write landed: {}",
        render(&out)
    );
    // ... and so is one that says it failed to retire blue when blue is gone.
    if stderr(&out).contains("retiring `blue` failed") {
        assert!(
            c.has_deployment("blue"),
            "{ctx}: blue was deleted: {}",
            render(&out)
        );
    }
    let locked = c.lease().is_some();
    let how = converge(&c, &plan, locked, &ctx).await;
    (code, how)
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

/// A lost answer at every write of the selector flip, the Gateway API switch and the canary.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_a_lost_answer_at_every_write_ends_consistently() {
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut runs = 0;
    for s in [
        Scenario::Selector,
        Scenario::GatewaySwitch,
        Scenario::GatewayCanary,
    ] {
        let reference = reference_writes(s).await;
        for k in 0..reference.len() {
            let (code, how) = lose_answer_at(s, &reference, k).await;
            println!(
                "  {s:?} answer lost at write {k} ({} {}): exit {code}, then {how}",
                reference[k].0, reference[k].1
            );
            *codes.entry(code).or_insert(0) += 1;
            runs += 1;
        }
    }
    println!(
        "k8s lost-answer matrix: {runs} writes, exit codes {codes:?}, {runs}/{runs} converged; {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Flaky API server
// ---------------------------------------------------------------------------------------------

const RUN_TIMEOUT_SECS: u64 = 15;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status(u16),
    /// No answer; the plan's `requestTimeout: 1s` gives up first.
    Hang,
    /// Another writer changes the object between bgctl's read and its write (409).
    Race,
    /// The connection is reset (TCP RST) without an answer; the request is not carried out.
    Reset,
}

/// Where a fault lands: (method, path glob, how many matching requests to let through first).
#[derive(Clone, Copy, Debug)]
struct Point {
    name: &'static str,
    method: &'static str,
    glob: &'static str,
    skip: usize,
}

const LEASE_CREATE: Point = Point {
    name: "lease create",
    method: "POST",
    glob: "*/leases",
    skip: 0,
};
const FIRST_READ: Point = Point {
    name: "first read of the traffic object",
    method: "GET",
    glob: "*/services/myapp-service",
    skip: 0,
};
const DEPLOYMENT_CREATE: Point = Point {
    name: "green Deployment create",
    method: "POST",
    glob: "*/deployments",
    skip: 0,
};
const SELECTOR_FLIP: Point = Point {
    name: "selector flip",
    method: "PATCH",
    glob: "*/services/myapp-service",
    skip: 0,
};
const RETIRE: Point = Point {
    name: "blue Deployment delete",
    method: "DELETE",
    glob: "*/deployments/blue",
    skip: 0,
};
const LEASE_RELEASE: Point = Point {
    name: "lease release",
    method: "DELETE",
    glob: "*/leases/*",
    skip: 0,
};
const ROUTE_10: Point = Point {
    name: "HTTPRoute write 10%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 0,
};
const ROUTE_50: Point = Point {
    name: "HTTPRoute write 50%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 1,
};
const ROUTE_100: Point = Point {
    name: "HTTPRoute write 100%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 2,
};

/// One run under a fault; checks the exit-code contract and the state after it. Returns the
/// exit code and how many requests got an injected fault.
async fn flaky_run(s: Scenario, fault: Fault, at: Point, times: usize) -> (i32, usize) {
    let c = Cluster::start(s).await;
    let plan = c.plan(&["requestTimeout: 1s"]);
    let faults = c.sim.faults();
    if at.skip > 0 {
        faults.delay_next(at.method, at.glob, at.skip, Duration::ZERO);
    }
    let object = match (s, at.method) {
        (Scenario::Selector, "DELETE") => "blue",
        (Scenario::Selector, "POST") => "green",
        (Scenario::Selector, _) => SERVICE,
        _ => ROUTE,
    };
    match fault {
        Fault::Status(code) => faults.fail_next(at.method, at.glob, times, code),
        Fault::Hang => faults.hang_next(at.method, at.glob, times),
        Fault::Reset => faults.reset_next(at.method, at.glob, times),
        Fault::Race => {
            for _ in 0..times {
                c.sim.bump_before_next_write(NS, object);
            }
        }
    }
    let timeout = format!("{RUN_TIMEOUT_SECS}s");
    let child = c.spawn(&["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)]);
    let (out, took) = child.wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30)).await;
    let unused: usize = faults.pending().iter().map(|r| r.times).sum();
    faults.clear();
    let ctx = format!("{s:?} {fault:?} x{times} at {}", at.name);
    assert!(
        took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
        "{ctx}: took {took:?} with --timeout {timeout}"
    );
    let injected = match fault {
        Fault::Status(code) => c.sim.requests().iter().filter(|r| r.status == code).count(),
        Fault::Hang => times - unused.min(times),
        Fault::Race => c.sim.requests().iter().filter(|r| r.status == 409).count(),
        Fault::Reset => c.sim.requests().iter().filter(|r| r.aborted).count(),
    };
    if matches!(fault, Fault::Reset) {
        assert!(injected > 0, "{ctx}: the run never reached the fault point");
    }
    let code = assert_contract(&c, &plan, &out, &ctx).await;
    // Up to three failures in a row at one point are absorbed: reads are tried three times,
    // conditional writes go round a five-attempt re-read loop, the Lease create and release are
    // tried again. Only more (or a 409 race, which is not a failure) may end otherwise.
    if times <= 3 && !matches!(fault, Fault::Race) {
        assert_eq!(code, 0, "{ctx}: {}", render(&out));
    }
    // One failed release is tried again: the run must not leave its Lease behind.
    if at.name == LEASE_RELEASE.name && times == 1 {
        assert!(
            !stderr(&out).contains("could not release the lock") && c.lease().is_none(),
            "{ctx}: {}",
            render(&out)
        );
    }
    // A retirement that failed (blue kept, with a warning) is finished by the next apply.
    if code == 0 && s == Scenario::Selector && c.has_deployment("blue") {
        let again = c.run(&["plan", "apply", "--yes", p(&plan)]).await;
        assert_eq!(again.status.code(), Some(0), "{ctx}: {}", render(&again));
        assert!(
            !c.has_deployment("blue"),
            "{ctx}: the next apply did not retire blue: {}",
            render(&again)
        );
    }
    (code, injected)
}

/// The contract of a run under faults: exit 0 at green, 1 with blue serving, 3 rolled back to
/// blue, 4 with `state:` and a command; the traffic object is exactly one side's (or a planned
/// split); `status` agrees with kube-sim; a Lease outlives the run only when the run says so; every
/// HTTPRoute write that landed set a planned split. Returns the exit code.
async fn assert_contract(c: &Cluster, plan: &Path, out: &Output, ctx: &str) -> i32 {
    let s = c.scenario;
    let code = out.status.code().unwrap_or(-1);
    let err = stderr(out);
    assert!(!err.contains("panicked"), "{ctx}: {}", render(out));
    let (env, _) = c.truth(); // panics when half-written
    match code {
        0 => assert_eq!(
            env,
            "green",
            "{ctx}: exit 0 but not at the end state: {}",
            render(out)
        ),
        1 => assert_eq!(
            env,
            "blue",
            "{ctx}: exit 1 but traffic moved: {}",
            render(out)
        ),
        3 => {
            assert_eq!(
                env,
                "blue",
                "{ctx}: exit 3 but blue does not serve: {}",
                render(out)
            );
            assert!(
                err.contains("rolled back to `blue`"),
                "{ctx}: {}",
                render(out)
            );
        }
        4 => assert!(
            err.contains("state:") && err.contains("to finish by hand: bgctl "),
            "{ctx}: exit 4 must print the state and a command: {}",
            render(out)
        ),
        _ => panic!("{ctx}: undocumented exit: {}", render(out)),
    }
    assert_status_truthful(c, plan, ctx).await;
    // The release is retried on a server error: a Lease is left (until it expires) only when
    // the run says so.
    if !err.contains("could not release the lock") {
        assert!(
            c.lease().is_none(),
            "{ctx}: the Lease outlived the run: {}",
            render(out)
        );
    }
    // Every traffic write that landed set one of the planned splits.
    let planned: &[u64] = match s {
        Scenario::Selector | Scenario::GatewaySwitch => &[0, 100],
        Scenario::GatewayCanary => &[0, 10, 50, 100],
    };
    for r in c
        .writes()
        .iter()
        .filter(|r| r.status == 200 && r.method == "PATCH")
    {
        if r.path.contains("/httproutes/") {
            let body = r.json().expect("json");
            if let Some(refs) = body["spec"]["rules"][0]["backendRefs"].as_array() {
                let w: Vec<u64> = refs
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
    code
}

async fn flaky_matrix(name: &str, cases: &[(Scenario, Fault, Point, usize)]) {
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut injected = 0;
    for &(s, f, at, times) in cases {
        let (code, n) = flaky_run(s, f, at, times).await;
        println!(
            "  {name}: {s:?} {f:?} x{times} at {}: exit {code}, {n} injected",
            at.name
        );
        *codes.entry(code).or_insert(0) += 1;
        injected += n;
    }
    println!(
        "k8s flaky matrix {name}: {} runs, {injected} faults injected, exit codes {codes:?}, {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
}

fn cases_for(f: Fault) -> Vec<(Scenario, Fault, Point, usize)> {
    use Scenario::{GatewayCanary, Selector};
    vec![
        (Selector, f, LEASE_CREATE, 1),
        (Selector, f, FIRST_READ, 2),
        (Selector, f, DEPLOYMENT_CREATE, 1),
        (Selector, f, SELECTOR_FLIP, 1),
        (Selector, f, SELECTOR_FLIP, 3),
        (Selector, f, RETIRE, 1),
        (Selector, f, LEASE_RELEASE, 1),
        (GatewayCanary, f, ROUTE_10, 1),
        (GatewayCanary, f, ROUTE_50, 1),
        (GatewayCanary, f, ROUTE_100, 2),
        // Past the traffic write's re-read-and-retry loop (5 attempts): the 50 % write fails
        // for good and the run rolls back; at 100 % the rollback's own write fails too.
        (GatewayCanary, f, ROUTE_50, 5),
        (GatewayCanary, f, ROUTE_100, 10),
    ]
}

/// 500 at twelve fault points of a selector flip and a Gateway API canary.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_500() {
    flaky_matrix("500", &cases_for(Fault::Status(500))).await;
}

/// 503 (kube's client retries it with backoff).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_503() {
    flaky_matrix("503", &cases_for(Fault::Status(503))).await;
}

/// 429 (retried like 503).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_429() {
    flaky_matrix("429", &cases_for(Fault::Status(429))).await;
}

/// A request that never answers, past `requestTimeout: 1s`.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_hang_past_request_timeout() {
    flaky_matrix("hang", &cases_for(Fault::Hang)).await;
}

/// The connection reset (TCP RST) without an answer, the request not carried out.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_reset() {
    flaky_matrix("reset", &cases_for(Fault::Reset)).await;
}

/// Random faults: every API request fails with probability 20 % (500, or a connection reset),
/// for the selector flip and the Gateway API canary, a few runs each. Every run keeps the
/// contract and `plan apply` converges afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_random_20_percent_500_and_resets() {
    const RUNS: usize = 4;
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut injected = 0;
    let mut requests = 0;
    for action in [FaultAction::Status(500), FaultAction::Reset] {
        for s in [Scenario::Selector, Scenario::GatewayCanary] {
            for i in 0..RUNS {
                let c = Cluster::start(s).await;
                let plan = c.plan(&["requestTimeout: 1s"]);
                c.sim.faults().set_random(0.2, action.clone());
                let timeout = format!("{RUN_TIMEOUT_SECS}s");
                let (out, took) = c
                    .spawn(&["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)])
                    .wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30))
                    .await;
                c.sim.faults().clear();
                let ctx = format!("{s:?} random 20% {action:?} run {i}");
                assert!(
                    took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
                    "{ctx}: took {took:?} with --timeout {timeout}"
                );
                let log = c.sim.requests();
                let n = log
                    .iter()
                    .filter(|r| {
                        r.aborted || (action == FaultAction::Status(500) && r.status == 500)
                    })
                    .count();
                let code = assert_contract(&c, &plan, &out, &ctx).await;
                let how = converge(&c, &plan, c.lease().is_some(), &ctx).await;
                println!(
                    "  random {action:?}: {s:?} run {i}: {} requests, {n} faulted, exit {code}, then {how}",
                    log.len()
                );
                *codes.entry(code).or_insert(0) += 1;
                injected += n;
                requests += log.len();
            }
        }
    }
    println!(
        "k8s random faults (20 % 500 / reset): {} runs, {injected} of {requests} requests faulted, exit codes {codes:?}, all converged; {:.1}s",
        4 * RUNS,
        started.elapsed().as_secs_f64()
    );
}

/// 409 races: another writer bumps the traffic object / Deployment just before bgctl's write.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_409_races() {
    use Scenario::{GatewayCanary, Selector};
    let f = Fault::Race;
    flaky_matrix(
        "409",
        &[
            (Selector, f, SELECTOR_FLIP, 1),
            (Selector, f, SELECTOR_FLIP, 3),
            (Selector, f, SELECTOR_FLIP, 5),
            (Selector, f, RETIRE, 1),
            (GatewayCanary, f, ROUTE_10, 1),
            (GatewayCanary, f, ROUTE_10, 3),
            (GatewayCanary, f, ROUTE_10, 5),
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Concurrent runs and the Lease
// ---------------------------------------------------------------------------------------------

/// Four processes apply the same selector plan at once: exactly one flips the selector; the
/// others exit 5 naming the holder, or 0 "up to date" if they read after the winner finished.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_concurrent_applies_one_moves_traffic() {
    let c = Cluster::start(Scenario::Selector).await;
    let plan = c.plan(&[]);
    let children: Vec<Running> = (0..4)
        .map(|_| c.spawn(&["plan", "apply", "--yes", p(&plan)]))
        .collect();
    let mut codes = BTreeMap::new();
    let mut up_to_date = 0;
    for ch in children {
        let (out, _) = ch.wait(Duration::from_mins(1)).await;
        let code = out.status.code().unwrap_or(-1);
        match code {
            0 if stderr(&out).contains("up to date") => up_to_date += 1,
            0 => {}
            5 => assert!(
                stderr(&out).contains("locked by tester@") && stderr(&out).contains("pid "),
                "{}",
                render(&out)
            ),
            _ => panic!("unexpected exit: {}", render(&out)),
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    let log = c.sim.requests();
    let leases_taken = log
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/leases") && r.status == 201)
        .count();
    let flips = log
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/services/") && r.status == 200)
        .count();
    println!(
        "k8s concurrent applies: exit codes {codes:?} ({up_to_date} of the 0s up to date), Leases taken {leases_taken}, selector flips {flips}"
    );
    assert_eq!(flips, 1, "exactly one run moved traffic: {log:#?}");
    assert_eq!(
        codes.get(&0).copied().unwrap_or(0) - up_to_date,
        1,
        "exactly one run did the release"
    );
    assert_eq!(c.truth().0, "green");
    assert!(c.lease().is_none(), "the winner released the Lease");
}

/// A Lease left by a SIGKILLed run blocks the next runs (exit 5) until `--force-unlock` or
/// expiry (`lockTtl: 2s`); after expiry the next run takes it over and proceeds.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_killed_runs_lease_blocks_until_force_unlock_or_expiry() {
    for force in [true, false] {
        let c = Cluster::start(Scenario::Selector).await;
        let plan = c.plan(&["lockTtl: 2s"]);
        let faults = c.sim.faults();
        faults.hang_next("PATCH", "*/services/myapp-service", 1);
        let mut child = c.spawn(&["plan", "apply", "--yes", p(&plan)]);
        for _ in 0..1500 {
            if faults.pending().is_empty() {
                break;
            }
            assert!(!child.exited());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            faults.pending().is_empty(),
            "never reached the selector write"
        );
        child.kill();
        let _ = child.wait(Duration::from_secs(10)).await;
        faults.clear();
        let killed_at = Instant::now();
        let out = c.run(&["plan", "apply", "--yes", p(&plan)]).await;
        assert_eq!(out.status.code(), Some(5), "{}", render(&out));
        assert!(
            stderr(&out).contains("locked by tester@"),
            "{}",
            render(&out)
        );
        assert_eq!(c.truth().0, "blue");
        let out = if force {
            c.run(&["plan", "apply", "--yes", "--force-unlock", p(&plan)])
                .await
        } else {
            // Second granularity: the Lease's renewTime is whole seconds.
            tokio::time::sleep(Duration::from_millis(3200).saturating_sub(killed_at.elapsed()))
                .await;
            c.run(&["plan", "apply", "--yes", p(&plan)]).await
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "force={force}: {}",
            render(&out)
        );
        assert_eq!(c.truth().0, "green");
        assert!(c.lease().is_none(), "force={force}: the Lease was released");
        let transitions = c
            .writes()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/leases/"))
            .count();
        assert_eq!(transitions, 1, "force={force}: taken over with one PUT");
    }
}
