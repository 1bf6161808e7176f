//! `bgctl switch --to ENV -f FILE`: probe, switch, verify.

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

/// Make an environment live: ensure it, probe it, move all traffic to it, verify.
#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// The environment to make live.
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Runs `switch`.
pub async fn cmd_switch(g: &GlobalArgs, ui: &Ui, args: &SwitchArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let plan = super::load(g, &file)?;
    if !plan.environments.contains_key(&args.to) {
        let known: Vec<String> = plan.environments.keys().map(|k| format!("`{k}`")).collect();
        return Err(CliError::usage(
            format!(
                "environment `{}` is not defined in `{}`",
                args.to,
                file.display()
            ),
            format!("choose one of {}", known.join(", ")),
        ));
    }
    let opts = super::options(g, &args.change);
    let provider = super::provider(&plan, &opts.deadline)?;
    // `switch` ensures the plan's routes as `apply` does: the same warning before any write.
    Box::pin(super::apply::warn_route_clashes(&provider, ui)).await;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    super::finish(engine.deploy(&args.to, "switch").await, &file)
}
