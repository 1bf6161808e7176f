//! The measurement loop: takes measurements `interval` apart until the verdict policy decides or
//! the check's deadline passes. It is generic over the measurement so that its timing is tested
//! with a paused clock and scripted outcomes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::{Measurement, Outcome};
use crate::analysis::policy::Policy;

/// What the measurement loop ended with.
#[derive(Debug, Clone)]
pub struct LoopRun {
    /// Every measurement taken.
    pub measurements: Vec<Measurement>,
    /// The policy's verdict, or `None` when the deadline came first.
    pub verdict: Option<Outcome>,
}

/// Takes measurements until `policy` reaches a verdict or `deadline` passes. Measurements start
/// `interval` apart; a wait that would end after the deadline is not started. Generic over the
/// measurement so that timing is tested with a paused clock and scripted outcomes.
pub async fn measure_loop<F, Fut>(
    policy: &Policy,
    interval: Duration,
    deadline: Instant,
    mut measure: F,
    on_measurement: impl Fn(&Measurement),
) -> LoopRun
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Measurement>,
{
    let mut measurements: Vec<Measurement> = Vec::new();
    let mut outcomes = Vec::new();
    let mut next = Instant::now();
    loop {
        if let Some(verdict) = policy.decide(&outcomes) {
            return LoopRun {
                measurements,
                verdict: Some(verdict),
            };
        }
        if next >= deadline {
            break;
        }
        tokio::time::sleep_until(next).await;
        next = Instant::now() + interval;
        let Ok(m) = tokio::time::timeout_at(deadline, measure()).await else {
            break;
        };
        on_measurement(&m);
        outcomes.push(m.outcome);
        measurements.push(m);
    }
    LoopRun {
        measurements,
        verdict: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn scripted(outcomes: &[Outcome]) -> impl FnMut() -> std::future::Ready<Measurement> + '_ {
        let mut i = 0;
        move || {
            let o = outcomes[i.min(outcomes.len() - 1)];
            i += 1;
            std::future::ready(Measurement::new(o, format!("m{i}"), ""))
        }
    }

    fn policy(count: u32, failure_limit: u32, error_limit: u32) -> Policy {
        Policy {
            count,
            failure_limit,
            consecutive_error_limit: error_limit,
            no_data: crate::plan::model::NoDataPolicy::Fail,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn measurements_are_spaced_by_the_interval() {
        let start = Instant::now();
        let times = Mutex::new(Vec::new());
        let run = measure_loop(
            &policy(3, 0, 4),
            Duration::from_secs(10),
            start + Duration::from_mins(10),
            scripted(&[Outcome::Pass]),
            |_| times.lock().unwrap().push(start.elapsed().as_secs()),
        )
        .await;
        assert_eq!(run.verdict, Some(Outcome::Pass));
        assert_eq!(*times.lock().unwrap(), [0, 10, 20]);
        // No wait after the last measurement.
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_over_the_limit_stops_at_once() {
        let start = Instant::now();
        let run = measure_loop(
            &policy(5, 0, 4),
            Duration::from_secs(10),
            start + Duration::from_mins(10),
            scripted(&[Outcome::Pass, Outcome::Fail, Outcome::Pass]),
            |_| {},
        )
        .await;
        assert_eq!(run.verdict, Some(Outcome::Fail));
        assert_eq!(run.measurements.len(), 2);
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_retried_at_the_interval_until_the_limit() {
        let start = Instant::now();
        let run = measure_loop(
            &policy(1, 0, 2),
            Duration::from_secs(5),
            start + Duration::from_mins(10),
            scripted(&[Outcome::Error]),
            |_| {},
        )
        .await;
        assert_eq!(run.verdict, Some(Outcome::Error));
        assert_eq!(run.measurements.len(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_is_not_started() {
        let start = Instant::now();
        let run = measure_loop(
            &policy(3, 0, 4),
            Duration::from_secs(10),
            start + Duration::from_secs(15),
            scripted(&[Outcome::Pass]),
            |_| {},
        )
        .await;
        assert_eq!(run.verdict, None);
        assert_eq!(run.measurements.len(), 2);
        // Stopped right after the second measurement, not at the deadline.
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_measurement_running_past_the_deadline_is_cut_off() {
        let start = Instant::now();
        let run = measure_loop(
            &policy(1, 0, 4),
            Duration::from_secs(10),
            start + Duration::from_secs(3),
            || async {
                tokio::time::sleep(Duration::from_hours(1)).await;
                Measurement::new(Outcome::Pass, "late", "")
            },
            |_| {},
        )
        .await;
        assert_eq!(run.verdict, None);
        assert!(run.measurements.is_empty());
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
