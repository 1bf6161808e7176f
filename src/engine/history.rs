//! What every record write carries forward (issue 17 items 3 and 4): the rollout's history and
//! the values `bgctl release --set` gave its environments.
//!
//! Both live in the rollout record ([`Record::history`], [`Record::vars`]), so they are stored
//! wherever the record is (Kong service tags, a Kubernetes annotation, the HAProxy variable,
//! the Traefik state file), every runner sees the same ones, and they are written in the same
//! write as the traffic change: keeping history adds no write and no failure point of its own.
//!
//! The engine builds each record fresh; [`Engine::stamp`] fills both fields just before the
//! provider writes it, from the record this run last read from the target ([`Engine::snapshot`]
//! remembers it; under the lock nobody else writes, and every run reads the state again under
//! the lock before its first write).
//!
//! * **History** is a ring of the last [`HISTORY_LEN`] runs that changed the rollout, one entry
//!   per run, updated by each of that run's record writes (keyed by its run id): when it
//!   started, who ran it (CI user and job link, see [`Actor`]), the command, where traffic was
//!   (`from`) and where the run sent it (`to`), the last recorded phase, a detail (why it was
//!   rolled back, what it waits for) and how long it took. A run killed half-way stays as its
//!   last write left it (`progressing`, `verifying`). A run that changed nothing (up to date,
//!   or refused before its first write) leaves no entry. Entries are compact
//!   `1;run;start;secs;command;from;to;phase;who;link;detail` strings with `%`, `;`, `,`, `/` and
//!   control characters percent-escaped (Kong tags may hold neither `,` nor `/`; annotation
//!   lists are one item a line), and the ring is also bounded to [`HISTORY_BYTES`] so it fits
//!   an HAProxy runtime-API command line.
//! * **Vars** are `KEY=VALUE` (value escaped the same way): the `--set` values of earlier
//!   releases that shaped an environment, so the live side keeps the values it was released
//!   with (see `cli/release.rs`).

use std::sync::Mutex;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use schemars::JsonSchema;
use serde::Serialize;

use super::{now_secs, Engine};
use crate::notify::On;
use crate::providers::{Phase, Provider, ProviderError, Record, Snapshot, Traffic};

/// Runs kept in the history ring.
pub const HISTORY_LEN: usize = 20;

/// Most bytes the encoded ring may take (oldest entries go first).
pub const HISTORY_BYTES: usize = 4096;

/// Longest stored free text (`who`, `detail`), in characters; `link` gets twice that.
const TEXT_MAX: usize = 120;

/// Escaped in stored values: not allowed in Kong tags (`,` `/`), the field separator, the
/// escape itself, `=` (vars' separator) and control characters (annotation lines).
const ESCAPE: &AsciiSet = &CONTROLS.add(b'%').add(b';').add(b',').add(b'/').add(b'=');

fn escape(s: &str) -> String {
    utf8_percent_encode(s, ESCAPE).to_string()
}

fn unescape(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Who runs bgctl, for history and notifications: a CI system's user and a link to the job
/// when the variables are there, else `user@host`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Actor {
    /// The CI user (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`, …) or `user@host`.
    pub who: String,
    /// The CI job or run, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Actor {
    /// From the process environment.
    pub fn detect() -> Actor {
        Actor::from_env(
            &|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()),
            super::whoami,
        )
    }

    /// From variables `get` returns (empty ones count as unset), in this order: `BGCTL_ACTOR`
    /// and `BGCTL_LINK` (set by hand or by a CI not listed); GitHub Actions (`GITHUB_ACTOR`,
    /// the run's URL from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`); GitLab
    /// (`GITLAB_USER_LOGIN`, `CI_JOB_URL`); Jenkins (`BUILD_USER_ID`, `BUILD_URL`); Buildkite
    /// (`BUILDKITE_BUILD_CREATOR`, `BUILDKITE_BUILD_URL`); CircleCI (`CIRCLE_USERNAME`,
    /// `CIRCLE_BUILD_URL`); Azure Pipelines (`BUILD_REQUESTEDFOR`). A CI link without a user
    /// keeps `fallback()` (`user@host`) as who.
    pub fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        fallback: impl FnOnce() -> String,
    ) -> Actor {
        let github_link = || {
            let server = get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
            Some(format!(
                "{}/{}/actions/runs/{}",
                server.trim_end_matches('/'),
                get("GITHUB_REPOSITORY")?,
                get("GITHUB_RUN_ID")?
            ))
        };
        let found: [(Option<String>, Option<String>); 7] = [
            (get("BGCTL_ACTOR"), get("BGCTL_LINK")),
            (get("GITHUB_ACTOR"), github_link()),
            (get("GITLAB_USER_LOGIN"), get("CI_JOB_URL")),
            (get("BUILD_USER_ID"), get("BUILD_URL")),
            (get("BUILDKITE_BUILD_CREATOR"), get("BUILDKITE_BUILD_URL")),
            (get("CIRCLE_USERNAME"), get("CIRCLE_BUILD_URL")),
            (get("BUILD_REQUESTEDFOR"), None),
        ];
        for (who, link) in &found {
            if let Some(who) = who {
                return Actor {
                    who: who.clone(),
                    link: link.clone(),
                };
            }
        }
        Actor {
            who: fallback(),
            link: found.into_iter().find_map(|(_, link)| link),
        }
    }
}

/// One run in the history ring.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Entry {
    /// The run's id (as in its lock).
    pub run: String,
    /// When it started (unix seconds).
    pub started: u64,
    /// How long it ran until its last record write, in seconds.
    pub secs: u64,
    /// The command (`apply`, `release`, `switch`, `promote`, `rollback`, `abort`, …).
    pub command: String,
    /// Where traffic went when the run started (`blue`, `blue+green 10%`, `-` for nothing).
    pub from: String,
    /// Where the run sent traffic (the side it released, or the one it went back to).
    pub to: String,
    /// The phase the run last recorded.
    pub phase: Phase,
    /// Who ran it.
    pub who: String,
    /// The CI job, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Why it was rolled back or failed, what it waits for when paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Entry {
    /// The stored form (see the module docs).
    pub fn encode(&self) -> String {
        [
            "1".to_string(),
            escape(&self.run),
            self.started.to_string(),
            self.secs.to_string(),
            escape(&self.command),
            escape(&self.from),
            escape(&self.to),
            self.phase.as_str().to_string(),
            escape(&clip(&self.who, TEXT_MAX)),
            self.link
                .as_deref()
                .map(|l| escape(&clip(l, 2 * TEXT_MAX)))
                .unwrap_or_default(),
            self.detail
                .as_deref()
                .map(|d| escape(&clip(d, TEXT_MAX)))
                .unwrap_or_default(),
        ]
        .join(";")
    }

    /// Reads the stored form; `None` for anything else (a hand-edited or future entry).
    pub fn decode(s: &str) -> Option<Entry> {
        let f: Vec<&str> = s.split(';').collect();
        let [v, run, started, secs, command, from, to, phase, who, link, detail] = f.as_slice()
        else {
            return None;
        };
        if *v != "1" {
            return None;
        }
        let opt = |s: &str| (!s.is_empty()).then(|| unescape(s));
        Some(Entry {
            run: unescape(run),
            started: started.parse().ok()?,
            secs: secs.parse().ok()?,
            command: unescape(command),
            from: unescape(from),
            to: unescape(to),
            phase: Phase::parse(phase),
            who: unescape(who),
            link: opt(link),
            detail: opt(detail),
        })
    }
}

/// The entries of a stored ring, oldest first (unreadable ones left out).
pub fn entries(history: &[String]) -> Vec<Entry> {
    let mut out: Vec<Entry> = history.iter().filter_map(|s| Entry::decode(s)).collect();
    out.sort_by_key(|e| e.started);
    out
}

/// `history` with `entry` in place of its run's earlier entry (or added), bounded to the last
/// [`HISTORY_LEN`] runs and [`HISTORY_BYTES`].
pub fn upsert(history: &[String], entry: &Entry) -> Vec<String> {
    let mut all = entries(history);
    all.retain(|e| e.run != entry.run);
    all.push(entry.clone());
    all.sort_by_key(|e| e.started);
    let mut out: Vec<String> = all.iter().map(Entry::encode).collect();
    let excess = out.len().saturating_sub(HISTORY_LEN);
    out.drain(..excess);
    while out.len() > 1 && out.iter().map(String::len).sum::<usize>() > HISTORY_BYTES {
        out.remove(0);
    }
    out
}

/// A stored `KEY=VALUE` var.
pub fn encode_var(key: &str, value: &str) -> String {
    format!("{key}={}", escape(value))
}

/// The stored vars as `(key, value)`.
pub fn decode_vars(vars: &[String]) -> Vec<(String, String)> {
    vars.iter()
        .filter_map(|v| v.split_once('='))
        .map(|(k, v)| (k.to_string(), unescape(v)))
        .collect()
}

/// `recorded` with `add` on top (a key in both takes `add`'s value), sorted by key.
pub fn merge_vars(recorded: &[String], add: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in recorded.iter().chain(add) {
        let key = v.split_once('=').map_or(v.as_str(), |(k, _)| k);
        out.retain(|o| o.split_once('=').map_or(o.as_str(), |(k, _)| k) != key);
        out.push(v.clone());
    }
    out.sort();
    out
}

/// Where traffic goes, compactly, for history: `blue`, `blue+green 10%`, `-` when nothing.
pub fn compact(t: &Traffic) -> String {
    match t {
        Traffic::Missing => "-".into(),
        Traffic::Env { env } => env.clone(),
        Traffic::Split {
            stable,
            canary,
            percent,
        } => format!("{stable}+{canary} {}%", (percent * 10.0).round() / 10.0),
        Traffic::Foreign { target } => format!("foreign {target}"),
    }
}

/// What this run carries into the records it writes.
#[derive(Debug)]
pub(crate) struct Carried(Mutex<Box<State>>);

#[derive(Debug)]
struct State {
    /// When the run started (unix seconds).
    started: u64,
    /// The record this run last read from the target.
    seen: Option<Record>,
    /// Where traffic went at the run's first read.
    from: Option<String>,
    /// This run's history entry, once it wrote a record.
    entry: Option<Entry>,
    /// Why the run is rolling back (or failed).
    why: Option<String>,
    /// Notifications: whether `started`/`promoted` was sent, and the last phase notified.
    started_sent: bool,
    last_notified: Option<Phase>,
}

impl Default for Carried {
    fn default() -> Self {
        // Boxed: the engine lives in the commands' futures (clippy `large_futures`).
        Carried(Mutex::new(Box::new(State {
            started: now_secs(),
            seen: None,
            from: None,
            entry: None,
            why: None,
            started_sent: false,
            last_notified: None,
        })))
    }
}

impl Carried {
    fn state(&self) -> std::sync::MutexGuard<'_, Box<State>> {
        self.0.lock().expect("carried lock")
    }

    /// This run's history entry as last written (`None` before its first write).
    pub(crate) fn entry(&self) -> Option<Entry> {
        self.state().entry.clone()
    }

    /// The transition a record write of `phase` makes, for notifications (`None`: nothing
    /// new). A run's first working write is `started` (`promoted` for `promote`); each change
    /// into a resting phase is one transition; repeats of a phase are none.
    pub(crate) fn transition(&self, phase: Phase, promote: bool) -> Option<On> {
        let mut st = self.state();
        let last = st.last_notified.replace(phase);
        let first = !std::mem::replace(&mut st.started_sent, true);
        match phase {
            Phase::Progressing | Phase::Verifying if first => {
                Some(if promote { On::Promoted } else { On::Started })
            }
            Phase::Progressing | Phase::Verifying | Phase::Idle => None,
            _ if last == Some(phase) => None,
            Phase::Paused => Some(On::Paused),
            Phase::Completed => Some(On::Completed),
            Phase::Aborted => Some(On::Aborted),
            Phase::RolledBack => Some(On::RolledBack),
            Phase::Failed => Some(On::Failed),
        }
    }
}

impl<P: Provider> Engine<'_, P> {
    /// Reads the live state, remembering its record so the next write carries its history.
    pub(crate) async fn snapshot(&self) -> Result<Snapshot, ProviderError> {
        let snap = self.provider.snapshot().await?;
        let mut st = self.carried.state();
        st.seen = Some(snap.record.clone());
        if st.from.is_none() {
            st.from = Some(compact(&snap.traffic));
        }
        Ok(snap)
    }

    /// Why this run is rolling back or failed (the history entry's detail).
    pub(crate) fn note_why(&self, why: &str) {
        self.carried.state().why = Some(why.to_string());
    }

    /// `record` as it is written: with the history ring (this run's entry updated) and the
    /// vars of the record it replaces. `to` is where a traffic write sends traffic.
    pub(crate) fn stamp(&self, record: &Record, to: Option<&Traffic>) -> Record {
        let mut st = self.carried.state();
        let seen = st.seen.clone().unwrap_or_default();
        let mut r = record.clone();
        r.vars = merge_vars(&seen.vars, &self.opts.vars);
        let dest = match to {
            Some(Traffic::Env { env }) => Some(env.clone()),
            Some(Traffic::Split { canary, .. }) => Some(canary.clone()),
            _ => record.canary.clone(),
        };
        let now = now_secs();
        let started = st.started;
        let from = st.from.clone().unwrap_or_else(|| "-".into());
        let why = st.why.clone();
        let entry = st.entry.get_or_insert_with(|| Entry {
            run: self.run_id.clone(),
            started,
            secs: 0,
            command: if self.opts.command.is_empty() {
                record.action.clone().unwrap_or_default()
            } else {
                self.opts.command.clone()
            },
            from,
            to: String::new(),
            phase: record.phase,
            who: self.opts.actor.who.clone(),
            link: self.opts.actor.link.clone(),
            detail: None,
        });
        if entry.to.is_empty() {
            entry.to = dest.unwrap_or_default();
        }
        entry.phase = r.phase;
        entry.secs = now.saturating_sub(started);
        entry.detail = match r.phase {
            Phase::Paused => r.waiting.clone(),
            Phase::RolledBack | Phase::Failed => why,
            _ => None,
        };
        r.history = upsert(&seen.history, entry);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, started: u64) -> Entry {
        Entry {
            run: run.into(),
            started,
            secs: 12,
            command: "release".into(),
            from: "blue+green 10%".into(),
            to: "green".into(),
            phase: Phase::RolledBack,
            who: "octo;cat, the/first".into(),
            link: Some("https://github.com/o/r/actions/runs/1".into()),
            detail: Some("errors FAIL 12% > 5%\nsecond line".into()),
        }
    }

    #[test]
    fn an_entry_round_trips_and_is_a_valid_kong_tag_and_annotation_line() {
        let e = entry("abc", 100);
        let s = e.encode();
        assert!(
            !s.contains(',') && !s.contains('/') && !s.contains('\n'),
            "{s}"
        );
        assert_eq!(Entry::decode(&s), Some(e));
        assert_eq!(Entry::decode("2;a;b"), None);
        assert_eq!(Entry::decode("garbage"), None);
    }

    #[test]
    fn the_ring_keeps_one_entry_per_run_newest_last_and_is_bounded() {
        let mut ring = Vec::new();
        for i in 0..30 {
            ring = upsert(&ring, &entry(&format!("r{i}"), 1000 + i));
        }
        assert_eq!(ring.len(), HISTORY_LEN);
        let runs: Vec<String> = entries(&ring).into_iter().map(|e| e.run).collect();
        assert_eq!(runs.first().map(String::as_str), Some("r10"));
        assert_eq!(runs.last().map(String::as_str), Some("r29"));
        // The same run again replaces its entry.
        let mut again = entry("r29", 1029);
        again.phase = Phase::Completed;
        let ring = upsert(&ring, &again);
        assert_eq!(ring.len(), HISTORY_LEN);
        assert_eq!(entries(&ring).last().unwrap().phase, Phase::Completed);
        // Long free text is clipped, and the byte budget holds.
        let mut big = entry("big", 5000);
        big.detail = Some("x".repeat(5000));
        let ring = upsert(&ring, &big);
        assert!(ring.iter().map(String::len).sum::<usize>() <= HISTORY_BYTES);
        assert!(
            entries(&ring)
                .last()
                .unwrap()
                .detail
                .as_ref()
                .unwrap()
                .chars()
                .count()
                <= TEXT_MAX
        );
    }

    #[test]
    fn each_phase_change_is_one_transition_and_the_first_working_write_is_started() {
        let c = Carried::default();
        let seq = [
            Phase::Progressing,
            Phase::Progressing,
            Phase::Paused,
            Phase::Paused,
            Phase::Progressing,
            Phase::Verifying,
            Phase::Completed,
            Phase::Completed,
        ];
        let got: Vec<Option<On>> = seq.iter().map(|p| c.transition(*p, false)).collect();
        assert_eq!(
            got,
            [
                Some(On::Started),
                None,
                Some(On::Paused),
                None,
                None,
                None,
                Some(On::Completed),
                None
            ]
        );
        let promote = Carried::default();
        assert_eq!(
            promote.transition(Phase::Progressing, true),
            Some(On::Promoted)
        );
        let rollback = Carried::default();
        assert_eq!(
            rollback.transition(Phase::RolledBack, false),
            Some(On::RolledBack)
        );
        assert_eq!(rollback.transition(Phase::Verifying, false), None);
    }

    #[test]
    fn vars_merge_by_key_and_keep_slashes() {
        let recorded = vec![
            encode_var("GREEN_IMAGE", "reg.io/app:1"),
            encode_var("A", "x"),
        ];
        let merged = merge_vars(&recorded, &[encode_var("GREEN_IMAGE", "reg.io/app:2")]);
        let vars = decode_vars(&merged);
        assert_eq!(
            vars,
            [
                ("A".to_string(), "x".to_string()),
                ("GREEN_IMAGE".to_string(), "reg.io/app:2".to_string())
            ]
        );
        assert!(merged.iter().all(|v| !v.contains('/')));
    }

    #[test]
    fn who_comes_from_the_ci_then_user_at_host() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        let gh = Actor::from_env(
            &env(&[
                ("GITHUB_ACTOR", "octocat"),
                ("GITHUB_REPOSITORY", "o/r"),
                ("GITHUB_RUN_ID", "42"),
            ]),
            || "me@host".into(),
        );
        assert_eq!(gh.who, "octocat");
        assert_eq!(
            gh.link.as_deref(),
            Some("https://github.com/o/r/actions/runs/42")
        );
        let gl = Actor::from_env(
            &env(&[
                ("GITLAB_USER_LOGIN", "ann"),
                ("CI_JOB_URL", "https://gl/j/1"),
            ]),
            || "me@host".into(),
        );
        assert_eq!(
            (gl.who.as_str(), gl.link.as_deref()),
            ("ann", Some("https://gl/j/1"))
        );
        let jenkins = Actor::from_env(&env(&[("BUILD_URL", "https://ci/job/7/")]), || {
            "jenkins@node".into()
        });
        assert_eq!(
            (jenkins.who.as_str(), jenkins.link.as_deref()),
            ("jenkins@node", Some("https://ci/job/7/"))
        );
        let none = Actor::from_env(&env(&[]), || "me@host".into());
        assert_eq!(
            none,
            Actor {
                who: "me@host".into(),
                link: None
            }
        );
    }
}
