//! The `provider:` block: exactly one provider, and each provider's own settings (admin and
//! proxy URLs, Kubernetes object names and traffic object, HAProxy runtime API address and
//! backend, Traefik service and router).

use std::collections::HashSet;

use super::{haproxy_name, k8s_name, traefik_name, url};
use crate::plan::model::{Backend, NoBackend, Plan};
use crate::plan::{names, Problem};

pub(super) fn provider(plan: &Plan, v: &mut Vec<Problem>) {
    let kong = match plan.provider.backend() {
        Err(NoBackend::None) => {
            v.push(Problem::new("provider", "no provider is configured").hint(
                "add `provider: {kong: {adminUrl: http://127.0.0.1:8001}}` (or `haproxy`, `traefik`, `kubernetes`)",
            ));
            return;
        }
        Err(NoBackend::Many) => {
            v.push(
                Problem::new("provider", "more than one provider is configured").hint(
                    "a plan moves traffic on one system: keep one of `kong`, `haproxy`, `traefik`, `kubernetes`",
                ),
            );
            return;
        }
        Ok(Backend::Haproxy(h)) => return haproxy_provider(plan, h, v),
        Ok(Backend::Traefik(t)) => return traefik_provider(plan, t, v),
        Ok(Backend::Kubernetes(k)) => return kubernetes_provider(plan, k, v),
        Ok(Backend::Kong(kong)) => kong,
    };
    url("provider.kong.adminUrl", &kong.admin_url, v);
    if let Some(proxy) = &kong.proxy_url {
        url("provider.kong.proxyUrl", proxy, v);
    }
    for (i, proxy) in kong.proxy_urls.iter().enumerate() {
        let at = format!("provider.kong.proxyUrls[{i}]");
        url(&at, proxy, v);
        let same = |other: &String| other.trim_end_matches('/') == proxy.trim_end_matches('/');
        if kong.proxy_url.iter().chain(&kong.proxy_urls[..i]).any(same) {
            v.push(
                Problem::new(&at, format!("`{proxy}` is listed twice"))
                    .hint("list each Kong node's proxy once (`proxyUrl` counts as one of them)"),
            );
        }
    }
    for name in kong.headers.keys() {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            v.push(Problem::new(
                &format!("provider.kong.headers.{name}"),
                format!("`{name}` is not a valid HTTP header name"),
            ));
        }
    }
    if let Some(tls) = &kong.tls {
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            v.push(
                Problem::new("provider.kong.tls", "`certFile` and `keyFile` go together")
                    .hint("set both for client certificates, or neither"),
            );
        }
    }
    match &plan.service {
        None => v.push(
            Problem::new("service", "the Kong provider needs a `service`")
                .hint("add `service: {name: my-service, routes: [...]}`"),
        ),
        Some(svc) => {
            if svc.name.is_empty()
                || !svc
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._~-".contains(c))
            {
                v.push(
                    Problem::new(
                        "service.name",
                        format!("`{}` is not a valid Kong service name", svc.name),
                    )
                    .hint("Kong allows letters, digits, `.`, `_`, `~` and `-`"),
                );
            }
            if let Some(path) = &svc.path {
                if !path.starts_with('/') || path.contains("//") {
                    v.push(Problem::new(
                        "service.path",
                        format!("`{path}` must start with `/` and contain no `//`"),
                    ));
                }
            }
            if let Some(proto) = &svc.protocol {
                if proto != "http" && proto != "https" {
                    v.push(
                        Problem::new(
                            "service.protocol",
                            format!("unsupported protocol `{proto}`"),
                        )
                        .hint("use `http` or `https`"),
                    );
                }
            }
            let mut names = HashSet::new();
            for (i, r) in svc.routes.iter().enumerate() {
                let at = format!("service.routes[{i}]");
                if r.name.is_empty() && r.id.is_none() {
                    v.push(
                        Problem::new(&format!("{at}.name"), "a route needs a `name` or an `id`")
                            .hint("name it (`name: my-route`), or adopt an unnamed Kong route by its `id`"),
                    );
                } else if !names.insert(r.key()) {
                    v.push(Problem::new(
                        &format!("{at}.name"),
                        format!("route `{}` is listed twice", r.label()),
                    ));
                }
                if let Some(id) = &r.id {
                    if uuid::Uuid::parse_str(id).is_err() {
                        v.push(
                            Problem::new(&format!("{at}.id"), format!("`{id}` is not a Kong id"))
                                .hint(
                                "Kong ids are UUIDs, e.g. `4e13f54a-bbf1-47a8-8777-255fed7116f2`",
                            ),
                        );
                    }
                }
                if r.hosts.is_empty() && r.paths.is_empty() && r.methods.is_empty() {
                    v.push(
                        Problem::new(
                            &at,
                            "a route needs at least one of `hosts`, `paths` or `methods`",
                        )
                        .hint("Kong rejects http routes that match nothing"),
                    );
                }
                for (j, p) in r.paths.iter().enumerate() {
                    if !p.starts_with('/') && !p.starts_with('~') {
                        v.push(Problem::new(
                            &format!("{at}.paths[{j}]"),
                            format!("`{p}` must start with `/` (or `~` for a regex)"),
                        ));
                    }
                }
                for (j, h) in r.hosts.iter().enumerate() {
                    if h.matches('*').count() > 1
                        || (h.contains('*') && !h.starts_with("*.") && !h.ends_with(".*"))
                    {
                        v.push(Problem::new(
                            &format!("{at}.hosts[{j}]"),
                            format!(
                                "`{h}`: a wildcard may only be the leftmost or rightmost label"
                            ),
                        ));
                    }
                }
            }
        }
    }
}

fn kubernetes_provider(
    plan: &Plan,
    k8s: &crate::plan::model::KubernetesProvider,
    v: &mut Vec<Problem>,
) {
    let at = "provider.kubernetes";
    let objects = [
        k8s.service.is_some(),
        k8s.gateway_api.is_some(),
        k8s.contour.is_some(),
        k8s.istio.is_some(),
    ];
    if objects.iter().filter(|o| **o).count() != 1 {
        v.push(
            Problem::new(
                at,
                "set exactly one traffic object: `service`, `gatewayApi`, `contour` or `istio`",
            )
            .hint("e.g. `service: {name: myapp}` for a selector flip"),
        );
    }
    if let Some(ns) = &k8s.namespace {
        k8s_name(&format!("{at}.namespace"), ns, v);
    }
    if let Some(s) = &k8s.service {
        k8s_name(&format!("{at}.service.name"), &s.name, v);
    }
    if let Some(g) = &k8s.gateway_api {
        k8s_name(&format!("{at}.gatewayApi.httpRoute"), &g.http_route, v);
    }
    if let Some(c) = &k8s.contour {
        k8s_name(&format!("{at}.contour.httpProxy"), &c.http_proxy, v);
    }
    if let Some(i) = &k8s.istio {
        k8s_name(&format!("{at}.istio.virtualService"), &i.virtual_service, v);
        if let Some(dr) = &i.destination_rule {
            k8s_name(&format!("{at}.istio.destinationRule"), dr, v);
        }
    }
    if k8s.lock_ttl.is_some_and(|d| d.0.as_secs() == 0) {
        v.push(Problem::new(
            &format!("{at}.lockTtl"),
            "must be at least 1s",
        ));
    }
    if k8s.request_timeout.is_some_and(|d| d.0.is_zero()) {
        v.push(Problem::new(
            &format!("{at}.requestTimeout"),
            "must be more than 0s",
        ));
    }
    if plan.service.is_some() {
        v.push(
            Problem::new("service", "`service` describes a Kong service")
                .hint("with Kubernetes, name the traffic object under `provider.kubernetes`"),
        );
    }
}

fn no_service(plan: &Plan, who: &str, v: &mut Vec<Problem>) {
    if plan.service.is_some() {
        v.push(
            Problem::new(
                "service",
                format!("`service` is for Kong; the {who} provider does not use it"),
            )
            .hint("remove `service`"),
        );
    }
}

fn haproxy_provider(plan: &Plan, h: &crate::plan::model::HaproxyProvider, v: &mut Vec<Problem>) {
    let at = "provider.haproxy";
    if !h.runtime_api.contains("${") {
        if let Err(msg) = names::Endpoint::parse(&h.runtime_api) {
            v.push(
                Problem::new(&format!("{at}.runtimeApi"), msg)
                    .hint("write `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`"),
            );
        }
    }
    if !haproxy_name(&h.backend) {
        v.push(
            Problem::new(
                &format!("{at}.backend"),
                format!("`{}` is not a valid HAProxy backend name", h.backend),
            )
            .hint("HAProxy names use letters, digits, `-`, `_`, `.` and `:`"),
        );
    }
    if let Some(proxy) = &h.proxy_url {
        url(&format!("{at}.proxyUrl"), proxy, v);
    }
    no_service(plan, "HAProxy", v);
}

fn traefik_provider(plan: &Plan, t: &crate::plan::model::TraefikProvider, v: &mut Vec<Problem>) {
    let at = "provider.traefik";
    url(&format!("{at}.apiUrl"), &t.api_url, v);
    if let Some(proxy) = &t.proxy_url {
        url(&format!("{at}.proxyUrl"), proxy, v);
    }
    if !traefik_name(&t.service) {
        v.push(
            Problem::new(
                &format!("{at}.service"),
                format!("`{}` is not a valid Traefik service name", t.service),
            )
            .hint("use letters, digits, `-` and `_` (Traefik reserves `@`)"),
        );
    }
    if let Some(name) = &t.router.name {
        if !traefik_name(name) {
            v.push(Problem::new(
                &format!("{at}.router.name"),
                format!("`{name}` is not a valid Traefik router name"),
            ));
        }
    }
    if t.router.rule.trim().is_empty() {
        v.push(
            Problem::new(&format!("{at}.router.rule"), "the rule is empty")
                .hint("e.g. ``rule: \"PathPrefix(`/`)\"``"),
        );
    }
    if t.router.entry_points.is_empty() {
        v.push(
            Problem::new(&format!("{at}.router.entryPoints"), "no entry points")
                .hint("name the entry point(s) of Traefik's static configuration, e.g. `[web]`"),
        );
    }
    if t.state_file.as_deref().is_some_and(str::is_empty) {
        v.push(Problem::new(
            &format!("{at}.stateFile"),
            "the path is empty",
        ));
    }
    no_service(plan, "Traefik", v);
}
