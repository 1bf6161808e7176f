//! Reading a plan file: size and encoding guards, YAML parsing with positions, `${VAR}`
//! interpolation, typed deserialization and unknown-key collection.
//!
//! The YAML is read twice on purpose. A low-level event pass (`yaml-rust2`) records the line and
//! column of every key and value by key path and bounds what an input can cost (nesting depth,
//! alias expansion — the "billion laughs" document is rejected before anything expands it).
//! Then `serde_yaml_ng` builds a value tree, variables are interpolated in string values (never in
//! keys, and never by re-parsing text, so a variable cannot inject YAML), and the tree is
//! deserialized with `serde_path_to_error` (the path of a type error) and `serde_ignored`
//! (every unknown key, not just the first). All problems become [`Problem`]s with a key path; the
//! index (`load/index.rs`) turns paths into `file:line:column`.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::model::Plan;
use super::{PlanErrors, Problem};

mod index;
mod interpolate;
use index::join;
pub use index::{build_index, parent_path, Pos, SourceIndex};
pub use interpolate::interpolate;
use interpolate::{duplicate_headers, interpolate_value, plan_schema, register_secrets};

/// Limits that keep hostile input cheap.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most YAML events that aliases may expand to in total.
    pub max_alias_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_alias_expansion: 10_000,
        }
    }
}

/// A plan read from a file, with the index that locates its keys.
#[derive(Debug)]
pub struct Loaded {
    /// The typed plan (interpolated).
    pub plan: Plan,
    /// The file it came from.
    pub file: PathBuf,
    /// Key path → position.
    pub index: SourceIndex,
}

/// Reads, interpolates and deserializes one plan. Semantic validation is separate
/// ([`super::validate::validate`]).
pub fn load(
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    limits: &Limits,
) -> Result<Loaded, PlanErrors> {
    let bytes = std::fs::read(file).map_err(|e| {
        PlanErrors::single(
            file,
            Problem::new("", format!("cannot read the plan: {e}"))
                .hint("check the path and that the file is readable"),
        )
    })?;
    load_bytes(file, &bytes, env, limits)
}

/// Like [`load`], from bytes already read.
pub fn load_bytes(
    file: &Path,
    bytes: &[u8],
    env: &dyn Fn(&str) -> Option<String>,
    limits: &Limits,
) -> Result<Loaded, PlanErrors> {
    let single = |p: Problem| PlanErrors::single(file, p);
    if bytes.len() > limits.max_bytes {
        return Err(single(
            Problem::new("", format!("the plan is {} bytes; the limit is {}", bytes.len(), limits.max_bytes))
                .hint("plans are small documents; raise the limit with `--max-plan-bytes` if this one really is that large"),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        single(
            Problem::new(
                "",
                format!(
                    "the plan is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
            .hint("save the file as UTF-8"),
        )
    })?;
    // A byte-order mark is an encoding detail, not content (editors on Windows add one).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let index = build_index(text, limits).map_err(single)?;
    let mut value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let mut p = Problem::new(
            "",
            format!("invalid YAML: {}", strip_location(&e.to_string())),
        );
        p.pos = e.location().map(|l| Pos {
            line: l.line(),
            col: l.column(),
        });
        single(p)
    })?;
    if value.is_null() {
        return Err(single(
            Problem::new("", "the plan is empty")
                .hint("start from `plans/demo.yaml` or `bgctl schema`"),
        ));
    }
    let mut problems = Vec::new();
    // `${…}` and `$${…}` are the only things interpolation looks at.
    if text.contains('$') {
        let schema = plan_schema();
        interpolate_value(&mut value, "", Some(schema), schema, env, &mut problems);
    }
    register_secrets(&value, false);
    duplicate_headers(&value, "", &mut problems);

    let mut unknown = Vec::new();
    let mut on_unknown = |p: serde_ignored::Path<'_>| unknown.push(ignored_path(&p));
    let ignored = serde_ignored::Deserializer::new(value, &mut on_unknown);
    let result: Result<Plan, _> = serde_path_to_error::deserialize(ignored);
    for path in unknown {
        problems.push(super::validate::unknown_key(&path));
    }
    let plan = match result {
        Ok(mut plan) => {
            // Omitted canary roles (`strategy.canary.stable`/`canary`) from the plan's order.
            let envs: Vec<String> = plan.environments.keys().cloned().collect();
            let envs: Vec<&str> = envs.iter().map(String::as_str).collect();
            if let Some(c) = plan.strategy.canary.as_mut() {
                c.fill_roles(&envs);
            }
            Some(plan)
        }
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            problems.push(type_problem(&path, &e.into_inner().to_string()));
            None
        }
    };
    if let Some(plan) = &plan {
        if !problems.is_empty() {
            // Report the semantic problems too, so one run shows everything.
            problems.extend(super::validate::validate(plan));
        }
    }
    let mut errors = PlanErrors::new(file);
    errors.extend(problems, &index);
    match plan {
        Some(plan) if errors.is_empty() => Ok(Loaded {
            plan,
            file: file.to_path_buf(),
            index,
        }),
        _ => Err(errors),
    }
}

fn type_problem(path: &str, message: &str) -> Problem {
    let message = strip_location(message);
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let full = join(path, field);
        return Problem::new(&full, "required key is missing").hint(&format!(
            "add `{field}:` under `{}`",
            if path.is_empty() {
                "the top level"
            } else {
                path
            }
        ));
    }
    let message = message
        .replace("expected i64", "expected an integer")
        .replace("expected u32", "expected a whole number")
        .replace("expected f64", "expected a number");
    Problem::new(path, message)
}

/// serde_yaml_ng appends " at line L column C" to some messages; positions come from our index.
fn strip_location(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

fn ignored_path(p: &serde_ignored::Path<'_>) -> String {
    match p {
        serde_ignored::Path::Root => String::new(),
        serde_ignored::Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        serde_ignored::Path::Map { parent, key } => join(&ignored_path(parent), key),
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("kong".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn interpolation_forms() {
        assert_eq!(
            interpolate("http://${HOST}:8001", &env).unwrap(),
            "http://kong:8001"
        );
        assert_eq!(interpolate("${MISSING:-x}", &env).unwrap(), "x");
        assert_eq!(interpolate("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(interpolate("${EMPTY}", &env).unwrap(), "");
        assert_eq!(
            interpolate("$$HOST costs $5", &env).unwrap(),
            "$HOST costs $5"
        );
        assert!(interpolate("${MISSING}", &env)
            .unwrap_err()
            .0
            .contains("`MISSING` is not set"));
        assert!(interpolate("${HOST", &env)
            .unwrap_err()
            .0
            .contains("unclosed"));
        assert!(interpolate("${1X}", &env)
            .unwrap_err()
            .0
            .contains("not a valid variable"));
    }

    const PLAN: &str = "apiVersion: bgctl.dev/v1
kind: Rollout
metadata: {name: t}
provider: {kong: {adminUrl: 'http://127.0.0.1:9', headers: {Kong-Admin-Token: '${TOK}'HEADERS}}}
service: {name: s, routes: [{name: r, paths: [/]}]}
environments:
  blue: {upstream: b.up, targets: [{target: '127.0.0.1:1', weight: '${W}'}]}
  green: {upstream: g.up, targets: [{target: '127.0.0.1:2'}]}
strategy:
  blueGreen: {activeEnvironment: blue}
";

    fn load_text(text: &str, tok: &str) -> Result<Loaded, PlanErrors> {
        let tok = tok.to_string();
        let env = move |n: &str| match n {
            "TOK" => Some(tok.clone()),
            "W" => Some("50".to_string()),
            _ => None,
        };
        load_bytes(
            Path::new("t.yaml"),
            text.as_bytes(),
            &env,
            &Limits::default(),
        )
    }

    #[test]
    fn whole_variable_values_are_typed_only_where_the_schema_wants_a_number() {
        for tok in ["98765432101234", "0042424242", "true", "1.5e3"] {
            let plan = load_text(&PLAN.replace("HEADERS", ""), tok)
                .unwrap_or_else(|e| panic!("{tok}: {}", e.details()))
                .plan;
            let kong = plan.kong().unwrap();
            assert_eq!(kong.headers["Kong-Admin-Token"].expose(), tok);
            let w = plan.environments["blue"].targets[0].weight;
            assert_eq!(w, 50, "weight: ${{W}} is still a number");
        }
    }

    #[test]
    fn a_byte_order_mark_is_not_a_second_document() {
        let text = format!("\u{feff}---\n{}", PLAN.replace("HEADERS", ""));
        assert!(load_text(&text, "t0k3n-value").is_ok());
    }

    #[test]
    fn header_names_differing_only_in_case_are_duplicates() {
        let err = load_text(&PLAN.replace("HEADERS", ", kong-admin-token: x"), "t0k3n")
            .unwrap_err()
            .details();
        assert!(
            err.contains("provider.kong.headers.kong-admin-token")
                && err.contains("repeats `Kong-Admin-Token`"),
            "{err}"
        );
    }

    #[test]
    fn yaml_tags_are_rejected_except_str() {
        for tag in ["!!binary", "!custom", "!!int"] {
            let text = PLAN.replace("name: t}", &format!("name: {tag} dA==}}"));
            let err = load_text(&text.replace("HEADERS", ""), "t0k3n")
                .unwrap_err()
                .details();
            assert!(
                err.contains("is not supported") && err.contains("t.yaml:3:"),
                "{tag}: {err}"
            );
        }
        let text = PLAN.replace("name: t}", "name: !!str t}");
        assert!(load_text(&text.replace("HEADERS", ""), "t0k3n").is_ok());
    }
}
