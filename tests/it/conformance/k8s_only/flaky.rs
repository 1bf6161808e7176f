//! A flaky API server: fixed fault points, random faults, 409 races.

use super::*;

const RUN_TIMEOUT_SECS: u64 = 15;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status(u16),
    /// No answer; the plan's `requestTimeout: 1s` gives up first.
    Hang,
    /// Another writer changes the object between bgctl's read and its write (409).
    Race,
    /// The connection is reset (TCP RST) without an answer; the request is not carried out.
    Reset,
}

/// Where a fault lands: (method, path glob, how many matching requests to let through first).
#[derive(Clone, Copy, Debug)]
struct Point {
    name: &'static str,
    method: &'static str,
    glob: &'static str,
    skip: usize,
}

const LEASE_CREATE: Point = Point {
    name: "lease create",
    method: "POST",
    glob: "*/leases",
    skip: 0,
};
const FIRST_READ: Point = Point {
    name: "first read of the traffic object",
    method: "GET",
    glob: "*/services/myapp-service",
    skip: 0,
};
const DEPLOYMENT_CREATE: Point = Point {
    name: "green Deployment create",
    method: "POST",
    glob: "*/deployments",
    skip: 0,
};
const SELECTOR_FLIP: Point = Point {
    name: "selector flip",
    method: "PATCH",
    glob: "*/services/myapp-service",
    skip: 0,
};
const RETIRE: Point = Point {
    name: "blue Deployment delete",
    method: "DELETE",
    glob: "*/deployments/blue",
    skip: 0,
};
const LEASE_RELEASE: Point = Point {
    name: "lease release",
    method: "DELETE",
    glob: "*/leases/*",
    skip: 0,
};
const ROUTE_10: Point = Point {
    name: "HTTPRoute write 10%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 0,
};
const ROUTE_50: Point = Point {
    name: "HTTPRoute write 50%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 1,
};
const ROUTE_100: Point = Point {
    name: "HTTPRoute write 100%",
    method: "PATCH",
    glob: "*/httproutes/myapp",
    skip: 2,
};

/// One run under a fault; checks the exit-code contract and the state after it. Returns the
/// exit code and how many requests got an injected fault.
async fn flaky_run(s: Scenario, fault: Fault, at: Point, times: usize) -> (i32, usize) {
    let c = Cluster::start(s).await;
    let plan = c.plan(&["requestTimeout: 1s"]);
    let faults = c.sim.faults();
    if at.skip > 0 {
        faults.delay_next(at.method, at.glob, at.skip, Duration::ZERO);
    }
    let object = match (s, at.method) {
        (Scenario::Selector, "DELETE") => "blue",
        (Scenario::Selector, "POST") => "green",
        (Scenario::Selector, _) => SERVICE,
        _ => ROUTE,
    };
    match fault {
        Fault::Status(code) => faults.fail_next(at.method, at.glob, times, code),
        Fault::Hang => faults.hang_next(at.method, at.glob, times),
        Fault::Reset => faults.reset_next(at.method, at.glob, times),
        Fault::Race => {
            for _ in 0..times {
                c.sim.bump_before_next_write(NS, object);
            }
        }
    }
    let timeout = format!("{RUN_TIMEOUT_SECS}s");
    let child = c.spawn(&["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)]);
    let (out, took) = child.wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30)).await;
    let unused: usize = faults.pending().iter().map(|r| r.times).sum();
    faults.clear();
    let ctx = format!("{s:?} {fault:?} x{times} at {}", at.name);
    assert!(
        took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
        "{ctx}: took {took:?} with --timeout {timeout}"
    );
    let injected = match fault {
        Fault::Status(code) => c.sim.requests().iter().filter(|r| r.status == code).count(),
        Fault::Hang => times - unused.min(times),
        Fault::Race => c.sim.requests().iter().filter(|r| r.status == 409).count(),
        Fault::Reset => c.sim.requests().iter().filter(|r| r.aborted).count(),
    };
    if matches!(fault, Fault::Reset) {
        assert!(injected > 0, "{ctx}: the run never reached the fault point");
    }
    let code = assert_contract(&c, &plan, &out, &ctx).await;
    // Up to three failures in a row at one point are absorbed: reads are tried three times,
    // conditional writes go round a five-attempt re-read loop, the Lease create and release are
    // tried again. Only more (or a 409 race, which is not a failure) may end otherwise.
    if times <= 3 && !matches!(fault, Fault::Race) {
        assert_eq!(code, 0, "{ctx}: {}", render(&out));
    }
    // One failed release is tried again: the run must not leave its Lease behind.
    if at.name == LEASE_RELEASE.name && times == 1 {
        assert!(
            !stderr(&out).contains("could not release the lock") && c.lease().is_none(),
            "{ctx}: {}",
            render(&out)
        );
    }
    // A retirement that failed (blue kept, with a warning) is finished by the next apply.
    if code == 0 && s == Scenario::Selector && c.has_deployment("blue") {
        let again = c.run(&["plan", "apply", "--yes", p(&plan)]).await;
        assert_eq!(again.status.code(), Some(0), "{ctx}: {}", render(&again));
        assert!(
            !c.has_deployment("blue"),
            "{ctx}: the next apply did not retire blue: {}",
            render(&again)
        );
    }
    (code, injected)
}

/// The contract of a run under faults: exit 0 at green, 1 with blue serving, 3 rolled back to
/// blue, 4 with `state:` and a command; the traffic object is exactly one side's (or a planned
/// split); `status` agrees with kube-sim; a Lease outlives the run only when the run says so; every
/// HTTPRoute write that landed set a planned split. Returns the exit code.
async fn assert_contract(c: &Cluster, plan: &Path, out: &Output, ctx: &str) -> i32 {
    let s = c.scenario;
    let code = out.status.code().unwrap_or(-1);
    let err = stderr(out);
    assert!(!err.contains("panicked"), "{ctx}: {}", render(out));
    let (env, _) = c.truth(); // panics when half-written
    match code {
        0 => assert_eq!(
            env,
            "green",
            "{ctx}: exit 0 but not at the end state: {}",
            render(out)
        ),
        1 => assert_eq!(
            env,
            "blue",
            "{ctx}: exit 1 but traffic moved: {}",
            render(out)
        ),
        3 => {
            assert_eq!(
                env,
                "blue",
                "{ctx}: exit 3 but blue does not serve: {}",
                render(out)
            );
            assert!(
                err.contains("rolled back to `blue`"),
                "{ctx}: {}",
                render(out)
            );
        }
        4 => assert!(
            err.contains("state:") && err.contains("to finish by hand: bgctl "),
            "{ctx}: exit 4 must print the state and a command: {}",
            render(out)
        ),
        _ => panic!("{ctx}: undocumented exit: {}", render(out)),
    }
    assert_status_truthful(c, plan, ctx).await;
    // The release is retried on a server error: a Lease is left (until it expires) only when
    // the run says so.
    if !err.contains("could not release the lock") {
        assert!(
            c.lease().is_none(),
            "{ctx}: the Lease outlived the run: {}",
            render(out)
        );
    }
    // Every traffic write that landed set one of the planned splits.
    let planned: &[u64] = match s {
        Scenario::Selector => &[0, 100],
        Scenario::GatewayCanary => &[0, 10, 50, 100],
    };
    for r in c
        .writes()
        .iter()
        .filter(|r| r.status == 200 && r.method == "PATCH")
    {
        if r.path.contains("/httproutes/") {
            let body = r.json().expect("json");
            if let Some(refs) = body["spec"]["rules"][0]["backendRefs"].as_array() {
                let w: Vec<u64> = refs
                    .iter()
                    .map(|b| b["weight"].as_u64().unwrap_or(1))
                    .collect();
                assert!(
                    w.len() == 2 && w[0] + w[1] == 100 && planned.contains(&w[1]),
                    "{ctx}: unplanned weights {w:?}"
                );
            }
        }
    }
    code
}

async fn flaky_matrix(name: &str, cases: &[(Scenario, Fault, Point, usize)]) {
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut injected = 0;
    for &(s, f, at, times) in cases {
        let (code, n) = flaky_run(s, f, at, times).await;
        println!(
            "  {name}: {s:?} {f:?} x{times} at {}: exit {code}, {n} injected",
            at.name
        );
        *codes.entry(code).or_insert(0) += 1;
        injected += n;
    }
    println!(
        "k8s flaky matrix {name}: {} runs, {injected} faults injected, exit codes {codes:?}, {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
}

fn cases_for(f: Fault) -> Vec<(Scenario, Fault, Point, usize)> {
    use Scenario::{GatewayCanary, Selector};
    vec![
        (Selector, f, LEASE_CREATE, 1),
        (Selector, f, FIRST_READ, 2),
        (Selector, f, DEPLOYMENT_CREATE, 1),
        (Selector, f, SELECTOR_FLIP, 1),
        (Selector, f, SELECTOR_FLIP, 3),
        (Selector, f, RETIRE, 1),
        (Selector, f, LEASE_RELEASE, 1),
        (GatewayCanary, f, ROUTE_10, 1),
        (GatewayCanary, f, ROUTE_50, 1),
        (GatewayCanary, f, ROUTE_100, 2),
        // Past the traffic write's re-read-and-retry loop (5 attempts): the 50 % write fails
        // for good and the run rolls back; at 100 % the rollback's own write fails too.
        (GatewayCanary, f, ROUTE_50, 5),
        (GatewayCanary, f, ROUTE_100, 10),
    ]
}

/// 500 at twelve fault points of a selector flip and a Gateway API canary.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_500() {
    flaky_matrix("500", &cases_for(Fault::Status(500))).await;
}

/// 503 (kube's client retries it with backoff).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_503() {
    flaky_matrix("503", &cases_for(Fault::Status(503))).await;
}

/// 429 (retried like 503).
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_429() {
    flaky_matrix("429", &cases_for(Fault::Status(429))).await;
}

/// A request that never answers, past `requestTimeout: 1s`.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_hang_past_request_timeout() {
    flaky_matrix("hang", &cases_for(Fault::Hang)).await;
}

/// The connection reset (TCP RST) without an answer, the request not carried out.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_reset() {
    flaky_matrix("reset", &cases_for(Fault::Reset)).await;
}

/// Random faults: every API request fails with probability 20 % (500, or a connection reset),
/// for the selector flip and the Gateway API canary, a few runs each. Every run keeps the
/// contract and `plan apply` converges afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_random_20_percent_500_and_resets() {
    const RUNS: usize = 4;
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut injected = 0;
    let mut requests = 0;
    for action in [FaultAction::Status(500), FaultAction::Reset] {
        for s in [Scenario::Selector, Scenario::GatewayCanary] {
            for i in 0..RUNS {
                let c = Cluster::start(s).await;
                let plan = c.plan(&["requestTimeout: 1s"]);
                c.sim.faults().set_random(0.2, action.clone());
                let timeout = format!("{RUN_TIMEOUT_SECS}s");
                let (out, took) = c
                    .spawn(&["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)])
                    .wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30))
                    .await;
                c.sim.faults().clear();
                let ctx = format!("{s:?} random 20% {action:?} run {i}");
                assert!(
                    took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
                    "{ctx}: took {took:?} with --timeout {timeout}"
                );
                let log = c.sim.requests();
                let n = log
                    .iter()
                    .filter(|r| {
                        r.aborted || (action == FaultAction::Status(500) && r.status == 500)
                    })
                    .count();
                let code = assert_contract(&c, &plan, &out, &ctx).await;
                let how = converge(&c, &plan, c.lease().is_some(), &ctx).await;
                println!(
                    "  random {action:?}: {s:?} run {i}: {} requests, {n} faulted, exit {code}, then {how}",
                    log.len()
                );
                *codes.entry(code).or_insert(0) += 1;
                injected += n;
                requests += log.len();
            }
        }
    }
    println!(
        "k8s random faults (20 % 500 / reset): {} runs, {injected} of {requests} requests faulted, exit codes {codes:?}, all converged; {:.1}s",
        4 * RUNS,
        started.elapsed().as_secs_f64()
    );
}

/// 409 races: another writer bumps the traffic object / Deployment just before bgctl's write.
#[tokio::test(flavor = "multi_thread")]
async fn k8s_flaky_api_409_races() {
    use Scenario::{GatewayCanary, Selector};
    let f = Fault::Race;
    flaky_matrix(
        "409",
        &[
            (Selector, f, SELECTOR_FLIP, 1),
            (Selector, f, SELECTOR_FLIP, 3),
            (Selector, f, SELECTOR_FLIP, 5),
            (Selector, f, RETIRE, 1),
            (GatewayCanary, f, ROUTE_10, 1),
            (GatewayCanary, f, ROUTE_10, 3),
            (GatewayCanary, f, ROUTE_10, 5),
        ],
    )
    .await;
}
