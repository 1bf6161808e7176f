//! When analysis and hooks run, and what their verdicts do to a rollout. Measuring and judging
//! belong to [`crate::analysis`]; this module decides:
//!
//! * blue-green: `prePromotionAnalysis` runs after the new side is healthy and before traffic
//!   moves (a failure moves nothing: exit 3); `postPromotionAnalysis` runs after the switch was
//!   verified (a failure rolls back in one write: exit 3);
//! * canary: an `analysis` step must pass to continue; background `analysis` runs from
//!   `startAfterStep` while the steps go on and must have passed before the final promotion; a
//!   failure sends all traffic back to stable at once (exit 3); an `Inconclusive` verdict pauses
//!   the rollout at a gate for a person (`promote` or `abort`);
//! * hooks: `preSwitch` before the first traffic change, `postSwitch` after the final one was
//!   verified, `onRollback` after any automatic rollback. A failing `preSwitch` hook stops the
//!   run before traffic moves; a failing `postSwitch` hook rolls back; `onRollback` failures are
//!   reported but change nothing.
//!
//! Every verdict is an event with the query/URL/command, the measured value, the condition and
//! the limit, and the latest ones are written into the rollout record for `status`.

use crate::analysis::{self, CheckContext, Outcome, ProxyTarget, Verdict};
use crate::plan::model::HookSpec;
use crate::providers::Provider;

use super::events::Event;
use super::verify::Verifier;
use super::Engine;

/// What a group of checks decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Every check passed.
    Pass,
    /// At least one check failed or could not run; the summaries say why.
    Fail(String),
    /// No failure, but at least one check was inconclusive.
    Inconclusive(String),
}

impl<P: Provider> Engine<'_, P> {
    /// The context checks and hooks run in.
    pub(crate) fn check_context(&self) -> CheckContext {
        let verifier = Verifier::from_plan(self.plan, None);
        let other_proxies = verifier
            .as_ref()
            .map(|v| v.nodes.iter().skip(1).cloned().collect())
            .unwrap_or_default();
        let proxy = verifier.map(|v| ProxyTarget {
            url: v.proxy_url,
            host: v.host,
            path: v.path,
        });
        CheckContext {
            http: self.http.clone(),
            proxy,
            other_proxies,
            deadline: self.opts.deadline.get(),
            workdir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        }
    }

    /// Runs the named checks and judges them together.
    pub(crate) async fn analyse(&self, stage: &str, names: &[String]) -> Judgement {
        self.emit(Event::AnalysisStarted {
            stage: stage.to_string(),
            checks: names.to_vec(),
        });
        let ctx = self.check_context();
        let on = |check: &str, m: &analysis::Measurement| {
            self.reporter.event(&Event::Measurement {
                check: check.to_string(),
                measurement: m.clone(),
            });
        };
        let verdicts = analysis::run_checks(names, &self.plan.checks, &ctx, &on).await;
        for v in &verdicts {
            self.emit(Event::Verdict {
                stage: stage.to_string(),
                verdict: v.clone(),
            });
        }
        self.remember(&verdicts);
        judge(&verdicts)
    }

    fn remember(&self, verdicts: &[Verdict]) {
        let mut last = self.verdicts.lock().expect("verdicts lock");
        for v in verdicts {
            let value = v
                .measurements
                .iter()
                .rev()
                .find_map(|m| m.value.clone())
                .unwrap_or_else(|| "-".into());
            let line = format!("{} {} {}", v.check, v.outcome.label(), value);
            last.retain(|l| l.split(' ').next() != Some(v.check.as_str()));
            last.push(line);
        }
    }

    /// Runs hooks of one kind in order; the first failure stops the list.
    pub(crate) async fn run_hooks(&self, kind: &str, hooks: &[HookSpec]) -> Result<(), String> {
        if hooks.is_empty() {
            return Ok(());
        }
        let ctx = self.check_context();
        for hook in hooks {
            let result = analysis::run_hook(kind, hook, &ctx).await;
            let (ok, detail) = match &result {
                Ok(d) => (true, d.clone()),
                Err(d) => (false, d.clone()),
            };
            self.emit(Event::Hook {
                kind: kind.to_string(),
                ok,
                detail: detail.clone(),
            });
            if !ok {
                return Err(detail);
            }
        }
        Ok(())
    }

    /// `onRollback` hooks after an automatic rollback: reported, never fatal.
    pub(crate) async fn on_rollback_hooks(&self) {
        if let Err(e) = self
            .run_hooks("onRollback", &self.plan.hooks.on_rollback)
            .await
        {
            self.emit(Event::Warning {
                message: format!("an onRollback hook failed: {e}"),
            });
        }
    }
}

/// Fail beats inconclusive beats pass; Error counts as a failure (nothing is a silent pass).
pub fn judge(verdicts: &[Verdict]) -> Judgement {
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Fail | Outcome::Error | Outcome::NoData))
        .map(|v| v.summary.as_str())
        .collect();
    if !failed.is_empty() {
        return Judgement::Fail(failed.join("; "));
    }
    let unsure: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Inconclusive)
        .map(|v| v.summary.as_str())
        .collect();
    if unsure.is_empty() {
        Judgement::Pass
    } else {
        Judgement::Inconclusive(unsure.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(outcome: Outcome) -> Verdict {
        Verdict {
            check: "c".into(),
            outcome,
            asked: "q".into(),
            condition: None,
            limits: String::new(),
            measurements: Vec::new(),
            summary: format!("c: {}", outcome.label()),
        }
    }

    #[test]
    fn error_and_fail_are_failures_and_win_over_inconclusive() {
        assert_eq!(judge(&[verdict(Outcome::Pass)]), Judgement::Pass);
        assert!(matches!(
            judge(&[verdict(Outcome::Pass), verdict(Outcome::Error)]),
            Judgement::Fail(_)
        ));
        assert!(matches!(
            judge(&[verdict(Outcome::Inconclusive), verdict(Outcome::Fail)]),
            Judgement::Fail(_)
        ));
        assert!(matches!(
            judge(&[verdict(Outcome::Inconclusive), verdict(Outcome::Pass)]),
            Judgement::Inconclusive(_)
        ));
        assert_eq!(judge(&[]), Judgement::Pass);
    }
}
