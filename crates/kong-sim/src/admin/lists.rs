//! Collections and entities: paged lists (size, offset, tags), the generic CRUD of services,
//! routes and upstreams by id or name, nested routes and a route's service.

use base64::Engine as _;
use serde_json::{json, Value};

use super::request::{escape_uri, Query, RawBody};
use super::{no_content, ok, Admin, Reply};
use crate::errors::ApiError;
use crate::schema::{self, is_uuid, Ver};
use crate::store::{Kind, Mode};

impl Admin {
    pub(super) fn list(
        &self,
        rows: &[&Value],
        q: &Query,
        base: &str,
        top_level: bool,
    ) -> Result<Reply, ApiError> {
        let size = parse_size(q.get("size"))?;
        let tags = if top_level {
            self.parse_tags(q.get("tags"))?
        } else {
            None
        };
        let after = match q.get("offset") {
            None => None,
            Some(offset) => Some(decode_offset(offset)?),
        };
        let mut data = Vec::new();
        let mut more = false;
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default();
            if after.as_deref().is_some_and(|a| id <= a) {
                continue;
            }
            if let Some((wanted, all)) = &tags {
                let have: Vec<&str> = row["tags"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let hit = |t: &String| have.contains(&t.as_str());
                let matched = if *all {
                    wanted.iter().all(hit)
                } else {
                    wanted.iter().any(hit)
                };
                if !matched {
                    continue;
                }
            }
            if data.len() == size {
                more = true;
                break;
            }
            data.push((*row).clone());
        }
        let mut body = json!({ "data": data, "next": null });
        if more {
            let last = data
                .last()
                .and_then(|r| r["id"].as_str())
                .unwrap_or_default();
            let offset =
                base64::engine::general_purpose::STANDARD.encode(json!([last]).to_string());
            let mut next = format!("{base}?offset={}", escape_uri(&offset));
            if top_level {
                if let Some(t) = q.get("tags") {
                    next = format!("{next}&tags={}", escape_uri(t));
                }
                if let Some(s) = q.get("size") {
                    next = format!("{next}&size={}", escape_uri(s));
                }
            }
            body["offset"] = json!(offset);
            body["next"] = json!(next);
        }
        ok(200, body)
    }

    fn parse_tags(&self, raw: Option<&str>) -> Result<Option<(Vec<String>, bool)>, ApiError> {
        let Some(raw) = raw else { return Ok(None) };
        if raw.is_empty() {
            if self.ver.at_least(3, 9) {
                return Err(ApiError::invalid_option("tags", "cannot be null"));
            }
            return Ok(None);
        }
        let and = raw.contains(',');
        let or = raw.contains('/');
        if and && or {
            return Err(ApiError::invalid_option("tags", "invalid filter syntax"));
        }
        let tags: Vec<String> = raw.split([',', '/']).map(str::to_string).collect();
        if tags.len() > 5 {
            return Err(ApiError::invalid_option(
                "tags",
                "cannot query more than 5 tags",
            ));
        }
        // A byte that is not UTF-8 (`?tags=%FF`) reaches us as U+FFFD from the lossy query
        // decoding: Kong refuses it (`14-tags_spec.lua:149-157`).
        if tags
            .iter()
            .any(|t| t.is_empty() || t.chars().any(|c| c.is_control() || c == '\u{FFFD}'))
        {
            return Err(ApiError::invalid_option("tags", "invalid filter syntax"));
        }
        Ok(Some((tags, !or)))
    }

    // ------------------------------------------------------------------ generic entity

    fn check_key(kind: Kind, key: &str, ver: &Ver) -> Result<(), ApiError> {
        if is_uuid(key) {
            return Ok(());
        }
        let result = match kind {
            Kind::Upstreams => schema::check_upstream_name(key, ver),
            Kind::Services | Kind::Routes => schema::check_utf8_name(key, ver),
            Kind::Targets => Ok(None),
        };
        result
            .map(|_| ())
            .map_err(|msg| ApiError::invalid_unique(kind.endpoint_key(), &msg))
    }

    /// `/{coll}/{key}` and `/services/{s}/routes/{key}` (with `parent` = service id).
    pub(super) fn entity(
        &self,
        method: &str,
        kind: Kind,
        key: &str,
        body: &RawBody,
        parent: Option<String>,
    ) -> Result<Reply, ApiError> {
        Self::check_key(kind, key, &self.ver)?;
        let by_name = !is_uuid(key);
        let mut db = self.store.db.lock().unwrap();
        let found = db.lookup(kind, key).cloned();
        let belongs = |row: &Value| match &parent {
            Some(sid) => row["service"]["id"].as_str() == Some(sid.as_str()),
            None => true,
        };
        let found = match (found, &parent) {
            (Some(row), Some(_)) if !belongs(&row) => return Err(ApiError::not_found()),
            (found, _) => found,
        };
        let key_obj = if by_name {
            json!({ kind.endpoint_key(): key })
        } else {
            json!({ "id": key })
        };
        match method {
            "GET" => found.map_or_else(|| Err(ApiError::not_found()), |row| ok(200, row)),
            "PUT" => {
                let mut input = body.parse(&self.fields(kind))?;
                let id = match &found {
                    Some(row) => row["id"].as_str().unwrap_or_default().to_string(),
                    None if by_name => uuid::Uuid::new_v4().to_string(),
                    None => key.to_ascii_lowercase(),
                };
                if by_name {
                    input.insert(kind.endpoint_key().into(), json!(key));
                }
                if let Some(sid) = &parent {
                    input.insert("service".into(), json!({ "id": sid }));
                }
                ok(
                    200,
                    self.write(&mut db, kind, input, Mode::Upsert(id), by_name)?,
                )
            }
            "PATCH" => {
                let Some(row) = found else {
                    return Err(if parent.is_some() {
                        ApiError::not_found()
                    } else {
                        ApiError::not_found_key(key_obj)
                    });
                };
                let mut input = body.parse(&self.fields(kind))?;
                if let Some(sid) = &parent {
                    input.insert("service".into(), json!({ "id": sid }));
                }
                let id = row["id"].as_str().unwrap_or_default().to_string();
                ok(
                    200,
                    self.write(&mut db, kind, input, Mode::Update(id), by_name)?,
                )
            }
            "DELETE" => {
                let Some(row) = found else {
                    return if parent.is_some() {
                        Err(ApiError::not_found())
                    } else {
                        no_content()
                    };
                };
                if self.db_less {
                    return Err(self.unsupported("remove", kind, by_name));
                }
                let id = row["id"].as_str().unwrap_or_default().to_string();
                db.delete(kind, &id)?;
                self.publish(&db);
                no_content()
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    pub(super) fn nested_routes(
        &self,
        method: &str,
        s: &str,
        q: &Query,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        let service_id = {
            let db = self.store.db.lock().unwrap();
            let svc = db
                .lookup(Kind::Services, s)
                .ok_or_else(ApiError::not_found)?;
            svc["id"].as_str().unwrap_or_default().to_string()
        };
        if method == "GET" {
            let db = self.store.db.lock().unwrap();
            let rows: Vec<&Value> = db
                .routes
                .values()
                .filter(|r| r["service"]["id"].as_str() == Some(service_id.as_str()))
                .collect();
            return self.list(&rows, q, &format!("/services/{s}/routes"), false);
        }
        let mut input = body.parse(&self.fields(Kind::Routes))?;
        input.insert("service".into(), json!({ "id": service_id }));
        let mut db = self.store.db.lock().unwrap();
        ok(
            201,
            self.write(&mut db, Kind::Routes, input, Mode::Insert, false)?,
        )
    }

    pub(super) fn route_service(
        &self,
        method: &str,
        r: &str,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        Self::check_key(Kind::Routes, r, &self.ver)?;
        let mut db = self.store.db.lock().unwrap();
        let route = db.lookup(Kind::Routes, r).ok_or_else(ApiError::not_found)?;
        if method == "DELETE" {
            return Err(ApiError::method_not_allowed());
        }
        let service_id = route["service"]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(ApiError::not_found)?;
        let service = db
            .services
            .get(&service_id)
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        match method {
            "GET" => ok(200, service),
            "PATCH" => {
                let input = body.parse(&self.fields(Kind::Services))?;
                ok(
                    200,
                    self.write(
                        &mut db,
                        Kind::Services,
                        input,
                        Mode::Update(service_id),
                        false,
                    )?,
                )
            }
            _ => {
                let input = body.parse(&self.fields(Kind::Services))?;
                ok(
                    200,
                    self.write(
                        &mut db,
                        Kind::Services,
                        input,
                        Mode::Upsert(service_id),
                        false,
                    )?,
                )
            }
        }
    }
}

fn parse_size(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(100) };
    let n: f64 = raw
        .parse()
        .map_err(|_| ApiError::invalid_size("size must be a number"))?;
    if n.fract() != 0.0 || !(1.0..=1000.0).contains(&n) {
        return Err(ApiError::invalid_size(
            "size must be an integer between 1 and 1000",
        ));
    }
    Ok(n as usize)
}

fn decode_offset(offset: &str) -> Result<String, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(offset)
        .map_err(|_| ApiError::invalid_offset(offset, "bad base64 encoding"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::invalid_offset(offset, "bad json encoding"))?;
    value
        .get(0)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid_offset(offset, "bad json encoding"))
}
