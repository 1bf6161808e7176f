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
    interpolate_value(&mut value, "", env, &mut problems);
    register_secrets(&value, false);

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

/// Hands every configured secret to [`crate::redact`] before anything can print it (a
/// validation error included): header values, values of secret-looking keys, and the userinfo
/// and secret-looking query values of every URL.
fn register_secrets(v: &Value, secret: bool) {
    match v {
        Value::String(s) => {
            if secret {
                crate::redact::register(s);
            }
            if s.contains("://") {
                crate::redact::register_url(s);
            }
        }
        Value::Number(n) if secret => crate::redact::register(&n.to_string()),
        Value::Sequence(items) => items.iter().for_each(|i| register_secrets(i, secret)),
        Value::Mapping(map) => {
            for (k, item) in map {
                let key = k.as_str().unwrap_or_default();
                let is_secret = secret
                    || key.eq_ignore_ascii_case("headers")
                    || crate::redact::is_secret_key(key);
                register_secrets(item, is_secret);
            }
        }
        Value::Tagged(t) => register_secrets(&t.value, secret),
        _ => {}
    }
}

fn interpolate_value(
    v: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    match v {
        Value::String(s) if s.contains('$') => match interpolate(s, env) {
            Ok(out) => {
                let whole = s.trim().starts_with("${")
                    && s.trim().ends_with('}')
                    && s.matches("${").count() == 1;
                *v = if whole {
                    scalar_from(&out)
                } else {
                    Value::String(out)
                };
            }
            Err(msg) => problems.push(Problem::new(path, msg.0).hint(&msg.1)),
        },
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{path}[{i}]"), env, problems);
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map.iter_mut() {
                let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_string);
                interpolate_value(item, &join(path, &key), env, problems);
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, path, env, problems),
        _ => {}
    }
}

/// A value that was exactly one `${VAR}` takes the variable's scalar type (`weight: ${W}`).
fn scalar_from(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() && !text.is_empty() {
            return Value::Number(f.into());
        }
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

/// Expands `${VAR}`, `${VAR:-default}` and `$$` (a literal `$`). Errors carry a message and a hint.
pub fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                (
                    format!("unclosed `${{` in `{s}`"),
                    "close the variable with `}`, or write `$$` for a literal `$`".to_string(),
                )
            })?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err((
                    format!("`${{{expr}}}` is not a valid variable reference"),
                    "names use letters, digits and `_`: `${NAME}` or `${NAME:-default}`"
                        .to_string(),
                ));
            }
            match (env(name).filter(|v| !v.is_empty() || default.is_none()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err((
                        format!("environment variable `{name}` is not set"),
                        format!("export {name}=… before running bgctl, or give a default: `${{{name}:-value}}`"),
                    ))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
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

    #[test]
    fn deep_nesting_is_rejected() {
        let doc = "[".repeat(200) + &"]".repeat(200);
        let err = build_index(&doc, &Limits::default()).unwrap_err();
        assert!(err.message.contains("nests deeper"), "{}", err.message);
    }
}
