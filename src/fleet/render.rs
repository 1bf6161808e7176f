//! `bgctl fleet render`: the fleet as a CI pipeline, for when many runners should drive it
//! instead of one process. Each member is one job running `bgctl plan apply PLAN --yes` with its
//! `vars` as the job's environment; waves are ordered by `needs:` (every job of a wave needs
//! every job of the wave before), so a failed job stops the later waves (`onFailure: halt`).
//! The locks in the targets keep two pipelines from driving one member at once.
//!
//! Decisions:
//! * `maxParallel: N` becomes N lanes: a wave's member `j` also needs its member `j-N`, so at
//!   most N of the wave's jobs run at once (CI systems have no per-stage limit).
//! * A value that names a runner variable (`${EU_TOKEN}`) becomes the CI system's own reference:
//!   `${{ secrets.EU_TOKEN }}` on GitHub Actions, `$EU_TOKEN` left to GitLab's expansion.
//! * `onFailure: rollbackWave|rollbackAll` and `pauseBefore` are not rendered (a pipeline has
//!   no bake timer and a failed job's rollback is a person's call there); the command says so
//!   on stderr and `bgctl fleet rollback FLEET --members …` is the tool for it.
//! * GitLab job names are the member names; a member called like a GitLab keyword (`stages`,
//!   `variables`, …) is refused.

use serde_yaml_ng::{Mapping, Value};

use super::load::Fleet;
use super::member::shell_words;

/// The pipeline formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PipelineFormat {
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    GithubActions,
    /// A GitLab CI pipeline (`.gitlab-ci.yml`).
    GitlabCi,
}

const GITLAB_KEYWORDS: [&str; 12] = [
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "pages",
    "spec",
];

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(s(k), v);
    }
    Value::Mapping(m)
}

/// `${NAME}` references in a value, rewritten for the CI system (`$$` stays a literal `$`).
fn ci_value(value: &str, format: PipelineFormat) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push_str(if format == PipelineFormat::GitlabCi {
                "$$"
            } else {
                "$"
            });
            rest = after;
        } else if let (Some(body), Some(end)) = (tail.strip_prefix("${"), tail.find('}')) {
            let name = &body[..end - 2];
            let name = name.split(":-").next().unwrap_or(name);
            match format {
                PipelineFormat::GithubActions => {
                    out.push_str(&format!("${{{{ secrets.{name} }}}}"));
                }
                PipelineFormat::GitlabCi => out.push_str(&format!("${{{name}}}")),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The jobs each member's job needs: the whole previous wave, and its lane predecessor.
fn needs(fleet: &Fleet, i: usize) -> Vec<String> {
    let m = &fleet.members[i];
    let wave = &fleet.waves[m.wave];
    let mut out: Vec<String> = Vec::new();
    if m.wave > 0 {
        for &j in &fleet.waves[m.wave - 1].members {
            out.push(fleet.members[j].name.clone());
        }
    }
    let pos = wave.members.iter().position(|&j| j == i).unwrap_or(0);
    if pos >= wave.max_parallel {
        out.push(
            fleet.members[wave.members[pos - wave.max_parallel]]
                .name
                .clone(),
        );
    }
    out
}

/// GitHub Actions job ids start with a letter or `_`.
fn gha_id(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.to_string()
    } else {
        format!("_{name}")
    }
}

/// What the rendering leaves out, one line each (for stderr).
pub fn not_rendered(fleet: &Fleet) -> Vec<String> {
    let mut out = Vec::new();
    if fleet.on_failure != super::model::OnFailure::Halt {
        out.push(format!(
            "`onFailure: {}` is not rendered: a failed job stops the later waves (halt); roll back with `bgctl fleet rollback`",
            fleet.on_failure.as_str()
        ));
    }
    if fleet.waves.iter().any(|w| w.pause_before.is_some()) {
        out.push("`pauseBefore` is not rendered: add an environment with a wait timer (GitHub) or a `when: delayed` job (GitLab)".into());
    }
    out
}

/// The pipeline text.
pub fn render(fleet: &Fleet, format: PipelineFormat) -> Result<String, String> {
    let plan = fleet.plan_file.to_string_lossy();
    let run = format!("bgctl plan apply {} --yes", shell_words(&[&plan]));
    let file = fleet.file.to_string_lossy();
    let header = format!(
        "# Generated by `{}`: one job per member, waves in order.\n# Every job needs `bgctl` on the runner's PATH.\n",
        shell_words(&["bgctl", "fleet", "render", &file, "--format", match format {
            PipelineFormat::GithubActions => "github-actions",
            PipelineFormat::GitlabCi => "gitlab-ci",
        }])
    );
    let doc = match format {
        PipelineFormat::GithubActions => github(fleet, &run),
        PipelineFormat::GitlabCi => gitlab(fleet, &run)?,
    };
    let body = serde_yaml_ng::to_string(&doc).map_err(|e| e.to_string())?;
    Ok(format!("{header}{body}"))
}

fn env_of(fleet: &Fleet, i: usize, format: PipelineFormat) -> Value {
    let mut env = Mapping::new();
    for (k, v) in &fleet.members[i].vars {
        env.insert(s(k), s(&ci_value(v, format)));
    }
    Value::Mapping(env)
}

fn github(fleet: &Fleet, run: &str) -> Value {
    let mut jobs = Mapping::new();
    for (i, m) in fleet.members.iter().enumerate() {
        let mut job = vec![
            ("name", s(&format!("{} (wave {})", m.name, m.wave + 1))),
            ("runs-on", s("ubuntu-latest")),
        ];
        let needs = needs(fleet, i);
        if !needs.is_empty() {
            job.push((
                "needs",
                Value::Sequence(needs.iter().map(|n| s(&gha_id(n))).collect()),
            ));
        }
        if !m.vars.is_empty() {
            job.push(("env", env_of(fleet, i, PipelineFormat::GithubActions)));
        }
        job.push((
            "steps",
            Value::Sequence(vec![
                map(vec![("uses", s("actions/checkout@v4"))]),
                map(vec![("name", s("bgctl plan apply")), ("run", s(run))]),
            ]),
        ));
        jobs.insert(s(&gha_id(&m.name)), map(job));
    }
    map(vec![
        ("name", s(&format!("bgctl fleet {}", fleet.name))),
        (
            "on",
            map(vec![("workflow_dispatch", Value::Mapping(Mapping::new()))]),
        ),
        (
            "concurrency",
            map(vec![
                ("group", s(&format!("bgctl-fleet-{}", fleet.name))),
                ("cancel-in-progress", Value::Bool(false)),
            ]),
        ),
        ("jobs", Value::Mapping(jobs)),
    ])
}

fn gitlab(fleet: &Fleet, run: &str) -> Result<Value, String> {
    if let Some(m) = fleet
        .members
        .iter()
        .find(|m| GITLAB_KEYWORDS.contains(&m.name.as_str()))
    {
        return Err(format!(
            "member `{}` has the name of a GitLab CI keyword and cannot name a job",
            m.name
        ));
    }
    let stages: Vec<Value> = (1..=fleet.waves.len())
        .map(|w| s(&format!("wave-{w}")))
        .collect();
    let mut doc = Mapping::new();
    doc.insert(s("stages"), Value::Sequence(stages));
    for (i, m) in fleet.members.iter().enumerate() {
        let mut job = vec![
            ("stage", s(&format!("wave-{}", m.wave + 1))),
            (
                "needs",
                Value::Sequence(needs(fleet, i).iter().map(|n| s(n)).collect()),
            ),
        ];
        if !m.vars.is_empty() {
            job.push(("variables", env_of(fleet, i, PipelineFormat::GitlabCi)));
        }
        job.push((
            "resource_group",
            s(&format!("bgctl-{}-{}", fleet.name, m.name)),
        ));
        job.push(("script", Value::Sequence(vec![s(run)])));
        doc.insert(s(&m.name), map(job));
    }
    Ok(Value::Mapping(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_variables_become_the_ci_systems_references() {
        let gha = PipelineFormat::GithubActions;
        let gl = PipelineFormat::GitlabCi;
        assert_eq!(ci_value("${EU_TOKEN}", gha), "${{ secrets.EU_TOKEN }}");
        assert_eq!(ci_value("https://${H}/x", gl), "https://${H}/x");
        assert_eq!(ci_value("a$$b", gha), "a$b");
        assert_eq!(ci_value("a$$b", gl), "a$$b");
        assert_eq!(ci_value("plain", gha), "plain");
        assert_eq!(ci_value("${X:-d}", gha), "${{ secrets.X }}");
    }
}
