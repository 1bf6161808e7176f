//! Which backend a plan uses, decided in one place: [`ProviderSpec::backend`] reads which key of
//! `provider:` is set, and everything else — validation's per-backend rules, the data-plane URL
//! and lock lifetime, and the CLI's choice of provider (`providers::select`) — matches on the
//! [`Backend`] it returns instead of asking each `provider.*` key again.
//!
//! What a backend can do is data, [`Capabilities`], derived here from its settings (a
//! Kubernetes Service selector cannot split traffic; only gateways with a `proxyUrl` have a data
//! plane to verify through). Validation refuses a plan that needs a missing capability, with
//! the reason the capability carries. The weights' granularity is the backend's
//! `providers::weights::Scale`, chosen in that backend's module next to its wire format.

use super::{
    Dur, HaproxyProvider, KongProvider, KubernetesProvider, ProviderSpec, TraefikProvider,
};

/// The one backend a plan's `provider:` block configures.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// `provider.kong`.
    Kong(&'a KongProvider),
    /// `provider.haproxy`.
    Haproxy(&'a HaproxyProvider),
    /// `provider.traefik`.
    Traefik(&'a TraefikProvider),
    /// `provider.kubernetes`.
    Kubernetes(&'a KubernetesProvider),
}

/// Why a `provider:` block names no single backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBackend {
    /// No key is set.
    None,
    /// More than one key is set.
    Many,
}

/// What a backend can do, for validation and for the scenarios a plan may ask of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether it can send part of the traffic to each side (a canary); when it cannot, the
    /// key path, reason and hint validation reports for a canary plan.
    pub split: Result<(), Refusal>,
    /// Whether it has a data plane bgctl could send requests through (`proxyUrl`) to verify
    /// that traffic moved. Kubernetes has none: readiness comes from its Deployments.
    pub data_plane: Result<(), Refusal>,
    /// Whether a canary step can send requests whose headers match to the canary
    /// (`setHeaderRoute`); when it cannot, why ([`route_refusals`]).
    pub header_routes: Result<(), Refusal>,
    /// Whether a canary step can copy matching requests to the canary (`setMirrorRoute`).
    pub mirror: Result<(), Refusal>,
}

/// A capability a backend lacks, as validation reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The key path of the setting that rules it out.
    pub at: &'static str,
    /// Why the backend cannot.
    pub reason: &'static str,
    /// What to use instead.
    pub hint: &'static str,
}

impl ProviderSpec {
    /// The backend this block configures, when exactly one key is set.
    pub fn backend(&self) -> Result<Backend<'_>, NoBackend> {
        let mut set = [
            self.kong.as_ref().map(Backend::Kong),
            self.haproxy.as_ref().map(Backend::Haproxy),
            self.traefik.as_ref().map(Backend::Traefik),
            self.kubernetes.as_ref().map(Backend::Kubernetes),
        ]
        .into_iter()
        .flatten();
        match (set.next(), set.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => Err(NoBackend::None),
            (Some(_), Some(_)) => Err(NoBackend::Many),
        }
    }
}

impl<'a> Backend<'a> {
    /// The key under `provider:` (`kong`, `haproxy`, `traefik`, `kubernetes`).
    pub fn key(self) -> &'static str {
        match self {
            Backend::Kong(_) => "kong",
            Backend::Haproxy(_) => "haproxy",
            Backend::Traefik(_) => "traefik",
            Backend::Kubernetes(_) => "kubernetes",
        }
    }

    /// What this backend can do with these settings.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Backend::Kong(_) | Backend::Haproxy(_) | Backend::Traefik(_) => {
                let (header_routes, mirror) = route_refusals(self);
                Capabilities {
                    split: Ok(()),
                    data_plane: Ok(()),
                    header_routes,
                    mirror,
                }
            }
            Backend::Kubernetes(k) => Capabilities {
                split: if k.service.is_some() {
                    Err(Refusal {
                        at: "provider.kubernetes.service",
                        reason: "a Service selector cannot split traffic, so it cannot run a canary",
                        hint: "use `gatewayApi`, `contour` or `istio` for weights, or `strategy.blueGreen`",
                    })
                } else {
                    Ok(())
                },
                data_plane: Err(Refusal {
                    at: "provider.kubernetes",
                    reason: "data-plane verification needs a proxy URL, which the Kubernetes provider does not have",
                    hint: "remove `verify`; bgctl waits for Deployment readiness instead",
                }),
                header_routes: route_refusals(self).0,
                mirror: route_refusals(self).1,
            },
        }
    }

    /// The data-plane URL (`proxyUrl`), when the backend has one and the plan sets it.
    pub fn proxy_url(self) -> Option<&'a str> {
        match self {
            Backend::Kong(k) => k.proxy_url.as_deref(),
            Backend::Haproxy(h) => h.proxy_url.as_deref(),
            Backend::Traefik(t) => t.proxy_url.as_deref(),
            Backend::Kubernetes(_) => None,
        }
    }

    /// The lock lifetime the plan sets, if any.
    pub fn lock_ttl(self) -> Option<Dur> {
        match self {
            Backend::Kong(k) => k.lock_ttl,
            Backend::Haproxy(h) => h.lock_ttl,
            Backend::Traefik(t) => t.lock_ttl,
            Backend::Kubernetes(k) => k.lock_ttl,
        }
    }
}

/// Which of `setHeaderRoute` / `setMirrorRoute` a backend can express, and why not (issue 16).
///
/// Decisions: Kong routes by header with OSS primitives (a bgctl-owned route with `headers`);
/// mirroring needs a plugin open-source Kong does not ship. HAProxy's runtime API cannot add
/// the ACL and `use_backend` rule a header route needs (they live in the configuration file).
/// Traefik does both (a higher-priority router with `Header(…)`, a `mirroring` service). The
/// Kubernetes routers express both (`providers::kubernetes::routes`), except a Service selector.
pub fn route_refusals(backend: Backend<'_>) -> (Result<(), Refusal>, Result<(), Refusal>) {
    match backend {
        Backend::Kong(_) => (
            // Every mode: entity writes with a database, the same writes carried into each
            // node's declarative configuration on DB-less nodes (`providers/kong/routes.rs`).
            Ok(()),
            Err(Refusal {
                at: "provider.kong",
                reason: "open-source Kong cannot mirror traffic (request mirroring needs a plugin OSS Kong does not ship)",
                hint: "remove the `setMirrorRoute` steps, or use `setHeaderRoute` to send chosen requests to the canary",
            }),
        ),
        Backend::Haproxy(_) => {
            let why = Refusal {
                at: "provider.haproxy",
                reason: "HAProxy's runtime API cannot add the ACL and `use_backend` rule a header route or a mirror needs (they live in its configuration file)",
                hint: "use `setWeight` steps on HAProxy",
            };
            (Err(why), Err(why))
        }
        Backend::Kubernetes(k) if k.service.is_some() => {
            let why = Refusal {
                at: "provider.kubernetes.service",
                reason: "a Service selector cannot route by header or mirror traffic",
                hint: "use `gatewayApi`, `contour` or `istio`",
            };
            (Err(why), Err(why))
        }
        // Traefik: a router with the managed rule `&& Header(…)` and a higher priority, and a
        // `mirroring` service (`src/providers/traefik/routes.rs`). Gateway API, Istio and
        // Contour (`services` weights) express both. What one cannot express in detail (method
        // patterns and fractional percents on Traefik, a method on Contour, a Contour root's
        // `includes`) is refused by validation (`plan::validate::routes`).
        Backend::Traefik(_) | Backend::Kubernetes(_) => (Ok(()), Ok(())),
    }
}
