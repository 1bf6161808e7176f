//! `bgctl plan validate FILE...`: offline, every problem at once, zero network calls.

use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use crate::error::CliError;
use crate::exit::Exit;
use crate::plan;
use crate::ui::json::{CliLine, Problem};
use crate::ui::{Format, Ui};

/// Check plans offline: every problem at once, with file:line:column, key path and a hint.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Plan files (default: `$BGCTL_PLAN`, else `./bgctl.yaml` or `./bgctl.yml`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A plan file, as a flag (may be repeated; same as `FILE`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file_flags: Vec<PathBuf>,
}

impl ValidateArgs {
    /// The files named on the command line, else the one found by the usual lookup.
    fn files(&self, ui: &Ui) -> Result<Vec<PathBuf>, CliError> {
        let named: Vec<PathBuf> = self.files.iter().chain(&self.file_flags).cloned().collect();
        if named.is_empty() {
            return Ok(vec![super::PlanFileArg::default().resolve(ui)?]);
        }
        Ok(named)
    }
}

/// Runs `plan validate`.
pub fn cmd_validate(g: &GlobalArgs, ui: &Ui, args: &ValidateArgs) -> Result<Exit, CliError> {
    let limits = super::limits(g);
    let files = args.files(ui)?;
    let mut failed: Vec<plan::PlanErrors> = Vec::new();
    for file in &files {
        match plan::load_and_validate(file, &limits) {
            Ok(loaded) => {
                if ui.options().format == Format::Json {
                    ui.line(&CliLine::Valid {
                        file: file.display().to_string(),
                        rollout: loaded.plan.metadata.name.clone(),
                    });
                } else {
                    ui.say(&format!(
                        "ok: `{}` is a valid plan (rollout `{}`)",
                        file.display(),
                        loaded.plan.metadata.name
                    ));
                }
            }
            Err(e) => {
                if ui.options().format == Format::Json {
                    let problems = e
                        .problems
                        .iter()
                        .map(|p| Problem {
                            path: p.path.clone(),
                            message: p.message.clone(),
                            hint: p.hint.clone(),
                            line: p.pos.map(|x| x.line),
                            column: p.pos.map(|x| x.col),
                        })
                        .collect();
                    ui.line(&CliLine::Invalid {
                        file: file.display().to_string(),
                        problems,
                    });
                }
                failed.push(e);
            }
        }
    }
    match failed.len() {
        0 => {
            ui.set_summary(format!("{} valid plan(s)", files.len()));
            Ok(Exit::Ok)
        }
        1 => Err(failed.remove(0).into()),
        n => {
            let detail = failed.iter().fold(String::new(), |mut acc, e| {
                acc.push_str(&e.headline());
                acc.push('\n');
                acc.push_str(&e.details());
                acc
            });
            Err(CliError {
                exit: Exit::Usage,
                headline: format!("{n} of {} plans are invalid", files.len()),
                detail: Some(detail),
                causes: Vec::new(),
                hints: vec!["nothing was changed; fix the plans and run again".into()],
            })
        }
    }
}
