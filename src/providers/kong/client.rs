//! A small Kong Admin API client: timeouts on every call, retries with backoff where a retry
//! is safe, `Retry-After` honoured, pagination that cannot loop forever, and header values that
//! never reach a log line or an error message.
//!
//! Retry policy (decK retries only on 500; we are a little broader because Kong nodes behind a
//! load balancer answer 502/503 during restarts): connection errors, timeouts, 5xx and 429 are
//! retried up to [`RETRIES`] times with exponential backoff, bounded by the run's deadline.
//! A 4xx other than 429 is never retried: it is an answer, not a hiccup. Calls that are not
//! idempotent (`POST`) are retried only when the request cannot have reached Kong (connect
//! errors) or when the caller can recognise its own earlier success (a `409` it then reads back).

use crate::deadline::Deadline;
use crate::http::json::Budget;
use crate::http::{limits, BodyError};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use crate::plan::model::KongProvider;

/// Attempts after the first one.
pub const RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_PAGES: usize = 10_000;
/// What is read of an error answer (for its `message`).
const ERROR_BODY: usize = 64 * 1024;
/// JSON values parsed from an error answer.
const ERROR_NODES: usize = 10_000;

/// What went wrong talking to Kong.
#[derive(Debug, thiserror::Error)]
pub enum KongError {
    /// No connection could be made (after retries).
    #[error("cannot reach the Kong Admin API at {url}")]
    Unreachable {
        /// Base URL (never contains credentials: the plan forbids them).
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A call took longer than its timeout (after retries).
    #[error("`{method} {path}` timed out after {timeout:?}")]
    Timeout {
        /// HTTP method.
        method: Method,
        /// Path.
        path: String,
        /// Per-call timeout.
        timeout: Duration,
    },
    /// The run's `--timeout` ran out.
    #[error("the run's deadline passed during `{method} {path}`")]
    Deadline {
        /// HTTP method.
        method: Method,
        /// Path.
        path: String,
    },
    /// Kong answered with an error status.
    #[error("`{method} {path}` failed: HTTP {status}: {message}")]
    Status {
        /// HTTP method.
        method: Method,
        /// Path.
        path: String,
        /// HTTP status.
        status: StatusCode,
        /// Kong's `message`, or the start of the body.
        message: String,
    },
    /// Kong answered with a redirect, which is never followed (the token would go along).
    #[error("`{method} {path}`: the Admin API {redirect}")]
    Redirect {
        /// HTTP method.
        method: Method,
        /// Path.
        path: String,
        /// Status and `Location`.
        redirect: crate::http::Redirected,
    },
    /// The answer was not what Kong sends.
    #[error("`{method} {path}` returned an unexpected answer: {detail}")]
    Unexpected {
        /// HTTP method.
        method: Method,
        /// Path.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// The client could not be built (TLS files).
    #[error("{0}")]
    Setup(String),
    /// The nodes' mode does not allow the plan's writes (a hybrid data plane; nodes, or a
    /// node and `provider.kong.mode`, that disagree): refused before anything is written.
    #[error("{message}")]
    Mode {
        /// What is wrong, naming the node(s).
        message: String,
        /// What to change in the plan.
        hint: String,
    },
}

impl KongError {
    /// Whether the call may have been carried out although no answer came back (a timeout or a
    /// lost connection): look before deciding.
    pub fn answer_lost(&self) -> bool {
        matches!(
            self,
            KongError::Timeout { .. } | KongError::Unreachable { .. }
        )
    }

    /// The HTTP status Kong answered with, if any.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            KongError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What a person can do about this failure, in the plan's terms (`provider.kong.*`), when
    /// there is something more specific than looking at the live state.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            KongError::Mode { hint, .. } => return Some(hint.clone()),
            KongError::Unreachable { .. } if crate::providers::hints::error_chain_mentions(self, "certificate") => {
                "the Admin API's TLS certificate is not trusted: set `provider.kong.tls.caFile` to the CA that signed it (or `certFile`/`keyFile` if it asks for a client certificate); nothing was changed"
            }
            KongError::Unreachable { .. } | KongError::Timeout { .. } => {
                "check `provider.kong.adminUrl` and that the Admin API listens there; nothing was changed"
            }
            KongError::Status { status, .. } if status.as_u16() == 401 || status.as_u16() == 403 => {
                "the Admin API refused the credentials: check `provider.kong.headers` (e.g. `Kong-Admin-Token`)"
            }
            KongError::Deadline { .. } => "raise `--timeout` or check why the Admin API is slow",
            KongError::Redirect { .. } => {
                "point `provider.kong.adminUrl` at the Admin API itself (bgctl never follows redirects: the plan's headers would go along); nothing was sent to the redirect's target"
            }
            _ => return None,
        };
        Some(hint.into())
    }
}

/// An Admin API connection.
#[derive(Clone)]
pub struct KongClient {
    http: reqwest::Client,
    base: String,
    headers: HeaderMap,
    timeout: Duration,
    deadline: Option<Deadline>,
}

impl std::fmt::Debug for KongClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KongClient")
            .field("base", &self.base)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds the reqwest client for a provider's TLS settings (the one policy of [`crate::http`]:
/// no redirects, a connect timeout).
pub fn http_client(
    tls: Option<&crate::plan::model::TlsSpec>,
) -> Result<reqwest::Client, KongError> {
    crate::http::with_tls(
        crate::http::builder().pool_idle_timeout(Duration::from_secs(30)),
        tls,
    )
    .map_err(KongError::Setup)?
    .build()
    .map_err(|e| KongError::Setup(format!("cannot build the HTTP client: {e}")))
}

impl KongClient {
    /// A client for the plan's Kong provider.
    pub fn new(spec: &KongProvider, deadline: Option<Deadline>) -> Result<KongClient, KongError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &spec.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| KongError::Setup(format!("invalid header name `{name}`")))?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                KongError::Setup(format!("the value of header `{name}` is not valid in HTTP"))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(KongClient {
            http: http_client(spec.tls.as_ref())?,
            base: spec.admin_url.trim_end_matches('/').to_string(),
            headers,
            timeout: spec
                .request_timeout
                .map_or(Duration::from_secs(10), |d| d.0),
            deadline,
        })
    }

    /// The same client (headers, TLS, timeouts, deadline) for another node's Admin API.
    #[must_use]
    pub fn with_base(&self, base: &str) -> KongClient {
        KongClient {
            base: base.trim_end_matches('/').to_string(),
            ..self.clone()
        }
    }

    /// `POST /config?check_hash=1` with the declarative configuration `text` (sent as Kong's
    /// `{"config": "<text>"}` form, so the node hashes the text and answers 304 when it
    /// already has it). Returns whether the node loaded it (`false`: 304, unchanged). A full
    /// replacement is idempotent, so it is retried like a `PUT`.
    pub async fn post_config(&self, text: &str) -> Result<bool, KongError> {
        let body = serde_json::json!({ "config": text });
        match self
            .write(Method::POST, "/config?check_hash=1", Some(&body), true)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(StatusCode::NOT_MODIFIED) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The Admin API base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Kong's clock: the `Date` header of an Admin API answer (`GET /`), in Unix seconds;
    /// `None` when the answer has none. Lock expiry is judged by it (`providers::lock`).
    pub async fn server_time(&self) -> Result<Option<u64>, KongError> {
        let resp = self
            .http
            .get(format!("{}/", self.base))
            .headers(self.headers.clone())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| KongError::Unreachable {
                url: self.base.clone(),
                source: e.without_url(),
            })?;
        Ok(resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs()))
    }

    /// `GET`, with `404` as `None`.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, KongError> {
        match self.call(Method::GET, path, None, true).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a paginated list, following `offset` until it disappears. The pages
    /// together may hold at most [`limits::ADMIN_LIST_TOTAL`] bytes and
    /// [`limits::ADMIN_LIST_NODES`] JSON values: an endless or bloated pagination ends in an
    /// error, not in exhausted memory.
    pub async fn list(&self, path: &str) -> Result<Vec<Value>, KongError> {
        let mut items = Vec::new();
        let mut offset: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        let budget = Budget::new(limits::ADMIN_LIST_NODES);
        let mut total = 0usize;
        for _ in 0..MAX_PAGES {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &offset {
                Some(o) => format!("{path}{sep}size=1000&offset={}", urlencode(o)),
                None => format!("{path}{sep}size=1000"),
            };
            let unexpected = |detail: String| KongError::Unexpected {
                method: Method::GET,
                path: url.clone(),
                detail,
            };
            let (status, bytes) = self
                .call_bytes(Method::GET, &url, None, true, limits::ADMIN_PAGE)
                .await?;
            total += bytes.len();
            if total > limits::ADMIN_LIST_TOTAL {
                return Err(unexpected(format!(
                    "the list's pages add up to more than {} (bgctl reads at most that much)",
                    crate::http::size(limits::ADMIN_LIST_TOTAL)
                )));
            }
            let mut page = parse_body(&Method::GET, &url, status, &bytes, &budget)?;
            drop(bytes);
            let Some(Value::Array(data)) = page.get_mut("data").map(Value::take) else {
                return Err(unexpected("a list without a `data` array".into()));
            };
            items.extend(data);
            match page.get("offset").and_then(Value::as_str) {
                Some(o) if !o.is_empty() => {
                    if !seen.insert(o.to_string()) {
                        return Err(unexpected(format!(
                            "pagination repeats offset `{}` and would never end",
                            crate::redact::server_text(o, 80)
                        )));
                    }
                    offset = Some(o.to_string());
                }
                _ => return Ok(items),
            }
        }
        Err(KongError::Unexpected {
            method: Method::GET,
            path: path.to_string(),
            detail: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// A write. `idempotent` says whether a retry after an ambiguous failure is safe.
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Value, KongError> {
        tracing::info!(%method, path, "kong admin write");
        self.call(method, path, body, idempotent).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Value, KongError> {
        let (status, bytes) = self
            .call_bytes(method.clone(), path, body, idempotent, limits::ADMIN_BODY)
            .await?;
        parse_body(
            &method,
            path,
            status,
            &bytes,
            &Budget::new(limits::ADMIN_NODES),
        )
    }

    /// One call with retries; the body of a 2xx answer (at most `cap` bytes).
    async fn call_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
        cap: usize,
    ) -> Result<(StatusCode, Vec<u8>), KongError> {
        let url = format!("{}{path}", self.base);
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            let timeout = match self.deadline.as_ref().map(Deadline::get) {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(KongError::Deadline {
                            method,
                            path: path.to_string(),
                        });
                    }
                    left.min(self.timeout)
                }
                None => self.timeout,
            };
            let mut req = self
                .http
                .request(method.clone(), &url)
                .headers(self.headers.clone())
                .timeout(timeout);
            if let Some(b) = body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            tracing::debug!(%method, path, attempt, "kong admin call");
            let outcome = req.send().await;
            let retry_in = match outcome {
                Ok(resp) => {
                    if let Some(redirect) = crate::http::redirected(&resp) {
                        return Err(KongError::Redirect {
                            method,
                            path: path.to_string(),
                            redirect,
                        });
                    }
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| s.trim().parse::<u64>().ok());
                    // An error answer is only read for its message: a small cap.
                    let limit = if status.is_success() { cap } else { ERROR_BODY };
                    let text = match crate::http::read_body(resp, limit).await {
                        Ok(t) => t,
                        Err(e) if e.is_timeout() => {
                            if attempt < RETRIES && idempotent {
                                attempt += 1;
                                self.sleep(backoff, &method, path).await?;
                                backoff *= 2;
                                continue;
                            }
                            return Err(KongError::Timeout {
                                method,
                                path: path.to_string(),
                                timeout,
                            });
                        }
                        Err(e @ BodyError::TooLarge { .. }) if status.is_success() => {
                            return Err(KongError::Unexpected {
                                method,
                                path: path.to_string(),
                                detail: e.to_string(),
                            })
                        }
                        Err(BodyError::TooLarge { .. }) => {
                            b"(an error page too large to show)".to_vec()
                        }
                        Err(e) => {
                            return Err(KongError::Unexpected {
                                method,
                                path: path.to_string(),
                                detail: format!(
                                    "reading the body failed: {}",
                                    crate::error::chain(&e).join(": ")
                                ),
                            })
                        }
                    };
                    if status.is_success() {
                        return Ok((status, text));
                    }
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error()
                            && (idempotent || status == StatusCode::SERVICE_UNAVAILABLE));
                    if !retryable || attempt >= RETRIES {
                        return Err(KongError::Status {
                            method,
                            path: path.to_string(),
                            status,
                            message: error_message(&text),
                        });
                    }
                    retry_after.map_or(backoff, |s| Duration::from_secs(s.min(60)))
                }
                Err(e) => {
                    let before_send = e.is_connect();
                    if attempt >= RETRIES
                        || !(before_send || (idempotent && (e.is_timeout() || e.is_request())))
                    {
                        return Err(if e.is_timeout() {
                            KongError::Timeout {
                                method,
                                path: path.to_string(),
                                timeout,
                            }
                        } else {
                            KongError::Unreachable {
                                url: self.base.clone(),
                                source: e.without_url(),
                            }
                        });
                    }
                    backoff
                }
            };
            attempt += 1;
            tracing::debug!(%method, path, ?retry_in, "retrying");
            self.sleep(retry_in, &method, path).await?;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn sleep(&self, d: Duration, method: &Method, path: &str) -> Result<(), KongError> {
        if let Some(deadline) = self.deadline.as_ref().map(Deadline::get) {
            if Instant::now() + d >= deadline {
                return Err(KongError::Deadline {
                    method: method.clone(),
                    path: path.to_string(),
                });
            }
        }
        tokio::time::sleep(d).await;
        Ok(())
    }
}

fn parse_body(
    method: &Method,
    path: &str,
    status: StatusCode,
    bytes: &[u8],
    budget: &Budget,
) -> Result<Value, KongError> {
    if status == StatusCode::NO_CONTENT || bytes.trim_ascii().is_empty() {
        return Ok(Value::Null);
    }
    crate::http::json::parse_bounded(bytes, budget).map_err(|e| KongError::Unexpected {
        method: method.clone(),
        path: path.to_string(),
        detail: if e.is_data() {
            // The budget ran out.
            e.to_string()
        } else {
            format!("not JSON: {}", snippet(bytes))
        },
    })
}

/// Kong's `message`, or a short, printable start of a non-JSON body (an HTML error page), made
/// safe to print ([`crate::redact::server_text`]: one line, no control characters, capped,
/// secrets redacted).
fn error_message(bytes: &[u8]) -> String {
    match crate::http::json::parse_bounded(bytes, &Budget::new(ERROR_NODES)) {
        Ok(v) => v.get("message").and_then(Value::as_str).map_or_else(
            || snippet(bytes),
            |m| crate::redact::server_text(m, crate::redact::SERVER_TEXT_MAX),
        ),
        Err(_) if bytes.trim_ascii().is_empty() => "(empty body)".to_string(),
        Err(_) => snippet(bytes),
    }
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    format!("`{}`", crate::redact::server_text(&text, 160))
}

/// The inverse of [`urlencode`] (a malformed escape is kept as it is).
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a path segment or query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
