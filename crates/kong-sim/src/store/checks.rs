//! The per-entity rules of the write pipeline ([`super::Db`]'s insert and update): the
//! write-only shorthands Kong expands before validation (a service's `url`, an upstream's
//! `algorithm`/`hash_on` side effects, the gRPC route's `strip_path` default) and the checks
//! that span several fields of one entity (Kong's `entity_checks`: a service's `path` for its
//! protocol, a route's required matching attributes, gRPC route rules, upstream hashing).
//! Kept apart from the table code because they are schema knowledge, not storage.

use serde_json::{json, Map, Value};

use super::Kind;
use crate::schema;

/// Write-only shorthands: service `url`; upstream algorithm/hash_on side effects.
pub(super) fn shorthands(kind: Kind, input: &mut Map<String, Value>) {
    match kind {
        Kind::Services => {
            if let Some(Value::String(url)) = input.remove("url") {
                if let Some((protocol, rest)) = url.split_once("://") {
                    let (authority, path) = match rest.find('/') {
                        Some(i) => (&rest[..i], Some(&rest[i..])),
                        None => (rest, None),
                    };
                    let (host, port) =
                        schema::split_host_port(authority).unwrap_or((authority.to_string(), None));
                    let port = port.and_then(|p| p.parse::<i64>().ok()).unwrap_or(
                        if matches!(protocol, "https" | "grpcs" | "tls") {
                            443
                        } else {
                            80
                        },
                    );
                    input.insert("protocol".into(), json!(protocol));
                    input.insert("host".into(), json!(host));
                    input.insert("port".into(), json!(port));
                    input.insert("path".into(), path.map_or(Value::Null, |p| json!(p)));
                } else {
                    // socket.url reads a string without a scheme as a path: no host
                    // (`10-services_routes_spec.lua:894-920`: host required, path must start
                    // with `/`).
                    input.insert("protocol".into(), json!("http"));
                    input.insert("host".into(), Value::Null);
                    input.insert("port".into(), json!(80));
                    input.insert("path".into(), json!(url));
                }
            }
        }
        Kind::Routes => {
            // The gRPC subschema's `strip_path` default is false.
            let first = input
                .get("protocols")
                .and_then(Value::as_array)
                .and_then(|p| p.first())
                .and_then(Value::as_str);
            if matches!(first, Some("grpc" | "grpcs"))
                && input.get("strip_path").is_none_or(Value::is_null)
            {
                input.insert("strip_path".into(), json!(false));
            }
        }
        Kind::Upstreams => {
            let algorithm = input
                .get("algorithm")
                .and_then(Value::as_str)
                .map(str::to_string);
            if matches!(algorithm.as_deref(), Some("least-connections" | "latency")) {
                input.insert("hash_on".into(), json!("none"));
            } else if let Some(hash_on) = input.get("hash_on").and_then(Value::as_str) {
                let forced = if hash_on == "none" {
                    "round-robin"
                } else {
                    "consistent-hashing"
                };
                if algorithm.is_none() || hash_on != "none" {
                    input.insert("algorithm".into(), json!(forced));
                }
            }
        }
        Kind::Targets => {}
    }
}

fn non_empty(row: &Map<String, Value>, key: &str) -> bool {
    match row.get(key) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

pub(super) fn entity_checks(kind: Kind, row: &Map<String, Value>, errors: &mut Map<String, Value>) {
    let mut entity: Vec<String> = Vec::new();
    match kind {
        Kind::Services => {
            let protocol = row["protocol"].as_str().unwrap_or("http");
            if !row["path"].is_null() && !matches!(protocol, "http" | "https") {
                errors.entry("path").or_insert(json!(format!(
                    "value must be null when 'protocol' is '{protocol}'"
                )));
            }
            let tls_only = [
                "tls_verify",
                "tls_verify_depth",
                "ca_certificates",
                "client_certificate",
            ];
            if !matches!(protocol, "https" | "tls" | "grpcs" | "tls_passthrough") {
                for key in tls_only {
                    if !row[key].is_null() && key != "client_certificate" {
                        errors.entry(key).or_insert(json!(format!(
                            "value must be null when 'protocol' is '{protocol}'"
                        )));
                    }
                }
            }
        }
        Kind::Routes => {
            let protocols: Vec<&str> = row["protocols"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Kong picks the route subschema by the first protocol
            // (`routes_subschemas.lua`); gRPC: 09-routes_routes_spec.lua:960-1030.
            if matches!(protocols.first(), Some(&("grpc" | "grpcs"))) {
                grpc_checks(&protocols, row, errors, &mut entity);
                if !entity.is_empty() {
                    errors.insert("@entity".into(), json!(entity));
                }
                return;
            }
            let http = protocols.iter().any(|p| matches!(*p, "http" | "https"));
            let stream = protocols
                .iter()
                .any(|p| matches!(*p, "tcp" | "tls" | "udp" | "tls_passthrough"));
            if http {
                let https = protocols.contains(&"https");
                let mut keys = vec!["methods", "hosts", "headers", "paths"];
                if https {
                    keys.push("snis");
                }
                if !keys.iter().any(|k| non_empty(row, k)) {
                    let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
                    entity.push(format!(
                        "must set one of {} when 'protocols' is '{}'",
                        quoted.join(", "),
                        if https { "https" } else { "http" }
                    ));
                }
            } else if stream
                && !["sources", "destinations", "snis"]
                    .iter()
                    .any(|k| non_empty(row, k))
            {
                entity.push(
                    "must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'"
                        .into(),
                );
            }
            if let Some(headers) = row["headers"].as_object() {
                if headers.keys().any(|k| k.eq_ignore_ascii_case("host")) {
                    errors.entry("headers").or_insert(json!(
                        "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
                    ));
                }
            }
        }
        Kind::Upstreams => upstream_checks(row, errors, &mut entity),
        Kind::Targets => {}
    }
    if !entity.is_empty() {
        errors.insert("@entity".into(), json!(entity));
    }
}

/// The gRPC route subschema: no `strip_path` (its default is false), `methods`, `sources` or
/// `destinations`; at least one of hosts/headers/paths (and snis with grpcs).
fn grpc_checks(
    protocols: &[&str],
    row: &Map<String, Value>,
    errors: &mut Map<String, Value>,
    entity: &mut Vec<String>,
) {
    if row["strip_path"] == json!(true) {
        errors.entry("strip_path").or_insert(json!(
            "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"
        ));
    }
    for key in ["methods", "sources", "destinations"] {
        if non_empty(row, key) {
            errors.entry(key).or_insert(json!(format!(
                "cannot set '{key}' when 'protocols' is 'grpc' or 'grpcs'"
            )));
        }
    }
    let grpcs = protocols.contains(&"grpcs");
    let mut keys = vec!["hosts", "headers", "paths"];
    if grpcs {
        keys.push("snis");
    }
    if !keys.iter().any(|k| non_empty(row, k)) {
        let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
        entity.push(format!(
            "must set one of {} when 'protocols' is '{}'",
            quoted.join(", "),
            if grpcs { "grpcs" } else { "grpc" }
        ));
    }
}

/// What a `conditional` entity check asks of its `then_field`.
#[derive(Clone, Copy)]
enum Then {
    /// `then_match = { required = true }`.
    Required,
    /// `then_match = { one_of = … }`.
    OneOf(&'static [&'static str]),
}

/// One of the upstream schema's `entity_checks`, in its order.
enum Check {
    /// `conditional`: when `if_field` is `if_value`, `then_field` must pass `Then`.
    If(&'static str, &'static str, &'static str, Then),
    /// `distinct`: the two fields' non-empty values differ.
    Distinct(&'static str, &'static str),
}

/// The upstream schema's `entity_checks` (`kong/db/schema/entities/upstreams.lua:209-298`),
/// run the way Kong's `run_entity_check` runs them (`kong/db/schema/init.lua`): every check
/// runs even when its fields already have errors (`run_with_invalid_fields`); a failed
/// `conditional` sets the then-field's error (replacing a field error: a `hash_fallback`
/// outside the whole list reads as outside the narrower one) and adds
/// "failed conditional validation given value of field '<if_field>'" to `@entity`; a failed
/// `distinct` adds "values of these fields must be distinct: 'a', 'b'". The row has every
/// field by now (defaults filled, absent ones null), so no check is skipped as "missing".
fn upstream_checks(
    row: &Map<String, Value>,
    errors: &mut Map<String, Value>,
    entity: &mut Vec<String>,
) {
    use Check::{Distinct, If};
    use Then::{OneOf, Required};
    const FALLBACK_NONE: &[&str] = &["none"];
    const NOT_CONSUMER: &[&str] = &[
        "none",
        "ip",
        "header",
        "cookie",
        "path",
        "query_arg",
        "uri_capture",
    ];
    const NOT_IP: &[&str] = &[
        "none",
        "consumer",
        "header",
        "cookie",
        "path",
        "query_arg",
        "uri_capture",
    ];
    const NOT_PATH: &[&str] = &[
        "none",
        "consumer",
        "header",
        "cookie",
        "query_arg",
        "ip",
        "uri_capture",
    ];
    let checks = [
        If("hash_on", "header", "hash_on_header", Required),
        If("hash_fallback", "header", "hash_fallback_header", Required),
        If("hash_on", "cookie", "hash_on_cookie", Required),
        If("hash_fallback", "cookie", "hash_on_cookie", Required),
        If("hash_on", "none", "hash_fallback", OneOf(FALLBACK_NONE)),
        If("hash_on", "cookie", "hash_fallback", OneOf(FALLBACK_NONE)),
        If("hash_on", "consumer", "hash_fallback", OneOf(NOT_CONSUMER)),
        If("hash_on", "ip", "hash_fallback", OneOf(NOT_IP)),
        If("hash_on", "path", "hash_fallback", OneOf(NOT_PATH)),
        Distinct("hash_on_header", "hash_fallback_header"),
        If("hash_on", "query_arg", "hash_on_query_arg", Required),
        If(
            "hash_fallback",
            "query_arg",
            "hash_fallback_query_arg",
            Required,
        ),
        Distinct("hash_on_query_arg", "hash_fallback_query_arg"),
        If("hash_on", "uri_capture", "hash_on_uri_capture", Required),
        If(
            "hash_fallback",
            "uri_capture",
            "hash_fallback_uri_capture",
            Required,
        ),
        Distinct("hash_on_uri_capture", "hash_fallback_uri_capture"),
    ];
    let value = |k: &str| row.get(k).filter(|v| !v.is_null());
    for check in checks {
        match check {
            If(if_field, if_value, then_field, then) => {
                if row.get(if_field).and_then(Value::as_str) != Some(if_value) {
                    continue;
                }
                let failed = match (then, value(then_field)) {
                    (Required, None) => {
                        errors.insert(then_field.into(), json!("required field missing"));
                        true
                    }
                    // The field's own validators run again: its error stands.
                    (Required, Some(_)) => errors.contains_key(then_field),
                    (OneOf(_), None) => false,
                    (OneOf(allowed), Some(v)) => {
                        let ok = v.as_str().is_some_and(|s| allowed.contains(&s));
                        if !ok {
                            errors.insert(
                                then_field.into(),
                                json!(format!("expected one of: {}", allowed.join(", "))),
                            );
                        }
                        !ok
                    }
                };
                if failed {
                    entity.push(format!(
                        "failed conditional validation given value of field '{if_field}'"
                    ));
                }
            }
            Distinct(a, b) => {
                let non_empty = |k: &str| value(k).filter(|v| v.as_str() != Some(""));
                if non_empty(a).is_some() && non_empty(a) == non_empty(b) {
                    entity.push(format!(
                        "values of these fields must be distinct: '{a}', '{b}'"
                    ));
                }
            }
        }
    }
}
