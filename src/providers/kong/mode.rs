//! Which kind of Kong node an Admin API URL belongs to, read from the node itself (`GET /`).
//!
//! Kong runs in four ways, and each needs bgctl to move traffic differently (issue 15):
//!
//! * **traditional** (`configuration.database` is a database, `role` is `traditional`): entity
//!   writes, nodes sharing the database pick them up on their own schedule;
//! * **DB-less** (`database == "off"`, `role` is `traditional`): entity writes answer 405 code
//!   12; the whole configuration is read with `GET /config` and replaced with `POST /config`,
//!   node by node;
//! * **control plane** (`role == "control_plane"`): entity writes as traditional, then the data
//!   planes receive the configuration; `GET /clustering/data-planes` says which have it;
//! * **data plane** (`role == "data_plane"`): read-only, configured by its control plane;
//!   bgctl refuses to write there and names the control plane as the place to point at.
//!
//! The answer is untrusted input: a `configuration` that is missing or not an object (Kong
//! sanitises it, and a proxy in front may strip it) is read as traditional, the mode bgctl has
//! always assumed; a `role` Kong does not have is an error naming the value, not a guess.

use serde_json::Value;

use super::client::{KongClient, KongError};
use super::live::Live;
use super::Kong;
use crate::plan::model::KongModeSpec;
use crate::providers::{ProviderError, Snapshot};

impl ProviderError {
    /// Whether this failure is the plan's (a node in a mode the plan cannot drive, nodes that
    /// disagree): exit 2, nothing was changed.
    pub fn is_usage(&self) -> bool {
        matches!(self, ProviderError::Kong(KongError::Mode { .. }))
    }
}

/// The one mode every node of the plan reports, checked against `provider.kong.mode`:
///
/// * a hybrid data plane is refused (read-only; its control plane takes the writes);
/// * nodes that report different modes are refused, naming each;
/// * a mode the plan states must be the one the nodes report.
///
/// All three are refused before any write (exit 2), naming the node and what to change.
pub fn agree(
    nodes: &[(String, NodeInfo)],
    want: Option<KongModeSpec>,
) -> Result<KongMode, KongError> {
    let refuse = |message: String, hint: &str| KongError::Mode {
        message,
        hint: hint.to_string(),
    };
    if let Some((url, _)) = nodes.iter().find(|n| n.1.mode == KongMode::DataPlane) {
        return Err(refuse(
            format!("`{url}` is a hybrid data plane, which is read-only: bgctl writes to its control plane"),
            "point `provider.kong.adminUrl` at the control plane's Admin API (data planes get their configuration from it) and list the data planes' proxies in `provider.kong.proxyUrls` to verify through them",
        ));
    }
    let Some((_, first)) = nodes.first() else {
        return Err(refuse(
            "no Kong node to talk to".into(),
            "set `provider.kong.adminUrl`",
        ));
    };
    if nodes.iter().any(|n| n.1.mode != first.mode) {
        let each: Vec<String> = nodes
            .iter()
            .map(|(url, info)| format!("`{url}` is {}", info.mode))
            .collect();
        return Err(refuse(
            format!(
                "the Kong nodes disagree about their mode: {}",
                each.join(", ")
            ),
            "list the nodes of one Kong deployment in `provider.kong.adminUrl` and `adminUrls`",
        ));
    }
    if let Some(want) = want {
        let ok = matches!(
            (want, first.mode),
            (KongModeSpec::Traditional, KongMode::Traditional)
                | (KongModeSpec::Dbless, KongMode::DbLess)
                | (KongModeSpec::Hybrid, KongMode::ControlPlane)
        );
        if !ok {
            let said = match want {
                KongModeSpec::Traditional => "traditional",
                KongModeSpec::Dbless => "dbless",
                KongModeSpec::Hybrid => "hybrid",
            };
            return Err(refuse(
                format!(
                    "`provider.kong.mode` is `{said}`, but `{}` says it is {}",
                    nodes[0].0, first.mode
                ),
                "set `provider.kong.mode` to the mode the nodes run in (or remove it: bgctl reads the mode from the nodes), or point `adminUrl` at the intended nodes",
            ));
        }
    }
    Ok(first.mode)
}

/// How a Kong node is configured, as it says itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KongMode {
    /// A node with a database (PostgreSQL): entity writes.
    Traditional,
    /// `database = off`: one declarative configuration per node.
    DbLess,
    /// A hybrid-mode control plane: entity writes, pushed to data planes.
    ControlPlane,
    /// A hybrid-mode data plane: read-only.
    DataPlane,
}

impl KongMode {
    /// How `status` and error messages name the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            KongMode::Traditional => "traditional",
            KongMode::DbLess => "db-less",
            KongMode::ControlPlane => "hybrid control plane",
            KongMode::DataPlane => "hybrid data plane",
        }
    }
}

impl std::fmt::Display for KongMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a node's `GET /` says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Its mode.
    pub mode: KongMode,
    /// Its `version`, when it gave a string.
    pub version: Option<String>,
}

/// A `role` this version of bgctl does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the node says its role is `{0}`, which bgctl does not know (expected traditional, control_plane or data_plane)")]
pub struct UnknownRole(pub String);

/// Reads the mode from the body of `GET /`.
pub fn from_root(root: &Value) -> Result<NodeInfo, UnknownRole> {
    let version = root
        .get("version")
        .and_then(Value::as_str)
        .map(|v| v.chars().filter(|c| !c.is_control()).take(64).collect());
    let conf = root.get("configuration");
    let text = |key: &str| conf.and_then(|c| c.get(key)).and_then(Value::as_str);
    let mode = match text("role") {
        None | Some("traditional") if text("database") == Some("off") => KongMode::DbLess,
        None | Some("traditional") => KongMode::Traditional,
        Some("control_plane") => KongMode::ControlPlane,
        Some("data_plane") => KongMode::DataPlane,
        Some(other) => {
            return Err(UnknownRole(
                other.chars().filter(|c| !c.is_control()).take(64).collect(),
            ))
        }
    };
    Ok(NodeInfo { mode, version })
}

/// Why a node's mode could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// `GET /` failed.
    #[error(transparent)]
    Kong(#[from] KongError),
    /// `GET /` answered 404: not a Kong Admin API root.
    #[error("`GET /` answered 404: the URL is not a Kong Admin API root")]
    NotFound,
    /// The node named a role bgctl does not know.
    #[error(transparent)]
    Role(#[from] UnknownRole),
}

/// Asks the node what it is (`GET /`, one call).
pub async fn detect(client: &KongClient) -> Result<NodeInfo, DetectError> {
    let root = client.get("/").await?.ok_or(DetectError::NotFound)?;
    Ok(from_root(&root)?)
}

/// The Kong nodes as `status` shows them ([`Kong::node_report`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeReport {
    /// `traditional`, `db-less`, `hybrid control plane`.
    pub mode: String,
    /// Each node of the plan.
    pub nodes: Vec<NodeState>,
}

/// One node in [`NodeReport`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeState {
    /// Its Admin API.
    pub url: String,
    /// DB-less: how its bgctl entities differ from the reference node's (the next
    /// `plan apply` pushes the reference's to it); `None` when they agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differs: Option<String>,
}

impl Kong {
    /// The mode every node of the plan reports (`GET /` on each, once per run), checked with
    /// [`agree`]: a data plane, nodes that disagree, or a plan that states another mode
    /// is an error (exit 2) before anything is written.
    pub async fn mode(&self) -> Result<KongMode, ProviderError> {
        self.mode
            .get_or_try_init(|| async {
                let mut infos = Vec::new();
                for n in &self.nodes {
                    // An Admin API that does not answer `GET /` (a gateway in front that only
                    // routes the entity paths) is taken for what bgctl always assumed:
                    // traditional, as a root without `configuration` is ([`from_root`]).
                    let info = match detect(n).await {
                        Ok(info) => info,
                        Err(DetectError::NotFound) => NodeInfo {
                            mode: KongMode::Traditional,
                            version: None,
                        },
                        Err(DetectError::Kong(e)) => return Err(ProviderError::Kong(e)),
                        Err(other) => {
                            return Err(ProviderError::State(format!("{}: {other}", n.base())))
                        }
                    };
                    infos.push((n.base().to_string(), info));
                }
                agree(&infos, self.mode_spec).map_err(ProviderError::Kong)
            })
            .await
            .copied()
    }

    /// What `status` shows about the nodes: the mode and, DB-less, each node and whether its
    /// bgctl entities lag behind the reference node's (read in `snap`).
    pub fn node_report(&self, snap: &Snapshot) -> NodeReport {
        let live = snap.live.get::<Live>();
        let nodes = match live.and_then(|l| l.nodes.as_deref()) {
            Some(nodes) => {
                let lagging = self.lagging(nodes);
                nodes
                    .docs
                    .iter()
                    .map(|d| NodeState {
                        url: d.url.clone(),
                        differs: lagging.iter().find(|l| l.0 == d.url).map(|l| l.1.clone()),
                    })
                    .collect()
            }
            None => self
                .nodes
                .iter()
                .map(|n| NodeState {
                    url: n.base().to_string(),
                    differs: None,
                })
                .collect(),
        };
        NodeReport {
            mode: self
                .mode
                .get()
                .map_or("unknown", |m| m.as_str())
                .to_string(),
            nodes,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mode(configuration: &Value) -> Result<KongMode, UnknownRole> {
        from_root(&json!({"version": "3.9.1", "configuration": configuration})).map(|i| i.mode)
    }

    #[test]
    fn reads_each_mode_as_kong_reports_it() {
        let cases = [
            (
                json!({"database": "postgres", "role": "traditional"}),
                KongMode::Traditional,
            ),
            (
                json!({"database": "off", "role": "traditional"}),
                KongMode::DbLess,
            ),
            (
                json!({"database": "postgres", "role": "control_plane"}),
                KongMode::ControlPlane,
            ),
            (
                json!({"database": "off", "role": "data_plane"}),
                KongMode::DataPlane,
            ),
            // Kong before `role` existed, or a proxy that dropped it.
            (json!({"database": "off"}), KongMode::DbLess),
            (json!({}), KongMode::Traditional),
            (json!("sanitised away"), KongMode::Traditional),
        ];
        for (configuration, want) in cases {
            assert_eq!(mode(&configuration), Ok(want), "{configuration}");
        }
    }

    #[test]
    fn an_unknown_role_is_named_not_guessed() {
        let err = mode(&json!({"database": "off", "role": "edge\u{1b}[31m"})).unwrap_err();
        assert_eq!(err.0, "edge[31m");
        assert!(err.to_string().contains("`edge[31m`"), "{err}");
    }

    fn node(url: &str, mode: KongMode) -> (String, NodeInfo) {
        (
            url.into(),
            NodeInfo {
                mode,
                version: None,
            },
        )
    }

    #[test]
    fn nodes_must_agree_with_each_other_and_the_plan() {
        let two = [node("a", KongMode::DbLess), node("b", KongMode::DbLess)];
        assert_eq!(agree(&two, None).unwrap(), KongMode::DbLess);
        assert_eq!(
            agree(&two, Some(KongModeSpec::Dbless)).unwrap(),
            KongMode::DbLess
        );
        let err = agree(&two, Some(KongModeSpec::Traditional)).unwrap_err();
        assert!(err.to_string().contains("`a` says it is db-less"), "{err}");
        let mixed = [
            node("a", KongMode::DbLess),
            node("b", KongMode::Traditional),
        ];
        let err = agree(&mixed, None).unwrap_err();
        assert!(err.to_string().contains("`b` is traditional"), "{err}");
        let dp = [
            node("a", KongMode::ControlPlane),
            node("d", KongMode::DataPlane),
        ];
        let err = agree(&dp, None).unwrap_err();
        assert!(
            err.to_string().starts_with("`d` is a hybrid data plane"),
            "{err}"
        );
        assert!(ProviderError::Kong(err).is_usage());
        let cp = [node("c", KongMode::ControlPlane)];
        assert_eq!(
            agree(&cp, Some(KongModeSpec::Hybrid)).unwrap(),
            KongMode::ControlPlane
        );
    }

    #[test]
    fn the_version_is_kept_without_control_characters() {
        let info = from_root(&json!({"version": "3.9\n.1", "configuration": {}})).unwrap();
        assert_eq!(info.version.as_deref(), Some("3.9.1"));
        assert_eq!(from_root(&json!({})).unwrap().version, None);
    }
}
