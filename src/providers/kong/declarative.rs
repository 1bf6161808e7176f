//! One DB-less node's declarative configuration, as bgctl edits it.
//!
//! The storage swap of the DB-less path ([`super::dbless`]): the planning code
//! (`changes.rs`, `traffic.rs`, `tags.rs`) produces the same entity calls as for a node with a
//! database (`PUT /upstreams/x`, `POST /upstreams/x/targets`, `PATCH /services/s`, …), and
//! [`Doc::apply`] carries each one out on the document instead of sending it. Only the four
//! sections bgctl owns entities in are touched (`services`, `routes`, `upstreams`, `targets`),
//! and in them only rows the call names; every other section (plugins, consumers,
//! certificates, …), every other row and the document's metadata (`_format_version`,
//! `_transform`) are kept as `GET /config` gave them, so pushing the document back changes
//! nothing else in meaning.
//!
//! Decisions:
//! * A row bgctl changes loses `updated_at`, so the node stamps it with its own clock when it
//!   loads the document (the lock's expiry is judged by it, as with a database); a call that
//!   changes nothing leaves the row exactly as it was.
//! * New rows get a random id; a row copied to another node keeps the id that node already
//!   had for the same name (plugins there may reference it), else the copied one.
//! * `GET /config` exports flat sections with foreign keys as plain ids; nested children
//!   (`services[].routes`, `upstreams[].targets`) are flattened on reading, and a reference
//!   may be a plain id or `{id: …}`.

use serde_json::{json, Map, Value};

use super::client::{percent_decode, urlencode};
use super::live::Live;
use crate::providers::Call;

/// The sections bgctl edits.
const SECTIONS: [&str; 4] = ["services", "routes", "upstreams", "targets"];

/// The bgctl-owned rows of one rollout, by name (the lock is not among them: it is written
/// only by the lock protocol, [`super::dbless_lock`]).
#[derive(Debug, Clone)]
pub(super) struct Owned {
    pub(super) service: String,
    pub(super) routes: Vec<String>,
    pub(super) upstreams: Vec<String>,
    /// The tag of the header routes (`bgctl.route-of=<rollout>`, [`super::routes`]): every
    /// route row carrying it is bgctl's, whatever its name ([`header`]).
    pub(super) route_tag: String,
    /// The service the header routes point at (`<service>.bgctl-canary`).
    pub(super) canary_service: String,
}

/// A declarative configuration.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Doc(Map<String, Value>);

/// A reference field's id: a plain id, or `{id: …}`.
fn fk(row: &Value, field: &str) -> Option<String> {
    match row.get(field)? {
        Value::String(id) => Some(id.clone()),
        Value::Object(r) => r.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn name_of(row: &Value) -> Option<&str> {
    row.get("name").and_then(Value::as_str)
}

fn id_of(row: &Value) -> Option<&str> {
    row.get("id").and_then(Value::as_str)
}

/// `row` with its reference `field` in the Admin API's shape (`{id: …}`).
fn with_ref(row: &Value, field: &str) -> Value {
    let mut row = row.clone();
    if let (Some(id), Value::Object(m)) = (fk(&row, field), &mut row) {
        m.insert(field.into(), json!({ "id": id }));
    }
    row
}

/// `row` with its reference `field` moved from id `from` to id `to` (when both are known).
fn remap(row: &Value, field: &str, from: Option<&String>, to: Option<&String>) -> Value {
    let mut row = row.clone();
    if let (Some(f), Some(t)) = (from, to) {
        if fk(&row, field).as_deref() == Some(f.as_str()) {
            row[field] = json!(t);
        }
    }
    row
}

/// `row` without its timestamps, for "did it change" comparisons.
fn untimed(row: &Value) -> Value {
    let mut row = row.clone();
    if let Value::Object(m) = &mut row {
        m.remove("created_at");
        m.remove("updated_at");
    }
    row
}

impl Doc {
    /// The document of a `GET /config` answer (`{"config": "<yaml>"}`).
    pub(super) fn parse(answer: &Value) -> Result<Doc, String> {
        let text = answer
            .get("config")
            .and_then(Value::as_str)
            .ok_or("an answer without a `config` string")?;
        let value: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("the configuration is not YAML: {e}"))?;
        let Value::Object(map) = value else {
            return Err("the configuration is not a mapping".into());
        };
        let mut doc = Doc(map);
        for section in SECTIONS {
            match doc.0.get(section) {
                None | Some(Value::Array(_)) => {}
                Some(Value::Null) => {
                    doc.0.remove(section);
                }
                Some(_) => return Err(format!("`{section}` is not a list")),
            }
        }
        doc.flatten("services", "routes", "service");
        doc.flatten("upstreams", "targets", "upstream");
        Ok(doc)
    }

    /// Moves nested children (`services[].routes`) into their own section.
    fn flatten(&mut self, parent: &str, child: &str, field: &str) {
        let mut moved = Vec::new();
        for row in self.rows_mut(parent) {
            let id = id_of(row).map(str::to_string);
            let Some(Value::Array(children)) = row.as_object_mut().and_then(|m| m.remove(child))
            else {
                continue;
            };
            for mut c in children {
                if let (Some(id), Value::Object(m)) = (&id, &mut c) {
                    m.insert(field.into(), json!(id));
                }
                moved.push(c);
            }
        }
        if !moved.is_empty() {
            self.rows_mut(child).extend(moved);
        }
    }

    /// The text pushed with `POST /config` (JSON; deterministic for one document).
    pub(super) fn render(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// The document in meaning: rows of each section in a stable order.
    pub(super) fn canonical(&self) -> Value {
        let mut out = self.0.clone();
        // An empty section says what a missing one says.
        out.retain(|k, v| {
            !(SECTIONS.contains(&k.as_str()) && v.as_array().is_some_and(Vec::is_empty))
        });
        for (_, v) in &mut out {
            if let Value::Array(rows) = v {
                rows.sort_by_cached_key(Value::to_string);
            }
        }
        Value::Object(out)
    }

    /// Whether `self` and `other` say the same (row order aside).
    pub(super) fn same_meaning(&self, other: &Doc) -> bool {
        self.canonical() == other.canonical()
    }

    fn rows(&self, section: &str) -> &[Value] {
        self.0
            .get(section)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn rows_mut(&mut self, section: &str) -> &mut Vec<Value> {
        let entry = self
            .0
            .entry(section.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        entry.as_array_mut().expect("an array")
    }

    fn by_name(&self, section: &str, name: &str) -> Option<&Value> {
        self.rows(section).iter().find(|r| name_of(r) == Some(name))
    }

    /// Index of the row `key` names (its id, else its name).
    fn index(&self, section: &str, key: &str) -> Option<usize> {
        let rows = self.rows(section);
        rows.iter()
            .position(|r| id_of(r) == Some(key))
            .or_else(|| rows.iter().position(|r| name_of(r) == Some(key)))
    }

    /// Every section that is not one of bgctl's, and every row of bgctl's sections that is not
    /// `owned`'s (nor the lock `lock`): what a push must keep.
    pub(super) fn foreign(&self, owned: &Owned, lock: &str) -> Value {
        let mut out = self.clone();
        out.remove_owned(owned);
        out.remove_upstream(lock);
        out.canonical()
    }

    /// What the plan's service, routes and upstreams look like in this document, in the shapes
    /// the Admin API answers (references as `{id}`), for the shared planning code.
    pub(super) fn live(&self, owned: &Owned, lock: &str) -> Live {
        let mut live = Live {
            service: self.by_name("services", &owned.service).cloned(),
            owned: self.header_owned(owned),
            ..Live::default()
        };
        for r in &owned.routes {
            live.routes.insert(
                r.clone(),
                self.by_name("routes", r)
                    .map(|row| with_ref(row, "service")),
            );
        }
        for name in owned.upstreams.iter().map(String::as_str).chain([lock]) {
            let up = self.by_name("upstreams", name).cloned();
            if let Some(id) = up.as_ref().and_then(id_of) {
                let targets = self
                    .rows("targets")
                    .iter()
                    .filter(|t| fk(t, "upstream").as_deref() == Some(id))
                    .map(|t| {
                        let mut t = with_ref(t, "upstream");
                        if let Value::Object(m) = &mut t {
                            m.entry("weight").or_insert(json!(100));
                        }
                        t
                    })
                    .collect();
                live.targets.insert(name.to_string(), targets);
            }
            live.upstreams.insert(name.to_string(), up);
        }
        live
    }

    /// Carries out one Admin API entity call on the document (what the node would have done
    /// with it, had it a database). An error names what the document cannot take.
    pub(super) fn apply(&mut self, call: &Call) -> Result<(), String> {
        let path = call.path.split('?').next().unwrap_or_default();
        let segs: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let body = call.body.clone().unwrap_or(Value::Null);
        let unsupported = || format!("`{} {}` has no DB-less equivalent", call.method, call.path);
        match (call.method.as_str(), segs.as_slice()) {
            ("PUT", [section @ ("services" | "routes" | "upstreams"), name]) => {
                self.upsert(section, name, &body);
            }
            ("PATCH", [section @ ("services" | "routes" | "upstreams"), key]) => {
                let at = self
                    .index(section, key)
                    .ok_or_else(|| format!("no {section} `{key}` to update"))?;
                self.merge(section, at, &body);
            }
            ("POST", ["upstreams"]) => {
                let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
                if self.by_name("upstreams", name).is_some() {
                    return Err(format!("upstream `{name}` exists"));
                }
                self.upsert("upstreams", name, &body);
            }
            ("DELETE", ["services" | "routes", key]) => {
                if let Some(at) = self.index(segs[0], key) {
                    self.rows_mut(segs[0]).remove(at);
                }
            }
            ("DELETE", ["upstreams", key]) => self.remove_upstream(key),
            ("POST", ["upstreams", up, "targets"]) => {
                let up_id = self.upstream_id(up)?;
                let target = body
                    .get("target")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(at) = self.target_index(&up_id, target) {
                    self.merge("targets", at, &body);
                } else {
                    let mut row = self.fresh(&body);
                    row.insert("upstream".into(), json!(up_id));
                    self.rows_mut("targets").push(Value::Object(row));
                }
            }
            ("PATCH" | "PUT", ["upstreams", up, "targets", t]) => {
                let up_id = self.upstream_id(up)?;
                let at = self
                    .target_index(&up_id, t)
                    .ok_or_else(|| format!("no target `{t}` in upstream `{up}`"))?;
                self.merge("targets", at, &body);
            }
            ("DELETE", ["upstreams", up, "targets", t]) => {
                let up_id = self.upstream_id(up)?;
                if let Some(at) = self.target_index(&up_id, t) {
                    self.rows_mut("targets").remove(at);
                }
            }
            _ => return Err(unsupported()),
        }
        Ok(())
    }

    fn upstream_id(&self, key: &str) -> Result<String, String> {
        self.index("upstreams", key)
            .and_then(|at| id_of(&self.rows("upstreams")[at]).map(str::to_string))
            .ok_or_else(|| format!("no upstream `{key}`"))
    }

    fn target_index(&self, up_id: &str, key: &str) -> Option<usize> {
        self.rows("targets").iter().position(|t| {
            fk(t, "upstream").as_deref() == Some(up_id)
                && (id_of(t) == Some(key) || t.get("target").and_then(Value::as_str) == Some(key))
        })
    }

    /// A new row from a call's body: nulls dropped (the node applies defaults), references
    /// resolved to plain ids, a fresh id.
    fn fresh(&self, body: &Value) -> Map<String, Value> {
        let mut row = Map::new();
        if let Value::Object(b) = body {
            for (k, v) in b {
                if !v.is_null() {
                    row.insert(k.clone(), self.resolve(k, v));
                }
            }
        }
        row.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
        row
    }

    /// A reference in a call (`{"name": s}` or `{"id": i}`) as the plain id the document uses.
    fn resolve(&self, field: &str, v: &Value) -> Value {
        let section = match field {
            "service" => "services",
            "upstream" => "upstreams",
            "route" => "routes",
            _ => return v.clone(),
        };
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            return json!(id);
        }
        if let Some(name) = v.get("name").and_then(Value::as_str) {
            if let Some(id) = self.by_name(section, name).and_then(id_of) {
                return json!(id);
            }
        }
        v.clone()
    }

    /// `PUT`: the row named `name` replaced by `body` (its id and `created_at` kept).
    fn upsert(&mut self, section: &str, name: &str, body: &Value) {
        let mut row = self.fresh(body);
        row.insert("name".into(), json!(name));
        match self.index(section, name) {
            Some(at) => {
                let old = &self.rows(section)[at];
                for keep in ["id", "created_at"] {
                    if let Some(v) = old.get(keep) {
                        row.insert(keep.into(), v.clone());
                    }
                }
                if untimed(old) != untimed(&Value::Object(row.clone())) {
                    self.rows_mut(section)[at] = Value::Object(row);
                }
            }
            None => self.rows_mut(section).push(Value::Object(row)),
        }
    }

    /// `PATCH`: `body`'s fields set (`null` clears one); `updated_at` dropped when it changed.
    fn merge(&mut self, section: &str, at: usize, body: &Value) {
        let mut row = self.rows(section)[at].clone();
        let Value::Object(m) = &mut row else { return };
        if let Value::Object(b) = body {
            for (k, v) in b {
                if v.is_null() {
                    m.remove(k);
                } else {
                    let v = self.resolve(k, v);
                    m.insert(k.clone(), v);
                }
            }
        }
        if untimed(&row) != untimed(&self.rows(section)[at]) {
            if let Value::Object(m) = &mut row {
                m.remove("updated_at");
            }
            self.rows_mut(section)[at] = row;
        }
    }

    /// Removes an upstream (by id or name) and its targets.
    fn remove_upstream(&mut self, key: &str) {
        let Some(at) = self.index("upstreams", key) else {
            return;
        };
        let id = id_of(&self.rows("upstreams")[at]).map(str::to_string);
        self.rows_mut("upstreams").remove(at);
        if let Some(id) = id {
            self.rows_mut("targets")
                .retain(|t| fk(t, "upstream").as_deref() != Some(id.as_str()));
        }
    }

    fn remove_owned(&mut self, owned: &Owned) {
        for up in &owned.upstreams {
            self.remove_upstream(up);
        }
        for r in &owned.routes {
            self.rows_mut("routes")
                .retain(|row| name_of(row) != Some(r));
        }
        let s = owned.service.clone();
        self.rows_mut("services")
            .retain(|row| name_of(row) != Some(s.as_str()));
        self.remove_header_rows(owned);
    }

    /// Makes `owned`'s rows here say what they say in `from` (created, replaced or removed),
    /// keeping this document's ids for names it already has and every other row as it is.
    pub(super) fn adopt_owned(&mut self, from: &Doc, owned: &Owned) {
        let mine = |doc: &Doc, section: &str, name: &str| {
            doc.by_name(section, name)
                .and_then(id_of)
                .map(str::to_string)
        };
        // The service: its id here wins; routes are re-pointed to it.
        let svc_from = mine(from, "services", &owned.service);
        let svc_here = mine(self, "services", &owned.service);
        let svc_id = svc_here.clone().or(svc_from.clone());
        self.put_row(
            "services",
            &owned.service,
            from.by_name("services", &owned.service).cloned(),
        );
        for r in &owned.routes {
            let row = from
                .by_name("routes", r)
                .map(|row| remap(row, "service", svc_from.as_ref(), svc_id.as_ref()));
            self.put_row("routes", r, row);
        }
        for up in &owned.upstreams {
            let up_from = mine(from, "upstreams", up);
            let up_here = mine(self, "upstreams", up);
            let want: Vec<Value> = from
                .rows("targets")
                .iter()
                .filter(|t| up_from.is_some() && fk(t, "upstream") == up_from)
                .cloned()
                .collect();
            let have: Vec<Value> = self
                .rows("targets")
                .iter()
                .filter(|t| up_here.is_some() && fk(t, "upstream") == up_here)
                .cloned()
                .collect();
            self.put_row("upstreams", up, from.by_name("upstreams", up).cloned());
            let up_id = mine(self, "upstreams", up);
            let key = |t: &Value| {
                let mut t = untimed(t);
                if let Value::Object(m) = &mut t {
                    m.remove("id");
                    m.remove("upstream");
                }
                t.to_string()
            };
            let mut a: Vec<String> = want.iter().map(key).collect();
            let mut b: Vec<String> = have.iter().map(key).collect();
            a.sort();
            b.sort();
            if a != b || up_here != up_id {
                if let Some(old) = &up_here {
                    self.rows_mut("targets")
                        .retain(|t| fk(t, "upstream").as_deref() != Some(old.as_str()));
                }
                if let Some(id) = &up_id {
                    let moved: Vec<Value> = want
                        .iter()
                        .map(|t| remap(t, "upstream", up_from.as_ref(), Some(id)))
                        .collect();
                    self.rows_mut("targets").extend(moved);
                }
            }
        }
        self.adopt_header_rows(from, owned);
    }

    /// The row named `name` in `section` set to `row` (`None` removes it), keeping the id
    /// this document has for it; a row equal but for timestamps is left as it is.
    fn put_row(&mut self, section: &str, name: &str, row: Option<Value>) {
        match (self.index(section, name), row) {
            (Some(at), Some(mut row)) => {
                let old = &self.rows(section)[at];
                if let Some(id) = old.get("id") {
                    row["id"] = id.clone();
                }
                if untimed(old) != untimed(&row) {
                    self.rows_mut(section)[at] = row;
                }
            }
            (None, Some(row)) => self.rows_mut(section).push(row),
            (Some(at), None) => {
                self.rows_mut(section).remove(at);
            }
            (None, None) => {}
        }
    }

    /// The value of tag `bgctl.<key>=` on the service `name`.
    pub(super) fn service_tag(&self, name: &str, key: &str) -> Option<String> {
        let prefix = format!("bgctl.{key}=");
        self.by_name("services", name)?
            .get("tags")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .find_map(|t| t.strip_prefix(&prefix).map(str::to_string))
    }

    /// Sets tag `bgctl.<key>=<value>` on the service `name` (if it exists).
    pub(super) fn set_service_tag(&mut self, name: &str, key: &str, value: &str) {
        let prefix = format!("bgctl.{key}=");
        let Some(at) = self.index("services", name) else {
            return;
        };
        let mut tags: Vec<Value> = self.rows("services")[at]
            .get("tags")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        tags.retain(|t| !t.as_str().is_some_and(|t| t.starts_with(&prefix)));
        tags.push(json!(format!("{prefix}{value}")));
        self.merge("services", at, &json!({ "tags": tags }));
    }

    /// The lock upstream `name` set to `row` (`None` removes it), its `updated_at` left for
    /// the node to stamp.
    pub(super) fn set_lock(&mut self, name: &str, tags: Option<Vec<String>>) {
        match tags {
            None => self.remove_upstream(name),
            Some(tags) => {
                let path = format!("/upstreams/{}", urlencode(name));
                let call = Call {
                    method: "PUT".into(),
                    path,
                    body: Some(json!({ "name": name, "tags": tags })),
                    idempotent: true,
                };
                // A PUT of an upstream cannot fail on a document.
                let _ = self.apply(&call);
                if let Some(at) = self.index("upstreams", name) {
                    if let Value::Object(m) = &mut self.rows_mut("upstreams")[at] {
                        m.remove("updated_at");
                    }
                }
            }
        }
    }

    /// The lock upstream `name`, as the node has it.
    pub(super) fn lock(&self, name: &str) -> Option<&Value> {
        self.upstream(name)
    }

    /// The upstream `name`, as the node has it.
    pub(super) fn upstream(&self, name: &str) -> Option<&Value> {
        self.by_name("upstreams", name)
    }
}

#[path = "declarative_header.rs"]
pub(super) mod header;

#[cfg(test)]
#[path = "declarative_tests.rs"]
mod tests;
