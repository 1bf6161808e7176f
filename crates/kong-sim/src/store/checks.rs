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
        Kind::Upstreams => {
            let hash_on = row["hash_on"].as_str().unwrap_or("none");
            let fallback = row["hash_fallback"].as_str().unwrap_or("none");
            let need = |on: &str, which: &str| match on {
                "header" => Some(format!("hash_{which}_header")),
                "cookie" if which == "on" => Some("hash_on_cookie".into()),
                "query_arg" => Some(format!("hash_{which}_query_arg")),
                "uri_capture" => Some(format!("hash_{which}_uri_capture")),
                _ => None,
            };
            for (on, which) in [(hash_on, "on"), (fallback, "fallback")] {
                if let Some(key) = need(on, which) {
                    if row.get(&key).is_none_or(Value::is_null) {
                        errors.entry(key).or_insert(json!("required field missing"));
                    }
                }
            }
            if matches!(hash_on, "none" | "cookie") && fallback != "none" {
                errors
                    .entry("hash_fallback")
                    .or_insert(json!("expected one of: none"));
            }
        }
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
