//! Setting up upstreams with many targets: bgctl makes an upstream's target writes several at
//! a time (`--parallelism`, default 10), never more than that, one wave after another (an
//! upstream exists before its first target; nothing after a wave starts before the whole wave
//! is done), and stops at the first failed write without leaving writes half made. A canary
//! step's writes to the mixed upstream (one per target of both sides) go the same way, and the
//! service write that moves the traffic waits for all of them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kong_sim::{FaultAction, FaultRule, KongSim, LoggedRequest, SimConfig};

use crate::harness::{bgctl, render, run};

const BLUE: &str = "address.v1.service";
const GREEN: &str = "address.v2.service";

/// The seed's plan with `n` targets per side (addresses nobody serves: no probes, no proxy).
fn plan(dir: &Path, n: usize) -> PathBuf {
    let text = crate::seed_plan::text(n, "blue");
    let path = dir.join("plan.yaml");
    std::fs::write(&path, text).expect("write plan");
    path
}

fn is_target_post(r: &LoggedRequest, upstream: &str) -> bool {
    r.method == "POST" && r.path == format!("/upstreams/{upstream}/targets")
}

fn delay_target_posts(sim: &KongSim, ms: u64) {
    sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/upstreams/*/targets".into(),
        skip: 0,
        times: 100_000,
        action: FaultAction::Delay { ms },
    });
}

/// Runs `plan apply` while watching the request log: the most target `POST`s seen in flight at
/// once, and whether a write after blue's target wave (green's upstream) ever started while
/// one of blue's targets was still unanswered.
async fn apply_watching(
    sim: &KongSim,
    dir: &Path,
    plan: &Path,
    parallelism: &str,
) -> (usize, bool) {
    let mut cmd = bgctl(dir);
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes", "--parallelism", parallelism])
        .arg(plan);
    let child = tokio::spawn(run(cmd));
    let (mut most, mut overlapped) = (0, false);
    while !child.is_finished() {
        let log = sim.requests();
        let in_flight = log
            .iter()
            .filter(|r| r.status == 0 && (is_target_post(r, BLUE) || is_target_post(r, GREEN)))
            .count();
        most = most.max(in_flight);
        let green_started = log
            .iter()
            .any(|r| r.method == "PUT" && r.path == format!("/upstreams/{GREEN}"));
        overlapped |= green_started && log.iter().any(|r| r.status == 0 && is_target_post(r, BLUE));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let out = child.await.expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    (most, overlapped)
}

#[tokio::test(flavor = "multi_thread")]
async fn target_writes_run_in_bounded_waves() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), 20);
    let sim = KongSim::start(SimConfig::default()).await.unwrap();
    delay_target_posts(&sim, 100);
    let (most, overlapped) = apply_watching(&sim, dir.path(), &plan, "4").await;
    assert_eq!(
        most, 4,
        "up to --parallelism target writes at once, never more"
    );
    assert!(
        !overlapped,
        "green's upstream was written while blue's targets were in flight"
    );
    let posts = |up| {
        sim.requests()
            .iter()
            .filter(|r| is_target_post(r, up) && r.status == 201)
            .count()
    };
    assert_eq!((posts(BLUE), posts(GREEN)), (20, 20), "one POST per target");
    // Converged: another apply writes nothing.
    sim.clear_requests();
    let mut cmd = bgctl(dir.path());
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        !sim.requests().iter().any(LoggedRequest::is_write),
        "{}",
        render(&out)
    );
    sim.shutdown().await;

    // `--parallelism 1`: one write at a time, as before waves.
    let plan = self::plan(dir.path(), 8);
    let sim = KongSim::start(SimConfig::default()).await.unwrap();
    delay_target_posts(&sim, 50);
    let (most, overlapped) = apply_watching(&sim, dir.path(), &plan, "1").await;
    assert_eq!((most, overlapped), (1, false));
    sim.shutdown().await;
}

/// The fifth of blue's target writes is refused: no write starts after that, the ones in
/// flight are finished (answered, not cut off), nothing of a later wave is written, and the
/// next apply makes exactly the writes that are missing.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_stops_the_wave_and_the_next_apply_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30;
    let plan = plan(dir.path(), n);
    let sim = KongSim::start(SimConfig::default()).await.unwrap();
    sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: format!("/upstreams/{BLUE}/targets"),
        skip: 4,
        times: 1,
        action: FaultAction::Status {
            code: 400,
            retry_after: None,
            body: Some(r#"{"message":"refused by the test"}"#.into()),
        },
    });
    delay_target_posts(&sim, 200);
    let mut cmd = bgctl(dir.path());
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        render(&out).contains("refused by the test"),
        "{}",
        render(&out)
    );
    let log = sim.requests();
    let posts: Vec<&LoggedRequest> = log.iter().filter(|r| is_target_post(r, BLUE)).collect();
    // The first ten start together (the default bound); the refused one is answered first,
    // so no eleventh starts; the other nine are awaited.
    assert_eq!(posts.len(), 10, "{posts:?}");
    assert!(
        posts.iter().all(|r| r.status != 0),
        "a write left unanswered: {posts:?}"
    );
    assert_eq!(posts.iter().filter(|r| r.status == 201).count(), 9);
    let later = log
        .iter()
        .filter(|r| r.is_write() && (r.path.contains(GREEN) || r.path.starts_with("/services")))
        .count();
    assert_eq!(later, 0, "a later wave was written after the failure");

    sim.faults().clear();
    sim.clear_requests();
    let mut cmd = bgctl(dir.path());
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let log = sim.requests();
    let made = |up| log.iter().filter(|r| is_target_post(r, up)).count();
    assert_eq!(
        (made(BLUE), made(GREEN)),
        (n - 9, n),
        "only the missing targets are written"
    );
    sim.shutdown().await;
}

const MIXED: &str = "address.v2.service.bgctl-canary";

/// A write to one of the mixed upstream's targets.
fn is_mixed_target_write(r: &LoggedRequest) -> bool {
    r.path.starts_with(&format!("/upstreams/{MIXED}/targets")) && r.is_write()
}

/// A 10 → 50 → 100 canary over `n` targets per side (blue live first), watched like
/// [`apply_watching`]: the most mixed-upstream target writes in flight at once, and whether
/// the service write (the traffic move) ever started while one was unanswered.
async fn canary_watching(n: usize, parallelism: &str) -> (usize, bool, KongSim) {
    let dir = tempfile::tempdir().unwrap();
    let sim = KongSim::start(SimConfig::default()).await.unwrap();
    let blue = plan(dir.path(), n);
    let mut cmd = bgctl(dir.path());
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes"])
        .arg(&blue);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let canary = dir.path().join("canary.yaml");
    let text = crate::seed_plan::text(n, "blue").replace(
        "strategy:\n  blueGreen: {activeEnvironment: blue}\n",
        "strategy:\n  canary:\n    stable: blue\n    canary: green\n    steps: [{setWeight: 10}, {setWeight: 50}, {setWeight: 100}]\n    cleanupDelay: 0s\n",
    );
    std::fs::write(&canary, text).unwrap();
    sim.clear_requests();
    for (method, path) in [
        ("POST", "/upstreams/*/targets"),
        ("PATCH", "/upstreams/*/targets/*"),
    ] {
        sim.faults().add(FaultRule {
            method: Some(method.into()),
            path: path.into(),
            skip: 0,
            times: 100_000,
            action: FaultAction::Delay { ms: 40 },
        });
    }
    let mut cmd = bgctl(dir.path());
    cmd.env("KONG_ADMIN_URL", sim.admin_url())
        .args(["plan", "apply", "--yes", "--parallelism", parallelism])
        .arg(&canary);
    let child = tokio::spawn(run(cmd));
    let (mut most, mut overlapped) = (0, false);
    while !child.is_finished() {
        let log = sim.requests();
        let pending = |r: &&LoggedRequest| r.status == 0 && is_mixed_target_write(r);
        most = most.max(log.iter().filter(pending).count());
        overlapped |= log.iter().any(|r| pending(&r))
            && log.iter().any(|r| {
                r.status == 0 && r.method == "PATCH" && r.path == "/services/address-service"
            });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let out = child.await.expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    (most, overlapped, sim)
}

/// Kong canary steps write the mixed upstream's targets in bounded waves: up to
/// `--parallelism` at once, never more, and the service write only after all of them.
#[tokio::test(flavor = "multi_thread")]
async fn canary_target_writes_run_in_bounded_waves() {
    let n = 12;
    let (most, overlapped, sim) = canary_watching(n, "4").await;
    assert_eq!(
        most, 4,
        "up to --parallelism target writes at once, never more"
    );
    assert!(
        !overlapped,
        "the service moved while target writes were in flight"
    );
    let log = sim.requests();
    // The first step creates every target of both sides once; later steps change weights.
    let posts = log
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/upstreams/{MIXED}/targets"))
        .count();
    assert_eq!(posts, 2 * n, "one POST per target of the mix");
    let patches = log
        .iter()
        .filter(|r| r.method == "PATCH" && is_mixed_target_write(r))
        .count();
    // 10 % → 50 % scales one side's weights (the other keeps the largest scale).
    assert!(patches >= n, "the 50 % step changes weights: {patches}");
    // Ended on green, the mix removed.
    let svc: serde_json::Value =
        reqwest::get(format!("{}/services/address-service", sim.admin_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(svc["host"], GREEN);
    let mixed = reqwest::get(format!("{}/upstreams/{MIXED}", sim.admin_url()))
        .await
        .unwrap();
    assert_eq!(mixed.status().as_u16(), 404);
    sim.shutdown().await;

    // `--parallelism 1`: one at a time.
    let (most, overlapped, sim) = canary_watching(4, "1").await;
    assert_eq!((most, overlapped), (1, false));
    sim.shutdown().await;
}
