//! Placeholder until the condition language lands: keeps the source text.
use serde::{Deserialize, Serialize};

/// A condition (source only, for now).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Condition(String);

/// A parse error.
#[derive(Debug)]
pub struct ConditionError(String);

impl ConditionError {
    /// Rendered message.
    pub fn render(&self, _src: &str) -> String {
        self.0.clone()
    }
}

impl Condition {
    /// Source text.
    pub fn source(&self) -> &str {
        &self.0
    }
    /// Checks identifiers.
    pub fn check_variables(&self, _allowed: &[&str]) -> Result<(), ConditionError> {
        Ok(())
    }
}
