//! `bgctl status -f FILE`: what is live, target health, the lock and the last change.

use clap::Args;

use super::{GlobalArgs, PlanFileArg};
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::probe::{self, ProbeSpec};
use crate::providers::Provider;
use crate::ui::status::StatusView;
use crate::ui::{Format, Ui};

/// Show the live side, each environment's targets with weight and probe health, the lock
/// holder and the last recorded change.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// Skip the health probes.
    #[arg(long)]
    pub no_probe: bool,
}

/// Runs `status`.
pub async fn cmd_status(g: &GlobalArgs, ui: &Ui, args: &StatusArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let plan = super::load(g, &file)?;
    let change = super::ChangeArgs {
        yes: true,
        dry_run: true,
        force_unlock: false,
        parallelism: 1,
    };
    let opts = super::options(g, &change);
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    let snapshot = provider
        .snapshot()
        .await
        .map_err(|e| CliError::engine(&crate::engine::EngineError::from(e), &file))?;
    let mut health = Vec::new();
    if let (Some(hc), false) = (&plan.health_check, args.no_probe) {
        let spec = ProbeSpec {
            healthy_threshold: 1,
            unhealthy_threshold: 1,
            ..ProbeSpec::from_plan(hc)
        };
        for (env, state) in &snapshot.envs {
            let targets: Vec<String> = state
                .targets
                .iter()
                .filter(|t| t.1 > 0)
                .map(|t| t.0.clone())
                .collect();
            health.push((
                env.clone(),
                probe::wait_healthy(&engine.http, &spec, &targets, opts.deadline.get(), &|_| {})
                    .await,
            ));
        }
    }
    let pending = provider.pending_retire(&snapshot).map(|p| {
        format!(
            "{} {} `{}` ({})",
            p.change.action, p.change.entity, p.change.name, p.change.detail
        )
    });
    let view = StatusView {
        pending,
        rollout: plan.metadata.name.clone(),
        provider: provider.describe(),
        columns: provider.status_columns(),
        snapshot,
        health,
    };
    if ui.options().format == Format::Json {
        let line = crate::redact::json_line(&view.to_json()).unwrap_or_default();
        crate::ui::out::stdout(&format!("{line}\n"));
    } else {
        crate::ui::out::stdout(&crate::redact::terminal(&view.render()));
    }
    Ok(Exit::Ok)
}
