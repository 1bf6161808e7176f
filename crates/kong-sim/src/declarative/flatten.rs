//! `?flatten_errors=1` (Kong 3.2+, `errors:declarative_config_flattened` in
//! `kong/db/errors.lua`): entity errors are drained out of the error tree into a list of
//! `{entity_type, entity_id?, entity_name?, entity_tags?, entity, errors: [{type, field?,
//! message}]}`, nested children hoisted to the top with their parent's key; what cannot be
//! tied to an input entity stays in `fields`.

use serde_json::{json, Map, Value};

use crate::schema::is_uuid;

/// One-to-one foreign fields of a section and the section they reference.
fn owned(section: &str) -> &'static [(&'static str, &'static str)] {
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

/// One-to-many children of a section and the foreign key they carry.
fn nested(section: &str) -> &'static [(&'static str, &'static str)] {
    match section {
        "services" => &[("routes", "service"), ("plugins", "service")],
        "routes" => &[("plugins", "route")],
        "upstreams" => &[("targets", "upstream")],
        "consumers" => &[("plugins", "consumer")],
        _ => &[],
    }
}

fn make_pk(entity: &Value) -> Value {
    match entity.get("id").and_then(Value::as_str) {
        Some(id) if is_uuid(id) => json!({ "id": id }),
        _ => Value::Null,
    }
}

fn categorize(errs: &Map<String, Value>, ns: &str, out: &mut Vec<Value>) {
    let join = |field: &str| {
        if ns.is_empty() {
            field.to_string()
        } else {
            format!("{ns}.{field}")
        }
    };
    let mut keys: Vec<&String> = errs.keys().collect();
    keys.sort();
    for key in keys {
        match &errs[key] {
            Value::Null => {}
            Value::Array(list) if key == "@entity" => {
                for message in list {
                    out.push(json!({"type": "entity", "message": message}));
                }
            }
            message @ Value::String(_) if key == "@entity" => {
                out.push(json!({"type": "entity", "message": message}));
            }
            Value::String(message) => {
                out.push(json!({"type": "field", "field": join(key), "message": message}));
            }
            Value::Object(inner) => categorize(inner, &join(key), out),
            Value::Array(list) => {
                // A Lua array: keys are 1-based indexes.
                let inner: Map<String, Value> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(i, v)| ((i + 1).to_string(), v.clone()))
                    .collect();
                categorize(&inner, &join(key), out);
            }
            other => out.push(json!({"type": "field", "field": join(key), "message": other})),
        }
    }
}

fn add_entity_errors(section: &str, entity: &Value, err: Value, out: &mut Vec<Value>) {
    let mut err = match err {
        Value::String(_) => {
            let mut m = Map::new();
            m.insert("@entity".into(), err);
            m
        }
        Value::Object(m) if !m.is_empty() => m,
        _ => return,
    };
    let Value::Object(mut entity) = entity.clone() else {
        return;
    };
    let pk = make_pk(&Value::Object(entity.clone()));
    for (field, reference) in owned(section) {
        if let Some(value) = entity.get(*field).filter(|v| v.is_object()).cloned() {
            entity.insert((*field).into(), make_pk(&value));
            if let Some(field_err) = err.remove(*field) {
                add_entity_errors(reference, &value, field_err, out);
            }
        }
    }
    for (child, fk) in nested(section) {
        if let Some(Value::Array(items)) = entity.remove(*child) {
            if let Some(Value::Array(child_errs)) = err.remove(*child) {
                for (i, item) in items.iter().enumerate() {
                    let mut item = item.clone();
                    if let Value::Object(map) = &mut item {
                        map.entry(*fk).or_insert(pk.clone());
                    }
                    let e = child_errs.get(i).cloned().unwrap_or(Value::Null);
                    add_entity_errors(child, &item, e, out);
                }
            }
        }
    }
    if err.is_empty() {
        return;
    }
    let mut errors = Vec::new();
    categorize(&err, "", &mut errors);
    if errors.is_empty() {
        return;
    }
    let mut entry = json!({
        "entity_type": section.strip_suffix('s').unwrap_or(section),
        "entity": entity,
        "errors": errors,
    });
    if let Some(name) = entity
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        entry["entity_name"] = json!(name);
    }
    if let Some(id) = entity
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| is_uuid(id))
    {
        entry["entity_id"] = json!(id);
    }
    if let Some(tags) = entity.get("tags").and_then(Value::as_array) {
        if tags.iter().all(Value::is_string) {
            entry["entity_tags"] = json!(tags);
        }
    }
    out.push(entry);
}

/// Drain the entity errors of `errs` (Kong's error tree) into the flattened list, leaving in
/// `errs` only what is not tied to an input entity (top-level keys).
pub(crate) fn flatten(errs: &mut Map<String, Value>, input: &Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    let sections: Vec<String> = errs.keys().cloned().collect();
    for section in sections {
        let (Some(Value::Array(section_errs)), Some(Value::Array(entities))) =
            (errs.get(&section), input.get(&section))
        else {
            // Strings and errors keyed by name (references) stay as they are.
            continue;
        };
        let pairs: Vec<(Value, Value)> = section_errs
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_null())
            .filter_map(|(i, e)| entities.get(i).map(|ent| (ent.clone(), e.clone())))
            .collect();
        errs.remove(&section);
        for (entity, err) in pairs {
            if entity.is_object() {
                add_entity_errors(&section, &entity, err, &mut out);
            }
        }
    }
    out
}
