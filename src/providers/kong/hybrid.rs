//! Kong hybrid mode: bgctl writes to the control plane, and a write counts only once every
//! connected data plane reports the control plane's new configuration (issue 15 §3).
//!
//! A hybrid control plane (`configuration.role == "control_plane"`, [`super::mode`]) answers
//! entity writes like a traditional node, then pushes its configuration to its data planes,
//! which keep proxying the last configuration they received. `GET /clustering/data-planes`
//! lists each data plane's `config_hash`, `last_seen` (its last heartbeat, unix seconds on the
//! control plane's clock) and `sync_status`. OSS Kong has no "expected hash" of the control
//! plane (Konnect has one), so bgctl tells the new configuration from an old one itself:
//!
//! * **Before** the first write of a batch (a traffic write, or the setup writes before it)
//!   bgctl reads the list once (and the control plane's clock, from its `Date` header). When
//!   the live data planes disagree then (an earlier write still on its way), it waits up to
//!   [`PRE_WAIT`] for them to agree first, so that "before" is one configuration, not a mix.
//! * **Which data planes count:** those whose `last_seen` is at most [`LIVE_WINDOW_SECS`]
//!   (three of Kong's 30 s heartbeats) old, before the write or while bgctl waits. A data plane
//!   that was live before the write and then stops reporting keeps counting: it is named, and
//!   the step fails rather than losing sight of it. Entries older than that (Kong lists a data
//!   plane for days after it is gone) are ignored and reported as a warning.
//! * **Done** when every data plane that counts reports `sync_status` `normal` and the same
//!   `config_hash`, that hash is none of the hashes they reported before the write, and two
//!   reads in a row (one poll apart) say so (a configuration pushed between two writes of one
//!   step shows up only briefly). With no data plane connected there is nothing to wait for:
//!   a warning says so, and the write counts as done (nothing serves the old configuration).
//! * **Bounded:** the engine passes the step's verification deadline; when it runs out, the
//!   error names each data plane that lags, what it reports and since when, and the engine
//!   treats it as a failed verification (roll back, or exit 4 when the rollback itself cannot
//!   be confirmed everywhere).
//!
//! Known limits, written down: a write that changes nothing in the exported configuration
//! cannot be told from a lagging data plane (bgctl's traffic writes always change the record
//! tags they carry); clocks are compared on the control plane's clock, read once per batch.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::time::Instant;

use super::mode::KongMode;
use super::Kong;
use crate::providers::{ProviderError, Settled};

/// A data plane counts while its last heartbeat is at most this old (Kong heartbeats every
/// 30 s: `kong/constants.lua` `CLUSTERING_PING_INTERVAL`; three missed ones).
pub const LIVE_WINDOW_SECS: u64 = 90;
/// Pause between two reads of the data-plane list.
const POLL: Duration = Duration::from_millis(250);
/// At most this long before a write, waiting for the live data planes to agree.
pub const PRE_WAIT: Duration = Duration::from_secs(3);
const LIST: &str = "/clustering/data-planes";

/// One data plane as the control plane reports it (untrusted input, made printable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPlane {
    /// Its id.
    pub id: String,
    /// Its hostname (or `?`).
    pub hostname: String,
    /// The hash of the configuration it last reported.
    pub config_hash: String,
    /// Its last heartbeat, unix seconds (control plane's clock).
    pub last_seen: u64,
    /// `normal`, `unknown`, or an incompatibility.
    pub sync_status: String,
}

impl DataPlane {
    /// `` `kong-dp-1` (id 0f3c…) `` for messages.
    pub fn name(&self) -> String {
        let short: String = self.id.chars().take(8).collect();
        format!("`{}` (id {short})", self.hostname)
    }

    fn short_hash(&self) -> String {
        self.config_hash.chars().take(12).collect()
    }
}

/// The data planes listed in `items`; entries without an id are skipped.
pub fn parse(items: &[Value]) -> Vec<DataPlane> {
    let text = |v: &Value, key: &str, max: usize| {
        v.get(key)
            .and_then(Value::as_str)
            .map(|s| crate::redact::server_text(s, max))
    };
    items
        .iter()
        .filter_map(|v| {
            Some(DataPlane {
                id: text(v, "id", 64).filter(|s| !s.is_empty())?,
                hostname: text(v, "hostname", 80).unwrap_or_else(|| "?".into()),
                config_hash: text(v, "config_hash", 64).unwrap_or_default(),
                last_seen: v
                    .get("last_seen")
                    .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)))
                    .unwrap_or(0),
                sync_status: text(v, "sync_status", 64).unwrap_or_else(|| "unknown".into()),
            })
        })
        .collect()
}

/// What the data planes reported before the first write not yet confirmed.
#[derive(Debug, Clone)]
pub struct Before {
    /// Control-plane time of that read, unix seconds.
    pub at: u64,
    /// Control-plane clock minus this machine's, seconds.
    pub skew: i64,
    /// The list then.
    pub planes: Vec<DataPlane>,
}

impl Before {
    /// Now on the control plane's clock.
    fn now(&self) -> u64 {
        now_secs().saturating_add_signed(self.skew)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn live(dp: &DataPlane, now: u64) -> bool {
    now.saturating_sub(dp.last_seen) <= LIVE_WINDOW_SECS
}

fn when(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// One read judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Every data plane that counts has `hash`.
    Done {
        /// The configuration they agree on.
        hash: String,
        /// Their names.
        counted: Vec<String>,
        /// Entries not counted, with why.
        ignored: Vec<String>,
    },
    /// Some lag: one sentence each.
    Waiting(Vec<String>),
}

/// Judges the list `now` (read at `now_at`, control-plane seconds) against `before`.
pub fn judge(before: &Before, now: &[DataPlane], now_at: u64) -> Judged {
    let counted: BTreeSet<&str> = before
        .planes
        .iter()
        .filter(|d| live(d, before.at))
        .chain(now.iter().filter(|d| live(d, now_at)))
        .map(|d| d.id.as_str())
        .collect();
    let old: BTreeSet<&str> = before
        .planes
        .iter()
        .filter(|d| counted.contains(d.id.as_str()))
        .map(|d| d.config_hash.as_str())
        .collect();
    let ignored: Vec<String> = now
        .iter()
        .filter(|d| !counted.contains(d.id.as_str()))
        .map(|d| {
            format!(
                "data plane {} is not counted: last seen {} ({} s before the write), more than {LIVE_WINDOW_SECS} s",
                d.name(),
                when(d.last_seen),
                before.at.saturating_sub(d.last_seen)
            )
        })
        .collect();
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for d in now.iter().filter(|d| counted.contains(d.id.as_str())) {
        if d.sync_status == "normal" && !old.contains(d.config_hash.as_str()) {
            *votes.entry(d.config_hash.as_str()).or_default() += 1;
        }
    }
    let target = votes
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(h, _)| (*h).to_string());
    let mut lagging = Vec::new();
    let mut names = Vec::new();
    for id in &counted {
        let Some(d) = now.iter().find(|d| d.id == *id) else {
            let name = before
                .planes
                .iter()
                .find(|d| d.id == *id)
                .map_or_else(|| format!("`{id}`"), DataPlane::name);
            lagging.push(format!(
                "data plane {name} is no longer listed by the control plane"
            ));
            continue;
        };
        names.push(d.name());
        if d.sync_status != "normal" {
            lagging.push(format!(
                "data plane {} reports sync_status `{}` (hash {})",
                d.name(),
                d.sync_status,
                d.short_hash()
            ));
            continue;
        }
        if target.as_deref() == Some(d.config_hash.as_str()) {
            continue;
        }
        let what = if old.contains(d.config_hash.as_str()) {
            format!(
                "still reports the configuration it had before the write (hash {})",
                d.short_hash()
            )
        } else {
            format!(
                "reports hash {} while the others report {}",
                d.short_hash(),
                target
                    .as_deref()
                    .unwrap_or("?")
                    .chars()
                    .take(12)
                    .collect::<String>()
            )
        };
        let seen = now_at.saturating_sub(d.last_seen);
        let since = if !live(d, now_at) {
            format!(
                "stopped reporting: last seen {} ({seen} s ago)",
                when(d.last_seen)
            )
        } else if d.last_seen < before.at {
            format!(
                "last seen {} ({seen} s ago), no report since the write at {}",
                when(d.last_seen),
                when(before.at)
            )
        } else {
            format!("last seen {} ({seen} s ago)", when(d.last_seen))
        };
        lagging.push(format!("data plane {} {what}; {since}", d.name()));
    }
    match target {
        Some(hash) if lagging.is_empty() => Judged::Done {
            hash,
            counted: names,
            ignored,
        },
        None if counted.is_empty() => Judged::Done {
            hash: String::new(),
            counted: names,
            ignored,
        },
        _ => Judged::Waiting(lagging),
    }
}

impl Kong {
    async fn data_planes(&self) -> Result<Vec<DataPlane>, ProviderError> {
        Ok(parse(&self.client.list(LIST).await?))
    }

    async fn is_control_plane(&self) -> Result<bool, ProviderError> {
        Ok(self.mode().await? == KongMode::ControlPlane)
    }

    /// Before a write: on a control plane, note what the data planes report (once per batch
    /// of writes not yet confirmed; see the module docs). A data plane is read-only: refused
    /// before any write, naming where to write instead.
    pub(super) async fn hybrid_before_write(&self) -> Result<(), ProviderError> {
        if self.hybrid.lock().expect("hybrid").is_some() {
            return Ok(());
        }
        // `mode()` is the one reading of every node's mode (it already refused a data plane
        // named in the plan; this arm stays for a node whose answer changes).
        match self.mode().await? {
            KongMode::ControlPlane => {}
            KongMode::DataPlane => {
                return Err(ProviderError::State(format!(
                    "{} is a Kong hybrid data plane, which is read-only: set `provider.kong.adminUrl` to its control plane's Admin API",
                    self.client.base()
                )))
            }
            KongMode::Traditional | KongMode::DbLess => return Ok(()),
        }
        let local = now_secs();
        let at = self.client.server_time().await?.unwrap_or(local);
        let skew = i64::try_from(at).unwrap_or(0) - i64::try_from(local).unwrap_or(0);
        let started = Instant::now();
        let mut planes = self.data_planes().await?;
        loop {
            let hashes: BTreeSet<&str> = planes
                .iter()
                .filter(|d| live(d, at))
                .map(|d| d.config_hash.as_str())
                .collect();
            if hashes.len() <= 1 || started.elapsed() + POLL > PRE_WAIT {
                break;
            }
            tokio::time::sleep(POLL).await;
            planes = self.data_planes().await?;
        }
        *self.hybrid.lock().expect("hybrid") = Some(Before { at, skew, planes });
        Ok(())
    }

    /// After writes: waits until every data plane that counts reports the configuration they
    /// made, or `deadline` (see the module docs).
    pub(super) async fn hybrid_settled(&self, deadline: Instant) -> Result<Settled, String> {
        let Some(before) = self.hybrid.lock().expect("hybrid").take() else {
            return Ok(Settled::default());
        };
        let mut agreed: Option<String> = None;
        loop {
            let judged = match self.data_planes().await {
                Ok(now) => judge(&before, &now, before.now()),
                Err(e) => Judged::Waiting(vec![format!(
                    "reading `{LIST}` from the control plane failed: {e}"
                )]),
            };
            let lagging = match judged {
                Judged::Done {
                    hash,
                    counted,
                    ignored,
                } => {
                    if counted.is_empty() {
                        let mut warnings = ignored;
                        warnings.push(
                            "the control plane lists no connected data plane: nothing serves its configuration yet".into(),
                        );
                        return Ok(Settled {
                            verified: Vec::new(),
                            warnings,
                        });
                    }
                    if agreed.as_deref() == Some(hash.as_str()) {
                        return Ok(Settled {
                            verified: vec![format!(
                                "{} data plane(s) applied the control plane's configuration (hash {}): {}",
                                counted.len(),
                                hash.chars().take(12).collect::<String>(),
                                counted.join(", ")
                            )],
                            warnings: ignored,
                        });
                    }
                    agreed = Some(hash);
                    Vec::new()
                }
                Judged::Waiting(lagging) => {
                    agreed = None;
                    lagging
                }
            };
            if Instant::now() + POLL > deadline {
                let waited = humantime::format_duration(Duration::from_secs(
                    before.now().saturating_sub(before.at),
                ));
                return Err(format!(
                    "not every data plane applied the control plane's configuration within {waited} of the write at {}: {}",
                    when(before.at),
                    if lagging.is_empty() {
                        "their reports did not hold still".to_string()
                    } else {
                        lagging.join("; ")
                    }
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// `bgctl status` on a control plane: one line per data plane (name, its hash and whether it
/// is the one most data planes report, when it was last seen) and the same as JSON; `None` on
/// other nodes. Read errors are a line too: status shows what it can.
pub async fn status_lines(kong: &Kong) -> Option<(Vec<String>, Value)> {
    if !kong.is_control_plane().await.ok()? {
        return None;
    }
    let planes = match kong.data_planes().await {
        Ok(planes) => planes,
        Err(e) => {
            let line = format!("cannot read `{LIST}`: {e}");
            return Some((vec![line.clone()], serde_json::json!({ "error": line })));
        }
    };
    let local = now_secs();
    let now = kong
        .client
        .server_time()
        .await
        .ok()
        .flatten()
        .unwrap_or(local);
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for d in planes.iter().filter(|d| live(d, now)) {
        *votes.entry(d.config_hash.as_str()).or_default() += 1;
    }
    let common = votes.iter().max_by_key(|(_, n)| **n).map(|(h, _)| *h);
    let mut lines = vec![format!(
        "data planes (hybrid control plane; counted while seen within {LIVE_WINDOW_SECS} s):"
    )];
    if planes.is_empty() {
        lines.push("  none connected".into());
    }
    let mut json = Vec::new();
    for d in &planes {
        json.push(serde_json::json!({
            "id": d.id,
            "hostname": d.hostname,
            "config_hash": d.config_hash,
            "sync_status": d.sync_status,
            "last_seen": d.last_seen,
            "counted": live(d, now),
            "same_as_others": live(d, now) && Some(d.config_hash.as_str()) == common,
        }));
        let hash = if !live(d, now) {
            "not counted".to_string()
        } else if Some(d.config_hash.as_str()) == common {
            "same as the others".to_string()
        } else {
            "DIFFERS from the others".to_string()
        };
        lines.push(format!(
            "  {}  hash {} ({hash}), sync {}, last seen {} s ago",
            d.name(),
            d.short_hash(),
            d.sync_status,
            now.saturating_sub(d.last_seen)
        ));
    }
    Some((lines, Value::Array(json)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dp(id: &str, hash: &str, last_seen: u64) -> DataPlane {
        DataPlane {
            id: id.into(),
            hostname: format!("host-{id}"),
            config_hash: hash.into(),
            last_seen,
            sync_status: "normal".into(),
        }
    }

    fn before(planes: Vec<DataPlane>) -> Before {
        Before {
            at: 1000,
            skew: 0,
            planes,
        }
    }

    #[test]
    fn parses_kong_entries_and_skips_ones_without_an_id() {
        let items = [
            json!({"id": "a1", "hostname": "dp\u{1b}[2J-1", "config_hash": "ab", "last_seen": 5, "sync_status": "normal"}),
            json!({"hostname": "no id"}),
            json!({"id": "b2", "last_seen": 7.9}),
        ];
        let got = parse(&items);
        assert_eq!(got.len(), 2);
        assert!(!got[0].hostname.contains('\u{1b}'), "{:?}", got[0]);
        assert_eq!(got[1].last_seen, 7);
        assert_eq!(got[1].sync_status, "unknown");
        assert_eq!(got[1].hostname, "?");
    }

    #[test]
    fn done_only_when_every_live_data_plane_reports_one_new_hash() {
        let b = before(vec![dp("1", "old", 995), dp("2", "old", 990)]);
        let half = judge(&b, &[dp("1", "new", 1001), dp("2", "old", 990)], 1001);
        let Judged::Waiting(lag) = half else {
            panic!("{half:?}")
        };
        assert_eq!(lag.len(), 1);
        assert!(
            lag[0].contains("`host-2`") && lag[0].contains("before the write"),
            "{lag:?}"
        );
        assert!(lag[0].contains("no report since the write"), "{lag:?}");
        let all = judge(&b, &[dp("1", "new", 1001), dp("2", "new", 1002)], 1002);
        assert!(
            matches!(&all, Judged::Done { hash, .. } if hash == "new"),
            "{all:?}"
        );
        // Agreeing on the old configuration is not done.
        let same = judge(&b, &[dp("1", "old", 1001), dp("2", "old", 1002)], 1002);
        assert!(matches!(same, Judged::Waiting(_)), "{same:?}");
    }

    #[test]
    fn a_data_plane_that_stops_reporting_keeps_counting_and_is_named() {
        let b = before(vec![dp("1", "old", 999), dp("3", "old", 998)]);
        // 100 s later data plane 3 is silent (outside the live window) with the old hash.
        let j = judge(&b, &[dp("1", "new", 1100), dp("3", "old", 998)], 1100);
        let Judged::Waiting(lag) = j else {
            panic!("{j:?}")
        };
        assert!(
            lag[0].contains("`host-3`") && lag[0].contains("stopped reporting"),
            "{lag:?}"
        );
        // Missing from the list altogether.
        let j = judge(&b, &[dp("1", "new", 1100)], 1100);
        assert!(
            matches!(&j, Judged::Waiting(l) if l[0].contains("no longer listed")),
            "{j:?}"
        );
    }

    #[test]
    fn long_gone_data_planes_are_ignored_and_said_so() {
        let b = before(vec![dp("1", "old", 999), dp("9", "ancient", 10)]);
        let j = judge(&b, &[dp("1", "new", 1001), dp("9", "ancient", 10)], 1001);
        let Judged::Done {
            ignored, counted, ..
        } = j
        else {
            panic!("{j:?}")
        };
        assert_eq!(counted.len(), 1);
        assert!(
            ignored[0].contains("`host-9`") && ignored[0].contains("not counted"),
            "{ignored:?}"
        );
    }

    #[test]
    fn an_incompatible_data_plane_is_not_done() {
        let b = before(vec![dp("1", "old", 999)]);
        let mut bad = dp("1", "new", 1001);
        bad.sync_status = "plugin_set_incompatible".into();
        let j = judge(&b, &[bad], 1001);
        assert!(
            matches!(&j, Judged::Waiting(l) if l[0].contains("plugin_set_incompatible")),
            "{j:?}"
        );
    }

    #[test]
    fn with_no_connected_data_plane_there_is_nothing_to_wait_for() {
        let b = before(Vec::new());
        assert!(matches!(judge(&b, &[], 1000), Judged::Done { counted, .. } if counted.is_empty()));
    }
}
