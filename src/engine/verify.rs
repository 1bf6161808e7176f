//! Data-plane verification: trust the proxy, not the Admin API's 200.
//!
//! bgctl sends sample requests through the proxy, classifies each response by the side that
//! answered (a response header, `X-Backend` by default, matched by prefix against each
//! environment's `identity`), and compares the observed share with the expected one. Kong nodes
//! apply changes asynchronously, so sampling repeats until the share is within tolerance or the
//! deadline passes; the last measured value is what a failure reports.
//!
//! With several Kong nodes (`proxyUrls`) every node is sampled on its own schedule, at the
//! same time: a step is verified only when every node serves it within the deadline, and each
//! node's result is reported (`Verifier::on_node` gives one node's settings).

use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::time::Instant;

use crate::plan::model::{Plan, Verify};

/// Resolved verification settings.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// Proxy base URL (the first node's).
    pub proxy_url: String,
    /// Every node's proxy base URL, `proxy_url` first (Kong `proxyUrl` + `proxyUrls`).
    pub nodes: Vec<String>,
    /// Host header to send.
    pub host: Option<String>,
    /// Request path.
    pub path: String,
    /// Header naming the side.
    pub header: String,
    /// Requests per sample.
    pub samples: u32,
    /// Allowed difference, percentage points.
    pub tolerance: f64,
    /// How long to keep trying.
    pub timeout: Duration,
    /// (environment, identity prefix).
    pub identities: Vec<(String, String)>,
}

/// One sample's counts.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Responses per environment (plan order).
    pub by_side: Vec<(String, u32)>,
    /// Responses that matched no environment.
    pub unknown: u32,
    /// Socket errors and 5xx.
    pub failed: u32,
    /// Requests sent.
    pub requests: u32,
}

impl Sample {
    /// Share of `env` among classified responses, percent.
    pub fn share(&self, env: &str) -> f64 {
        let total: u32 = self.by_side.iter().map(|s| s.1).sum::<u32>() + self.unknown + self.failed;
        let n = self.by_side.iter().find(|s| s.0 == env).map_or(0, |s| s.1);
        if total == 0 {
            0.0
        } else {
            100.0 * f64::from(n) / f64::from(total)
        }
    }
}

impl Verifier {
    /// Settings for a plan, overridden by `over` (the canary's own `verify`). `None` without a proxy URL.
    pub fn from_plan(plan: &Plan, over: Option<&Verify>) -> Option<Verifier> {
        let proxy = plan.proxy_url()?.to_string();
        let base = plan.verify.as_ref();
        let pick = |f: fn(&Verify) -> Option<String>| over.and_then(f).or_else(|| base.and_then(f));
        let route = plan.service.as_ref().and_then(|s| s.routes.first());
        Some(Verifier {
            proxy_url: proxy.trim_end_matches('/').to_string(),
            nodes: plan
                .proxy_urls()
                .iter()
                .map(|u| u.trim_end_matches('/').to_string())
                .collect(),
            host: pick(|v| v.host.clone()).or_else(|| {
                route
                    .and_then(|r| r.hosts.first().cloned())
                    .filter(|h| !h.contains('*'))
            }),
            path: pick(|v| v.path.clone())
                .or_else(|| {
                    route
                        .and_then(|r| r.paths.first().cloned())
                        .filter(|p| !p.starts_with('~'))
                })
                .unwrap_or_else(|| "/".into()),
            header: pick(|v| v.header.clone()).unwrap_or_else(|| "X-Backend".into()),
            samples: over
                .and_then(|v| v.samples)
                .or_else(|| base.and_then(|v| v.samples))
                .unwrap_or(100),
            tolerance: over
                .and_then(|v| v.tolerance)
                .or_else(|| base.and_then(|v| v.tolerance))
                .unwrap_or(5.0),
            timeout: over
                .and_then(|v| v.timeout)
                .or_else(|| base.and_then(|v| v.timeout))
                .map_or(Duration::from_secs(30), |d| d.0),
            identities: plan
                .environments
                .iter()
                .map(|(name, e)| {
                    (
                        name.clone(),
                        e.identity.clone().unwrap_or_else(|| name.clone()),
                    )
                })
                .collect(),
        })
    }

    /// The same settings aimed at one node's proxy.
    #[must_use]
    pub fn on_node(&self, url: &str) -> Verifier {
        Verifier {
            proxy_url: url.to_string(),
            nodes: vec![url.to_string()],
            ..self.clone()
        }
    }

    /// Sends one sample of requests (8 at a time).
    pub async fn sample(&self, client: &reqwest::Client) -> Sample {
        let url = format!("{}{}", self.proxy_url, self.path);
        let answers: Vec<Option<String>> = stream::iter(0..self.samples)
            .map(|_| {
                let mut req = client.get(&url).timeout(Duration::from_secs(5));
                if let Some(h) = &self.host {
                    req = req.header(reqwest::header::HOST, h);
                }
                let header = self.header.clone();
                async move {
                    match req.send().await {
                        Ok(r) if !r.status().is_server_error() => {
                            let side = r
                                .headers()
                                .get(header.as_str())
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            crate::http::drain(r, crate::http::limits::PROBE_BODY).await;
                            Some(side)
                        }
                        _ => None,
                    }
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut s = Sample {
            by_side: self
                .identities
                .iter()
                .map(|(e, _)| (e.clone(), 0))
                .collect(),
            requests: self.samples,
            ..Sample::default()
        };
        for a in answers {
            match a {
                None => s.failed += 1,
                Some(side) => match self
                    .identities
                    .iter()
                    .position(|(_, id)| side.starts_with(id.as_str()))
                {
                    Some(i) => s.by_side[i].1 += 1,
                    None => s.unknown += 1,
                },
            }
        }
        s
    }

    /// Samples until `env`'s share is within tolerance of `expected` or the deadline passes.
    pub async fn until(
        &self,
        client: &reqwest::Client,
        env: &str,
        expected: f64,
        deadline: Instant,
        on_sample: &(dyn Fn(&Sample, f64) + Sync),
    ) -> Result<f64, String> {
        let stop = (Instant::now() + self.timeout).min(deadline);
        loop {
            let s = self.sample(client).await;
            let observed = s.share(env);
            on_sample(&s, observed);
            if (observed - expected).abs() <= self.tolerance && s.failed == 0 {
                return Ok(observed);
            }
            if Instant::now() + Duration::from_millis(200) >= stop {
                return Err(format!(
                    "through {}: `{env}` answered {observed:.1}% of {} requests (expected {expected:.1}% ± {:.1}), {} failed, {} unidentified (header `{}`)",
                    self.proxy_url, s.requests, self.tolerance, s.failed, s.unknown, self.header
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
