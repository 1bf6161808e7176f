//! JSON parsed under a budget of values, so what a server sends cannot cost many times its size
//! in memory (a body of `[0,0,0,…]` is two bytes per value as text and tens of bytes per value
//! as a [`serde_json::Value`]). The budget is shared by every parse that draws from it: the
//! pages of one list share one budget.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// How many more JSON values may be kept.
#[derive(Debug)]
pub struct Budget {
    left: Cell<usize>,
    total: usize,
}

impl Budget {
    /// A budget of `nodes` values (every scalar, array, object and key counts one).
    pub fn new(nodes: usize) -> Budget {
        Budget {
            left: Cell::new(nodes),
            total: nodes,
        }
    }

    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(n) => {
                self.left.set(n);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "more than {} JSON values (bgctl keeps at most that many)",
                self.total
            ))),
        }
    }
}

/// Parses `bytes` as one JSON value, failing when it holds more values than `budget` has left.
pub fn parse_bounded(bytes: &[u8], budget: &Budget) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Seed(budget).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

#[derive(Clone, Copy)]
struct Seed<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.take()?;
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.take()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.take()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.0.take()?;
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_within_the_budget_and_stops_past_it() {
        let b = Budget::new(100);
        let v = parse_bounded(
            br#"{"data": [1, "x", true, null, {"a": 2.5}], "next": null}"#,
            &b,
        )
        .unwrap();
        assert_eq!(v["data"][4]["a"], 2.5);
        assert_eq!(v["data"].as_array().unwrap().len(), 5);
        let body = format!("[{}0]", "0,".repeat(1000));
        let err = parse_bounded(body.as_bytes(), &Budget::new(500)).unwrap_err();
        assert!(
            err.to_string().contains("more than 500 JSON values"),
            "{err}"
        );
        // The budget is shared: two parses draw from it.
        let b = Budget::new(8);
        parse_bounded(b"[1,2,3]", &b).unwrap();
        assert!(parse_bounded(b"[1,2,3,4]", &b).is_err());
        assert!(
            parse_bounded(b"[1] x", &Budget::new(9)).is_err(),
            "trailing text"
        );
    }
}
