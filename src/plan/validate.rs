//! Semantic checks that serde cannot express, run after a plan deserialized. Every check
//! pushes a [`Problem`] and carries on, so a user sees all of them at once.
//!
//! Beyond shape, this catches what Kong would reject later (upstream names that are not
//! hostnames, weights outside 0–65535, duplicate targets after Kong's normalisation) and
//! references that point nowhere (an `activeEnvironment` or a check that is not defined).

use std::collections::HashSet;

use serde_json::Value as Json;

use super::model::{CanaryStep, CheckSpec, HookSpec, Plan};
use super::{names, Problem};

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
    provider(plan, &mut v);
    environments(plan, &mut v);
    health_check(plan, &mut v);
    if let Some(verify) = &plan.verify {
        verify_spec("verify", verify, &mut v);
    }
    checks(plan, &mut v);
    hooks(plan, &mut v);
    strategy(plan, &mut v);
    v
}

/// The problem for a key the model does not have, with the closest valid key as a hint.
pub fn unknown_key(path: &str) -> Problem {
    let (parent, key) = match path.rfind('.') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let mut p = Problem::new(path, "unknown key");
    p.at_key = true;
    let known = keys_at(parent);
    if let Some(best) = closest(key, known.iter().map(String::as_str)) {
        p.hint = Some(format!("did you mean `{best}`?"));
    } else if !known.is_empty() {
        p.hint = Some(format!(
            "valid keys here: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    p
}

/// The closest candidate by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The keys the plan schema allows under `path` (walks the JSON Schema of [`Plan`]).
fn keys_at(path: &str) -> Vec<String> {
    let root = serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or(Json::Null);
    let mut node = resolve(&root, &root);
    for seg in split_path(path) {
        node = match seg {
            Seg::Key(k) => match node.get("properties").and_then(|p| p.get(&k)) {
                Some(n) => resolve(&root, n),
                None => match node.get("additionalProperties") {
                    Some(n) if n.is_object() => resolve(&root, n),
                    _ => return Vec::new(),
                },
            },
            Seg::Index => match node.get("items") {
                Some(n) => resolve(&root, n),
                None => return Vec::new(),
            },
        };
    }
    node.get("properties")
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Follows `$ref` and unwraps `Option` (`anyOf: [T, null]`).
fn resolve<'a>(root: &'a Json, mut node: &'a Json) -> &'a Json {
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            match root.get("$defs").and_then(|d| d.get(name)) {
                Some(n) => node = n,
                None => return node,
            }
        } else if let Some(alts) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Json::as_array)
        {
            match alts
                .iter()
                .find(|a| a.get("type").and_then(Json::as_str) != Some("null"))
            {
                Some(n) => node = n,
                None => return node,
            }
        } else {
            return node;
        }
    }
    node
}

enum Seg {
    Key(String),
    Index,
}

fn split_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push(Seg::Index);
                rest = &rest[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// Which provider a plan uses, once exactly one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Kong,
    Haproxy,
    Traefik,
    Kubernetes,
}

fn kind(plan: &Plan) -> Option<Kind> {
    let p = &plan.provider;
    match (
        p.kong.is_some(),
        p.haproxy.is_some(),
        p.traefik.is_some(),
        p.kubernetes.is_some(),
    ) {
        (true, false, false, false) => Some(Kind::Kong),
        (false, true, false, false) => Some(Kind::Haproxy),
        (false, false, true, false) => Some(Kind::Traefik),
        (false, false, false, true) => Some(Kind::Kubernetes),
        _ => None,
    }
}

fn provider(plan: &Plan, v: &mut Vec<Problem>) {
    let p = &plan.provider;
    let set = [
        p.kong.is_some(),
        p.haproxy.is_some(),
        p.traefik.is_some(),
        p.kubernetes.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set == 0 {
        v.push(Problem::new("provider", "no provider is configured").hint(
            "add `provider: {kong: {adminUrl: http://127.0.0.1:8001}}` (or `haproxy`, `traefik`, `kubernetes`)",
        ));
        return;
    }
    if set > 1 {
        v.push(
            Problem::new("provider", "more than one provider is configured").hint(
                "a plan moves traffic on one system: keep one of `kong`, `haproxy`, `traefik`, `kubernetes`",
            ),
        );
        return;
    }
    if let Some(h) = &p.haproxy {
        haproxy_provider(plan, h, v);
        return;
    }
    if let Some(t) = &p.traefik {
        traefik_provider(plan, t, v);
        return;
    }
    if let Some(k) = &p.kubernetes {
        kubernetes_provider(plan, k, v);
        return;
    }
    let Some(kong) = &p.kong else { return };
    url("provider.kong.adminUrl", &kong.admin_url, v);
    if let Some(proxy) = &kong.proxy_url {
        url("provider.kong.proxyUrl", proxy, v);
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
                if !names.insert(r.name.as_str()) {
                    v.push(Problem::new(
                        &format!("{at}.name"),
                        format!("route name `{}` is used twice", r.name),
                    ));
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

/// RFC 1123 label/subdomain check used for Kubernetes object names.
fn k8s_name(path: &str, name: &str, v: &mut Vec<Problem>) {
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

fn kubernetes_provider(plan: &Plan, k8s: &super::model::KubernetesProvider, v: &mut Vec<Problem>) {
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
    if k8s.service.is_some() && plan.strategy.canary.is_some() {
        v.push(
            Problem::new(
                &format!("{at}.service"),
                "a Service selector cannot split traffic, so it cannot run a canary",
            )
            .hint("use `gatewayApi`, `contour` or `istio` for weights, or `strategy.blueGreen`"),
        );
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
    for (path, set) in [
        ("verify", plan.verify.is_some()),
        (
            "strategy.canary.verify",
            plan.strategy
                .canary
                .as_ref()
                .is_some_and(|c| c.verify.is_some()),
        ),
    ] {
        if set {
            v.push(
                Problem::new(path, "data-plane verification needs a proxy URL, which the Kubernetes provider does not have")
                    .hint("remove `verify`; bgctl waits for Deployment readiness instead"),
            );
        }
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

fn haproxy_provider(plan: &Plan, h: &super::model::HaproxyProvider, v: &mut Vec<Problem>) {
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

fn traefik_provider(plan: &Plan, t: &super::model::TraefikProvider, v: &mut Vec<Problem>) {
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

/// HAProxy proxy and server names: letters, digits, `-`, `_`, `.`, `:`.
fn haproxy_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

/// Traefik object names bgctl writes: letters, digits, `-`, `_`.
fn traefik_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

fn url(path: &str, value: &str, v: &mut Vec<Problem>) {
    if value.contains("${") {
        return; // an unset variable, already reported by interpolation
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

fn environments(plan: &Plan, v: &mut Vec<Problem>) {
    if plan.environments.len() < 2 {
        v.push(
            Problem::new("environments", "a release needs at least two environments")
                .hint("define e.g. `blue` and `green`"),
        );
    }
    match kind(plan) {
        Some(Kind::Kong) => kong_environments(plan, v),
        Some(k @ (Kind::Haproxy | Kind::Traefik)) => server_environments(plan, k, v),
        Some(Kind::Kubernetes) => {
            if let Some(k8s) = plan.kubernetes() {
                kubernetes_environments(plan, k8s, v);
            }
        }
        None => {}
    }
}

fn server_environments(plan: &Plan, kind: Kind, v: &mut Vec<Problem>) {
    let haproxy = kind == Kind::Haproxy;
    let who = if haproxy { "HAProxy" } else { "Traefik" };
    let mut names = HashSet::new();
    for (name, env) in &plan.environments {
        let at = format!("environments.{name}");
        if !haproxy && !traefik_name(name) {
            v.push(
                Problem::new(
                    &at,
                    format!("`{name}` cannot be part of a Traefik service name"),
                )
                .hint("use letters, digits, `-` and `_`"),
            );
        }
        if env.upstream.is_some() {
            v.push(Problem::new(
                &format!("{at}.upstream"),
                format!("`upstream` is for Kong; {who} environments list `servers`"),
            ));
        }
        if !env.targets.is_empty() {
            v.push(Problem::new(
                &format!("{at}.targets"),
                format!("`targets` is for Kong; {who} environments list `servers`"),
            ));
        }
        if env.servers.is_empty() {
            v.push(
                Problem::new(&format!("{at}.servers"), "no servers").hint(if haproxy {
                    "add `- {name: blue1, address: 127.0.0.1:8080, weight: 100}`"
                } else {
                    "add `- {url: http://127.0.0.1:8080}`"
                }),
            );
        }
        for (i, s) in env.servers.iter().enumerate() {
            let sp = format!("{at}.servers[{i}]");
            if haproxy {
                match &s.name {
                    None => v.push(Problem::new(&sp, "a server needs a `name` (its name in the HAProxy backend)")),
                    Some(n) if !haproxy_name(n) || n.starts_with("bgctl-") => v.push(Problem::new(
                        &format!("{sp}.name"),
                        format!("`{n}` is not a server name bgctl can use"),
                    ).hint("use letters, digits, `-`, `_`, `.`, `:`; names starting with `bgctl-` are reserved")),
                    Some(n) => {
                        if !names.insert(n.clone()) {
                            v.push(Problem::new(&format!("{sp}.name"), format!("server `{n}` is listed twice")).hint("all environments share one backend, so server names are unique across them"));
                        }
                    }
                }
                if let Some(addr) = &s.address {
                    if !addr.contains("${") && addr.parse::<std::net::SocketAddr>().is_err() {
                        v.push(Problem::new(&format!("{sp}.address"), format!("`{addr}` is not `ip:port`")).hint("HAProxy's `add server` takes an IP address and port, e.g. `127.0.0.1:8080`"));
                    }
                }
                if s.url.is_some() {
                    v.push(Problem::new(
                        &format!("{sp}.url"),
                        "`url` is for Traefik; HAProxy servers have `name` and `address`",
                    ));
                }
                if let Some(w) = s.weight {
                    if !(0..=256).contains(&w) {
                        v.push(Problem::new(
                            &format!("{sp}.weight"),
                            format!("{w} is outside HAProxy's weight range 0–256"),
                        ));
                    }
                }
            } else {
                match &s.url {
                    None => v.push(
                        Problem::new(&sp, "a server needs a `url`")
                            .hint("e.g. `url: http://127.0.0.1:8080`"),
                    ),
                    Some(u) => {
                        url(&format!("{sp}.url"), u, v);
                        if !names.insert(u.clone()) {
                            v.push(Problem::new(
                                &format!("{sp}.url"),
                                format!("`{u}` is listed twice"),
                            ));
                        }
                    }
                }
                for (key, set) in [("name", s.name.is_some()), ("address", s.address.is_some())] {
                    if set {
                        v.push(Problem::new(
                            &format!("{sp}.{key}"),
                            format!("`{key}` is for HAProxy; Traefik servers have a `url`"),
                        ));
                    }
                }
                if let Some(w) = s.weight {
                    if !(0..=i64::from(u32::MAX)).contains(&w) {
                        v.push(Problem::new(
                            &format!("{sp}.weight"),
                            format!("{w} is not a weight Traefik accepts (0 or more)"),
                        ));
                    }
                }
            }
        }
        let weights: Vec<i64> = env.servers.iter().map(|s| s.weight.unwrap_or(1)).collect();
        if !weights.is_empty() && weights.iter().all(|w| *w <= 0) {
            v.push(
                Problem::new(
                    &format!("{at}.servers"),
                    "every server has weight 0, so this side could serve no traffic",
                )
                .hint("give at least one server a weight above 0"),
            );
        }
    }
}

fn kong_environments(plan: &Plan, v: &mut Vec<Problem>) {
    let mut upstreams = HashSet::new();
    for (name, env) in &plan.environments {
        let at = format!("environments.{name}");
        if !env.servers.is_empty() {
            v.push(Problem::new(&format!("{at}.servers"), "`servers` is for HAProxy and Traefik; Kong environments have `upstream` and `targets`"));
        }
        let Some(upstream) = &env.upstream else {
            v.push(
                Problem::new(&at, "missing `upstream`").hint(
                    "Kong environments name an upstream, e.g. `upstream: address.v1.service`",
                ),
            );
            continue;
        };
        if let Err(msg) = names::check_upstream_name(upstream) {
            v.push(
                Problem::new(&format!("{at}.upstream"), msg)
                    .hint("Kong upstream names are hostnames, e.g. `address.v1.service`"),
            );
        }
        if !upstreams.insert(upstream.as_str()) {
            v.push(
                Problem::new(
                    &format!("{at}.upstream"),
                    format!("upstream `{upstream}` is used by two environments"),
                )
                .hint("each side needs its own upstream"),
            );
        }
        if env.targets.is_empty() {
            v.push(
                Problem::new(&format!("{at}.targets"), "no targets")
                    .hint("add `- {target: host:port, weight: 100}`"),
            );
        }
        let mut seen = HashSet::new();
        for (i, t) in env.targets.iter().enumerate() {
            let tp = format!("{at}.targets[{i}]");
            match names::normalize_target(&t.target) {
                Ok(norm) => {
                    if !seen.insert(norm.clone()) {
                        v.push(Problem::new(&format!("{tp}.target"), format!("duplicate target `{norm}`")).hint("Kong keeps one target per address in an upstream; merge the weights"));
                    }
                }
                Err(msg) => v.push(
                    Problem::new(&format!("{tp}.target"), msg)
                        .hint("write `host:port`, e.g. `10.0.0.5:8080`"),
                ),
            }
            if !(0..=i64::from(names::MAX_WEIGHT)).contains(&t.weight) {
                v.push(Problem::new(
                    &format!("{tp}.weight"),
                    format!("{} is outside Kong's weight range 0–65535", t.weight),
                ));
            }
        }
        if !env.targets.is_empty() && env.targets.iter().all(|t| t.weight <= 0) {
            v.push(
                Problem::new(
                    &format!("{at}.targets"),
                    "every target has weight 0, so this side could serve no traffic",
                )
                .hint("give at least one target a weight above 0"),
            );
        }
    }
}

fn kubernetes_environments(
    plan: &Plan,
    k8s: &super::model::KubernetesProvider,
    v: &mut Vec<Problem>,
) {
    let mut deployments = HashSet::new();
    let mut selectors: Vec<(String, String)> = Vec::new();
    let mut backends = HashSet::new();
    let mut includes: Vec<(String, String, String)> = Vec::new();
    // Contour's second mode: when an environment names an `include`, the HTTPProxy is a root
    // whose `includes` entry is switched between the environments' children.
    let includes_from = k8s
        .contour
        .as_ref()
        .and_then(|_| plan.environments.iter().find(|(_, e)| e.include.is_some()))
        .map(|(n, _)| n.as_str());
    if let (Some(_), Some(_)) = (includes_from, &plan.strategy.canary) {
        v.push(
            Problem::new(
                "strategy.canary",
                "a root HTTPProxy's `includes` sends all traffic to one child, so it cannot run a canary",
            )
            .hint("for weights, name the child HTTPProxy in `contour.httpProxy` and give the environments `service:` (its `services` weights) instead of `include:`; or use `strategy.blueGreen`"),
        );
    }
    for (name, env) in &plan.environments {
        let at = format!("environments.{name}");
        for (key, set) in [
            ("upstream", env.upstream.is_some()),
            ("targets", !env.targets.is_empty()),
        ] {
            if set {
                v.push(
                    Problem::new(&format!("{at}.{key}"), "only the Kong provider uses this")
                        .hint("a Kubernetes environment is a `deployment` with a `selector`"),
                );
            }
        }
        match &env.deployment {
            None => v.push(
                Problem::new(&at, "a Kubernetes environment needs a `deployment`")
                    .hint("add `deployment: myapp-green`"),
            ),
            Some(d) => {
                k8s_name(&format!("{at}.deployment"), d, v);
                if !deployments.insert(d.as_str()) {
                    v.push(Problem::new(
                        &format!("{at}.deployment"),
                        format!("Deployment `{d}` is used by two environments"),
                    ));
                }
            }
        }
        if let Some(m) = &env.manifest {
            if m.trim().is_empty() {
                v.push(Problem::new(&format!("{at}.manifest"), "the path is empty"));
            }
        }
        if k8s.service.is_some() {
            if env.selector.is_empty() {
                v.push(
                    Problem::new(
                        &format!("{at}.selector"),
                        "a Service selector flip needs each side's `selector`",
                    )
                    .hint("e.g. `selector: {app: myapp, version: v2}`"),
                );
            } else {
                let key = serde_json::to_string(&env.selector).unwrap_or_default();
                if let Some((other, _)) = selectors.iter().find(|(_, k)| *k == key) {
                    v.push(Problem::new(
                        &format!("{at}.selector"),
                        format!("the same selector as environment `{other}`, so a flip would change nothing"),
                    ));
                }
                selectors.push((name.clone(), key));
            }
        }
        if let Some(with) = includes_from {
            contour_include(name, env, with, k8s, &mut includes, v);
        } else if env.include.is_some() {
            v.push(
                Problem::new(
                    &format!("{at}.include"),
                    "only `provider.kubernetes.contour` uses `include`",
                )
                .hint("`include` names the child HTTPProxy a Contour root HTTPProxy includes"),
            );
        }
        if k8s.gateway_api.is_some() || (k8s.contour.is_some() && includes_from.is_none()) {
            match &env.service {
                None => v.push(
                    Problem::new(&at, "a weighted backend needs the side's backend `service`")
                        .hint(if k8s.contour.is_some() {
                            "add `service: myapp-green` (the Service in front of this side), or \
                             give every environment `include: {name: <child HTTPProxy>}` to \
                             switch a root HTTPProxy's `includes`"
                        } else {
                            "add `service: myapp-green` (the Service in front of this side)"
                        }),
                ),
                Some(s) => {
                    k8s_name(&format!("{at}.service"), s, v);
                    if !backends.insert(s.as_str()) {
                        v.push(Problem::new(
                            &format!("{at}.service"),
                            format!("Service `{s}` is used by two environments"),
                        ));
                    }
                }
            }
        }
        if k8s.istio.is_some() {
            match &env.subset {
                None => v.push(
                    Problem::new(
                        &at,
                        "an Istio environment needs its DestinationRule `subset`",
                    )
                    .hint("add the name of its subset in the DestinationRule, e.g. `subset: v2`"),
                ),
                Some(s) => {
                    if !backends.insert(s.as_str()) {
                        v.push(Problem::new(
                            &format!("{at}.subset"),
                            format!("subset `{s}` is used by two environments"),
                        ));
                    }
                }
            }
        }
    }
}

/// One environment of a Contour root-`includes` plan: it names its own child HTTPProxy and no
/// `service` (the two Contour modes do not mix).
fn contour_include(
    env_name: &str,
    env: &super::model::Environment,
    with: &str,
    k8s: &super::model::KubernetesProvider,
    seen: &mut Vec<(String, String, String)>,
    v: &mut Vec<Problem>,
) {
    let at = &format!("environments.{env_name}");
    if env.service.is_some() {
        v.push(
            Problem::new(
                &format!("{at}.service"),
                if env.include.is_some() || with == env_name {
                    "`service` (weights on the HTTPProxy's `services`) and `include` (switching a root HTTPProxy's `includes`) cannot be mixed".to_string()
                } else {
                    format!("`service` (weights on the HTTPProxy's `services`) cannot be mixed with `include` (environment `{with}` switches a root HTTPProxy's `includes`)")
                },
            )
            .hint("use `include: {name: <child HTTPProxy>}` on every environment, or `service:` on every environment"),
        );
    }
    let Some(inc) = &env.include else {
        if env.service.is_none() {
            v.push(
                Problem::new(
                    at,
                    format!("missing `include`, which environment `{with}` has"),
                )
                .hint("with a root HTTPProxy's `includes`, every environment names its child, e.g. `include: {name: blog2}`"),
            );
        }
        return;
    };
    k8s_name(&format!("{at}.include.name"), &inc.name, v);
    if let Some(ns) = &inc.namespace {
        k8s_name(&format!("{at}.include.namespace"), ns, v);
    }
    let ns = inc
        .namespace
        .clone()
        .or_else(|| k8s.namespace.clone())
        .unwrap_or_default();
    if let Some((other, _, _)) = seen.iter().find(|(_, n, c)| *n == ns && *c == inc.name) {
        v.push(
            Problem::new(
                &format!("{at}.include"),
                format!(
                    "the same child HTTPProxy `{}` as environment `{other}`, so a switch would change nothing",
                    inc.name
                ),
            )
            .hint("each environment includes its own child HTTPProxy"),
        );
    }
    seen.push((env_name.to_string(), ns, inc.name.clone()));
}

fn health_check(plan: &Plan, v: &mut Vec<Problem>) {
    let Some(hc) = &plan.health_check else { return };
    for (key, val) in [
        ("healthyThreshold", hc.healthy_threshold),
        ("unhealthyThreshold", hc.unhealthy_threshold),
    ] {
        if val == Some(0) {
            v.push(Problem::new(
                &format!("healthCheck.{key}"),
                "must be at least 1",
            ));
        }
    }
    if hc.timeout.is_some_and(|d| d.0.is_zero()) {
        v.push(Problem::new(
            "healthCheck.timeout",
            "must be longer than 0s",
        ));
    }
    if let Some(http) = &hc.http {
        for (i, code) in http.expect_status.iter().enumerate() {
            if !(100..=599).contains(code) {
                v.push(Problem::new(
                    &format!("healthCheck.http.expectStatus[{i}]"),
                    format!("{code} is not an HTTP status"),
                ));
            }
        }
        if let Some(p) = &http.path {
            if !p.starts_with('/') {
                v.push(Problem::new(
                    "healthCheck.http.path",
                    format!("`{p}` must start with `/`"),
                ));
            }
        }
        if let Some(s) = &http.scheme {
            if s != "http" && s != "https" {
                v.push(
                    Problem::new(
                        "healthCheck.http.scheme",
                        format!("unsupported scheme `{s}`"),
                    )
                    .hint("use `http` or `https`"),
                );
            }
        }
    }
}

fn verify_spec(at: &str, verify: &super::model::Verify, v: &mut Vec<Problem>) {
    if let Some(t) = verify.tolerance {
        if !(0.0..=100.0).contains(&t) {
            v.push(Problem::new(
                &format!("{at}.tolerance"),
                format!("{t} is outside 0–100 percentage points"),
            ));
        }
    }
    if verify.samples == Some(0) {
        v.push(Problem::new(&format!("{at}.samples"), "must be at least 1"));
    }
}

fn env_ref(plan: &Plan, path: &str, name: &str, v: &mut Vec<Problem>) {
    if !plan.environments.contains_key(name) {
        let mut p = Problem::new(path, format!("environment `{name}` is not defined"));
        p.hint = Some(
            match closest(name, plan.environments.keys().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "defined environments: {}",
                    plan.environments
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        );
        v.push(p);
    }
}

fn check_refs(plan: &Plan, path: &str, names: &[String], v: &mut Vec<Problem>) {
    if names.is_empty() {
        v.push(Problem::new(path, "lists no checks"));
    }
    for (i, name) in names.iter().enumerate() {
        if !plan.checks.contains_key(name) {
            let mut p = Problem::new(
                &format!("{path}[{i}]"),
                format!("check `{name}` is not defined under `checks`"),
            );
            p.hint = closest(name, plan.checks.keys().map(String::as_str))
                .map(|b| format!("did you mean `{b}`?"));
            v.push(p);
        }
    }
}

fn strategy(plan: &Plan, v: &mut Vec<Problem>) {
    let s = &plan.strategy;
    match (&s.blue_green, &s.canary) {
        (None, None) => v.push(
            Problem::new("strategy", "no strategy is set")
                .hint("set `strategy.blueGreen` or `strategy.canary`"),
        ),
        (Some(_), Some(_)) => v.push(
            Problem::new("strategy", "`blueGreen` and `canary` are both set")
                .hint("a plan has one strategy"),
        ),
        (Some(bg), None) => {
            env_ref(
                plan,
                "strategy.blueGreen.activeEnvironment",
                &bg.active_environment,
                v,
            );
            if let Some(a) = &bg.pre_promotion_analysis {
                check_refs(
                    plan,
                    "strategy.blueGreen.prePromotionAnalysis.checks",
                    &a.checks,
                    v,
                );
            }
            if let Some(a) = &bg.post_promotion_analysis {
                check_refs(
                    plan,
                    "strategy.blueGreen.postPromotionAnalysis.checks",
                    &a.checks,
                    v,
                );
            }
        }
        (None, Some(c)) => {
            env_ref(plan, "strategy.canary.stable", &c.stable, v);
            env_ref(plan, "strategy.canary.canary", &c.canary, v);
            if c.stable == c.canary {
                v.push(Problem::new(
                    "strategy.canary.canary",
                    "the canary and the stable environment are the same",
                ));
            }
            if let Some(verify) = &c.verify {
                verify_spec("strategy.canary.verify", verify, v);
                if plan.proxy_url().is_none() && plan.kubernetes().is_none() {
                    v.push(
                        Problem::new(
                            "strategy.canary.verify",
                            "verification needs the provider's `proxyUrl`",
                        )
                        .hint("set the proxy URL or remove `verify`"),
                    );
                }
            }
            if let Some(a) = &c.analysis {
                check_refs(plan, "strategy.canary.analysis.checks", &a.checks, v);
                if a.start_after_step.is_some_and(|n| n >= c.steps.len()) {
                    v.push(Problem::new(
                        "strategy.canary.analysis.startAfterStep",
                        format!("there are only {} steps", c.steps.len()),
                    ));
                }
            }
            if let (Some(m), Some(Kind::Kong)) = (&c.mixed_upstream, kind(plan)) {
                if let Err(msg) = names::check_upstream_name(m) {
                    v.push(Problem::new("strategy.canary.mixedUpstream", msg));
                }
            }
            canary_steps(plan, &c.steps, v);
        }
    }
}

fn canary_steps(plan: &Plan, steps: &[CanaryStep], v: &mut Vec<Problem>) {
    if steps.is_empty() {
        v.push(
            Problem::new("strategy.canary.steps", "no steps")
                .hint("add e.g. `- setWeight: 10`, `- pause: {}`, `- setWeight: 100`"),
        );
    }
    let mut last = 0.0_f64;
    for (i, step) in steps.iter().enumerate() {
        let at = format!("strategy.canary.steps[{i}]");
        let set = usize::from(step.set_weight.is_some())
            + usize::from(step.pause.is_some())
            + usize::from(step.analysis.is_some());
        if set != 1 {
            v.push(Problem::new(
                &at,
                "a step has exactly one of `setWeight`, `pause` or `analysis`",
            ));
        }
        if let Some(w) = step.set_weight {
            if !(0.0..=100.0).contains(&w) || w.is_nan() {
                v.push(Problem::new(
                    &format!("{at}.setWeight"),
                    format!("{w} is outside 0–100 (percent of traffic to the canary)"),
                ));
            } else if w < last {
                v.push(
                    Problem::new(
                        &format!("{at}.setWeight"),
                        format!("{w} is lower than the previous step's {last}"),
                    )
                    .hint(
                        "steps only move traffic towards the canary; use `bgctl abort` to go back",
                    ),
                );
            } else {
                last = w;
            }
        }
        if let Some(a) = &step.analysis {
            check_refs(plan, &format!("{at}.analysis.checks"), &a.checks, v);
        }
    }
}

fn checks(plan: &Plan, v: &mut Vec<Problem>) {
    for (name, check) in &plan.checks {
        check_spec(plan, &format!("checks.{name}"), check, v);
    }
}

fn check_spec(plan: &Plan, at: &str, c: &CheckSpec, v: &mut Vec<Problem>) {
    let sources = [
        c.prometheus.is_some(),
        c.webhook.is_some(),
        c.exec.is_some(),
        c.probe.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        v.push(Problem::new(
            at,
            "a check has exactly one of `prometheus`, `webhook`, `exec` or `probe`",
        ));
        return;
    }
    if c.count == Some(0) {
        v.push(Problem::new(&format!("{at}.count"), "must be at least 1"));
    }
    if let Some(p) = &c.prometheus {
        url(&format!("{at}.prometheus.url"), &p.url, v);
        if p.query.trim().is_empty() {
            v.push(Problem::new(
                &format!("{at}.prometheus.query"),
                "the query is empty",
            ));
        }
        if c.success_condition.is_none() {
            v.push(
                Problem::new(at, "a Prometheus check needs a `successCondition`")
                    .hint("e.g. `successCondition: result < 0.01`"),
            );
        }
    }
    if let Some(w) = &c.webhook {
        url(&format!("{at}.webhook.url"), &w.url, v);
    }
    if let Some(e) = &c.exec {
        if e.command.is_empty() {
            v.push(Problem::new(
                &format!("{at}.exec.command"),
                "the command is empty",
            ));
        }
    }
    if c.probe.is_some() && plan.proxy_url().is_none() {
        v.push(Problem::new(
            &format!("{at}.probe"),
            "a probe check sends traffic through the provider's `proxyUrl`, which is not set",
        ));
    }
    if let Some(cond) = &c.success_condition {
        let allowed = if c.prometheus.is_some() {
            PROMETHEUS_VARS
        } else if c.probe.is_some() {
            PROBE_VARS
        } else if c.webhook.is_some() {
            WEBHOOK_VARS
        } else {
            &[][..]
        };
        if allowed.is_empty() {
            v.push(Problem::new(
                &format!("{at}.successCondition"),
                "an exec check passes on exit code 0 and takes no condition",
            ));
        } else if let Err(e) = {
            let paths = body_paths(c, &cond.0);
            let mut all = allowed.to_vec();
            all.extend(paths.iter().map(String::as_str));
            cond.0.check_variables(&all)
        } {
            v.push(Problem::new(
                &format!("{at}.successCondition"),
                e.render(cond.0.source()),
            ));
        }
    }
}

/// For a webhook check, every `result.<path>` the condition uses: a JSON body's fields are only
/// known when it arrives (`analysis::webhook` flattens them into dotted names).
fn body_paths(c: &CheckSpec, cond: &crate::analysis::condition::Condition) -> Vec<String> {
    if c.webhook.is_none() {
        return Vec::new();
    }
    cond.variables()
        .into_iter()
        .filter(|v| {
            v.strip_prefix("result.")
                .is_some_and(|rest| !rest.is_empty())
        })
        .collect()
}

fn hooks(plan: &Plan, v: &mut Vec<Problem>) {
    for (key, list) in [
        ("preSwitch", &plan.hooks.pre_switch),
        ("postSwitch", &plan.hooks.post_switch),
        ("onRollback", &plan.hooks.on_rollback),
    ] {
        for (i, hook) in list.iter().enumerate() {
            hook_spec(&format!("hooks.{key}[{i}]"), hook, v);
        }
    }
}

fn hook_spec(at: &str, h: &HookSpec, v: &mut Vec<Problem>) {
    match (&h.exec, &h.webhook) {
        (Some(e), None) if e.command.is_empty() => v.push(Problem::new(
            &format!("{at}.exec.command"),
            "the command is empty",
        )),
        (None, Some(w)) => url(&format!("{at}.webhook.url"), &w.url, v),
        (Some(_), None) => {}
        _ => v.push(Problem::new(
            at,
            "a hook has exactly one of `exec` or `webhook`",
        )),
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
