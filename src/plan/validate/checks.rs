//! What measures a rollout: the health check, `verify`, the analysis checks (one source each,
//! conditions that only use the variables their source provides) and the hooks.

use super::{url, PROBE_VARS, PROMETHEUS_VARS, WEBHOOK_VARS};
use crate::plan::model::{CheckSpec, HookSpec, Plan};
use crate::plan::Problem;

pub(super) fn health_check(plan: &Plan, v: &mut Vec<Problem>) {
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

/// The top-level `verify` needs a proxy to send sample requests through (Kubernetes plans are
/// refused with their own reason in `provider.rs`), and every `identity` must name something:
/// an empty value would match every answer by prefix.
pub(super) fn verification(plan: &Plan, v: &mut Vec<Problem>) {
    if let Some(verify) = &plan.verify {
        verify_spec("verify", verify, v);
        if plan.proxy_url().is_none() && plan.kubernetes().is_none() {
            v.push(
                Problem::new(
                    "verify",
                    "data-plane verification needs the provider's `proxyUrl`; without it this block would be ignored",
                )
                .hint("set `proxyUrl` under the provider (where bgctl sends sample requests) or remove `verify`"),
            );
        }
    }
    for (name, env) in &plan.environments {
        let Some(identity) = &env.identity else {
            continue;
        };
        let at = format!("environments.{name}.identity");
        let values = identity.values();
        if values.is_empty() {
            v.push(
                Problem::new(&at, "the list is empty")
                    .hint("name at least one value of the verify header, or remove `identity`"),
            );
        }
        for (i, value) in values.iter().enumerate() {
            if value.trim().is_empty() {
                let at = match identity {
                    crate::plan::model::Identity::One(_) => at.clone(),
                    crate::plan::model::Identity::Many(_) => format!("{at}[{i}]"),
                };
                v.push(
                    Problem::new(&at, "an empty identity would match every answer")
                        .hint("use the value the app sends in the verify header, e.g. `blue`"),
                );
            }
        }
    }
}

pub(super) fn verify_spec(at: &str, verify: &crate::plan::model::Verify, v: &mut Vec<Problem>) {
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
    if verify.header.as_deref().is_some_and(|h| {
        h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    }) {
        v.push(
            Problem::new(&format!("{at}.header"), "not a valid HTTP header name")
                .hint("e.g. `X-Backend`"),
        );
    }
}

pub(super) fn checks(plan: &Plan, v: &mut Vec<Problem>) {
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

pub(super) fn hooks(plan: &Plan, v: &mut Vec<Problem>) {
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
