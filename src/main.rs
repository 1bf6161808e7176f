//! The `bgctl` binary: parse, set up tracing, run.

fn main() -> std::process::ExitCode {
    let cli = bgctl::cli::parse();
    let level = match cli.global.verbose {
        0 | 1 => "warn",
        2 => "info,bgctl=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BGCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Logs follow `--color` like every other message, and pass through the redaction and
        // control-character filter (`bgctl::redact::LogWriter`).
        .with_ansi(bgctl::cli::color_enabled(&cli.global))
        .with_writer(bgctl::redact::LogWriter)
        .with_target(false)
        .without_time()
        .init();
    // Commands that only read local files start no worker threads ([`bgctl::cli::Cli::local_only`]).
    let mut runtime = if cli.local_only() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    match runtime.enable_all().build() {
        Ok(runtime) => runtime.block_on(bgctl::run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
