//! The calls that move Kong's traffic: a blue-green switch is one `PATCH` of the service host;
//! a canary fills a bgctl-owned mixed upstream with both sides' targets at the shared split's
//! weights ([`crate::providers::weights`]) and points the service at it. A target `POST` whose
//! first attempt landed is converged instead of repeated.
//!
//! The mixed upstream's target writes are independent of each other within a wave (raises,
//! lowers, deletes — the waves setup uses), so a canary step makes up to `--parallelism` of
//! them at once with the engine's wave runner ([`crate::engine::waves::run`]); the service
//! write that moves the traffic comes alone, after every target write was answered. With a
//! thousand targets per side a step's first weight write is a thousand `POST`s, which one at a
//! time made the canary's first step as slow as the setup was before its waves.

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{urlencode, KongError};
use super::{Kong, Live};
use crate::providers::{weights, write, Call, Change, ProviderError, Record, Traffic};

impl Kong {
    /// Creates a target with the shared ambiguous-write policy ([`write::converge`]). A target
    /// `POST` is not idempotent, so it is never re-sent blind: after a 409 (its first attempt
    /// landed) or a lost answer the target is read back — there: its weight is converged with a
    /// `PATCH`; not there: the `POST` did not land and sending it again is safe.
    pub(super) async fn post_target(
        &self,
        post: &Call,
        target: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        let path = format!("{}/{}", post.path, urlencode(target));
        let first = AtomicBool::new(true);
        write::converge(
            || async {
                if first.swap(false, Ordering::Relaxed) {
                    return Ok(write::Step::Write(post.clone()));
                }
                tracing::info!("reading the target back: {path}");
                Ok(write::Step::Write(match self.client.get(&path).await? {
                    Some(_) => Call {
                        method: "PATCH".into(),
                        path: path.clone(),
                        body: Some(json!({"weight": body.get("weight")})),
                        idempotent: true,
                    },
                    None => post.clone(),
                }))
            },
            |call| async move {
                let is_post = call.method == "POST";
                match self.do_call(&call).await {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if is_post && e.status() == Some(reqwest::StatusCode::CONFLICT) => {
                        Ok(write::Written::Conflict)
                    }
                    Err(e) if is_post && e.answer_lost() => {
                        tracing::info!("the answer to a target POST was lost ({e})");
                        Ok(write::Written::Unknown(e.into()))
                    }
                    Err(e) => Err(e.into()),
                }
            },
            "the target kept being created and removed (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }

    pub(super) async fn do_call(&self, call: &Call) -> Result<Value, KongError> {
        let method = Method::from_bytes(call.method.as_bytes()).unwrap_or(Method::GET);
        self.client
            .write(method, &call.path, call.body.as_ref(), call.idempotent)
            .await
    }

    pub(super) fn mixed_changes(
        &self,
        live: &Live,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<Vec<Change>, ProviderError> {
        let (Some(s), Some(c)) = (self.env(stable), self.env(canary)) else {
            return Err(ProviderError::State(format!(
                "unknown environments `{stable}`/`{canary}`"
            )));
        };
        let split = weights::split(
            &s.targets.iter().map(|t| t.1).collect::<Vec<_>>(),
            &c.targets.iter().map(|t| t.1).collect::<Vec<_>>(),
            percent,
        )
        .map_err(|e| ProviderError::State(format!("cannot split traffic {percent}%: {e}")))?;
        let targets: Vec<(String, u32)> = s
            .targets
            .iter()
            .zip(split.stable)
            .chain(c.targets.iter().zip(split.canary))
            .map(|(t, w)| (t.0.clone(), w))
            .collect();
        let mut changes = Vec::new();
        self.upstream_changes(live, &self.mixed, &targets, &mut changes);
        Ok(changes)
    }

    /// The calls of [`Kong::traffic_changes`], in order.
    pub(super) fn traffic_plan(
        &self,
        live: &Live,
        to: &Traffic,
        record: &Record,
    ) -> Result<Vec<Call>, ProviderError> {
        Ok(self
            .traffic_changes(live, to, record)?
            .into_iter()
            .map(|c| c.call)
            .collect())
    }

    /// The writes that move traffic to `to`: a canary's mixed-upstream writes (its targets in
    /// waves, as setup marks them: raises, then lowers, then deletes, so the upstream never
    /// has zero total weight), then the service write (alone, last: it moves the traffic and
    /// the record).
    pub(super) fn traffic_changes(
        &self,
        live: &Live,
        to: &Traffic,
        record: &Record,
    ) -> Result<Vec<Change>, ProviderError> {
        let alone = |call: Call| Change {
            action: "update",
            entity: "traffic",
            name: String::new(),
            detail: String::new(),
            call,
            wave: None,
        };
        let (mut calls, host) = match to {
            Traffic::Env { env } => {
                let e = self
                    .env(env)
                    .ok_or_else(|| ProviderError::State(format!("unknown environment `{env}`")))?;
                (Vec::new(), e.upstream.clone())
            }
            Traffic::Split {
                stable,
                canary,
                percent,
            } => (
                self.mixed_changes(live, stable, canary, *percent)?,
                self.mixed.clone(),
            ),
            Traffic::Missing | Traffic::Foreign { .. } => {
                return Err(ProviderError::State(
                    "traffic can only be pointed at an environment or a split".into(),
                ))
            }
        };
        let tags = self.service_tags(live, record);
        let svc_path = format!("/services/{}", urlencode(&self.service.name));
        if live.service.is_none() {
            calls.push(alone(Call {
                method: "PUT".into(),
                path: svc_path,
                body: Some(self.service_body(&host, &tags)),
                idempotent: true,
            }));
            let mut routes = Vec::new();
            self.route_changes(live, &json!({"name": self.service.name}), &mut routes);
            calls.extend(routes.into_iter().map(|c| Change { wave: None, ..c }));
        } else {
            calls.push(alone(Call {
                method: "PATCH".into(),
                path: svc_path,
                body: Some(json!({"host": host, "tags": tags})),
                idempotent: true,
            }));
        }
        Ok(calls)
    }
}
