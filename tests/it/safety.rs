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
