//! The strategy: exactly one of blue-green or canary, references to environments and checks that
//! exist (with a did-you-mean), canary steps whose weights make sense.

use super::checks::verify_spec;
use super::closest;
use crate::plan::model::{Backend, CanaryStep, Plan};
use crate::plan::{names, Problem};

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

pub(super) fn strategy(plan: &Plan, v: &mut Vec<Problem>) {
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
            for (path, name) in [
                ("strategy.canary.stable", &c.stable),
                ("strategy.canary.canary", &c.canary),
            ] {
                if name.is_empty() {
                    // Filled when loading in a plan of two environments (`Canary::fill_roles`).
                    v.push(
                        Problem::new(path, "required with more than two environments")
                            .hint("name the environment; only a plan of two environments may leave `stable` and `canary` to bgctl"),
                    );
                } else {
                    env_ref(plan, path, name, v);
                }
            }
            if !c.stable.is_empty() && c.stable == c.canary {
                v.push(Problem::new(
                    "strategy.canary.canary",
                    "the canary and the stable environment are the same",
                ));
            }
            if let Some(verify) = &c.verify {
                verify_spec("strategy.canary.verify", verify, v);
                // A backend without a data plane refuses `verify` itself (`capabilities`).
                let has_data_plane = plan
                    .provider
                    .backend()
                    .is_ok_and(|b| b.capabilities().data_plane.is_ok());
                if has_data_plane && plan.proxy_url().is_none() {
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
            if let (Some(m), Ok(Backend::Kong(_))) = (&c.mixed_upstream, plan.provider.backend()) {
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
            + usize::from(step.analysis.is_some())
            + usize::from(step.set_header_route.is_some())
            + usize::from(step.set_mirror_route.is_some());
        if set != 1 {
            v.push(Problem::new(
                &at,
                "a step has exactly one of `setWeight`, `pause`, `analysis`, `setHeaderRoute` or `setMirrorRoute`",
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
    super::routes::route_steps(plan, steps, v);
}
