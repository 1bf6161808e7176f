//! The lock for as long as the run lives (issue 13): taken before the first write, renewed
//! while the run works or waits, checked before every traffic write, released at the end.
//! Everything the engine does with the lock is here; the protocol itself (take, renew, fence,
//! expiry by the target's clock) is [`crate::providers::lock`].
//!
//! * **Heartbeat.** [`Engine::with_lock`] runs the work beside a heartbeat that renews the lock
//!   every third of its lifetime (`lockTtl`), each renewal bounded by the time the lock has
//!   left. The heartbeat covers everything under the lock — timed pauses, analysis, hooks,
//!   probes and rollout waits, verification, `cleanupDelay`, a prompt at a gate — because it
//!   runs beside the whole body rather than inside each wait. A renewal that finds the lock
//!   taken over, or gone, stops the run at once (its work is dropped mid-step: no further write
//!   is made) and exits 5 naming who holds it now. A renewal that fails for another reason
//!   (unreachable, timed out) is retried until the lock would have expired, counted from the
//!   start of the last renewal that succeeded; then the run stops the same way, since another
//!   runner may by then have judged the lock stale.
//! * **Fencing.** [`Engine::fence`] runs before every traffic write ([`Engine::move_traffic`]),
//!   every record write ([`Engine::write_record`]) and the retirement of the old side: the
//!   provider must still show this run's live lock ([`Provider::holds`]), and the rollout record
//!   must be the one this run last wrote (same step, action and time: the record's
//!   generation). Either mismatch stops the run without writing, naming who took over: a run
//!   whose lock was broken while it was stalled (a paused VM, a clock an hour off on another
//!   runner) never undoes what the other run did.
//! * **Waiting at a gate with `--wait`** holds no lock, by design: any runner may `promote` or
//!   `abort` there; the waiting run only watches the record ([`super::canary`]).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::events::Event;
use super::{rfc3339, Engine, EngineError};
use crate::providers::{LockError, LockInfo, Provider, Record};

/// The lock this run holds and the record it expects to find (`None` until it wrote one, and
/// after a write whose outcome is unknown).
#[derive(Debug, Default)]
pub(crate) struct Held(Mutex<Option<(LockInfo, Option<Record>)>>);

impl Held {
    fn get(&self) -> Option<(LockInfo, Option<Record>)> {
        self.0.lock().expect("held lock").clone()
    }

    fn set(&self, v: Option<(LockInfo, Option<Record>)>) {
        *self.0.lock().expect("held lock") = v;
    }

    /// The record this run expects from now on (`None`: unknown, only the lock is checked).
    pub(crate) fn expect(&self, record: Option<&Record>) {
        if let Some(h) = self.0.lock().expect("held lock").as_mut() {
            h.1 = record.cloned();
        }
    }
}

/// Whether `found` is the record `expected` was written as (its generation: step, action and
/// time; the other fields may be normalised by a backend's storage). The phase is left out: this
/// run's own `verifying` → `completed` write keeps the generation, and one of them may not have
/// landed (a write answered but not applied) without anyone else having written.
fn same_generation(found: &Record, expected: &Record) -> bool {
    found.step == expected.step && found.action == expected.action && found.at == expected.at
}

/// What a record says about who wrote it.
fn written_by(r: &Record) -> String {
    format!(
        "`{}` ({}{}) by {} at {}",
        r.action.as_deref().unwrap_or("?"),
        r.phase.as_str(),
        r.step.map(|s| format!(", step {s}")).unwrap_or_default(),
        r.by.as_deref().unwrap_or("someone"),
        r.at.as_deref().unwrap_or("an unknown time")
    )
}

impl<P: Provider> Engine<'_, P> {
    /// Takes the lock, runs `f` beside the heartbeat, releases the lock. A lock held by another
    /// run is exit 5 before anything is written; a lock lost while `f` runs stops `f` at once.
    pub(crate) async fn with_lock<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let me = self.lock_info();
        let asked = Instant::now();
        match self.provider.lock(&me, self.opts.force_unlock).await {
            Ok(()) => self.emit(Event::LockAcquired {
                holder: me.holder.clone(),
            }),
            Err(LockError::Held(lock)) => {
                return Err(EngineError::Locked {
                    rollout: self.plan.metadata.name.clone(),
                    lock,
                })
            }
            Err(LockError::Gone) => return Err(self.lock_lost(None, "it vanished as it was taken")),
            Err(LockError::Provider(e)) => return Err(e.into()),
        }
        self.held.set(Some((me.clone(), None)));
        let stop = tokio::sync::Notify::new();
        // Boxed: the engine's futures stay small (clippy `large_futures`).
        let mut beat = Box::pin(self.heartbeat(&me, asked, &stop));
        let mut result = tokio::select! {
            r = Box::pin(f) => {
                // A renewal in flight finishes before the lock is released, so it can never
                // land after the release and leave a lock behind. (The work is done: what the
                // last renewal found no longer matters.)
                stop.notify_one();
                let _ = (&mut beat).await;
                r
            }
            lost = &mut beat => Err(lost.unwrap_or_else(|| self.lock_lost(None, "the heartbeat stopped"))),
        };
        self.held.set(None);
        // Releasing the lock closes the run: it may use the reserve `--timeout` keeps for that.
        self.opts.deadline.grant_closing();
        match self.provider.unlock(&me).await {
            Ok(()) => self.emit(Event::LockReleased),
            Err(e) => {
                self.emit(Event::Warning {
                    message: format!(
                        "could not release the lock ({e}); it expires at {}",
                        rfc3339(me.expires)
                    ),
                });
                // The commands that finish the job must break this run's own lock.
                if let Err(EngineError::Uncertain { state, remedy, .. }) = &mut result {
                    remedy.force_unlock = true;
                    state.push_str(&format!(
                        "; this run's lock (run {}) is still held until {}",
                        me.run_id,
                        rfc3339(me.expires)
                    ));
                }
            }
        }
        result
    }

    /// Renews `me` every third of its lifetime until `stop` is notified (`None`), or the lock
    /// is lost: taken over, gone, or not renewed before it expired. `taken` is when the lock was
    /// asked for: its lifetime on the target started no earlier.
    async fn heartbeat(
        &self,
        me: &LockInfo,
        taken: Instant,
        stop: &tokio::sync::Notify,
    ) -> Option<EngineError> {
        let ttl = Duration::from_secs(me.expires.saturating_sub(me.since).max(1));
        let every = ttl / 3;
        let retry = (every / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
        let mut alive_until = taken + ttl;
        let mut next = taken + every;
        let mut failed: Option<String> = None;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = stop.notified() => return None,
            }
            let started = Instant::now();
            if started >= alive_until {
                let why = failed.unwrap_or_else(|| "no renewal ran in time".into());
                return Some(self.lock_lost(
                    None,
                    &format!("it could not be renewed before it expired: {why}"),
                ));
            }
            match tokio::time::timeout(alive_until - started, self.provider.renew(me)).await {
                Ok(Ok(())) => {
                    tracing::debug!("lock renewed");
                    alive_until = started + ttl;
                    next = started + every;
                    failed = None;
                }
                Ok(Err(LockError::Held(other))) => {
                    return Some(
                        self.lock_lost(Some(other.holder), "a renewal found it taken over"),
                    );
                }
                Ok(Err(LockError::Gone)) => {
                    return Some(self.lock_lost(None, "a renewal found it gone"));
                }
                Ok(Err(LockError::Provider(e))) => {
                    tracing::debug!("renewing the lock failed: {e}");
                    failed = Some(e.to_string());
                    next = Instant::now() + retry;
                }
                Err(_) => failed = Some("the renewal timed out".into()),
            }
        }
    }

    /// Fencing, before a traffic or record write and before retiring the old side: this run
    /// must still hold a live lock and find the record it last wrote. Not under the lock (a
    /// read-only command): nothing to check. A read that fails is tried again twice (it is a
    /// read: safe to repeat), then returned as the provider's error.
    pub(crate) async fn fence(&self) -> Result<(), EngineError> {
        let mut tries = 0;
        loop {
            match Box::pin(self.fence_once()).await {
                Err(EngineError::Provider(e)) if tries < 2 => {
                    tries += 1;
                    tracing::debug!("the fence could not read the target ({e}); trying again");
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                other => return other,
            }
        }
    }

    async fn fence_once(&self) -> Result<(), EngineError> {
        let Some((me, expected)) = self.held.get() else {
            return Ok(());
        };
        if !self.provider.holds(&me).await? {
            let now = self.snapshot().await.ok();
            let holder = now
                .as_ref()
                .and_then(|s| s.lock.as_ref())
                .map(|l| l.holder.clone());
            let mut why = "it no longer holds it before a write".to_string();
            if let Some(snap) = now.filter(|s| Some(&s.record) != expected.as_ref()) {
                why += &format!(
                    "; the record was last written as {}",
                    written_by(&snap.record)
                );
            }
            return Err(self.lock_lost(holder, &why));
        }
        if let Some(expected) = expected {
            let found = self.snapshot().await?.record;
            if !same_generation(&found, &expected) {
                return Err(self.lock_lost(
                    found.by.clone(),
                    &format!(
                        "the rollout record changed under it: this run wrote {}, the target now has {}",
                        written_by(&expected),
                        written_by(&found)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Writes only the record (pauses, gates, failures), fenced like a traffic write.
    pub(crate) async fn write_record(&self, record: &Record) -> Result<(), EngineError> {
        self.fence().await?;
        let record = &self.stamp(record, None);
        match self.provider.write_record(record).await {
            Ok(()) => {
                self.held.expect(Some(record));
                Box::pin(self.notify(record)).await;
                Ok(())
            }
            Err(e) => {
                self.held.expect(None);
                Err(e.into())
            }
        }
    }

    fn lock_lost(&self, holder: Option<String>, why: &str) -> EngineError {
        EngineError::LockLost {
            rollout: self.plan.metadata.name.clone(),
            holder,
            why: why.to_string(),
        }
    }
}

#[cfg(test)]
#[path = "heartbeat_tests.rs"]
mod tests;
