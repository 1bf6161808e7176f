//! The `/schemas/{entity}` rendering that decK reads defaults from.

use serde_json::{json, Map, Value};

use super::{Field, Ty};

fn render_field(field: &Field) -> Value {
    let mut out = Map::new();
    let type_name = match &field.ty {
        Ty::Str => "string",
        Ty::Int => "integer",
        Ty::Num => "number",
        Ty::Bool => "boolean",
        Ty::Set(_) => "set",
        Ty::Arr(_) => "array",
        Ty::Rec(_) => "record",
        Ty::Foreign(_) => "foreign",
        Ty::Map(_) => "map",
    };
    out.insert("type".into(), json!(type_name));
    match &field.ty {
        Ty::Set(el) | Ty::Arr(el) => {
            out.insert("elements".into(), render_field(el));
        }
        Ty::Rec(sub) => {
            out.insert("fields".into(), render_fields(sub));
            out.insert("required".into(), json!(true));
        }
        Ty::Foreign(reference) => {
            out.insert("reference".into(), json!(reference));
        }
        Ty::Map(val) => {
            out.insert("keys".into(), json!({"type": "string"}));
            out.insert("values".into(), render_field(val));
        }
        _ => {}
    }
    if let Some(default) = &field.default {
        out.insert("default".into(), default.clone());
    }
    if field.required {
        out.insert("required".into(), json!(true));
    }
    if field.unique {
        out.insert("unique".into(), json!(true));
    }
    if field.auto {
        out.insert("auto".into(), json!(true));
    }
    if field.uuid {
        out.insert("uuid".into(), json!(true));
    }
    if let Some((lo, hi)) = field.between {
        out.insert("between".into(), json!([lo, hi]));
    }
    if let Some(options) = &field.one_of {
        out.insert("one_of".into(), json!(options));
    }
    Value::Object(out)
}

pub(crate) fn render_fields(fields: &[Field]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|field| {
                let mut one = Map::new();
                one.insert(field.name.to_string(), render_field(field));
                Value::Object(one)
            })
            .collect(),
    )
}
