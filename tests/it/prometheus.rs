//! A real Prometheus (Debian package `prometheus`, installed by `scripts/test`) started on
//! 127.0.0.1 for a test, scraping the given targets every second, killed by PID when dropped.
//!
//! Timing (`real-gateways.md` §5): the first scrape lands about 5–6 s after start, so
//! [`Prometheus::start`] waits until every target is `up` (at most 15 s). A missing binary fails
//! the test with a clear message, unless `BGCTL_SKIP_PROMETHEUS=1` (then `start` returns `None`
//! and the caller skips). `PROMETHEUS=/path/to/prometheus` picks another binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (bound once, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every second and waits until all of them are up.
    pub async fn start(targets: &[SocketAddr]) -> Option<Prometheus> {
        let skip = std::env::var("BGCTL_SKIP_PROMETHEUS").is_ok_and(|v| v == "1");
        let binary = std::env::var_os("PROMETHEUS")
            .map_or_else(|| PathBuf::from("prometheus"), PathBuf::from);
        let dir = tempfile::tempdir().expect("tempdir");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n  - job_name: app\n    static_configs: [{{targets: [{}]}}]\n",
            list.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let spawned = Command::new(&binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=1h")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && skip => {
                eprintln!(
                    "skipping: `{}` not found and BGCTL_SKIP_PROMETHEUS=1",
                    binary.display()
                );
                return None;
            }
            Err(e) => panic!(
                "cannot start `{}`: {e}. The analysis tests need a real Prometheus: run \
                 `scripts/test` (it installs the Debian package `prometheus`), or \
                 `apt-get install -y --no-install-recommends prometheus`, or set \
                 BGCTL_SKIP_PROMETHEUS=1 to skip them",
                binary.display()
            ),
        };
        let prom = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let want = targets.len().to_string();
        prom.wait_for("count(up == 1)", Duration::from_secs(15), |v| v == want)
            .await;
        Some(prom)
    }

    /// Runs an instant query; the first sample's value, or `None` for an empty vector or no answer.
    pub async fn query(&self, query: &str) -> Option<String> {
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let json: serde_json::Value = resp.json().await.ok()?;
        json["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_string)
    }

    /// Polls `query` (every 250 ms) until its value satisfies `ok`; panics with the log's tail
    /// after `limit`.
    pub async fn wait_for(
        &self,
        query: &str,
        limit: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let until = Instant::now() + limit;
        let mut last = None;
        while Instant::now() < until {
            last = self.query(query).await;
            if let Some(v) = &last {
                if ok(v) {
                    return v.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let log =
            std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        panic!(
            "Prometheus at {}: `{query}` was {last:?} after {limit:?}; log tail:\n{}",
            self.url,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
}
