//! Reading a fleet file: the same guards as a plan (size, UTF-8, nesting and alias limits,
//! every unknown key at once with a `did you mean`), then the fleet's own checks, each located
//! as `file:line:col` — a wave naming an unknown member, a member in two waves or in none, a
//! repeated name, `maxParallel: 0` — and then every member's plan, loaded with that member's
//! values, before anything is written anywhere.
//!
//! Decisions:
//! * Each member's `${…}` are filled from its own `vars` first, then from the runner's
//!   environment (where CI keeps secrets: `KONG_ADMIN_TOKEN`). The lookup is a closure per
//!   member, never the process environment, so one member's values cannot reach another's plan.
//! * A `vars` value may itself name a runner variable (`KONG_ADMIN_TOKEN: ${EU_TOKEN}`); it is
//!   expanded from the environment when the fleet is loaded.
//! * `plan` is relative to the fleet file's folder, like every path in a plan.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_yaml_ng::Value;

use super::model::{known_keys, FleetFile, OnFailure};
use crate::error::CliError;
use crate::exit::Exit;
use crate::plan::load::{build_index, SourceIndex};
use crate::plan::{self, Limits, Plan, PlanErrors, Problem};

/// A loaded, validated fleet.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The fleet file.
    pub file: PathBuf,
    /// `metadata.name`.
    pub name: String,
    /// The plan every member runs (resolved against the fleet file's folder).
    pub plan_file: PathBuf,
    /// The members, in wave order (wave 1's first).
    pub members: Vec<Member>,
    /// The waves, in order.
    pub waves: Vec<Wave>,
    /// What a failure does.
    pub on_failure: OnFailure,
}

/// One member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name.
    pub name: String,
    /// Its values, as written in the fleet file (pipelines render these).
    pub vars: IndexMap<String, String>,
    /// Its values with runner variables expanded (what the plan is filled with).
    pub values: IndexMap<String, String>,
    /// 0-based wave.
    pub wave: usize,
}

/// One wave: indices into [`Fleet::members`].
#[derive(Debug, Clone)]
pub struct Wave {
    /// Members of the wave.
    pub members: Vec<usize>,
    /// How many run at once.
    pub max_parallel: usize,
    /// A wait before it starts, after an earlier wave changed something.
    pub pause_before: Option<Duration>,
}

impl Fleet {
    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

impl Member {
    /// The variable lookup for this member's plan: its own values, then the runner's environment.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name: &str| {
            self.values
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        }
    }
}

fn invalid(file: &Path, problems: Vec<Problem>, index: Option<&SourceIndex>) -> CliError {
    let mut errors = PlanErrors::new(file);
    match index {
        Some(index) => errors.extend(problems, index),
        None => errors.problems = problems,
    }
    let n = errors.problems.len();
    CliError {
        exit: Exit::Usage,
        headline: format!(
            "invalid fleet: {n} problem{} in `{}`",
            if n == 1 { "" } else { "s" },
            file.display()
        ),
        detail: Some(errors.details()),
        causes: Vec::new(),
        hints: vec!["nothing was changed; fix the fleet file and run again".into()],
    }
}

/// Reads and checks a fleet file (not yet its members' plans: [`load_plans`]). With
/// `runner_env` false (rendering a pipeline), a `vars` value naming a runner variable that is
/// not set here is no problem: the pipeline's runners set it.
pub fn load(file: &Path, limits: &Limits, runner_env: bool) -> Result<Fleet, CliError> {
    let one = |p: Problem| invalid(file, vec![p], None);
    let bytes = std::fs::read(file).map_err(|e| {
        one(Problem::new("", format!("cannot read the fleet file: {e}"))
            .hint("check the path and that the file is readable"))
    })?;
    if bytes.len() > limits.max_bytes {
        return Err(one(Problem::new(
            "",
            format!(
                "the fleet file is {} bytes; the limit is {}",
                bytes.len(),
                limits.max_bytes
            ),
        )
        .hint("raise the limit with `--max-plan-bytes`")));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| one(Problem::new("", "the fleet file is not UTF-8 text")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let index = build_index(text, limits).map_err(one)?;
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let mut p = Problem::new("", format!("invalid YAML: {e}"));
        p.pos = e.location().map(|l| plan::Pos {
            line: l.line(),
            col: l.column(),
        });
        one(p)
    })?;
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut on_unknown = |p: serde_ignored::Path<'_>| unknown.push(ignored_path(&p));
    let ignored = serde_ignored::Deserializer::new(value, &mut on_unknown);
    let parsed: Result<FleetFile, _> = serde_path_to_error::deserialize(ignored);
    for path in unknown {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let key = path.rsplit('.').next().unwrap_or_default();
        let mut p = Problem::new(&path, "unknown key");
        p.at_key = true;
        let known = known_keys(parent);
        if let Some(best) = plan::validate::closest(key, known.iter().copied()) {
            p.hint = Some(format!("did you mean `{best}`?"));
        } else if !known.is_empty() {
            p.hint = Some(format!("valid keys here: {}", known.join(", ")));
        }
        problems.push(p);
    }
    let spec = match parsed {
        Ok(spec) => spec,
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let msg = e.into_inner().to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            problems.push(Problem::new(&path, msg));
            return Err(invalid(file, problems, Some(&index)));
        }
    };
    let fleet = check(file, spec, runner_env, &mut problems);
    if problems.is_empty() {
        Ok(fleet)
    } else {
        Err(invalid(file, problems, Some(&index)))
    }
}

fn valid_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_var(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The fleet's own rules; every problem is collected.
fn check(file: &Path, spec: FleetFile, runner_env: bool, problems: &mut Vec<Problem>) -> Fleet {
    if spec.api_version != "bgctl.dev/v1" {
        problems.push(Problem::new("apiVersion", "expected `bgctl.dev/v1`"));
    }
    if spec.kind != "Fleet" {
        problems.push(
            Problem::new("kind", format!("expected `Fleet`, found `{}`", spec.kind))
                .hint("a rollout plan is run with `bgctl plan apply`"),
        );
    }
    if spec.plan.trim().is_empty() {
        problems.push(Problem::new(
            "plan",
            "name the rollout plan every member runs",
        ));
    }
    if spec.members.is_empty() {
        problems.push(Problem::new("members", "a fleet needs at least one member"));
    }
    let mut values: Vec<IndexMap<String, String>> = Vec::new();
    for (i, m) in spec.members.iter().enumerate() {
        let at = format!("members[{i}]");
        if !valid_name(&m.name) {
            problems.push(
                Problem::new(&format!("{at}.name"), format!("`{}` is not a valid member name", m.name))
                    .hint("use letters, digits, `-` and `_`, starting with a letter or digit (it names a CI job)"),
            );
        }
        if let Some(first) = spec.members[..i].iter().position(|o| o.name == m.name) {
            problems.push(Problem::new(
                &format!("{at}.name"),
                format!("member `{}` is already defined at members[{first}]", m.name),
            ));
        }
        let mut expanded = IndexMap::new();
        for (k, v) in &m.vars {
            let path = format!("{at}.vars.{k}");
            if !valid_var(k) {
                problems.push(Problem::new(&path, format!("`{k}` is not a variable name")));
            }
            match plan::load::interpolate(v, &|n| std::env::var(n).ok()) {
                Ok(v) => {
                    expanded.insert(k.clone(), v);
                }
                Err((msg, hint)) if runner_env => {
                    problems.push(Problem::new(&path, msg).hint(&hint));
                }
                Err(_) => {
                    expanded.insert(k.clone(), v.clone());
                }
            }
        }
        values.push(expanded);
    }
    if spec.waves.is_empty() {
        problems.push(Problem::new("waves", "a fleet needs at least one wave"));
    }
    let mut wave_of: Vec<Option<usize>> = vec![None; spec.members.len()];
    let mut waves = Vec::new();
    for (w, wave) in spec.waves.iter().enumerate() {
        let at = format!("waves[{w}]");
        if wave.members.is_empty() {
            problems.push(Problem::new(
                &format!("{at}.members"),
                "a wave needs at least one member",
            ));
        }
        if wave.max_parallel == Some(0) {
            problems.push(
                Problem::new(&format!("{at}.maxParallel"), "must be at least 1")
                    .hint("leave it out to run the wave's members one at a time"),
            );
        }
        let mut indices = Vec::new();
        for (j, name) in wave.members.iter().enumerate() {
            let path = format!("{at}.members[{j}]");
            let Some(m) = spec.members.iter().position(|m| &m.name == name) else {
                let names = spec.members.iter().map(|m| m.name.as_str());
                let hint = match plan::validate::closest(name, names) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "list it under `members` first".into(),
                };
                problems.push(
                    Problem::new(&path, format!("`{name}` is not a member of this fleet"))
                        .hint(&hint),
                );
                continue;
            };
            match wave_of[m] {
                Some(earlier) if earlier == w => problems.push(Problem::new(
                    &path,
                    format!("`{name}` is listed twice in this wave"),
                )),
                Some(earlier) => problems.push(
                    Problem::new(
                        &path,
                        format!(
                            "`{name}` is already in wave {} (waves[{earlier}])",
                            earlier + 1
                        ),
                    )
                    .hint("a member runs in exactly one wave"),
                ),
                None => {
                    wave_of[m] = Some(w);
                    indices.push(m);
                }
            }
        }
        waves.push((
            indices,
            wave.max_parallel.unwrap_or(1).max(1),
            wave.pause_before.map(|d| d.0),
        ));
    }
    for (i, m) in spec.members.iter().enumerate() {
        if wave_of[i].is_none() && !spec.waves.is_empty() {
            problems.push(
                Problem::new(
                    &format!("members[{i}].name"),
                    format!("`{}` is in no wave", m.name),
                )
                .hint("add it to a wave's `members`, or remove it"),
            );
        }
    }
    // Members in wave order; waves hold indices into that order.
    let mut members = Vec::new();
    let mut out_waves = Vec::new();
    for (w, (indices, max_parallel, pause_before)) in waves.into_iter().enumerate() {
        let mut mine = Vec::new();
        for i in indices {
            mine.push(members.len());
            members.push(Member {
                name: spec.members[i].name.clone(),
                vars: spec.members[i].vars.clone(),
                values: values[i].clone(),
                wave: w,
            });
        }
        out_waves.push(Wave {
            members: mine,
            max_parallel,
            pause_before,
        });
    }
    let base = file.parent().unwrap_or(Path::new("."));
    Fleet {
        file: file.to_path_buf(),
        name: spec.metadata.name,
        plan_file: base.join(&spec.plan),
        members,
        waves: out_waves,
        on_failure: spec.on_failure,
    }
}

/// Loads and validates every member's plan with that member's values (`context`: the
/// `--context` flag). Every member's problems are reported at once; nothing has been written.
pub fn load_plans(
    fleet: &Fleet,
    limits: &Limits,
    context: Option<&String>,
) -> Result<Vec<Plan>, CliError> {
    let mut plans = Vec::new();
    let mut failed: Vec<(String, PlanErrors)> = Vec::new();
    for m in &fleet.members {
        match plan::load_with_env(&fleet.plan_file, &m.lookup(), limits) {
            Ok(loaded) => {
                let mut p = loaded.plan;
                if let (Some(k), Some(ctx)) = (p.provider.kubernetes.as_mut(), context) {
                    k.context = Some(ctx.clone());
                }
                plan::paths::resolve(&mut p, fleet.plan_file.parent().unwrap_or(Path::new(".")));
                plans.push(p);
            }
            Err(e) => failed.push((m.name.clone(), e)),
        }
    }
    if failed.is_empty() {
        return Ok(plans);
    }
    let mut detail = String::new();
    for (name, e) in &failed {
        detail.push_str(&format!("member `{name}`: {}\n", e.headline()));
        for line in e.details().lines() {
            detail.push_str(&format!("  {line}\n"));
        }
    }
    let names: Vec<String> = failed.iter().map(|(n, _)| format!("`{n}`")).collect();
    Err(CliError {
        exit: Exit::Usage,
        headline: format!(
            "invalid fleet: the plan `{}` is invalid for member{} {}",
            fleet.plan_file.display(),
            if failed.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        detail: Some(detail),
        causes: Vec::new(),
        hints: vec![
            "nothing was changed; a member's `${…}` come from its `vars`, then from the environment"
                .into(),
        ],
    })
}

fn ignored_path(p: &serde_ignored::Path<'_>) -> String {
    let join = |parent: String, key: &str| {
        if parent.is_empty() {
            key.to_string()
        } else {
            format!("{parent}.{key}")
        }
    };
    match p {
        serde_ignored::Path::Root => String::new(),
        serde_ignored::Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        serde_ignored::Path::Map { parent, key } => join(ignored_path(parent), key),
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Fleet, CliError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fleet.yaml");
        std::fs::write(&file, text).unwrap();
        load(&file, &Limits::default(), true)
    }

    const FLEET: &str = "apiVersion: bgctl.dev/v1
kind: Fleet
metadata: {name: f}
plan: p.yaml
members:
  - {name: a, vars: {X: '1'}}
  - {name: b}
waves:
  - {members: [a]}
  - {members: [b], maxParallel: 3, pauseBefore: 10m}
";

    #[test]
    fn a_good_fleet_loads_in_wave_order_with_its_plan_beside_it() {
        let f = load_text(FLEET).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(f.members.len(), 2);
        assert_eq!((f.members[1].name.as_str(), f.members[1].wave), ("b", 1));
        assert_eq!(f.waves[1].max_parallel, 3);
        assert_eq!(f.waves[1].pause_before, Some(Duration::from_mins(10)));
        assert_eq!(f.waves[0].max_parallel, 1, "one at a time by default");
        assert!(f.plan_file.ends_with("p.yaml") && f.plan_file.is_absolute());
        assert_eq!(f.on_failure, OnFailure::Halt);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_place() {
        let text = FLEET
            .replace("kind: Fleet", "kind: Rollout")
            .replace("maxParallel: 3", "maxParalel: 3")
            .replace("{members: [a]}", "{members: [a], maxParallel: 0}")
            .replace("name: b}", "name: 'b c'}");
        let err = load_text(&text).unwrap_err();
        let text = err.render();
        assert_eq!(err.exit, Exit::Usage);
        for want in [
            "expected `Fleet`, found `Rollout`",
            "waves[1].maxParalel`: unknown key",
            "did you mean `maxParallel`?",
            "waves[0].maxParallel`: must be at least 1",
            "`b c` is not a valid member name",
            "fleet.yaml:2:",
        ] {
            assert!(text.contains(want), "{want} missing:\n{text}");
        }
    }

    #[test]
    fn a_var_may_name_a_runner_variable_only_when_it_is_set() {
        let text = FLEET.replace("X: '1'", "X: '${BGCTL_FLEET_TEST_UNSET_VAR}'");
        let err = load_text(&text).unwrap_err().render();
        assert!(err.contains("members[0].vars.X"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fleet.yaml");
        std::fs::write(&file, &text).unwrap();
        let f = load(&file, &Limits::default(), false).expect("rendering needs no runner vars");
        assert_eq!(f.members[0].vars["X"], "${BGCTL_FLEET_TEST_UNSET_VAR}");
    }
}
