//! `bgctl init haproxy`: the servers of one backend through the runtime API (`show servers
//! state`). Servers that serve now (ready, up, weight > 0) are the live side, with their
//! weights; the others (weight 0, maintenance, drain) are the other side, which is given its
//! default weight 100 for when it goes live. With no other server, the other side is
//! `--other-servers NAME=ADDR,…` or a placeholder server whose address is `${GREEN_ADDRESS}`.
//! bgctl's own lock server (`bgctl-lock.*`) is left out. HAProxy has no tags: nothing to adopt.

use std::time::Duration;

use clap::Args;

use super::yaml::scalar;
use super::{placeholder_var, Asker, CommonInit, Doc};
use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::plan::names::Endpoint;
use crate::providers::haproxy::{parse_servers_state, LiveServer, RuntimeApi};
use crate::ui::Ui;

/// Read an HAProxy backend and write its plan.
#[derive(Debug, Args)]
pub struct HaproxyInit {
    /// The runtime API: `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`.
    #[arg(long, value_name = "ADDR")]
    pub runtime_api: String,
    /// The backend whose servers are the sides.
    #[arg(long, value_name = "NAME")]
    pub backend: String,
    /// The other side's servers when the backend has none yet: `NAME=IP:PORT`, comma-separated.
    #[arg(long, value_name = "SERVERS", value_delimiter = ',')]
    pub other_servers: Vec<String>,
    /// The frontend URL, written as `proxyUrl` (switches are then verified through it).
    #[arg(long, value_name = "URL")]
    pub proxy_url: Option<String>,
    /// Flags every backend takes.
    #[command(flatten)]
    pub common: CommonInit,
}

/// Reads HAProxy and builds the plan document.
pub async fn init(
    _g: &GlobalArgs,
    _ui: &Ui,
    ask: &Asker,
    a: &HaproxyInit,
) -> Result<Doc, CliError> {
    let endpoint = Endpoint::parse(&a.runtime_api).map_err(|e| {
        CliError::usage(
            format!("`--runtime-api`: {e}"),
            "e.g. `tcp://127.0.0.1:9999`",
        )
    })?;
    let api = RuntimeApi::new(endpoint, Duration::from_secs(5));
    let command = format!("show servers state {}", a.backend);
    let text = api
        .raw(&command)
        .await
        .map_err(|e| CliError::from_std("cannot read HAProxy's servers", &e))?;
    let servers: Vec<LiveServer> = parse_servers_state(&text)
        .map_err(|reply| {
            CliError::usage(
                format!("HAProxy answered `{command}` with: {reply}"),
                "check the backend's name (`show backend` lists them)",
            )
        })?
        .into_iter()
        .filter(|s| !s.name.starts_with("bgctl-"))
        .collect();
    let (live, idle): (Vec<&LiveServer>, Vec<&LiveServer>) =
        servers.iter().partition(|s| s.serving() > 0);
    if live.is_empty() {
        return Err(CliError::usage(
            format!("no server of backend `{}` serves traffic now", a.backend),
            "init starts from the side that is live: give one side weight first",
        ));
    }
    let rollout = a.common.name.clone().unwrap_or_else(|| a.backend.clone());
    let live_side = a.common.live_side.clone();
    let other = a.common.other_side(ask)?;

    let mut doc = Doc::default();
    doc.comment(
        0,
        format!(
            "Written by `bgctl init haproxy` from the runtime API at {}: backend `{}`, whose\n\
         serving servers are side `{live_side}` (live). `bgctl plan diff --exit-code` reports no\n\
         change for what was read; see each side's comment for what was not.",
            a.runtime_api, a.backend
        ),
    );
    doc.line(0, "apiVersion: bgctl.dev/v1");
    doc.line(0, "kind: Rollout");
    doc.line(0, "metadata:");
    doc.line(1, format!("name: {}", scalar(&rollout)));
    doc.line(0, "provider:");
    doc.line(1, "haproxy:");
    doc.line(2, format!("runtimeApi: {}", scalar(&a.runtime_api)));
    doc.line(2, format!("backend: {}", scalar(&a.backend)));
    match &a.proxy_url {
        Some(p) => doc.line(2, format!("proxyUrl: {}", scalar(p))),
        None => doc.comment(2, "proxyUrl: http://127.0.0.1:8080   # set it to verify every switch through the frontend"),
    }
    doc.line(0, "environments:");
    doc.line(1, format!("{}:", scalar(&live_side)));
    doc.comment(
        2,
        "Live now: these servers carry weight (read from HAProxy).",
    );
    doc.line(2, "servers:");
    for s in &live {
        doc.line(
            3,
            format!(
                "- {{name: {}, address: {}, weight: {}}}",
                scalar(&s.name),
                scalar(&s.addr),
                s.weight
            ),
        );
    }
    doc.line(1, format!("{}:", scalar(&other)));
    if !idle.is_empty() {
        doc.comment(2, "Not live: weight 0, maintenance or drain now (read from HAProxy). The weight\nis the one each server gets when this side goes live.");
        doc.line(2, "servers:");
        for s in &idle {
            doc.line(
                3,
                format!(
                    "- {{name: {}, address: {}, weight: 100}}",
                    scalar(&s.name),
                    scalar(&s.addr)
                ),
            );
        }
    } else if !a.other_servers.is_empty() {
        doc.comment(
            2,
            "Not in HAProxy yet: the first `plan apply` or `switch` adds these servers.",
        );
        doc.line(2, "servers:");
        for s in &a.other_servers {
            let (name, addr) = s.split_once('=').ok_or_else(|| {
                CliError::usage(
                    format!("`--other-servers {s}` is not NAME=IP:PORT"),
                    "e.g. `--other-servers green1=10.0.0.7:8080`",
                )
            })?;
            doc.line(
                3,
                format!(
                    "- {{name: {}, address: {}, weight: 100}}",
                    scalar(name.trim()),
                    scalar(addr.trim())
                ),
            );
        }
    } else {
        let var = placeholder_var(&other, "ADDRESS");
        doc.comment(
            2,
            format!(
                "PLACEHOLDER: not live and not in HAProxy. Set `{var}` (ip:port of the new\n\
             version) before using this plan, or write it here; add a line per server. The\n\
             first `plan apply` or `switch` adds the server."
            ),
        );
        doc.line(2, "servers:");
        let p = doc.placeholder(
            &var,
            &format!("the address of `{other}`'s server, ip:port"),
            "127.0.0.1:8080",
        );
        doc.line(
            3,
            format!(
                "- {{name: {}, address: {p}, weight: 100}}",
                scalar(&format!("{other}1"))
            ),
        );
    }
    doc.comment(0, "Probe each server before it gets traffic (without a health check nothing is probed):\nhealthCheck:\n  http: {path: /health, expectStatus: [200]}\n  timeout: 1s");
    doc.line(0, "strategy:");
    doc.line(1, "blueGreen:");
    doc.comment(
        2,
        "The side that serves now: applying this plan moves nothing.",
    );
    doc.line(2, format!("activeEnvironment: {}", scalar(&live_side)));
    Ok(doc)
}
