//! Semantic checks that serde cannot express, run after a plan deserialized. Every check
//! pushes a [`Problem`] and carries on, so a user sees all of them at once.
//!
//! Beyond shape, this catches what Kong would reject later (upstream names that are not
//! hostnames, weights outside 0–65535, duplicate targets after Kong's normalisation) and
//! references that point nowhere (an `activeEnvironment` or a check that is not defined).
//!
//! Parts, one idea each: this file runs them in order and holds the small rules several of them
//! share (what the plan asks of its backend's capabilities, Kubernetes/HAProxy/Traefik name
//! rules, URLs); which backend a plan uses is [`crate::plan::model::ProviderSpec::backend`];
//! [`keys`] explains unknown keys (closest valid key, from the plan's JSON Schema);
//! [`provider`] checks the `provider:` block; [`environments`] the environments for that
//! provider; [`strategy`] the blue-green/canary strategy and its references; [`routes`] its
//! header and mirror route steps; [`checks`] the
//! health check, `verify`, analysis checks and hooks.

use super::Problem;
use crate::plan::model::Plan;

mod checks;
mod environments;
mod keys;
mod provider;
mod routes;
mod strategy;

pub use keys::{closest, unknown_key};

/// Variables a `successCondition` may use, per check source.
pub const PROMETHEUS_VARS: &[&str] = &["result"];
/// Variables of a probe check.
pub const PROBE_VARS: &[&str] = &["successRate", "errorRate", "p50", "p95", "p99", "count"];
/// Variables of a webhook check (`result` is the JSON body; `status` the HTTP status); any
/// `result.<path>` into an object body is allowed too.
pub const WEBHOOK_VARS: &[&str] = &["result", "status"];

/// All semantic problems in a plan.
pub fn validate(plan: &Plan) -> Vec<Problem> {
    let mut v = Vec::new();
    if plan.api_version != "bgctl.dev/v1" {
        v.push(
            Problem::new(
                "apiVersion",
                format!("unsupported apiVersion `{}`", plan.api_version),
            )
            .hint("use `apiVersion: bgctl.dev/v1`"),
        );
    }
    if plan.kind != "Rollout" {
        v.push(
            Problem::new("kind", format!("unsupported kind `{}`", plan.kind))
                .hint("use `kind: Rollout`"),
        );
    }
    if plan.metadata.name.is_empty()
        || !plan
            .metadata
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        v.push(
            Problem::new(
                "metadata.name",
                format!("`{}` is not a valid rollout name", plan.metadata.name),
            )
            .hint("use letters, digits, `-`, `.` and `_`"),
        );
    }
    provider::provider(plan, &mut v);
    capabilities(plan, &mut v);
    environments::environments(plan, &mut v);
    checks::health_check(plan, &mut v);
    checks::verification(plan, &mut v);
    checks::checks(plan, &mut v);
    checks::hooks(plan, &mut v);
    strategy::strategy(plan, &mut v);
    crate::notify::validate(plan, &mut v);
    v
}

/// What the plan asks of its backend that the backend cannot do ([`crate::plan::model::Backend::capabilities`]):
/// a canary on a backend that cannot split traffic, data-plane verification without a data
/// plane. Each refusal carries its own reason, so it is reported the same way for every backend.
fn capabilities(plan: &Plan, v: &mut Vec<Problem>) {
    let Ok(backend) = plan.provider.backend() else {
        return;
    };
    let caps = backend.capabilities();
    if let (Some(_), Err(no)) = (&plan.strategy.canary, caps.split) {
        v.push(Problem::new(no.at, no.reason).hint(no.hint));
    }
    if let Err(no) = caps.data_plane {
        let canary_verify = plan
            .strategy
            .canary
            .as_ref()
            .is_some_and(|c| c.verify.is_some());
        for (path, set) in [
            ("verify", plan.verify.is_some()),
            ("strategy.canary.verify", canary_verify),
        ] {
            if set {
                v.push(Problem::new(path, no.reason).hint(no.hint));
            }
        }
    }
}

/// RFC 1123 label/subdomain check used for Kubernetes object names.
pub(super) fn k8s_name(path: &str, name: &str, v: &mut Vec<Problem>) {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !ok && !name.contains("${") {
        v.push(
            Problem::new(path, format!("`{name}` is not a valid Kubernetes name"))
                .hint("use lower-case letters, digits and `-` (RFC 1123)"),
        );
    }
}

/// HAProxy proxy and server names: letters, digits, `-`, `_`, `.`, `:`.
pub(super) fn haproxy_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

/// Traefik object names bgctl writes: letters, digits, `-`, `_`.
pub(super) fn traefik_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

pub(super) fn url(path: &str, value: &str, v: &mut Vec<Problem>) {
    if value.contains("${") {
        // An unset variable (already reported by interpolation) or a literal `$${`: the URL
        // cannot be parsed, but userinfo is still refused (it would be sent and printed).
        let authority = value.split_once("://").map_or("", |(_, rest)| {
            rest.split(['/', '?', '#']).next().unwrap_or("")
        });
        if authority.contains('@') {
            v.push(
                Problem::new(path, "credentials in URLs are not allowed")
                    .hint("send them as a header under `provider.kong.headers`"),
            );
        }
        return;
    }
    match reqwest::Url::parse(value) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
            if !u.username().is_empty() || u.password().is_some() {
                v.push(
                    Problem::new(path, "credentials in URLs are not allowed")
                        .hint("send them as a header under `provider.kong.headers`"),
                );
            }
        }
        Ok(u) => v.push(
            Problem::new(path, format!("unsupported scheme `{}`", u.scheme()))
                .hint("use an `http://` or `https://` URL"),
        ),
        Err(e) => v.push(
            Problem::new(path, format!("`{value}` is not a URL: {e}"))
                .hint("write e.g. `http://127.0.0.1:8001`"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        let plan: Plan = serde_yaml_ng::from_str(yaml).unwrap();
        validate(&plan)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    const HEAD: &str = "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata: {name: r}\nstrategy: {blueGreen: {activeEnvironment: blue}}\n";

    /// A URL with a literal `${` in it used to skip the credential check (issue 14 item 3).
    #[test]
    fn credentials_are_refused_even_in_a_url_with_a_literal_dollar_brace() {
        let mut v = Vec::new();
        url(
            "provider.kong.adminUrl",
            "http://admin:pa${ss@127.0.0.1:8001",
            &mut v,
        );
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].message, "credentials in URLs are not allowed");
        let mut v = Vec::new();
        url(
            "provider.kong.adminUrl",
            "http://127.0.0.1:8001/p${x}@y",
            &mut v,
        );
        assert!(v.is_empty(), "an `@` in the path is not userinfo: {v:?}");
    }

    /// A `verify` block without a proxy was silently ignored (issue 13 item 1); `identity`
    /// is one value or a list, and an empty one would match every answer.
    #[test]
    fn verify_needs_a_proxy_and_identities_must_name_something() {
        let envs = "environments:\n  blue: {upstream: b.v1, targets: [{target: 'a:1'}], identity: [app-a, '']}\n  \
                    green: {upstream: g.v2, targets: [{target: 'b:1'}], identity: []}\n";
        let p = problems(&format!(
            "{HEAD}provider: {{kong: {{adminUrl: 'http://k:8001'}}}}\n{envs}verify: {{samples: 10, header: 'X Backend'}}\n"
        ));
        for want in [
            "verify: data-plane verification needs the provider's `proxyUrl`; without it this block would be ignored",
            "verify.header: not a valid HTTP header name",
            "environments.blue.identity[1]: an empty identity would match every answer",
            "environments.green.identity: the list is empty",
        ] {
            assert!(p.iter().any(|x| x == want), "missing {want:?} in {p:#?}");
        }
        let p = problems(&format!(
            "{HEAD}provider: {{kong: {{adminUrl: 'http://k:8001', proxyUrl: 'http://k:8000'}}}}\n\
             environments:\n  blue: {{upstream: b.v1, targets: [{{target: 'a:1'}}], identity: app-a}}\n  \
             green: {{upstream: g.v2, targets: [{{target: 'b:1'}}], identity: [app-c, app-d]}}\n\
             verify: {{header: X-App}}\n"
        ));
        assert!(
            !p.iter()
                .any(|x| x.contains("verify") || x.contains("identity")),
            "{p:#?}"
        );
    }

    #[test]
    fn haproxy_plans_check_shape_and_ranges_with_key_paths() {
        let p = problems(&format!(
            "{HEAD}provider: {{haproxy: {{runtimeApi: 'tcp://127.0.0.1', backend: app}}}}\n\
             environments:\n  blue: {{servers: [{{name: b1, weight: 300}}, {{name: b1}}]}}\n  \
             green: {{upstream: x.y, servers: [{{url: 'http://x:1'}}]}}\n"
        ));
        for want in [
            "provider.haproxy.runtimeApi: `tcp://127.0.0.1` has no `host:port` after `tcp://`",
            "environments.blue.servers[0].weight: 300 is outside HAProxy's weight range 0–256",
            "environments.blue.servers[1].name: server `b1` is listed twice",
            "environments.green.upstream: `upstream` is for Kong; HAProxy environments list `servers`",
            "environments.green.servers[0]: a server needs a `name` (its name in the HAProxy backend)",
        ] {
            assert!(p.iter().any(|x| x == want), "missing {want:?} in {p:#?}");
        }
    }

    #[test]
    fn traefik_plans_need_urls_and_one_provider_only() {
        let p = problems(&format!(
            "{HEAD}provider: {{traefik: {{apiUrl: 'http://127.0.0.1:8081', service: app, router: {{rule: '', entryPoints: []}}}}}}\n\
             environments:\n  blue: {{servers: [{{url: 'ftp://x'}}]}}\n  green: {{servers: [{{name: g}}]}}\n"
        ));
        for want in [
            "provider.traefik.router.rule: the rule is empty",
            "provider.traefik.router.entryPoints: no entry points",
            "environments.blue.servers[0].url: unsupported scheme `ftp`",
            "environments.green.servers[0]: a server needs a `url`",
        ] {
            assert!(p.iter().any(|x| x == want), "missing {want:?} in {p:#?}");
        }
        let p = problems(&format!(
            "{HEAD}provider: {{kong: {{adminUrl: 'http://k:8001'}}, haproxy: {{runtimeApi: 'tcp://h:1', backend: app}}}}\n\
             environments:\n  blue: {{servers: [{{name: b}}]}}\n  green: {{servers: [{{name: g}}]}}\n"
        ));
        assert!(
            p.iter()
                .any(|x| x == "provider: more than one provider is configured"),
            "{p:#?}"
        );
    }

    /// Environment names reach object names and printed commands: one DNS-label rule for every
    /// provider, reported once per name (Traefik had its own, looser check before).
    #[test]
    fn environment_names_are_dns_labels_for_every_provider() {
        let p = problems(&format!(
            "{HEAD}provider: {{traefik: {{apiUrl: 'http://127.0.0.1:8081', service: app, router: {{rule: 'Host(`a`)', entryPoints: [web]}}}}}}\n\
             environments:\n  blue: {{servers: [{{url: 'http://a:1'}}]}}\n  Green_2: {{servers: [{{url: 'http://b:1'}}]}}\n"
        ));
        let about: Vec<&String> = p.iter().filter(|x| x.contains("Green_2")).collect();
        assert_eq!(
            about,
            ["environments.Green_2: `Green_2` is not a valid environment name"],
            "{p:#?}"
        );
        let p = problems(&format!(
            "{HEAD}provider: {{kong: {{adminUrl: 'http://k:8001'}}}}\nservice: {{name: s}}\n\
             environments:\n  blue: {{upstream: b.v1, targets: [{{target: 'a:1'}}]}}\n  'g$(id)': {{upstream: g.v1, targets: [{{target: 'b:1'}}]}}\n"
        ));
        assert!(
            p.iter()
                .any(|x| x == "environments.g$(id): `g$(id)` is not a valid environment name"),
            "{p:#?}"
        );
        assert!(
            !p.iter().any(|x| x.starts_with("environments.blue")),
            "{p:#?}"
        );
    }

    #[test]
    fn kong_environments_still_need_upstream_and_refuse_servers() {
        let p = problems(&format!(
            "{HEAD}provider: {{kong: {{adminUrl: 'http://k:8001'}}}}\nservice: {{name: s}}\n\
             environments:\n  blue: {{targets: [{{target: 'a:1'}}]}}\n  green: {{upstream: g.v1, targets: [{{target: 'b:1'}}], servers: [{{name: x}}]}}\n"
        ));
        assert!(
            p.iter()
                .any(|x| x == "environments.blue: missing `upstream`"),
            "{p:#?}"
        );
        assert!(
            p.iter()
                .any(|x| x.starts_with("environments.green.servers: `servers` is for HAProxy")),
            "{p:#?}"
        );
    }

    #[test]
    fn contour_includes_are_one_mode_for_every_environment() {
        let k8s = |object: &str, envs: &str| {
            problems(&format!(
                "{HEAD}provider: {{kubernetes: {{namespace: m, {object}}}}}\nenvironments:\n{envs}"
            ))
        };
        let ok = k8s(
            "contour: {httpProxy: root-blog}",
            "  blue: {deployment: b, include: {name: blog2}}\n  green: {deployment: g, include: {name: blog, namespace: m2}}\n",
        );
        assert!(ok.is_empty(), "{ok:#?}");
        // Same child once defaulted and once explicit.
        let p = k8s(
            "contour: {httpProxy: root-blog}",
            "  blue: {deployment: b, include: {name: blog}}\n  green: {deployment: g, include: {name: blog, namespace: m}}\n",
        );
        assert_eq!(
            p,
            ["environments.green.include: the same child HTTPProxy `blog` as environment `blue`, so a switch would change nothing"]
        );
        let p = k8s(
            "gatewayApi: {httpRoute: r}",
            "  blue: {deployment: b, service: b, include: {name: blog}}\n  green: {deployment: g, service: g}\n",
        );
        assert_eq!(
            p,
            ["environments.blue.include: only `provider.kubernetes.contour` uses `include`"]
        );
        let p = k8s(
            "contour: {httpProxy: root-blog}",
            "  blue: {deployment: b, service: b, include: {name: blog}}\n  green: {deployment: g, include: {name: blog2}}\n",
        );
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].starts_with("environments.blue.service: `service` (weights on the HTTPProxy's `services`) and `include`"), "{p:#?}");
    }
}
