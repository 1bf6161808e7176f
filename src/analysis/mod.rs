//! Analysis: the condition language that decides verdicts, and (later) the checks that measure.

pub mod condition;
