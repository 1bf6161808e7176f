//! Concurrent runs and the Lease.

use super::*;

/// Four processes apply the same selector plan at once: exactly one flips the selector; the
/// others exit 5 naming the holder, or 0 "up to date" if they read after the winner finished.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_concurrent_applies_one_moves_traffic() {
    let c = Cluster::start(Scenario::Selector).await;
    let plan = c.plan(&[]);
    let children: Vec<Running> = (0..4)
        .map(|_| c.spawn(&["plan", "apply", "--yes", p(&plan)]))
        .collect();
    let mut codes = BTreeMap::new();
    let mut up_to_date = 0;
    for ch in children {
        let (out, _) = ch.wait(Duration::from_mins(1)).await;
        let code = out.status.code().unwrap_or(-1);
        match code {
            0 if stderr(&out).contains("up to date") => up_to_date += 1,
            0 => {}
            5 => assert!(
                stderr(&out).contains("locked by tester@") && stderr(&out).contains("pid "),
                "{}",
                render(&out)
            ),
            _ => panic!("unexpected exit: {}", render(&out)),
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    let log = c.sim.requests();
    let leases_taken = log
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/leases") && r.status == 201)
        .count();
    let flips = log
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path.contains("/services/")
                && r.status == 200
                && r.body.contains("\"selector\"")
        })
        .count();
    println!(
        "k8s concurrent applies: exit codes {codes:?} ({up_to_date} of the 0s up to date), Leases taken {leases_taken}, selector flips {flips}"
    );
    assert_eq!(flips, 1, "exactly one run moved traffic: {log:#?}");
    assert_eq!(
        codes.get(&0).copied().unwrap_or(0) - up_to_date,
        1,
        "exactly one run did the release"
    );
    assert_eq!(c.truth().0, "green");
    assert!(c.lease().is_none(), "the winner released the Lease");
}

/// A Lease left by a SIGKILLed run blocks the next runs of another user (exit 5: not theirs to
/// judge by pid) until `--force-unlock` or expiry (`lockTtl: 6s`: the killed run takes its Lease
/// before green rolls out, so a shorter TTL can run out before the next run under load); after
/// expiry the next run takes it over.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_killed_runs_lease_blocks_until_force_unlock_or_expiry() {
    for force in [true, false] {
        let c = Cluster::start(Scenario::Selector).await;
        let plan = c.plan(&["lockTtl: 6s"]);
        let faults = c.sim.faults();
        faults.hang_next("PATCH", "*/services/myapp-service", 1);
        let mut child = c.spawn(&["plan", "apply", "--yes", p(&plan)]);
        for _ in 0..1500 {
            if faults.pending().is_empty() {
                break;
            }
            assert!(!child.exited());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            faults.pending().is_empty(),
            "never reached the selector write"
        );
        child.kill();
        let _ = child.wait(Duration::from_secs(10)).await;
        faults.clear();
        let killed_at = Instant::now();
        c.sim.clear_requests();
        let other = |args: &[&str]| c.spawn_as("other", args).wait(Duration::from_mins(1));
        let out = other(&["plan", "apply", "--yes", p(&plan)]).await.0;
        assert_eq!(out.status.code(), Some(5), "{}", render(&out));
        assert!(
            stderr(&out).contains("locked by tester@"),
            "{}",
            render(&out)
        );
        assert_eq!(c.truth().0, "blue");
        let out = if force {
            other(&["plan", "apply", "--yes", "--force-unlock", p(&plan)])
                .await
                .0
        } else {
            // Second granularity: the Lease's renewTime is whole seconds.
            tokio::time::sleep(Duration::from_millis(7200).saturating_sub(killed_at.elapsed()))
                .await;
            other(&["plan", "apply", "--yes", p(&plan)]).await.0
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "force={force}: {}",
            render(&out)
        );
        assert_eq!(c.truth().0, "green");
        assert!(c.lease().is_none(), "force={force}: the Lease was released");
        let transitions = c
            .writes()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/leases/"))
            .count();
        assert_eq!(transitions, 1, "force={force}: taken over with one PUT");
    }
}
