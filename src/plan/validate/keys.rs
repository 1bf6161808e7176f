//! Unknown keys: the problem for a key the plan model does not have, with the closest valid key
//! (by edit distance) as a hint, or the keys that are allowed there. The allowed keys come from
//! the JSON Schema of [`Plan`], so they cannot drift from the model.

use serde_json::Value as Json;

use crate::plan::model::Plan;
use crate::plan::Problem;

/// The problem for a key the model does not have, with the closest valid key as a hint.
pub fn unknown_key(path: &str) -> Problem {
    let (parent, key) = match path.rfind('.') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let mut p = Problem::new(path, "unknown key");
    p.at_key = true;
    let known = keys_at(parent);
    if let Some(best) = closest(key, known.iter().map(String::as_str)) {
        p.hint = Some(format!("did you mean `{best}`?"));
    } else if !known.is_empty() {
        p.hint = Some(format!(
            "valid keys here: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    p
}

/// The closest candidate by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The keys the plan schema allows under `path` (walks the JSON Schema of [`Plan`]).
fn keys_at(path: &str) -> Vec<String> {
    let root = serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or(Json::Null);
    let mut node = resolve(&root, &root);
    for seg in split_path(path) {
        node = match seg {
            Seg::Key(k) => match node.get("properties").and_then(|p| p.get(&k)) {
                Some(n) => resolve(&root, n),
                None => match node.get("additionalProperties") {
                    Some(n) if n.is_object() => resolve(&root, n),
                    _ => return Vec::new(),
                },
            },
            Seg::Index => match node.get("items") {
                Some(n) => resolve(&root, n),
                None => return Vec::new(),
            },
        };
    }
    node.get("properties")
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Follows `$ref` and unwraps `Option` (`anyOf: [T, null]`).
fn resolve<'a>(root: &'a Json, mut node: &'a Json) -> &'a Json {
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            match root.get("$defs").and_then(|d| d.get(name)) {
                Some(n) => node = n,
                None => return node,
            }
        } else if let Some(alts) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Json::as_array)
        {
            match alts
                .iter()
                .find(|a| a.get("type").and_then(Json::as_str) != Some("null"))
            {
                Some(n) => node = n,
                None => return node,
            }
        } else {
            return node;
        }
    }
    node
}

enum Seg {
    Key(String),
    Index,
}

fn split_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push(Seg::Index);
                rest = &rest[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}
