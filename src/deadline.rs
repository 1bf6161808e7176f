//! The run's deadline (`--timeout`), one handle shared by the engine and the API clients.
//!
//! `--timeout` bounds the whole run, its closing writes included. Ordinary work — probes,
//! pauses, analysis, traffic steps — stops a reserve earlier ([`closing_reserve`]: a quarter of
//! the timeout, at most 5 s). When the run is being closed — an automatic rollback's write and
//! verification, the lock release — the engine calls [`Deadline::grant_closing`], which opens
//! that reserve: a canary whose time ran out is still sent back to stable and its lock still
//! released, instead of exiting 4 with calls it had no time left to make.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The most time kept back for the closing writes.
pub const MAX_CLOSING_RESERVE: Duration = Duration::from_secs(5);

/// The part of `timeout` kept back for the closing writes: a quarter, at most
/// [`MAX_CLOSING_RESERVE`].
pub fn closing_reserve(timeout: Duration) -> Duration {
    (timeout / 4).min(MAX_CLOSING_RESERVE)
}

/// A deadline for ordinary work that the engine can move once, to the hard end of the run, for
/// the closing writes.
#[derive(Debug, Clone)]
pub struct Deadline {
    hard: Instant,
    current: Arc<Mutex<Instant>>,
}

impl Deadline {
    /// Ordinary work stops at `work`; the closing writes may run until `hard`.
    pub fn new(work: Instant, hard: Instant) -> Deadline {
        Deadline {
            hard: hard.max(work),
            current: Arc::new(Mutex::new(work)),
        }
    }

    /// The deadline of a run with this `--timeout`, from now.
    pub fn after(timeout: Duration) -> Deadline {
        let hard = Instant::now() + timeout;
        Deadline::new(hard - closing_reserve(timeout), hard)
    }

    /// When waits and calls must stop now.
    pub fn get(&self) -> Instant {
        *self.current.lock().expect("deadline lock")
    }

    /// Opens the reserve for the closing writes: from now on calls may run until the end of
    /// `--timeout`.
    pub fn grant_closing(&self) {
        *self.current.lock().expect("deadline lock") = self.hard;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_a_quarter_of_the_timeout_at_most_5s() {
        assert_eq!(
            closing_reserve(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
        assert_eq!(
            closing_reserve(Duration::from_mins(10)),
            MAX_CLOSING_RESERVE
        );
    }

    #[tokio::test(start_paused = true)]
    async fn closing_opens_the_reserve_and_no_more() {
        let start = Instant::now();
        let d = Deadline::after(Duration::from_secs(20));
        assert_eq!(d.get(), start + Duration::from_secs(15));
        let clone = d.clone();
        clone.grant_closing();
        assert_eq!(d.get(), start + Duration::from_secs(20), "clones share it");
        d.grant_closing();
        assert_eq!(
            d.get(),
            start + Duration::from_secs(20),
            "never past --timeout"
        );
    }
}
