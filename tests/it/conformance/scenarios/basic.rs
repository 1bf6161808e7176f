//! Blue-green: a fresh apply, an idempotent re-apply, a switch, a rollback, lock contention.

use std::time::Duration;

use super::blue_live;
use crate::conformance::run::{assert_status_truthful, bgctl, bgctl_exit, p, spawn};
use crate::conformance::target::{stderr, PlanSpec, Target, Traffic};
use crate::harness::render;

/// `plan apply` of the blue-green plan on the untouched system: blue serves, `status` agrees.
pub async fn fresh_blue_green<T: Target>() {
    let t = T::start().await;
    let plan = t.plan(&PlanSpec::blue_green("blue"));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert!(st["lock"].is_null(), "{st}");
}

/// `plan apply` of blue → green: green serves, the record says `completed`, no lock is left.
pub async fn switch<T: Target>() {
    let t = T::start().await;
    blue_live(&t).await;
    let green = t.plan(&PlanSpec::blue_green("green"));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Green, "{}", t.name());
    assert!(
        !t.writes().is_empty(),
        "{}: a switch without a write",
        t.name()
    );
    let st = assert_status_truthful(&t, &green, t.name()).await;
    assert_eq!(st["record"]["phase"], "completed", "{st}");
    assert!(
        !t.lock_present().await,
        "{}: the lock outlived the run",
        t.name()
    );
}

/// A second `plan apply` of the same plan writes nothing and says it is up to date.
pub async fn reapply_writes_nothing<T: Target>() {
    let t = T::start().await;
    blue_live(&t).await;
    let green = t.plan(&PlanSpec::blue_green("green"));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    t.clear_log();
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    assert!(
        t.writes().is_empty(),
        "{}: re-apply wrote {:?}",
        t.name(),
        t.writes()
    );
    assert!(stderr(&out).contains("up to date"), "{}", render(&out));
    assert_eq!(t.traffic().await, Traffic::Green);
}

/// `rollback` after a switch: blue serves again, `status` agrees, no lock is left.
pub async fn rollback<T: Target>() {
    let t = T::start().await;
    blue_live(&t).await;
    let green = t.plan(&PlanSpec::blue_green("green"));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    bgctl_exit(&t, &["rollback", "--yes", "-f", p(&green)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    let st = assert_status_truthful(&t, &green, t.name()).await;
    assert!(st["lock"].is_null(), "{st}");
}

/// A run holds the lock (its pre-switch hook is still running): a second run exits 5 naming
/// the holder and moves nothing; after the holder is SIGKILLed, its lock is never silently
/// stolen: the next run breaks it saying whose and why (its pid is not running on this host).
pub async fn lock_contention_exits_5<T: Target>() {
    let t = T::start().await;
    blue_live(&t).await;
    // The hook holds the run until the test removes the marker (at most 60 s), so nothing it
    // started outlives the test for long once the holder is killed.
    let marker = t.dir().join("holding");
    let m = p(&marker);
    let holding = t.plan(&PlanSpec::blue_green("green").with_extra(&format!(
        "hooks:\n  preSwitch:\n    - exec: {{command: [\"sh\", \"-c\", \"touch '{m}'; seq 600 | while read -r _; do [ -e '{m}' ] || break; sleep 0.1; done\"], timeout: 90s}}\n"
    )));
    let green = t.plan(&PlanSpec::blue_green("green"));
    let mut holder = spawn(&t, &["plan", "apply", "--yes", p(&holding)]);
    for _ in 0..1500 {
        if marker.exists() {
            break;
        }
        assert!(
            !holder.exited(),
            "{}: the holder ended before its hook ran",
            t.name()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        marker.exists(),
        "{}: the pre-switch hook never ran",
        t.name()
    );
    assert!(
        t.lock_present().await,
        "{}: a running apply holds no lock",
        t.name()
    );
    let out = bgctl(&t, &["plan", "apply", "--yes", p(&green)]).await;
    assert_eq!(out.status.code(), Some(5), "{}: {}", t.name(), render(&out));
    assert!(
        stderr(&out).contains("locked by tester@") && stderr(&out).contains("pid "),
        "{}",
        render(&out)
    );
    assert_eq!(
        t.traffic().await,
        Traffic::Blue,
        "{}: a locked run moved traffic",
        t.name()
    );
    let pid = holder.pid();
    holder.kill();
    let _ = holder.wait(Duration::from_secs(10)).await;
    std::fs::remove_file(&marker).expect("remove the marker");
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&green)], 0).await;
    assert!(
        stderr(&out).contains("breaking the lock of tester@")
            && stderr(&out).contains(&format!("pid {pid}: pid {pid} is not running on this host")),
        "{}: a killed run's lock is never silently stolen: {}",
        t.name(),
        render(&out)
    );
    assert_eq!(t.traffic().await, Traffic::Green);
    assert!(
        !t.lock_present().await,
        "{}: the lock outlived the run",
        t.name()
    );
    assert_status_truthful(&t, &green, t.name()).await;
}
