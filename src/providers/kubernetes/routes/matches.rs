//! One managed match combined with one alternative of a header route or mirror, per router,
//! and the plan's value matches in each API's terms (the translation is documented in
//! [`super`]: `regex` as `.*(?:<pattern>).*`, `prefix` as `^<escaped>.*` where the API has no
//! prefix match). A mirror's `path` may only narrow the managed match's path prefix; where it
//! cannot (another prefix, an exact or regex managed path), that managed match gets no owned
//! match rather than one no request could reach.

use serde_json::{json, Value};

use super::Router;
use crate::plan::model::ValueMatch;
use crate::providers::routes::Cond;

/// `.*(?:pattern).*`: "found in the value" under whole-value and partial matchers alike.
fn found_in(pattern: &str) -> String {
    format!(".*(?:{pattern}).*")
}

fn prefix_regex(prefix: &str) -> String {
    format!("^{}.*", regex::escape(prefix))
}

/// A Gateway API header match.
fn gateway_header(name: &str, v: &ValueMatch) -> Value {
    match v {
        ValueMatch::Exact(s) => json!({"type": "Exact", "name": name, "value": s}),
        ValueMatch::Prefix(p) => {
            json!({"type": "RegularExpression", "name": name, "value": prefix_regex(p)})
        }
        ValueMatch::Regex(r) => {
            json!({"type": "RegularExpression", "name": name, "value": found_in(r)})
        }
    }
}

/// An Istio `StringMatch`.
fn istio_string(v: &ValueMatch) -> Value {
    match v {
        ValueMatch::Exact(s) => json!({"exact": s}),
        ValueMatch::Prefix(p) => json!({"prefix": p}),
        ValueMatch::Regex(r) => json!({"regex": found_in(r)}),
    }
}

/// A Contour header condition.
fn contour_header(name: &str, v: &ValueMatch) -> Value {
    match v {
        ValueMatch::Exact(s) => json!({"header": {"name": name, "exact": s}}),
        ValueMatch::Prefix(p) => json!({"header": {"name": name, "regex": prefix_regex(p)}}),
        ValueMatch::Regex(r) => json!({"header": {"name": name, "regex": found_in(r)}}),
    }
}

/// Whether a request path matched by `want` can also match a rule whose path prefix is `base`,
/// and so whether `want` may narrow it.
fn narrows(base: Option<&str>, want: &ValueMatch) -> bool {
    let base = base.unwrap_or("/");
    match want {
        ValueMatch::Exact(p) | ValueMatch::Prefix(p) => {
            base == "/" || p == base || p.starts_with(&format!("{}/", base.trim_end_matches('/')))
        }
        ValueMatch::Regex(_) => base == "/",
    }
}

/// One managed match combined with one alternative, or `None` when no request can match both
/// (a path outside the managed rule's) — that rule then gets no owned match for it.
pub(super) fn combine(router: Router, base: &Value, alt: &[Cond]) -> Result<Option<Value>, String> {
    let mut m = base.clone();
    match router {
        Router::HttpRoute => {
            if m["path"].is_null() {
                m["path"] = json!({"type": "PathPrefix", "value": "/"});
            }
            for c in alt {
                match c {
                    Cond::Header { name, value } => {
                        let mut list = m["headers"].as_array().cloned().unwrap_or_default();
                        list.push(gateway_header(name, value));
                        m["headers"] = Value::Array(list);
                    }
                    Cond::Method {
                        value: ValueMatch::Exact(v),
                    } => m["method"] = json!(v),
                    Cond::Method { value } => {
                        return Err(format!("Gateway API matches a method exactly, not {value}"))
                    }
                    Cond::Path { value } => {
                        let base_prefix = (m["path"]["type"] == "PathPrefix")
                            .then(|| m["path"]["value"].as_str())
                            .flatten();
                        if m["path"]["type"] != "PathPrefix" || !narrows(base_prefix, value) {
                            return Ok(None);
                        }
                        m["path"] = match value {
                            ValueMatch::Exact(p) => json!({"type": "Exact", "value": p}),
                            ValueMatch::Prefix(p) => json!({"type": "PathPrefix", "value": p}),
                            ValueMatch::Regex(r) => {
                                json!({"type": "RegularExpression", "value": found_in(r)})
                            }
                        };
                    }
                }
            }
        }
        Router::VirtualService => {
            for c in alt {
                match c {
                    Cond::Header { name, value } => {
                        m["headers"][name.to_ascii_lowercase()] = istio_string(value);
                    }
                    Cond::Method { value } => m["method"] = istio_string(value),
                    Cond::Path { value } => {
                        let base_prefix = m["uri"]["prefix"].as_str();
                        if !(m["uri"].is_null() || base_prefix.is_some())
                            || !narrows(base_prefix, value)
                        {
                            return Ok(None);
                        }
                        m["uri"] = istio_string(value);
                    }
                }
            }
        }
        Router::HttpProxy => {
            let mut conds = m.as_array().cloned().unwrap_or_default();
            for c in alt {
                match c {
                    Cond::Header { name, value } => conds.push(contour_header(name, value)),
                    Cond::Method { .. } => {
                        return Err("Contour HTTPProxy conditions cannot match the method".into())
                    }
                    Cond::Path { value } => {
                        let at = conds.iter().position(|c| {
                            c.get("prefix").is_some()
                                || c.get("exact").is_some()
                                || c.get("regex").is_some()
                        });
                        let base_prefix = at.and_then(|i| conds[i]["prefix"].as_str());
                        if at.is_some_and(|i| conds[i].get("prefix").is_none())
                            || !narrows(base_prefix, value)
                        {
                            return Ok(None);
                        }
                        let cond = match value {
                            ValueMatch::Exact(p) => json!({"exact": p}),
                            ValueMatch::Prefix(p) => json!({"prefix": p}),
                            ValueMatch::Regex(r) => json!({"regex": found_in(r)}),
                        };
                        match at {
                            Some(i) => conds[i] = cond,
                            None => conds.insert(0, cond),
                        }
                    }
                }
            }
            m = Value::Array(conds);
        }
        Router::Service | Router::HttpProxyInclude => {
            return Err("this traffic object cannot route by header".into())
        }
    }
    Ok(Some(m))
}
