//! An in-memory provider for engine tests: traffic, record and lock live in a mutex, every
//! traffic change is logged, and failures can be injected. It follows the same contract as the
//! real providers (record written with the traffic change, lock as test-and-set).

use std::sync::Mutex;

use super::lock::{self, Claim, LockStore, Stored};
use super::write::Written;
use super::{
    Call, Change, EnvState, LockError, LockInfo, Provider, ProviderError, Record, Snapshot, Traffic,
};

/// The fake's state.
#[derive(Debug, Default)]
pub struct FakeState {
    /// Where traffic goes.
    pub traffic: Option<Traffic>,
    /// The record.
    pub record: Record,
    /// The lock.
    pub lock: Option<LockInfo>,
    /// Every traffic change, in order.
    pub moves: Vec<Traffic>,
    /// Fail the next `set_traffic` calls.
    pub fail_moves: u32,
    /// Answer the next `set_traffic` calls with success without applying them.
    pub ignore_moves: u32,
}

/// An in-memory provider over the named environments.
pub struct Fake {
    envs: Vec<String>,
    /// Shared state, for assertions.
    pub state: Mutex<FakeState>,
}

impl Fake {
    /// A fake with these environments and nothing live.
    pub fn new(envs: &[&str]) -> Fake {
        Fake {
            envs: envs.iter().map(|e| (*e).to_string()).collect(),
            state: Mutex::new(FakeState::default()),
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().expect("fake state")
    }
}

/// The fake's lock storage: [`FakeState::lock`], compared by content, no timestamp (expiry by
/// this machine's clock, which is the fake's own).
impl LockStore for Fake {
    type Version = LockInfo;

    async fn read(&self) -> Result<Option<Stored<LockInfo>>, ProviderError> {
        Ok(self.st().lock.clone().map(|l| Stored {
            ttl: l.expires.saturating_sub(l.since),
            written: None,
            version: l.clone(),
            info: l,
        }))
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        Ok(lock::unix_now())
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let mut st = self.st();
        if st.lock.is_some() {
            return Ok(Written::Conflict);
        }
        st.lock = Some(claim.info.clone());
        Ok(Written::Done)
    }

    async fn replace(&self, version: &LockInfo, claim: &Claim) -> Result<Written, ProviderError> {
        let mut st = self.st();
        if st.lock.as_ref() != Some(version) {
            return Ok(Written::Conflict);
        }
        st.lock = Some(claim.info.clone());
        Ok(Written::Done)
    }

    async fn delete(&self, version: &LockInfo) -> Result<Written, ProviderError> {
        let mut st = self.st();
        if st.lock.as_ref().is_some_and(|l| l == version) {
            st.lock = None;
        }
        Ok(if st.lock.is_none() {
            Written::Done
        } else {
            Written::Conflict
        })
    }
}

impl Provider for Fake {
    fn describe(&self) -> String {
        "fake".into()
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let st = self.st();
        Ok(Snapshot {
            traffic: st.traffic.clone().unwrap_or(Traffic::Missing),
            record: st.record.clone(),
            lock: st.lock.clone(),
            envs: self
                .envs
                .iter()
                .map(|e| {
                    (
                        e.clone(),
                        EnvState {
                            object: e.clone(),
                            exists: true,
                            targets: vec![(format!("{e}:80"), 100)],
                        },
                    )
                })
                .collect(),
            extra: Vec::new(),
            routing: None,
            live: super::Live::default(),
        })
    }

    fn setup_changes(&self, _snap: &Snapshot) -> Vec<Change> {
        Vec::new()
    }

    async fn apply(&self, _change: &Change) -> Result<(), ProviderError> {
        Ok(())
    }

    fn traffic_calls(&self, _snap: &Snapshot, to: &Traffic, _record: &Record) -> Vec<Call> {
        vec![Call {
            method: "SET".into(),
            path: to.to_string(),
            body: None,
            idempotent: true,
        }]
    }

    async fn set_traffic(
        &self,
        _snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let mut st = self.st();
        if st.fail_moves > 0 {
            st.fail_moves -= 1;
            return Err(ProviderError::State("injected failure".into()));
        }
        if st.ignore_moves > 0 {
            st.ignore_moves -= 1;
            return Ok(());
        }
        st.traffic = Some(to.clone());
        st.record = record.clone();
        st.moves.push(to.clone());
        Ok(())
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.st().record = record.clone();
        Ok(())
    }

    fn achieved_split(
        &self,
        _stable: &str,
        _canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        Ok(percent)
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        vec![format!("{env}:80")]
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        lock::take(self, me, lock::Take::forced(force)).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        lock::release(self, me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        lock::renew(self, me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        lock::holds(self, me).await
    }
}

impl Fake {
    /// Every traffic change so far, as text.
    pub fn moves(&self) -> Vec<String> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.moves.iter().map(ToString::to_string).collect()
    }
}

/// A Kong plan with a blue and a green environment for engine tests over the fake: `strategy`
/// is the value of `strategy:` in flow style, `kong` more keys of `provider.kong` (`", lockTtl:
/// 6s"`).
#[cfg(test)]
pub(crate) fn test_plan(strategy: &str, kong: &str) -> crate::plan::Plan {
    use crate::plan::{parse_with_env, Limits};
    let text = [
        "apiVersion: bgctl.dev/v1",
        "kind: Rollout",
        "metadata: {name: t}",
        &format!("provider: {{kong: {{adminUrl: 'http://127.0.0.1:9'{kong}}}}}"),
        "service: {name: s, routes: [{name: r, paths: [/]}]}",
        "environments:",
        "  blue: {upstream: b.up, targets: [{target: '127.0.0.1:1'}]}",
        "  green: {upstream: g.up, targets: [{target: '127.0.0.1:2'}]}",
        &format!("strategy: {strategy}"),
    ]
    .join("\n");
    parse_with_env(
        std::path::Path::new("t.yaml"),
        &text,
        &|_| None,
        &Limits::default(),
    )
    .expect("valid test plan")
    .plan
}

/// [`test_plan`] with a canary from blue to green over `steps` (flow-style YAML).
#[cfg(test)]
pub(crate) fn canary_plan(steps: &str, kong: &str) -> crate::plan::Plan {
    test_plan(
        &format!("{{canary: {{stable: blue, canary: green, cleanupDelay: 0s, steps: {steps}}}}}"),
        kong,
    )
}
