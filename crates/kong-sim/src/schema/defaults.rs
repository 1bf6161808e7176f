//! Defaults, merge and validation of whole records: fills absent keys, merges a PATCH into a
//! stored entity, and validates every field, collecting Kong-shaped field errors.

use serde_json::{json, Map, Value};

use super::{is_uuid, Field, Ty, Ver};

/// Fill defaults for absent keys (recursively inside records that are present or defaulted).
pub(crate) fn fill_defaults(fields: &[Field], obj: &mut Map<String, Value>) {
    for field in fields {
        match obj.get_mut(field.name) {
            None => {
                let value = match (&field.ty, &field.default) {
                    (Ty::Rec(sub), None) => {
                        let mut inner = Map::new();
                        fill_defaults(sub, &mut inner);
                        Value::Object(inner)
                    }
                    (_, Some(default)) => default.clone(),
                    (_, None) => Value::Null,
                };
                obj.insert(field.name.to_string(), value);
            }
            Some(Value::Object(inner)) => {
                if let Ty::Rec(sub) = &field.ty {
                    fill_defaults(sub, inner);
                }
            }
            Some(_) => {}
        }
    }
}

/// PATCH semantics: records are deep-merged, everything else (arrays, sets) replaced.
pub(crate) fn merge(fields: &[Field], base: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        let field = fields.iter().find(|f| f.name == key);
        match (field.map(|f| &f.ty), base.get_mut(&key), value) {
            (Some(Ty::Rec(sub)), Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge(sub, existing, incoming);
            }
            (_, _, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Validate (and normalise) a record against `fields`. Errors come back as a Kong `fields`
/// object (nested for records, arrays with `null` holes for array elements).
pub(crate) fn validate_record(
    fields: &[Field],
    obj: &mut Map<String, Value>,
    ver: &Ver,
) -> Map<String, Value> {
    let mut errors = Map::new();
    for key in obj.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.insert(key.clone(), json!("unknown field"));
        }
    }
    for field in fields {
        let value = obj.entry(field.name).or_insert(Value::Null);
        if let Err(err) = validate_value(field, value, ver) {
            errors.insert(field.name.to_string(), err);
        }
    }
    errors
}

fn validate_value(field: &Field, value: &mut Value, ver: &Ver) -> Result<(), Value> {
    if value.is_null() {
        return if field.required {
            Err(json!("required field missing"))
        } else {
            Ok(())
        };
    }
    match &field.ty {
        Ty::Str => {
            let Some(text) = value.as_str() else {
                return Err(json!("expected a string"));
            };
            if text.is_empty() {
                return Err(json!("length must be at least 1"));
            }
            if field.uuid && !is_uuid(text) {
                return Err(json!("expected a valid UUID"));
            }
            check_one_of(field, value)?;
            if let Some(check) = field.check {
                match check(value.as_str().unwrap_or_default(), ver) {
                    Ok(Some(normalised)) => *value = Value::String(normalised),
                    Ok(None) => {}
                    Err(e) => return Err(json!(e)),
                }
            }
        }
        Ty::Int => {
            let n = match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
                Value::Number(n) => n
                    .as_f64()
                    .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
                    .map(|x| x as i64),
                _ => None,
            };
            let Some(n) = n else {
                return Err(json!("expected an integer"));
            };
            *value = json!(n);
            if let Some((lo, hi)) = field.between {
                if n < lo || n > hi {
                    return Err(json!(format!("value should be between {lo} and {hi}")));
                }
            }
            check_one_of(field, value)?;
        }
        Ty::Num => {
            let Some(x) = value.as_f64() else {
                return Err(json!("expected a number"));
            };
            if let Some((lo, hi)) = field.between {
                if x < lo as f64 || x > hi as f64 {
                    return Err(json!(format!("value should be between {lo} and {hi}")));
                }
            }
        }
        Ty::Bool => {
            if !value.is_boolean() {
                return Err(json!("expected a boolean"));
            }
        }
        Ty::Set(el) | Ty::Arr(el) => {
            let is_set = matches!(field.ty, Ty::Set(_));
            let Some(items) = value.as_array_mut() else {
                return Err(json!(if is_set {
                    "expected a set"
                } else {
                    "expected an array"
                }));
            };
            let mut errs = Vec::new();
            let mut any = false;
            for item in items.iter_mut() {
                match validate_value(el, item, ver) {
                    Ok(()) => errs.push(Value::Null),
                    Err(e) => {
                        any = true;
                        errs.push(e);
                    }
                }
            }
            if any {
                while errs.last().is_some_and(Value::is_null) {
                    errs.pop();
                }
                return Err(Value::Array(errs));
            }
            if is_set {
                let mut seen = Vec::new();
                items.retain(|item| {
                    if seen.contains(item) {
                        false
                    } else {
                        seen.push(item.clone());
                        true
                    }
                });
            }
        }
        Ty::Rec(sub) => {
            let Some(obj) = value.as_object_mut() else {
                return Err(json!("expected a record"));
            };
            let errs = validate_record(sub, obj, ver);
            if !errs.is_empty() {
                return Err(Value::Object(errs));
            }
        }
        Ty::Foreign(reference) => {
            let Some(obj) = value.as_object() else {
                return Err(json!("expected a record"));
            };
            // Kong validates the given fields against the referenced schema first
            // (`service.protocol: expected one of: …`), then asks for the primary key:
            // `09-routes_routes_spec.lua:374-461`.
            let parent = crate::store::Kind::from_table(reference)
                .map(|kind| kind.fields(ver))
                .unwrap_or_default();
            let mut errs = Map::new();
            for (key, given) in obj {
                if key == "id" {
                    continue;
                }
                if let Some(f) = parent.iter().find(|f| f.name == key) {
                    let mut given = given.clone();
                    if let Err(e) = validate_value(f, &mut given, ver) {
                        errs.insert(key.clone(), e);
                    }
                }
            }
            if !errs.is_empty() {
                return Err(Value::Object(errs));
            }
            match obj.get("id") {
                Some(Value::String(id)) if is_uuid(id) => {}
                Some(Value::Null) | None => return Err(json!({"id": "missing primary key"})),
                Some(_) => return Err(json!({"id": "expected a valid UUID"})),
            }
        }
        Ty::Map(val) => {
            let Some(obj) = value.as_object_mut() else {
                return Err(json!("expected a map"));
            };
            let mut errs = Map::new();
            for (k, v) in obj.iter_mut() {
                if let Err(e) = validate_value(val, v, ver) {
                    errs.insert(k.clone(), e);
                }
            }
            if !errs.is_empty() {
                return Err(Value::Object(errs));
            }
        }
    }
    Ok(())
}

fn check_one_of(field: &Field, value: &Value) -> Result<(), Value> {
    match &field.one_of {
        Some(options) if !options.contains(value) => {
            let list: Vec<String> = options
                .iter()
                .map(|o| match o {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Err(json!(format!("expected one of: {}", list.join(", "))))
        }
        _ => Ok(()),
    }
}
