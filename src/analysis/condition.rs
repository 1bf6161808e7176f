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

use std::fmt;
use std::str::FromStr;

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
        let mut parser = Parser {
            src,
            tokens: lex(src)?,
            pos: 0,
            depth: 0,
            program: Vec::new(),
        };
        parser.parse_or()?;
        let next = parser.peek();
        if next.kind != Tok::End {
            return Err(parser.unexpected(next, "the end of the expression"));
        }
        Ok(Condition {
            source: src.to_owned(),
            program: parser.program,
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

    /// Evaluates the condition, asking `lookup` for the value of each
    /// variable it reaches. `&&` and `||` short-circuit, so a variable on the
    /// skipped side needs no data.
    ///
    /// The condition was compiled to a postfix program when it was parsed;
    /// this runs it on a value stack, without recursion.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<bool, EvalError> {
        fn pop(stack: &mut Vec<Val>) -> Val {
            stack.pop().expect("a compiled program never underflows")
        }
        let mut stack: Vec<Val> = Vec::new();
        let mut pc = 0;
        while let Some(op) = self.program.get(pc) {
            pc += 1;
            let value = match op {
                Op::Number(x) => Val::Num(*x),
                Op::Bool(b) => Val::Bool(*b),
                Op::Load { name, .. } => load(name, lookup)?,
                Op::Reduce { func, start, end } => {
                    let arg = pop(&mut stack);
                    Val::Num(reduce(*func, arg, || self.text(*start, *end))?)
                }
                Op::Not => Val::Bool(!boolean(&pop(&mut stack), "!")?),
                Op::Neg => Val::Num(-number(pop(&mut stack), "-")?),
                Op::ToNumber(operator) => Val::Num(number(pop(&mut stack), operator)?),
                Op::ShortCircuit {
                    operator,
                    stop_at,
                    end,
                } => {
                    let b = boolean(&pop(&mut stack), operator)?;
                    if b != *stop_at {
                        continue;
                    }
                    pc = *end;
                    Val::Bool(b)
                }
                Op::Logic(operator) => Val::Bool(boolean(&pop(&mut stack), operator)?),
                Op::Compare(cmp) => {
                    let rhs = pop(&mut stack);
                    let lhs = pop(&mut stack);
                    Val::Bool(compare(*cmp, lhs, rhs)?)
                }
                Op::Arith { op, start, end } => {
                    let symbol = op.symbol();
                    let rhs = number(pop(&mut stack), symbol)?;
                    let lhs = number(pop(&mut stack), symbol)?;
                    if *op == ArithOp::Div && rhs == 0.0 {
                        return Err(EvalError::DivisionByZero {
                            expr: self.text(*start, *end),
                        });
                    }
                    let result = op.apply(lhs, rhs);
                    if result.is_nan() {
                        return Err(EvalError::NotANumber {
                            expr: self.text(*start, *end),
                        });
                    }
                    Val::Num(result)
                }
            };
            stack.push(value);
        }
        match pop(&mut stack) {
            Val::Bool(b) => Ok(b),
            other => Err(EvalError::NotBoolean {
                found: other.describe(),
            }),
        }
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

fn load(name: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Val, EvalError> {
    match lookup(name) {
        None => Err(EvalError::UnknownVariable {
            name: name.to_owned(),
        }),
        Some(Value::Number(x)) if x.is_nan() => Err(EvalError::NotANumber {
            expr: name.to_owned(),
        }),
        Some(Value::Number(x)) => Ok(Val::Num(x)),
        Some(Value::Bool(b)) => Ok(Val::Bool(b)),
        Some(Value::Vector(v)) => Ok(Val::Series(v, name.to_owned())),
    }
}

/// Applies a reduction; `text` gives the call's source for NaN errors.
fn reduce(func: Func, arg: Val, text: impl FnOnce() -> String) -> Result<f64, EvalError> {
    let (values, name) = match arg {
        Val::Num(x) => (vec![x], String::new()),
        Val::Series(v, name) => (v, name),
        b @ Val::Bool(_) => return Err(type_mismatch(func.name(), "a number or a series", &b)),
    };
    let result = match func {
        Func::Len => values.len() as f64,
        Func::Sum => values.iter().sum(),
        _ if values.is_empty() => return Err(EvalError::EmptySeries { name }),
        Func::Avg => values.iter().sum::<f64>() / values.len() as f64,
        // Folds that propagate NaN, unlike f64::max / f64::min.
        Func::Max => values.iter().fold(f64::NEG_INFINITY, |a, &x| {
            if x > a || x.is_nan() || a.is_nan() {
                x
            } else {
                a
            }
        }),
        Func::Min => values.iter().fold(f64::INFINITY, |a, &x| {
            if x < a || x.is_nan() || a.is_nan() {
                x
            } else {
                a
            }
        }),
    };
    if result.is_nan() {
        return Err(EvalError::NotANumber { expr: text() });
    }
    Ok(result)
}

/// Compares two values: two booleans with `==`/`!=`, otherwise two numbers.
fn compare(op: CmpOp, lhs: Val, rhs: Val) -> Result<bool, EvalError> {
    let symbol = op.symbol();
    match (&lhs, &rhs, op) {
        (Val::Bool(a), Val::Bool(b), CmpOp::Eq) => Ok(a == b),
        (Val::Bool(a), Val::Bool(b), CmpOp::Ne) => Ok(a != b),
        (Val::Bool(_), _, CmpOp::Eq | CmpOp::Ne) => Err(type_mismatch(symbol, "a boolean", &rhs)),
        (Val::Bool(_), _, _) => Err(type_mismatch(symbol, "a number", &lhs)),
        _ => {
            let a = number(lhs, symbol)?;
            let b = number(rhs, symbol)?;
            Ok(op.apply(a, b))
        }
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

// ---------------------------------------------------------------------------
// Compiled form

/// One instruction of the postfix program a condition compiles to. Spans are
/// byte offsets into the source, for error messages.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Number(f64),
    Bool(bool),
    Load {
        name: String,
        start: usize,
        end: usize,
    },
    /// Pops the argument, pushes the reduction.
    Reduce {
        func: Func,
        start: usize,
        end: usize,
    },
    Not,
    Neg,
    /// Pops a value and pushes it as a number; emitted after the first
    /// operand of an arithmetic chain so it is checked before the next one
    /// is evaluated.
    ToNumber(&'static str),
    /// Between the operands of `||` (`stop_at` true) or `&&` (false): pops a
    /// boolean; if it equals `stop_at`, pushes it and jumps to `end`.
    ShortCircuit {
        operator: &'static str,
        stop_at: bool,
        end: usize,
    },
    /// After the last operand of `||` or `&&`: checks it is a boolean.
    Logic(&'static str),
    /// Pops the right, then the left operand; pushes the result.
    Compare(CmpOp),
    /// Pops the right, then the left operand; `start..end` spans both.
    Arith {
        op: ArithOp,
        start: usize,
        end: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Max,
    Min,
    Avg,
    Sum,
    Len,
}

const FUNCTIONS: [(&str, Func); 5] = [
    ("max", Func::Max),
    ("min", Func::Min),
    ("avg", Func::Avg),
    ("sum", Func::Sum),
    ("len", Func::Len),
];

impl Func {
    fn name(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    #[allow(clippy::float_cmp)] // `==` is documented as exact equality.
    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation helpers

/// A value during evaluation; a vector remembers its variable for messages.
enum Val {
    Num(f64),
    Bool(bool),
    Series(Vec<f64>, String),
}

impl Val {
    fn describe(&self) -> String {
        match self {
            Val::Num(x) => format!("a number ({x})"),
            Val::Bool(b) => format!("a boolean ({b})"),
            Val::Series(v, _) if v.len() == 1 => format!("a number ({})", v[0]),
            Val::Series(v, name) => format!("`{name}` ({} series)", v.len()),
        }
    }
}

fn type_mismatch(operator: &str, expected: &str, found: &Val) -> EvalError {
    EvalError::TypeMismatch {
        operator: operator.to_owned(),
        expected: expected.to_owned(),
        found: found.describe(),
    }
}

fn number(v: Val, operator: &str) -> Result<f64, EvalError> {
    match v {
        Val::Num(x) => Ok(x),
        Val::Series(values, name) => match values[..] {
            [x] if x.is_nan() => Err(EvalError::NotANumber { expr: name }),
            [x] => Ok(x),
            [] => Err(EvalError::EmptySeries { name }),
            _ => Err(EvalError::NotReduced {
                name,
                series: values.len(),
            }),
        },
        Val::Bool(_) => Err(type_mismatch(operator, "a number", &v)),
    }
}

fn boolean(v: &Val, operator: &str) -> Result<bool, EvalError> {
    match v {
        Val::Bool(b) => Ok(*b),
        _ => Err(type_mismatch(operator, "a boolean", v)),
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

// ---------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Number(f64),
    Ident,
    True,
    False,
    LParen,
    RParen,
    Comma,
    Not,
    And,
    Or,
    Plus,
    Minus,
    Star,
    Slash,
    Cmp(CmpOp),
    End,
}

impl Tok {
    fn is_operator(self) -> bool {
        matches!(
            self,
            Tok::Not
                | Tok::And
                | Tok::Or
                | Tok::Plus
                | Tok::Minus
                | Tok::Star
                | Tok::Slash
                | Tok::Cmp(_)
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Duration units and their length in seconds, as (divisor, multiplier) so
/// that `300ms` is exactly the double nearest 0.3.
const UNITS: [(&str, f64, f64); 7] = [
    ("ns", 1e9, 1.0),
    ("us", 1e6, 1.0),
    ("µs", 1e6, 1.0),
    ("ms", 1e3, 1.0),
    ("s", 1.0, 1.0),
    ("m", 1.0, 60.0),
    ("h", 1.0, 3600.0),
];

fn lex(src: &str) -> Result<Vec<Token>, ConditionError> {
    let bytes = src.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        let start = i;
        let (kind, len) = match c {
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '!' if at(i + 1) == b'=' => (Tok::Cmp(CmpOp::Ne), 2),
            '!' => (Tok::Not, 1),
            '<' if at(i + 1) == b'=' => (Tok::Cmp(CmpOp::Le), 2),
            '<' => (Tok::Cmp(CmpOp::Lt), 1),
            '>' if at(i + 1) == b'=' => (Tok::Cmp(CmpOp::Ge), 2),
            '>' => (Tok::Cmp(CmpOp::Gt), 1),
            '=' if at(i + 1) == b'=' => (Tok::Cmp(CmpOp::Eq), 2),
            '&' if at(i + 1) == b'&' => (Tok::And, 2),
            '|' if at(i + 1) == b'|' => (Tok::Or, 2),
            '=' | '&' | '|' => {
                return Err(ConditionError::new(
                    format!("unexpected character `{c}`; did you mean `{c}{c}`?"),
                    i,
                    1,
                ))
            }
            c if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) => {
                let (value, end) = lex_number(src, i)?;
                (Tok::Number(value), end - i)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = lex_identifier(src, i);
                let kind = match &src[i..end] {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => Tok::Ident,
                };
                (kind, end - i)
            }
            c => {
                return Err(ConditionError::new(
                    format!("unexpected character `{}`", c.escape_debug()),
                    i,
                    c.len_utf8(),
                ))
            }
        };
        i += len;
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens.push(Token {
        kind: Tok::End,
        start: src.len(),
        end: src.len(),
    });
    Ok(tokens)
}

/// `[A-Za-z_][A-Za-z0-9_]*` segments joined by single dots; returns the end.
fn lex_identifier(src: &str, start: usize) -> usize {
    let bytes = src.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = start;
    loop {
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        let next_starts_segment = bytes
            .get(i + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_');
        if bytes.get(i) == Some(&b'.') && next_starts_segment {
            i += 1;
        } else {
            return i;
        }
    }
}

/// Lexes a number with its optional `%` or duration suffix starting at
/// `start`; returns its value and end.
fn lex_number(src: &str, start: usize) -> Result<(f64, usize), ConditionError> {
    let bytes = src.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let digits = |mut i: usize| {
        while at(i).is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    if at(i) == b'.' && at(i + 1).is_ascii_digit() {
        i = digits(i + 1);
    }
    if matches!(at(i), b'e' | b'E') {
        if at(i + 1).is_ascii_digit() {
            i = digits(i + 1);
        } else if matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit() {
            i = digits(i + 2);
        }
    }
    let numeric_end = i;

    // Whatever letters, digits, dots or `_` follow belong to the same word:
    // a unit if it is only letters, a malformed number otherwise.
    let mut end = numeric_end;
    while let Some(c) = src[end..].chars().next() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == 'µ' {
            end += c.len_utf8();
        } else {
            break;
        }
    }
    let suffix = &src[numeric_end..end];
    let word = &src[start..end];
    if suffix
        .chars()
        .any(|c| !(c.is_ascii_alphabetic() || c == 'µ'))
    {
        return Err(ConditionError::new(
            format!("invalid number `{word}`"),
            start,
            end - start,
        ));
    }
    let mantissa: f64 = src[start..numeric_end]
        .parse()
        .map_err(|_| ConditionError::new(format!("invalid number `{word}`"), start, end - start))?;
    let value = if suffix.is_empty() {
        if at(end) == b'%' {
            end += 1;
            mantissa / 100.0
        } else {
            mantissa
        }
    } else if let Some(&(_, divisor, multiplier)) = UNITS.iter().find(|(u, _, _)| *u == suffix) {
        mantissa / divisor * multiplier
    } else {
        return Err(ConditionError::new(
            format!("unknown unit `{suffix}` in `{word}`; expected ns, us, ms, s, m, h or %"),
            numeric_end,
            suffix.len(),
        ));
    };
    if !value.is_finite() {
        return Err(ConditionError::new(
            format!("number `{}` is out of range", &src[start..end]),
            start,
            end - start,
        ));
    }
    Ok((value, end))
}

// ---------------------------------------------------------------------------
// Parser: recursive descent that emits the postfix program directly and
// returns the byte span of what it parsed.

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    program: Vec<Op>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

type Parsed = Result<Span, ConditionError>;

fn error_at(t: Token, message: String) -> ConditionError {
    ConditionError::new(message, t.start, t.end - t.start)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token {
        self.tokens[self.pos]
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos];
        if t.kind != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn text(&self, t: Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    fn emit(&mut self, op: Op) {
        self.program.push(op);
    }

    /// Enters one nesting level at token `t` (a `(`, a call, `!` or `-`).
    fn enter(&mut self, t: Token) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error_at(
                t,
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A token that cannot follow a complete operand.
    fn unexpected(&self, t: Token, wanted: &str) -> ConditionError {
        error_at(
            t,
            format!(
                "unexpected `{}`; expected an operator or {wanted}",
                self.text(t)
            ),
        )
    }

    /// `next (sep next)*` for `||` / `&&`, with short-circuit jumps.
    fn logic(&mut self, sep: Tok, operator: &'static str, next: fn(&mut Self) -> Parsed) -> Parsed {
        let first = next(self)?;
        let mut end = first.end;
        let mut jumps = Vec::new();
        while self.peek().kind == sep {
            self.bump();
            jumps.push(self.program.len());
            self.emit(Op::ShortCircuit {
                operator,
                stop_at: sep == Tok::Or,
                end: 0, // patched below
            });
            end = next(self)?.end;
        }
        if !jumps.is_empty() {
            self.emit(Op::Logic(operator));
            let target = self.program.len();
            for jump in jumps {
                if let Op::ShortCircuit { end, .. } = &mut self.program[jump] {
                    *end = target;
                }
            }
        }
        Ok(Span {
            start: first.start,
            end,
        })
    }

    fn parse_or(&mut self) -> Parsed {
        self.logic(Tok::Or, "||", Self::parse_and)
    }

    fn parse_and(&mut self) -> Parsed {
        self.logic(Tok::And, "&&", Self::parse_not)
    }

    fn parse_not(&mut self) -> Parsed {
        if self.peek().kind != Tok::Not {
            return self.parse_cmp();
        }
        let bang = self.bump();
        self.enter(bang)?;
        let inner = self.parse_not()?;
        self.leave();
        self.emit(Op::Not);
        Ok(Span {
            start: bang.start,
            end: inner.end,
        })
    }

    fn parse_cmp(&mut self) -> Parsed {
        let lhs = self.parse_sum()?;
        let Tok::Cmp(op) = self.peek().kind else {
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.parse_sum()?;
        let next = self.peek();
        if let Tok::Cmp(_) = next.kind {
            return Err(error_at(
                next,
                "comparisons cannot be chained; combine them with `&&`, e.g. `a < b && b < c`"
                    .to_owned(),
            ));
        }
        self.emit(Op::Compare(op));
        Ok(Span {
            start: lhs.start,
            end: rhs.end,
        })
    }

    /// A left-associative chain of the two operators in `ops`.
    fn arith(&mut self, ops: [(Tok, ArithOp); 2], next: fn(&mut Self) -> Parsed) -> Parsed {
        let first = next(self)?;
        let mut end = first.end;
        let mut is_first_op = true;
        while let Some(&(_, op)) = ops.iter().find(|(t, _)| *t == self.peek().kind) {
            self.bump();
            if is_first_op {
                self.emit(Op::ToNumber(op.symbol()));
                is_first_op = false;
            }
            end = next(self)?.end;
            self.emit(Op::Arith {
                op,
                start: first.start,
                end,
            });
        }
        Ok(Span {
            start: first.start,
            end,
        })
    }

    fn parse_sum(&mut self) -> Parsed {
        self.arith(
            [(Tok::Plus, ArithOp::Add), (Tok::Minus, ArithOp::Sub)],
            Self::parse_term,
        )
    }

    fn parse_term(&mut self) -> Parsed {
        self.arith(
            [(Tok::Star, ArithOp::Mul), (Tok::Slash, ArithOp::Div)],
            Self::parse_unary,
        )
    }

    fn parse_unary(&mut self) -> Parsed {
        if self.peek().kind != Tok::Minus {
            return self.parse_primary();
        }
        let minus = self.bump();
        self.enter(minus)?;
        let inner = self.parse_unary()?;
        self.leave();
        self.emit(Op::Neg);
        Ok(Span {
            start: minus.start,
            end: inner.end,
        })
    }

    fn parse_primary(&mut self) -> Parsed {
        let t = self.peek();
        let span = Span {
            start: t.start,
            end: t.end,
        };
        match t.kind {
            Tok::Number(x) => self.emit(Op::Number(x)),
            Tok::True | Tok::False => self.emit(Op::Bool(t.kind == Tok::True)),
            Tok::Ident if self.tokens[self.pos + 1].kind == Tok::LParen => {
                return self.parse_call()
            }
            Tok::Ident => self.emit(Op::Load {
                name: self.text(t).to_owned(),
                start: t.start,
                end: t.end,
            }),
            Tok::LParen => {
                let open = self.bump();
                self.enter(open)?;
                self.parse_or()?;
                let close = self.close(open)?;
                self.leave();
                return Ok(Span {
                    start: open.start,
                    end: close.end,
                });
            }
            _ => return Err(self.expected_value(t)),
        }
        self.bump();
        Ok(span)
    }

    fn parse_call(&mut self) -> Parsed {
        let name_token = self.bump();
        let name = self.text(name_token);
        let Some(&(_, func)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
            let message = match closest(name, FUNCTIONS.iter().map(|(n, _)| *n)) {
                Some(close) => format!("unknown function `{name}`; did you mean `{close}`?"),
                None => format!(
                    "unknown function `{name}`; the functions are max, min, avg, sum and len"
                ),
            };
            return Err(error_at(name_token, message));
        };
        let open = self.bump();
        self.enter(open)?;
        self.parse_or()?;
        let next = self.peek();
        if next.kind == Tok::Comma {
            return Err(error_at(
                next,
                format!("`{name}` takes exactly one argument"),
            ));
        }
        let close = self.close(open)?;
        self.leave();
        self.emit(Op::Reduce {
            func,
            start: name_token.start,
            end: close.end,
        });
        Ok(Span {
            start: name_token.start,
            end: close.end,
        })
    }

    /// Consumes the `)` matching `open`.
    fn close(&mut self, open: Token) -> Result<Token, ConditionError> {
        let t = self.peek();
        match t.kind {
            Tok::RParen => Ok(self.bump()),
            Tok::End => Err(error_at(open, "missing `)` to close this `(`".to_owned())),
            _ => Err(self.unexpected(t, "`)`")),
        }
    }

    /// The error for token `t` where a value should start.
    fn expected_value(&self, t: Token) -> ConditionError {
        let previous = self.pos.checked_sub(1).map(|p| self.tokens[p]);
        if let Some(op) = previous.filter(|p| p.kind.is_operator()) {
            error_at(op, format!("missing operand after `{}`", self.text(op)))
        } else if t.kind == Tok::End {
            error_at(
                t,
                "unexpected end of expression; expected a value".to_owned(),
            )
        } else {
            error_at(t, format!("expected a value, found `{}`", self.text(t)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        "a", "b", "c", "b.c", "0", "1", "2.5", ".", "e", "e-", "%", "ms", "µs", "us", " ", "(",
        ")", "(", ")", "!", "<", "<=", ">", "==", "!=", "=", "&&", "||", "&", "+", "-", "*", "/",
        ",", "max(", "len(", "avg(", "true", "false", "1e3", "5%", "300ms",
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
}
