//! Tests of the condition language: helpers and the variable checks here, parsing in [`parse`],
//! evaluation in [`eval`].

mod eval;
mod parse;

use super::*;

fn parse_err(src: &str) -> ConditionError {
    Condition::parse(src).expect_err(src)
}

/// Asserts the message and the span of a parse error.
fn assert_parse_err(src: &str, message: &str, offset: usize, len: usize) {
    let err = parse_err(src);
    assert_eq!(err.message, message, "for {src:?}");
    assert_eq!((err.offset, err.len), (offset, len), "span for {src:?}");
}

fn vars(pairs: &[(&str, Value)]) -> impl Fn(&str) -> Option<Value> {
    let pairs: Vec<(String, Value)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn eval(src: &str, pairs: &[(&str, Value)]) -> Result<bool, EvalError> {
    Condition::parse(src).unwrap().eval(&vars(pairs))
}

fn truth(src: &str) -> bool {
    eval(src, &[]).unwrap()
}

use Value::{Bool, Number, Vector};

// --- check_variables ----------------------------------------------------

#[test]
fn check_variables_did_you_mean() {
    let c = Condition::parse("successRate >= 0.99 && sucessRate < 1").unwrap();
    let err = c
        .check_variables(&["successRate", "p99", "result"])
        .unwrap_err();
    assert_eq!(
        err.message,
        "unknown variable `sucessRate`; did you mean `successRate`?"
    );
    assert_eq!((err.offset, err.len), (23, 10));
    assert!(c.check_variables(&["successRate", "sucessRate"]).is_ok());
}

#[test]
fn check_variables_lists_the_allowed_names() {
    let c = Condition::parse("max(latency) < 300ms").unwrap();
    let err = c.check_variables(&["result", "p99"]).unwrap_err();
    assert_eq!(
        err.message,
        "unknown variable `latency`; expected one of: result, p99"
    );
    assert_eq!((err.offset, err.len), (4, 7));
}

#[test]
fn check_variables_when_none_allowed() {
    let c = Condition::parse("true && x").unwrap();
    let err = c.check_variables(&[]).unwrap_err();
    assert_eq!(
        err.message,
        "unknown variable `x`; this condition cannot use variables"
    );
    assert_eq!((err.offset, err.len), (8, 1));
}

#[test]
fn did_you_mean_is_limited_to_distance_two() {
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("p99", "p95"), 1);
    assert_eq!(closest("p90", ["p99", "p50"].into_iter()), Some("p99"));
    assert_eq!(closest("resul", ["result"].into_iter()), Some("result"));
    assert_eq!(closest("kitten", ["sitting"].into_iter()), None);
    // A one-letter name is never "close" to another one.
    assert_eq!(closest("x", ["y"].into_iter()), None);
}
