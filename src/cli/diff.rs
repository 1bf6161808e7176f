//! `bgctl plan diff FILE`: read the live state and show what `apply` would change.

use clap::Args;

use super::{GlobalArgs, PlanFileArg};
use crate::engine::events::{Collect, Event, Reporter};
use crate::engine::{Engine, Options};
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Show what `apply` would change (a table; with `-v` the exact Admin API calls).
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The plan file.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Exit 0 when nothing differs, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub exit_code: bool,
}

/// Runs `plan diff`.
pub async fn cmd_diff(g: &GlobalArgs, ui: &Ui, args: &DiffArgs) -> Result<Exit, CliError> {
    let plan = super::load(g, &args.file).map_err(|e| {
        if args.exit_code {
            CliError {
                exit: Exit::Error,
                ..e
            }
        } else {
            e
        }
    })?;
    let change = super::ChangeArgs {
        yes: true,
        dry_run: true,
        force_unlock: false,
    };
    let _ = PlanFileArg {
        file: args.file.clone(),
    };
    let opts = Options {
        dry_run: true,
        ..super::options(g, &change)
    };
    let provider = super::provider(&plan, &opts.deadline)?;
    let collect = Collect::default();
    let tee = Tee(ui, &collect);
    let target = plan
        .strategy
        .blue_green
        .as_ref()
        .map(|b| b.active_environment.clone())
        .or_else(|| plan.strategy.canary.as_ref().map(|c| c.canary.clone()))
        .unwrap_or_default();
    let engine = Engine::new(&provider, &plan, &opts, &tee);
    engine.deploy(&target, "apply").await.map_err(|e| {
        if args.exit_code {
            CliError {
                exit: Exit::Error,
                ..CliError::from(e)
            }
        } else {
            CliError::from(e)
        }
    })?;
    let changed = collect
        .0
        .lock()
        .expect("collect")
        .iter()
        .any(|e| matches!(e, Event::Planned { .. }));
    Ok(if args.exit_code && changed {
        Exit::Usage
    } else {
        Exit::Ok
    })
}

/// Sends events to two reporters.
pub(crate) struct Tee<'a>(pub &'a dyn Reporter, pub &'a dyn Reporter);

impl Reporter for Tee<'_> {
    fn event(&self, e: &Event) {
        self.0.event(e);
        self.1.event(e);
    }
    fn confirm(&self, q: &str) -> bool {
        self.0.confirm(q)
    }
}
