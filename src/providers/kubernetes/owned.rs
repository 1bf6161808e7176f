//! The provider side of header routes and mirrors (issue 16): the step list's call, the
//! converging write, the removal once traffic no longer splits, and what `status` lists. The
//! shapes are [`super::routes`]'; the write is the traffic object's conditional merge patch,
//! re-read and recomputed after a 409 or a lost answer ([`write::converge`]), so a repeat never
//! lands on top of someone else's change and a killed run's next attempt converges.

use std::sync::Mutex;

use serde_json::Value;

use super::{routes, Kubernetes};
use crate::providers::routes::ActiveRoute;
use crate::providers::{write, Call, ProviderError};

impl Kubernetes {
    /// The merge patch that makes `obj`'s owned rules `active`, if any is needed.
    fn owned_patch(
        &self,
        obj: &Value,
        active: &[ActiveRoute],
    ) -> Result<Option<Value>, ProviderError> {
        self.owner_check(obj)?;
        routes::routes_patch(self.router, obj, &self.sides(), active)
            .map_err(|e| ProviderError::State(format!("{} `{}`: {e}", self.kind.kind, self.object)))
    }

    /// The call for the step list (none when converged, or when the object is missing).
    pub(super) fn owned_calls(&self, obj: Option<&Value>, active: &[ActiveRoute]) -> Vec<Call> {
        let Some(obj) = obj else {
            return Vec::new();
        };
        match self.owned_patch(obj, active) {
            Ok(Some(patch)) => vec![Call {
                method: "PATCH".into(),
                path: self.object_path(),
                body: Some(patch),
                idempotent: true,
            }],
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::debug!("no route call: {e}");
                Vec::new()
            }
        }
    }

    /// What `status` lists.
    pub(super) fn owned_extra(&self, obj: Option<&Value>) -> Vec<String> {
        obj.map(|o| routes::describe_owned(self.router, self.kind.kind, o))
            .unwrap_or_default()
    }

    /// Converges the owned rules to `active`, from `given` (the snapshot's object) first.
    pub(super) async fn write_owned(
        &self,
        given: Option<&Value>,
        active: &[ActiveRoute],
    ) -> Result<(), ProviderError> {
        let given = Mutex::new(given.cloned());
        write::converge(
            || async {
                let taken = given.lock().expect("given lock").take();
                let obj = match taken {
                    Some(obj) => obj,
                    None => self
                        .client
                        .get(&self.kind, &self.object)
                        .await?
                        .ok_or_else(|| {
                            ProviderError::State(format!(
                                "{} `{}` does not exist in namespace `{}`",
                                self.kind.kind,
                                self.object,
                                self.ns()
                            ))
                        })?,
                };
                Ok(match self.owned_patch(&obj, active)? {
                    Some(patch) => write::Step::Write(Some(patch)),
                    None => write::Step::Finish(None),
                })
            },
            |patch: Option<Value>| async move {
                let Some(patch) = patch else {
                    return Ok(write::Written::Done);
                };
                match self
                    .client
                    .merge_patch(&self.kind, &self.object, &patch)
                    .await
                {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if e.is_conflict() => Ok(write::Written::Conflict),
                    Err(e) if e.outcome_unknown() => Ok(write::Written::Unknown(e.into())),
                    Err(e) => Err(e.into()),
                }
            },
            "the traffic object kept changing (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }
}
