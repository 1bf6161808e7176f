//! Command lines for people: the engine says *what* a person must do ([`Remedy`], [`Command`]);
//! this module renders it as `bgctl …` commands with the plan path the user gave.
//!
//! Printed commands are meant to be pasted, so every argument is quoted for a POSIX shell
//! (`shlex::try_quote`): an environment name or a plan path with a space, `;` or `$(…)` stays
//! one argument and runs nothing else.

use std::path::Path;

use crate::engine::step::{Command, Remedy};
use crate::engine::{rfc3339, EngineError};

/// One argument, quoted for a POSIX shell when it needs it. A NUL byte cannot be passed to a
/// program at all; it is shown as `\0` in single quotes, which no shell runs as anything.
pub fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(
        |_| format!("'{}'", word.replace('\0', "\\0").replace('\'', "'\\''")),
        std::borrow::Cow::into_owned,
    )
}

/// `bgctl` followed by the quoted words.
pub fn bgctl(words: &[&str]) -> String {
    std::iter::once("bgctl".to_string())
        .chain(words.iter().map(|w| quote(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command line for `cmd` on the plan at `plan`.
pub fn command_line(cmd: &Command, plan: &Path, force_unlock: bool) -> String {
    let file = plan.to_string_lossy();
    let mut words: Vec<&str> = match cmd {
        Command::Status => vec!["status", "-f", &file],
        Command::Switch { to } => vec!["switch", "--to", to, "-f", &file, "--yes"],
        Command::Abort => vec!["abort", "-f", &file, "--yes"],
        Command::Promote => vec!["promote", "-f", &file, "--yes"],
        Command::Apply => vec!["plan", "apply", &file],
        Command::ApplyWait => vec!["plan", "apply", "--wait", &file],
    };
    if force_unlock {
        words.push("--force-unlock");
    }
    bgctl(&words)
}

/// The remedy as one line: what to restore first, then the commands in order.
pub fn remedy_line(remedy: &Remedy, plan: &Path) -> String {
    let commands: Vec<String> = remedy
        .commands
        .iter()
        .map(|c| {
            // Only the commands that change something take the lock.
            let unlock = remedy.force_unlock && !matches!(c, Command::Status);
            command_line(c, plan, unlock)
        })
        .collect();
    let commands = commands.join("; then ");
    match &remedy.restore {
        Some(env) => {
            format!(
                "restore `{env}` (its Deployment, or a `manifest` in the plan), then {commands}"
            )
        }
        None => commands,
    }
}

/// What the user can do about an engine error, with runnable commands.
pub fn hints(e: &EngineError, plan: &Path) -> Vec<String> {
    let run = |c: Command| command_line(&c, plan, false);
    match e {
        EngineError::Locked { lock, .. } => vec![
            format!(
                "held since {} by run {}; it expires at {}",
                rfc3339(lock.since),
                lock.run_id,
                rfc3339(lock.expires)
            ),
            "wait for that run to finish, or break a stale lock with `--force-unlock`".into(),
        ],
        EngineError::LockLost { why, .. } => vec![
            format!("this run lost its lock: {why}"),
            format!(
                "the run that holds the rollout now owns it; see where traffic goes with `{}`",
                run(Command::Status)
            ),
        ],
        EngineError::NeedsConfirmation => vec![
            "pass `--yes` to confirm in a non-interactive run (CI), or run it in a terminal".into(),
        ],
        EngineError::Unhealthy { failures, .. } => {
            let mut h: Vec<String> = failures.iter().map(|f| format!("unhealthy: {f}")).collect();
            h.push("fix the targets (or the plan's `healthCheck`) and run again; the live side was not touched".into());
            h
        }
        EngineError::RolledBack { reason, .. } => vec![reason.clone()],
        EngineError::NotIdentified { seen, hint, .. } => vec![seen.clone(), hint.clone()],
        EngineError::AnalysisFailed { why, .. } => {
            vec![why.clone(), "the live side was not touched".into()]
        }
        EngineError::Inconclusive { why, .. } => vec![
            why.clone(),
            format!(
                "decide: run again to re-measure, or `{}` / `{}` by hand",
                run(Command::Promote),
                run(Command::Abort)
            ),
        ],
        EngineError::Uncertain { state, remedy, .. } => vec![
            format!("state: {state}"),
            format!("to finish by hand: {}", remedy_line(remedy, plan)),
        ],
        EngineError::PausedAtGate { .. } => vec![
            format!(
                "the pause is recorded in the target system; continue from any machine with `{}`",
                run(Command::Promote)
            ),
            format!(
                "or send all traffic back with `{}`; `{}` waits for the promotion",
                run(Command::Abort),
                run(Command::ApplyWait)
            ),
        ],
        EngineError::NoPrevious => vec![format!(
            "no earlier side is recorded in the target system; use `{}`",
            run(Command::Switch { to: "ENV".into() })
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan path or environment name with shell syntax stays one argument when pasted: the
    /// rendered line splits back into exactly the words bgctl was given.
    #[test]
    fn printed_commands_are_safe_to_paste() {
        let plan = Path::new("my plans/p;rm -rf ~ $(id).yaml");
        let line = command_line(
            &Command::Switch {
                to: "blue green".into(),
            },
            plan,
            true,
        );
        assert_eq!(
            shlex::split(&line).unwrap(),
            [
                "bgctl",
                "switch",
                "--to",
                "blue green",
                "-f",
                "my plans/p;rm -rf ~ $(id).yaml",
                "--yes",
                "--force-unlock"
            ]
        );
        // Plain words stay as they are, so the common case reads naturally.
        assert_eq!(
            command_line(&Command::Abort, Path::new("plans/c.yaml"), false),
            "bgctl abort -f plans/c.yaml --yes"
        );
    }

    /// The remedy names the restore first, then each command; `status` never breaks a lock.
    #[test]
    fn remedies_render_in_order() {
        let r = Remedy {
            restore: None,
            commands: vec![Command::Status, Command::Switch { to: "blue".into() }],
            force_unlock: true,
        };
        assert_eq!(
            remedy_line(&r, Path::new("p.yaml")),
            "bgctl status -f p.yaml; then bgctl switch --to blue -f p.yaml --yes --force-unlock"
        );
        let r = Remedy {
            restore: Some("blue".into()),
            ..Remedy::run(vec![Command::Switch { to: "blue".into() }])
        };
        assert!(remedy_line(&r, Path::new("p.yaml")).starts_with("restore `blue`"));
    }
}
