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
