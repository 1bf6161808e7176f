//! bgctl's own health probes: each target of a side is checked directly (HTTP or TCP), with
//! bounded concurrency, consecutive-success/failure thresholds and a deadline.
//!
//! Kong's active health checks are off by default and node-local, so bgctl does not rely on
//! them: a side gets traffic only after every one of its targets answered `healthyThreshold`
//! times in a row; `unhealthyThreshold` failures in a row mark a target unhealthy at once.
//!
//! An HTTP probe is one request of [`crate::http::sample`], the sampling client verification
//! and the `probe` check use too; only the verdict (the statuses a probe accepts) is its own.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::time::Instant;

use crate::http::sample;
use crate::plan::model::HealthCheck;

/// Probes in flight at once.
pub const CONCURRENCY: usize = 256;

/// Resolved probe settings.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// HTTP path, or `None` for a TCP connect.
    pub http_path: Option<String>,
    /// `http` or `https`.
    pub scheme: String,
    /// Accepted statuses (empty: 200–399).
    pub expect: Vec<u16>,
    /// One probe's timeout.
    pub timeout: Duration,
    /// Pause between rounds.
    pub interval: Duration,
    /// Consecutive successes for healthy.
    pub healthy_threshold: u32,
    /// Consecutive failures for unhealthy.
    pub unhealthy_threshold: u32,
}

impl ProbeSpec {
    /// Settings from the plan, with defaults.
    pub fn from_plan(hc: &HealthCheck) -> ProbeSpec {
        ProbeSpec {
            http_path: hc
                .http
                .as_ref()
                .map(|h| h.path.clone().unwrap_or_else(|| "/".into())),
            scheme: hc
                .http
                .as_ref()
                .and_then(|h| h.scheme.clone())
                .unwrap_or_else(|| "http".into()),
            expect: hc
                .http
                .as_ref()
                .map(|h| h.expect_status.clone())
                .unwrap_or_default(),
            timeout: hc.timeout.map_or(Duration::from_secs(2), |d| d.0),
            interval: hc.interval.map_or(Duration::from_secs(1), |d| d.0),
            healthy_threshold: hc.healthy_threshold.unwrap_or(2),
            unhealthy_threshold: hc.unhealthy_threshold.unwrap_or(2),
        }
    }
}

/// The verdict for one target.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct TargetHealth {
    /// `host:port`.
    pub target: String,
    /// Healthy by the thresholds.
    pub healthy: bool,
    /// The last observation, e.g. `HTTP 200 in 3 ms` or `connection refused`.
    pub detail: String,
}

/// One probe of one target: `Ok(detail)` when it passed. HTTP probes are one request of the
/// shared sampling client ([`crate::http::sample`]): no redirects (a 3xx is judged by its
/// status), a bounded body read, the probe's timeout.
pub async fn probe_once(
    client: &reqwest::Client,
    spec: &ProbeSpec,
    target: &str,
) -> Result<String, String> {
    match &spec.http_path {
        Some(path) => {
            let url = format!("{}://{target}{path}", spec.scheme);
            let req = sample::Request {
                url: &url,
                host: None,
                header: None,
            };
            let code = sample::get(client, &req, spec.timeout).await.status?;
            let ok = if spec.expect.is_empty() {
                (200..400).contains(&code)
            } else {
                spec.expect.contains(&code)
            };
            if ok {
                Ok(format!("HTTP {code}"))
            } else {
                Err(format!(
                    "HTTP {code} (expected {})",
                    expect_text(&spec.expect)
                ))
            }
        }
        None => {
            match tokio::time::timeout(spec.timeout, tokio::net::TcpStream::connect(target)).await {
                Ok(Ok(_)) => Ok("TCP connect ok".to_string()),
                Ok(Err(e)) => Err(format!("TCP connect failed: {e}")),
                Err(_) => Err(format!("TCP connect timed out after {:?}", spec.timeout)),
            }
        }
    }
}

fn expect_text(expect: &[u16]) -> String {
    if expect.is_empty() {
        "200–399".into()
    } else {
        expect
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Probes `targets` in rounds until each is decided by the thresholds or `deadline` passes
/// (undecided targets then count as unhealthy). `on_result` sees each verdict once.
pub async fn wait_healthy(
    client: &reqwest::Client,
    spec: &ProbeSpec,
    targets: &[String],
    deadline: Instant,
    on_result: &(dyn Fn(&TargetHealth) + Sync),
) -> Vec<TargetHealth> {
    struct State {
        ok: u32,
        bad: u32,
        last: String,
        verdict: Option<bool>,
    }
    let mut states: Vec<State> = targets
        .iter()
        .map(|_| State {
            ok: 0,
            bad: 0,
            last: "not probed".into(),
            verdict: None,
        })
        .collect();
    loop {
        let pending: Vec<usize> = (0..targets.len())
            .filter(|i| states[*i].verdict.is_none())
            .collect();
        if pending.is_empty() {
            break;
        }
        let results: Vec<(usize, Result<String, String>)> = stream::iter(pending)
            .map(|i| async move { (i, probe_once(client, spec, &targets[i]).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, r) in results {
            let s = &mut states[i];
            match r {
                Ok(d) => {
                    s.ok += 1;
                    s.bad = 0;
                    s.last = d;
                }
                Err(d) => {
                    s.bad += 1;
                    s.ok = 0;
                    s.last = d;
                }
            }
            if s.ok >= spec.healthy_threshold {
                s.verdict = Some(true);
            } else if s.bad >= spec.unhealthy_threshold {
                s.verdict = Some(false);
            }
            if let Some(healthy) = s.verdict {
                on_result(&TargetHealth {
                    target: targets[i].clone(),
                    healthy,
                    detail: s.last.clone(),
                });
            }
        }
        if states.iter().all(|s| s.verdict.is_some()) {
            break;
        }
        if Instant::now() + spec.interval >= deadline {
            for (i, s) in states
                .iter_mut()
                .enumerate()
                .filter(|(_, s)| s.verdict.is_none())
            {
                s.verdict = Some(false);
                s.last = format!("not healthy before the deadline (last: {})", s.last);
                on_result(&TargetHealth {
                    target: targets[i].clone(),
                    healthy: false,
                    detail: s.last.clone(),
                });
            }
            break;
        }
        tokio::time::sleep(spec.interval).await;
    }
    targets
        .iter()
        .zip(states)
        .map(|(t, s)| TargetHealth {
            target: t.clone(),
            healthy: s.verdict == Some(true),
            detail: s.last,
        })
        .collect()
}
