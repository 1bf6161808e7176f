//! The rollout record and ownership as Kong tags: `bgctl.<field>=<value>` on the service, one
//! tag per list item, `managed-by-bgctl` and `bgctl.owner=<rollout>` on what bgctl owns. Kong
//! tags may not contain `,` or `/`, so values are made tag-safe.

use std::collections::HashMap;

use serde_json::Value;

use super::{Kong, Live, MANAGED, TAG_PREFIX};
use crate::providers::{record, Record};

impl Kong {
    /// The record as tags ([`record::encode`]): `bgctl.<field>=<value>`, a list one tag per
    /// item under the singular key (`bgctl.verdict=…`).
    pub(super) fn record_tags(&self, record: &Record) -> Vec<String> {
        let mut tags = self.owned_tags();
        for f in record::encode(record) {
            let key = if f.list {
                f.key.strip_suffix('s').unwrap_or(&f.key)
            } else {
                &f.key
            };
            for v in &f.values {
                tags.push(format!("{TAG_PREFIX}{key}={}", tag_safe(v)));
            }
        }
        tags
    }

    /// The service's tags with bgctl's replaced by `record`'s.
    pub(super) fn service_tags(&self, live: &Live, record: &Record) -> Vec<String> {
        let mut tags: Vec<String> = tags_of(live.service.as_ref())
            .into_iter()
            .filter(|t| !t.starts_with(TAG_PREFIX) && t != MANAGED)
            .collect();
        tags.extend(self.record_tags(record));
        tags
    }
}

pub(super) fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn tags_of(v: Option<&Value>) -> Vec<String> {
    str_list(v.and_then(|v| v.get("tags")))
}

pub(super) fn has_tag(v: &Value, tag: &str) -> bool {
    tags_of(Some(v)).iter().any(|t| t == tag)
}

pub(super) fn merge_tags(existing: &[String], add: &[String]) -> Vec<String> {
    let mut out = existing.to_vec();
    for t in add {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// `bgctl.key=value` tags as a map.
pub(super) fn tag_map(v: &Value) -> HashMap<String, String> {
    tags_of(Some(v))
        .into_iter()
        .filter_map(|t| {
            t.strip_prefix(TAG_PREFIX)
                .and_then(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

pub(super) fn parse_record(service: Option<&Value>) -> Record {
    let Some(svc) = service else {
        return Record::default();
    };
    let tags = tags_of(Some(svc));
    record::decode(|key, list| {
        let key = if list {
            key.strip_suffix('s').unwrap_or(key)
        } else {
            key
        };
        let prefix = format!("{TAG_PREFIX}{key}=");
        let mut values: Vec<String> = tags
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix))
            .map(str::to_string)
            .collect();
        if !list {
            // One value per scalar; the last tag wins, as before.
            values = values.pop().into_iter().collect();
        }
        values
    })
}

/// Kong tags may not contain `,` or `/`.
pub(super) fn tag_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ',' || c == '/' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect()
}
