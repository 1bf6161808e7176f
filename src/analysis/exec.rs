//! Exec checks and exec hooks: run a command, judge it by its exit code.
//!
//! The command is an argv list run without a shell, in the plan's directory, with stdin closed
//! and stdout/stderr captured (the last lines of stderr, or of stdout when stderr is empty,
//! explain a failure). Exit 0 passes; any other exit, death by a signal, or running past
//! `timeout` (default `5m`) fails; a command that cannot be started (not found, not executable)
//! is an `Error`.
//!
//! On Unix the command runs in its own process group, and on timeout — or when the check is
//! cancelled, e.g. by the analysis deadline or Ctrl-C — the whole group is killed with SIGKILL,
//! so a script's own children (`sleep`, test runners) do not outlive it. A running past the
//! analysis deadline (rather than the command's own `timeout`) is an `Error`: the check did not
//! get to finish.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::analysis::checks::{fmt_duration, CheckContext, Measurement, Outcome};
use crate::plan::model::ExecSpec;

/// Default time limit of a command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(5);
/// Output kept per stream (the tail).
const KEEP_BYTES: usize = 64 * 1024;
/// Lines of output shown in a failure.
const TAIL_LINES: usize = 5;
/// Characters of output shown in a failure.
const TAIL_CHARS: usize = 400;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past its own timeout and was killed.
    TimedOut(Duration),
    /// It ran past the analysis deadline and was killed.
    Deadline,
    /// It could not be started.
    NotStarted(String),
}

/// A finished command.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// How it ended.
    pub end: End,
    /// How long it ran.
    pub elapsed: Duration,
    /// The last lines of stderr (or stdout when stderr is empty), one line, bounded.
    pub tail: String,
}

impl Run {
    /// `exited 3 after 1.2s; stderr: …`.
    pub fn explain(&self) -> String {
        let took = fmt_duration(self.elapsed);
        let mut text = match &self.end {
            End::Exited(code) => format!("exited {code} after {took}"),
            End::Signaled(sig) => format!("killed by signal {sig} after {took}"),
            End::TimedOut(limit) => format!(
                "did not finish within its timeout of {}; killed",
                fmt_duration(*limit)
            ),
            End::Deadline => format!("still running at the analysis deadline after {took}; killed"),
            End::NotStarted(e) => return e.clone(),
        };
        if !self.tail.is_empty() {
            text += "; ";
            text += &self.tail;
        }
        text
    }

    /// `exit 0`, `exit 3`, `signal 9`, `timed out`.
    fn value(&self) -> String {
        match &self.end {
            End::Exited(code) => format!("exit {code}"),
            End::Signaled(sig) => format!("signal {sig}"),
            End::TimedOut(limit) => format!("timeout after {}", fmt_duration(*limit)),
            End::Deadline => "deadline".into(),
            End::NotStarted(_) => "not started".into(),
        }
    }
}

/// The command for humans: arguments with spaces or quotes are single-quoted.
pub(crate) fn describe(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One measurement of an exec check.
pub(crate) async fn measure(e: &ExecSpec, ctx: &CheckContext) -> Measurement {
    let run = run(e, ctx, &[]).await;
    let outcome = match run.end {
        End::Exited(0) => Outcome::Pass,
        End::Exited(_) | End::Signaled(_) | End::TimedOut(_) => Outcome::Fail,
        End::Deadline | End::NotStarted(_) => Outcome::Error,
    };
    if outcome == Outcome::Error {
        return Measurement::error(run.explain());
    }
    Measurement::new(outcome, run.value(), run.explain())
}

/// Runs a command to its end (or its timeout, or the deadline), with extra environment.
pub(crate) async fn run(e: &ExecSpec, ctx: &CheckContext, env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let not_started = |why: String| Run {
        end: End::NotStarted(why),
        elapsed: Duration::ZERO,
        tail: String::new(),
    };
    let Some((program, args)) = e.command.split_first() else {
        return not_started("the command is empty".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(&ctx.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(err) => {
            return not_started(format!(
                "could not start: {err}{}",
                hint(program, &ctx.workdir)
            ))
        }
    };
    // Kills the whole group if this future is dropped before the command ends.
    let mut group = GroupGuard(child.id());
    let stdout = child.stdout.take().map(|s| tokio::spawn(read_tail(s)));
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));

    let (limit, by_deadline) = ctx.cap(e.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0));
    let end = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => {
            group.0 = None;
            exit_end(status)
        }
        Ok(Err(err)) => {
            group.kill();
            End::NotStarted(format!(
                "waiting for `{}` failed: {err}",
                describe(&e.command)
            ))
        }
        Err(_) => {
            group.kill();
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            if by_deadline {
                End::Deadline
            } else {
                End::TimedOut(limit)
            }
        }
    };
    let elapsed = started.elapsed();
    // A grandchild may still hold the pipes open: give the readers a moment, not forever.
    let err_text = collect(stderr).await;
    let out_text = collect(stdout).await;
    let tail = if err_text.trim().is_empty() {
        tail_of("stdout", &out_text)
    } else {
        tail_of("stderr", &err_text)
    };
    Run { end, elapsed, tail }
}

/// Why spawning a relative path failed, when that is the likely reason.
fn hint(program: &str, workdir: &Path) -> String {
    if program.contains('/') && !Path::new(program).is_absolute() {
        format!("; the path is relative to {}", workdir.display())
    } else {
        String::new()
    }
}

#[cfg(unix)]
fn exit_end(status: std::process::ExitStatus) -> End {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => End::Exited(code),
        (None, Some(sig)) => End::Signaled(sig),
        (None, None) => End::Exited(-1),
    }
}

#[cfg(not(unix))]
fn exit_end(status: std::process::ExitStatus) -> End {
    End::Exited(status.code().unwrap_or(-1))
}

/// Kills a process group on drop unless disarmed (`.0 = None`).
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            kill_group(pid);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    use rustix::process::{kill_process_group, Pid, Signal};
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

/// Reads a stream to its end, keeping the last [`KEEP_BYTES`].
async fn read_tail(mut r: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * KEEP_BYTES {
                    kept.drain(..kept.len() - KEEP_BYTES);
                }
            }
        }
    }
}

async fn collect(task: Option<JoinHandle<Vec<u8>>>) -> String {
    let Some(mut task) = task else {
        return String::new();
    };
    if let Ok(Ok(bytes)) = tokio::time::timeout(Duration::from_millis(500), &mut task).await {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        task.abort();
        String::new()
    }
}

/// `stderr: line a | line b` from the last non-empty lines, bounded.
fn tail_of(stream: &str, text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(TAIL_LINES);
    let mut joined = lines[start..].join(" | ");
    if joined.chars().count() > TAIL_CHARS {
        let skip = joined.chars().count() - TAIL_CHARS;
        joined = format!("…{}", joined.chars().skip(skip).collect::<String>());
    }
    format!("{stream}: {joined}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_quotes_only_what_needs_it() {
        let argv = ["./e2e.sh", "--suite=smoke", "two words", "it's", ""].map(String::from);
        assert_eq!(
            describe(&argv),
            r"./e2e.sh --suite=smoke 'two words' 'it'\''s' ''"
        );
    }

    #[test]
    fn tails_are_the_last_lines_bounded() {
        let text = "1\n2\n\n3\n4\n5\n6\n";
        assert_eq!(tail_of("stderr", text), "stderr: 2 | 3 | 4 | 5 | 6");
        assert_eq!(tail_of("stderr", " \n"), "");
        let long = "x".repeat(1000);
        let t = tail_of("stdout", &long);
        assert!(t.starts_with("stdout: …x") && t.chars().count() == 8 + 1 + TAIL_CHARS);
    }

    fn spec(argv: &[&str], timeout: Option<Duration>) -> ExecSpec {
        ExecSpec {
            command: argv.iter().map(|s| (*s).to_string()).collect(),
            timeout: timeout.map(crate::plan::model::Dur),
        }
    }

    #[tokio::test]
    async fn exit_codes_and_stderr() {
        let ctx = CheckContext::new(Duration::from_secs(10));
        let m = measure(&spec(&["true"], None), &ctx).await;
        assert_eq!(
            (m.outcome, m.value.as_deref()),
            (Outcome::Pass, Some("exit 0"))
        );
        let m = measure(
            &spec(&["sh", "-c", "echo out; echo bad thing >&2; exit 3"], None),
            &ctx,
        )
        .await;
        assert_eq!(
            (m.outcome, m.value.as_deref()),
            (Outcome::Fail, Some("exit 3"))
        );
        assert!(m.detail.starts_with("exited 3 after "), "{}", m.detail);
        assert!(m.detail.ends_with("; stderr: bad thing"), "{}", m.detail);
    }

    #[tokio::test]
    async fn a_missing_program_is_an_error() {
        let ctx = CheckContext::new(Duration::from_secs(10));
        let m = measure(&spec(&["./no-such-script.sh"], None), &ctx).await;
        assert_eq!(m.outcome, Outcome::Error);
        assert!(
            m.detail.starts_with("could not start: ")
                && m.detail.ends_with("; the path is relative to ."),
            "{}",
            m.detail
        );
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("sleep 2 && touch {}", marker.display());
        let ctx = CheckContext::new(Duration::from_secs(10));
        let started = std::time::Instant::now();
        let m = measure(
            &spec(
                &["sh", "-c", &format!("echo starting >&2; ({script}) & wait")],
                Some(Duration::from_millis(300)),
            ),
            &ctx,
        )
        .await;
        assert_eq!(
            (m.outcome, m.value.as_deref()),
            (Outcome::Fail, Some("timeout after 300ms"))
        );
        assert_eq!(
            m.detail,
            "did not finish within its timeout of 300ms; killed; stderr: starting"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(2200)).await;
        assert!(!marker.exists(), "the grandchild outlived the timeout");
    }

    #[tokio::test]
    async fn the_deadline_makes_it_an_error() {
        let ctx = CheckContext::new(Duration::from_millis(300));
        let m = measure(&spec(&["sleep", "5"], None), &ctx).await;
        assert_eq!(m.outcome, Outcome::Error);
        assert!(
            m.detail
                .starts_with("still running at the analysis deadline"),
            "{}",
            m.detail
        );
    }
}
