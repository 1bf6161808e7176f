//! The lexer: source text → tokens with byte spans. Numbers accept decimals, exponents and
//! percentages (`5%` is `0.05`); durations (`300ms`, `1.5s`, `2h`) become seconds.

use super::program::CmpOp;
use super::ConditionError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tok {
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
    pub(super) fn is_operator(self) -> bool {
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
pub(super) struct Token {
    pub(super) kind: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
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

pub(super) fn lex(src: &str) -> Result<Vec<Token>, ConditionError> {
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
