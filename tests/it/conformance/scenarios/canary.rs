//! Canaries: manual gates passed by `bgctl promote` from another process, `abort`, and the
//! automatic rollback when an analysis check fails.

use super::{blue_live, refused, GATED};
use crate::conformance::run::{assert_status_truthful, bgctl_exit, p};
use crate::conformance::target::{stderr, Cap, PlanSpec, Target, Traffic};
use crate::harness::render;

/// Traffic is split with `want` % to green, within the rounding of the system's weights.
async fn assert_split<T: Target>(t: &T, want: f64) {
    match t.traffic().await {
        Traffic::Split(got) if (got - want).abs() < 0.5 => {}
        other => panic!(
            "{}: expected a {want}% split, the system has {other:?}",
            t.name()
        ),
    }
}

/// 10 % → gate → 50 % → gate → 100 %: each `plan apply`/`promote` is its own process (exit 6
/// at a gate, with the split live and recorded as paused), the last one completes (exit 0).
pub async fn canary_gate_promoted_from_second_process<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    assert_split(&t, 10.0).await;
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "paused", "{st}");
    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 6).await;
    assert_split(&t, 50.0).await;
    assert_status_truthful(&t, &plan, t.name()).await;
    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Green, "{}", t.name());
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "completed", "{st}");
    assert!(st["lock"].is_null(), "{st}");
}

/// `abort` at a gate: all traffic back to blue, recorded as aborted, no lock left.
pub async fn abort<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    assert_split(&t, 10.0).await;
    bgctl_exit(&t, &["abort", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "aborted", "{st}");
    assert!(st["lock"].is_null(), "{st}");
}

/// An analysis check fails after traffic moved: the run sends everything back to blue on its
/// own and exits 3, naming the check.
pub async fn automatic_rollback_on_a_failed_check<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(
        &PlanSpec::canary("[{setWeight: 10}, {analysis: {checks: [smoke]}}, {setWeight: 100}]")
            .with_extra("checks:\n  smoke:\n    exec: {command: [\"sh\", \"-c\", \"echo 'smoke: /checkout answered 500' >&2; exit 1\"], timeout: 10s}\n"),
    );
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 3).await;
    let err = stderr(&out);
    assert!(
        err.contains("rolled back") && err.contains("/checkout answered 500"),
        "{}: {}",
        t.name(),
        render(&out)
    );
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    assert!(!t.writes().is_empty());
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert!(st["lock"].is_null(), "{st}");
}
