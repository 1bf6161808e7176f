//! `bgctl abort -f FILE`: end a canary and send all traffic back to stable.

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Abort a canary: all traffic back to stable in one write, recorded as aborted (exit 0 when
/// the abort itself succeeded).
#[derive(Debug, Args)]
pub struct AbortArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Runs `abort`.
pub async fn cmd_abort(g: &GlobalArgs, ui: &Ui, args: &AbortArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let opts = super::options(g, &args.change);
    // A canary `bgctl release` started continues with the roles and values it ran with.
    let plan = super::release::plan_in_progress(g, &file, &opts.deadline).await?;
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    super::finish(engine.abort().await, &file)
}
