//! The environments' Deployments: the manifest the plan gives, the change that makes the live
//! one match it (conditional on its `resourceVersion`), waiting for a side's rollout before
//! it gets traffic, and retiring the side that served before a promotion (scale to zero or
//! delete, after the plan's delay), including a retirement an interrupted run still owes.

#[allow(clippy::wildcard_imports)] // an `impl` block split out of the parent module
use super::*;
use crate::providers::write;

impl Kubernetes {
    /// The manifest as bgctl wants it live (owner annotation added, namespace checked).
    pub(super) fn desired_deployment(&self, env: &EnvSpec) -> Result<Option<Value>, ProviderError> {
        let Some(m) = &env.manifest else {
            return Ok(None);
        };
        let mut m = m.clone();
        let ns = self.ns();
        if let Some(theirs) = m["metadata"]["namespace"].as_str() {
            if theirs != ns {
                return Err(ProviderError::State(format!(
                    "the manifest of `{}` is for namespace `{theirs}`, but the plan uses `{ns}`",
                    env.side.env
                )));
            }
        }
        if let Some(meta) = m["metadata"].as_object_mut() {
            meta.remove("namespace");
        }
        m["metadata"]["annotations"][format!("{ANNOTATION_PREFIX}owner")] = json!(self.rollout);
        Ok(Some(m))
    }

    /// The fields of a manifest that bgctl converges (only those the manifest sets: a merge
    /// patch with `null` would delete them).
    pub(super) fn managed_fields(m: &Value) -> Value {
        let mut meta = Map::new();
        for key in ["labels", "annotations"] {
            if let Some(v) = m["metadata"].get(key).filter(|v| !v.is_null()) {
                meta.insert(key.into(), v.clone());
            }
        }
        let mut out = json!({ "metadata": meta });
        if let Some(spec) = m.get("spec").filter(|v| !v.is_null()) {
            out["spec"] = spec.clone();
        }
        out
    }

    pub(super) fn deployment_change(&self, env: &EnvSpec, live: Option<&Value>) -> Option<Change> {
        let want = self.desired_deployment(env).ok()??;
        let ns = self.ns();
        match live {
            None => Some(Change {
                action: "create",
                entity: "deployment",
                name: env.deployment.clone(),
                detail: format!("from the manifest of `{}`", env.side.env),
                call: Call {
                    method: "POST".into(),
                    path: DEPLOYMENT.path(&ns, None),
                    body: Some(want),
                    idempotent: true,
                },
                wave: None,
            }),
            Some(live) => {
                let fields = Kubernetes::managed_fields(&want);
                if rollout::contains(live, &fields) {
                    return None;
                }
                let mut patch = fields;
                patch["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
                Some(Change {
                    action: "update",
                    entity: "deployment",
                    name: env.deployment.clone(),
                    detail: format!("converge to the manifest of `{}`", env.side.env),
                    call: Call {
                        method: "PATCH".into(),
                        path: DEPLOYMENT.path(&ns, Some(&env.deployment)),
                        body: Some(patch),
                        idempotent: true,
                    },
                    wave: None,
                })
            }
        }
    }

    /// Creates or converges one environment's Deployment with the shared ambiguous-write
    /// policy ([`write::converge`]): every round reads the Deployment and computes the change
    /// from it; a 409 (changed since read, or created meanwhile) or a write without an answer
    /// only starts the next round — the create is refused if the Deployment exists and the
    /// patch is conditional, so a repeat never applies twice.
    pub(super) async fn converge_deployment(&self, env: &EnvSpec) -> Result<(), ProviderError> {
        write::converge(
            || async {
                let live = self.client.get(&DEPLOYMENT, &env.deployment).await?;
                Ok(match self.deployment_change(env, live.as_ref()) {
                    None => write::Step::Finish(None),
                    Some(change) => write::Step::Write(Some((
                        live.is_none(),
                        change.call.body.unwrap_or(Value::Null),
                    ))),
                })
            },
            |pending| async move {
                let Some((create, body)) = pending else {
                    return Ok(write::Written::Done);
                };
                let result = if create {
                    self.client.create(&DEPLOYMENT, &body).await
                } else {
                    self.client
                        .merge_patch(&DEPLOYMENT, &env.deployment, &body)
                        .await
                };
                match result {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if e.is_conflict() || e.is_already_exists() => {
                        tracing::info!(
                            "deployment `{}` changed since it was read; re-reading",
                            env.deployment
                        );
                        Ok(write::Written::Conflict)
                    }
                    Err(e) if e.outcome_unknown() => {
                        tracing::info!(
                            "writing deployment `{}` failed ({e}); reading it back",
                            env.deployment
                        );
                        Ok(write::Written::Unknown(e.into()))
                    }
                    Err(e) => Err(e.into()),
                }
            },
            "the Deployment kept changing (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }

    /// Scales a Deployment to zero with a conditional merge patch and the shared
    /// ambiguous-write policy: after a 409 or a lost answer it is read again (gone or already
    /// at zero replicas: done).
    pub(super) async fn scale_to_zero(&self, name: &str) -> Result<(), ProviderError> {
        write::converge(
            || async {
                Ok(match self.client.get(&DEPLOYMENT, name).await? {
                    None => write::Step::Finish(Value::Null),
                    Some(d) if d["spec"]["replicas"].as_u64() == Some(0) => {
                        write::Step::Finish(Value::Null)
                    }
                    Some(d) => write::Step::Write(json!({
                        "metadata": {"resourceVersion": d["metadata"]["resourceVersion"]},
                        "spec": {"replicas": 0},
                    })),
                })
            },
            |patch| async move {
                match self.client.merge_patch(&DEPLOYMENT, name, &patch).await {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if e.is_conflict() => Ok(write::Written::Conflict),
                    Err(e) if e.outcome_unknown() => Ok(write::Written::Unknown(e.into())),
                    Err(e) => Err(e.into()),
                }
            },
            "the Deployment kept changing (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }

    pub(super) async fn prepare_env(
        &self,
        env: &str,
        deadline: Instant,
    ) -> Result<(), ProviderError> {
        let Some(e) = self.env(env) else {
            return Err(ProviderError::State(format!("unknown environment `{env}`")));
        };
        if e.manifest.is_some() {
            self.converge_deployment(e).await?;
        }
        // Stop waiting a little before the run's deadline, so releasing the Lease still fits.
        let until = deadline
            .checked_sub(DEADLINE_RESERVE)
            .filter(|u| *u > Instant::now())
            .unwrap_or(deadline);
        let mut last = String::from("not read yet");
        loop {
            if Instant::now() >= until {
                return Err(ProviderError::NotReady(format!(
                    "not rolled out before the run's deadline: {last}"
                )));
            }
            let d = match self.client.get(&DEPLOYMENT, &e.deployment).await {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return Err(ProviderError::NotReady(format!(
                        "Deployment `{}` does not exist in namespace `{}`",
                        e.deployment,
                        self.ns()
                    )))
                }
                Err(client::KubeError::Deadline { .. }) => continue,
                Err(err) => return Err(err.into()),
            };
            match rollout::readiness(&d) {
                Readiness::Ready => return Ok(()),
                Readiness::Failed(why) => return Err(ProviderError::NotReady(why)),
                Readiness::Progressing(why) => {
                    tracing::debug!("{why}");
                    last = why;
                    tokio::time::sleep_until((Instant::now() + POLL).min(until)).await;
                }
            }
        }
    }

    pub(super) async fn retire_old(
        &self,
        old: &str,
        live: &str,
        deadline: Instant,
    ) -> Result<Vec<String>, ProviderError> {
        if self.old == OldDeployment::Keep {
            return Ok(Vec::new());
        }
        let Some(e) = self.env(old) else {
            return Ok(Vec::new());
        };
        // Already retired (a run that resumed after the promotion): nothing to wait for.
        if self.client.get(&DEPLOYMENT, &e.deployment).await?.is_none() {
            return Ok(Vec::new());
        }
        // The delay counts from the promotion as recorded, so a run that finishes the
        // retirement of a killed one waits only for what is left of it.
        let recorded = parse_record(self.client.get(&self.kind, &self.object).await?.as_ref());
        let wait = remaining_delay(self.scale_down_delay, recorded.at.as_deref());
        if !wait.is_zero() {
            if Instant::now() + wait > deadline {
                return Err(ProviderError::State(format!(
                    "the run's deadline comes before `scaleDownDelay` ends; `{}` was kept",
                    DEPLOYMENT.display(&e.deployment)
                )));
            }
            tokio::time::sleep(wait).await;
        }
        // Only retire the old side if nothing moved traffic back to it meanwhile.
        let obj = self.client.get(&self.kind, &self.object).await?;
        let record = parse_record(obj.as_ref());
        let now = self.traffic_of(obj.as_ref(), &record);
        if now
            != (Traffic::Env {
                env: live.to_string(),
            })
        {
            return Err(ProviderError::State(format!(
                "traffic no longer goes only to `{live}` ({now}); `{}` was kept",
                DEPLOYMENT.display(&e.deployment)
            )));
        }
        match self.old {
            OldDeployment::Delete => {
                if let Err(err) = self.client.delete(&DEPLOYMENT, &e.deployment, None).await {
                    // A DELETE whose answer was lost may have landed: read back; gone is retired.
                    let gone = err.outcome_unknown()
                        && matches!(self.client.get(&DEPLOYMENT, &e.deployment).await, Ok(None));
                    if !gone {
                        return Err(err.into());
                    }
                }
                Ok(vec![format!(
                    "{} (the old side `{old}`)",
                    DEPLOYMENT.display(&e.deployment)
                )])
            }
            OldDeployment::ScaleToZero => {
                self.scale_to_zero(&e.deployment).await?;
                Ok(vec![format!(
                    "the replicas of {} (scaled to 0; the old side `{old}`)",
                    DEPLOYMENT.display(&e.deployment)
                )])
            }
            OldDeployment::Keep => Ok(Vec::new()),
        }
    }

    pub(super) fn pending_retire_of(&self, snap: &Snapshot) -> Option<PendingRetire> {
        let Traffic::Env { env: live } = &snap.traffic else {
            return None;
        };
        let r = &snap.record;
        // Only a promotion retires (a rollback or abort keeps the side it left, for diagnosis).
        let promoted = r.phase == Phase::Completed
            && matches!(r.action.as_deref(), Some("apply" | "switch" | "promote"));
        let old = r.previous.as_deref().filter(|o| promoted && o != live)?;
        let e = self.env(old)?;
        let d = snap
            .live
            .get::<Live>()?
            .deployments
            .get(&e.deployment)
            .cloned()
            .flatten()?;
        let path = DEPLOYMENT.path(&self.ns(), Some(&e.deployment));
        let (action, detail, call) = match self.old {
            OldDeployment::Keep => return None,
            OldDeployment::Delete => (
                "delete",
                "oldDeployment: delete",
                Call {
                    method: "DELETE".into(),
                    path,
                    body: None,
                    idempotent: true,
                },
            ),
            OldDeployment::ScaleToZero => {
                if d["spec"]["replicas"].as_u64() == Some(0) {
                    return None;
                }
                (
                    "update",
                    "oldDeployment: scaleToZero",
                    Call {
                        method: "PATCH".into(),
                        path,
                        body: Some(json!({"spec": {"replicas": 0}})),
                        idempotent: true,
                    },
                )
            }
        };
        Some(PendingRetire {
            old: old.to_string(),
            live: live.clone(),
            change: Change {
                action,
                entity: "deployment",
                name: e.deployment.clone(),
                detail: format!(
                    "retire the old side `{old}` ({detail}); the promotion to `{live}` did not finish it"
                ),
                call,
                wave: None,
            },
        })
    }
}

/// What is left of `delay` since the promotion recorded at `at` (RFC 3339, whole seconds; one
/// second is added back so the truncation never shortens the delay). The whole delay when `at`
/// is missing or unreadable.
fn remaining_delay(delay: Duration, at: Option<&str>) -> Duration {
    let Some(at) = at.and_then(|a| humantime::parse_rfc3339(a).ok()) else {
        return delay;
    };
    let elapsed = std::time::SystemTime::now()
        .duration_since(at)
        .unwrap_or_default();
    delay.saturating_sub(elapsed.saturating_sub(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_down_delay_counts_from_the_recorded_promotion() {
        let delay = Duration::from_secs(30);
        let at = |ago: u64| {
            humantime::format_rfc3339_seconds(
                std::time::SystemTime::now() - Duration::from_secs(ago),
            )
            .to_string()
        };
        assert_eq!(remaining_delay(delay, None), delay);
        assert_eq!(remaining_delay(delay, Some("yesterday")), delay);
        // Just recorded: the whole delay (the record's whole seconds never shorten it).
        assert!(remaining_delay(delay, Some(&at(0))) >= Duration::from_secs(29));
        let left = remaining_delay(delay, Some(&at(20)));
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(11),
            "{left:?}"
        );
        assert_eq!(remaining_delay(delay, Some(&at(600))), Duration::ZERO);
    }
}
