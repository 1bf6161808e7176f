//! `kube-sim serve`: the simulator as a process, for black-box tests and manual use.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kube_sim::{KubeSim, SimConfig};

/// A fake Kubernetes API server for tests.
#[derive(Parser)]
#[command(name = "kube-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until SIGTERM or SIGINT; prints `kube-sim http://HOST:PORT` on stdout once ready.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write a kubeconfig (context `kube-sim`, namespace `default`) to this file.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// Deployments become ready this long after each spec change (`0s`, `500ms`, `2s`), or
    /// `never`.
    #[arg(long, default_value = "0s", value_parser = parse_ready_after)]
    ready_after: ReadyAfter,
}

#[derive(Clone, Copy)]
struct ReadyAfter(Option<Duration>);

fn parse_ready_after(s: &str) -> Result<ReadyAfter, String> {
    if s == "never" {
        return Ok(ReadyAfter(None));
    }
    humantime::parse_duration(s)
        .map(|d| ReadyAfter(Some(d)))
        .map_err(|e| format!("`{s}` is not a duration like `1s` or `500ms`: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Cli {
        command: Command::Serve(args),
    } = Cli::parse();
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "error: kube-sim only listens on loopback addresses, not `{}`",
            args.listen
        );
        return ExitCode::from(2);
    }
    let sim = match KubeSim::start(SimConfig {
        listen: args.listen,
        ready_after: args.ready_after.0,
    })
    .await
    {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("error: cannot listen on `{}`\nCaused by: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.kubeconfig_out {
        if let Err(e) = sim.write_kubeconfig(path) {
            eprintln!(
                "error: cannot write the kubeconfig `{}`\nCaused by: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "kube-sim {}", sim.url());
    let _ = out.flush();
    wait_for_signal().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
