//! Header routes and mirrors on Traefik (issue 16), as objects in the REST provider's
//! configuration bgctl already owns and PUTs whole.
//!
//! * **Header route** `testers` → router `<router>-bgctl-header-testers` with the managed
//!   router's rule and entry points `&& (<conditions>)`, a priority two above the managed
//!   router's (the plan's `router.priority`, else Traefik's default, the rule's length), and
//!   the canary's load-balancer service (`<service>-<canary>`) as its service: requests that
//!   match reach the canary only, whatever the weights say; all others keep following the
//!   managed router. Several `match` entries are alternatives joined with `||`.
//! * **Mirror** `shadow` → a `mirroring` service `<service>-bgctl-mirror-shadow` whose main
//!   service is the managed weighted service (clients still get its answers; Traefik drops the
//!   mirror's) and whose one mirror is the canary's service at `percentage` percent, and a
//!   router `<router>-bgctl-mirror-shadow` (the managed rule `&& (<conditions>)`, priority one
//!   above the managed router's, so a header route still wins) that sends the matching
//!   requests through it. Validation requires every mirror alternative to have a condition, so
//!   every mirror is match-restricted and gets its own router: the managed router is never
//!   re-pointed, and removing a mirror restores the configuration exactly (the owned router and
//!   service simply leave the document).
//! * Conditions, Traefik v3 rule syntax (the version bgctl is tested with, 3.7): header
//!   `exact` → ``Header(`name`, `value`)``; `prefix` → ``HeaderRegexp(`name`, `^<escaped>`)``;
//!   `regex` → ``HeaderRegexp(`name`, `pattern`)`` (Go RE2, unanchored like Kong's); method
//!   `exact` → ``Method(`GET`)`` (Traefik has no method pattern: validation refuses the
//!   others); path `exact`/`prefix`/`regex` → `Path`/`PathPrefix`/`PathRegexp`. A value with a
//!   backtick is written as a double-quoted string instead. (Traefik v2 spelled these
//!   `Headers`/`HeadersRegexp`; v2 is not supported.)
//! * **Header values are case-sensitive on Traefik** (`Header` compares bytes; the header
//!   *name* is canonicalised, so `x-canary` matches): `X-Canary: YES` does not match
//!   `exact: "yes"`, unlike Kong, which lower-cases both. Use a `regex` with `(?i)` to ignore
//!   case.
//! * Mirror percentages are whole percents (Traefik's `percent` is an integer): validation
//!   refuses a fraction rather than round it silently.
//!
//! Ownership: every owned object's name starts with `<router>-bgctl-` (routers) or
//! `<service>-bgctl-` (services) and lives in the REST provider, which bgctl owns whole. They
//! are read on every snapshot (`GET /api/http/routers?search=…` and `…/services?search=…`,
//! normalised to the fields bgctl writes, so read-back compares equal to what was written),
//! listed by `status` ([`crate::providers::Snapshot::extra`]), kept by every weight change, and
//! dropped by the write that gives one environment all traffic (promotion, abort, rollback, the
//! automatic rollback: one PUT, no moment with the weights restored but testers still on the
//! canary) or by `cleanup` when traffic already went back without a write.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use super::{Traefik, TraefikError};
use crate::plan::model::ValueMatch;
use crate::providers::routes::{ActiveRoute, Cond, RouteKind};

/// The bgctl-owned routers and services, each normalised to the fields bgctl writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Owned {
    /// Router name (without `@rest`) → `{rule, priority, service, entryPoints}`.
    pub(super) routers: BTreeMap<String, Value>,
    /// Service name (without `@rest`) → `{mirroring: {service, mirrors: [{name, percent}]}}`.
    pub(super) services: BTreeMap<String, Value>,
}

impl Owned {
    pub(super) fn is_empty(&self) -> bool {
        self.routers.is_empty() && self.services.is_empty()
    }
}

/// What Traefik shows of the owned objects: the objects, and the errors of those it did not
/// enable.
pub(super) struct LiveOwned {
    pub(super) owned: Owned,
    pub(super) errors: Vec<String>,
}

impl Traefik {
    fn router_prefix(&self) -> String {
        format!("{}-bgctl-", self.router_name)
    }

    fn service_prefix(&self) -> String {
        format!("{}-bgctl-", self.service)
    }

    /// The managed router's priority as Traefik runs it: the plan's, else (unset or 0, which
    /// Traefik reads as unset) the rule's length in bytes.
    fn base_priority(&self) -> i64 {
        match self.router.priority {
            Some(p) if p != 0 => p,
            _ => i64::try_from(self.router.rule.len()).unwrap_or(i64::MAX / 2),
        }
    }

    /// Reads the owned routers and services from Traefik.
    pub(super) async fn read_owned(&self) -> Result<LiveOwned, TraefikError> {
        let mut out = LiveOwned {
            owned: Owned::default(),
            errors: Vec::new(),
        };
        for (kind, prefix) in [
            ("routers", self.router_prefix()),
            ("services", self.service_prefix()),
        ] {
            let path = format!(
                "/api/http/{kind}?search={}&per_page=1000",
                utf8_percent_encode(&prefix, NON_ALPHANUMERIC)
            );
            let list = self.get(&path).await?.unwrap_or_default();
            for obj in list.as_array().into_iter().flatten() {
                let full = obj["name"].as_str().unwrap_or_default();
                let (name, provider) = full.split_once('@').unwrap_or((full, "rest"));
                if provider != "rest" || !name.starts_with(&prefix) {
                    continue;
                }
                let norm = if kind == "routers" {
                    Some(normalize_router(obj))
                } else {
                    normalize_service(obj)
                };
                let Some(norm) = norm else { continue };
                super::applied::status_of(obj, full, &mut out.errors);
                let map = if kind == "routers" {
                    &mut out.owned.routers
                } else {
                    &mut out.owned.services
                };
                map.insert(name.to_string(), norm);
            }
        }
        Ok(out)
    }

    /// The owned objects `routes` need.
    pub(super) fn desired_owned(&self, routes: &[ActiveRoute]) -> Owned {
        let mut out = Owned::default();
        let base = self.base_priority();
        for r in routes {
            let canary = format!("{}-{}", self.service, r.to);
            let rule = rule_for(&self.router.rule, &r.matches);
            match r.kind {
                RouteKind::Header => {
                    let name = format!("{}header-{}", self.router_prefix(), r.name);
                    out.routers.insert(
                        name,
                        self.router_value(&rule, base.saturating_add(2), &canary),
                    );
                }
                RouteKind::Mirror => {
                    let svc = format!("{}mirror-{}", self.service_prefix(), r.name);
                    let percent = r.percent.unwrap_or(100.0).clamp(0.0, 100.0).round() as u64;
                    out.services.insert(
                        svc.clone(),
                        json!({"mirroring": {
                            "service": self.service,
                            "mirrors": [{"name": canary, "percent": percent}],
                        }}),
                    );
                    let name = format!("{}mirror-{}", self.router_prefix(), r.name);
                    out.routers
                        .insert(name, self.router_value(&rule, base.saturating_add(1), &svc));
                }
            }
        }
        out
    }

    fn router_value(&self, rule: &str, priority: i64, service: &str) -> Value {
        let mut v = json!({"rule": rule, "priority": priority, "service": service});
        if !self.router.entry_points.is_empty() {
            v["entryPoints"] = json!(self.router.entry_points);
        }
        v
    }

    /// The owned part of a whole configuration document written by [`Traefik::config`].
    pub(super) fn owned_in(&self, config: &Value) -> Owned {
        let pick = |key: &str, prefix: &str| -> BTreeMap<String, Value> {
            config["http"][key]
                .as_object()
                .into_iter()
                .flatten()
                // Only mirroring services are owned (as in [`Self::read_owned`]): a load
                // balancer of an environment named `bgctl-…` shares the prefix.
                .filter(|(name, v)| {
                    name.starts_with(prefix) && (key == "routers" || v.get("mirroring").is_some())
                })
                .map(|(name, v)| (name.clone(), v.clone()))
                .collect()
        };
        Owned {
            routers: pick("routers", &self.router_prefix()),
            services: pick("services", &self.service_prefix()),
        }
    }

    /// Adds the owned objects to a configuration document's `routers` and `services`.
    pub(super) fn add_owned(
        owned: &Owned,
        routers: &mut Map<String, Value>,
        services: &mut Map<String, Value>,
    ) {
        routers.extend(owned.routers.iter().map(|(k, v)| (k.clone(), v.clone())));
        services.extend(owned.services.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// The owned objects as `status` lists them.
    pub(super) fn owned_extra(owned: &Owned) -> Vec<String> {
        let mut out: Vec<String> = owned
            .routers
            .iter()
            .map(|(name, r)| {
                let what = if name.contains("-bgctl-header-") {
                    "header route"
                } else {
                    "mirror route"
                };
                format!(
                    "router {name} ({what}: {} → {})",
                    r["rule"].as_str().unwrap_or("?"),
                    r["service"].as_str().unwrap_or("?")
                )
            })
            .collect();
        out.extend(owned.services.iter().map(|(name, s)| {
            let m = &s["mirroring"]["mirrors"][0];
            format!(
                "service {name} (mirror of {}: {}% → {})",
                s["mirroring"]["service"].as_str().unwrap_or("?"),
                m["percent"].as_u64().unwrap_or(0),
                m["name"].as_str().unwrap_or("?")
            )
        }));
        out
    }

    /// What still differs between the owned objects Traefik runs and `want`.
    pub(super) fn owned_pending(live: &Owned, want: &Owned) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, l, w) in [
            ("router", &live.routers, &want.routers),
            ("service", &live.services, &want.services),
        ] {
            for (name, v) in w {
                match l.get(name) {
                    None => out.push(format!("{kind} `{name}@rest` does not exist yet")),
                    Some(cur) if cur != v => {
                        out.push(format!("{kind} `{name}@rest` is {cur}, want {v}"));
                    }
                    Some(_) => {}
                }
            }
            out.extend(
                l.keys()
                    .filter(|n| !w.contains_key(*n))
                    .map(|n| format!("{kind} `{n}@rest` is still there")),
            );
        }
        out
    }
}

/// A router as Traefik shows it, reduced to what bgctl writes.
fn normalize_router(r: &Value) -> Value {
    let service = r["service"].as_str().unwrap_or_default();
    let mut v = json!({
        "rule": r["rule"].as_str().unwrap_or_default(),
        "priority": r["priority"].as_i64().unwrap_or(0),
        "service": service.split('@').next().unwrap_or_default(),
    });
    if let Some(eps) = r["entryPoints"].as_array().filter(|a| !a.is_empty()) {
        v["entryPoints"] = Value::Array(eps.clone());
    }
    v
}

/// A mirroring service as Traefik shows it, reduced to what bgctl writes; `None` for any
/// other kind (not bgctl's).
fn normalize_service(s: &Value) -> Option<Value> {
    let m = s.get("mirroring")?;
    let mirrors: Vec<Value> = m["mirrors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            json!({
                "name": x["name"].as_str().unwrap_or_default().split('@').next().unwrap_or_default(),
                "percent": x["percent"].as_u64().unwrap_or(0),
            })
        })
        .collect();
    Some(json!({"mirroring": {
        "service": m["service"].as_str().unwrap_or_default().split('@').next().unwrap_or_default(),
        "mirrors": mirrors,
    }}))
}

/// `(<base>) && (<alternatives>)`: each alternative's conditions joined with `&&`, the
/// alternatives with `||`.
pub(super) fn rule_for(base: &str, alts: &[Vec<Cond>]) -> String {
    let alts: Vec<String> = alts
        .iter()
        .filter(|a| !a.is_empty())
        .map(|conds| {
            let parts: Vec<String> = conds.iter().map(cond_rule).collect();
            if parts.len() > 1 && alts.len() > 1 {
                format!("({})", parts.join(" && "))
            } else {
                parts.join(" && ")
            }
        })
        .collect();
    format!("({base}) && ({})", alts.join(" || "))
}

fn cond_rule(c: &Cond) -> String {
    match c {
        Cond::Header { name, value } => match value {
            ValueMatch::Exact(v) => format!("Header({}, {})", quote(name), quote(v)),
            ValueMatch::Prefix(p) => format!(
                "HeaderRegexp({}, {})",
                quote(name),
                quote(&format!("^{}", regex::escape(p)))
            ),
            ValueMatch::Regex(r) => format!("HeaderRegexp({}, {})", quote(name), quote(r)),
        },
        // Validation refuses method patterns on Traefik; a pattern that got here anyway is
        // written as the method it names, which cannot match more than it says.
        Cond::Method { value } => format!("Method({})", quote(value.text())),
        Cond::Path { value } => match value {
            ValueMatch::Exact(p) => format!("Path({})", quote(p)),
            ValueMatch::Prefix(p) => format!("PathPrefix({})", quote(p)),
            ValueMatch::Regex(r) => format!("PathRegexp({})", quote(r)),
        },
    }
}

/// A rule argument: in backticks, or as a double-quoted (Go syntax) string when the text has
/// a backtick.
fn quote(s: &str) -> String {
    if s.contains('`') {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        format!("`{s}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, v: ValueMatch) -> Cond {
        Cond::Header {
            name: name.into(),
            value: v,
        }
    }

    #[test]
    fn rules_use_traefik_v3_matchers_and_escape_prefixes() {
        let r = rule_for(
            "PathPrefix(`/`)",
            &[
                vec![header("X-Canary", ValueMatch::Exact("yes".into()))],
                vec![header("Cookie", ValueMatch::Prefix("beta.1".into()))],
            ],
        );
        assert_eq!(
            r,
            "(PathPrefix(`/`)) && (Header(`X-Canary`, `yes`) || HeaderRegexp(`Cookie`, `^beta\\.1`))"
        );
        let r = rule_for(
            "Host(`a`)",
            &[
                vec![
                    Cond::Method {
                        value: ValueMatch::Exact("GET".into()),
                    },
                    Cond::Path {
                        value: ValueMatch::Prefix("/api".into()),
                    },
                ],
                vec![header("X-A", ValueMatch::Regex("^a|b$".into()))],
            ],
        );
        assert_eq!(
            r,
            "(Host(`a`)) && ((Method(`GET`) && PathPrefix(`/api`)) || HeaderRegexp(`X-A`, `^a|b$`))"
        );
        assert_eq!(quote("a`b\"c"), "\"a`b\\\"c\"");
    }

    #[test]
    fn read_back_objects_normalise_to_what_was_written() {
        let live = json!({"entryPoints":["web"],"service":"app-green","rule":"R","priority":30,
            "observability":{"accessLogs":true},"status":"enabled","using":["web"],
            "name":"app-bgctl-header-t@rest","provider":"rest","priorityStr":"30"});
        assert_eq!(
            normalize_router(&live),
            json!({"rule":"R","priority":30,"service":"app-green","entryPoints":["web"]})
        );
        let svc = json!({"mirroring":{"service":"app","mirrors":[{"name":"app-green"}]},
            "status":"enabled","name":"app-bgctl-mirror-s@rest","type":"mirroring"});
        assert_eq!(
            normalize_service(&svc),
            Some(
                json!({"mirroring":{"service":"app","mirrors":[{"name":"app-green","percent":0}]}})
            ),
            "percent 0 is left out by Traefik"
        );
        assert_eq!(
            normalize_service(&json!({"loadBalancer": {}})),
            None,
            "not a mirror: not bgctl's"
        );
    }
}
