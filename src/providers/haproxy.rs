//! HAProxy through its runtime API (the stats socket at `level admin`), HAProxy 2.6+.
//!
//! * Environments are servers of one backend (`provider.haproxy.backend`); a side's share is the
//!   sum of its servers' weights (0–256). A blue-green switch and every canary step are
//!   `set server <backend>/<name> weight N`, and a server that is in `maint` or `drain` is made
//!   `state ready` before it is given weight.
//! * **Raise before lower.** Several commands are never atomic in HAProxy (even `;`-separated on
//!   one line), and lowering the old side first leaves a moment with every weight at 0, which
//!   HAProxy answers with 503 (measured). Every traffic change therefore writes all raises
//!   first, then all lowers. After each change bgctl reads every weight back (`get weight`)
//!   and fails if one differs from what it wrote.
//! * Servers the plan names but HAProxy lacks are added (`add server` with the plan's
//!   `address`, weight 0 unless their side is live, then `enable server`: dynamic servers start
//!   in maintenance). Servers the plan does not name are never touched; if one carries weight,
//!   traffic is reported as foreign.
//! * The protocol: connect (TCP or unix socket), send one line, read until HAProxy closes.
//!   Success is an empty reply (`add`/`del server` answer with a fixed confirmation); any other
//!   text is an error, reported verbatim. Connect and read have timeouts.
//! * **A lost answer is read back** (`haproxy/landed.rs`, the shared [`super::write`] policy):
//!   after a broken or timed-out connection bgctl reads the state the command sets and sends it
//!   again only when it did not take.
//! * **The record announces a traffic change** before the weights move (`haproxy/intent.rs`):
//!   intent, weights, final record, so a crash between any two leaves a readable record.
//! * State lives in HAProxy itself, so any runner that reaches the socket sees it: the record
//!   is a process-wide variable (`proc.bgctl.<rollout>.record`, hex-encoded JSON, written with
//!   `set var` in `experimental-mode`), and the lock is a server named `bgctl-lock.<rollout>` in
//!   the backend: `add server` refuses a second server with the same name, which makes it an
//!   atomic test-and-set. The lock server is added in maintenance with weight 0 and never serves;
//!   its holder and expiry are a second variable. Like runtime weights, both are lost when
//!   HAProxy reloads or restarts without a `server-state-file` — the record then simply reads
//!   as empty, and the weights from the configuration are what is live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

mod intent;
mod landed;
mod lock;
mod runtime;
mod traffic;

use self::intent::Stored;
use self::lock::LockServer;
use self::runtime::{hex_decode, hex_encode, ok_reply};
pub use self::runtime::{parse_servers_state, HaproxyError, LiveServer, RuntimeApi};
use super::lock as protocol;
use super::lock::LockJson;
use super::write::{converge, Step, Written};
use super::{
    traffic_from_weights, unknown_lock, weights, Call, Change, EnvState, LockError, LockInfo,
    Provider, ProviderError, Record, Snapshot, Traffic,
};
use crate::plan::model::Plan;
pub use crate::plan::names::Endpoint;

/// Largest weight HAProxy accepts.
pub const MAX_WEIGHT: u32 = weights::Scale::HAPROXY.max_weight;
/// Default weight of a plan server.
pub const DEFAULT_WEIGHT: u32 = 100;
/// The pseudo-method of a runtime API command in [`Call`].
pub const METHOD: &str = "haproxy";

/// Canary weights within HAProxy's 0–256: `percent` of the total to the canary servers, each
/// side keeping its own servers' ratios as closely as integers allow (the shared split,
/// [`weights::Scale::HAPROXY`]). Returns the weights and the achieved canary percent.
pub fn split_weights(
    stable: &[u32],
    canary: &[u32],
    percent: f64,
) -> Result<(Vec<u32>, Vec<u32>, f64), ProviderError> {
    let s = weights::Scale::HAPROXY
        .split(stable, canary, percent.clamp(0.0, 100.0))
        .map_err(|e| ProviderError::State(e.to_string()))?;
    Ok((s.stable, s.canary, s.achieved_percent))
}

/// Desired weight per plan server name.
type Desired = Vec<(String, u32)>;

#[derive(Debug, Clone)]
struct Server {
    name: String,
    address: Option<String>,
    weight: u32,
}

#[derive(Debug, Clone)]
struct Env {
    name: String,
    servers: Vec<Server>,
}

/// The HAProxy provider for one plan.
pub struct Haproxy {
    api: RuntimeApi,
    backend: String,
    envs: Vec<Env>,
    record_var: String,
    lock_var: String,
    lock_server: String,
    lock_ttl: u64,
    /// Addresses of the plan's servers as HAProxy reported them, for the servers the plan
    /// names without `address` ([`Provider::probe_targets`] has no snapshot to look in). An
    /// address does not change during a run, and no write is planned from it.
    addresses: Mutex<HashMap<String, String>>,
}

impl Haproxy {
    /// A provider for `plan` (which must have passed validation and use HAProxy).
    pub fn new(plan: &Plan) -> Result<Haproxy, String> {
        let spec = plan.haproxy().ok_or("the plan has no HAProxy provider")?;
        let endpoint = Endpoint::parse(&spec.runtime_api)?;
        let timeout = spec.request_timeout.map_or(Duration::from_secs(5), |d| d.0);
        let envs = plan
            .environments
            .iter()
            .map(|(name, e)| Env {
                name: name.clone(),
                servers: e
                    .servers
                    .iter()
                    .map(|s| Server {
                        name: s.name.clone().unwrap_or_default(),
                        address: s.address.clone(),
                        weight: s
                            .weight
                            .map_or(DEFAULT_WEIGHT, |w| u32::try_from(w).unwrap_or(0)),
                    })
                    .collect(),
            })
            .collect();
        let var: String = plan
            .metadata
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Ok(Haproxy {
            api: RuntimeApi::new(endpoint, timeout),
            backend: spec.backend.clone(),
            envs,
            record_var: format!("proc.bgctl.{var}.record"),
            lock_var: format!("proc.bgctl.{var}.lock"),
            lock_server: format!("bgctl-lock.{}", plan.metadata.name),
            lock_ttl: plan.lock_ttl().as_secs(),
            addresses: Mutex::new(HashMap::new()),
        })
    }

    /// The servers a snapshot of this provider read (none for another provider's snapshot).
    fn servers_of(snap: &Snapshot) -> Vec<LiveServer> {
        snap.live
            .get::<Vec<LiveServer>>()
            .cloned()
            .unwrap_or_default()
    }

    fn remember_addresses(&self, servers: &[LiveServer]) {
        let mut book = self.addresses.lock().expect("addresses lock");
        for s in servers {
            book.insert(s.name.clone(), s.addr.clone());
        }
    }

    /// The runtime API client.
    pub fn api(&self) -> &RuntimeApi {
        &self.api
    }

    fn env(&self, name: &str) -> Option<&Env> {
        self.envs.iter().find(|e| e.name == name)
    }

    fn srv(&self, name: &str) -> String {
        format!("{}/{name}", self.backend)
    }

    async fn read_servers(&self) -> Result<Vec<LiveServer>, ProviderError> {
        let text = self
            .api
            .raw(&format!("show servers state {}", self.backend))
            .await?;
        parse_servers_state(&text).map_err(|reply| {
            ProviderError::Haproxy(HaproxyError::Refused {
                command: format!("show servers state {}", self.backend),
                reply,
            })
        })
    }

    /// The raw (hex) value of a process variable; `None` when it is not set.
    async fn get_var_raw(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let command = format!("experimental-mode on; get var {name}");
        let reply = self.api.raw(&command).await?;
        let reply = reply.trim();
        if reply.is_empty() || reply.contains("Variable not found") {
            return Ok(None);
        }
        reply
            .split_once("value=<")
            .and_then(|(_, v)| v.strip_suffix('>'))
            .map(|v| Some(v.to_string()))
            .ok_or_else(|| {
                ProviderError::Haproxy(HaproxyError::Refused {
                    command: command.clone(),
                    reply: reply.to_string(),
                })
            })
    }

    /// Reads a process variable holding hex-encoded JSON; `None` when it is not set (or was
    /// cleared to JSON `null`).
    async fn get_var<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ProviderError> {
        let Some(value) = self.get_var_raw(name).await? else {
            return Ok(None);
        };
        let bytes = hex_decode(&value).ok_or_else(|| {
            ProviderError::State(format!("`{name}` in HAProxy is not bgctl's encoding"))
        })?;
        serde_json::from_slice::<Option<T>>(&bytes)
            .map_err(|e| ProviderError::State(format!("`{name}` in HAProxy does not parse: {e}")))
    }

    fn set_var_command(name: &str, value: &impl serde::Serialize) -> String {
        let json = serde_json::to_vec(value).unwrap_or_default();
        format!(
            "experimental-mode on; set var {name} str({})",
            hex_encode(&json)
        )
    }

    /// Runs a write command. Every command bgctl writes sets an absolute value (a weight, a
    /// state, a variable) or creates/deletes a named server, so after an unknown outcome (the
    /// connection broke or timed out after sending) it reads the target back
    /// ([`Haproxy::landed`]) and sends again only when the command did not take: the shared
    /// policy of [`crate::providers::write`].
    async fn run(&self, command: &str) -> Result<(), ProviderError> {
        tracing::debug!(command, "haproxy runtime API");
        let mut first = true;
        converge(
            || {
                let sent_before = !std::mem::replace(&mut first, false);
                async move {
                    if sent_before && self.landed(command).await? {
                        Ok(Step::Finish(()))
                    } else {
                        Ok(Step::Write(()))
                    }
                }
            },
            |()| async move { self.send(command).await },
            "HAProxy kept refusing the write",
        )
        .await
    }

    /// One attempt at a write command, its outcome in the shared three-way form.
    async fn send(&self, command: &str) -> Result<Written, ProviderError> {
        match self.api.exec(command, ok_reply(command)).await {
            Ok(()) => Ok(Written::Done),
            Err(e) if e.outcome_unknown() => Ok(Written::Unknown(e.into())),
            Err(e) => Err(e.into()),
        }
    }

    fn call(command: String) -> Call {
        Call {
            method: METHOD.into(),
            path: command,
            body: None,
            idempotent: true,
        }
    }
}

impl Provider for Haproxy {
    fn status_columns(&self) -> [&'static str; 3] {
        ["BACKEND/SERVERS", "ADDRESS", "WEIGHT"]
    }

    fn describe(&self) -> String {
        format!("haproxy {} backend {}", self.api.endpoint(), self.backend)
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let servers = self.read_servers().await?;
        let stored: Stored = self.get_var(&self.record_var).await?.unwrap_or_default();
        let record = Haproxy::resolve(stored, &servers);
        let lock = if servers.iter().any(|s| s.name == self.lock_server) {
            Some(self.get_var::<LockJson>(&self.lock_var).await?.map_or_else(
                || unknown_lock("the lock's details are not written yet", self.lock_ttl),
                |j| j.info,
            ))
        } else {
            None
        };
        let mut envs = Vec::new();
        let mut totals = Vec::new();
        for e in &self.envs {
            let mut targets = Vec::new();
            let mut exists = true;
            let mut total = 0u64;
            for s in &e.servers {
                match servers.iter().find(|l| l.name == s.name) {
                    Some(l) => {
                        targets.push((l.addr.clone(), l.serving()));
                        total += u64::from(l.serving());
                    }
                    None if s.address.is_none() => {
                        return Err(ProviderError::State(format!(
                            "server `{}` of `{}` is not in HAProxy backend `{}`, and the plan gives no `address` to add it",
                            s.name, e.name, self.backend
                        )));
                    }
                    None => exists = false,
                }
            }
            totals.push((e.name.clone(), total));
            envs.push((
                e.name.clone(),
                EnvState {
                    object: format!(
                        "{}/{}",
                        self.backend,
                        e.servers
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    exists,
                    targets,
                },
            ));
        }
        let ours = |n: &str| {
            n == self.lock_server
                || self
                    .envs
                    .iter()
                    .any(|e| e.servers.iter().any(|s| s.name == n))
        };
        let foreign: Vec<&LiveServer> = servers
            .iter()
            .filter(|l| !ours(&l.name) && l.serving() > 0)
            .collect();
        let traffic = if !foreign.is_empty() {
            Traffic::Foreign {
                target: foreign
                    .iter()
                    .map(|l| format!("server {}", self.srv(&l.name)))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        } else if envs.iter().all(|(_, s)| s.targets.is_empty()) {
            Traffic::Missing
        } else {
            traffic_from_weights(&totals, &record)
        };
        self.remember_addresses(&servers);
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra: Vec::new(),
            routing: None,
            live: super::Live::new(servers),
        })
    }

    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        let live = Haproxy::servers_of(snap);
        let live_env = match &snap.traffic {
            Traffic::Env { env } => Some(env.as_str()),
            _ => None,
        };
        let mut adds = Vec::new();
        let mut raises = Vec::new();
        let mut lowers = Vec::new();
        for e in &self.envs {
            let is_live = live_env == Some(e.name.as_str());
            for s in &e.servers {
                let want = if is_live { s.weight } else { 0 };
                match live.iter().find(|l| l.name == s.name) {
                    None => {
                        let addr = s.address.clone().unwrap_or_default();
                        adds.push(Change {
                            action: "create",
                            entity: "server",
                            name: self.srv(&s.name),
                            detail: format!("{addr} weight {want}"),
                            call: Haproxy::call(format!(
                                "add server {} {addr} weight {want}",
                                self.srv(&s.name)
                            )),
                            wave: None,
                        });
                        adds.push(Change {
                            action: "update",
                            entity: "server",
                            name: self.srv(&s.name),
                            detail: "enable (dynamic servers start in maintenance)".into(),
                            call: Haproxy::call(format!("enable server {}", self.srv(&s.name))),
                            wave: None,
                        });
                    }
                    // Only the live side is converged here; the others get weight when
                    // traffic moves to them.
                    Some(l) if is_live && l.weight != want => {
                        let c = Change {
                            action: "update",
                            entity: "server",
                            name: self.srv(&s.name),
                            detail: format!("weight {} → {want}", l.weight),
                            call: Haproxy::call(format!(
                                "set server {} weight {want}",
                                self.srv(&s.name)
                            )),
                            wave: None,
                        };
                        if want > l.weight {
                            raises.push(c);
                        } else {
                            lowers.push(c);
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        adds.extend(raises);
        adds.extend(lowers);
        adds
    }

    async fn apply(&self, change: &Change) -> Result<(), ProviderError> {
        if change.call.method != METHOD {
            return Err(ProviderError::State(format!(
                "not a runtime API command: {}",
                change.call
            )));
        }
        self.run(&change.call.path).await
    }

    fn traffic_calls(&self, snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        let live = Haproxy::servers_of(snap);
        let Ok((commands, desired)) = self.traffic_commands(&live, to) else {
            return Vec::new();
        };
        let intent = (!commands.is_empty())
            .then(|| Haproxy::set_var_command(&self.record_var, &Stored::intent(&desired, record)));
        intent
            .into_iter()
            .chain(commands)
            .chain([Haproxy::set_var_command(
                &self.record_var,
                &Stored::done(record),
            )])
            .map(Haproxy::call)
            .collect()
    }

    /// The intent record first, then the weights, then the final record (`haproxy/intent.rs`:
    /// a crash between any two leaves a record that says what is in flight).
    async fn set_traffic(
        &self,
        snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        // Planned from the snapshot given; the commands set absolute weights, so a snapshot
        // that missed a change only costs order, and the read-back below catches the rest.
        let live = match snap.live.get::<Vec<LiveServer>>() {
            Some(live) => live.clone(),
            None => self.read_servers().await?,
        };
        let (commands, desired) = self.traffic_commands(&live, to)?;
        if !commands.is_empty() {
            self.run(&Haproxy::set_var_command(
                &self.record_var,
                &Stored::intent(&desired, record),
            ))
            .await?;
        }
        for command in &commands {
            self.run(command).await?;
        }
        self.read_back(&desired).await?;
        self.write_record(record).await
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.run(&Haproxy::set_var_command(
            &self.record_var,
            &Stored::done(record),
        ))
        .await
    }

    fn achieved_split(
        &self,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<f64, ProviderError> {
        let (Some(s), Some(c)) = (self.env(stable), self.env(canary)) else {
            return Err(ProviderError::State(format!(
                "unknown environments `{stable}`/`{canary}`"
            )));
        };
        let base = |e: &Env| e.servers.iter().map(|s| s.weight).collect::<Vec<_>>();
        Ok(split_weights(&base(s), &base(c), percent)?.2)
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        let live = self.addresses.lock().expect("addresses lock");
        self.env(env)
            .map(|e| {
                e.servers
                    .iter()
                    .filter(|s| s.weight > 0)
                    .filter_map(|s| s.address.clone().or_else(|| live.get(&s.name).cloned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        protocol::take(&LockServer(self), me, protocol::Take::forced(force)).await
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        protocol::release(&LockServer(self), me).await
    }

    async fn renew(&self, me: &LockInfo) -> Result<(), LockError> {
        protocol::renew(&LockServer(self), me).await
    }

    async fn holds(&self, me: &LockInfo) -> Result<bool, ProviderError> {
        protocol::holds(&LockServer(self), me).await
    }
}
#[cfg(test)]
mod tests;
