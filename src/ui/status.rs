//! `bgctl status`: the live side, each environment's targets with weight and probe health, the
//! lock holder and the last recorded change — as a comfy-table or one JSON document.

use serde::Serialize;

use crate::engine::rfc3339;
use crate::probe::TargetHealth;
use crate::providers::Snapshot;

/// Everything `status` shows.
#[derive(Debug, Serialize)]
pub struct StatusView {
    /// Rollout name.
    pub rollout: String,
    /// Provider description.
    pub provider: String,
    /// The snapshot.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// Probe results per environment (empty without a `healthCheck`).
    pub health: Vec<(String, Vec<TargetHealth>)>,
    /// Work an earlier run left owed (a retirement after a promotion), which the next
    /// `plan apply` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Kong: the nodes' mode and, DB-less, which node's bgctl entities differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kong: Option<crate::providers::kong::NodeReport>,
    /// Headers of the object, target and weight columns
    /// ([`crate::providers::Provider::status_columns`]).
    #[serde(skip)]
    pub columns: [&'static str; 3],
    /// Kong hybrid mode: the control plane's data planes, one object each (`-o json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_planes: Option<serde_json::Value>,
    /// The same as text lines, printed after the table.
    #[serde(skip)]
    pub data_plane_lines: Vec<String>,
}

impl StatusView {
    /// The `-o json` document: like the serialized view, with objects where the view holds
    /// pairs (`envs[].targets[]` as `{target, weight}`, `health` as `{env, targets}`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let envs: Vec<serde_json::Value> = self
            .snapshot
            .envs
            .iter()
            .map(|(env, state)| {
                serde_json::json!({
                    "env": env,
                    "object": state.object,
                    "exists": state.exists,
                    "targets": state
                        .targets
                        .iter()
                        .map(|(target, weight)| serde_json::json!({"target": target, "weight": weight}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        let health: Vec<serde_json::Value> = self
            .health
            .iter()
            .map(|(env, targets)| serde_json::json!({"env": env, "targets": targets}))
            .collect();
        if let Some(map) = v.as_object_mut() {
            map.insert("envs".into(), envs.into());
            map.insert("health".into(), health.into());
        }
        v
    }

    /// The text rendering.
    pub fn render(&self) -> String {
        let s = &self.snapshot;
        let r = &s.record;
        let mut out = format!(
            "rollout:  {}\nprovider: {}\nlive:     {}\n",
            self.rollout, self.provider, s.traffic
        );
        if let Some(kong) = &self.kong {
            out.push_str(&format!("mode:     {}\n", kong.mode));
            if kong.nodes.len() > 1 || kong.nodes.iter().any(|n| n.differs.is_some()) {
                for n in &kong.nodes {
                    match &n.differs {
                        None => out.push_str(&format!("node:     {} (in step)\n", n.url)),
                        Some(why) => out.push_str(&format!(
                            "node:     {} DIFFERS: {why}; `bgctl plan apply` converges it\n",
                            n.url
                        )),
                    }
                }
            }
        }
        if let Some(routing) = &s.routing {
            out.push_str(&format!("routing:  {routing}\n"));
        }
        out.push_str(&format!("phase:    {}", r.phase.as_str()));
        if let (Some(w), Some(canary)) = (r.weight, &r.canary) {
            out.push_str(&format!(" (canary `{canary}`: {w}% requested)"));
        }
        if let Some(wait) = &r.waiting {
            out.push_str(&format!("; waiting for {wait}"));
        }
        out.push('\n');
        if let Some(p) = &r.previous {
            out.push_str(&format!("previous: {p} (the `bgctl rollback` target)\n"));
        }
        if let Some(p) = &self.pending {
            out.push_str(&format!("pending:  {p}; `bgctl plan apply` finishes it\n"));
        }
        match (&r.action, &r.at, &r.by) {
            (Some(a), Some(at), Some(by)) => {
                out.push_str(&format!("last change: {a} at {at} by {by}\n"));
            }
            _ => out.push_str("last change: none recorded\n"),
        }
        for v in &r.verdicts {
            out.push_str(&format!("analysis: {v}\n"));
        }
        match &s.lock {
            Some(l) => out.push_str(&format!(
                "lock:     held by {} since {} (expires {})\n",
                l.holder,
                rfc3339(l.since),
                rfc3339(l.expires)
            )),
            None => out.push_str("lock:     free\n"),
        }
        for extra in &s.extra {
            out.push_str(&format!("owned:    {extra}\n"));
        }
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_header(vec![
                "ENV",
                self.columns[0],
                self.columns[1],
                self.columns[2],
                "HEALTH",
            ]);
        for (env, state) in &s.envs {
            if !state.exists {
                table.add_row(vec![
                    env.clone(),
                    state.object.clone(),
                    "(missing)".into(),
                    String::new(),
                    String::new(),
                ]);
                continue;
            }
            let health = self.health.iter().find(|h| &h.0 == env).map(|h| &h.1);
            for (target, weight) in &state.targets {
                let h = health
                    .and_then(|hs| hs.iter().find(|t| &t.target == target))
                    .map_or_else(
                        || {
                            if *weight == 0 {
                                "-".to_string()
                            } else {
                                "not probed".to_string()
                            }
                        },
                        |t| {
                            format!(
                                "{} ({})",
                                if t.healthy { "healthy" } else { "unhealthy" },
                                t.detail
                            )
                        },
                    );
                table.add_row(vec![
                    env.clone(),
                    state.object.clone(),
                    target.clone(),
                    weight.to_string(),
                    h,
                ]);
            }
        }
        out.push_str(&table.to_string());
        out.push('\n');
        for line in &self.data_plane_lines {
            out.push_str(&format!("{line}\n"));
        }
        out
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use crate::providers::{EnvState, Record, Traffic};

    /// `status -o json` has objects where the view holds pairs, so consumers index by name.
    #[test]
    fn status_json_has_objects_not_pairs() {
        let view = StatusView {
            rollout: "r".into(),
            provider: "p".into(),
            kong: None,
            snapshot: Snapshot {
                traffic: Traffic::Env { env: "blue".into() },
                record: Record::default(),
                lock: None,
                envs: vec![(
                    "blue".into(),
                    EnvState {
                        object: "up".into(),
                        exists: true,
                        targets: vec![("127.0.0.1:1".into(), 100)],
                    },
                )],
                extra: Vec::new(),
                routing: None,
                live: crate::providers::Live::default(),
            },
            health: vec![(
                "blue".into(),
                vec![TargetHealth {
                    target: "127.0.0.1:1".into(),
                    healthy: true,
                    detail: "HTTP 200".into(),
                }],
            )],
            pending: None,
            columns: ["A", "B", "C"],
            data_planes: None,
            data_plane_lines: Vec::new(),
        };
        let v = view.to_json();
        assert_eq!(v["envs"][0]["env"], "blue");
        assert_eq!(v["envs"][0]["targets"][0]["weight"], 100);
        assert_eq!(v["health"][0]["targets"][0]["healthy"], true);
        assert_eq!(v["traffic"]["env"], "blue");
    }
}
