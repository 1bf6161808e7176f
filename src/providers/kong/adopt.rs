//! Entities someone made by hand (seed 000's curl sequence): how bgctl marks one as its own
//! (`bgctl init` adopts what it read, so the plan it writes has a zero diff), and the routes a
//! plan would create beside an unowned live route that already matches the same requests.
//!
//! Why the duplicate check exists: a plan that names a route `address-route` with the hosts of
//! seed 000's unnamed route would create a second route with the same hosts; Kong then has two
//! routes for one request and picks one by its own priority rules, silently. `plan apply` and
//! `plan diff` warn before any write (text and an NDJSON `warning` event) and say how to adopt
//! the existing route instead (`- {id: …}` in `service.routes`, which `bgctl init` writes).
//! "Duplicates" means: the host lists share a host (or both are empty), and the path lists
//! share a path or one of them is empty (a route without paths matches every path).
//! Methods are not compared; a warning too many is cheaper than a route shadowed unseen.

use serde_json::Value;

use super::client::{urlencode, KongClient, KongError};
use super::tags::{has_tag, merge_tags, str_list, tags_of};
use super::{Kong, MANAGED, TAG_PREFIX};
use crate::providers::ProviderError;

/// The tags that mark an entity as owned by rollout `rollout`.
pub fn owner_tags(rollout: &str) -> Vec<String> {
    vec![MANAGED.to_string(), format!("{TAG_PREFIX}owner={rollout}")]
}

/// The tags an entity must carry to be `rollout`'s (its own kept), or `None` when it already is.
pub fn adoption_tags(entity: &Value, rollout: &str) -> Option<Vec<String>> {
    if has_tag(entity, &format!("{TAG_PREFIX}owner={rollout}")) {
        None
    } else {
        Some(merge_tags(&tags_of(Some(entity)), &owner_tags(rollout)))
    }
}

/// A route as messages name it: `name`, or `id <uuid> (unnamed)`.
pub fn route_label(route: &Value) -> String {
    match route.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => format!("`{n}`"),
        _ => format!(
            "id {} (unnamed)",
            route.get("id").and_then(Value::as_str).unwrap_or("?")
        ),
    }
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Whether two routes' hosts and paths match the same requests (module docs).
pub fn duplicates(hosts: &[String], paths: &[String], live: &Value) -> bool {
    let (lh, lp) = (str_list(live.get("hosts")), str_list(live.get("paths")));
    let hosts_clash = overlaps(hosts, &lh) || (hosts.is_empty() && lh.is_empty());
    let paths_clash = paths.is_empty() || lp.is_empty() || overlaps(paths, &lp);
    hosts_clash && paths_clash
}

impl Kong {
    /// One warning per route the plan would create that duplicates an unowned live route's
    /// hosts/paths. Reads each planned route, and lists every route only when one is missing.
    pub async fn route_clashes(&self) -> Result<Vec<String>, ProviderError> {
        let mut all: Option<Vec<Value>> = None;
        let mut out = Vec::new();
        for r in &self.service.routes {
            if self
                .client
                .get(&format!("/routes/{}", urlencode(r.key())))
                .await?
                .is_some()
            {
                continue;
            }
            if all.is_none() {
                all = Some(list_routes(&self.client).await?);
            }
            for live in all.iter().flatten() {
                if has_tag(live, &self.owner_tag()) || !duplicates(&r.hosts, &r.paths, live) {
                    continue;
                }
                let id = live.get("id").and_then(Value::as_str).unwrap_or("ID");
                out.push(format!(
                    "route `{}` would be created, but route {} (not managed by bgctl) already \
                     matches hosts {:?} paths {:?}: Kong would then have two routes for the same \
                     requests and pick one by its own rules. To adopt the existing route, list it \
                     in `service.routes` as `- {{id: {id}}}` (what `bgctl init kong` writes), or \
                     delete it first",
                    r.label(),
                    route_label(live),
                    str_list(live.get("hosts")),
                    str_list(live.get("paths")),
                ));
            }
        }
        Ok(out)
    }
}

async fn list_routes(client: &KongClient) -> Result<Vec<Value>, KongError> {
    client.list("/routes").await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_string()).collect()
    }

    #[test]
    fn same_host_without_paths_duplicates_and_other_hosts_do_not() {
        let seed = json!({"hosts": ["address.mydomain.com"], "paths": null});
        assert!(duplicates(&s(&["address.mydomain.com"]), &[], &seed));
        assert!(duplicates(
            &s(&["address.mydomain.com"]),
            &s(&["/a"]),
            &seed
        ));
        assert!(!duplicates(&s(&["other.example.com"]), &[], &seed));
        let with_path = json!({"hosts": ["h"], "paths": ["/x"]});
        assert!(!duplicates(&s(&["h"]), &s(&["/y"]), &with_path));
        assert!(duplicates(&[], &s(&["/x"]), &json!({"paths": ["/x"]})));
    }

    #[test]
    fn adoption_keeps_the_entitys_tags_and_is_skipped_when_owned() {
        let up = json!({"tags": ["team-a"]});
        assert_eq!(
            adoption_tags(&up, "r"),
            Some(s(&["team-a", "managed-by-bgctl", "bgctl.owner=r"]))
        );
        let owned = json!({"tags": ["bgctl.owner=r"]});
        assert_eq!(adoption_tags(&owned, "r"), None);
    }
}
