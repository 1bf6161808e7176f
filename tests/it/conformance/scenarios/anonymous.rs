//! Apps that do not identify themselves (issue 13 item 1): real backends do not send
//! `X-Backend: green`. Verification then checks health through the proxy against the sample
//! taken before the change and says the split was not verifiable; a plan that asks for identity
//! the live side does not carry is refused before any write; an `identity` list names every
//! value a side sends, and a failure says what was seen. A target without a data plane bgctl
//! can sample (`Cap::Proxy`: Kubernetes) refuses a `verify` block at validation instead.
//!
//! Figures (`--nocapture`): exit code and wall time of each run, for `docs/reliability.md`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{blue_live, refused, GATED, THREE_STEPS};
use crate::conformance::run::{assert_status_truthful, p, spawn, unique};
use crate::conformance::target::{stderr, Cap, PlanSpec, Target, Traffic};
use crate::harness::render;

/// A copy of `plan` whose top-level `verify` block gains `lines` (two-space indented `key:
/// value` lines); a plan without one gets it (`samples: 10` when `lines` is empty).
pub fn with_verify(plan: &Path, lines: &str) -> PathBuf {
    let text = std::fs::read_to_string(plan).expect("plan");
    let text = if text.contains("\nverify:\n") {
        text.replacen("\nverify:\n", &format!("\nverify:\n{lines}"), 1)
    } else {
        let lines = if lines.is_empty() {
            "  samples: 10\n"
        } else {
            lines
        };
        format!("{text}verify:\n{lines}")
    };
    copy(plan, &text)
}

/// A copy of `plan` with `identity: <value>` (YAML) under environment `env`.
pub fn with_identity(plan: &Path, env: &str, value: &str) -> PathBuf {
    let text = std::fs::read_to_string(plan).expect("plan");
    let (head, envs) = text.split_once("\nenvironments:\n").expect("environments");
    let at = format!("  {env}:\n");
    assert!(envs.contains(&at), "no environment `{env}` in {text}");
    let envs = envs.replacen(&at, &format!("{at}    identity: {value}\n"), 1);
    copy(plan, &format!("{head}\nenvironments:\n{envs}"))
}

/// A copy of a canary `plan` without `strategy.canary.verify` (the top-level `verify` stays).
fn without_canary_verify(plan: &Path) -> PathBuf {
    let text = std::fs::read_to_string(plan).expect("plan");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("    verify:"))
        .collect();
    assert_ne!(
        kept.len(),
        text.lines().count(),
        "no canary verify in {text}"
    );
    copy(plan, &(kept.join("\n") + "\n"))
}

fn copy(plan: &Path, text: &str) -> PathBuf {
    let path = plan.with_file_name(format!("plan-{}.yaml", unique()));
    std::fs::write(&path, text).expect("write plan");
    path
}

/// Makes every backend of the target stop sending `X-Backend`.
fn anonymous<T: Target>(t: &T) {
    for env in ["blue", "green"] {
        let backends = t.backends(env);
        assert!(!backends.is_empty(), "{}: no `{env}` backends", t.name());
        for b in backends {
            b.set_named(false);
        }
    }
}

/// Runs `bgctl args…`, requires `code`, prints the figure; returns the output.
async fn run<T: Target>(t: &T, what: &str, args: &[&str], code: i32) -> std::process::Output {
    let (out, took) = spawn(t, args).wait(Duration::from_mins(1)).await;
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}: {what}: {}",
        t.name(),
        render(&out)
    );
    println!(
        "figure: {} {what}: exit {code} in {:.1}s",
        t.name(),
        took.as_secs_f64()
    );
    out
}

fn says(out: &std::process::Output, what: &str) {
    assert!(
        stderr(out).contains(what),
        "expected `{what}` in: {}",
        render(out)
    );
}

/// Backends without `X-Backend`: a fresh apply, a switch, `rollback` and `switch --to` all exit
/// 0 with traffic where they said (read from the system), each saying the split itself was not
/// verifiable, and none waits out the verification timeout. Before the fix each ended in exit
/// 3 or 4 after sampling until the timeout.
pub async fn anonymous_blue_green<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await {
        return;
    }
    anonymous(&t);
    let blue = t.plan(&PlanSpec::blue_green("blue"));
    let green = t.plan(&PlanSpec::blue_green("green"));
    // Where blue already serves (HAProxy's configuration) this may move nothing.
    run(&t, "fresh apply", &["plan", "apply", "--yes", p(&blue)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    for (what, args, to) in [
        (
            "switch",
            vec!["plan", "apply", "--yes", p(&green)],
            Traffic::Green,
        ),
        (
            "rollback",
            vec!["rollback", "--yes", "-f", p(&green)],
            Traffic::Blue,
        ),
        (
            "switch --to green",
            vec!["switch", "--to", "green", "--yes", "-f", p(&green)],
            Traffic::Green,
        ),
    ] {
        let (out, took) = spawn(&t, &args).wait(Duration::from_mins(1)).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {what}: {}",
            t.name(),
            render(&out)
        );
        println!(
            "figure: {} anonymous {what}: exit 0 in {:.1}s",
            t.name(),
            took.as_secs_f64()
        );
        says(&out, "verified (health only)");
        says(
            &out,
            "the split itself was not verifiable: the answers carry no `X-Backend` header",
        );
        assert!(
            took < Duration::from_secs(5),
            "{}: {what} took {took:?}: it waited for a header that never comes",
            t.name()
        );
        assert_eq!(t.traffic().await, to, "{}: after {what}", t.name());
    }
    let st = assert_status_truthful(&t, &green, t.name()).await;
    assert!(st["lock"].is_null(), "{st}");
}

/// Negative control: green's app answers 500 to every request (its `/health` still says ok,
/// so the probes pass and traffic moves). Health-only verification catches it against blue's
/// clean baseline and bgctl rolls back: exit 3, blue serves, the output names the 500s. So
/// health-only verification can fail.
pub async fn anonymous_failing_green_rolls_back<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await {
        return;
    }
    anonymous(&t);
    blue_live(&t).await;
    for b in t.backends("green") {
        b.set_error_rate(1.0);
    }
    let green = t.plan(&PlanSpec::blue_green("green"));
    let out = run(
        &t,
        "failing anonymous green",
        &["plan", "apply", "--yes", p(&green)],
        3,
    )
    .await;
    says(&out, "HTTP 500 ×");
    says(&out, "before the change 0 of");
    says(&out, "not verifiable");
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
}

/// The plan asks for identity (`verify.header: X-Backend`) and the live side's answers do not
/// carry it: refused before any write (exit 2; the write log is empty; blue still serves),
/// naming what was seen.
pub async fn explicit_identity_missing_refused_before_any_write<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await {
        return;
    }
    anonymous(&t);
    blue_live(&t).await;
    let green = with_verify(
        &t.plan(&PlanSpec::blue_green("green")),
        "  header: X-Backend\n",
    );
    let out = run(
        &t,
        "identity asked, not carried",
        &["plan", "apply", "--yes", p(&green)],
        2,
    )
    .await;
    says(&out, "do not carry it; nothing was changed");
    says(&out, "saw no `X-Backend` ×");
    assert!(
        t.writes().is_empty(),
        "{}: a refused run wrote {:?}",
        t.name(),
        t.writes()
    );
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
}

/// `identity` as a list: with the values green's targets do not send, the switch fails
/// verification at once (no wait for the timeout), rolls back (exit 3) and says what came
/// back (`saw `green-1` ×N`); with the right list it verifies the split (exit 0).
pub async fn identity_list_reports_what_was_seen<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await {
        return;
    }
    blue_live(&t).await;
    let base = with_identity(
        &t.plan(&PlanSpec::blue_green("green")),
        "blue",
        "[blue-1, blue-2]",
    );
    let wrong = with_identity(&base, "green", "[v2-a, v2-b]");
    let (out, took) = spawn(&t, &["plan", "apply", "--yes", p(&wrong)])
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(3), "{}: {}", t.name(), render(&out));
    println!(
        "figure: {} identity list not sent by green: exit 3 in {:.1}s",
        t.name(),
        took.as_secs_f64()
    );
    says(&out, "saw `green-1` ×");
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    let right = with_identity(&base, "green", "[green-1, green-2]");
    let out = run(
        &t,
        "identity list right",
        &["plan", "apply", "--yes", p(&right)],
        0,
    )
    .await;
    says(&out, "verified: `green` answered 100.0%");
    assert_eq!(t.traffic().await, Traffic::Green, "{}", t.name());
}

/// A top-level `verify` (and no `strategy.canary.verify`) verifies canary steps too: green's
/// app answers 500, the 10 % step fails health-only verification and the canary goes back to
/// blue (exit 3). Before the fix the steps went unverified and the canary completed.
pub async fn top_level_verify_checks_canary_steps<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await || refused(&t, Cap::Canary).await {
        return;
    }
    anonymous(&t);
    blue_live(&t).await;
    for b in t.backends("green") {
        b.set_error_rate(1.0);
    }
    let canary = without_canary_verify(&t.plan(&PlanSpec::canary(THREE_STEPS)));
    let out = run(
        &t,
        "canary, top-level verify",
        &["plan", "apply", "--yes", p(&canary)],
        3,
    )
    .await;
    says(&out, "HTTP 500 ×");
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
}

/// A canary of apps without `X-Backend`: the 10 % step is verified by health (exit 6 at the
/// gate, the split live), and `abort` sends everything back to blue: exit 0, not 4.
pub async fn anonymous_canary_abort<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Proxy).await || refused(&t, Cap::Canary).await {
        return;
    }
    anonymous(&t);
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    let out = run(
        &t,
        "anonymous canary to the gate",
        &["plan", "apply", "--yes", p(&plan)],
        6,
    )
    .await;
    says(&out, "verified (health only)");
    assert!(
        matches!(t.traffic().await, Traffic::Split(_)),
        "{}: {:?}",
        t.name(),
        t.traffic().await
    );
    let out = run(
        &t,
        "anonymous abort",
        &["abort", "--yes", "-f", p(&plan)],
        0,
    )
    .await;
    says(&out, "verified (health only)");
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
}
