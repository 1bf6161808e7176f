//! Node-level endpoints: `/` (node info, configuration), `/status`, schemas and their
//! validation, and `/tags`.

use std::sync::atomic::Ordering;

use serde_json::{json, Map, Value};

use super::request::{Query, RawBody};
use super::{ok, Admin, Reply};
use crate::errors::ApiError;
use crate::schema;
use crate::store::{Kind, Mode};

impl Admin {
    pub(super) fn root(&self) -> Result<Reply, ApiError> {
        let plugin_names = [
            "acl",
            "basic-auth",
            "cors",
            "key-auth",
            "rate-limiting",
            "request-transformer",
        ];
        let available: Map<String, Value> = plugin_names
            .iter()
            .map(|name| {
                let meta = if self.ver.at_least(3, 0) {
                    json!({"version": self.ver.text, "priority": 1000})
                } else {
                    json!(true)
                };
                ((*name).to_string(), meta)
            })
            .collect();
        let (admin, proxy) = self.listeners.lock().unwrap().clone();
        let pid = std::process::id();
        let mut body = json!({
            "tagline": "Welcome to kong",
            "version": self.ver.text,
            "hostname": "kong-sim",
            "node_id": self.node_id,
            "timers": {"running": 0, "pending": 0},
            "plugins": {"available_on_server": available, "enabled_in_cluster": []},
            "lua_version": "LuaJIT 2.1.0-20231117",
            "configuration": {
                "database": if self.db_less { "off" } else { "postgres" },
                "role": if self.hybrid.is_some() { "control_plane" } else { "traditional" },
                "router_flavor": "traditional_compatible",
                "admin_listen": [admin],
                "proxy_listen": [proxy],
            },
            "pids": {"master": pid, "workers": [pid]},
        });
        if self.ver.at_least(3, 6) {
            body["edition"] = json!("community");
        }
        ok(200, body)
    }

    pub(super) fn status(&self, q: &Query) -> Result<Reply, ApiError> {
        if let Some(unit) = q.get("unit") {
            if !matches!(unit, "b" | "B" | "k" | "K" | "m" | "M" | "g" | "G") {
                return Err(ApiError::message(
                    400,
                    &format!("invalid unit '{unit}' (expected 'k/K', 'm/M', or 'g/G')"),
                ));
            }
        }
        if let Some(scale) = q.get("scale") {
            if scale.parse::<u32>().is_err() {
                return Err(ApiError::message(400, &format!("invalid scale: {scale}")));
            }
        }
        let n = self.total_requests.load(Ordering::Relaxed);
        let mut body = json!({
            "memory": {
                "lua_shared_dicts": {
                    "kong": {"allocated_slabs": "0.04 MiB", "capacity": "5.00 MiB"},
                    "kong_db_cache": {"allocated_slabs": "0.80 MiB", "capacity": "128.00 MiB"},
                },
                "workers_lua_vms": [{"http_allocated_gc": "40.00 MiB", "pid": std::process::id()}],
            },
            "server": {
                "connections_accepted": n, "connections_active": 1, "connections_handled": n,
                "connections_reading": 0, "connections_writing": 1, "connections_waiting": 0,
                "total_requests": n,
            },
        });
        if self.db_less {
            let hash = self
                .store
                .config_hash
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| "0".repeat(32));
            body["configuration_hash"] = json!(hash);
            if !self.ver.at_least(3, 4) {
                body["database"] = json!({"reachable": true});
            }
        } else {
            body["database"] = json!({"reachable": true});
        }
        ok(200, body)
    }

    pub(super) fn schema(&self, name: &str) -> Result<Reply, ApiError> {
        let kind = Kind::from_table(name)
            .ok_or_else(|| ApiError::message(404, &format!("No entity named '{name}'")))?;
        ok(
            200,
            json!({ "fields": schema::render_fields(&self.fields(kind)) }),
        )
    }

    pub(super) fn validate_schema(&self, name: &str, body: &RawBody) -> Result<Reply, ApiError> {
        let kind = Kind::from_table(name)
            .ok_or_else(|| ApiError::message(404, &format!("No entity named '{name}'")))?;
        let input = body.parse(&self.fields(kind))?;
        let db = self.store.db.lock().unwrap();
        match db.prepare(kind, input, &Mode::Insert, &self.ver) {
            Err(e) if e.body.as_ref().is_some_and(|b| b["code"] == json!(2)) => Err(e),
            _ => ok(200, json!({"message": "schema validation successful"})),
        }
    }

    pub(super) fn tags(&self, only: Option<&str>) -> Result<Reply, ApiError> {
        let db = self.store.db.lock().unwrap();
        let mut data = Vec::new();
        for kind in Kind::ALL {
            for row in db.table(kind).values() {
                for tag in row["tags"].as_array().into_iter().flatten() {
                    let Some(tag) = tag.as_str() else { continue };
                    if only.is_none_or(|o| o == tag) {
                        data.push(json!({"tag": tag, "entity_name": kind.table(), "entity_id": row["id"]}));
                    }
                }
            }
        }
        ok(200, json!({ "data": data, "next": null }))
    }
}
