//! Black-box tests of the real `bgctl` binary: one test binary, one module per area.

mod analysis;
mod canary;
mod ci_files;
mod cli;
mod conformance;
mod daily;
mod diff;
mod fleet;
mod gateways;
mod harness;
mod hostile;
mod hostile_input;
mod init;
mod kong;
mod kong_dbless;
mod kong_hybrid;
mod kong_nodes;
mod kong_scale;
mod kube_routes;
mod kubernetes;
mod notify;
mod plans;
mod prometheus;
mod release;
#[path = "../support/seed_plan.rs"]
mod seed_plan;
mod traefik_routes;
mod upgrade;
mod watching;
