//! How Kong 3.x's router matches a route's `headers` (its default `traditional_compatible`
//! flavour, `kong/router/transform.lua`): for each header name the route lists, one of its
//! values must match one of the request's values of that header. A value is compared
//! case-insensitively (`any(lower(http.headers.x)) == lower(value)`); a value starting with `~*`
//! is a regular expression, lower-cased and looked for anywhere in the lower-cased request
//! value (`any(lower(http.headers.x)) ~ lower(pattern)`). The traditional router reads `~*` only
//! when it is the header's one value; bgctl writes one value per header, where both agree.

/// One header condition of a route.
pub(crate) struct HeaderRule {
    /// Lower-case header name.
    pub(crate) name: String,
    values: Vec<Value>,
}

enum Value {
    Exact(String),
    /// A pattern that does not compile never matches (Kong would refuse the route).
    Regex(Option<regex::Regex>),
}

impl HeaderRule {
    /// The rule for `name` with the route's `values`.
    pub(crate) fn new(name: &str, values: &[String]) -> HeaderRule {
        HeaderRule {
            name: name.to_ascii_lowercase(),
            values: values
                .iter()
                .map(|v| match v.strip_prefix("~*") {
                    Some(pattern) => Value::Regex(regex::Regex::new(&pattern.to_lowercase()).ok()),
                    None => Value::Exact(v.to_lowercase()),
                })
                .collect(),
        }
    }

    /// Whether any of the request's values of this header matches.
    pub(crate) fn matches(&self, headers: &http::HeaderMap) -> bool {
        headers.get_all(self.name.as_str()).iter().any(|v| {
            let Ok(v) = v.to_str() else { return false };
            let v = v.to_lowercase();
            self.values.iter().any(|want| match want {
                Value::Exact(want) => *want == v,
                Value::Regex(Some(re)) => re.is_match(&v),
                Value::Regex(None) => false,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn exact_values_match_case_insensitively() {
        let rule = HeaderRule::new("X-Canary", &["Yes".into()]);
        assert!(rule.matches(&req(&[("x-canary", "YES")])));
        assert!(!rule.matches(&req(&[("x-canary", "yes please")])));
        assert!(!rule.matches(&req(&[("x-other", "yes")])));
    }

    #[test]
    fn regex_values_are_lowered_and_unanchored() {
        let rule = HeaderRule::new("cookie", &["~*beta=(1|ON)".into()]);
        assert!(rule.matches(&req(&[("cookie", "a=b; BETA=on; c=d")])));
        assert!(!rule.matches(&req(&[("cookie", "beta=2")])));
        let prefix = HeaderRule::new("x-user", &["~*^qa\\-".into()]);
        assert!(prefix.matches(&req(&[("x-user", "QA-alice")])));
        assert!(!prefix.matches(&req(&[("x-user", "alice-qa-")])));
        // Any one of several request values may match.
        assert!(prefix.matches(&req(&[("x-user", "bob"), ("x-user", "qa-1")])));
    }

    #[test]
    fn a_pattern_that_does_not_compile_never_matches() {
        let rule = HeaderRule::new("x", &["~*(".into()]);
        assert!(!rule.matches(&req(&[("x", "(")])));
    }
}
