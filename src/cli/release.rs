//! `bgctl release [FILE | -f FILE] [--set KEY=VALUE …]`: the next release, with no plan edit.
//!
//! bgctl reads which side is live from the target, makes the other one the candidate and runs
//! the plan's strategy with stable = the live side: blue-green switches to the candidate, a
//! canary runs its steps from the live side to the candidate. Two releases in a row alternate
//! sides. The plan must have exactly two environments. Decisions:
//!
//! * **Roles.** The plan's `activeEnvironment` (blue-green) and `stable`/`canary` (canary) are
//!   replaced by the live ones; in a canary plan of two environments they may be omitted
//!   altogether (validation fills them from the plan's order for the other commands, see
//!   `Canary::fill_roles`).
//! * **Values.** `--set KEY=VALUE` fills the plan's `${KEY}` for this run, over the
//!   environment. A `--set` that would change the live side's environment is refused (exit 2,
//!   nothing written): a release only changes the idle side. Found by loading the plan again
//!   with that one value perturbed and comparing each environment, so it needs no knowledge of
//!   any provider.
//! * **Remembered values.** The `--set` values that shaped an environment are kept in the
//!   rollout record ([`crate::providers::Record::vars`]) and fill `${KEY}` in later releases
//!   (over the environment, under `--set`): the side released with `--set GREEN_1=…` keeps
//!   that target when it is the live side of the next release, so that release does not
//!   rewrite it to the plan's default. Keys that look secret (`*_TOKEN`, `*PASSWORD`, …) are
//!   never stored; they are used for this run only, with a warning.
//! * **Refusals before any write.** Nothing live yet (exit 1: run `bgctl plan apply` first); a
//!   rollout in progress, paused, or a switch not yet verified (exit 1: finish it with
//!   `promote`, `abort` or `plan apply`); traffic on something that is not an environment of
//!   this plan (exit 1).

use std::path::Path;

use clap::Args;

use super::{ChangeArgs, GlobalArgs, PlanFileArg};
use crate::engine::canary::{CanaryOptions, Start};
use crate::engine::history;
use crate::engine::Engine;
use crate::error::CliError;
use crate::exit::Exit;
use crate::plan::{self, Plan, PlanErrors};
use crate::providers::{Phase, Provider, Snapshot, Traffic};
use crate::ui::Ui;

/// Release to the side that is not live: it becomes the candidate, the live side stays stable,
/// and the plan's strategy runs (blue-green switch or canary steps). Two releases in a row
/// alternate sides with no plan edit.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The plan file.
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// A plan variable for this release (`${KEY}`), over the environment; may be repeated.
    /// Values that shape the candidate are remembered for later releases.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Confirmation and dry-run flags.
    #[command(flatten)]
    pub change: ChangeArgs,
    /// At a canary's manual gate, wait for `bgctl promote` from another runner instead of exiting 6.
    #[arg(long)]
    pub wait: bool,
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let valid = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "`{k}` is not a variable name (letters, digits and `_`)"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Variable lookup: `--set`, then the remembered values, then the environment.
fn lookup<'a>(
    sets: &'a [(String, String)],
    recorded: &'a [(String, String)],
) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        let find = |list: &[(String, String)]| {
            list.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        find(sets)
            .or_else(|| find(recorded))
            .or_else(|| std::env::var(k).ok())
    }
}

/// Loads the plan with `env`, sets the release's roles (`(live, candidate)`), validates it.
fn load_plan(
    g: &GlobalArgs,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    roles: Option<(&str, &str)>,
) -> Result<Plan, CliError> {
    let loaded = plan::load::load(file, env, &super::limits(g))?;
    let mut plan = loaded.plan;
    if let Some((live, candidate)) = roles {
        if let Some(bg) = plan.strategy.blue_green.as_mut() {
            bg.active_environment = candidate.to_string();
        }
        if let Some(c) = plan.strategy.canary.as_mut() {
            c.stable = live.to_string();
            c.canary = candidate.to_string();
        }
    }
    let problems = plan::validate::validate(&plan);
    if !problems.is_empty() {
        let mut errors = PlanErrors::new(file);
        errors.extend(problems, &loaded.index);
        return Err(errors.into());
    }
    if let Some(k) = plan.provider.kubernetes.as_mut() {
        if g.context.is_some() {
            k.context.clone_from(&g.context);
        }
    }
    plan::paths::resolve(&mut plan, file.parent().unwrap_or(Path::new(".")));
    Ok(plan)
}

/// The live side, or why there is none to release from.
fn live_side(plan: &Plan, snap: &Snapshot) -> Result<String, CliError> {
    let name = &plan.metadata.name;
    let refuse = |headline: String, hint: &str| CliError {
        exit: Exit::Error,
        headline,
        detail: None,
        causes: Vec::new(),
        hints: vec![hint.to_string()],
    };
    let phase = snap.record.phase;
    if matches!(phase, Phase::Progressing | Phase::Paused | Phase::Verifying)
        || matches!(snap.traffic, Traffic::Split { .. })
    {
        return Err(refuse(
            format!(
                "rollout `{name}` has a release in progress (phase `{}`, traffic {}); nothing was changed",
                phase.as_str(),
                snap.traffic
            ),
            "finish it first: `bgctl promote` or `bgctl abort` for a canary, `bgctl plan apply` to resume or verify it",
        ));
    }
    match &snap.traffic {
        Traffic::Env { env } if phase == Phase::Failed => Err(refuse(
            format!("the last release of `{name}` failed and `{env}` was not verified; nothing was changed"),
            &format!("verify or repair it first: `bgctl switch --to {env}` (or `bgctl rollback`)"),
        )),
        Traffic::Env { env } => Ok(env.clone()),
        Traffic::Missing => Err(refuse(
            format!("nothing is live yet for rollout `{name}`: there is no side to release from"),
            "make the first side live with `bgctl plan apply`, then `bgctl release` takes turns from there",
        )),
        other => Err(refuse(
            format!("traffic of `{name}` goes to {other}; nothing was changed"),
            "make one of the plan's environments live first: `bgctl switch --to ENV` or `bgctl plan apply`",
        )),
    }
}

/// A value that still parses as what it was, but differs (to see which environment it shapes).
fn perturb(v: &str) -> String {
    if let Ok(i) = v.parse::<i64>() {
        return (i ^ 1).to_string();
    }
    if let Ok(f) = v.parse::<f64>() {
        return (f + 0.5).to_string();
    }
    match v {
        "true" => "false".into(),
        "false" => "true".into(),
        _ => format!("{v}-bgctl-probe"),
    }
}

/// The environments a `--set` key shapes: those whose definition changes when only its value
/// changes. A plan that does not load with the perturbed value counts as shaping all of them.
fn shaped_by(
    g: &GlobalArgs,
    file: &Path,
    sets: &[(String, String)],
    recorded: &[(String, String)],
    key: &str,
) -> Vec<String> {
    let limits = super::limits(g);
    let envs = |sets: &[(String, String)]| {
        plan::load::load(file, &lookup(sets, recorded), &limits)
            .ok()
            .map(|l| l.plan.environments)
    };
    let mut changed: Vec<(String, String)> = sets.to_vec();
    for (k, v) in &mut changed {
        if k == key {
            *v = perturb(v);
        }
    }
    match (envs(sets), envs(&changed)) {
        (Some(a), Some(b)) => a
            .iter()
            .filter(|(name, e)| {
                serde_json::to_value(e).ok()
                    != b.get(*name).and_then(|x| serde_json::to_value(x).ok())
            })
            .map(|(name, _)| name.clone())
            .collect(),
        (Some(a), None) => a.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The plan as far as it takes to reach the target, and what the target holds. Variables
/// only earlier releases gave (remembered in the record) are not known yet: unset ones read as
/// empty here, and the plan is validated once they are known. When the record names a canary's
/// roles they are used (a Kong canary's mixed upstream is named after its canary side).
async fn read_live(
    g: &GlobalArgs,
    file: &Path,
    sets: &[(String, String)],
    deadline: &crate::deadline::Deadline,
) -> Result<(Plan, Snapshot), CliError> {
    let strict = lookup(sets, &[]);
    let lenient = |k: &str| strict(k).or_else(|| Some(String::new()));
    let mut first = match plan::load::load(file, &lenient, &super::limits(g)) {
        Ok(l) => l.plan,
        // Reported as the strict load words it.
        Err(_) => load_plan(g, file, &strict, None)?,
    };
    plan::paths::resolve(&mut first, file.parent().unwrap_or(Path::new(".")));
    if let Some(k) = first.provider.kubernetes.as_mut() {
        if g.context.is_some() {
            k.context.clone_from(&g.context);
        }
    }
    let provider = super::provider(&first, deadline)?;
    let mut snap = provider
        .snapshot()
        .await
        .map_err(|e| CliError::engine(&crate::engine::EngineError::from(e), file))?;
    let r = &snap.record;
    let recorded_roles = match (&r.stable, &r.canary) {
        (Some(s), Some(c))
            if first.environments.contains_key(s) && first.environments.contains_key(c) =>
        {
            Some((s.clone(), c.clone()))
        }
        _ => None,
    };
    if let (Some(c), Some((s, cn))) = (first.strategy.canary.as_mut(), recorded_roles) {
        if c.stable != s || c.canary != cn {
            c.stable = s;
            c.canary = cn;
            snap = super::provider(&first, deadline)?
                .snapshot()
                .await
                .map_err(|e| CliError::engine(&crate::engine::EngineError::from(e), file))?;
        }
    }
    Ok((first, snap))
}

/// The plan for a command that continues or ends a canary in progress (`promote`, `abort`).
/// A canary started by `bgctl release` runs with roles the plan file does not state (the live
/// side as stable) and with `--set` values only the target remembers; when the target records
/// such a canary, this is the plan as that release ran it: the recorded `stable`/`canary` and
/// the remembered values (before the environment). Otherwise, and whenever the target cannot be
/// read here, the plan as written (the engine then reports the target's error itself).
pub(super) async fn plan_in_progress(
    g: &GlobalArgs,
    file: &Path,
    deadline: &crate::deadline::Deadline,
) -> Result<Plan, CliError> {
    let written = super::load(g, file);
    match &written {
        Ok(p) if p.strategy.canary.is_none() => return written,
        Ok(_) => {}
        // Only a plan whose one problem is values the target may remember is worth reading
        // the target for; any other bad plan is refused before anything is contacted.
        Err(_) => {
            let only_unset = plan::load_and_validate(file, &super::limits(g)).is_err_and(|e| {
                !e.problems.is_empty()
                    && e.problems.iter().all(|p| p.message.ends_with("is not set"))
            });
            if !only_unset {
                return written;
            }
        }
    }
    let Ok((first, snap)) = read_live(g, file, &[], deadline).await else {
        return written;
    };
    let r = &snap.record;
    let in_progress = matches!(
        r.phase,
        Phase::Paused | Phase::Progressing | Phase::Verifying
    );
    let (stable, canary) = match (&r.stable, &r.canary) {
        (Some(s), Some(c))
            if in_progress
                && first.environments.contains_key(s)
                && first.environments.contains_key(c) =>
        {
            (s.clone(), c.clone())
        }
        _ => return written,
    };
    let as_written = written
        .as_ref()
        .ok()
        .and_then(|p| p.strategy.canary.as_ref())
        .is_some_and(|c| c.stable == stable && c.canary == canary);
    if as_written && r.vars.is_empty() {
        return written;
    }
    let recorded = history::decode_vars(&r.vars);
    let env = lookup(&[], &recorded);
    load_plan(g, file, &env, Some((&stable, &canary)))
}

/// Runs `release`.
pub async fn cmd_release(g: &GlobalArgs, ui: &Ui, args: &ReleaseArgs) -> Result<Exit, CliError> {
    let file = args.plan.resolve(ui)?;
    let sets = &args.set;
    let mut opts = super::options(g, &args.change);
    opts.command = "release".into();
    let (first, snap) = read_live(g, &file, sets, &opts.deadline).await?;
    let envs: Vec<String> = first.environments.keys().cloned().collect();
    let [a, b] = envs.as_slice() else {
        return Err(CliError::usage(
            format!(
                "`bgctl release` takes turns between two environments; `{}` defines {}",
                file.display(),
                envs.len()
            ),
            "use `bgctl switch --to ENV` or `bgctl plan apply` with this plan",
        ));
    };
    let live = live_side(&first, &snap)?;
    let candidate = if live == *a { b.clone() } else { a.clone() };
    let recorded = history::decode_vars(&snap.record.vars);

    // What each `--set` shapes: never the live side; the candidate's values are remembered.
    let mut remember = Vec::new();
    for (key, value) in sets {
        let shaped = shaped_by(g, &file, sets, &recorded, key);
        if shaped.contains(&live) {
            return Err(CliError::usage(
                format!("`--set {key}` changes `{live}`, which is live; a release changes only the idle side `{candidate}`"),
                format!("set the variable that shapes `{candidate}`, or change `{live}` with `bgctl plan apply`"),
            ));
        }
        if shaped.is_empty() {
            continue;
        }
        if crate::redact::is_secret_key(key) {
            ui.say(&format!(
                "warning: `{key}` looks like a secret: it is used for this release but not remembered in the target; set it in the environment for later releases"
            ));
        } else {
            remember.push(history::encode_var(key, value));
        }
    }
    opts.vars = remember;

    let plan = load_plan(
        g,
        &file,
        &lookup(sets, &recorded),
        Some((&live, &candidate)),
    )?;
    ui.say(&format!(
        "release: `{live}` is live; releasing `{candidate}`"
    ));
    let provider = super::provider(&plan, &opts.deadline)?;
    let engine = Engine::new(&provider, &plan, &opts, ui);
    let result = if plan.strategy.blue_green.is_some() {
        engine.deploy(&candidate, "release").await
    } else {
        engine
            .canary(Start::Apply, CanaryOptions { wait: args.wait })
            .await
    };
    super::finish(result, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_takes_key_equals_value() {
        assert_eq!(
            parse_set("GREEN_IMAGE=reg.io/app:2=x").unwrap(),
            ("GREEN_IMAGE".into(), "reg.io/app:2=x".into())
        );
        assert!(parse_set("NOVALUE").is_err());
        assert!(parse_set("1X=a").is_err());
        assert!(parse_set("A-B=a").is_err());
    }

    #[test]
    fn perturbed_values_keep_their_type_and_differ() {
        for v in ["0", "100", "2.5", "true", "false", "10.0.0.1:80"] {
            let p = perturb(v);
            assert_ne!(p, v);
            assert_eq!(
                p.parse::<f64>().is_ok(),
                v.parse::<f64>().is_ok(),
                "{v} -> {p}"
            );
        }
    }

    #[test]
    fn set_wins_over_remembered_values_which_win_over_the_environment() {
        let sets = vec![("A".to_string(), "set".to_string())];
        let recorded = vec![
            ("A".to_string(), "rec".to_string()),
            ("PATH".to_string(), "rec".to_string()),
        ];
        let get = lookup(&sets, &recorded);
        assert_eq!(get("A").as_deref(), Some("set"));
        assert_eq!(get("PATH").as_deref(), Some("rec"));
        assert_eq!(get("BGCTL_SURELY_UNSET_VAR"), None);
    }
}
