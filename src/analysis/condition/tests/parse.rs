//! Parse errors (one test per message), nesting bounds, rendering, traits and properties.

use super::*;
use proptest::prelude::*;

// --- parse errors: one test per message --------------------------------

#[test]
fn error_unexpected_character() {
    assert_parse_err("a < #", "unexpected character `#`", 4, 1);
    assert_parse_err("a < é", "unexpected character `é`", 4, 2);
    assert_parse_err("a\0", "unexpected character `\\0`", 1, 1);
}

#[test]
fn error_single_equals_ampersand_pipe() {
    assert_parse_err(
        "a = 1",
        "unexpected character `=`; did you mean `==`?",
        2,
        1,
    );
    assert_parse_err(
        "a & b",
        "unexpected character `&`; did you mean `&&`?",
        2,
        1,
    );
    assert_parse_err(
        "a | b",
        "unexpected character `|`; did you mean `||`?",
        2,
        1,
    );
}

#[test]
fn error_unexpected_end() {
    assert_parse_err("(", "unexpected end of expression; expected a value", 1, 0);
    assert_parse_err(
        "max(",
        "unexpected end of expression; expected a value",
        4,
        0,
    );
}

#[test]
fn error_missing_close_paren() {
    assert_parse_err("(a < 1", "missing `)` to close this `(`", 0, 1);
    assert_parse_err("x && max(result < 1", "missing `)` to close this `(`", 8, 1);
}

#[test]
fn error_unexpected_token_inside_parens() {
    assert_parse_err("(a b)", "unexpected `b`; expected an operator or `)`", 3, 1);
}

#[test]
fn error_unexpected_token_after_expression() {
    assert_parse_err(
        "a < 1 b",
        "unexpected `b`; expected an operator or the end of the expression",
        6,
        1,
    );
    assert_parse_err(
        "a < 1)",
        "unexpected `)`; expected an operator or the end of the expression",
        5,
        1,
    );
}

#[test]
fn error_missing_operand() {
    assert_parse_err("a <", "missing operand after `<`", 2, 1);
    assert_parse_err("a < 1 &&", "missing operand after `&&`", 6, 2);
    assert_parse_err("a < 1 && || b", "missing operand after `&&`", 6, 2);
    assert_parse_err("!", "missing operand after `!`", 0, 1);
    assert_parse_err("1 + * 2 > 0", "missing operand after `+`", 2, 1);
    assert_parse_err("(a <= )", "missing operand after `<=`", 3, 2);
}

#[test]
fn error_expected_value() {
    assert_parse_err("()", "expected a value, found `)`", 1, 1);
    assert_parse_err("&& a", "expected a value, found `&&`", 0, 2);
    assert_parse_err("max() > 1", "expected a value, found `)`", 4, 1);
}

#[test]
fn error_invalid_number() {
    assert_parse_err("1.2.3 > a", "invalid number `1.2.3`", 0, 5);
    assert_parse_err("a < 1.", "invalid number `1.`", 4, 2);
    assert_parse_err("a < 3s5", "invalid number `3s5`", 4, 3);
}

#[test]
fn error_number_out_of_range() {
    assert_parse_err("1e999 > a", "number `1e999` is out of range", 0, 5);
}

#[test]
fn error_unknown_unit() {
    assert_parse_err(
        "p99 < 300xs",
        "unknown unit `xs` in `300xs`; expected ns, us, ms, s, m, h or %",
        9,
        2,
    );
    assert_parse_err(
        "p99 < 1d",
        "unknown unit `d` in `1d`; expected ns, us, ms, s, m, h or %",
        7,
        1,
    );
}

#[test]
fn error_unknown_function() {
    assert_parse_err(
        "foo(result) < 1",
        "unknown function `foo`; the functions are max, min, avg, sum and len",
        0,
        3,
    );
    assert_parse_err(
        "x && mx(result) < 1",
        "unknown function `mx`; did you mean `max`?",
        5,
        2,
    );
}

#[test]
fn error_too_many_arguments() {
    assert_parse_err("max(a, b) < 1", "`max` takes exactly one argument", 5, 1);
}

#[test]
fn error_chained_comparison() {
    let msg = "comparisons cannot be chained; combine them with `&&`, e.g. `a < b && b < c`";
    assert_parse_err("a < b < c", msg, 6, 1);
    assert_parse_err("0 <= x == true", msg, 7, 2);
    // Explicit grouping is accepted (and type-checked at evaluation).
    assert!(Condition::parse("(a < b) == true").is_ok());
}

#[test]
fn error_empty_expression() {
    assert_parse_err("", "empty expression", 0, 0);
    assert_parse_err(" \n\t ", "empty expression", 0, 0);
}

#[test]
fn error_too_long() {
    let src = format!("a < 1 {}", " ".repeat(MAX_SOURCE_LEN));
    assert_parse_err(
        &src,
        "expression is too long (4102 bytes; the limit is 4096)",
        4096,
        6,
    );
    // Exactly at the limit is fine.
    let src = format!("{:<1$}", "a < 1", MAX_SOURCE_LEN);
    assert!(Condition::parse(&src).is_ok());
    // The offset stays on a char boundary.
    let src = format!("a{}", "é".repeat(MAX_SOURCE_LEN / 2));
    let err = parse_err(&src);
    assert!(src.is_char_boundary(err.offset));
    assert_eq!(err.offset + err.len, src.len());
}

#[test]
fn error_too_deep() {
    let msg = "expression is nested too deeply (more than 64 levels)";
    let ok = format!("{}x{}", "(".repeat(64), ")".repeat(64));
    assert!(Condition::parse(&ok).is_ok());
    let deep = format!("{}x{}", "(".repeat(65), ")".repeat(65));
    assert_parse_err(&deep, msg, 64, 1);
    assert_parse_err(&format!("{}x", "!".repeat(65)), msg, 64, 1);
    assert_parse_err(&format!("{}1 > 0", "-".repeat(65)), msg, 64, 1);
    assert_parse_err(
        &format!("{}x{}", "max(".repeat(70), ")".repeat(70)),
        msg,
        259,
        1,
    );
    // Hostile input at the size limit fails cleanly, without overflow.
    assert_parse_err(&"(".repeat(MAX_SOURCE_LEN), msg, 64, 1);
    assert_parse_err(&"!(".repeat(MAX_SOURCE_LEN / 2), msg, 64, 1);
}

#[test]
fn maximum_nesting_fits_in_a_small_stack() {
    // The deepest parser path per level: a call inside `(`, reached
    // through `||`, `&&`, a comparison, `+` and `*`. 32 x 2 = 64 levels.
    let worst = format!(
        "{}1{}",
        "(false || true && 0 < 1 + 2 * max(".repeat(MAX_DEPTH / 2),
        "))".repeat(MAX_DEPTH / 2)
    );
    let numeric = format!(
        "{}1{} > 0",
        "(1 - -".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    // Unoptimised builds need about 400 KiB here; leave room, but far
    // less than the 2 MiB default of spawned threads.
    let outcome = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let worst = Condition::parse(&worst).unwrap().eval(&|_| None);
            let numeric = Condition::parse(&numeric).unwrap().eval(&|_| None);
            (worst, numeric)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        outcome.0.unwrap_err().to_string(),
        "`max` expects a number or a series, found a boolean (true)"
    );
    assert_eq!(outcome.1, Ok(true));
}

#[test]
fn long_flat_chains_are_not_nesting() {
    let src = vec!["a"; 1000].join("&&");
    assert!(src.len() <= MAX_SOURCE_LEN);
    let c = Condition::parse(&src).unwrap();
    assert!(c.eval(&vars(&[("a", Bool(true))])).unwrap());
    let src = format!("{} > 0", vec!["1"; 1500].join("+"));
    assert!(Condition::parse(&src).unwrap().eval(&|_| None).unwrap());
}

// --- render, traits ------------------------------------------------------

#[test]
fn render_points_at_the_span() {
    let src = "successRate >= 0.99 && p99 < 300xs";
    assert_eq!(
        parse_err(src).render(src),
        format!(
            "unknown unit `xs` in `300xs`; expected ns, us, ms, s, m, h or %\n  {src}\n  {}^^",
            " ".repeat(32)
        )
    );
    let src = "a <";
    assert_eq!(
        parse_err(src).render(src),
        "missing operand after `<`\n  a <\n    ^"
    );
    let src = "(a";
    assert_eq!(
        parse_err(src).render(src),
        "missing `)` to close this `(`\n  (a\n  ^"
    );
    // Zero-length span at the end still gets one caret.
    let src = "max(";
    assert_eq!(
        parse_err(src).render(src),
        "unexpected end of expression; expected a value\n  max(\n      ^"
    );
}

#[test]
fn render_multiline_tabs_and_long_lines() {
    let src = "a < 1 &&\n\tb = 2";
    assert_eq!(
        parse_err(src).render(src),
        "unexpected character `=`; did you mean `==`? (line 2, column 4)\n  \tb = 2\n  \t  ^"
    );
    let src = format!("{} && x # y", vec!["a"; 60].join(" && "));
    let rendered = parse_err(&src).render(&src);
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("  ...") && lines[1].ends_with("x # y"));
    let caret = lines[2].find('^').unwrap();
    assert_eq!(&lines[1][caret..=caret], "#");
    // Out-of-range spans from elsewhere do not panic.
    let far = ConditionError::new("m", 1000, 5);
    assert_eq!(far.render("ab"), "m\n  ab\n    ^");
}

#[test]
fn display_from_str_and_equality() {
    let c: Condition = " a<1 ".parse().unwrap();
    assert_eq!(c.source(), " a<1 ");
    assert_eq!(c.to_string(), " a<1 ");
    assert_eq!(format!("{c:?}"), "Condition(\" a<1 \")");
    assert_eq!(c, Condition::parse(" a<1 ").unwrap());
    assert_ne!(c, Condition::parse("a<1").unwrap());
    assert!("a <".parse::<Condition>().is_err());
}

#[test]
fn serde_as_source_string() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Step {
        #[serde(rename = "successCondition")]
        success_condition: Condition,
    }
    let step: Step = serde_json::from_str(r#"{"successCondition": "result < 0.01"}"#).unwrap();
    assert_eq!(step.success_condition.source(), "result < 0.01");
    assert_eq!(
        serde_json::to_string(&step).unwrap(),
        r#"{"successCondition":"result < 0.01"}"#
    );
    let always: Step = serde_json::from_str(r#"{"successCondition": true}"#).unwrap();
    assert_eq!(always.success_condition.source(), "true");

    let err = serde_json::from_str::<Step>(r#"{"successCondition": "result < 0.01 &&"}"#)
        .unwrap_err()
        .to_string();
    let expected = format!(
        "missing operand after `&&`\n  result < 0.01 &&\n  {}^^",
        " ".repeat(14)
    );
    assert!(err.starts_with(&expected), "{err}");
    let err = serde_json::from_str::<Step>(r#"{"successCondition": 3}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a condition expression"), "{err}");
}

// --- properties -----------------------------------------------------------

fn check_error_span(src: &str, err: &ConditionError) -> Result<(), TestCaseError> {
    prop_assert!(err.offset + err.len <= src.len(), "{:?} in {:?}", err, src);
    prop_assert!(src.is_char_boundary(err.offset));
    prop_assert!(src.is_char_boundary(err.offset + err.len));
    let rendered = err.render(src);
    prop_assert!(rendered.starts_with(&err.message));
    prop_assert!(rendered.contains('^'));
    Ok(())
}

/// Pieces that glue into mostly well-formed, often subtly broken input.
const NEAR_GRAMMAR: &[&str] = &[
    "a", "b", "c", "b.c", "0", "1", "2.5", ".", "e", "e-", "%", "ms", "µs", "us", " ", "(", ")",
    "(", ")", "!", "<", "<=", ">", "==", "!=", "=", "&&", "||", "&", "+", "-", "*", "/", ",",
    "max(", "len(", "avg(", "true", "false", "1e3", "5%", "300ms",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn parse_never_panics_on_any_string(src in "\\PC{0,200}") {
        if let Err(err) = Condition::parse(&src) {
            check_error_span(&src, &err)?;
        }
    }

    #[test]
    fn parse_and_eval_never_panic_on_near_grammar(
        src in prop::collection::vec(prop::sample::select(NEAR_GRAMMAR), 0..60)
            .prop_map(|pieces| pieces.concat())
    ) {
        match Condition::parse(&src) {
            Err(err) => check_error_span(&src, &err)?,
            Ok(c) => {
                prop_assert_eq!(c.source(), src.as_str());
                let lookup = |name: &str| match name {
                    "a" => Some(Value::Number(0.5)),
                    "b" => Some(Value::Vector(vec![1.0, 0.0, f64::NAN])),
                    "c" => Some(Value::Bool(true)),
                    _ => None,
                };
                let _ = c.eval(&lookup);
                let _ = c.variables();
            }
        }
    }
}
