//! Evaluation errors (one test per message) and evaluation semantics.

use super::*;

// --- eval errors: one test per message ----------------------------------

#[test]
fn eval_error_unknown_variable() {
    let err = eval("x < 1", &[]).unwrap_err();
    assert_eq!(err, EvalError::UnknownVariable { name: "x".into() });
    assert_eq!(err.to_string(), "no data for `x`");
}

#[test]
fn eval_error_not_reduced() {
    let err = eval("result < 0.01", &[("result", Vector(vec![0.1, 0.2, 0.3]))]).unwrap_err();
    assert_eq!(
            err.to_string(),
            "`result` has 3 series; reduce it with max(result), min(result), avg(result) or sum(result)"
        );
    let err = eval("result * 100 < 1", &[("result", Vector(vec![0.1, 0.2]))]).unwrap_err();
    assert_eq!(
        err,
        EvalError::NotReduced {
            name: "result".into(),
            series: 2
        }
    );
}

#[test]
fn eval_error_empty_series() {
    let empty = [("result", Vector(vec![]))];
    let err = eval("result < 1", &empty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`result` is empty (0 series); there is nothing to compare"
    );
    for f in ["max", "min", "avg"] {
        assert_eq!(
            eval(&format!("{f}(result) < 1"), &empty).unwrap_err(),
            EvalError::EmptySeries {
                name: "result".into()
            }
        );
    }
    assert!(eval("len(result) == 0 && sum(result) == 0", &empty).unwrap());
}

#[test]
fn eval_error_type_mismatch() {
    let v = [("flag", Bool(true)), ("result", Number(0.5))];
    let cases = [
        ("true < 1", "`<` expects a number, found a boolean (true)"),
        ("1 < flag", "`<` expects a number, found a boolean (true)"),
        ("!result", "`!` expects a boolean, found a number (0.5)"),
        (
            "result && true",
            "`&&` expects a boolean, found a number (0.5)",
        ),
        (
            "false || result",
            "`||` expects a boolean, found a number (0.5)",
        ),
        ("flag == 1", "`==` expects a boolean, found a number (1)"),
        (
            "max(flag) > 0",
            "`max` expects a number or a series, found a boolean (true)",
        ),
        (
            "flag + 1 > 0",
            "`+` expects a number, found a boolean (true)",
        ),
        ("-flag > 0", "`-` expects a number, found a boolean (true)"),
    ];
    for (src, message) in cases {
        let err = eval(src, &v).unwrap_err();
        assert!(matches!(err, EvalError::TypeMismatch { .. }), "{src}");
        assert_eq!(err.to_string(), message, "{src}");
    }
}

#[test]
fn eval_error_nan() {
    let err = eval("successRate >= 0.99", &[("successRate", Number(f64::NAN))]).unwrap_err();
    assert_eq!(err.to_string(), "`successRate` is NaN (not a number)");
    let inf = [("a", Number(f64::INFINITY))];
    assert_eq!(
        eval("a - a < 1", &inf).unwrap_err(),
        EvalError::NotANumber {
            expr: "a - a".into()
        }
    );
    let series = [("result", Vector(vec![1.0, f64::NAN]))];
    for f in ["max", "min", "avg", "sum"] {
        assert_eq!(
            eval(&format!("{f}(result) > 0"), &series).unwrap_err(),
            EvalError::NotANumber {
                expr: format!("{f}(result)")
            }
        );
    }
    assert_eq!(
        eval("result < 1", &[("result", Vector(vec![f64::NAN]))]).unwrap_err(),
        EvalError::NotANumber {
            expr: "result".into()
        }
    );
}

#[test]
fn eval_error_division_by_zero() {
    let err = eval(
        "errors / total > 0.01",
        &[("errors", Number(1.0)), ("total", Number(0.0))],
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "division by zero in `errors / total`");
}

#[test]
fn eval_error_not_boolean() {
    let err = eval("result", &[("result", Number(0.5))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the condition must evaluate to true or false, but it evaluated to a number (0.5)"
    );
    let err = eval("result", &[("result", Vector(vec![1.0, 2.0]))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the condition must evaluate to true or false, but it evaluated to `result` (2 series)"
    );
}

// --- evaluation ------------------------------------------------------------

#[test]
fn eval_plan_examples() {
    let c: Condition = "result < 0.01".parse().unwrap();
    assert!(c.eval(&vars(&[("result", Number(0.005))])).unwrap());
    assert!(!c.eval(&vars(&[("result", Number(0.01))])).unwrap());
    // A one-series vector is a number.
    assert!(c.eval(&vars(&[("result", Vector(vec![0.001]))])).unwrap());

    let c: Condition = "successRate >= 0.99 && p99 < 300ms".parse().unwrap();
    let good = vars(&[("successRate", Number(0.995)), ("p99", Number(0.25))]);
    let slow = vars(&[("successRate", Number(0.995)), ("p99", Number(0.3))]);
    let failing = vars(&[("successRate", Number(0.98)), ("p99", Number(0.1))]);
    assert!(c.eval(&good).unwrap());
    assert!(!c.eval(&slow).unwrap());
    assert!(!c.eval(&failing).unwrap());
    assert_eq!(c.variables(), ["successRate", "p99"]);
}

#[test]
fn literals() {
    assert!(truth("5% == 0.05"));
    assert!(truth(
        "1e-3 == 0.001 && 1E3 == 1000 && 2.5e+1 == 25 && .5 == 0.5"
    ));
    assert!(truth(
        "300ms == 0.3 && 2s == 2 && 1.5s == 1.5 && 1m == 60 && 2h == 7200"
    ));
    assert!(truth(
        "100us == 0.0001 && 100µs == 100us && 5ns == 0.000000005"
    ));
    assert!(truth("99 == 99.0 && true && !false"));
}

#[test]
fn precedence() {
    assert!(truth("true || false && false"));
    assert!(!truth("(true || false) && false"));
    assert!(!truth("!true && false || false"));
    assert!(truth("!false && true"));
    assert!(truth("!(1 > 2) && 1 < 2"));
    assert!(truth("!1 > 2"));
    assert!(truth("1 + 2 * 3 == 7"));
    assert!(truth("(1 + 2) * 3 == 9"));
    assert!(truth("10 - 4 - 3 == 3"));
    assert!(truth("12 / 2 / 3 == 2"));
    assert!(truth("-2 * 3 == -6 && - -2 == 2"));
}

#[test]
fn comparisons() {
    assert!(truth(
        "1 < 2 && 2 <= 2 && 3 > 2 && 2 >= 2 && 2 == 2 && 1 != 2"
    ));
    assert!(!truth("0.1 + 0.2 == 0.3")); // exact f64 equality
    assert!(truth("true == true && true != false"));
    assert!(truth("(1 < 2) == true"));
}

#[test]
fn reductions_and_identifiers() {
    let v = [
        ("result", Vector(vec![0.5, 2.0, 1.5])),
        ("result.status", Number(200.0)),
        ("latency_p99", Vector(vec![0.25])),
    ];
    assert!(eval("max(result) == 2 && min(result) == 0.5", &v).unwrap());
    assert!(eval(
        "avg(result) == 4/3 && sum(result) == 4 && len(result) == 3",
        &v
    )
    .unwrap());
    assert!(eval("result.status == 200 && latency_p99 < 300ms", &v).unwrap());
    assert!(eval(
        "len(7) == 1 && max(7) == 7 && avg(max(result) * 2) == 4",
        &v
    )
    .unwrap());
}

#[test]
fn short_circuit_skips_missing_data() {
    assert!(eval("true || missing > 1", &[]).unwrap());
    assert!(!eval("false && missing > 1", &[]).unwrap());
    assert!(eval("false || missing > 1", &[]).is_err());
}

#[test]
fn variables_in_order_without_duplicates() {
    let c = Condition::parse("a < 1 && b.c > a || max(d) > 0 && !e && true").unwrap();
    assert_eq!(c.variables(), ["a", "b.c", "d", "e"]);
    assert!(c.check_variables(&["e", "d", "b.c", "a"]).is_ok());
    // `max` without parentheses is a plain variable.
    assert_eq!(Condition::parse("max > 1").unwrap().variables(), ["max"]);
}
