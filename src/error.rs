//! One renderer for every error: `error: <headline>`, then `Caused by:` lines, then `hint:`
//! lines. Typed errors from the modules are converted here, at the edge, and carry their exit
//! code. Messages never contain secrets: header values are never part of any error's text, and
//! the renderer passes everything through [`crate::redact`] in case a server echoed one.
//!
//! This module only composes: what to do about a backend's failure is worded next to that
//! backend ([`crate::providers::ProviderError::hint`]), what to run next by the CLI's remedies.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::step::Command;
use crate::engine::EngineError;
use crate::exit::Exit;
use crate::plan::PlanErrors;

/// An error ready to be shown.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub exit: Exit,
    /// First line.
    pub headline: String,
    /// Pre-formatted detail block (plan problems).
    pub detail: Option<String>,
    /// Cause chain, outermost first.
    pub causes: Vec<String>,
    /// What to do.
    pub hints: Vec<String>,
}

impl CliError {
    /// A usage error (exit 2).
    pub fn usage(headline: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError {
            exit: Exit::Usage,
            headline: headline.into(),
            detail: None,
            causes: Vec::new(),
            hints: vec![hint.into()],
        }
    }

    /// A general error (exit 1) from any error with a source chain.
    pub fn from_std(
        headline: impl Into<String>,
        err: &(dyn std::error::Error + 'static),
    ) -> CliError {
        CliError {
            exit: Exit::Error,
            headline: headline.into(),
            detail: None,
            causes: chain(err),
            hints: Vec::new(),
        }
    }

    /// An engine error, its hints naming runnable commands for the plan at `plan`.
    pub fn engine(e: &EngineError, plan: &Path) -> CliError {
        let mut causes = chain(e);
        let headline = if causes.is_empty() {
            e.to_string()
        } else {
            causes.remove(0)
        };
        let mut hints = crate::cli::remedy::hints(e, plan);
        if let EngineError::Provider(p) = &e {
            // The backend words its own hint; this only supplies the command for the live state.
            let status = crate::cli::remedy::command_line(&Command::Status, plan, false);
            hints.push(p.hint(&status));
        }
        CliError {
            exit: e.exit(),
            headline,
            detail: None,
            causes,
            hints,
        }
    }

    /// The text written to stderr. Every part passes through [`crate::redact`]: secrets are
    /// replaced, and the headline, each cause and each hint is one line without control
    /// characters, so text a server sent cannot forge lines or reach the terminal raw.
    pub fn render(&self) -> String {
        let line = crate::redact::one_line;
        let mut out = format!("error: {}\n", line(&self.headline));
        if let Some(d) = &self.detail {
            for l in crate::redact::terminal(d).lines() {
                let _ = writeln!(out, "  {l}");
            }
        }
        if !self.causes.is_empty() {
            out.push_str("Caused by:\n");
            for c in &self.causes {
                let _ = writeln!(out, "  {}", line(c));
            }
        }
        for h in &self.hints {
            let _ = writeln!(out, "hint: {}", line(h));
        }
        out
    }
}

/// The messages of an error's sources, outermost first, without repeats.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let msg = e.to_string();
        if !msg.is_empty() && !out.iter().any(|m| m == &msg || m.contains(&msg)) {
            out.push(msg);
        }
        cur = e.source();
    }
    out
}

impl From<PlanErrors> for CliError {
    fn from(e: PlanErrors) -> Self {
        CliError {
            exit: Exit::Usage,
            headline: e.headline(),
            detail: Some(e.details()),
            causes: Vec::new(),
            hints: vec!["nothing was changed; fix the plan and run again".into()],
        }
    }
}
