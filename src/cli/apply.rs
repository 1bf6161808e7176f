//! `bgctl plan apply FILE`: ensure the environments and make the plan's side live.

use std::path::PathBuf;

use clap::Args;

use super::{ChangeArgs, GlobalArgs};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Make the live system match the plan: ensure service, routes, upstreams and targets, probe the
/// side to go live, switch, verify. A second apply of the same plan writes nothing.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Runs `plan apply`.
pub async fn cmd_apply(g: &GlobalArgs, ui: &Ui, args: &ApplyArgs) -> Result<Exit, CliError> {
    let plan = super::load(g, &args.file)?;
    let opts = super::options(g, &args.change);
    let provider = super::provider(&plan, opts.deadline, ui)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    let Some(bg) = &plan.strategy.blue_green else {
        return Err(CliError::usage(
            "canary plans are not supported by this build",
            "use `strategy.blueGreen`",
        ));
    };
    super::finish(engine.deploy(&bg.active_environment, "apply").await)
}
