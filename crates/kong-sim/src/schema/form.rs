//! Form inference (`kong/api/arguments.lua` `infer_value`): form-decoded trees (`hosts[]`,
//! `service.id`) become typed values by the entity's field types.

use serde_json::{json, Map, Value};

use super::{Field, Ty};

/// Convert a form-decoded tree (strings, arrays of strings, objects) into typed values.
pub(crate) fn infer_record(fields: &[Field], raw: Map<String, Value>) -> Map<String, Value> {
    raw.into_iter()
        .map(|(key, value)| {
            let inferred = match fields.iter().find(|f| f.name == key) {
                Some(field) => infer(&field.ty, value),
                None => value,
            };
            (key, inferred)
        })
        .collect()
}

fn infer(ty: &Ty, raw: Value) -> Value {
    match (ty, raw) {
        (_, Value::String(s)) if s.is_empty() => Value::Null,
        (Ty::Int | Ty::Num, Value::String(s)) => {
            if let Ok(n) = s.parse::<i64>() {
                json!(n)
            } else if let Ok(x) = s.parse::<f64>() {
                json!(x)
            } else {
                Value::String(s)
            }
        }
        (Ty::Bool, Value::String(s)) => match s.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => Value::String(s),
        },
        (Ty::Set(el) | Ty::Arr(el), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|i| infer(&el.ty, i)).collect())
        }
        (Ty::Set(el) | Ty::Arr(el), scalar @ Value::String(_)) => {
            Value::Array(vec![infer(&el.ty, scalar)])
        }
        (Ty::Rec(sub), Value::Object(obj)) => Value::Object(infer_record(sub, obj)),
        // `service.name=`: an empty form value is null inside a foreign key too.
        (Ty::Foreign(_), Value::Object(obj)) => Value::Object(
            obj.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) if s.is_empty() => (k, Value::Null),
                    v => (k, v),
                })
                .collect(),
        ),
        (Ty::Map(val), Value::Object(obj)) => Value::Object(
            obj.into_iter()
                .map(|(k, v)| (k, infer(&val.ty, v)))
                .collect(),
        ),
        // Repeated key for a scalar field: keep the last value.
        (Ty::Str | Ty::Int | Ty::Num | Ty::Bool, Value::Array(mut items)) if !items.is_empty() => {
            let last = items.pop().unwrap_or_default();
            infer(ty, last)
        }
        (_, other) => other,
    }
}

/// Build the raw tree from form pairs: `a.b=1`, `hosts[]=x`, `hosts[1]=x`, repeated keys.
pub(crate) fn form_tree(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in pairs {
        let (key, is_array) = match key.find('[') {
            Some(idx) if key.ends_with(']') => (key[..idx].to_string(), true),
            _ => (key, false),
        };
        let parts: Vec<&str> = key.split('.').collect();
        insert_path(&mut root, &parts, Value::String(value), is_array);
    }
    root
}

fn insert_path(node: &mut Map<String, Value>, parts: &[&str], value: Value, is_array: bool) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if !rest.is_empty() {
        let entry = node
            .entry((*first).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(child) = entry {
            insert_path(child, rest, value, is_array);
        }
        return;
    }
    match node.get_mut(*first) {
        None if is_array => {
            node.insert((*first).to_string(), Value::Array(vec![value]));
        }
        None => {
            node.insert((*first).to_string(), value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let previous = existing.take();
            *existing = Value::Array(vec![previous, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tree_shapes() {
        let pairs = vec![
            ("hosts[]".to_string(), "a".to_string()),
            ("hosts[]".to_string(), "b".to_string()),
            ("service.id".to_string(), "x".to_string()),
            ("methods".to_string(), "GET".to_string()),
            ("methods".to_string(), "POST".to_string()),
        ];
        let tree = form_tree(pairs);
        assert_eq!(tree["hosts"], json!(["a", "b"]));
        assert_eq!(tree["service"], json!({"id": "x"}));
        assert_eq!(tree["methods"], json!(["GET", "POST"]));
    }
}
