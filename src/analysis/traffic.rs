//! Probe checks: bgctl's own traffic through the data plane, judged by success rate and latency.
//!
//! Each measurement sends `requests` (default 100) GETs through [`CheckContext::proxy`] with the
//! route's Host header, 8 at a time, each with a 5 s timeout (never past the deadline), with the
//! sampling client verification and health probes use too ([`crate::http::sample`]). A
//! request succeeds when it gets an answer below 500, as in data-plane verification; socket
//! errors, timeouts and 5xx are failures. The condition sees:
//!
//! | variable | meaning |
//! |---|---|
//! | `successRate` / `errorRate` | share of requests that succeeded / failed (0–1) |
//! | `count` | requests sent |
//! | `p50`, `p95`, `p99` | latency percentiles in seconds (nearest rank) over answered requests, so `p99 < 300ms` works |
//!
//! Without a `successCondition` a probe check uses [`DEFAULT_CONDITION`]. When no request got an
//! answer the percentiles are NaN, and a condition that reaches them is an `Error` rather than a
//! pass.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::analysis::checks::{
    fmt_duration, fmt_num, CheckContext, Measurement, Outcome, ProxyTarget,
};
use crate::analysis::condition::{Condition, Value};
use crate::http::sample;
use crate::plan::model::ProbeCheck;

/// The condition of a probe check that has none.
pub const DEFAULT_CONDITION: &str = "successRate >= 0.99";
/// Default requests per measurement.
pub const DEFAULT_REQUESTS: u32 = 100;
/// Requests in flight at once.
pub const CONCURRENCY: usize = 8;
/// Timeout of one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// `100 × GET http://proxy/path (Host: h)`, `… and through 2 more nodes` with `proxyUrls`.
pub(crate) fn describe(p: &ProbeCheck, proxy: Option<&ProxyTarget>, more_nodes: usize) -> String {
    let n = p.requests.unwrap_or(DEFAULT_REQUESTS).max(1);
    match proxy {
        Some(t) => {
            let host = t
                .host
                .as_deref()
                .map(|h| format!(" (Host: {h})"))
                .unwrap_or_default();
            let more = match more_nodes {
                0 => String::new(),
                1 => ", and through 1 more node".to_string(),
                k => format!(", and through {k} more nodes"),
            };
            format!("{n} × GET {}{host}{more}", url(p, t))
        }
        None => format!("{n} × GET through the proxy (no proxy URL)"),
    }
}

fn url(p: &ProbeCheck, t: &ProxyTarget) -> String {
    let path = p.path.as_deref().unwrap_or(&t.path);
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("{}{path}", t.url.trim_end_matches('/'))
}

/// What one round of requests measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stats {
    pub sent: u32,
    pub ok: u32,
    /// Latencies of answered requests, sorted.
    pub latencies: Vec<Duration>,
    /// Failure reasons and how often each happened.
    pub failures: BTreeMap<String, u32>,
}

impl Stats {
    /// Counts of one round of answers: a failure is a socket error, a timeout or a 5xx (with
    /// its latency when there was an answer).
    fn from_answers(answers: &[sample::Answer]) -> Stats {
        let mut stats = Stats {
            sent: u32::try_from(answers.len()).unwrap_or(u32::MAX),
            ok: 0,
            latencies: Vec::new(),
            failures: BTreeMap::new(),
        };
        for a in answers {
            match a.failure() {
                None => {
                    stats.ok += 1;
                    stats.latencies.push(a.latency);
                }
                Some(why) => {
                    *stats.failures.entry(why).or_default() += 1;
                    if a.status.is_ok() {
                        stats.latencies.push(a.latency);
                    }
                }
            }
        }
        stats.latencies.sort();
        stats
    }

    fn success_rate(&self) -> f64 {
        if self.sent == 0 {
            f64::NAN
        } else {
            f64::from(self.ok) / f64::from(self.sent)
        }
    }

    /// Nearest-rank percentile in seconds; NaN without answers.
    fn percentile(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = (q / 100.0 * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1].as_secs_f64()
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        let x = match name {
            "successRate" => self.success_rate(),
            "errorRate" => 1.0 - self.success_rate(),
            "count" => f64::from(self.sent),
            "p50" => self.percentile(50.0),
            "p95" => self.percentile(95.0),
            "p99" => self.percentile(99.0),
            _ => return None,
        };
        Some(Value::Number(x))
    }

    /// `successRate 0.98 (98 of 100), p50 2ms, p95 5ms, p99 9ms`.
    fn text(&self) -> String {
        let mut s = format!(
            "successRate {} ({} of {})",
            fmt_num(self.success_rate()),
            self.ok,
            self.sent
        );
        if self.latencies.is_empty() {
            s += ", no answers to time";
        } else {
            for q in [50.0, 95.0, 99.0] {
                s += &format!(
                    ", p{q} {}",
                    fmt_duration(Duration::from_secs_f64(self.percentile(q)))
                );
            }
        }
        s
    }

    /// `2 failed: HTTP 500 ×2`.
    fn failures_text(&self) -> String {
        let failed = self.sent - self.ok;
        if failed == 0 {
            return String::new();
        }
        let mut reasons: Vec<(&String, &u32)> = self.failures.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        let shown: Vec<String> = reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{r} ×{n}"))
            .collect();
        format!("; {failed} failed: {}", shown.join(", "))
    }
}

/// One measurement of a probe check.
pub(crate) async fn measure(p: &ProbeCheck, cond: &Condition, ctx: &CheckContext) -> Measurement {
    if let Some(through) = p.through.as_deref() {
        if through != "proxy" {
            return Measurement::error(format!(
                "unknown `through: {through}`; probe checks send traffic through the `proxy`"
            ));
        }
    }
    let Some(target) = &ctx.proxy else {
        return Measurement::error(
            "there is no proxy to send probe traffic through (set the provider's `proxyUrl`)",
        );
    };
    if ctx.other_proxies.is_empty() {
        return judge(&send(p, target, ctx).await, cond);
    }
    // Several nodes: each gets the full round and is judged on its own; the worst decides,
    // and the value and detail name every node.
    let mut targets = vec![target.clone()];
    targets.extend(ctx.other_proxies.iter().map(|url| ProxyTarget {
        url: url.clone(),
        ..target.clone()
    }));
    let rounds = futures::future::join_all(targets.iter().map(|t| send(p, t, ctx))).await;
    let judged: Vec<(String, Measurement)> = targets
        .iter()
        .zip(&rounds)
        .map(|(t, stats)| (t.url.clone(), judge(stats, cond)))
        .collect();
    let rank = |o: Outcome| match o {
        Outcome::Pass => 0,
        Outcome::NoData | Outcome::Inconclusive => 1,
        Outcome::Fail => 2,
        Outcome::Error => 3,
    };
    let outcome = judged
        .iter()
        .map(|(_, m)| m.outcome)
        .max_by_key(|o| rank(*o))
        .unwrap_or(Outcome::Error);
    let each = |f: &dyn Fn(&Measurement) -> String| {
        judged
            .iter()
            .map(|(url, m)| format!("{url}: {}", f(m)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Measurement {
        outcome,
        value: Some(each(&|m| m.value.clone().unwrap_or_default())),
        detail: each(&|m| m.detail.clone()),
    }
}

async fn send(p: &ProbeCheck, t: &ProxyTarget, ctx: &CheckContext) -> Stats {
    let n = p.requests.unwrap_or(DEFAULT_REQUESTS).max(1);
    let url = url(p, t);
    let req = sample::Request {
        url: &url,
        host: t.host.as_deref(),
        header: None,
    };
    let answers = sample::many(&ctx.http, &req, n, CONCURRENCY, &|| {
        ctx.cap(REQUEST_TIMEOUT).0
    })
    .await;
    Stats::from_answers(&answers)
}

fn judge(stats: &Stats, cond: &Condition) -> Measurement {
    let text = stats.text();
    let source = cond.source().trim();
    let failures = stats.failures_text();
    match cond.eval(&|name| stats.lookup(name)) {
        Ok(true) => Measurement::new(Outcome::Pass, text, format!("`{source}` holds{failures}")),
        Ok(false) => Measurement::new(
            Outcome::Fail,
            text,
            format!("`{source}` does not hold{failures}"),
        ),
        Err(e) => Measurement {
            outcome: Outcome::Error,
            value: Some(text),
            detail: format!("cannot evaluate `{source}`: {e}{failures}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(ok: u32, failed: u32, latencies_ms: &[u64]) -> Stats {
        let mut failures = BTreeMap::new();
        if failed > 0 {
            failures.insert("HTTP 500".to_string(), failed);
        }
        Stats {
            sent: ok + failed,
            ok,
            latencies: latencies_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            failures,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let lat: Vec<u64> = (1..=100).collect();
        let s = stats(100, 0, &lat);
        assert!((s.percentile(50.0) - 0.050).abs() < 1e-9);
        assert!((s.percentile(95.0) - 0.095).abs() < 1e-9);
        assert!((s.percentile(99.0) - 0.099).abs() < 1e-9);
        let one = stats(1, 0, &[7]);
        assert!((one.percentile(99.0) - 0.007).abs() < 1e-9);
        assert!(stats(0, 3, &[]).percentile(50.0).is_nan());
    }

    #[test]
    fn default_condition_needs_99_percent() {
        let c = Condition::parse(DEFAULT_CONDITION).unwrap();
        let m = judge(&stats(99, 1, &[1; 100]), &c);
        assert_eq!(m.outcome, Outcome::Pass);
        let m = judge(&stats(98, 2, &[1; 100]), &c);
        assert_eq!(m.outcome, Outcome::Fail);
        assert_eq!(
            m.value.as_deref(),
            Some("successRate 0.98 (98 of 100), p50 1ms, p95 1ms, p99 1ms")
        );
        assert_eq!(
            m.detail,
            "`successRate >= 0.99` does not hold; 2 failed: HTTP 500 ×2"
        );
    }

    #[test]
    fn latency_conditions_use_seconds() {
        let c = Condition::parse("successRate >= 0.99 && p99 < 300ms && count == 10").unwrap();
        assert_eq!(judge(&stats(10, 0, &[100; 10]), &c).outcome, Outcome::Pass);
        assert_eq!(
            judge(
                &stats(10, 0, &[100, 100, 100, 100, 100, 100, 100, 100, 100, 400]),
                &c
            )
            .outcome,
            Outcome::Fail
        );
        let c = Condition::parse("errorRate < 0.5").unwrap();
        assert_eq!(judge(&stats(4, 6, &[1; 10]), &c).outcome, Outcome::Fail);
    }

    #[test]
    fn no_answers_make_latency_an_error_not_a_pass() {
        let c = Condition::parse("p99 < 300ms").unwrap();
        let mut s = stats(0, 0, &[]);
        s.sent = 5;
        s.failures.insert("unreachable".into(), 5);
        let m = judge(&s, &c);
        assert_eq!(m.outcome, Outcome::Error);
        assert_eq!(
            m.detail,
            "cannot evaluate `p99 < 300ms`: `p99` is NaN (not a number); 5 failed: unreachable ×5"
        );
    }

    #[tokio::test]
    async fn without_a_proxy_it_is_an_error() {
        let ctx = CheckContext::new(Duration::from_secs(1));
        let p = ProbeCheck {
            through: None,
            path: None,
            requests: Some(3),
        };
        let m = measure(&p, &Condition::parse(DEFAULT_CONDITION).unwrap(), &ctx).await;
        assert_eq!(m.outcome, Outcome::Error);
        assert!(m.detail.contains("proxyUrl"), "{}", m.detail);
    }
}
