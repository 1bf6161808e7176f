//! `bgctl init kong`: the service, its routes (an unnamed route by its id), the upstream the
//! service's `host` names (the live side) with its targets, and the other side: an existing
//! upstream (`--other-upstream`, or chosen on a terminal) read the same way, targets from
//! `--other-targets` (the upstream is then created by the first apply), or a placeholder
//! target `${GREEN_TARGET}`. Then what was read is adopted (tagged as the rollout's), so
//! `plan diff` has nothing to write.

use clap::Args;
use reqwest::Method;
use serde_json::{json, Value};

use super::yaml::{list, scalar};
use super::{placeholder_var, Asker, CommonInit, Doc};
use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::plan::model::{KongProvider, Secret};
use crate::providers::kong::adopt::{adoption_tags, route_label};
use crate::providers::kong::client::{urlencode, KongClient, KongError};
use crate::ui::Ui;

/// Read a Kong service and write its plan.
#[derive(Debug, Args)]
pub struct KongInit {
    /// Base URL of the Admin API.
    #[arg(long, value_name = "URL")]
    pub admin_url: String,
    /// The service whose traffic the plan switches.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Sent as `Kong-Admin-Token` (the plan reads it from `${KONG_ADMIN_TOKEN}`).
    #[arg(
        long,
        env = "KONG_ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub admin_token: Option<String>,
    /// The other side's upstream, read from Kong when it exists.
    #[arg(long, value_name = "NAME")]
    pub other_upstream: Option<String>,
    /// The other side's targets (`host:port`, comma-separated), when its upstream does not
    /// exist yet.
    #[arg(long, value_name = "TARGETS", value_delimiter = ',')]
    pub other_targets: Vec<String>,
    /// The data-plane URL, written as `proxyUrl` (switches are then verified through it).
    #[arg(long, value_name = "URL")]
    pub proxy_url: Option<String>,
    /// Flags every backend takes.
    #[command(flatten)]
    pub common: CommonInit,
}

fn kong_err(what: &str) -> impl Fn(KongError) -> CliError + '_ {
    move |e| CliError::from_std(format!("cannot read {what} from Kong"), &e)
}

fn targets_of(v: &[Value]) -> Vec<(String, u64)> {
    v.iter()
        .filter_map(|t| {
            Some((
                t.get("target")?.as_str()?.to_string(),
                t.get("weight").and_then(Value::as_u64).unwrap_or(100),
            ))
        })
        .collect()
}

/// Reads Kong and builds the plan document.
pub async fn init(g: &GlobalArgs, ui: &Ui, ask: &Asker, a: &KongInit) -> Result<Doc, CliError> {
    let mut headers = indexmap::IndexMap::new();
    if let Some(t) = &a.admin_token {
        headers.insert("Kong-Admin-Token".to_string(), Secret(t.clone()));
    }
    let spec = KongProvider {
        admin_url: a.admin_url.clone(),
        headers,
        proxy_url: None,
        proxy_urls: Vec::new(),
        tls: None,
        request_timeout: None,
        lock_ttl: None,
    };
    let deadline = crate::deadline::Deadline::after(g.timeout);
    let client = KongClient::new(&spec, Some(deadline))
        .map_err(|e| CliError::from_std("cannot set up the Admin API client", &e))?;
    let svc_path = format!("/services/{}", urlencode(&a.service));
    let service = client
        .get(&svc_path)
        .await
        .map_err(kong_err("the service"))?
        .ok_or_else(|| {
            CliError::usage(
                format!("Kong has no service `{}`", a.service),
                "name an existing service with `--service` (`GET /services` lists them)",
            )
        })?;
    let host = service
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let live_up = client
        .get(&format!("/upstreams/{}", urlencode(&host)))
        .await
        .map_err(kong_err("the live upstream"))?
        .ok_or_else(|| {
            CliError::usage(
                format!(
                    "service `{}` sends traffic to `{host}`, which is not a Kong upstream",
                    a.service
                ),
                "bgctl switches a service between upstreams (seed 000): create an upstream with \
                 the current host as its target and point the service at it, then run init again",
            )
        })?;
    if host.ends_with(".bgctl-canary") {
        return Err(CliError::usage(
            format!(
                "service `{}` is in the middle of a canary (`{host}`)",
                a.service
            ),
            "finish or abort the canary first (`bgctl promote` / `bgctl abort`)",
        ));
    }
    let live_targets = targets_of(
        &client
            .list(&format!("/upstreams/{}/targets", urlencode(&host)))
            .await
            .map_err(kong_err("the live upstream's targets"))?,
    );
    let routes = client
        .list(&format!("{svc_path}/routes"))
        .await
        .map_err(kong_err("the service's routes"))?;
    // A service an earlier bgctl rollout owns keeps that rollout's name (its record is there).
    let owner = service
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|t| t.strip_prefix("bgctl.owner="))
        .map(str::to_string);
    let rollout = a
        .common
        .name
        .clone()
        .or(owner)
        .unwrap_or_else(|| a.service.clone());
    let live_side = a.common.live_side.clone();
    let other = a.common.other_side(ask)?;

    // The other side: an upstream that exists, given targets, or a placeholder.
    let mut other_upstream = a.other_upstream.clone();
    if other_upstream.is_none() && a.other_targets.is_empty() {
        let candidates: Vec<String> = client
            .list("/upstreams")
            .await
            .map_err(kong_err("the upstreams"))?
            .iter()
            .filter_map(|u| u.get("name").and_then(Value::as_str))
            .filter(|n| *n != host && !n.contains(".bgctl-"))
            .map(str::to_string)
            .collect();
        let mut items = candidates.clone();
        items.push(format!(
            "a new upstream (`{}.{other}`), targets asked next",
            a.service
        ));
        if let Some(i) = ask.select(&format!("Upstream of `{other}`"), &items)? {
            other_upstream = candidates.get(i).cloned();
        } else if !candidates.is_empty() {
            // No terminal: never guess which upstream is the other side; say what there is.
            ui.say(&format!(
                "other upstreams in Kong: {}; `--other-upstream NAME` makes one of them `{other}`",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let other_live = match &other_upstream {
        Some(name) => client
            .get(&format!("/upstreams/{}", urlencode(name)))
            .await
            .map_err(kong_err("the other upstream"))?,
        None => None,
    };
    if let (Some(name), None) = (&other_upstream, &other_live) {
        if a.other_targets.is_empty() {
            return Err(CliError::usage(
                format!("Kong has no upstream `{name}`"),
                "name an existing upstream, or give the new one's targets with `--other-targets`",
            ));
        }
    }
    let other_targets = match &other_live {
        Some(_) => targets_of(
            &client
                .list(&format!(
                    "/upstreams/{}/targets",
                    urlencode(other_upstream.as_deref().unwrap_or_default())
                ))
                .await
                .map_err(kong_err("the other upstream's targets"))?,
        ),
        None if !a.other_targets.is_empty() => a
            .other_targets
            .iter()
            .map(|t| (t.trim().to_string(), 100))
            .collect(),
        None => ask
            .input(
                &format!(
                    "Targets of `{other}` (host:port, comma-separated; empty for a placeholder)"
                ),
                None,
            )?
            .map(|t| t.split(',').map(|x| (x.trim().to_string(), 100)).collect())
            .unwrap_or_default(),
    };
    let other_upstream = other_upstream.unwrap_or_else(|| format!("{}.{other}", a.service));

    // The plan.
    let mut doc = Doc::default();
    doc.comment(
        0,
        format!(
            "Written by `bgctl init kong` from the Admin API at {}: service `{}`, whose host\n\
         `{host}` is side `{live_side}` (live). `bgctl plan diff --exit-code` reports no change\n\
         for what was read; see each side's comment for what was not.",
            a.admin_url, a.service
        ),
    );
    doc.line(0, "apiVersion: bgctl.dev/v1");
    doc.line(0, "kind: Rollout");
    doc.line(0, "metadata:");
    doc.line(1, format!("name: {}", scalar(&rollout)));
    doc.line(0, "provider:");
    doc.line(1, "kong:");
    doc.line(2, format!("adminUrl: {}", scalar(&a.admin_url)));
    if a.admin_token.is_some() {
        doc.line(2, "headers:");
        doc.line(3, "Kong-Admin-Token: ${KONG_ADMIN_TOKEN}");
    }
    match &a.proxy_url {
        Some(p) => doc.line(2, format!("proxyUrl: {}", scalar(p))),
        None => doc.comment(2, "proxyUrl: http://127.0.0.1:8000   # set it to verify every switch through the data plane"),
    }
    doc.line(0, "service:");
    doc.line(1, format!("name: {}", scalar(&a.service)));
    if let Some(p) = service.get("path").and_then(Value::as_str) {
        doc.line(1, format!("path: {}", scalar(p)));
    }
    let proto = service
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("http");
    if proto != "http" {
        doc.line(1, format!("protocol: {}", scalar(proto)));
    }
    if routes.is_empty() {
        doc.line(1, "routes: []");
    } else {
        doc.line(1, "routes:");
    }
    for r in &routes {
        let name = r
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some(n) = name {
            doc.line(2, format!("- name: {}", scalar(n)));
        } else {
            doc.comment(
                2,
                "Created without a name: adopted by its id, as it is (bgctl does not rename it).",
            );
            doc.line(2, format!("- id: {}", scalar(id)));
        }
        for (key, field) in [
            ("hosts", "hosts"),
            ("paths", "paths"),
            ("methods", "methods"),
        ] {
            let items = str_items(r.get(field));
            if !items.is_empty() {
                doc.line(3, format!("{key}: {}", list(&items)));
            }
        }
        if r.get("strip_path").and_then(Value::as_bool) == Some(false) {
            doc.line(3, "stripPath: false");
        }
    }
    doc.line(0, "environments:");
    doc.line(1, format!("{}:", scalar(&live_side)));
    doc.comment(
        2,
        format!(
            "Live now: the service's host. Read from Kong ({} target(s)).",
            live_targets.len()
        ),
    );
    doc.line(2, format!("upstream: {}", scalar(&host)));
    side_targets(&mut doc, &live_targets);
    doc.line(1, format!("{}:", scalar(&other)));
    match (&other_live, other_targets.is_empty()) {
        (Some(_), false) => {
            doc.comment(2, "Not live. Read from Kong.");
            doc.line(2, format!("upstream: {}", scalar(&other_upstream)));
            side_targets(&mut doc, &other_targets);
        }
        (None, false) => {
            doc.comment(2, "Not live and not in Kong yet: the first `plan apply` or `switch` creates this\nupstream with these targets.");
            doc.line(2, format!("upstream: {}", scalar(&other_upstream)));
            side_targets(&mut doc, &other_targets);
        }
        (_, true) => {
            let var = placeholder_var(&other, "TARGET");
            let where_ = if other_live.is_some() {
                "in Kong without targets"
            } else {
                "not in Kong"
            };
            doc.comment(
                2,
                format!(
                    "PLACEHOLDER: not live and {where_}. Set `{var}` (host:port of the new\n\
                     version) before using this plan, or write the targets here; add a line per\n\
                     target. The first `plan apply` or `switch` creates what is missing."
                ),
            );
            doc.line(2, format!("upstream: {}", scalar(&other_upstream)));
            doc.line(2, "targets:");
            let p = doc.placeholder(
                &var,
                &format!("a target of `{other}`, host:port"),
                "127.0.0.1:8080",
            );
            doc.line(3, format!("- {{target: {p}, weight: 100}}"));
        }
    }
    doc.comment(0, "Probe each target before it gets traffic (without a health check nothing is probed):\nhealthCheck:\n  http: {path: /health, expectStatus: [200]}\n  timeout: 2s");
    doc.line(0, "strategy:");
    doc.line(1, "blueGreen:");
    doc.comment(
        2,
        "The side that serves now: applying this plan moves nothing.",
    );
    doc.line(2, format!("activeEnvironment: {}", scalar(&live_side)));

    // Adoption: tag what the plan names as the rollout's, so `plan diff` has nothing to write.
    let mut adopt: Vec<(String, String, Value)> = Vec::new();
    for r in &routes {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        adopt.push((
            format!("route {}", route_label(r)),
            format!("/routes/{}", urlencode(id)),
            r.clone(),
        ));
    }
    adopt.push((
        format!("upstream `{host}`"),
        format!("/upstreams/{}", urlencode(&host)),
        live_up,
    ));
    if let Some(up) = &other_live {
        adopt.push((
            format!("upstream `{other_upstream}`"),
            format!("/upstreams/{}", urlencode(&other_upstream)),
            up.clone(),
        ));
    }
    for (what, path, entity) in adopt {
        let Some(tags) = adoption_tags(&entity, &rollout) else {
            continue;
        };
        if a.common.no_adopt {
            ui.say(&format!(
                "not adopted (--no-adopt): {what}; the first `plan apply` tags it"
            ));
            continue;
        }
        client
            .write(Method::PATCH, &path, Some(&json!({"tags": tags})), true)
            .await
            .map_err(|e| {
                CliError::from_std(format!("cannot tag {what} as owned by `{rollout}`"), &e)
            })?;
        ui.say(&format!("adopted {what}: tagged `bgctl.owner={rollout}`"));
    }
    Ok(doc)
}

fn str_items(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn side_targets(doc: &mut Doc, targets: &[(String, u64)]) {
    if targets.is_empty() {
        doc.line(2, "targets: []");
        return;
    }
    doc.line(2, "targets:");
    for (t, w) in targets {
        doc.line(3, format!("- {{target: {}, weight: {w}}}", scalar(t)));
    }
}
