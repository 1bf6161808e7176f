//! `bgctl plan apply [FILE | -f FILE]`: ensure the environments and make the plan's side live.

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::events::{Event, Reporter};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::providers::AnyProvider;
use crate::ui::Ui;

/// Make the live system match the plan: ensure service, routes, upstreams and targets, probe the
/// side to go live, switch, verify. A second apply of the same plan writes nothing. For a
/// canary plan: run the steps, or resume a paused rollout from its recorded step.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
    /// At a canary's manual gate, wait for `bgctl promote` from another runner instead of exiting 6.
    #[arg(long)]
    pub wait: bool,
}

/// Runs `plan apply`.
pub async fn cmd_apply(g: &GlobalArgs, ui: &Ui, args: &ApplyArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let plan = super::load(g, &file)?;
    let opts = super::options(g, &args.change);
    let provider = super::provider(&plan, &opts.deadline)?;
    Box::pin(warn_route_clashes(&provider, ui)).await;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    match &plan.strategy.blue_green {
        Some(bg) => super::finish(engine.deploy(&bg.active_environment, "apply").await, &file),
        None => super::finish(
            engine
                .canary(Start::Apply, CanaryOptions { wait: args.wait })
                .await,
            &file,
        ),
    }
}

/// Warns, before any write, about each route the plan would create beside an unowned live
/// route with the same hosts/paths (seed 000's unnamed route adopted naively; see
/// `providers::kong::adopt`): a `warning` event, so text and `-o json` both carry it. A read
/// that fails is left to the run itself, which reads the same objects and reports it.
pub(crate) async fn warn_route_clashes(provider: &AnyProvider, reporter: &dyn Reporter) {
    let AnyProvider::Kong(kong) = provider else {
        return;
    };
    match Box::pin(kong.route_clashes()).await {
        Ok(warnings) => {
            for message in warnings {
                reporter.event(&Event::Warning { message });
            }
        }
        Err(e) => tracing::debug!("duplicate-route check skipped: {e}"),
    }
}
