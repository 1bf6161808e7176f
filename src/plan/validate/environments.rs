//! The environments: at least two, named as DNS labels ([`names::check_environment_name`]),
//! and what each provider needs of them — Kong upstreams and targets (hostnames, ports, weights,
//! duplicates after Kong's normalisation), HAProxy and Traefik servers, Kubernetes Deployments,
//! selectors, Services and Contour includes.

use std::collections::HashSet;

use super::{haproxy_name, k8s_name, url};
use crate::plan::model::{Backend, Plan};
use crate::plan::{names, Problem};

pub(super) fn environments(plan: &Plan, v: &mut Vec<Problem>) {
    if plan.environments.len() < 2 {
        v.push(
            Problem::new("environments", "a release needs at least two environments")
                .hint("define e.g. `blue` and `green`"),
        );
    }
    // Every provider writes environment names into object names and bgctl prints them in
    // commands; one charset for all (this also covers Traefik's service names).
    for name in plan.environments.keys() {
        if let Err(message) = names::check_environment_name(name) {
            let mut p = Problem::new(&format!("environments.{name}"), message).hint(
                "use lower-case letters, digits and `-`, starting and ending with a letter or \
                 digit (a DNS label, e.g. `blue`, `green-2`)",
            );
            p.at_key = true;
            v.push(p);
        }
    }
    match plan.provider.backend() {
        Ok(Backend::Kong(_)) => kong_environments(plan, v),
        Ok(Backend::Haproxy(_)) => server_environments(plan, true, v),
        Ok(Backend::Traefik(_)) => server_environments(plan, false, v),
        Ok(Backend::Kubernetes(k8s)) => kubernetes_environments(plan, k8s, v),
        Err(_) => {}
    }
}

/// HAProxy (`haproxy`) and Traefik servers.
fn server_environments(plan: &Plan, haproxy: bool, v: &mut Vec<Problem>) {
    let who = if haproxy { "HAProxy" } else { "Traefik" };
    let mut names = HashSet::new();
    for (name, env) in &plan.environments {
        let at = format!("environments.{name}");
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
    k8s: &crate::plan::model::KubernetesProvider,
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
    env: &crate::plan::model::Environment,
    with: &str,
    k8s: &crate::plan::model::KubernetesProvider,
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
