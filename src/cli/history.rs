//! `bgctl history [FILE | -f FILE] [-n 20]`: the last runs that changed this rollout, newest
//! first, read from the target (the ring `engine/history.rs` keeps in the rollout record), so
//! every runner sees the same history. Text is a table on stdout; `-o json` is one document
//! (`{"rollout", "history": [...]}`) like `status`.

use std::fmt::Write as _;

use clap::Args;
use comfy_table::{presets::NOTHING, Table};
use serde::Serialize;

use super::{GlobalArgs, PlanFileArg};
use crate::engine::history::{self, Entry};
use crate::engine::{rfc3339, EngineError};
use crate::error::CliError;
use crate::exit::Exit;
use crate::providers::{Phase, Provider};
use crate::ui::{Format, Ui};

/// Show the last runs that changed the rollout (when, who, from → to, phase, outcome,
/// duration), newest first, as stored in the target.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// How many runs to show.
    #[arg(short = 'n', long, default_value_t = history::HISTORY_LEN)]
    pub limit: usize,
}

/// One row of `history -o json`.
#[derive(Debug, Serialize)]
struct Row {
    /// When the run started (RFC 3339, UTC).
    at: String,
    /// How the run ended as far as the target knows: `succeeded`, `rolled back`, …
    outcome: &'static str,
    /// The stored entry.
    #[serde(flatten)]
    entry: Entry,
}

/// What a recorded phase means for the run that wrote it last.
pub fn outcome(phase: Phase) -> &'static str {
    match phase {
        Phase::Completed => "succeeded",
        Phase::RolledBack => "rolled back",
        Phase::Aborted => "aborted",
        Phase::Failed => "failed",
        Phase::Paused => "paused",
        // A run's last write says it was still working: it is running, or it was killed.
        Phase::Progressing | Phase::Verifying => "unfinished",
        Phase::Idle => "-",
    }
}

/// Runs `history`.
pub async fn cmd_history(g: &GlobalArgs, ui: &Ui, args: &HistoryArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let plan = super::load(g, &file)?;
    let deadline = crate::deadline::Deadline::after(g.timeout);
    let provider = super::provider(&plan, &deadline)?;
    let snap = provider
        .snapshot()
        .await
        .map_err(|e| CliError::engine(&EngineError::from(e), &file))?;
    let mut entries = history::entries(&snap.record.history);
    entries.reverse();
    entries.truncate(args.limit);
    let rows: Vec<Row> = entries
        .into_iter()
        .map(|entry| Row {
            at: rfc3339(entry.started),
            outcome: outcome(entry.phase),
            entry,
        })
        .collect();
    if ui.options().format == Format::Json {
        let doc = serde_json::json!({"rollout": plan.metadata.name, "history": rows});
        let line = crate::redact::json_line(&doc).unwrap_or_default();
        crate::ui::out::stdout(&format!("{line}\n"));
        return Ok(Exit::Ok);
    }
    if rows.is_empty() {
        ui.say(&format!(
            "no history yet for rollout `{}`: no run has changed it since this bgctl started keeping one",
            plan.metadata.name
        ));
        return Ok(Exit::Ok);
    }
    crate::ui::out::stdout(&crate::redact::terminal(&render(&rows)));
    Ok(Exit::Ok)
}

fn render(rows: &[Row]) -> String {
    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header([
        "WHEN",
        "WHO",
        "COMMAND",
        "FROM → TO",
        "PHASE",
        "OUTCOME",
        "DURATION",
        "DETAIL",
    ]);
    for r in rows {
        let e = &r.entry;
        let to = if e.to.is_empty() { "?" } else { &e.to };
        table.add_row([
            r.at.clone(),
            e.who.clone(),
            e.command.clone(),
            format!("{} → {to}", e.from),
            e.phase.as_str().to_string(),
            r.outcome.to_string(),
            humantime::format_duration(std::time::Duration::from_secs(e.secs)).to_string(),
            e.detail.clone().unwrap_or_default(),
        ]);
    }
    let mut out = format!("{table}\n");
    let links: Vec<String> = rows
        .iter()
        .filter_map(|r| r.entry.link.as_ref().map(|l| format!("{}  {l}", r.at)))
        .collect();
    if !links.is_empty() {
        out.push_str("\nlinks:\n");
        for l in links {
            let _ = writeln!(out, "  {l}");
        }
    }
    out
}
