//! Upstream targets (newest first, numeric pages, by id or `host:port`) and their health
//! (`healthy`/`unhealthy` and the `/health` view).

use serde_json::{json, Value};

use super::request::{Query, RawBody};
use super::{no_content, ok, Admin, Reply};
use crate::errors::ApiError;
use crate::schema;
use crate::store::{Db, Kind, Mode};

impl Admin {
    fn upstream_id(db: &Db, u: &str) -> Result<String, ApiError> {
        db.lookup(Kind::Upstreams, u)
            .and_then(|up| up["id"].as_str().map(str::to_string))
            .ok_or_else(ApiError::not_found)
    }

    /// Targets of an upstream, newest first (created_at, then id, reversed).
    fn targets_newest_first<'a>(db: &'a Db, up_id: &str) -> Vec<&'a Value> {
        db.targets_of(up_id).rev().collect()
    }

    /// One page of `rows`; only the page's rows are copied.
    fn numeric_page<T: serde::Serialize>(
        rows: &[T],
        q: &Query,
        base: &str,
    ) -> Result<Value, ApiError> {
        let size = match q.get("size") {
            None => 100,
            Some(s) => match s.parse::<f64>() {
                Err(_) => return Err(ApiError::invalid_size("size must be a number")),
                Ok(n) if n < 1.0 || n.fract() != 0.0 => {
                    return Err(ApiError::invalid_size(
                        "size must be an integer between 1 and 1000",
                    ))
                }
                Ok(n) => (n as usize).min(1000),
            },
        };
        let start = match q.get("offset") {
            None => 0,
            Some(o) => o
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_offset(o, "bad offset"))?,
        };
        let end = (start + size).min(rows.len());
        let page = rows.get(start..end).unwrap_or_default();
        let mut body = json!({ "data": page, "next": null });
        if end < rows.len() {
            body["offset"] = json!(end.to_string());
            body["next"] = json!(format!("{base}?offset={end}"));
        }
        Ok(body)
    }

    pub(super) fn targets(
        &self,
        method: &str,
        u: &str,
        q: &Query,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        let db = self.store.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        if method == "GET" {
            let rows = Self::targets_newest_first(&db, &up_id);
            return ok(
                200,
                Self::numeric_page(&rows, q, &format!("/upstreams/{u}/targets"))?,
            );
        }
        drop(db);
        let mut input = body.parse(&self.fields(Kind::Targets))?;
        input.insert("upstream".into(), json!({ "id": up_id }));
        let mut db = self.store.db.lock().unwrap();
        if !self.ver.at_least(3, 0) {
            // 2.8: POST of an existing target updates it, with a Deprecation header.
            let normalized = input
                .get("target")
                .and_then(Value::as_str)
                .and_then(schema::normalize_target);
            let existing = normalized
                .as_deref()
                .and_then(|n| db.target_by_address(&up_id, n));
            if let Some(existing) = existing {
                let id = existing["id"].as_str().unwrap_or_default().to_string();
                let row = self.write(&mut db, Kind::Targets, input, Mode::Update(id), false)?;
                return Ok(Reply {
                    status: 200,
                    body: Some(row),
                    headers: vec![("deprecation".into(), "true".into())],
                });
            }
        }
        ok(
            201,
            self.write(&mut db, Kind::Targets, input, Mode::Insert, false)?,
        )
    }

    /// A target of the upstream by id or by `host:port`; the smallest id when both match
    /// (the order a scan of the table by id gave).
    fn find_target(db: &Db, up_id: &str, t: &str) -> Option<Value> {
        let by_id = db
            .targets
            .get(&t.to_ascii_lowercase())
            .filter(|row| row["upstream"]["id"].as_str() == Some(up_id));
        let by_address = db.target_by_address(up_id, t);
        let id = |row: &&Value| row["id"].as_str().map(str::to_string);
        match (by_id, by_address) {
            (Some(a), Some(b)) => Some(if id(&b) < id(&a) { b } else { a }),
            (a, b) => a.or(b),
        }
        .cloned()
    }

    pub(super) fn target(
        &self,
        method: &str,
        u: &str,
        t: &str,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        let mut db = self.store.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        let row = Self::find_target(&db, &up_id, t).ok_or_else(ApiError::not_found)?;
        let id = row["id"].as_str().unwrap_or_default().to_string();
        match method {
            "GET" => ok(200, row),
            "DELETE" => {
                if self.db_less {
                    return Err(self.unsupported("remove", Kind::Targets, false));
                }
                db.delete(Kind::Targets, &id)?;
                self.store.health.lock().unwrap().remove(&id);
                self.publish(&db);
                no_content()
            }
            // PATCH and PUT are both partial updates of an existing target.
            _ => {
                let mut input = body.parse(&self.fields(Kind::Targets))?;
                input.insert("upstream".into(), json!({ "id": up_id }));
                ok(
                    200,
                    self.write(&mut db, Kind::Targets, input, Mode::Update(id), false)?,
                )
            }
        }
    }

    pub(super) fn set_health(&self, u: &str, t: &str, healthy: bool) -> Result<Reply, ApiError> {
        let db = self.store.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        let row = Self::find_target(&db, &up_id, t).ok_or_else(ApiError::not_found)?;
        let id = row["id"].as_str().unwrap_or_default().to_string();
        self.store.health.lock().unwrap().insert(id, healthy);
        no_content()
    }

    pub(super) fn health(&self, u: &str, q: &Query) -> Result<Reply, ApiError> {
        let db = self.store.db.lock().unwrap();
        let up = db
            .lookup(Kind::Upstreams, u)
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        let up_id = up["id"].as_str().unwrap_or_default().to_string();
        let hc = &up["healthchecks"];
        let nz = |v: &Value| v.as_f64().is_some_and(|x| x != 0.0);
        let checks_on = nz(&hc["active"]["healthy"]["interval"])
            || nz(&hc["active"]["unhealthy"]["interval"])
            || nz(&hc["passive"]["unhealthy"]["tcp_failures"])
            || nz(&hc["passive"]["unhealthy"]["timeouts"])
            || nz(&hc["passive"]["unhealthy"]["http_failures"]);
        let marks = self.store.health.lock().unwrap().clone();
        let rows: Vec<Value> = Self::targets_newest_first(&db, &up_id)
            .into_iter()
            .cloned()
            .collect();
        let mut total = 0u64;
        let mut available = 0u64;
        let mut data = Vec::new();
        for mut row in rows {
            let weight = row["weight"].as_u64().unwrap_or(0);
            let id = row["id"].as_str().unwrap_or_default();
            let health = if weight == 0 {
                "HEALTHCHECKS_OFF"
            } else {
                match marks.get(id) {
                    Some(true) => "HEALTHY",
                    Some(false) => "UNHEALTHY",
                    None if checks_on => "HEALTHY",
                    None => "HEALTHCHECKS_OFF",
                }
            };
            let up_weight = if health == "UNHEALTHY" { 0 } else { weight };
            total += weight;
            available += up_weight;
            let target = row["target"].as_str().unwrap_or_default();
            let (host, port) = schema::split_host_port(target).unwrap_or_default();
            let port: u64 = port.and_then(|p| p.parse().ok()).unwrap_or(8000);
            let dns = if host.parse::<std::net::IpAddr>().is_ok() {
                "A"
            } else {
                "HOSTNAME"
            };
            row["health"] = json!(health);
            row["data"] = json!({
                "host": host,
                "port": port,
                "dns": dns,
                "nodeWeight": weight,
                "weight": {"total": weight, "available": up_weight, "unavailable": weight - up_weight},
                "addresses": [{"ip": host, "port": port, "weight": weight, "health": health}],
            });
            data.push(row);
        }
        if q.get("balancer_health")
            .is_some_and(|v| v == "1" || v == "true")
        {
            let threshold = hc["threshold"].as_f64().unwrap_or(0.0);
            let health = if !checks_on {
                "HEALTHCHECKS_OFF"
            } else if total > 0
                && (available as f64) * 100.0 / (total as f64) >= threshold
                && available > 0
            {
                "HEALTHY"
            } else {
                "UNHEALTHY"
            };
            return ok(
                200,
                json!({
                    "data": {
                        "health": health,
                        "balancer_health": health,
                        "id": up_id,
                        "details": {
                            "healthy": health != "UNHEALTHY",
                            "weight": {"total": total, "available": available, "unavailable": total - available},
                            "hosts": data.iter().map(|d| d["data"].clone()).collect::<Vec<_>>(),
                        },
                    },
                    "next": null,
                    "node_id": self.node_id,
                }),
            );
        }
        let mut body = Self::numeric_page(&data, q, &format!("/upstreams/{u}/health"))?;
        body["node_id"] = json!(self.node_id);
        ok(200, body)
    }
}
