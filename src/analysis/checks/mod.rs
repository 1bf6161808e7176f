//! Analysis checks: take measurements, judge them, explain the verdict.
//!
//! This module owns the runtime side of the plan's `checks:`. [`run_check`] resolves a
//! [`CheckSpec`] into one measurement source (Prometheus, webhook, exec or probe traffic), takes
//! up to `count` measurements spaced by `interval`, and hands the outcomes to the pure verdict
//! [`Policy`](crate::analysis::policy::Policy), which decides when to stop and what the verdict
//! is. [`run_checks`] runs several checks concurrently; hooks are in
//! [`hooks`](crate::analysis::hooks).
//!
//! Why it is shaped this way (`progressive-delivery-anchors.md` §2, pain points 1 and 2):
//!
//! - **Every verdict explains itself.** A [`Verdict`] carries what was asked (query, `METHOD
//!   url`, command), every measurement with its value, the condition and the limits, and a
//!   one-line `summary` that holds all of them, e.g.
//!   ``error-rate: FAIL — query `…` returned 0.1773; condition `result < 0.01`; 1 of 1
//!   measurements failed (failureLimit 0)``. Secrets (header values, URL passwords) never
//!   appear in any of it.
//! - **Nothing is a silent pass.** `Error` (could not measure), `NoData` (an empty result) and
//!   `Inconclusive` are distinct outcomes with an explicit policy; an empty Prometheus vector is
//!   `NoData`, never 0; NaN is an `Error`; a vector of several series must be reduced by the
//!   condition or the measurement is an `Error` that says how to reduce it.
//! - **Every wait has a deadline.** [`CheckContext::deadline`] bounds the whole check: each call
//!   gets the smaller of its own timeout and the time left, sleeps between measurements never
//!   pass it, and a check that runs out of time ends with `Error` ("stopped at the deadline").
//!   Processes started by exec checks are killed with their whole process group on timeout or
//!   when the check is dropped.
//!
//! The engine calls [`run_checks`] with an `on_measurement` callback to turn each measurement
//! into an event as it happens, and renders each returned [`Verdict`]; this module never prints.
//!
//! Parts: [`measure`] is the measurement loop (spacing, deadline, stopping at a verdict) and
//! [`summary`] writes the one-line explanation of a finished check; the formatting helpers the
//! sources share ([`fmt_num`], [`fmt_duration`], [`snippet`], [`http_error`], [`redact_url`])
//! stay here.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;
use tokio::time::Instant;

use crate::analysis::condition::Condition;
use crate::analysis::policy::{no_data_name, Policy};
use crate::analysis::{exec, prometheus, traffic, webhook};
use crate::plan::model::{CheckSpec, ExecSpec, ProbeCheck, PrometheusCheck, WebhookSpec};

mod measure;
mod summary;

pub use measure::{measure_loop, LoopRun};
use summary::summarize;

/// Default time between measurements.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The result of one measurement, or the final verdict of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The condition held.
    Pass,
    /// The condition did not hold.
    Fail,
    /// The check could not measure (unreachable, timed out, a condition that cannot be
    /// evaluated on the value).
    Error,
    /// The source answered with nothing to judge (an empty Prometheus vector).
    NoData,
    /// Neither pass nor fail: a person decides.
    Inconclusive,
}

impl Outcome {
    /// Upper-case label for text output: `PASS`, `FAIL`, `ERROR`, `NO DATA`, `INCONCLUSIVE`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::NoData => "NO DATA",
            Outcome::Inconclusive => "INCONCLUSIVE",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One measurement of a check.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Measurement {
    /// What this measurement says on its own (`NoData` is not mapped by the policy here).
    pub outcome: Outcome,
    /// The measured value as text, e.g. `0.1773`, `3 series: …`, `HTTP 503`, `exit 3`.
    pub value: Option<String>,
    /// A longer explanation: the evaluated condition, an error, a stderr tail.
    pub detail: String,
}

impl Measurement {
    /// A measurement with a value.
    pub fn new(outcome: Outcome, value: impl Into<String>, detail: impl Into<String>) -> Self {
        Measurement {
            outcome,
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    /// A measurement that could not be taken.
    pub fn error(detail: impl Into<String>) -> Self {
        Measurement {
            outcome: Outcome::Error,
            value: None,
            detail: detail.into(),
        }
    }

    /// An empty result.
    pub fn no_data(detail: impl Into<String>) -> Self {
        Measurement {
            outcome: Outcome::NoData,
            value: None,
            detail: detail.into(),
        }
    }
}

/// The final, explained verdict of one check.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The check's name in the plan.
    pub check: String,
    /// `Pass`, `Fail`, `Error` or `Inconclusive`.
    pub outcome: Outcome,
    /// What was asked: the query, `METHOD url` or the command.
    pub asked: String,
    /// The condition the measurements were judged by, if the check has one.
    pub condition: Option<String>,
    /// The limits, e.g. `count 1 every 10s, failureLimit 0, consecutiveErrorLimit 4, noData fail`.
    pub limits: String,
    /// Every measurement taken, in order.
    pub measurements: Vec<Measurement>,
    /// One line: the check, the verdict, what was asked, the measured value, the condition and
    /// the limit.
    pub summary: String,
}

/// What checks need from the caller.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// HTTP client for Prometheus, webhooks and probe traffic (per-call timeouts are set on each
    /// request).
    pub http: reqwest::Client,
    /// Where probe checks send traffic (the data plane); `None` without a proxy URL.
    pub proxy: Option<ProxyTarget>,
    /// More data-plane nodes (Kong `proxyUrls` after the first): probe traffic goes through
    /// each of them too, with `proxy`'s host and path, and every node must pass.
    pub other_proxies: Vec<String>,
    /// Nothing a check does lasts beyond this instant.
    pub deadline: Instant,
    /// Working directory of exec checks and hooks (the plan's directory).
    pub workdir: PathBuf,
}

/// The data plane probe checks send requests through.
#[derive(Debug, Clone)]
pub struct ProxyTarget {
    /// Proxy base URL, e.g. `http://127.0.0.1:8000`.
    pub url: String,
    /// Host header to send (the route's host).
    pub host: Option<String>,
    /// Default request path (a check's `probe.path` overrides it).
    pub path: String,
}

impl CheckContext {
    /// A context with a default client, no proxy, the current directory and `timeout` from now.
    pub fn new(timeout: Duration) -> CheckContext {
        CheckContext {
            http: crate::http::client(),
            proxy: None,
            other_proxies: Vec::new(),
            deadline: Instant::now() + timeout,
            workdir: PathBuf::from("."),
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The smaller of `limit` and the time left; `true` when the deadline is the tighter one.
    pub(crate) fn cap(&self, limit: Duration) -> (Duration, bool) {
        let left = self.remaining();
        if left < limit {
            (left, true)
        } else {
            (limit, false)
        }
    }
}

/// A check's measurement source, resolved from the plan.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Prometheus(&'a PrometheusCheck),
    Webhook(&'a WebhookSpec),
    Exec(&'a ExecSpec),
    Probe(&'a ProbeCheck),
}

impl<'a> Source<'a> {
    fn of(spec: &'a CheckSpec) -> Result<Source<'a>, String> {
        let mut found = Vec::new();
        if let Some(p) = &spec.prometheus {
            found.push(Source::Prometheus(p));
        }
        if let Some(w) = &spec.webhook {
            found.push(Source::Webhook(w));
        }
        if let Some(e) = &spec.exec {
            found.push(Source::Exec(e));
        }
        if let Some(p) = &spec.probe {
            found.push(Source::Probe(p));
        }
        match found.as_slice() {
            [one] => Ok(*one),
            _ => {
                Err("a check has exactly one of `prometheus`, `webhook`, `exec` or `probe`".into())
            }
        }
    }

    fn asked(self, ctx: &CheckContext) -> String {
        match self {
            Source::Prometheus(p) => p.query.clone(),
            Source::Webhook(w) => webhook::describe(w),
            Source::Exec(e) => exec::describe(&e.command),
            Source::Probe(p) => traffic::describe(p, ctx.proxy.as_ref(), ctx.other_proxies.len()),
        }
    }

    /// How the summary introduces the asked thing and its value.
    fn phrase(self, asked: &str) -> (String, &'static str) {
        match self {
            Source::Prometheus(_) => (format!("query `{asked}`"), "returned"),
            Source::Webhook(_) => (format!("`{asked}`"), "answered"),
            Source::Exec(_) => (format!("`{asked}`"), "ended with"),
            Source::Probe(_) => (asked.to_string(), "measured"),
        }
    }

    /// The condition measurements are judged by; probes have a default one.
    fn condition(self, spec: &CheckSpec) -> Option<Condition> {
        match (self, &spec.success_condition) {
            (Source::Exec(_), _) => None,
            (_, Some(expr)) => Some(expr.0.clone()),
            (Source::Probe(_), None) => Some(
                Condition::parse(traffic::DEFAULT_CONDITION).expect("the default condition parses"),
            ),
            (_, None) => None,
        }
    }

    /// How a measurement is judged when there is no condition, for the summary.
    fn implicit_condition(self) -> &'static str {
        match self {
            Source::Exec(_) => "exit code 0",
            Source::Webhook(_) => "a 2xx status",
            Source::Prometheus(_) | Source::Probe(_) => "none",
        }
    }

    async fn measure(
        self,
        name: &str,
        cond: Option<&Condition>,
        ctx: &CheckContext,
    ) -> Measurement {
        match self {
            Source::Prometheus(p) => match cond {
                Some(c) => prometheus::measure(p, c, ctx).await,
                None => Measurement::error("a Prometheus check needs a `successCondition`"),
            },
            Source::Webhook(w) => webhook::measure(name, w, cond, ctx).await,
            Source::Exec(e) => exec::measure(e, ctx).await,
            Source::Probe(p) => match cond {
                Some(c) => traffic::measure(p, c, ctx).await,
                None => Measurement::error("a probe check needs a condition"),
            },
        }
    }
}

/// Runs one check to its verdict. `on_measurement(name, m)` is called after each measurement.
pub async fn run_check(
    name: &str,
    spec: &CheckSpec,
    ctx: &CheckContext,
    on_measurement: &(dyn Fn(&str, &Measurement) + Sync),
) -> Verdict {
    let policy = Policy::from_spec(spec);
    let interval = spec.interval.map_or(DEFAULT_INTERVAL, |d| d.0);
    let limits = format!(
        "count {} every {}, failureLimit {}, consecutiveErrorLimit {}, noData {}",
        policy.count,
        fmt_duration(interval),
        policy.failure_limit,
        policy.consecutive_error_limit,
        no_data_name(policy.no_data)
    );
    let source = match Source::of(spec) {
        Ok(s) => s,
        Err(e) => {
            return Verdict {
                check: name.to_string(),
                outcome: Outcome::Error,
                asked: String::new(),
                condition: None,
                limits,
                measurements: Vec::new(),
                summary: format!("{name}: ERROR — {e}"),
            }
        }
    };
    let asked = source.asked(ctx);
    let condition = source.condition(spec);
    let run = measure_loop(
        &policy,
        interval,
        ctx.deadline,
        || source.measure(name, condition.as_ref(), ctx),
        |m| on_measurement(name, m),
    )
    .await;
    let (subject, verb) = source.phrase(&asked);
    let condition_text = condition.as_ref().map_or_else(
        || source.implicit_condition().to_string(),
        |c| format!("`{}`", c.source().trim()),
    );
    let summary = summarize(name, &policy, &run, &subject, verb, &condition_text);
    Verdict {
        check: name.to_string(),
        outcome: run.verdict.unwrap_or(Outcome::Error),
        asked,
        condition: condition.map(|c| c.source().trim().to_string()),
        limits,
        measurements: run.measurements,
        summary,
    }
}

/// Runs the named checks concurrently; the verdicts come back in the order of `names`. Every
/// check runs to its own verdict (one failing does not cancel the others) unless the deadline
/// passes. A name missing from `checks` gets an `Error` verdict.
pub async fn run_checks(
    names: &[String],
    checks: &IndexMap<String, CheckSpec>,
    ctx: &CheckContext,
    on_measurement: &(dyn Fn(&str, &Measurement) + Sync),
) -> Vec<Verdict> {
    let runs = names.iter().map(|name| async move {
        match checks.get(name) {
            Some(spec) => run_check(name, spec, ctx, on_measurement).await,
            None => Verdict {
                check: name.clone(),
                outcome: Outcome::Error,
                asked: String::new(),
                condition: None,
                limits: String::new(),
                measurements: Vec::new(),
                summary: format!("{name}: ERROR — the plan has no check named `{name}`"),
            },
        }
    });
    futures::future::join_all(runs).await
}

/// A number for humans: four significant digits, no trailing zeros, integers as integers.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 12) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A duration for humans: `250ms`, `1.5s`, `2m`, `1m30s`.
pub fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        let ms = d.as_secs_f64() * 1000.0;
        if ms >= 1.0 || ms == 0.0 {
            format!("{}ms", fmt_num((ms * 10.0).round() / 10.0))
        } else {
            format!("{}µs", fmt_num((ms * 1000.0).round()))
        }
    } else if d < Duration::from_mins(1) {
        format!("{}s", fmt_num((d.as_secs_f64() * 10.0).round() / 10.0))
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs()))
            .to_string()
            .replace(' ', "")
    }
}

/// A one-line, bounded excerpt of a body or output ([`crate::redact::server_text`]: control
/// characters folded, whitespace collapsed, cut at `max` chars, secrets redacted).
pub fn snippet(bytes: &[u8], max: usize) -> String {
    let head = &bytes[..bytes.len().min(max.saturating_mul(8).max(256))];
    let text = crate::redact::server_text(&String::from_utf8_lossy(head), max);
    if head.len() < bytes.len() && !text.ends_with('…') {
        text + "…"
    } else {
        text
    }
}

/// Explains a failed HTTP call without the noise of reqwest's wrapper text.
pub fn http_error(e: &reqwest::Error, limit: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}", fmt_duration(limit));
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let root = cause.to_string();
    if e.is_connect() {
        format!("unreachable ({root})")
    } else if e.is_builder() {
        format!("invalid request ({root})")
    } else {
        root
    }
}

/// `url` with userinfo and secret-looking query values replaced, for output.
pub fn redact_url(url: &str) -> String {
    crate::redact::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> CheckSpec {
        serde_json::from_value(json).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn run_check_with_a_passed_deadline_is_an_error_not_a_pass() {
        let ctx = CheckContext::new(Duration::ZERO);
        let s = spec(serde_json::json!({"exec": {"command": ["true"]}}));
        let v = run_check("smoke", &s, &ctx, &|_, _| {}).await;
        assert_eq!(v.outcome, Outcome::Error);
        assert_eq!(
            v.summary,
            "smoke: ERROR — `true` was not measured; condition exit code 0; stopped at the deadline after 0 of 1 measurements"
        );
    }

    #[tokio::test]
    async fn a_check_without_a_source_is_an_error() {
        let ctx = CheckContext::new(Duration::from_secs(5));
        let s = spec(serde_json::json!({}));
        let v = run_check("empty", &s, &ctx, &|_, _| {}).await;
        assert_eq!(v.outcome, Outcome::Error);
        assert!(v.summary.contains("exactly one of"), "{}", v.summary);
    }

    #[tokio::test]
    async fn run_checks_reports_unknown_names_in_order() {
        let ctx = CheckContext::new(Duration::from_secs(5));
        let mut checks = IndexMap::new();
        checks.insert(
            "ok".to_string(),
            spec(serde_json::json!({"exec": {"command": ["true"]}})),
        );
        let names = vec!["missing".to_string(), "ok".to_string()];
        let v = run_checks(&names, &checks, &ctx, &|_, _| {}).await;
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].check.as_str(), v[0].outcome),
            ("missing", Outcome::Error)
        );
        assert_eq!(
            v[0].summary,
            "missing: ERROR — the plan has no check named `missing`"
        );
        assert_eq!((v[1].check.as_str(), v[1].outcome), ("ok", Outcome::Pass));
    }

    #[test]
    fn run_checks_is_send_so_the_engine_can_spawn_it() {
        fn assert_send<T: Send>(_: &T) {}
        let ctx = CheckContext::new(Duration::from_secs(1));
        let checks = IndexMap::new();
        let names: Vec<String> = Vec::new();
        let fut = run_checks(&names, &checks, &ctx, &|_, _| {});
        assert_send(&fut);
    }

    #[test]
    fn numbers_and_durations_for_humans() {
        assert_eq!(fmt_num(0.177_339_901_477_832_5), "0.1773");
        assert_eq!(fmt_num(0.000_123_46), "0.0001235");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(200.0), "200");
        assert_eq!(fmt_num(123.456), "123.5");
        assert_eq!(fmt_num(-0.25), "-0.25");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_num(f64::INFINITY), "+Inf");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(fmt_duration(Duration::from_micros(20)), "20µs");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_duration(Duration::from_secs(10)), "10s");
        assert_eq!(fmt_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(fmt_duration(Duration::from_mins(5)), "5m");
    }

    #[test]
    fn snippets_and_redaction() {
        assert_eq!(snippet(b"  a\n\n  b  c ", 100), "a b c");
        assert_eq!(snippet(b"abcdef", 3), "abc…");
        assert_eq!(
            redact_url("http://user:hunter2@h:1/p"),
            "http://<redacted>@h:1/p"
        );
        assert_eq!(redact_url("http://h:1/p?q=1"), "http://h:1/p?q=1");
    }
}
