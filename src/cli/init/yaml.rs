//! The plan `bgctl init` writes, as YAML text with comments (serde would drop them): lines
//! with indentation, scalars quoted only when YAML would read them as something else, and the
//! placeholders the text holds.

/// A value the user must fill in: the environment variable, what it is, an example.
#[derive(Debug, Clone)]
pub struct Placeholder {
    /// The variable, e.g. `GREEN_TARGET`.
    pub var: String,
    /// What it stands for, e.g. "a target of `green`, host:port".
    pub what: String,
    /// A value that makes the plan valid (used to validate the written plan).
    pub example: String,
}

/// The plan being written.
#[derive(Debug, Default)]
pub struct Doc {
    lines: Vec<String>,
    /// The placeholders in the text, in order.
    pub placeholders: Vec<Placeholder>,
}

impl Doc {
    /// One line at `indent` levels of two spaces.
    pub fn line(&mut self, indent: usize, text: impl AsRef<str>) {
        self.lines
            .push(format!("{}{}", "  ".repeat(indent), text.as_ref()));
    }

    /// A comment line (`# text`) at `indent`, split on `\n`.
    pub fn comment(&mut self, indent: usize, text: impl AsRef<str>) {
        for l in text.as_ref().lines() {
            self.line(indent, format!("# {l}").trim_end());
        }
    }

    /// A placeholder: the quoted `${VAR}` to put in the text, registered.
    pub fn placeholder(&mut self, var: &str, what: &str, example: &str) -> String {
        if !self.placeholders.iter().any(|p| p.var == var) {
            self.placeholders.push(Placeholder {
                var: var.to_string(),
                what: what.to_string(),
                example: example.to_string(),
            });
        }
        format!("\"${{{var}}}\"")
    }

    /// The document.
    pub fn text(&self) -> String {
        let mut out = self.lines.join("\n");
        out.push('\n');
        out
    }
}

/// A YAML scalar for `s`: plain when that reads back as the same string, else double-quoted
/// (a JSON string is a valid YAML double-quoted scalar). `$` is escaped as `$$` so a value
/// read from the target is never interpolated.
pub fn scalar(s: &str) -> String {
    let s = s.replace('$', "$$");
    // Only these characters, not starting like an indicator, and read back as this string.
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
        && !s.starts_with(['-', ':'])
        && !s.ends_with(':')
        && serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&s)
            .is_ok_and(|v| v.as_str() == Some(s.as_str()));
    if safe {
        s
    } else {
        serde_json::to_string(&s).unwrap_or_default()
    }
}

/// A flow list `[a, b]` of scalars.
pub fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| scalar(i))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_that_yaml_would_change_are_quoted() {
        assert_eq!(scalar("address.v1.service"), "address.v1.service");
        assert_eq!(scalar("192.168.34.15:80"), "192.168.34.15:80");
        assert_eq!(scalar("/address"), "/address");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("8080"), "\"8080\"");
        assert_eq!(scalar("a b"), "\"a b\"");
        assert_eq!(scalar("${X}"), "\"$${X}\"");
        assert_eq!(list(&["a".into(), "null".into()]), "[a, \"null\"]");
    }
}
