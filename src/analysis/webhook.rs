//! Webhook checks and webhook hooks: one HTTP call each.
//!
//! The call uses `method` (default `POST`), `timeout` (default `10s`, and never past the
//! analysis deadline) and `headers`, whose values are sent but never printed. `POST`, `PUT` and
//! `PATCH` carry a small JSON body naming what called (`{"check": "<name>"}` or
//! `{"hook": "<kind>"}`), so one endpoint can serve several checks.
//!
//! Judging a check:
//! - without a `successCondition`, a 2xx status passes; anything else fails with the status and
//!   a short body snippet;
//! - with one, `status` is the HTTP status and `result` the JSON body: a number, a boolean or a
//!   list of numbers; for an object body each numeric or boolean leaf is `result.<dotted.path>`
//!   (`{"checks": {"ok": true}}` gives `result.checks.ok`). Numbers sent as strings (`"0.5"`)
//!   count as numbers. A variable the body does not have makes the measurement an `Error` that
//!   shows the body.
//! - an unreachable endpoint or a timeout is an `Error` (retried up to `consecutiveErrorLimit`).
//! - a redirect (3xx) is an `Error` naming the `Location`: it is never followed, because the
//!   call's headers would go along ([`crate::http`]); an answer over
//!   [`crate::http::limits::WEBHOOK_BODY`] is an `Error` too.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value as Json;

use crate::analysis::checks::{
    fmt_num, http_error, redact_url, snippet, CheckContext, Measurement, Outcome,
};
use crate::analysis::condition::{Condition, EvalError, Value};
use crate::plan::model::{FollowRedirects, WebhookSpec};

/// Default timeout of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// JSON values parsed from one answer.
const WEBHOOK_NODES: usize = 200_000;
/// Longest body excerpt shown.
const SNIPPET: usize = 200;

/// `POST http://…/smoke` (password in the URL redacted).
pub(crate) fn describe(w: &WebhookSpec) -> String {
    format!("{} {}", method(w), redact_url(&w.url))
}

fn method(w: &WebhookSpec) -> String {
    w.method
        .as_deref()
        .unwrap_or("POST")
        .trim()
        .to_ascii_uppercase()
}

/// An answered call.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Makes the call. `Err` explains why there is no answer.
pub(crate) async fn call(
    w: &WebhookSpec,
    body: &Json,
    ctx: &CheckContext,
) -> Result<Answer, String> {
    let method_text = method(w);
    let method = reqwest::Method::from_bytes(method_text.as_bytes())
        .map_err(|_| format!("invalid HTTP method `{method_text}`"))?;
    let (limit, _) = ctx.cap(w.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0));
    let client = match w.follow_redirects {
        FollowRedirects::Never => ctx.http.clone(),
        FollowRedirects::SameOrigin => crate::http::follow::same_origin_client(),
    };
    let mut req = client.request(method.clone(), &w.url).timeout(limit);
    for (name, value) in &w.headers {
        req = req.header(name.as_str(), value.expose());
    }
    if matches!(
        method,
        reqwest::Method::POST | reqwest::Method::PUT | reqwest::Method::PATCH
    ) {
        req = req.json(body);
    }
    let resp = req.send().await.map_err(|e| http_error(&e, limit))?;
    if let Some(r) = crate::http::redirected(&resp) {
        return Err(r.to_string());
    }
    let status = resp.status().as_u16();
    let body = crate::http::read_body(resp, crate::http::limits::WEBHOOK_BODY)
        .await
        .map_err(|e| match e {
            crate::http::BodyError::Read(e) => {
                format!("reading the answer failed: {}", http_error(&e, limit))
            }
            e @ crate::http::BodyError::TooLarge { .. } => e.to_string(),
        })?;
    Ok(Answer { status, body })
}

/// One measurement of a webhook check.
pub(crate) async fn measure(
    name: &str,
    w: &WebhookSpec,
    cond: Option<&Condition>,
    ctx: &CheckContext,
) -> Measurement {
    let answer = match call(w, &serde_json::json!({ "check": name }), ctx).await {
        Ok(a) => a,
        Err(e) => return Measurement::error(e),
    };
    judge(&answer, cond)
}

fn judge(a: &Answer, cond: Option<&Condition>) -> Measurement {
    let status = a.status;
    let Some(cond) = cond else {
        return if (200..300).contains(&status) {
            Measurement::new(
                Outcome::Pass,
                format!("HTTP {status}"),
                "a 2xx status passes",
            )
        } else {
            let body = snippet(&a.body, SNIPPET);
            Measurement::new(
                Outcome::Fail,
                format!("HTTP {status}"),
                if body.is_empty() {
                    format!("HTTP {status} (empty body); a 2xx status passes")
                } else {
                    format!("HTTP {status}: {body}")
                },
            )
        };
    };
    let vars = variables(status, &a.body);
    let source = cond.source().trim();
    // The value shown: the status, then each body variable the condition uses.
    let mut value = format!("HTTP {status}");
    for v in cond.variables() {
        if v != "status" {
            if let Some(x) = vars.get(&v) {
                value += &format!(", {v} = {}", show(x));
            }
        }
    }
    match cond.eval(&|n| vars.get(n).cloned()) {
        Ok(true) => Measurement::new(Outcome::Pass, value, format!("`{source}` holds")),
        Ok(false) => Measurement::new(
            Outcome::Fail,
            value,
            format!(
                "`{source}` does not hold (body: {})",
                snippet(&a.body, SNIPPET)
            ),
        ),
        Err(e @ EvalError::UnknownVariable { .. }) => Measurement {
            outcome: Outcome::Error,
            value: Some(format!("HTTP {status}")),
            detail: format!(
                "cannot evaluate `{source}`: {e} in the answer (HTTP {status}, body: {})",
                snippet(&a.body, SNIPPET)
            ),
        },
        Err(e) => Measurement {
            outcome: Outcome::Error,
            value: Some(value),
            detail: format!("cannot evaluate `{source}`: {e}"),
        },
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Number(x) => fmt_num(*x),
        Value::Bool(b) => b.to_string(),
        Value::Vector(xs) => format!(
            "[{}]",
            xs.iter()
                .map(|x| fmt_num(*x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `status`, and `result` / `result.<path>` from a JSON body.
pub(crate) fn variables(status: u16, body: &[u8]) -> HashMap<String, Value> {
    let mut vars = HashMap::new();
    vars.insert("status".to_string(), Value::Number(f64::from(status)));
    let budget = crate::http::json::Budget::new(WEBHOOK_NODES);
    if let Ok(json) = crate::http::json::parse_bounded(body, &budget) {
        flatten("result", &json, &mut vars);
    }
    vars
}

fn flatten(path: &str, json: &Json, out: &mut HashMap<String, Value>) {
    const MAX_VARS: usize = 10_000;
    if out.len() >= MAX_VARS {
        return;
    }
    match json {
        Json::Bool(b) => {
            out.insert(path.to_string(), Value::Bool(*b));
        }
        Json::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.insert(path.to_string(), Value::Number(x));
            }
        }
        Json::String(s) => {
            if let Ok(x) = s.trim().parse::<f64>() {
                out.insert(path.to_string(), Value::Number(x));
            }
        }
        Json::Array(items) => {
            let numbers: Option<Vec<f64>> = items.iter().map(Json::as_f64).collect();
            if let Some(v) = numbers {
                out.insert(path.to_string(), Value::Vector(v));
            }
        }
        Json::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        Json::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn cond(src: &str) -> Condition {
        Condition::parse(src).unwrap()
    }

    #[test]
    fn without_a_condition_2xx_passes() {
        let m = judge(&answer(204, ""), None);
        assert_eq!(
            (m.outcome, m.value.as_deref()),
            (Outcome::Pass, Some("HTTP 204"))
        );
        let m = judge(&answer(503, "  down\n for maintenance "), None);
        assert_eq!(m.outcome, Outcome::Fail);
        assert_eq!(m.detail, "HTTP 503: down for maintenance");
        let m = judge(&answer(302, ""), None);
        assert_eq!(m.outcome, Outcome::Fail);
    }

    #[test]
    fn body_leaves_become_dotted_variables() {
        let vars = variables(
            200,
            br#"{"ok": true, "stats": {"errorRate": 0.002, "p99": "0.25", "name": "x"}, "xs": [1, 2], "n": null}"#,
        );
        assert_eq!(vars["status"], Value::Number(200.0));
        assert_eq!(vars["result.ok"], Value::Bool(true));
        assert_eq!(vars["result.stats.errorRate"], Value::Number(0.002));
        assert_eq!(vars["result.stats.p99"], Value::Number(0.25));
        assert_eq!(vars["result.xs"], Value::Vector(vec![1.0, 2.0]));
        assert!(!vars.contains_key("result.stats.name"));
        assert!(!vars.contains_key("result.n"));
        assert_eq!(variables(200, b"0.5")["result"], Value::Number(0.5));
        assert_eq!(variables(200, b"true")["result"], Value::Bool(true));
        assert_eq!(variables(200, b"not json").len(), 1);
    }

    #[test]
    fn condition_on_status_and_body() {
        let body = r#"{"errorRate": 0.3}"#;
        let m = judge(
            &answer(200, body),
            Some(&cond("status == 200 && result.errorRate < 0.01")),
        );
        assert_eq!(m.outcome, Outcome::Fail);
        assert_eq!(m.value.as_deref(), Some("HTTP 200, result.errorRate = 0.3"));
        let m = judge(
            &answer(200, r#"{"errorRate": 0.001}"#),
            Some(&cond("result.errorRate < 0.01")),
        );
        assert_eq!(m.outcome, Outcome::Pass);
        assert_eq!(
            m.value.as_deref(),
            Some("HTTP 200, result.errorRate = 0.001")
        );
        let m = judge(&answer(200, "true"), Some(&cond("result")));
        assert_eq!(m.outcome, Outcome::Pass);
        let m = judge(&answer(500, "true"), Some(&cond("status < 500 && result")));
        assert_eq!(
            (m.outcome, m.value.as_deref()),
            (Outcome::Fail, Some("HTTP 500, result = true"))
        );
    }

    #[test]
    fn a_variable_missing_from_the_body_is_an_error_showing_the_body() {
        let m = judge(
            &answer(200, r#"{"rate": 1}"#),
            Some(&cond("result.errorRate < 0.01")),
        );
        assert_eq!(m.outcome, Outcome::Error);
        assert_eq!(
            m.detail,
            "cannot evaluate `result.errorRate < 0.01`: no data for `result.errorRate` in the answer (HTTP 200, body: {\"rate\": 1})"
        );
    }
}
