//! The concrete steps of a run, as data.
//!
//! [`super::expand`] turns a validated plan and one read of the live state into a flat
//! `Vec<Step>`; [`super::execute`] runs that list with one `match`; `plan diff` and `--dry-run`
//! print it with the exact writes of each step. The types live in `src/engine/` rather than
//! `src/plan/` because a step carries provider data (the [`Call`]s it makes, a [`Change`]), and
//! nothing under `src/plan` depends on `crate::providers`.
//!
//! What a person must do is data too: [`Remedy`] says which command finishes a job by hand and
//! [`Waiting`] what a paused rollout waits for; the CLI renders both as command lines (quoted
//! for a shell, with the real plan path). The engine never builds a command line.

use schemars::JsonSchema;
use serde::Serialize;

use crate::providers::routes::ActiveRoute;
use crate::providers::{Call, Change};

/// One concrete step of a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Create or update the objects that carry no traffic yet (upstreams, targets, settings).
    Ensure {
        /// The writes, in order.
        changes: Vec<Change>,
    },
    /// Make a side ready (Kubernetes: its Deployment rolled out) and probe its targets; an
    /// unhealthy side stops the run before traffic moves.
    Probe {
        /// Environment.
        env: String,
    },
    /// Probe the targets the plan adds to a side that serves now, before the write that puts
    /// them into rotation (it takes traffic at once): an unhealthy one stops the run with
    /// nothing changed (exit 3).
    ProbeNew {
        /// The serving environment.
        env: String,
        /// The new targets (`host:port`).
        targets: Vec<String>,
    },
    /// Run checks and judge them together.
    Analysis {
        /// When in the rollout.
        stage: Stage,
        /// Check names.
        checks: Vec<String>,
    },
    /// Start the canary's background analysis; it runs beside the following steps.
    BackgroundAnalysis {
        /// Check names.
        checks: Vec<String>,
    },
    /// Wait for the background analysis' verdict (it must pass before the final promotion).
    AwaitBackground,
    /// Run the plan's hooks of one kind.
    Hook {
        /// `preSwitch` or `postSwitch`.
        hook: HookKind,
    },
    /// A canary `setWeight` step: split traffic (100 sends all of it to the canary).
    SetWeight {
        /// 0-based index of the plan's step.
        step: usize,
        /// Requested canary percent.
        requested: f64,
        /// Percent the backend's integer weights achieve.
        achieved: f64,
        /// Whether the split is then verified through the proxy.
        verify: bool,
        /// The traffic writes, computed from the live state as read before the run.
        writes: Vec<Call>,
    },
    /// A canary `setHeaderRoute` / `setMirrorRoute` step: the owned header and mirror routes
    /// become exactly those active after it (issue 16, [`crate::providers::routes`]).
    Route {
        /// 0-based index of the plan's step.
        step: usize,
        /// What the step does, for people (`set header route `testers`: …`).
        change: String,
        /// Every route active after the step.
        routes: Vec<ActiveRoute>,
        /// The route writes, computed from the live state as read before the run.
        writes: Vec<Call>,
    },
    /// A canary timed pause.
    Pause {
        /// 0-based index of the plan's step.
        step: usize,
        /// How long, in milliseconds (the plan's whole pause).
        millis: u64,
        /// A pause an earlier run started (unix seconds): only the rest of it is waited out.
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// A canary manual gate: a person passes it with `promote` (or ends the rollout with `abort`).
    Gate {
        /// 0-based index of the plan's step.
        step: usize,
    },
    /// All traffic to one side (a blue-green switch, a canary's final promotion), then verified
    /// through the proxy where the plan says how.
    Switch {
        /// The side that takes all traffic.
        to: String,
        /// Skipped when traffic already goes there and the rollout is recorded complete (a
        /// canary whose last step already sent 100%).
        if_needed: bool,
        /// The traffic writes.
        writes: Vec<Call>,
    },
    /// Remove temporary objects traffic no longer uses (Kong: the canary's mixed upstream),
    /// after waiting `delay_millis` for requests in flight.
    Cleanup {
        /// Milliseconds waited first (only when there is something to remove).
        delay_millis: u64,
    },
    /// Retire the side that served before, as the plan says (Kubernetes `oldDeployment`).
    Retire {
        /// The side that served before.
        old: String,
        /// The side that serves now.
        live: String,
        /// The writes, where the backend can say them in advance.
        writes: Vec<Call>,
    },
}

/// Where in a rollout an analysis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "at", content = "step", rename_all = "snake_case")]
pub enum Stage {
    /// Blue-green: after the new side is healthy, before traffic moves.
    PrePromotion,
    /// Blue-green: after the switch was verified.
    PostPromotion,
    /// A canary's `analysis` step (0-based index).
    Step(usize),
}

impl Stage {
    /// The label used in events (`prePromotion`, `postPromotion`, `step 3`).
    pub fn label(self) -> String {
        match self {
            Stage::PrePromotion => "prePromotion".into(),
            Stage::PostPromotion => "postPromotion".into(),
            Stage::Step(i) => format!("step {}", i + 1),
        }
    }
}

/// A kind of hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum HookKind {
    /// Before the first traffic change.
    PreSwitch,
    /// After the final traffic change was verified.
    PostSwitch,
}

impl HookKind {
    /// The plan's spelling.
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreSwitch => "preSwitch",
            HookKind::PostSwitch => "postSwitch",
        }
    }
}

impl Step {
    /// The writes this step makes, as far as they are known before it runs.
    pub fn writes(&self) -> Vec<&Call> {
        match self {
            Step::Ensure { changes } => changes.iter().map(|c| &c.call).collect(),
            Step::SetWeight { writes, .. }
            | Step::Route { writes, .. }
            | Step::Switch { writes, .. }
            | Step::Retire { writes, .. } => writes.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this step may change where traffic goes.
    pub fn moves_traffic(&self) -> bool {
        matches!(
            self,
            Step::SetWeight { .. } | Step::Route { .. } | Step::Switch { .. }
        )
    }

    /// One line saying what the step does (for people; the JSON form carries the fields).
    pub fn describe(&self) -> String {
        let of = |i: &usize| format!("canary step {}", i + 1);
        match self {
            Step::Ensure { changes } => {
                format!("ensure the plan's objects: {} write(s)", changes.len())
            }
            Step::Probe { env } => format!("make `{env}` ready and probe its targets"),
            Step::ProbeNew { env, targets } => format!(
                "probe the new target(s) of serving `{env}` before they get traffic: {}",
                targets.join(", ")
            ),
            Step::Analysis { stage, checks } => {
                let at = match stage {
                    Stage::Step(i) => format!("{}: analysis", of(i)),
                    other => format!("{} analysis", other.label()),
                };
                format!("{at} ({})", checks.join(", "))
            }
            Step::BackgroundAnalysis { checks } => {
                format!("start background analysis ({})", checks.join(", "))
            }
            Step::AwaitBackground => "wait for the background analysis to pass".into(),
            Step::Hook { hook } => format!("run the {} hooks", hook.name()),
            Step::SetWeight {
                step,
                requested,
                achieved,
                verify,
                ..
            } => {
                let mut s = format!("{}: set the canary weight to {requested}%", of(step));
                if (requested - achieved).abs() > 1e-9 {
                    s += &format!(" (achieved {achieved:.3}%)");
                }
                if *verify {
                    s += ", verify through the proxy";
                }
                s
            }
            Step::Route { step, change, .. } => format!("{}: {change}", of(step)),
            Step::Pause {
                step,
                millis,
                since,
            } => {
                let d = std::time::Duration::from_millis(*millis);
                let mut s = format!("{}: pause {}", of(step), humantime::format_duration(d));
                if let Some(since) = since {
                    s += &format!(
                        " (resumed: {} left)",
                        humantime::format_duration(super::interrupt::remaining(d, *since))
                    );
                }
                s
            }
            Step::Gate { step } => format!("{}: manual gate (wait for a promotion)", of(step)),
            Step::Switch { to, if_needed, .. } => {
                let mut s = format!("send all traffic to `{to}`, verify");
                if *if_needed {
                    s += " (unless the last step already did)";
                }
                s
            }
            Step::Cleanup { delay_millis: 0 } => "remove temporary objects, if any are left".into(),
            Step::Cleanup { delay_millis } => format!(
                "remove temporary objects, if any are left (after {})",
                humantime::format_duration(std::time::Duration::from_millis(*delay_millis))
            ),
            Step::Retire { old, live, writes } if writes.is_empty() => {
                format!("retire `{old}` now that `{live}` serves (nothing to remove here)")
            }
            Step::Retire { old, live, .. } => {
                format!("retire `{old}` now that `{live}` serves, as the plan says")
            }
        }
    }
}

/// What a rollout waits for while paused; recorded in the target system so any runner can see
/// it. The record holds [`Waiting::encode`]'s text, which older runs also recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Waiting {
    /// A manual gate at a 0-based step: `promote` passes it.
    Gate {
        /// 0-based step index.
        step: usize,
    },
    /// An inconclusive analysis at a 0-based step: `promote` or `abort` decides.
    Inconclusive {
        /// 0-based step index.
        step: usize,
    },
    /// A timed pause at a 0-based step.
    TimedPause {
        /// 0-based step index.
        step: usize,
        /// When the pause started (unix seconds; absent in records of older versions).
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// A run was interrupted with `onInterrupt: pause`: `plan apply` resumes, `abort` ends it.
    Interrupted {
        /// Recorded step.
        step: usize,
        /// Interrupted inside a timed pause: when that pause started (unix seconds).
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

impl Waiting {
    /// The text kept in the rollout record.
    pub fn encode(self) -> String {
        match self {
            Waiting::Gate { step } => format!("manual gate at step {}", step + 1),
            Waiting::Inconclusive { step } => {
                format!("manual gate at step {} (analysis inconclusive)", step + 1)
            }
            Waiting::TimedPause { step, since } => {
                format!("timed pause at step {}{}", step + 1, since_text(since))
            }
            Waiting::Interrupted { step, since } => {
                format!("interrupted at step {step}{}", since_text(since))
            }
        }
    }

    /// Reads a recorded text (this run's [`Waiting::encode`], or an older run's longer text
    /// with a command after a colon). `None` for text bgctl did not write.
    pub fn parse(text: &str) -> Option<Waiting> {
        let number = |rest: &str| -> Option<usize> {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        if let Some(rest) = text.strip_prefix("manual gate at step ") {
            let step = number(rest)?.checked_sub(1)?;
            return Some(if rest.contains("inconclusive") {
                Waiting::Inconclusive { step }
            } else {
                Waiting::Gate { step }
            });
        }
        if let Some(rest) = text.strip_prefix("timed pause at step ") {
            return Some(Waiting::TimedPause {
                step: number(rest)?.checked_sub(1)?,
                since: parse_since(rest),
            });
        }
        if let Some(rest) = text.strip_prefix("interrupted at step ") {
            return Some(Waiting::Interrupted {
                step: number(rest)?,
                since: parse_since(rest),
            });
        }
        None
    }

    /// Whether a person must act (a gate or an inconclusive verdict), rather than time.
    pub fn is_gate(self) -> bool {
        matches!(self, Waiting::Gate { .. } | Waiting::Inconclusive { .. })
    }
}

/// ` in a pause since <RFC 3339>` (the start of a timed pause), or nothing.
fn since_text(since: Option<u64>) -> String {
    since.map_or_else(String::new, |s| {
        format!(" in a pause since {}", super::rfc3339(s))
    })
}

/// The pause start [`since_text`] wrote, if any.
fn parse_since(rest: &str) -> Option<u64> {
    let (_, at) = rest.split_once(" in a pause since ")?;
    let at = humantime::parse_rfc3339(at.split_whitespace().next()?).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

/// A command a person can run to finish or inspect a job by hand. The CLI renders it with the
/// plan path the user gave, every argument quoted for a POSIX shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// `status`: see the live state.
    Status,
    /// `switch --to ENV --yes`.
    Switch {
        /// The side to make live.
        to: String,
    },
    /// `abort --yes`.
    Abort,
    /// `promote --yes`.
    Promote,
    /// `plan apply`.
    Apply,
    /// `plan apply --wait`.
    ApplyWait,
}

/// What a person must do when a run could not finish on its own: first restore something (if
/// anything), then run the commands in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Remedy {
    /// An environment whose objects must be restored first (its Deployment, or a `manifest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
    /// The commands, in order.
    pub commands: Vec<Command>,
    /// The commands must break this run's own lock (it could not be released).
    pub force_unlock: bool,
}

impl Remedy {
    /// Run these commands in order.
    pub fn run(commands: Vec<Command>) -> Remedy {
        Remedy {
            restore: None,
            commands,
            force_unlock: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records written by this version and by older ones (with a command after a colon) both
    /// read back as the same state; gate detection does not look at prose.
    #[test]
    fn waiting_round_trips_and_reads_older_records() {
        for w in [
            Waiting::Gate { step: 2 },
            Waiting::Inconclusive { step: 0 },
            Waiting::TimedPause {
                step: 4,
                since: None,
            },
            Waiting::TimedPause {
                step: 4,
                since: Some(1_800_000_000),
            },
            Waiting::Interrupted {
                step: 3,
                since: None,
            },
            Waiting::Interrupted {
                step: 3,
                since: Some(1_800_000_000),
            },
        ] {
            assert_eq!(Waiting::parse(&w.encode()), Some(w));
        }
        assert_eq!(
            Waiting::parse("manual gate at step 3: run `bgctl promote -f <plan>`"),
            Some(Waiting::Gate { step: 2 })
        );
        assert_eq!(
            Waiting::parse(
                "manual gate at step 2 (analysis inconclusive): run `bgctl promote` or `bgctl abort`"
            ),
            Some(Waiting::Inconclusive { step: 1 })
        );
        assert_eq!(Waiting::parse("something else"), None);
        assert_eq!(Waiting::parse("manual gate at step 0"), None);
        assert!(Waiting::Inconclusive { step: 1 }.is_gate());
        assert!(!Waiting::TimedPause {
            step: 1,
            since: None
        }
        .is_gate());
    }
}
