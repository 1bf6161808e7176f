//! `bgctl release` (issue 17 item 3): the next release goes to the side that is not live, read
//! from the target, with no plan edit; through the real binary against kong-sim.

use std::collections::BTreeMap;

use kong_sim::{Backend, BackendConfig};

use crate::harness::{render, run, Stack};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `bgctl ARGS` in the stack's directory and returns the output.
async fn bgctl(stack: &Stack, args: &[&str]) -> std::process::Output {
    let mut cmd = stack.bgctl();
    cmd.args(args);
    run(cmd).await
}

/// Every sampled answer through the proxy came from `side`'s backends (`blue-1`, `green-2`, …).
async fn serving(stack: &Stack, side: &str) -> BTreeMap<String, usize> {
    let split = stack.split(40).await;
    assert!(
        !split.is_empty() && split.keys().all(|k| k.starts_with(&format!("{side}-"))),
        "expected only {side} to answer, got {split:?}"
    );
    split
}

/// The targets of a Kong upstream as Kong has them.
async fn targets(stack: &Stack, upstream: &str) -> Vec<String> {
    let url = format!("{}/upstreams/{upstream}/targets", stack.sim.admin_url());
    let v: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let mut out: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Before anything is live `release` says what to run first (exit 1, no write); then, after
/// `plan apply` made blue live, two `release` runs alternate green, blue with the plan
/// unchanged, each verified through the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn two_releases_alternate_sides_with_no_plan_edit() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let before = std::fs::read(&plan).unwrap();
    let file = plan.to_str().unwrap();

    let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("nothing is live yet"),
        "{}",
        render(&out)
    );
    assert!(
        stderr(&out).contains("bgctl plan apply"),
        "{}",
        render(&out)
    );
    assert!(
        stack.writes().is_empty(),
        "release wrote: {:?}",
        stack.writes()
    );

    let out = bgctl(&stack, &["plan", "apply", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    serving(&stack, "blue").await;

    for side in ["green", "blue", "green"] {
        let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
        assert_eq!(out.status.code(), Some(0), "{side}: {}", render(&out));
        assert!(
            stderr(&out).contains(&format!("releasing `{side}`")),
            "{}",
            render(&out)
        );
        let host = stack.service_host().await;
        let upstream = if side == "blue" {
            "address.v1.service"
        } else {
            "address.v2.service"
        };
        assert_eq!(host, upstream, "{side}: {}", render(&out));
        serving(&stack, side).await;
    }
    assert_eq!(std::fs::read(&plan).unwrap(), before, "the plan was edited");
}

/// A canary plan without `stable`/`canary`: each `release` runs the steps from the live side to
/// the other one, so two releases end on green, then blue.
#[tokio::test(flavor = "multi_thread")]
async fn a_canary_plan_without_roles_releases_from_the_live_side() {
    let stack = Stack::start().await;
    let plan = stack.plan_from(
        "canary.yaml",
        &[
            ("    stable: blue\n    canary: green\n", ""),
            ("      - pause: {}\n", ""),
        ],
    );
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(
        !text.contains("stable:") && !text.contains("pause: {}"),
        "{text}"
    );
    let file = plan.to_str().unwrap();
    // Without roles `plan apply` takes the plan's order: blue is stable, green the canary.
    let seed = stack.plan("blue");
    let out = bgctl(
        &stack,
        &["plan", "apply", "-f", seed.to_str().unwrap(), "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    for (from, to) in [("blue", "green"), ("green", "blue")] {
        let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{from} -> {to}: {}",
            render(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(&format!("`{from}` is live; releasing `{to}`")),
            "{err}"
        );
        assert!(err.contains("canary complete"), "{err}");
        serving(&stack, to).await;
    }
}

/// A release that reverses the plan's roles and stops at a manual gate is continued by
/// `bgctl promote` and ended by `bgctl abort` with the roles it ran with (the recorded ones),
/// not the plan file's: green → blue through two gates, then blue → green aborted back to blue.
#[tokio::test(flavor = "multi_thread")]
async fn promote_and_abort_follow_the_roles_a_release_ran_with() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(
        text.contains("stable: blue") && text.matches("pause: {}").count() == 2,
        "{text}"
    );
    let file = plan.to_str().unwrap();
    // Green live first (the plan's own direction, promoted through both gates).
    let seed = stack.plan("green");
    let out = bgctl(
        &stack,
        &["plan", "apply", "-f", seed.to_str().unwrap(), "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    serving(&stack, "green").await;

    // release: green is live, so blue is the canary — the reverse of the plan file.
    let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "paused at the first gate: {}",
        render(&out)
    );
    assert!(
        stderr(&out).contains("`green` is live; releasing `blue`"),
        "{}",
        render(&out)
    );
    for expect in [Some(6), Some(0)] {
        let out = bgctl(&stack, &["promote", "-f", file, "--yes"]).await;
        assert_eq!(out.status.code(), expect, "{}", render(&out));
    }
    serving(&stack, "blue").await;
    assert_eq!(stack.service_host().await, "address.v1.service");

    // And the other way round, aborted at the first gate: back to blue, the stable side.
    let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert!(
        stderr(&out).contains("`blue` is live; releasing `green`"),
        "{}",
        render(&out)
    );
    let out = bgctl(&stack, &["abort", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    serving(&stack, "blue").await;
}

/// `--set` fills the candidate's `${…}` over the environment and is remembered: the next
/// release, with green live, leaves green's targets as released. A `--set` that would change
/// the live side is refused with no write.
#[tokio::test(flavor = "multi_thread")]
async fn set_fills_the_candidate_and_never_changes_the_live_side() {
    let stack = Stack::start().await;
    let extra = Backend::start(BackendConfig::new("green-3")).await.unwrap();
    let extra_addr = extra.addr().to_string();
    let plan = stack.plan("blue");
    let file = plan.to_str().unwrap();
    let out = bgctl(&stack, &["plan", "apply", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    let set = format!("GREEN_2={extra_addr}");
    let out = bgctl(&stack, &["release", "-f", file, "--yes", "--set", &set]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let green = targets(&stack, "address.v2.service").await;
    assert!(green.contains(&extra_addr), "{green:?}");
    assert!(
        !green.contains(&stack.backends[3].addr().to_string()),
        "the environment's GREEN_2 won over --set: {green:?}"
    );

    // Green is live: a value that shapes green is refused, nothing is written.
    let writes = stack.writes().len();
    let out = bgctl(
        &stack,
        &[
            "release",
            "-f",
            file,
            "--yes",
            "--set",
            "GREEN_1=127.0.0.1:9",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(
        stderr(&out).contains("`--set GREEN_1` changes `green`, which is live"),
        "{}",
        render(&out)
    );
    assert_eq!(stack.writes().len(), writes, "a refused release wrote");

    // The next release (to blue) keeps green as it was released, with GREEN_2 from the record.
    let out = bgctl(&stack, &["release", "-f", file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    serving(&stack, "blue").await;
    assert_eq!(targets(&stack, "address.v2.service").await, green);
    let touched: Vec<String> = stack.writes()[writes..]
        .iter()
        .filter(|w| w.path.contains("address.v2.service"))
        .map(|w| format!("{} {}", w.method, w.path))
        .collect();
    assert!(touched.is_empty(), "the live side was written: {touched:?}");
}

/// `bgctl` as a GitHub Actions job of `actor` would run it.
fn as_ci(stack: &Stack, actor: &str, run_id: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = stack.bgctl();
    cmd.env("GITHUB_ACTOR", actor)
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", run_id)
        .args(args);
    cmd
}

/// History lives in the target: a second runner (another process, another `GITHUB_ACTOR`)
/// sees the first runner's runs, newest first, bounded to the last 20; its own read adds
/// nothing, its own rollback comes first.
#[tokio::test(flavor = "multi_thread")]
async fn history_on_a_second_runner_shows_the_first_runners_releases() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let file = plan.to_str().unwrap().to_string();
    let out = run(as_ci(
        &stack,
        "alice",
        "7",
        &["plan", "apply", "-f", &file, "--yes"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    // 1 apply + 21 releases: one more run than the ring keeps.
    for i in 0..21 {
        let out = run(as_ci(
            &stack,
            "alice",
            "7",
            &["release", "-f", &file, "--yes"],
        ))
        .await;
        assert_eq!(out.status.code(), Some(0), "release {i}: {}", render(&out));
    }
    // After 21 releases from blue, green is live.
    serving(&stack, "green").await;

    let read = |args: &[&str]| {
        let mut all = vec!["history", "-f", file.as_str()];
        all.extend_from_slice(args);
        as_ci(&stack, "bob", "8", &all)
    };
    let out = run(read(&["-o", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["rollout"], "address-service");
    let rows = doc["history"].as_array().unwrap();
    assert_eq!(rows.len(), 20, "{doc:#}");
    let started: Vec<u64> = rows
        .iter()
        .map(|r| r["started"].as_u64().unwrap())
        .collect();
    assert!(
        started.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {started:?}"
    );
    for r in rows {
        assert_eq!(r["who"], "alice", "{r}");
        assert_eq!(
            r["link"], "https://github.com/acme/shop/actions/runs/7",
            "{r}"
        );
        assert_eq!(
            r["command"], "release",
            "the apply fell out of the ring: {r}"
        );
        assert_eq!(
            (&r["phase"], &r["outcome"]),
            (&"completed".into(), &"succeeded".into())
        );
        assert_ne!(r["from"], r["to"], "{r}");
    }
    assert_eq!(
        (&rows[0]["from"], &rows[0]["to"]),
        (&"blue".into(), &"green".into())
    );
    assert_eq!(
        (&rows[1]["from"], &rows[1]["to"]),
        (&"green".into(), &"blue".into())
    );

    // Bob's own rollback is the newest entry; his reads added none.
    let out = run(as_ci(
        &stack,
        "bob",
        "8",
        &["rollback", "-f", &file, "--yes"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let out = run(read(&["-n", "3"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains('→')).collect();
    assert_eq!(lines.len(), 4, "header and 3 rows:\n{text}");
    assert!(
        lines[1].contains("bob")
            && lines[1].contains("rollback")
            && lines[1].contains("green → blue"),
        "{text}"
    );
    assert!(
        lines[2].contains("alice") && lines[2].contains("release"),
        "{text}"
    );
    assert!(
        text.contains("https://github.com/acme/shop/actions/runs/8"),
        "{text}"
    );
}
