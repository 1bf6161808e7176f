//! Several Kong nodes over one database (issue 15 §1): kong-sim runs three nodes whose data
//! planes pick a write up after 0 s, 1 s and 2 s. With `provider.kong.proxyUrls` bgctl verifies
//! (and probes) through every node, so when a switch returns every node already serves the new
//! side; verifying through the first node alone would return while the others still serve the
//! old one, which the tests below would see.

use std::time::Duration;

use bgctl::analysis::checks::{run_check, CheckContext, Measurement, Outcome, ProxyTarget};
use bgctl::plan::model::CheckSpec;
use kong_sim::{Backend, BackendConfig, SimConfig};

use crate::harness::{answered_by, render, run, Stack};

const HOST: &str = "address.mydomain.com";

const DELAYS_MS: [u64; 3] = [0, 1000, 2000];

async fn cluster() -> Stack {
    Stack::with_config(SimConfig::cluster(&DELAYS_MS.map(Duration::from_millis))).await
}

/// The seed plan with every node's proxy listed (`proxyUrl` is node 1, `proxyUrls` the rest).
fn plan(stack: &Stack, active: &str) -> std::path::PathBuf {
    let urls = stack.sim.proxy_urls();
    let more = format!("    proxyUrls: [{}, {}]", urls[1], urls[2]);
    let proxy_line = "    proxyUrl: ${KONG_PROXY_URL}";
    stack.plan_from(
        "seed.yaml",
        &[
            ("ACTIVE", active),
            (proxy_line, &format!("{proxy_line}\n{more}")),
        ],
    )
}

fn json_events(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A blue-green release and switch: when each command returns, every node serves the side it
/// reported, and the report has one verification per node.
#[tokio::test(flavor = "multi_thread")]
async fn switch_is_done_only_when_every_node_serves_it() {
    let stack = cluster().await;
    let proxies = stack.sim.proxy_urls();
    let plan = plan(&stack, "blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    for proxy in &proxies {
        let c = answered_by(proxy, HOST, 12).await;
        assert!(c.keys().all(|k| k.starts_with("blue")), "{proxy}: {c:?}");
    }

    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "switch", "--to", "green", "--yes", "-f"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    // At once, before the slowest node's 2 s could pass by itself.
    for proxy in &proxies {
        let c = answered_by(proxy, HOST, 12).await;
        assert!(c.keys().all(|k| k.starts_with("green")), "{proxy}: {c:?}");
    }
    let events = json_events(&out.stdout);
    let verified: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "verified" && e["ok"] == true)
        .filter_map(|e| e["detail"].as_str())
        .collect();
    for proxy in &proxies {
        assert!(
            verified.iter().any(|d| d.contains(proxy.as_str())),
            "no verification through {proxy}: {verified:?}"
        );
    }
    let slow_samples = events
        .iter()
        .filter(|e| e["event"] == "verify_sample" && e["node"] == proxies[2].as_str())
        .count();
    assert!(
        slow_samples >= 2,
        "the 2 s node was sampled until it agreed"
    );
}

/// `proxyUrls` is checked like `proxyUrl`: each a URL, none listed twice.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_urls_are_validated() {
    let stack = Stack::start().await;
    let proxy_line = "    proxyUrl: ${KONG_PROXY_URL}";
    let plan = stack.plan_from(
        "seed.yaml",
        &[
            ("ACTIVE", "blue"),
            (
                proxy_line,
                &format!("{proxy_line}\n    proxyUrls: [\"${{KONG_PROXY_URL}}/\", \"not a url\"]"),
            ),
        ],
    );
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "validate"]).arg(&plan);
    let out = run(cmd).await;
    assert_ne!(out.status.code(), Some(0), "{}", render(&out));
    let text = render(&out);
    assert!(
        text.contains("provider.kong.proxyUrls[0]") && text.contains("listed twice"),
        "{text}"
    );
    assert!(text.contains("provider.kong.proxyUrls[1]"), "{text}");
}

/// A probe check sends its round through every node and fails when one node fails, naming it.
#[tokio::test]
async fn probe_checks_go_through_every_node() {
    let ok = Backend::start(BackendConfig::new("green"))
        .await
        .expect("backend");
    let dead = format!("http://127.0.0.1:{}", crate::prometheus::free_port());
    let spec: CheckSpec = serde_yaml_ng::from_str("probe: {through: proxy, requests: 20}").unwrap();
    let mut ctx = CheckContext::new(Duration::from_secs(20));
    ctx.proxy = Some(ProxyTarget {
        url: ok.url(),
        host: None,
        path: "/".into(),
    });
    let on = |_: &str, _: &Measurement| {};
    let v = run_check("probe", &spec, &ctx, &on).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);

    ctx.other_proxies = vec![ok.url(), dead.clone()];
    let v = run_check("probe", &spec, &ctx, &on).await;
    assert_eq!(v.outcome, Outcome::Fail, "{}", v.summary);
    assert!(v.asked.ends_with("and through 2 more nodes"), "{}", v.asked);
    let m = &v.measurements[0];
    assert!(m.detail.contains(&format!("{dead}: ")), "{}", m.detail);
    assert!(
        m.value
            .as_deref()
            .unwrap_or_default()
            .contains("(20 of 20)"),
        "{m:?}"
    );
    assert!(
        m.value.as_deref().unwrap_or_default().contains("(0 of 20)"),
        "{m:?}"
    );
    assert_eq!(
        ok.request_count(),
        20 + 2 * 20,
        "the live nodes each got the full round"
    );
}

/// A 10 → 50 → 100 canary on the three nodes: every step is verified through every node (one
/// `verified` event per node and step), and at the end every node serves the canary only.
#[tokio::test(flavor = "multi_thread")]
async fn canary_steps_are_verified_on_every_node() {
    let stack = cluster().await;
    let proxies = stack.sim.proxy_urls();
    let proxy_line = "    proxyUrl: ${KONG_PROXY_URL}";
    let more = format!("    proxyUrls: [{}, {}]", proxies[1], proxies[2]);
    let plan = stack.plan_from(
        "canary.yaml",
        &[
            (proxy_line, &format!("{proxy_line}\n{more}")),
            // No manual gates: the run goes 10 → 50 → 100 by itself.
            ("      - pause: {}\n", ""),
        ],
    );
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    for proxy in &proxies {
        let c = answered_by(proxy, HOST, 12).await;
        assert!(c.keys().all(|k| k.starts_with("green")), "{proxy}: {c:?}");
    }
    let events = json_events(&out.stdout);
    let verified: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "verified" && e["ok"] == true)
        .filter_map(|e| e["detail"].as_str())
        .collect();
    for proxy in &proxies {
        for share in ["10.0", "50.0", "100.0"] {
            let want = format!("through {proxy} (expected {share}%");
            assert!(
                verified.iter().any(|d| d.contains(&want)),
                "no `{want}` in {verified:#?}"
            );
        }
    }
}
