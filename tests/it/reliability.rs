//! Reliability under faults (issue 8), proved by matrices against kong-sim and the real binary:
//! a SIGKILL at every Admin API write boundary, a flaky Admin API, a rollback whose writes fail,
//! concurrent runs and stale locks, signals, hostile input (a proptest fuzzer), secrets and TLS,
//! and misbehaving gateway answers. `docs/reliability.md` lists each guarantee with its test and
//! the latest figures; the figures are printed by the tests (`--nocapture`).
//!
//! Every loop here is bounded in count and time, every child process is killed by its PID when
//! its guard drops, and everything listens on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kong_sim::{FaultAction, FaultRule, SimConfig};
use serde_json::Value;

use crate::harness::{render, root, Stack};

const SERVICE: &str = "address-service";
const BLUE_UP: &str = "address.v1.service";
const GREEN_UP: &str = "address.v2.service";
const MIXED_UP: &str = "address.v2.service.bgctl-canary";
const LOCK_UP: &str = "address-service.bgctl-lock";

// ---------------------------------------------------------------------------------------------
// Plans and processes
// ---------------------------------------------------------------------------------------------

/// Writes `tests/plans/<base>` into the stack's temp dir as `<file>`, with replacements and extra
/// `provider.kong` settings (each `key: value` line is indented under `kong:`).
fn write_plan(
    stack: &Stack,
    file: &str,
    base: &str,
    replace: &[(&str, &str)],
    kong: &[&str],
) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("tests/plans").join(base)).expect("plan");
    for (from, to) in replace {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replace(from, to);
    }
    let anchor = "    proxyUrl: ${KONG_PROXY_URL}\n";
    let mut extra = String::from(anchor);
    for line in kong {
        extra.push_str("    ");
        extra.push_str(line);
        extra.push('\n');
    }
    text = text.replace(anchor, &extra);
    let path = stack.dir.path().join(file);
    std::fs::write(&path, text).expect("write plan");
    path
}

const CANARY_STEPS: &str = "    steps:
      - setWeight: 10
      - pause: {duration: \"${PAUSE:-0s}\"}
      - pause: {}
      - setWeight: 50
      - pause: {}
      - setWeight: 100
";
const CANARY_VERIFY: &str = "    verify: {samples: 400, tolerance: 5, timeout: 10s}\n";

/// A blue-green plan (seed) making `active` live.
fn bg_plan(stack: &Stack, active: &str, kong: &[&str]) -> PathBuf {
    write_plan(
        stack,
        &format!("bg-{active}.yaml"),
        "seed.yaml",
        &[("ACTIVE", active)],
        kong,
    )
}

/// A canary blue → green with the given steps (YAML flow list) and a short verification.
fn canary_plan(stack: &Stack, steps: &str, kong: &[&str]) -> PathBuf {
    let steps = format!("    steps: {steps}\n");
    write_plan(
        stack,
        "canary.yaml",
        "canary.yaml",
        &[
            (CANARY_STEPS, steps.as_str()),
            (
                CANARY_VERIFY,
                "    verify: {samples: 60, tolerance: 5, timeout: 5s}\n",
            ),
        ],
        kong,
    )
}

/// The three-step canary of the matrices: 10 → 50 → 100, no gates.
const THREE_STEPS: &str = "[{setWeight: 10}, {setWeight: 50}, {setWeight: 100}]";

/// A running `bgctl`; dropping it kills the process by its PID.
pub(crate) struct Running {
    pub(crate) child: Option<Child>,
    pub(crate) out: PathBuf,
    pub(crate) err: PathBuf,
    pub(crate) started: Instant,
}

impl Running {
    /// SIGKILL, by PID.
    pub(crate) fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal (`KILL`, `INT`, `TERM`) to this process only.
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success(), "kill -{sig} failed");
    }

    pub(crate) fn exited(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(Some(_))))
    }

    /// Waits (bounded) for the exit; panics (after killing it) when it takes longer than `limit`.
    pub(crate) async fn wait(mut self, limit: Duration) -> (Output, Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                let took = self.started.elapsed();
                self.child = None;
                let out = Output {
                    status,
                    stdout: std::fs::read(&self.out).unwrap_or_default(),
                    stderr: std::fs::read(&self.err).unwrap_or_default(),
                };
                return (out, took);
            }
            assert!(
                Instant::now() < deadline,
                "bgctl did not finish within {limit:?}; stderr so far:\n{}",
                String::from_utf8_lossy(&std::fs::read(&self.err).unwrap_or_default())
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Starts the real binary with the stack's environment; output goes to files (no pipe can fill).
fn spawn(stack: &Stack, args: &[&str], envs: &[(&str, &str)]) -> Running {
    let n = SPAWNED.fetch_add(1, Ordering::Relaxed);
    let out = stack.dir.path().join(format!("out-{n}.txt"));
    let err = stack.dir.path().join(format!("err-{n}.txt"));
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear();
    for (k, v) in stack.bgctl().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.current_dir(stack.dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("out file"))
        .stderr(std::fs::File::create(&err).expect("err file"));
    Running {
        child: Some(cmd.spawn().expect("spawn bgctl")),
        out,
        err,
        started: Instant::now(),
    }
}

/// Runs `bgctl args…` to completion (bounded) and returns its output.
async fn bgctl(stack: &Stack, args: &[&str]) -> Output {
    spawn(stack, args, &[]).wait(Duration::from_mins(1)).await.0
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Reading Kong directly
// ---------------------------------------------------------------------------------------------

async fn admin_get(stack: &Stack, path: &str) -> Option<Value> {
    let resp = reqwest::get(format!("{}{path}", stack.sim.admin_url()))
        .await
        .expect("admin api");
    if resp.status().as_u16() == 404 {
        return None;
    }
    Some(resp.json().await.expect("json"))
}

async fn host(stack: &Stack) -> Option<String> {
    admin_get(stack, &format!("/services/{SERVICE}"))
        .await
        .map(|s| s["host"].as_str().unwrap_or_default().to_string())
}

async fn upstreams(stack: &Stack) -> Vec<String> {
    let list = admin_get(stack, "/upstreams?size=1000")
        .await
        .expect("upstreams");
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Canary share of the mixed upstream, from its targets (green targets have backends 2 and 3).
async fn mixed_percent(stack: &Stack) -> f64 {
    let green: Vec<String> = stack.backends[2..]
        .iter()
        .map(|b| b.addr().to_string())
        .collect();
    let list = admin_get(stack, &format!("/upstreams/{MIXED_UP}/targets"))
        .await
        .expect("mixed targets");
    let (mut g, mut total) = (0u64, 0u64);
    for t in list["data"].as_array().expect("data") {
        let w = t["weight"].as_u64().unwrap_or(0);
        total += w;
        if green
            .iter()
            .any(|a| Some(a.as_str()) == t["target"].as_str())
        {
            g += w;
        }
    }
    if total == 0 {
        0.0
    } else {
        100.0 * g as f64 / total as f64
    }
}

/// `bgctl status` exits 0 and agrees with the Admin API read directly: where traffic goes, the
/// lock, and every upstream is a plan environment, the canary mix (`extra`) or the lock — no
/// orphan bgctl cannot explain. Returns the status document.
async fn assert_status_truthful(stack: &Stack, plan: &Path, ctx: &str) -> Value {
    let out = bgctl(
        stack,
        &["-o", "json", "status", "--no-probe", "-f", p(plan)],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{ctx}: status failed: {}",
        render(&out)
    );
    let st: Value = serde_json::from_slice(&out.stdout).expect("status json");
    let traffic = &st["traffic"];
    match host(stack).await.as_deref() {
        None => assert_eq!(traffic["kind"], "missing", "{ctx}: {st}"),
        Some(BLUE_UP) => assert_eq!(
            (&traffic["kind"], &traffic["env"]),
            (&"env".into(), &"blue".into()),
            "{ctx}: {st}"
        ),
        Some(GREEN_UP) => assert_eq!(
            (&traffic["kind"], &traffic["env"]),
            (&"env".into(), &"green".into()),
            "{ctx}: {st}"
        ),
        Some(MIXED_UP) => {
            assert_eq!(traffic["kind"], "split", "{ctx}: {st}");
            let live = mixed_percent(stack).await;
            let said = traffic["percent"].as_f64().expect("percent");
            assert!(
                (live - said).abs() < 1e-6,
                "{ctx}: status says {said}%, Kong has {live}%"
            );
            let phase = st["record"]["phase"].as_str().unwrap_or_default();
            assert!(
                ["progressing", "paused"].contains(&phase),
                "{ctx}: the service points at the mix but the record says `{phase}`: {st}"
            );
        }
        Some(other) => panic!("{ctx}: half-switched: the service points at `{other}`"),
    }
    let ups = upstreams(stack).await;
    for u in &ups {
        match u.as_str() {
            BLUE_UP | GREEN_UP => {}
            MIXED_UP => assert!(
                st["extra"].to_string().contains(MIXED_UP),
                "{ctx}: status does not list the mixed upstream: {st}"
            ),
            LOCK_UP => assert!(
                st["lock"]["holder"]
                    .as_str()
                    .is_some_and(|h| h.contains("tester@")),
                "{ctx}: status does not show the lock: {st}"
            ),
            other => panic!("{ctx}: orphan upstream `{other}` bgctl cannot explain"),
        }
    }
    if !ups.iter().any(|u| u == LOCK_UP) {
        assert!(
            st["lock"].is_null(),
            "{ctx}: status shows a lock Kong does not have: {st}"
        );
    }
    st
}

/// Requests whose method is a write, in order.
fn writes(stack: &Stack) -> Vec<kong_sim::LoggedRequest> {
    stack.writes()
}

// ---------------------------------------------------------------------------------------------
// 1. Crash at any point
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Scenario {
    /// `plan apply` of a blue-green plan on an empty Kong.
    BlueGreenFresh,
    /// `plan apply` of the green plan with blue live.
    BlueGreenSwitch,
    /// `plan apply` of the 10 → 50 → 100 canary with blue live.
    Canary,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Branch {
    /// After the kill: `rollback` / `abort` restores stable.
    Restore,
    /// After the kill: `plan apply --force-unlock` converges to the plan's end state.
    Converge,
}

struct Setup {
    stack: Stack,
    plan: PathBuf,
}

async fn setup(s: Scenario) -> Setup {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let plan = match s {
        Scenario::BlueGreenFresh => blue.clone(),
        Scenario::BlueGreenSwitch => bg_plan(&stack, "green", &[]),
        Scenario::Canary => canary_plan(&stack, THREE_STEPS, &[]),
    };
    if s != Scenario::BlueGreenFresh {
        let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
        assert_eq!(out.status.code(), Some(0), "prepare: {}", render(&out));
    }
    stack.sim.clear_requests();
    Setup { stack, plan }
}

fn end_host(s: Scenario) -> &'static str {
    match s {
        Scenario::BlueGreenFresh => BLUE_UP,
        Scenario::BlueGreenSwitch | Scenario::Canary => GREEN_UP,
    }
}

/// The run to completion once: its Admin API writes are the kill points.
async fn reference_writes(s: Scenario) -> Vec<(String, String)> {
    let su = setup(s).await;
    let out = bgctl(&su.stack, &["plan", "apply", "--yes", p(&su.plan)]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "reference run: {}",
        render(&out)
    );
    writes(&su.stack)
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// First path segment, so paths compare across stacks (ids and ports differ).
fn shape(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

/// Arms `action` on exactly write `k` (0-based) of `reference`: kong-sim counts `skip` among
/// requests matching the rule, so the rule matches the write's method and skips that method's
/// earlier writes.
fn fault_at_write(stack: &Stack, reference: &[(String, String)], k: usize, action: FaultAction) {
    let method = &reference[k].0;
    let skip = reference[..k].iter().filter(|(m, _)| m == method).count();
    stack.sim.faults().add(FaultRule {
        method: Some(method.clone()),
        path: "*".into(),
        skip: u32::try_from(skip).expect("small"),
        times: 1,
        action,
    });
}

/// Kill at write `k` (0-based): hang exactly that write ([`fault_at_write`]), wait until the
/// log shows it pending, SIGKILL, clear the faults; then check.
async fn kill_at(s: Scenario, reference: &[(String, String)], k: usize, branch: Branch) {
    let su = setup(s).await;
    let stack = &su.stack;
    let (method, path) = &reference[k];
    fault_at_write(stack, reference, k, FaultAction::Hang { ms: 60_000 });
    let mut child = spawn(stack, &["plan", "apply", "--yes", p(&su.plan)], &[]);
    let ctx = format!("{s:?} kill at write {k} ({method} {path}), {branch:?}");
    let mut reached = false;
    for _ in 0..1000 {
        let w = writes(stack);
        if w.len() == k + 1 && w[k].status == 0 {
            reached = true;
            break;
        }
        assert!(w.len() <= k + 1, "{ctx}: ran past the kill point: {w:?}");
        assert!(!child.exited(), "{ctx}: bgctl exited before the kill point");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reached, "{ctx}: never reached the kill point");
    let w = writes(stack);
    for (i, (m, pth)) in reference[..=k].iter().enumerate() {
        assert_eq!(
            (&w[i].method, shape(&w[i].path)),
            (m, shape(pth)),
            "{ctx}: the writes differ from the reference run"
        );
    }
    child.signal("KILL");
    let _ = child.wait(Duration::from_secs(10)).await;
    stack.sim.faults().clear();

    let st = assert_status_truthful(stack, &su.plan, &ctx).await;
    let locked = !st["lock"].is_null();
    match branch {
        Branch::Restore => {
            // `rollback` (blue-green) / `abort` (canary): a killed run's lock blocks it (exit 5
            // naming the holder) until it is broken on purpose with `--force-unlock`.
            let cmd = if s == Scenario::Canary {
                "abort"
            } else {
                "rollback"
            };
            let out = bgctl(stack, &[cmd, "--yes", "-f", p(&su.plan)]).await;
            let code = out.status.code();
            if locked && code == Some(5) {
                assert!(
                    stderr(&out).contains("locked by tester@"),
                    "{ctx}: {}",
                    render(&out)
                );
                let out = bgctl(stack, &[cmd, "--yes", "--force-unlock", "-f", p(&su.plan)]).await;
                assert_restored(stack, &out, &ctx).await;
            } else {
                assert_restored(stack, &out, &ctx).await;
            }
            assert_status_truthful(stack, &su.plan, &ctx).await;
        }
        Branch::Converge => assert_converges(stack, &su.plan, s, locked, &ctx).await,
    }
}

/// `plan apply` converges to the plan's end state (past a left-over lock with `--force-unlock`,
/// never silently), leaves nothing behind, and one more apply writes nothing.
async fn assert_converges(stack: &Stack, plan: &Path, s: Scenario, locked: bool, ctx: &str) {
    let out = bgctl(stack, &["plan", "apply", "--yes", p(plan)]).await;
    // Killed after its last traffic write, the run left only its lock: the next apply
    // has nothing to change, takes no lock and says so (the lock stays, shown by
    // `status`, until it expires or is broken).
    let up_to_date = out.status.code() == Some(0) && stderr(&out).contains("up to date");
    if locked && !up_to_date {
        assert_eq!(
            out.status.code(),
            Some(5),
            "{ctx}: a killed run's lock is never silently stolen: {}",
            render(&out)
        );
        let out = bgctl(
            stack,
            &["plan", "apply", "--yes", "--force-unlock", p(plan)],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    } else {
        assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    }
    assert_eq!(host(stack).await.as_deref(), Some(end_host(s)), "{ctx}");
    let mut ups = upstreams(stack).await;
    ups.retain(|u| !(locked && up_to_date && u == LOCK_UP));
    ups.sort();
    assert_eq!(
        ups,
        [BLUE_UP, GREEN_UP],
        "{ctx}: leftovers after converging"
    );
    let st = assert_status_truthful(stack, plan, ctx).await;
    assert_eq!(st["record"]["phase"], "completed", "{ctx}: {st}");
    // Converged means idempotent: one more apply writes nothing.
    stack.sim.clear_requests();
    let out = bgctl(stack, &["plan", "apply", "--yes", p(plan)]).await;
    assert_eq!(out.status.code(), Some(0), "{ctx}: {}", render(&out));
    assert!(
        writes(stack).is_empty(),
        "{ctx}: re-apply wrote {:?}",
        writes(stack)
    );
}

/// After `rollback`/`abort`: stable (blue) serves. `rollback` with nothing recorded to go back
/// to (the kill came before traffic moved) exits 1 without writing, and blue still serves.
async fn assert_restored(stack: &Stack, out: &Output, ctx: &str) {
    let code = out.status.code();
    let nothing = code == Some(1) && stderr(out).contains("nothing to roll back to");
    let already = code == Some(2) && stderr(out).contains("is already live");
    assert!(
        code == Some(0) || nothing || already,
        "{ctx}: restore failed: {}",
        render(out)
    );
    let h = host(stack).await;
    assert!(
        h.as_deref() == Some(BLUE_UP) || (h.is_none() && code == Some(1)),
        "{ctx}: stable is not serving after restore: {h:?}: {}",
        render(out)
    );
}

async fn crash_matrix(s: Scenario, branches: &[Branch]) -> usize {
    let reference = reference_writes(s).await;
    assert!(!reference.is_empty());
    let started = Instant::now();
    let mut recovered = 0;
    for k in 0..reference.len() {
        for &b in branches {
            kill_at(s, &reference, k, b).await;
            recovered += 1;
        }
    }
    println!(
        "crash matrix {s:?}: {} kill points x {} branches: {recovered}/{recovered} recovered in {:.1}s",
        reference.len(),
        branches.len(),
        started.elapsed().as_secs_f64()
    );
    recovered
}

/// Write `k`'s answer is lost (kong-sim makes the change, then resets the connection): the
/// run must still succeed at the plan's end state, `status` must agree with Kong, and the state
/// must stay converged and idempotent. Returns the exit code.
async fn lose_answer_at(s: Scenario, reference: &[(String, String)], k: usize) -> i32 {
    let su = setup(s).await;
    let stack = &su.stack;
    let (method, path) = &reference[k];
    fault_at_write(stack, reference, k, FaultAction::LoseAnswer);
    let ctx = format!("{s:?} answer lost at write {k} ({method} {path})");
    let (out, _) = spawn(
        stack,
        &["--timeout", "20s", "plan", "apply", "--yes", p(&su.plan)],
        &[],
    )
    .wait(Duration::from_secs(40))
    .await;
    let lost = writes(stack).len() > k;
    stack.sim.faults().clear();
    assert!(lost, "{ctx}: the run never made that write");
    // Every write is either idempotent (retried), read back after an unknown outcome (traffic
    // writes, the lock, target POSTs) or harmless to repeat: a lost answer never fails the run.
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(code, 0, "{ctx}: {}", render(&out));
    assert_eq!(host(stack).await.as_deref(), Some(end_host(s)), "{ctx}");
    let st = assert_status_truthful(stack, &su.plan, &ctx).await;
    assert_converges(stack, &su.plan, s, !st["lock"].is_null(), &ctx).await;
    code
}

/// A lost answer at every write of the three scenarios (the "write landed, answer lost" kill
/// point a SIGKILL cannot produce).
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_at_every_write_ends_consistently() {
    let started = Instant::now();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut runs = 0;
    for s in [
        Scenario::BlueGreenFresh,
        Scenario::BlueGreenSwitch,
        Scenario::Canary,
    ] {
        let reference = reference_writes(s).await;
        for k in 0..reference.len() {
            let code = lose_answer_at(s, &reference, k).await;
            println!(
                "  {s:?} answer lost at write {k} ({} {}): exit {code}",
                reference[k].0, reference[k].1
            );
            *codes.entry(code).or_insert(0) += 1;
            runs += 1;
        }
    }
    println!(
        "lost-answer matrix: {runs} writes, exit codes {codes:?}, all converged; {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// `rollback` and `abort` whose traffic write lands but loses its answer still succeed (exit 0,
/// stable serves, `status` agrees, no lock left): the service `PATCH` is idempotent, so the
/// client sends it again and gets the answer.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_during_rollback_and_abort_still_succeeds() {
    let lose_service_patch = || FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::LoseAnswer,
    };
    // Blue-green: green live, then `rollback`.
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let green = bg_plan(&stack, "green", &[]);
    for plan in [&blue, &green] {
        let out = bgctl(&stack, &["plan", "apply", "--yes", p(plan)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    }
    stack.sim.clear_requests();
    stack.sim.faults().add(lose_service_patch());
    let out = bgctl(&stack, &["rollback", "--yes", "-f", p(&green)]).await;
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "rollback: {}", render(&out));
    let patches = writes(&stack)
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
        .count();
    assert_eq!(
        patches,
        2,
        "the lost write and its repeat: {:?}",
        writes(&stack)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &green, "after rollback").await;
    assert!(st["lock"].is_null(), "{st}");

    // Canary: paused at a gate at 10 %, then `abort`.
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(
        &stack,
        "[{setWeight: 10}, {pause: {}}, {setWeight: 100}]",
        &[],
    );
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(6), "at the gate: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(MIXED_UP));
    stack.sim.faults().add(lose_service_patch());
    let out = bgctl(&stack, &["abort", "--yes", "-f", p(&plan)]).await;
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(0), "abort: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &plan, "after abort").await;
    assert!(st["lock"].is_null(), "{st}");
    assert_eq!(st["record"]["phase"], "aborted", "{st}");
}

/// SIGKILL at every write of a first-time blue-green apply: status is truthful, no orphans, and
/// re-applying (with `--force-unlock` when the killed run left its lock) converges.
#[tokio::test(flavor = "multi_thread")]
async fn crash_at_every_write_of_a_fresh_blue_green_apply_recovers() {
    crash_matrix(Scenario::BlueGreenFresh, &[Branch::Converge]).await;
}

/// SIGKILL at every write of a blue → green switch: `rollback` restores blue, re-apply converges.
#[tokio::test(flavor = "multi_thread")]
async fn crash_at_every_write_of_a_blue_green_switch_recovers() {
    crash_matrix(
        Scenario::BlueGreenSwitch,
        &[Branch::Restore, Branch::Converge],
    )
    .await;
}

/// SIGKILL at every write of a 10 → 50 → 100 canary: `abort` restores blue, re-apply converges.
#[tokio::test(flavor = "multi_thread")]
async fn crash_at_every_write_of_a_canary_recovers() {
    crash_matrix(Scenario::Canary, &[Branch::Restore, Branch::Converge]).await;
}

// ---------------------------------------------------------------------------------------------
// 2. Flaky Admin API
// ---------------------------------------------------------------------------------------------

const REQUEST_TIMEOUT: &str = "requestTimeout: 500ms";
const RUN_TIMEOUT_SECS: u64 = 20;

#[derive(Clone, Copy, Debug)]
enum Injection {
    Random(f64),
    /// Fail the next `n` Admin API calls after `skip` calls.
    Next {
        skip: u32,
        n: u32,
    },
}

/// One run under faults; checks the exit-code contract and the state after it. Returns the number
/// of faults the simulator injected (answers it did not give normally) and the exit code.
async fn flaky_run(action: &FaultAction, inj: Injection, canary: bool) -> (usize, i32) {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let plan = if canary {
        canary_plan(&stack, THREE_STEPS, &[REQUEST_TIMEOUT])
    } else {
        bg_plan(&stack, "green", &[REQUEST_TIMEOUT])
    };
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "prepare: {}", render(&out));
    stack.sim.clear_requests();
    let faults = stack.sim.faults();
    match inj {
        Injection::Random(rate) => faults.set_random(rate, action.clone()),
        Injection::Next { skip, n } => faults.add(FaultRule {
            method: None,
            path: "*".into(),
            skip,
            times: n,
            action: action.clone(),
        }),
    }
    let timeout = format!("{RUN_TIMEOUT_SECS}s");
    let child = spawn(
        &stack,
        &["--timeout", &timeout, "plan", "apply", "--yes", p(&plan)],
        &[],
    );
    let (out, took) = child.wait(Duration::from_secs(RUN_TIMEOUT_SECS + 30)).await;
    faults.clear();
    let ctx = format!("{action:?} {inj:?} canary={canary}");
    let log = stack.sim.requests();
    let injected = log
        .iter()
        .filter(|r| r.status == 0 || r.status == 429 || r.status >= 500)
        .count();
    // The run's total time, its closing writes (automatic rollback, lock release) included, is
    // bounded by `--timeout` plus a margin for process start.
    assert!(
        took < Duration::from_secs(RUN_TIMEOUT_SECS + 5),
        "{ctx}: took {took:?} with --timeout {timeout}"
    );
    let code = out.status.code();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{ctx}: {}", render(&out));
    let h = host(&stack).await;
    match code {
        Some(0) => assert_eq!(
            h.as_deref(),
            Some(GREEN_UP),
            "{ctx}: exit 0 but not at the end state"
        ),
        Some(1 | 3) => assert_eq!(
            h.as_deref(),
            Some(BLUE_UP),
            "{ctx}: exit {code:?} but stable is not serving: {}",
            render(&out)
        ),
        Some(4) => assert!(
            err.contains("state:") && err.contains("to finish by hand: bgctl "),
            "{ctx}: exit 4 must print the state and a command: {}",
            render(&out)
        ),
        _ => panic!("{ctx}: undocumented exit: {}", render(&out)),
    }
    // Never half-switched: the status agrees with Kong and the service points at exactly one
    // environment or at the mix while the record says a canary is in progress.
    assert_status_truthful(&stack, &plan, &ctx).await;
    // Retries only where idempotent: a target `POST` that got no answer is never re-sent blind
    // with the same body — only after a read-back of that target answered 404 (it did not
    // land). The lock `POST` may be re-sent: it reads back a 409 and recognises its own run.
    for (i, r) in log.iter().enumerate() {
        if r.method == "POST" && r.path.ends_with("/targets") && r.status == 0 {
            if let Some(j) = log[i + 1..]
                .iter()
                .position(|x| x.method == "POST" && x.path == r.path && x.body == r.body)
            {
                let between = &log[i + 1..i + 1 + j];
                assert!(
                    between.iter().any(|x| x.method == "GET"
                        && x.path.starts_with(&format!("{}/", r.path))
                        && x.status == 404),
                    "{ctx}: an unanswered target POST was re-sent without reading it back: {r:?}"
                );
            }
        }
    }
    (injected, code.unwrap_or(-1))
}

fn status_fault(code: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        code,
        retry_after,
        body: None,
    }
}

async fn flaky_matrix(action: FaultAction) {
    let started = Instant::now();
    let mut runs = 0;
    let mut injected = 0;
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let matrix = [
        (Injection::Random(0.05), true),
        (Injection::Random(0.2), true),
        (Injection::Next { skip: 0, n: 3 }, true),
        (Injection::Next { skip: 25, n: 3 }, true),
        (Injection::Random(0.2), false),
    ];
    for (inj, canary) in matrix {
        let (n, code) = flaky_run(&action, inj, canary).await;
        injected += n;
        *codes.entry(code).or_insert(0) += 1;
        runs += 1;
    }
    println!(
        "flaky matrix {action:?}: {runs} runs, {injected} faults injected (unanswered or error answers in the log), exit codes {codes:?}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// 500 at 5% / 20% / the next 3 calls: complete, or fail with a documented code and a truthful state.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_500() {
    flaky_matrix(status_fault(500, None)).await;
}

/// 502: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_502() {
    flaky_matrix(status_fault(502, None)).await;
}

/// 503: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_503() {
    flaky_matrix(status_fault(503, None)).await;
}

/// 429 with `Retry-After: 1`: as above.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_429_retry_after() {
    flaky_matrix(status_fault(429, Some(1))).await;
}

/// Connection reset without an answer: as above; unanswered target POSTs are re-sent only after
/// a read-back shows they did not land.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_connection_reset() {
    flaky_matrix(FaultAction::Reset).await;
}

/// A hang past the 500 ms per-call timeout: as above, and the run stays inside `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_hang_past_timeout() {
    flaky_matrix(FaultAction::Hang { ms: 1500 }).await;
}

/// A slow answer just under the per-call timeout: always completes.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_admin_api_delay_under_timeout() {
    flaky_matrix(FaultAction::Delay { ms: 350 }).await;
}

/// Regression (found by the flaky matrix design review): a write that fails after the canary
/// moved traffic used to exit 1 ("before any traffic change") with the service left on the mix.
/// It now rolls back to stable and exits 3.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_after_traffic_moved_rolls_back_with_exit_3() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    // The first service PATCH (to 10%) lands; the second (to 50%) gets a 400, never retried.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 1,
        times: 1,
        action: FaultAction::Status {
            code: 400,
            retry_after: None,
            body: Some(r#"{"message":"schema violation"}"#.into()),
        },
    });
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    assert!(
        stderr(&out).contains("rolled back to `blue`") && stderr(&out).contains("schema violation"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert_status_truthful(&stack, &plan, "after a failed write mid-canary").await;
}

// ---------------------------------------------------------------------------------------------
// 3. Rollback that fails
// ---------------------------------------------------------------------------------------------

fn services_patch_fails(skip: u32) -> FaultRule {
    FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip,
        times: 1000,
        action: FaultAction::Reset,
    }
}

/// The Admin API goes away exactly when `rollback` writes: exit 4, the last known state and the
/// exact command (with the real plan path) to finish.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_whose_write_fails_exits_4_with_state_and_command() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let green = bg_plan(&stack, "green", &[REQUEST_TIMEOUT]);
    for plan in [&blue, &green] {
        let out = bgctl(&stack, &["plan", "apply", "--yes", p(plan)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    }
    stack.sim.faults().add(services_patch_fails(0));
    let out = bgctl(
        &stack,
        &["--timeout", "20s", "rollback", "--yes", "-f", p(&green)],
    )
    .await;
    stack.sim.faults().clear();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    assert!(
        err.contains("state: ") && err.contains("green"),
        "last known state: {err}"
    );
    let cmd = format!("bgctl switch --to blue -f {} --yes", p(&green));
    assert!(err.contains(&cmd), "the exact command `{cmd}`: {err}");
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    // The printed command finishes the job once the API is back.
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let out = bgctl(&stack, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
}

/// A canary whose verification fails rolls back on its own; when that rollback's write fails too:
/// exit 4, the last known state (the split) and the command to finish.
#[tokio::test(flavor = "multi_thread")]
async fn canary_auto_rollback_that_fails_exits_4() {
    // The data plane never catches up within the verification timeout, so verification fails.
    let stack = Stack::with_config(SimConfig {
        propagation_delay: Duration::from_mins(10),
        ..SimConfig::default()
    })
    .await;
    // Blue must be live in the data plane before the canary: apply it through the Admin API
    // while the data plane lags; without `proxyUrl` this first apply does not verify.
    let no_verify = write_plan(
        &stack,
        "blue-nv.yaml",
        "seed.yaml",
        &[
            ("ACTIVE", "blue"),
            ("    proxyUrl: ${KONG_PROXY_URL}\n", ""),
        ],
        &[],
    );
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&no_verify)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = write_plan(
        &stack,
        "canary-fail.yaml",
        "canary.yaml",
        &[
            (
                CANARY_STEPS,
                "    steps: [{setWeight: 10}, {setWeight: 100}]\n",
            ),
            (
                CANARY_VERIFY,
                "    verify: {samples: 20, tolerance: 1, timeout: 1s}\n",
            ),
        ],
        &[REQUEST_TIMEOUT],
    );
    // The first service PATCH moves traffic to 10%; every later one (the rollback) fails.
    stack.sim.faults().add(services_patch_fails(1));
    let out = bgctl(
        &stack,
        &["--timeout", "30s", "plan", "apply", "--yes", p(&plan)],
    )
    .await;
    stack.sim.faults().clear();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    assert!(err.contains("rollback to `blue` failed"), "{err}");
    assert!(
        err.contains("state: last known: traffic goes to blue 90.0% / green 10.0%"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "to finish by hand: bgctl abort -f {} --yes",
            p(&plan)
        )),
        "{err}"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(MIXED_UP));
    assert_status_truthful(&stack, &plan, "after a failed auto-rollback").await;
}

/// The working deadline runs out while a canary's write hangs: the automatic rollback still has
/// the reserve `--timeout` keeps for the closing writes (`bgctl::deadline::closing_reserve`, 2 s
/// of 8 s here) and sends traffic back (exit 3), instead of finding no time left for its own
/// calls (exit 4). The run stays within `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn canary_whose_timeout_runs_out_mid_write_still_rolls_back() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = write_plan(
        &stack,
        "canary-deadline.yaml",
        "canary.yaml",
        &[
            (
                CANARY_STEPS,
                "    steps: [{setWeight: 10}, {setWeight: 100}]\n",
            ),
            (CANARY_VERIFY, ""),
        ],
        &[],
    );
    // The first service PATCH moves traffic to 10%; the next one (100%) hangs past the deadline.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 1,
        times: 1,
        action: FaultAction::Hang { ms: 60_000 },
    });
    let started = Instant::now();
    let out = bgctl(
        &stack,
        &["--timeout", "8s", "plan", "apply", "--yes", p(&plan)],
    )
    .await;
    let took = started.elapsed();
    stack.sim.faults().clear();
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    assert!(
        stderr(&out).contains("rolled back to `blue`"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert!(took < Duration::from_secs(8 + 2), "took {took:?}");
    assert_status_truthful(&stack, &plan, "after a rollback in the closing reserve").await;
}

// ---------------------------------------------------------------------------------------------
// 4. Concurrent runs and locks
// ---------------------------------------------------------------------------------------------

/// Four processes apply the same canary at once: exactly one proceeds; the others exit 5 naming
/// the holder, or — if they reached the lock after the winner released it — find the rollout up
/// to date (exit 0, no traffic write). Never a second canary.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_applies_one_proceeds_others_exit_5() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    stack.sim.clear_requests();
    let children: Vec<Running> = (0..4)
        .map(|_| spawn(&stack, &["plan", "apply", "--yes", p(&plan)], &[]))
        .collect();
    let mut codes = BTreeMap::new();
    for c in children {
        let (out, _) = c.wait(Duration::from_mins(1)).await;
        let code = out.status.code().unwrap_or(-1);
        match code {
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
    let lock_wins = stack
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/upstreams" && r.status == 201)
        .count();
    let to_mix = stack
        .writes()
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path.starts_with("/services/")
                && r.body.contains(MIXED_UP)
                && r.body.contains("bgctl.weight=10\"")
        })
        .count();
    println!("concurrent applies: exit codes {codes:?}, locks taken {lock_wins}, canaries started {to_mix}");
    assert_eq!(to_mix, 1, "exactly one canary ran");
    assert_eq!(
        codes.get(&0).copied().unwrap_or(0),
        lock_wins,
        "every exit 0 took the lock once"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
}

/// A run that reads the live state, then waits for the lock while another run completes the
/// canary, must not act on what it read before: it re-reads under the lock and finds the rollout
/// up to date instead of starting the canary again (traffic going back from 100% to 10%).
#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_waited_for_the_lock_replans_from_fresh_state() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &[]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(&stack, THREE_STEPS, &[]);
    stack.sim.clear_requests();
    // The first lock attempt (run B's) is held back 6 s before Kong processes it.
    stack.sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/upstreams".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Delay { ms: 6000 },
    });
    let b = spawn(&stack, &["plan", "apply", "--yes", p(&plan)], &[]);
    let mut pending = false;
    for _ in 0..500 {
        if stack
            .sim
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/upstreams")
        {
            pending = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(pending, "run B never tried the lock");
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(0), "run A: {}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    let before = stack
        .writes()
        .iter()
        .filter(|r| r.path.starts_with("/services/"))
        .count();
    let (out, _) = b.wait(Duration::from_mins(1)).await;
    assert_eq!(out.status.code(), Some(0), "run B: {}", render(&out));
    let after = stack
        .writes()
        .iter()
        .filter(|r| r.path.starts_with("/services/"))
        .count();
    assert_eq!(
        before,
        after,
        "run B moved traffic from a stale read: {:?}",
        stack.writes()
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
}

/// A lock left by a SIGKILLed run blocks later runs (exit 5) until it expires (`lockTtl: 3s`);
/// then the next run treats it as stale, breaks it with a warning and proceeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_runs_lock_blocks_until_it_expires() {
    let stack = Stack::start().await;
    let blue = bg_plan(&stack, "blue", &["lockTtl: 3s"]);
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let green = bg_plan(&stack, "green", &["lockTtl: 3s"]);
    stack.sim.faults().add(services_hang());
    let mut child = spawn(&stack, &["plan", "apply", "--yes", p(&green)], &[]);
    let mut hung = false;
    for _ in 0..1000 {
        if stack
            .writes()
            .iter()
            .any(|r| r.method == "PATCH" && r.status == 0)
        {
            hung = true;
            break;
        }
        assert!(!child.exited());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(hung);
    child.signal("KILL");
    let _ = child.wait(Duration::from_secs(10)).await;
    let killed_at = Instant::now();
    stack.sim.faults().clear();
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&green)]).await;
    assert_eq!(out.status.code(), Some(5), "{}", render(&out));
    assert!(
        stderr(&out).contains("locked by tester@"),
        "{}",
        render(&out)
    );
    // Expiry has second granularity: wait until the lock's `expires` is in the past.
    tokio::time::sleep(Duration::from_millis(4200).saturating_sub(killed_at.elapsed())).await;
    let out = bgctl(&stack, &["plan", "apply", "--yes", p(&green)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("breaking a stale lock"),
        "{}",
        render(&out)
    );
    assert_eq!(host(&stack).await.as_deref(), Some(GREEN_UP));
    assert!(!upstreams(&stack).await.iter().any(|u| u == LOCK_UP));
}

fn services_hang() -> FaultRule {
    FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Hang { ms: 60_000 },
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Signals
// ---------------------------------------------------------------------------------------------

/// Starts a canary that pauses 60 s at 10% and waits until it is there.
async fn canary_at_pause(stack: &Stack) -> (Running, PathBuf) {
    let blue = bg_plan(stack, "blue", &[]);
    let out = bgctl(stack, &["plan", "apply", "--yes", p(&blue)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let plan = canary_plan(
        stack,
        "[{setWeight: 10}, {pause: {duration: 60s}}, {setWeight: 100}]",
        &[],
    );
    stack.sim.clear_requests();
    let child = spawn(stack, &["plan", "apply", "--yes", p(&plan)], &[]);
    let mut paused = false;
    for _ in 0..1000 {
        // The pause is recorded with a service PATCH after the move to 10%.
        if stack
            .writes()
            .iter()
            .filter(|r| r.path.starts_with("/services/") && r.status == 200)
            .count()
            >= 2
        {
            paused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(paused, "the canary never reached its pause");
    (child, plan)
}

/// SIGTERM during a canary follows the interrupt policy like Ctrl-C: rolled back, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_canary_rolls_back_and_exits_130() {
    let stack = Stack::start().await;
    let (child, plan) = canary_at_pause(&stack).await;
    child.signal("TERM");
    let (out, _) = child.wait(Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert!(stderr(&out).contains("rolled back"), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    let st = assert_status_truthful(&stack, &plan, "after SIGTERM").await;
    assert!(st["lock"].is_null(), "the lock is released: {st}");
}

/// A second Ctrl-C while the rollback's write is in flight does not stop it: the rollback
/// finishes, the outcome is printed, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn second_sigint_during_the_rollback_still_finishes_it() {
    let stack = Stack::start().await;
    let (child, plan) = canary_at_pause(&stack).await;
    // Writes so far (since the canary started): lock POST, mixed upstream and targets, the 10%
    // PATCH and the pause PATCH. The next service PATCH is the rollback: slow it down.
    let patches = stack
        .writes()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
        .count();
    // A rule counts only requests after it was added: skip 0 is the rollback's PATCH.
    stack.sim.faults().add(FaultRule {
        method: Some("PATCH".into()),
        path: "/services/*".into(),
        skip: 0,
        times: 1,
        action: FaultAction::Delay { ms: 1500 },
    });
    child.signal("INT");
    let mut in_flight = false;
    for _ in 0..500 {
        let w = stack.writes();
        if w.iter()
            .filter(|r| r.method == "PATCH" && r.path.starts_with("/services/"))
            .count()
            > patches
            && w.last().is_some_and(|r| r.status == 0)
        {
            in_flight = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(in_flight, "the rollback PATCH never started");
    child.signal("INT");
    let (out, _) = child.wait(Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert!(stderr(&out).contains("rolled back"), "{}", render(&out));
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
    assert_status_truthful(&stack, &plan, "after two SIGINTs").await;
}

// ---------------------------------------------------------------------------------------------
// 6. Hostile input
// ---------------------------------------------------------------------------------------------

mod fuzz {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use bgctl::analysis::condition::{Condition, Value};
    use bgctl::plan::{load, parse_with_env, Limits};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use crate::harness::root;

    /// Slowest accepted single case (generous: debug build, 2 shared cores).
    const CASE_BOUND: Duration = Duration::from_secs(2);

    fn env(name: &str) -> Option<String> {
        match name {
            "KONG_ADMIN_URL" => Some("http://127.0.0.1:8001".into()),
            "KONG_PROXY_URL" => Some("http://127.0.0.1:8000".into()),
            "BLUE_1" | "BLUE_2" | "GREEN_1" | "GREEN_2" => Some("127.0.0.1:9000".into()),
            _ => None,
        }
    }

    fn valid_plans() -> Vec<String> {
        ["seed.yaml", "canary.yaml"]
            .iter()
            .map(|f| {
                std::fs::read_to_string(root().join("tests/plans").join(f))
                    .expect("plan")
                    .replace("ACTIVE", "blue")
            })
            .collect()
    }

    /// A valid plan with a few byte-level edits: deletions, insertions, duplicated slices.
    fn mutated_plan() -> impl Strategy<Value = Vec<u8>> {
        let plans = valid_plans();
        (
            0..plans.len(),
            proptest::collection::vec(
                (
                    0usize..4,
                    any::<usize>(),
                    any::<usize>(),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ),
                1..6,
            ),
        )
            .prop_map(move |(i, edits)| {
                let mut b = plans[i].clone().into_bytes();
                for (kind, a, c, ins) in edits {
                    let at = a % (b.len() + 1);
                    match kind {
                        0 => {
                            let end = (at + c % 16).min(b.len());
                            b.drain(at..end);
                        }
                        1 => {
                            b.splice(at..at, ins);
                        }
                        2 => {
                            let end = (at + c % 64).min(b.len());
                            let slice = b[at..end].to_vec();
                            b.splice(at..at, slice);
                        }
                        _ => {
                            // YAML-significant characters.
                            let ch = b"&*!|>-:{}[]%@`'\"#\n $"[c % 22];
                            b.splice(at..at, [ch]);
                        }
                    }
                }
                b
            })
    }

    fn timed<T>(what: &str, input: &dyn std::fmt::Debug, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        assert!(
            t.elapsed() < CASE_BOUND,
            "{what} took {:?} on {input:?}",
            t.elapsed()
        );
        out
    }

    /// Runs every fuzz target `cases` times; returns the number of executions.
    pub fn run(cases: u32) -> u64 {
        let mut total = 0u64;
        let limits = Limits::default();
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let file = Path::new("fuzz.yaml");

        // Plan parsing: arbitrary bytes, arbitrary text and mutated valid plans.
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
                let _ = timed("load_bytes", &bytes, || {
                    load::load_bytes(file, &bytes, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                Ok(())
            })
            .expect("plan parsing on arbitrary bytes");
        runner
            .run(&"(?s).{0,1024}", |text| {
                let _ = timed("parse_with_env", &text, || {
                    parse_with_env(file, &text, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                Ok(())
            })
            .expect("plan parsing on arbitrary text");
        runner
            .run(&mutated_plan(), |bytes| {
                let _ = timed("load_bytes", &String::from_utf8_lossy(&bytes), || {
                    load::load_bytes(file, &bytes, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    let _ = timed("parse_with_env", &text, || {
                        parse_with_env(file, text, &env, &limits)
                            .map(|_| ())
                            .map_err(|e| e.details())
                    });
                }
                Ok(())
            })
            .expect("plan parsing on mutated plans");

        // Interpolation.
        runner
            .run(&"[${}:\\-a-zA-Z0-9_ ]{0,256}", |s| {
                let _ = timed("interpolate", &s, || {
                    load::interpolate(&s, &env).map(|_| ())
                });
                Ok(())
            })
            .expect("interpolation");

        // The condition language: token soup, nested parentheses, then evaluation.
        runner
            .run(&"[a-z0-9_.()<>=!&|+*/%µ -]{0,300}", |s| {
                if let Ok(c) = timed("Condition::parse", &s, || Condition::parse(&s)) {
                    let lookup = |_: &str| Some(Value::Vector(vec![1.0, f64::NAN, 0.5]));
                    let _ = timed("Condition::eval", &s, || {
                        c.eval(&lookup).map(|_| ()).map_err(|e| e.to_string())
                    });
                    let lookup = |_: &str| Some(Value::Number(0.25));
                    let _ = timed("Condition::eval", &s, || {
                        c.eval(&lookup).map(|_| ()).map_err(|e| e.to_string())
                    });
                }
                Ok(())
            })
            .expect("condition language");
        runner
            .run(
                &(0usize..5000, "[(!-]{1,3}", "[a-z0-9 <>=&|]{0,20}"),
                |(depth, open, inner)| {
                    let s = format!("{}{inner}{}", open.repeat(depth), ")".repeat(depth));
                    let _ = timed("Condition::parse", &s.len(), || {
                        Condition::parse(&s).map(|_| ()).map_err(|e| e.to_string())
                    });
                    Ok(())
                },
            )
            .expect("deeply nested conditions");
        total += u64::from(cases) * 7;
        total
    }
}

/// Fuzz smoke (fixed case count, seconds): no panic and no slow case in plan parsing,
/// interpolation and the condition language. The long run is `fuzz_long` (ignored).
#[test]
fn fuzz_smoke_plan_interpolation_and_conditions() {
    let t = Instant::now();
    let n = fuzz::run(1000);
    println!("fuzz smoke: {n} cases in {:.1}s", t.elapsed().as_secs_f64());
}

/// The long fuzz run recorded in docs/reliability.md: `cargo test --test it fuzz_long -- --ignored --nocapture`.
#[test]
#[ignore = "long run (minutes); see docs/reliability.md"]
fn fuzz_long() {
    let cases = std::env::var("BGCTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    let n = fuzz::run(cases);
    println!("fuzz long: {n} cases in {:.1}s", t.elapsed().as_secs_f64());
}

/// Peak memory (GNU time's maximum resident set size) of `bgctl plan validate` on each hostile
/// input stays within a fixed bound and a small multiple of validating an example plan, measured
/// in the same run: the input limits bound memory, whatever the input.
#[test]
fn hostile_plans_are_rejected_within_bounded_memory() {
    const BOUND_KIB: u64 = 160 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let at_limit = |name: &str, text: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // Just under the default 1 MiB limit: 20 000 environments in flow style.
    let mut wide = String::from("apiVersion: bgctl.dev/v1\nkind: Rollout\nenvironments:\n");
    let mut i = 0;
    while wide.len() < 1024 * 1024 - 100 {
        wide.push_str(&format!(
            "  e{i}: {{upstream: u{i}, targets: [{{target: \"10.0.0.1:80\"}}]}}\n"
        ));
        i += 1;
    }
    let mut anchors = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for n in 1..40 {
        let prev = n - 1;
        anchors.push_str(&format!(
            "a{n}: &a{n} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let bytes: Vec<u8> = (0..1024 * 1024 - 1)
        .map(|i: u32| u8::try_from((i.wrapping_mul(2_654_435_761) >> 24) & 0xff).unwrap())
        .collect();
    let inputs = [
        (
            "plans/kong-blue-green.yaml (baseline)",
            root().join("plans/kong-blue-green.yaml"),
            0,
        ),
        (
            "billion laughs (40 levels x 10)",
            at_limit("laughs.yaml", anchors.as_bytes()),
            2,
        ),
        (
            "100 000-deep flow nesting",
            at_limit(
                "deep.yaml",
                format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
            ),
            2,
        ),
        (
            "1 MiB of wide YAML",
            at_limit("wide.yaml", wide.as_bytes()),
            2,
        ),
        (
            "1 MiB of non-UTF-8 bytes",
            at_limit("bytes.yaml", &bytes),
            2,
        ),
        (
            "10 MiB file (over the limit)",
            at_limit("big.yaml", &vec![b'#'; 10 * 1024 * 1024]),
            2,
        ),
    ];
    let mut baseline = 0;
    for (what, path, code) in &inputs {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "maxrss_kib=%M"])
            .arg(assert_cmd::cargo::cargo_bin("bgctl"))
            .args(["plan", "validate"])
            .arg(path)
            .env("NO_COLOR", "1")
            .output()
            .expect("GNU time (scripts/test installs the `time` package)");
        let err = stderr(&out);
        let kib: u64 = err
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("maxrss_kib="))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{what}: no maxrss in {err}"));
        assert_eq!(out.status.code(), Some(*code), "{what}: {}", render(&out));
        if baseline == 0 {
            baseline = kib;
        }
        println!(
            "  {what}: exit {code}, peak {:.1} MiB ({:.1}x the example plan)",
            kib as f64 / 1024.0,
            kib as f64 / baseline as f64
        );
        assert!(kib < BOUND_KIB, "{what}: peak {kib} KiB");
    }
}

/// Black box: larger than `--max-plan-bytes`, and deeper than the nesting limit: clean exit 2
/// with no request. (Non-UTF-8 and billion laughs are `tests/plans/invalid/25` and `27`, run by
/// `plans::broken_plans_fail_with_located_messages`.)
#[test]
fn oversized_and_deeply_nested_plans_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let seed = root().join("tests/plans/seed.yaml");
    let out = crate::harness::bgctl(dir.path())
        .args(["--max-plan-bytes", "100", "plan", "validate"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(
        stderr(&out).contains("the limit is 100") && stderr(&out).contains("--max-plan-bytes"),
        "{}",
        render(&out)
    );

    let deep = dir.path().join("deep.yaml");
    std::fs::write(
        &deep,
        format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    let deep_map = dir.path().join("deep-map.yaml");
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&" ".repeat(i));
        text.push_str("k:\n");
    }
    std::fs::write(&deep_map, text).unwrap();
    for file in [&deep, &deep_map] {
        let t = Instant::now();
        let out = crate::harness::bgctl(dir.path())
            .args(["plan", "validate"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", render(&out));
        let err = stderr(&out);
        assert!(
            err.contains("nest") || err.contains("recursion limit"),
            "{}",
            render(&out)
        );
        assert!(!stderr(&out).contains("panicked"));
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Secrets and TLS
// ---------------------------------------------------------------------------------------------

/// The admin token never appears at `-vvv` with `BGCTL_LOG=trace`, nor in error paths (401,
/// 5xx after retries, an unreachable Admin API).
#[tokio::test(flavor = "multi_thread")]
async fn admin_token_never_printed_at_trace_level_or_in_errors() {
    let token = "tOkEn-9f8e7d6c5b4a";
    let stack = Stack::with_config(SimConfig {
        admin_token: Some(token.into()),
        ..SimConfig::default()
    })
    .await;
    let plan = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let trace = [("KONG_ADMIN_TOKEN", token), ("BGCTL_LOG", "trace")];
    let mut texts = Vec::new();
    let (out, _) = spawn(
        &stack,
        &["-vvv", "plan", "apply", "--yes", p(&plan)],
        &trace,
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("TRACE") || stderr(&out).contains("DEBUG"),
        "trace logging is on"
    );
    texts.push(render(&out));
    stack.sim.faults().add(FaultRule {
        method: None,
        path: "*".into(),
        skip: 0,
        times: 100,
        action: status_fault(500, None),
    });
    let (out, _) = spawn(
        &stack,
        &["-vvv", "--timeout", "5s", "status", "-f", p(&plan)],
        &trace,
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    stack.sim.faults().clear();
    let (out, _) = spawn(
        &stack,
        &[
            "-vvv",
            "-o",
            "json",
            "switch",
            "--to",
            "green",
            "--yes",
            "-f",
            p(&plan),
        ],
        &[("KONG_ADMIN_TOKEN", "wrong-9f8e"), ("BGCTL_LOG", "trace")],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    let (out, _) = spawn(
        &stack,
        &["-vvv", "--timeout", "3s", "status", "-f", p(&plan)],
        &[
            ("KONG_ADMIN_TOKEN", token),
            ("BGCTL_LOG", "trace"),
            ("KONG_ADMIN_URL", "http://127.0.0.1:9"),
        ],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    for text in texts {
        assert!(
            !text.contains(token) && !text.contains("wrong-9f8e"),
            "token leaked:\n{text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}

mod tls {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::server::WebPkiClientVerifier;
    use tokio_rustls::rustls::{RootCertStore, ServerConfig};
    use tokio_rustls::TlsAcceptor;

    /// PEM files of a test PKI.
    pub struct Pki {
        pub ca: PathBuf,
        pub other_ca: PathBuf,
        pub server_cert: String,
        pub server_key: String,
        pub client_cert: PathBuf,
        pub client_key: PathBuf,
    }

    fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        (params, key, pem)
    }

    pub fn pki(dir: &Path) -> Pki {
        let (ca_params, ca_key, ca_pem) = ca("bgctl test CA");
        let (_, _, other_pem) = ca("some other CA");
        let issuer = Issuer::from_params(&ca_params, &ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        let mut client_params = CertificateParams::new(vec!["bgctl-client".to_string()]).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "bgctl-client");
        let client_key = KeyPair::generate().unwrap();
        let client = client_params.signed_by(&client_key, &issuer).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Pki {
            ca: write("ca.pem", &ca_pem),
            other_ca: write("other-ca.pem", &other_pem),
            server_cert: server.pem(),
            server_key: server_key.serialize_pem(),
            client_cert: write("client.pem", &client.pem()),
            client_key: write("client-key.pem", &client_key.serialize_pem()),
        }
    }

    /// A TLS-terminating proxy on 127.0.0.1:0 in front of `upstream`; counts the handshakes that
    /// completed (with a client certificate when `client_ca` is set).
    pub async fn proxy(
        pki: &Pki,
        upstream: std::net::SocketAddr,
        client_ca: bool,
    ) -> (String, Arc<AtomicUsize>) {
        let certs = vec![CertificateDer::from_pem_slice(pki.server_cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
        let builder = ServerConfig::builder();
        let config = if client_ca {
            let mut roots = RootCertStore::empty();
            let ca = std::fs::read(&pki.ca).unwrap();
            roots
                .add(CertificateDer::from_pem_slice(&ca).unwrap())
                .unwrap();
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .unwrap();
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)
                .unwrap()
        } else {
            builder
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap()
        };
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let ok = Arc::new(AtomicUsize::new(0));
        let count = ok.clone();
        tokio::spawn(async move {
            // Bounded by the test: the task ends when the runtime does.
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::Relaxed);
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        (url, ok)
    }
}

fn admin_addr(stack: &Stack) -> std::net::SocketAddr {
    stack
        .sim
        .admin_url()
        .trim_start_matches("http://")
        .parse()
        .expect("addr")
}

/// HTTPS Admin API: an unknown CA fails with a clear error and exit 1; `tls.caFile` makes it
/// pass; `insecureSkipVerify` works and warns on every run, `-q` and `-o json` included.
#[tokio::test(flavor = "multi_thread")]
async fn https_admin_verifies_certificates_by_default() {
    let stack = Stack::start().await;
    let pki = tls::pki(stack.dir.path());
    let (url, handshakes) = tls::proxy(&pki, admin_addr(&stack), false).await;
    let https = [("KONG_ADMIN_URL", url.as_str())];
    let status = |plan: PathBuf, extra: &'static [&'static str]| {
        let mut args: Vec<String> = extra.iter().map(ToString::to_string).collect();
        args.extend([
            "status".into(),
            "--no-probe".into(),
            "-f".into(),
            p(&plan).to_string(),
        ]);
        args
    };
    let plain = bg_plan(&stack, "blue", &[]);
    let args = status(plain, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let err = stderr(&out);
    assert!(
        err.contains("certificate") && err.contains("tls.caFile"),
        "a clear error naming the fix: {err}"
    );
    assert_eq!(handshakes.load(Ordering::Relaxed), 0);

    let wrong = write_plan(
        &stack,
        "wrong-ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.other_ca))],
    );
    let args = status(wrong, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "another CA does not vouch for it: {}",
        render(&out)
    );

    let with_ca = write_plan(
        &stack,
        "ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.ca))],
    );
    let args = status(with_ca, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(handshakes.load(Ordering::Relaxed) >= 1);
    assert!(!stderr(&out).contains("insecureSkipVerify"));

    let insecure = write_plan(
        &stack,
        "insecure.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &["tls: {insecureSkipVerify: true}"],
    );
    for extra in [&[][..], &["-q"][..], &["-o", "json"][..]] {
        let args = status(insecure.clone(), extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, _) = spawn(&stack, &args, &https)
            .wait(Duration::from_mins(1))
            .await;
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", render(&out));
        assert!(
            stderr(&out).contains("warning: `provider.kong.tls.insecureSkipVerify`"),
            "{extra:?}: a warning on every run: {}",
            render(&out)
        );
    }
}

/// Mutual TLS: a server that requires a client certificate refuses a run without one (exit 1)
/// and accepts `tls.certFile`/`tls.keyFile`.
#[tokio::test(flavor = "multi_thread")]
async fn https_admin_presents_client_certificates() {
    let stack = Stack::start().await;
    let pki = tls::pki(stack.dir.path());
    let (url, handshakes) = tls::proxy(&pki, admin_addr(&stack), true).await;
    let https = [("KONG_ADMIN_URL", url.as_str())];
    let ca_only = write_plan(
        &stack,
        "ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.ca))],
    );
    let (out, _) = spawn(&stack, &["status", "--no-probe", "-f", p(&ca_only)], &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert_eq!(handshakes.load(Ordering::Relaxed), 0);
    let mtls = write_plan(
        &stack,
        "mtls.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!(
            "tls: {{caFile: '{}', certFile: '{}', keyFile: '{}'}}",
            p(&pki.ca),
            p(&pki.client_cert),
            p(&pki.client_key)
        )],
    );
    let (out, _) = spawn(&stack, &["plan", "apply", "--yes", p(&mtls)], &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        handshakes.load(Ordering::Relaxed) >= 1,
        "the client certificate was accepted"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
}

// ---------------------------------------------------------------------------------------------
// 8. Misbehaving gateway answers
// ---------------------------------------------------------------------------------------------

type Answer = (u16, &'static str, String);

/// A tiny fake Admin API (raw HTTP/1.1, one answer per connection) on 127.0.0.1:0 whose answer
/// to each path comes from `answer`. Returns its URL and a request counter.
async fn fake_admin(answer: fn(&str, usize) -> Answer) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65_536 {
                    match tcp.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let n = seen.fetch_add(1, Ordering::Relaxed);
                let (status, ctype, body) = answer(&path, n);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    (url, count)
}

const JSON: &str = "application/json";

fn not_found() -> Answer {
    (404, JSON, r#"{"message":"Not found"}"#.into())
}

fn service_ok() -> Answer {
    (
        200,
        JSON,
        r#"{"id":"3f1c","name":"address-service","host":"address.v1.service","tags":[]}"#.into(),
    )
}

async fn status_against(answer: fn(&str, usize) -> Answer) -> (Output, Duration, usize) {
    let stack = Stack::start().await;
    let (url, count) = fake_admin(answer).await;
    let plan = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let (out, took) = spawn(
        &stack,
        &["--timeout", "30s", "status", "--no-probe", "-f", p(&plan)],
        &[("KONG_ADMIN_URL", url.as_str())],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert!(!stderr(&out).contains("panicked"), "{}", render(&out));
    (out, took, count.load(Ordering::Relaxed))
}

/// Malformed JSON, an HTML error page, a `data` that is not an array and a service without a
/// `host`: each a clear exit-1 error naming the call, never a panic or a wrong status.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_admin_answers_are_clear_errors() {
    let (out, _, _) = status_against(|path, _| {
        if path.starts_with("/services/") {
            (200, JSON, r#"{"id": "x", "host": "#.into())
        } else {
            not_found()
        }
    })
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("GET /services/address-service") && stderr(&out).contains("not JSON"),
        "{}",
        render(&out)
    );

    let (out, _, _) = status_against(|_, _| (502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>".into())).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("HTTP 502") && stderr(&out).contains("Bad Gateway"),
        "{}",
        render(&out)
    );

    let (out, _, _) = status_against(|path, _| {
        if path.starts_with("/services/") {
            service_ok()
        } else if path.starts_with("/upstreams/address.v1.service/targets") {
            (
                200,
                JSON,
                r#"{"data": {"target": "127.0.0.1:1"}, "next": null}"#.into(),
            )
        } else if path.starts_with("/upstreams/address.v1.service") {
            (
                200,
                JSON,
                r#"{"id":"u1","name":"address.v1.service"}"#.into(),
            )
        } else {
            not_found()
        }
    })
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("without a `data` array"),
        "{}",
        render(&out)
    );

    for body in [
        r#"{"id":"3f1c","name":"address-service"}"#,
        r#"{"id":"3f1c","host":42}"#,
        "[]",
        "7",
    ] {
        let answer: fn(&str, usize) -> Answer = match body {
            "[]" => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, "[]".into())
                } else {
                    not_found()
                }
            },
            "7" => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, "7".into())
                } else {
                    not_found()
                }
            },
            b if b.contains("42") => |path, _| {
                if path.starts_with("/services/") {
                    (200, JSON, r#"{"id":"3f1c","host":42}"#.into())
                } else {
                    not_found()
                }
            },
            _ => |path, _| {
                if path.starts_with("/services/") {
                    (
                        200,
                        JSON,
                        r#"{"id":"3f1c","name":"address-service"}"#.into(),
                    )
                } else {
                    not_found()
                }
            },
        };
        let (out, _, _) = status_against(answer).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "service {body}: {}",
            render(&out)
        );
        assert!(
            stderr(&out).contains("host"),
            "service {body}: {}",
            render(&out)
        );
    }
}

/// Pagination that repeats an offset stops at once; one whose offsets never end stops at the
/// client's page limit (or the run's deadline) — bounded in requests and time.
#[tokio::test(flavor = "multi_thread")]
async fn endless_pagination_is_bounded() {
    fn page(path: &str, n: usize, repeat: bool) -> Answer {
        if path.starts_with("/services/") {
            service_ok()
        } else if path.starts_with("/upstreams/address.v1.service/targets") {
            let offset = if repeat {
                "same".to_string()
            } else {
                format!("o{n}")
            };
            (200, JSON, format!(r#"{{"data":[],"offset":"{offset}"}}"#))
        } else if path.starts_with("/upstreams/address.v1.service") {
            (
                200,
                JSON,
                r#"{"id":"u1","name":"address.v1.service"}"#.into(),
            )
        } else {
            not_found()
        }
    }
    let (out, _, requests) = status_against(|path, n| page(path, n, true)).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        stderr(&out).contains("repeats offset `same`"),
        "{}",
        render(&out)
    );
    assert!(requests < 10, "{requests}");

    let (out, took, requests) = status_against(|path, n| page(path, n, false)).await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let err = stderr(&out);
    assert!(
        err.contains("pages") || err.contains("deadline"),
        "{}",
        render(&out)
    );
    println!(
        "endless pagination: stopped after {requests} requests in {:.1}s",
        took.as_secs_f64()
    );
    assert!(requests <= 10_010, "{requests}");
}
