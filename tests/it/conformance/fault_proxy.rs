//! A recording, fault-injecting TCP proxy in front of a real gateway's management API, so the
//! real HAProxy and Traefik get what the simulators have built in: a log of bgctl's writes, and
//! a fault on exactly write `k` (held without an answer, or carried out with the answer lost).
//!
//! One request per client connection: HAProxy's runtime API is one line per connection anyway;
//! for HTTP the proxy reads one request (head and `Content-Length` body), forwards it with
//! `Connection: close` and relays the answer until the gateway closes, then closes the client
//! connection too (the `Connection: close` in the answer tells the client not to reuse it).
//! A lost answer is a TCP RST (linger 0) after the gateway answered.
//!
//! A write answered without being applied is not forwarded: the proxy answers it as the
//! gateway answers a success (HAProxy: an empty line; HTTP: `200 OK`, empty body). A write
//! turned into a read is forwarded as one: HTTP as a `GET` of the same path without the body;
//! a HAProxy `set server B/S …`/`set weight B/S …` as `get weight B/S`, `set var V …` as
//! `get var V` (the runtime API has no generic read; these are the reads of the same objects).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::target::{Fault, Write};

/// The management protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Proto {
    /// HAProxy's runtime API: one command line.
    Line,
    /// HTTP/1.1 (Traefik's API).
    Http,
}

#[derive(Default)]
struct State {
    log: Vec<Write>,
    armed: Option<(usize, Fault)>,
    met: bool,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MAX_REQUEST: usize = 1 << 20;

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, proto: Proto) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(client, upstream, proto, state).await;
                });
            }
        });
        FaultProxy { addr, state, task }
    }

    pub fn writes(&self) -> Vec<Write> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// Arms `fault` on the `k`-th write (0-based) counted from the last [`FaultProxy::clear_log`].
    pub fn arm(&self, k: usize, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        s.armed = Some((k, fault));
        s.met = false;
    }

    pub fn met(&self) -> bool {
        self.state.lock().unwrap().met
    }

    pub fn clear_faults(&self) {
        let mut s = self.state.lock().unwrap();
        s.armed = None;
    }
}

/// Reads one request; returns (bytes to forward, method, key path, is a write).
async fn read_request(
    client: &mut TcpStream,
    proto: Proto,
) -> Option<(Vec<u8>, String, String, bool)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    match proto {
        Proto::Line => {
            while !buf.contains(&b'\n') {
                let n = client.read(&mut chunk).await.ok()?;
                if n == 0 || buf.len() > MAX_REQUEST {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let line = String::from_utf8_lossy(&buf).trim().to_string();
            let cmd = line.trim_start_matches("experimental-mode on;").trim();
            let read = cmd.starts_with("show ") || cmd.starts_with("get ");
            let key: Vec<&str> = cmd.split_whitespace().take(3).collect();
            Some((buf, "haproxy".into(), key.join(" "), !read))
        }
        Proto::Http => {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let n = client.read(&mut chunk).await.ok()?;
                if n == 0 || buf.len() > MAX_REQUEST {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let first = lines.next().unwrap_or_default().to_string();
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut len = 0usize;
            let mut out = format!("{first}\r\n");
            for l in lines.filter(|l| !l.is_empty()) {
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if !lower.starts_with("connection:") {
                    out.push_str(l);
                    out.push_str("\r\n");
                }
            }
            out.push_str("connection: close\r\n\r\n");
            while buf.len() < head_end + len {
                let n = client.read(&mut chunk).await.ok()?;
                if n == 0 || buf.len() > MAX_REQUEST {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&buf[head_end..head_end + len]);
            let path = path.split('?').next().unwrap_or_default().to_string();
            let write = !matches!(method.as_str(), "GET" | "HEAD");
            Some((bytes, method, path, write))
        }
    }
}

/// The read a proxy would have turned `request` into (module docs).
fn as_read(request: &[u8], proto: Proto) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    match proto {
        Proto::Line => {
            let cmd = text
                .trim()
                .trim_start_matches("experimental-mode on;")
                .trim();
            let words: Vec<&str> = cmd.split_whitespace().collect();
            let read = match words.as_slice() {
                ["set", "server" | "weight", object, ..] => format!("get weight {object}"),
                ["set", "var", name, ..] => format!("get var {name}"),
                _ => "show version".to_string(),
            };
            format!("{read}\n").into_bytes()
        }
        Proto::Http => {
            let head_end = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
            let mut lines = text[..head_end].split("\r\n");
            let first = lines.next().unwrap_or_default();
            let rest = first.split_once(' ').map_or("", |(_, r)| r);
            let mut out = format!("GET {rest}\r\n");
            for l in lines.filter(|l| !l.is_empty()) {
                let lower = l.to_ascii_lowercase();
                if !lower.starts_with("content-length:") && !lower.starts_with("content-type:") {
                    out.push_str(l);
                    out.push_str("\r\n");
                }
            }
            out.push_str("\r\n");
            out.into_bytes()
        }
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    proto: Proto,
    state: Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let Some((request, method, path, write)) = read_request(&mut client, proto).await else {
        return Ok(());
    };
    let (index, fault) = {
        let mut s = state.lock().unwrap();
        if write {
            s.log.push(Write {
                method,
                path,
                answered: false,
            });
            let i = s.log.len() - 1;
            let fault = match s.armed {
                Some((k, f)) if k == i => {
                    s.armed = None;
                    if f == Fault::Hang {
                        s.met = true;
                    }
                    Some(f)
                }
                _ => None,
            };
            (Some(i), fault)
        } else {
            (None, None)
        }
    };
    if fault == Some(Fault::AnswerWithoutApplying) {
        state.lock().unwrap().met = true;
        let answer: &[u8] = match proto {
            Proto::Line => b"\n",
            Proto::Http => b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        };
        if let Some(i) = index {
            if let Some(w) = state.lock().unwrap().log.get_mut(i) {
                w.answered = true;
            }
        }
        client.write_all(answer).await?;
        client.shutdown().await?;
        return Ok(());
    }
    let request = if fault == Some(Fault::TurnIntoGet) {
        state.lock().unwrap().met = true;
        as_read(&request, proto)
    } else {
        request
    };
    if fault == Some(Fault::Hang) {
        // Held without an answer until the test ends (bgctl is SIGKILLed meanwhile).
        tokio::time::sleep(Duration::from_mins(10)).await;
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&request).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), up.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::other("upstream timeout"))??;
    if fault == Some(Fault::LoseAnswer) {
        let mut s = state.lock().unwrap();
        s.met = true;
        drop(s);
        // Linger 0 makes the close a TCP RST; with a zero timeout the drop does not block.
        #[allow(deprecated)]
        client.set_linger(Some(Duration::ZERO))?;
        drop(client);
        return Ok(());
    }
    if let Some(i) = index {
        if let Some(w) = state.lock().unwrap().log.get_mut(i) {
            w.answered = true;
        }
    }
    client.write_all(&answer).await?;
    client.shutdown().await?;
    Ok(())
}
