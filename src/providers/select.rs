//! Choosing and building the provider for a plan, in one place.
//!
//! Which backend a plan uses is decided once, by [`crate::plan::model::ProviderSpec::backend`]
//! (the plan layer knows nothing of providers); what the backend can do is its
//! [`crate::plan::model::Capabilities`], which validation already enforced. This module maps
//! that [`Backend`] to the provider that drives it: it builds the client and the provider, and
//! words what can go wrong while doing so next to the backend it concerns. The CLI calls
//! [`build`] and renders the result; it never matches on backends itself.

use crate::deadline::Deadline;
use crate::plan::model::{Backend, NoBackend, Plan};

use super::haproxy::Haproxy;
use super::kong::client::{KongClient, KongError};
use super::kong::Kong;
use super::kubernetes::{self, client::KubeClient, Kubernetes};
use super::traefik::Traefik;
use super::AnyProvider;

/// Why a provider could not be built from a validated plan.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The plan's settings cannot be used (a manifest that does not match, a runtime API
    /// address, a state file that cannot be placed): a usage error, nothing was contacted.
    #[error("{headline}")]
    Plan {
        /// What failed.
        headline: String,
        /// What to change.
        hint: String,
    },
    /// The Kong Admin API client could not be set up (TLS files, header values).
    #[error("cannot set up the Kong client")]
    KongClient(#[source] KongError),
}

/// Settings of the plan's backend that weaken a safety property, to be said on every run
/// before the provider is built (e.g. TLS verification turned off).
pub fn warnings(plan: &Plan) -> Vec<&'static str> {
    match plan.provider.backend() {
        Ok(Backend::Kong(spec)) if spec.tls.as_ref().is_some_and(|t| t.insecure_skip_verify) => {
            vec!["`provider.kong.tls.insecureSkipVerify` is set: the Admin API's certificate is not verified"]
        }
        _ => Vec::new(),
    }
}

/// Builds the provider the plan's `provider:` block names.
pub fn build(plan: &Plan, deadline: &Deadline) -> Result<AnyProvider, SetupError> {
    let plan_error = |headline: String, hint: &str| SetupError::Plan {
        headline,
        hint: hint.into(),
    };
    Ok(match plan.provider.backend() {
        Err(NoBackend::None | NoBackend::Many) => return Err(plan_error(
            "the plan has no provider".into(),
            "add `provider.kong`, `provider.haproxy`, `provider.traefik` or `provider.kubernetes`",
        )),
        Ok(Backend::Kubernetes(_)) => {
            let client = KubeClient::new(kubernetes::conn_spec(plan), Some(deadline.clone()));
            Kubernetes::new(plan, client)
                .map(AnyProvider::Kubernetes)
                .map_err(|e| {
                    plan_error(
                        format!("cannot use the plan's Kubernetes environments: {e}"),
                        "fix the manifest (or the environment's `deployment`/`selector`) and run again",
                    )
                })?
        }
        Ok(Backend::Haproxy(_)) => Haproxy::new(plan).map(AnyProvider::Haproxy).map_err(|e| {
            plan_error(
                format!("cannot set up the HAProxy provider: {e}"),
                "check `provider.haproxy`",
            )
        })?,
        Ok(Backend::Traefik(_)) => Traefik::new(plan).map(AnyProvider::Traefik).map_err(|e| {
            plan_error(
                format!("cannot set up the Traefik provider: {e}"),
                "check `provider.traefik`",
            )
        })?,
        Ok(Backend::Kong(spec)) => {
            let client =
                KongClient::new(spec, Some(deadline.clone())).map_err(SetupError::KongClient)?;
            AnyProvider::Kong(Kong::new(plan, client))
        }
    })
}
