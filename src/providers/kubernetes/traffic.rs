//! Reading and computing routing on the four traffic objects, as pure functions over JSON so
//! they are unit-tested without a server.
//!
//! * **Service**: the `spec.selector` equals one environment's `selector` (blue-green only).
//! * **HTTPRoute** `spec.rules[].backendRefs[]`, **HTTPProxy** `spec.routes[].services[]`,
//!   **VirtualService** `spec.http[].route[]`: a rule is *managed* when one of its entries
//!   names an environment (by backend Service, or by Istio subset). bgctl rewrites the weights of
//!   managed rules only and leaves every other rule alone. In a managed rule, an environment that
//!   should get traffic but has no entry gets one (a copy of a sibling entry, so the port and
//!   other fields carry over), and entries that name no environment are set to weight 0 — the
//!   rule belongs to the rollout while bgctl manages it.
//! * Weights are percentages (integers summing to 100, as Istio requires); the achieved
//!   canary share is read back from the live weights, with each API's defaulting rules
//!   (HTTPRoute: a missing weight is 1; HTTPProxy: no weights at all is an even split, else a
//!   missing one is 0; VirtualService: a lone destination gets 100).
//! * **HTTPProxy `spec.includes[]`** (seed 003's root/child delegation, blue-green only): each
//!   environment names one child HTTPProxy (`include: {name, namespace?}`), and the root's
//!   *managed* include is the one entry naming an environment's child (a missing `namespace`,
//!   in the entry or in the plan, is the root's). A switch renames that entry to the target's
//!   child and keeps its `conditions` and every other field; other includes are untouched. The
//!   namespace is written only when the target's differs from the root's or the entry already
//!   had one, so a root written without namespaces stays that way. An include cannot split
//!   traffic, so a [`Traffic::Split`] is refused (weights belong on the child's `services`,
//!   with `service:` on the environments). Decision: the plan names children per environment
//!   rather than bgctl remembering which entry it manages (e.g. by its `conditions`), so the
//!   live object alone says which side is live, as for the other routers, and two entries
//!   naming environments is reported instead of guessed at.
//! * Rules bgctl owns for header routes and mirrors ([`super::routes`], placed first) are not
//!   read as the user's routing; owned header rules keep their canary-only backend, owned
//!   mirror rules get the same weights as the rule they copy, and Contour `mirror: true`
//!   services neither count nor get a weight here.
//! * The whole list of a managed rule (or the whole `includes` list) is sent in a JSON merge
//!   patch that also carries `metadata.resourceVersion`, so a concurrent edit makes the write
//!   fail (409) instead of being overwritten.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::providers::Traffic;

/// Which object moves traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Router {
    /// Service selector.
    Service,
    /// Gateway API HTTPRoute.
    HttpRoute,
    /// Contour HTTPProxy `services` weights.
    HttpProxy,
    /// Contour root HTTPProxy `includes` (one child HTTPProxy per environment).
    HttpProxyInclude,
    /// Istio VirtualService.
    VirtualService,
}

/// How an environment appears in the traffic object.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// Environment name.
    pub env: String,
    /// Pod labels (Service selector).
    pub selector: BTreeMap<String, String>,
    /// Backend Service (HTTPRoute/HTTPProxy name, Istio destination host).
    pub service: Option<String>,
    /// Istio subset.
    pub subset: Option<String>,
    /// Contour child HTTPProxy a root includes.
    pub include: Option<Include>,
}

/// A child HTTPProxy: `name` in `namespace` (`None`: the root's namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Include {
    /// HTTPProxy name.
    pub name: String,
    /// Its namespace, when it is not the root's.
    pub namespace: Option<String>,
}

impl Include {
    /// `namespace/name`, with the root's namespace filled in.
    pub fn display(&self, root_ns: &str) -> String {
        format!(
            "{}/{}",
            self.namespace.as_deref().unwrap_or(root_ns),
            self.name
        )
    }
}

impl Router {
    /// `(rules key, entries key)` inside `spec`.
    fn lists(self) -> (&'static str, &'static str) {
        match self {
            Router::HttpRoute => ("rules", "backendRefs"),
            Router::HttpProxy => ("routes", "services"),
            Router::VirtualService => ("http", "route"),
            Router::Service | Router::HttpProxyInclude => ("", ""),
        }
    }

    /// Whether `entry` is `side`'s.
    pub(crate) fn matches(self, entry: &Value, side: &Side) -> bool {
        if is_mirror(entry) {
            return false;
        }
        match self {
            Router::HttpRoute | Router::HttpProxy => {
                side.service.is_some() && entry["name"].as_str() == side.service.as_deref()
            }
            Router::VirtualService => {
                let d = &entry["destination"];
                side.subset.is_some()
                    && d["subset"].as_str() == side.subset.as_deref()
                    && side
                        .service
                        .as_deref()
                        .is_none_or(|h| d["host"].as_str() == Some(h))
            }
            Router::Service | Router::HttpProxyInclude => false,
        }
    }

    /// A human name for an entry that is no environment's.
    fn entry_name(self, entry: &Value) -> String {
        match self {
            Router::VirtualService => format!(
                "{}/{}",
                entry["destination"]["host"].as_str().unwrap_or("?"),
                entry["destination"]["subset"].as_str().unwrap_or("-")
            ),
            _ => entry["name"].as_str().unwrap_or("?").to_string(),
        }
    }
}

/// A Contour `mirror: true` service (of an owned mirror route, [`super::routes`]): it gets a
/// copy of the traffic, not a share, so weights neither count nor touch it.
fn is_mirror(entry: &Value) -> bool {
    entry["mirror"] == json!(true)
}

/// Live weights of the entries of one list (with each API's defaults applied).
fn effective_weights(router: Router, entries: &[Value]) -> Vec<u64> {
    let explicit: Vec<Option<u64>> = entries.iter().map(|e| e["weight"].as_u64()).collect();
    match router {
        Router::HttpRoute => explicit.iter().map(|w| w.unwrap_or(1)).collect(),
        Router::HttpProxy => {
            if explicit.iter().all(Option::is_none) {
                vec![1; entries.len()]
            } else {
                explicit.iter().map(|w| w.unwrap_or(0)).collect()
            }
        }
        Router::VirtualService => {
            if entries.len() == 1 {
                vec![explicit[0].unwrap_or(100)]
            } else {
                explicit.iter().map(|w| w.unwrap_or(0)).collect()
            }
        }
        Router::Service | Router::HttpProxyInclude => Vec::new(),
    }
}

fn rules(router: Router, obj: &Value) -> Vec<Value> {
    let (r, _) = router.lists();
    obj["spec"][r].as_array().cloned().unwrap_or_default()
}

fn entries(router: Router, rule: &Value) -> Vec<Value> {
    let (_, e) = router.lists();
    rule[e].as_array().cloned().unwrap_or_default()
}

fn managed(router: Router, rule: &Value, sides: &[Side]) -> bool {
    entries(router, rule)
        .iter()
        .any(|e| sides.iter().any(|s| router.matches(e, s)))
}

/// Where `obj` sends traffic. `names` gives `(stable, canary)` for a split when the record or
/// the plan knows them.
pub fn read(router: Router, obj: &Value, sides: &[Side], names: Option<(&str, &str)>) -> Traffic {
    if router == Router::HttpProxyInclude {
        return read_includes(obj, sides);
    }
    if router == Router::Service {
        let sel: BTreeMap<String, String> = obj["spec"]["selector"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        return match sides.iter().find(|s| s.selector == sel) {
            Some(s) => Traffic::Env { env: s.env.clone() },
            None => Traffic::Foreign {
                target: format!(
                    "selector {}",
                    sel.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            },
        };
    }
    // The bgctl-owned header and mirror rules placed first are not the user's routing.
    let owned: Vec<usize> = super::routes::owned(router, obj)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let Some(rule) = rules(router, obj)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !owned.contains(i))
        .map(|(_, r)| r)
        .find(|r| managed(router, r, sides))
    else {
        return Traffic::Foreign {
            target: "no rule routes to an environment".into(),
        };
    };
    let list: Vec<Value> = entries(router, &rule)
        .into_iter()
        .filter(|e| !is_mirror(e))
        .collect();
    let weights = effective_weights(router, &list);
    let mut per_env: Vec<(String, u64)> = Vec::new();
    let mut foreign: Vec<String> = Vec::new();
    for (e, w) in list.iter().zip(&weights) {
        match sides.iter().find(|s| router.matches(e, s)) {
            Some(s) => match per_env.iter_mut().find(|(n, _)| *n == s.env) {
                Some(slot) => slot.1 += w,
                None => per_env.push((s.env.clone(), *w)),
            },
            None if *w > 0 => foreign.push(router.entry_name(e)),
            None => {}
        }
    }
    if !foreign.is_empty() {
        return Traffic::Foreign {
            target: foreign.join(", "),
        };
    }
    let total: u64 = per_env.iter().map(|p| p.1).sum();
    let live: Vec<&(String, u64)> = per_env.iter().filter(|p| p.1 > 0).collect();
    match live.as_slice() {
        [] => Traffic::Foreign {
            target: "every weight is 0".into(),
        },
        [one] => Traffic::Env { env: one.0.clone() },
        [a, b] => {
            let (stable, canary) = match names {
                Some((s, c))
                    if [s, c].contains(&a.0.as_str()) && [s, c].contains(&b.0.as_str()) =>
                {
                    (s.to_string(), c.to_string())
                }
                // Without a record, the heavier side is the stable one.
                _ if a.1 >= b.1 => (a.0.clone(), b.0.clone()),
                _ => (b.0.clone(), a.0.clone()),
            };
            let c = per_env.iter().find(|p| p.0 == canary).map_or(0, |p| p.1);
            Traffic::Split {
                stable,
                canary,
                percent: 100.0 * c as f64 / total as f64,
            }
        }
        _ => Traffic::Foreign {
            target: format!(
                "{} environments at once",
                live.iter()
                    .map(|p| p.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// Percent per environment for `to`.
pub fn desired(to: &Traffic, sides: &[Side]) -> Result<BTreeMap<String, u64>, String> {
    let mut out: BTreeMap<String, u64> = sides.iter().map(|s| (s.env.clone(), 0)).collect();
    match to {
        Traffic::Env { env } => {
            *out.get_mut(env)
                .ok_or_else(|| format!("unknown environment `{env}`"))? = 100;
        }
        Traffic::Split {
            stable,
            canary,
            percent,
        } => {
            let c = percent.clamp(0.0, 100.0).round() as u64;
            *out.get_mut(canary)
                .ok_or_else(|| format!("unknown environment `{canary}`"))? = c;
            *out.get_mut(stable)
                .ok_or_else(|| format!("unknown environment `{stable}`"))? = 100 - c;
        }
        Traffic::Missing | Traffic::Foreign { .. } => {
            return Err("traffic can only be pointed at an environment or a split".into())
        }
    }
    Ok(out)
}

/// The `spec` part of a merge patch that makes `obj` route as `want`; `None` when nothing
/// changes.
pub fn spec_patch(
    router: Router,
    obj: &Value,
    sides: &[Side],
    want: &BTreeMap<String, u64>,
) -> Result<Option<Value>, String> {
    if router == Router::Service {
        let env = want
            .iter()
            .find(|(_, w)| **w == 100)
            .map(|(e, _)| e.clone())
            .ok_or("a Service selector can only send all traffic to one environment")?;
        let side = sides
            .iter()
            .find(|s| s.env == env)
            .ok_or_else(|| format!("unknown environment `{env}`"))?;
        let live = obj["spec"]["selector"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut sel = Map::new();
        for k in live.keys() {
            if !side.selector.contains_key(k) {
                sel.insert(k.clone(), Value::Null);
            }
        }
        for (k, v) in &side.selector {
            if live.get(k).and_then(Value::as_str) != Some(v.as_str()) {
                sel.insert(k.clone(), json!(v));
            }
        }
        return Ok((!sel.is_empty()).then(|| json!({"selector": sel})));
    }
    if router == Router::HttpProxyInclude {
        return includes_patch(obj, sides, want);
    }
    let (rules_key, entries_key) = router.lists();
    let mut all = rules(router, obj);
    // Owned header rules send only to the canary and are left alone; owned mirror rules copy
    // the user's rule, so their weights move with it ([`super::routes`]).
    let owned = super::routes::owned(router, obj);
    let is_owned_header = |i: usize| {
        owned
            .iter()
            .any(|(o, n)| *o == i && super::routes::is_header(n))
    };
    let is_owned = |i: usize| owned.iter().any(|(o, _)| *o == i);
    if !all
        .iter()
        .enumerate()
        .any(|(i, r)| !is_owned(i) && managed(router, r, sides))
    {
        return Err(format!(
            "no entry of `spec.{rules_key}[].{entries_key}` names an environment's {}; add one for the live side first",
            if router == Router::VirtualService { "subset" } else { "Service" }
        ));
    }
    let mut changed = false;
    for (i, rule) in all.iter_mut().enumerate() {
        if is_owned_header(i) || !managed(router, rule, sides) {
            continue;
        }
        let mut list = entries(router, rule);
        let template = list
            .iter()
            .find(|e| sides.iter().any(|s| router.matches(e, s)))
            .cloned()
            .unwrap_or_default();
        for e in list.iter_mut().filter(|e| !is_mirror(e)) {
            let w = sides
                .iter()
                .find(|s| router.matches(e, s))
                .and_then(|s| want.get(&s.env).copied())
                .unwrap_or(0);
            if e["weight"].as_u64() != Some(w) {
                e["weight"] = json!(w);
                changed = true;
            }
        }
        for side in sides {
            let w = want.get(&side.env).copied().unwrap_or(0);
            if w == 0 || list.iter().any(|e| router.matches(e, side)) {
                continue;
            }
            let mut e = template.clone();
            match router {
                Router::VirtualService => {
                    e["destination"]["subset"] = json!(side.subset);
                    if let Some(h) = &side.service {
                        e["destination"]["host"] = json!(h);
                    }
                }
                _ => e["name"] = json!(side.service),
            }
            e["weight"] = json!(w);
            list.push(e);
            changed = true;
        }
        rule[entries_key] = Value::Array(list);
    }
    Ok(changed.then(|| json!({ rules_key: all })))
}

/// The namespace of a (root) HTTPProxy as read from the API server.
fn namespace_of(obj: &Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// The child an `includes[]` entry names, with the root's namespace filled in.
fn included(entry: &Value, root_ns: &str) -> (String, String) {
    (
        entry["namespace"].as_str().unwrap_or(root_ns).to_string(),
        entry["name"].as_str().unwrap_or("?").to_string(),
    )
}

/// The environment whose child `entry` includes.
fn include_side<'a>(entry: &Value, root_ns: &str, sides: &'a [Side]) -> Option<&'a Side> {
    let (ns, name) = included(entry, root_ns);
    sides.iter().find(|s| {
        s.include
            .as_ref()
            .is_some_and(|i| i.name == name && i.namespace.as_deref().unwrap_or(root_ns) == ns)
    })
}

/// The `includes` of a root HTTPProxy and, of those, the indexes naming an environment's child.
fn managed_includes(obj: &Value, sides: &[Side]) -> (Vec<Value>, Vec<usize>) {
    let root_ns = namespace_of(obj);
    let list = obj["spec"]["includes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let managed = list
        .iter()
        .enumerate()
        .filter(|(_, e)| include_side(e, root_ns, sides).is_some())
        .map(|(i, _)| i)
        .collect();
    (list, managed)
}

fn read_includes(obj: &Value, sides: &[Side]) -> Traffic {
    let root_ns = namespace_of(obj);
    let (list, managed) = managed_includes(obj, sides);
    let name = |e: &Value| {
        let (ns, n) = included(e, root_ns);
        format!("{ns}/{n}")
    };
    match managed.as_slice() {
        [i] => Traffic::Env {
            env: include_side(&list[*i], root_ns, sides)
                .map(|s| s.env.clone())
                .unwrap_or_default(),
        },
        [] if list.is_empty() => Traffic::Foreign {
            target: "no includes".into(),
        },
        [] => Traffic::Foreign {
            target: format!(
                "includes {} (no environment's HTTPProxy)",
                list.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        },
        more => Traffic::Foreign {
            target: format!(
                "includes {} at once",
                more.iter()
                    .map(|i| {
                        let e = &list[*i];
                        let env = include_side(e, root_ns, sides).map_or("?", |s| s.env.as_str());
                        format!("{} ({env})", name(e))
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        },
    }
}

/// The managed include, as `namespace/name (environment) for conditions`, for `bgctl status`.
pub fn describe_include(obj: &Value, sides: &[Side]) -> Option<String> {
    let root_ns = namespace_of(obj);
    let (list, managed) = managed_includes(obj, sides);
    let [i] = managed.as_slice() else {
        return None;
    };
    let e = &list[*i];
    let side = include_side(e, root_ns, sides)?;
    let (ns, name) = included(e, root_ns);
    let conditions = e["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(Value::as_object)
                .flat_map(|c| {
                    c.iter().map(|(k, v)| {
                        format!(
                            "`{k}: {}`",
                            v.as_str().map_or_else(|| v.to_string(), str::to_string)
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Some(format!(
        "includes HTTPProxy `{ns}/{name}` (environment `{}`){}",
        side.env,
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" for {}", conditions.join(", "))
        }
    ))
}

fn includes_patch(
    obj: &Value,
    sides: &[Side],
    want: &BTreeMap<String, u64>,
) -> Result<Option<Value>, String> {
    let env = want
        .iter()
        .find(|(_, w)| **w == 100)
        .map(|(e, _)| e.clone())
        .ok_or(
            "a root HTTPProxy's `includes` sends all traffic to one child, so it cannot split \
             traffic; for weights, give the environments `service:` and use the child's `services`",
        )?;
    let target = sides
        .iter()
        .find(|s| s.env == env)
        .and_then(|s| s.include.as_ref())
        .ok_or_else(|| format!("environment `{env}` names no child HTTPProxy (`include`)"))?;
    let root_ns = namespace_of(obj);
    let (mut list, managed) = managed_includes(obj, sides);
    let i = match managed.as_slice() {
        [i] => *i,
        [] => {
            return Err(format!(
                "no entry of `spec.includes` names an environment's HTTPProxy ({}); add one for the live side first",
                sides
                    .iter()
                    .filter_map(|s| s.include.as_ref().map(|i| format!("`{}`", i.display(root_ns))))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        }
        more => {
            return Err(format!(
                "{} entries of `spec.includes` name environments' HTTPProxies ({}); bgctl switches one entry, so leave only the live side's",
                more.len(),
                more.iter()
                    .map(|i| {
                        let (ns, n) = included(&list[*i], root_ns);
                        format!("`{ns}/{n}`")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    let target_ns = target.namespace.as_deref().unwrap_or(root_ns);
    let entry = &mut list[i];
    let mut changed = false;
    if entry["name"].as_str() != Some(target.name.as_str()) {
        entry["name"] = json!(target.name);
        changed = true;
    }
    if (entry.get("namespace").is_some() || target_ns != root_ns)
        && entry["namespace"].as_str() != Some(target_ns)
    {
        entry["namespace"] = json!(target_ns);
        changed = true;
    }
    Ok(changed.then(|| json!({ "includes": list })))
}

#[cfg(test)]
mod tests;
