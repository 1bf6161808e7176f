//! The one-line summary of a finished check: what was asked, the values measured (oldest first,
//! repeats folded), the condition and the limit that decided the verdict. A failed check is
//! explained by this line alone, in text and in JSON.

use super::{LoopRun, Measurement, Outcome};
use crate::analysis::policy::{no_data_name, Policy, Tally};

/// The one-line summary of a finished check.
pub(super) fn summarize(
    name: &str,
    policy: &Policy,
    run: &LoopRun,
    subject: &str,
    verb: &str,
    condition: &str,
) -> String {
    let outcomes: Vec<Outcome> = run.measurements.iter().map(|m| m.outcome).collect();
    let t = policy.tally(&outcomes);
    let label = run.verdict.unwrap_or(Outcome::Error).label();
    // With only errors, "error:" before each one says nothing.
    let values = values_text(&run.measurements, policy, t.measured > 0);
    let measured = if run.measurements.is_empty() {
        format!("{subject} was not measured")
    } else if t.measured == 0 {
        // Only errors: the error itself is the value.
        format!("{subject}: {values}")
    } else {
        format!("{subject} {verb} {values}")
    };
    let limit = limit_text(policy, &t, run.verdict);
    format!("{name}: {label} — {measured}; condition {condition}; {limit}")
}

fn limit_text(policy: &Policy, t: &Tally, verdict: Option<Outcome>) -> String {
    let fl = policy.failure_limit;
    let mut text = match verdict {
        Some(Outcome::Fail) => {
            let mut s = format!(
                "{} of {} measurements failed (failureLimit {fl})",
                t.failed, t.measured
            );
            if t.measured < policy.count {
                s += &format!(", stopped early after {} of {}", t.measured, policy.count);
            }
            s
        }
        Some(Outcome::Error) => format!(
            "{} errors in a row exceeded consecutiveErrorLimit {}",
            t.consecutive_errors, policy.consecutive_error_limit
        ),
        Some(Outcome::Inconclusive) => format!(
            "{} of {} measurements inconclusive, {} failed (failureLimit {fl}); a person must decide",
            t.inconclusive, t.measured, t.failed
        ),
        Some(Outcome::Pass | Outcome::NoData) => {
            let mut s = format!(
                "{} of {} measurements passed (failureLimit {fl})",
                t.passed, t.measured
            );
            if t.failed > 0 {
                s += &format!(", {} failed within the limit", t.failed);
            }
            s
        }
        None => format!(
            "stopped at the deadline after {} of {} measurements",
            t.measured, policy.count
        ),
    };
    if t.no_data > 0 && policy.no_data == crate::plan::model::NoDataPolicy::Pass {
        text += &format!(
            "; {} with no data counted as passed (noData: pass)",
            t.no_data
        );
    }
    if t.errors > 0 && verdict != Some(Outcome::Error) {
        text += &format!("; {} errors retried", t.errors);
    }
    text
}

/// The measured values, oldest first, with runs of identical text folded (`x (×3)`).
fn values_text(measurements: &[Measurement], policy: &Policy, mark_errors: bool) -> String {
    const SHOWN: usize = 6;
    let texts: Vec<String> = measurements
        .iter()
        .map(|m| match m.outcome {
            Outcome::NoData => format!("no data (noData: {})", no_data_name(policy.no_data)),
            Outcome::Error => {
                // A value that could not be judged is still shown.
                let detail = match &m.value {
                    Some(v) => format!("{v}: {}", m.detail),
                    None => m.detail.clone(),
                };
                if mark_errors {
                    format!("error: {detail}")
                } else {
                    detail
                }
            }
            _ => m.value.clone().unwrap_or_else(|| m.detail.clone()),
        })
        .collect();
    let mut runs: Vec<(String, usize)> = Vec::new();
    for t in texts {
        match runs.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => runs.push((t, 1)),
        }
    }
    let skipped = runs.len().saturating_sub(SHOWN);
    let mut parts: Vec<String> = runs
        .into_iter()
        .skip(skipped)
        .map(|(t, n)| if n > 1 { format!("{t} (×{n})") } else { t })
        .collect();
    if skipped > 0 {
        parts.insert(0, "…".into());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(count: u32, failure_limit: u32, error_limit: u32) -> Policy {
        Policy {
            count,
            failure_limit,
            consecutive_error_limit: error_limit,
            no_data: crate::plan::model::NoDataPolicy::Fail,
        }
    }

    fn m(outcome: Outcome, value: &str) -> Measurement {
        Measurement::new(outcome, value, "detail")
    }

    #[test]
    fn summary_fail_names_value_condition_and_limit() {
        let p = policy(1, 0, 4);
        let run = LoopRun {
            measurements: vec![m(Outcome::Fail, "0.1773")],
            verdict: Some(Outcome::Fail),
        };
        assert_eq!(
            summarize("error-rate", &p, &run, "query `q`", "returned", "`result < 0.01`"),
            "error-rate: FAIL — query `q` returned 0.1773; condition `result < 0.01`; 1 of 1 measurements failed (failureLimit 0)"
        );
    }

    #[test]
    fn summary_early_stop_and_retried_errors() {
        let p = policy(5, 0, 4);
        let run = LoopRun {
            measurements: vec![
                Measurement::error("Prometheus at x unreachable"),
                m(Outcome::Pass, "0.001"),
                m(Outcome::Fail, "0.3"),
            ],
            verdict: Some(Outcome::Fail),
        };
        assert_eq!(
            summarize("e", &p, &run, "query `q`", "returned", "`result < 0.01`"),
            "e: FAIL — query `q` returned error: Prometheus at x unreachable, 0.001, 0.3; condition `result < 0.01`; 1 of 2 measurements failed (failureLimit 0), stopped early after 2 of 5; 1 errors retried"
        );
    }

    #[test]
    fn summary_error_folds_repeated_errors() {
        let p = policy(1, 0, 2);
        let run = LoopRun {
            measurements: vec![Measurement::error("unreachable"); 3],
            verdict: Some(Outcome::Error),
        };
        assert_eq!(
            summarize("e", &p, &run, "query `q`", "returned", "`result < 0.01`"),
            "e: ERROR — query `q`: unreachable (×3); condition `result < 0.01`; 3 errors in a row exceeded consecutiveErrorLimit 2"
        );
    }

    #[test]
    fn summary_no_data_pass_says_so() {
        let mut p = policy(1, 0, 4);
        p.no_data = crate::plan::model::NoDataPolicy::Pass;
        let run = LoopRun {
            measurements: vec![Measurement::no_data("empty vector")],
            verdict: Some(Outcome::Pass),
        };
        assert_eq!(
            summarize("e", &p, &run, "query `q`", "returned", "`result < 0.01`"),
            "e: PASS — query `q` returned no data (noData: pass); condition `result < 0.01`; 1 of 1 measurements passed (failureLimit 0); 1 with no data counted as passed (noData: pass)"
        );
    }

    #[test]
    fn summary_inconclusive_asks_for_a_person() {
        let mut p = policy(2, 0, 4);
        p.no_data = crate::plan::model::NoDataPolicy::Inconclusive;
        let run = LoopRun {
            measurements: vec![Measurement::no_data("empty"), m(Outcome::Pass, "0.001")],
            verdict: Some(Outcome::Inconclusive),
        };
        assert_eq!(
            summarize("e", &p, &run, "query `q`", "returned", "`result < 0.01`"),
            "e: INCONCLUSIVE — query `q` returned no data (noData: inconclusive), 0.001; condition `result < 0.01`; 1 of 2 measurements inconclusive, 0 failed (failureLimit 0); a person must decide"
        );
    }

    #[test]
    fn summary_shows_only_the_last_values() {
        let p = policy(8, 8, 4);
        let run = LoopRun {
            measurements: (0..8).map(|i| m(Outcome::Pass, &i.to_string())).collect(),
            verdict: Some(Outcome::Pass),
        };
        let s = summarize("e", &p, &run, "x", "measured", "`c`");
        assert!(s.contains("measured …, 2, 3, 4, 5, 6, 7;"), "{s}");
    }
}
