//! The Kubernetes provider end to end: the real binary against kube-sim (started in-process on
//! 127.0.0.1:0) through a kubeconfig in a temp dir (`KUBECONFIG`), with the example plans from
//! `plans/`. Assertions read the simulator's objects and its request log.

use std::path::PathBuf;
use std::time::Duration;

use kube_sim::{DeploymentBehavior, KubeSim, LoggedRequest, SimConfig};
use serde_json::{json, Value};

use crate::harness::{bgctl, render, root, run};

struct Kube {
    sim: KubeSim,
    dir: tempfile::TempDir,
}

/// kube-sim (Deployments ready after 100 ms) and a temp dir holding its `kubeconfig` and a copy
/// of `plans/k8s/`, so plans find their manifests next to them, as in the repository.
pub(crate) async fn sim_and_workspace() -> (KubeSim, tempfile::TempDir) {
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
    (sim, dir)
}

impl Kube {
    async fn start() -> Kube {
        let (sim, dir) = sim_and_workspace().await;
        Kube { sim, dir }
    }

    /// A copy of `plans/<name>` in the temp dir.
    fn plan(&self, name: &str) -> PathBuf {
        let to = self.dir.path().join(name);
        std::fs::copy(root().join("plans").join(name), &to).expect("copy plan");
        to
    }

    fn bgctl(&self) -> assert_cmd::Command {
        let mut cmd = bgctl(self.dir.path());
        cmd.env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("SCALE_DOWN_DELAY", "0s");
        cmd
    }

    fn writes(&self) -> Vec<LoggedRequest> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    fn get(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        self.sim.get(api_version, kind, ns, name)
    }

    /// A Deployment as someone deployed it earlier, already rolled out.
    fn deployment(&self, ns: &str, name: &str, labels: &Value) {
        self.sim.put_object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"team": "shop"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": format!("{name}:1")}]}}}
        }));
        self.sim.tick();
    }
}

/// Every write bgctl sent to a traffic object or Deployment was a JSON merge patch carrying a
/// resourceVersion precondition (never strategic merge, never unconditional).
fn assert_conditional_merge_patches(reqs: &[LoggedRequest]) {
    for r in reqs.iter().filter(|r| r.method == "PATCH") {
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/merge-patch+json"),
            "{r:?}"
        );
        let body = r.json().expect("json body");
        assert!(
            body["metadata"]["resourceVersion"].is_string(),
            "unconditional write: {r:?}"
        );
    }
}

fn ok(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", render(out));
}

/// Seed 004 end to end: blue serves behind `myapp-service`; `plan apply` creates green from its
/// manifest, waits for it to roll out, flips the selector in one conditional merge patch (the
/// record in the same write), then deletes the blue Deployment after `scaleDownDelay`.
#[tokio::test(flavor = "multi_thread")]
async fn seed_004_selector_flip_then_old_deployment_deleted() {
    let k = Kube::start().await;
    k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
    k.sim.put_object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}], "type": "ClusterIP"}
    }));
    let plan = k.plan("k8s-service-selector.yaml");
    k.sim.clear_requests();

    let mut cmd = k.bgctl();
    cmd.env("SCALE_DOWN_DELAY", "1s")
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    ok(&out);

    let svc = k.get("v1", "Service", "default", "myapp-service").unwrap();
    assert_eq!(
        svc["spec"]["selector"],
        json!({"app": "myapp", "version": "v2"})
    );
    let ann = &svc["metadata"]["annotations"];
    assert_eq!(ann["bgctl.dev/previous"], "blue");
    assert_eq!(ann["bgctl.dev/owner"], "myapp");
    assert_eq!(ann["bgctl.dev/phase"], "completed");
    assert!(k.get("apps/v1", "Deployment", "default", "green").is_some());
    assert!(
        k.get("apps/v1", "Deployment", "default", "blue").is_none(),
        "the old Deployment is deleted after the delay"
    );

    // Order: green created, then the one selector write, then blue deleted — never before.
    let writes = k.writes();
    let pos = |m: &str, p: &str| {
        writes
            .iter()
            .position(|r| r.method == m && r.path.starts_with(p) && r.status < 300)
            .unwrap_or_else(|| panic!("no {m} {p} in {writes:#?}"))
    };
    let create = pos("POST", "/apis/apps/v1/namespaces/default/deployments");
    let flip = pos("PATCH", "/api/v1/namespaces/default/services/myapp-service");
    let delete = pos(
        "DELETE",
        "/apis/apps/v1/namespaces/default/deployments/blue",
    );
    assert!(create < flip && flip < delete, "{writes:#?}");
    // One write moves traffic and records the state (`verifying`); once verified, one more
    // marks the record `completed`.
    let service_writes: Vec<&LoggedRequest> = writes
        .iter()
        .filter(|r| r.path.contains("/services/"))
        .collect();
    assert_eq!(service_writes.len(), 2, "{service_writes:#?}");
    assert!(
        service_writes[0].body.contains("\"selector\"")
            && service_writes[0].body.contains("verifying"),
        "{service_writes:#?}"
    );
    assert!(
        !service_writes[1].body.contains("\"selector\"")
            && service_writes[1].body.contains("completed"),
        "{service_writes:#?}"
    );
    assert_conditional_merge_patches(&writes);
    assert!(
        writes
            .iter()
            .any(|r| r.method == "POST" && r.path.contains("/leases")),
        "the Lease was taken"
    );
    assert!(
        k.get(
            "coordination.k8s.io/v1",
            "Lease",
            "default",
            "myapp-bgctl-lock"
        )
        .is_none(),
        "and released"
    );

    // Converged: a second apply writes nothing at all (not even the Lease).
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.env("SCALE_DOWN_DELAY", "1s")
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    ok(&run(cmd).await);
    assert!(k.writes().is_empty(), "{:#?}", k.writes());

    let mut cmd = k.bgctl();
    cmd.args(["status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("green") && text.contains("deployment/green"),
        "{text}"
    );
    assert!(text.contains("previous: blue"), "{text}");

    // Rollback after blue's Deployment was deleted. Without a manifest to bring blue back: the
    // rollback fails (exit 4) with nothing changed (no write but the Lease) and what to do.
    let no_manifest = k.dir.path().join("no-blue-manifest.yaml");
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.contains("    manifest: k8s/blue.yaml\n"));
    std::fs::write(
        &no_manifest,
        text.replace("    manifest: k8s/blue.yaml\n", ""),
    )
    .unwrap();
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&no_manifest);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot roll back: `blue` cannot be brought back")
            && err.contains("does not exist")
            && err.contains("nothing was changed")
            && err.contains("to finish by hand: restore `blue`"),
        "{err}"
    );
    assert!(
        k.writes().iter().all(|r| r.path.contains("/leases")),
        "{:#?}",
        k.writes()
    );
    // With the manifest, rollback brings blue back first, then flips the selector: exit 0.
    let mut cmd = k.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bringing it back first"),
        "{}",
        render(&out)
    );
    assert!(k.get("apps/v1", "Deployment", "default", "blue").is_some());
    let svc = k.get("v1", "Service", "default", "myapp-service").unwrap();
    assert_eq!(
        svc["spec"]["selector"],
        json!({"app": "myapp", "version": "v1"})
    );
    assert!(
        k.get("apps/v1", "Deployment", "default", "green").is_some(),
        "a rollback never retires the side it leaves"
    );
}

/// A green that never becomes ready stops the release before any traffic moves: exit 3, and
/// the request log shows no write to the Service.
#[tokio::test(flavor = "multi_thread")]
async fn green_that_never_rolls_out_aborts_before_traffic_moves() {
    for (behavior, timeout, expect) in [
        (DeploymentBehavior::Fail, "30s", "progress deadline"),
        (
            DeploymentBehavior::Stall,
            "3s",
            "not rolled out before the run's deadline",
        ),
    ] {
        let k = Kube::start().await;
        k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
        k.sim.put_object(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "myapp-service", "namespace": "default"},
            "spec": {"selector": {"app": "myapp", "version": "v1"}, "ports": [{"port": 80}]}
        }));
        k.sim.set_deployment_behavior("default", "green", behavior);
        let plan = k.plan("k8s-service-selector.yaml");
        k.sim.clear_requests();
        let mut cmd = k.bgctl();
        cmd.args([
            "--timeout",
            timeout,
            "switch",
            "--to",
            "green",
            "--yes",
            "-f",
        ])
        .arg(&plan);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(3), "{behavior:?}: {}", render(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("`green` is not healthy") && err.contains(expect),
            "{err}"
        );
        assert!(
            k.writes().iter().all(|r| !r.path.contains("/services/")),
            "traffic object written: {:#?}",
            k.writes()
        );
        let svc = k.get("v1", "Service", "default", "myapp-service").unwrap();
        assert_eq!(svc["spec"]["selector"]["version"], "v1");
        assert!(k.get("apps/v1", "Deployment", "default", "blue").is_some());
    }
}

/// kube-sim changes the Service between bgctl's read and its write: the conditional patch gets
/// 409, bgctl re-reads, recomputes and succeeds, and the other writer's change survives.
#[tokio::test(flavor = "multi_thread")]
async fn stale_resource_version_is_retried_after_a_reread() {
    let k = Kube::start().await;
    k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
    k.deployment(
        "default",
        "green",
        &json!({"app": "myapp", "version": "v2"}),
    );
    k.sim.put_object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"}, "ports": [{"port": 80}]}
    }));
    let plan = k.plan("k8s-service-selector.yaml");
    k.sim.bump_before_next_write("default", "myapp-service");
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    let patches: Vec<u16> = k
        .writes()
        .iter()
        .filter(|r| r.path.contains("/services/myapp-service"))
        .map(|r| r.status)
        .collect();
    // The switch (409, then 200 after a re-read), then its record marked verified.
    assert_eq!(patches, vec![409, 200, 200], "{:#?}", k.writes());
    let svc = k.get("v1", "Service", "default", "myapp-service").unwrap();
    assert_eq!(svc["spec"]["selector"]["version"], "v2");
    assert!(
        svc["metadata"]["annotations"]["kube-sim/concurrent-write"].is_string(),
        "the concurrent change is kept: {svc}"
    );
    // Green existed and was converged to its manifest: fields the manifest does not set (here
    // the Deployment's own labels) are left alone — a regression guard against `null` patches.
    let green = k.get("apps/v1", "Deployment", "default", "green").unwrap();
    assert_eq!(green["metadata"]["labels"], json!({"team": "shop"}));
    assert_eq!(green["spec"]["replicas"], 3, "converged to the manifest");
    assert_conditional_merge_patches(&k.writes());
}

/// A Lease held by another run blocks a second one (exit 5, naming the holder); an expired
/// Lease is taken over the way client-go does (`leaseTransitions` + 1).
#[tokio::test(flavor = "multi_thread")]
async fn lease_blocks_a_second_run() {
    let k = Kube::start().await;
    k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
    k.deployment(
        "default",
        "green",
        &json!({"app": "myapp", "version": "v2"}),
    );
    k.sim.put_object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"}, "ports": [{"port": 80}]}
    }));
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    let lease = |renew: &str| {
        json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "myapp-bgctl-lock", "namespace": "default"},
            "spec": {"holderIdentity": "ci@runner-7 pid 42 run 0123456789ab",
                     "leaseDurationSeconds": 900, "acquireTime": renew, "renewTime": renew,
                     "leaseTransitions": 3}
        })
    };
    k.sim.put_object(lease(&now));
    let plan = k.plan("k8s-service-selector.yaml");
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(5), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("locked by ci@runner-7 pid 42"), "{err}");
    assert!(err.contains("run 0123456789ab"), "{err}");
    assert!(k.writes().is_empty(), "{:#?}", k.writes());

    // Expired an hour ago: taken over with a PUT carrying the resourceVersion read.
    k.sim.put_object(lease("2020-01-01T00:00:00.000000Z"));
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    let put = k
        .writes()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.contains("/leases/myapp-bgctl-lock"))
        .expect("PUT of the Lease");
    let body = put.json().unwrap();
    assert!(body["metadata"]["resourceVersion"].is_string());
    assert_eq!(body["spec"]["leaseTransitions"], 4);
    assert!(body["spec"]["holderIdentity"]
        .as_str()
        .unwrap()
        .starts_with("tester@"));
}

fn istio_objects(k: &Kube, subsets: &[&str]) {
    k.deployment(
        "default",
        "myapp-v1",
        &json!({"app": "myapp", "version": "v1"}),
    );
    k.deployment(
        "default",
        "myapp-v2",
        &json!({"app": "myapp", "version": "v2"}),
    );
    k.sim.put_object(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "myapp", "namespace": "default"},
        "spec": {"hosts": ["myapp"], "http": [{"route": [
            {"destination": {"host": "myapp", "subset": "v1"}}]}]}
    }));
    k.sim.put_object(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "myapp", "namespace": "default"},
        "spec": {"host": "myapp", "subsets": subsets.iter()
            .map(|s| json!({"name": s, "labels": {"version": s}})).collect::<Vec<_>>()}
    }));
}

/// Istio: a switch writes `http[].route[]` weights 0/100 (adding the v2 destination), rollback
/// writes 100/0, and a DestinationRule without the target's subset stops the switch first.
#[tokio::test(flavor = "multi_thread")]
async fn istio_weights_through_switch_and_rollback() {
    let k = Kube::start().await;
    istio_objects(&k, &["v1", "v2"]);
    let plan = k.plan("istio-canary.yaml");
    let route = |k: &Kube| {
        k.get(
            "networking.istio.io/v1",
            "VirtualService",
            "default",
            "myapp",
        )
        .unwrap()["spec"]["http"][0]["route"]
            .clone()
    };
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(
        route(&k),
        json!([{"destination": {"host": "myapp", "subset": "v1"}, "weight": 0},
               {"destination": {"host": "myapp", "subset": "v2"}, "weight": 100}])
    );
    let mut cmd = k.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(
        route(&k),
        json!([{"destination": {"host": "myapp", "subset": "v1"}, "weight": 100},
               {"destination": {"host": "myapp", "subset": "v2"}, "weight": 0}])
    );
    let vs = k
        .get(
            "networking.istio.io/v1",
            "VirtualService",
            "default",
            "myapp",
        )
        .unwrap();
    assert_eq!(
        vs["metadata"]["annotations"]["bgctl.dev/phase"],
        "rolled-back"
    );
    assert_conditional_merge_patches(&k.writes());

    let k = Kube::start().await;
    istio_objects(&k, &["v1"]);
    let plan = k.plan("istio-canary.yaml");
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no subset `v2`"),
        "{}",
        render(&out)
    );
    assert!(k
        .writes()
        .iter()
        .all(|r| !r.path.contains("virtualservices")));
}

/// Contour (seed 003): the HTTPProxy starts at the seed's 95/5 split; bgctl reads it as a
/// canary at 5%, a switch makes green 100, rollback goes to the split's stable side.
#[tokio::test(flavor = "multi_thread")]
async fn contour_weights_from_the_seed_split() {
    let k = Kube::start().await;
    blog_deployments(&k);
    k.sim.put_object(json!({
        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
        "metadata": {"name": "blog", "namespace": "marketing"},
        "spec": {"routes": [{"conditions": [{"prefix": "/blog"}], "services": [
            {"name": "green", "port": 80, "weight": 5},
            {"name": "blue", "port": 80, "weight": 95}]}]}
    }));
    let plan = k.plan("contour-canary.yaml");
    let mut cmd = k.bgctl();
    cmd.args(["--output", "json", "status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    let status: Value = serde_json::from_slice(&out.stdout).expect("json status");
    assert_eq!(
        status["traffic"],
        json!({"kind": "split", "stable": "blue", "canary": "green", "percent": 5.0})
    );
    let services = |k: &Kube| {
        k.get("projectcontour.io/v1", "HTTPProxy", "marketing", "blog")
            .unwrap()["spec"]["routes"][0]["services"]
            .clone()
    };
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(
        services(&k),
        json!([{"name": "green", "port": 80, "weight": 100},
               {"name": "blue", "port": 80, "weight": 0}])
    );
    let mut cmd = k.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(
        services(&k),
        json!([{"name": "green", "port": 80, "weight": 0},
               {"name": "blue", "port": 80, "weight": 100}])
    );
    assert_conditional_merge_patches(&k.writes());
}

/// Gateway API: a switch adds the green backendRef next to blue's (same port) at weight 100;
/// `--dry-run` first shows that exact patch and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_backend_weights() {
    let k = Kube::start().await;
    gateway_objects(&k);
    let plan = k.plan("k8s-gateway-api-canary.yaml");
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["-v", "switch", "--to", "green", "--dry-run", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    assert!(k.writes().is_empty(), "{:#?}", k.writes());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/myapp"
        ),
        "{text}"
    );
    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    let route = k
        .get(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            "default",
            "myapp",
        )
        .unwrap();
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"],
        json!([{"name": "myapp-v1", "port": 8080, "weight": 0},
               {"name": "myapp-v2", "port": 8080, "weight": 100}])
    );
    assert_eq!(route["spec"]["parentRefs"], json!([{"name": "gw"}]));
    assert_conditional_merge_patches(&k.writes());
}

/// `--context` picks the kubeconfig context (an unknown one fails before any request, exit 1);
/// a dry run lists the Deployment it would create from the manifest and the selector patch,
/// and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn context_flag_and_dry_run_of_a_manifest() {
    let k = Kube::start().await;
    k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
    k.sim.put_object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"}, "ports": [{"port": 80}]}
    }));
    let plan = k.plan("k8s-service-selector.yaml");
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["--context", "nope", "status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    assert!(k.sim.requests().is_empty());

    let mut cmd = k.bgctl();
    cmd.args(["--context", "kube-sim", "-v", "plan", "apply", "--dry-run"])
        .arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("POST /apis/apps/v1/namespaces/default/deployments")
            && text.contains("PATCH /api/v1/namespaces/default/services/myapp-service"),
        "{text}"
    );
    assert!(k.writes().is_empty(), "{:#?}", k.writes());
}

/// Polls `cond` on kube-sim's state every 50 ms for up to `secs` seconds.
async fn wait_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}

/// `(name, weight)` of each entry of the first rule of a weighted route object.
fn weights(list: &Value, name: impl Fn(&Value) -> String) -> Vec<(String, u64)> {
    list.as_array()
        .expect("entries")
        .iter()
        .map(|e| (name(e), e["weight"].as_u64().unwrap_or(u64::MAX)))
        .collect()
}

fn pairs(p: &[(&str, u64)]) -> Vec<(String, u64)> {
    p.iter().map(|(n, w)| ((*n).to_string(), *w)).collect()
}

/// The `bgctl.dev/*` annotations of an object, prefix stripped.
fn record(obj: &Value) -> std::collections::BTreeMap<String, String> {
    obj["metadata"]["annotations"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.strip_prefix("bgctl.dev/")?.to_string(),
                        v.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs a command on a blocking thread without waiting for it.
fn spawn(mut cmd: assert_cmd::Command) -> tokio::task::JoinHandle<std::process::Output> {
    tokio::task::spawn_blocking(move || cmd.output().expect("run bgctl"))
}

fn gateway_objects(k: &Kube) {
    k.deployment(
        "default",
        "myapp-v1",
        &json!({"app": "myapp", "version": "v1"}),
    );
    k.deployment(
        "default",
        "myapp-v2",
        &json!({"app": "myapp", "version": "v2"}),
    );
    k.sim.put_object(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "myapp", "namespace": "default"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
             "backendRefs": [{"name": "myapp-v1", "port": 8080}]}]}
    }));
}

fn http_route(k: &Kube) -> Value {
    k.get(
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        "default",
        "myapp",
    )
    .expect("HTTPRoute")
}

fn backend_weights(k: &Kube) -> Vec<(String, u64)> {
    weights(&http_route(k)["spec"]["rules"][0]["backendRefs"], |e| {
        e["name"].as_str().unwrap_or("?").to_string()
    })
}

/// `plans/k8s-gateway-api-canary.yaml` as written (only the timed pause shortened through
/// `PAUSE`): `plan apply` sets 10% and stops at the manual gate (exit 6) with the pause recorded
/// on the HTTPRoute; a second apply stops there again without writing weights; `bgctl promote`
/// from another process passes the gate, sets 50%, waits the timed pause (recorded too) and
/// finishes at 100%. Each weight write carries the record in the same conditional patch.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_canary_gate_promoted_from_another_process() {
    let k = Kube::start().await;
    gateway_objects(&k);
    let plan = root().join("plans/k8s-gateway-api-canary.yaml");
    k.sim.clear_requests();

    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "at the gate: {}", render(&out));
    assert_eq!(
        backend_weights(&k),
        pairs(&[("myapp-v1", 90), ("myapp-v2", 10)])
    );
    let r = record(&http_route(&k));
    assert_eq!(r["owner"], "myapp-gateway");
    assert_eq!(r["phase"], "paused");
    assert_eq!(r["step"], "1", "{r:?}");
    assert_eq!(r["weight"], "10");
    assert_eq!(
        (r["stable"].as_str(), r["canary"].as_str()),
        ("blue", "green")
    );
    assert!(r["waiting"].starts_with("manual gate at step 2"), "{r:?}");
    assert!(r["by"].starts_with("tester@"), "{r:?}");
    // The 10% write carried its record (progressing, step 1) in the same patch; the gate
    // then recorded the pause without touching the weights.
    let patches: Vec<Value> = k
        .writes()
        .iter()
        .filter(|r| r.path.contains("/httproutes/myapp"))
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(patches.len(), 2, "{patches:#?}");
    assert_eq!(
        patches[0]["metadata"]["annotations"]["bgctl.dev/phase"],
        "progressing"
    );
    assert_eq!(patches[0]["metadata"]["annotations"]["bgctl.dev/step"], "1");
    assert!(patches[0]["spec"]["rules"].is_array());
    assert!(patches[1].get("spec").is_none(), "{:#?}", patches[1]);
    assert_conditional_merge_patches(&k.writes());
    assert!(
        k.get(
            "coordination.k8s.io/v1",
            "Lease",
            "default",
            "myapp-gateway-bgctl-lock"
        )
        .is_none(),
        "the Lease is released at the gate"
    );

    // Resuming with `plan apply` stops at the same gate: no weight moves.
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(6));
    assert!(
        k.writes()
            .iter()
            .filter(|r| r.path.contains("/httproutes/"))
            .all(|r| r.json().unwrap().get("spec").is_none()),
        "{:#?}",
        k.writes()
    );
    assert_eq!(
        backend_weights(&k),
        pairs(&[("myapp-v1", 90), ("myapp-v2", 10)])
    );

    // `status` shows the gate and the Deployments behind each side.
    let mut cmd = k.bgctl();
    cmd.args(["status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("manual gate at step 2") && text.contains("10% requested"),
        "{text}"
    );
    assert!(
        text.contains("DEPLOYMENT") && !text.contains("UPSTREAM"),
        "{text}"
    );
    assert!(text.contains("deployment/myapp-v2"), "{text}");

    // Promote from a second process; the timed pause after 50% is observed live.
    let mut cmd = k.bgctl();
    cmd.env("PAUSE", "3s")
        .env("OLD_DEPLOYMENT", "scaleToZero")
        .args(["promote", "--yes", "-f"])
        .arg(&plan);
    let promoter = spawn(cmd);
    let at_50 = wait_until(20, || {
        let r = record(&http_route(&k));
        backend_weights(&k) == pairs(&[("myapp-v1", 50), ("myapp-v2", 50)])
            && r.get("waiting").map(String::as_str) == Some("timed pause at step 4")
    })
    .await;
    assert!(at_50, "never at 50% in the timed pause: {}", http_route(&k));
    let out = promoter.await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(
        backend_weights(&k),
        pairs(&[("myapp-v1", 0), ("myapp-v2", 100)])
    );
    let r = record(&http_route(&k));
    assert_eq!(r["phase"], "completed");
    assert_eq!(r["weight"], "100");
    assert_eq!(r["action"], "promote");
    assert!(!r.contains_key("waiting"), "{r:?}");
    // `oldDeployment: scaleToZero` retires the stable side once the canary is complete.
    let v1 = k
        .get("apps/v1", "Deployment", "default", "myapp-v1")
        .unwrap();
    assert_eq!(v1["spec"]["replicas"], 0, "{}", render(&out));
    assert_eq!(
        k.get("apps/v1", "Deployment", "default", "myapp-v2")
            .unwrap()["spec"]["replicas"],
        2
    );

    // Complete: another apply writes nothing.
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    ok(&run(cmd).await);
    assert!(k.writes().is_empty(), "{:#?}", k.writes());
}

/// `abort` at the gate sends everything back to the stable backend in one write and records it.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_abort_returns_weights_to_stable() {
    let k = Kube::start().await;
    gateway_objects(&k);
    let plan = root().join("plans/k8s-gateway-api-canary.yaml");
    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(6));
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["abort", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    assert_eq!(
        backend_weights(&k),
        pairs(&[("myapp-v1", 100), ("myapp-v2", 0)])
    );
    let r = record(&http_route(&k));
    assert_eq!(r["phase"], "aborted");
    // Stable stays the rollback target: a `rollback` after an abort never goes to the canary.
    assert_eq!(r["previous"], "blue");
    assert!(!r.contains_key("waiting"), "{r:?}");
    let route_writes = k
        .writes()
        .into_iter()
        .filter(|r| r.path.contains("/httproutes/"))
        .count();
    assert_eq!(route_writes, 1, "{:#?}", k.writes());
    assert_conditional_merge_patches(&k.writes());
    let mut cmd = k.bgctl();
    cmd.args(["-o", "json", "status", "-f"]).arg(&plan);
    let status: Value = serde_json::from_slice(&run(cmd).await.stdout).unwrap();
    assert_eq!(status["record"]["phase"], "aborted");
    assert_eq!(status["traffic"], json!({"kind": "env", "env": "blue"}));
    // Nothing in progress any more: promote is refused (usage error) and writes nothing.
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(k.writes().is_empty(), "{:#?}", k.writes());
}

/// `plans/contour-canary.yaml`: 5% at the gate (HTTPProxy `services` weights 95/5 with the
/// record), then promote to 100.
#[tokio::test(flavor = "multi_thread")]
async fn contour_canary_weights() {
    let k = Kube::start().await;
    blog_deployments(&k);
    k.sim.put_object(json!({
        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
        "metadata": {"name": "blog", "namespace": "marketing"},
        "spec": {"routes": [{"conditions": [{"prefix": "/blog"}], "services": [
            {"name": "blue", "port": 80}]}]}
    }));
    let plan = root().join("plans/contour-canary.yaml");
    let proxy = |k: &Kube| {
        k.get("projectcontour.io/v1", "HTTPProxy", "marketing", "blog")
            .unwrap()
    };
    let services = |k: &Kube| {
        weights(&proxy(k)["spec"]["routes"][0]["services"], |e| {
            e["name"].as_str().unwrap_or("?").to_string()
        })
    };
    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert_eq!(services(&k), pairs(&[("blue", 95), ("green", 5)]));
    assert_eq!(
        proxy(&k)["spec"]["routes"][0]["services"][1]["port"],
        80,
        "the new entry copies its sibling's port"
    );
    let r = record(&proxy(&k));
    assert_eq!((r["phase"].as_str(), r["weight"].as_str()), ("paused", "5"));
    let mut cmd = k.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(services(&k), pairs(&[("blue", 0), ("green", 100)]));
    assert_eq!(record(&proxy(&k))["phase"], "completed");
    assert_conditional_merge_patches(&k.writes());
}

/// The `myapp` VirtualService as kube-sim has it now.
fn virtual_service(k: &Kube) -> serde_json::Value {
    k.get(
        "networking.istio.io/v1",
        "VirtualService",
        "default",
        "myapp",
    )
    .unwrap()
}

/// `plans/istio-canary.yaml` (timed pause shortened through `PAUSE`): 20% during the timed
/// pause, 50% at the gate, 100% after promote; every weight write to the VirtualService sums
/// to 100.
#[tokio::test(flavor = "multi_thread")]
async fn istio_canary_weights_sum_to_100() {
    let k = Kube::start().await;
    istio_objects(&k, &["v1", "v2"]);
    let plan = root().join("plans/istio-canary.yaml");
    let vs = virtual_service;
    let route = |k: &Kube| {
        weights(&vs(k)["spec"]["http"][0]["route"], |e| {
            e["destination"]["subset"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
    };
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.env("PAUSE", "2s")
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let applier = spawn(cmd);
    let at_20 = wait_until(20, || {
        route(&k) == pairs(&[("v1", 80), ("v2", 20)])
            && record(&vs(&k)).get("waiting").map(String::as_str) == Some("timed pause at step 2")
    })
    .await;
    assert!(at_20, "never at 20% in the timed pause: {}", vs(&k));
    let out = applier.await.unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert_eq!(route(&k), pairs(&[("v1", 50), ("v2", 50)]));
    assert!(record(&vs(&k))["waiting"].starts_with("manual gate at step 4"));

    let mut cmd = k.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(route(&k), pairs(&[("v1", 0), ("v2", 100)]));
    assert_eq!(record(&vs(&k))["phase"], "completed");

    let sums: Vec<u64> = k
        .writes()
        .iter()
        .filter(|r| r.path.contains("/virtualservices/myapp"))
        .filter_map(|r| {
            let body = r.json()?;
            let list = body["spec"]["http"][0]["route"].as_array()?.clone();
            Some(list.iter().map(|e| e["weight"].as_u64().unwrap()).sum())
        })
        .collect();
    assert_eq!(sums, vec![100, 100, 100], "{:#?}", k.writes());
    assert_conditional_merge_patches(&k.writes());
}

/// Ctrl-C during the Istio canary's timed pause: the weights go back to the stable subset in
/// one write, recorded as rolled back, and the Lease is released (exit 130).
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_canary_rolls_the_weights_back() {
    let k = Kube::start().await;
    istio_objects(&k, &["v1", "v2"]);
    let plan = root().join("plans/istio-canary.yaml");
    let vs = virtual_service;
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .env("KUBECONFIG", k.dir.path().join("kubeconfig"))
        .env("PAUSE", "60s")
        .current_dir(k.dir.path())
        .args(["plan", "apply", "--yes"])
        .arg(&plan)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let paused = wait_until(20, || {
        record(&vs(&k)).get("waiting").map(String::as_str) == Some("timed pause at step 2")
    })
    .await;
    assert!(paused, "never reached the timed pause: {}", vs(&k));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    let route = weights(&vs(&k)["spec"]["http"][0]["route"], |e| {
        e["destination"]["subset"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    });
    assert_eq!(route, pairs(&[("v1", 100), ("v2", 0)]));
    assert_eq!(record(&vs(&k))["phase"], "rolled-back");
    assert!(k
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            "default",
            "myapp-istio-bgctl-lock"
        )
        .is_none());
}

/// Seed 003's two Deployments in `marketing`, rolled out.
fn blog_deployments(k: &Kube) {
    k.deployment(
        "marketing",
        "blog-blue",
        &json!({"app": "blog", "color": "blue"}),
    );
    k.deployment(
        "marketing",
        "blog-green",
        &json!({"app": "blog", "color": "green"}),
    );
}

/// Seed 003's objects on today's Contour: the root `root-blog` includes the child `blog`
/// (green) for /blog next to an unrelated `docs` include; `blog2` (blue) exists unless
/// `blue_child` is `None`, with that `status.currentStatus` (kube-sim runs no Contour).
fn contour_include_objects(k: &Kube, blue_child: Option<&str>) {
    blog_deployments(k);
    let child = |name: &str, service: &str, status: &str| {
        json!({
            "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": name, "namespace": "marketing"},
            "spec": {"routes": [{"conditions": [{"prefix": "/blog"}],
                                 "services": [{"name": service, "port": 80}]}]},
            "status": {"currentStatus": status, "description": format!("{status} HTTPProxy")}
        })
    };
    k.sim.put_object(child("blog", "green", "valid"));
    if let Some(status) = blue_child {
        k.sim.put_object(child("blog2", "blue", status));
    }
    k.sim.put_object(json!({
        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
        "metadata": {"name": "root-blog", "namespace": "marketing"},
        "spec": {"virtualhost": {"fqdn": "yangcs.net", "tls": {"secretName": "yangcs-net"}},
                 "includes": [
                     {"name": "docs", "namespace": "docs", "conditions": [{"prefix": "/docs"}]},
                     {"name": "blog", "namespace": "marketing", "conditions": [{"prefix": "/blog"}]}]}
    }));
}

fn root_blog(k: &Kube) -> Value {
    k.get(
        "projectcontour.io/v1",
        "HTTPProxy",
        "marketing",
        "root-blog",
    )
    .expect("root-blog")
}

/// The root's `includes` with the `/blog` entry naming `child` (the `docs` entry unchanged).
fn includes_with(child: &str) -> Value {
    json!([
        {"name": "docs", "namespace": "docs", "conditions": [{"prefix": "/docs"}]},
        {"name": child, "namespace": "marketing", "conditions": [{"prefix": "/blog"}]}
    ])
}

/// `plans/contour-blue-green.yaml` (seed 003): `plan apply` renames the root's /blog include
/// from `blog` to `blog2` in one conditional merge patch (conditions and the other include
/// kept, record in the same write), a second apply writes nothing, `rollback` and
/// `switch --to` move the entry back and forth; `status` names the included child.
#[tokio::test(flavor = "multi_thread")]
async fn contour_root_includes_switch() {
    let k = Kube::start().await;
    contour_include_objects(&k, Some("orphaned"));
    let plan = k.plan("contour-blue-green.yaml");
    let status = |k: &Kube| {
        let mut cmd = k.bgctl();
        cmd.args(["--output", "json", "status", "-f"]).arg(&plan);
        let out = cmd.output().expect("status");
        ok(&out);
        serde_json::from_slice::<Value>(&out.stdout).expect("json status")
    };
    let st = status(&k);
    assert_eq!(
        st["traffic"],
        json!({"kind": "env", "env": "green"}),
        "{st}"
    );
    assert_eq!(
        st["routing"],
        "HTTPProxy `root-blog` includes HTTPProxy `marketing/blog` (environment `green`) for `prefix: /blog`"
    );
    k.sim.clear_requests();

    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    ok(&run(cmd).await);
    let root = root_blog(&k);
    assert_eq!(root["spec"]["includes"], includes_with("blog2"));
    assert_eq!(
        root["spec"]["virtualhost"],
        json!({"fqdn": "yangcs.net", "tls": {"secretName": "yangcs-net"}})
    );
    let r = record(&root);
    assert_eq!(
        (r["phase"].as_str(), r["previous"].as_str()),
        ("completed", "green")
    );
    let proxy_writes: Vec<(String, String)> = k
        .writes()
        .iter()
        .filter(|w| w.path.contains("/httpproxies"))
        .map(|w| {
            let path = w.path.split('?').next().unwrap_or_default().to_string();
            (w.method.clone(), path)
        })
        .collect();
    let root_patch = (
        "PATCH".to_string(),
        "/apis/projectcontour.io/v1/namespaces/marketing/httpproxies/root-blog".to_string(),
    );
    assert_eq!(
        proxy_writes,
        vec![root_patch.clone(), root_patch],
        "to the root only: the switch, then its record marked verified"
    );
    assert!(
        k.sim.requests().iter().any(|r| r.method == "GET"
            && r.path.split('?').next()
                == Some("/apis/projectcontour.io/v1/namespaces/marketing/httpproxies/blog2")),
        "the child was checked before the switch"
    );
    assert_conditional_merge_patches(&k.writes());
    let mut cmd = k.bgctl();
    cmd.args(["status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("routing:  HTTPProxy `root-blog` includes HTTPProxy `marketing/blog2` (environment `blue`) for `prefix: /blog`"),
        "{text}"
    );

    // Converged: applying again writes nothing at all.
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    ok(&run(cmd).await);
    assert!(k.writes().is_empty(), "re-apply wrote {:#?}", k.writes());

    let mut cmd = k.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(root_blog(&k)["spec"]["includes"], includes_with("blog"));
    assert_eq!(record(&root_blog(&k))["phase"], "rolled-back");

    let mut cmd = k.bgctl();
    cmd.args(["switch", "--to", "blue", "--yes", "-f"])
        .arg(&plan);
    ok(&run(cmd).await);
    assert_eq!(root_blog(&k)["spec"]["includes"], includes_with("blog2"));
    assert_eq!(status(&k)["traffic"], json!({"kind": "env", "env": "blue"}));
    assert_conditional_merge_patches(&k.writes());
}

/// A missing or `invalid` child HTTPProxy stops the switch before anything is written to an
/// HTTPProxy (exit 1, naming the child); the root still includes `blog`.
#[tokio::test(flavor = "multi_thread")]
async fn contour_include_of_a_missing_or_invalid_child_is_refused() {
    for (blue_child, expect) in [
        (
            None,
            "HTTPProxy `blog2` (the child of environment `blue`) does not exist in namespace `marketing`",
        ),
        (
            Some("invalid"),
            "HTTPProxy `marketing/blog2` (the child of environment `blue`) is invalid according to Contour: invalid HTTPProxy",
        ),
    ] {
        let k = Kube::start().await;
        contour_include_objects(&k, blue_child);
        let plan = k.plan("contour-blue-green.yaml");
        k.sim.clear_requests();
        let mut cmd = k.bgctl();
        cmd.args(["switch", "--to", "blue", "--yes", "-f"])
            .arg(&plan);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{}", render(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{}", render(&out));
        // Only the run's own Lease is written (taken and released); no HTTPProxy, no Deployment.
        let other: Vec<_> = k
            .writes()
            .into_iter()
            .filter(|w| !w.path.contains("/coordination.k8s.io/v1/namespaces/marketing/leases"))
            .collect();
        assert!(other.is_empty(), "written: {other:#?}");
        assert_eq!(root_blog(&k)["spec"]["includes"], includes_with("blog"));
        assert!(record(&root_blog(&k)).is_empty(), "no record was written");
    }
}

/// `plan diff` of an example plan: the steps on stdout, nothing written.
async fn diff_of(k: &Kube, plan: &str) -> String {
    let plan = k.plan(plan);
    k.sim.clear_requests();
    let mut cmd = k.bgctl();
    cmd.args(["plan", "diff"]).arg(&plan);
    let out = run(cmd).await;
    ok(&out);
    assert!(k.writes().is_empty(), "diff wrote: {:#?}", k.writes());
    render(&out)
}

/// `plans/istio-canary.yaml`: each weight step with its VirtualService patch, the timed pause
/// and the gate, instead of one cut-over to 0/100.
#[tokio::test(flavor = "multi_thread")]
async fn istio_canary_diff_lists_every_step() {
    let k = Kube::start().await;
    istio_objects(&k, &["v1", "v2"]);
    let text = diff_of(&k, "istio-canary.yaml").await;
    assert!(
        text.matches("PATCH /apis/networking.istio.io/v1/namespaces/default/virtualservices/myapp")
            .count()
            >= 3,
        "{text}"
    );
    insta::assert_snapshot!("diff-istio-canary", text);
}

/// `plans/k8s-service-selector.yaml`: the Deployment created from its manifest and the Service
/// selector patch appear in the blue-green diff, with the retirement of the old Deployment.
#[tokio::test(flavor = "multi_thread")]
async fn service_selector_diff_shows_deployment_and_service_writes() {
    let k = Kube::start().await;
    k.deployment("default", "blue", &json!({"app": "myapp", "version": "v1"}));
    k.sim.put_object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"}, "ports": [{"port": 80}]}
    }));
    let text = diff_of(&k, "k8s-service-selector.yaml").await;
    assert!(
        text.contains("POST /apis/apps/v1/namespaces/default/deployments")
            && text.contains("PATCH /api/v1/namespaces/default/services/myapp-service"),
        "{text}"
    );
    insta::assert_snapshot!("diff-k8s-service-selector", text);
}
