//! Plans: the YAML a user writes, from bytes to a validated model.
//!
//! `load → interpolate ${ENV} → deserialize (collect unknown keys) → validate (collect every
//! error)`. Nothing downstream sees a plan that has not passed all of it, so nothing is ever
//! written to a gateway for an invalid plan. Problems carry a key path
//! (`strategy.canary.steps[2].setWeight`) and are located in the file by [`load::SourceIndex`].

pub mod load;
pub mod model;
pub mod names;
pub mod paths;
pub mod validate;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use load::{Limits, Pos};
pub use model::Plan;

/// One thing wrong with a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Key path, e.g. `environments.blue.targets[1].weight` (empty for the whole file).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Where it is, once located.
    pub pos: Option<Pos>,
    /// Locate by the key rather than by the value (unknown keys).
    pub at_key: bool,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: &str, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_string(),
            message: message.into(),
            hint: None,
            pos: None,
            at_key: false,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn hint(mut self, hint: &str) -> Problem {
        self.hint = Some(hint.to_string());
        self
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone)]
pub struct PlanErrors {
    /// The plan file.
    pub file: PathBuf,
    /// Problems in file order.
    pub problems: Vec<Problem>,
}

impl PlanErrors {
    /// No problems yet.
    pub fn new(file: &Path) -> PlanErrors {
        PlanErrors {
            file: file.to_path_buf(),
            problems: Vec::new(),
        }
    }

    /// One problem.
    pub fn single(file: &Path, problem: Problem) -> PlanErrors {
        PlanErrors {
            file: file.to_path_buf(),
            problems: vec![problem],
        }
    }

    /// Adds problems, locating each through the index.
    pub fn extend(&mut self, problems: Vec<Problem>, index: &load::SourceIndex) {
        for mut p in problems {
            if p.pos.is_none() {
                p.pos = if p.at_key {
                    index.key_pos(&p.path)
                } else {
                    index.value_pos(&p.path)
                };
            }
            self.problems.push(p);
        }
        self.problems
            .sort_by_key(|p| p.pos.map(|pos| (pos.line, pos.col)));
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The headline of the rendered error.
    pub fn headline(&self) -> String {
        let n = self.problems.len();
        format!(
            "invalid plan: {n} problem{} in `{}`",
            if n == 1 { "" } else { "s" },
            self.file.display()
        )
    }

    /// One block per problem: `file:line:col: `path`: message` and an indented hint.
    pub fn details(&self) -> String {
        let mut out = String::new();
        let file = self.file.display();
        for p in &self.problems {
            let at = match p.pos {
                Some(pos) => format!("{file}:{}:{}", pos.line, pos.col),
                None => file.to_string(),
            };
            let key = if p.path.is_empty() {
                String::new()
            } else {
                format!("`{}`: ", p.path)
            };
            let _ = writeln!(out, "{at}: {key}{}", p.message);
            if let Some(h) = &p.hint {
                let _ = writeln!(out, "  hint: {h}");
            }
        }
        out
    }
}

/// Reads and fully validates a plan file with the process environment.
pub fn load_and_validate(file: &Path, limits: &Limits) -> Result<load::Loaded, PlanErrors> {
    load_with_env(file, &|name| std::env::var(name).ok(), limits)
}

/// Reads and fully validates a plan with a custom variable lookup (the demo uses this).
pub fn load_with_env(
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    limits: &Limits,
) -> Result<load::Loaded, PlanErrors> {
    let loaded = load::load(file, env, limits)?;
    check(loaded)
}

/// Like [`load_with_env`] for text already in memory (`file` names it in messages).
pub fn parse_with_env(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    limits: &Limits,
) -> Result<load::Loaded, PlanErrors> {
    let loaded = load::load_bytes(file, text.as_bytes(), env, limits)?;
    check(loaded)
}

fn check(loaded: load::Loaded) -> Result<load::Loaded, PlanErrors> {
    let problems = validate::validate(&loaded.plan);
    if problems.is_empty() {
        return Ok(loaded);
    }
    let mut errors = PlanErrors::new(&loaded.file);
    errors.extend(problems, &loaded.index);
    Err(errors)
}
