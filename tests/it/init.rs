//! `bgctl init` (issue 17 item 2): start from what is live. Each test builds the live state
//! the way a person did by hand (seed 000's curl sequence against kong-sim, seed 004's objects
//! in kube-sim, a real HAProxy's configuration), runs the real binary's `init`, and holds the
//! plan it writes to its promise: `plan diff --exit-code` reports no change, `plan apply`
//! writes nothing, and a switch to the other side works. Also: `plan apply` warns before any
//! write when a plan would create a route beside seed 000's unnamed one.

use std::process::Output;

use serde_json::Value;

use crate::harness::{render, run, Stack};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn with(mut cmd: assert_cmd::Command, args: &[&str]) -> assert_cmd::Command {
    cmd.args(args);
    cmd
}

fn with_plan(
    mut cmd: assert_cmd::Command,
    args: &[&str],
    plan: &std::path::Path,
) -> assert_cmd::Command {
    cmd.args(args).arg(plan);
    cmd
}

fn green_env(stack: &Stack, green: &str) -> assert_cmd::Command {
    let mut cmd = stack.bgctl();
    cmd.env("GREEN_TARGET", green);
    cmd
}

fn code(out: &Output, want: i32, what: &str) {
    assert_eq!(out.status.code(), Some(want), "{what}\n{}", render(out));
}

/// Seed 000's curl sequence, as the seed writes it (form bodies), with the stack's backends as
/// targets: the blue upstream (100/50), the service at `/address`, the route with hosts only
/// (no name). With `green`, also the v2 upstream with its targets (the seed's state just
/// before its `PATCH`). Returns the unnamed route's id.
async fn seed_000(stack: &Stack, green: bool) -> String {
    let admin = stack.sim.admin_url();
    let c = reqwest::Client::new();
    let post = |path: &str, form: Vec<(&str, String)>| {
        let req = c.post(format!("{admin}{path}")).form(&form);
        let path = path.to_string();
        async move {
            let resp = req.send().await.expect("admin");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.json::<Value>().await.expect("json")
        }
    };
    let b = |i: usize| stack.backends[i].addr().to_string();
    post("/upstreams", vec![("name", "address.v1.service".into())]).await;
    post(
        "/upstreams/address.v1.service/targets",
        vec![("target", b(0)), ("weight", "100".into())],
    )
    .await;
    post(
        "/upstreams/address.v1.service/targets",
        vec![("target", b(1)), ("weight", "50".into())],
    )
    .await;
    post(
        "/services/",
        vec![
            ("name", "address-service".into()),
            ("host", "address.v1.service".into()),
            ("path", "/address".into()),
        ],
    )
    .await;
    let route = post(
        "/services/address-service/routes/",
        vec![("hosts[]", "address.mydomain.com".into())],
    )
    .await;
    if green {
        post("/upstreams", vec![("name", "address.v2.service".into())]).await;
        for i in [2, 3] {
            post(
                "/upstreams/address.v2.service/targets",
                vec![("target", b(i)), ("weight", "100".into())],
            )
            .await;
        }
    }
    stack.sim.clear_requests();
    route["id"].as_str().expect("route id").to_string()
}

fn init_kong(stack: &Stack, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = crate::harness::bgctl(stack.dir.path());
    cmd.args([
        "init",
        "kong",
        "--admin-url",
        &stack.sim.admin_url(),
        "--service",
        "address-service",
        "--proxy-url",
        &stack.sim.proxy_url(),
    ])
    .args(extra);
    cmd
}

/// Seed 000 up to its switch (blue live, the v2 upstream ready): `init` names the unnamed
/// route by its id and reads both upstreams; the plan then has a zero diff, `plan apply`
/// writes nothing, and `switch --to green` moves the service to v2 and traffic to green.
#[tokio::test(flavor = "multi_thread")]
async fn kong_seed_000_init_has_a_zero_diff_and_switches() {
    let stack = Stack::start().await;
    let route_id = seed_000(&stack, true).await;
    let plan = stack.dir.path().join("bgctl.yaml");
    let out = run(init_kong(
        &stack,
        &["--other-upstream", "address.v2.service", "-f", "bgctl.yaml"],
    ))
    .await;
    code(&out, 0, "init");
    let text = std::fs::read_to_string(&plan).expect("plan written");
    assert!(text.contains(&format!("- id: {route_id}")), "{text}");
    assert!(
        !text.contains("- name:"),
        "no named route invented:\n{text}"
    );
    assert!(text.contains("activeEnvironment: blue"), "{text}");
    assert!(!text.contains("${"), "nothing left to fill in:\n{text}");
    // init's only writes are the ownership tags of what it adopted (route and two upstreams).
    let writes = stack.writes();
    assert!(
        writes
            .iter()
            .all(|w| w.method == "PATCH" && w.body.contains("bgctl.owner=address-service")),
        "{writes:?}"
    );
    assert_eq!(writes.len(), 3, "{writes:?}");

    let out = run(with(
        crate::harness::bgctl(stack.dir.path()),
        &["plan", "validate"],
    ))
    .await;
    code(&out, 0, "validate");
    stack.sim.clear_requests();
    let out = run(with(stack.bgctl(), &["plan", "diff", "--exit-code"])).await;
    code(&out, 0, "diff after init");
    let out = run(with(stack.bgctl(), &["plan", "apply", "--yes"])).await;
    code(&out, 0, "apply after init");
    assert_eq!(stack.writes().len(), 0, "apply wrote: {:?}", stack.writes());
    let routes: Value = reqwest::get(format!("{}/routes", stack.sim.admin_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        routes["data"].as_array().map(Vec::len),
        Some(1),
        "no second route: {routes}"
    );

    let out = run(with(stack.bgctl(), &["switch", "--to", "green", "--yes"])).await;
    code(&out, 0, "switch to green");
    assert_eq!(stack.service_host().await, "address.v2.service");
    let split = stack.split(20).await;
    assert!(split.keys().all(|k| k.starts_with("green")), "{split:?}");
}

/// Seed 000 with only blue: the other side is a placeholder `${GREEN_TARGET}`. Unset, every
/// command stops at validation naming it (exit 2, nothing sent); set, `plan diff` shows only
/// the creation of the green side, and `switch --to green` creates it and moves traffic.
#[tokio::test(flavor = "multi_thread")]
async fn kong_placeholder_side_must_be_filled_then_switches() {
    let stack = Stack::start().await;
    seed_000(&stack, false).await;
    let out = run(init_kong(&stack, &[])).await;
    code(&out, 0, "init");
    let text = stdout(&out);
    assert!(text.contains("\"${GREEN_TARGET}\""), "{text}");
    assert!(text.contains("PLACEHOLDER"), "{text}");
    assert!(stderr(&out).contains("GREEN_TARGET"), "{}", render(&out));
    std::fs::write(stack.dir.path().join("bgctl.yaml"), &text).unwrap();

    stack.sim.clear_requests();
    let out = run(with(stack.bgctl(), &["plan", "diff", "--exit-code"])).await;
    assert_ne!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("`GREEN_TARGET` is not set"),
        "{}",
        render(&out)
    );
    assert!(
        stack.sim.requests().is_empty(),
        "nothing sent before the plan validated"
    );

    let green = stack.backends[2].addr().to_string();
    let out = run(with(
        green_env(&stack, &green),
        &["plan", "diff", "--exit-code"],
    ))
    .await;
    code(
        &out,
        2,
        "diff with the placeholder set: the new side is to be created",
    );
    let diff = stdout(&out);
    assert!(diff.contains("address-service.green"), "{diff}");
    assert!(
        !diff.contains("route") && !diff.contains("address.v1.service"),
        "only the new side:\n{diff}"
    );

    let out = run(with(
        green_env(&stack, &green),
        &["switch", "--to", "green", "--yes"],
    ))
    .await;
    code(&out, 0, "switch");
    assert_eq!(stack.service_host().await, "address-service.green");
    let split = stack.split(10).await;
    assert_eq!(split.get("green-1"), Some(&10), "{split:?}");
}

/// `init -f FILE` never overwrites a file unless `--force`; refused, it writes nothing to Kong.
#[tokio::test(flavor = "multi_thread")]
async fn init_refuses_to_overwrite_without_force() {
    let stack = Stack::start().await;
    seed_000(&stack, false).await;
    std::fs::write(stack.dir.path().join("bgctl.yaml"), "mine\n").unwrap();
    let out = run(init_kong(&stack, &["-f", "bgctl.yaml"])).await;
    code(&out, 2, "existing file");
    assert!(stderr(&out).contains("--force"), "{}", render(&out));
    assert_eq!(
        std::fs::read_to_string(stack.dir.path().join("bgctl.yaml")).unwrap(),
        "mine\n"
    );
    assert!(stack.writes().is_empty(), "{:?}", stack.writes());
    let out = run(init_kong(&stack, &["-f", "bgctl.yaml", "--force"])).await;
    code(&out, 0, "--force");
    assert!(std::fs::read_to_string(stack.dir.path().join("bgctl.yaml"))
        .unwrap()
        .contains("kind: Rollout"));
}

/// Seed 000 adopted naively: a hand-written plan names a route `address-route` with the
/// unnamed route's host. `plan apply` warns before its first write, in text and as an NDJSON
/// `warning` event, and names the route to adopt by id.
#[tokio::test(flavor = "multi_thread")]
async fn apply_warns_before_creating_a_route_that_duplicates_an_unowned_one() {
    let stack = Stack::start().await;
    let route_id = seed_000(&stack, false).await;
    let plan = stack.plan("blue");

    let out = run(with_plan(
        stack.bgctl(),
        &["plan", "apply", "--yes", "-o", "json"],
        &plan,
    ))
    .await;
    code(&out, 0, "apply");
    let events: Vec<Value> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let warn = events.iter().position(|e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains(&route_id) && m.contains("address-route"))
    });
    let first_write = events.iter().position(|e| e["event"] == "write");
    assert!(warn.is_some(), "no warning event:\n{}", stdout(&out));
    assert!(
        first_write.is_some_and(|w| warn < Some(w)),
        "warning after a write:\n{}",
        stdout(&out)
    );

    // In text, on a fresh stack (the route exists now, so a second apply has nothing to warn).
    let stack = Stack::start().await;
    seed_000(&stack, false).await;
    let plan = stack.plan("blue");
    let out = run(with_plan(stack.bgctl(), &["plan", "apply", "--yes"], &plan)).await;
    code(&out, 0, "apply");
    let err = stderr(&out);
    let warn = err
        .find("warning: route `address-route` would be created")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        err[..warn]
            .lines()
            .all(|l| !l.contains("create ") && !l.contains("update ")),
        "{err}"
    );
    // A plan that adopts the route by id (what init writes) gets no warning.
    let out = run(with_plan(stack.bgctl(), &["plan", "apply", "--yes"], &plan)).await;
    assert!(
        !stderr(&out).contains("would be created"),
        "{}",
        render(&out)
    );
}

/// A Deployment someone applied earlier (seed 004), its pods labelled `labels`.
fn k8s_deployment(sim: &kube_sim::KubeSim, name: &str, labels: &Value) {
    sim.put_object(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": format!("myapp:{name}")}]}}}
    }));
    sim.tick();
}

/// Seed 004's objects: Deployments `blue` (version v1) and, with `green`, `green` (v2), and
/// `myapp-service` selecting v1.
async fn seed_004(green: bool) -> (kube_sim::KubeSim, tempfile::TempDir) {
    let (sim, dir) = crate::kubernetes::sim_and_workspace().await;
    k8s_deployment(
        &sim,
        "blue",
        &serde_json::json!({"app": "myapp", "version": "v1"}),
    );
    if green {
        k8s_deployment(
            &sim,
            "green",
            &serde_json::json!({"app": "myapp", "version": "v2"}),
        );
    }
    sim.put_object(serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "myapp-service", "namespace": "default"},
        "spec": {"selector": {"app": "myapp", "version": "v1"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    }));
    sim.clear_requests();
    (sim, dir)
}

fn kube_bgctl(dir: &tempfile::TempDir, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = crate::harness::bgctl(dir.path());
    cmd.env("KUBECONFIG", dir.path().join("kubeconfig"))
        .args(args);
    cmd
}

fn selector_version(sim: &kube_sim::KubeSim) -> Value {
    sim.get("v1", "Service", "default", "myapp-service")
        .expect("service")["spec"]["selector"]["version"]
        .clone()
}

/// Seed 004 (blue serving, green deployed beside it): `init kubernetes` finds the live
/// Deployment through the Service's selector and the other one by its labels; the plan has a
/// zero diff, `plan apply` writes nothing, and `switch --to green` flips the selector.
#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_seed_004_init_has_a_zero_diff_and_switches() {
    let (sim, dir) = seed_004(true).await;
    let out = run(kube_bgctl(
        &dir,
        &[
            "init",
            "kubernetes",
            "--service",
            "myapp-service",
            "-f",
            "bgctl.yaml",
        ],
    ))
    .await;
    code(&out, 0, "init");
    let text = std::fs::read_to_string(dir.path().join("bgctl.yaml")).unwrap();
    for want in [
        "service: {name: myapp-service}",
        "deployment: blue",
        "selector: {app: myapp, version: v1}",
        "deployment: green",
        "selector: {app: myapp, version: v2}",
        "activeEnvironment: blue",
    ] {
        assert!(text.contains(want), "missing `{want}`:\n{text}");
    }
    assert!(
        stderr(&out).contains("Deployment `green`"),
        "{}",
        render(&out)
    );
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"),
        "init only reads"
    );

    let out = run(kube_bgctl(&dir, &["plan", "diff", "--exit-code"])).await;
    code(&out, 0, "diff after init");
    sim.clear_requests();
    let out = run(kube_bgctl(&dir, &["plan", "apply", "--yes"])).await;
    code(&out, 0, "apply after init");
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(writes.is_empty(), "apply wrote: {writes:?}");
    assert_eq!(selector_version(&sim), "v1");

    let out = run(kube_bgctl(&dir, &["switch", "--to", "green", "--yes"])).await;
    code(&out, 0, "switch");
    assert_eq!(selector_version(&sim), "v2");
}

/// Only blue deployed: the other side's Deployment and its `version` label are placeholders;
/// unset, the plan does not load (exit 2, naming them); set, the diff is zero (the Kubernetes
/// provider touches the other side only when it goes live).
#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_placeholder_side_is_named_and_required() {
    let (_sim, dir) = seed_004(false).await;
    let out = run(kube_bgctl(
        &dir,
        &["init", "kubernetes", "--service", "myapp-service"],
    ))
    .await;
    code(&out, 0, "init");
    let text = stdout(&out);
    assert!(
        text.contains("deployment: \"${GREEN_DEPLOYMENT}\""),
        "{text}"
    );
    assert!(text.contains("version: \"${GREEN_VERSION}\""), "{text}");
    std::fs::write(dir.path().join("bgctl.yaml"), &text).unwrap();
    let out = run(kube_bgctl(&dir, &["plan", "validate"])).await;
    code(&out, 2, "placeholders unset");
    assert!(
        stderr(&out).contains("`GREEN_DEPLOYMENT` is not set"),
        "{}",
        render(&out)
    );
    let mut cmd = kube_bgctl(&dir, &["plan", "diff", "--exit-code"]);
    cmd.env("GREEN_DEPLOYMENT", "green")
        .env("GREEN_VERSION", "v2");
    code(&run(cmd).await, 0, "diff with the placeholders set");
}

/// A real HAProxy whose backend has blue1 at weight 100 and green1 at 0: `init haproxy` makes
/// blue1 the live side and green1 the other; zero diff, `plan apply` is up to date and leaves
/// the weights, and `switch --to green` moves the weight.
#[tokio::test(flavor = "multi_thread")]
async fn haproxy_init_has_a_zero_diff_and_switches() {
    let Some(bin) = crate::gateways::haproxy_bin() else {
        return;
    };
    let blue = kong_sim::Backend::start(kong_sim::BackendConfig::new("blue-1"))
        .await
        .unwrap();
    let green = kong_sim::Backend::start(kong_sim::BackendConfig::new("green-1"))
        .await
        .unwrap();
    let hp = crate::gateways::Haproxy::start_with(
        &bin,
        "app",
        &[("blue1", blue.addr(), 100), ("green1", green.addr(), 0)],
    )
    .await;
    let api = format!("tcp://127.0.0.1:{}", hp.api);
    let mut cmd = crate::harness::bgctl(hp.dir.path());
    cmd.args([
        "init",
        "haproxy",
        "--runtime-api",
        &api,
        "--backend",
        "app",
        "--proxy-url",
        &hp.url(),
        "-f",
        "bgctl.yaml",
    ]);
    let out = run(cmd).await;
    code(&out, 0, "init");
    let text = std::fs::read_to_string(hp.dir.path().join("bgctl.yaml")).unwrap();
    assert!(
        text.contains(&format!(
            "- {{name: blue1, address: {}, weight: 100}}",
            blue.addr()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "- {{name: green1, address: {}, weight: 100}}",
            green.addr()
        )),
        "{text}"
    );
    assert!(!text.contains("${"), "{text}");

    let diff = run(with(
        crate::harness::bgctl(hp.dir.path()),
        &["plan", "diff", "--exit-code"],
    ))
    .await;
    code(&diff, 0, "diff after init");
    let apply = run(with(
        crate::harness::bgctl(hp.dir.path()),
        &["plan", "apply", "--yes"],
    ))
    .await;
    code(&apply, 0, "apply after init");
    assert!(stderr(&apply).contains("up to date"), "{}", render(&apply));
    assert_eq!(
        hp.command("get weight app/green1")
            .split_whitespace()
            .next(),
        Some("0")
    );

    let sw = run(with(
        crate::harness::bgctl(hp.dir.path()),
        &["switch", "--to", "green", "--yes"],
    ))
    .await;
    code(&sw, 0, "switch");
    assert_eq!(
        hp.command("get weight app/green1")
            .split_whitespace()
            .next(),
        Some("100")
    );
    assert_eq!(
        hp.command("get weight app/blue1").split_whitespace().next(),
        Some("0")
    );
}

/// `--no-adopt` writes nothing to Kong; the plan's diff then holds exactly the adoption (tag)
/// writes `init` would have made, and nothing that moves traffic.
#[tokio::test(flavor = "multi_thread")]
async fn no_adopt_leaves_the_tags_to_the_first_apply() {
    let stack = Stack::start().await;
    seed_000(&stack, true).await;
    let out = run(init_kong(
        &stack,
        &[
            "--other-upstream",
            "address.v2.service",
            "--no-adopt",
            "-f",
            "bgctl.yaml",
        ],
    ))
    .await;
    code(&out, 0, "init --no-adopt");
    assert!(stack.writes().is_empty(), "{:?}", stack.writes());
    assert!(
        stderr(&out).contains("not adopted (--no-adopt)"),
        "{}",
        render(&out)
    );
    let out = run(with(stack.bgctl(), &["plan", "diff", "--exit-code"])).await;
    code(&out, 2, "diff: adoption pending");
    let diff = stdout(&out);
    assert_eq!(diff.matches("adopt (tag as owned)").count(), 3, "{diff}");
    assert!(!diff.contains("switch"), "{diff}");
}

/// A route needs a `name` or an `id`, and an `id` is a Kong id (a UUID): both are plan errors
/// with their key path, before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_route_is_named_or_identified_by_a_kong_id() {
    let stack = Stack::start().await;
    let plan = stack.plan_from(
        "seed.yaml",
        &[
            ("ACTIVE", "blue"),
            (
                "- {name: address-route, hosts: [address.mydomain.com]}",
                "- {hosts: [address.mydomain.com]}\n    - {id: not-a-uuid, hosts: [b.example.com]}",
            ),
        ],
    );
    let out = run(with_plan(stack.bgctl(), &["plan", "validate"], &plan)).await;
    code(&out, 2, "validate");
    let err = stderr(&out);
    assert!(
        err.contains("`service.routes[0].name`: a route needs a `name` or an `id`"),
        "{err}"
    );
    assert!(
        err.contains("`service.routes[1].id`: `not-a-uuid` is not a Kong id"),
        "{err}"
    );
    assert!(stack.sim.requests().is_empty());
}

/// Without a terminal `init` never guesses which upstream is the other side: with seed 000's
/// v2 upstream in Kong and no `--other-upstream`, the plan gets a placeholder and stderr names
/// the upstreams that could be it.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_the_other_upstream_is_named_not_guessed() {
    let stack = Stack::start().await;
    seed_000(&stack, true).await;
    let out = run(init_kong(&stack, &[])).await;
    code(&out, 0, "init");
    assert!(
        stderr(&out).contains("other upstreams in Kong: `address.v2.service`"),
        "{}",
        render(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("upstream: address-service.green"), "{text}");
    assert!(!text.contains("address.v2.service"), "{text}");
}
