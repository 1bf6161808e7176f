//! The verdict policy: how a sequence of measurement outcomes becomes one verdict.
//!
//! This is a pure function over outcomes so that every rule is unit-tested without a clock or a
//! network. The rules (Argo Rollouts' `failureLimit` / `consecutiveErrorLimit`, made strict where
//! Argo is known to pass silently — see `progressive-delivery-anchors.md` §2, pain point 2):
//!
//! - A check takes `count` measurements. `Pass`, `Fail`, `NoData` and `Inconclusive` each fill
//!   one of those slots.
//! - `Error` means the check could not run (unreachable, timed out, a condition that cannot be
//!   evaluated). It fills no slot: the measurement is retried at the next interval. More than
//!   `consecutiveErrorLimit` errors in a row end the check with the verdict `Error` (so the
//!   default 4 tolerates four and gives up on the fifth; 0 gives up on the first). Errors can
//!   therefore never turn into a pass: a pass needs `count` real measurements.
//! - `NoData` follows the `noData` policy: `fail` counts it as a failure, `inconclusive` as an
//!   inconclusive measurement, `pass` as a pass (the measurement itself still says `NoData`).
//! - More than `failureLimit` failures end the check at once with `Fail` (early stop: further
//!   measurements cannot change that).
//! - When all slots are filled: `Inconclusive` if any measurement was inconclusive (a person
//!   decides), otherwise `Pass`.

use crate::analysis::checks::Outcome;
use crate::plan::model::{CheckSpec, NoDataPolicy};

/// Default number of measurements.
pub const DEFAULT_COUNT: u32 = 1;
/// Default failures tolerated.
pub const DEFAULT_FAILURE_LIMIT: u32 = 0;
/// Default consecutive errors tolerated.
pub const DEFAULT_CONSECUTIVE_ERROR_LIMIT: u32 = 4;

/// The limits one check is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Measurements to take (at least 1).
    pub count: u32,
    /// Failures tolerated.
    pub failure_limit: u32,
    /// Consecutive errors tolerated.
    pub consecutive_error_limit: u32,
    /// What an empty result means.
    pub no_data: NoDataPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            count: DEFAULT_COUNT,
            failure_limit: DEFAULT_FAILURE_LIMIT,
            consecutive_error_limit: DEFAULT_CONSECUTIVE_ERROR_LIMIT,
            no_data: NoDataPolicy::Fail,
        }
    }
}

/// Counts over a sequence of outcomes, with `NoData` already mapped by the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Slots filled (everything but errors).
    pub measured: u32,
    /// Passed, including `NoData` under `noData: pass`.
    pub passed: u32,
    /// Failed, including `NoData` under `noData: fail`.
    pub failed: u32,
    /// Inconclusive, including `NoData` under `noData: inconclusive`.
    pub inconclusive: u32,
    /// Measurements that found no data (whatever the policy made of them).
    pub no_data: u32,
    /// Errors in total.
    pub errors: u32,
    /// Errors at the end of the sequence, in a row.
    pub consecutive_errors: u32,
}

impl Policy {
    /// The policy a plan's check asks for, with defaults.
    pub fn from_spec(spec: &CheckSpec) -> Policy {
        Policy {
            count: spec.count.unwrap_or(DEFAULT_COUNT).max(1),
            failure_limit: spec.failure_limit.unwrap_or(DEFAULT_FAILURE_LIMIT),
            consecutive_error_limit: spec
                .consecutive_error_limit
                .unwrap_or(DEFAULT_CONSECUTIVE_ERROR_LIMIT),
            no_data: spec.no_data.unwrap_or(NoDataPolicy::Fail),
        }
    }

    /// Counts `outcomes` under this policy.
    pub fn tally(&self, outcomes: &[Outcome]) -> Tally {
        let mut t = Tally::default();
        for outcome in outcomes {
            if *outcome == Outcome::Error {
                t.errors += 1;
                t.consecutive_errors += 1;
                continue;
            }
            t.consecutive_errors = 0;
            t.measured += 1;
            match outcome {
                Outcome::Pass => t.passed += 1,
                Outcome::Fail => t.failed += 1,
                Outcome::Inconclusive => t.inconclusive += 1,
                Outcome::NoData => {
                    t.no_data += 1;
                    match self.no_data {
                        NoDataPolicy::Fail => t.failed += 1,
                        NoDataPolicy::Inconclusive => t.inconclusive += 1,
                        NoDataPolicy::Pass => t.passed += 1,
                    }
                }
                Outcome::Error => unreachable!("handled above"),
            }
        }
        t
    }

    /// The final verdict for `outcomes`, or `None` while another measurement is needed.
    pub fn decide(&self, outcomes: &[Outcome]) -> Option<Outcome> {
        self.decide_tally(&self.tally(outcomes))
    }

    /// [`Policy::decide`] over counts already made.
    pub fn decide_tally(&self, t: &Tally) -> Option<Outcome> {
        if t.failed > self.failure_limit {
            Some(Outcome::Fail)
        } else if t.consecutive_errors > self.consecutive_error_limit {
            Some(Outcome::Error)
        } else if t.measured >= self.count {
            Some(if t.inconclusive > 0 {
                Outcome::Inconclusive
            } else {
                Outcome::Pass
            })
        } else {
            None
        }
    }

    /// The limits in words, e.g. `count 3, failureLimit 0, consecutiveErrorLimit 4, noData fail`.
    pub fn describe(&self) -> String {
        format!(
            "count {}, failureLimit {}, consecutiveErrorLimit {}, noData {}",
            self.count,
            self.failure_limit,
            self.consecutive_error_limit,
            no_data_name(self.no_data)
        )
    }
}

/// The plan's spelling of a `noData` policy.
pub fn no_data_name(p: NoDataPolicy) -> &'static str {
    match p {
        NoDataPolicy::Fail => "fail",
        NoDataPolicy::Inconclusive => "inconclusive",
        NoDataPolicy::Pass => "pass",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Error as E, Fail as F, Inconclusive as I, NoData as N, Pass as P};

    fn policy(count: u32, failure_limit: u32, error_limit: u32, no_data: NoDataPolicy) -> Policy {
        Policy {
            count,
            failure_limit,
            consecutive_error_limit: error_limit,
            no_data,
        }
    }

    /// Feeds outcomes one at a time, as the measurement loop does, and returns the verdict and
    /// how many outcomes were consumed before it was reached.
    fn run(p: &Policy, outcomes: &[Outcome]) -> (Option<Outcome>, usize) {
        for n in 0..=outcomes.len() {
            if let Some(v) = p.decide(&outcomes[..n]) {
                return (Some(v), n);
            }
        }
        (None, outcomes.len())
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let p = Policy::default();
        assert_eq!(p, policy(1, 0, 4, NoDataPolicy::Fail));
        assert_eq!(
            p.describe(),
            "count 1, failureLimit 0, consecutiveErrorLimit 4, noData fail"
        );
    }

    #[test]
    fn nothing_measured_is_not_a_verdict() {
        assert_eq!(Policy::default().decide(&[]), None);
    }

    #[test]
    fn all_passes_pass_after_count() {
        let p = policy(3, 0, 4, NoDataPolicy::Fail);
        assert_eq!(p.decide(&[P, P]), None);
        assert_eq!(run(&p, &[P, P, P, P]), (Some(P), 3));
    }

    #[test]
    fn failure_limit_tolerates_that_many_failures() {
        let p = policy(4, 1, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[F, P, P, P]), (Some(P), 4));
        assert_eq!(run(&p, &[P, F, P, F, P]), (Some(F), 4));
    }

    #[test]
    fn failure_stops_early_once_the_limit_is_exceeded() {
        // count 5, limit 0: the first failure decides; the rest is never measured.
        let p = policy(5, 0, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[P, F, P, P, P]), (Some(F), 2));
    }

    #[test]
    fn errors_are_retried_and_fill_no_slot() {
        let p = policy(2, 0, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[E, P, E, E, P]), (Some(P), 5));
        let t = p.tally(&[E, P, E, E, P]);
        assert_eq!((t.measured, t.errors, t.consecutive_errors), (2, 3, 0));
    }

    #[test]
    fn consecutive_error_limit_tolerates_that_many_errors_in_a_row() {
        let p = policy(1, 0, 2, NoDataPolicy::Fail);
        assert_eq!(p.decide(&[E, E]), None);
        assert_eq!(run(&p, &[E, E, E, P]), (Some(E), 3));
        // A real measurement resets the run of errors.
        let p = policy(3, 0, 1, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[E, P, E, P, E, P]), (Some(P), 6));
        assert_eq!(run(&p, &[E, P, E, E]), (Some(E), 4));
    }

    #[test]
    fn default_error_limit_gives_up_on_the_fifth_error() {
        let p = Policy::default();
        assert_eq!(run(&p, &[E; 10]), (Some(E), 5));
    }

    #[test]
    fn zero_error_limit_gives_up_on_the_first_error() {
        let p = policy(3, 0, 0, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[P, E, P]), (Some(E), 2));
    }

    #[test]
    fn errors_never_add_up_to_a_pass() {
        // Argo #4479: errored + failed measurements ended Successful. Here only real
        // measurements fill slots, so a run of errors can only end in Error.
        for limit in 0..6 {
            let p = policy(1, 3, limit, NoDataPolicy::Pass);
            let (verdict, _) = run(&p, &[E; 8]);
            assert_eq!(verdict, Some(E), "limit {limit}");
        }
    }

    #[test]
    fn failures_decide_before_errors() {
        // A failure over the limit ends the check even while errors are piling up.
        let p = policy(3, 0, 1, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[E, F, E, E]), (Some(F), 2));
    }

    #[test]
    fn no_data_fail_counts_as_a_failure() {
        let p = policy(1, 0, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[N]), (Some(F), 1));
        let p = policy(3, 1, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[N, P, P]), (Some(P), 3));
        assert_eq!(run(&p, &[N, P, N]), (Some(F), 3));
        let t = p.tally(&[N, P, N]);
        assert_eq!((t.failed, t.no_data, t.passed), (2, 2, 1));
    }

    #[test]
    fn no_data_inconclusive_is_inconclusive_unless_failures_decide() {
        let p = policy(2, 0, 4, NoDataPolicy::Inconclusive);
        assert_eq!(run(&p, &[N]), (None, 1));
        assert_eq!(run(&p, &[N, P]), (Some(I), 2));
        assert_eq!(run(&p, &[N, F]), (Some(F), 2));
        assert_eq!(run(&p, &[P, P]), (Some(P), 2));
        // An inconclusive measurement does not stop early: a later failure still counts.
        assert_eq!(run(&p, &[N, N]), (Some(I), 2));
    }

    #[test]
    fn no_data_pass_counts_as_a_pass_but_is_tallied_as_no_data() {
        let p = policy(2, 0, 4, NoDataPolicy::Pass);
        assert_eq!(run(&p, &[N, N]), (Some(P), 2));
        let t = p.tally(&[N, P]);
        assert_eq!((t.passed, t.no_data, t.failed), (2, 1, 0));
        assert_eq!(run(&p, &[N, F]), (Some(F), 2));
    }

    #[test]
    fn inconclusive_measurements_make_an_inconclusive_verdict() {
        let p = policy(2, 0, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[I, P]), (Some(I), 2));
        let p = policy(2, 1, 4, NoDataPolicy::Fail);
        assert_eq!(run(&p, &[I, F]), (Some(I), 2));
    }

    #[test]
    fn count_zero_is_treated_as_one() {
        let spec: CheckSpec = serde_json::from_value(serde_json::json!({
            "exec": {"command": ["true"]}, "count": 0
        }))
        .unwrap();
        assert_eq!(Policy::from_spec(&spec).count, 1);
    }

    #[test]
    fn from_spec_reads_every_limit() {
        let spec: CheckSpec = serde_json::from_value(serde_json::json!({
            "exec": {"command": ["true"]},
            "count": 3, "failureLimit": 1, "consecutiveErrorLimit": 0, "noData": "inconclusive"
        }))
        .unwrap();
        assert_eq!(
            Policy::from_spec(&spec),
            policy(3, 1, 0, NoDataPolicy::Inconclusive)
        );
    }
}
