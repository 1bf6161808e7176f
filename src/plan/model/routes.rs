//! Canary steps that send *chosen* requests to the canary before (or beside) any random share
//! (issue 16): `setHeaderRoute` (requests whose headers match go to the canary) and
//! `setMirrorRoute` (a copy of matching requests also goes to the canary; the answer the client
//! gets still comes from where the traffic split sends it).
//!
//! The shapes are Argo Rollouts' (`setHeaderRoute {name, match: [{headerName, headerValue:
//! {exact|prefix|regex}}]}`, `setMirrorRoute {name, percentage, match: [{method, path,
//! headers}]}`), so a team can carry its plans over. A step without `match` removes the route of
//! that name. Decisions where Argo is silent or differs:
//!
//! * Several entries under `match` are alternatives (any one matching sends the request), as
//!   in Argo's Istio and Gateway API plugins; the conditions inside one entry must all hold.
//! * `match: []` is refused rather than read as "remove": removal is written by leaving `match`
//!   out, so an empty list is most likely a mistake.
//! * Mirror `percentage` defaults to 100 (Argo's default), and is a whole or fractional percent.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `setHeaderRoute`: requests whose headers match go to the canary; without `match` the route
/// of that name is removed.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SetHeaderRoute {
    /// The route's name (lower-case letters, digits and `-`); a later step with the same name
    /// and no `match` removes it.
    pub name: String,
    /// Alternatives: a request that matches any one entry goes to the canary. Leave out to
    /// remove the route.
    #[serde(default, rename = "match")]
    pub matches: Option<Vec<HeaderRouteMatch>>,
}

/// One header condition of a `setHeaderRoute`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HeaderRouteMatch {
    /// The header's name (`Cookie` for cookies).
    pub header_name: String,
    /// How its value must match.
    pub header_value: StringMatch,
}

/// How a value matches: exactly one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StringMatch {
    /// The whole value.
    #[serde(default)]
    pub exact: Option<String>,
    /// The value starts with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A regular expression found in the value (Rust `regex` syntax, which RE2 patterns follow).
    #[serde(default)]
    pub regex: Option<String>,
}

/// `setMirrorRoute`: a copy of matching requests also goes to the canary (its answers are
/// dropped); without `match` the mirror of that name is removed.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SetMirrorRoute {
    /// The mirror's name (lower-case letters, digits and `-`).
    pub name: String,
    /// Percent of the matching requests copied to the canary, 0–100 (default 100).
    #[serde(default)]
    pub percentage: Option<f64>,
    /// Alternatives: a request matching any one entry is copied. Leave out to remove the mirror.
    #[serde(default, rename = "match")]
    pub matches: Option<Vec<MirrorMatch>>,
}

/// One alternative of a `setMirrorRoute`: every condition set must hold.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct MirrorMatch {
    /// The request method (`{exact: GET}`).
    #[serde(default)]
    pub method: Option<StringMatch>,
    /// The request path.
    #[serde(default)]
    pub path: Option<StringMatch>,
    /// Request headers by name.
    #[serde(default)]
    pub headers: IndexMap<String, StringMatch>,
}

/// The one way a [`StringMatch`] matches, once validation made sure exactly one key is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ValueMatch {
    /// The whole value.
    Exact(String),
    /// The value starts with this.
    Prefix(String),
    /// A regular expression found in the value.
    Regex(String),
}

impl StringMatch {
    /// The one key set, if exactly one is.
    pub fn one(&self) -> Option<ValueMatch> {
        match (&self.exact, &self.prefix, &self.regex) {
            (Some(v), None, None) => Some(ValueMatch::Exact(v.clone())),
            (None, Some(v), None) => Some(ValueMatch::Prefix(v.clone())),
            (None, None, Some(v)) => Some(ValueMatch::Regex(v.clone())),
            _ => None,
        }
    }
}

impl ValueMatch {
    /// The matched text (a value, a prefix or a pattern).
    pub fn text(&self) -> &str {
        match self {
            ValueMatch::Exact(v) | ValueMatch::Prefix(v) | ValueMatch::Regex(v) => v,
        }
    }

    /// `exact`, `prefix` or `regex`.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueMatch::Exact(_) => "exact",
            ValueMatch::Prefix(_) => "prefix",
            ValueMatch::Regex(_) => "regex",
        }
    }

    /// The value as a regular expression (anchored for `exact` and `prefix`).
    pub fn as_regex(&self) -> String {
        match self {
            ValueMatch::Exact(v) => format!("^{}$", regex::escape(v)),
            ValueMatch::Prefix(v) => format!("^{}", regex::escape(v)),
            ValueMatch::Regex(v) => v.clone(),
        }
    }
}

impl std::fmt::Display for ValueMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueMatch::Exact(v) => write!(f, "= {v:?}"),
            ValueMatch::Prefix(v) => write!(f, "starts with {v:?}"),
            ValueMatch::Regex(v) => write!(f, "~ /{v}/"),
        }
    }
}
