//! `bgctl plan diff FILE`: read the live state and print the steps `apply` would make, each
//! with its exact writes, on stdout (`-o json`: one object per step and per write).

use clap::Args;

use super::{GlobalArgs, PlanFileArg};
use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::events::{Collect, Event, Reporter};
use crate::engine::{Engine, Options};
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Show the steps `apply` would make, each with its exact writes (on stdout).
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Exit 0 when nothing differs, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub exit_code: bool,
}

/// Runs `plan diff`.
pub async fn cmd_diff(g: &GlobalArgs, ui: &Ui, args: &DiffArgs) -> Result<Exit, CliError> {
    // With `--exit-code`, 2 means "changes": a plan that cannot be found or read is 1.
    let as_error = |e: CliError| {
        if args.exit_code {
            CliError {
                exit: Exit::Error,
                ..e
            }
        } else {
            e
        }
    };
    let file = args.plan.resolve(ui).map_err(as_error)?;
    let plan = super::load(g, &file).map_err(as_error)?;
    let change = super::ChangeArgs {
        yes: true,
        dry_run: true,
        force_unlock: false,
        parallelism: 1,
    };
    let opts = Options {
        dry_run: true,
        ..super::options(g, &change)
    };
    let provider = super::provider(&plan, &opts.deadline)?;
    let collect = Collect::default();
    let tee = Tee(ui, &collect);
    Box::pin(super::apply::warn_route_clashes(&provider, ui)).await;
    let engine = Engine::new(&provider, &plan, &opts, &tee);
    let result = match &plan.strategy.blue_green {
        Some(bg) => engine.deploy(&bg.active_environment, "apply").await,
        None => engine.canary(Start::Apply, CanaryOptions::default()).await,
    };
    result.map_err(|e| {
        let err = CliError::engine(&e, &file);
        if args.exit_code {
            CliError {
                exit: Exit::Error,
                ..err
            }
        } else {
            err
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
