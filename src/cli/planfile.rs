//! Which plan file a command acts on, found the way compose and skaffold find theirs: the path
//! given (`FILE` or `-f FILE`, on every command alike), else `$BGCTL_PLAN`, else `bgctl.yaml`
//! or `bgctl.yml` in the working directory. When the file was not named on the command line
//! bgctl says which one it used, so a run in the wrong directory is seen at once. Both default
//! names present is an error rather than a silent pick.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::CliError;
use crate::ui::Ui;

/// The environment variable naming the plan when the command line does not.
pub const PLAN_ENV: &str = "BGCTL_PLAN";

/// The names looked for in the working directory, in order.
pub const DEFAULT_NAMES: [&str; 2] = ["bgctl.yaml", "bgctl.yml"];

/// Plan-file argument shared by the commands that act on one plan: `FILE` or `-f FILE`.
#[derive(Debug, Args, Clone, Default)]
pub struct PlanFileArg {
    /// The plan file (default: `$BGCTL_PLAN`, else `./bgctl.yaml` or `./bgctl.yml`).
    #[arg(value_name = "FILE", conflicts_with = "file")]
    pub path: Option<PathBuf>,
    /// The plan file, as a flag (same as `FILE`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Where the plan's path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `FILE` or `-f FILE`.
    CommandLine,
    /// `$BGCTL_PLAN`.
    Env,
    /// `bgctl.yaml`/`bgctl.yml` in the working directory.
    WorkingDir,
}

impl PlanFileArg {
    /// The plan's path, looked up as the module docs say; tells the user when it was not named.
    pub fn resolve(&self, ui: &Ui) -> Result<PathBuf, CliError> {
        let (path, source) = find(
            self.path.as_deref().or(self.file.as_deref()),
            std::env::var_os(PLAN_ENV).map(PathBuf::from),
            Path::new("."),
        )?;
        match source {
            Source::CommandLine => {}
            Source::Env => ui.say(&format!("plan: `{}` (from ${PLAN_ENV})", path.display())),
            Source::WorkingDir => ui.say(&format!(
                "plan: `{}` (found in the working directory)",
                path.display()
            )),
        }
        Ok(path)
    }
}

/// The lookup itself, with the environment and directory as parameters (for tests).
pub fn find(
    given: Option<&Path>,
    env: Option<PathBuf>,
    dir: &Path,
) -> Result<(PathBuf, Source), CliError> {
    if let Some(p) = given {
        return Ok((p.to_path_buf(), Source::CommandLine));
    }
    if let Some(p) = env.filter(|p| !p.as_os_str().is_empty()) {
        return Ok((p, Source::Env));
    }
    let found: Vec<&str> = DEFAULT_NAMES
        .iter()
        .copied()
        .filter(|n| dir.join(n).is_file())
        .collect();
    match found.as_slice() {
        [one] => Ok((PathBuf::from(one), Source::WorkingDir)),
        [] => Err(CliError::usage(
            "no plan file: none was given, `$BGCTL_PLAN` is not set, and there is no `bgctl.yaml` or `bgctl.yml` here",
            "name one with `-f FILE` (or as the last argument), set BGCTL_PLAN, or run where `bgctl.yaml` is",
        )),
        _ => Err(CliError::usage(
            "both `bgctl.yaml` and `bgctl.yml` are in the working directory",
            "remove one, or name the plan with `-f FILE`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_then_the_environment_then_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bgctl.yaml"), "x").unwrap();
        let env = Some(PathBuf::from("from-env.yaml"));
        let (p, s) = find(Some(Path::new("given.yaml")), env.clone(), dir.path()).unwrap();
        assert_eq!((p, s), (PathBuf::from("given.yaml"), Source::CommandLine));
        let (p, s) = find(None, env, dir.path()).unwrap();
        assert_eq!((p, s), (PathBuf::from("from-env.yaml"), Source::Env));
        let (p, s) = find(None, Some(PathBuf::new()), dir.path()).unwrap();
        assert_eq!((p, s), (PathBuf::from("bgctl.yaml"), Source::WorkingDir));
    }

    #[test]
    fn yml_is_found_and_two_defaults_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(find(None, None, dir.path()).is_err());
        std::fs::write(dir.path().join("bgctl.yml"), "x").unwrap();
        let (p, _) = find(None, None, dir.path()).unwrap();
        assert_eq!(p, PathBuf::from("bgctl.yml"));
        std::fs::write(dir.path().join("bgctl.yaml"), "x").unwrap();
        let err = find(None, None, dir.path()).unwrap_err();
        assert!(err.render().contains("both"), "{}", err.render());
    }
}
