//! The traffic object as bgctl's state: its `bgctl.dev/owner` annotation, the rollout record as
//! `bgctl.dev/*` annotations (a list is one annotation, one item a line), and the one merge patch
//! that writes the routing change and the record together, conditional on `resourceVersion`.

use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::{traffic, Kubernetes, ANNOTATION_PREFIX};
use crate::providers::{record, write, ProviderError, Record, Traffic};

impl Kubernetes {
    pub(super) fn traffic_of(&self, obj: Option<&Value>, record: &Record) -> Traffic {
        let Some(obj) = obj else {
            return Traffic::Missing;
        };
        let names = match (&record.stable, &record.canary) {
            (Some(s), Some(c)) => Some((s.as_str(), c.as_str())),
            _ => self.canary.as_ref().map(|(s, c)| (s.as_str(), c.as_str())),
        };
        traffic::read(self.router, obj, &self.sides(), names)
    }

    pub(super) fn owner_check(&self, obj: &Value) -> Result<(), ProviderError> {
        match obj["metadata"]["annotations"][format!("{ANNOTATION_PREFIX}owner")].as_str() {
            Some(owner) if owner != self.rollout => Err(ProviderError::State(format!(
                "{} `{}` belongs to rollout `{owner}` (annotation `{ANNOTATION_PREFIX}owner`), not `{}`",
                self.kind.kind, self.object, self.rollout
            ))),
            _ => Ok(()),
        }
    }

    /// The whole merge patch for the traffic object: precondition, record and (optionally) the
    /// routing change, in one write.
    pub(super) fn traffic_patch(
        &self,
        obj: &Value,
        to: Option<&Traffic>,
        record: &Record,
    ) -> Result<Value, ProviderError> {
        self.owner_check(obj)?;
        let mut patch = json!({"metadata": {
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "annotations": self.record_annotations(obj, record),
        }});
        if let Some(to) = to {
            let sides = self.sides();
            let want = traffic::desired(to, &sides).map_err(ProviderError::State)?;
            if let Some(spec) =
                traffic::spec_patch(self.router, obj, &sides, &want).map_err(|e| {
                    ProviderError::State(format!("{} `{}`: {e}", self.kind.kind, self.object))
                })?
            {
                patch["spec"] = spec;
            }
        }
        Ok(patch)
    }

    /// `bgctl.dev/*` annotations for `record`; keys the record leaves empty are removed.
    pub(super) fn record_annotations(&self, obj: &Value, record: &Record) -> Value {
        let mut out = Map::new();
        if let Some(live) = obj["metadata"]["annotations"].as_object() {
            // The owned-rules list belongs to the rules ([`super::routes`]), not the record.
            let owned = super::routes::owned_key();
            for k in live
                .keys()
                .filter(|k| k.starts_with(ANNOTATION_PREFIX) && **k != owned)
            {
                out.insert(k.clone(), Value::Null);
            }
        }
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.insert(format!("{ANNOTATION_PREFIX}{k}"), Value::String(v));
            }
        };
        put("owner", Some(self.rollout.clone()));
        // The record's fields ([`record::encode`]); a list is one annotation, one item a line.
        for f in record::encode(record) {
            put(&f.key, Some(f.values.join("\n")));
        }
        Value::Object(out)
    }

    /// Writes `to` and `record` into the traffic object with a patch conditional on the
    /// `resourceVersion` it was computed from: first from `given` (the object the snapshot
    /// read), then, after a 409 or a write whose answer was lost, from a fresh read
    /// ([`write::converge`]). A repeat after a lost answer sends the same routing and record,
    /// never applied on top of a change someone else made.
    pub(super) async fn write_traffic(
        &self,
        given: Option<&Value>,
        to: Option<&Traffic>,
        record: &Record,
    ) -> Result<(), ProviderError> {
        let given = Mutex::new(given.cloned());
        write::converge(
            || async {
                let taken = given.lock().expect("given lock").take();
                let obj = match taken {
                    Some(obj) => obj,
                    None => self.client.get(&self.kind, &self.object).await?.ok_or_else(|| {
                        ProviderError::State(format!(
                            "{} `{}` does not exist in namespace `{}`; create it first (bgctl changes its routing, it does not create it)",
                            self.kind.kind,
                            self.object,
                            self.ns()
                        ))
                    })?,
                };
                Ok(write::Step::Write(self.traffic_patch(&obj, to, record)?))
            },
            |patch| async move {
                match self
                    .client
                    .merge_patch(&self.kind, &self.object, &patch)
                    .await
                {
                    Ok(_) => Ok(write::Written::Done),
                    Err(e) if e.is_conflict() => {
                        tracing::info!(
                            "{} `{}` changed since it was read (409); re-reading",
                            self.kind.kind,
                            self.object
                        );
                        Ok(write::Written::Conflict)
                    }
                    Err(e) if e.outcome_unknown() => Ok(write::Written::Unknown(e.into())),
                    Err(e) => Err(e.into()),
                }
            },
            "the traffic object kept changing (409 on every attempt); try again",
        )
        .await
        .map(drop)
    }
}

pub(super) fn parse_record(obj: Option<&Value>) -> Record {
    let Some(ann) = obj.and_then(|o| o["metadata"]["annotations"].as_object()) else {
        return Record::default();
    };
    record::decode(|key, list| {
        let v = ann
            .get(&format!("{ANNOTATION_PREFIX}{key}"))
            .and_then(Value::as_str);
        match v {
            Some(v) if list => v.lines().map(str::to_string).collect(),
            Some(v) => vec![v.to_string()],
            None => Vec::new(),
        }
    })
}
