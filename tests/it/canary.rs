//! Canary releases on Kong end to end: weighted steps measured through the proxy, manual gates
//! promoted from another process, abort, Ctrl-C, and verification that waits for a slow data
//! plane.

use kong_sim::SimConfig;

use crate::harness::{green_share, render, run, Stack};

/// 10 → gate → 50 → gate → 100, each gate passed by `bgctl promote` in a separate process; the
/// observed share through the proxy matches each step and blue keeps its 2:1 ratio inside its share.
#[tokio::test(flavor = "multi_thread")]
async fn canary_steps_match_observed_share_and_gates_promote_from_another_process() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "paused at the first gate: {}",
        render(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("requested 10%, achieved 10.000%"),
        "{}",
        render(&out)
    );
    let c = stack.split(900).await;
    assert!((green_share(&c) - 0.10).abs() < 0.035, "10%: {c:?}");
    let (b1, b2) = (c["blue-1"] as f64, c["blue-2"] as f64);
    assert!(
        (b1 / (b1 + b2) - 2.0 / 3.0).abs() < 0.05,
        "blue keeps 100/50 inside its share: {c:?}"
    );

    // Resuming with `plan apply` stops at the same gate again; status says what it waits for.
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(6));
    let mut cmd = stack.bgctl();
    cmd.args(["status", "--no-probe", "-f"]).arg(&plan);
    let status = String::from_utf8_lossy(&run(cmd).await.stdout).to_string();
    assert!(
        status.contains("manual gate at step 3") && status.contains("10% requested"),
        "{status}"
    );

    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "paused at the second gate: {}",
        render(&out)
    );
    let c = stack.split(600).await;
    assert!((green_share(&c) - 0.50).abs() < 0.05, "50%: {c:?}");

    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(stack.service_host().await, "address.v2.service");
    let c = stack.split(200).await;
    assert!((green_share(&c) - 1.0).abs() < f64::EPSILON, "100%: {c:?}");
    let mixed = reqwest::get(format!(
        "{}/upstreams/address.v2.service.bgctl-canary",
        stack.sim.admin_url()
    ))
    .await
    .unwrap();
    assert_eq!(
        mixed.status().as_u16(),
        404,
        "the mixed upstream is removed after promotion"
    );
}

/// `abort` at a gate sends everything back to stable and records it.
#[tokio::test(flavor = "multi_thread")]
async fn abort_returns_all_traffic_to_stable() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(6));
    let mut cmd = stack.bgctl();
    cmd.args(["abort", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(stack.service_host().await, "address.v1.service");
    let c = stack.split(200).await;
    assert!(green_share(&c) < f64::EPSILON, "{c:?}");
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "status", "--no-probe", "-f"])
        .arg(&plan);
    let status: serde_json::Value = serde_json::from_slice(&run(cmd).await.stdout).unwrap();
    assert_eq!(status["record"]["phase"], "aborted");
}

/// Ctrl-C during a canary: traffic goes back to stable (the default policy), exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_rolls_back_and_exits_130() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[("${PAUSE:-0s}", "60s")]);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    for (k, v) in stack.bgctl().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.args(["plan", "apply", "--yes"])
        .arg(&plan)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait (bounded) until the canary is at 10% and pausing.
    let mut paused = false;
    for _ in 0..100 {
        if stack.service_host().await.ends_with("bgctl-canary")
            && stack
                .writes()
                .iter()
                .filter(|r| r.path.starts_with("/services/"))
                .count()
                >= 2
        {
            paused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(paused, "the canary never reached its timed pause");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rolled back"),
        "{}",
        render(&out)
    );
    assert_eq!(stack.service_host().await, "address.v1.service");
}

/// With a data plane that lags the Admin API (`--propagation-delay`), verification keeps
/// sampling until the proxy agrees, then passes.
#[tokio::test(flavor = "multi_thread")]
async fn verification_waits_for_a_slow_data_plane() {
    let stack = Stack::with_config(SimConfig {
        propagation_delay: std::time::Duration::from_millis(1500),
        ..SimConfig::default()
    })
    .await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let samples: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "verify_sample")
        .collect();
    assert!(samples.len() >= 2, "it sampled more than once: {samples:?}");
    assert!(
        samples[0]["observed"].as_f64().unwrap() < 5.0,
        "the first sample still saw the old config: {:?}",
        samples[0]
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "verified" && e["ok"] == true),
        "{events:?}"
    );
}

/// `plans/kong-canary.yaml` runs as written: 10% → timed pause → 50% → gate; a `--wait`ing run
/// exits 0 once another process promotes, and the promoting run finishes at 100%.
#[tokio::test(flavor = "multi_thread")]
async fn example_canary_plan_with_wait_and_promote() {
    let stack = Stack::start().await;
    let plan = crate::harness::root().join("plans/kong-canary.yaml");
    let mut cmd = stack.bgctl();
    cmd.env("PAUSE", "1s")
        .env("CLEANUP_DELAY", "0s")
        .args(["plan", "apply", "--yes", "--wait", "--timeout", "60s"])
        .arg(&plan);
    let waiter = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    // Wait (bounded) until the rollout is recorded at the gate.
    let mut at_gate = false;
    for _ in 0..200 {
        let mut st = stack.bgctl();
        st.args(["-o", "json", "status", "--no-probe", "-f"])
            .arg(&plan);
        let out = run(st).await;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
            if v["record"]["waiting"]
                .as_str()
                .is_some_and(|w| w.starts_with("manual gate"))
            {
                at_gate = true;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(at_gate, "the example plan never reached its gate");
    let mut cmd = stack.bgctl();
    cmd.env("CLEANUP_DELAY", "0s")
        .args(["promote", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let waited = waiter.await.unwrap();
    assert_eq!(waited.status.code(), Some(0), "{}", render(&waited));
    assert!(
        String::from_utf8_lossy(&waited.stderr).contains("was passed by"),
        "{}",
        render(&waited)
    );
    assert_eq!(stack.service_host().await, "address.v2.service");
}

/// A canary whose first step is a gate, on a target where nothing is live yet: the gate is
/// recorded where another runner can see it (`promote` continues it), not lost with a traffic
/// object that does not exist.
#[tokio::test(flavor = "multi_thread")]
async fn a_gate_before_any_weight_on_a_fresh_target_is_recorded() {
    let stack = Stack::start().await;
    let plan = stack.plan_from(
        "canary.yaml",
        &[(
            "    steps:\n      - setWeight: 10\n",
            "    steps:\n      - pause: {}\n      - setWeight: 10\n",
        )],
    );
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "status", "-f"]).arg(&plan);
    let out = run(cmd).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let st: serde_json::Value = serde_json::from_str(&text).expect("status JSON");
    assert_eq!(
        st["record"]["phase"], "paused",
        "the gate is recorded: {text}"
    );
    assert_eq!(
        st["traffic"]["env"], "blue",
        "while it waits, stable serves: {text}"
    );
    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
}
