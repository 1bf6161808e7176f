//! Per-kind defaulting (as the real defaulters do on every decode) and validation, with field
//! errors shaped like the API server's.

use serde_json::{json, Map, Value};

use super::{is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, meta_mut, meta_str, Store};
use crate::resources::Resource;
use crate::status::{ApiError, FieldError};

impl Store {
    /// Defaulting, as the real defaulters do on every decode.
    pub(super) fn apply_defaults(&mut self, r: &Resource, obj: &mut Value, old: Option<&Value>) {
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
    pub(super) fn unquoted(mut self) -> Self {
        self.message = self.message.replace("\"0x0\"", "0x0");
        self
    }
}

/// Per-kind validation (422 `Invalid`).
pub(super) fn validate(r: &Resource, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
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

pub(super) fn array<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}
