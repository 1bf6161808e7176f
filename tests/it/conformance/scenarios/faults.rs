//! Crash at any point and a lost answer at any write, for a fresh apply, a switch and the
//! 10 → 50 → 100 canary (folded from `reliability.rs` §1 and `reliability_k8s.rs`, with every
//! check either made; provider-specific ones are the target's hooks).
//!
//! **Crash.** One reference run writes down the writes. Then, for each write `k`, a fresh
//! system gets a hang on exactly that write; when it is pending the test SIGKILLs bgctl,
//! clears the fault and checks: the answered writes are exactly the reference's first `k`;
//! `status` agrees with the system; **Restore** — `rollback` (`abort` for the canary) makes
//! blue serve (the killed run's lock is broken with `pid N is not running on this host`, or —
//! where the lock's holder is not written yet — exit 5 naming it, then `--force-unlock`);
//! **Converge** — `plan apply` reaches the plan's end state (past the lock the same way, never
//! silently), the record says `completed`, one more apply writes nothing.
//!
//! **Lost answer.** The write is carried out and its answer lost (connection reset): the run
//! must still exit 0 at the end state within its `--timeout`, never claim "nothing was
//! changed", `status` must agree, and the system must then converge as above.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use super::{refused, THREE_STEPS};
use crate::conformance::run::{
    assert_no_panic, assert_status_truthful, bgctl, bgctl_exit, names_the_holder, p, spawn,
};
use crate::conformance::target::{
    stderr, wave_siblings, Cap, Fault, PlanSpec, Target, Traffic, Write,
};
use crate::harness::render;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    /// `plan apply` of the blue-green plan (blue) on the untouched system.
    Fresh,
    /// `plan apply` of the green plan with blue live.
    Switch,
    /// `plan apply` of the 10 → 50 → 100 canary with blue live.
    Canary,
    /// `plan apply` of a canary with a header route set and removed (`header.rs`).
    HeaderCanary,
    /// `plan apply` of a canary with a mirror set and removed (`header.rs`).
    MirrorCanary,
}

impl Stage {
    fn spec(self) -> PlanSpec {
        match self {
            Stage::Fresh => PlanSpec::blue_green("blue"),
            Stage::Switch => PlanSpec::blue_green("green"),
            Stage::Canary => PlanSpec::canary(THREE_STEPS),
            Stage::HeaderCanary => PlanSpec::canary(super::header::SET_AND_REMOVE),
            Stage::MirrorCanary => PlanSpec::canary(super::header::MIRROR_SET_AND_REMOVE),
        }
    }

    fn end(self) -> Traffic {
        match self {
            Stage::Fresh => Traffic::Blue,
            Stage::Switch | Stage::Canary | Stage::HeaderCanary | Stage::MirrorCanary => {
                Traffic::Green
            }
        }
    }

    fn branches(self) -> &'static [Branch] {
        match self {
            Stage::Fresh => &[Branch::Converge],
            Stage::Switch | Stage::Canary | Stage::HeaderCanary | Stage::MirrorCanary => {
                &[Branch::Restore, Branch::Converge]
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Branch {
    Restore,
    Converge,
}

async fn setup<T: Target>(stage: Stage) -> (T, PathBuf) {
    let t = T::start().await;
    let blue = t.plan(&PlanSpec::blue_green("blue"));
    let plan = if stage == Stage::Fresh {
        blue.clone()
    } else {
        bgctl_exit(&t, &["plan", "apply", "--yes", p(&blue)], 0).await;
        t.plan(&stage.spec())
    };
    t.clear_log();
    (t, plan)
}

/// The run to completion once: its writes are the fault points.
async fn reference_writes<T: Target>(stage: Stage) -> Vec<Write> {
    let (t, plan) = setup::<T>(stage).await;
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, stage.end(), "{} reference run", t.name());
    t.writes()
}

fn keys(w: &[Write]) -> Vec<String> {
    w.iter().map(Write::key).collect()
}

/// After `rollback`/`abort`: blue serves. Exit 1 "nothing to roll back to" (killed before
/// anything was recorded) and exit 2 "already live" are fine when blue serves; exit 4 is not
/// (nothing is uncertain here). Says how.
async fn assert_restored<T: Target>(t: &T, out: &Output, ctx: &str) -> String {
    let code = out.status.code();
    let err = stderr(out);
    let how = match code {
        Some(0) if err.contains("bringing it back first") => {
            "rollback (recreated blue from its manifest)"
        }
        Some(0) => "restored",
        Some(1) if err.contains("nothing to roll back to") => "nothing to roll back",
        Some(2) if err.contains("is already live") => "already live",
        _ => panic!("{ctx}: restore failed: {}", render(out)),
    };
    match t.traffic().await {
        Traffic::Blue => t.after_restore(ctx).await,
        Traffic::Missing if code == Some(1) => {}
        other => panic!(
            "{ctx}: stable is not serving after restore ({other:?}): {}",
            render(out)
        ),
    }
    how.to_string()
}

/// A run that met the lock a killed run left: it broke it saying why (the holder's pid is not
/// running on this host) — never silently — or, where the lock's holder was not written yet
/// (HAProxy), exited 5 naming it. Returns how, or `None` for exit 5.
fn past_dead_lock<T: Target>(t: &T, out: &Output, ctx: &str) -> Option<&'static str> {
    if out.status.code() == Some(5) {
        assert!(names_the_holder(t, out), "{ctx}: {}", render(out));
        return None;
    }
    assert!(
        stderr(out).contains("breaking the lock of tester@")
            && stderr(out).contains("is not running on this host"),
        "{ctx}: a killed run's lock is never silently stolen: {}",
        render(out)
    );
    Some("dead holder's lock broken with a message")
}

/// `plan apply` converges: while a lock is left (`locked`) it breaks it with a message (the
/// holder's pid is gone), or exits 5 naming the holder and `--force-unlock` is needed — unless
/// the killed run got past its last traffic write and the apply finds nothing to change (exit 0
/// "up to date", no lock taken; the lock stays visible until it expires). Then the end state, a
/// `completed` record, and an idempotent re-apply.
async fn converge<T: Target>(t: &T, plan: &Path, end: Traffic, locked: bool, ctx: &str) -> String {
    let mut out = bgctl(t, &["plan", "apply", "--yes", p(plan)]).await;
    let up_to_date = out.status.code() == Some(0) && stderr(&out).contains("up to date");
    let mut how = if locked && !up_to_date {
        if let Some(how) = past_dead_lock(t, &out, ctx) {
            assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
            how.to_string()
        } else {
            out = bgctl(t, &["plan", "apply", "--yes", "--force-unlock", p(plan)]).await;
            assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
            "exit 5, then --force-unlock".to_string()
        }
    } else {
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
        if up_to_date { "up to date" } else { "apply" }.to_string()
    };
    assert_eq!(t.traffic().await, end, "{ctx}: not converged after {how}");
    how.push_str(&t.after_converge(locked && up_to_date, &out, ctx).await);
    let st = assert_status_truthful(t, plan, ctx).await;
    assert_eq!(st["record"]["phase"], "completed", "{ctx}: {st}");
    // Converged means idempotent: one more apply writes nothing.
    t.clear_log();
    bgctl_exit(t, &["plan", "apply", "--yes", p(plan)], 0).await;
    assert!(
        t.writes().is_empty(),
        "{ctx}: re-apply wrote {:?}",
        t.writes()
    );
    how
}

async fn kill_at<T: Target>(stage: Stage, reference: &[Write], k: usize, branch: Branch) -> String {
    let (t, plan) = setup::<T>(stage).await;
    let ctx = format!(
        "{} {stage:?} kill at write {k} ({}), {branch:?}",
        t.name(),
        reference[k].key()
    );
    t.arm(reference, k, Fault::Hang);
    let mut child = spawn(&t, &["plan", "apply", "--yes", p(&plan)]);
    let mut reached = false;
    for _ in 0..1500 {
        if t.fault_met(reference, k, Fault::Hang) {
            reached = true;
            break;
        }
        assert!(!child.exited(), "{ctx}: bgctl exited before the kill point");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reached, "{ctx}: never reached the kill point");
    let all = t.writes();
    if all.len() > k {
        // Where the system logs the pending write too (kong-sim, the proxy), it is write `k`.
        assert_eq!(
            all[k].key(),
            reference[k].key(),
            "{ctx}: the pending write is not write {k}"
        );
    }
    let answered: Vec<Write> = all.into_iter().filter(|w| w.answered).collect();
    // The writes before `k`, then at most the rest of `k`'s wave (made concurrently with it,
    // so any of them may have been answered while `k` hangs), and nothing after that.
    let siblings = wave_siblings(reference, k);
    let overtaken = answered.len().saturating_sub(k).min(siblings);
    let mut expected = keys(&reference[..k]);
    expected.extend(std::iter::repeat_n(reference[k].key(), overtaken));
    assert_eq!(
        keys(&answered),
        expected,
        "{ctx}: the writes differ from the reference run (write {k} may be overtaken by at most the {siblings} write(s) of its wave after it)"
    );
    child.signal("KILL");
    let _ = child.wait(Duration::from_secs(10)).await;
    t.clear_faults();

    let st = assert_status_truthful(&t, &plan, &ctx).await;
    t.after_kill(&st, &ctx).await;
    let locked = !st["lock"].is_null();
    match branch {
        Branch::Restore => {
            let cmd = if matches!(
                stage,
                Stage::Canary | Stage::HeaderCanary | Stage::MirrorCanary
            ) {
                "abort"
            } else {
                "rollback"
            };
            let out = bgctl(&t, &[cmd, "--yes", "-f", p(&plan)]).await;
            let how = if locked && out.status.code() == Some(5) {
                assert!(names_the_holder(&t, &out), "{ctx}: {}", render(&out));
                let out = bgctl(&t, &[cmd, "--yes", "--force-unlock", "-f", p(&plan)]).await;
                format!(
                    "exit 5, then --force-unlock: {}",
                    assert_restored(&t, &out, &ctx).await
                )
            } else if locked && stderr(&out).contains("breaking the lock of") {
                let broke = past_dead_lock(&t, &out, &ctx).unwrap_or_default();
                format!("{broke}: {}", assert_restored(&t, &out, &ctx).await)
            } else {
                assert_restored(&t, &out, &ctx).await
            };
            assert_status_truthful(&t, &plan, &ctx).await;
            how
        }
        Branch::Converge => converge(&t, &plan, stage.end(), locked, &ctx).await,
    }
}

/// Runs `case` for each point, every one even after a failure, and fails at the end listing
/// each failed point with its message (a matrix shows the whole picture, not the first hole).
async fn each_point<F: std::future::Future<Output = String>>(
    what: &str,
    cases: impl IntoIterator<Item = (String, F)>,
) -> usize {
    use futures::FutureExt as _;
    let mut failed = Vec::new();
    let mut n = 0;
    for (label, case) in cases {
        n += 1;
        match std::panic::AssertUnwindSafe(case).catch_unwind().await {
            Ok(how) => println!("  {label}: {how}"),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(ToString::to_string))
                    .unwrap_or_default();
                println!("  {label}: FAILED");
                failed.push(format!("{label}: {msg}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{what}: {} of {n} failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    n
}

pub(crate) async fn crash_matrix<T: Target>(stage: Stage) {
    let started = Instant::now();
    let reference = reference_writes::<T>(stage).await;
    let name = T::NAME;
    // Only a fresh apply may find nothing to write (Kubernetes and HAProxy start with blue
    // serving; the apply then has nothing to kill).
    assert!(
        !reference.is_empty() || stage == Stage::Fresh,
        "{name} {stage:?} wrote nothing"
    );
    let branches = stage.branches();
    let cases = (0..reference.len()).flat_map(|k| {
        let reference = &reference;
        branches.iter().map(move |&b| {
            (
                format!(
                    "{name} {stage:?} kill at write {k} ({}), {b:?}",
                    reference[k].key()
                ),
                kill_at::<T>(stage, reference, k, b),
            )
        })
    });
    let recovered = each_point(&format!("crash matrix {name} {stage:?}"), cases).await;
    println!(
        "crash matrix {name} {stage:?}: {} kill points x {} branches: {recovered}/{recovered} recovered in {:.1}s",
        reference.len(),
        branches.len(),
        started.elapsed().as_secs_f64()
    );
}

async fn lose_answer_at<T: Target>(stage: Stage, reference: &[Write], k: usize) -> (i32, String) {
    let (t, plan) = setup::<T>(stage).await;
    let ctx = format!(
        "{} {stage:?} answer lost at write {k} ({})",
        t.name(),
        reference[k].key()
    );
    t.arm(reference, k, Fault::LoseAnswer);
    let (out, took) = spawn(
        &t,
        &["--timeout", "20s", "plan", "apply", "--yes", p(&plan)],
    )
    .wait(Duration::from_secs(40))
    .await;
    let met = t.fault_met(reference, k, Fault::LoseAnswer);
    t.clear_faults();
    assert!(
        met,
        "{ctx}: the run never made that write: {}",
        render(&out)
    );
    assert!(
        took < Duration::from_secs(25),
        "{ctx}: took {took:?} with --timeout 20s"
    );
    assert_no_panic(&out, &ctx);
    // Every write is idempotent (retried), read back after an unknown outcome, or harmless to
    // repeat: a lost answer never fails the run.
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(code, 0, "{ctx}: {}", render(&out));
    assert_eq!(t.traffic().await, stage.end(), "{ctx}");
    // The write landed: a run that says "nothing was changed" is wrong.
    assert!(
        !stderr(&out).contains("nothing was changed"),
        "{ctx}: the lost write landed: {}",
        render(&out)
    );
    let st = assert_status_truthful(&t, &plan, &ctx).await;
    t.after_faulted_run(&stage.spec(), &out, &ctx).await;
    let how = converge(&t, &plan, stage.end(), !st["lock"].is_null(), &ctx).await;
    (code, how)
}

pub(crate) async fn lost_answer_matrix<T: Target>(stage: Stage) {
    let started = Instant::now();
    let reference = reference_writes::<T>(stage).await;
    let name = T::NAME;
    assert!(
        !reference.is_empty() || stage == Stage::Fresh,
        "{name} {stage:?} wrote nothing"
    );
    let codes = std::cell::RefCell::new(BTreeMap::<i32, usize>::new());
    let cases = (0..reference.len()).map(|k| {
        let (reference, codes) = (&reference, &codes);
        (
            format!(
                "{name} {stage:?} answer lost at write {k} ({})",
                reference[k].key()
            ),
            async move {
                let (code, how) = lose_answer_at::<T>(stage, reference, k).await;
                *codes.borrow_mut().entry(code).or_insert(0) += 1;
                format!("exit {code}, then {how}")
            },
        )
    });
    let n = each_point(&format!("lost-answer matrix {name} {stage:?}"), cases).await;
    println!(
        "lost-answer matrix {name} {stage:?}: {n} writes, exit codes {:?}, {n}/{n} converged; {:.1}s",
        codes.borrow(),
        started.elapsed().as_secs_f64(),
    );
}

/// SIGKILL at every write of a first-time apply (converge branch).
pub async fn crash_at_every_write_of_a_fresh_apply<T: Target>() {
    crash_matrix::<T>(Stage::Fresh).await;
}

/// SIGKILL at every write of a blue → green switch (restore and converge branches).
pub async fn crash_at_every_write_of_a_switch<T: Target>() {
    crash_matrix::<T>(Stage::Switch).await;
}

/// SIGKILL at every write of the 10 → 50 → 100 canary (restore = `abort`, and converge).
pub async fn crash_at_every_write_of_a_canary<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    crash_matrix::<T>(Stage::Canary).await;
}

/// A lost answer at every write of a first-time apply.
pub async fn lost_answer_at_every_write_of_a_fresh_apply<T: Target>() {
    lost_answer_matrix::<T>(Stage::Fresh).await;
}

/// A lost answer at every write of a switch.
pub async fn lost_answer_at_every_write_of_a_switch<T: Target>() {
    lost_answer_matrix::<T>(Stage::Switch).await;
}

/// A lost answer at every write of the canary.
pub async fn lost_answer_at_every_write_of_a_canary<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    lost_answer_matrix::<T>(Stage::Canary).await;
}

/// Blue live, then green applied: the `rollback` after it is the run under test.
async fn setup_rollback<T: Target>() -> (T, PathBuf) {
    let (t, green) = setup::<T>(Stage::Switch).await;
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    t.clear_log();
    (t, green)
}

async fn lose_rollback_answer_at<T: Target>(reference: &[Write], k: usize) -> String {
    let (t, plan) = setup_rollback::<T>().await;
    let ctx = format!(
        "{} rollback answer lost at write {k} ({})",
        T::NAME,
        reference[k].key()
    );
    t.arm(reference, k, Fault::LoseAnswer);
    let (out, took) = spawn(
        &t,
        &["--timeout", "20s", "rollback", "--yes", "-f", p(&plan)],
    )
    .wait(Duration::from_secs(40))
    .await;
    let met = t.fault_met(reference, k, Fault::LoseAnswer);
    t.clear_faults();
    assert!(
        met,
        "{ctx}: the run never made that write: {}",
        render(&out)
    );
    assert!(
        took < Duration::from_secs(25),
        "{ctx}: took {took:?} with --timeout 20s"
    );
    assert_no_panic(&out, &ctx);
    assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    assert_eq!(t.traffic().await, Traffic::Blue, "{ctx}");
    assert!(
        !stderr(&out).contains("nothing was changed"),
        "{ctx}: {}",
        render(&out)
    );
    let st = assert_status_truthful(&t, &plan, &ctx).await;
    if !stderr(&out).contains("could not release the lock") {
        assert!(
            st["lock"].is_null(),
            "{ctx}: the lock outlived the rollback: {st}"
        );
    }
    t.after_restore(&ctx).await;
    "exit 0, blue serves".to_string()
}

/// A lost answer at every write of a `rollback` after a switch: the rollback still ends at
/// blue with exit 0, `status` agrees, no lock is left (a generalisation of the Kong and
/// Kubernetes `a_lost_answer_during_rollback_and_abort_still_succeeds`, which lose only the
/// traffic write).
pub async fn lost_answer_at_every_write_of_a_rollback<T: Target>() {
    let started = Instant::now();
    let reference = {
        let (t, plan) = setup_rollback::<T>().await;
        bgctl_exit(&t, &["rollback", "--yes", "-f", p(&plan)], 0).await;
        assert_eq!(t.traffic().await, Traffic::Blue);
        t.writes()
    };
    assert!(
        !reference.is_empty(),
        "{}: a rollback without a write",
        T::NAME
    );
    let name = T::NAME;
    let cases = (0..reference.len()).map(|k| {
        let reference = &reference;
        (
            format!(
                "{name} rollback answer lost at write {k} ({})",
                reference[k].key()
            ),
            lose_rollback_answer_at::<T>(reference, k),
        )
    });
    let n = each_point(&format!("lost-answer matrix {name} rollback"), cases).await;
    println!(
        "lost-answer matrix {name} rollback: {n} writes, {n}/{n} exit 0 with blue serving; {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
