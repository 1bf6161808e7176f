//! The in-memory "database": one table per entity, ordered by primary key like Kong's
//! Postgres strategy, plus the write pipeline every endpoint shares (shorthands, defaults,
//! PATCH merge, validation, entity checks, foreign keys, unique constraints, timestamps).
//!
//! Targets are also indexed by upstream and by `(upstream, target)` ([`index`]), so a
//! target's write costs the same in an upstream of ten or of ten thousand targets, as Kong's
//! indexed insert does.

mod index;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::proxy::UpstreamEntry;
use crate::schema::{self, is_uuid, Field, Ver};

/// The four entity kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Services,
    Routes,
    Upstreams,
    Targets,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] =
        [Kind::Services, Kind::Routes, Kind::Upstreams, Kind::Targets];

    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Services => "services",
            Kind::Routes => "routes",
            Kind::Upstreams => "upstreams",
            Kind::Targets => "targets",
        }
    }

    pub(crate) fn from_table(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.table() == name)
    }

    pub(crate) fn endpoint_key(self) -> &'static str {
        match self {
            Kind::Targets => "target",
            _ => "name",
        }
    }

    pub(crate) fn fields(self, ver: &Ver) -> Vec<Field> {
        match self {
            Kind::Services => schema::services(ver),
            Kind::Routes => schema::routes(ver),
            Kind::Upstreams => schema::upstreams(ver),
            Kind::Targets => schema::targets(ver),
        }
    }
}

/// How a write treats the stored row.
#[derive(Clone, Debug)]
pub(crate) enum Mode {
    /// POST: create; a client-chosen id that exists is a primary-key violation.
    Insert,
    /// PUT: create or fully replace the row with this id.
    Upsert(String),
    /// PATCH (and target PUT): merge into the existing row with this id.
    Update(String),
}

#[derive(Default, Clone)]
pub(crate) struct Db {
    pub(crate) services: BTreeMap<String, Value>,
    pub(crate) routes: BTreeMap<String, Value>,
    pub(crate) upstreams: BTreeMap<String, Value>,
    pub(crate) targets: BTreeMap<String, Value>,
    /// `targets` by upstream (kept by [`Db::put`] and [`Db::delete`], the only writers).
    pub(crate) target_index: index::TargetIndex,
    /// DB-less only: entities kong-sim keeps without modelling them (consumers, plugins,
    /// certificates, …), by declarative section name, then id. Never written through the
    /// Admin API; listed and exported as loaded.
    pub(crate) other: BTreeMap<String, BTreeMap<String, Value>>,
}

pub(crate) fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Db {
    pub(crate) fn table(&self, kind: Kind) -> &BTreeMap<String, Value> {
        match kind {
            Kind::Services => &self.services,
            Kind::Routes => &self.routes,
            Kind::Upstreams => &self.upstreams,
            Kind::Targets => &self.targets,
        }
    }

    pub(crate) fn table_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Value> {
        match kind {
            Kind::Services => &mut self.services,
            Kind::Routes => &mut self.routes,
            Kind::Upstreams => &mut self.upstreams,
            Kind::Targets => &mut self.targets,
        }
    }

    /// Find by id (when `key` is a UUID) or by endpoint key.
    pub(crate) fn lookup(&self, kind: Kind, key: &str) -> Option<&Value> {
        if is_uuid(key) {
            return self.table(kind).get(&key.to_ascii_lowercase());
        }
        let field = kind.endpoint_key();
        self.table(kind)
            .values()
            .find(|e| e[field].as_str() == Some(key))
    }

    /// An upstream's target rows, oldest first (`created_at`, then id).
    pub(crate) fn targets_of<'a>(
        &'a self,
        upstream_id: &str,
    ) -> impl DoubleEndedIterator<Item = &'a Value> + 'a {
        self.target_index
            .created_order(upstream_id)
            .filter_map(|id| self.targets.get(id))
    }

    /// The first row (smallest id) of an upstream whose `target` is `target`.
    pub(crate) fn target_by_address(&self, upstream_id: &str, target: &str) -> Option<&Value> {
        self.target_index
            .with_target(upstream_id, target)
            .find_map(|id| self.targets.get(id))
    }

    /// Upstreams by name with their targets, for the data plane.
    pub(crate) fn upstream_table(&self) -> Vec<(String, UpstreamEntry)> {
        self.upstreams
            .values()
            .map(|u| {
                let id = u["id"].as_str().unwrap_or_default().to_string();
                // Stable peer order: creation order.
                let targets = self
                    .targets_of(&id)
                    .filter_map(|t| {
                        let target = t["target"].as_str().unwrap_or_default();
                        let (host, port) = schema::split_host_port(target)?;
                        let port = port.and_then(|p| p.parse().ok()).unwrap_or(8000);
                        Some((
                            t["id"].as_str().unwrap_or_default().to_string(),
                            host,
                            port,
                            t["weight"].as_u64().unwrap_or(100) as u32,
                        ))
                    })
                    .collect();
                (
                    u["name"].as_str().unwrap_or_default().to_string(),
                    UpstreamEntry {
                        id,
                        host_header: u["host_header"].as_str().map(str::to_string),
                        targets,
                    },
                )
            })
            .collect()
    }

    /// The DAO's part of a write (`check_insert`/`check_update`/`check_upsert` in
    /// `kong/db/dao/init.lua`): shorthands, foreign keys given by name resolved, the stored row
    /// of an update looked up (404), defaults, schema and entity checks. Returns the row to
    /// store (not yet stored, constraints not yet checked).
    pub(crate) fn validate(
        &self,
        kind: Kind,
        input: Map<String, Value>,
        mode: &Mode,
        ver: &Ver,
    ) -> Result<Map<String, Value>, ApiError> {
        let fields = kind.fields(ver);
        let mut input = input;
        shorthands(kind, &mut input);
        self.resolve_foreign(kind, &mut input)?;
        let now = now_s();
        let stamp = |ms: bool| {
            if ms {
                json!((now * 1000.0).floor() / 1000.0)
            } else {
                json!(now.floor() as i64)
            }
        };
        let ms = kind == Kind::Targets;
        let has_updated = fields.iter().any(|f| f.name == "updated_at");
        let mut row = match mode {
            Mode::Insert | Mode::Upsert(_) => {
                let mut row = input;
                if let Mode::Upsert(id) = mode {
                    row.insert("id".into(), json!(id));
                }
                if row.get("id").is_none_or(Value::is_null) {
                    row.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
                }
                if row.get("created_at").is_none_or(Value::is_null) {
                    row.insert("created_at".into(), stamp(ms));
                }
                if has_updated {
                    row.insert("updated_at".into(), stamp(ms));
                }
                schema::fill_defaults(&fields, &mut row);
                row
            }
            Mode::Update(id) => {
                let Some(Value::Object(existing)) = self.table(kind).get(id) else {
                    return Err(ApiError::not_found_key(json!({ "id": id })));
                };
                let mut row = existing.clone();
                input.remove("id");
                schema::merge(&fields, &mut row, input);
                if has_updated {
                    row.insert("updated_at".into(), stamp(ms));
                }
                schema::fill_defaults(&fields, &mut row);
                row
            }
        };
        let mut errors = schema::validate_record(&fields, &mut row, ver);
        entity_checks(kind, &row, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::schema(errors));
        }
        if let Some(id) = row["id"].as_str() {
            row.insert("id".into(), json!(id.to_ascii_lowercase()));
        }
        Ok(row)
    }

    /// The checks a database makes when the row is written (Postgres constraints in Kong):
    /// primary key, foreign keys, unique fields. DB-less Kong never gets here: its strategy
    /// refuses the write first (`kong/db/strategies/off/init.lua`).
    pub(crate) fn constraints(
        &self,
        kind: Kind,
        row: &Map<String, Value>,
        mode: &Mode,
    ) -> Result<(), ApiError> {
        let id = row["id"].as_str().unwrap_or_default().to_string();
        if matches!(mode, Mode::Insert) && self.table(kind).contains_key(&id) {
            return Err(ApiError::primary_key(&id));
        }
        self.check_foreign_exists(kind, row)?;
        self.check_unique(kind, row, &id)
    }

    /// [`Db::validate`] and then [`Db::constraints`]: the whole pipeline of a write.
    pub(crate) fn prepare(
        &self,
        kind: Kind,
        input: Map<String, Value>,
        mode: &Mode,
        ver: &Ver,
    ) -> Result<Map<String, Value>, ApiError> {
        let row = self.validate(kind, input, mode, ver)?;
        self.constraints(kind, &row, mode)?;
        Ok(row)
    }

    fn resolve_foreign(&self, kind: Kind, input: &mut Map<String, Value>) -> Result<(), ApiError> {
        let (field, parent) = match kind {
            Kind::Routes => ("service", Kind::Services),
            Kind::Targets => ("upstream", Kind::Upstreams),
            _ => return Ok(()),
        };
        let Some(Value::Object(reference)) = input.get(field) else {
            return Ok(());
        };
        if reference.contains_key("id") {
            return Ok(());
        }
        let key = parent.endpoint_key();
        // Only a valid key is looked up; an empty or null name falls through to the schema's
        // "missing primary key" (`09-routes_routes_spec.lua:418-439`).
        if let Some(Value::String(name)) = reference.get(key).filter(|n| n.as_str() != Some("")) {
            let name = name.clone();
            let Some(found) = self.lookup(parent, &name) else {
                return Err(ApiError::foreign_unresolved(
                    field,
                    key,
                    &name,
                    parent.table(),
                ));
            };
            let id = found["id"].clone();
            input.insert(field.to_string(), json!({ "id": id }));
        }
        Ok(())
    }

    fn check_foreign_exists(&self, kind: Kind, row: &Map<String, Value>) -> Result<(), ApiError> {
        let (field, parent) = match kind {
            Kind::Routes => ("service", Kind::Services),
            Kind::Targets => ("upstream", Kind::Upstreams),
            _ => return Ok(()),
        };
        if let Some(id) = row.get(field).and_then(|r| r["id"].as_str()) {
            if !self.table(parent).contains_key(id) {
                return Err(ApiError::foreign_invalid(
                    field,
                    json!({ "id": id }),
                    parent.table(),
                ));
            }
        }
        Ok(())
    }

    fn check_unique(&self, kind: Kind, row: &Map<String, Value>, id: &str) -> Result<(), ApiError> {
        if kind == Kind::Targets {
            let up = &row["upstream"]["id"];
            let target = &row["target"];
            let (Some(up_id), Some(address)) = (up.as_str(), target.as_str()) else {
                return Ok(());
            };
            if self
                .target_index
                .with_target(up_id, address)
                .any(|other| other != id)
            {
                return Err(ApiError::unique(json!({
                    "target": target,
                    "upstream": { "id": up },
                })));
            }
            return Ok(());
        }
        let others = self.table(kind).iter().filter(|(k, _)| k.as_str() != id);
        if let Some(name) = row.get("name").filter(|n| !n.is_null()) {
            for (_, other) in others {
                if &other["name"] == name {
                    return Err(ApiError::unique(json!({ "name": name })));
                }
            }
        }
        Ok(())
    }

    /// Store a prepared row.
    pub(crate) fn put(&mut self, kind: Kind, row: Map<String, Value>) -> Value {
        let id = row["id"].as_str().unwrap_or_default().to_string();
        let value = Value::Object(row);
        if kind == Kind::Targets {
            self.target_index.insert(&id, &value);
        }
        self.table_mut(kind).insert(id, value.clone());
        value
    }

    /// Delete with Kong's foreign-key behaviour: routes restrict a service delete, targets
    /// cascade with their upstream.
    pub(crate) fn delete(&mut self, kind: Kind, id: &str) -> Result<(), ApiError> {
        match kind {
            Kind::Services
                if self
                    .routes
                    .values()
                    .any(|r| r["service"]["id"].as_str() == Some(id)) =>
            {
                return Err(ApiError::foreign_restricted("services", "routes"));
            }
            Kind::Upstreams => {
                let ids: Vec<String> = self
                    .target_index
                    .created_order(id)
                    .map(str::to_string)
                    .collect();
                for target in ids {
                    self.target_index.remove(&target);
                    self.targets.remove(&target);
                }
            }
            Kind::Targets => self.target_index.remove(id),
            _ => {}
        }
        self.table_mut(kind).remove(id);
        Ok(())
    }
}

/// Write-only shorthands: service `url`; upstream algorithm/hash_on side effects.
fn shorthands(kind: Kind, input: &mut Map<String, Value>) {
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

fn entity_checks(kind: Kind, row: &Map<String, Value>, errors: &mut Map<String, Value>) {
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
