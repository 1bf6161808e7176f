//! The calls that move Kong's traffic: a blue-green switch is one `PATCH` of the service host;
//! a canary fills a bgctl-owned mixed upstream with both sides' targets at the shared split's
//! weights ([`crate::providers::weights`]) and points the service at it. A target `POST` whose
//! first attempt landed is converged instead of repeated.

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{urlencode, KongError};
use super::{Kong, Live};
use crate::providers::{weights, Call, ProviderError, Record, Traffic};

impl Kong {
    /// Sets the weight of a target that exists (`targets` is the upstream's targets path).
    pub(super) async fn converge_target(
        &self,
        targets: &str,
        target: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        let patch = Call {
            method: "PATCH".into(),
            path: format!("{targets}/{}", urlencode(target)),
            body: Some(json!({"weight": body.get("weight")})),
            idempotent: true,
        };
        self.do_call(&patch).await?;
        Ok(())
    }

    pub(super) async fn do_call(&self, call: &Call) -> Result<Value, KongError> {
        let method = Method::from_bytes(call.method.as_bytes()).unwrap_or(Method::GET);
        self.client
            .write(method, &call.path, call.body.as_ref(), call.idempotent)
            .await
    }

    pub(super) fn mixed_calls(
        &self,
        live: &Live,
        stable: &str,
        canary: &str,
        percent: f64,
    ) -> Result<Vec<Call>, ProviderError> {
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
        Ok(changes.into_iter().map(|c| c.call).collect())
    }

    pub(super) fn traffic_plan(
        &self,
        live: &Live,
        to: &Traffic,
        record: &Record,
    ) -> Result<Vec<Call>, ProviderError> {
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
                self.mixed_calls(live, stable, canary, *percent)?,
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
            calls.push(Call {
                method: "PUT".into(),
                path: svc_path,
                body: Some(self.service_body(&host, &tags)),
                idempotent: true,
            });
            let mut routes = Vec::new();
            self.route_changes(live, &json!({"name": self.service.name}), &mut routes);
            calls.extend(routes.into_iter().map(|c| c.call));
        } else {
            calls.push(Call {
                method: "PATCH".into(),
                path: svc_path,
                body: Some(json!({"host": host, "tags": tags})),
                idempotent: true,
            });
        }
        Ok(calls)
    }
}
