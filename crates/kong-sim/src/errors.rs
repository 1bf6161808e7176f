//! Kong's Admin API error bodies (`kong/db/errors.lua`, `kong/api/endpoints.lua`):
//! structured DAO errors `{code,name,message,fields}` and route-level `{message}`.

use serde_json::{json, Map, Value};

/// An Admin API error response.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    /// `None` means an empty body (415).
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<(String, String)>,
}

/// Render a JSON value the way Penlight's `pretty.write(v, "")` does: `{id="…"}`. Keys that are
/// not Lua identifiers are bracketed (`["@entity"]=`); an array with holes (JSON `null`s, as
/// cjson encodes a sparse Lua table) lists its leading run positionally and the rest as
/// `[i]=…` (1-based), as in `{services={[2]="uniqueness violation: …"}}`.
pub(crate) fn lua_pretty(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    let ident = k
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if ident {
                        format!("{k}={}", lua_pretty(&map[k]))
                    } else {
                        format!("[\"{k}\"]={}", lua_pretty(&map[k]))
                    }
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let run = items.iter().take_while(|v| !v.is_null()).count();
            let mut inner: Vec<String> = items[..run].iter().map(lua_pretty).collect();
            for (i, item) in items.iter().enumerate().skip(run) {
                if !item.is_null() {
                    inner.push(format!("[{}]={}", i + 1, lua_pretty(item)));
                }
            }
            format!("{{{}}}", inner.join(","))
        }
        Value::String(s) => format!("\"{s}\""),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn dao(
    status: u16,
    code: u16,
    name: &str,
    message: String,
    fields: Option<(&str, Value)>,
) -> ApiError {
    let mut body = json!({"code": code, "name": name, "message": message});
    if let Some((key, value)) = fields {
        body[key] = value;
    }
    ApiError {
        status,
        body: Some(body),
        headers: Vec::new(),
    }
}

impl ApiError {
    pub(crate) fn message(status: u16, message: &str) -> ApiError {
        ApiError {
            status,
            body: Some(json!({ "message": message })),
            headers: Vec::new(),
        }
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::message(404, "Not found")
    }

    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::message(405, "Method not allowed")
    }

    pub(crate) fn unsupported_media_type() -> ApiError {
        ApiError {
            status: 415,
            body: None,
            headers: Vec::new(),
        }
    }

    /// Code 2. `fields` is Kong's nested error table.
    pub(crate) fn schema(fields: Map<String, Value>) -> ApiError {
        let mut parts: Vec<String> = Vec::new();
        if let Some(Value::Array(entity)) = fields.get("@entity") {
            for err in entity {
                parts.push(err.as_str().map_or_else(|| err.to_string(), str::to_string));
            }
        }
        let mut keys: Vec<&String> = fields.keys().filter(|k| *k != "@entity").collect();
        keys.sort();
        for key in keys {
            match &fields[key] {
                Value::Object(sub) => {
                    let mut sub_keys: Vec<&String> = sub.keys().collect();
                    sub_keys.sort();
                    for sk in sub_keys {
                        parts.push(format!("{key}.{sk}: {}", plain(&sub[sk])));
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if !item.is_null() {
                            parts.push(format!("{key}.{}: {}", i + 1, plain(item)));
                        }
                    }
                }
                other => parts.push(format!("{key}: {}", plain(other))),
            }
        }
        let message = if parts.len() == 1 {
            format!("schema violation ({})", parts[0])
        } else {
            format!("{} schema violations ({})", parts.len(), parts.join("; "))
        };
        dao(
            400,
            2,
            "schema violation",
            message,
            Some(("fields", Value::Object(fields))),
        )
    }

    /// Code 2 for a single field.
    #[cfg(test)]
    pub(crate) fn schema_field(field: &str, message: &str) -> ApiError {
        let mut fields = Map::new();
        fields.insert(field.to_string(), json!(message));
        ApiError::schema(fields)
    }

    /// Code 3 (HTTP 400, see reference §7).
    pub(crate) fn primary_key(id: &str) -> ApiError {
        let key = json!({ "id": id });
        dao(
            400,
            3,
            "primary key violation",
            format!("primary key violation on key '{}'", lua_pretty(&key)),
            Some(("fields", key)),
        )
    }

    /// Code 4: reference to a missing parent.
    pub(crate) fn foreign_invalid(field: &str, key: Value, parent: &str) -> ApiError {
        dao(
            400,
            4,
            "foreign key violation",
            format!(
                "the foreign key '{}' does not reference an existing '{parent}' entity.",
                lua_pretty(&key)
            ),
            Some(("fields", json!({ field: key }))),
        )
    }

    /// Code 4: delete restricted by children.
    pub(crate) fn foreign_restricted(parent: &str, child: &str) -> ApiError {
        dao(
            400,
            4,
            "foreign key violation",
            format!("an existing '{child}' entity references this '{parent}' entity"),
            Some(("fields", json!({ "@referenced_by": child }))),
        )
    }

    /// Code 13: `"service":{"name":"x"}` that names nothing.
    pub(crate) fn foreign_unresolved(
        field: &str,
        key: &str,
        value: &str,
        parent: &str,
    ) -> ApiError {
        let text = format!(
            "the foreign key cannot be resolved with '{}' for an existing '{parent}' entity",
            lua_pretty(&json!({ key: value }))
        );
        dao(
            400,
            13,
            "foreign keys unresolved",
            format!("foreign key unresolved ({field}.{key}: {text})"),
            Some(("fields", json!({ field: { key: text } }))),
        )
    }

    /// Code 5 (HTTP 409).
    pub(crate) fn unique(key: Value) -> ApiError {
        dao(
            409,
            5,
            "unique constraint violation",
            format!("UNIQUE violation detected on '{}'", lua_pretty(&key)),
            Some(("fields", key)),
        )
    }

    /// Code 6 (HTTP 404) for PATCH of a missing entity.
    pub(crate) fn not_found_key(key: Value) -> ApiError {
        let message = if key.get("id").is_some() {
            format!(
                "could not find the entity with primary key '{}'",
                lua_pretty(&key)
            )
        } else {
            format!("could not find the entity with '{}'", lua_pretty(&key))
        };
        dao(404, 6, "not found", message, Some(("fields", key)))
    }

    /// Code 7.
    pub(crate) fn invalid_offset(offset: &str, err: &str) -> ApiError {
        dao(
            400,
            7,
            "invalid offset",
            format!("'{offset}' is not a valid offset: {err}"),
            None,
        )
    }

    /// Code 9.
    pub(crate) fn invalid_size(message: &str) -> ApiError {
        dao(400, 9, "invalid size", message.to_string(), None)
    }

    /// Code 10.
    pub(crate) fn invalid_unique(field: &str, message: &str) -> ApiError {
        dao(
            400,
            10,
            &format!("invalid unique {field}"),
            message.to_string(),
            None,
        )
    }

    /// Code 11, with `options` instead of `fields`.
    pub(crate) fn invalid_option(option: &str, message: &str) -> ApiError {
        dao(
            400,
            11,
            "invalid options",
            format!("invalid option ({option}: {message})"),
            Some(("options", json!({ option: message }))),
        )
    }

    /// Code 12 (HTTP 405), DB-less writes.
    pub(crate) fn unsupported(message: String) -> ApiError {
        dao(405, 12, "operation unsupported", message, None)
    }

    /// Code 14, declarative config (`errors:declarative_config`): `fields` is the error tree
    /// shaped like the input (`{services=[null, {host=…}]}`).
    pub(crate) fn declarative(fields: Value) -> ApiError {
        dao(
            400,
            14,
            "invalid declarative configuration",
            format!("declarative config is invalid: {}", lua_pretty(&fields)),
            Some(("fields", fields)),
        )
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => lua_pretty(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_kong() {
        let e = ApiError::schema_field("weight", "value should be between 0 and 65535");
        assert_eq!(
            e.body.unwrap()["message"],
            "schema violation (weight: value should be between 0 and 65535)"
        );
        let e = ApiError::unique(json!({"target": "h:8080", "upstream": {"id": "u"}}));
        assert_eq!(
            e.body.unwrap()["message"],
            "UNIQUE violation detected on '{target=\"h:8080\",upstream={id=\"u\"}}'"
        );
    }
}
