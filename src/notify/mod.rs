//! Notifications (issue 17 item 5): one JSON payload per rollout transition to the plan's
//! `notifications` (a generic webhook, or a Slack incoming webhook), filtered by `on`.
//!
//! A notification is reported, never fatal: each is sent with a short timeout per attempt
//! (`timeout`, default 2s) and bounded retries (`retries`, default 2; connection errors,
//! timeouts, 429 and 5xx are retried after 250 ms, 500 ms, …), every receiver at once, and a
//! receiver that fails is reported as an event (`notified` with `ok: false`, a warning line in
//! text) while the release goes on with its exit code unchanged. The time a dead receiver can
//! cost is bounded: attempts × timeout plus the backoff, per transition.
//!
//! Transitions are the phases a run records (see `engine/notify.rs`): `started` (a run's first
//! traffic write), `promoted` (the first write of `bgctl promote`), `paused`, `completed`,
//! `aborted`, `rolledBack`, `failed`. Header values and Slack URLs may hold secrets: they are
//! `${VAR}`-interpolated like the rest of the plan and never printed (the webhook URL is shown
//! without its query and userinfo).

use std::time::Duration;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::plan::model::{Dur, Plan, Secret};
use crate::plan::Problem;

/// One receiver of notifications: exactly one of `webhook` or `slack`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Notification {
    /// POST the JSON payload to a URL.
    #[serde(default)]
    pub webhook: Option<Webhook>,
    /// POST `{"text": …}` to a Slack incoming webhook.
    #[serde(default)]
    pub slack: Option<Slack>,
    /// Only these transitions (default: all).
    #[serde(default)]
    pub on: Vec<On>,
    /// Per-attempt timeout (default `2s`, at most `30s`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Further attempts after a failed one (default 2, at most 5).
    #[serde(default)]
    pub retries: Option<u32>,
}

/// A generic webhook.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Webhook {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Extra request headers (values are never printed).
    #[serde(default)]
    pub headers: IndexMap<String, Secret>,
}

/// A Slack incoming webhook.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Slack {
    /// The incoming-webhook URL (a secret: never printed).
    pub webhook_url: Secret,
}

/// A rollout transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum On {
    /// A run made its first traffic change.
    Started,
    /// The rollout waits (a timed pause, a manual gate, an inconclusive analysis).
    Paused,
    /// `bgctl promote` passed a gate and continues the rollout.
    Promoted,
    /// A person aborted the canary; traffic is back on stable.
    Aborted,
    /// Traffic went back to the side that served before (a failed check, or `rollback`).
    RolledBack,
    /// The rollout finished and was verified.
    Completed,
    /// The rollout failed and could not be rolled back.
    Failed,
}

impl On {
    /// The payload's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            On::Started => "started",
            On::Paused => "paused",
            On::Promoted => "promoted",
            On::Aborted => "aborted",
            On::RolledBack => "rolledBack",
            On::Completed => "completed",
            On::Failed => "failed",
        }
    }
}

/// The JSON a webhook receives (documented in the README).
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// The rollout (`metadata.name`).
    pub rollout: String,
    /// The transition.
    pub event: On,
    /// The command that made it (`release`, `apply`, `promote`, `rollback`, …).
    pub command: String,
    /// Where traffic went when the run started (`blue`, `blue+green 10%`, `-`).
    pub from: String,
    /// The side the run sends traffic to (or went back to).
    pub to: String,
    /// The phase recorded in the target (`progressing`, `paused`, `completed`, …).
    pub phase: String,
    /// Canary: the steps done so far, and how many there are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Canary: the number of steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Canary: the requested canary weight, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// The latest analysis verdicts, `check OUTCOME value`.
    pub verdicts: Vec<String>,
    /// Why it was rolled back or failed; what it waits for when paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who ran it (CI user, else `user@host`).
    pub who: String,
    /// The CI job, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The run's id.
    pub run: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// One line for people (what Slack shows).
    pub text: String,
}

/// What happened to one notification.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `webhook` or `slack`.
    pub kind: &'static str,
    /// The receiver, printable (no query, no userinfo; Slack's is hidden).
    pub target: String,
    /// Whether it was delivered (a 2xx answer).
    pub ok: bool,
    /// Attempts made.
    pub attempts: u32,
    /// The last answer or error.
    pub detail: String,
}

/// Checks `notifications` (a second-pass plan problem each).
pub fn validate(plan: &Plan, v: &mut Vec<Problem>) {
    for (i, n) in plan.notifications.iter().enumerate() {
        let at = format!("notifications[{i}]");
        match (&n.webhook, &n.slack) {
            (Some(w), None) => {
                if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                    v.push(
                        Problem::new(&format!("{at}.webhook.url"), "not an http(s) URL")
                            .hint("write e.g. `https://hooks.example.com/bgctl`"),
                    );
                }
            }
            (None, Some(s)) => {
                // The whole URL is the credential.
                crate::redact::register(s.webhook_url.expose());
                if !s.webhook_url.expose().starts_with("https://")
                    && !s.webhook_url.expose().starts_with("http://")
                {
                    v.push(Problem::new(
                        &format!("{at}.slack.webhookUrl"),
                        "not an http(s) URL",
                    ));
                }
            }
            _ => v.push(
                Problem::new(&at, "set exactly one of `webhook` or `slack`")
                    .hint("e.g. `- webhook: {url: https://…}`"),
            ),
        }
        if n.timeout
            .is_some_and(|t| t.0.is_zero() || t.0 > Duration::from_secs(30))
        {
            v.push(Problem::new(
                &format!("{at}.timeout"),
                "must be above 0 and at most 30s (a notification never holds a release up for long)",
            ));
        }
        if n.retries.is_some_and(|r| r > 5) {
            v.push(Problem::new(&format!("{at}.retries"), "at most 5"));
        }
    }
}

/// The receivers of `plan` that want `event`.
pub fn wanted(plan: &Plan, event: On) -> Vec<&Notification> {
    plan.notifications
        .iter()
        .filter(|n| n.on.is_empty() || n.on.contains(&event))
        .collect()
}

/// Sends `payload` to every receiver at once; never fails, each result says what happened.
/// Nothing takes longer than `latest`.
pub async fn send_all(
    http: &reqwest::Client,
    receivers: &[&Notification],
    payload: &Payload,
    latest: tokio::time::Instant,
) -> Vec<Sent> {
    let sends = receivers.iter().map(|n| send(http, n, payload, latest));
    futures::future::join_all(sends).await
}

async fn send(
    http: &reqwest::Client,
    n: &Notification,
    payload: &Payload,
    latest: tokio::time::Instant,
) -> Sent {
    let timeout = n.timeout.map_or(Duration::from_secs(2), |d| d.0);
    let attempts = 1 + n.retries.unwrap_or(2).min(5);
    let (kind, url, target, body, headers) = match (&n.webhook, &n.slack) {
        (Some(w), _) => (
            "webhook",
            w.url.clone(),
            printable(&w.url),
            serde_json::to_value(payload).unwrap_or_default(),
            w.headers
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string()))
                .collect::<Vec<_>>(),
        ),
        (None, Some(s)) => (
            "slack",
            s.webhook_url.expose().to_string(),
            "slack webhook".to_string(),
            serde_json::json!({ "text": payload.text }),
            Vec::new(),
        ),
        (None, None) => unreachable!("validated: one receiver kind"),
    };
    let mut detail = String::new();
    for attempt in 1..=attempts {
        let left = latest.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            detail = format!("{detail} (the run's deadline came)")
                .trim()
                .to_string();
            return Sent {
                kind,
                target,
                ok: false,
                attempts: attempt - 1,
                detail,
            };
        }
        let mut req = http.post(&url).json(&body);
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let retry = match tokio::time::timeout(timeout.min(left), req.send()).await {
            Ok(Ok(resp)) if resp.status().is_success() => {
                return Sent {
                    kind,
                    target,
                    ok: true,
                    attempts: attempt,
                    detail: format!("HTTP {}", resp.status().as_u16()),
                }
            }
            Ok(Ok(resp)) => {
                let status = resp.status();
                detail = format!("HTTP {}", status.as_u16());
                status.is_server_error() || status.as_u16() == 429
            }
            Ok(Err(e)) => {
                detail = crate::redact::one_line(&crate::error::chain(&e).join(": "));
                true
            }
            Err(_) => {
                detail = format!("no answer within {}", humantime::format_duration(timeout));
                true
            }
        };
        if !retry || attempt == attempts {
            return Sent {
                kind,
                target,
                ok: false,
                attempts: attempt,
                detail,
            };
        }
        let pause = Duration::from_millis(250 * u64::from(attempt));
        tokio::time::sleep(
            pause.min(latest.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
    }
    unreachable!("the loop returns on its last attempt")
}

/// A URL as it may be printed: scheme, host, port and path; no userinfo, no query.
fn printable(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "webhook".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printable_url_has_no_secrets() {
        assert_eq!(
            printable("https://user:pw@hooks.example.com:8443/x/y?token=abc"),
            "https://hooks.example.com:8443/x/y"
        );
    }
}
