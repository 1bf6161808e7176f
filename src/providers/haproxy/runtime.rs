//! The HAProxy runtime API client and what it parses: one connection per command (connect,
//! send one line, read until HAProxy closes), `show servers state`, and the hex encoding of
//! the JSON bgctl keeps in process variables.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Endpoint;

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

impl HaproxyError {
    /// Whether the command may have been carried out although no answer says so: the
    /// connection broke or timed out after it was sent (a refused connection sent nothing).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, HaproxyError::Timeout { .. } | HaproxyError::Io { .. })
    }

    /// What a person can do about this failure, in the plan's terms, when there is something
    /// more specific than looking at the live state.
    pub fn hint(&self) -> Option<String> {
        match self {
            HaproxyError::Unreachable { .. } | HaproxyError::Timeout { .. } => Some(
                "check `provider.haproxy.runtimeApi` and that HAProxy's stats socket listens there with `level admin`".into(),
            ),
            _ => None,
        }
    }
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
                read_capped(&mut s, &mut out).await.map_err(io)?;
            }
            Endpoint::Unix(path) => {
                let mut s = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(unreachable)?;
                s.write_all(line.as_bytes()).await.map_err(io)?;
                read_capped(&mut s, &mut out).await.map_err(io)?;
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

/// Reads a reply of at most [`crate::http::limits::RUNTIME_REPLY`] bytes; more is an error.
async fn read_capped(
    s: &mut (impl tokio::io::AsyncRead + Unpin),
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let cap = crate::http::limits::RUNTIME_REPLY as u64;
    s.take(cap + 1).read_to_end(out).await?;
    if out.len() as u64 > cap {
        return Err(std::io::Error::other(format!(
            "the reply is larger than {} (bgctl reads at most that much)",
            crate::http::size(crate::http::limits::RUNTIME_REPLY)
        )));
    }
    Ok(())
}

/// The fixed success reply of a command, for those that have one.
pub(super) fn ok_reply(command: &str) -> Option<&'static str> {
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

pub(super) fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(super) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
