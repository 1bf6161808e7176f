//! `bgctl init <backend>`: start from what is live. Reads the live objects of one backend and
//! writes a plan (stdout, or `-f FILE`, refused when the file exists unless `--force`) for
//! which `bgctl plan diff --exit-code` reports no change.
//!
//! Decisions (issue 17 item 2):
//! * **The side that serves now** is read (Kong: the upstream the service's `host` names;
//!   Kubernetes: the Deployment whose pods the Service selects; HAProxy: the servers that carry
//!   weight). It is named `blue` unless `--live-side` says otherwise, and becomes the plan's
//!   `activeEnvironment`, so the plan asks for nothing to move.
//! * **The other side** comes from flags (`--other-side`, and per backend `--other-upstream`/
//!   `--other-targets`, `--other-deployment`, `--other-servers`), else from questions on a
//!   terminal (dialoguer), else — when it cannot be read — from a **placeholder**: a required
//!   variable such as `${GREEN_TARGET}` with a `PLACEHOLDER` comment above it. A placeholder
//!   is not a default: until it is set, every command that loads the plan stops with a
//!   validation error (exit 2) naming the variable and saying to export it, before any network
//!   call. So `plan diff` cannot silently run against a half-written plan; once it is set,
//!   `plan diff` shows exactly the writes that create the new side (that side does not exist
//!   yet) and nothing about what was read. The zero-diff promise is for what was read.
//! * **Adoption.** What bgctl owns carries an ownership tag (Kong: `bgctl.owner=<rollout>`),
//!   and a plan naming an untagged entity would first tag it (an `adopt` write). `bgctl init`
//!   makes those tag writes itself (listed on stderr; `--no-adopt` leaves them to the first
//!   `plan apply`), because the target is where bgctl keeps its state and a plan from `init`
//!   should start with a zero diff. Tags never move traffic.
//! * **Unnamed Kong routes** (seed 000) are written by id (`- {id: …}`): `plan diff` finds
//!   them as they are; nothing is renamed or duplicated.
//! * The YAML is written as text with comments (like `plans/`), not serialised, and loaded
//!   back through the plan loader before it is written when it has no placeholders.
//! * `-o` is the global output format on every command, so the file is `-f FILE`, as on the
//!   commands that read plans.
//! * **No `init traefik` (yet).** bgctl owns the Traefik REST provider's whole configuration
//!   (a router → a weighted service → `<service>-<env>`), so a hand-made Traefik setup (the
//!   file provider, or REST names of its own) cannot be adopted without a first write that
//!   takes routing over; a plan read from it could not have a zero diff. Reading a router and
//!   its servers into a plan whose first `apply` says so is the natural next step.

mod haproxy;
mod kong;
mod kubernetes;
mod yaml;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::error::CliError;
use crate::exit::Exit;
use crate::ui::Ui;

pub use yaml::Doc;

/// Write a plan from what is live: the serving side as it is, the other side from flags,
/// questions on a terminal, or a marked placeholder.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The backend to read.
    #[command(subcommand)]
    pub backend: InitBackend,
}

/// `bgctl init <backend>`.
#[derive(Debug, Subcommand)]
pub enum InitBackend {
    /// Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names.
    Kong(kong::KongInit),
    /// Kubernetes: a Service and the Deployment its selector picks.
    Kubernetes(kubernetes::KubeInit),
    /// HAProxy: the servers of one backend, through the runtime API.
    Haproxy(haproxy::HaproxyInit),
}

/// Flags every backend takes.
#[derive(Debug, Args, Clone)]
pub struct CommonInit {
    /// Write the plan to this file instead of stdout.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Overwrite `--file` when it exists.
    #[arg(long)]
    pub force: bool,
    /// The rollout's name (`metadata.name`; default: the service or backend name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The name of the side that serves now.
    #[arg(long, value_name = "NAME", default_value = "blue")]
    pub live_side: String,
    /// The name of the other side (default `green`, or `blue` when the live side is `green`).
    #[arg(long, value_name = "NAME")]
    pub other_side: Option<String>,
    /// Do not tag what was read as owned by the rollout (the first `plan apply` then does).
    #[arg(long)]
    pub no_adopt: bool,
}

impl CommonInit {
    /// The other side's name: the flag, else a question on a terminal, else the default.
    fn other_side(&self, ask: &Asker) -> Result<String, CliError> {
        let default = if self.live_side == "green" {
            "blue"
        } else {
            "green"
        };
        let name = match &self.other_side {
            Some(n) => n.clone(),
            None => ask
                .input("Name of the side that is not live", Some(default))?
                .unwrap_or_else(|| default.to_string()),
        };
        if name == self.live_side {
            return Err(CliError::usage(
                format!("both sides are named `{name}`"),
                "give the other side another name with `--other-side`",
            ));
        }
        Ok(name)
    }

    /// Refuses an existing `--file` without `--force` (checked before anything is adopted).
    fn check_file(&self) -> Result<(), CliError> {
        match &self.file {
            Some(f) if f.exists() && !self.force => Err(CliError::usage(
                format!("`{}` exists", f.display()),
                "pass `--force` to overwrite it, or choose another file",
            )),
            _ => Ok(()),
        }
    }
}

/// Questions for what cannot be read: asked only when stdin and stderr are terminals.
pub struct Asker {
    interactive: bool,
}

impl Asker {
    fn new() -> Asker {
        Asker {
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        }
    }

    /// A line of text (`None` without a terminal, or when the answer is empty).
    fn input(&self, prompt: &str, default: Option<&str>) -> Result<Option<String>, CliError> {
        if !self.interactive {
            return Ok(None);
        }
        let mut q = dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .allow_empty(true);
        if let Some(d) = default {
            q = q.default(d.to_string());
        }
        let answer = q
            .interact_text()
            .map_err(|e| CliError::from_std("cannot read the answer", &e))?;
        Ok(Some(answer.trim().to_string()).filter(|a| !a.is_empty()))
    }

    /// One of `items` (`None` without a terminal); the last item is the default.
    fn select(&self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        if !self.interactive || items.is_empty() {
            return Ok(None);
        }
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(items.len() - 1)
            .interact()
            .map(Some)
            .map_err(|e| CliError::from_std("cannot read the answer", &e))
    }
}

/// The environment variable of a placeholder: `GREEN_TARGET` for side `green`, `what` TARGET.
pub fn placeholder_var(side: &str, what: &str) -> String {
    let side: String = side
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{side}_{what}")
}

/// Runs `bgctl init`.
pub async fn cmd_init(g: &GlobalArgs, ui: &Ui, args: &InitArgs) -> Result<Exit, CliError> {
    let ask = Asker::new();
    let (common, doc) = match &args.backend {
        InitBackend::Kong(a) => {
            a.common.check_file()?;
            (&a.common, kong::init(g, ui, &ask, a).await?)
        }
        InitBackend::Kubernetes(a) => {
            a.common.check_file()?;
            (&a.common, kubernetes::init(g, ui, &ask, a).await?)
        }
        InitBackend::Haproxy(a) => {
            a.common.check_file()?;
            (&a.common, haproxy::init(g, ui, &ask, a).await?)
        }
    };
    let text = doc.text();
    // What was read must make a plan bgctl accepts: load it back before writing it, with each
    // placeholder set to its example value (and no other variable set).
    let examples: Vec<(String, String)> = doc
        .placeholders
        .iter()
        .map(|p| (p.var.clone(), p.example.clone()))
        .collect();
    let env = |name: &str| {
        examples
            .iter()
            .find(|(v, _)| v == name)
            .map(|(_, e)| e.clone())
    };
    crate::plan::parse_with_env(
        std::path::Path::new("bgctl.yaml"),
        &text,
        &env,
        &super::limits(g),
    )
    .map_err(|e| {
        let mut err = CliError::from(e);
        err.headline = format!(
            "the plan written from the live objects does not validate ({})",
            err.headline
        );
        err.exit = Exit::Error;
        err.hints
            .push("this is a bug in `bgctl init`: please report it with the plan below".into());
        err.detail = Some(format!(
            "{}
{text}",
            err.detail.unwrap_or_default()
        ));
        err
    })?;
    match &common.file {
        Some(f) => {
            std::fs::write(f, &text)
                .map_err(|e| CliError::from_std(format!("cannot write `{}`", f.display()), &e))?;
            ui.say(&format!("wrote `{}`", f.display()));
        }
        None => crate::ui::out::stdout(&text),
    }
    for p in &doc.placeholders {
        ui.say(&format!(
            "placeholder: `{}` ({}, e.g. `{}`) must be set before the plan is used; until then every command stops with a validation error naming it",
            p.var, p.what, p.example
        ));
    }
    Ok(Exit::Ok)
}
