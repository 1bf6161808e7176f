//! Renderers of the engine's event stream: human text on stderr (with an indicatif spinner
//! only when stderr is a terminal), or newline-delimited JSON events on stdout (`-o json`).
//! Prompts use dialoguer and are only shown when the run is interactive.

pub mod json;
pub mod out;
pub mod plan;
mod quiet;
pub mod status;

use std::sync::Mutex;

use console::Style;
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::events::{Event, Reporter};
use crate::error::CliError;
use crate::exit::Exit;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// Newline-delimited JSON events on stdout.
    Json,
}

/// Settings for the renderers.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Output format.
    pub format: Format,
    /// -1 quiet, 0 normal, 1+ verbose.
    pub verbosity: i8,
    /// Show spinners.
    pub progress: bool,
    /// Use colour on stderr.
    pub color: bool,
}

/// Renders events for people or machines.
pub struct Ui {
    opts: UiOptions,
    spinner: Mutex<Option<ProgressBar>>,
    /// How the run ended so far, for the closing `result` event.
    summary: Mutex<Option<String>>,
    /// Progress lines in a long silence when there is no spinner ([`quiet`]).
    ticker: Option<quiet::Ticker>,
    /// In a fleet: the member whose events this renders.
    member: Option<MemberTag>,
}

/// A fleet member's renderer settings ([`Ui::for_member`]): text lines start with `prefix`
/// (`eu-west | `), JSON lines carry `"member"`, and on a terminal the member's spinner is one
/// line of the fleet's [`indicatif::MultiProgress`].
#[derive(Clone)]
pub struct MemberTag {
    /// The member's name.
    pub name: String,
    /// What each text line starts with.
    pub prefix: String,
    /// The fleet's progress lines (a terminal only).
    pub multi: Option<indicatif::MultiProgress>,
}

impl Ui {
    /// A renderer.
    pub fn new(opts: UiOptions) -> Ui {
        console::set_colors_enabled_stderr(opts.color);
        console::set_colors_enabled(opts.color);
        let ticker = (!opts.progress && opts.format == Format::Text && opts.verbosity >= 0)
            .then(|| quiet::Ticker::start(quiet::EVERY, |line| out::stderr(&format!("{line}\n"))));
        Ui {
            opts,
            spinner: Mutex::new(None),
            summary: Mutex::new(None),
            ticker,
            member: None,
        }
    }

    /// A renderer for one member of a fleet, with these options. It has no silence ticker of
    /// its own (one thread per member would print unprefixed lines).
    #[must_use]
    pub fn for_member(&self, tag: MemberTag) -> Ui {
        Ui {
            opts: self.opts.clone(),
            spinner: Mutex::new(None),
            summary: Mutex::new(None),
            ticker: None,
            member: Some(tag),
        }
    }

    /// The options.
    pub fn options(&self) -> &UiOptions {
        &self.opts
    }

    /// Writes human text to stderr (suppressed with `-q` and in JSON mode), through
    /// [`crate::redact::terminal`] (secrets, control characters).
    pub fn say(&self, text: &str) {
        if self.opts.format == Format::Text && self.opts.verbosity >= 0 {
            let text = crate::redact::terminal(text);
            let Some(tag) = &self.member else {
                self.clear_spinner();
                out::stderr(&format!("{text}\n"));
                if let Some(t) = &self.ticker {
                    t.output(text.lines().last().unwrap_or_default());
                }
                return;
            };
            let lines = text.lines().fold(String::new(), |mut out, l| {
                out.push_str(&tag.prefix);
                out.push_str(l);
                out.push('\n');
                out
            });
            if let (Some(multi), true) = (&tag.multi, self.opts.progress) {
                if multi.println(lines.trim_end()).is_err() {
                    out::stderr(&lines);
                }
            } else {
                self.clear_spinner();
                out::stderr(&lines);
            }
        }
    }

    /// One line of an event: like [`Ui::say`], with newlines folded, so text from a server
    /// inside an event cannot start a line of its own.
    fn event_line(&self, line: &str) {
        self.say(&line.replace(['\n', '\r'], " "));
    }

    fn spin(&self, msg: &str) {
        let msg = crate::redact::terminal(msg).replace('\n', " ");
        if let Some(t) = &self.ticker {
            t.activity(&msg);
        }
        if !self.opts.progress || self.opts.format != Format::Text || self.opts.verbosity < 0 {
            return;
        }
        let mut s = self.spinner.lock().expect("spinner lock");
        let prefix = self.member.as_ref().map(|t| t.prefix.clone());
        let pb = s.get_or_insert_with(|| {
            let pb = match self.member.as_ref().and_then(|t| t.multi.as_ref()) {
                Some(multi) => multi.add(ProgressBar::new_spinner()),
                None => ProgressBar::new_spinner(),
            };
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(std::time::Duration::from_millis(100));
            pb
        });
        pb.set_message(format!("{}{msg}", prefix.unwrap_or_default()));
    }

    fn clear_spinner(&self) {
        if let Some(pb) = self.spinner.lock().expect("spinner lock").take() {
            pb.finish_and_clear();
        }
    }

    fn text(&self, e: &Event) {
        let bold = Style::new().bold();
        let green = Style::new().green();
        let red = Style::new().red();
        let yellow = Style::new().yellow();
        let dim = Style::new().dim();
        let v = self.opts.verbosity;
        match e {
            Event::Observed {
                rollout,
                provider,
                traffic,
            } => self.event_line(&format!(
                "{} {rollout} on {provider}: traffic goes to {traffic}",
                bold.apply_to("rollout")
            )),
            Event::UpToDate { traffic } => self.event_line(&format!(
                "{} nothing to change; traffic goes to {traffic}",
                green.apply_to("up to date:")
            )),
            Event::Planned { steps, dry_run } => {
                if *dry_run {
                    // The preview is the command's output: data on stdout, whatever `-q` says.
                    self.clear_spinner();
                    out::stdout(&crate::redact::terminal(&plan::text(steps, true)));
                } else {
                    self.event_line(&format!("plan: {} step(s)", steps.len()));
                    let text = plan::text(steps, v >= 1);
                    self.say(&dim.apply_to(text.trim_end()).to_string());
                }
            }
            Event::LockAcquired { holder } => {
                if v >= 1 {
                    self.event_line(&format!("lock taken by {holder}"));
                }
            }
            Event::LockBroken { previous } => self.event_line(&format!(
                "{} broke the lock held by {}",
                yellow.apply_to("warning:"),
                previous.holder
            )),
            Event::LockReleased => {
                if v >= 1 {
                    self.event_line("lock released");
                }
            }
            Event::Write { change } => {
                if v >= 1 {
                    self.event_line(&format!("  {} {}", dim.apply_to("→"), change.call));
                } else {
                    self.spin(&format!(
                        "{} {} {}",
                        change.action, change.entity, change.name
                    ));
                }
            }
            Event::ProbeStarted { env, targets } => {
                self.spin(&format!("probing {targets} target(s) of {env}"));
            }
            Event::ProbeResult { env, health } => {
                if !health.healthy || v >= 1 {
                    let mark = if health.healthy {
                        green.apply_to("healthy")
                    } else {
                        red.apply_to("unhealthy")
                    };
                    self.event_line(&format!(
                        "  probe {env} {}: {mark} ({})",
                        health.target, health.detail
                    ));
                }
            }
            Event::ProbeDone {
                env,
                healthy,
                unhealthy,
            } => {
                let msg = format!("probed {env}: {healthy} healthy, {unhealthy} unhealthy");
                self.event_line(&if *unhealthy == 0 {
                    green.apply_to(msg).to_string()
                } else {
                    red.apply_to(msg).to_string()
                });
            }
            Event::TrafficSet { from, to } => self.event_line(&format!(
                "{} {from} → {}",
                bold.apply_to("traffic moved:"),
                bold.apply_to(to)
            )),
            Event::VerifySample {
                expected,
                observed,
                requests,
                failed,
                node,
                ..
            } => {
                if v >= 1 {
                    let at = node
                        .as_deref()
                        .map(|n| format!(" through {n}"))
                        .unwrap_or_default();
                    self.event_line(&format!("  sample{at}: {observed:.1}% of {requests} (expected {expected:.1}%), {failed} failed"));
                } else {
                    let through = node.as_deref().unwrap_or("the proxy");
                    self.spin(&format!(
                        "verifying through {through}: {observed:.1}% (expected {expected:.1}%)"
                    ));
                }
            }
            Event::VerifyBaseline { detail, .. } => {
                if v >= 1 {
                    self.event_line(detail);
                }
            }
            Event::Verified { ok, split, detail } => {
                let head = match (*ok, *split) {
                    (true, true) => green.apply_to("verified:"),
                    (true, false) => yellow.apply_to("verified (health only):"),
                    (false, _) => red.apply_to("verification failed:"),
                };
                self.event_line(&format!("{head} {detail}"));
            }
            Event::Settled { ok, detail } => {
                let head = if *ok {
                    green.apply_to("settled:")
                } else {
                    red.apply_to("not settled:")
                };
                self.event_line(&format!("{head} {detail}"));
            }
            Event::RollingBack { reason, to } => self.event_line(&format!(
                "{} to {to}: {reason}",
                yellow.apply_to("rolling back")
            )),
            Event::CleanedUp { object } => self.event_line(&format!("removed {object}")),
            Event::Step {
                index,
                total,
                description,
            } => self.event_line(&format!(
                "{} {}/{total}: {description}",
                bold.apply_to("step"),
                index + 1
            )),
            Event::Weight {
                requested,
                achieved,
            } => self.event_line(&format!(
                "  canary weight: requested {requested}%, achieved {achieved:.3}%"
            )),
            Event::Paused {
                waiting,
                remaining_secs,
                ..
            } => match remaining_secs {
                Some(secs) => self.spin(&format!("paused: {waiting} ({secs}s left)")),
                None => self.event_line(&format!("{} {waiting}", yellow.apply_to("paused:"))),
            },
            Event::Interrupted { action } => {
                self.event_line(&format!("{} {action}", yellow.apply_to("interrupted:")));
            }
            Event::AnalysisStarted { stage, checks } => {
                self.spin(&format!("analysis ({stage}): {}", checks.join(", ")));
            }
            Event::Measurement { check, measurement } => {
                if v >= 1 {
                    self.event_line(&format!(
                        "  {check}: {} {} {}",
                        measurement.outcome,
                        measurement.value.as_deref().unwrap_or("-"),
                        dim.apply_to(&measurement.detail)
                    ));
                }
            }
            Event::Verdict { verdict, .. } => {
                let ok = verdict.outcome == crate::analysis::Outcome::Pass;
                let line = if ok {
                    green.apply_to(verdict.summary.clone())
                } else {
                    red.apply_to(verdict.summary.clone())
                };
                self.event_line(&format!("analysis {line}"));
            }
            Event::Hook { kind, ok, detail } => {
                let mark = if *ok {
                    green.apply_to("ok")
                } else {
                    red.apply_to("failed")
                };
                self.event_line(&format!("hook {kind}: {mark}: {detail}"));
            }
            Event::Warning { message } => {
                self.event_line(&format!("{} {message}", yellow.apply_to("warning:")));
            }
            Event::Notified {
                transition: event,
                kind,
                target,
                ok,
                attempts,
                detail,
            } => {
                if !ok {
                    self.event_line(&format!(
                        "{} notification `{event}` to {kind} {target} failed after {attempts} attempt(s): {detail}; the release goes on",
                        yellow.apply_to("warning:")
                    ));
                } else if v >= 1 {
                    self.event_line(&format!("notified {kind} {target}: {event}"));
                }
            }
            Event::Done { summary } => {
                self.event_line(&format!("{} {summary}", green.apply_to("done:")));
            }
        }
    }
}

impl Ui {
    /// Writes one JSON line to stdout: `event` (when not empty, else the value's own), a
    /// `time` stamp (RFC 3339, UTC, milliseconds), then the value's fields.
    pub fn json(&self, event: &str, value: serde_json::Value) {
        let mut line = serde_json::Map::new();
        let fields = match value {
            serde_json::Value::Object(map) => map,
            other => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), other);
                m
            }
        };
        let name = if event.is_empty() {
            fields.get("event").cloned().unwrap_or_default()
        } else {
            serde_json::Value::from(event)
        };
        line.insert("event".into(), name);
        line.insert("time".into(), serde_json::Value::from(now_rfc3339()));
        if let Some(tag) = &self.member {
            line.insert("member".into(), serde_json::Value::from(tag.name.clone()));
        }
        for (k, v) in fields {
            if k != "event" {
                line.insert(k, v);
            }
        }
        // Every string in the line is redacted (JSON escapes control characters itself).
        if let Ok(text) = crate::redact::json_line(&line) {
            out::stdout(&format!("{text}\n"));
        }
    }
}

/// Now, RFC 3339 in UTC with milliseconds.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

impl Ui {
    /// Sets the one-line summary the `result` event carries.
    pub fn set_summary(&self, summary: impl Into<String>) {
        *self.summary.lock().expect("summary lock") = Some(summary.into());
    }

    fn remember(&self, e: &Event) {
        let summary = match e {
            Event::Done { summary } => summary.clone(),
            Event::UpToDate { traffic } => format!("up to date; traffic goes to {traffic}"),
            Event::Planned {
                steps,
                dry_run: true,
            } => format!("dry run: {} step(s); nothing was written", steps.len()),
            _ => return,
        };
        self.set_summary(summary);
    }

    /// Ends a run: with `-o json`, an `error` event for a failure, then the `result` event
    /// with the exit code (`result_event` false: a command whose output is one document, which
    /// only ends with events when it failed). Text output is left to the caller.
    pub fn finish(&self, result: &Result<Exit, CliError>, result_event: bool) {
        if self.opts.format != Format::Json {
            return;
        }
        let (exit, summary) = match result {
            Ok(exit) if result_event => {
                let summary = self
                    .summary
                    .lock()
                    .expect("summary lock")
                    .clone()
                    .unwrap_or_else(|| "done".into());
                (*exit, summary)
            }
            Ok(_) => return,
            Err(e) => {
                let event = json::ErrorEvent::from(e);
                let summary = event.headline.clone();
                self.line(&json::CliLine::Error(event));
                (e.exit, summary)
            }
        };
        self.line(&json::CliLine::Result(json::ResultEvent::new(
            exit, summary,
        )));
    }

    /// Writes one CLI line with `-o json`.
    pub fn line(&self, line: &json::CliLine) {
        if let Ok(value) = serde_json::to_value(line) {
            self.json("", value);
        }
    }
}

impl Reporter for Ui {
    fn event(&self, e: &Event) {
        self.remember(e);
        match (self.opts.format, e) {
            (Format::Json, Event::Planned { steps, dry_run }) => {
                for (kind, value) in plan::json_lines(steps, *dry_run) {
                    self.json(kind, value);
                }
            }
            (Format::Json, e) => {
                if let Ok(value) = serde_json::to_value(e) {
                    self.json("", value);
                }
            }
            (Format::Text, e) => self.text(e),
        }
    }

    fn confirm(&self, question: &str) -> bool {
        self.clear_spinner();
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .unwrap_or(false)
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.clear_spinner();
    }
}
