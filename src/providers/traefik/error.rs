//! What can go wrong talking to Traefik, and what a person can do about it.

use std::time::Duration;

/// A Traefik API failure.
#[derive(Debug, thiserror::Error)]
pub enum TraefikError {
    /// The API did not answer.
    #[error("cannot reach the Traefik API at {url}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The configuration PUT was sent and no answer came (reset, timeout): bgctl read Traefik's
    /// routers and services back and could not confirm it took.
    #[error(
        "Traefik did not answer the configuration PUT to {url}, and reading its routers and \
         services back did not show the configuration applied"
    )]
    Lost {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// An answer could not be read (too large, or the transfer broke).
    #[error("reading Traefik's answer to {method} {url} failed")]
    Body {
        /// Method.
        method: String,
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: crate::http::BodyError,
    },
    /// The API answered with an unexpected status.
    #[error("Traefik answered {method} {url} with HTTP {status}: {body}")]
    Status {
        /// Method.
        method: String,
        /// The URL.
        url: String,
        /// Status.
        status: u16,
        /// Body, trimmed.
        body: String,
    },
    /// Traefik took the configuration but reports it broken.
    #[error("Traefik accepted the configuration but did not enable it: {0}")]
    Rejected(String),
    /// The configuration did not become live in time.
    #[error("Traefik did not apply the configuration within {timeout:?}: {detail}")]
    NotApplied {
        /// The limit.
        timeout: Duration,
        /// What was still different.
        detail: String,
    },
}

impl TraefikError {
    /// What a person can do about this failure, in the plan's terms, when there is something
    /// more specific than looking at the live state.
    pub fn hint(&self) -> Option<String> {
        match self {
            TraefikError::Status { status: 404, .. } => Some("Traefik has no such route: is it started with `--api` and `--providers.rest` (and has it finished starting)?".into()),
            TraefikError::Unreachable { .. } => Some("check `provider.traefik.apiUrl` and that Traefik runs with `--api` and `--providers.rest`".into()),
            _ => None,
        }
    }
}
