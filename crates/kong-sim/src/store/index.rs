//! Secondary indexes over the targets table, so a target's write, lookup and uniqueness check
//! cost the same whatever the size of its upstream (Kong's Postgres strategy has an index on
//! `(upstream_id, target)` and answers these with indexed queries; a scan here made seeding
//! 1,000 targets quadratic).
//!
//! Every change to `Db::targets` goes through [`super::Db::put`] and [`super::Db::delete`],
//! which keep the index in step; nothing else writes the table. Orders are the ones the
//! scans gave: among rows with the same target the smallest id first (the table's key order),
//! and creation order as `(created_at, id)` compared with `f64::total_cmp`.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// `created_at` as stored (a missing one as 0), totally ordered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Created(f64);

impl PartialEq for Created {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Created {}

impl PartialOrd for Created {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Created {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One upstream's targets.
#[derive(Clone, Default, Debug)]
struct Members {
    by_target: BTreeSet<(String, String)>,
    by_created: BTreeSet<(Created, String)>,
}

/// Where a target row was indexed, to take it out again.
#[derive(Clone, Debug)]
struct Entry {
    upstream: String,
    target: String,
    created: Created,
}

/// The targets table's indexes: by upstream, then by target address or by creation.
#[derive(Clone, Default, Debug)]
pub(crate) struct TargetIndex {
    by_upstream: HashMap<String, Members>,
    rows: HashMap<String, Entry>,
}

impl TargetIndex {
    /// Indexes `row` under `id` (replacing what was indexed for `id`).
    pub(crate) fn insert(&mut self, id: &str, row: &Value) {
        self.remove(id);
        let Some(upstream) = row["upstream"]["id"].as_str() else {
            return;
        };
        let entry = Entry {
            upstream: upstream.to_string(),
            target: row["target"].as_str().unwrap_or_default().to_string(),
            created: Created(row["created_at"].as_f64().unwrap_or(0.0)),
        };
        let members = self.by_upstream.entry(entry.upstream.clone()).or_default();
        members
            .by_target
            .insert((entry.target.clone(), id.to_string()));
        members.by_created.insert((entry.created, id.to_string()));
        self.rows.insert(id.to_string(), entry);
    }

    /// Takes `id` out of the index.
    pub(crate) fn remove(&mut self, id: &str) {
        let Some(entry) = self.rows.remove(id) else {
            return;
        };
        if let Some(members) = self.by_upstream.get_mut(&entry.upstream) {
            members.by_target.remove(&(entry.target, id.to_string()));
            members.by_created.remove(&(entry.created, id.to_string()));
            if members.by_created.is_empty() {
                self.by_upstream.remove(&entry.upstream);
            }
        }
    }

    /// The ids of an upstream's targets, oldest first (`created_at`, then id).
    pub(crate) fn created_order<'a>(
        &'a self,
        upstream: &str,
    ) -> impl DoubleEndedIterator<Item = &'a str> + 'a {
        self.by_upstream
            .get(upstream)
            .into_iter()
            .flat_map(|m| m.by_created.iter().map(|(_, id)| id.as_str()))
    }

    /// The ids of an upstream's rows whose `target` is `target`, smallest id first.
    pub(crate) fn with_target<'a>(
        &'a self,
        upstream: &str,
        target: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.by_upstream
            .get(upstream)
            .into_iter()
            .flat_map(move |m| {
                m.by_target
                    .range((target.to_string(), String::new())..)
                    .take_while(move |(t, _)| t == target)
                    .map(|(_, id)| id.as_str())
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(up: &str, target: &str, created: f64) -> Value {
        json!({"upstream": {"id": up}, "target": target, "created_at": created})
    }

    #[test]
    fn keeps_creation_and_address_order_through_updates_and_deletes() {
        let mut index = TargetIndex::default();
        index.insert("b", &row("u1", "10.0.0.1:80", 2.0));
        index.insert("a", &row("u1", "10.0.0.2:80", 2.0));
        index.insert("c", &row("u1", "10.0.0.1:80", 1.0));
        index.insert("d", &row("u2", "10.0.0.1:80", 0.5));
        let order: Vec<&str> = index.created_order("u1").collect();
        assert_eq!(order, ["c", "a", "b"]);
        let same: Vec<&str> = index.with_target("u1", "10.0.0.1:80").collect();
        assert_eq!(same, ["b", "c"]);
        // An update that moves a row re-indexes it; a delete forgets it.
        index.insert("b", &row("u2", "10.0.0.9:80", 3.0));
        index.remove("c");
        assert_eq!(index.with_target("u1", "10.0.0.1:80").count(), 0);
        assert_eq!(index.created_order("u2").collect::<Vec<_>>(), ["d", "b"]);
        assert_eq!(index.created_order("u1").collect::<Vec<_>>(), ["a"]);
    }
}
