//! The release strategy: blue-green (one switch) or canary (weighted steps, pauses, analysis).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Dur, SetHeaderRoute, SetMirrorRoute, Verify};

/// The release strategy. Exactly one key must be set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Strategy {
    /// All traffic moves at once.
    #[serde(default)]
    pub blue_green: Option<BlueGreen>,
    /// Traffic moves in weighted steps.
    #[serde(default)]
    pub canary: Option<Canary>,
}

/// Blue-green settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BlueGreen {
    /// The environment `plan apply` makes live.
    pub active_environment: String,
    /// Checks that must pass before the switch.
    #[serde(default)]
    pub pre_promotion_analysis: Option<AnalysisRef>,
    /// Checks that must pass after the switch; a failure rolls back.
    #[serde(default)]
    pub post_promotion_analysis: Option<AnalysisRef>,
}

/// Canary settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Canary {
    /// The environment serving now. May be omitted with `canary` in a plan of two
    /// environments: `bgctl release` takes it from the live side, other commands from a canary
    /// in progress or else the plan's order (the first environment).
    #[serde(default)]
    pub stable: String,
    /// The environment being released (omitted: the other one, see `stable`).
    #[serde(default)]
    pub canary: String,
    /// Steps run in order.
    pub steps: Vec<CanaryStep>,
    /// Data-plane check after each `setWeight` (needs `proxyUrl`).
    #[serde(default)]
    pub verify: Option<Verify>,
    /// Background analysis for the whole canary.
    #[serde(default)]
    pub analysis: Option<BackgroundAnalysis>,
    /// Name of the bgctl-owned mixed upstream (default `<canary upstream>.bgctl-canary`).
    #[serde(default)]
    pub mixed_upstream: Option<String>,
    /// Delay before the mixed upstream is deleted after promotion (default `2s`).
    #[serde(default)]
    pub cleanup_delay: Option<Dur>,
}

/// One canary step: exactly one key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CanaryStep {
    /// Canary share of traffic in percent, 0–100.
    #[serde(default)]
    pub set_weight: Option<f64>,
    /// Timed pause (`{duration: 2m}`) or manual gate (`{}`).
    #[serde(default)]
    pub pause: Option<Pause>,
    /// Checks that must pass to continue.
    #[serde(default)]
    pub analysis: Option<AnalysisRef>,
    /// Requests whose headers match go to the canary (no `match`: remove the route).
    #[serde(default)]
    pub set_header_route: Option<SetHeaderRoute>,
    /// A copy of matching requests also goes to the canary (no `match`: remove the mirror).
    #[serde(default)]
    pub set_mirror_route: Option<SetMirrorRoute>,
}

/// A pause; without `duration` it is a manual gate.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Pause {
    /// How long to wait.
    #[serde(default)]
    pub duration: Option<Dur>,
}

/// A list of named checks.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AnalysisRef {
    /// Names from the plan's `checks`.
    pub checks: Vec<String>,
}

/// Background analysis over the canary.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BackgroundAnalysis {
    /// Names from the plan's `checks`.
    pub checks: Vec<String>,
    /// Index of the step after which the analysis starts (default 0).
    #[serde(default)]
    pub start_after_step: Option<usize>,
}

impl Canary {
    /// Fills omitted roles in a plan of two environments (`envs`, in plan order): the one not
    /// named, or the first environment as stable and the second as canary when neither is.
    /// `bgctl release` then sets both from the live side. With more environments an omitted
    /// role is left empty, and validation asks for it.
    pub fn fill_roles(&mut self, envs: &[&str]) {
        let [first, second] = envs else {
            return;
        };
        let other = |name: &str| if name == *first { *second } else { *first };
        match (self.stable.is_empty(), self.canary.is_empty()) {
            (true, true) => {
                self.stable = (*first).to_string();
                self.canary = (*second).to_string();
            }
            (true, false) => self.stable = other(&self.canary).to_string(),
            (false, true) => self.canary = other(&self.stable).to_string(),
            (false, false) => {}
        }
    }
}
