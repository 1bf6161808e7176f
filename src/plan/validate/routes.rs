//! `setHeaderRoute` and `setMirrorRoute` steps (issue 16): every shape, the regex syntax, that
//! a removal names a route an earlier step set, and that the backend can express the step at all
//! ([`crate::plan::model::route_refusals`]) — all before any write, each with its key path.
//!
//! Regular expressions are checked with the `regex` crate (RE2 syntax, which Argo's Go patterns
//! and Kong 3.x's router both follow). Kong lower-cases a header value *and the pattern* before
//! matching (`traditional_compatible` router: `any(lower(http.headers.x)) ~ lower(pattern)`), so
//! an escape like `\D` or `\S` would silently turn into `\d` / `\s` there: such patterns are
//! refused on Kong with that reason.

use std::collections::BTreeMap;

use crate::plan::model::{
    Backend, CanaryStep, HeaderRouteMatch, MirrorMatch, Plan, Refusal, SetMirrorRoute, StringMatch,
    ValueMatch,
};
use crate::plan::Problem;

/// Which kind of route a name is active as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Header,
    Mirror,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Header => "setHeaderRoute",
            Kind::Mirror => "setMirrorRoute",
        }
    }
}

/// Checks the route steps of a canary, in order (a removal must follow its route).
pub(super) fn route_steps(plan: &Plan, steps: &[CanaryStep], v: &mut Vec<Problem>) {
    let backend = plan.provider.backend().ok();
    let caps = backend.map(Backend::capabilities);
    let mut active: BTreeMap<String, Kind> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("strategy.canary.steps[{i}]");
        if let Some(h) = &step.set_header_route {
            let at = format!("{at}.setHeaderRoute");
            refuse(&at, caps.map(|c| c.header_routes), v);
            kube_includes(plan, &at, v);
            name(&at, &h.name, v);
            let set = h.matches.as_ref().map(|m| {
                header_matches(&at, m, backend, v);
                m.is_empty()
            });
            track(&at, &h.name, Kind::Header, set, &mut active, v);
        }
        if let Some(m) = &step.set_mirror_route {
            let at = format!("{at}.setMirrorRoute");
            refuse(&at, caps.map(|c| c.mirror), v);
            kube_mirror(plan, &at, m, v);
            name(&at, &m.name, v);
            if let Some(p) = m.percentage {
                if !(0.0..=100.0).contains(&p) || p.is_nan() {
                    v.push(Problem::new(
                        &format!("{at}.percentage"),
                        format!("{p} is outside 0–100 (percent of matching requests copied)"),
                    ));
                }
                if m.matches.is_none() {
                    v.push(
                        Problem::new(
                            &format!("{at}.percentage"),
                            "a mirror without `match` is removed, so `percentage` means nothing here",
                        )
                        .hint("add `match`, or remove `percentage`"),
                    );
                }
            }
            if matches!(backend, Some(Backend::Traefik(_))) {
                traefik_mirror(&at, m, v);
            }
            let set = m.matches.as_ref().map(|list| {
                mirror_matches(&at, list, backend, v);
                list.is_empty()
            });
            track(&at, &m.name, Kind::Mirror, set, &mut active, v);
        }
    }
}

/// A Contour root's `includes` (environments with `include:`) names whole child HTTPProxies:
/// an include has no backends a header route or mirror could point at.
fn kube_includes(plan: &Plan, at: &str, v: &mut Vec<Problem>) {
    let contour = plan.kubernetes().is_some_and(|k| k.contour.is_some());
    if contour && plan.environments.values().any(|e| e.include.is_some()) {
        v.push(
            Problem::new(at, "a Contour root's `includes` cannot carry header routes or mirrors: an include delegates to a whole child HTTPProxy and names no service to send chosen requests to (provider.kubernetes.contour)")
                .hint("give the environments `service:` and point `contour.httpProxy` at the HTTPProxy whose `routes[].services` list them"),
        );
    }
}

/// What one Kubernetes router cannot express in a mirror: Contour has no method condition and
/// mirrors whole percents (the mirror service's `weight`); Gateway API matches a method exactly.
fn kube_mirror(
    plan: &Plan,
    at: &str,
    m: &crate::plan::model::SetMirrorRoute,
    v: &mut Vec<Problem>,
) {
    let Some(k) = plan.kubernetes() else {
        return;
    };
    kube_includes(plan, at, v);
    let contour = k.contour.is_some();
    if let Some(p) = m.percentage {
        if contour && p.fract() != 0.0 {
            v.push(
                Problem::new(&format!("{at}.percentage"), format!("Contour mirrors whole percents only (the mirror service's `weight`), not {p}"))
                    .hint("round the percentage"),
            );
        }
        if contour && p == 0.0 {
            v.push(
                Problem::new(
                    &format!("{at}.percentage"),
                    "Contour cannot mirror 0 % (a mirror service's weight is 1–100)",
                )
                .hint("remove the mirror instead"),
            );
        }
    }
    for (j, alt) in m.matches.iter().flatten().enumerate() {
        let Some(method) = alt.method.as_ref().and_then(StringMatch::one) else {
            continue;
        };
        let at = format!("{at}.match[{j}].method");
        if contour {
            v.push(
                Problem::new(&at, "Contour HTTPProxy conditions cannot match the request method (provider.kubernetes.contour)")
                    .hint("match on `path` or `headers` instead"),
            );
        } else if k.gateway_api.is_some() && !matches!(method, ValueMatch::Exact(_)) {
            v.push(
                Problem::new(
                    &at,
                    format!(
                        "Gateway API matches the method exactly, not by {}",
                        method.kind()
                    ),
                )
                .hint("write `method: {exact: GET}`"),
            );
        }
    }
}

fn refuse(at: &str, cap: Option<Result<(), Refusal>>, v: &mut Vec<Problem>) {
    if let Some(Err(no)) = cap {
        v.push(Problem::new(at, format!("{} ({})", no.reason, no.at)).hint(no.hint));
    }
}

/// Route names reach object names on every backend: one DNS label.
fn name(at: &str, name: &str, v: &mut Vec<Problem>) {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        v.push(
            Problem::new(
                &format!("{at}.name"),
                format!("`{name}` is not a valid route name"),
            )
            .hint(
                "use up to 40 lower-case letters, digits and `-` (it becomes part of object names)",
            ),
        );
    }
}

/// Records a set (`set = Some(empty?)`) or a removal (`None`) of `name`, checking the removal
/// names an active route of the same kind.
fn track(
    at: &str,
    name: &str,
    kind: Kind,
    set: Option<bool>,
    active: &mut BTreeMap<String, Kind>,
    v: &mut Vec<Problem>,
) {
    match (set, active.get(name).copied()) {
        (Some(true), _) => v.push(
            Problem::new(&format!("{at}.match"), "the list is empty")
                .hint("list at least one condition, or leave `match` out to remove the route"),
        ),
        (Some(false), Some(other)) if other != kind => v.push(
            Problem::new(
                &format!("{at}.name"),
                format!("`{name}` is already a `{}` route", other.key()),
            )
            .hint("give each route its own name"),
        ),
        (Some(false), _) => {
            active.insert(name.to_string(), kind);
        }
        (None, Some(k)) if k == kind => {
            active.remove(name);
        }
        (None, _) => {
            let names: Vec<String> = active
                .iter()
                .filter(|(_, k)| **k == kind)
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            let p = Problem::new(
                &format!("{at}.name"),
                format!(
                    "no `{}` named `{name}` is active at this step, so there is nothing to remove",
                    kind.key()
                ),
            );
            v.push(if names.is_empty() {
                p.hint("add `match` to set the route")
            } else {
                p.hint(&format!("active here: {}", names.join(", ")))
            });
        }
    }
}

fn header_matches(
    at: &str,
    list: &[HeaderRouteMatch],
    backend: Option<Backend<'_>>,
    v: &mut Vec<Problem>,
) {
    for (j, m) in list.iter().enumerate() {
        let at = format!("{at}.match[{j}]");
        header_name(&format!("{at}.headerName"), &m.header_name, v);
        value(&format!("{at}.headerValue"), &m.header_value, backend, v);
    }
}

fn mirror_matches(
    at: &str,
    list: &[MirrorMatch],
    backend: Option<Backend<'_>>,
    v: &mut Vec<Problem>,
) {
    for (j, m) in list.iter().enumerate() {
        let at = format!("{at}.match[{j}]");
        if m.method.is_none() && m.path.is_none() && m.headers.is_empty() {
            v.push(
                Problem::new(&at, "no condition: this would copy every request")
                    .hint("set `method`, `path` or `headers`"),
            );
        }
        if let Some(method) = &m.method {
            value(&format!("{at}.method"), method, backend, v);
        }
        if let Some(path) = &m.path {
            value(&format!("{at}.path"), path, backend, v);
            if let Some(ValueMatch::Exact(p) | ValueMatch::Prefix(p)) = path.one() {
                if !p.starts_with('/') {
                    v.push(Problem::new(
                        &format!("{at}.path"),
                        format!("`{p}` does not start with `/`"),
                    ));
                }
            }
        }
        for (name, want) in &m.headers {
            header_name(&format!("{at}.headers.{name}"), name, v);
            value(&format!("{at}.headers.{name}"), want, backend, v);
        }
    }
}

fn header_name(at: &str, name: &str, v: &mut Vec<Problem>) {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        v.push(
            Problem::new(at, format!("`{name}` is not a valid HTTP header name"))
                .hint("e.g. `X-Canary`, or `Cookie` for a cookie"),
        );
    } else if name.eq_ignore_ascii_case("host") {
        v.push(
            Problem::new(at, "`Host` cannot be matched as a header")
                .hint("the route already matches the hosts of the plan's routes"),
        );
    }
}

/// Exactly one of `exact`, `prefix`, `regex`; not empty; a regex that compiles (and that Kong's
/// lower-casing leaves meaning the same).
fn value(at: &str, m: &StringMatch, backend: Option<Backend<'_>>, v: &mut Vec<Problem>) {
    let Some(one) = m.one() else {
        v.push(Problem::new(
            at,
            "set exactly one of `exact`, `prefix` or `regex`",
        ));
        return;
    };
    let at = format!("{at}.{}", one.kind());
    if one.text().is_empty() {
        v.push(Problem::new(&at, "the value is empty"));
        return;
    }
    if one.text().chars().any(char::is_control) {
        v.push(Problem::new(&at, "the value contains a control character"));
    }
    if let ValueMatch::Regex(pattern) = &one {
        if let Err(e) = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
        {
            let first = e.to_string();
            let last = first.lines().last().unwrap_or_default().trim().to_string();
            v.push(
                Problem::new(
                    &at,
                    format!("`{pattern}` is not a valid regular expression: {last}"),
                )
                .hint(
                    "write RE2 / Rust `regex` syntax, e.g. `^(alice|bob)$` or `session=[a-z0-9]+`",
                ),
            );
        } else if matches!(backend, Some(Backend::Kong(_))) && kong_lowering_changes(pattern) {
            v.push(
                Problem::new(
                    &at,
                    format!("`{pattern}` would change meaning on Kong, which lower-cases the pattern before matching (an escape like `\\D` becomes `\\d`)"),
                )
                .hint("write the class out, e.g. `[^0-9]` for `\\D`; Kong matches header values case-insensitively anyway"),
            );
        }
    }
}

/// What a Traefik mirror cannot say: a method pattern (Traefik's `Method` matches one method
/// exactly) and a fractional percentage (its `mirrors[].percent` is a whole number).
fn traefik_mirror(at: &str, m: &SetMirrorRoute, v: &mut Vec<Problem>) {
    if let Some(p) = m
        .percentage
        .filter(|p| p.fract() != 0.0 && (0.0..=100.0).contains(p))
    {
        v.push(
            Problem::new(
                &format!("{at}.percentage"),
                format!("{p} is not a whole percent, and Traefik mirrors whole percents only"),
            )
            .hint(&format!("use {} or {}", p.floor(), p.ceil())),
        );
    }
    for (j, alt) in m.matches.iter().flatten().enumerate() {
        if let Some(method) = alt.method.as_ref().and_then(StringMatch::one) {
            if !matches!(method, ValueMatch::Exact(_)) {
                v.push(
                    Problem::new(
                        &format!("{at}.match[{j}].method.{}", method.kind()),
                        "Traefik matches a request method exactly (`Method`), not by prefix or pattern",
                    )
                    .hint("write one alternative per method with `method: {exact: GET}`"),
                );
            }
        }
    }
}

/// Whether lower-casing `pattern` changes an escape (`\D`, `\W`, `\S`, `\B`, `\A`, `\Z`, `\P`,
/// `\Q`…): Kong lower-cases patterns of header routes.
fn kong_lowering_changes(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                if next.is_ascii_uppercase() {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::plan::validate::validate;
    use crate::plan::Plan;

    fn problems(provider: &str, envs: &str, steps: &str) -> Vec<String> {
        let yaml = format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata: {{name: r}}\nprovider: {provider}\n{envs}\
             strategy:\n  canary:\n    stable: blue\n    canary: green\n    steps: {steps}\n"
        );
        let plan: Plan = serde_yaml_ng::from_str(&yaml).unwrap();
        validate(&plan)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    const KONG: &str = "{kong: {adminUrl: 'http://k:8001'}}";
    const KONG_ENVS: &str = "service: {name: s, routes: [{name: r, paths: [/]}]}\nenvironments:\n  \
        blue: {upstream: b.v1, targets: [{target: 'a:1'}]}\n  green: {upstream: g.v1, targets: [{target: 'b:1'}]}\n";

    #[test]
    fn the_issue_example_validates_on_kong_without_the_mirror() {
        let steps = "[{setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]}}, \
                     {pause: {}}, {setWeight: 10}, {setHeaderRoute: {name: testers}}, {setWeight: 100}]";
        let p = problems(KONG, KONG_ENVS, steps);
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn every_shape_is_checked_with_its_key_path() {
        let steps = "[{setHeaderRoute: {name: Testers, match: [{headerName: 'X Canary', headerValue: {exact: a, prefix: b}}, \
                     {headerName: Host, headerValue: {regex: '(unclosed'}}, {headerName: Cookie, headerValue: {regex: '\\D+'}}]}}, \
                     {setHeaderRoute: {name: nobody}}, {setHeaderRoute: {name: empty, match: []}}, {setWeight: 100}]";
        let p = problems(KONG, KONG_ENVS, steps);
        for want in [
            "strategy.canary.steps[0].setHeaderRoute.name: `Testers` is not a valid route name",
            "strategy.canary.steps[0].setHeaderRoute.match[0].headerName: `X Canary` is not a valid HTTP header name",
            "strategy.canary.steps[0].setHeaderRoute.match[0].headerValue: set exactly one of `exact`, `prefix` or `regex`",
            "strategy.canary.steps[0].setHeaderRoute.match[1].headerName: `Host` cannot be matched as a header",
            "strategy.canary.steps[1].setHeaderRoute.name: no `setHeaderRoute` named `nobody` is active at this step, so there is nothing to remove",
            "strategy.canary.steps[2].setHeaderRoute.match: the list is empty",
        ] {
            assert!(p.iter().any(|x| x == want), "missing {want:?} in {p:#?}");
        }
        assert!(
            p.iter().any(|x| x.starts_with("strategy.canary.steps[0].setHeaderRoute.match[1].headerValue.regex: `(unclosed` is not a valid regular expression")),
            "{p:#?}"
        );
        assert!(
            p.iter().any(|x| x.starts_with("strategy.canary.steps[0].setHeaderRoute.match[2].headerValue.regex: `\\D+` would change meaning on Kong")),
            "{p:#?}"
        );
    }

    #[test]
    fn backends_that_cannot_express_a_route_refuse_it_with_the_reason() {
        let steps = "[{setMirrorRoute: {name: shadow, percentage: 50, match: [{method: {exact: GET}}]}}, {setWeight: 100}]";
        let p = problems(KONG, KONG_ENVS, steps);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(
            p[0].starts_with(
                "strategy.canary.steps[0].setMirrorRoute: open-source Kong cannot mirror traffic"
            ),
            "{p:#?}"
        );
        let haproxy = "{haproxy: {runtimeApi: 'tcp://127.0.0.1:9999', backend: app}}";
        let envs =
            "environments:\n  blue: {servers: [{name: b}]}\n  green: {servers: [{name: g}]}\n";
        let steps = "[{setHeaderRoute: {name: t, match: [{headerName: X-A, headerValue: {prefix: x}}]}}, {setWeight: 100}]";
        let p = problems(haproxy, envs, steps);
        assert!(
            p.iter().any(|x| x.starts_with(
                "strategy.canary.steps[0].setHeaderRoute: HAProxy's runtime API cannot add"
            )),
            "{p:#?}"
        );
    }

    #[test]
    fn traefik_takes_header_routes_and_mirrors_but_not_what_it_cannot_match() {
        let traefik = "{traefik: {apiUrl: 'http://127.0.0.1:1', service: app, stateFile: /tmp/s.json, router: {rule: 'PathPrefix(`/`)', entryPoints: [web]}}}";
        let envs = "environments:\n  blue: {servers: [{url: 'http://127.0.0.1:2'}]}\n  green: {servers: [{url: 'http://127.0.0.1:3'}]}\n";
        let ok = "[{setHeaderRoute: {name: t, match: [{headerName: X-A, headerValue: {prefix: x}}]}}, \
                  {setMirrorRoute: {name: s, percentage: 50, match: [{method: {exact: GET}}]}}, {setWeight: 100}]";
        let p = problems(traefik, envs, ok);
        assert!(p.is_empty(), "{p:#?}");
        let bad = "[{setMirrorRoute: {name: s, percentage: 12.5, match: [{method: {regex: 'GET|HEAD'}}]}}, {setWeight: 100}]";
        let p = problems(traefik, envs, bad);
        assert_eq!(
            p,
            [
                "strategy.canary.steps[0].setMirrorRoute.percentage: 12.5 is not a whole percent, and Traefik mirrors whole percents only",
                "strategy.canary.steps[0].setMirrorRoute.match[0].method.regex: Traefik matches a request method exactly (`Method`), not by prefix or pattern",
            ]
        );
    }

    #[test]
    fn mirror_shapes_are_checked_too() {
        // Shapes are reported even where the backend refuses the step as a whole.
        let steps = "[{setMirrorRoute: {name: shadow, percentage: 150, match: [{}, {path: {prefix: api}, headers: {X-A: {regex: '['}}}]}}, \
                     {setMirrorRoute: {name: other, percentage: 5}}, {setWeight: 100}]";
        let p = problems(KONG, KONG_ENVS, steps);
        for want in [
            "strategy.canary.steps[0].setMirrorRoute.percentage: 150 is outside 0–100 (percent of matching requests copied)",
            "strategy.canary.steps[0].setMirrorRoute.match[0]: no condition: this would copy every request",
            "strategy.canary.steps[0].setMirrorRoute.match[1].path: `api` does not start with `/`",
            "strategy.canary.steps[1].setMirrorRoute.percentage: a mirror without `match` is removed, so `percentage` means nothing here",
        ] {
            assert!(p.iter().any(|x| x == want), "missing {want:?} in {p:#?}");
        }
        assert!(
            p.iter().any(|x| x.starts_with("strategy.canary.steps[0].setMirrorRoute.match[1].headers.X-A.regex: `[` is not a valid regular expression")),
            "{p:#?}"
        );
    }

    const KUBE_ENVS: &str = "environments:\n  blue: {deployment: b, service: b}\n  green: {deployment: g, service: g}\n";

    #[test]
    fn kubernetes_routers_take_header_routes_and_refuse_what_they_cannot_express() {
        let steps = "[{setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {prefix: 'y'}}]}}, \
                     {setMirrorRoute: {name: shadow, percentage: 12.5, match: [{method: {regex: 'GET|HEAD'}}]}}, {setWeight: 100}]";
        for router in [
            "{gatewayApi: {httpRoute: r}}",
            "{istio: {virtualService: r}}",
            "{contour: {httpProxy: r}}",
        ] {
            let p = problems(&format!("{{kubernetes: {router}}}"), KUBE_ENVS, steps);
            let p: Vec<&String> = p
                .iter()
                .filter(|x| x.contains("steps[0]") || x.contains("steps[1]"))
                .collect();
            match router {
                r if r.contains("istio") => assert!(p.is_empty(), "{router}: {p:#?}"),
                r if r.contains("gateway") => assert_eq!(
                    p,
                    ["strategy.canary.steps[1].setMirrorRoute.match[0].method: Gateway API matches the method exactly, not by regex"],
                    "{router}"
                ),
                _ => {
                    assert_eq!(p.len(), 2, "{router}: {p:#?}");
                    assert!(p[0].starts_with("strategy.canary.steps[1].setMirrorRoute.percentage: Contour mirrors whole percents only"), "{p:#?}");
                    assert!(p[1].starts_with("strategy.canary.steps[1].setMirrorRoute.match[0].method: Contour HTTPProxy conditions cannot match the request method"), "{p:#?}");
                }
            }
        }
        let includes = "environments:\n  blue: {deployment: b, include: {name: b}}\n  green: {deployment: g, include: {name: g}}\n";
        let steps = "[{setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'y'}}]}}, {setWeight: 100}]";
        let p = problems(
            "{kubernetes: {contour: {httpProxy: root}}}",
            includes,
            steps,
        );
        assert!(
            p.iter().any(|x| x.starts_with("strategy.canary.steps[0].setHeaderRoute: a Contour root's `includes` cannot carry header routes")),
            "{p:#?}"
        );
        let p = problems("{kubernetes: {service: {name: s}}}", KUBE_ENVS, steps);
        assert!(
            p.iter().any(|x| x.starts_with("strategy.canary.steps[0].setHeaderRoute: a Service selector cannot route by header")),
            "{p:#?}"
        );
    }
}
