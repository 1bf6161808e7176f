//! The run's deadline (`--timeout`), one handle shared by the engine and the API clients.
//!
//! Every wait and every call stops at it. When the run is being closed — an automatic
//! rollback's write and verification, the lock release — the engine calls
//! [`Deadline::grant_closing`], which moves it to [`CLOSING_GRACE`] past the original deadline
//! (never further): a canary whose time ran out is still sent back to stable and its lock still
//! released, instead of exiting 4 with calls it had no time left to make. A run therefore
//! takes at most `--timeout` + [`CLOSING_GRACE`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Extra time the closing writes of a run get after `--timeout` has passed.
pub const CLOSING_GRACE: Duration = Duration::from_secs(5);

/// A deadline that the engine can extend once, by [`CLOSING_GRACE`], to close a run.
#[derive(Debug, Clone)]
pub struct Deadline {
    original: Instant,
    current: Arc<Mutex<Instant>>,
}

impl Deadline {
    /// A deadline at `at`.
    pub fn at(at: Instant) -> Deadline {
        Deadline {
            original: at,
            current: Arc::new(Mutex::new(at)),
        }
    }

    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline::at(Instant::now() + timeout)
    }

    /// When waits and calls must stop now.
    pub fn get(&self) -> Instant {
        *self.current.lock().expect("deadline lock")
    }

    /// Gives the closing writes time: at least [`CLOSING_GRACE`] from now, but never more than
    /// [`CLOSING_GRACE`] past the original deadline.
    pub fn grant_closing(&self) {
        let mut cur = self.current.lock().expect("deadline lock");
        let want = Instant::now().min(self.original) + CLOSING_GRACE;
        if want > *cur {
            *cur = want;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_grace_is_counted_from_the_original_deadline() {
        let d = Deadline::after(Duration::from_secs(10));
        let original = d.get();
        d.grant_closing();
        assert_eq!(d.get(), original, "10 s left is more than the grace");
        tokio::time::advance(Duration::from_secs(8)).await;
        d.grant_closing();
        assert_eq!(d.get(), Instant::now() + CLOSING_GRACE);
        tokio::time::advance(Duration::from_secs(30)).await;
        d.grant_closing();
        assert_eq!(
            d.get(),
            original + CLOSING_GRACE,
            "never past the original + grace"
        );
        let clone = d.clone();
        assert_eq!(clone.get(), d.get(), "clones share the deadline");
    }
}
