//! DB-less declarative configuration: reading a posted config (`unserialize`), loading it into a
//! fresh [`Db`] with Kong's error tree (`load`), flattening that tree (`flatten`), the hash a
//! node reports, and the export `GET /config` returns.
//!
//! Sources (Kong's repository): `kong/api/routes/config.lua` (the endpoint),
//! `kong/db/declarative/init.lua` (`unserialize`, `parse_table`, hashes),
//! `kong/db/schema/others/declarative_config.lua` (nesting, generated ids, references,
//! uniqueness), `kong/db/errors.lua` (`declarative_config`, `declarative_config_flattened`),
//! `kong/db/declarative/export.lua` (`_format_version: "3.0"`, `_transform: false`, foreign
//! keys as plain ids). Facts worth knowing, each checked against those files:
//! - the hash is md5 of the posted *text* (`config` string or raw body); a config posted as a
//!   JSON object gets a hash of the parsed entities, so `check_hash=1` can only ever skip a
//!   config sent as text; a config without entities reports 32 zeros;
//! - entities without an id get a UUIDv5: namespace `uuid5(fd02801f-…, <entity>)`, name = the
//!   endpoint key when it is unique (service/route/upstream name, consumer username), else the
//!   cache key (`targets:*:<upstream>:<target>`): posting the same text twice gives the same ids;
//! - errors mirror the input (`services[2].routes[1]`), sparse arrays are JSON arrays with
//!   `null`s; schema errors are reported alone, before references and uniqueness.
//!
//! Sections kong-sim does not model (consumers, plugins, certificates, …; [`OPAQUE`]) are
//! kept as given (id and timestamps added), so a config round-trips through a node.

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::store::{Db, Kind};

mod flatten;
mod load;

pub(crate) use flatten::flatten;
pub(crate) use load::load;

/// `DECLARATIVE_EMPTY_CONFIG_HASH` (`kong/constants.lua`).
pub(crate) const EMPTY_HASH: &str = "00000000000000000000000000000000";

/// Declarative sections kept without modelling.
pub(crate) const OPAQUE: &[&str] = &[
    "consumers",
    "plugins",
    "certificates",
    "ca_certificates",
    "snis",
    "vaults",
    "keys",
    "key_sets",
    "filter_chains",
];

/// The declarative section behind an Admin API collection path (`key-sets` → `key_sets`).
pub(crate) fn section_of(collection: &str) -> String {
    collection.replace('-', "_")
}

pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

/// `DeclarativeConfig:unserialize`: JSON, then YAML; anything but an object is refused with
/// Kong's `{error = "failed parsing declarative configuration: …"}`. Returns the table and
/// the md5 of the text.
pub(crate) fn unserialize(text: &str) -> Result<(Map<String, Value>, String), ApiError> {
    let parsed = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => match serde_yaml_ng::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err("expected an object".to_string()),
            Err(e) => Err(e.to_string()),
        },
    };
    match parsed {
        Ok(map) => Ok((map, md5_hex(text.as_bytes()))),
        Err(why) => Err(ApiError::declarative(json!({
            "error": format!("failed parsing declarative configuration: {why}")
        }))),
    }
}

/// The hash a node reports after loading `db`: the text's md5 when there was text, Kong's
/// all-zero hash for a config without entities, else an md5 of the loaded entities.
pub(crate) fn config_hash(db: &Db, text_hash: Option<String>) -> String {
    let empty = Kind::ALL.iter().all(|k| db.table(*k).is_empty())
        && db.other.values().all(std::collections::BTreeMap::is_empty);
    if empty {
        return EMPTY_HASH.to_string();
    }
    text_hash.unwrap_or_else(|| md5_hex(entities(db).to_string().as_bytes()))
}

/// The `201` body of `POST /config`: every entity by section, then id (foreign keys as
/// `{id}` records, as `declarative.sanitize_output` leaves them).
pub(crate) fn entities(db: &Db) -> Value {
    let mut out = Map::new();
    for kind in Kind::ALL {
        let rows: Map<String, Value> = db
            .table(kind)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert(kind.table().into(), Value::Object(rows));
    }
    for (section, rows) in &db.other {
        let rows: Map<String, Value> = rows.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        out.insert(section.clone(), Value::Object(rows));
    }
    Value::Object(out)
}

/// `GET /config`'s YAML: `_format_version: "3.0"`, `_transform: false`, then each non-empty
/// section as a flat list with foreign keys as plain ids (`service: <uuid>`).
pub(crate) fn export(db: &Db) -> String {
    let mut doc = Map::new();
    doc.insert("_format_version".into(), json!("3.0"));
    doc.insert("_transform".into(), json!(false));
    let flat = |row: &Value| {
        let mut row = row.clone();
        if let Value::Object(map) = &mut row {
            for field in ["service", "route", "upstream", "consumer"] {
                if let Some(id) = map.get(field).and_then(|r| r.get("id")).cloned() {
                    map.insert(field.into(), id);
                }
            }
        }
        row
    };
    for kind in Kind::ALL {
        let rows: Vec<Value> = db.table(kind).values().map(flat).collect();
        if !rows.is_empty() {
            doc.insert(kind.table().into(), Value::Array(rows));
        }
    }
    for (section, rows) in &db.other {
        if !rows.is_empty() {
            doc.insert(section.clone(), rows.values().map(flat).collect());
        }
    }
    serde_yaml_ng::to_string(&Value::Object(doc)).unwrap_or_default()
}
