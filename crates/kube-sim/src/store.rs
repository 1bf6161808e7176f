//! The object store and the write rules of the generic registry: one global resourceVersion,
//! generation bumps on spec changes only, server-owned metadata, status-subresource separation,
//! optimistic concurrency, create-on-update, finalizers, and per-kind defaults and validation.
//!
//! Objects are kept as JSON in their storage version and rendered in the version a request
//! names, so `networking.istio.io/v1` and `v1beta1` see the same VirtualService.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Instant, SystemTime};

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use crate::resources::{self, Resource};
use crate::status::{ApiError, FieldError};
use crate::DeploymentBehavior;

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
    fn key(&self, name: &str) -> Key {
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

fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
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

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `obj` without the parts that do not count for `generation`.
fn generation_relevant(r: &Resource, obj: &Value) -> Value {
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

fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_dns1035_label(s: &str) -> bool {
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
    fn store_obj(&mut self, key: Key, obj: Value) {
        let kind = if self.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.objects.insert(key.clone(), obj.clone());
        self.emit(key, kind, obj);
    }

    fn remove_key(&mut self, key: &Key) -> Option<Value> {
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
    fn to_storage(r: &Resource, obj: &mut Value) {
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

    fn bump(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    pub fn get(&self, t: &Target, name: &str) -> Option<&Value> {
        self.objects.get(&t.key(name))
    }

    /// Namespaced writes need the namespace to exist.
    fn check_namespace(&self, t: &Target) -> Result<(), ApiError> {
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
    fn check_type(t: &Target, obj: &mut Value) -> Result<(), ApiError> {
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

    /// POST. `seed` keeps a given status (for `put_object`).
    pub fn create(
        &mut self,
        t: &Target,
        mut obj: Value,
        dry_run: bool,
        seed: bool,
    ) -> Result<Value, ApiError> {
        Self::check_type(t, &mut obj)?;
        let meta = meta_mut(&mut obj);
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            if let Some(prefix) = meta.get("generateName").and_then(Value::as_str) {
                let suffix: String = uuid::Uuid::new_v4()
                    .simple()
                    .to_string()
                    .chars()
                    .filter(char::is_ascii_lowercase)
                    .chain("bcdfg".chars())
                    .take(5)
                    .collect();
                name = format!("{prefix}{suffix}");
                meta.insert("name".into(), json!(name));
            }
        }
        if name.is_empty() {
            return Err(ApiError::invalid(
                t.r,
                "",
                &[FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        if !seed {
            self.check_namespace(t)?;
        }
        if self.objects.contains_key(&t.key(&name)) {
            return Err(ApiError::already_exists(t.r, &name));
        }
        let meta = meta_mut(&mut obj);
        for server_owned in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ] {
            meta.remove(server_owned);
        }
        if !seed || !meta.contains_key("uid") {
            meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        if !seed || !meta.contains_key("creationTimestamp") {
            meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        }
        if t.r.generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        if t.r.has_status && !seed {
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        self.apply_defaults(t.r, &mut obj, None);
        validate(t.r, &obj, None)?;
        if dry_run {
            return Ok(Self::render(t.r, &t.version, &obj));
        }
        let rv = self.bump();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        Self::to_storage(t.r, &mut obj);
        self.after_write(t, &name, None, &obj);
        let out = Self::render(t.r, &t.version, &obj);
        self.store_obj(t.key(&name), obj);
        Ok(out)
    }

    /// PUT (and the second half of PATCH): returns the HTTP code and the answer.
    /// `from_patch` relaxes the resourceVersion requirement (a patch is never unconditional
    /// by omission) and forbids create-on-update.
    pub fn update(
        &mut self,
        t: &Target,
        name: &str,
        mut new: Value,
        part: Part,
        dry_run: bool,
        from_patch: bool,
    ) -> Result<(u16, Value), ApiError> {
        Self::check_type(t, &mut new)?;
        let body_name = meta_str(&new, "name").to_string();
        if body_name.is_empty() {
            meta_mut(&mut new).insert("name".into(), json!(name));
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let Some(old) = self.objects.get(&t.key(name)).cloned() else {
            if t.r.create_on_update && part == Part::Main && !from_patch {
                return self.create(t, new, dry_run, false).map(|o| (201, o));
            }
            return Err(ApiError::not_found(t.r, name));
        };
        let old_rv = meta_str(&old, "resourceVersion").to_string();
        let new_rv = meta_str(&new, "resourceVersion").to_string();
        if new_rv.is_empty() {
            if !t.r.unconditional_update && !from_patch {
                return Err(ApiError::invalid(
                    t.r,
                    name,
                    &[FieldError::invalid(
                        "metadata.resourceVersion",
                        &json!("0x0"),
                        "must be specified for an update",
                    )
                    .unquoted()],
                ));
            }
        } else if new_rv != old_rv {
            return Err(ApiError::conflict(t.r, name));
        }

        let mut result = match part {
            Part::Status => {
                let mut r = old.clone();
                let status = new.get("status").cloned();
                if let Some(m) = r.as_object_mut() {
                    match status {
                        Some(s) => m.insert("status".into(), s),
                        None => m.remove("status"),
                    };
                }
                r
            }
            Part::Main => {
                let mut r = new;
                if t.r.has_status {
                    if let Some(m) = r.as_object_mut() {
                        match old.get("status") {
                            Some(s) => m.insert("status".into(), s.clone()),
                            None => m.remove("status"),
                        };
                    }
                }
                r
            }
        };
        // Server-owned metadata survives every update.
        {
            let old_meta = meta(&old).cloned().unwrap_or_default();
            let m = meta_mut(&mut result);
            for owned in [
                "uid",
                "creationTimestamp",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                match old_meta.get(owned) {
                    Some(v) => m.insert(owned.into(), v.clone()),
                    None => m.remove(owned),
                };
            }
            m.insert("resourceVersion".into(), json!(old_rv));
            m.remove("managedFields");
            m.remove("selfLink");
        }
        self.apply_defaults(t.r, &mut result, Some(&old));
        validate(t.r, &result, Some(&old))?;
        Self::to_storage(t.r, &mut result);
        if t.r.generation
            && part == Part::Main
            && generation_relevant(t.r, &result) != generation_relevant(t.r, &old)
        {
            let g = meta(&old)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut result).insert("generation".into(), json!(g + 1));
        }
        if result == old {
            // A write that changes nothing does not bump the resourceVersion.
            return Ok((200, Self::render(t.r, &t.version, &old)));
        }
        if dry_run {
            return Ok((200, Self::render(t.r, &t.version, &result)));
        }
        let rv = self.bump();
        meta_mut(&mut result).insert("resourceVersion".into(), json!(rv));
        let out = Self::render(t.r, &t.version, &result);
        let terminating = meta(&result).is_some_and(|m| m.contains_key("deletionTimestamp"));
        let finalizers_left = meta(&result)
            .and_then(|m| m.get("finalizers"))
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if terminating && !finalizers_left {
            self.remove(t, name);
        } else {
            self.after_write(t, name, Some(&old), &result);
            self.store_obj(t.key(name), result);
        }
        Ok((200, out))
    }

    fn remove(&mut self, t: &Target, name: &str) -> Option<Value> {
        let removed = self.remove_key(&t.key(name));
        if t.r.kind == "Namespace" {
            let contained: Vec<Key> = self
                .objects
                .keys()
                .filter(|(_, _, ns, _)| ns == name)
                .cloned()
                .collect();
            for k in contained {
                self.remove_key(&k);
            }
        }
        if t.r.kind == "Deployment" {
            self.pending.remove(&(t.ns.clone(), name.to_string()));
        }
        removed
    }

    /// DELETE: (code, answer).
    pub fn delete(
        &mut self,
        t: &Target,
        name: &str,
        options: &Value,
        dry_run: bool,
    ) -> Result<(u16, Value), ApiError> {
        let Some(old) = self.objects.get(&t.key(name)).cloned() else {
            return Err(ApiError::not_found(t.r, name));
        };
        if let Some(pre) = options.get("preconditions") {
            if let Some(uid) = pre.get("uid").and_then(Value::as_str) {
                let actual = meta_str(&old, "uid");
                if uid != actual {
                    return Err(ApiError::conflict_msg(
                        t.r,
                        name,
                        &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                    ));
                }
            }
            if let Some(rv) = pre.get("resourceVersion").and_then(Value::as_str) {
                let actual = meta_str(&old, "resourceVersion");
                if rv != actual {
                    return Err(ApiError::conflict_msg(
                        t.r,
                        name,
                        &format!("the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({actual}). The object might have been modified"),
                    ));
                }
            }
        }
        let has_finalizers = meta(&old)
            .and_then(|m| m.get("finalizers"))
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            // Terminating: stays until a write removes the last finalizer.
            let mut o = old.clone();
            if !meta(&o).is_some_and(|m| m.contains_key("deletionTimestamp")) {
                let m = meta_mut(&mut o);
                m.insert("deletionTimestamp".into(), json!(now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                if !dry_run {
                    let rv = self.bump();
                    meta_mut(&mut o).insert("resourceVersion".into(), json!(rv));
                    self.store_obj(t.key(name), o.clone());
                }
            }
            return Ok((202, Self::render(t.r, &t.version, &o)));
        }
        if !dry_run {
            self.remove(t, name);
        }
        if t.r.returns_deleted_object || t.r.kind == "Namespace" {
            let mut o = Self::render(t.r, &t.version, &old);
            if t.r.kind == "Namespace" {
                meta_mut(&mut o).insert("deletionTimestamp".into(), json!(now_rfc3339()));
                o["status"] = json!({"phase": "Terminating"});
            }
            Ok((200, o))
        } else {
            Ok((
                200,
                crate::status::delete_success(t.r, name, meta_str(&old, "uid")),
            ))
        }
    }

    /// The objects of a collection (all namespaces when `t.ns` is empty), in key order.
    pub fn list(&self, t: &Target) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|((g, p, ns, _), _)| {
                g == t.r.group
                    && p == t.r.plural
                    && (t.ns.is_empty() || !t.r.namespaced || *ns == t.ns)
            })
            .map(|(_, v)| v)
            .collect()
    }

    /// Replace the stored object directly (a write by "someone else"): bumps the
    /// resourceVersion, and generation when the spec changed. Used by seeding, the race hook and
    /// the controller.
    pub fn put_direct(&mut self, t: &Target, mut obj: Value) -> Value {
        let name = meta_str(&obj, "name").to_string();
        assert!(!name.is_empty(), "kube-sim: put_object needs metadata.name");
        if self.get(t, &name).is_none() {
            if t.r.namespaced {
                self.ensure_namespace(&t.ns);
            }
            return self
                .create(t, obj, false, true)
                .unwrap_or_else(|e| panic!("kube-sim: cannot seed {}/{name}: {e}", t.r.kind));
        }
        let old = self.get(t, &name).cloned().expect("exists");
        Self::check_type(t, &mut obj).unwrap_or_else(|e| panic!("kube-sim: {e}"));
        {
            let old_meta = meta(&old).cloned().unwrap_or_default();
            let m = meta_mut(&mut obj);
            for owned in ["uid", "creationTimestamp", "generation"] {
                if !m.contains_key(owned) {
                    if let Some(v) = old_meta.get(owned) {
                        m.insert(owned.into(), v.clone());
                    }
                }
            }
        }
        self.apply_defaults(t.r, &mut obj, Some(&old));
        Self::to_storage(t.r, &mut obj);
        if t.r.generation && generation_relevant(t.r, &obj) != generation_relevant(t.r, &old) {
            let g = meta(&old)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut obj).insert("generation".into(), json!(g + 1));
        }
        let rv = self.bump();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.after_write(t, &name, Some(&old), &obj);
        let out = Self::render(t.r, &t.version, &obj);
        self.store_obj(t.key(&name), obj);
        out
    }

    /// A status write by the simulated controller; a no-op when nothing changes.
    pub fn write_status(&mut self, t: &Target, name: &str, status: Value) -> bool {
        let key = t.key(name);
        let Some(obj) = self.objects.get(&key) else {
            return false;
        };
        if obj.get("status") == Some(&status) {
            return false;
        }
        let mut obj = obj.clone();
        obj["status"] = status;
        let rv = self.bump();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.store_obj(key, obj);
        true
    }

    /// Create the namespace if it is missing (for seeding).
    pub fn ensure_namespace(&mut self, ns: &str) {
        let r = resources::by_plural("", "v1", "namespaces").expect("namespaces");
        let t = Target {
            r,
            version: "v1".into(),
            ns: String::new(),
        };
        if self.get(&t, ns).is_none() {
            let _ = self.create(
                &t,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                false,
                false,
            );
        }
    }

    /// Apply the race hook for (ns, name), if one is armed: a concurrent annotation change.
    pub fn take_bump_hook(&mut self, t: &Target, name: &str) {
        let key = (
            if t.r.namespaced {
                t.ns.clone()
            } else {
                String::new()
            },
            name.to_string(),
        );
        let Some(pos) = self.bump_hooks.iter().position(|k| *k == key) else {
            return;
        };
        let Some(mut obj) = self.get(t, name).cloned() else {
            return;
        };
        self.bump_hooks.remove(pos);
        let stamp = (self.rv + 1).to_string();
        let m = meta_mut(&mut obj);
        let ann = m
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(a) = ann.as_object_mut() {
            a.insert("kube-sim/concurrent-write".into(), json!(stamp));
        }
        self.put_direct(t, obj);
    }

    /// Bookkeeping after a stored write: the Deployment controller owes a status write when a
    /// Deployment appears or its generation moves.
    fn after_write(&mut self, t: &Target, name: &str, old: Option<&Value>, new: &Value) {
        if t.r.kind != "Deployment" {
            return;
        }
        let gen = |v: &Value| meta(v).and_then(|m| m.get("generation")).cloned();
        if old.is_none_or(|o| gen(o) != gen(new)) {
            self.pending
                .insert((t.ns.clone(), name.to_string()), Instant::now());
        }
    }

    /// Defaulting, as the real defaulters do on every decode.
    fn apply_defaults(&mut self, r: &Resource, obj: &mut Value, old: Option<&Value>) {
        match r.kind {
            "Deployment" => {
                let spec = ensure_obj(obj, "spec");
                spec.entry("replicas").or_insert(json!(1));
                spec.entry("progressDeadlineSeconds").or_insert(json!(600));
                spec.entry("revisionHistoryLimit").or_insert(json!(10));
                spec.entry("strategy").or_insert(json!({
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
                }));
            }
            "Service" => {
                let old_spec = old.and_then(|o| o.get("spec")).cloned();
                let spec = ensure_obj(obj, "spec");
                spec.entry("type").or_insert(json!("ClusterIP"));
                spec.entry("sessionAffinity").or_insert(json!("None"));
                if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                        p.entry("protocol").or_insert(json!("TCP"));
                        if let Some(port) = p.get("port").cloned() {
                            p.entry("targetPort").or_insert(port);
                        }
                    }
                }
                let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
                if !external && !spec.contains_key("clusterIP") {
                    let ip = if let Some(ip) = old_spec.as_ref().and_then(|s| s.get("clusterIP")) {
                        ip.clone()
                    } else {
                        self.next_ip += 1;
                        json!(format!(
                            "10.96.{}.{}",
                            (self.next_ip / 250) % 250,
                            self.next_ip % 250 + 1
                        ))
                    };
                    spec.insert("clusterIP".into(), ip);
                }
                if let Some(ip) = spec.get("clusterIP").cloned() {
                    spec.entry("clusterIPs").or_insert(json!([ip]));
                    spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
                    spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
                    spec.entry("internalTrafficPolicy")
                        .or_insert(json!("Cluster"));
                }
                if let Some(m) = obj.as_object_mut() {
                    m.entry("status").or_insert(json!({"loadBalancer": {}}));
                }
            }
            "Namespace" => {
                let name = meta_str(obj, "name").to_string();
                let m = meta_mut(obj);
                let labels = m
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(l) = labels.as_object_mut() {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
                ensure_obj(obj, "spec")
                    .entry("finalizers")
                    .or_insert(json!(["kubernetes"]));
                ensure_obj(obj, "status")
                    .entry("phase")
                    .or_insert(json!("Active"));
            }
            _ => {}
        }
    }
}

fn ensure_obj<'a>(obj: &'a mut Value, field: &str) -> &'a mut Map<String, Value> {
    let m = obj.as_object_mut().expect("object");
    let e = m.entry(field).or_insert_with(|| Value::Object(Map::new()));
    if !e.is_object() {
        *e = Value::Object(Map::new());
    }
    e.as_object_mut().expect("object")
}

impl FieldError {
    /// Show the value as Go's `%#v` of a number would (no quotes).
    fn unquoted(mut self) -> Self {
        self.message = self.message.replace("\"0x0\"", "0x0");
        self
    }
}

/// Per-kind validation (422 `Invalid`).
fn validate(r: &Resource, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let name = meta_str(obj, "name");
    let mut errs = Vec::new();
    let name_ok = match r.kind {
        "Service" => is_dns1035_label(name),
        "Namespace" => is_dns1123_label(name),
        _ => is_dns1123_subdomain(name),
    };
    if !name_ok {
        let what = match r.kind {
            "Service" => "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            "Namespace" => "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            _ => "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        };
        errs.push(FieldError::invalid("metadata.name", &json!(name), what));
    }
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    match r.kind {
        "Deployment" => {
            if let Some(n) = spec.get("replicas") {
                if n.as_i64().is_none_or(|n| n < 0) {
                    errs.push(FieldError::invalid(
                        "spec.replicas",
                        n,
                        "must be greater than or equal to 0",
                    ));
                }
            }
            let selector = spec.pointer("/selector/matchLabels");
            match selector.and_then(Value::as_object) {
                None => errs.push(FieldError::required("spec.selector", "")),
                Some(sel) => {
                    let labels = spec.pointer("/template/metadata/labels");
                    let matches = sel
                        .iter()
                        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                    if !matches {
                        errs.push(FieldError::invalid(
                            "spec.template.metadata.labels",
                            labels.unwrap_or(&Value::Null),
                            "`selector` does not match template `labels`",
                        ));
                    }
                }
            }
            if let Some(old) = old {
                let old_sel = old.pointer("/spec/selector");
                if old_sel.is_some() && spec.get("selector") != old_sel {
                    errs.push(FieldError::invalid(
                        "spec.selector",
                        spec.get("selector").unwrap_or(&Value::Null),
                        "field is immutable",
                    ));
                }
            }
        }
        "Service" => {
            let ty = spec
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
            let ports = spec.get("ports").and_then(Value::as_array);
            if ty != "ExternalName" && !headless && ports.is_none_or(Vec::is_empty) {
                errs.push(FieldError::required("spec.ports", ""));
            }
            for (i, p) in ports.into_iter().flatten().enumerate() {
                let port = p.get("port").unwrap_or(&Value::Null);
                if port.as_i64().is_none_or(|n| !(1..=65535).contains(&n)) {
                    errs.push(FieldError::invalid(
                        format!("spec.ports[{i}].port"),
                        port,
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
        "Lease" => {
            if let Some(d) = spec.get("leaseDurationSeconds") {
                if d.as_i64().is_none_or(|d| d <= 0) {
                    errs.push(FieldError::invalid(
                        "spec.leaseDurationSeconds",
                        d,
                        "must be greater than 0",
                    ));
                }
            }
        }
        "HTTPRoute" => {
            for (i, rule) in array(&spec, "rules").iter().enumerate() {
                for (j, b) in array(rule, "backendRefs").iter().enumerate() {
                    if let Some(w) = b.get("weight") {
                        if w.as_i64().is_none_or(|w| !(0..=1_000_000).contains(&w)) {
                            let field = format!("spec.rules[{i}].backendRefs[{j}].weight");
                            let detail = format!(
                                "{field} in body should be less than or equal to 1000000 and greater than or equal to 0"
                            );
                            errs.push(FieldError::invalid(field, w, &detail));
                        }
                    }
                }
            }
        }
        "HTTPProxy" => {
            for (i, route) in array(&spec, "routes").iter().enumerate() {
                for (j, s) in array(route, "services").iter().enumerate() {
                    if let Some(w) = s.get("weight") {
                        if w.as_i64().is_none_or(|w| w < 0) {
                            let field = format!("spec.routes[{i}].services[{j}].weight");
                            let detail =
                                format!("{field} in body should be greater than or equal to 0");
                            errs.push(FieldError::invalid(field, w, &detail));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r, name, &errs))
    }
}

fn array<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}
