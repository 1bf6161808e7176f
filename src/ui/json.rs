//! The `-o json` contract: newline-delimited JSON objects on stdout, one per event, each with
//! `event` (its kind) and `time` (RFC 3339, UTC, milliseconds). Engine events
//! ([`crate::engine::events::Event`]) are written as they happen; the CLI adds the planned
//! steps and writes of a dry run, `valid`/`invalid` from `plan validate`, an `error` event for
//! any failure (invalid plan, unreachable API, refused credentials, a usage error) and, last, one
//! `result` event with the exit code and a one-line summary.
//!
//! `bgctl status` and `bgctl schema` print one JSON document instead (they report, they do not
//! run anything); a failing `status` still ends with `error` and `result` events.
//!
//! [`schema`] is the JSON Schema of one line, printed by `bgctl schema --events`.

use schemars::JsonSchema;
use serde::Serialize;

use super::plan::{PlannedStep, PlannedWrite};
use crate::engine::events::Event;
use crate::error::CliError;
use crate::exit::Exit;

/// An `error` event: the same headline, causes and hints as the text on stderr.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorEvent {
    /// The exit code this error ends the run with.
    pub exit: u8,
    /// What went wrong, in one line.
    pub headline: String,
    /// A detail block (every problem of an invalid plan, one per line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The cause chain, outermost first.
    pub causes: Vec<String>,
    /// What to do, with runnable commands.
    pub hints: Vec<String>,
}

impl From<&CliError> for ErrorEvent {
    fn from(e: &CliError) -> Self {
        // The same one-line, capped texts as the stderr renderer, so a server's message cannot
        // grow a JSON line without bound or forge structure in a consumer that prints it.
        let line = crate::redact::one_line;
        ErrorEvent {
            exit: e.exit.code(),
            headline: line(&e.headline),
            detail: e.detail.as_deref().map(crate::redact::terminal),
            causes: e.causes.iter().map(|c| line(c)).collect(),
            hints: e.hints.iter().map(|h| line(h)).collect(),
        }
    }
}

/// The `result` event that ends every run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResultEvent {
    /// The process exit code (see `bgctl --help`).
    pub exit: u8,
    /// One line saying how the run ended.
    pub summary: String,
}

impl ResultEvent {
    /// The result for an exit code.
    pub fn new(exit: Exit, summary: impl Into<String>) -> ResultEvent {
        ResultEvent {
            exit: exit.code(),
            summary: summary.into(),
        }
    }
}

/// One problem of an invalid plan.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Problem {
    /// Key path, e.g. `strategy.canary.steps[2].setWeight`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// The lines the CLI writes beside the engine's events.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CliLine {
    /// One step of the plan (a dry run's output; also shown before a real run).
    PlannedStep(PlannedStep),
    /// One write of a planned step.
    PlannedWrite(PlannedWrite),
    /// `plan validate`: a valid plan.
    Valid {
        /// The file.
        file: String,
        /// Its rollout name.
        rollout: String,
    },
    /// `plan validate`: an invalid plan with every problem.
    Invalid {
        /// The file.
        file: String,
        /// The problems.
        problems: Vec<Problem>,
    },
    /// `bgctl fleet`: a wave starts (or is skipped, or waits `pauseBefore`).
    FleetWave {
        /// 1-based wave number.
        wave: usize,
        /// Its members.
        members: Vec<String>,
        /// `started`, `pausing` or `not_started`.
        state: String,
    },
    /// `bgctl fleet`: how one member ended (the line also carries `member`).
    FleetMember {
        /// 1-based wave number.
        wave: usize,
        /// The member's exit code, as `bgctl plan apply` would have exited.
        exit: u8,
        /// `up_to_date`, `changed`, `failed`, `paused`, `not_started`, `rolled_back`.
        state: String,
        /// One line.
        summary: String,
    },
    /// The run failed.
    Error(ErrorEvent),
    /// The run ended; always the last line.
    Result(ResultEvent),
}

/// Any line's kind and fields.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AnyLine {
    /// An engine event.
    Engine(Event),
    /// A line from the CLI.
    Cli(CliLine),
}

/// One line of `-o json` output.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Line {
    /// When it was written: RFC 3339, UTC, milliseconds.
    pub time: String,
    /// `bgctl fleet`: the member the line is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The event.
    #[serde(flatten)]
    pub body: AnyLine,
}

/// The JSON Schema of one `-o json` line.
pub fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Line)).unwrap_or_default();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "title".into(),
            "bgctl -o json event (one per line on stdout)".into(),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of line is in the schema, so a consumer can validate what it reads.
    #[test]
    fn the_schema_names_every_event_kind() {
        let text = schema().to_string();
        for kind in [
            "\"observed\"",
            "\"traffic_set\"",
            "\"verify_sample\"",
            "\"planned_step\"",
            "\"planned_write\"",
            "\"error\"",
            "\"result\"",
            "\"time\"",
        ] {
            assert!(text.contains(kind), "{kind} missing from the events schema");
        }
    }

    /// A server's message in an error reaches `-o json` as one capped line without control
    /// characters, like the stderr text (issue 14 item 5).
    #[test]
    fn error_events_carry_one_capped_line() {
        let forged = format!(
            "bad\n\u{1b}]0;title\u{7}done: `green` is live{}",
            "x".repeat(50_000)
        );
        let e = CliError::usage(forged.clone(), forged);
        let event = ErrorEvent::from(&e);
        for text in std::iter::once(&event.headline).chain(&event.hints) {
            assert!(
                text.chars().count() <= 4_001,
                "capped: {} bytes",
                text.len()
            );
            assert!(
                !text.chars().any(char::is_control),
                "no control characters: {text:?}"
            );
        }
    }
}
