//! `kong-sim serve` and `kong-sim backend`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

/// A Kong Gateway simulator (Admin API + data plane) and small backend apps.
#[derive(Parser)]
#[command(name = "kong-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the simulator: Admin API, proxy and control port.
    Serve {
        /// Admin API listen address.
        #[arg(long, default_value = "127.0.0.1:0")]
        admin: SocketAddr,
        /// Proxy (data plane) listen address.
        #[arg(long, default_value = "127.0.0.1:0")]
        proxy: SocketAddr,
        /// Control port (request log, faults) listen address.
        #[arg(long, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// Kong version to emulate.
        #[arg(long, default_value = "3.9.0")]
        version: String,
        /// DB-less mode: entity writes are refused, POST /config loads configuration.
        #[arg(long)]
        db_less: bool,
        /// Require this `Kong-Admin-Token` header on every Admin API request.
        #[arg(long)]
        admin_token: Option<String>,
        /// Delay before the data plane sees Admin API writes, e.g. `500ms`.
        #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration)]
        propagation_delay: Duration,
    },
    /// Run a backend app that names itself in every answer.
    Backend {
        /// Name (`blue`, `green`, …).
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Share of requests answered with 500 (0.0–1.0).
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        /// Latency added to each request, e.g. `20ms`.
        #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration)]
        latency: Duration,
    },
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

fn announce(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            admin,
            proxy,
            control,
            version,
            db_less,
            admin_token,
            propagation_delay,
        } => {
            let config = SimConfig {
                version,
                db_less,
                admin_token,
                propagation_delay,
                admin_addr: admin,
                proxy_addr: proxy,
                control_addr: control,
            };
            let sim = match KongSim::start(config).await {
                Ok(sim) => sim,
                Err(e) => {
                    eprintln!("error: cannot start kong-sim: {e}");
                    return ExitCode::FAILURE;
                }
            };
            announce(&[
                format!("admin {}", sim.admin_url()),
                format!("proxy {}", sim.proxy_url()),
                format!("control {}", sim.control_url()),
            ]);
            wait_for_signal().await;
            sim.shutdown().await;
        }
        Command::Backend {
            name,
            listen,
            error_rate,
            latency,
        } => {
            let mut config = BackendConfig::new(&name);
            config.listen = listen;
            config.error_rate = error_rate;
            config.latency = latency;
            let backend = match Backend::start(config).await {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("error: cannot start backend `{name}`: {e}");
                    return ExitCode::FAILURE;
                }
            };
            announce(&[format!("backend {name} {}", backend.url())]);
            wait_for_signal().await;
            backend.shutdown().await;
        }
    }
    ExitCode::SUCCESS
}
