//! Watching a release (issue 17 item 6) through the real binary against kong-sim, with stdout
//! and stderr captured as a CI log captures them (no terminal): `status --watch` prints each
//! change once, and a long wait prints a progress line instead of silence.

use std::time::Duration;

use crate::harness::{render, run, Stack};

/// `status --watch` without a terminal: the first document, then one more when another
/// process switches traffic, and nothing while nothing changes; it ends cleanly at `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn status_watch_prints_each_change_once() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut apply = stack.bgctl();
    apply.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(apply).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    let mut watch = stack.bgctl();
    watch
        .args(["status", "--watch", "--interval", "200ms", "--no-probe"])
        .args(["--timeout", "8s", "-f"])
        .arg(&plan);
    let watcher = tokio::spawn(run(watch));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut switch = stack.bgctl();
    switch.args(["switch", "--to", "green", "--yes"]).arg(&plan);
    let out = run(switch).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    let out = tokio::time::timeout(Duration::from_secs(30), watcher)
        .await
        .expect("the watch ends at its --timeout")
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let docs: Vec<&str> = stdout.split("--- ").filter(|d| !d.is_empty()).collect();
    // About 30 reads in 6 s; the switch changes traffic and its record (phase, then the
    // verified phase), so 2 to 4 documents, never one per read.
    assert!(
        (2..=4).contains(&docs.len()),
        "{} documents:\n{stdout}",
        docs.len()
    );
    assert!(docs[0].contains("address.v1.service"), "{}", docs[0]);
    let last = docs.last().unwrap();
    assert!(last.contains("address.v2.service"), "{last}");
}

/// A timed pause longer than the progress interval prints `still in progress` lines on a
/// non-terminal stderr; the same run with `-q` prints none.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_wait_without_a_terminal_prints_progress() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[("${PAUSE:-0s}", "12s")]);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("still in progress after"))
        .unwrap_or_else(|| panic!("no progress line in a 12 s pause:\n{stderr}"));
    assert!(line.contains("paused"), "the line names the wait: {line}");

    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[("${PAUSE:-0s}", "12s")]);
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes", "-q"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("still in progress"),
        "{}",
        render(&out)
    );
}
