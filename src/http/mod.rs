//! One HTTP client policy for every call bgctl makes (Admin APIs, webhooks, Prometheus, probes,
//! verification traffic): no redirects, bounded bodies, timeouts.
//!
//! - **No redirects.** A redirect would carry the plan's headers (`Kong-Admin-Token`, a
//!   webhook's `X-Api-Key`) to another port or host, downgrade `https` to `http`, and turn a
//!   `POST`/`PUT`/`PATCH` into a `GET` that "succeeds" with nothing written. Every client is
//!   built by [`builder`] with [`reqwest::redirect::Policy::none`], and callers turn a 3xx into
//!   an error with [`redirected`], which names the `Location` (secrets redacted) so a person can
//!   fix the URL. Probes and verification see the 3xx status itself (a health check that
//!   answers 301 is healthy by the 200–399 default, as before).
//! - **Bounded bodies.** Nothing reads a whole body into memory on trust: [`read_body`] streams
//!   chunks and stops at a per-kind cap ([`limits`]) with [`BodyError::TooLarge`]; a
//!   `Content-Length` over the cap fails before anything is read. JSON that is kept (Kong's
//!   entity lists) is parsed by [`json::parse_bounded`], which stops at a node budget, because a
//!   few MiB of `[0,0,0,…]` would otherwise become tens of times that in memory.
//! - **Timeouts.** A connect timeout on every client; callers set a per-request timeout capped
//!   by the run's deadline (the request timeout covers reading the body too).
//!
//! Redaction of whatever ends up in a message lives in [`crate::redact`].

pub mod follow;
pub mod json;
pub mod sample;

use std::time::Duration;

/// Per-kind body caps (bytes) and JSON node budgets. Documented in `docs/reliability.md`.
pub mod limits {
    /// One Admin API answer (Kong, Traefik): an entity or an error is a few KiB.
    pub const ADMIN_BODY: usize = 4 * 1024 * 1024;
    /// One page of an Admin API list (Kong sends up to 1000 entities a page).
    pub const ADMIN_PAGE: usize = 8 * 1024 * 1024;
    /// All pages of one list together.
    pub const ADMIN_LIST_TOTAL: usize = 16 * 1024 * 1024;
    /// JSON values kept from one Admin API answer.
    pub const ADMIN_NODES: usize = 200_000;
    /// JSON values kept from all pages of one list.
    pub const ADMIN_LIST_NODES: usize = 500_000;
    /// A webhook's answer (a verdict, not a data set).
    pub const WEBHOOK_BODY: usize = 1024 * 1024;
    /// A Prometheus instant-query answer.
    pub const PROMETHEUS_BODY: usize = 8 * 1024 * 1024;
    /// An HAProxy runtime API reply (`show servers state` of a large backend fits easily).
    pub const RUNTIME_REPLY: usize = 8 * 1024 * 1024;
    /// One Kubernetes API answer (a list of Deployments or routes in one namespace).
    pub const KUBE_BODY: usize = 16 * 1024 * 1024;
    /// What probes and verification read of an answer before dropping the connection.
    pub const PROBE_BODY: usize = 64 * 1024;
}

/// Connect timeout of every client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The one client builder: no redirects, a connect timeout, `TCP_NODELAY`. Callers add pool
/// settings, TLS and request timeouts.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
}

/// A client with the policy and default TLS settings.
pub fn client() -> reqwest::Client {
    builder()
        .build()
        .expect("an HTTP client without TLS files always builds")
}

/// Adds a provider's TLS settings (CA bundle, client certificate, `insecureSkipVerify`).
pub fn with_tls(
    mut builder: reqwest::ClientBuilder,
    tls: Option<&crate::plan::model::TlsSpec>,
) -> Result<reqwest::ClientBuilder, String> {
    let Some(tls) = tls else {
        return Ok(builder);
    };
    if let Some(ca) = &tls.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read `tls.caFile` `{ca}`: {e}"))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("`tls.caFile` `{ca}` is not a PEM certificate: {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "`tls.caFile` `{ca}` holds no certificate (expected one or more PEM \
                 `-----BEGIN CERTIFICATE-----` blocks)"
            ));
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        let mut pem =
            std::fs::read(cert).map_err(|e| format!("cannot read `tls.certFile` `{cert}`: {e}"))?;
        pem.extend(std::fs::read(key).map_err(|e| format!("cannot read `tls.keyFile`: {e}"))?);
        let id = reqwest::Identity::from_pem(&pem)
            .map_err(|_| "`tls.certFile`/`tls.keyFile` are not a PEM certificate and key")?;
        builder = builder.identity(id);
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

/// A 3xx answer that was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answered HTTP {status} redirecting to {location}; bgctl does not follow redirects (the request's headers would go there too)")]
pub struct Redirected {
    /// The status.
    pub status: u16,
    /// The `Location`, redacted and made printable (or a note that there was none).
    pub location: String,
}

/// `Some` when `resp` is a redirect (any 3xx except `304 Not Modified`).
pub fn redirected(resp: &reqwest::Response) -> Option<Redirected> {
    let status = resp.status();
    if !status.is_redirection() || status == reqwest::StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Some(Redirected {
        status: status.as_u16(),
        location: show_location(location),
    })
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than the cap (announced by `Content-Length` or found while reading).
    #[error("the answer is larger than {} (bgctl reads at most that much)", size(*limit))]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The transfer failed (reset, timeout, bad chunking).
    #[error("reading the answer failed")]
    Read(#[source] reqwest::Error),
}

impl BodyError {
    /// Whether the read timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, BodyError::Read(e) if e.is_timeout())
    }
}

/// Reads at most `cap` bytes of a body; more is [`BodyError::TooLarge`] (the connection is
/// dropped, not drained).
pub async fn read_body(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge { limit: cap });
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { limit: cap });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Reads and discards up to `cap` bytes (probes and verification only need the status; reading
/// a little lets the connection be reused).
pub async fn drain(mut resp: reqwest::Response, cap: usize) {
    let mut seen = 0;
    while let Ok(Some(chunk)) = resp.chunk().await {
        seen += chunk.len();
        if seen > cap {
            return;
        }
    }
}

/// The policy for a Kubernetes answer, as a layer on kube's service stack: a redirect (kube,
/// through hyper, never follows one) is an error naming its `Location`; the body is capped at
/// [`limits::KUBE_BODY`] (reading past it fails the call with a length-limit error).
pub fn kube_answer<B, E>(
    res: Result<http::Response<B>, E>,
) -> Result<http::Response<http_body_util::Limited<B>>, Box<dyn std::error::Error + Send + Sync>>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let res = res.map_err(Into::into)?;
    let status = res.status();
    if status.is_redirection() && status != http::StatusCode::NOT_MODIFIED {
        let location = res
            .headers()
            .get(http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return Err(Box::new(Redirected {
            status: status.as_u16(),
            location: show_location(location),
        }));
    }
    Ok(res.map(|b| http_body_util::Limited::new(b, limits::KUBE_BODY)))
}

fn show_location(location: Option<String>) -> String {
    location.map_or_else(
        || "nowhere (no `Location` header)".to_string(),
        |l| {
            format!(
                "`{}`",
                crate::redact::server_text(&crate::redact::redact_url(&l), 200)
            )
        },
    )
}

/// `4 MiB`, `512 KiB`, `100 bytes`.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
