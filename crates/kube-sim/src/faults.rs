//! Fault injection: "the next N requests matching (method, path glob) fail with this status,
//! are delayed, or hang". Rules are consumed in the order they were added; a request uses the
//! first rule that matches and still has uses left.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to a request a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this HTTP status and a `kind: Status` body (reason from the code).
    Status(u16),
    /// Wait this long, then serve the request normally.
    Delay(Duration),
    /// Never answer (until the simulator shuts down).
    Hang,
}

/// One rule: `times` requests whose method and path match get `action`.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// HTTP method, or `*` for any.
    pub method: String,
    /// Glob over the request path (no query): `*` matches any run of characters, `/` included.
    pub path_glob: String,
    /// How many matching requests the rule still affects.
    pub times: usize,
    /// What the matching requests get.
    pub action: FaultAction,
}

/// A handle on the simulator's fault rules; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

impl Faults {
    /// Add a rule.
    pub fn add(&self, rule: FaultRule) {
        self.rules.lock().expect("faults lock").push(rule);
    }

    /// The next `times` requests matching `method` (`*` for any) and `path_glob` answer `status`.
    pub fn fail_next(&self, method: &str, path_glob: &str, times: usize, status: u16) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::Status(status),
        });
    }

    /// The next `times` matching requests are served after `delay`.
    pub fn delay_next(&self, method: &str, path_glob: &str, times: usize, delay: Duration) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::Delay(delay),
        });
    }

    /// The next `times` matching requests never get an answer.
    pub fn hang_next(&self, method: &str, path_glob: &str, times: usize) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::Hang,
        });
    }

    /// Drop every rule.
    pub fn clear(&self) {
        self.rules.lock().expect("faults lock").clear();
    }

    /// Rules with uses left.
    pub fn pending(&self) -> Vec<FaultRule> {
        self.rules.lock().expect("faults lock").clone()
    }

    /// Consume one use of the first rule matching this request.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.rules.lock().expect("faults lock");
        let i = rules.iter().position(|r| {
            r.times > 0
                && (r.method == "*" || r.method.eq_ignore_ascii_case(method))
                && glob_match(r.path_glob.as_bytes(), path.as_bytes())
        })?;
        rules[i].times -= 1;
        let action = rules[i].action.clone();
        if rules[i].times == 0 {
            rules.remove(i);
        }
        Some(action)
    }
}

/// `*` matches any run (including `/`), `?` one byte; everything else literally.
pub(crate) fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pat[1..], s) || (!s.is_empty() && glob_match(pat, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pat[1..], &s[1..]),
        (Some(p), Some(c)) if p == c => glob_match(&pat[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            b"/apis/*/httproutes/web",
            b"/apis/gateway.networking.k8s.io/v1/namespaces/a/httproutes/web"
        ));
        assert!(glob_match(b"*", b"/api/v1"));
        assert!(!glob_match(
            b"/api/v1/*/services",
            b"/api/v1/namespaces/a/services/x"
        ));
    }

    #[test]
    fn rules_are_consumed() {
        let f = Faults::default();
        f.fail_next("PATCH", "/api/*", 2, 500);
        assert_eq!(f.take("GET", "/api/v1"), None);
        assert_eq!(f.take("patch", "/api/v1"), Some(FaultAction::Status(500)));
        assert_eq!(f.take("PATCH", "/api/v1"), Some(FaultAction::Status(500)));
        assert_eq!(f.take("PATCH", "/api/v1"), None);
    }
}
