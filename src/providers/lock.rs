//! The lock protocol, written once: take, recognise the own run, judge expiry, break, renew,
//! check (fence) and release. Each provider only supplies storage ([`LockStore`]): read the
//! lock together with the target's own clock, create it if absent, replace it if unchanged,
//! delete it if unchanged. The decisions ([`judge`]) are pure functions of what was read.
//!
//! # Whose clock
//!
//! Expiry is judged by the target system's clock, never by comparing two machines' clocks: a
//! lock is stale when the target's "now" ([`LockStore::now`]) is at least `ttl` seconds after
//! the target's timestamp of the lock's last write ([`Stored::written`]). Per backend:
//!
//! * Kong: the lock upstream's `updated_at` (Kong 3.3+; a renewal `PATCH`es it) against the
//!   `Date` header of an Admin API answer. Older Kong has no `updated_at` on upstreams; there
//!   the holder's recorded expiry is compared with Kong's `Date`.
//! * Kubernetes: the Lease's `renewTime` against the API server's `Date` (the renewal time is
//!   written by the holder, like client-go's leader election, but it is read against one clock).
//! * Traefik state file: the lock file's modification time against the same machine's clock
//!   (the file is on the runner, or on a volume the runs share).
//! * HAProxy stamps nothing, but its runtime API shows its own clock: `Uptime_sec` of `show
//!   info`, seconds since the process started (monotonic, the same for every runner). Each take
//!   or renewal records that reading in the lock's details; expiry is that reading plus the
//!   lifetime against the current one. (A lock written by an older bgctl without the reading is
//!   dated once from its recorded expiry on this runner's clock.) A reload loses the lock with
//!   the rest of the runtime state anyway.
//!
//! A lock whose holder is this user on this host with a process that no longer exists is also
//! judged stale ([`holder_gone`], [`Take::BreakAbandoned`]): every command that takes the lock
//! (`plan apply`, `promote`, `switch`, `abort`, `rollback`) breaks it, and says so — `breaking
//! the lock of <holder>: pid N is not running on this host` — so a run killed with SIGKILL (or
//! a crashed CI job on the same machine) does not block its rollout until `lockTtl` runs out,
//! and its lock is never taken silently. The check is conservative: a pid that exists (even one
//! reused by another program, or owned by another user) keeps the lock, and a holder on another
//! host, or another user's, is judged by expiry only. (Two containers with the same hostname
//! and separate pid namespaces would defeat that check; hostnames of containers and pods are
//! normally unique.)
//!
//! # Renewal and fencing
//!
//! A run that holds the lock calls [`renew`] as a heartbeat (it rewrites the lock, so the
//! target's timestamp moves) and [`holds`] before every traffic write: a run whose lock was
//! broken or expired must not write. The engine does both in one place
//! (`crate::engine::heartbeat`): a renewal every third of `lockTtl` while the run lives, and a
//! fence before each traffic write that also checks the rollout record is the one the run last
//! wrote.

use std::time::{SystemTime, UNIX_EPOCH};

use super::write::{converge, Step, Written};
use super::{LockError, LockInfo, ProviderError};

/// A lock as read from the target. An empty `info.holder` is a released lock whose object the
/// target keeps (a Lease after release): free to take.
#[derive(Debug, Clone)]
pub struct Stored<V> {
    /// Holder, run and the holder's view of `since`/`expires`.
    pub info: LockInfo,
    /// Seconds the lock lives after each take or renewal.
    pub ttl: u64,
    /// The target's timestamp (Unix seconds) of the last take or renewal, where it keeps one.
    pub written: Option<u64>,
    /// What a conditional replace or delete needs (an id, a `resourceVersion`, the content).
    pub version: V,
}

/// What is written on take or renewal.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The holder's details, `expires` moved to `at + ttl`.
    pub info: LockInfo,
    /// Seconds the lock lives after this write.
    pub ttl: u64,
    /// When this write happens, on the runner's clock (Unix seconds).
    pub at: u64,
}

impl Claim {
    /// The claim of `me` made now: the lifetime is `me`'s (`expires - since`).
    pub fn now(me: &LockInfo) -> Claim {
        Claim::at(me, unix_now())
    }

    /// The claim of `me` made at `at`.
    pub fn at(me: &LockInfo, at: u64) -> Claim {
        let ttl = me.expires.saturating_sub(me.since).max(1);
        Claim {
            info: LockInfo {
                expires: at.saturating_add(ttl),
                ..me.clone()
            },
            ttl,
            at,
        }
    }
}

/// Storage for one lock in a target system.
#[allow(async_fn_in_trait)]
pub trait LockStore {
    /// What a conditional replace or delete needs.
    type Version: Clone;
    /// Reads the lock; `None` when nobody holds it.
    async fn read(&self) -> Result<Option<Stored<Self::Version>>, ProviderError>;
    /// The target's clock now (Unix seconds): the same clock as [`Stored::written`], or, where
    /// the target keeps no timestamp, the clock `expires` is compared with.
    async fn now(&self) -> Result<u64, ProviderError>;
    /// Creates the lock if there is none ([`Written::Conflict`] when there is one).
    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError>;
    /// Replaces the lock if it is still `version`.
    async fn replace(
        &self,
        version: &Self::Version,
        claim: &Claim,
    ) -> Result<Written, ProviderError>;
    /// Deletes the lock if it is still `version` (already gone counts as done).
    async fn delete(&self, version: &Self::Version) -> Result<Written, ProviderError>;
}

/// What a run may do about a lock it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It is this run's own lock.
    Mine,
    /// Someone else holds it and it is alive.
    Held,
    /// Its lifetime passed on the target's clock.
    Expired,
    /// Its holder is this user on this host, and the holder's process is gone.
    HolderGone,
    /// Someone else holds it, and `--force-unlock` breaks it.
    Forced,
}

/// Whether a lock written at `written` (target clock) with `ttl`, or expiring at `expires` when
/// the target keeps no timestamp, has expired at the target's `now`.
pub fn expired(ttl: u64, written: Option<u64>, expires: u64, now: u64) -> bool {
    match written {
        Some(w) => now >= w.saturating_add(ttl),
        None => now >= expires,
    }
}

/// The decision about a lock someone holds, given the target's clock reading `now` and whether
/// its holder is known to be gone.
pub fn judge<V>(held: &Stored<V>, me: &LockInfo, force: bool, now: u64, gone: bool) -> Verdict {
    if held.info.run_id == me.run_id && !me.run_id.is_empty() {
        Verdict::Mine
    } else if expired(held.ttl, held.written, held.info.expires, now) {
        Verdict::Expired
    } else if gone {
        Verdict::HolderGone
    } else if force {
        Verdict::Forced
    } else {
        Verdict::Held
    }
}

/// `user@host` of this run, as it appears in a holder (`user@host pid N`).
pub fn this_user_host() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// The pid of a holder `user@host pid N`, when `user@host` is `here`.
pub fn local_pid(holder: &str, here: &str) -> Option<u32> {
    let (who, pid) = holder.split_once(" pid ")?;
    let pid = pid.split_whitespace().next()?.parse().ok()?;
    (who == here).then_some(pid)
}

/// Whether the holder is this user on this host and its process no longer exists.
pub fn holder_gone(holder: &str) -> bool {
    let Some(pid) = local_pid(holder, &this_user_host()) else {
        return false;
    };
    !process_exists(pid)
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    // EPERM: it exists but belongs to someone else; only ESRCH means it is gone.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(e) if e == rustix::io::Errno::SRCH
    )
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// Unix seconds on this runner's clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Clone)]
enum Act<V> {
    Create,
    Replace(V),
    Delete(V),
}

async fn write<S: LockStore>(
    store: &S,
    act: Act<S::Version>,
    claim: &Claim,
) -> Result<Written, ProviderError> {
    match act {
        Act::Create => store.create(claim).await,
        Act::Replace(v) => store.replace(&v, claim).await,
        Act::Delete(v) => store.delete(&v).await,
    }
}

/// How far [`take`] goes with a lock someone else holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Only an expired lock is broken.
    IfExpired,
    /// Also a lock whose holder is this user on this host with its process gone.
    BreakAbandoned,
    /// Any lock (`--force-unlock`).
    Force,
}

impl Take {
    /// [`Take::Force`] when `force`, else [`Take::BreakAbandoned`] (the providers' `lock`: an
    /// expired lock, or one whose holder's process on this host is gone, is broken with a
    /// warning; see the module docs).
    pub fn forced(force: bool) -> Take {
        if force {
            Take::Force
        } else {
            Take::BreakAbandoned
        }
    }
}

/// Takes the lock for `me` ([`Take`] says which locks of others it breaks); an expired or
/// abandoned lock is broken with a warning that says why.
pub async fn take<S: LockStore>(store: &S, me: &LockInfo, how: Take) -> Result<(), LockError> {
    let force = how == Take::Force;
    let claim = Claim::now(me);
    converge(
        || async {
            let Some(held) = store.read().await? else {
                return Ok(Step::Write(Act::Create));
            };
            if held.info.run_id == me.run_id {
                return Ok(Step::Finish(Act::Create));
            }
            if held.info.holder.is_empty() {
                // Released, the object kept (a Lease): free to take.
                return Ok(Step::Write(Act::Replace(held.version)));
            }
            let now = store.now().await?;
            let gone = how == Take::BreakAbandoned && holder_gone(&held.info.holder);
            let verdict = judge(&held, me, force, now, gone);
            if verdict == Verdict::Held {
                return Ok(Step::Fail(LockError::Held(held.info)));
            }
            if verdict == Verdict::Mine {
                return Ok(Step::Finish(Act::Create));
            }
            warn_breaking(&held.info, verdict);
            Ok(Step::Write(Act::Replace(held.version)))
        },
        |act| write(store, act, &claim),
        "the lock kept changing hands; try again",
    )
    .await
    .map(drop)
}

/// What a run says when it breaks someone else's lock (a warning on stderr, `-o json` too).
fn warn_breaking(held: &LockInfo, verdict: Verdict) {
    let holder = &held.holder;
    match verdict {
        Verdict::HolderGone => {
            let pid = holder
                .split_once(" pid ")
                .and_then(|(_, p)| p.split_whitespace().next())
                .unwrap_or("?");
            tracing::warn!(
                "breaking the lock of {holder}: pid {pid} is not running on this host"
            );
        }
        Verdict::Expired => tracing::warn!(
            "breaking a stale lock of {holder}: it was not renewed within its lifetime, by the target's clock"
        ),
        _ => tracing::warn!("breaking the lock of {holder} (--force-unlock)"),
    }
}

/// Renews `me`'s lock (the heartbeat): its lifetime starts again from now. Fails when the lock
/// is no longer this run's (taken over: [`LockError::Held`]; gone: [`LockError::Gone`]).
pub async fn renew<S: LockStore>(store: &S, me: &LockInfo) -> Result<(), LockError> {
    let claim = Claim::now(me);
    converge(
        || async {
            match store.read().await? {
                Some(held) if held.info.run_id == me.run_id => {
                    Ok(Step::Write(Act::Replace(held.version)))
                }
                Some(held) => Ok(Step::Fail(LockError::Held(held.info))),
                None => Ok(Step::Fail(LockError::Gone)),
            }
        },
        |act| write(store, act, &claim),
        "the lock kept changing while it was renewed; try again",
    )
    .await
    .map(drop)
}

/// Fencing: whether `me` still holds a live lock (its own, not expired on the target's clock).
/// A run checks this before every traffic write.
pub async fn holds<S: LockStore>(store: &S, me: &LockInfo) -> Result<bool, ProviderError> {
    match store.read().await? {
        Some(held) if held.info.run_id == me.run_id => {
            let now = store.now().await?;
            Ok(!expired(held.ttl, held.written, held.info.expires, now))
        }
        _ => Ok(false),
    }
}

/// Releases the lock if `me` holds it; a lock someone else took meanwhile is left alone.
pub async fn release<S: LockStore>(store: &S, me: &LockInfo) -> Result<(), ProviderError> {
    let claim = Claim::now(me);
    converge(
        || async {
            Ok(match store.read().await? {
                Some(held) if held.info.run_id == me.run_id => {
                    Step::Write(Act::Delete(held.version))
                }
                _ => Step::Finish(Act::Create),
            })
        },
        |act| write(store, act, &claim),
        "the lock kept changing while it was released; try again",
    )
    .await
    .map(drop)
}

/// The JSON a lock is stored as where it is one value (state file, HAProxy variable): the
/// [`LockInfo`] fields the current release reads, plus the lifetime, which an older bgctl
/// ignores.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LockJson {
    /// The lock.
    #[serde(flatten)]
    pub info: LockInfo,
    /// Seconds it lives after each take or renewal (absent when written by an older bgctl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The target's own clock at this write, where the target has a clock but does not stamp
    /// writes itself (HAProxy: `Uptime_sec`); absent elsewhere and from an older bgctl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<u64>,
}

impl LockJson {
    /// What to store for `claim`.
    pub fn of(claim: &Claim) -> LockJson {
        LockJson {
            info: claim.info.clone(),
            ttl: Some(claim.ttl),
            stamp: None,
        }
    }

    /// The lifetime: recorded, else `expires - since` (an older bgctl's lock).
    pub fn ttl(&self) -> u64 {
        self.ttl
            .unwrap_or_else(|| self.info.expires.saturating_sub(self.info.since))
    }
}

/// An in-memory lock with a settable clock: the fake provider's storage, and the store the
/// protocol's unit tests run against.
#[derive(Debug, Default)]
pub struct MemoryLock {
    inner: std::sync::Mutex<MemoryState>,
}

/// [`MemoryLock`]'s contents.
#[derive(Debug, Default, Clone)]
pub struct MemoryState {
    /// The lock and the clock reading of its last write.
    pub lock: Option<(LockInfo, u64, u64)>,
    /// Version counter, bumped by every write.
    pub version: u64,
    /// The store's clock (Unix seconds).
    pub now: u64,
    /// The next writes answer [`Written::Unknown`] after landing.
    pub lose_answers: u32,
}

impl MemoryLock {
    /// The state, for tests and the fake.
    pub fn state(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.inner.lock().expect("memory lock")
    }

    fn landed(st: &mut MemoryState) -> Written {
        st.version += 1;
        if st.lose_answers > 0 {
            st.lose_answers -= 1;
            Written::Unknown(ProviderError::State("the answer was lost".into()))
        } else {
            Written::Done
        }
    }
}

impl LockStore for MemoryLock {
    type Version = u64;

    async fn read(&self) -> Result<Option<Stored<u64>>, ProviderError> {
        let st = self.state();
        Ok(st.lock.as_ref().map(|(info, ttl, written)| Stored {
            info: info.clone(),
            ttl: *ttl,
            written: Some(*written),
            version: st.version,
        }))
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        Ok(self.state().now)
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let mut st = self.state();
        if st.lock.is_some() {
            return Ok(Written::Conflict);
        }
        st.lock = Some((claim.info.clone(), claim.ttl, st.now));
        Ok(MemoryLock::landed(&mut st))
    }

    async fn replace(&self, version: &u64, claim: &Claim) -> Result<Written, ProviderError> {
        let mut st = self.state();
        if st.version != *version || st.lock.is_none() {
            return Ok(Written::Conflict);
        }
        st.lock = Some((claim.info.clone(), claim.ttl, st.now));
        Ok(MemoryLock::landed(&mut st))
    }

    async fn delete(&self, version: &u64) -> Result<Written, ProviderError> {
        let mut st = self.state();
        if st.lock.is_none() {
            return Ok(Written::Done);
        }
        if st.version != *version {
            return Ok(Written::Conflict);
        }
        st.lock = None;
        Ok(MemoryLock::landed(&mut st))
    }
}

#[cfg(test)]
mod tests;
