//! The resource table: every kind kube-sim serves, with the per-kind rules the real API server
//! applies (scope, status subresource, generation, create-on-update, unconditional updates, what
//! DELETE answers). Everything else in the crate looks kinds up here, so adding a kind is one row.

/// One served resource (a group, its versions and one kind).
#[derive(Debug)]
pub(crate) struct Resource {
    /// API group; `""` is the core group (`/api/v1`).
    pub group: &'static str,
    /// Served versions; the first is the preferred and storage version.
    pub versions: &'static [&'static str],
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    /// Compiled into the API server (strategic merge patch allowed); false for CRDs.
    pub builtin: bool,
    /// Has a `/status` subresource: main-resource writes ignore `.status`.
    pub has_status: bool,
    /// Keeps `metadata.generation`.
    pub generation: bool,
    /// PUT to a missing object creates it (`AllowCreateOnUpdate`).
    pub create_on_update: bool,
    /// PUT without `metadata.resourceVersion` is allowed (`AllowUnconditionalUpdate`).
    pub unconditional_update: bool,
    /// DELETE answers with the object instead of a `Status` (`ReturnDeletedObject`).
    pub returns_deleted_object: bool,
    /// Has a `/scale` subresource.
    pub has_scale: bool,
}

impl Resource {
    /// `deployments.apps`, `services` — the group-qualified resource used in error messages.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, `Service` — the group-qualified kind used in 422 messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `apps/v1`, `v1`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    pub fn storage_version(&self) -> &'static str {
        self.versions[0]
    }

    pub fn serves(&self, version: &str) -> bool {
        self.versions.contains(&version)
    }
}

const fn builtin(
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
) -> Resource {
    Resource {
        group,
        versions,
        kind,
        plural,
        singular,
        short_names: &[],
        namespaced: true,
        builtin: true,
        has_status: true,
        generation: true,
        create_on_update: false,
        unconditional_update: true,
        returns_deleted_object: false,
        has_scale: false,
    }
}

/// A CRD-backed kind with a status subresource (all the traffic CRDs have one).
const fn custom(
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
) -> Resource {
    Resource {
        builtin: false,
        unconditional_update: false,
        ..builtin(group, versions, kind, plural, singular)
    }
}

/// Every served resource.
pub(crate) static RESOURCES: &[Resource] = &[
    Resource {
        namespaced: false,
        generation: false,
        short_names: &["ns"],
        ..builtin("", &["v1"], "Namespace", "namespaces", "namespace")
    },
    Resource {
        generation: false,
        create_on_update: true,
        returns_deleted_object: true,
        short_names: &["svc"],
        ..builtin("", &["v1"], "Service", "services", "service")
    },
    Resource {
        short_names: &["deploy"],
        has_scale: true,
        ..builtin("apps", &["v1"], "Deployment", "deployments", "deployment")
    },
    Resource {
        has_status: false,
        generation: false,
        create_on_update: true,
        unconditional_update: false,
        ..builtin("coordination.k8s.io", &["v1"], "Lease", "leases", "lease")
    },
    Resource {
        short_names: &["ing"],
        ..builtin(
            "networking.k8s.io",
            &["v1"],
            "Ingress",
            "ingresses",
            "ingress",
        )
    },
    custom(
        "gateway.networking.k8s.io",
        &["v1", "v1beta1"],
        "HTTPRoute",
        "httproutes",
        "httproute",
    ),
    Resource {
        short_names: &["proxy", "proxies"],
        ..custom(
            "projectcontour.io",
            &["v1"],
            "HTTPProxy",
            "httpproxies",
            "httpproxy",
        )
    },
    Resource {
        short_names: &["vs"],
        ..custom(
            "networking.istio.io",
            &["v1", "v1beta1", "v1alpha3"],
            "VirtualService",
            "virtualservices",
            "virtualservice",
        )
    },
    Resource {
        short_names: &["dr"],
        ..custom(
            "networking.istio.io",
            &["v1", "v1beta1", "v1alpha3"],
            "DestinationRule",
            "destinationrules",
            "destinationrule",
        )
    },
];

/// The resource served at `group`/`version` under `plural`.
pub(crate) fn by_plural(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && r.serves(version))
}

/// The resource for an `apiVersion` and `kind` pair.
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<(&'static Resource, String)> {
    let (group, version) = split_api_version(api_version);
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind && r.serves(version))
        .map(|r| (r, version.to_string()))
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The groups served, in discovery order, each with its versions (preferred first).
pub(crate) fn groups() -> Vec<(&'static str, &'static [&'static str])> {
    let mut out: Vec<(&'static str, &'static [&'static str])> = Vec::new();
    for r in RESOURCES {
        if r.group.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some(entry) if entry.1.len() < r.versions.len() => entry.1 = r.versions,
            Some(_) => {}
            None => out.push((r.group, r.versions)),
        }
    }
    out
}
