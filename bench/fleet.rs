//! Fleet benchmark (issue 18; `cargo bench --bench fleet`): 50 members, each one kong-sim and
//! one blue-green switch (health probe, switch, health-only verification through the proxy).
//! `bgctl fleet apply` with the 50 in one wave (`maxParallel` 10 and 50) against the same
//! switch run the way a user scripts it today: `bgctl plan apply` once per member, one after
//! another. Prints wall times, the ratio and the fleet process's peak RSS. Not a test: it
//! asserts only that every run succeeded.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

const BGCTL: &str = env!("CARGO_BIN_EXE_bgctl");
const MEMBERS: usize = 50;

/// The fleet test's member plan (`ACTIVE`: the side to switch to).
const PLAN: &str = include_str!("../tests/plans/fleet-member.yaml");

struct Site {
    sim: KongSim,
}

fn fleet_file(
    dir: &Path,
    sites: &[Site],
    blue: &Backend,
    green: &Backend,
    active: &str,
    parallel: usize,
) -> String {
    std::fs::write(
        dir.join(format!("{active}.yaml")),
        PLAN.replace("ACTIVE", active),
    )
    .unwrap();
    let mut text = format!(
        "apiVersion: bgctl.dev/v1\nkind: Fleet\nmetadata: {{name: bench}}\nplan: {active}.yaml\nmembers:\n"
    );
    let mut names = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let name = format!("m{i:02}");
        text += &format!(
            "  - {{name: {name}, vars: {{KONG_ADMIN_URL: '{}', KONG_PROXY_URL: '{}', BLUE: '{}', GREEN: '{}'}}}}\n",
            s.sim.admin_url(),
            s.sim.proxy_url(),
            blue.addr(),
            green.addr()
        );
        names.push(name);
    }
    text += &format!(
        "waves:\n  - {{members: [{}], maxParallel: {parallel}}}\n",
        names.join(", ")
    );
    let file = format!("fleet-{active}-{parallel}.yaml");
    std::fs::write(dir.join(&file), text).unwrap();
    file
}

/// Runs `bgctl fleet apply FILE --yes` under GNU time; wall ms and peak RSS in KiB.
fn fleet_apply(dir: &Path, file: &str) -> (f64, u64) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", BGCTL, "fleet", "apply", file, "--yes"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("bgctl fleet apply");
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "fleet apply failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kb = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    (wall, kb)
}

/// `bgctl plan apply green.yaml --yes` once per member, one after another (the loop a user
/// writes today); wall ms.
fn one_after_another(dir: &Path, sites: &[Site], blue: &Backend, green: &Backend) -> f64 {
    let t = Instant::now();
    for s in sites {
        let out = Command::new(BGCTL)
            .args(["plan", "apply", "green.yaml", "--yes"])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("KONG_ADMIN_URL", s.sim.admin_url())
            .env("KONG_PROXY_URL", s.sim.proxy_url())
            .env("BLUE", blue.addr().to_string())
            .env("GREEN", green.addr().to_string())
            .output()
            .expect("bgctl plan apply");
        assert!(
            out.status.success(),
            "plan apply failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    t.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; nothing to list here
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sites = Vec::new();
    for _ in 0..MEMBERS {
        sites.push(Site {
            sim: KongSim::start(SimConfig::default())
                .await
                .expect("kong-sim"),
        });
    }
    let blue = Backend::start(BackendConfig::new("blue"))
        .await
        .expect("backend");
    let green = Backend::start(BackendConfig::new("green"))
        .await
        .expect("backend");
    blue.set_named(false);
    green.set_named(false);
    let d = dir.path();
    let to_blue = fleet_file(d, &sites, &blue, &green, "blue", 50);
    let mut rows = Vec::new();
    let (seed, _) = tokio::task::block_in_place(|| fleet_apply(d, &to_blue));
    for parallel in [10, 50] {
        let to_green = fleet_file(d, &sites, &blue, &green, "green", parallel);
        let (wall, kb) = tokio::task::block_in_place(|| fleet_apply(d, &to_green));
        rows.push((
            format!("`bgctl fleet apply` (maxParallel {parallel})"),
            wall,
            Some(kb),
        ));
        tokio::task::block_in_place(|| fleet_apply(d, &to_blue));
    }
    let seq = tokio::task::block_in_place(|| one_after_another(d, &sites, &blue, &green));
    println!("## Fleet: {MEMBERS} members × 1 blue-green switch (kong-sim each)\n");
    println!(
        "(setup: the first apply of all {MEMBERS}, creating every entity, took {seed:.0} ms)\n"
    );
    println!("| run | wall time | vs one after another | peak RSS |\n|---|---|---|---|");
    for (name, wall, kb) in &rows {
        println!(
            "| {name} | {wall:.0} ms | {:.1}× faster | {} MiB |",
            seq / wall,
            kb.map_or(0, |k| k / 1024)
        );
    }
    println!("| `bgctl plan apply` × {MEMBERS}, one after another | {seq:.0} ms | 1.0× | - |");
}
