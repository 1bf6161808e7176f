//! The fleet file as written (`kind: Fleet`): which plan every member runs, the members with the
//! values each fills into the plan's `${…}`, the waves and what a failure does.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::plan::model::{Dur, Metadata};

/// A fleet file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetFile {
    /// `bgctl.dev/v1`.
    pub api_version: String,
    /// `Fleet`.
    pub kind: String,
    /// The fleet's name.
    pub metadata: Metadata,
    /// The rollout plan every member runs, relative to the fleet file.
    pub plan: String,
    /// The members, each with its values for the plan's `${…}`.
    pub members: Vec<MemberSpec>,
    /// The waves, in order.
    pub waves: Vec<WaveSpec>,
    /// What a failed member does to the rest of the fleet.
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// One member: a gateway or cluster the plan runs against.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MemberSpec {
    /// Its name (letters, digits, `-`, `_`).
    pub name: String,
    /// Values for the plan's `${…}`; a value may itself name a variable of the runner's
    /// environment (`${EU_TOKEN}`).
    #[serde(default)]
    pub vars: IndexMap<String, String>,
}

/// One wave.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveSpec {
    /// Member names.
    pub members: Vec<String>,
    /// How many of its members run at once (default 1).
    #[serde(default)]
    pub max_parallel: Option<usize>,
    /// A wait before the wave starts, after an earlier wave changed something (e.g. `10m`).
    #[serde(default)]
    pub pause_before: Option<Dur>,
}

/// What a failed member does to the fleet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OnFailure {
    /// Start no further member; members that finished stay as they are.
    #[default]
    Halt,
    /// Also roll back the members of the failed wave that this run moved.
    RollbackWave,
    /// Also roll back every member this run moved, the latest wave first.
    RollbackAll,
}

impl OnFailure {
    /// The spelling in the fleet file.
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Halt => "halt",
            OnFailure::RollbackWave => "rollbackWave",
            OnFailure::RollbackAll => "rollbackAll",
        }
    }
}

/// The keys allowed at each level, for unknown-key hints.
pub(crate) fn known_keys(parent: &str) -> &'static [&'static str] {
    let last = parent.rsplit('.').next().unwrap_or_default();
    if parent.is_empty() {
        &[
            "apiVersion",
            "kind",
            "metadata",
            "plan",
            "members",
            "waves",
            "onFailure",
        ]
    } else if parent == "metadata" {
        &["name"]
    } else if last.starts_with("members[") && !parent.starts_with("waves") {
        &["name", "vars"]
    } else if last.starts_with("waves[") {
        &["members", "maxParallel", "pauseBefore"]
    } else {
        &[]
    }
}
