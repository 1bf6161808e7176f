//! `bgctl init kubernetes`: a Service whose label selector is flipped (seed 004). The live
//! side is the Deployment whose pod template carries every label of the Service's selector.
//! The other side is `--other-deployment`, else the one other Deployment whose pod labels
//! have every selector key with different values (seed 004's `green` beside `blue`), which
//! is chosen without asking when it is the only one (and said so on stderr; on a terminal it
//! is asked). Without one, the other side's Deployment and the value of its distinguishing
//! label (`version`, `color`, `slot`, `track` or `env` when the selector has one, else its
//! last key) are placeholders. Kubernetes objects carry no bgctl ownership mark until a
//! rollout writes its record, so nothing is adopted.

use clap::Args;
use serde_json::Value;

use super::yaml::scalar;
use super::{placeholder_var, Asker, CommonInit, Doc};
use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::providers::kubernetes::client::{ConnSpec, KubeClient, DEPLOYMENT, SERVICE};
use crate::ui::Ui;

/// Read a Kubernetes Service and write its plan.
#[derive(Debug, Args)]
pub struct KubeInit {
    /// The Service whose selector the plan flips.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Namespace (default: the context's).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// The other side's Deployment.
    #[arg(long, value_name = "NAME")]
    pub other_deployment: Option<String>,
    /// Flags every backend takes.
    #[command(flatten)]
    pub common: CommonInit,
}

type Labels = indexmap::IndexMap<String, String>;

fn labels(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn pod_labels(d: &Value) -> Labels {
    labels(d.pointer("/spec/template/metadata/labels"))
}

fn name_of(d: &Value) -> String {
    d.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Reads Kubernetes and builds the plan document.
pub async fn init(g: &GlobalArgs, ui: &Ui, ask: &Asker, a: &KubeInit) -> Result<Doc, CliError> {
    let deadline = crate::deadline::Deadline::after(g.timeout);
    let client = KubeClient::new(
        ConnSpec {
            kubeconfig: a.kubeconfig.clone().map(Into::into),
            context: g.context.clone(),
            namespace: a.namespace.clone(),
            request_timeout: None,
        },
        Some(deadline),
    );
    let read_err = |what: &str| {
        let what = what.to_string();
        move |e| CliError::from_std(format!("cannot read {what} from Kubernetes"), &e)
    };
    let svc = client
        .get(&SERVICE, &a.service)
        .await
        .map_err(read_err("the Service"))?
        .ok_or_else(|| {
            CliError::usage(
                format!(
                    "there is no Service `{}` in namespace `{}`",
                    a.service,
                    client.namespace()
                ),
                "name an existing Service with `--service` (and `-n` for its namespace)",
            )
        })?;
    let selector = labels(svc.pointer("/spec/selector"));
    if selector.is_empty() {
        return Err(CliError::usage(
            format!("Service `{}` has no selector", a.service),
            "bgctl flips a Service's label selector between two Deployments",
        ));
    }
    let deployments = client
        .list(&DEPLOYMENT)
        .await
        .map_err(read_err("the Deployments"))?;
    let selects = |d: &Value| {
        let l = pod_labels(d);
        selector.iter().all(|(k, v)| l.get(k) == Some(v))
    };
    let live: Vec<&Value> = deployments.iter().filter(|d| selects(d)).collect();
    let live = match live.as_slice() {
        [one] => *one,
        [] => {
            return Err(CliError::usage(
                format!(
                    "no Deployment's pods match Service `{}`'s selector {selector:?}",
                    a.service
                ),
                "init starts from the Deployment that serves now",
            ))
        }
        many => {
            return Err(CliError::usage(
                format!(
                    "several Deployments match Service `{}`'s selector: {}",
                    a.service,
                    many.iter()
                        .map(|d| name_of(d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "a blue-green Service selects exactly one side's pods",
            ))
        }
    };
    let live_name = name_of(live);
    let rollout = a.common.name.clone().unwrap_or_else(|| a.service.clone());
    let live_side = a.common.live_side.clone();
    let other = a.common.other_side(ask)?;

    // The other side: named, the one candidate, or a placeholder.
    let candidates: Vec<&Value> = deployments
        .iter()
        .filter(|d| {
            let l = pod_labels(d);
            !selects(d) && selector.keys().all(|k| l.contains_key(k))
        })
        .collect();
    let other_dep: Option<&Value> = if let Some(n) = &a.other_deployment {
        Some(
            deployments
                .iter()
                .find(|d| name_of(d) == *n)
                .ok_or_else(|| CliError::usage(format!("there is no Deployment `{n}`"), "name an existing Deployment, or leave `--other-deployment` out for a placeholder"))?,
        )
    } else {
        {
            let mut items: Vec<String> = candidates.iter().map(|d| name_of(d)).collect();
            items.push("none yet (a placeholder)".into());
            match ask.select(&format!("Deployment of `{other}`"), &items)? {
                Some(i) => candidates.get(i).copied(),
                None if candidates.len() == 1 => {
                    ui.say(&format!(
                        "other side: Deployment `{}` (its pods have the selector's keys with other values; `--other-deployment` chooses another)",
                        name_of(candidates[0])
                    ));
                    Some(candidates[0])
                }
                None => None,
            }
        }
    };
    let other_selector: Option<Labels> = match other_dep {
        Some(d) => {
            let l = pod_labels(d);
            let sel: Labels = selector
                .keys()
                .filter_map(|k| Some((k.clone(), l.get(k)?.clone())))
                .collect();
            if sel.len() != selector.len() || selects(d) {
                return Err(CliError::usage(
                    format!("Deployment `{}`'s pods cannot be told apart from `{live_name}`'s by the selector's keys", name_of(d)),
                    "the other side's pods need the same label keys with a different value (e.g. `version: v2`)",
                ));
            }
            Some(sel)
        }
        None => None,
    };

    let mut doc = Doc::default();
    doc.comment(0, format!(
        "Written by `bgctl init kubernetes` from Service `{}`, whose selector picks Deployment\n\
         `{live_name}`: side `{live_side}` (live). `bgctl plan diff --exit-code` reports no change\n\
         for what was read; see each side's comment for what was not.",
        a.service
    ));
    doc.line(0, "apiVersion: bgctl.dev/v1");
    doc.line(0, "kind: Rollout");
    doc.line(0, "metadata:");
    doc.line(1, format!("name: {}", scalar(&rollout)));
    doc.line(0, "provider:");
    doc.line(1, "kubernetes:");
    if let Some(ns) = &a.namespace {
        doc.line(2, format!("namespace: {}", scalar(ns)));
    }
    if let Some(k) = &a.kubeconfig {
        doc.line(2, format!("kubeconfig: {}", scalar(k)));
    }
    doc.line(2, format!("service: {{name: {}}}", scalar(&a.service)));
    doc.line(0, "environments:");
    doc.line(1, format!("{}:", scalar(&live_side)));
    doc.comment(2, "Live now: the Service selects this Deployment's pods.");
    doc.line(2, format!("deployment: {}", scalar(&live_name)));
    doc.line(2, format!("selector: {}", flow(&selector)));
    doc.line(1, format!("{}:", scalar(&other)));
    if let (Some(d), Some(sel)) = (other_dep, other_selector) {
        doc.comment(2, "Not live: read from Kubernetes.");
        doc.line(2, format!("deployment: {}", scalar(&name_of(d))));
        doc.line(2, format!("selector: {}", flow(&sel)));
    } else {
        {
            let key = ["version", "color", "colour", "slot", "track", "env"]
                .iter()
                .find(|k| selector.contains_key(**k))
                .map_or_else(
                    || selector.keys().last().cloned().unwrap_or_default(),
                    |k| (*k).to_string(),
                );
            let dep_var = placeholder_var(&other, "DEPLOYMENT");
            let label_var = placeholder_var(
                &other,
                &key.to_ascii_uppercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            );
            doc.comment(2, format!(
                "PLACEHOLDER: no other Deployment was found. Set `{dep_var}` (its name) and\n\
                 `{label_var}` (its pods' `{key}` label) before using this plan, or write them here;\n\
                 add `manifest: FILE` to have bgctl apply it before the switch."
            ));
            let dep = doc.placeholder(
                &dep_var,
                &format!("the Deployment of `{other}`"),
                &format!("{rollout}-{other}"),
            );
            doc.line(2, format!("deployment: {dep}"));
            let val = doc.placeholder(
                &label_var,
                &format!("the `{key}` label of `{other}`'s pods"),
                other.as_str(),
            );
            let mut parts: Vec<String> = Vec::new();
            for (k, v) in &selector {
                if *k == key {
                    parts.push(format!("{}: {val}", scalar(k)));
                } else {
                    parts.push(format!("{}: {}", scalar(k), scalar(v)));
                }
            }
            doc.line(2, format!("selector: {{{}}}", parts.join(", ")));
        }
    }
    doc.line(0, "strategy:");
    doc.line(1, "blueGreen:");
    doc.comment(
        2,
        "The side that serves now: applying this plan moves nothing.",
    );
    doc.line(2, format!("activeEnvironment: {}", scalar(&live_side)));
    Ok(doc)
}

fn flow(l: &Labels) -> String {
    format!(
        "{{{}}}",
        l.iter()
            .map(|(k, v)| format!("{}: {}", scalar(k), scalar(v)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
