//! Prometheus checks: one instant query per measurement over the HTTP API.
//!
//! `GET {url}/api/v1/query?query=…` (`url` may carry a path prefix). What the answer becomes:
//!
//! - `status` other than `success` (a bad query, a timeout inside Prometheus) → `Error` with
//!   Prometheus' own `errorType: error` text; an answer that is not Prometheus JSON → `Error`
//!   with the HTTP status and a body snippet; a refused connection → `Error` ("Prometheus at …
//!   unreachable").
//! - An empty vector → `NoData`, never 0: a series that never occurred (5xx on a healthy color)
//!   is absent in Prometheus (`real-gateways.md` §5), and the plan's `noData` policy says what
//!   that means.
//! - A scalar, or a vector with one series → `result` is that number.
//! - A vector with several series → `result` is a vector; the condition must reduce it
//!   (`max(result) < 0.01`), otherwise the measurement is an `Error` that says how.
//! - NaN anywhere (e.g. `0/0` when there is no traffic) → `Error`: it can neither pass nor fail.
//! - A range vector (matrix) or a string → `Error`: use an instant-vector query.
//! - A redirect → `Error` naming the `Location` (never followed, see [`crate::http`]); an answer
//!   over [`crate::http::limits::PROMETHEUS_BODY`] → `Error`.

use std::time::Duration;

use serde_json::Value as Json;

use crate::analysis::checks::{
    fmt_num, http_error, redact_url, snippet, CheckContext, Measurement, Outcome,
};
use crate::analysis::condition::{Condition, Value};
use crate::plan::model::PrometheusCheck;

/// JSON values kept from one answer (a few per series).
const PROMETHEUS_NODES: usize = 500_000;

/// Default timeout of one query.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The query endpoint for a base URL.
fn endpoint(base: &str, query: &str) -> Result<reqwest::Url, String> {
    let mut url = reqwest::Url::parse(&format!("{}/api/v1/query", base.trim_end_matches('/')))
        .map_err(|e| format!("invalid Prometheus URL `{}`: {e}", redact_url(base)))?;
    url.query_pairs_mut().append_pair("query", query);
    Ok(url)
}

/// One measurement: run the query, judge the result by `cond`.
pub(crate) async fn measure(
    p: &PrometheusCheck,
    cond: &Condition,
    ctx: &CheckContext,
) -> Measurement {
    let url = match endpoint(&p.url, &p.query) {
        Ok(u) => u,
        Err(e) => return Measurement::error(e),
    };
    let (limit, _) = ctx.cap(p.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0));
    let base = redact_url(&p.url);
    let resp = match ctx.http.get(url).timeout(limit).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = http_error(&e, limit);
            let sep = if why.starts_with("unreachable") {
                " "
            } else {
                ": "
            };
            return Measurement::error(format!("Prometheus at {base}{sep}{why}"));
        }
    };
    if let Some(r) = crate::http::redirected(&resp) {
        return Measurement::error(format!("Prometheus at {base} {r}"));
    }
    let status = resp.status();
    let body = match crate::http::read_body(resp, crate::http::limits::PROMETHEUS_BODY).await {
        Ok(b) => b,
        Err(crate::http::BodyError::Read(e)) => {
            return Measurement::error(format!(
                "Prometheus at {base}: reading the answer failed: {}",
                http_error(&e, limit)
            ))
        }
        Err(e) => return Measurement::error(format!("Prometheus at {base}: {e}")),
    };
    match parse(&body) {
        Ok(Sample::Empty) => Measurement::no_data("the query returned an empty vector (no series)"),
        Ok(sample) => judge(&sample, cond),
        Err(Answer::Prometheus(e)) => Measurement::error(format!("Prometheus at {base}: {e}")),
        Err(Answer::NotJson) => Measurement::error(format!(
            "Prometheus at {base} answered HTTP {} with something that is not a query result: {}",
            status.as_u16(),
            snippet(&body, 200)
        )),
    }
}

/// A query result reduced to what conditions see.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sample {
    /// An empty vector.
    Empty,
    /// A scalar or a one-series vector.
    One(f64),
    /// Several series: (labels, value).
    Many(Vec<(String, f64)>),
}

/// Why an answer has no sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Prometheus said why (or the result had an unusable shape).
    Prometheus(String),
    /// Not Prometheus JSON at all.
    NotJson,
}

/// Parses an `/api/v1/query` answer.
pub(crate) fn parse(body: &[u8]) -> Result<Sample, Answer> {
    let budget = crate::http::json::Budget::new(PROMETHEUS_NODES);
    let json: Json = crate::http::json::parse_bounded(body, &budget).map_err(|e| {
        if e.is_data() {
            Answer::Prometheus(e.to_string())
        } else {
            Answer::NotJson
        }
    })?;
    let Some(status) = json.get("status").and_then(Json::as_str) else {
        return Err(Answer::NotJson);
    };
    if status != "success" {
        let kind = json
            .get("errorType")
            .and_then(Json::as_str)
            .unwrap_or("error");
        let text = json
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or("(no error text)");
        return Err(Answer::Prometheus(format!(
            "query failed ({}): {}",
            crate::redact::server_text(kind, 40),
            crate::redact::server_text(text, crate::redact::SERVER_TEXT_MAX)
        )));
    }
    let data = &json["data"];
    let result = &data["result"];
    match data.get("resultType").and_then(Json::as_str) {
        Some("scalar") => Ok(Sample::One(number(result)?)),
        Some("vector") => {
            let series = result
                .as_array()
                .ok_or_else(|| Answer::Prometheus("`data.result` is not a list".into()))?;
            let mut values = Vec::with_capacity(series.len());
            for s in series {
                values.push((labels(&s["metric"]), number(&s["value"])?));
            }
            Ok(match values.len() {
                0 => Sample::Empty,
                1 => Sample::One(values[0].1),
                _ => Sample::Many(values),
            })
        }
        Some("matrix") => Err(Answer::Prometheus(
            "the query returned a range vector (matrix); use an instant-vector query, e.g. wrap it in rate(…[30s])".into(),
        )),
        Some(other) => Err(Answer::Prometheus(format!(
            "the query returned a {other}, not a number"
        ))),
        None => Err(Answer::NotJson),
    }
}

/// `[timestamp, "value"]` → the value.
fn number(pair: &Json) -> Result<f64, Answer> {
    let text = pair.get(1).and_then(Json::as_str).ok_or_else(|| {
        Answer::Prometheus(format!(
            "unexpected sample `{}`",
            crate::redact::server_text(&pair.to_string(), 100)
        ))
    })?;
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        t => t.parse().map_err(|_| {
            Answer::Prometheus(format!(
                "unexpected sample value `{}`",
                crate::redact::server_text(t, 100)
            ))
        }),
    }
}

/// `{__name__="x", color="green"}` → `x{color="green"}`.
fn labels(metric: &Json) -> String {
    let Some(map) = metric.as_object() else {
        return "{}".into();
    };
    let name = map.get("__name__").and_then(Json::as_str).unwrap_or("");
    let pairs: Vec<String> = map
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or_default()))
        .collect();
    crate::redact::server_text(&format!("{name}{{{}}}", pairs.join(", ")), 200)
}

/// The value as text: `0.1773` or `3 series: {color="a"} 0.1, …`.
fn value_text(sample: &Sample) -> String {
    const SHOWN: usize = 4;
    match sample {
        Sample::Empty => "no data".into(),
        Sample::One(x) => fmt_num(*x),
        Sample::Many(series) => {
            let mut parts: Vec<String> = series
                .iter()
                .take(SHOWN)
                .map(|(l, x)| format!("{l} {}", fmt_num(*x)))
                .collect();
            if series.len() > SHOWN {
                parts.push("…".into());
            }
            format!("{} series: {}", series.len(), parts.join(", "))
        }
    }
}

/// Judges a non-empty sample by the condition.
fn judge(sample: &Sample, cond: &Condition) -> Measurement {
    let text = value_text(sample);
    let value = match sample {
        Sample::Empty => unreachable!("empty results are NoData before judging"),
        Sample::One(x) => Value::Number(*x),
        Sample::Many(series) => Value::Vector(series.iter().map(|s| s.1).collect()),
    };
    let nan = match &value {
        Value::Number(x) => x.is_nan(),
        Value::Vector(v) => v.iter().any(|x| x.is_nan()),
        Value::Bool(_) => false,
    };
    if nan {
        return Measurement {
            outcome: Outcome::Error,
            value: Some(text),
            detail: "the query returned NaN (often 0/0: no requests in the window); it can neither pass nor fail".into(),
        };
    }
    let source = cond.source().trim();
    match cond.eval(&|name| (name == "result").then(|| value.clone())) {
        Ok(true) => Measurement::new(
            Outcome::Pass,
            text.clone(),
            format!("`{source}` holds for result = {text}"),
        ),
        Ok(false) => Measurement::new(
            Outcome::Fail,
            text.clone(),
            format!("`{source}` does not hold for result = {text}"),
        ),
        Err(e) => Measurement {
            outcome: Outcome::Error,
            value: Some(text),
            detail: format!("cannot evaluate `{source}`: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(values: &[(&str, &str)]) -> Vec<u8> {
        let result: Vec<Json> = values
            .iter()
            .map(|(color, v)| {
                serde_json::json!({"metric": {"color": color}, "value": [1_700_000_000.0, v]})
            })
            .collect();
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}})
            .to_string()
            .into_bytes()
    }

    fn cond(src: &str) -> Condition {
        Condition::parse(src).unwrap()
    }

    #[test]
    fn empty_vector_is_empty_not_zero() {
        assert_eq!(parse(&vector(&[])), Ok(Sample::Empty));
    }

    #[test]
    fn one_series_and_scalars_are_numbers() {
        assert_eq!(parse(&vector(&[("green", "0.25")])), Ok(Sample::One(0.25)));
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"3"]}}"#;
        assert_eq!(parse(scalar), Ok(Sample::One(3.0)));
    }

    #[test]
    fn several_series_keep_their_labels() {
        let s = parse(&vector(&[("a", "0.1"), ("b", "0.2")])).unwrap();
        assert_eq!(
            s,
            Sample::Many(vec![
                ("{color=\"a\"}".into(), 0.1),
                ("{color=\"b\"}".into(), 0.2)
            ])
        );
        assert_eq!(
            value_text(&s),
            "2 series: {color=\"a\"} 0.1, {color=\"b\"} 0.2"
        );
    }

    #[test]
    fn several_series_must_be_reduced() {
        let s = parse(&vector(&[("a", "0.1"), ("b", "0.2"), ("c", "0.001")])).unwrap();
        let m = judge(&s, &cond("result < 0.5"));
        assert_eq!(m.outcome, Outcome::Error);
        assert_eq!(
            m.detail,
            "cannot evaluate `result < 0.5`: `result` has 3 series; reduce it with max(result), min(result), avg(result) or sum(result)"
        );
        assert_eq!(judge(&s, &cond("max(result) < 0.5")).outcome, Outcome::Pass);
        assert_eq!(judge(&s, &cond("max(result) < 0.1")).outcome, Outcome::Fail);
    }

    #[test]
    fn nan_is_an_error() {
        let s = parse(&vector(&[("a", "NaN")])).unwrap();
        let m = judge(&s, &cond("result < 0.01"));
        assert_eq!(m.outcome, Outcome::Error);
        assert_eq!(m.value.as_deref(), Some("NaN"));
        assert!(m.detail.contains("NaN"), "{}", m.detail);
        let s = parse(&vector(&[("a", "0.1"), ("b", "NaN")])).unwrap();
        assert_eq!(judge(&s, &cond("max(result) < 1")).outcome, Outcome::Error);
    }

    #[test]
    fn infinities_are_compared() {
        let s = parse(&vector(&[("a", "+Inf")])).unwrap();
        assert_eq!(judge(&s, &cond("result < 1")).outcome, Outcome::Fail);
    }

    #[test]
    fn pass_and_fail_carry_the_value() {
        let s = parse(&vector(&[("green", "0.17733990147783252")])).unwrap();
        let m = judge(&s, &cond("result < 0.01"));
        assert_eq!(m.outcome, Outcome::Fail);
        assert_eq!(m.value.as_deref(), Some("0.1773"));
        assert_eq!(
            m.detail,
            "`result < 0.01` does not hold for result = 0.1773"
        );
        let m = judge(&Sample::One(0.001), &cond("result < 0.01"));
        assert_eq!(m.outcome, Outcome::Pass);
    }

    #[test]
    fn prometheus_errors_are_quoted() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected <by>"}"#;
        assert_eq!(
            parse(body),
            Err(Answer::Prometheus(
                "query failed (bad_data): invalid parameter \"query\": 1:5: parse error: unexpected <by>".into()
            ))
        );
    }

    #[test]
    fn matrices_strings_and_garbage_are_rejected() {
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(parse(matrix), Err(Answer::Prometheus(e)) if e.contains("range vector")));
        let string = br#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#;
        assert!(matches!(parse(string), Err(Answer::Prometheus(e)) if e.contains("string")));
        assert_eq!(parse(b"<html>502 Bad Gateway</html>"), Err(Answer::NotJson));
        assert_eq!(parse(br#"{"hello":1}"#), Err(Answer::NotJson));
    }

    #[test]
    fn endpoint_keeps_a_path_prefix_and_encodes_the_query() {
        let u = endpoint("http://h:9090/prom/", "sum(rate(x{code=~\"5..\"}[30s]))").unwrap();
        assert_eq!(u.path(), "/prom/api/v1/query");
        assert_eq!(
            u.query_pairs().next().unwrap().1,
            "sum(rate(x{code=~\"5..\"}[30s]))"
        );
        assert!(endpoint("not a url", "up").is_err());
    }
}
