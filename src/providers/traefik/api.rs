//! Traefik's API as bgctl calls it: every answer through the shared bounded reader
//! ([`crate::http::read_body`], [`crate::http::limits::ADMIN_BODY`], a JSON value budget), and
//! the configuration PUT with the shared ambiguous-write policy ([`crate::providers::write`]):
//! a PUT whose answer was lost is read back through Traefik's routers and services, never
//! repeated blindly.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Traefik, TraefikError};
use crate::providers::write::{converge, Step, Written};
use crate::providers::ProviderError;

impl Traefik {
    pub(super) async fn get(&self, path: &str) -> Result<Option<Value>, TraefikError> {
        let url = format!("{}{path}", self.api);
        let resp =
            self.http
                .get(&url)
                .send()
                .await
                .map_err(|source| TraefikError::Unreachable {
                    url: url.clone(),
                    source,
                })?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = crate::http::read_body(resp, crate::http::limits::ADMIN_BODY)
            .await
            .map_err(|source| TraefikError::Body {
                method: "GET".into(),
                url: url.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(TraefikError::Status {
                method: "GET".into(),
                url,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).trim().to_string(),
            });
        }
        let budget = crate::http::json::Budget::new(crate::http::limits::ADMIN_NODES);
        crate::http::json::parse_bounded(&body, &budget)
            .map(Some)
            .map_err(|e| TraefikError::Status {
                method: "GET".into(),
                url,
                status: status.as_u16(),
                body: format!("not JSON ({e})"),
            })
    }

    /// One configuration PUT, its outcome in the shared three-way form: a connection that was
    /// never made sent nothing (an error); one that broke or timed out after sending is
    /// [`Written::Unknown`], for [`Self::put_applied`] to read back.
    pub(super) async fn put_config(&self, config: &Value) -> Result<Written, TraefikError> {
        let url = format!("{}/api/providers/rest", self.api);
        let resp = match self.http.put(&url).json(config).send().await {
            Ok(resp) => resp,
            Err(source) if source.is_connect() => {
                return Err(TraefikError::Unreachable { url, source })
            }
            Err(source) => return Ok(Written::Unknown(TraefikError::Lost { url, source }.into())),
        };
        let status = resp.status();
        let body = crate::http::read_body(resp, crate::http::limits::ADMIN_BODY).await;
        if status.is_success() {
            return Ok(Written::Done);
        }
        Err(TraefikError::Status {
            method: "PUT".into(),
            url,
            status: status.as_u16(),
            body: body.map_or_else(
                |e| format!("({e})"),
                |b| String::from_utf8_lossy(&b).trim().to_string(),
            ),
        })
    }

    /// PUTs `config` (a whole document from [`Traefik::config`]) and waits until Traefik runs
    /// it: its weights, servers, router and owned routes. A PUT whose answer was lost is not
    /// repeated blindly: Traefik's routers and services are read back ([`Self::wait_applied`])
    /// and the PUT is sent again only when they do not show it within the apply timeout (the
    /// shared policy, [`crate::providers::write`]).
    pub(super) async fn put_applied(&self, config: &Value) -> Result<(), ProviderError> {
        let mut first = true;
        converge(
            || {
                let sent_before = !std::mem::replace(&mut first, false);
                async move {
                    if !sent_before {
                        return Ok(Step::Write(()));
                    }
                    match self.wait_applied(config).await {
                        Ok(()) => Ok(Step::Finish(())),
                        Err(ProviderError::Traefik(TraefikError::NotApplied { .. })) => {
                            Ok(Step::Write(()))
                        }
                        Err(e) => Err(e),
                    }
                }
            },
            |()| async move { Ok(self.put_config(config).await?) },
            "Traefik kept refusing the configuration",
        )
        .await?;
        self.wait_applied(config).await
    }
}
