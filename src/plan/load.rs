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
//! index turns paths into `file:line:column`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::model::Plan;
use super::{PlanErrors, Problem};

mod interpolate;
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

/// A line and column, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Pos {
        Pos {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// Where each key path sits in the source.
#[derive(Debug, Default)]
pub struct SourceIndex {
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

impl SourceIndex {
    /// Position of the key at `path`, else of its value, else of the nearest ancestor.
    pub fn key_pos(&self, path: &str) -> Option<Pos> {
        self.lookup(path, true)
    }

    /// Position of the value at `path`, else of its key, else of the nearest ancestor.
    pub fn value_pos(&self, path: &str) -> Option<Pos> {
        self.lookup(path, false)
    }

    fn lookup(&self, path: &str, prefer_key: bool) -> Option<Pos> {
        let mut p = path.to_string();
        loop {
            let (first, second) = if prefer_key {
                (&self.keys, &self.values)
            } else {
                (&self.values, &self.keys)
            };
            if let Some(pos) = first.get(&p).or_else(|| second.get(&p)) {
                return Some(*pos);
            }
            p = parent_path(&p)?;
        }
    }
}

/// The parent of a key path: `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
pub fn parent_path(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

enum FrameKind {
    Map { key: Option<String> },
    Seq { index: usize },
}

struct Frame {
    path: String,
    kind: FrameKind,
    /// Anchor id of this collection (0 = none) and the cost counter when it opened.
    anchor: usize,
    start_cost: usize,
}

struct Indexer<'a> {
    limits: &'a Limits,
    index: SourceIndex,
    stack: Vec<Frame>,
    /// Nodes each anchor stands for (aliases inside it included), to price its aliases.
    anchor_sizes: HashMap<usize, usize>,
    /// Nodes seen so far, counting each alias as the nodes it expands to.
    cost: usize,
    /// Nodes added by aliases alone.
    expansion: usize,
    error: Option<Problem>,
}

impl Indexer<'_> {
    /// Records the position of the node that starts here and returns its path.
    fn node_path(&mut self, mark: Marker) -> String {
        let p = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame {
                path,
                kind: FrameKind::Map { key },
                ..
            }) => key.take().map(|k| join(path, &k)).unwrap_or_default(),
            Some(Frame {
                path,
                kind: FrameKind::Seq { index },
                ..
            }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                p
            }
        };
        self.index
            .values
            .entry(p.clone())
            .or_insert(Pos::from_marker(mark));
        p
    }

    fn fail(&mut self, mark: Marker, message: String, hint: &str) {
        if self.error.is_none() {
            let mut problem = Problem::new("", message).hint(hint);
            problem.pos = Some(Pos::from_marker(mark));
            self.error = Some(problem);
        }
    }
}

/// `!!str` (in either spelling): forcing a string is harmless, every other tag would be
/// dropped or misread by the deserializer.
fn is_str_tag(tag: &yaml_rust2::parser::Tag) -> bool {
    matches!(
        (tag.handle.as_str(), tag.suffix.as_str()),
        ("!!" | "tag:yaml.org,2002:", "str")
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl MarkedEventReceiver for Indexer<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(_, _, _, Some(ref tag))
            | Event::MappingStart(_, Some(ref tag))
            | Event::SequenceStart(_, Some(ref tag))
                if !is_str_tag(tag) =>
            {
                let handle = match tag.handle.as_str() {
                    "tag:yaml.org,2002:" => "!!",
                    h => h,
                };
                let shown = format!("{handle}{}", tag.suffix);
                self.fail(
                    mark,
                    format!("the YAML tag `{shown}` is not supported"),
                    "remove the tag: a plan holds plain strings, numbers, booleans, lists and mappings (`!!str` is the one tag accepted)",
                );
            }
            Event::Scalar(text, _, anchor, _) => {
                self.cost += 1;
                if let Some(Frame {
                    path,
                    kind: FrameKind::Map { key },
                    ..
                }) = self.stack.last_mut()
                {
                    if key.is_none() {
                        let p = join(path, &text);
                        *key = Some(text);
                        self.index.keys.entry(p).or_insert(Pos::from_marker(mark));
                        return;
                    }
                }
                self.node_path(mark);
                if anchor > 0 {
                    self.anchor_sizes.insert(anchor, 1);
                }
            }
            Event::Alias(id) => {
                self.node_path(mark);
                let size = self.anchor_sizes.get(&id).copied().unwrap_or(1);
                self.cost = self.cost.saturating_add(size);
                self.expansion = self.expansion.saturating_add(size);
                if self.expansion > self.limits.max_alias_expansion {
                    self.fail(
                        mark,
                        format!(
                            "YAML aliases expand to more than {} nodes",
                            self.limits.max_alias_expansion
                        ),
                        "a plan needs no aliases that expand this far; write the values out",
                    );
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.cost += 1;
                let path = self.node_path(mark);
                let kind = if matches!(ev, Event::MappingStart(..)) {
                    FrameKind::Map { key: None }
                } else {
                    FrameKind::Seq { index: 0 }
                };
                self.stack.push(Frame {
                    path,
                    kind,
                    anchor,
                    start_cost: self.cost,
                });
                if self.stack.len() > self.limits.max_depth {
                    self.fail(
                        mark,
                        format!(
                            "the YAML nests deeper than {} levels",
                            self.limits.max_depth
                        ),
                        "a plan needs only a few levels; check for runaway indentation or brackets",
                    );
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(frame) = self.stack.pop() {
                    if frame.anchor > 0 {
                        self.anchor_sizes
                            .insert(frame.anchor, self.cost - frame.start_cost + 1);
                    }
                }
            }
            _ => {}
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
    let schema = plan_schema();
    interpolate_value(&mut value, "", Some(&schema), &schema, env, &mut problems);
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
        Ok(plan) => Some(plan),
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

fn build_index(text: &str, limits: &Limits) -> Result<SourceIndex, Problem> {
    let mut indexer = Indexer {
        limits,
        index: SourceIndex::default(),
        stack: Vec::new(),
        anchor_sizes: HashMap::new(),
        cost: 0,
        expansion: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut indexer, false) {
        let mut p = Problem::new("", format!("invalid YAML: {}", e.info()));
        p.pos = Some(Pos::from_marker(*e.marker()));
        return Err(p);
    }
    match indexer.error {
        Some(p) => Err(p),
        None => Ok(indexer.index),
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

    #[test]
    fn index_locates_keys_and_items() {
        let text = "a:\n  b:\n    - {x: 1}\n    - {y: 2}\nc:\n  d: 3\n";
        let idx = build_index(text, &Limits::default()).unwrap();
        assert_eq!(idx.key_pos("a.b[1].y"), Some(Pos { line: 4, col: 8 }));
        assert_eq!(idx.value_pos("a.b[1].y"), Some(Pos { line: 4, col: 11 }));
        assert_eq!(idx.key_pos("c.d"), Some(Pos { line: 6, col: 3 }));
        assert_eq!(
            idx.key_pos("c.zzz"),
            Some(Pos { line: 5, col: 1 }),
            "an unknown key falls back to its parent"
        );
        assert_eq!(parent_path("a.b[1].y").as_deref(), Some("a.b[1]"));
    }

    #[test]
    fn billion_laughs_is_rejected_before_expansion() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        let err = build_index(&doc, &Limits::default()).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{}", err.message);
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

    #[test]
    fn deep_nesting_is_rejected() {
        let doc = "[".repeat(200) + &"]".repeat(200);
        let err = build_index(&doc, &Limits::default()).unwrap_err();
        assert!(err.message.contains("nests deeper"), "{}", err.message);
    }
}
