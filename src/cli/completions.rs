//! `bgctl completions SHELL` and `bgctl schema [--events]`.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

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
