//! Evaluation: runs a compiled condition against metric values on a value stack, without
//! recursion, and turns every way it can go wrong (no data, an unreduced vector, NaN, a type
//! mismatch, division by zero) into an [`EvalError`] that says what to change.

use super::program::{ArithOp, CmpOp, Func, Op};
use super::{Condition, EvalError, Value};

impl Condition {
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
