//! The compiled form of a condition: a postfix program of [`Op`]s over numbers, booleans and
//! series, with the reducing functions and the comparison and arithmetic operators it names.
//! Spans in the instructions are byte offsets into the source, kept for error messages.

/// One instruction of the postfix program a condition compiles to. Spans are
/// byte offsets into the source, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
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
pub(super) enum Func {
    Max,
    Min,
    Avg,
    Sum,
    Len,
}

pub(super) const FUNCTIONS: [(&str, Func); 5] = [
    ("max", Func::Max),
    ("min", Func::Min),
    ("avg", Func::Avg),
    ("sum", Func::Sum),
    ("len", Func::Len),
];

impl Func {
    pub(super) fn name(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    pub(super) fn symbol(self) -> &'static str {
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
    pub(super) fn apply(self, a: f64, b: f64) -> bool {
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
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    pub(super) fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
        }
    }
}
