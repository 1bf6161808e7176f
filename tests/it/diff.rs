//! `plan diff` prints every step `apply` would make, each with its exact writes, on stdout —
//! blue-green and canary alike — and writes nothing. Snapshots hold the text; the JSON form is
//! one object per step and per write.

use crate::harness::{filter, render, root, run, Stack};

/// `plan diff` of an example plan against an empty Kong simulator, as text and as JSON.
async fn kong_diff(plan: &str) -> (String, Vec<serde_json::Value>) {
    let stack = Stack::start().await;
    let path = root().join("plans").join(plan);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "diff"]).arg(&path);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "plan", "diff"]).arg(&path);
    let json = run(cmd).await;
    assert_eq!(json.status.code(), Some(0), "{}", render(&json));
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "diff", "--exit-code"]).arg(&path);
    let code = run(cmd).await.status.code();
    assert_eq!(code, Some(2), "`--exit-code`: 2 when there are changes");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--dry-run"]).arg(&path);
    let dry = run(cmd).await;
    assert_eq!(dry.status.code(), Some(0), "{}", render(&dry));
    assert_eq!(
        filter(&String::from_utf8_lossy(&dry.stdout)),
        filter(&String::from_utf8_lossy(&out.stdout)),
        "`apply --dry-run` prints the same steps as `plan diff`"
    );
    assert!(
        stack.writes().is_empty(),
        "diff or dry run wrote: {:?}",
        stack.writes()
    );
    let events = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (render(&out), events)
}

fn of_kind<'a>(events: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == event).collect()
}

/// The canary's diff lists each weight step with its own writes (the mixed upstream and the
/// service pointed at it), the pauses and the gate, not a cut-over to green.
#[tokio::test(flavor = "multi_thread")]
async fn kong_canary_diff_lists_every_step() {
    let (text, events) = kong_diff("kong-canary.yaml").await;
    insta::assert_snapshot!("diff-kong-canary", text);
    let steps = of_kind(&events, "planned_step");
    let kinds: Vec<&str> = steps
        .iter()
        .map(|s| s["step"]["kind"].as_str().unwrap_or("?"))
        .collect();
    assert!(
        kinds.iter().filter(|k| **k == "set_weight").count() >= 2,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"gate") && kinds.contains(&"pause"),
        "{kinds:?}"
    );
    let writes = of_kind(&events, "planned_write");
    assert!(writes
        .iter()
        .all(|w| w["n"].as_u64().is_some() && w["method"].is_string() && w["path"].is_string()));
    assert!(
        events.iter().all(|e| e["time"].is_string()),
        "every event has a timestamp"
    );
}

/// The blue-green diff shows the service and route creations with the switch, not only the
/// upstreams.
#[tokio::test(flavor = "multi_thread")]
async fn kong_blue_green_diff_shows_service_and_route_writes() {
    let (text, events) = kong_diff("kong-blue-green.yaml").await;
    insta::assert_snapshot!("diff-kong-blue-green", text);
    let paths: Vec<String> = of_kind(&events, "planned_write")
        .iter()
        .map(|w| {
            format!(
                "{} {}",
                w["method"].as_str().unwrap_or(""),
                w["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        paths.iter().any(|p| p.contains("/services"))
            && paths.iter().any(|p| p.contains("/routes")),
        "{paths:?}"
    );
}

/// A switch reads the live state twice before it moves traffic: once to plan and confirm, once
/// under the lock; the traffic write uses the read under the lock (the probe writes nothing),
/// instead of a third read of the same state.
#[tokio::test(flavor = "multi_thread")]
async fn a_switch_reads_the_service_twice_before_moving_traffic() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    stack.sim.clear_requests();
    let mut cmd = stack.bgctl();
    cmd.args(["switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let requests = stack.sim.requests();
    let service = "/services/address-service";
    let moved = requests
        .iter()
        .position(|r| r.is_write() && r.path.starts_with(service))
        .expect("the service was written");
    let reads = requests[..moved]
        .iter()
        .filter(|r| r.method == "GET" && r.path == service)
        .count();
    assert_eq!(reads, 2, "{:#?}", &requests[..moved]);
}
