//! Header routes and mirrors on the Kubernetes routers (issue 16), as pure functions over the
//! traffic object's JSON (like [`super::traffic`]), so every shape is unit-tested without a
//! server. The provider sends what [`routes_patch`] returns in the same conditional merge
//! patch as a weight change: `metadata.resourceVersion` plus the whole rule list.
//!
//! **What bgctl writes.** For each active route and each *managed* rule (one naming an
//! environment, [`super::traffic`]) bgctl places an *owned* rule **first** in the list, a copy
//! of the managed rule (so its filters, rewrites and timeouts carry over) with:
//!
//! * the managed rule's matches combined with the route's conditions (every alternative with
//!   every managed match: Gateway API `matches[]` and Istio `match[]` are alternatives already;
//!   Contour `conditions` are one conjunction, so each alternative is its own route);
//! * a header route: only the canary as backend (weight 100): Gateway API `backendRefs`, Istio
//!   `route` (host/subset), Contour `services`;
//! * a mirror: the managed rule's own backends (the answer still comes from the split; the
//!   weight writes keep them in step, [`super::traffic::spec_patch`]) plus the copy: Gateway API
//!   a `RequestMirror` filter (`percent` below 100, `fraction` for a fractional one), Istio
//!   `mirror` + `mirrorPercentage`, Contour a `mirror: true` service whose `weight` is the
//!   percentage (documented in Contour's request-routing "Upstream Weighting"; whole percents
//!   only, validation refuses others).
//!
//! Every mirror of the plan language carries a `match` (no `match` removes it), so a mirror
//! always goes in an owned rule; the user's rule is never given a filter.
//!
//! **Precedence.** Istio takes the first matching `http[]` entry, so first is required there.
//! Gateway API orders matches by specificity (exact path, longest prefix, method, then the
//! largest number of header matches) and only then by rule order: the owned rule has the managed
//! rule's path and method plus the headers, so it wins either way. Contour sorts routes by its
//! own specificity (more header conditions first) before Envoy sees them.
//!
//! **Value translation.** The plan's `regex` is "found in the value" (as on Kong). Gateway API
//! leaves whether a `RegularExpression` must match the whole value to the implementation, and
//! Envoy-based ones (Istio, Contour, Envoy Gateway) match the whole value, so bgctl writes
//! `.*(?:<pattern>).*`, which means the same under both readings. `prefix` becomes Istio's own
//! `prefix`; Gateway API and Contour have no header prefix match, so it becomes the regular
//! expression `^<escaped prefix>.*` (the trailing `.*` for whole-value matchers). Istio header
//! names are written lower-case (Istio requires it). Gateway API `method` is exact only and
//! Contour has no method condition: validation refuses those shapes.
//!
//! **Limits.** Gateway API allows 16 rules per HTTPRoute and 64 matches per rule; a route that
//! would exceed them is an error before the write (the alternatives multiply the managed
//! rule's matches).
//!
//! **Ownership.** Owned rules are named `bgctl-header-<route>` / `bgctl-mirror-<route>` (with
//! `-<n>` for the second and later rule of one route), in the rule's `name` where the API has one
//! (Gateway API rule names since v1.2, Istio `http[].name`), and the names are also listed, in
//! order, in the annotation [`OWNED_ANNOTATION`] of the traffic object. A rule is owned when its
//! name says so, or, with no name, when it is within the annotation's count at the front of the
//! list — so an API server that drops unknown fields (Gateway API before v1.2, Contour, which
//! has no route names) still has them recognised. Decision: the annotation is `bgctl.dev/…` like
//! every other bgctl annotation (`bgctl.dev/routes` is already the record's list of active
//! routes), and it is kept by record writes ([`super::object`]).

use serde_json::{json, Map, Value};

use self::matches::combine;
use super::traffic::{Router, Side};
use super::ANNOTATION_PREFIX;
use crate::providers::routes::{ActiveRoute, RouteKind};

mod matches;

/// The annotation listing the owned rules' names, one a line, in list order.
pub const OWNED_ANNOTATION: &str = "owned-routes";

/// Name prefixes of owned rules.
const HEADER_PREFIX: &str = "bgctl-header-";
const MIRROR_PREFIX: &str = "bgctl-mirror-";

/// The annotation's full key.
pub fn owned_key() -> String {
    format!("{ANNOTATION_PREFIX}{OWNED_ANNOTATION}")
}

fn list_key(router: Router) -> &'static str {
    match router {
        Router::HttpRoute => "rules",
        Router::HttpProxy => "routes",
        Router::VirtualService => "http",
        Router::Service | Router::HttpProxyInclude => "",
    }
}

fn recorded(obj: &Value) -> Vec<String> {
    obj["metadata"]["annotations"][owned_key()]
        .as_str()
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn is_owned_name(name: &str) -> bool {
    name.starts_with(HEADER_PREFIX) || name.starts_with(MIRROR_PREFIX)
}

/// The owned rules of `obj`: their index in the list and their name.
pub fn owned(router: Router, obj: &Value) -> Vec<(usize, String)> {
    let key = list_key(router);
    if key.is_empty() {
        return Vec::new();
    }
    let names = recorded(obj);
    obj["spec"][key]
        .as_array()
        .map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, rule)| match rule["name"].as_str() {
                    Some(n) if is_owned_name(n) => Some((i, n.to_string())),
                    Some(_) => None,
                    None => names
                        .get(i)
                        .filter(|n| is_owned_name(n))
                        .cloned()
                        .map(|n| (i, n)),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the owned rule named `name` is a header route (else a mirror).
pub fn is_header(name: &str) -> bool {
    name.starts_with(HEADER_PREFIX)
}

/// The environment entries of a rule (`backendRefs`, `route`, `services`).
fn entries_key(router: Router) -> &'static str {
    match router {
        Router::HttpRoute => "backendRefs",
        Router::HttpProxy => "services",
        Router::VirtualService => "route",
        Router::Service | Router::HttpProxyInclude => "",
    }
}

/// Whether `entry` (of a rule's entries) is `side`'s (a mirror entry is nobody's).
fn names_side(router: Router, entry: &Value, side: &Side) -> bool {
    router.matches(entry, side)
}

/// An entry of `rule` turned into the canary's (a copy of the canary's own entry, else of any
/// environment's, so the port and other fields carry over).
fn canary_entry(router: Router, rule: &Value, sides: &[Side], canary: &Side) -> Value {
    let list = rule[entries_key(router)]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut e = list
        .iter()
        .find(|e| names_side(router, e, canary))
        .or_else(|| {
            list.iter()
                .find(|e| sides.iter().any(|s| names_side(router, e, s)))
        })
        .cloned()
        .unwrap_or_else(|| json!({}));
    match router {
        Router::VirtualService => {
            e["destination"]["subset"] = json!(canary.subset);
            if let Some(h) = &canary.service {
                e["destination"]["host"] = json!(h);
            }
        }
        _ => e["name"] = json!(canary.service),
    }
    e
}

/// The owned rules one active route needs for one managed rule.
fn owned_for(
    router: Router,
    rule: &Value,
    sides: &[Side],
    canary: &Side,
    route: &ActiveRoute,
) -> Result<Vec<Value>, String> {
    let mut base = rule.clone();
    if let Some(m) = base.as_object_mut() {
        m.remove("name");
    }
    let copy_with = |matches: Value| -> Value {
        let mut r = base.clone();
        match router {
            Router::HttpRoute => r["matches"] = matches,
            Router::VirtualService => r["match"] = matches,
            _ => r["conditions"] = matches,
        }
        match route.kind {
            RouteKind::Header => {
                let mut e = canary_entry(router, rule, sides, canary);
                e["weight"] = json!(100);
                r[entries_key(router)] = json!([e]);
            }
            RouteKind::Mirror => add_mirror(router, &mut r, rule, sides, canary, route),
        }
        r
    };
    let mut out = Vec::new();
    if router == Router::HttpProxy {
        let conds = rule["conditions"].clone();
        for alt in &route.matches {
            if let Some(c) = combine(router, &conds, alt)? {
                out.push(copy_with(c));
            }
        }
        return Ok(out);
    }
    let key = if router == Router::HttpRoute {
        "matches"
    } else {
        "match"
    };
    let bases = match rule[key].as_array() {
        Some(list) if !list.is_empty() => list.clone(),
        _ => vec![json!({})],
    };
    let mut all = Vec::new();
    for b in &bases {
        for alt in &route.matches {
            if let Some(m) = combine(router, b, alt)? {
                all.push(m);
            }
        }
    }
    if !all.is_empty() {
        out.push(copy_with(Value::Array(all)));
    }
    Ok(out)
}

/// The mirror part of an owned mirror rule `r` (a copy of the managed `rule`).
fn add_mirror(
    router: Router,
    r: &mut Value,
    rule: &Value,
    sides: &[Side],
    canary: &Side,
    route: &ActiveRoute,
) {
    let pct = route.percent.unwrap_or(100.0);
    let whole = (pct.fract() == 0.0).then_some(pct as u64);
    let mut e = canary_entry(router, rule, sides, canary);
    match router {
        Router::HttpRoute => {
            if let Some(m) = e.as_object_mut() {
                m.remove("weight");
                m.remove("filters");
            }
            let mut mirror = json!({"backendRef": e});
            match whole {
                Some(100) => {}
                Some(p) => mirror["percent"] = json!(p),
                // Gateway API `fraction`: hundredths of a percent.
                None => {
                    mirror["fraction"] =
                        json!({"numerator": (pct * 100.0).round() as u64, "denominator": 10000});
                }
            }
            let mut filters = r["filters"].as_array().cloned().unwrap_or_default();
            filters.push(json!({"type": "RequestMirror", "requestMirror": mirror}));
            r["filters"] = Value::Array(filters);
        }
        Router::VirtualService => {
            r["mirror"] = e["destination"].clone();
            // A whole percent as an integer: the API server stores `50.0` as `50`.
            r["mirrorPercentage"] = match whole {
                Some(p) => json!({"value": p}),
                None => json!({"value": pct}),
            };
        }
        _ => {
            e["mirror"] = json!(true);
            match whole {
                Some(p) if p < 100 => e["weight"] = json!(p),
                _ => {
                    if let Some(m) = e.as_object_mut() {
                        m.remove("weight");
                    }
                }
            }
            let mut list = r["services"].as_array().cloned().unwrap_or_default();
            list.push(e);
            r["services"] = Value::Array(list);
        }
    }
}

/// The owned rules `routes` need in `obj`, in order, with their names.
pub fn desired(
    router: Router,
    obj: &Value,
    sides: &[Side],
    routes: &[ActiveRoute],
) -> Result<Vec<(String, Value)>, String> {
    let key = list_key(router);
    if key.is_empty() && !routes.is_empty() {
        return Err("this traffic object cannot route by header or mirror".into());
    }
    let owned_at: Vec<usize> = owned(router, obj).into_iter().map(|(i, _)| i).collect();
    let managed: Vec<Value> = obj["spec"][key]
        .as_array()
        .map(|list| {
            list.iter()
                .enumerate()
                .filter(|(i, _)| !owned_at.contains(i))
                .map(|(_, r)| r)
                .filter(|r| {
                    r[entries_key(router)].as_array().is_some_and(|es| {
                        es.iter()
                            .any(|e| sides.iter().any(|s| names_side(router, e, s)))
                    })
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for route in routes {
        let canary = sides
            .iter()
            .find(|s| s.env == route.to)
            .ok_or_else(|| format!("unknown environment `{}`", route.to))?;
        if managed.is_empty() {
            return Err(format!(
                "no rule of `spec.{key}` names an environment, so there is nothing to copy the {} from",
                route.describe()
            ));
        }
        let base = match route.kind {
            RouteKind::Header => format!("{HEADER_PREFIX}{}", route.name),
            RouteKind::Mirror => format!("{MIRROR_PREFIX}{}", route.name),
        };
        let mut n = 0;
        for rule in &managed {
            for mut r in owned_for(router, rule, sides, canary, route)? {
                let name = if n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                };
                n += 1;
                if router != Router::HttpProxy {
                    r["name"] = json!(name);
                }
                out.push((name, r));
            }
        }
    }
    Ok(out)
}

/// The merge patch (precondition, owned annotation, whole rule list) that makes the owned
/// rules of `obj` exactly those `routes` need; `None` when they already are.
pub fn routes_patch(
    router: Router,
    obj: &Value,
    sides: &[Side],
    routes: &[ActiveRoute],
) -> Result<Option<Value>, String> {
    let key = list_key(router);
    if key.is_empty() {
        return if routes.is_empty() {
            Ok(None)
        } else {
            Err("this traffic object cannot route by header or mirror".into())
        };
    }
    let want = desired(router, obj, sides, routes)?;
    let live = obj["spec"][key].as_array().cloned().unwrap_or_default();
    let owned_now = owned(router, obj);
    let current: Vec<&Value> = owned_now.iter().map(|(i, _)| &live[*i]).collect();
    let names: Vec<String> = want.iter().map(|(n, _)| n.clone()).collect();
    let same = current.len() == want.len()
        && current
            .iter()
            .zip(&want)
            .all(|(c, (_, w))| numbers_as_read(c) == numbers_as_read(w))
        && owned_now.iter().all(|(i, _)| *i < want.len())
        && recorded(obj) == names;
    if same {
        return Ok(None);
    }
    let owned_at: Vec<usize> = owned_now.iter().map(|(i, _)| *i).collect();
    let mut list: Vec<Value> = want.into_iter().map(|(_, r)| r).collect();
    list.extend(
        live.into_iter()
            .enumerate()
            .filter(|(i, _)| !owned_at.contains(i))
            .map(|(_, r)| r),
    );
    if router == Router::HttpRoute {
        limits(&list)?;
    }
    let annotation = if names.is_empty() {
        Value::Null
    } else {
        json!(names.join("\n"))
    };
    let mut ann = Map::new();
    ann.insert(owned_key(), annotation);
    Ok(Some(json!({
        "metadata": {"resourceVersion": obj["metadata"]["resourceVersion"], "annotations": ann},
        "spec": {key: list},
    })))
}

/// `v` with whole-number floats as integers: an API server decodes `50.0` into an integer and
/// answers `50`, which must still read as converged.
fn numbers_as_read(v: &Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_read).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), numbers_as_read(x)))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Gateway API's schema limits (`HTTPRouteSpec.rules` at most 16, `HTTPRouteRule.matches` at
/// most 64): said before the write, in bgctl's terms, rather than as the API server's 422.
fn limits(rules: &[Value]) -> Result<(), String> {
    const RULES: usize = 16;
    const MATCHES: usize = 64;
    if rules.len() > RULES {
        return Err(format!(
            "the header and mirror rules would make {} rules, and an HTTPRoute holds at most {RULES}; \
             use fewer routes active at once, or fewer rules routing to the environments",
            rules.len()
        ));
    }
    if let Some(r) = rules
        .iter()
        .find(|r| r["matches"].as_array().is_some_and(|m| m.len() > MATCHES))
    {
        return Err(format!(
            "rule `{}` would have {} matches (each of the rule's matches with each alternative), \
             and a rule holds at most {MATCHES}; use fewer alternatives",
            r["name"].as_str().unwrap_or("?"),
            r["matches"].as_array().map_or(0, Vec::len)
        ));
    }
    Ok(())
}

/// The owned rules as `status` lists them: `HTTPRoute rule bgctl-header-testers (header route
/// → myapp-v2: X-Canary Exact "yes")`.
pub fn describe_owned(router: Router, kind: &str, obj: &Value) -> Vec<String> {
    let key = list_key(router);
    owned(router, obj)
        .into_iter()
        .map(|(i, name)| {
            let rule = &obj["spec"][key][i];
            let what = if is_header(&name) {
                "header route"
            } else {
                "mirror"
            };
            let to = match (router, is_header(&name)) {
                (Router::HttpRoute, true) => rule["backendRefs"][0]["name"].clone(),
                (Router::HttpRoute, false) => rule["filters"]
                    .as_array()
                    .and_then(|fs| fs.iter().find(|f| f["type"] == "RequestMirror"))
                    .map(|f| f["requestMirror"]["backendRef"]["name"].clone())
                    .unwrap_or_default(),
                (Router::VirtualService, true) => rule["route"][0]["destination"]["subset"].clone(),
                (Router::VirtualService, false) => rule["mirror"]["subset"].clone(),
                (_, true) => rule["services"][0]["name"].clone(),
                (_, false) => rule["services"]
                    .as_array()
                    .and_then(|s| s.iter().find(|e| e["mirror"] == json!(true)))
                    .map(|e| e["name"].clone())
                    .unwrap_or_default(),
            };
            let to = to.as_str().unwrap_or("?").to_string();
            let unit = match router {
                Router::HttpRoute => "rule",
                Router::VirtualService => "http entry",
                _ => "route",
            };
            format!("{kind} {unit} {name} ({what} → {to})")
        })
        .collect()
}

#[cfg(test)]
mod tests;
