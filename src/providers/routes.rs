//! Header and mirror routes as providers see them (issue 16): [`ActiveRoute`] is one
//! `setHeaderRoute` / `setMirrorRoute` of the plan, resolved to the canary side it sends to.
//!
//! Which routes are active is a function of the plan and the step a canary is at
//! ([`active_routes`]): replaying `steps[..next]` adds and removes them. So the rollout record
//! only needs their names ([`Record::routes`](super::Record::routes), `header:testers`,
//! `mirror:shadow`) for `status`, `abort`, `rollback` and another runner to know them, and a
//! provider converges its owned route objects to the list it is given
//! ([`super::Provider::set_routes`]), removing every owned route that is not on it. A run
//! killed between a route write and the record write re-runs that step: the write is
//! idempotent.

use indexmap::IndexMap;
use serde::Serialize;

use crate::plan::model::{Canary, StringMatch, ValueMatch};

/// What kind of route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// Matching requests go to the canary instead.
    Header,
    /// Matching requests are also copied to the canary.
    Mirror,
}

impl RouteKind {
    /// `header` or `mirror`, as in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Header => "header",
            RouteKind::Mirror => "mirror",
        }
    }
}

/// One condition of a route alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "on")]
pub enum Cond {
    /// A request header.
    Header {
        /// Header name as the plan writes it.
        name: String,
        /// How its value matches.
        value: ValueMatch,
    },
    /// The request method.
    Method {
        /// How it matches.
        value: ValueMatch,
    },
    /// The request path.
    Path {
        /// How it matches.
        value: ValueMatch,
    },
}

/// A header or mirror route the plan has active at some step.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ActiveRoute {
    /// The plan's name for it.
    pub name: String,
    /// Header route or mirror.
    pub kind: RouteKind,
    /// The environment matching requests go (or are copied) to: the canary.
    pub to: String,
    /// Alternatives: a request matching every condition of any one of them is routed.
    pub matches: Vec<Vec<Cond>>,
    /// Mirror: percent of the matching requests copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
}

impl ActiveRoute {
    /// `header:testers`, as the record lists it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }

    /// One line for people: `header route testers: X-Canary = "yes" → green`.
    pub fn describe(&self) -> String {
        let alts: Vec<String> = self
            .matches
            .iter()
            .map(|conds| {
                conds
                    .iter()
                    .map(|c| match c {
                        Cond::Header { name, value } => format!("{name} {value}"),
                        Cond::Method { value } => format!("method {value}"),
                        Cond::Path { value } => format!("path {value}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect();
        let pct = self.percent.map(|p| format!(" ({p}%)")).unwrap_or_default();
        format!(
            "{} route `{}`: {} → {}{pct}",
            self.kind.as_str(),
            self.name,
            alts.join(" or "),
            self.to
        )
    }
}

/// The routes active once `steps[..next]` of the canary ran, in the order they were first set.
pub fn active_routes(c: &Canary, next: usize) -> Vec<ActiveRoute> {
    let mut active: IndexMap<String, ActiveRoute> = IndexMap::new();
    for step in c.steps.iter().take(next) {
        if let Some(h) = &step.set_header_route {
            match &h.matches {
                Some(list) => {
                    let matches = list
                        .iter()
                        .filter_map(|m| {
                            Some(vec![Cond::Header {
                                name: m.header_name.clone(),
                                value: m.header_value.one()?,
                            }])
                        })
                        .collect();
                    active.insert(
                        h.name.clone(),
                        ActiveRoute {
                            name: h.name.clone(),
                            kind: RouteKind::Header,
                            to: c.canary.clone(),
                            matches,
                            percent: None,
                        },
                    );
                }
                None => {
                    active.shift_remove(&h.name);
                }
            }
        }
        if let Some(m) = &step.set_mirror_route {
            match &m.matches {
                Some(list) => {
                    let matches = list
                        .iter()
                        .map(|alt| {
                            let mut conds = Vec::new();
                            if let Some(v) = alt.method.as_ref().and_then(StringMatch::one) {
                                conds.push(Cond::Method { value: v });
                            }
                            if let Some(v) = alt.path.as_ref().and_then(StringMatch::one) {
                                conds.push(Cond::Path { value: v });
                            }
                            for (name, want) in &alt.headers {
                                if let Some(v) = want.one() {
                                    conds.push(Cond::Header {
                                        name: name.clone(),
                                        value: v,
                                    });
                                }
                            }
                            conds
                        })
                        .collect();
                    active.insert(
                        m.name.clone(),
                        ActiveRoute {
                            name: m.name.clone(),
                            kind: RouteKind::Mirror,
                            to: c.canary.clone(),
                            matches,
                            percent: Some(m.percentage.unwrap_or(100.0)),
                        },
                    );
                }
                None => {
                    active.shift_remove(&m.name);
                }
            }
        }
    }
    active.into_values().collect()
}

/// The record's list of active routes (`header:testers`) once `steps[..next]` ran.
pub fn route_keys(c: &Canary, next: usize) -> Vec<String> {
    active_routes(c, next)
        .iter()
        .map(ActiveRoute::key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_added_and_removed_in_step_order() {
        let c: Canary = serde_yaml_ng::from_str(
            "stable: blue\ncanary: green\nsteps:\n\
             - setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}, {headerName: Cookie, headerValue: {regex: 'beta=1'}}]}\n\
             - pause: {}\n\
             - setMirrorRoute: {name: shadow, match: [{method: {exact: GET}, path: {prefix: /api}}]}\n\
             - setHeaderRoute: {name: testers}\n\
             - setWeight: 100\n",
        )
        .unwrap();
        assert!(active_routes(&c, 0).is_empty());
        let one = active_routes(&c, 2);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].to, "green");
        assert_eq!(one[0].matches.len(), 2, "two alternatives");
        assert_eq!(
            one[0].describe(),
            "header route `testers`: X-Canary = \"yes\" or Cookie ~ /beta=1/ → green"
        );
        assert_eq!(route_keys(&c, 3), ["header:testers", "mirror:shadow"]);
        let last = active_routes(&c, 5);
        assert_eq!(route_keys(&c, 5), ["mirror:shadow"]);
        assert_eq!(last[0].percent, Some(100.0));
        assert_eq!(last[0].matches[0].len(), 2, "method and path, both");
    }
}
