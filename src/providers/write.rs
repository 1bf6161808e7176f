//! The ambiguous-write policy, written once: a conditional write whose answer was lost, or
//! that met a conflict, is never repeated blindly; the caller re-reads the target and decides
//! again from what is there.
//!
//! A write to a target system has three outcomes, not two: it landed ([`Written::Done`]), it
//! was refused because the object changed since it was read ([`Written::Conflict`]: a
//! `resourceVersion` mismatch, a unique-name clash, an object that vanished), or nobody knows
//! ([`Written::Unknown`]: a timeout, a reset connection, a 5xx after the request was sent).
//! Both of the last two mean "read again": a re-read shows whether the goal is already reached
//! (the lost answer hid a success), whether someone else got there first, or whether the write
//! should be tried again from the fresh state. [`converge`] is that loop; the lock protocol
//! ([`super::lock`]), the Kubernetes traffic object and Deployment writes, and Kong's target
//! `POST` (read back after a 409 or a lost answer, never re-sent blind) use it.
//!
//! A write that was *answered* is not trusted either: the engine reads every traffic write back
//! (`engine/readback.rs`); [`ProviderError::may_have_applied`] names the failures that mean
//! "taken, not shown applied" (so traffic counts as possibly moved and is rolled back).

use std::future::Future;

use super::{traefik, ProviderError};

/// How many read-decide-write rounds [`converge`] makes before giving up.
pub const ATTEMPTS: usize = 5;

/// The outcome of one conditional write.
#[derive(Debug)]
pub enum Written {
    /// The target confirmed the write.
    Done,
    /// The target refused it because the object changed since it was read.
    Conflict,
    /// No answer, or an answer that does not say whether the write landed.
    Unknown(ProviderError),
}

/// What one round decided after reading the target.
#[derive(Debug)]
pub enum Step<T, E = ProviderError> {
    /// The goal is reached (or was already): stop with this value.
    Finish(T),
    /// Stop with this failure (e.g. someone else holds the lock).
    Fail(E),
    /// Make this conditional write, then read again unless it was [`Written::Done`].
    Write(T),
}

/// Runs `round` (read the target, decide) and `write` (the conditional write it asked for)
/// until a write is confirmed or a round finishes; a conflict or a lost answer only starts the
/// next round. After [`ATTEMPTS`] rounds the last unknown outcome is returned (or `contended`
/// when every round met a conflict).
pub async fn converge<T, E, R, RF, W, WF>(
    mut round: R,
    mut write: W,
    contended: &str,
) -> Result<T, E>
where
    E: From<ProviderError>,
    R: FnMut() -> RF,
    RF: Future<Output = Result<Step<T, E>, E>>,
    T: Clone,
    W: FnMut(T) -> WF,
    WF: Future<Output = Result<Written, ProviderError>>,
{
    let mut unknown: Option<ProviderError> = None;
    for _ in 0..ATTEMPTS {
        match round().await? {
            Step::Finish(v) => return Ok(v),
            Step::Fail(e) => return Err(e),
            Step::Write(v) => match write(v.clone()).await.map_err(E::from)? {
                Written::Done => return Ok(v),
                Written::Conflict => {}
                Written::Unknown(e) => {
                    tracing::debug!("a write's outcome is unknown ({e}); reading again");
                    unknown = Some(e);
                }
            },
        }
    }
    Err(unknown
        .unwrap_or_else(|| ProviderError::State(contended.to_string()))
        .into())
}

impl ProviderError {
    /// Whether the target took the write without showing it applied (it may still land):
    /// the engine's read-back found another state ([`ProviderError::NotApplied`]), or the
    /// provider's own read-back gave up waiting (Traefik applies a PUT asynchronously).
    pub fn may_have_applied(&self) -> bool {
        matches!(
            self,
            ProviderError::NotApplied(_)
                | ProviderError::Traefik(traefik::TraefikError::NotApplied { .. })
        )
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A register with a version; writes can be made to lose their answer or to conflict.
    #[derive(Default)]
    struct Target {
        value: u32,
        version: u32,
        lose_answer: u32,
        lose_write: u32,
        conflicts: u32,
        writes: u32,
    }

    async fn set_to(target: &RefCell<Target>, want: u32) -> Result<u32, ProviderError> {
        let seen = RefCell::new(0u32);
        converge(
            || async {
                let t = target.borrow();
                *seen.borrow_mut() = t.version;
                Ok(if t.value == want {
                    Step::Finish(t.version)
                } else {
                    Step::Write(t.version)
                })
            },
            |_| async {
                let mut t = target.borrow_mut();
                t.writes += 1;
                if t.conflicts > 0 {
                    t.conflicts -= 1;
                    t.version += 1; // someone else wrote meanwhile
                    return Ok(Written::Conflict);
                }
                if t.lose_write > 0 {
                    t.lose_write -= 1;
                    return Ok(Written::Unknown(ProviderError::State("reset".into())));
                }
                if *seen.borrow() != t.version {
                    return Ok(Written::Conflict);
                }
                t.value = want;
                t.version += 1;
                if t.lose_answer > 0 {
                    t.lose_answer -= 1;
                    return Ok(Written::Unknown(ProviderError::State("timeout".into())));
                }
                Ok(Written::Done)
            },
            "kept changing",
        )
        .await
    }

    #[tokio::test]
    async fn a_lost_answer_is_read_back_not_written_twice() {
        let t = RefCell::new(Target {
            lose_answer: 1,
            ..Target::default()
        });
        set_to(&t, 7).await.unwrap();
        let t = t.into_inner();
        assert_eq!(
            (t.value, t.writes),
            (7, 1),
            "the re-read saw the write landed"
        );
    }

    #[tokio::test]
    async fn a_write_that_did_not_land_is_tried_again_from_a_fresh_read() {
        let t = RefCell::new(Target {
            lose_write: 2,
            conflicts: 1,
            ..Target::default()
        });
        set_to(&t, 7).await.unwrap();
        let t = t.into_inner();
        assert_eq!((t.value, t.writes), (7, 4));
    }

    #[tokio::test]
    async fn gives_up_with_the_last_unknown_outcome_or_the_contention() {
        let t = RefCell::new(Target {
            lose_write: 10,
            ..Target::default()
        });
        let err = set_to(&t, 7).await.unwrap_err().to_string();
        assert_eq!(err, "reset");
        assert_eq!(t.borrow().writes, ATTEMPTS as u32);
        let t = RefCell::new(Target {
            conflicts: 10,
            ..Target::default()
        });
        assert_eq!(
            set_to(&t, 7).await.unwrap_err().to_string(),
            "kept changing"
        );
    }
}
