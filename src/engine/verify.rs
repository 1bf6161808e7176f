//! Data-plane verification: trust the proxy, not the Admin API's 200.
//!
//! bgctl sends sample requests through the proxy ([`crate::http::sample`]) and reads each
//! answer's identity header (`X-Backend` by default), matched by prefix against each
//! environment's `identity` (one value or a list; default: the environment's name).
//!
//! **Identity evidence** is an answer whose header names a side. What a sample can show
//! depends on it:
//!
//! - **Split verified** — some answers name a side: the share of the expected side among the
//!   answers must be within `tolerance` of the expected share, and the health rule below must
//!   hold. Kong nodes apply changes asynchronously, so sampling repeats until both hold or
//!   the time is up; the failure names what was seen (`saw green-1 ×30, green-2 ×30`).
//! - **Health only** — no answer names a side (real apps do not send `X-Backend: green`):
//!   the split cannot be checked, so only the health rule is, and the output says that the
//!   split was not verifiable and how to make it so. A correct switch or rollback of apps
//!   that do not identify themselves therefore passes.
//!
//! The **health rule**: at least one answer below 500, and the share of failed requests (no
//! answer, or a 5xx) at most the share that failed *before the change* ([`Baseline`], one
//! sample taken before the first traffic change) plus `tolerance`; with no failures before
//! (or no baseline), none are allowed. An old side that already failed 20 % does not make a
//! correct change fail; a new side that fails more than the old one does.
//!
//! **Asking for identity** — an explicit `verify.header` or an environment's `identity` in the
//! plan — makes two things strict: before the first traffic change the live side's answers
//! must carry it, else the run stops before any write (exit 2, [`Engine::baseline`]); and
//! after a forward change, answers without evidence (or with values naming no side) fail
//! the verification instead of falling back to health only. A move *back* (rollback, abort)
//! is never strict: the side it returns to already served, and a correct rollback is never
//! turned into exit 4 for want of a header.
//!
//! **Who is anonymous.** A sample without evidence can also come from the gateway itself (a
//! `404` before a fresh route reaches every node) or a node that has not applied the change.
//! So health only is chosen only when the apps are not known to name their side: the baseline
//! showed no evidence, or, with nothing live before (no baseline), one request straight to
//! each target of the side (at most four; the verify path and host) showed none. Apps seen
//! naming their side are waited for as before.
//!
//! Sampling stops early when waiting cannot help: a health-only sample that passes ends at
//! once, and in strict mode two samples in a row without evidence end the wait (no 30 s
//! waits for a header that will not come).
//!
//! With several Kong nodes (`proxyUrls`) every node is sampled on its own schedule, at the
//! same time: a step is verified only when every node serves it within the deadline, and each
//! node's result is reported (`Verifier::on_node` gives one node's settings). The baseline is
//! taken through the first node.

mod run;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::http::sample::{self, Answer};
use crate::plan::model::{Plan, Verify};

pub use run::Baseline;

/// Requests in flight at once while sampling.
pub const CONCURRENCY: usize = 8;
/// Timeout of one sample request (never past the verification's own deadline).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between samples.
const INTERVAL: Duration = Duration::from_millis(200);

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
    /// The plan asks for identity (`verify.header` or an `identity`): see the module docs.
    pub explicit: bool,
    /// Requests per sample.
    pub samples: u32,
    /// Allowed difference, percentage points (for the share and for the failure rate).
    pub tolerance: f64,
    /// How long to keep trying.
    pub timeout: Duration,
    /// (environment, identity prefixes), plan order.
    pub identities: Vec<(String, Vec<String>)>,
}

/// One sample's answers, classified.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Answers per environment (plan order).
    pub by_side: Vec<(String, u32)>,
    /// Answers below 500 without the header.
    pub anonymous: u32,
    /// Answers below 500 whose header value names no side, by value.
    pub unknown: BTreeMap<String, u32>,
    /// Header values seen on answers below 500, by value (matched or not).
    pub seen: BTreeMap<String, u32>,
    /// Socket errors and 5xx.
    pub failed: u32,
    /// Why requests failed: `HTTP 503 ×2, …`.
    pub failures: String,
    /// Requests sent.
    pub requests: u32,
}

impl Sample {
    /// Answers naming a side.
    pub fn identified(&self) -> u32 {
        self.by_side.iter().map(|s| s.1).sum()
    }

    /// Answers below 500 naming no side.
    pub fn unidentified(&self) -> u32 {
        self.anonymous + self.unknown.values().sum::<u32>()
    }

    /// Answers below 500.
    pub fn answered(&self) -> u32 {
        self.identified() + self.unidentified()
    }

    /// Share of `env` among the answers below 500, percent.
    pub fn share(&self, env: &str) -> f64 {
        let n = self.by_side.iter().find(|s| s.0 == env).map_or(0, |s| s.1);
        pct(n, self.answered())
    }

    /// Share of requests that failed, percent.
    pub fn fail_rate(&self) -> f64 {
        pct(self.failed, self.requests)
    }

    /// What the answers said: `green-1 ×30, no `X-Backend` ×2` (failures not included).
    pub fn seen_text(&self, header: &str) -> String {
        let mut parts = Vec::new();
        if !self.seen.is_empty() {
            let values = self
                .seen
                .iter()
                .flat_map(|(v, n)| std::iter::repeat_n(format!("`{v}`"), *n as usize));
            parts.push(sample::counted(values, 6));
        }
        if self.anonymous > 0 {
            parts.push(format!("no `{header}` ×{}", self.anonymous));
        }
        if parts.is_empty() {
            "no answer below 500".into()
        } else {
            parts.join(", ")
        }
    }
}

fn pct(n: u32, of: u32) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * f64::from(n) / f64::from(of)
    }
}

/// Which kind of verdict a sample allows (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// Answers name sides: the split is checked.
    Split,
    /// No answer names a side: health only, and why the split is not verifiable.
    HealthOnly(String),
}

/// One sample judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Passed.
    pub ok: bool,
    /// Whether the split itself was checked.
    pub split: bool,
    /// The sentence for the output.
    pub detail: String,
    /// Waiting cannot change this verdict (strict mode without evidence).
    pub hopeless: bool,
}

impl Verifier {
    /// Settings for a plan, overridden by `over` (the canary's own `verify`). `None` without a proxy URL.
    pub fn from_plan(plan: &Plan, over: Option<&Verify>) -> Option<Verifier> {
        let proxy = plan.proxy_url()?.to_string();
        let base = plan.verify.as_ref();
        let pick = |f: fn(&Verify) -> Option<String>| over.and_then(f).or_else(|| base.and_then(f));
        let route = plan.service.as_ref().and_then(|s| s.routes.first());
        let header = pick(|v| v.header.clone());
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
            explicit: header.is_some() || plan.environments.values().any(|e| e.identity.is_some()),
            header: header.unwrap_or_else(|| "X-Backend".into()),
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
                        e.identity.as_ref().map_or_else(
                            || vec![name.clone()],
                            crate::plan::model::Identity::values,
                        ),
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

    /// Sends one sample of requests, none of them past `stop`.
    pub async fn sample(&self, client: &reqwest::Client, stop: Instant) -> Sample {
        let url = format!("{}{}", self.proxy_url, self.path);
        let req = sample::Request {
            url: &url,
            host: self.host.as_deref(),
            header: Some(&self.header),
        };
        let timeout = || {
            REQUEST_TIMEOUT
                .min(stop.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(100))
        };
        let answers = sample::many(client, &req, self.samples, CONCURRENCY, &timeout).await;
        self.classify(&answers)
    }

    /// Counts answers by the side their header names.
    pub fn classify(&self, answers: &[Answer]) -> Sample {
        let mut s = Sample {
            by_side: self
                .identities
                .iter()
                .map(|(e, _)| (e.clone(), 0))
                .collect(),
            requests: u32::try_from(answers.len()).unwrap_or(u32::MAX),
            failures: sample::top_reasons(answers, 3),
            ..Sample::default()
        };
        for a in answers {
            if a.failure().is_some() {
                s.failed += 1;
                continue;
            }
            let Some(value) = a.header.as_deref().filter(|v| !v.is_empty()) else {
                s.anonymous += 1;
                continue;
            };
            *s.seen.entry(value.to_string()).or_default() += 1;
            match self
                .identities
                .iter()
                .position(|(_, ids)| ids.iter().any(|id| value.starts_with(id.as_str())))
            {
                Some(i) => s.by_side[i].1 += 1,
                None => *s.unknown.entry(value.to_string()).or_default() += 1,
            }
        }
        s
    }

    /// What `s` can show: the split, or health only (and why). `expect`: the apps are known
    /// to name their side (strict, or seen doing so), so answers without evidence are not a
    /// reason to fall back to health only (they are the gateway's own, or from a lagging node).
    pub fn evidence(&self, s: &Sample, expect: bool) -> Evidence {
        let header = &self.header;
        if s.identified() > 0 || (expect && s.answered() > 0) {
            return Evidence::Split;
        }
        let why = if s.answered() == 0 {
            "no request got an answer below 500".to_string()
        } else if s.unknown.is_empty() {
            format!("the answers carry no `{header}` header")
        } else {
            format!(
                "the `{header}` values seen ({}) name no environment",
                s.seen_text(header)
            )
        };
        Evidence::HealthOnly(format!(
            "the split itself was not verifiable: {why}; have the app send `{header}: <side>` (or set `verify.header` to a header it sends and `environments.<env>.identity` to its values)"
        ))
    }

    /// The largest failure rate (percent) allowed after the change.
    pub fn allowed_failures(&self, baseline: Option<&Baseline>) -> f64 {
        match baseline {
            Some(b) if b.failed > 0 => (b.fail_rate() + self.tolerance).min(100.0),
            _ => 0.0,
        }
    }

    /// Judges one sample against `check` (see the module docs).
    pub fn judge(&self, s: &Sample, check: &Check<'_>) -> Verdict {
        let Check {
            env,
            expected,
            baseline,
            strict,
            expect_evidence,
        } = *check;
        let allowed = self.allowed_failures(baseline);
        let healthy = s.answered() > 0 && s.fail_rate() <= allowed + 1e-9;
        let before = baseline.map_or_else(
            || "no sample before the change".to_string(),
            |b| format!("before the change {} of {} failed", b.failed, b.requests),
        );
        let health = if s.failed == 0 {
            format!("all {} requests answered below 500", s.requests)
        } else {
            format!(
                "{} of {} requests failed ({}); {before}, so at most {allowed:.1}% may",
                s.failed, s.requests, s.failures
            )
        };
        let through = format!("through {}", self.proxy_url);
        match self.evidence(s, strict || expect_evidence) {
            Evidence::HealthOnly(why) => {
                let detail = format!("{through}: {health}; {why}");
                Verdict {
                    ok: healthy,
                    split: false,
                    detail,
                    hopeless: false,
                }
            }
            Evidence::Split => {
                let observed = s.share(env);
                let in_tolerance = (observed - expected).abs() <= self.tolerance;
                if in_tolerance && healthy {
                    return Verdict {
                        ok: true,
                        split: true,
                        detail: format!(
                            "`{env}` answered {observed:.1}% through the proxy (expected {expected:.1}% ± {:.1})",
                            self.tolerance
                        ),
                        hopeless: false,
                    };
                }
                let detail = format!(
                    "{through}: `{env}` answered {observed:.1}% of {} answers (expected {expected:.1}% ± {:.1}); saw {} (header `{}`); {health}",
                    s.answered(),
                    self.tolerance,
                    s.seen_text(&self.header),
                    self.header
                );
                Verdict {
                    ok: false,
                    split: true,
                    detail,
                    hopeless: strict && s.identified() == 0 && s.answered() > 0,
                }
            }
        }
    }

    /// Samples until `env`'s share (or, without evidence, health) passes, or `deadline` (or
    /// the verification's own timeout) passes; strict mode gives up after two samples in a
    /// row without evidence.
    pub async fn until(
        &self,
        client: &reqwest::Client,
        check: &Check<'_>,
        deadline: Instant,
        on_sample: &(dyn Fn(&Sample, f64) + Sync),
    ) -> Verdict {
        let stop = (Instant::now() + self.timeout).min(deadline);
        let mut hopeless = 0;
        loop {
            let s = self.sample(client, stop).await;
            on_sample(&s, s.share(check.env));
            let v = self.judge(&s, check);
            if v.ok {
                return v;
            }
            hopeless = if v.hopeless { hopeless + 1 } else { 0 };
            if hopeless >= 2 || Instant::now() + INTERVAL >= stop {
                return v;
            }
            tokio::time::sleep(INTERVAL).await;
        }
    }
}

/// What one verification checks.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The side whose share is checked.
    pub env: &'a str,
    /// Its expected share, percent.
    pub expected: f64,
    /// The sample taken before the change.
    pub baseline: Option<&'a Baseline>,
    /// Identity asked for and this is a forward change.
    pub strict: bool,
    /// The apps were seen naming their side (in the baseline, or asked directly): answers
    /// without evidence are waited out, not taken for anonymous apps.
    pub expect_evidence: bool,
}
