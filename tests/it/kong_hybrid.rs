//! Kong hybrid mode (issue 15 §3, done-when (c)): kong-sim runs a control plane with three data
//! planes that apply its configuration 0.2 s, 0.5 s and 1 s after a write. The plans verify
//! through the fastest data plane only (`proxyUrl`), so what makes every command return only
//! once the slow data planes serve its step is bgctl's wait on `/clustering/data-planes`: each
//! test samples every data plane's proxy right when the command returns. One data plane cut off
//! from its control plane mid-canary makes the step fail, named; the negative control shows
//! what a "200 from the control plane" would have claimed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kong_sim::SimConfig;

use crate::harness::{answered_by, green_share, render, run, Stack};

const HOST: &str = "address.mydomain.com";

const DELAYS_MS: [u64; 3] = [200, 500, 1000];

async fn hybrid() -> Stack {
    Stack::with_config(SimConfig::hybrid(&DELAYS_MS.map(Duration::from_millis))).await
}

/// Every data plane's share of green, sampled at once (all data planes at the same moment).
async fn shares(stack: &Stack, n: usize) -> Vec<(String, BTreeMap<String, usize>)> {
    let proxies = stack.sim.data_plane_urls();
    let counts = futures::future::join_all(proxies.iter().map(|p| answered_by(p, HOST, n))).await;
    proxies.into_iter().zip(counts).collect()
}

async fn assert_share(stack: &Stack, n: usize, want: f64, tolerance: f64, when: &str) {
    for (proxy, c) in shares(stack, n).await {
        assert!(
            (green_share(&c) - want).abs() <= tolerance,
            "{when}: {proxy} serves {c:?}, expected {:.0}% green",
            want * 100.0
        );
    }
}

/// `bgctl status` (`-o json` when `json`) until its output satisfies `ok` (at most 5 s).
async fn status_until(
    stack: &Stack,
    plan: &std::path::Path,
    json: bool,
    ok: impl Fn(&str) -> bool,
) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        let mut cmd = stack.bgctl();
        if json {
            cmd.args(["-o", "json"]);
        }
        cmd.args(["status", "--no-probe", "-f"]).arg(plan);
        let out = run(cmd).await;
        last = String::from_utf8_lossy(&out.stdout).to_string();
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("status never showed what was expected: {last}");
}

fn canary_plan(stack: &Stack, timeout: &str) -> std::path::PathBuf {
    stack.plan_from(
        "canary.yaml",
        &[(
            "verify: {samples: 400, tolerance: 5, timeout: 10s}",
            &format!("verify: {{samples: 200, tolerance: 6, timeout: {timeout}}}"),
        )],
    )
}

/// A blue-green switch returns only once every data plane serves the new side; a plain `PATCH`
/// on the control plane (the negative control) is answered 200 while the slowest data plane
/// still serves the old side.
#[tokio::test(flavor = "multi_thread")]
async fn a_switch_returns_only_when_every_data_plane_serves_it() {
    let stack = hybrid().await;
    for side in ["blue", "green"] {
        let mut cmd = stack.bgctl();
        cmd.args(["plan", "apply", "--yes"]).arg(stack.plan(side));
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{side}: {}", render(&out));
        assert_share(
            &stack,
            30,
            if side == "green" { 1.0 } else { 0.0 },
            0.0,
            side,
        )
        .await;
        let text = render(&out);
        assert!(
            text.contains("settled: 3 data plane(s) applied the control plane's configuration")
                && text.contains("`kong-dp-3`"),
            "{text}"
        );
    }

    // `status` lists the data planes, all on one configuration once bgctl's last writes (the
    // record, the lock's release) reached them: it shows what they report, so ask a few times.
    let status = status_until(&stack, &stack.plan("green"), false, |s| {
        s.matches("(same as the others)").count() == 3
    })
    .await;
    assert!(status.contains("`kong-dp-2`"), "{status}");

    // Negative control: what "the control plane answered 200" is worth.
    let admin = stack.sim.admin_url();
    let r = reqwest::Client::new()
        .patch(format!("{admin}/services/address-service"))
        .json(&serde_json::json!({"host": "address.v1.service"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let slowest = stack.sim.data_plane_urls()[2].clone();
    let right_after = answered_by(&slowest, HOST, 10).await;
    assert!(
        green_share(&right_after) > 0.99,
        "after the control plane's 200 the slowest data plane still serves green: {right_after:?}"
    );
    let started = Instant::now();
    loop {
        if green_share(&answered_by(&slowest, HOST, 5).await) < 0.01 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never switched");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 10 → gate → 50 → gate → 100: each command returns with every data plane at its step.
#[tokio::test(flavor = "multi_thread")]
async fn canary_steps_return_only_when_every_data_plane_serves_them() {
    let stack = hybrid().await;
    let plan = canary_plan(&stack, "10s");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "first gate: {}", render(&out));
    assert_share(&stack, 400, 0.10, 0.05, "10%").await;

    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "second gate: {}", render(&out));
    assert_share(&stack, 300, 0.50, 0.08, "50%").await;

    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_share(&stack, 30, 1.0, 0.0, "100%").await;
}

/// A data plane that stops syncing mid-canary: the step waits for it until the verification's
/// deadline, fails naming it, and the rollback cannot be confirmed on it either (it still
/// proxies the 10% split), so bgctl exits 4 rather than claiming stable serves everywhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_data_plane_cut_off_mid_canary_fails_the_step_and_is_named() {
    let stack = hybrid().await;
    let plan = canary_plan(&stack, "3s");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));

    assert!(stack.sim.stop_sync(2));
    let started = Instant::now();
    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    let text = render(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited the step's deadline: {:?}",
        started.elapsed()
    );
    assert!(
        text.contains("not every data plane applied the control plane's configuration")
            && text.contains("`kong-dp-3`")
            && text.contains("still reports the configuration it had before the write"),
        "{text}"
    );
    assert!(
        !text.contains("`kong-dp-1` ("),
        "only the lagging one is named: {text}"
    );
    // `status` names the data plane whose configuration differs (once the lock's release
    // reached the live ones).
    let status = status_until(&stack, &plan, true, |s| {
        let v: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
        let differs: Vec<&str> = v["data_planes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["same_as_others"] == false)
            .filter_map(|p| p["hostname"].as_str())
            .collect();
        differs == ["kong-dp-3"]
    })
    .await;
    assert!(status.contains("\"data_planes\""), "{status}");
    let now = shares(&stack, 300).await;
    for (proxy, c) in &now[..2] {
        assert!(green_share(c) < 0.01, "{proxy} is rolled back: {c:?}");
    }
    let (proxy, c) = &now[2];
    assert!(
        (green_share(c) - 0.10).abs() <= 0.05,
        "{proxy} still serves the 10% split it had: {c:?}"
    );
}

/// The same cut-off data plane reconnecting while bgctl waits: the step completes, after it.
/// It reconnects 4 s in, after bgctl's wait for the data planes to agree before the write
/// (at most 3 s) has given up, so it is the wait after the write that sees it catch up.
#[tokio::test(flavor = "multi_thread")]
async fn a_step_waits_for_a_data_plane_that_reconnects() {
    let stack = hybrid().await;
    let plan = canary_plan(&stack, "8s");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    assert_eq!(run(cmd).await.status.code(), Some(6));

    assert!(stack.sim.stop_sync(2));
    let control = stack.sim.control_url();
    let resume = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        let r = reqwest::Client::new()
            .post(format!("{control}/data-planes/3/resume"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    let started = Instant::now();
    let mut cmd = stack.bgctl();
    cmd.args(["promote", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    resume.await.unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert!(
        started.elapsed() >= Duration::from_millis(4800),
        "returned before the data plane reconnected (4 s) and applied (1 s later): {:?}",
        started.elapsed()
    );
    assert_share(&stack, 300, 0.50, 0.08, "50% after the reconnect").await;
}

/// With `proxyUrls` listing every data plane, each switch is also verified through each data
/// plane's proxy (one `verified` event per data plane), after their reports agreed.
#[tokio::test(flavor = "multi_thread")]
async fn with_proxy_urls_every_data_plane_is_also_verified_through_its_proxy() {
    let stack = hybrid().await;
    let urls = stack.sim.data_plane_urls();
    let proxy_line = "    proxyUrl: ${KONG_PROXY_URL}";
    let more = format!("    proxyUrls: [{}, {}]", urls[1], urls[2]);
    for side in ["blue", "green"] {
        let plan = stack.plan_from(
            "seed.yaml",
            &[
                ("ACTIVE", side),
                (proxy_line, &format!("{proxy_line}\n{more}")),
            ],
        );
        let mut cmd = stack.bgctl();
        cmd.args(["-o", "json", "plan", "apply", "--yes"])
            .arg(&plan);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{side}: {}", render(&out));
        let events = |kind: &str| -> Vec<String> {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|e| e["event"] == kind && e["ok"] == true)
                .filter_map(|e| e["detail"].as_str().map(str::to_string))
                .collect()
        };
        // The data planes' own reports are a `settled` event; the proxies' answers `verified`.
        let settled = events("settled");
        assert!(
            settled
                .iter()
                .any(|d| d.contains("3 data plane(s) applied the control plane's configuration")),
            "{settled:#?}"
        );
        let verified = events("verified");
        if side == "green" {
            for url in &urls {
                let want = format!("through {url} (expected 100.0%");
                assert!(
                    verified.iter().any(|d| d.contains(&want)),
                    "no `{want}` in {verified:#?}"
                );
            }
        }
    }
}
