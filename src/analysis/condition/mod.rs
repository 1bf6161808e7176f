//! The condition language of analysis verdicts.
//!
//! Plans say when an analysis step passes or fails with small expressions such
//! as `successCondition: result < 0.01` or
//! `successRate >= 0.99 && p99 < 300ms`. This module owns that language: it
//! parses an expression once, when the plan loads, so that every mistake is
//! reported up front with a byte offset and a caret under the offending text
//! ([`ConditionError::render`]), and it evaluates the parsed form against
//! metric values later, with errors that say what to change (e.g. "reduce it
//! with max(result)") instead of silently passing or failing a rollout.
//!
//! Plans come from files that may be hostile, so the parser bounds its input:
//! at most 4096 bytes and at most 64 levels of nesting, reported as clean
//! errors. The parser recurses once per nesting level, so its stack use is
//! bounded by that limit, and it compiles the expression to a postfix program
//! that [`Condition::eval`] runs on a value stack, without recursion.
//!
//! # Grammar
//!
//! ```text
//! expr    := or
//! or      := and ('||' and)*
//! and     := not ('&&' not)*
//! not     := '!' not | cmp
//! cmp     := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
//! sum     := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | primary
//! primary := number | duration | 'true' | 'false' | identifier
//!          | ('max' | 'min' | 'avg' | 'sum' | 'len') '(' expr ')'
//!          | '(' expr ')'
//! ```
//!
//! Numbers are `99`, `0.01`, `.5`, `1e-3`, or percentages (`5%` is `0.05`).
//! Durations (`100ns`, `100us`, `100µs`, `300ms`, `1.5s`, `1m`, `2h`) are
//! numbers of seconds. Identifiers are letters, digits and `_`, not starting
//! with a digit, in segments joined by dots (`result`, `p99`, `result.status`).
//! Comparisons do not chain: `a < b < c` is rejected in favour of
//! `a < b && b < c`.
//!
//! # Values
//!
//! A variable is a number, a boolean or a vector (one value per series of a
//! metric query). A vector of exactly one value behaves as that number; a
//! longer one must be reduced with `max`, `min`, `avg` or `sum` (or counted
//! with `len`) before it can be compared or used in arithmetic. NaN is never
//! compared: a NaN variable or result is an error, since "no traffic" metrics
//! are often NaN and must not pass or fail a step by accident.
//!
//! # Parts
//!
//! - this file: the public types ([`Condition`], [`Value`], the errors and their caret
//!   rendering), the variable checks with their did-you-mean, and the serde/`Display` impls;
//! - [`lex`]: source text → tokens (numbers, percentages, durations, identifiers, operators);
//! - [`parse`]: tokens → the postfix program, by recursive descent with the nesting bound;
//! - [`program`]: the compiled form (instructions, functions, operators);
//! - [`eval`]: runs the program against metric values on a value stack.

use std::fmt;
use std::str::FromStr;

mod eval;
mod lex;
mod parse;
mod program;
#[cfg(test)]
mod tests;

use program::Op;

/// Longest accepted source, in bytes.
pub const MAX_SOURCE_LEN: usize = 4096;
/// Deepest accepted nesting of `(`, function calls, `!` and unary `-`.
pub const MAX_DEPTH: usize = 64;

/// A parsed, validated condition. Equality, `Display` and serde all use the
/// source text.
#[derive(Clone)]
pub struct Condition {
    source: String,
    program: Vec<Op>,
}

/// A value a variable can take when a condition is evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// One number per series, e.g. the result of a metric query.
    Vector(Vec<f64>),
}

/// A parse or validation error, pointing at a span of the source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// What is wrong, for humans.
    pub message: String,
    /// Byte offset of the offending text in the source.
    pub offset: usize,
    /// Byte length of the offending text (0 for "here", e.g. at the end).
    pub len: usize,
}

/// Why a valid condition could not be evaluated to true or false.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The lookup had no value for a variable.
    #[error("no data for `{name}`")]
    UnknownVariable {
        /// The variable.
        name: String,
    },
    /// A vector of several series was used where one number is needed.
    #[error(
        "`{name}` has {series} series; reduce it with max({name}), min({name}), avg({name}) or sum({name})"
    )]
    NotReduced {
        /// The variable holding the vector.
        name: String,
        /// How many series it has.
        series: usize,
    },
    /// An empty vector was compared, or reduced with `max`, `min` or `avg`.
    #[error("`{name}` is empty (0 series); there is nothing to compare")]
    EmptySeries {
        /// The variable holding the vector.
        name: String,
    },
    /// An operator or function got a value of the wrong type.
    #[error("`{operator}` expects {expected}, found {found}")]
    TypeMismatch {
        /// The operator or function, e.g. `<` or `max`.
        operator: String,
        /// What it accepts, e.g. "a number".
        expected: String,
        /// What it got, e.g. "a boolean (true)".
        found: String,
    },
    /// A variable or a computed value is NaN.
    #[error("`{expr}` is NaN (not a number)")]
    NotANumber {
        /// The variable or the source text of the computation.
        expr: String,
    },
    /// A division by zero.
    #[error("division by zero in `{expr}`")]
    DivisionByZero {
        /// The source text of the division.
        expr: String,
    },
    /// The whole condition evaluated to something other than a boolean.
    #[error("the condition must evaluate to true or false, but it evaluated to {found}")]
    NotBoolean {
        /// What it evaluated to, e.g. "a number (0.5)".
        found: String,
    },
}

impl ConditionError {
    fn new(message: impl Into<String>, offset: usize, len: usize) -> Self {
        ConditionError {
            message: message.into(),
            offset,
            len,
        }
    }

    /// Formats the error for a terminal: the message, then the line of
    /// `source` that holds the error, then a caret line (`^^^`) under the
    /// offending span. Multi-line sources add the line and column to the
    /// message; very long lines are shown as a window around the error.
    pub fn render(&self, source: &str) -> String {
        const WIDTH: usize = 80;
        const BEFORE: usize = 30;

        let mut offset = self.offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        let line: Vec<char> = source[line_start..line_end]
            .trim_end_matches('\r')
            .chars()
            .collect();
        let column = source[line_start..offset].chars().count();
        let span_end = offset.saturating_add(self.len).min(line_end);
        let span_chars = source
            .get(offset..span_end)
            .map_or(0, |s| s.chars().count());

        let (from, to) = if line.len() > WIDTH {
            let from = column.saturating_sub(BEFORE).min(line.len());
            (from, (from + WIDTH).min(line.len()))
        } else {
            (0, line.len())
        };
        let mut shown = String::new();
        let mut pad = String::new();
        if from > 0 {
            shown.push_str("...");
            pad.push_str("   ");
        }
        shown.extend(&line[from..to]);
        if to < line.len() {
            shown.push_str("...");
        }
        pad.extend(line[from..column.min(line.len())].iter().map(|&c| {
            if c == '\t' {
                '\t'
            } else {
                ' '
            }
        }));
        let carets = span_chars.min(to.saturating_sub(column)).max(1);

        let mut out = self.message.clone();
        if source.contains('\n') {
            let line_no = source[..offset].matches('\n').count() + 1;
            out = format!("{out} (line {line_no}, column {})", column + 1);
        }
        out.push_str("\n  ");
        out.push_str(&shown);
        out.push_str("\n  ");
        out.push_str(&pad);
        out.push_str(&"^".repeat(carets));
        out
    }
}

impl Condition {
    /// Parses and validates `src`.
    pub fn parse(src: &str) -> Result<Condition, ConditionError> {
        if src.len() > MAX_SOURCE_LEN {
            let mut offset = MAX_SOURCE_LEN;
            while !src.is_char_boundary(offset) {
                offset -= 1;
            }
            return Err(ConditionError::new(
                format!(
                    "expression is too long ({} bytes; the limit is {MAX_SOURCE_LEN})",
                    src.len()
                ),
                offset,
                src.len() - offset,
            ));
        }
        if src.trim().is_empty() {
            return Err(ConditionError::new("empty expression", 0, 0));
        }
        let program = parse::program(src)?;
        Ok(Condition {
            source: src.to_owned(),
            program,
        })
    }

    /// The text this condition was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The identifiers the condition uses, without duplicates, in order of
    /// first appearance.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, _, _) in self.variable_uses() {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        }
        out
    }

    /// Checks that every identifier is one of `allowed` (exact match). The
    /// error points at the first unknown one and suggests the closest allowed
    /// name within an edit distance of 2.
    pub fn check_variables(&self, allowed: &[&str]) -> Result<(), ConditionError> {
        for (name, start, end) in self.variable_uses() {
            if allowed.contains(&name) {
                continue;
            }
            let message = if let Some(close) = closest(name, allowed.iter().copied()) {
                format!("unknown variable `{name}`; did you mean `{close}`?")
            } else if allowed.is_empty() {
                format!("unknown variable `{name}`; this condition cannot use variables")
            } else {
                format!(
                    "unknown variable `{name}`; expected one of: {}",
                    allowed.join(", ")
                )
            };
            return Err(ConditionError::new(message, start, end - start));
        }
        Ok(())
    }

    /// Each variable occurrence with its span, in source order (the
    /// program is postfix, which keeps operands left to right).
    fn variable_uses(&self) -> impl Iterator<Item = (&str, usize, usize)> {
        self.program.iter().filter_map(|op| match op {
            Op::Load { name, start, end } => Some((name.as_str(), *start, *end)),
            _ => None,
        })
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.source[start..end].to_owned()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Condition {}

impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::parse(s)
    }
}

impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for Condition {
    /// Accepts a string (parsed and validated; a parse error becomes a serde
    /// error holding the rendered message) or a bare boolean, which YAML
    /// produces for `successCondition: true`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Condition;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a condition expression such as `result < 0.01`")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Condition, E> {
                Condition::parse(s).map_err(|e| E::custom(e.render(s)))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Condition, E> {
                self.visit_str(if b { "true" } else { "false" })
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The candidate closest to `name` within distance 2 (and closer than
/// rewriting `name` entirely); ties go to the earlier candidate.
fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = 2.min(name.chars().count().saturating_sub(1));
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}
