//! Kong-only checks under faults (folded from `reliability.rs`), on kong-sim: what the shared
//! scenarios (`conformance::scenarios`) cannot say for every provider — a flaky Admin API with
//! its retry rules (a target `POST` is re-sent only after a read-back), rollbacks whose writes
//! fail, the closing reserve of `--timeout`, concurrent runs and stale locks, signals, secrets
//! and TLS, and misbehaving Admin API answers. `docs/reliability.md` lists each guarantee with
//! its test and the latest figures (printed with `--nocapture`).
//!
//! Every loop here is bounded in count and time, every child process is killed by its PID when
//! its guard drops, and everything listens on 127.0.0.1.

#![allow(clippy::wildcard_imports)] // the sections share this module's helpers

mod answers;
mod faults;
mod locks;
mod tls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kong_sim::{FaultAction, FaultRule, SimConfig};
use serde_json::Value;

use crate::conformance::run::{spawn_in, Running};
use crate::harness::{render, root, Stack};

use crate::conformance::targets::kong::{BLUE_UP, GREEN_UP, LOCK_UP, MIXED_UP};

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

/// Starts the real binary with the stack's environment (and `envs` on top).
fn spawn(stack: &Stack, args: &[&str], envs: &[(&str, &str)]) -> Running {
    let mut env: Vec<(String, String)> = stack
        .bgctl()
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect();
    env.extend(
        envs.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
    );
    spawn_in(stack.dir.path(), &env, args)
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

use crate::conformance::targets::kong::{host, mixed_percent, upstreams};

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

/// The per-call timeout the fault tests set (`provider.kong.requestTimeout`).
const REQUEST_TIMEOUT: &str = "requestTimeout: 500ms";

fn status_fault(code: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        code,
        retry_after,
        body: None,
    }
}
