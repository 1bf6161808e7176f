//! `bgctl fleet …`: one plan across many gateways or clusters, in waves (issue 18). The work is
//! in [`crate::fleet`]; this file resolves flags, asks once for confirmation, and renders the
//! fleet-level lines (waves, each member's outcome, the closing summary and error).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::engine::events::Reporter as _;
use crate::error::CliError;
use crate::exit::Exit;
use crate::fleet::member::{fleet_command, Ctx};
use crate::fleet::render::{self, PipelineFormat};
use crate::fleet::run::{self, MemberResult, Progress, Report};
use crate::fleet::{load, status, Fleet};
use crate::ui::json::CliLine;
use crate::ui::{Format, Ui};

/// `bgctl fleet …`.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Run the plan on every member, wave by wave (finished members are skipped).
    Apply(FleetApplyArgs),
    /// Continue a fleet paused at a member's manual gate: promote it, then go on.
    Promote(FleetApplyArgs),
    /// One row per member: wave, phase, live side, last change, lock.
    Status(FleetFileArgs),
    /// Send members back to their previous side, the latest wave first.
    Rollback(FleetRollbackArgs),
    /// Show what `fleet apply` would change on each member.
    Diff(FleetFileArgs),
    /// Check the fleet file and every member's plan, offline.
    Validate(FleetFileArgs),
    /// Print a CI pipeline with one job per member and the waves as ordered stages.
    Render(FleetRenderArgs),
}

/// The fleet file.
#[derive(Debug, Args)]
pub struct FleetFileArgs {
    /// The fleet file (`kind: Fleet`).
    #[arg(value_name = "FLEET")]
    pub fleet: PathBuf,
}

/// `fleet apply` / `fleet promote`.
#[derive(Debug, Args)]
pub struct FleetApplyArgs {
    /// The fleet file (`kind: Fleet`).
    #[arg(value_name = "FLEET")]
    pub fleet: PathBuf,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Break a member's lock held by another run (use only when that run is gone).
    #[arg(long)]
    pub force_unlock: bool,
}

/// `fleet rollback`.
#[derive(Debug, Args)]
pub struct FleetRollbackArgs {
    /// The fleet file (`kind: Fleet`).
    #[arg(value_name = "FLEET")]
    pub fleet: PathBuf,
    /// Only these members (comma-separated or repeated); default: every member.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub members: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Break a member's lock held by another run (use only when that run is gone).
    #[arg(long)]
    pub force_unlock: bool,
}

/// `fleet render`.
#[derive(Debug, Args)]
pub struct FleetRenderArgs {
    /// The fleet file (`kind: Fleet`).
    #[arg(value_name = "FLEET")]
    pub fleet: PathBuf,
    /// The CI system.
    #[arg(long, value_enum)]
    pub format: PipelineFormat,
}

/// Whether the command prints one document (no `result` event on success).
pub fn is_document(cmd: &FleetCommand) -> bool {
    matches!(cmd, FleetCommand::Status(_) | FleetCommand::Render(_))
}

/// Runs `bgctl fleet …`.
pub async fn cmd_fleet(g: &GlobalArgs, ui: &Ui, cmd: &FleetCommand) -> Result<Exit, CliError> {
    let limits = super::limits(g);
    match cmd {
        FleetCommand::Render(a) => {
            let fleet = load::load(&a.fleet, &limits, false)?;
            for note in render::not_rendered(&fleet) {
                crate::ui::out::stderr(&format!("note: {note}\n"));
            }
            let text = render::render(&fleet, a.format)
                .map_err(|e| CliError::usage(e, "rename the member"))?;
            crate::ui::out::stdout(&text);
            Ok(Exit::Ok)
        }
        FleetCommand::Validate(a) => {
            let fleet = load::load(&a.fleet, &limits, true)?;
            load::load_plans(&fleet, &limits, g.context.as_ref())?;
            let summary = format!(
                "valid: fleet `{}`, {} member(s) in {} wave(s) running `{}`",
                fleet.name,
                fleet.members.len(),
                fleet.waves.len(),
                fleet.plan_file.display()
            );
            ui.say(&summary);
            ui.set_summary(summary);
            Ok(Exit::Ok)
        }
        FleetCommand::Apply(a) => apply(g, ui, a, false).await,
        FleetCommand::Promote(a) => apply(g, ui, a, true).await,
        FleetCommand::Rollback(a) => rollback(g, ui, a).await,
        FleetCommand::Status(a) => {
            let (fleet, plans) = load_all(g, &a.fleet)?;
            let ctx = ctx(g, ui, &fleet, &plans, true, false);
            let rows = status::rows(&ctx).await;
            if ui.options().format == Format::Json {
                let doc = serde_json::json!({"fleet": fleet.name, "members": rows});
                let line =
                    crate::redact::json_line(doc.as_object().expect("object")).unwrap_or_default();
                crate::ui::out::stdout(&format!("{line}\n"));
            } else {
                crate::ui::out::stdout(&crate::redact::terminal(&status::table(&rows)));
            }
            Ok(Exit::Ok)
        }
        FleetCommand::Diff(a) => {
            let (fleet, plans) = load_all(g, &a.fleet)?;
            let ctx = ctx(g, ui, &fleet, &plans, true, false);
            let mut changes = 0;
            for i in 0..fleet.members.len() {
                if ui.options().format == Format::Text {
                    let m = &fleet.members[i];
                    crate::ui::out::stdout(&format!("--- {} (wave {})\n", m.name, m.wave + 1));
                }
                match ctx.diff(i).await {
                    Ok(true) => changes += 1,
                    Ok(false) => {}
                    Err(r) => return Err(r.error.expect("a failed member has an error")),
                }
            }
            ui.set_summary(format!(
                "{changes} of {} member(s) would change",
                fleet.members.len()
            ));
            Ok(Exit::Ok)
        }
    }
}

fn load_all(
    g: &GlobalArgs,
    file: &std::path::Path,
) -> Result<(Fleet, Vec<crate::plan::Plan>), CliError> {
    let limits = super::limits(g);
    let fleet = load::load(file, &limits, true)?;
    let plans = load::load_plans(&fleet, &limits, g.context.as_ref())?;
    Ok((fleet, plans))
}

fn ctx<'a>(
    g: &GlobalArgs,
    ui: &'a Ui,
    fleet: &'a Fleet,
    plans: &'a [crate::plan::Plan],
    yes: bool,
    force_unlock: bool,
) -> Ctx<'a> {
    let o = ui.options();
    let multi = (o.progress && o.format == Format::Text && o.verbosity >= 0)
        .then(indicatif::MultiProgress::new);
    Ctx {
        fleet,
        plans,
        ui,
        yes,
        force_unlock,
        timeout: g.timeout,
        multi,
    }
}

/// Asks once for the whole fleet; `Ok(false)`: not confirmed and no terminal to ask on (each
/// member that would move traffic then stops with exit 6).
fn confirm(ui: &Ui, yes: bool, question: &str) -> Result<bool, CliError> {
    if yes {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(false);
    }
    if ui.confirm(question) {
        Ok(true)
    } else {
        Err(CliError {
            exit: Exit::Error,
            headline: "cancelled; nothing was changed".into(),
            detail: None,
            causes: Vec::new(),
            hints: Vec::new(),
        })
    }
}

struct Lines<'a> {
    ctx: &'a Ctx<'a>,
}

impl Progress for Lines<'_> {
    fn wave(&self, wave: usize, state: &str) {
        let fleet = self.ctx.fleet;
        let w = &fleet.waves[wave];
        let names: Vec<String> = w
            .members
            .iter()
            .map(|&i| fleet.members[i].name.clone())
            .collect();
        let ui = self.ctx.ui;
        if ui.options().format == Format::Json {
            ui.line(&CliLine::FleetWave {
                wave: wave + 1,
                members: names,
                state: state.into(),
            });
            return;
        }
        let what = match state {
            "started" => format!("{} at a time", w.max_parallel),
            "pausing" => format!(
                "waiting {} first (pauseBefore)",
                humantime::format_duration(w.pause_before.unwrap_or_default())
            ),
            _ => "not started".into(),
        };
        ui.say(&format!(
            "wave {}/{}: {} ({what})",
            wave + 1,
            fleet.waves.len(),
            names.join(", ")
        ));
    }

    fn member(&self, member: usize, state: &str, result: &MemberResult) {
        let ui = self.ctx.ui_for(member);
        if self.ctx.ui.options().format == Format::Json {
            ui.line(&CliLine::FleetMember {
                wave: self.ctx.fleet.members[member].wave + 1,
                exit: result.exit.code(),
                state: state.into(),
                summary: result.summary.clone(),
            });
        } else {
            ui.say(&format!("{}: {}", state.replace('_', " "), result.summary));
        }
    }
}

async fn pause(d: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => true,
        _ = tokio::signal::ctrl_c() => false,
    }
}

async fn apply(
    g: &GlobalArgs,
    ui: &Ui,
    a: &FleetApplyArgs,
    promote: bool,
) -> Result<Exit, CliError> {
    let (fleet, plans) = load_all(g, &a.fleet)?;
    let verb = if promote { "promote" } else { "apply" };
    let yes = confirm(
        ui,
        a.yes,
        &format!(
            "{verb} `{}` on {} member(s) in {} wave(s)?",
            fleet.plan_file.display(),
            fleet.members.len(),
            fleet.waves.len()
        ),
    )?;
    let ctx = ctx(g, ui, &fleet, &plans, yes, a.force_unlock);
    let lines = Lines { ctx: &ctx };
    let report = run::run_waves(
        &fleet,
        async |i| ctx.apply(i, promote).await,
        async |i| ctx.rollback(i, true).await,
        async |d| pause(d).await,
        &lines,
    )
    .await;
    finish(ui, &fleet, &report)
}

/// The closing summary, and the fleet's error when it did not finish.
fn finish(ui: &Ui, fleet: &Fleet, report: &Report) -> Result<Exit, CliError> {
    let count = |f: &dyn Fn(&MemberResult) -> bool| {
        report.results.iter().flatten().filter(|r| f(r)).count()
    };
    let changed = count(&|r| r.exit == Exit::Ok && r.moved);
    let up = count(&|r| r.exit == Exit::Ok && !r.moved);
    let failed = count(&|r| r.is_failure());
    let paused = count(&|r| r.exit == Exit::Paused);
    let not_started = report.results.iter().filter(|r| r.is_none()).count();
    let rolled = report
        .rollbacks
        .iter()
        .filter(|(_, r)| r.exit == Exit::Ok && r.moved)
        .count();
    let mut summary = format!(
        "fleet `{}`: {changed} changed, {up} up to date, {failed} failed, {paused} paused, {not_started} not started",
        fleet.name
    );
    if !report.rollbacks.is_empty() {
        summary.push_str(&format!(
            ", {rolled} of {} rolled back (onFailure: {})",
            report.rollbacks.len(),
            fleet.on_failure.as_str()
        ));
    }
    ui.set_summary(summary.clone());
    let exit = report.exit();
    if exit == Exit::Ok {
        ui.say(&format!("done: {summary}"));
        return Ok(Exit::Ok);
    }
    let file = fleet.file.to_string_lossy();
    let names = |f: &dyn Fn(&MemberResult) -> bool| -> Vec<String> {
        report
            .results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.as_ref()
                    .filter(|r| f(r))
                    .map(|_| format!("`{}`", fleet.members[i].name))
            })
            .collect()
    };
    let mut hints = Vec::new();
    let headline = match exit {
        Exit::Paused => {
            let gated = names(&|r| r.exit == Exit::Paused && r.gate);
            if gated.is_empty() {
                hints.push(format!(
                    "confirm with `{}` (or run it in a terminal)",
                    fleet_command(&["fleet", "apply", &file, "--yes"])
                ));
                format!("fleet `{}` needs confirmation to move traffic", fleet.name)
            } else {
                hints.push(format!(
                    "continue with `{}`",
                    fleet_command(&["fleet", "promote", &file, "--yes"])
                ));
                format!(
                    "fleet `{}` is paused: {} at the manual gate",
                    fleet.name,
                    gated.join(", ")
                )
            }
        }
        Exit::Uncertain => {
            let mut who = names(&|r| r.exit == Exit::Uncertain);
            for (i, r) in &report.rollbacks {
                if r.exit != Exit::Ok {
                    who.push(format!(
                        "`{}` (its rollback failed)",
                        fleet.members[*i].name
                    ));
                }
            }
            hints.push(format!(
                "see `{}`; finish by hand with `{}`, or `{}` once the cause is fixed",
                fleet_command(&["fleet", "status", &file]),
                fleet_command(&["fleet", "rollback", &file, "--members", "NAME", "--yes"]),
                fleet_command(&["fleet", "apply", &file, "--yes"])
            ));
            format!(
                "fleet `{}`: a person must act on {}",
                fleet.name,
                who.join(", ")
            )
        }
        _ => {
            let failed = names(&MemberResult::is_failure);
            let wave = report.stopped_at.map_or(0, |w| w + 1);
            hints.push(format!(
                "later waves did not start; after fixing it, `{}` continues (finished members are skipped)",
                fleet_command(&["fleet", "apply", &file, "--yes"])
            ));
            if report.interrupted && failed.is_empty() {
                format!("fleet `{}` interrupted between waves", fleet.name)
            } else {
                format!(
                    "fleet `{}` stopped in wave {wave}: {} failed",
                    fleet.name,
                    failed.join(", ")
                )
            }
        }
    };
    Err(CliError {
        exit,
        headline,
        detail: Some(summary),
        causes: Vec::new(),
        hints,
    })
}

async fn rollback(g: &GlobalArgs, ui: &Ui, a: &FleetRollbackArgs) -> Result<Exit, CliError> {
    let (fleet, plans) = load_all(g, &a.fleet)?;
    for name in &a.members {
        if fleet.member(name).is_none() {
            let names: Vec<&str> = fleet.members.iter().map(|m| m.name.as_str()).collect();
            return Err(CliError::usage(
                format!("`{name}` is not a member of fleet `{}`", fleet.name),
                format!("members: {}", names.join(", ")),
            ));
        }
    }
    let chosen: Vec<usize> = (0..fleet.members.len())
        .filter(|&i| a.members.is_empty() || a.members.contains(&fleet.members[i].name))
        .collect();
    let yes = confirm(
        ui,
        a.yes,
        &format!(
            "roll back {} member(s) of fleet `{}`?",
            chosen.len(),
            fleet.name
        ),
    )?;
    let ctx = ctx(g, ui, &fleet, &plans, yes, a.force_unlock);
    let lines = Lines { ctx: &ctx };
    let mut results: Vec<(usize, MemberResult)> = Vec::new();
    for w in (0..fleet.waves.len()).rev() {
        let wave = &fleet.waves[w];
        let todo: Vec<usize> = wave
            .members
            .iter()
            .copied()
            .filter(|i| chosen.contains(i))
            .collect();
        if todo.is_empty() {
            continue;
        }
        let named = !a.members.is_empty();
        let ctx = &ctx;
        let done = run::rollback_wave(todo, wave.max_parallel, &async |i| {
            ctx.rollback(i, named).await
        })
        .await;
        for (i, r) in done {
            lines.member(i, run::rollback_state(&r), &r);
            results.push((i, r));
        }
    }
    let failed: Vec<&(usize, MemberResult)> =
        results.iter().filter(|(_, r)| r.exit != Exit::Ok).collect();
    let rolled = results
        .iter()
        .filter(|(_, r)| r.exit == Exit::Ok && r.moved)
        .count();
    let summary = format!(
        "fleet `{}`: {rolled} rolled back, {} unchanged, {} failed",
        fleet.name,
        results.len() - rolled - failed.len(),
        failed.len()
    );
    ui.set_summary(summary.clone());
    if failed.is_empty() {
        ui.say(&format!("done: {summary}"));
        return Ok(Exit::Ok);
    }
    let exit = [
        Exit::Uncertain,
        Exit::Interrupted,
        Exit::Locked,
        Exit::RolledBack,
        Exit::Paused,
    ]
    .into_iter()
    .find(|e| failed.iter().any(|(_, r)| r.exit == *e))
    .unwrap_or(Exit::Error);
    let names: Vec<String> = failed
        .iter()
        .map(|(i, _)| format!("`{}`", fleet.members[*i].name))
        .collect();
    let file = fleet.file.to_string_lossy();
    Err(CliError {
        exit,
        headline: format!(
            "fleet `{}`: the rollback of {} failed",
            fleet.name,
            names.join(", ")
        ),
        detail: Some(summary),
        causes: Vec::new(),
        hints: vec![format!(
            "see `{}`, fix the cause and run the rollback again",
            fleet_command(&["fleet", "status", &file])
        )],
    })
}
