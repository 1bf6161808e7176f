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
//! * The whole list of a managed rule is sent in a JSON merge patch that also carries
//!   `metadata.resourceVersion`, so a concurrent edit makes the write fail (409) instead of being
//!   overwritten.

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
    /// Contour HTTPProxy.
    HttpProxy,
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
}

impl Router {
    /// `(rules key, entries key)` inside `spec`.
    fn lists(self) -> (&'static str, &'static str) {
        match self {
            Router::HttpRoute => ("rules", "backendRefs"),
            Router::HttpProxy => ("routes", "services"),
            Router::VirtualService => ("http", "route"),
            Router::Service => ("", ""),
        }
    }

    /// Whether `entry` is `side`'s.
    fn matches(self, entry: &Value, side: &Side) -> bool {
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
            Router::Service => false,
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
        Router::Service => Vec::new(),
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
    let Some(rule) = rules(router, obj)
        .into_iter()
        .find(|r| managed(router, r, sides))
    else {
        return Traffic::Foreign {
            target: "no rule routes to an environment".into(),
        };
    };
    let list = entries(router, &rule);
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
    let (rules_key, entries_key) = router.lists();
    let mut all = rules(router, obj);
    if !all.iter().any(|r| managed(router, r, sides)) {
        return Err(format!(
            "no entry of `spec.{rules_key}[].{entries_key}` names an environment's {}; add one for the live side first",
            if router == Router::VirtualService { "subset" } else { "Service" }
        ));
    }
    let mut changed = false;
    for rule in &mut all {
        if !managed(router, rule, sides) {
            continue;
        }
        let mut list = entries(router, rule);
        let template = list
            .iter()
            .find(|e| sides.iter().any(|s| router.matches(e, s)))
            .cloned()
            .unwrap_or_default();
        for e in &mut list {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sides_svc() -> Vec<Side> {
        vec![
            Side {
                env: "blue".into(),
                service: Some("blue-svc".into()),
                ..Side::default()
            },
            Side {
                env: "green".into(),
                service: Some("green-svc".into()),
                ..Side::default()
            },
        ]
    }

    #[test]
    fn httproute_switch_adds_the_missing_backend_and_zeroes_the_old() {
        let obj = json!({"spec": {"rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
             "backendRefs": [{"name": "blue-svc", "port": 80}]},
            {"backendRefs": [{"name": "other", "port": 80}]}
        ]}});
        let sides = sides_svc();
        assert_eq!(
            read(Router::HttpRoute, &obj, &sides, None),
            Traffic::Env { env: "blue".into() }
        );
        let want = desired(
            &Traffic::Split {
                stable: "blue".into(),
                canary: "green".into(),
                percent: 10.0,
            },
            &sides,
        )
        .unwrap();
        let patch = spec_patch(Router::HttpRoute, &obj, &sides, &want)
            .unwrap()
            .unwrap();
        assert_eq!(
            patch["rules"][0]["backendRefs"],
            json!([{"name": "blue-svc", "port": 80, "weight": 90},
                   {"name": "green-svc", "port": 80, "weight": 10}])
        );
        assert_eq!(
            patch["rules"][1], obj["spec"]["rules"][1],
            "unmanaged rule kept"
        );
        let mut after = obj.clone();
        after["spec"]["rules"] = patch["rules"].clone();
        assert_eq!(
            read(Router::HttpRoute, &after, &sides, Some(("blue", "green"))),
            Traffic::Split {
                stable: "blue".into(),
                canary: "green".into(),
                percent: 10.0
            }
        );
        assert!(spec_patch(Router::HttpRoute, &after, &sides, &want)
            .unwrap()
            .is_none());
    }

    #[test]
    fn contour_without_weights_is_an_even_split() {
        let obj = json!({"spec": {"routes": [{"services": [
            {"name": "blue-svc", "port": 80}, {"name": "green-svc", "port": 80}]}]}});
        match read(Router::HttpProxy, &obj, &sides_svc(), None) {
            Traffic::Split { percent, .. } => assert!((percent - 50.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn istio_weights_sum_to_100_and_foreign_is_reported() {
        let sides = vec![
            Side {
                env: "blue".into(),
                subset: Some("v1".into()),
                ..Side::default()
            },
            Side {
                env: "green".into(),
                subset: Some("v2".into()),
                ..Side::default()
            },
        ];
        let obj = json!({"spec": {"http": [{"route": [
            {"destination": {"host": "myapp", "subset": "v1"}}]}]}});
        assert_eq!(
            read(Router::VirtualService, &obj, &sides, None),
            Traffic::Env { env: "blue".into() }
        );
        let want = desired(
            &Traffic::Env {
                env: "green".into(),
            },
            &sides,
        )
        .unwrap();
        let patch = spec_patch(Router::VirtualService, &obj, &sides, &want)
            .unwrap()
            .unwrap();
        let route = &patch["http"][0]["route"];
        assert_eq!(route[0]["weight"], 0);
        assert_eq!(
            route[1],
            json!({"destination": {"host": "myapp", "subset": "v2"}, "weight": 100})
        );
        let foreign = json!({"spec": {"http": [{"route": [
            {"destination": {"host": "myapp", "subset": "v1"}, "weight": 50},
            {"destination": {"host": "myapp", "subset": "v9"}, "weight": 50}]}]}});
        assert!(matches!(
            read(Router::VirtualService, &foreign, &sides, None),
            Traffic::Foreign { .. }
        ));
    }

    #[test]
    fn service_selector_patch_removes_keys_the_new_side_lacks() {
        let sides = vec![
            Side {
                env: "blue".into(),
                selector: [
                    ("app".into(), "myapp".into()),
                    ("version".into(), "v1".into()),
                ]
                .into(),
                ..Side::default()
            },
            Side {
                env: "green".into(),
                selector: [
                    ("app".into(), "myapp".into()),
                    ("track".into(), "green".into()),
                ]
                .into(),
                ..Side::default()
            },
        ];
        let obj = json!({"spec": {"selector": {"app": "myapp", "version": "v1"}}});
        let want = desired(
            &Traffic::Env {
                env: "green".into(),
            },
            &sides,
        )
        .unwrap();
        let patch = spec_patch(Router::Service, &obj, &sides, &want)
            .unwrap()
            .unwrap();
        assert_eq!(
            patch,
            json!({"selector": {"version": null, "track": "green"}})
        );
    }
}
