//! Sampling: the one way bgctl sends its own GETs to a data plane and judges the answers. Used
//! by the health probes ([`crate::probe`], one target at a time), data-plane verification
//! ([`crate::engine::verify`], through the proxy) and the `probe` analysis check
//! ([`crate::analysis::traffic`], through the proxy).
//!
//! Every request goes through the caller's client, built on the one policy of [`super`]: no
//! redirects (a 3xx is an answer like any other), a connect timeout, and here a per-request
//! timeout the caller computes when the request starts (so it can be capped by a deadline).
//! Of an answer, at most [`super::limits::PROBE_BODY`] is read (enough to reuse the
//! connection); what is kept is the status, the latency and, when asked for, the value of one
//! response header — server text, so it is made printable and capped before anyone sees it.
//!
//! An answer *fails* when there is none (socket error, timeout) or it is a 5xx; everything
//! below 500 succeeded, as far as sampling is concerned (a probe may demand specific statuses).
//!
//! Decision: failure reasons are short and stable (`HTTP 503`, `no answer within 5s`,
//! `unreachable (connection refused)`) because they are counted and printed as `reason ×N`.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::time::Instant;

/// At most this many characters of a header value are kept.
pub const HEADER_CHARS: usize = 100;

/// One request to send (possibly many times).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The full URL.
    pub url: &'a str,
    /// A `Host` header to send instead of the URL's.
    pub host: Option<&'a str>,
    /// A response header whose value is kept (e.g. `X-Backend`).
    pub header: Option<&'a str>,
}

/// What one request got.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status, or why there was none.
    pub status: Result<u16, String>,
    /// From sending to the end of the (bounded) body read, or to the failure.
    pub latency: Duration,
    /// The value of [`Request::header`], printable and capped; `None` when it was not sent.
    pub header: Option<String>,
}

impl Answer {
    /// Why this answer counts as failed (`HTTP 503`, a socket error), or `None` (below 500).
    pub fn failure(&self) -> Option<String> {
        match &self.status {
            Ok(code) if *code >= 500 => Some(format!("HTTP {code}")),
            Ok(_) => None,
            Err(why) => Some(why.clone()),
        }
    }
}

/// Sends one GET with the given timeout.
pub async fn get(client: &reqwest::Client, req: &Request<'_>, timeout: Duration) -> Answer {
    let mut r = client.get(req.url).timeout(timeout);
    if let Some(h) = req.host {
        r = r.header(reqwest::header::HOST, h);
    }
    let start = Instant::now();
    match r.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let header = req.header.and_then(|name| {
                resp.headers().get(name).map(|v| {
                    crate::redact::server_text(&String::from_utf8_lossy(v.as_bytes()), HEADER_CHARS)
                })
            });
            super::drain(resp, super::limits::PROBE_BODY).await;
            Answer {
                status: Ok(status),
                latency: start.elapsed(),
                header,
            }
        }
        Err(e) => Answer {
            status: Err(reason(&e, timeout)),
            latency: start.elapsed(),
            header: None,
        },
    }
}

/// Sends `n` GETs, `concurrency` at a time; `timeout` is asked when each request starts.
/// Answers come back in the order they completed.
pub async fn many(
    client: &reqwest::Client,
    req: &Request<'_>,
    n: u32,
    concurrency: usize,
    timeout: &(dyn Fn() -> Duration + Sync),
) -> Vec<Answer> {
    stream::iter(0..n)
        .map(|_| async move { get(client, req, timeout()).await })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Why a request got no answer, short enough to count (`reason ×N`).
pub fn reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}", short(timeout));
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let root = crate::redact::server_text(&cause.to_string(), 200);
    if e.is_connect() {
        format!("unreachable ({root})")
    } else {
        root
    }
}

/// `200ms`, `5s`, `2.5s`: a timeout as people write it.
fn short(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Failure reasons with counts, most frequent first, at most `max` of them: `HTTP 500 ×3, …`.
pub fn top_reasons(answers: &[Answer], max: usize) -> String {
    counted(answers.iter().filter_map(Answer::failure), max)
}

/// `a ×3, b ×1`: values with counts, most frequent first (ties by name), at most `max`
/// (the rest summed as `… ×N more`).
pub fn counted(values: impl Iterator<Item = String>, max: usize) -> String {
    let mut by: BTreeMap<String, u32> = BTreeMap::new();
    for v in values {
        *by.entry(v).or_default() += 1;
    }
    let mut list: Vec<(String, u32)> = by.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut shown: Vec<String> = list
        .iter()
        .take(max)
        .map(|(v, n)| format!("{v} ×{n}"))
        .collect();
    let rest: u32 = list.iter().skip(max).map(|(_, n)| n).sum();
    if rest > 0 {
        shown.push(format!("others ×{rest}"));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests;
