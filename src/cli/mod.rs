//! The command line: clap definitions, global settings resolved into plain options, and one
//! `match` that routes to a `cmd_<name>` per command file. The engine never sees clap types.

mod abort;
mod apply;
mod completions;
mod demo;
mod diff;
pub mod fleet;
mod history;
mod init;
mod planfile;
mod promote;
mod release;
pub mod remedy;
mod rollback;
mod status;
mod switch;
mod validate;

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::engine::{self, Options};
use crate::error::CliError;
use crate::exit::{Exit, EXIT_CODES_HELP};
use crate::plan::{self, Limits, Plan};
use crate::providers::select::{self, SetupError};
use crate::providers::AnyProvider;
use crate::ui::{Format, Ui, UiOptions};

pub use apply::ApplyArgs;
pub use demo::DemoArgs;
pub use planfile::PlanFileArg;

/// Blue-green and canary releases from a YAML plan, with no controller to install.
#[derive(Debug, Parser)]
#[command(name = "bgctl", version, about, after_help = EXIT_CODES_HELP, propagate_version = true)]
pub struct Cli {
    /// Global settings.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Whether the command only reads local files and prints (`plan validate`, `schema`,
    /// `completions`, `man`, `fleet validate|render`): it runs on a single-threaded runtime,
    /// which starts and stops without spawning worker threads (start-up time is what a CI
    /// step and a shell prompt pay for these; see `docs/benchmarks.md` table 4).
    pub fn local_only(&self) -> bool {
        matches!(
            &self.command,
            Command::Plan(PlanCommand::Validate(_))
                | Command::Completions(_)
                | Command::Schema(_)
                | Command::Man(_)
                | Command::Fleet(fleet::FleetCommand::Validate(_) | fleet::FleetCommand::Render(_))
        )
    }
}

/// Settings every command accepts.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// More detail (-v shows every Admin API call; -vv and -vvv add debug logs).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Output format; `json` writes newline-delimited events to stdout.
    #[arg(short, long, global = true, value_enum, default_value = "text")]
    pub output: Format,
    /// Never show progress spinners.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// When to use colour (`NO_COLOR` is honoured).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Deadline for the whole run (e.g. `10m`, `90s`).
    #[arg(long, global = true, default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Largest plan file accepted, in bytes.
    #[arg(long, global = true, default_value_t = 1024 * 1024)]
    pub max_plan_bytes: usize,
    /// Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. `10m`, `90s`)"))
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate, diff and apply plans.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Make an environment live: probe it, switch traffic, verify.
    Switch(switch::SwitchArgs),
    /// Send traffic back to the side that was live before the last switch.
    Rollback(rollback::RollbackArgs),
    /// Release to the side that is not live, with the live side as stable (no plan edit).
    Release(release::ReleaseArgs),
    /// Continue a canary from its manual gate.
    Promote(promote::PromoteArgs),
    /// Abort a canary: all traffic back to stable.
    Abort(abort::AbortArgs),
    /// Show the live side, targets, health, lock and last change.
    Status(status::StatusArgs),
    /// Show the last runs that changed the rollout, newest first.
    History(history::HistoryArgs),
    /// Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file).
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Run a blue-green release against the built-in Kong simulator.
    Demo(demo::DemoArgs),
    /// Write a plan from what is live (Kong, Kubernetes, HAProxy).
    Init(Box<init::InitArgs>),
    /// Print shell completions.
    Completions(completions::CompletionsArgs),
    /// Print the plan's JSON Schema (`--events`: that of the `-o json` events).
    Schema(completions::SchemaArgs),
    /// Write man pages (`bgctl.1` and one per command) into a directory.
    Man(completions::ManArgs),
}

/// `bgctl plan …`.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Check plans offline: every problem at once, no network calls.
    Validate(validate::ValidateArgs),
    /// Show what `apply` would change in the live system.
    Diff(diff::DiffArgs),
    /// Make the live system match the plan.
    Apply(apply::ApplyArgs),
}

/// Parses the process's command line. A usage error exits 2 as clap reports it; with
/// `-o json` it is also written as `error` and `result` events on stdout.
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let wants_json = {
                let args: Vec<String> = std::env::args().collect();
                args.windows(2)
                    .any(|w| matches!(w[0].as_str(), "-o" | "--output") && w[1] == "json")
                    || args.iter().any(|a| a == "--output=json" || a == "-ojson")
            };
            if e.use_stderr() && wants_json {
                let ui = Ui::new(UiOptions {
                    format: Format::Json,
                    verbosity: 0,
                    progress: false,
                    color: false,
                });
                // clap's first paragraph, e.g. "the following required arguments were not
                // provided: <FILE>".
                let text = e.to_string();
                let headline = text
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ");
                let headline = headline.trim_start_matches("error: ").to_string();
                let err = CliError::usage(headline, "run `bgctl --help` for the usage");
                ui.finish(&Err(err), true);
            }
            e.exit()
        }
    }
}

/// Runs a parsed command line and returns the exit code. Safe to call more than once.
pub async fn run(cli: Cli) -> Exit {
    let ui = Ui::new(ui_options(&cli.global));
    // `status` and `schema` print one document; every other command is a stream of events.
    let streams = !matches!(
        cli.command,
        Command::Status(_)
            | Command::History(_)
            | Command::Schema(_)
            | Command::Completions(_)
            | Command::Man(_)
            | Command::Init(_)
    ) && !matches!(&cli.command, Command::Fleet(f) if fleet::is_document(f));
    let result = match cli.command {
        Command::Plan(PlanCommand::Validate(a)) => validate::cmd_validate(&cli.global, &ui, &a),
        Command::Plan(PlanCommand::Diff(a)) => Box::pin(diff::cmd_diff(&cli.global, &ui, &a)).await,
        Command::Plan(PlanCommand::Apply(a)) => {
            Box::pin(apply::cmd_apply(&cli.global, &ui, &a)).await
        }
        Command::Switch(a) => Box::pin(switch::cmd_switch(&cli.global, &ui, &a)).await,
        Command::Rollback(a) => rollback::cmd_rollback(&cli.global, &ui, &a).await,
        Command::Release(a) => Box::pin(release::cmd_release(&cli.global, &ui, &a)).await,
        Command::Promote(a) => promote::cmd_promote(&cli.global, &ui, &a).await,
        Command::Abort(a) => abort::cmd_abort(&cli.global, &ui, &a).await,
        Command::Status(a) => status::cmd_status(&cli.global, &ui, &a).await,
        Command::History(a) => history::cmd_history(&cli.global, &ui, &a).await,
        Command::Fleet(c) => Box::pin(fleet::cmd_fleet(&cli.global, &ui, &c)).await,
        Command::Demo(a) => Box::pin(demo::cmd_demo(&cli.global, &ui, &a)).await,
        Command::Init(a) => Box::pin(init::cmd_init(&cli.global, &ui, &a)).await,
        Command::Completions(a) => Ok(completions::cmd_completions(&a)),
        Command::Schema(a) => Ok(completions::cmd_schema(&a)),
        Command::Man(a) => completions::cmd_man(&a),
    };
    ui.finish(&result, streams);
    drop(ui);
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::ui::out::stderr(&e.render());
            e.exit
        }
    }
}

/// Whether stderr (messages and logs) uses colour: `--color`, `NO_COLOR` and the terminal check.
pub fn color_enabled(g: &GlobalArgs) -> bool {
    match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn ui_options(g: &GlobalArgs) -> UiOptions {
    let stderr_tty = std::io::stderr().is_terminal();
    let color = color_enabled(g);
    let verbosity = if g.quiet {
        -1
    } else {
        i8::try_from(g.verbose).unwrap_or(3)
    };
    UiOptions {
        format: g.output,
        verbosity,
        progress: stderr_tty && !g.no_progress,
        color,
    }
}

/// Flags shared by the commands that may move traffic.
#[derive(Debug, Args, Clone)]
pub struct ChangeArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Show what would change and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Break a lock held by another run (use only when that run is gone).
    #[arg(long)]
    pub force_unlock: bool,
    /// Independent entity writes in flight at once (an upstream's targets, while the
    /// environments are set up and at each Kong canary step); 1 writes one at a time.
    #[arg(long, value_name = "N", default_value_t = engine::DEFAULT_PARALLELISM as u16,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
}

pub(crate) fn limits(g: &GlobalArgs) -> Limits {
    Limits {
        max_bytes: g.max_plan_bytes,
        ..Limits::default()
    }
}

pub(crate) fn load(g: &GlobalArgs, file: &Path) -> Result<Plan, CliError> {
    let mut plan = plan::load_and_validate(file, &limits(g))?.plan;
    if let Some(k) = plan.provider.kubernetes.as_mut() {
        if g.context.is_some() {
            k.context.clone_from(&g.context);
        }
    }
    plan::paths::resolve(&mut plan, file.parent().unwrap_or(Path::new(".")));
    Ok(plan)
}

pub(crate) fn options(g: &GlobalArgs, change: &ChangeArgs) -> Options {
    Options {
        yes: change.yes,
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        dry_run: change.dry_run,
        force_unlock: change.force_unlock,
        deadline: crate::deadline::Deadline::after(g.timeout),
        who: engine::whoami(),
        actor: engine::history::Actor::detect(),
        command: String::new(),
        vars: Vec::new(),
        parallelism: usize::from(change.parallelism),
    }
}

/// The provider the plan names ([`crate::providers::select`] chooses and builds it).
pub(crate) fn provider(
    plan: &Plan,
    deadline: &crate::deadline::Deadline,
) -> Result<AnyProvider, CliError> {
    for warning in select::warnings(plan) {
        // On every run, whatever `-q` or `-o json` say: a security downgrade is never silent.
        crate::ui::out::stderr(&format!("warning: {warning}\n"));
    }
    select::build(plan, deadline).map_err(|e| {
        let headline = e.to_string();
        match e {
            SetupError::Plan { headline, hint } => CliError::usage(headline, hint),
            SetupError::KongClient(source) => CliError::from_std(headline, &source),
        }
    })
}

/// Exit code for an engine result; commands in hints name the real plan file.
pub(crate) fn finish(
    result: Result<engine::Outcome, engine::EngineError>,
    file: &Path,
) -> Result<Exit, CliError> {
    result
        .map(|_| Exit::Ok)
        .map_err(|e| CliError::engine(&e, file))
}
