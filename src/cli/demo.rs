//! `bgctl demo`: a whole blue-green release against the built-in Kong simulator, unattended.
//!
//! It starts `kong-sim` and four local backends in-process (loopback, ephemeral ports), fills
//! `plans/demo.yaml` (embedded in the binary) with their addresses, and runs the same engine the
//! real commands use: apply with blue live, switch to green, roll back, each verified through
//! the simulator's proxy, then prints the status table. No prompts; exit 0 when all went well.

use std::collections::HashMap;
use std::path::Path;

use clap::Args;
use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

use super::GlobalArgs;
use crate::engine::{Engine, Options};
use crate::error::CliError;
use crate::exit::Exit;
use crate::plan;
use crate::providers::Provider;
use crate::ui::status::StatusView;
use crate::ui::Ui;

/// The demo plan, embedded.
pub const DEMO_PLAN: &str = include_str!("../../plans/demo.yaml");

/// Run a blue-green release against the built-in Kong simulator (no prompts, exit 0).
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// Runs `demo`.
pub async fn cmd_demo(g: &GlobalArgs, ui: &Ui, _args: &DemoArgs) -> Result<Exit, CliError> {
    let setup = |e: std::io::Error| CliError::from_std("cannot start the demo's simulator", &e);
    let sim = KongSim::start(SimConfig::default()).await.map_err(setup)?;
    let mut backends = Vec::new();
    for name in ["blue-1", "blue-2", "green-1", "green-2"] {
        backends.push(
            Backend::start(BackendConfig::new(name))
                .await
                .map_err(setup)?,
        );
    }
    ui.say(&format!(
        "demo: Kong simulator admin {} proxy {}; backends {}",
        sim.admin_url(),
        sim.proxy_url(),
        backends
            .iter()
            .map(|b| b.addr().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let mut vars: HashMap<&str, String> = HashMap::new();
    vars.insert("KONG_ADMIN_URL", sim.admin_url());
    vars.insert("KONG_PROXY_URL", sim.proxy_url());
    for (key, b) in ["BLUE_1", "BLUE_2", "GREEN_1", "GREEN_2"]
        .into_iter()
        .zip(&backends)
    {
        vars.insert(key, b.addr().to_string());
    }
    let env = |name: &str| vars.get(name).cloned();
    let plan = plan::parse_with_env(
        Path::new("plans/demo.yaml"),
        DEMO_PLAN,
        &env,
        &super::limits(g),
    )?
    .plan;
    let opts = Options::unattended(g.timeout);
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    let failed = |e: crate::engine::EngineError| CliError::engine(&e, Path::new("plans/demo.yaml"));

    ui.say("\n== 1. plan apply: create service, route, both upstreams; blue goes live");
    engine.deploy("blue", "apply").await.map_err(failed)?;
    ui.say("\n== 2. plan apply again: nothing differs, so nothing is written");
    engine.deploy("blue", "apply").await.map_err(failed)?;
    ui.say(
        "\n== 3. switch --to green: probe green, switch the service host, verify through the proxy",
    );
    engine.deploy("green", "switch").await.map_err(failed)?;
    ui.say("\n== 4. rollback: back to blue in one write, verified");
    engine.rollback().await.map_err(failed)?;

    let snapshot = provider.snapshot().await.map_err(|e| failed(e.into()))?;
    let view = StatusView {
        rollout: plan.metadata.name.clone(),
        provider: provider.describe(),
        kong: None,
        columns: provider.status_columns(),
        snapshot,
        health: Vec::new(),
        pending: None,
        data_planes: None,
        data_plane_lines: Vec::new(),
    };
    ui.say("\n== status");
    crate::ui::out::stdout(&view.render());
    let writes = sim.requests().iter().filter(|r| r.is_write()).count();
    ui.say(&format!("\ndemo finished: {writes} Admin API writes in total. Try `bgctl plan validate plans/kong-blue-green.yaml`."));
    for b in backends {
        b.shutdown().await;
    }
    sim.shutdown().await;
    Ok(Exit::Ok)
}
