//! Header routes (issue 16) in a DB-less document: bgctl's rows like the plan's service.
//!
//! The header routes are the `routes` rows tagged `bgctl.route-of=<rollout>` (their names
//! follow the plan's active routes, so they are found by the tag, as `GET /routes?tags=…`
//! finds them with a database), and the service they point at is the row named
//! `<service>.bgctl-canary` ([`super::super::routes`]). So:
//!
//! * the planning view ([`Doc::live`]) carries them in [`Live::owned`], in the Admin API's
//!   shape, and the same `owned_calls` plan their writes as with a database;
//! * "a push must not change what bgctl does not own" ([`Doc::foreign`]) leaves them out;
//! * copying bgctl's rows to another node ([`Doc::adopt_owned`]) copies them too: the
//!   service keeps that node's id for its name, each route keeps that node's id for its name
//!   and is pointed at that node's service id, and tagged routes the reference no longer has
//!   are removed.

use serde_json::Value;

use super::{id_of, name_of, remap, with_ref, Doc, Owned};
use crate::providers::kong::live::Live;
use crate::providers::kong::routes::Owned as HeaderRows;

fn is_header_route(row: &Value, owned: &Owned) -> bool {
    row.get("tags").and_then(Value::as_array).is_some_and(|t| {
        t.iter()
            .any(|t| t.as_str() == Some(owned.route_tag.as_str()))
    })
}

impl Doc {
    /// The header routes and their service, as [`Live::owned`] holds them.
    pub(super) fn header_owned(&self, owned: &Owned) -> HeaderRows {
        HeaderRows {
            routes: self
                .rows("routes")
                .iter()
                .filter(|r| is_header_route(r, owned))
                .map(|r| with_ref(r, "service"))
                .collect(),
            service: self.by_name("services", &owned.canary_service).cloned(),
        }
    }

    /// Removes the header routes and their service.
    pub(super) fn remove_header_rows(&mut self, owned: &Owned) {
        self.rows_mut("routes")
            .retain(|r| !is_header_route(r, owned));
        self.rows_mut("services")
            .retain(|r| name_of(r) != Some(owned.canary_service.as_str()));
    }

    /// Makes the header routes and their service here what they are in `from` (module docs).
    pub(super) fn adopt_header_rows(&mut self, from: &Doc, owned: &Owned) {
        let service_id = |doc: &Doc| {
            doc.by_name("services", &owned.canary_service)
                .and_then(id_of)
                .map(str::to_string)
        };
        let svc_from = service_id(from);
        self.put_row(
            "services",
            &owned.canary_service,
            from.by_name("services", &owned.canary_service).cloned(),
        );
        let svc_here = service_id(self);
        let want: Vec<Value> = from
            .rows("routes")
            .iter()
            .filter(|r| is_header_route(r, owned))
            .map(|r| remap(r, "service", svc_from.as_ref(), svc_here.as_ref()))
            .collect();
        let names: Vec<&str> = want.iter().filter_map(name_of).collect();
        self.rows_mut("routes").retain(|r| {
            !is_header_route(r, owned) || name_of(r).is_some_and(|n| names.contains(&n))
        });
        for row in &want {
            if let Some(name) = name_of(row) {
                self.put_row("routes", name, Some(row.clone()));
            }
        }
    }
}

/// What the header routes of a planning view say, for "do two nodes agree" (names, matching
/// attributes, the service's host; ids and timestamps aside, which differ between nodes).
pub(in crate::providers::kong) fn header_key(live: &Live) -> Vec<String> {
    let pick = |row: &Value, keys: &[&str]| {
        keys.iter()
            .map(|k| format!("{k}={}", row.get(*k).unwrap_or(&Value::Null)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out: Vec<String> = live
        .owned
        .routes
        .iter()
        .map(|r| {
            pick(
                r,
                &["name", "hosts", "paths", "methods", "strip_path", "headers"],
            )
        })
        .collect();
    out.sort();
    if let Some(s) = &live.owned.service {
        out.push(format!("service {}", pick(s, &["name", "host"])));
    }
    out
}
