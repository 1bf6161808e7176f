//! bgctl: blue-green and canary releases from a YAML plan, with no controller to install.
//!
//! `main` parses the command line and calls [`run`]; everything else lives here: the plan
//! ([`plan`]), the engine that runs it ([`engine`]), the providers that move traffic
//! ([`providers`]), health probes ([`probe`]), analysis ([`analysis`]) and the renderers
//! ([`ui`]). Exit codes are in [`exit`], the error renderer in [`error`].

pub mod analysis;
pub mod cli;
pub mod deadline;
pub mod engine;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod http;
pub mod notify;
pub mod plan;
pub mod probe;
pub mod providers;
pub mod redact;
pub mod ui;

pub use cli::Cli;

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> std::process::ExitCode {
    // Boxed: a command's future is large (the engine's state across its awaits).
    std::process::ExitCode::from(Box::pin(cli::run(cli)).await.code())
}
