//! The rollout record: [`Record`] and its [`Phase`] (what bgctl keeps in the target system), and
//! its codec, written once: `Record` as flat `key → value(s)` fields, for the
//! targets that store it as tags (Kong), annotations (Kubernetes) or variables, and as JSON for
//! those that store one document (the Traefik state file, the HAProxy variable).
//!
//! Both forms come from `Record`'s own serde, so a field added to `Record` is stored and read
//! by every provider with no change here. In the flat form a scalar is one string (a number in
//! its decimal spelling, an enum in its serde name), `None` is absent, and a list is one value
//! per item ([`Field::values`]); each provider decides how to store that (Kong: one tag per
//! value under the singular key, `bgctl.verdict=…`; Kubernetes: one annotation, the values on
//! separate lines).
//!
//! Compatibility: the flat form is what the current release writes, byte for byte (numbers in
//! Rust's spelling, `10` not `10.0`; the phase in its tag spelling, [`super::Phase::as_str`], which
//! differs from serde's only in `rolled-back`), so a live rollout written by the old binary
//! reads, and the old binary reads what this one writes. The JSON form is serde's, unchanged.

use serde::de::{self, IntoDeserializer as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

/// Rollout phase as recorded in the target system.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Nothing in progress.
    #[default]
    Idle,
    /// Steps are running.
    Progressing,
    /// Waiting at a gate or a timed pause.
    Paused,
    /// The last rollout finished.
    Completed,
    /// The last rollout was aborted by a person.
    Aborted,
    /// The last rollout was rolled back (automatically or by `rollback`).
    RolledBack,
    /// The last rollout failed and could not be rolled back (e.g. its verification failed with
    /// no earlier side to go back to): traffic may be on an unverified side. The next `apply`
    /// must verify again, never report "up to date".
    Failed,
    /// Traffic was written and its verification has not passed yet: recorded with the traffic
    /// write that would otherwise say `completed`, and replaced by `completed` only once the
    /// write was read back and verified. A run killed in between leaves this phase, so the next
    /// `apply` verifies (or repairs) instead of reporting "up to date".
    Verifying,
}

impl Phase {
    /// The tag spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Progressing => "progressing",
            Phase::Paused => "paused",
            Phase::Completed => "completed",
            Phase::Aborted => "aborted",
            Phase::RolledBack => "rolled-back",
            Phase::Failed => "failed",
            Phase::Verifying => "verifying",
        }
    }

    /// Parses the tag spelling.
    pub fn parse(s: &str) -> Phase {
        match s {
            "progressing" => Phase::Progressing,
            "paused" => Phase::Paused,
            "completed" => Phase::Completed,
            "aborted" => Phase::Aborted,
            "rolled-back" => Phase::RolledBack,
            "failed" => Phase::Failed,
            "verifying" => Phase::Verifying,
            _ => Phase::Idle,
        }
    }
}

/// The rollout state bgctl keeps in the target system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    /// Environment that took all traffic before the last change (the rollback target).
    pub previous: Option<String>,
    /// Phase of the last/current rollout.
    pub phase: Phase,
    /// Canary: index of the next step to run.
    pub step: Option<usize>,
    /// Canary: requested canary percent.
    pub weight: Option<f64>,
    /// Canary: the stable and canary environments.
    pub stable: Option<String>,
    /// Canary environment.
    pub canary: Option<String>,
    /// What the rollout waits for, when paused.
    pub waiting: Option<String>,
    /// Last action (`apply`, `switch`, `rollback`, `promote`, `abort`).
    pub action: Option<String>,
    /// When (RFC 3339, UTC).
    pub at: Option<String>,
    /// Who (`user@host`).
    pub by: Option<String>,
    /// The latest analysis verdicts, one `check OUTCOME value` line each.
    pub verdicts: Vec<String>,
    /// Canary: the header and mirror routes active after the recorded step
    /// (`header:testers`, `mirror:shadow`; see [`super::routes`]).
    pub routes: Vec<String>,
    // Issue 17 (`bgctl release`, `bgctl history`): both carried forward by every record write
    // (`engine/history.rs`), stored escaped so they are valid tags and annotation lines.
    /// `KEY=VALUE`: the `release --set` values that shaped an environment, so the live side
    /// keeps the values it was released with.
    pub vars: Vec<String>,
    /// The last runs that changed this rollout, oldest first, bounded
    /// (`engine::history::Entry`).
    pub history: Vec<String>,
}

/// One field of the flat form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's serde name (`previous`, `phase`, `verdicts`, …).
    pub key: String,
    /// Its value: one for a scalar, one per item for a list.
    pub values: Vec<String>,
    /// Whether the field is a list (an empty list has no values and is left out).
    pub list: bool,
}

/// `record` as flat fields, in `Record`'s field order; absent and empty fields are left out.
pub fn encode(record: &Record) -> Vec<Field> {
    fields_of(record)
        .into_iter()
        .filter_map(|(key, v)| {
            let (values, list) = match v {
                Yaml::Null => return None,
                Yaml::Sequence(items) if items.is_empty() => return None,
                Yaml::Sequence(items) => (items.iter().map(scalar).collect(), true),
                // The one spelling the tags and annotations have always used.
                _ if key == "phase" => (vec![record.phase.as_str().to_string()], false),
                other => (vec![scalar(&other)], false),
            };
            Some(Field { key, values, list })
        })
        .collect()
}

/// `record`'s fields through its serde, in declaration order (a YAML mapping keeps it).
fn fields_of(record: &Record) -> Vec<(String, Yaml)> {
    match serde_yaml_ng::to_value(record) {
        Ok(Yaml::Mapping(m)) => m
            .into_iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) if n.is_f64() => n.as_f64().unwrap_or_default().to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The record the flat fields describe. `get(key, list)` returns the stored values of a field
/// (none when absent; `list` says whether the field is a list, as [`Field::list`]). A value
/// that does not parse for its field (say, a tag someone edited by hand) is left at its default
/// rather than failing the whole read.
pub fn decode(get: impl Fn(&str, bool) -> Vec<String>) -> Record {
    let mut record = Record::default();
    for (key, default) in fields_of(&Record::default()) {
        let values = get(&key, default.is_sequence());
        if values.is_empty() {
            continue;
        }
        // Each field on its own, so one bad value costs only that field.
        let parsed = Record::deserialize(FlatRecord {
            key: key.as_str(),
            values: &values,
        });
        if let Ok(r) = parsed {
            merge(&mut record, &r, &key);
        }
    }
    record
}

/// Copies field `key` from `from` into `into` (through serde, so no field is named here).
fn merge(into: &mut Record, from: &Record, key: &str) {
    let (Ok(Value::Object(mut a)), Ok(Value::Object(b))) =
        (serde_json::to_value(&*into), serde_json::to_value(from))
    else {
        return;
    };
    if let Some(v) = b.get(key) {
        a.insert(key.to_string(), v.clone());
    }
    if let Ok(r) = serde_json::from_value(Value::Object(a)) {
        *into = r;
    }
}

/// `record` as the JSON document a state file or variable holds.
pub fn to_json(record: &Record) -> Vec<u8> {
    serde_json::to_vec_pretty(record).unwrap_or_default()
}

/// The record a JSON document holds.
pub fn from_json(bytes: &[u8]) -> Result<Record, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// A one-field map deserializer over string values: `Record`'s `#[serde(default)]` fills the
/// rest.
struct FlatRecord<'a> {
    key: &'a str,
    values: &'a [String],
}

impl<'de> de::Deserializer<'de> for FlatRecord<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(de::value::MapDeserializer::new(std::iter::once((
            self.key,
            Flat(self.values),
        ))))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// One field's stored values, parsed into whatever type the field has.
struct Flat<'a>(&'a [String]);

impl de::IntoDeserializer<'_, de::value::Error> for Flat<'_> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl Flat<'_> {
    fn first(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    fn parse<T: std::str::FromStr>(&self) -> Result<T, de::value::Error> {
        self.first()
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("`{}` is not a number", self.first())))
    }
}

macro_rules! parse_as {
    ($($method:ident $visit:ident $t:ty),*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.$visit(self.parse::<$t>()?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Flat<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.first().to_string())
    }

    parse_as! {
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64,
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_f32 visit_f32 f32, deserialize_f64 visit_f64 f64,
        deserialize_bool visit_bool bool
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(de::value::SeqDeserializer::new(
            self.0.iter().map(|v| v.as_str().into_deserializer()),
        ))
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // The current release's tag spelling of a phase (`rolled-back`) beside serde's.
        let v = self.first().replace('-', "_");
        visitor.visit_enum(v.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::providers::Phase;

    fn full() -> Record {
        Record {
            previous: Some("blue".into()),
            phase: Phase::RolledBack,
            step: Some(3),
            weight: Some(12.5),
            stable: Some("blue".into()),
            canary: Some("green".into()),
            waiting: Some("a person".into()),
            action: Some("rollback".into()),
            at: Some("2026-11-29T20:00:00Z".into()),
            by: Some("ann@laptop".into()),
            verdicts: vec!["errors PASS 0.1".into(), "latency FAIL 900".into()],
            routes: vec!["header:testers".into()],
            vars: vec!["GREEN_IMAGE=reg.io%2Fapp:2".into()],
            history: vec!["1;r1;100;3;release;blue;green;completed;ann;;".into()],
        }
    }

    fn lookup(fields: &[Field]) -> impl Fn(&str, bool) -> Vec<String> + '_ {
        move |k, _| {
            fields
                .iter()
                .find(|f| f.key == k)
                .map(|f| f.values.clone())
                .unwrap_or_default()
        }
    }

    #[test]
    fn every_field_round_trips_through_the_flat_form() {
        let r = full();
        let fields = encode(&r);
        assert_eq!(decode(lookup(&fields)), r);
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "previous", "phase", "step", "weight", "stable", "canary", "waiting", "action",
                "at", "by", "verdicts", "routes", "vars", "history"
            ]
        );
        let get = |k: &str| fields.iter().find(|f| f.key == k).unwrap();
        // The current release's spellings, byte for byte.
        assert_eq!(get("phase").values, ["rolled-back"]);
        assert_eq!(get("weight").values, ["12.5"]);
        assert_eq!(get("step").values, ["3"]);
        let whole = encode(&Record {
            weight: Some(10.0),
            ..Record::default()
        });
        assert_eq!(whole[1].values, ["10"]);
        let verdicts = get("verdicts");
        assert!(verdicts.list);
        assert_eq!(verdicts.values.len(), 2);
        // Absent and empty fields are left out.
        let empty = encode(&Record::default());
        assert_eq!(
            empty,
            [Field {
                key: "phase".into(),
                values: vec!["idle".into()],
                list: false
            }]
        );
        assert_eq!(decode(lookup(&empty)), Record::default());
    }

    #[test]
    fn the_current_releases_spellings_still_read() {
        // Kong tags / Kubernetes annotations as the current release writes them.
        let stored: HashMap<&str, Vec<String>> = HashMap::from([
            ("previous", vec!["blue".to_string()]),
            ("phase", vec!["rolled-back".to_string()]),
            ("step", vec!["2".to_string()]),
            ("weight", vec!["10".to_string()]),
            ("verdicts", vec!["a PASS 1".to_string()]),
        ]);
        let r = decode(|k, _| stored.get(k).cloned().unwrap_or_default());
        assert_eq!(r.phase, Phase::RolledBack);
        assert_eq!((r.step, r.weight), (Some(2), Some(10.0)));
        assert_eq!(r.previous.as_deref(), Some("blue"));
        assert_eq!(r.verdicts, ["a PASS 1"]);
    }

    #[test]
    fn a_bad_value_costs_only_its_field() {
        let stored: HashMap<&str, Vec<String>> = HashMap::from([
            ("previous", vec!["blue".to_string()]),
            ("step", vec!["three".to_string()]),
            ("phase", vec!["exploded".to_string()]),
        ]);
        let r = decode(|k, _| stored.get(k).cloned().unwrap_or_default());
        assert_eq!(r.previous.as_deref(), Some("blue"));
        assert_eq!((r.step, r.phase), (None, Phase::Idle));
    }

    #[test]
    fn json_reads_the_current_state_files() {
        let old = br#"{"previous":"blue","phase":"completed","step":null,"weight":null,
            "stable":null,"canary":null,"waiting":null,"action":"apply","at":null,"by":null,
            "verdicts":[]}"#;
        let r = from_json(old).unwrap();
        assert_eq!(
            (r.phase, r.action.as_deref()),
            (Phase::Completed, Some("apply"))
        );
        assert_eq!(from_json(&to_json(&full())).unwrap(), full());
    }
}
