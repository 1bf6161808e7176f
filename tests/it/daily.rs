//! The daily loop (issue 17): the commands as people type them, with the plan found the way
//! compose and skaffold find theirs (`-f`, `$BGCTL_PLAN`, `./bgctl.yaml`), through the real
//! binary against kong-sim, whose backends answer like ordinary apps (no `X-Backend`).

use crate::harness::{render, run, Stack};

/// kong-sim with backends that answer like ordinary apps: no `X-Backend` header.
async fn anonymous_stack() -> Stack {
    let stack = Stack::start().await;
    for b in &stack.backends {
        b.set_named(false);
    }
    stack
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `bgctl plan apply`, `bgctl switch --to green`, `bgctl status`, `bgctl rollback`, literally,
/// in a directory holding `bgctl.yaml`: each says which file it used and does its job.
#[tokio::test(flavor = "multi_thread")]
async fn the_literal_commands_find_bgctl_yaml() {
    let stack = anonymous_stack().await;
    let written = stack.plan("blue");
    std::fs::rename(&written, stack.dir.path().join("bgctl.yaml")).unwrap();

    for args in [
        &["plan", "apply", "--yes"][..],
        &["switch", "--to", "green", "--yes"],
        &["status", "--no-probe"],
        &["rollback", "--yes"],
    ] {
        let mut cmd = stack.bgctl();
        cmd.args(args);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", render(&out));
        assert!(
            stderr(&out).contains("plan: `bgctl.yaml` (found in the working directory)"),
            "{args:?} does not say which plan it used:\n{}",
            render(&out)
        );
        if args[0] == "switch" {
            assert_eq!(stack.service_host().await, "address.v2.service");
            assert!(
                stderr(&out).contains("verified (health only)"),
                "anonymous apps are verified by health: {}",
                render(&out)
            );
        }
    }
    assert_eq!(stack.service_host().await, "address.v1.service");
}

/// `$BGCTL_PLAN` names the plan; `-f FILE` and a positional `FILE` are the same on every command
/// (both at once is a usage error).
#[tokio::test(flavor = "multi_thread")]
async fn the_plan_is_named_the_same_way_on_every_command() {
    let stack = anonymous_stack().await;
    let plan = stack.plan("blue");
    let name = plan.file_name().unwrap().to_str().unwrap().to_string();

    let mut cmd = stack.bgctl();
    cmd.env("BGCTL_PLAN", &name)
        .args(["plan", "apply", "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("(from $BGCTL_PLAN)"),
        "{}",
        render(&out)
    );

    for args in [
        vec!["plan", "apply", "-f", &name],
        vec!["plan", "diff", "--exit-code", "-f", &name],
        vec!["plan", "validate", "-f", &name],
        vec!["status", &name, "--no-probe"],
        vec!["status", "-f", &name, "--no-probe"],
    ] {
        let mut cmd = stack.bgctl();
        cmd.args(&args);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", render(&out));
        assert!(
            !stderr(&out).contains("plan: `"),
            "{args:?} named the plan itself"
        );
    }

    let mut cmd = stack.bgctl();
    cmd.args(["status", &name, "-f", &name]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
}

/// No plan anywhere, or two default names: exit 2 with what was looked for, and nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn no_plan_or_two_defaults_is_a_usage_error_with_zero_requests() {
    let stack = anonymous_stack().await;
    let before = stack.sim.requests().len();
    let mut cmd = stack.bgctl();
    cmd.args(["switch", "--to", "green", "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(stderr(&out).contains("no plan file"), "{}", render(&out));
    assert!(stderr(&out).contains("BGCTL_PLAN"), "{}", render(&out));

    let plan = stack.plan("blue");
    std::fs::copy(&plan, stack.dir.path().join("bgctl.yaml")).unwrap();
    std::fs::copy(&plan, stack.dir.path().join("bgctl.yml")).unwrap();
    let mut cmd = stack.bgctl();
    cmd.args(["rollback", "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(
        stderr(&out).contains("both `bgctl.yaml` and `bgctl.yml`"),
        "{}",
        render(&out)
    );
    assert_eq!(stack.sim.requests().len(), before, "a request was sent");
}
