//! "Which backend would this request reach": a pure evaluator of the stored routing objects,
//! so tests can assert where a request goes from the object the API server holds (kube-sim has
//! no data plane). Each API's documented precedence, as far as bgctl's objects use it:
//!
//! * **Gateway API HTTPRoute** (`gateway.networking.k8s.io/v1` `HTTPRouteRule.matches` docs,
//!   "Proxy or Load Balancer routing configuration generated from HTTPRoutes MUST prioritize
//!   matches based on the following criteria, continuing on ties"): an `Exact` path match, then
//!   the longest `PathPrefix`, then a method match, then the largest number of header matches,
//!   then the largest number of query param matches; remaining ties go to the first matching
//!   rule in list order. A rule without `matches` matches `PathPrefix /`. `PathPrefix` matches
//!   by path element (`/abc` matches `/abc/d`, not `/abcd`). Header names are case-insensitive.
//!   `RegularExpression` is implementation-specific; this evaluator matches the whole value, as
//!   Envoy-based implementations do.
//! * **Istio VirtualService**: `http[]` entries are evaluated in order and the first one whose
//!   `match` (any of its entries; none means everything) matches wins (istio/api
//!   `virtual_service.proto` `HTTPRoute`: "The first rule matching an incoming request is
//!   used"). Header names are lower-case; `regex` is RE2 matched against the whole value.
//! * **Contour HTTPProxy**: every condition of a route must hold. Contour hands routes to Envoy
//!   sorted by specificity (its `internal/sorter`: exact path before regex before prefix, longer
//!   prefixes first, then more header conditions first), then in list order; this evaluator
//!   orders matching routes the same way. Header conditions: `present`, `notpresent`, `exact`,
//!   `notexact`, `contains`, `notcontains`, `regex` (whole value).
//!
//! The answer is the chosen rule's backends with their effective weights (each API's
//! defaulting: HTTPRoute a missing weight is 1; Istio a lone destination takes 100; Contour no
//! weights at all is an even split, else a missing weight is 0) and its mirrors with their
//! percentages. Query-parameter matches are not modelled: a match with `queryParams` never
//! matches.

use serde::Serialize;
use serde_json::Value;

/// A request to route.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, …
    pub method: String,
    /// The path (no query).
    pub path: String,
    /// Headers as sent (names any case).
    pub headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routed {
    /// Index of the chosen rule in the object's list.
    pub rule: usize,
    /// The rule's `name`, if it has one.
    pub name: Option<String>,
    /// Backends and their effective weights (HTTPRoute/HTTPProxy: Service name; Istio:
    /// `host/subset`).
    pub backends: Vec<(String, u64)>,
    /// Mirrors and the percent of requests they get a copy of.
    pub mirrors: Vec<(String, f64)>,
}

/// Routes `req` through `obj` (an HTTPRoute, VirtualService or HTTPProxy); `None` when no rule
/// matches (or the kind routes nothing).
pub fn evaluate(kind: &str, obj: &Value, req: &Request) -> Option<Routed> {
    match kind {
        "HTTPRoute" => http_route(obj, req),
        "VirtualService" => virtual_service(obj, req),
        "HTTPProxy" => http_proxy(obj, req),
        _ => None,
    }
}

fn whole(pattern: &str, value: &str) -> bool {
    regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value))
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn name_of(rule: &Value) -> Option<String> {
    rule["name"].as_str().map(str::to_string)
}

/// Gateway API `PathPrefix`: element-wise.
fn path_prefix(prefix: &str, path: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    p.is_empty() || path == p || path.starts_with(&format!("{p}/"))
}

/// The precedence key of one matching HTTPRoute match (larger wins).
fn gateway_match(m: &Value, req: &Request) -> Option<(u8, usize, u8, usize)> {
    if m.get("queryParams").is_some_and(|q| !list(q).is_empty()) {
        return None;
    }
    let (ty, value) = match m.get("path") {
        Some(p) => (
            p["type"].as_str().unwrap_or("PathPrefix"),
            p["value"].as_str().unwrap_or("/"),
        ),
        None => ("PathPrefix", "/"),
    };
    let (exact, prefix_len) = match ty {
        "Exact" if req.path == value => (1, 0),
        "PathPrefix" if path_prefix(value, &req.path) => (0, value.len()),
        "RegularExpression" if whole(value, &req.path) => (0, 0),
        _ => return None,
    };
    let method = match m["method"].as_str() {
        Some(want) if want != req.method => return None,
        Some(_) => 1,
        None => 0,
    };
    let headers = list(&m["headers"]);
    for h in &headers {
        let got = req.header(h["name"].as_str().unwrap_or_default())?;
        let want = h["value"].as_str().unwrap_or_default();
        let hit = match h["type"].as_str().unwrap_or("Exact") {
            "Exact" => got == want,
            "RegularExpression" => whole(want, got),
            _ => false,
        };
        if !hit {
            return None;
        }
    }
    Some((exact, prefix_len, method, headers.len()))
}

fn http_route(obj: &Value, req: &Request) -> Option<Routed> {
    let rules = list(&obj["spec"]["rules"]);
    let mut best: Option<((u8, usize, u8, usize), usize)> = None;
    for (i, rule) in rules.iter().enumerate() {
        let matches = match rule["matches"].as_array() {
            Some(ms) if !ms.is_empty() => ms.clone(),
            _ => vec![Value::Null],
        };
        for m in &matches {
            if let Some(key) = gateway_match(m, req) {
                // Strictly greater: on a tie the earlier rule keeps it.
                if best.is_none_or(|(b, _)| key > b) {
                    best = Some((key, i));
                }
            }
        }
    }
    let (_, i) = best?;
    let rule = &rules[i];
    let backends = list(&rule["backendRefs"])
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap_or("?").to_string(),
                b["weight"].as_u64().unwrap_or(1),
            )
        })
        .collect();
    let mirrors = list(&rule["filters"])
        .iter()
        .filter(|f| f["type"] == "RequestMirror")
        .map(|f| {
            let m = &f["requestMirror"];
            let pct = match (m["percent"].as_f64(), m["fraction"].as_object()) {
                (Some(p), _) => p,
                (None, Some(fr)) => {
                    let n = fr.get("numerator").and_then(Value::as_f64).unwrap_or(0.0);
                    let d = fr
                        .get("denominator")
                        .and_then(Value::as_f64)
                        .unwrap_or(100.0);
                    100.0 * n / d
                }
                _ => 100.0,
            };
            (
                m["backendRef"]["name"].as_str().unwrap_or("?").to_string(),
                pct,
            )
        })
        .collect();
    Some(Routed {
        rule: i,
        name: name_of(rule),
        backends,
        mirrors,
    })
}

/// An Istio `StringMatch`.
fn istio_string(m: &Value, value: &str) -> bool {
    if let Some(v) = m["exact"].as_str() {
        v == value
    } else if let Some(v) = m["prefix"].as_str() {
        value.starts_with(v)
    } else if let Some(v) = m["regex"].as_str() {
        whole(v, value)
    } else {
        false
    }
}

fn istio_match(m: &Value, req: &Request) -> bool {
    if !m["uri"].is_null() && !istio_string(&m["uri"], &req.path) {
        return false;
    }
    if !m["method"].is_null() && !istio_string(&m["method"], &req.method) {
        return false;
    }
    m["headers"].as_object().is_none_or(|hs| {
        hs.iter()
            .all(|(name, want)| req.header(name).is_some_and(|got| istio_string(want, got)))
    })
}

fn istio_dest(d: &Value) -> String {
    format!(
        "{}/{}",
        d["host"].as_str().unwrap_or("?"),
        d["subset"].as_str().unwrap_or("-")
    )
}

fn virtual_service(obj: &Value, req: &Request) -> Option<Routed> {
    let http = list(&obj["spec"]["http"]);
    let (i, entry) = http.iter().enumerate().find(|(_, e)| {
        e["match"]
            .as_array()
            .filter(|ms| !ms.is_empty())
            .is_none_or(|ms| ms.iter().any(|m| istio_match(m, req)))
    })?;
    let route = list(&entry["route"]);
    let lone = route.len() == 1;
    let backends = route
        .iter()
        .map(|r| {
            let default = if lone { 100 } else { 0 };
            (
                istio_dest(&r["destination"]),
                r["weight"].as_u64().unwrap_or(default),
            )
        })
        .collect();
    let mirrors = if entry["mirror"].is_null() {
        Vec::new()
    } else {
        vec![(
            istio_dest(&entry["mirror"]),
            entry["mirrorPercentage"]["value"].as_f64().unwrap_or(100.0),
        )]
    };
    Some(Routed {
        rule: i,
        name: name_of(entry),
        backends,
        mirrors,
    })
}

/// Whether one Contour condition holds, and its (path rank, prefix length, is a header).
fn contour_condition(c: &Value, req: &Request) -> Option<(u8, usize, usize)> {
    if let Some(p) = c["prefix"].as_str() {
        return req.path.starts_with(p).then_some((1, p.len(), 0));
    }
    if let Some(p) = c["exact"].as_str() {
        return (req.path == p).then_some((3, p.len(), 0));
    }
    if let Some(p) = c["regex"].as_str() {
        return whole(p, &req.path).then_some((2, 0, 0));
    }
    let h = &c["header"];
    if h.is_null() {
        return None;
    }
    let got = req.header(h["name"].as_str().unwrap_or_default());
    let s = |k: &str| h[k].as_str();
    let hit = if h["present"] == true {
        got.is_some()
    } else if h["notpresent"] == true {
        got.is_none()
    } else if let Some(v) = s("exact") {
        got == Some(v)
    } else if let Some(v) = s("notexact") {
        got != Some(v)
    } else if let Some(v) = s("contains") {
        got.is_some_and(|g| g.contains(v))
    } else if let Some(v) = s("notcontains") {
        !got.is_some_and(|g| g.contains(v))
    } else if let Some(v) = s("regex") {
        got.is_some_and(|g| whole(v, g))
    } else {
        false
    };
    hit.then_some((0, 0, 1))
}

fn http_proxy(obj: &Value, req: &Request) -> Option<Routed> {
    let routes = list(&obj["spec"]["routes"]);
    let mut best: Option<((u8, usize, usize), usize)> = None;
    for (i, r) in routes.iter().enumerate() {
        let mut key = (1u8, 0usize, 0usize);
        let mut ok = true;
        for c in &list(&r["conditions"]) {
            match contour_condition(c, req) {
                Some((rank, len, header)) => {
                    if header == 0 {
                        key.0 = rank;
                        key.1 = len;
                    }
                    key.2 += header;
                }
                None => ok = false,
            }
        }
        if ok && best.is_none_or(|(b, _)| key > b) {
            best = Some((key, i));
        }
    }
    let (_, i) = best?;
    let services = list(&routes[i]["services"]);
    let (mirror, serving): (Vec<&Value>, Vec<&Value>) =
        services.iter().partition(|s| s["mirror"] == true);
    let none_set = serving.iter().all(|s| s["weight"].is_null());
    let backends = serving
        .iter()
        .map(|s| {
            let w = if none_set {
                1
            } else {
                s["weight"].as_u64().unwrap_or(0)
            };
            (s["name"].as_str().unwrap_or("?").to_string(), w)
        })
        .collect();
    let mirrors = mirror
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("?").to_string(),
                s["weight"].as_f64().unwrap_or(100.0),
            )
        })
        .collect();
    Some(Routed {
        rule: i,
        name: None,
        backends,
        mirrors,
    })
}

#[cfg(test)]
mod tests;
