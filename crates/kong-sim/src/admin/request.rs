//! Request decoding as Kong does it: bodies by content type (JSON, form, multipart, YAML for
//! `/config`), percent-decoding, `ngx.escape_uri`, and query strings (the last value wins).

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::schema;

pub(super) enum BodyKind {
    Empty,
    Json,
    Form,
    Multipart(String),
    Yaml,
}

pub(super) struct RawBody {
    pub(super) kind: BodyKind,
    pub(super) bytes: Bytes,
}

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `ngx.escape_uri`: everything but unreserved characters is %-escaped.
pub(super) fn escape_uri(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn multipart_pairs(boundary: &str, bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let delimiter = format!("--{boundary}");
    let mut pairs = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head.lines().find_map(|line| {
            let lower = line.to_ascii_lowercase();
            if !lower.starts_with("content-disposition") {
                return None;
            }
            let idx = line.find("name=\"")?;
            let rest = &line[idx + 6..];
            rest.split_once('"').map(|(n, _)| n.to_string())
        });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            pairs.push((name, value.to_string()));
        }
    }
    pairs
}

impl RawBody {
    /// Decode into a JSON object, inferring form values from `fields`.
    pub(super) fn parse(&self, fields: &[schema::Field]) -> Result<Map<String, Value>, ApiError> {
        let pairs = match &self.kind {
            BodyKind::Empty => return Ok(Map::new()),
            BodyKind::Json => {
                return match serde_json::from_slice::<Value>(&self.bytes) {
                    Ok(Value::Object(map)) => Ok(map),
                    Ok(Value::Null) => Ok(Map::new()),
                    _ => Err(ApiError::message(400, "Cannot parse JSON body")),
                };
            }
            BodyKind::Yaml => {
                return match serde_yaml_ng::from_slice::<Value>(&self.bytes) {
                    Ok(Value::Object(map)) => Ok(map),
                    _ => Err(ApiError::message(400, "Cannot parse YAML body")),
                };
            }
            BodyKind::Form => form_urlencoded::parse(&self.bytes).into_owned().collect(),
            BodyKind::Multipart(boundary) => multipart_pairs(boundary, &self.bytes),
        };
        Ok(schema::infer_record(fields, schema::form_tree(pairs)))
    }
}

pub(super) fn classify(
    headers: &HeaderMap,
    bytes: Bytes,
    allow_yaml: bool,
) -> Result<RawBody, ApiError> {
    let types: Vec<&str> = headers
        .get_all("content-type")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if types.len() > 1 {
        return Err(ApiError {
            status: 400,
            body: Some(json!("Bad Request: multiple Content-Type headers")),
            headers: Vec::new(),
        });
    }
    if bytes.is_empty() {
        return Ok(RawBody {
            kind: BodyKind::Empty,
            bytes,
        });
    }
    let Some(ct) = types.first() else {
        return Err(ApiError::unsupported_media_type());
    };
    let lower = ct.to_ascii_lowercase();
    let media = lower.split(';').next().unwrap_or_default().trim();
    let kind = match media {
        "application/json" => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "multipart/form-data" => {
            let boundary = ct
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim_matches('"').to_string())
                .ok_or_else(ApiError::unsupported_media_type)?;
            BodyKind::Multipart(boundary)
        }
        "application/yaml" | "text/yaml" | "application/x-yaml" if allow_yaml => BodyKind::Yaml,
        _ => return Err(ApiError::unsupported_media_type()),
    };
    Ok(RawBody { kind, bytes })
}

pub(super) struct Query(pub(super) Vec<(String, String)>);

impl Query {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
