//! Trust the target, not the 200 (issue 13): a traffic write is read back from the target
//! before the run believes it, and a switch is recorded `verifying` until it was verified.
//!
//! After every traffic write the engine takes a fresh snapshot and compares the traffic and the
//! record with what it wrote. A mismatch (a write answered but not applied, a write a proxy
//! turned into a GET, a provider's own read-back giving up) is a failed write that counts as
//! possibly moved: the caller rolls back (exit 3) or reports exit 4, never "done". Without a
//! `proxyUrl` this read-back is the run's verification. Decision: one generic read-back here
//! rather than one per provider; a provider that must wait for its system to apply a write
//! (Traefik) still waits in its own `set_traffic`.
//!
//! A record that would say `completed` is written as `verifying` with the traffic write and
//! rewritten as `completed` only once the write was read back and verified, so a run killed in
//! between never reads as done: the next `plan apply` makes the switch again and verifies.

use std::sync::atomic::Ordering;

use super::events::Event;
use super::{same_traffic, Engine, EngineError};
use crate::providers::{Phase, Provider, ProviderError, Record, Snapshot, Traffic};

impl<P: Provider> Engine<'_, P> {
    /// Moves traffic and reports it: the write, then a read-back from the target (trust the
    /// target, not the 200). The traffic and record read back must be the ones written; where
    /// they are not (a write answered but not applied, a write a proxy turned into a GET), the
    /// write failed and traffic counts as possibly moved, so the caller rolls back or exits 4.
    /// Without a `proxyUrl` this read-back is the run's verification.
    pub async fn move_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), EngineError> {
        // Fenced first ([`Engine::fence`]): a run that lost its lock does not write. Until the
        // outcome is known, the record this run expects is unknown.
        self.fence().await?;
        self.held.expect(None);
        // With the history and vars carried forward, in the same write (`history.rs`).
        let record = &self.stamp(record, Some(to));
        let written = self.provider.set_traffic(snap, to, record).await;
        let applied = |now: &Snapshot| {
            same_traffic(&now.traffic, to)
                && now.record.phase == record.phase
                && now.record.step == record.step
        };
        match (written, self.snapshot().await) {
            (Ok(()), Ok(now)) if applied(&now) => {}
            (Ok(()), now) => {
                // Answered, not applied: it may still land, or be half there.
                self.moved.store(true, Ordering::SeqCst);
                let shows = match &now {
                    Ok(now) => {
                        self.set_last_traffic(&now.traffic);
                        format!(
                            "traffic goes to {} (record `{}`)",
                            now.traffic,
                            now.record.phase.as_str()
                        )
                    }
                    Err(e) => format!("nothing: reading it back failed ({e})"),
                };
                return Err(ProviderError::NotApplied(format!(
                    "the target answered the traffic write to {to}, but reading it back shows {shows}"
                ))
                .into());
            }
            // A write whose answer was lost (timeout, reset) may still have landed: the read
            // decides. An unreadable state counts as possibly moved.
            (Err(e), Ok(now)) if applied(&now) && self.provider.setup_changes(&now).is_empty() => {
                self.emit(Event::Warning {
                    message: format!(
                        "the traffic write reported an error ({e}) but reading the live state back shows it applied"
                    ),
                });
            }
            (Err(e), Ok(now)) => {
                if !same_traffic(&now.traffic, &snap.traffic) || e.may_have_applied() {
                    self.moved.store(true, Ordering::SeqCst);
                }
                self.set_last_traffic(&now.traffic);
                return Err(e.into());
            }
            (Err(e), Err(_)) => {
                self.moved.store(true, Ordering::SeqCst);
                return Err(e.into());
            }
        }
        self.moved.store(true, Ordering::SeqCst);
        self.held.expect(Some(record));
        self.set_last_traffic(to);
        self.emit(Event::TrafficSet {
            from: snap.traffic.clone(),
            to: to.clone(),
        });
        Box::pin(self.notify(record)).await;
        Ok(())
    }

    /// Records `record` as verified: the `completed` a traffic write recorded as `verifying`
    /// ([`Engine::unverified`]), written once the write was read back and verified.
    /// Best effort: a record left `verifying` only makes the next `apply` verify again.
    pub(crate) async fn mark_verified(&self, record: &Record) {
        if record.phase != Phase::Verifying {
            return;
        }
        let mut done = record.clone();
        done.phase = Phase::Completed;
        // Fenced like every record write ([`Engine::write_record`]).
        if let Err(e) = self.write_record(&done).await {
            self.emit(Event::Warning {
                message: format!(
                    "traffic is verified, but recording it as completed failed ({e}); the next `apply` verifies again"
                ),
            });
        }
    }

    /// The record a traffic write carries: a `completed` one says `verifying` until the write
    /// is verified ([`Engine::mark_verified`]), so a run killed in between never reads as done.
    pub(crate) fn unverified(record: &Record) -> Record {
        let mut r = record.clone();
        if r.phase == Phase::Completed {
            r.phase = Phase::Verifying;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::events::Collect;
    use crate::engine::Options;
    use crate::providers::fake::{test_plan, Fake};

    fn plan(active: &str) -> crate::plan::Plan {
        test_plan(
            &format!("{{blueGreen: {{activeEnvironment: {active}}}}}"),
            "",
        )
    }

    fn blue_serving() -> Fake {
        let fake = Fake::new(&["blue", "green"]);
        {
            let mut st = fake.state.lock().unwrap();
            st.traffic = Some(Traffic::Env { env: "blue".into() });
            st.record.phase = Phase::Completed;
        }
        fake
    }

    /// A switch answered but not applied is a failed write (rolled back, exit 3), never done.
    #[tokio::test]
    async fn a_switch_answered_but_not_applied_is_rolled_back() {
        let plan = plan("green");
        let fake = blue_serving();
        fake.state.lock().unwrap().ignore_moves = 1;
        let opts = Options::unattended(Duration::from_mins(1));
        let events = Collect::default();
        let err = Engine::new(&fake, &plan, &opts, &events)
            .deploy("green", "apply")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, EngineError::RolledBack { to, reason } if to == "blue" && reason.contains("reading it back shows")),
            "{err:?}"
        );
        let st = fake.state.lock().unwrap();
        assert_eq!(st.traffic, Some(Traffic::Env { env: "blue".into() }));
        assert_eq!(st.record.phase, Phase::RolledBack);
    }

    /// The switch is written `verifying` and marked `completed` only after verification; a
    /// `verifying` record (a run killed in between) makes the next apply switch and verify again.
    #[tokio::test]
    async fn a_switch_is_verifying_until_verified_and_a_verifying_one_is_redone() {
        let plan = plan("green");
        let fake = blue_serving();
        let opts = Options::unattended(Duration::from_mins(1));
        let events = Collect::default();
        let engine = Engine::new(&fake, &plan, &opts, &events);
        engine.deploy("green", "apply").await.unwrap();
        {
            let mut st = fake.state.lock().unwrap();
            assert_eq!(st.record.phase, Phase::Completed);
            assert_eq!(st.moves.len(), 1);
            // As a run killed before verification leaves it.
            st.record.phase = Phase::Verifying;
        }
        let out = Engine::new(&fake, &plan, &opts, &events)
            .deploy("green", "apply")
            .await
            .unwrap();
        assert_ne!(out, crate::engine::Outcome::UpToDate);
        let st = fake.state.lock().unwrap();
        assert_eq!(st.moves.len(), 2, "the switch was made again");
        assert_eq!(st.record.phase, Phase::Completed);
    }
}
