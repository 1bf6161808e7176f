//! Fault injection: "the next N requests matching (method, path glob) fail with this status,
//! are delayed, hang, have their connection reset, or lose their answer", and a random rate
//! ([`Faults::set_random`]). Rules are consumed in the order they were added; a request uses
//! the first rule that matches and still has uses left, and only a request no rule takes can
//! meet the random fault.

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
    /// Abort the connection with a TCP RST without answering; the request is not carried out.
    /// Logged with status 0 and `aborted`.
    Reset,
    /// Carry the request out (a write is stored), then abort the connection with a TCP RST
    /// instead of answering: the client never learns the outcome. Logged with the status it
    /// would have had and `aborted`.
    LoseAnswer,
    /// Serve the request as a GET of the same path, its body dropped: nothing is written and
    /// the answer (200) shows the object as it was. Models a write answered but not applied,
    /// and a write a proxy in between turned into a GET (logged with the method it came with
    /// and the status of the GET).
    AsGet,
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
    random: Arc<Mutex<Option<(f64, FaultAction)>>>,
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

    /// The next `times` matching requests have their connection reset, unanswered and not
    /// carried out.
    pub fn reset_next(&self, method: &str, path_glob: &str, times: usize) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::Reset,
        });
    }

    /// The next `times` matching requests are carried out, then their connection is reset
    /// instead of answering.
    pub fn lose_answer_next(&self, method: &str, path_glob: &str, times: usize) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::LoseAnswer,
        });
    }

    /// The next `times` matching requests are served as a GET of their path ([`FaultAction::AsGet`]).
    pub fn as_get_next(&self, method: &str, path_glob: &str, times: usize) {
        self.add(FaultRule {
            method: method.to_string(),
            path_glob: path_glob.to_string(),
            times,
            action: FaultAction::AsGet,
        });
    }

    /// Every request no rule takes meets `action` with probability `rate` (0.0–1.0); a rate
    /// of 0 turns the random fault off. Independent draws per request.
    pub fn set_random(&self, rate: f64, action: FaultAction) {
        *self.random.lock().expect("faults lock") = (rate > 0.0).then_some((rate.min(1.0), action));
    }

    /// Drop every rule and the random fault.
    pub fn clear(&self) {
        self.rules.lock().expect("faults lock").clear();
        *self.random.lock().expect("faults lock") = None;
    }

    /// Rules with uses left.
    pub fn pending(&self) -> Vec<FaultRule> {
        self.rules.lock().expect("faults lock").clone()
    }

    /// Consume one use of the first rule matching this request; without one, draw the
    /// random fault.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.rules.lock().expect("faults lock");
        let Some(i) = rules.iter().position(|r| {
            r.times > 0
                && (r.method == "*" || r.method.eq_ignore_ascii_case(method))
                && glob_match(r.path_glob.as_bytes(), path.as_bytes())
        }) else {
            return match &*self.random.lock().expect("faults lock") {
                Some((rate, action)) if rand::random::<f64>() < *rate => Some(action.clone()),
                _ => None,
            };
        };
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
        f.as_get_next("PATCH", "/api/*", 1);
        assert_eq!(f.take("PATCH", "/api/v1"), Some(FaultAction::AsGet));
        assert_eq!(f.take("PATCH", "/api/v1"), None);
    }

    #[test]
    fn random_rate_applies_to_requests_no_rule_takes() {
        let f = Faults::default();
        f.set_random(1.0, FaultAction::Reset);
        f.lose_answer_next("POST", "*", 1);
        assert_eq!(f.take("POST", "/x"), Some(FaultAction::LoseAnswer));
        assert_eq!(f.take("POST", "/x"), Some(FaultAction::Reset));
        f.set_random(0.5, FaultAction::Status(500));
        let hits = (0..2000).filter(|_| f.take("GET", "/x").is_some()).count();
        assert!((800..1200).contains(&hits), "{hits} of 2000 at 50%");
        f.set_random(0.0, FaultAction::Status(500));
        assert_eq!(f.take("GET", "/x"), None);
        f.set_random(1.0, FaultAction::Status(500));
        f.clear();
        assert_eq!(f.take("GET", "/x"), None);
    }
}
