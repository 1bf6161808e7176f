//! The safety contract under real conditions (issue 13): closed pipes, interrupted and resumed
//! pauses, rollback after abort, signals at a gate, the confirmation rule, and a failed run
//! that must not read as success later. Each scenario is one function against Kong
//! (kong-sim); they move into the conformance suite (every provider) once it lands.

use std::process::{Command, Output, Stdio};

use crate::harness::{render, run, Stack};

/// The real binary with the stack's environment, as a plain `std::process::Command` (for
/// tests that hand it odd stdio or send it signals).
fn raw(stack: &Stack) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear().current_dir(stack.dir.path());
    for (k, v) in stack.bgctl().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd
}

/// Runs `cmd` with stdout and stderr both writing into a pipe whose reader is already gone
/// (`bgctl … 2>&1 | head -0`).
async fn run_into_closed_pipe(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone().expect("dup"))
        .stderr(writer);
    tokio::task::spawn_blocking(move || cmd.output().expect("run bgctl"))
        .await
        .expect("join")
}

/// Whether Kong has the rollout's lock upstream.
async fn lock_held(stack: &Stack) -> bool {
    let url = format!(
        "{}/upstreams/address-service.bgctl-lock",
        stack.sim.admin_url()
    );
    let status = reqwest::get(url).await.expect("admin").status().as_u16();
    assert!(status == 200 || status == 404, "lock read: HTTP {status}");
    status == 200
}

async fn apply(stack: &Stack, plan: &std::path::Path) -> Output {
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(plan);
    run(cmd).await
}

/// A closed stdout/stderr (`bgctl switch … 2>&1 | head`) must not panic mid-run: the switch
/// finishes, the lock is released and the exit code is the run's own (0), in text and JSON.
#[tokio::test(flavor = "multi_thread")]
async fn closed_output_pipe_does_not_stop_the_run_or_keep_the_lock() {
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let out = apply(&stack, &plan).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    for (to, format) in [("green", "text"), ("blue", "json")] {
        let mut cmd = raw(&stack);
        cmd.args(["-o", format, "switch", "--to", to, "--yes", "-f"])
            .arg(&plan);
        let out = run_into_closed_pipe(cmd).await;
        assert_eq!(out.status.code(), Some(0), "switch to {to} ({format})");
        assert!(!lock_held(&stack).await, "lock left held ({format})");
        let host = stack.service_host().await;
        let want = if to == "green" {
            "address.v2.service"
        } else {
            "address.v1.service"
        };
        assert_eq!(host, want, "the switch to {to} finished ({format})");
    }
}

/// `bgctl schema | head` and `bgctl completions bash | head`: no panic, no backtrace, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn closed_stdout_for_a_document_exits_0_without_panic() {
    let stack = Stack::start().await;
    for args in [
        &["schema"][..],
        &["schema", "--events"],
        &["completions", "bash"],
    ] {
        let mut cmd = raw(&stack);
        cmd.args(args).stderr(Stdio::piped());
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        cmd.stdout(writer);
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
            .await
            .expect("join");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// The record `status -o json` shows.
async fn record(stack: &Stack, plan: &std::path::Path) -> serde_json::Value {
    let mut cmd = stack.bgctl();
    cmd.args(["-o", "json", "status", "--no-probe", "-f"])
        .arg(plan);
    let out = run(cmd).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["record"].clone()
}

/// Spawns `bgctl ARGS` in the background with piped output.
fn spawn(stack: &Stack, args: &[&str], plan: &std::path::Path) -> std::process::Child {
    let mut cmd = raw(stack);
    cmd.args(args)
        .arg(plan)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("spawn bgctl")
}

/// Polls (bounded, ~20 s) until the record's `waiting` starts with `prefix`.
async fn wait_for_waiting(stack: &Stack, plan: &std::path::Path, prefix: &str) {
    for _ in 0..200 {
        if record(stack, plan).await["waiting"]
            .as_str()
            .is_some_and(|w| w.starts_with(prefix))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the rollout never recorded `{prefix}`");
}

fn interrupt(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// Waits (bounded) for a child; kills it and fails when it outlives `secs`.
async fn wait_within(mut child: std::process::Child, secs: u64) -> Output {
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait"))
                .await
                .expect("join");
        }
        if start.elapsed().as_secs() >= secs {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!("still running after {secs}s: {}", render(&out));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A timed pause interrupted early (`onInterrupt: pause`) and resumed by `plan apply` waits out
/// the rest of the pause, counted from its recorded start; it does not skip it.
#[tokio::test(flavor = "multi_thread")]
async fn resumed_timed_pause_waits_out_the_remainder() {
    let stack = Stack::start().await;
    let plan = stack.plan_from(
        "canary.yaml",
        &[
            ("${PAUSE:-0s}", "8s"),
            ("${ON_INTERRUPT:-rollback}", "pause"),
        ],
    );
    let child = spawn(&stack, &["plan", "apply", "--yes"], &plan);
    wait_for_waiting(&stack, &plan, "timed pause").await;
    let paused_at = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    interrupt(&child);
    let out = wait_within(child, 20).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "stops at the gate: {}",
        render(&out)
    );
    let waited = paused_at.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(7),
        "the 8 s pause ended after {waited:?}: {}",
        render(&out)
    );
}

/// `rollback` after `abort` never sends traffic to the aborted canary: stable keeps it all.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_after_abort_keeps_stable() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    assert_eq!(apply(&stack, &plan).await.status.code(), Some(6));
    let mut cmd = stack.bgctl();
    cmd.args(["abort", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let mut cmd = stack.bgctl();
    cmd.args(["rollback", "--yes", "-f"]).arg(&plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing to do: {}",
        render(&out)
    );
    assert_eq!(stack.service_host().await, "address.v1.service");
    let c = stack.split(100).await;
    assert!(
        c.keys().all(|k| k.starts_with("blue")),
        "only stable answers: {c:?}"
    );
}

/// `plan apply --wait` at a manual gate follows `onInterrupt` at once on SIGINT (default:
/// rollback to stable) and exits 130, long before `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn interrupt_while_waiting_at_a_gate_follows_on_interrupt() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let child = spawn(
        &stack,
        &["plan", "apply", "--yes", "--wait", "--timeout", "120s"],
        &plan,
    );
    wait_for_waiting(&stack, &plan, "manual gate").await;
    interrupt(&child);
    let out = wait_within(child, 20).await;
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert_eq!(stack.service_host().await, "address.v1.service");
    assert!(!lock_held(&stack).await, "lock left held");
}

/// `promote` follows the same rule as `abort`: no terminal and no `--yes` → exit 6, nothing moved.
#[tokio::test(flavor = "multi_thread")]
async fn promote_and_abort_both_need_yes_without_a_terminal() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    assert_eq!(apply(&stack, &plan).await.status.code(), Some(6));
    let before = record(&stack, &plan).await;
    for command in ["promote", "abort"] {
        let mut cmd = stack.bgctl();
        cmd.args([command, "-f"]).arg(&plan);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(6), "{command}: {}", render(&out));
        assert_eq!(
            record(&stack, &plan).await,
            before,
            "{command} changed the record"
        );
        assert!(
            stack.service_host().await.ends_with("bgctl-canary"),
            "{command} moved traffic"
        );
    }
}

/// A switch whose verification failed (and had nowhere to roll back to) is recorded as failed;
/// the next `plan apply` verifies again instead of reporting "up to date" with exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn failed_verification_never_reads_as_success_later() {
    let stack = Stack::start().await;
    let plan = stack.plan_from(
        "seed.yaml",
        &[("ACTIVE", "green"), ("timeout: 5s", "timeout: 2s")],
    );
    stack.backends[2].set_error_rate(1.0);
    stack.backends[3].set_error_rate(1.0);
    let out = apply(&stack, &plan).await;
    assert_eq!(out.status.code(), Some(4), "{}", render(&out));
    assert_ne!(record(&stack, &plan).await["phase"], "completed");
    let out = apply(&stack, &plan).await;
    assert_ne!(
        out.status.code(),
        Some(0),
        "still failing: {}",
        render(&out)
    );
    assert_ne!(record(&stack, &plan).await["phase"], "completed");
    // Fixed backends: the next apply repairs (verifies) and only then reports success.
    stack.backends[2].set_error_rate(0.0);
    stack.backends[3].set_error_rate(0.0);
    let out = apply(&stack, &plan).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("verified"),
        "{}",
        render(&out)
    );
    assert_eq!(record(&stack, &plan).await["phase"], "completed");
}

/// Commands printed "to finish by hand" are safe to paste (issue 14 item 6): for a plan whose
/// path holds a space, `;` and `$(…)`, the printed `bgctl promote` splits, as a POSIX shell
/// splits it, into exactly one `-f` argument naming that file; run word for word, it promotes
/// to the next gate and nothing else runs.
#[tokio::test(flavor = "multi_thread")]
async fn printed_commands_are_quoted_for_a_shell() {
    let stack = Stack::start().await;
    let plan = stack.plan_from("canary.yaml", &[]);
    let folder = stack.dir.path().join("my plans");
    std::fs::create_dir(&folder).unwrap();
    let odd = folder.join("p;touch pwned $(touch pwned2).yaml");
    std::fs::rename(&plan, &odd).unwrap();
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&odd);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("bgctl promote"))
        .unwrap_or_else(|| panic!("a `bgctl promote` hint: {}", render(&out)));
    let printed = line[line.find("bgctl promote").unwrap()..]
        .split('`')
        .next()
        .unwrap();
    let words = shlex::split(printed).unwrap_or_else(|| panic!("shell words: {printed}"));
    assert_eq!(words[..2], ["bgctl", "promote"], "{printed}");
    let f = words.iter().position(|w| w == "-f").expect("-f");
    assert_eq!(words[f + 1], odd.to_string_lossy(), "{printed}");

    let mut cmd = stack.bgctl();
    cmd.args(&words[1..]);
    if !words.iter().any(|w| w == "--yes") {
        cmd.arg("--yes");
    }
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "at the next gate: {}",
        render(&out)
    );
    for f in ["pwned", "pwned2"] {
        assert!(!stack.dir.path().join(f).exists(), "`{f}` was created");
    }
}
