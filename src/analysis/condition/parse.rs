//! The parser: recursive descent over the tokens that emits the postfix program directly and
//! returns the byte span of what it parsed, so errors and runtime messages can quote the source.
//! It recurses once per nesting level and stops at [`MAX_DEPTH`], so its stack use is bounded.

use super::lex::{lex, Tok, Token};
use super::program::{ArithOp, Op, FUNCTIONS};
use super::{closest, ConditionError, MAX_DEPTH};

/// Compiles `src` (already checked for length and emptiness) to its postfix program.
pub(super) fn program(src: &str) -> Result<Vec<Op>, ConditionError> {
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
    Ok(parser.program)
}

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
