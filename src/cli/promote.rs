//! `bgctl promote -f FILE`: pass the manual gate a canary waits at and continue the rollout.

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Continue a canary from its manual gate (from any machine: the pause is recorded in the
/// target system). The promoting run carries on with the remaining steps.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Skip the remaining steps and send all traffic to the canary now.
    #[arg(long)]
    pub full: bool,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Runs `promote`.
pub async fn cmd_promote(g: &GlobalArgs, ui: &Ui, args: &PromoteArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let opts = super::options(g, &args.change);
    // A canary `bgctl release` started continues with the roles and values it ran with.
    let plan = super::release::plan_in_progress(g, &file, &opts.deadline).await?;
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    let start = if args.full {
        Start::PromoteFull
    } else {
        Start::Promote
    };
    super::finish(engine.canary(start, CanaryOptions::default()).await, &file)
}
