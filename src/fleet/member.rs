//! One member's run inside a fleet: its own provider, engine, lock and deadline (`--timeout`
//! counts from when the member starts, not from when the fleet did), and its own renderer, so
//! its lines are prefixed (`eu-west | …`) and its JSON events carry `"member"`.
//!
//! Members never prompt (several at once cannot share a terminal): the fleet asks once, up
//! front, and passes `--yes` on; without it and without a terminal a member that would move
//! traffic stops with exit 6, as `plan apply` does.
//!
//! A member's error hints are the plan's own, except commands: `bgctl plan apply plan.yaml`
//! would run without the member's values, so the fleet's commands are named instead.

use std::path::Path;
use std::time::Duration;

use crate::cli::remedy::quote;
use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::events::{Collect, Event, Reporter};
use crate::engine::{Engine, EngineError, Options, Outcome};
use crate::error::CliError;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::providers::{Phase, Provider};
use crate::ui::json::{CliLine, ErrorEvent};
use crate::ui::{Format, MemberTag, Ui};

use super::load::Fleet;
use super::run::MemberResult;

/// What every member of one fleet command shares.
pub struct Ctx<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// Each member's plan (same order as the members).
    pub plans: &'a [Plan],
    /// The fleet's renderer.
    pub ui: &'a Ui,
    /// `--yes` (or confirmed once up front).
    pub yes: bool,
    /// `--force-unlock`.
    pub force_unlock: bool,
    /// Each member's `--timeout`.
    pub timeout: Duration,
    /// Progress lines on a terminal.
    pub multi: Option<indicatif::MultiProgress>,
}

/// `bgctl` followed by words, quoted for a shell.
pub fn fleet_command(words: &[&str]) -> String {
    crate::cli::remedy::bgctl(words)
}

impl Ctx<'_> {
    fn file(&self) -> &Path {
        &self.fleet.file
    }

    /// What member `i`'s text lines start with: its name, padded to the longest, and `| `.
    pub fn prefix(&self, i: usize) -> String {
        let width = self
            .fleet
            .members
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0);
        format!("{:<width$} | ", self.fleet.members[i].name)
    }

    /// The renderer for member `i`.
    pub fn ui_for(&self, i: usize) -> Ui {
        self.ui.for_member(MemberTag {
            name: self.fleet.members[i].name.clone(),
            prefix: self.prefix(i),
            multi: self.multi.clone(),
        })
    }

    fn options(&self, dry_run: bool) -> Options {
        Options {
            yes: self.yes,
            interactive: false,
            dry_run,
            force_unlock: self.force_unlock,
            deadline: crate::deadline::Deadline::after(self.timeout),
            who: crate::engine::whoami(),
            actor: crate::engine::history::Actor::detect(),
            command: String::new(),
            vars: Vec::new(),
            parallelism: crate::engine::DEFAULT_PARALLELISM,
        }
    }

    /// The error of member `i` with fleet commands in its hints; shown at once, prefixed.
    fn fail(&self, i: usize, ui: &Ui, e: &EngineError) -> MemberResult {
        let plan = &self.fleet.plan_file;
        let mut err = CliError::engine(e, plan);
        let file = self.file().to_string_lossy().into_owned();
        let name = &self.fleet.members[i].name;
        err.hints.retain(|h| !h.contains("bgctl "));
        let next = match err.exit {
            Exit::Paused if matches!(e, EngineError::PausedAtGate { .. }) => {
                format!(
                    "continue with `{}`",
                    fleet_command(&["fleet", "promote", &file, "--yes"])
                )
            }
            Exit::Paused => format!(
                "confirm with `{}`",
                fleet_command(&["fleet", "apply", &file, "--yes"])
            ),
            Exit::Uncertain | Exit::Locked => format!(
                "see `{}`, then `{}` or `{}`",
                fleet_command(&["fleet", "status", &file]),
                fleet_command(&["fleet", "apply", &file, "--yes"]),
                fleet_command(&["fleet", "rollback", &file, "--members", name, "--yes"])
            ),
            _ => format!(
                "fix it and run `{}` again: finished members are skipped",
                fleet_command(&["fleet", "apply", &file, "--yes"])
            ),
        };
        err.hints.push(next);
        self.show_error(i, ui, &err);
        MemberResult::failed(err, matches!(e, EngineError::PausedAtGate { .. }))
    }

    fn show_error(&self, i: usize, ui: &Ui, err: &CliError) {
        if self.ui.options().format == Format::Json {
            ui.line(&CliLine::Error(ErrorEvent::from(err)));
        } else {
            // Errors show whatever `-q` says, like a failing `plan apply`'s.
            let prefix = self.prefix(i);
            let lines: String = err.render().lines().fold(String::new(), |mut out, l| {
                out.push_str(&prefix);
                out.push_str(l);
                out.push('\n');
                out
            });
            match &self.multi {
                Some(multi) if multi.println(lines.trim_end()).is_ok() => {}
                _ => crate::ui::out::stderr(&lines),
            }
        }
    }

    fn setup_failed(&self, i: usize, ui: &Ui, err: CliError) -> MemberResult {
        self.show_error(i, ui, &err);
        MemberResult::failed(err, false)
    }

    /// `plan apply` for member `i`; with `promote`, a canary paused at its gate is promoted.
    pub async fn apply(&self, i: usize, promote: bool) -> MemberResult {
        let ui = self.ui_for(i);
        let plan = &self.plans[i];
        let opts = self.options(false);
        let provider = match crate::cli::provider(plan, &opts.deadline) {
            Ok(p) => p,
            Err(e) => return self.setup_failed(i, &ui, e),
        };
        let engine = Engine::new(&provider, plan, &opts, &ui);
        let result = if let Some(bg) = &plan.strategy.blue_green {
            engine.deploy(&bg.active_environment, "apply").await
        } else {
            let start = if promote && gate_waiting(&provider).await {
                Start::Promote
            } else {
                Start::Apply
            };
            engine.canary(start, CanaryOptions::default()).await
        };
        match result {
            Ok(outcome) => MemberResult::ok(
                matches!(outcome, Outcome::Changed(_)),
                summary(&outcome, "apply"),
            ),
            Err(e) => self.fail(i, &ui, &e),
        }
    }

    /// `rollback` for member `i`. Unless `named` (listed in `--members`), a member whose last
    /// rollout was already rolled back or aborted is left alone: a second rollback would send
    /// it back to the side that just failed.
    pub async fn rollback(&self, i: usize, named: bool) -> MemberResult {
        let ui = self.ui_for(i);
        let plan = &self.plans[i];
        let opts = self.options(false);
        let provider = match crate::cli::provider(plan, &opts.deadline) {
            Ok(p) => p,
            Err(e) => return self.setup_failed(i, &ui, e),
        };
        if !named {
            if let Ok(snap) = provider.snapshot().await {
                if matches!(snap.record.phase, Phase::RolledBack | Phase::Aborted) {
                    ui.say(&format!(
                        "already {}; traffic goes to {} (name it in `--members` to roll it back again)",
                        snap.record.phase.as_str(),
                        snap.traffic
                    ));
                    return MemberResult::ok(false, "already rolled back");
                }
            }
        }
        let engine = Engine::new(&provider, plan, &opts, &ui);
        match engine.rollback().await {
            Ok(outcome) => MemberResult::ok(
                matches!(outcome, Outcome::Changed(_)),
                summary(&outcome, "rollback"),
            ),
            Err(EngineError::NoPrevious) => {
                ui.say("nothing to roll back: no earlier side is recorded");
                MemberResult::ok(false, "nothing to roll back")
            }
            Err(e) => self.fail(i, &ui, &e),
        }
    }

    /// `plan diff` for member `i`: whether `apply` would change anything (the steps and writes
    /// are printed by the member's renderer).
    pub async fn diff(&self, i: usize) -> Result<bool, MemberResult> {
        let ui = self.ui_for(i);
        let plan = &self.plans[i];
        let opts = self.options(true);
        let provider =
            crate::cli::provider(plan, &opts.deadline).map_err(|e| self.setup_failed(i, &ui, e))?;
        let collect = Collect::default();
        let tee = Tee(&ui, &collect);
        let engine = Engine::new(&provider, plan, &opts, &tee);
        let result = match &plan.strategy.blue_green {
            Some(bg) => engine.deploy(&bg.active_environment, "apply").await,
            None => engine.canary(Start::Apply, CanaryOptions::default()).await,
        };
        result.map_err(|e| self.fail(i, &ui, &e))?;
        let events = collect.0.lock().expect("collect");
        Ok(events.iter().any(|e| matches!(e, Event::Planned { .. })))
    }
}

/// Whether the member's canary waits at its manual gate.
async fn gate_waiting<P: Provider>(provider: &P) -> bool {
    provider
        .snapshot()
        .await
        .is_ok_and(|s| s.record.phase == Phase::Paused)
}

fn summary(outcome: &Outcome, action: &str) -> String {
    match outcome {
        Outcome::UpToDate => "up to date".into(),
        Outcome::DryRun => "dry run".into(),
        Outcome::Changed(t) => format!("{action}: traffic goes to {t}"),
        Outcome::HandedOver => "handed over to the promoting run".into(),
    }
}

/// Sends events to two reporters.
struct Tee<'a>(&'a dyn Reporter, &'a dyn Reporter);

impl Reporter for Tee<'_> {
    fn event(&self, e: &Event) {
        self.0.event(e);
        self.1.event(e);
    }
    fn confirm(&self, q: &str) -> bool {
        self.0.confirm(q)
    }
}

/// Shell-quoted words joined (for pipelines and hints).
pub fn shell_words(words: &[&str]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}
