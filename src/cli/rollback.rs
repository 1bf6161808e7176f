//! `bgctl rollback -f FILE`: back to the side recorded as previous, verified.

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Send all traffic back to the side that was live before the last switch (recorded in the
/// target system, so it works from any machine). No probes are needed to start it.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Runs `rollback`.
pub async fn cmd_rollback(g: &GlobalArgs, ui: &Ui, args: &RollbackArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let plan = super::load(g, &file)?;
    let opts = super::options(g, &args.change);
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    super::finish(engine.rollback().await, &file)
}
