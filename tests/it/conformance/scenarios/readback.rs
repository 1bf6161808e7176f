//! Trust the target, not the 200 (issue 13 items 4, 7 and the crash window of item 2).
//!
//! * **A write answered but not applied**, and **a write turned into a read** on the way, at
//!   every traffic write of a blue → green switch: the run never reports `done` unless the
//!   system shows green; otherwise it exits by the contract — 3 with blue serving again (a
//!   verified rollback), 4 (a person must act), or 1 only when the system shows nothing moved
//!   (the target refused the write with an error, which is not a 200). Traffic is read from
//!   the system. Then a plain `plan apply` converges (green, `completed`, idempotent). The
//!   plans have no `proxyUrl`, so the read-back is the only check (with one, Kong's
//!   data-plane verification would also catch it, after its timeout).
//! * **A new target of the serving side is probed first**: blue serves, the plan adds an
//!   unreachable target to blue; `plan apply` refuses with exit 3 and makes no write at all.
//!   Kubernetes cannot express it (an environment names a Deployment, and bgctl never writes
//!   the serving side's objects there): the apply writes nothing and traffic stays on blue.
//! * **Killed between the traffic write and the end of verification**: the next `plan apply`
//!   verifies (or repairs) instead of saying "up to date". Where the plan verifies through the
//!   proxy, green answers 500 to everything but `/health` so verification keeps sampling, and
//!   the run is killed as soon as the system shows green; on Kubernetes (no proxy: the
//!   read-back is the verification) it is killed at the write after the traffic write.

use std::path::Path;
use std::time::{Duration, Instant};

use super::blue_live;
use crate::conformance::run::{
    assert_no_panic, assert_status_truthful, bgctl, bgctl_exit, names_the_holder, p, spawn,
};
use crate::conformance::target::{stderr, Cap, Fault, PlanSpec, Target, Traffic, Write};
use crate::harness::render;

/// Blue live and the green plan written (without a `proxyUrl` when `no_proxy`); the log
/// cleared.
async fn blue_serving<T: Target>(no_proxy: bool) -> (T, std::path::PathBuf) {
    let t = T::start().await;
    blue_live(&t).await;
    let green = t.plan(&PlanSpec {
        no_proxy,
        ..PlanSpec::blue_green("green")
    });
    (t, green)
}

/// The writes of a clean switch, and the indexes of its traffic writes.
async fn switch_reference<T: Target>(no_proxy: bool) -> (Vec<Write>, Vec<usize>) {
    let (t, green) = blue_serving::<T>(no_proxy).await;
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Green, "{} reference", T::NAME);
    let writes = t.writes();
    let traffic: Vec<usize> = (0..writes.len())
        .filter(|&k| t.is_traffic_write(&writes[k]))
        .collect();
    assert!(
        !traffic.is_empty(),
        "{}: no traffic write in {writes:?}",
        T::NAME
    );
    (writes, traffic)
}

/// `plan apply` reaches green past a lock a run left (exit 5 naming the holder, then
/// `--force-unlock`); the record says `completed` and one more apply writes nothing. Returns
/// the output of the apply that converged.
async fn converge_to_green<T: Target>(t: &T, plan: &Path, ctx: &str) -> std::process::Output {
    let mut out = bgctl(t, &["plan", "apply", "--yes", p(plan)]).await;
    if out.status.code() == Some(5) {
        assert!(names_the_holder(t, &out), "{ctx}: {}", render(&out));
        out = bgctl(t, &["plan", "apply", "--yes", "--force-unlock", p(plan)]).await;
    }
    assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    assert_eq!(t.traffic().await, Traffic::Green, "{ctx}: {}", render(&out));
    let st = assert_status_truthful(t, plan, ctx).await;
    assert_eq!(st["record"]["phase"], "completed", "{ctx}: {st}");
    t.clear_log();
    bgctl_exit(t, &["plan", "apply", "--yes", p(plan)], 0).await;
    assert!(
        t.writes().is_empty(),
        "{ctx}: re-apply wrote {:?}",
        t.writes()
    );
    out
}

/// One switch with `fault` on write `k`; returns the exit code.
async fn switch_with_fault<T: Target>(reference: &[Write], k: usize, fault: Fault) -> i32 {
    let (t, green) = blue_serving::<T>(true).await;
    let ctx = format!(
        "{} {fault:?} at write {k} ({})",
        T::NAME,
        reference[k].key()
    );
    t.arm(reference, k, fault);
    let (out, _) = spawn(
        &t,
        &["--timeout", "40s", "plan", "apply", "--yes", p(&green)],
    )
    .wait(Duration::from_mins(1))
    .await;
    let met = t.fault_met(reference, k, fault);
    t.clear_faults();
    assert!(
        met,
        "{ctx}: the run never made that write: {}",
        render(&out)
    );
    assert_no_panic(&out, &ctx);
    let code = out.status.code().unwrap_or(-1);
    let live = t.traffic().await;
    let says_done = stderr(&out).contains("is live");
    match code {
        // Done only when the system shows it.
        0 => assert_eq!(
            live,
            Traffic::Green,
            "{ctx}: exit 0 but {live:?}: {}",
            render(&out)
        ),
        // A verified rollback: blue serves.
        3 => assert_eq!(
            live,
            Traffic::Blue,
            "{ctx}: exit 3 but {live:?}: {}",
            render(&out)
        ),
        // Nothing moved (a refusal the run saw as one): blue still serves.
        1 => assert_eq!(
            live,
            Traffic::Blue,
            "{ctx}: exit 1 but {live:?}: {}",
            render(&out)
        ),
        // A person must act: the output says what.
        4 => assert!(stderr(&out).contains("hint"), "{ctx}: {}", render(&out)),
        other => panic!("{ctx}: exit {other}: {}", render(&out)),
    }
    assert!(
        code == 0 || !says_done,
        "{ctx}: says done with exit {code}: {}",
        render(&out)
    );
    assert_status_truthful(&t, &green, &ctx).await;
    converge_to_green(&t, &green, &ctx).await;
    code
}

async fn fault_at_traffic_writes<T: Target>(fault: Fault) {
    let started = Instant::now();
    let (reference, traffic) = switch_reference::<T>(true).await;
    let mut codes = Vec::new();
    for &k in &traffic {
        let code = switch_with_fault::<T>(&reference, k, fault).await;
        println!(
            "  {} {fault:?} at write {k} ({}): exit {code}",
            T::NAME,
            reference[k].key()
        );
        codes.push(code);
    }
    // The first traffic write is the switch itself: it is never taken for done.
    assert_ne!(
        codes[0],
        0,
        "{}: the switch's own write was not applied and the run said done",
        T::NAME
    );
    println!(
        "{} {fault:?}: {} traffic write(s) of a switch, exit codes {codes:?}, all converged; {:.1}s",
        T::NAME,
        traffic.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A switch whose traffic write is answered but not applied (the answer shows the old state)
/// is a failed write: never `done`, exit 3 after a verified rollback (or 4); read back from
/// the system. The plan has no `proxyUrl`: the read-back is the only check. At every traffic write of the switch (a record write answered but not applied
/// may end in exit 0 when the system shows green; the next apply then verifies again).
pub async fn switch_write_answered_but_not_applied<T: Target>() {
    fault_at_traffic_writes::<T>(Fault::AnswerWithoutApplying).await;
}

/// The same with the write turned into a read on the way (a proxy in between turned it into a
/// GET): the system answers the read, nothing changed; never `done`.
pub async fn switch_write_turned_into_a_get<T: Target>() {
    fault_at_traffic_writes::<T>(Fault::TurnIntoGet).await;
}

/// An address nothing listens on (a port bound and released).
fn unreachable() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

/// Blue serves; the plan adds an unreachable target to blue. Probed before the write that
/// would put it into rotation: exit 3, zero writes, blue still serving.
pub async fn new_target_of_the_live_side_is_probed_first<T: Target>() {
    let t = T::start().await;
    let blue = blue_live(&t).await;
    let spec = PlanSpec {
        extra_blue_target: Some(unreachable()),
        ..PlanSpec::blue_green("blue")
    };
    let plan = t.plan(&spec);
    t.clear_log();
    let out = bgctl(&t, &["plan", "apply", "--yes", p(&plan)]).await;
    let ctx = format!("{} unreachable target added to serving blue", T::NAME);
    assert_no_panic(&out, &ctx);
    if !t.has(Cap::Targets) {
        // Kubernetes: nothing of the serving side is written; blue serves as before.
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
        assert!(t.writes().is_empty(), "{ctx}: wrote {:?}", t.writes());
        assert_eq!(t.traffic().await, Traffic::Blue, "{ctx}");
        println!(
            "{}: cannot express a target of the serving side; no write",
            T::NAME
        );
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{ctx}: {}", render(&out));
    assert!(
        stderr(&out).contains("not healthy"),
        "{ctx}: says why: {}",
        render(&out)
    );
    assert!(
        t.writes().is_empty(),
        "{ctx}: the refused apply wrote {:?}",
        t.writes()
    );
    assert_eq!(t.traffic().await, Traffic::Blue, "{ctx}");
    assert_status_truthful(&t, &blue, &ctx).await;
    println!(
        "{}: unreachable new target of serving blue: exit 3, 0 writes",
        T::NAME
    );
}

/// SIGKILL between the switch's traffic write and the end of its verification: the next
/// `plan apply` verifies (or repairs), never "up to date".
pub async fn killed_between_traffic_write_and_verification<T: Target>() {
    let started = Instant::now();
    let (t, green) = blue_serving::<T>(false).await;
    let (reference, traffic) = if t.fail_green_requests(false) {
        (Vec::new(), Vec::new())
    } else {
        switch_reference::<T>(false).await
    };
    let ctx = format!("{} killed between traffic write and verification", T::NAME);
    let child = if t.fail_green_requests(true) {
        // Verification keeps sampling (green answers 500): kill once the system shows green.
        let mut child = spawn(&t, &["plan", "apply", "--yes", p(&green)]);
        let mut seen = false;
        for _ in 0..1500 {
            if t.traffic().await == Traffic::Green {
                seen = true;
                break;
            }
            assert!(!child.exited(), "{ctx}: exited before the switch");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(seen, "{ctx}: traffic never moved");
        child.signal("KILL");
        child
    } else {
        // No verification through a proxy: kill at the write after the traffic write.
        let k = traffic[0] + 1;
        assert!(
            k < reference.len(),
            "{ctx}: nothing after the traffic write"
        );
        t.arm(&reference, k, Fault::Hang);
        let mut child = spawn(&t, &["plan", "apply", "--yes", p(&green)]);
        let mut reached = false;
        for _ in 0..1500 {
            if t.fault_met(&reference, k, Fault::Hang) {
                reached = true;
                break;
            }
            assert!(!child.exited(), "{ctx}: exited before the kill point");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(reached, "{ctx}: never reached write {k}");
        child.signal("KILL");
        child
    };
    let _ = child.wait(Duration::from_secs(10)).await;
    t.clear_faults();
    t.fail_green_requests(false);
    assert_eq!(t.traffic().await, Traffic::Green, "{ctx}: the write landed");
    let st = assert_status_truthful(&t, &green, &ctx).await;
    assert_ne!(
        st["record"]["phase"], "completed",
        "{ctx}: an unverified switch reads as completed: {st}"
    );
    let out = converge_to_green(&t, &green, &ctx).await;
    assert!(
        !stderr(&out).contains("up to date"),
        "{ctx}: the next apply did not verify: {}",
        render(&out)
    );
    println!(
        "{}: killed before verification ended (record `{}`): the next apply verified; {:.1}s",
        T::NAME,
        st["record"]["phase"].as_str().unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
}
