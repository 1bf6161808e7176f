//! Renders the expanded steps of a run: as numbered text lines with each step's exact writes
//! under it, or as JSON objects, one per step and one per write.
//!
//! In a dry run (`plan diff`, `--dry-run`) the step list is the command's output and goes to
//! stdout; during a real run it is progress and goes to stderr with the rest.

use schemars::JsonSchema;
use serde::Serialize;

use crate::engine::step::Step;
use crate::providers::Call;

/// One planned step, as a JSON line (`"event": "planned_step"`). Its writes follow as
/// [`PlannedWrite`] lines with the same `n`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlannedStep {
    /// 1-based position in the run.
    pub n: usize,
    /// Whether this is a preview (nothing is written).
    pub dry_run: bool,
    /// What the step does, in words.
    pub description: String,
    /// The step's fields (`kind` names the step; writes are listed separately).
    pub step: serde_json::Value,
}

/// One write a planned step makes, as a JSON line (`"event": "planned_write"`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlannedWrite {
    /// The step it belongs to.
    pub n: usize,
    /// `create`, `update` or `delete`, where the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The kind of object, where the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The object's name, where the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What changes, where the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// HTTP method or runtime API verb.
    pub method: String,
    /// Path (or runtime API command).
    pub path: String,
    /// Body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl PlannedWrite {
    fn from_call(n: usize, call: &Call) -> PlannedWrite {
        PlannedWrite {
            n,
            action: None,
            entity: None,
            name: None,
            detail: None,
            method: call.method.clone(),
            path: call.path.clone(),
            body: call.body.clone(),
        }
    }
}

/// The steps as JSON objects: each step, then its writes.
pub fn json_lines(steps: &[Step], dry_run: bool) -> Vec<(&'static str, serde_json::Value)> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let mut fields = serde_json::to_value(step).unwrap_or_default();
        if let Some(map) = fields.as_object_mut() {
            map.remove("writes");
            map.remove("changes");
        }
        let planned = PlannedStep {
            n,
            dry_run,
            description: step.describe(),
            step: fields,
        };
        out.push((
            "planned_step",
            serde_json::to_value(planned).unwrap_or_default(),
        ));
        let writes: Vec<PlannedWrite> = match step {
            Step::Ensure { changes } => changes
                .iter()
                .map(|c| PlannedWrite {
                    action: Some(c.action.to_string()),
                    entity: Some(c.entity.to_string()),
                    name: Some(c.name.clone()),
                    detail: Some(c.detail.clone()),
                    ..PlannedWrite::from_call(n, &c.call)
                })
                .collect(),
            other => other
                .writes()
                .into_iter()
                .map(|c| PlannedWrite::from_call(n, c))
                .collect(),
        };
        for w in writes {
            out.push(("planned_write", serde_json::to_value(w).unwrap_or_default()));
        }
    }
    out
}

/// The steps as text: a numbered line each, the objects an `ensure` step writes, and (when
/// `writes`) each exact write indented below its step.
pub fn text(steps: &[Step], writes: bool) -> String {
    let mut out = String::new();
    let width = steps.len().to_string().len();
    for (i, step) in steps.iter().enumerate() {
        out += &format!("{:>width$}. {}\n", i + 1, step.describe());
        let pad = " ".repeat(width + 2);
        if let Step::Ensure { changes } = step {
            // What each write changes is shown even without the calls.
            for c in changes {
                out += &format!(
                    "{pad}{} {} `{}`: {}\n",
                    c.action, c.entity, c.name, c.detail
                );
                if writes {
                    out += &format!("{pad}  {}\n", c.call);
                }
            }
        } else if writes {
            for call in step.writes() {
                out += &format!("{pad}{call}\n");
            }
        }
    }
    out
}
