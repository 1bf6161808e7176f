//! Expansion: a validated plan plus one read of the live state become the flat list of
//! [`Step`]s a run makes (blue-green and canary alike, for every provider).
//!
//! The same function serves the run and its preview: `plan diff` and `--dry-run` print the list
//! computed from the read before the lock, a run computes it again from the read it makes under
//! the lock and executes it. The writes of a later traffic step are computed from the state as
//! read now; where an earlier step creates an object (a canary's first split creates Kong's
//! mixed upstream), a later step updates it instead, which the preview cannot know yet.

use super::canary::Start;
use super::step::{HookKind, Stage, Step};
use super::{Engine, EngineError};
use crate::plan::model::Canary;
use crate::providers::{Change, Phase, Provider, Record, Snapshot, Traffic};

/// What a blue-green `deploy` will do, computed from one snapshot.
pub(crate) struct DeployPlan {
    /// The steps.
    pub steps: Vec<Step>,
    /// The side that served before (the rollback target).
    pub previous: Option<String>,
    /// The record written with the switch.
    pub record: Record,
    /// Where traffic goes at the end.
    pub to: Traffic,
    /// Whether traffic moves.
    pub moves: bool,
}

/// Where a canary run starts.
pub(crate) struct CanaryStart {
    /// The recorded step a rollout in progress resumes from (`None`: a fresh canary).
    pub resume: Option<usize>,
    /// The steps.
    pub steps: Vec<Step>,
}

impl<P: Provider> Engine<'_, P> {
    /// What `deploy` would do from `snap`; `None` when nothing differs.
    pub(crate) fn deploy_plan(
        &self,
        target: &str,
        action: &str,
        snap: &Snapshot,
    ) -> Option<DeployPlan> {
        let changes = self.provider.setup_changes(snap);
        let to = Traffic::Env {
            env: target.to_string(),
        };
        // A recorded failure, or a switch a killed run wrote and never verified, is never "up to
        // date": the switch is made and verified again.
        let moves =
            snap.traffic != to || matches!(snap.record.phase, Phase::Failed | Phase::Verifying);
        if changes.is_empty() && !moves {
            return None;
        }
        let previous = match &snap.traffic {
            Traffic::Env { env } if env != target => Some(env.clone()),
            Traffic::Split { stable, .. } => Some(stable.clone()),
            _ => snap.record.previous.clone(),
        };
        // Written with the switch as `verifying`, `completed` once verified.
        let record = Self::unverified(&self.record(
            action,
            Phase::Completed,
            if moves {
                previous.clone()
            } else {
                snap.record.previous.clone()
            },
        ));
        let mut steps = Vec::new();
        if !changes.is_empty() {
            steps.extend(self.live_probes(snap));
            steps.push(Step::Ensure { changes });
        }
        if moves {
            let bg = self.plan.strategy.blue_green.as_ref();
            steps.push(Step::Probe {
                env: target.to_string(),
            });
            if let Some(pre) = bg.and_then(|b| b.pre_promotion_analysis.as_ref()) {
                steps.push(Step::Analysis {
                    stage: Stage::PrePromotion,
                    checks: pre.checks.clone(),
                });
            }
            if !self.plan.hooks.pre_switch.is_empty() {
                steps.push(Step::Hook {
                    hook: HookKind::PreSwitch,
                });
            }
            steps.push(Step::Switch {
                to: target.to_string(),
                if_needed: false,
                writes: self.provider.traffic_calls(snap, &to, &record),
            });
            if let Some(post) = bg.and_then(|b| b.post_promotion_analysis.as_ref()) {
                steps.push(Step::Analysis {
                    stage: Stage::PostPromotion,
                    checks: post.checks.clone(),
                });
            }
            if !self.plan.hooks.post_switch.is_empty() {
                steps.push(Step::Hook {
                    hook: HookKind::PostSwitch,
                });
            }
            if let Some(old) = previous.as_deref().filter(|p| *p != target) {
                steps.push(Step::Retire {
                    old: old.to_string(),
                    live: target.to_string(),
                    writes: self.retire_writes(snap, old, target),
                });
            }
        }
        Some(DeployPlan {
            steps,
            previous,
            record,
            to,
            moves,
        })
    }

    /// Probes of the targets the plan adds to a side that serves now: the ensure step puts them
    /// into rotation at once, so they are probed before it (issue 13 item 7).
    fn live_probes(&self, snap: &Snapshot) -> Vec<Step> {
        let serving: Vec<&String> = match &snap.traffic {
            Traffic::Env { env } => vec![env],
            Traffic::Split { stable, canary, .. } => vec![stable, canary],
            Traffic::Missing | Traffic::Foreign { .. } => Vec::new(),
        };
        serving
            .into_iter()
            .filter_map(|env| {
                let targets = self.provider.new_targets(snap, env);
                (!targets.is_empty()).then(|| Step::ProbeNew {
                    env: env.clone(),
                    targets,
                })
            })
            .collect()
    }

    /// The writes retiring `old` will make once `live` serves, where the backend can say them
    /// in advance: asked as the retirement a completed promotion would still owe.
    fn retire_writes(&self, snap: &Snapshot, old: &str, live: &str) -> Vec<crate::providers::Call> {
        let promoted = Snapshot {
            traffic: Traffic::Env {
                env: live.to_string(),
            },
            record: Record {
                previous: Some(old.to_string()),
                phase: Phase::Completed,
                action: Some("apply".into()),
                ..Record::default()
            },
            lock: None,
            envs: Vec::new(),
            extra: Vec::new(),
            routing: None,
            // The provider's reading of the live objects, so it can say what retiring takes.
            live: snap.live.clone(),
        };
        self.provider
            .pending_retire(&promoted)
            .map(|p| vec![p.change.call])
            .unwrap_or_default()
    }

    /// Where a recorded canary resumes: the recorded step, when the record is this plan's and
    /// the rollout is in progress or paused.
    fn resume_point(c: &Canary, snap: &Snapshot) -> Option<usize> {
        let r = &snap.record;
        let ours = r.canary.as_deref() == Some(c.canary.as_str())
            && r.stable.as_deref() == Some(c.stable.as_str());
        // `verifying`: a run killed between a traffic write and its verification; the next
        // run resumes there and verifies.
        (ours
            && matches!(
                r.phase,
                Phase::Progressing | Phase::Paused | Phase::Verifying
            ))
        .then(|| r.step.unwrap_or(0))
    }

    /// Where a canary run starts from `snap` and the steps it makes; `None` when the canary is
    /// already complete.
    pub(crate) fn canary_start(
        &self,
        c: &Canary,
        start: Start,
        snap: &Snapshot,
    ) -> Result<Option<CanaryStart>, EngineError> {
        let resume = Self::resume_point(c, snap);
        let waiting = snap
            .record
            .waiting
            .as_deref()
            .and_then(super::step::Waiting::parse);
        let gate_step = resume.filter(|_| {
            snap.record.phase == Phase::Paused && waiting.is_some_and(super::step::Waiting::is_gate)
        });
        if start != Start::Apply && resume.is_none() {
            return Err(EngineError::Invalid(format!(
                "rollout `{}` has no canary in progress to promote (phase {})",
                self.plan.metadata.name,
                snap.record.phase.as_str()
            )));
        }
        // A recorded failure is never complete: the canary runs again from its first step.
        let at_end = resume.is_none()
            && !matches!(snap.record.phase, Phase::Failed | Phase::Verifying)
            && snap.traffic
                == (Traffic::Env {
                    env: c.canary.clone(),
                })
            && self.provider.setup_changes(snap).is_empty();
        if at_end && snap.extra.is_empty() {
            return Ok(None);
        }
        let total = c.steps.len();
        // A timed pause an earlier run started and was stopped in (interrupted with
        // `onInterrupt: pause`, or killed) is waited out, not skipped: the run resumes at that
        // pause with its recorded start.
        let paused = match (start, resume) {
            (Start::Apply, Some(s)) if s > 0 => {
                let timed = c
                    .steps
                    .get(s - 1)
                    .and_then(|st| st.pause.as_ref())
                    .is_some_and(|p| p.duration.is_some());
                super::interrupt::pause_started(&snap.record)
                    .filter(|_| timed)
                    .map(|since| (s - 1, since))
            }
            _ => None,
        };
        let (resume, first, changes) = if at_end {
            // A run killed after its last traffic write left the mix behind: only the final
            // cleanup is left to do.
            (Some(total), total, Vec::new())
        } else {
            let first = match (start, resume) {
                (Start::PromoteFull, _) => total,
                (Start::Promote, Some(step)) if gate_step == Some(step) => step + 1,
                (_, Some(step)) => paused.map_or(step, |(i, _)| i),
                (Start::Apply, None) => 0,
                (_, None) => unreachable!("checked above"),
            };
            let changes = if resume.is_none() {
                self.provider.setup_changes(snap)
            } else {
                Vec::new()
            };
            (resume, first, changes)
        };
        let action = if start == Start::Apply {
            "apply"
        } else {
            "promote"
        };
        let steps =
            self.canary_steps(c, snap, action, (resume.is_none(), first, paused), changes)?;
        Ok(Some(CanaryStart { resume, steps }))
    }

    /// The canary's steps from plan step `first` on.
    fn canary_steps(
        &self,
        c: &Canary,
        snap: &Snapshot,
        action: &str,
        (fresh, first, paused): (bool, usize, Option<(usize, u64)>),
        changes: Vec<Change>,
    ) -> Result<Vec<Step>, EngineError> {
        let total = c.steps.len();
        let mut steps = Vec::new();
        if !changes.is_empty() {
            steps.extend(self.live_probes(snap));
            steps.push(Step::Ensure { changes });
        }
        if fresh {
            steps.push(Step::Probe {
                env: c.canary.clone(),
            });
        }
        if first == 0 && !self.plan.hooks.pre_switch.is_empty() {
            steps.push(Step::Hook {
                hook: HookKind::PreSwitch,
            });
        }
        // Background analysis starts once step `startAfterStep` is done (it runs beside the
        // steps) and must have passed before the final promotion.
        let background = c.analysis.as_ref();
        let start_after = background.and_then(|a| a.start_after_step).unwrap_or(0);
        let starts_at = (first..total).find(|i| *i > start_after).unwrap_or(total);
        for index in first..total {
            if index == starts_at {
                if let Some(a) = background {
                    steps.push(Step::BackgroundAnalysis {
                        checks: a.checks.clone(),
                    });
                }
            }
            let s = &c.steps[index];
            if let Some(percent) = s.set_weight {
                let phase = if percent >= 100.0 {
                    Phase::Verifying
                } else {
                    Phase::Progressing
                };
                let record = self.canary_record(c, action, phase, index + 1, Some(percent), None);
                let (to, achieved) = if percent >= 100.0 {
                    let to = Traffic::Env {
                        env: c.canary.clone(),
                    };
                    (to, 100.0)
                } else {
                    let achieved = self
                        .provider
                        .achieved_split(&c.stable, &c.canary, percent)?;
                    let to = Traffic::Split {
                        stable: c.stable.clone(),
                        canary: c.canary.clone(),
                        percent: achieved,
                    };
                    (to, achieved)
                };
                steps.push(Step::SetWeight {
                    step: index,
                    requested: percent,
                    achieved,
                    verify: c.verify.is_some(),
                    writes: self.provider.traffic_calls(snap, &to, &record),
                });
            } else if let Some(d) = s.pause.as_ref().and_then(|p| p.duration) {
                steps.push(Step::Pause {
                    step: index,
                    millis: d.0.as_millis() as u64,
                    since: paused.filter(|(i, _)| *i == index).map(|(_, s)| s),
                });
            } else if s.pause.is_some() {
                steps.push(Step::Gate { step: index });
            } else if let Some(a) = &s.analysis {
                steps.push(Step::Analysis {
                    stage: Stage::Step(index),
                    checks: a.checks.clone(),
                });
            } else if s.set_header_route.is_some() || s.set_mirror_route.is_some() {
                steps.push(self.route_step(c, snap, index));
            }
        }
        if let Some(a) = background {
            if starts_at == total {
                steps.push(Step::BackgroundAnalysis {
                    checks: a.checks.clone(),
                });
            }
            steps.push(Step::AwaitBackground);
        }
        // Every plan ends at 100%: the canary's own object takes all traffic.
        let to = Traffic::Env {
            env: c.canary.clone(),
        };
        let record = self.canary_record(c, action, Phase::Verifying, total, Some(100.0), None);
        steps.push(Step::Switch {
            to: c.canary.clone(),
            if_needed: true,
            writes: self.provider.traffic_calls(snap, &to, &record),
        });
        if !self.plan.hooks.post_switch.is_empty() {
            steps.push(Step::Hook {
                hook: HookKind::PostSwitch,
            });
        }
        steps.push(Step::Cleanup {
            delay_millis: c
                .cleanup_delay
                .map_or(std::time::Duration::from_secs(2), |d| d.0)
                .as_millis() as u64,
        });
        steps.push(Step::Retire {
            old: c.stable.clone(),
            live: c.canary.clone(),
            writes: self.retire_writes(snap, &c.stable, &c.canary),
        });
        Ok(steps)
    }
}
