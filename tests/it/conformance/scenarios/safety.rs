//! The safety contract under real conditions (issue 13 items 2, 5, 6), on every target: a
//! closed stdout/stderr, a timed pause interrupted and resumed, `rollback` after `abort`, a
//! signal at a gate, the confirmation rule of `promote` and `abort`, a failed verification that
//! must not read as success later, and the commands printed "to finish by hand".
//!
//! Canary-only scenarios assert the refusal where the target cannot split traffic. The failed
//! verification is made the way each target can express it: where the plan verifies through a
//! proxy (Kong, HAProxy, Traefik), green's backends answer 500; where bgctl sees no data plane
//! (Kubernetes), a `postSwitch` hook fails after the switch (and the first rollback's write is
//! refused, so the failure cannot be undone). Waits are bounded and the
//! assertions are about outcomes; the one timing (the resumed pause) is a lower bound.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{blue_live, refused, GATED};
use crate::conformance::run::{
    assert_no_panic, assert_status_truthful, bgctl, bgctl_exit, p, spawn,
};
use crate::conformance::target::{stderr, Cap, PlanSpec, Target, Traffic};
use crate::harness::render;

/// One gate, then the rest: 10 % → gate → 100 %.
const ONE_GATE: &str = "[{setWeight: 10}, {pause: {}}, {setWeight: 100}]";

/// The real binary with the target's environment, as a plain `Command` (for odd stdio).
fn command<T: Target>(t: &T) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .envs(t.env())
        .current_dir(t.dir())
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` with stdout and stderr both writing into a pipe whose reader is already gone
/// (`bgctl … 2>&1 | head -0`), bounded by a minute (killed by its PID after that).
async fn run_into_closed_pipe(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    cmd.stdout(writer.try_clone().expect("dup")).stderr(writer);
    let mut child = cmd.spawn().expect("spawn bgctl");
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Output {
                status,
                stdout: Vec::new(),
                stderr: Vec::new(),
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bgctl writing into a closed pipe ran for over a minute");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The record `bgctl status -o json` shows.
async fn record<T: Target>(t: &T, plan: &Path) -> Value {
    let out = bgctl(t, &["-o", "json", "status", "--no-probe", "-f", p(plan)]).await;
    assert_eq!(out.status.code(), Some(0), "status: {}", render(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("status json");
    v["record"].clone()
}

/// Polls (bounded, 30 s) until the record's `waiting` starts with `prefix`; returns the record.
async fn wait_for_waiting<T: Target>(t: &T, plan: &Path, prefix: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = record(t, plan).await;
        if r["waiting"].as_str().is_some_and(|w| w.starts_with(prefix)) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the rollout never recorded `{prefix}`: {r}",
            t.name()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Now, as time since the epoch (the record's clock).
fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
}

/// A canary split with `want` % to green, within the system's rounding.
async fn assert_split<T: Target>(t: &T, want: f64, ctx: &str) {
    match t.traffic().await {
        Traffic::Split(got) if (got - want).abs() < 0.5 => {}
        other => panic!(
            "{}: {ctx}: expected a {want}% split, got {other:?}",
            t.name()
        ),
    }
}

/// A closed stdout/stderr (`bgctl switch … 2>&1 | head`) stops nothing: the switch finishes,
/// the lock is released and the exit code is the run's own (0), in text and in JSON.
pub async fn closed_output_pipe_keeps_the_run_going<T: Target>() {
    let t = T::start().await;
    let blue = blue_live(&t).await;
    for (to, format, want) in [
        ("green", "text", Traffic::Green),
        ("blue", "json", Traffic::Blue),
    ] {
        let mut cmd = command(&t);
        cmd.args(["-o", format, "switch", "--to", to, "--yes", "-f", p(&blue)]);
        let out = run_into_closed_pipe(cmd).await;
        let ctx = format!("{}: switch to {to} ({format})", t.name());
        assert_eq!(out.status.code(), Some(0), "{ctx}");
        assert_eq!(t.traffic().await, want, "{ctx}: the switch finished");
        assert!(!t.lock_present().await, "{ctx}: lock left held");
    }
    assert_status_truthful(&t, &blue, t.name()).await;
    println!(
        "{}: switch into a closed stdout/stderr: exit 0 (text, json), lock released",
        t.name()
    );
}

/// A timed pause interrupted early (`onInterrupt: pause`, exit 130) and resumed by `plan apply`
/// waits out the rest of the pause, counted from its recorded start: it neither skips it nor
/// starts it over (the step says `resumed`).
pub async fn resumed_timed_pause_waits_out_the_rest<T: Target>() {
    const PAUSE: u64 = 8;
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(
        &PlanSpec::canary(&format!(
            "[{{setWeight: 10}}, {{pause: {{duration: {PAUSE}s}}}}, {{pause: {{}}}}, {{setWeight: 100}}]"
        ))
        .with_extra("onInterrupt: pause\n"),
    );
    let spawned = unix_now();
    let first = spawn(&t, &["plan", "apply", "--yes", p(&plan)]);
    let paused = wait_for_waiting(&t, &plan, "timed pause").await;
    // The pause began at or before this instant; it is interrupted 3 s in (the record
    // dates it to the second, so an earlier interrupt may still leave all of it to wait).
    let seen = Instant::now();
    let seen_unix = unix_now();
    // Its start as recorded (whole seconds, written just before the pause began): checked
    // against the test's own clock, then the lower bound the resumed run must respect.
    let began = paused["at"]
        .as_str()
        .and_then(|at| humantime::parse_rfc3339(at).ok())
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_else(|| panic!("{}: the paused record has no time: {paused}", t.name()));
    assert!(
        began + Duration::from_secs(1) >= spawned && began <= seen_unix,
        "{}: the pause is dated {began:?}, outside [{spawned:?}, {seen_unix:?}]",
        t.name()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.signal("INT");
    let (out, _) = first.wait(Duration::from_secs(30)).await;
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}: {}",
        t.name(),
        render(&out)
    );
    assert_split(&t, 10.0, "paused by the interrupt").await;
    let interrupted = seen.elapsed();
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    let waited = seen.elapsed();
    let ended = unix_now();
    let left: u64 = regex::Regex::new(r"resumed: (\d+)s left")
        .expect("regex")
        .captures(&stderr(&out))
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("{}: the pause was not resumed: {}", t.name(), render(&out)));
    assert!(
        left < PAUSE,
        "{}: the resumed pause started over ({left} s left): {}",
        t.name(),
        render(&out)
    );
    // Lower bound only: the pause ends no earlier than its recorded start plus its length.
    assert!(
        ended >= began + Duration::from_secs(PAUSE),
        "{}: the {PAUSE} s pause ended {:?} after it began: {}",
        t.name(),
        ended.saturating_sub(began),
        render(&out)
    );
    assert_split(&t, 10.0, "at the gate after the pause").await;
    assert_status_truthful(&t, &plan, t.name()).await;
    println!(
        "{}: {PAUSE} s pause interrupted after {:.1} s (exit 130); resumed with {left} s left, it ended {:.1} s after its recorded start ({:.1} s after the test saw it), then exit 6 at the gate",
        t.name(),
        interrupted.as_secs_f64(),
        ended.saturating_sub(began).as_secs_f64(),
        waited.as_secs_f64()
    );
}

/// `rollback` after `abort` never sends traffic to the aborted canary: stable keeps it all and
/// the rollback writes nothing (exit 0).
pub async fn rollback_after_abort_keeps_stable<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    bgctl_exit(&t, &["abort", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(
        t.traffic().await,
        Traffic::Blue,
        "{}: after abort",
        t.name()
    );
    t.clear_log();
    bgctl_exit(&t, &["rollback", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(
        t.traffic().await,
        Traffic::Blue,
        "{}: rollback after abort moved traffic",
        t.name()
    );
    assert!(
        t.writes().is_empty(),
        "{}: nothing to roll back, but it wrote {:?}",
        t.name(),
        t.writes()
    );
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert!(st["lock"].is_null(), "{st}");
    println!(
        "{}: rollback after abort: exit 0, no write, blue keeps all traffic",
        t.name()
    );
}

/// `plan apply --wait` at a manual gate follows `onInterrupt` (default: back to stable) at once
/// on SIGINT and on SIGTERM, exits 130 long before `--timeout`, and leaves no lock.
pub async fn interrupt_at_a_gate_follows_on_interrupt<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    let mut took = Vec::new();
    for sig in ["INT", "TERM"] {
        let run = spawn(
            &t,
            &[
                "plan",
                "apply",
                "--yes",
                "--wait",
                "--timeout",
                "120s",
                p(&plan),
            ],
        );
        wait_for_waiting(&t, &plan, "manual gate").await;
        let sent = Instant::now();
        run.signal(sig);
        let (out, _) = run.wait(Duration::from_secs(30)).await;
        took.push(format!("SIG{sig} {:.2} s", sent.elapsed().as_secs_f64()));
        let ctx = format!("{}: SIG{sig} at a gate", t.name());
        assert_eq!(out.status.code(), Some(130), "{ctx}: {}", render(&out));
        assert_no_panic(&out, &ctx);
        assert_eq!(
            t.traffic().await,
            Traffic::Blue,
            "{ctx}: not back to stable"
        );
        assert!(!t.lock_present().await, "{ctx}: lock left held");
        assert_status_truthful(&t, &plan, &ctx).await;
    }
    println!(
        "{}: --wait at a gate, back to blue and exit 130 after {}",
        t.name(),
        took.join(", ")
    );
}

/// `promote` follows the same rule as `abort`: with no terminal and no `--yes`, exit 6 and
/// nothing moves or is recorded.
pub async fn promote_and_abort_need_yes_without_a_terminal<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(GATED));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    let before = record(&t, &plan).await;
    for command in ["promote", "abort"] {
        t.clear_log();
        let out = bgctl(&t, &[command, "-f", p(&plan)]).await;
        assert_eq!(
            out.status.code(),
            Some(6),
            "{}: {command}: {}",
            t.name(),
            render(&out)
        );
        assert_eq!(
            record(&t, &plan).await,
            before,
            "{}: {command} changed the record",
            t.name()
        );
        assert_split(&t, 10.0, &format!("{command} without --yes")).await;
        assert!(
            t.writes().is_empty(),
            "{}: {command} without --yes wrote {:?}",
            t.name(),
            t.writes()
        );
    }
    println!(
        "{}: promote and abort without a terminal or --yes: exit 6, no write",
        t.name()
    );
}

/// A switch whose verification failed is never taken for a success later: the record does not
/// say `completed` for the failed side, the next `plan apply` verifies again instead of "up to
/// date" (exit 0), and only once the cause is fixed does it complete.
///
/// Where the system starts empty (Kong, Traefik) there is no earlier side to roll back to: the
/// run fails (exit 4) and is recorded `failed`. Kubernetes starts with blue serving, so the
/// first run's rollback write is refused ([`Target::refuse_next_traffic_write`]): exit 4,
/// `failed`, green live; the second run rolls back (exit 3). HAProxy rolls back both times
/// (exit 3): its writes are retried after any fault the suite can inject.
pub async fn failed_verification_never_reads_as_success<T: Target>() {
    let t = T::start().await;
    let marker = t.dir().join("post-switch-fails");
    let ran = t.dir().join("post-switch-ran");
    let armed = t.dir().join("rollback-refused");
    let data_plane = t.fail_green(true);
    let mut spec = PlanSpec::blue_green("green");
    if !data_plane {
        std::fs::write(&marker, "").expect("marker");
        let (m, r, a) = (p(&marker), p(&ran), p(&armed));
        // The hook says it runs, then waits (at most 30 s) until the test has armed the
        // refusal of the rollback's write, then fails.
        spec = spec.with_extra(&format!(
            "hooks:\n  postSwitch:\n    - exec: {{command: [\"sh\", \"-c\", \"touch '{r}'; i=0; while [ ! -e '{a}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; if [ -e '{m}' ]; then echo 'smoke: green answered 500' >&2; exit 1; fi\"], timeout: 40s}}\n"
        ));
    }
    let how = if data_plane {
        "green answers 500 through the proxy"
    } else {
        "postSwitch hook fails"
    };
    let plan = t.plan(&spec);
    let mut codes = Vec::new();
    let mut refused_rollback = false;
    for attempt in ["first apply", "second apply"] {
        let out = if data_plane || attempt != "first apply" {
            std::fs::write(&armed, "").expect("armed");
            bgctl(&t, &["plan", "apply", "--yes", p(&plan)]).await
        } else {
            // Where the target can refuse a write, the first run's rollback is refused: green
            // stays live with its verification failed, the state the record must not call
            // `completed` (Kubernetes starts with blue serving, so otherwise it rolls back).
            let run = spawn(&t, &["plan", "apply", "--yes", p(&plan)]);
            let deadline = Instant::now() + Duration::from_mins(1);
            while !ran.exists() {
                assert!(
                    Instant::now() < deadline,
                    "{}: the postSwitch hook never ran",
                    t.name()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            refused_rollback = t.refuse_next_traffic_write();
            std::fs::write(&armed, "").expect("armed");
            run.wait(Duration::from_mins(1)).await.0
        };
        let ctx = format!("{}: {attempt} ({how})", t.name());
        let code = out.status.code();
        codes.push(code.unwrap_or(-1));
        assert!(
            matches!(code, Some(3 | 4)),
            "{ctx}: a failed verification exits 3 or 4: {}",
            render(&out)
        );
        assert!(
            !stderr(&out).contains("up to date"),
            "{ctx}: {}",
            render(&out)
        );
        let st = assert_status_truthful(&t, &plan, &ctx).await;
        let phase = st["record"]["phase"].as_str().unwrap_or_default();
        match t.traffic().await {
            // Rolled back: blue serves and the record says so.
            Traffic::Blue => assert_eq!(code, Some(3), "{ctx}: {}", render(&out)),
            // Nowhere to go back to: green serves, recorded as failed.
            Traffic::Green => {
                assert_eq!(code, Some(4), "{ctx}: {}", render(&out));
                assert_eq!(phase, "failed", "{ctx}: {st}");
            }
            other => panic!("{ctx}: traffic {other:?}"),
        }
        assert_ne!(phase, "completed", "{ctx}: {st}");
        assert!(st["lock"].is_null(), "{ctx}: {st}");
        if refused_rollback && codes.len() == 1 {
            assert_eq!(phase, "failed", "{ctx}: the refused rollback left {st}");
        }
    }
    // Fixed: the next apply switches, verifies and only then reports success.
    t.fail_green(false);
    let _ = std::fs::remove_file(&marker);
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Green, "{}", t.name());
    assert!(
        !stderr(&out).contains("up to date"),
        "{}: {}",
        t.name(),
        render(&out)
    );
    if data_plane {
        assert!(
            stderr(&out).contains("verified"),
            "{}: {}",
            t.name(),
            render(&out)
        );
    }
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "completed", "{st}");
    let how = if refused_rollback {
        format!("{how}, first rollback write refused")
    } else {
        how.to_string()
    };
    println!(
        "{}: failed verification ({how}): exits {codes:?}, never `completed`; fixed, exit 0",
        t.name()
    );
}

/// Commands printed "to finish by hand" are safe to paste (issue 14 item 6): for a plan whose
/// path holds a space, `;` and `$(…)`, the printed `bgctl promote` splits, as a POSIX shell
/// splits it, into exactly one `-f` argument naming that file; run word for word, it promotes
/// and nothing else runs.
pub async fn printed_commands_are_quoted_for_a_shell<T: Target>() {
    let t = T::start().await;
    if refused(&t, Cap::Canary).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(ONE_GATE));
    let folder = t.dir().join("my plans");
    std::fs::create_dir(&folder).expect("folder");
    let odd = folder.join("p;touch pwned $(touch pwned2).yaml");
    std::fs::rename(&plan, &odd).expect("rename the plan");
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&odd)], 6).await;
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("bgctl promote"))
        .unwrap_or_else(|| panic!("{}: a `bgctl promote` hint: {}", t.name(), render(&out)));
    let printed = line[line.find("bgctl promote").expect("found")..]
        .split('`')
        .next()
        .expect("split");
    let words = shlex::split(printed).unwrap_or_else(|| panic!("shell words: {printed}"));
    assert_eq!(words[..2], ["bgctl", "promote"], "{printed}");
    let f = words.iter().position(|w| w == "-f").expect("-f");
    assert_eq!(words[f + 1], p(&odd), "{printed}");
    let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    if !args.contains(&"--yes") {
        args.push("--yes");
    }
    bgctl_exit(&t, &args, 0).await;
    assert_eq!(t.traffic().await, Traffic::Green, "{}", t.name());
    for f in ["pwned", "pwned2"] {
        assert!(
            !t.dir().join(f).exists() && !folder.join(f).exists(),
            "{}: `{f}` was created",
            t.name()
        );
    }
    println!(
        "{}: printed `bgctl promote` for a plan path with a space, `;` and `$(…)`: one -f argument, runs as printed",
        t.name()
    );
}
