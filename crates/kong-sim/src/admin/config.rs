//! DB-less `/config`: the declarative document read back and loaded (validated as a whole, every
//! error reported, the hash Kong returns).

use serde_json::{json, Map, Value};

use super::request::{Query, RawBody};
use super::{ok, Admin, Reply};
use crate::errors::ApiError;
use crate::schema::is_uuid;
use crate::store::{Db, Kind, Mode};

impl Admin {
    pub(super) fn get_config(&self) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(ApiError::message(
                400,
                "this endpoint is only available when Kong is configured to not use a database",
            ));
        }
        let db = self.store.db.lock().unwrap();
        let mut doc = Map::new();
        doc.insert("_format_version".into(), json!("3.0"));
        for kind in Kind::ALL {
            let rows: Vec<Value> = db.table(kind).values().cloned().collect();
            if !rows.is_empty() {
                doc.insert(kind.table().into(), Value::Array(rows));
            }
        }
        let yaml = serde_yaml_ng::to_string(&Value::Object(doc)).unwrap_or_default();
        ok(200, json!({ "config": yaml }))
    }

    pub(super) fn post_config(&self, q: &Query, body: &RawBody) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(ApiError::message(
                400,
                "this endpoint is only available when Kong is configured to not use a database",
            ));
        }
        let mut doc = body.parse(&[])?;
        if let Some(Value::String(text)) = doc.get("config").cloned() {
            doc = match serde_yaml_ng::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiError::declarative(
                        json!({"config": "failed parsing declarative configuration"}),
                    ))
                }
            };
        }
        let hash = config_hash(&Value::Object(doc.clone()));
        if q.get("check_hash") == Some("1")
            && self.store.config_hash.lock().unwrap().as_deref() == Some(hash.as_str())
        {
            return Ok(Reply {
                status: 304,
                body: None,
                headers: Vec::new(),
            });
        }
        let new_db = self.load_declarative(doc)?;
        let mut out = Map::new();
        for kind in Kind::ALL {
            let rows: Map<String, Value> = new_db
                .table(kind)
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert(kind.table().into(), Value::Object(rows));
        }
        let mut db = self.store.db.lock().unwrap();
        *db = new_db;
        self.store.health.lock().unwrap().clear();
        *self.store.config_hash.lock().unwrap() = Some(hash);
        self.publish(&db);
        ok(201, Value::Object(out))
    }

    fn load_declarative(&self, doc: Map<String, Value>) -> Result<Db, ApiError> {
        const IGNORED: &[&str] = &[
            "_format_version",
            "_transform",
            "_comment",
            "_info",
            "_workspace",
        ];
        let mut errors = Map::new();
        if doc.get("_format_version").is_none_or(Value::is_null) {
            errors.insert("_format_version".into(), json!("required field missing"));
        }
        for (key, value) in &doc {
            if IGNORED.contains(&key.as_str())
                || Kind::from_table(key).is_some_and(|k| k != Kind::Targets)
            {
                continue;
            }
            if key == "targets" {
                continue;
            }
            let empty = value.as_array().is_some_and(Vec::is_empty) || value.is_null();
            if !empty {
                errors.insert(
                    key.clone(),
                    json!("not modelled by kong-sim (only services, routes, upstreams, targets)"),
                );
            }
        }
        let mut db = Db::default();
        let list = |key: &str| -> Vec<Value> {
            doc.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let add = |db: &mut Db,
                   kind: Kind,
                   mut row: Map<String, Value>,
                   index: usize,
                   errors: &mut Map<String, Value>|
         -> Option<String> {
            // Foreign references may be a bare name or id string.
            for field in ["service", "upstream"] {
                if let Some(Value::String(reference)) = row.get(field).cloned() {
                    let key = if is_uuid(&reference) { "id" } else { "name" };
                    row.insert(field.into(), json!({ key: reference }));
                }
            }
            match db.prepare(kind, row, &Mode::Insert, &self.ver) {
                Ok(row) => {
                    let id = row["id"].as_str().unwrap_or_default().to_string();
                    db.put(kind, row);
                    Some(id)
                }
                Err(e) => {
                    let detail = e
                        .body
                        .as_ref()
                        .and_then(|b| {
                            b.get("fields")
                                .cloned()
                                .or_else(|| b.get("message").cloned())
                        })
                        .unwrap_or(Value::Null);
                    let slot = errors
                        .entry(kind.table())
                        .or_insert_with(|| Value::Object(Map::new()));
                    slot[index.to_string()] = detail;
                    None
                }
            }
        };
        for (i, svc) in list("services").into_iter().enumerate() {
            let Value::Object(mut svc) = svc else {
                continue;
            };
            let routes = svc.remove("routes");
            if let Some(id) = add(&mut db, Kind::Services, svc, i, &mut errors) {
                for (j, route) in routes
                    .and_then(|r| r.as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let Value::Object(mut route) = route else {
                        continue;
                    };
                    route.insert("service".into(), json!({ "id": id }));
                    add(&mut db, Kind::Routes, route, j, &mut errors);
                }
            }
        }
        for (i, route) in list("routes").into_iter().enumerate() {
            if let Value::Object(route) = route {
                add(&mut db, Kind::Routes, route, i, &mut errors);
            }
        }
        for (i, up) in list("upstreams").into_iter().enumerate() {
            let Value::Object(mut up) = up else { continue };
            let targets = up.remove("targets");
            if let Some(id) = add(&mut db, Kind::Upstreams, up, i, &mut errors) {
                for (j, t) in targets
                    .and_then(|r| r.as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let Value::Object(mut t) = t else { continue };
                    t.insert("upstream".into(), json!({ "id": id }));
                    add(&mut db, Kind::Targets, t, j, &mut errors);
                }
            }
        }
        for (i, t) in list("targets").into_iter().enumerate() {
            if let Value::Object(t) = t {
                add(&mut db, Kind::Targets, t, i, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(db)
        } else {
            Err(ApiError::declarative(Value::Object(errors)))
        }
    }
}

fn config_hash(doc: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let text = doc.to_string();
    let mut a = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (text, 0x9e37_79b9_u32).hash(&mut b);
    format!("{:016x}{:016x}", a.finish(), b.finish())
}
