//! `${VAR}` interpolation and secret registration on the parsed YAML tree.
//!
//! Variables are expanded in string values only (never in keys, never by re-parsing text, so a
//! variable cannot inject YAML). A value that is exactly one `${VAR}` takes a number or boolean
//! type only where the plan's schema expects one; header values, URLs and every other string
//! field stay strings, always (a numeric token is neither a type error nor stripped of its
//! leading zeros).

use serde_json::Value as Json;
use serde_yaml_ng::Value;

use super::join;
use crate::plan::Problem;

/// Hands every configured secret to [`crate::redact`] before anything can print it (a
/// validation error included): header values, values of secret-looking keys, and the userinfo
/// and secret-looking query values of every URL.
pub(super) fn register_secrets(v: &Value, secret: bool) {
    match v {
        Value::String(s) => {
            if secret {
                crate::redact::register(s);
            }
            if s.contains("://") {
                crate::redact::register_url(s);
            }
        }
        Value::Number(n) if secret => crate::redact::register(&n.to_string()),
        Value::Sequence(items) => items.iter().for_each(|i| register_secrets(i, secret)),
        Value::Mapping(map) => {
            for (k, item) in map {
                let key = k.as_str().unwrap_or_default();
                let is_secret = secret
                    || key.eq_ignore_ascii_case("headers")
                    || crate::redact::is_secret_key(key);
                register_secrets(item, is_secret);
            }
        }
        Value::Tagged(t) => register_secrets(&t.value, secret),
        _ => {}
    }
}

/// Header names that differ only in case name one HTTP header: reject the repeat rather than
/// let one value silently replace the other.
pub(super) fn duplicate_headers(v: &Value, path: &str, problems: &mut Vec<Problem>) {
    match v {
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                duplicate_headers(item, &format!("{path}[{i}]"), problems);
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map {
                let key = k.as_str().unwrap_or_default();
                let here = join(path, key);
                if key == "headers" {
                    if let Value::Mapping(headers) = item {
                        let mut seen: Vec<&str> = Vec::new();
                        for name in headers.keys().filter_map(Value::as_str) {
                            match seen.iter().find(|s| s.eq_ignore_ascii_case(name)) {
                                Some(first) => problems.push(
                                    Problem::new(
                                        &join(&here, name),
                                        format!("header `{name}` repeats `{first}` (header names are case-insensitive)"),
                                    )
                                    .hint("keep one of them"),
                                ),
                                None => seen.push(name),
                            }
                        }
                    }
                }
                duplicate_headers(item, &here, problems);
            }
        }
        Value::Tagged(t) => duplicate_headers(&t.value, path, problems),
        _ => {}
    }
}

/// Interpolates every string value of the tree (never keys). `schema` is the plan's JSON
/// Schema node for `v`, used to decide what a value that is exactly one `${VAR}` becomes.
pub(super) fn interpolate_value(
    v: &mut Value,
    path: &str,
    schema: Option<&Json>,
    root: &Json,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    match v {
        Value::String(s) if s.contains('$') => match interpolate(s, env) {
            Ok(out) => {
                let whole = s.trim().starts_with("${")
                    && s.trim().ends_with('}')
                    && s.matches("${").count() == 1;
                *v = if whole {
                    typed(out, &accepted(schema, root))
                } else {
                    Value::String(out)
                };
            }
            Err(msg) => problems.push(Problem::new(path, msg.0).hint(&msg.1)),
        },
        Value::Sequence(items) => {
            let item_schema = schema.and_then(|s| child(s, root, None));
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(
                    item,
                    &format!("{path}[{i}]"),
                    item_schema,
                    root,
                    env,
                    problems,
                );
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map.iter_mut() {
                let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_string);
                let item_schema = schema.and_then(|s| child(s, root, Some(&key)));
                interpolate_value(item, &join(path, &key), item_schema, root, env, problems);
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, path, schema, root, env, problems),
        _ => {}
    }
}

/// The plan's JSON Schema (from the model's `JsonSchema` derive), as the type map for
/// interpolation.
/// The plan's JSON Schema, built once per process (a fleet loads one plan per member) and only
/// when a plan has something to interpolate: building it is most of `plan validate`'s time.
pub(super) fn plan_schema() -> &'static Json {
    static SCHEMA: std::sync::OnceLock<Json> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(super::super::model::Plan)).unwrap_or(Json::Null)
    })
}

/// Follows `$ref`s and collects the alternatives of `anyOf`/`oneOf`/`allOf`.
fn alternatives<'a>(node: &'a Json, root: &'a Json, out: &mut Vec<&'a Json>, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Some(r) = node.get("$ref").and_then(Json::as_str) {
        let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
        if let Some(t) = target {
            alternatives(t, root, out, depth + 1);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(key).and_then(Json::as_array).into_iter().flatten() {
            alternatives(alt, root, out, depth + 1);
        }
    }
    out.push(node);
}

/// The schema of a mapping's `key` (or of a sequence's items for `None`).
fn child<'a>(node: &'a Json, root: &'a Json, key: Option<&str>) -> Option<&'a Json> {
    let mut alts = Vec::new();
    alternatives(node, root, &mut alts, 0);
    alts.into_iter().find_map(|a| match key {
        Some(k) => a
            .get("properties")
            .and_then(|p| p.get(k))
            .or_else(|| a.get("additionalProperties").filter(|s| s.is_object())),
        None => a.get("items").filter(|s| s.is_object()),
    })
}

/// The scalar types a schema node accepts (`string`, `integer`, `number`, `boolean`).
fn accepted(schema: Option<&Json>, root: &Json) -> Vec<String> {
    let mut alts = Vec::new();
    if let Some(s) = schema {
        alternatives(s, root, &mut alts, 0);
    }
    let mut types = Vec::new();
    for a in alts {
        match a.get("type") {
            Some(Json::String(t)) => types.push(t.clone()),
            Some(Json::Array(ts)) => {
                types.extend(ts.iter().filter_map(Json::as_str).map(String::from));
            }
            _ => {}
        }
    }
    types
}

/// A value that was exactly one `${VAR}` becomes a number or boolean only where the plan
/// expects one (`weight: ${W}`); everywhere else — header values, URLs, names — it stays the
/// string the variable holds (`0042` stays `0042`, a long numeric token is not a type error).
fn typed(text: String, accepted: &[String]) -> Value {
    let wants = |t: &str| accepted.iter().any(|a| a == t);
    if wants("integer") || wants("number") {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        if wants("number") {
            if let Ok(f) = text.parse::<f64>() {
                if f.is_finite() {
                    return Value::Number(f.into());
                }
            }
        }
    }
    if wants("boolean") {
        match text.as_str() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(text)
}

/// Expands `${VAR}`, `${VAR:-default}` and `$$` (a literal `$`). Errors carry a message and a hint.
pub fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                (
                    format!("unclosed `${{` in `{s}`"),
                    "close the variable with `}`, or write `$$` for a literal `$`".to_string(),
                )
            })?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err((
                    format!("`${{{expr}}}` is not a valid variable reference"),
                    "names use letters, digits and `_`: `${NAME}` or `${NAME:-default}`"
                        .to_string(),
                ));
            }
            match (env(name).filter(|v| !v.is_empty() || default.is_none()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err((
                        format!("environment variable `{name}` is not set"),
                        format!("export {name}=… before running bgctl, or give a default: `${{{name}:-value}}`"),
                    ))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}
