//! `bgctl fleet status`: one row per member — wave, phase, live side, last change, lock — read
//! from each member's target (8 at a time), as a table or one JSON document.

use futures::StreamExt as _;
use serde::Serialize;

use super::member::Ctx;
use crate::engine::rfc3339;
use crate::providers::Provider;

/// One member's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Member.
    pub member: String,
    /// 1-based wave.
    pub wave: usize,
    /// Recorded phase (`unreachable` when the target could not be read).
    pub phase: String,
    /// Where traffic goes.
    pub live: String,
    /// `action at by`, or none.
    pub last_change: Option<String>,
    /// The lock holder and expiry, or none.
    pub lock: Option<String>,
    /// Why the target could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads every member's state.
pub async fn rows(ctx: &Ctx<'_>) -> Vec<Row> {
    let mut rows: Vec<Row> = futures::stream::iter(0..ctx.fleet.members.len())
        .map(|i| row(ctx, i))
        .buffer_unordered(8)
        .collect()
        .await;
    let order = |r: &Row| {
        ctx.fleet
            .members
            .iter()
            .position(|m| m.name == r.member)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(order);
    rows
}

async fn row(ctx: &Ctx<'_>, i: usize) -> Row {
    let m = &ctx.fleet.members[i];
    let mut row = Row {
        member: m.name.clone(),
        wave: m.wave + 1,
        phase: "unreachable".into(),
        live: "-".into(),
        last_change: None,
        lock: None,
        error: None,
    };
    let deadline = crate::deadline::Deadline::after(ctx.timeout);
    let provider = match crate::cli::provider(&ctx.plans[i], &deadline) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(e.headline);
            return row;
        }
    };
    match provider.snapshot().await {
        Ok(snap) => {
            let r = &snap.record;
            row.phase = r.phase.as_str().to_string();
            row.live = snap.traffic.to_string();
            row.last_change = match (&r.action, &r.at, &r.by) {
                (Some(a), Some(at), Some(by)) => Some(format!("{a} at {at} by {by}")),
                _ => None,
            };
            row.lock = snap
                .lock
                .map(|l| format!("{} (expires {})", l.holder, rfc3339(l.expires)));
        }
        Err(e) => row.error = Some(crate::error::chain(&e).join(": ")),
    }
    row
}

/// The table.
pub fn table(rows: &[Row]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec![
            "MEMBER",
            "WAVE",
            "PHASE",
            "LIVE",
            "LAST CHANGE",
            "LOCK",
        ]);
    for r in rows {
        t.add_row(vec![
            r.member.clone(),
            r.wave.to_string(),
            match &r.error {
                Some(e) => format!("{}: {e}", r.phase),
                None => r.phase.clone(),
            },
            r.live.clone(),
            r.last_change
                .clone()
                .unwrap_or_else(|| "none recorded".into()),
            r.lock.clone().unwrap_or_else(|| "free".into()),
        ]);
    }
    format!("{t}\n")
}
