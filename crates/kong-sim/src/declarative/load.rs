//! Loading a declarative table into a fresh [`Db`], in Kong's order
//! (`declarative_config.lua` `flatten`): top-level keys and every entity's schema first (all
//! errors, shaped like the input); then ids for entities without one (UUIDv5); then endpoint-key
//! and primary-key uniqueness and references (`populate_references`/`validate_references`);
//! then the rows are stored.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::OPAQUE;
use crate::schema::{is_uuid, Ver};
use crate::store::{now_s, Db, Kind, Mode};

/// Top-level keys that are metadata, not sections.
const META: &[&str] = &[
    "_format_version",
    "_transform",
    "_comment",
    "_workspace",
    "_info",
];

/// Where an entity sits in the input: `services[i]`, or `services[i].routes[j]`.
#[derive(Clone)]
struct Place {
    parent: Option<(&'static str, usize)>,
    section: String,
    index: usize,
}

/// One entity of the input, its nested children removed.
struct Item {
    place: Place,
    raw: Map<String, Value>,
    /// The parent's foreign key field and id, for nested children.
    parent_fk: Option<(&'static str, String)>,
}

fn kind_of(section: &str) -> Option<Kind> {
    Kind::from_table(section)
}

/// Nested sections an entity may carry, with the foreign key they get.
fn children(section: &str) -> &'static [(&'static str, &'static str)] {
    match section {
        "services" => &[("routes", "service"), ("plugins", "service")],
        "routes" => &[("plugins", "route")],
        "upstreams" => &[("targets", "upstream")],
        "consumers" => &[("plugins", "consumer")],
        _ => &[],
    }
}

/// Foreign key fields of a section and the section they point into.
fn references(section: &str) -> &'static [(&'static str, &'static str)] {
    match section {
        "routes" => &[("service", "services")],
        "targets" => &[("upstream", "upstreams")],
        "plugins" => &[
            ("service", "services"),
            ("route", "routes"),
            ("consumer", "consumers"),
        ],
        _ => &[],
    }
}

/// The endpoint key when it is unique (it then names the entity in uniqueness errors).
fn unique_key(section: &str) -> Option<&'static str> {
    match section {
        "services" | "routes" | "upstreams" | "vaults" | "keys" | "key_sets" => Some("name"),
        "consumers" => Some("username"),
        _ => None,
    }
}

/// Put `value` at `place` in the error tree (`errs[section][i]`, or
/// `errs[parent][i][section][j]`), merging objects.
fn put_error(errs: &mut Map<String, Value>, place: &Place, value: Value) {
    fn slot(list: &mut Value, index: usize) -> &mut Value {
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        let items = list.as_array_mut().expect("array");
        if items.len() <= index {
            items.resize(index + 1, Value::Null);
        }
        &mut items[index]
    }
    let target = match &place.parent {
        Some((parent, pi)) => {
            let outer = slot(errs.entry(*parent).or_insert(Value::Null), *pi);
            if !outer.is_object() {
                *outer = json!({});
            }
            let list = outer
                .as_object_mut()
                .expect("object")
                .entry(place.section.clone())
                .or_insert(Value::Null);
            slot(list, place.index)
        }
        None => slot(
            errs.entry(place.section.clone()).or_insert(Value::Null),
            place.index,
        ),
    };
    match (target, value) {
        (Value::Object(have), Value::Object(more)) => have.extend(more),
        (target, value) => *target = value,
    }
}

/// Kong's `generate_uuid(entity, key)`: UUIDv5 in a per-entity namespace.
fn generated_id(section: &str, key: &str) -> String {
    let root = Uuid::parse_str("fd02801f-0957-4a15-a55a-c8d9606f30b5").expect("uuid");
    let namespace = Uuid::new_v5(&root, section.as_bytes());
    Uuid::new_v5(&namespace, key.as_bytes()).to_string()
}

/// The name Kong derives an entity's id from, if any (`get_key_for_uuid_gen`).
fn id_key(item: &Item) -> Option<String> {
    let section = item.place.section.as_str();
    let text = |field: &str| -> Option<String> {
        match item.raw.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(r)) => r.get("id").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    };
    let fk = |field: &str| -> String {
        match &item.parent_fk {
            Some((f, id)) if *f == field => id.clone(),
            _ => text(field).unwrap_or_default(),
        }
    };
    match section {
        "targets" => Some(format!("targets:*:{}:{}", fk("upstream"), text("target")?)),
        "plugins" => Some(format!(
            "plugins:*:{}:{}:{}:{}",
            text("name")?,
            fk("route"),
            fk("service"),
            fk("consumer")
        )),
        _ => unique_key(section).and_then(text),
    }
}

/// Schema errors of an opaque entity (the few kong-sim checks).
fn opaque_errors(section: &str, row: &Map<String, Value>) -> Option<Value> {
    let blank = |k: &str| row.get(k).is_none_or(|v| v.is_null() || v == "");
    match section {
        "consumers" if blank("username") && blank("custom_id") => Some(json!({"@entity": [
            "at least one of these fields must be non-empty: 'custom_id', 'username'"
        ]})),
        "plugins" if blank("name") => Some(json!({"name": "required field missing"})),
        _ => None,
    }
}

/// Split the input into items (children detached) and collect top-level key errors.
fn collect(doc: &Map<String, Value>, errs: &mut Map<String, Value>) -> Vec<Item> {
    if doc.get("_format_version").is_none_or(Value::is_null) {
        errs.insert("_format_version".into(), json!("required field missing"));
    }
    let mut items = Vec::new();
    for (key, value) in doc {
        if META.contains(&key.as_str()) || value.is_null() {
            continue;
        }
        if kind_of(key).is_none() && !OPAQUE.contains(&key.as_str()) {
            errs.insert(key.clone(), json!("unknown field"));
            continue;
        }
        let Value::Array(list) = value else {
            errs.insert(key.clone(), json!("expected an array"));
            continue;
        };
        for (i, entity) in list.iter().enumerate() {
            let place = Place {
                parent: None,
                section: key.clone(),
                index: i,
            };
            nest(entity, place, None, &mut items, errs);
        }
    }
    items
}

fn nest(
    entity: &Value,
    place: Place,
    parent_fk: Option<(&'static str, String)>,
    items: &mut Vec<Item>,
    errs: &mut Map<String, Value>,
) {
    let Value::Object(raw) = entity else {
        put_error(errs, &place, json!("expected a record"));
        return;
    };
    let mut raw = raw.clone();
    let mut nested = Vec::new();
    for (child, fk) in children(&place.section) {
        if let Some(list) = raw.remove(*child) {
            nested.push((*child, *fk, list));
        }
    }
    let index = items.len();
    items.push(Item {
        place: place.clone(),
        raw,
        parent_fk,
    });
    let section: &'static str = match kind_of(&place.section) {
        Some(kind) => kind.table(),
        None => OPAQUE
            .iter()
            .find(|s| **s == place.section)
            .copied()
            .unwrap_or("plugins"),
    };
    for (child, fk, list) in nested {
        let Value::Array(list) = list else { continue };
        for (j, entity) in list.iter().enumerate() {
            let child_place = Place {
                parent: Some((section, place.index)),
                section: child.to_string(),
                index: j,
            };
            // The parent's id is filled in once ids exist (`link_children`).
            let link = Some((fk, format!("#{index}")));
            nest(entity, child_place, link, items, errs);
        }
    }
}

/// A row ready for the schema: the foreign key given as a name or id string becomes a record.
fn as_row(item: &Item) -> Map<String, Value> {
    let mut row = item.raw.clone();
    for (field, _) in references(&item.place.section) {
        if let Some(Value::String(reference)) = row.get(*field).cloned() {
            let key = if is_uuid(&reference) { "id" } else { "name" };
            row.insert((*field).into(), json!({ key: reference }));
        }
    }
    if let Some((field, id)) = &item.parent_fk {
        row.insert((*field).into(), json!({ "id": id }));
    }
    row
}

/// The input as Kong's `flatten` leaves it once ids are generated (it assigns them into the
/// table it was given): the same walk as [`collect`], each entity given `ids[k]`.
fn with_ids(doc: &Map<String, Value>, ids: &[String]) -> Map<String, Value> {
    fn walk(section: &str, entity: &mut Value, ids: &[String], k: &mut usize) {
        let Value::Object(map) = entity else { return };
        if let Some(id) = ids.get(*k) {
            map.insert("id".into(), json!(id));
        }
        *k += 1;
        for (child, _) in children(section) {
            if let Some(Value::Array(list)) = map.get_mut(*child) {
                for item in list {
                    walk(child, item, ids, k);
                }
            }
        }
    }
    let mut doc = doc.clone();
    let mut k = 0;
    for (key, value) in &mut doc {
        if META.contains(&key.as_str()) {
            continue;
        }
        if kind_of(key).is_none() && !OPAQUE.contains(&key.as_str()) {
            continue;
        }
        if let Value::Array(list) = value {
            for entity in list {
                walk(key, entity, ids, &mut k);
            }
        }
    }
    doc
}

/// What a failed load reports: Kong's error tree, and the input to correlate it with (with
/// generated ids once they exist).
pub(crate) struct Failure {
    pub(crate) errors: Map<String, Value>,
    pub(crate) input: Map<String, Value>,
}

/// What a failed schema check of one entity contributes to the tree: its field errors, or
/// its message.
fn error_detail(e: crate::errors::ApiError) -> Value {
    let body = e.body.unwrap_or(Value::Null);
    body.get("fields")
        .cloned()
        .unwrap_or(body["message"].clone())
}

/// Step 1, schema, every entity (children and references get a placeholder id).
fn check_schema(items: &[Item], ver: &Ver, errs: &mut Map<String, Value>) {
    let scratch = Db::default();
    let placeholder = Uuid::nil().to_string();
    for item in items {
        let mut row = as_row(item);
        if let Some((field, _)) = &item.parent_fk {
            row.insert((*field).into(), json!({ "id": placeholder }));
        }
        let error = match kind_of(&item.place.section) {
            Some(kind) => {
                for (field, _) in references(&item.place.section) {
                    if row.get(*field).is_some_and(Value::is_object) {
                        row.insert((*field).into(), json!({ "id": placeholder }));
                    }
                }
                scratch
                    .validate(kind, row, &Mode::Insert, ver)
                    .err()
                    .map(error_detail)
            }
            None => opaque_errors(&item.place.section, &row),
        };
        if let Some(error) = error {
            put_error(errs, &item.place, error);
        }
    }
}

/// Step 2, ids: given, derived (UUIDv5) or random; children learn their parent's id.
fn assign_ids(items: &mut [Item]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for item in items.iter_mut() {
        if let Some((field, link)) = item.parent_fk.clone() {
            let parent: usize = link[1..].parse().unwrap_or_default();
            item.parent_fk = Some((field, ids[parent].clone()));
        }
        let id = match item.raw.get("id") {
            Some(Value::String(id)) => id.to_ascii_lowercase(),
            _ => id_key(item).map_or_else(
                || Uuid::new_v4().to_string(),
                |key| generated_id(&item.place.section, &key),
            ),
        };
        item.raw.insert("id".into(), json!(id));
        ids.push(id);
    }
    ids
}

/// Entities by section and unique endpoint key (value: index), and by section and id.
struct Index {
    by_key: HashMap<(String, String), usize>,
    by_id: HashSet<(String, String)>,
}

/// Step 3a, uniqueness: the endpoint key first, then the primary key (`populate_references`).
fn check_unique(items: &[Item], ids: &[String], errs: &mut Map<String, Value>) -> Index {
    let mut by_key: HashMap<(String, String), usize> = HashMap::new();
    let mut by_id: HashSet<(String, String)> = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let section = item.place.section.clone();
        let mut failed = false;
        if let Some(field) = unique_key(&section) {
            if let Some(Value::String(key)) = item.raw.get(field) {
                if by_key.insert((section.clone(), key.clone()), i).is_some() {
                    let message = format!(
                        "uniqueness violation: '{section}' entity with {field} set to '{key}' already declared"
                    );
                    put_error(errs, &item.place, json!(message));
                    failed = true;
                }
            }
        }
        if !by_id.insert((section.clone(), ids[i].clone())) && !failed {
            let message = format!(
                "uniqueness violation: '{section}' entity with primary key set to '{}' already declared",
                ids[i]
            );
            put_error(errs, &item.place, json!(message));
        }
    }
    Index { by_key, by_id }
}

/// Step 3b, references by name or id to entities of the config (`validate_references`): errors
/// are keyed by the entity's unique name, else its id.
fn check_references(items: &[Item], ids: &[String], index: &Index, errs: &mut Map<String, Value>) {
    let Index { by_key, by_id } = index;
    for (i, item) in items.iter().enumerate() {
        let section = &item.place.section;
        for (field, target) in references(section) {
            let Some(value) = item.raw.get(*field).filter(|v| !v.is_null()) else {
                continue;
            };
            let key = match value {
                Value::String(s) => s.clone(),
                other => other
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or_else(|| other.to_string(), str::to_string),
            };
            let found = by_key.contains_key(&((*target).to_string(), key.clone()))
                || by_id.contains(&((*target).to_string(), key.to_ascii_lowercase()));
            if !found {
                let shown = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                let at = unique_key(section)
                    .and_then(|k| item.raw.get(k).and_then(Value::as_str))
                    .map_or_else(|| ids[i].clone(), str::to_string);
                let list = errs
                    .entry(section.clone())
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .map(|m| m.entry(at).or_insert_with(|| json!([])));
                if let Some(Value::Array(list)) = list {
                    list.push(json!(format!(
                        "invalid reference '{field}: {shown}' (no such entry in '{target}')"
                    )));
                }
            }
        }
    }
}

/// Step 4, store: parents before children, names resolved to ids; consumers' `custom_id`
/// uniqueness (checked while flattening in Kong, keyed by username).
fn store(
    items: &[Item],
    ids: &[String],
    index: &Index,
    ver: &Ver,
    errs: &mut Map<String, Value>,
) -> Db {
    let by_key = &index.by_key;
    let mut db = Db::default();
    let mut custom_ids: HashMap<String, String> = HashMap::new();
    let order = ["services", "routes", "upstreams", "targets", "consumers"];
    let rank = |s: &str| order.iter().position(|o| *o == s).unwrap_or(order.len());
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|item| rank(&item.place.section));
    for item in sorted {
        let mut row = as_row(item);
        for (field, target) in references(&item.place.section) {
            let Some(Value::Object(reference)) = row.get(*field).cloned() else {
                continue;
            };
            if let Some(name) = reference.get("name").and_then(Value::as_str) {
                if let Some(&at) = by_key.get(&((*target).to_string(), name.to_string())) {
                    row.insert((*field).into(), json!({ "id": ids[at] }));
                }
            }
        }
        if let Some(kind) = kind_of(&item.place.section) {
            match db.validate(kind, row, &Mode::Insert, ver) {
                Ok(row) => {
                    db.put(kind, row);
                }
                Err(e) => put_error(errs, &item.place, error_detail(e)),
            }
        } else {
            {
                let section = item.place.section.clone();
                if section == "consumers" {
                    for field in ["username", "custom_id", "tags"] {
                        row.entry(field).or_insert(Value::Null);
                    }
                    if let Some(Value::String(custom)) = row.get("custom_id") {
                        let name = row["username"]
                            .as_str()
                            .map_or_else(|| ids_of(&row), str::to_string);
                        if custom_ids.insert(custom.clone(), name.clone()).is_some() {
                            errs.entry("consumers").or_insert_with(|| json!({}))[name] = json!(format!(
                                "uniqueness violation: 'consumers' entity with custom_id set to '{custom}' already declared"
                            ));
                        }
                    }
                }
                let now = now_s().floor() as i64;
                row.entry("created_at").or_insert(json!(now));
                if section == "consumers" {
                    row.entry("updated_at").or_insert(json!(now));
                }
                let id = row["id"].as_str().unwrap_or_default().to_string();
                db.other
                    .entry(section)
                    .or_default()
                    .insert(id, Value::Object(row));
            }
        }
    }
    db
}

/// Load `doc` into a new [`Db`], or return Kong's error tree.
pub(crate) fn load(doc: &Map<String, Value>, ver: &Ver) -> Result<Db, Failure> {
    let mut errs = Map::new();
    let mut items = collect(doc, &mut errs);
    check_schema(&items, ver, &mut errs);
    if !errs.is_empty() {
        return Err(Failure {
            errors: errs,
            input: doc.clone(),
        });
    }
    let ids = assign_ids(&mut items);
    let index = check_unique(&items, &ids, &mut errs);
    check_references(&items, &ids, &index, &mut errs);
    let db = if errs.is_empty() {
        store(&items, &ids, &index, ver, &mut errs)
    } else {
        Db::default()
    };
    if errs.is_empty() {
        Ok(db)
    } else {
        Err(Failure {
            errors: errs,
            input: with_ids(doc, &ids),
        })
    }
}

fn ids_of(row: &Map<String, Value>) -> String {
    row["id"].as_str().unwrap_or_default().to_string()
}
