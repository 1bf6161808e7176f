//! DB-less `/config` (`kong/api/routes/config.lua`): the declarative document read back and
//! loaded. The request is read as Kong's `hydrate_config_from_request` does: a body whose
//! parameters carry `_format_version` is the config itself; else its `config` parameter (text);
//! else the raw body (text); an empty request is 400 "expected a declarative configuration".
//! Loading, hashes and error trees are in [`crate::declarative`].

use serde_json::{json, Map, Value};

use super::request::{BodyKind, Query, RawBody};
use super::{ok, Admin, Reply};
use crate::declarative;
use crate::errors::ApiError;

fn only_db_less() -> ApiError {
    ApiError::message(
        400,
        "this endpoint is only available when Kong is configured to not use a database",
    )
}

/// Kong's `truthy()` for `flatten_errors`.
fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes"))
}

impl Admin {
    pub(super) fn get_config(&self) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(only_db_less());
        }
        let db = self.store.db.lock().unwrap();
        ok(200, json!({ "config": declarative::export(&db) }))
    }

    /// The declarative table and, when it came as text, the text's md5.
    fn hydrate(body: &RawBody) -> Result<(Map<String, Value>, Option<String>), ApiError> {
        let params = match body.kind {
            // A YAML body is not parsed into parameters: Kong reads it as the raw body.
            BodyKind::Yaml | BodyKind::Empty => Map::new(),
            _ => body.parse(&[])?,
        };
        if params.get("_format_version").is_some_and(|v| !v.is_null()) {
            return Ok((params, None));
        }
        let text = match params.get("config") {
            Some(Value::String(text)) => text.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ if !body.bytes.is_empty() => String::from_utf8_lossy(&body.bytes).into_owned(),
            _ => {
                return Err(ApiError::message(
                    400,
                    "expected a declarative configuration",
                ))
            }
        };
        let (doc, hash) = declarative::unserialize(&text)?;
        Ok((doc, Some(hash)))
    }

    pub(super) fn post_config(&self, q: &Query, body: &RawBody) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(only_db_less());
        }
        let flatten = truthy(q.get("flatten_errors")) && self.ver.at_least(3, 2);
        let check_hash = q.get("check_hash") == Some("1");
        let (doc, text_hash) = Self::hydrate(body)?;
        if check_hash {
            let current = self.store.config_hash.lock().unwrap().clone();
            let current = current.as_deref().unwrap_or(declarative::EMPTY_HASH);
            if text_hash.as_deref() == Some(current) {
                return Ok(Reply {
                    status: 304,
                    body: None,
                    headers: Vec::new(),
                });
            }
        }
        let new_db = match declarative::load(&doc, &self.ver) {
            Ok(db) => db,
            Err(failure) => {
                let mut errors = failure.errors;
                if flatten {
                    let flattened = declarative::flatten(&mut errors, &failure.input);
                    let mut e = ApiError::declarative(Value::Object(errors));
                    if let Some(body) = e.body.as_mut() {
                        body["flattened_errors"] = Value::Array(flattened);
                    }
                    return Err(e);
                }
                return Err(ApiError::declarative(Value::Object(errors)));
            }
        };
        let hash = declarative::config_hash(&new_db, text_hash);
        let out = declarative::entities(&new_db);
        let mut db = self.store.db.lock().unwrap();
        *db = new_db;
        self.store.health.lock().unwrap().clear();
        *self.store.config_hash.lock().unwrap() = Some(hash);
        self.publish(&db);
        ok(201, out)
    }
}
