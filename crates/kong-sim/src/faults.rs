//! Fault injection for the Admin API: scripted rules ("the next N matching requests …") and a
//! random failure rate. Rules are checked in the order they were added; the first rule that
//! fires decides. Faults never apply to the proxy port.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One scripted fault.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Glob over the request path (without the query string); `*` matches any run of
    /// characters including `/`.
    pub path: String,
    /// Let this many matching requests through first.
    #[serde(default)]
    pub skip: u32,
    /// Then apply to the next `times` matching requests.
    #[serde(default = "one")]
    pub times: u32,
    /// What to do.
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

/// What a fault does to a request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (and `Retry-After` if given). Without `body` the body is
    /// `{"message":"<reason phrase>"}`.
    Status {
        code: u16,
        #[serde(default)]
        retry_after: Option<u64>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Hold the request without answering for `ms`, then close the connection (FIN).
    Hang { ms: u64 },
    /// Close the TCP connection with a RST, without answering.
    Reset,
    /// Answer normally after `ms`.
    Delay { ms: u64 },
    /// Carry the request out, then close the connection with a RST instead of answering: the
    /// change is made and the client never learns it (logged with the status it would have
    /// had).
    LoseAnswer,
    /// Serve the request as a GET of the same path, its body dropped: nothing is written and
    /// the answer (200 for an entity) shows the object as it was. Models a write answered but
    /// not applied, and a write a proxy in between turned into a GET (logged with the method it
    /// came with and the status of the GET).
    AsGet,
}

#[derive(Default)]
struct State {
    rules: Vec<(FaultRule, u32)>,
    random: Option<(f64, FaultAction)>,
}

/// Cheap clone handle on the simulator's fault table.
#[derive(Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    /// Add a scripted rule.
    pub fn add(&self, rule: FaultRule) {
        self.state.lock().unwrap().rules.push((rule, 0));
    }

    /// Remove every rule and the random failure rate.
    pub fn clear(&self) {
        let mut state = self.state.lock().unwrap();
        state.rules.clear();
        state.random = None;
    }

    /// Fail this fraction (0.0–1.0) of Admin API requests with `action`; 0 turns it off.
    pub fn set_random(&self, rate: f64, action: FaultAction) {
        self.state.lock().unwrap().random = (rate > 0.0).then_some((rate.min(1.0), action));
    }

    /// The rules currently installed.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.state
            .lock()
            .unwrap()
            .rules
            .iter()
            .map(|(rule, _)| rule.clone())
            .collect()
    }

    /// Decide the fault for one request, counting it against matching rules.
    pub(crate) fn check(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut state = self.state.lock().unwrap();
        let mut fired = None;
        for (rule, seen) in &mut state.rules {
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            if !method_ok || !glob(&rule.path, path) {
                continue;
            }
            *seen += 1;
            if *seen > rule.skip && *seen <= rule.skip.saturating_add(rule.times) && fired.is_none()
            {
                fired = Some(rule.action.clone());
            }
        }
        if fired.is_some() {
            return fired;
        }
        match &state.random {
            Some((rate, action)) if rand::random::<f64>() < *rate => Some(action.clone()),
            _ => None,
        }
    }
}

/// `*` matches any run of characters (including `/`); everything else is literal.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_across_slashes() {
        assert!(glob("/upstreams/*/targets", "/upstreams/a.b/targets"));
        assert!(glob("/upstreams/*", "/upstreams/a/targets/b"));
        assert!(glob("*", "/"));
        assert!(!glob("/services", "/services/x"));
        assert!(!glob("/a*c", "/abd"));
        assert!(glob("/a*c*", "/abcxc"));
    }

    #[test]
    fn skip_then_times() {
        let faults = Faults::default();
        faults.add(FaultRule {
            method: Some("post".into()),
            path: "/x*".into(),
            skip: 1,
            times: 2,
            action: FaultAction::Reset,
        });
        let got: Vec<bool> = (0..5)
            .map(|_| faults.check("POST", "/xy").is_some())
            .collect();
        assert_eq!(got, [false, true, true, false, false]);
        assert!(faults.check("GET", "/xy").is_none());
    }
}
