//! Running the real binary for a target: a child process per run (output to files, so no pipe
//! can fill), killed by its PID when its guard drops; and the check every scenario shares, that
//! `bgctl status -o json` agrees with the system read directly.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::target::{stderr, Target, Traffic};
use crate::harness::render;

/// A running `bgctl`; dropping it kills the process by its PID.
pub(crate) struct Running {
    pub(crate) child: Option<Child>,
    pub(crate) out: std::path::PathBuf,
    pub(crate) err: std::path::PathBuf,
    pub(crate) started: Instant,
}

impl Running {
    /// SIGKILL, by PID.
    pub(crate) fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal (`KILL`, `INT`, `TERM`) to this process only.
    pub(crate) fn signal(&self, sig: &str) {
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

/// A number unique in this test process (file names).
pub(crate) fn unique() -> usize {
    SPAWNED.fetch_add(1, Ordering::Relaxed)
}

/// Starts the real binary in `dir` with a cleared environment plus `env`.
pub(crate) fn spawn_in(dir: &Path, env: &[(String, String)], args: &[&str]) -> Running {
    let n = unique();
    let out = dir.join(format!("out-{n}.txt"));
    let err = dir.join(format!("err-{n}.txt"));
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("USER", "tester");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.current_dir(dir)
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

/// Starts `bgctl args…` against the target.
pub(crate) fn spawn<T: Target>(t: &T, args: &[&str]) -> Running {
    spawn_in(t.dir(), &t.env(), args)
}

/// Runs `bgctl args…` against the target to completion (bounded by a minute).
pub(crate) async fn bgctl<T: Target>(t: &T, args: &[&str]) -> Output {
    spawn(t, args).wait(Duration::from_mins(1)).await.0
}

/// Runs and requires `code`; returns the output.
pub(crate) async fn bgctl_exit<T: Target>(t: &T, args: &[&str], code: i32) -> Output {
    let out = bgctl(t, args).await;
    assert_eq!(
        out.status.code(),
        Some(code),
        "bgctl {args:?}: {}",
        render(&out)
    );
    out
}

pub(crate) fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// `bgctl status -o json` exits 0 and agrees with the system: where traffic goes (a split with
/// the same percent and a record that does not say it finished) and whether a lock is held; then the target's
/// own checks (orphans, the lock's holder). Returns the status document.
pub(crate) async fn assert_status_truthful<T: Target>(t: &T, plan: &Path, ctx: &str) -> Value {
    let out = bgctl(t, &["-o", "json", "status", "--no-probe", "-f", p(plan)]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{ctx}: status failed: {}",
        render(&out)
    );
    let st: Value = serde_json::from_slice(&out.stdout).expect("status json");
    let traffic = &st["traffic"];
    match t.traffic().await {
        Traffic::Missing => assert_eq!(traffic["kind"], "missing", "{ctx}: {st}"),
        Traffic::Blue => assert_eq!(
            (traffic["kind"].as_str(), traffic["env"].as_str()),
            (Some("env"), Some("blue")),
            "{ctx}: {st}"
        ),
        Traffic::Green => assert_eq!(
            (traffic["kind"].as_str(), traffic["env"].as_str()),
            (Some("env"), Some("green")),
            "{ctx}: {st}"
        ),
        Traffic::Split(live) => {
            assert_eq!(traffic["kind"], "split", "{ctx}: {st}");
            let said = traffic["percent"].as_f64().expect("percent");
            assert!(
                (live - said).abs() < 1e-6,
                "{ctx}: status says {said}%, the system has {live}%"
            );
            // `verifying`: a traffic write in flight whose record was written first (Traefik
            // keeps its record in a file, written before the PUT), killed before it finished.
            let phase = st["record"]["phase"].as_str().unwrap_or_default();
            assert!(
                ["progressing", "paused", "verifying"].contains(&phase),
                "{ctx}: traffic is split but the record says `{phase}`: {st}"
            );
        }
    }
    if t.lock_present().await {
        let holder = st["lock"]["holder"].as_str().unwrap_or_default();
        assert!(
            holder.starts_with("tester@")
                || (t.lock_may_be_anonymous() && holder.starts_with("unknown")),
            "{ctx}: the system holds a lock, status shows {}",
            st["lock"]
        );
    } else {
        assert!(
            st["lock"].is_null(),
            "{ctx}: status shows a lock the system does not have: {st}"
        );
    }
    t.check_status(&st, ctx).await;
    st
}

/// Fails on a panic message in the output.
pub(crate) fn assert_no_panic(out: &Output, ctx: &str) {
    assert!(!stderr(out).contains("panicked"), "{ctx}: {}", render(out));
}

/// The exit-5 message names the holder: this test's user — or, where the system can hold a
/// lock before its details are written ([`Target::lock_may_be_anonymous`]), says it is unknown.
pub(crate) fn names_the_holder<T: Target>(t: &T, out: &Output) -> bool {
    let err = stderr(out);
    err.contains("locked by tester@")
        || (t.lock_may_be_anonymous() && err.contains("locked by unknown"))
}
