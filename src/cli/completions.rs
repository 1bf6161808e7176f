//! `bgctl completions SHELL`, `bgctl man DIR` and `bgctl schema [--events]`: documents generated
//! from the clap definitions and the plan types, so they cannot drift from the binary. The
//! checked-in copies (`completions/`, `man/`) are compared with fresh output by the tests.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::error::CliError;
use crate::exit::Exit;
use crate::plan::Plan;

/// Print shell completions to stdout.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `completions`.
pub fn cmd_completions(args: &CompletionsArgs) -> Exit {
    crate::ui::out::stdout(&completions(args.shell));
    Exit::Ok
}

/// The completion script for a shell (also used by the test that keeps `completions/` current).
pub fn completions(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "bgctl", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Write man pages into a directory.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory (created if missing): `bgctl.1`, and `bgctl-<command>.1` for each command.
    pub dir: std::path::PathBuf,
}

/// Runs `man`.
pub fn cmd_man(args: &ManArgs) -> Result<Exit, CliError> {
    let cannot = |e: std::io::Error| {
        CliError::from_std(
            format!("cannot write man pages to `{}`", args.dir.display()),
            &e,
        )
    };
    std::fs::create_dir_all(&args.dir).map_err(cannot)?;
    clap_mangen::generate_to(super::Cli::command(), &args.dir).map_err(cannot)?;
    crate::ui::out::stdout(&format!("man pages written to {}\n", args.dir.display()));
    Ok(Exit::Ok)
}

/// Print the plan's JSON Schema.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of one `-o json` event line instead.
    #[arg(long)]
    pub events: bool,
}

/// Runs `schema`.
pub fn cmd_schema(args: &SchemaArgs) -> Exit {
    let schema = if args.events {
        crate::ui::json::schema()
    } else {
        serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default()
    };
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    crate::ui::out::stdout(&format!("{text}\n"));
    Exit::Ok
}
