//! Canary route steps (issue 16): `setHeaderRoute` and `setMirrorRoute`.
//!
//! A route step makes the provider's bgctl-owned routes exactly those the plan has active after
//! the step ([`crate::providers::routes::active_routes`]), reads them back (the provider must
//! have nothing left to write, [`Provider::route_calls`]), then records the next step with the
//! active route names. Decisions:
//!
//! * A route step counts as moving traffic: chosen requests reach the canary from then on, so
//!   a failure after it (or in it) rolls back like one after a `setWeight` — all traffic to
//!   stable and every owned route removed (the provider's `cleanup`).
//! * Removal needs no step of its own at the end: the final promotion, `abort`, `rollback` and
//!   the automatic rollback remove every owned route (they all end in `cleanup`, and a backend
//!   with routes removes them there once traffic no longer splits).
//! * A route step with nothing live yet (the canary's first step, on a fresh target) first
//!   sends all traffic to stable: the requests the route does not choose need somewhere to go,
//!   and the record lives with the traffic object on some backends (Kong's service).
//! * The route write and the record are two writes (routes are separate objects on every
//!   backend). A run killed in between resumes at the same step and makes the same, idempotent
//!   route write again; a run killed after a route was removed but before the record shows it
//!   does the same.

use std::sync::atomic::Ordering;

use super::events::Event;
use super::step::Step;
use super::{Engine, EngineError};
use crate::plan::model::Canary;
use crate::providers::routes::{active_routes, ActiveRoute};
use crate::providers::{Change, Phase, Provider, ProviderError, Snapshot, Traffic};

impl<P: Provider> Engine<'_, P> {
    /// The step for the canary's route step `index`, its writes planned from `snap`.
    pub(crate) fn route_step(&self, c: &Canary, snap: &Snapshot, index: usize) -> Step {
        let routes = active_routes(c, index + 1);
        let s = &c.steps[index];
        let (kind, name) = match (&s.set_header_route, &s.set_mirror_route) {
            (Some(h), _) => ("header", h.name.as_str()),
            (None, Some(m)) => ("mirror", m.name.as_str()),
            (None, None) => ("", ""),
        };
        let change = match routes
            .iter()
            .find(|r| r.name == name && r.kind.as_str() == kind)
        {
            Some(r) => format!("set the {}", r.describe()),
            None => format!("remove {kind} route `{name}`"),
        };
        Step::Route {
            step: index,
            change,
            writes: self.provider.route_calls(snap, &routes),
            routes,
        }
    }

    /// Runs a route step: converge, read back, record the next step.
    pub(crate) async fn route(
        &self,
        c: &Canary,
        index: usize,
        routes: &[ActiveRoute],
        action: &str,
    ) -> Result<(), EngineError> {
        // Fenced like every traffic write: a run that lost its lock does not write.
        self.fence().await?;
        let mut snap = self.provider.snapshot().await?;
        if snap.traffic == Traffic::Missing {
            // Nothing serves yet (a canary whose first step is a route step): everyone the
            // route does not choose must reach stable, so the traffic object is created for
            // stable first. The record names this step, so a crash here resumes at it.
            let to = Traffic::Env {
                env: c.stable.clone(),
            };
            let weight = snap.record.weight;
            let record = self.canary_record(c, action, Phase::Progressing, index, weight, None);
            self.move_traffic(&snap, &to, &record).await?;
            snap = self.provider.snapshot().await?;
        }
        let calls = self.provider.route_calls(&snap, routes);
        if !calls.is_empty() {
            // From the first route write on, chosen requests may reach the canary.
            self.moved.store(true, Ordering::SeqCst);
            for call in &calls {
                self.emit(Event::Write {
                    change: Change {
                        action: match call.method.as_str() {
                            "DELETE" => "delete",
                            _ => "update",
                        },
                        entity: "route",
                        name: call.path.clone(),
                        detail: String::new(),
                        call: call.clone(),
                        wave: None,
                    },
                });
            }
            self.provider.set_routes(&snap, routes).await?;
            // Trust the target, not the 200: nothing may be left to write.
            let now = self.provider.snapshot().await?;
            if let Some(left) = self.provider.route_calls(&now, routes).first() {
                return Err(ProviderError::NotApplied(format!(
                    "the target answered the route writes of step {}, but reading them back still needs `{left}`",
                    index + 1
                ))
                .into());
            }
            // Where writes reach the data plane later (Kong hybrid mode), the step is done
            // only once every data plane reports them.
            self.settle().await.map_err(ProviderError::NotApplied)?;
        }
        let weight = snap.record.weight;
        let record = self.canary_record(c, action, Phase::Progressing, index + 1, weight, None);
        self.write_record(&record).await
    }
}
