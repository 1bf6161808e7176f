//! The object store and the write rules of the generic registry: one global resourceVersion,
//! generation bumps on spec changes only, server-owned metadata, status-subresource separation,
//! optimistic concurrency, create-on-update, finalizers, and per-kind defaults and validation.
//!
//! Objects are kept as JSON in their storage version and rendered in the version a request
//! names, so `networking.istio.io/v1` and `v1beta1` see the same VirtualService.
//!
//! Parts: this file holds the keys, the store itself, its event history and the reads;
//! [`write`] the write verbs (create, update, delete, direct puts, status writes); [`defaults`]
//! per-kind defaulting and validation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Instant, SystemTime};

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use crate::resources::{self, Resource};
use crate::status::ApiError;
use crate::DeploymentBehavior;

mod defaults;
mod write;

/// (group, plural, namespace or `""`, name)
pub(crate) type Key = (String, String, String, String);

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Main,
    Status,
}

/// Where a request points: the resource, the version it was addressed with, the namespace.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub r: &'static Resource,
    pub version: String,
    /// `""` for cluster-scoped kinds and all-namespace lists.
    pub ns: String,
}

impl Target {
    pub(super) fn key(&self, name: &str) -> Key {
        (
            self.r.group.to_string(),
            self.r.plural.to_string(),
            if self.r.namespaced {
                self.ns.clone()
            } else {
                String::new()
            },
            name.to_string(),
        )
    }
}

/// All mutable simulator state behind one lock.
#[derive(Default)]
pub(crate) struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    next_ip: u32,
    /// Deployment behaviours set by tests, by (namespace, name).
    pub behaviors: HashMap<(String, String), DeploymentBehavior>,
    /// Deployments the controller owes a status write, since when.
    pub pending: HashMap<(String, String), Instant>,
    /// `bump_before_next_write` hooks, by (namespace, name).
    pub bump_hooks: Vec<(String, String)>,
    /// Recent events, for watches that start at an older resourceVersion.
    history: VecDeque<Event>,
    /// Live watches.
    watchers: Option<broadcast::Sender<Event>>,
}

/// One change, as a watch reports it.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub rv: u64,
    pub key: Key,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// The object in its storage version.
    pub object: Value,
}

const HISTORY: usize = 2000;

pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

pub(super) fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

pub(super) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let m = obj.as_object_mut().expect("object");
    let entry = m
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("object")
}

pub(super) fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `obj` without the parts that do not count for `generation`.
pub(super) fn generation_relevant(r: &Resource, obj: &Value) -> Value {
    if r.builtin {
        obj.get("spec").cloned().unwrap_or(Value::Null)
    } else {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
            m.remove("apiVersion");
            m.remove("kind");
        }
        o
    }
}

pub(super) fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

pub(super) fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

pub(super) fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

impl Store {
    /// Render a stored object in the requested version.
    pub fn render(r: &Resource, version: &str, obj: &Value) -> Value {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            m.insert("apiVersion".into(), json!(r.api_version(version)));
            m.insert("kind".into(), json!(r.kind));
        }
        o
    }

    /// Store `obj` under `key` and tell the watches.
    pub(super) fn store_obj(&mut self, key: Key, obj: Value) {
        let kind = if self.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.objects.insert(key.clone(), obj.clone());
        self.emit(key, kind, obj);
    }

    pub(super) fn remove_key(&mut self, key: &Key) -> Option<Value> {
        let removed = self.objects.remove(key)?;
        let mut obj = removed.clone();
        // The DELETED event carries the resourceVersion of the deletion.
        let rv = self.bump();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.emit(key.clone(), "DELETED", obj);
        Some(removed)
    }

    fn emit(&mut self, key: Key, kind: &'static str, object: Value) {
        let ev = Event {
            rv: self.rv,
            key,
            kind,
            object,
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(ev.clone());
        if let Some(tx) = &self.watchers {
            let _ = tx.send(ev);
        }
    }

    /// Start a watch: the events after `since` (or `None` when that is too old to replay)
    /// and a receiver for what follows. Taken under the store lock, so nothing falls between.
    pub fn subscribe(&mut self, since: u64) -> (Option<Vec<Event>>, broadcast::Receiver<Event>) {
        let tx = self
            .watchers
            .get_or_insert_with(|| broadcast::channel(4096).0)
            .clone();
        let oldest = self
            .history
            .front()
            .map_or(self.rv, |e| e.rv.saturating_sub(1));
        let replay = (since >= oldest).then(|| {
            self.history
                .iter()
                .filter(|e| e.rv > since)
                .cloned()
                .collect()
        });
        (replay, tx.subscribe())
    }

    /// Objects are stored in the storage version.
    pub(super) fn to_storage(r: &Resource, obj: &mut Value) {
        if let Some(m) = obj.as_object_mut() {
            m.insert(
                "apiVersion".into(),
                json!(r.api_version(r.storage_version())),
            );
            m.insert("kind".into(), json!(r.kind));
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub(super) fn bump(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    pub fn get(&self, t: &Target, name: &str) -> Option<&Value> {
        self.objects.get(&t.key(name))
    }

    /// Namespaced writes need the namespace to exist.
    pub(super) fn check_namespace(&self, t: &Target) -> Result<(), ApiError> {
        if !t.r.namespaced {
            return Ok(());
        }
        let key = (
            String::new(),
            "namespaces".to_string(),
            String::new(),
            t.ns.clone(),
        );
        if self.objects.contains_key(&key) {
            Ok(())
        } else {
            let ns_res = resources::by_plural("", "v1", "namespaces").expect("namespaces");
            Err(ApiError::not_found(ns_res, &t.ns))
        }
    }

    /// apiVersion/kind/namespace checks shared by POST, PUT and PATCH results; fills missing ones.
    pub(super) fn check_type(t: &Target, obj: &mut Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        let want_av = t.r.api_version(&t.version);
        let m = obj.as_object_mut().expect("object");
        match m.get("apiVersion").and_then(Value::as_str) {
            None | Some("") => {
                m.insert("apiVersion".into(), json!(want_av));
            }
            Some(av) if av == want_av => {}
            Some(av) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({av}) does not match the expected API version ({want_av})"
                )))
            }
        }
        match m.get("kind").and_then(Value::as_str) {
            None | Some("") => {
                m.insert("kind".into(), json!(t.r.kind));
            }
            Some(k) if k == t.r.kind => {}
            Some(k) => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    t.r.kind
                )))
            }
        }
        let meta = meta_mut(obj);
        if t.r.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    meta.insert("namespace".into(), json!(t.ns));
                }
                Some(ns) if ns == t.ns => {}
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
            }
        } else {
            meta.remove("namespace");
        }
        Ok(())
    }
}
