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
//! * State lives in HAProxy itself, so any runner that reaches the socket sees it: the record
//!   is a process-wide variable (`proc.bgctl.<rollout>.record`, hex-encoded JSON, written with
//!   `set var` in `experimental-mode`), and the lock is a server named `bgctl-lock.<rollout>` in
//!   the backend: `add server` refuses a second server with the same name, which makes it an
//!   atomic test-and-set. The lock server is added in maintenance with weight 0 and never serves;
//!   its holder and expiry are a second variable. Like runtime weights, both are lost when
//!   HAProxy reloads or restarts without a `server-state-file` — the record then simply reads
//!   as empty, and the weights from the configuration are what is live.

use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{
    traffic_from_weights, unknown_lock, Call, Change, EnvState, LockError, LockInfo, Provider,
    ProviderError, Record, Snapshot, Traffic,
};
use crate::plan::model::Plan;
pub use crate::plan::names::Endpoint;

/// Largest weight HAProxy accepts.
pub const MAX_WEIGHT: u32 = 256;
/// Default weight of a plan server.
pub const DEFAULT_WEIGHT: u32 = 100;
/// The pseudo-method of a runtime API command in [`Call`].
pub const METHOD: &str = "haproxy";

/// Admin-state bits that take a server out of rotation (forced/inherited/config maint, drain).
const OUT_OF_ROTATION: u32 = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20;

/// A runtime API failure.
#[derive(Debug, thiserror::Error)]
pub enum HaproxyError {
    /// Could not connect.
    #[error("cannot reach the HAProxy runtime API at {endpoint}")]
    Unreachable {
        /// The socket.
        endpoint: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Connect, write or read took too long.
    #[error("the HAProxy runtime API at {endpoint} did not answer `{command}` within {timeout:?}")]
    Timeout {
        /// The socket.
        endpoint: String,
        /// The command.
        command: String,
        /// The limit.
        timeout: Duration,
    },
    /// The connection failed mid-command.
    #[error("the connection to the HAProxy runtime API broke during `{command}`")]
    Io {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// HAProxy answered with an error text.
    #[error("HAProxy refused `{command}`: {reply}")]
    Refused {
        /// The command.
        command: String,
        /// HAProxy's reply, verbatim (trimmed).
        reply: String,
    },
}

/// A runtime API client: one connection per command.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    endpoint: Endpoint,
    timeout: Duration,
}

impl RuntimeApi {
    /// A client for `endpoint` with a per-command timeout.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> RuntimeApi {
        RuntimeApi { endpoint, timeout }
    }

    /// The socket.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one line and returns everything HAProxy wrote before closing.
    pub async fn raw(&self, command: &str) -> Result<String, HaproxyError> {
        let timeout = |_| HaproxyError::Timeout {
            endpoint: self.endpoint.to_string(),
            command: command.to_string(),
            timeout: self.timeout,
        };
        tokio::time::timeout(self.timeout, self.raw_inner(command))
            .await
            .map_err(timeout)?
    }

    async fn raw_inner(&self, command: &str) -> Result<String, HaproxyError> {
        let unreachable = |source| HaproxyError::Unreachable {
            endpoint: self.endpoint.to_string(),
            source,
        };
        let io = |source| HaproxyError::Io {
            command: command.to_string(),
            source,
        };
        let line = format!("{command}\n");
        let mut out = Vec::new();
        match &self.endpoint {
            Endpoint::Tcp(addr) => {
                let mut s = tokio::net::TcpStream::connect(addr.as_str())
                    .await
                    .map_err(unreachable)?;
                s.write_all(line.as_bytes()).await.map_err(io)?;
                s.read_to_end(&mut out).await.map_err(io)?;
            }
            Endpoint::Unix(path) => {
                let mut s = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(unreachable)?;
                s.write_all(line.as_bytes()).await.map_err(io)?;
                s.read_to_end(&mut out).await.map_err(io)?;
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Runs a command whose success is an empty reply (or exactly `ok_reply` when given).
    pub async fn exec(&self, command: &str, ok_reply: Option<&str>) -> Result<(), HaproxyError> {
        let reply = self.raw(command).await?;
        let reply = reply.trim();
        if reply.is_empty() || Some(reply) == ok_reply {
            Ok(())
        } else {
            Err(HaproxyError::Refused {
                command: command.to_string(),
                reply: reply.to_string(),
            })
        }
    }
}

/// The fixed success reply of a command, for those that have one.
fn ok_reply(command: &str) -> Option<&'static str> {
    if command.starts_with("add server ") {
        Some("New server registered.")
    } else if command.starts_with("del server ") {
        Some("Server deleted.")
    } else {
        None
    }
}

/// One server as `show servers state` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveServer {
    /// Server name.
    pub name: String,
    /// `ip:port`.
    pub addr: String,
    /// Operational state (0 stopped, 1 starting, 2 running, 3 stopping).
    pub op_state: u32,
    /// Administrative state bits (maint, drain, …).
    pub admin_state: u32,
    /// User-set weight.
    pub weight: u32,
}

impl LiveServer {
    /// Whether it is administratively in rotation (not in maintenance or drain).
    pub fn ready(&self) -> bool {
        self.admin_state & OUT_OF_ROTATION == 0
    }

    /// The weight it serves with: 0 unless it is ready and not stopped.
    pub fn serving(&self) -> u32 {
        if self.ready() && self.op_state != 0 {
            self.weight
        } else {
            0
        }
    }
}

/// Parses `show servers state <backend>` (format version 1, columns named by its header).
pub fn parse_servers_state(text: &str) -> Result<Vec<LiveServer>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    if lines.next().map(str::trim) != Some("1") {
        return Err(text.trim().to_string());
    }
    let header: Vec<&str> = lines
        .next()
        .and_then(|h| h.strip_prefix('#'))
        .ok_or_else(|| text.trim().to_string())?
        .split_whitespace()
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("`show servers state` has no column `{name}`"))
    };
    let (name, addr, port, op, admin, weight) = (
        col("srv_name")?,
        col("srv_addr")?,
        col("srv_port")?,
        col("srv_op_state")?,
        col("srv_admin_state")?,
        col("srv_uweight")?,
    );
    let mut out = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        let get = |i: usize| f.get(i).copied().unwrap_or_default();
        let num = |i: usize| get(i).parse::<u32>().unwrap_or(0);
        out.push(LiveServer {
            name: get(name).to_string(),
            addr: format!("{}:{}", get(addr), get(port)),
            op_state: num(op),
            admin_state: num(admin),
            weight: num(weight),
        });
    }
    Ok(out)
}

/// Canary weights within HAProxy's 0–256: `percent` of the total to the canary servers, each
/// side keeping its own servers' ratios as closely as integers allow.
///
/// At 0 or 100 the losing side gets 0 and the other keeps its base weights. Between, every
/// server with a base weight above 0 keeps at least 1 (0 would take it out of rotation), and
/// the limiting side is scaled as large as the limit allows; among the scales of that side
/// from the largest down to half of it, the one whose rounded result lands closest to the
/// request wins. Returns the weights and the achieved canary percent.
pub fn split_weights(stable: &[u32], canary: &[u32], percent: f64) -> (Vec<u32>, Vec<u32>, f64) {
    let achieved = |s: &[u32], c: &[u32]| {
        let (s, c): (u64, u64) = (
            s.iter().map(|w| u64::from(*w)).sum(),
            c.iter().map(|w| u64::from(*w)).sum(),
        );
        if s + c == 0 {
            0.0
        } else {
            100.0 * c as f64 / (s + c) as f64
        }
    };
    let pct = percent.clamp(0.0, 100.0);
    let s_sum: f64 = stable.iter().map(|w| f64::from(*w)).sum();
    let c_sum: f64 = canary.iter().map(|w| f64::from(*w)).sum();
    if pct <= 0.0 || c_sum == 0.0 {
        let s = stable
            .iter()
            .map(|w| (*w).min(MAX_WEIGHT))
            .collect::<Vec<_>>();
        let c = vec![0; canary.len()];
        let a = achieved(&s, &c);
        return (s, c, a);
    }
    if pct >= 100.0 || s_sum == 0.0 {
        let s = vec![0; stable.len()];
        let c = canary
            .iter()
            .map(|w| (*w).min(MAX_WEIGHT))
            .collect::<Vec<_>>();
        let a = achieved(&s, &c);
        return (s, c, a);
    }
    // Per unit of base weight, each side's ideal share of the total.
    let (s_unit, c_unit) = ((100.0 - pct) / s_sum, pct / c_sum);
    let s_max = f64::from(stable.iter().copied().max().unwrap_or(0));
    let c_max = f64::from(canary.iter().copied().max().unwrap_or(0));
    let peak = (s_unit * s_max).max(c_unit * c_max);
    let scale = |k: f64, base: &[u32], unit: f64| -> Vec<u32> {
        base.iter()
            .map(|w| {
                if *w == 0 {
                    0
                } else {
                    ((k * unit * f64::from(*w)).round() as u32).clamp(1, MAX_WEIGHT)
                }
            })
            .collect()
    };
    let mut best: Option<(f64, Vec<u32>, Vec<u32>, f64)> = None;
    for top in (f64::from(MAX_WEIGHT) as u32 / 2..=MAX_WEIGHT).rev() {
        let factor = f64::from(top) / peak;
        let (s, c) = (scale(factor, stable, s_unit), scale(factor, canary, c_unit));
        let a = achieved(&s, &c);
        let err = (a - pct).abs();
        if best.as_ref().is_none_or(|b| err < b.0 - 1e-12) {
            best = Some((err, s, c, a));
        }
    }
    let (_, s, c, a) = best.expect("at least one scale was tried");
    (s, c, a)
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
    live: Mutex<Vec<LiveServer>>,
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
            live: Mutex::new(Vec::new()),
        })
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

    /// Reads a process variable holding hex-encoded JSON; `None` when it is not set.
    async fn get_var<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ProviderError> {
        let command = format!("experimental-mode on; get var {name}");
        let reply = self.api.raw(&command).await?;
        let reply = reply.trim();
        if reply.is_empty() || reply.contains("Variable not found") {
            return Ok(None);
        }
        let value = reply
            .split_once("value=<")
            .and_then(|(_, v)| v.strip_suffix('>'))
            .ok_or_else(|| {
                ProviderError::Haproxy(HaproxyError::Refused {
                    command: command.clone(),
                    reply: reply.to_string(),
                })
            })?;
        let bytes = hex_decode(value).ok_or_else(|| {
            ProviderError::State(format!("`{name}` in HAProxy is not bgctl's encoding"))
        })?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ProviderError::State(format!("`{name}` in HAProxy does not parse: {e}")))
    }

    fn set_var_command(name: &str, value: &impl serde::Serialize) -> String {
        let json = serde_json::to_vec(value).unwrap_or_default();
        format!(
            "experimental-mode on; set var {name} str({})",
            hex_encode(&json)
        )
    }

    /// Desired weight of every plan server for `to`.
    fn desired(&self, to: &Traffic) -> Result<Vec<(String, u32)>, ProviderError> {
        let mut out: Vec<(String, u32)> = self
            .envs
            .iter()
            .flat_map(|e| e.servers.iter().map(|s| (s.name.clone(), 0)))
            .collect();
        let mut set = |name: &str, w: u32| {
            if let Some(slot) = out.iter_mut().find(|o| o.0 == name) {
                slot.1 = w;
            }
        };
        match to {
            Traffic::Env { env } => {
                let e = self
                    .env(env)
                    .ok_or_else(|| ProviderError::State(format!("unknown environment `{env}`")))?;
                for s in &e.servers {
                    set(&s.name, s.weight);
                }
            }
            Traffic::Split {
                stable,
                canary,
                percent,
            } => {
                let (Some(s), Some(c)) = (self.env(stable), self.env(canary)) else {
                    return Err(ProviderError::State(format!(
                        "unknown environments `{stable}`/`{canary}`"
                    )));
                };
                let base = |e: &Env| e.servers.iter().map(|s| s.weight).collect::<Vec<_>>();
                let (sw, cw, _) = split_weights(&base(s), &base(c), *percent);
                for (srv, w) in s.servers.iter().zip(sw).chain(c.servers.iter().zip(cw)) {
                    set(&srv.name, w);
                }
            }
            Traffic::Missing | Traffic::Foreign { .. } => {
                return Err(ProviderError::State(
                    "traffic can only be pointed at an environment or a split".into(),
                ))
            }
        }
        Ok(out)
    }

    /// The commands that move traffic to `to`: every raise (and `state ready`) before any lower.
    fn traffic_commands(
        &self,
        live: &[LiveServer],
        to: &Traffic,
    ) -> Result<(Vec<String>, Desired), ProviderError> {
        let desired = self.desired(to)?;
        let mut raises = Vec::new();
        let mut lowers = Vec::new();
        for (name, want) in &desired {
            let cur = live.iter().find(|l| &l.name == name);
            let (cur_w, ready, serving) =
                cur.map_or((0, false, 0), |l| (l.weight, l.ready(), l.serving()));
            if *want > 0 {
                if !ready {
                    raises.push(format!("set server {} state ready", self.srv(name)));
                }
                if cur_w != *want {
                    if *want > serving {
                        raises.push(format!("set server {} weight {want}", self.srv(name)));
                    } else {
                        lowers.push(format!("set server {} weight {want}", self.srv(name)));
                    }
                }
            } else if cur_w != 0 {
                lowers.push(format!("set server {} weight 0", self.srv(name)));
            }
        }
        raises.extend(lowers);
        Ok((raises, desired))
    }

    async fn run(&self, command: &str) -> Result<(), ProviderError> {
        tracing::debug!(command, "haproxy runtime API");
        Ok(self.api.exec(command, ok_reply(command)).await?)
    }

    /// Reads each weight back and fails on the first that differs.
    async fn read_back(&self, desired: &[(String, u32)]) -> Result<(), ProviderError> {
        for (name, want) in desired {
            let command = format!("get weight {}", self.srv(name));
            let reply = self.api.raw(&command).await?;
            let got = reply
                .split_whitespace()
                .next()
                .and_then(|w| w.parse::<u32>().ok());
            if got != Some(*want) {
                return Err(ProviderError::State(format!(
                    "after the change HAProxy reports `{}` for `{command}`, expected weight {want}",
                    reply.trim()
                )));
            }
        }
        Ok(())
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
        format!("haproxy {} backend {}", self.api.endpoint, self.backend)
    }

    async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let servers = self.read_servers().await?;
        let record: Record = self.get_var(&self.record_var).await?.unwrap_or_default();
        let lock = if servers.iter().any(|s| s.name == self.lock_server) {
            Some(self.get_var(&self.lock_var).await?.unwrap_or_else(|| {
                unknown_lock("the lock's details are not written yet", self.lock_ttl)
            }))
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
        *self.live.lock().expect("live lock") = servers;
        Ok(Snapshot {
            traffic,
            record,
            lock,
            envs,
            extra: Vec::new(),
            routing: None,
        })
    }

    fn setup_changes(&self, snap: &Snapshot) -> Vec<Change> {
        let live = self.live.lock().expect("live lock").clone();
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
                        });
                        adds.push(Change {
                            action: "update",
                            entity: "server",
                            name: self.srv(&s.name),
                            detail: "enable (dynamic servers start in maintenance)".into(),
                            call: Haproxy::call(format!("enable server {}", self.srv(&s.name))),
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
        self.run(&change.call.path).await?;
        // Keep the cached view current for the traffic move that follows.
        let servers = self.read_servers().await?;
        *self.live.lock().expect("live lock") = servers;
        Ok(())
    }

    fn traffic_calls(&self, _snap: &Snapshot, to: &Traffic, record: &Record) -> Vec<Call> {
        let live = self.live.lock().expect("live lock").clone();
        let Ok((commands, _)) = self.traffic_commands(&live, to) else {
            return Vec::new();
        };
        commands
            .into_iter()
            .chain([Haproxy::set_var_command(&self.record_var, record)])
            .map(Haproxy::call)
            .collect()
    }

    async fn set_traffic(
        &self,
        _snap: &Snapshot,
        to: &Traffic,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let live = self.read_servers().await?;
        let (commands, desired) = self.traffic_commands(&live, to)?;
        for command in &commands {
            self.run(command).await?;
        }
        self.read_back(&desired).await?;
        self.write_record(record).await?;
        let servers = self.read_servers().await?;
        *self.live.lock().expect("live lock") = servers;
        Ok(())
    }

    async fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.run(&Haproxy::set_var_command(&self.record_var, record))
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
        Ok(split_weights(&base(s), &base(c), percent).2)
    }

    fn probe_targets(&self, env: &str) -> Vec<String> {
        let live = self.live.lock().expect("live lock");
        self.env(env)
            .map(|e| {
                e.servers
                    .iter()
                    .filter(|s| s.weight > 0)
                    .filter_map(|s| {
                        s.address.clone().or_else(|| {
                            live.iter()
                                .find(|l| l.name == s.name)
                                .map(|l| l.addr.clone())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        let add = format!(
            "add server {} 127.0.0.1:9 weight 0",
            self.srv(&self.lock_server)
        );
        let del = format!("del server {}", self.srv(&self.lock_server));
        for _ in 0..3 {
            match self.api.exec(&add, ok_reply(&add)).await {
                Ok(()) => {
                    self.run(&Haproxy::set_var_command(&self.lock_var, me))
                        .await?;
                    return Ok(());
                }
                Err(HaproxyError::Refused { reply, .. }) if reply.contains("Already exists") => {
                    let held: Option<LockInfo> = self.get_var(&self.lock_var).await?;
                    let held = match held {
                        // Taken a moment ago and its details not written yet: held.
                        None => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            self.get_var(&self.lock_var).await?.unwrap_or_else(|| {
                                unknown_lock("the lock's details are not written", self.lock_ttl)
                            })
                        }
                        Some(h) => h,
                    };
                    if held.run_id == me.run_id {
                        return Ok(());
                    }
                    if !force && held.expires > me.since {
                        return Err(LockError::Held(held));
                    }
                    tracing::warn!(holder = %held.holder, "breaking a {} lock", if force { "held" } else { "stale" });
                    match self.api.exec(&del, ok_reply(&del)).await {
                        Ok(()) => {}
                        Err(HaproxyError::Refused { reply, .. })
                            if reply.contains("No such server") => {}
                        Err(e) => return Err(LockError::Provider(e.into())),
                    }
                }
                Err(e) => return Err(LockError::Provider(e.into())),
            }
        }
        Err(LockError::Provider(ProviderError::State(
            "the lock kept changing hands; try again".into(),
        )))
    }

    async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        let held: Option<LockInfo> = self.get_var(&self.lock_var).await?;
        if held.is_some_and(|h| h.run_id == me.run_id) {
            let del = format!("del server {}", self.srv(&self.lock_server));
            match self.api.exec(&del, ok_reply(&del)).await {
                Ok(()) => {}
                Err(HaproxyError::Refused { reply, .. }) if reply.contains("No such server") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn cleanup(&self, _snap: &Snapshot) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn plan(yaml: &str) -> Plan {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    const PLAN: &str = r"
apiVersion: bgctl.dev/v1
kind: Rollout
metadata: {name: app-release}
provider:
  haproxy: {runtimeApi: 'tcp://127.0.0.1:9999', backend: app}
environments:
  blue: {servers: [{name: blue1, weight: 100}, {name: blue2, weight: 50}]}
  green: {servers: [{name: green1, address: '127.0.0.1:18082'}]}
strategy: {blueGreen: {activeEnvironment: green}}
";

    fn live(blue: u32, green: u32) -> Vec<LiveServer> {
        let s = |name: &str, w| LiveServer {
            name: name.into(),
            addr: "127.0.0.1:1".into(),
            op_state: 2,
            admin_state: 0,
            weight: w,
        };
        vec![s("blue1", blue), s("blue2", blue / 2), s("green1", green)]
    }

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:9999"),
            Ok(Endpoint::Tcp("127.0.0.1:9999".into()))
        );
        assert_eq!(
            Endpoint::parse("unix:///run/haproxy.sock"),
            Ok(Endpoint::Unix("/run/haproxy.sock".into()))
        );
        assert!(Endpoint::parse("tcp://127.0.0.1").is_err());
        assert!(Endpoint::parse("unix://rel.sock").is_err());
        assert!(Endpoint::parse("http://x:1").is_err());
    }

    /// Regression: lowering the old side first leaves every weight at 0 for a moment, which
    /// HAProxy answers with 503 (measured); every raise must come before every lower.
    #[test]
    fn switch_raises_new_side_before_lowering_old() {
        let h = Haproxy::new(&plan(PLAN)).unwrap();
        let to_green = Traffic::Env {
            env: "green".into(),
        };
        let (cmds, _) = h.traffic_commands(&live(100, 0), &to_green).unwrap();
        assert_eq!(
            cmds,
            [
                "set server app/green1 weight 100",
                "set server app/blue1 weight 0",
                "set server app/blue2 weight 0",
            ]
        );
        let to_blue = Traffic::Env { env: "blue".into() };
        let mut l = live(0, 100);
        l[0].admin_state = 0x08; // blue1 drained
        let (cmds, _) = h.traffic_commands(&l, &to_blue).unwrap();
        assert_eq!(
            cmds,
            [
                "set server app/blue1 state ready",
                "set server app/blue1 weight 100",
                "set server app/blue2 weight 50",
                "set server app/green1 weight 0",
            ]
        );
    }

    #[test]
    fn split_weights_fit_0_to_256_and_round_closely() {
        for p in [0.0, 1.0, 5.0, 10.0, 12.5, 33.3, 50.0, 90.0, 99.0, 100.0] {
            let (s, c, a) = split_weights(&[100, 50], &[100], p);
            assert!(
                s.iter().chain(&c).all(|w| *w <= MAX_WEIGHT),
                "{p}: {s:?} {c:?}"
            );
            if p > 0.0 && p < 100.0 {
                assert!(s.iter().chain(&c).all(|w| *w >= 1), "{p}: {s:?} {c:?}");
                // Stable keeps its 2:1 ratio within one unit.
                assert!(
                    (i64::from(s[0]) - 2 * i64::from(s[1])).abs() <= 2,
                    "{p}: {s:?}"
                );
            }
            assert!((a - p).abs() < 0.5, "{p}: achieved {a} with {s:?} {c:?}");
        }
        assert!((split_weights(&[100], &[100], 10.0).2 - 10.0).abs() < 1e-9);
        assert_eq!(
            split_weights(&[100], &[100], 50.0),
            (vec![256], vec![256], 50.0)
        );
        assert_eq!(split_weights(&[100], &[7], 0.0), (vec![100], vec![0], 0.0));
        assert_eq!(
            split_weights(&[100], &[7], 100.0),
            (vec![0], vec![7], 100.0)
        );
        // The smallest share HAProxy can express with one server per side.
        let (_, c, a) = split_weights(&[1], &[1], 0.1);
        assert_eq!(c, vec![1]);
        assert!((a - 100.0 / 257.0).abs() < 1e-9);
    }

    #[test]
    fn canary_split_orders_raise_first() {
        let h = Haproxy::new(&plan(PLAN)).unwrap();
        let to = Traffic::Split {
            stable: "blue".into(),
            canary: "green".into(),
            percent: 10.0,
        };
        let (cmds, desired) = h.traffic_commands(&live(256, 0), &to).unwrap();
        let raise = cmds.iter().position(|c| c.contains("green1")).unwrap();
        let lower = cmds.iter().position(|c| c.contains("blue1")).unwrap();
        assert!(raise < lower, "{cmds:?}");
        let w: HashMap<_, _> = desired.into_iter().collect();
        let share = f64::from(w["green1"]) / f64::from(w["green1"] + w["blue1"] + w["blue2"]);
        assert!((share - 0.10).abs() < 0.005, "{w:?}");
    }

    #[test]
    fn servers_state_parses_and_errors_are_verbatim() {
        let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 app 1 blue1 127.0.0.1 2 8 100 100 1 1 0 2 0 0 0 0 - 18081 -\n";
        let s = parse_servers_state(text).unwrap();
        assert_eq!(s[0].name, "blue1");
        assert_eq!(s[0].addr, "127.0.0.1:18081");
        assert_eq!((s[0].weight, s[0].serving()), (100, 0));
        assert_eq!(
            parse_servers_state("Can't find backend.\n"),
            Err("Can't find backend.".into())
        );
    }

    #[test]
    fn hex_round_trips() {
        let b = br#"{"previous":"blue"}"#;
        assert_eq!(hex_decode(&hex_encode(b)).unwrap(), b);
        assert!(hex_decode("abc").is_none());
    }
}
