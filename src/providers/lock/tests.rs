//! Unit tests of the lock protocol against the in-memory store.
use super::*;

fn run(id: &str, holder: &str) -> LockInfo {
    LockInfo {
        holder: holder.into(),
        run_id: id.into(),
        since: 5_000,
        expires: 5_060,
    }
}

fn store(now: u64) -> MemoryLock {
    let s = MemoryLock::default();
    s.state().now = now;
    s
}

#[test]
fn expiry_uses_the_targets_timestamp_when_it_has_one() {
    // Written at 1000 on the target's clock, 60 s: alive at 1059, stale at 1060, whatever
    // the holder wrote as its own expiry.
    assert!(!expired(60, Some(1_000), 9_999_999, 1_059));
    assert!(expired(60, Some(1_000), 9_999_999, 1_060));
    // No timestamp: the recorded expiry.
    assert!(!expired(60, None, 2_000, 1_999));
    assert!(expired(60, None, 2_000, 2_000));
}

#[test]
fn judge_orders_mine_expired_gone_forced_held() {
    let held = |id: &str| Stored {
        info: run(id, "ann@a pid 1"),
        ttl: 60,
        written: Some(1_000),
        version: (),
    };
    let me = run("me", "bob@b pid 2");
    assert_eq!(judge(&held("me"), &me, false, 9_999, false), Verdict::Mine);
    assert_eq!(
        judge(&held("x"), &me, false, 1_060, false),
        Verdict::Expired
    );
    assert_eq!(
        judge(&held("x"), &me, false, 1_000, true),
        Verdict::HolderGone
    );
    assert_eq!(judge(&held("x"), &me, true, 1_000, false), Verdict::Forced);
    assert_eq!(judge(&held("x"), &me, false, 1_059, false), Verdict::Held);
    // An unknown lock (no run id) is never taken for one's own.
    let anon = LockInfo {
        run_id: String::new(),
        ..me.clone()
    };
    assert_eq!(judge(&held(""), &anon, false, 1_000, false), Verdict::Held);
}

#[test]
fn local_pid_only_for_this_user_and_host() {
    assert_eq!(local_pid("ann@a pid 42", "ann@a"), Some(42));
    assert_eq!(local_pid("ann@a pid 42 run x", "ann@a"), Some(42));
    assert_eq!(local_pid("ann@a pid 42", "ann@b"), None);
    assert_eq!(local_pid("unknown (unreadable)", "ann@a"), None);
    assert!(!holder_gone(&format!(
        "{} pid {}",
        this_user_host(),
        std::process::id()
    )));
    // Not this host: never judged gone from here.
    assert!(!holder_gone("nobody@elsewhere.invalid pid 4000000"));
}

#[cfg(unix)]
#[test]
fn a_dead_local_holder_is_gone() {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert!(holder_gone(&format!("{} pid {pid}", this_user_host())));
}

#[tokio::test]
async fn take_recognise_hold_renew_release() {
    let s = store(1_000);
    let a = run("a", "ann@x pid 1");
    let b = run("b", "bob@y pid 2");
    take(&s, &a, Take::IfExpired).await.unwrap();
    take(&s, &a, Take::IfExpired).await.unwrap(); // own run: taken again, nothing written
    assert_eq!(s.state().version, 1);
    assert!(holds(&s, &a).await.unwrap());
    assert!(!holds(&s, &b).await.unwrap());
    s.state().now = 1_030;
    assert!(
        matches!(take(&s, &b, Take::IfExpired).await, Err(LockError::Held(h)) if h.run_id == "a")
    );
    // The heartbeat moves the target's timestamp: at 1070 it would have expired without it.
    renew(&s, &a).await.unwrap();
    s.state().now = 1_070;
    assert!(holds(&s, &a).await.unwrap());
    assert!(take(&s, &b, Take::IfExpired).await.is_err());
    // b cannot release a's lock.
    release(&s, &b).await.unwrap();
    assert!(s.state().lock.is_some());
    release(&s, &a).await.unwrap();
    assert!(s.state().lock.is_none());
    assert!(!holds(&s, &a).await.unwrap());
}

#[tokio::test]
async fn expired_locks_are_broken_by_the_targets_clock_and_fence_the_old_holder() {
    let s = store(1_000);
    let a = run("a", "ann@x pid 1");
    // The holders' own clocks are far off: only the store's clock counts.
    let b = LockInfo {
        since: 1,
        expires: 61,
        ..run("b", "bob@y pid 2")
    };
    take(&s, &a, Take::IfExpired).await.unwrap();
    s.state().now = 1_059;
    assert!(take(&s, &b, Take::IfExpired).await.is_err());
    s.state().now = 1_060;
    assert!(!holds(&s, &a).await.unwrap(), "expired: a must not write");
    take(&s, &b, Take::IfExpired).await.unwrap();
    assert_eq!(s.state().lock.as_ref().unwrap().0.run_id, "b");
    // a's heartbeat now fails and names the new holder.
    assert!(matches!(renew(&s, &a).await, Err(LockError::Held(h)) if h.run_id == "b"));
    // Forced: taken even though alive.
    take(&s, &a, Take::Force).await.unwrap();
    assert_eq!(s.state().lock.as_ref().unwrap().0.run_id, "a");
    release(&s, &a).await.unwrap();
    let err = renew(&s, &a).await.unwrap_err();
    assert!(matches!(err, LockError::Gone), "{err}");
    assert!(err.to_string().contains("lock is gone"), "{err}");
}

/// The providers' `lock` breaks an abandoned local lock by default (with a message), and only
/// `--force-unlock` breaks a live one.
#[test]
fn providers_break_abandoned_locks_by_default() {
    assert_eq!(Take::forced(false), Take::BreakAbandoned);
    assert_eq!(Take::forced(true), Take::Force);
}

#[cfg(unix)]
#[tokio::test]
async fn an_abandoned_local_lock_is_broken_only_when_asked() {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let s = store(1_000);
    let dead = run("dead", &format!("{} pid {pid}", this_user_host()));
    take(&s, &dead, Take::IfExpired).await.unwrap();
    let me = run("me", "x@y pid 1");
    assert!(matches!(
        take(&s, &me, Take::IfExpired).await,
        Err(LockError::Held(_))
    ));
    take(&s, &me, Take::BreakAbandoned).await.unwrap();
    assert_eq!(s.state().lock.as_ref().unwrap().0.run_id, "me");
    // A live local holder is not abandoned.
    let alive = run(
        "alive",
        &format!("{} pid {}", this_user_host(), std::process::id()),
    );
    assert!(take(&s, &alive, Take::BreakAbandoned).await.is_err());
}

#[tokio::test]
async fn a_take_whose_answer_was_lost_is_recognised_on_the_re_read() {
    let s = store(1_000);
    s.state().lose_answers = 1;
    let a = run("a", "ann@x pid 1");
    take(&s, &a, Take::IfExpired).await.unwrap();
    assert_eq!(s.state().version, 1, "written once, then read back as ours");
    assert!(holds(&s, &a).await.unwrap());
}

#[test]
fn lock_json_reads_the_current_release_format() {
    // Written by the current release: no `ttl`.
    let old = r#"{"holder":"ann@x pid 1","run_id":"r","since":100,"expires":160}"#;
    let j: LockJson = serde_json::from_str(old).unwrap();
    assert_eq!(j.ttl(), 60);
    let c = Claim::at(&j.info, 500);
    assert_eq!((c.info.expires, c.ttl), (560, 60));
    let new = serde_json::to_string(&LockJson::of(&c)).unwrap();
    // And an older bgctl reads the new one as a plain LockInfo.
    let back: LockInfo = serde_json::from_str(&new).unwrap();
    assert_eq!(back, c.info);
    assert_eq!(serde_json::from_str::<LockJson>(&new).unwrap().ttl(), 60);
}
