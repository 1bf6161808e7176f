//! The in-memory "database": one table per entity, ordered by primary key like Kong's
//! Postgres strategy, plus the write pipeline every endpoint shares (shorthands, defaults,
//! PATCH merge, validation, entity checks, foreign keys, unique constraints, timestamps).
//!
//! Targets are also indexed by upstream and by `(upstream, target)` ([`index`]), so a
//! target's write costs the same in an upstream of ten or of ten thousand targets, as Kong's
//! indexed insert does. The per-entity shorthands and cross-field checks are in [`checks`].

mod checks;
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
        checks::shorthands(kind, &mut input);
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
        checks::entity_checks(kind, &row, &mut errors);
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
