//! Where each key of a plan sits in its source, and what the source may cost: a low-level
//! `yaml-rust2` event pass records the line and column of every key and value by key path,
//! and rejects input that nests too deep or whose aliases expand too far (the "billion laughs"
//! document) before anything expands it. The loader turns key paths into `file:line:column`
//! with it.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::Limits;
use crate::plan::Problem;

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

pub(super) fn join(path: &str, key: &str) -> String {
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

/// Indexes `text`: every key path's position, within `limits` (depth, alias expansion).
pub fn build_index(text: &str, limits: &Limits) -> Result<SourceIndex, Problem> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
