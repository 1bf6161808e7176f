//! The write verbs of the generic registry: create, update (with create-on-update, optimistic
//! concurrency and the status subresource), delete with finalizers, direct puts and status writes
//! from the controllers, and the bookkeeping after every write.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::defaults::validate;
use super::{generation_relevant, meta, meta_mut, meta_str, now_rfc3339, Key, Part, Store, Target};
use crate::resources;
use crate::status::{ApiError, FieldError};

impl Store {
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

    pub(super) fn remove(&mut self, t: &Target, name: &str) -> Option<Value> {
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
}
