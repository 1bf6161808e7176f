//! Renderers of the engine's event stream: human text on stderr (with an indicatif spinner
//! only when stderr is a terminal), or newline-delimited JSON events on stdout (`-o json`).
//! Prompts use dialoguer and are only shown when the run is interactive.

pub mod status;

use std::io::Write as _;
use std::sync::Mutex;

use console::Style;
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::events::{Event, Reporter};

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
}

impl Ui {
    /// A renderer.
    pub fn new(opts: UiOptions) -> Ui {
        console::set_colors_enabled_stderr(opts.color);
        console::set_colors_enabled(opts.color);
        Ui {
            opts,
            spinner: Mutex::new(None),
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
            self.clear_spinner();
            eprintln!("{}", crate::redact::terminal(text));
        }
    }

    /// One line of an event: like [`Ui::say`], with newlines folded, so text from a server
    /// inside an event cannot start a line of its own.
    fn event_line(&self, line: &str) {
        self.say(&line.replace(['\n', '\r'], " "));
    }

    fn spin(&self, msg: &str) {
        let msg = crate::redact::terminal(msg).replace('\n', " ");
        if !self.opts.progress || self.opts.format != Format::Text || self.opts.verbosity < 0 {
            return;
        }
        let mut s = self.spinner.lock().expect("spinner lock");
        let pb = s.get_or_insert_with(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(std::time::Duration::from_millis(100));
            pb
        });
        pb.set_message(msg);
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
            Event::Planned {
                changes,
                traffic,
                traffic_calls,
            } => {
                if !changes.is_empty() {
                    self.event_line(&format!("{} change(s):", changes.len()));
                    let mut table = comfy_table::Table::new();
                    table
                        .load_style(comfy_table::presets::NOTHING)
                        .set_header(vec!["ACTION", "ENTITY", "NAME", "DETAIL"]);
                    for c in changes {
                        table.add_row(vec![
                            c.action.to_string(),
                            c.entity.to_string(),
                            c.name.clone(),
                            c.detail.clone(),
                        ]);
                    }
                    self.say(&table.to_string());
                }
                if let Some((from, to)) = traffic {
                    self.event_line(&format!("traffic: {from} → {}", bold.apply_to(to)));
                }
                if v >= 1 {
                    for c in changes {
                        self.event_line(&format!("  {}", dim.apply_to(&c.call)));
                    }
                    for c in traffic_calls {
                        self.event_line(&format!("  {}", dim.apply_to(c)));
                    }
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
                ..
            } => {
                if v >= 1 {
                    self.event_line(&format!("  sample: {observed:.1}% of {requests} (expected {expected:.1}%), {failed} failed"));
                } else {
                    self.spin(&format!(
                        "verifying through the proxy: {observed:.1}% (expected {expected:.1}%)"
                    ));
                }
            }
            Event::Verified { ok, detail } => {
                let head = if *ok {
                    green.apply_to("verified:")
                } else {
                    red.apply_to("verification failed:")
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
            Event::Done { summary } => {
                self.event_line(&format!("{} {summary}", green.apply_to("done:")));
            }
        }
    }
}

impl Reporter for Ui {
    fn event(&self, e: &Event) {
        match self.opts.format {
            Format::Json => {
                let mut out = std::io::stdout().lock();
                if let Ok(line) = crate::redact::json_line(e) {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            Format::Text => self.text(e),
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
