//! `bgctl status -f FILE`: what is live, target health, the lock and the last change.
//!
//! `--watch` reads it again every `--interval` until Ctrl-C or `--timeout`: on a terminal the
//! screen is redrawn; otherwise (a CI log, a pipe) a new document is printed only when
//! something changed, stamped with the time, so a log shows each transition once.

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
    /// Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or
    /// `--timeout`).
    #[arg(short, long)]
    pub watch: bool,
    /// With `--watch`: how often to read the live state again.
    #[arg(long, default_value = "2s", value_parser = super::parse_duration, requires = "watch")]
    pub interval: std::time::Duration,
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
    if !args.watch {
        let view = read_view(&plan, &provider, &engine, &opts, args, &file).await?;
        print(ui, &view, None);
        return Ok(Exit::Ok);
    }
    watch(ui, args, &opts, async || {
        read_view(&plan, &provider, &engine, &opts, args, &file).await
    })
    .await
}

/// Reads and prints until Ctrl-C or the command's deadline.
async fn watch<F>(
    ui: &Ui,
    args: &StatusArgs,
    opts: &crate::engine::Options,
    mut read: F,
) -> Result<Exit, CliError>
where
    F: AsyncFnMut() -> Result<StatusView, CliError>,
{
    use std::io::IsTerminal as _;
    let redraw = std::io::stdout().is_terminal() && ui.options().format == Format::Text;
    let mut last = String::new();
    loop {
        let view = match read().await {
            Ok(view) => view,
            // A read cut short by the end of `--timeout` ends the watch, not in an error.
            Err(_) if tokio::time::Instant::now() + args.interval >= opts.deadline.get() => break,
            Err(e) => return Err(e),
        };
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let text = if ui.options().format == Format::Json {
            crate::redact::json_line(&view.to_json()).unwrap_or_default()
        } else {
            view.render()
        };
        if redraw {
            // Clear the screen and go home, then the document and when it was read.
            crate::ui::out::stdout("\x1b[2J\x1b[H");
            print(
                ui,
                &view,
                Some(&format!(
                    "every {}, Ctrl-C to stop; read {now}",
                    humantime::format_duration(args.interval)
                )),
            );
        } else if text != last {
            print(ui, &view, Some(&format!("--- {now}")));
        }
        last = text;
        // Stop before the deadline rather than at it: a read that runs into the deadline
        // would end the watch with a timeout error instead of a clean exit.
        let next = tokio::time::Instant::now() + args.interval;
        if next >= opts.deadline.get() {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(Exit::Ok)
}

/// One document: text to stdout (with a header line when watching), or one JSON line.
fn print(ui: &Ui, view: &StatusView, header: Option<&str>) {
    if ui.options().format == Format::Json {
        let line = crate::redact::json_line(&view.to_json()).unwrap_or_default();
        crate::ui::out::stdout(&format!("{line}\n"));
    } else {
        let head = header.map(|h| format!("{h}\n")).unwrap_or_default();
        crate::ui::out::stdout(&crate::redact::terminal(&format!(
            "{head}{}",
            view.render()
        )));
    }
}

/// Reads the live state (and probes, unless `--no-probe`) into the status document.
async fn read_view(
    plan: &crate::plan::Plan,
    provider: &crate::providers::AnyProvider,
    engine: &Engine<'_, crate::providers::AnyProvider>,
    opts: &crate::engine::Options,
    args: &StatusArgs,
    file: &std::path::Path,
) -> Result<StatusView, CliError> {
    let snapshot = provider
        .snapshot()
        .await
        .map_err(|e| CliError::engine(&crate::engine::EngineError::from(e), file))?;
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
    let kong = match provider {
        crate::providers::AnyProvider::Kong(k) => Some(k.node_report(&snapshot)),
        _ => None,
    };
    // Kong hybrid mode: the control plane's data planes.
    let planes = match provider {
        crate::providers::AnyProvider::Kong(kong) => {
            crate::providers::kong::hybrid::status_lines(kong).await
        }
        _ => None,
    };
    let (data_plane_lines, data_planes) = planes.map_or((Vec::new(), None), |(l, j)| (l, Some(j)));
    Ok(StatusView {
        kong,
        pending,
        rollout: plan.metadata.name.clone(),
        provider: provider.describe(),
        columns: provider.status_columns(),
        snapshot,
        health,
        data_planes,
        data_plane_lines,
    })
}
