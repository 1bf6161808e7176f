//! Shared helpers: run the real binary with a cleared environment in a temp dir, start the
//! Kong simulator and backends on 127.0.0.1:0, and filter volatile output for snapshots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `bgctl` with a cleared environment (only PATH and the given variables).
pub fn bgctl(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("bgctl").expect("bgctl binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .current_dir(dir);
    cmd
}

/// Exit code, stdout and stderr in one block, volatile parts filtered.
pub fn render(out: &Output) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    filter(&text)
}

/// Replaces ports, times, ids and durations with placeholders.
pub fn filter(text: &str) -> String {
    let rules: [(&str, &str); 6] = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"\bin \d+ ms\b", "in [N] ms"),
        (r"pid \d+", "pid [PID]"),
        (r"run [0-9a-f]{12}", "run [RUN]"),
        (r"tester@[A-Za-z0-9._-]+", "tester@[HOST]"),
    ];
    let mut out = text.to_string();
    for (re, with) in rules {
        out = regex::Regex::new(re)
            .expect("regex")
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

/// A Kong simulator and four backends (blue-1, blue-2, green-1, green-2).
pub struct Stack {
    pub sim: KongSim,
    pub backends: Vec<Backend>,
    pub dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::with_config(SimConfig::default()).await
    }

    pub async fn with_config(config: SimConfig) -> Stack {
        let sim = KongSim::start(config).await.expect("kong-sim");
        let mut backends = Vec::new();
        for name in ["blue-1", "blue-2", "green-1", "green-2"] {
            backends.push(
                Backend::start(BackendConfig::new(name))
                    .await
                    .expect("backend"),
            );
        }
        Stack {
            sim,
            backends,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Writes the seed-style plan (blue 100/50, green 100/100) with this stack's addresses.
    pub fn plan(&self, active: &str) -> PathBuf {
        self.plan_from("seed.yaml", &[("ACTIVE", active)])
    }

    /// Copies `tests/plans/<name>` into the temp dir with textual replacements.
    pub fn plan_from(&self, name: &str, replace: &[(&str, &str)]) -> PathBuf {
        let mut text =
            std::fs::read_to_string(root().join("tests/plans").join(name)).expect("test plan");
        for (from, to) in replace {
            text = text.replace(from, to);
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write plan");
        path
    }

    /// The service's `host` as Kong has it now.
    pub async fn service_host(&self) -> String {
        let url = format!("{}/services/address-service", self.sim.admin_url());
        let v: serde_json::Value = reqwest::get(url)
            .await
            .expect("admin")
            .json()
            .await
            .expect("json");
        v["host"].as_str().unwrap_or_default().to_string()
    }

    /// `bgctl` with the stack's addresses in the environment.
    pub fn bgctl(&self) -> Command {
        let mut cmd = bgctl(self.dir.path());
        cmd.env("KONG_ADMIN_URL", self.sim.admin_url())
            .env("KONG_PROXY_URL", self.sim.proxy_url());
        for (i, key) in ["BLUE_1", "BLUE_2", "GREEN_1", "GREEN_2"]
            .iter()
            .enumerate()
        {
            cmd.env(key, self.backends[i].addr().to_string());
        }
        cmd
    }

    pub fn writes(&self) -> Vec<kong_sim::LoggedRequest> {
        self.sim
            .requests()
            .into_iter()
            .filter(kong_sim::LoggedRequest::is_write)
            .collect()
    }

    /// Sends `n` requests through the proxy with the route's host and counts answers by backend.
    pub async fn split(&self, n: usize) -> BTreeMap<String, usize> {
        answered_by(&self.sim.proxy_url(), "address.mydomain.com", n).await
    }
}

/// Sends `n` requests for `host` through `proxy` and counts the answers by the backend that
/// names itself (`X-Backend`: these tests are about which side a proxy serves), or by
/// `HTTP <status>` when none does.
pub async fn answered_by(proxy: &str, host: &str, n: usize) -> BTreeMap<String, usize> {
    let client = reqwest::Client::new();
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let r = client
            .get(format!("{proxy}/"))
            .header("Host", host)
            .send()
            .await
            .expect("proxy answers");
        let who = r.headers().get("x-backend").map_or_else(
            || format!("HTTP {}", r.status()),
            |v| v.to_str().unwrap_or("?").to_string(),
        );
        *counts.entry(who).or_default() += 1;
    }
    counts
}

/// The share of answers from a backend whose name starts with `green`.
pub fn green_share(c: &BTreeMap<String, usize>) -> f64 {
    let total: usize = c.values().sum();
    let green: usize = c
        .iter()
        .filter(|(k, _)| k.starts_with("green"))
        .map(|(_, v)| v)
        .sum();
    green as f64 / total as f64
}

/// Runs a prepared command on a blocking thread (tests are async because the simulator is).
pub async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run bgctl"))
        .await
        .expect("join")
}
