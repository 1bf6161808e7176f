//! `kong-sim serve` and `kong-sim backend`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kong_sim::{
    Backend, BackendConfig, DataPlaneConfig, HybridConfig, KongSim, NodeConfig, SimConfig,
};

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
        /// Number of Kong nodes. With a database they share one store; DB-less each node
        /// holds its own declarative config.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        nodes: u16,
        /// Admin API listen address of each node, comma-separated (one `…:0` address serves
        /// every node on ephemeral ports).
        #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:0")]
        admin: Vec<SocketAddr>,
        /// Proxy (data plane) listen address of each node, comma-separated (as `--admin`).
        #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:0")]
        proxy: Vec<SocketAddr>,
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
        /// Delay before each node's data plane sees Admin API writes, comma-separated per node
        /// (`500ms,3s`); one value applies to every node.
        #[arg(long, value_delimiter = ',', default_value = "0ms",
              value_parser = humantime::parse_duration)]
        propagation_delay: Vec<Duration>,
        /// `traditional`, or `control_plane` (hybrid mode: `--admin` is the control plane's
        /// Admin API and `--data-planes` lists its data planes' proxies; `--propagation-delay`
        /// is then per data plane).
        #[arg(long, default_value = "traditional", value_parser = ["traditional", "control_plane"])]
        role: String,
        /// Hybrid mode: each data plane's proxy listen address, comma-separated.
        #[arg(long, value_delimiter = ',')]
        data_planes: Vec<SocketAddr>,
        /// Hybrid mode: how often a connected data plane heartbeats (Kong: 30 s).
        #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
        ping_interval: Duration,
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

/// One entry per node from the per-node lists: a list gives every node its own value, or one
/// value for all (an address only when its port is 0, so nodes never share a port).
/// The data planes of `--role control_plane`: one per `--data-planes` address, each with its
/// `--propagation-delay` (one value for all, or one per data plane).
fn hybrid_config(
    nodes: u16,
    db_less: bool,
    proxies: &[SocketAddr],
    delays: &[Duration],
    ping_interval: Duration,
) -> Result<HybridConfig, String> {
    if nodes != 1 || db_less {
        return Err("--role control_plane is one control plane: no --nodes, no --db-less".into());
    }
    if proxies.is_empty() {
        return Err("--role control_plane needs --data-planes P1,…,PN".into());
    }
    if delays.len() != 1 && delays.len() != proxies.len() {
        return Err(format!(
            "--propagation-delay lists {} values for {} data plane(s)",
            delays.len(),
            proxies.len()
        ));
    }
    Ok(HybridConfig {
        data_planes: proxies
            .iter()
            .enumerate()
            .map(|(i, addr)| DataPlaneConfig {
                proxy_addr: *addr,
                propagation_delay: if delays.len() == 1 {
                    delays[0]
                } else {
                    delays[i]
                },
            })
            .collect(),
        ping_interval,
    })
}

fn node_configs(
    nodes: usize,
    admin: &[SocketAddr],
    proxy: &[SocketAddr],
    delays: &[Duration],
) -> Result<Vec<NodeConfig>, String> {
    fn pick<T: Copy>(list: &[T], i: usize, nodes: usize, flag: &str) -> Result<T, String> {
        match list.len() {
            1 => Ok(list[0]),
            n if n == nodes => Ok(list[i]),
            n => Err(format!(
                "--{flag} lists {n} values for {nodes} node(s) (--nodes)"
            )),
        }
    }
    for (flag, list) in [("admin", admin), ("proxy", proxy)] {
        if nodes > 1 && list.len() == 1 && list[0].port() != 0 {
            return Err(format!(
                "--{flag} {} would be shared by {nodes} nodes: list one address per node",
                list[0]
            ));
        }
    }
    (0..nodes)
        .map(|i| {
            Ok(NodeConfig {
                admin_addr: pick(admin, i, nodes, "admin")?,
                proxy_addr: pick(proxy, i, nodes, "proxy")?,
                propagation_delay: pick(delays, i, nodes, "propagation-delay")?,
            })
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            nodes,
            admin,
            proxy,
            control,
            version,
            db_less,
            admin_token,
            propagation_delay,
            role,
            data_planes,
            ping_interval,
        } => {
            let hybrid = if role == "control_plane" {
                match hybrid_config(
                    nodes,
                    db_less,
                    &data_planes,
                    &propagation_delay,
                    ping_interval,
                ) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else if data_planes.is_empty() {
                None
            } else {
                eprintln!("error: --data-planes needs --role control_plane");
                return ExitCode::from(2);
            };
            let delays = if hybrid.is_some() {
                vec![Duration::ZERO]
            } else {
                propagation_delay
            };
            let per_node = match node_configs(usize::from(nodes), &admin, &proxy, &delays) {
                Ok(per_node) => per_node,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let (first, rest) = per_node.split_first().expect("at least one node");
            let config = SimConfig {
                version,
                db_less,
                admin_token,
                propagation_delay: first.propagation_delay,
                admin_addr: first.admin_addr,
                proxy_addr: first.proxy_addr,
                control_addr: control,
                extra_nodes: rest.to_vec(),
                hybrid,
            };
            let sim = match KongSim::start(config).await {
                Ok(sim) => sim,
                Err(e) => {
                    eprintln!("error: cannot start kong-sim: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // One `admin` and one `proxy` line per node, node 1 first (hybrid: the control
            // plane's `admin`, then one `proxy` line per data plane).
            let mut lines: Vec<String> = sim
                .admin_urls()
                .iter()
                .map(|url| format!("admin {url}"))
                .collect();
            lines.extend(sim.proxy_urls().iter().map(|url| format!("proxy {url}")));
            lines.push(format!("control {}", sim.control_url()));
            announce(&lines);
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
