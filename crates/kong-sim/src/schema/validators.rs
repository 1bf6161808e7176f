//! Field validators. Each returns `Ok(Some(normalised))` to rewrite the value, with Kong's
//! messages: UUIDs, tags, names, methods, paths, hosts with and without ports, upstream names
//! and targets, header and cookie names.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Ver;

pub(crate) fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

pub(super) fn check_uuid(v: &str, _: &Ver) -> Result<Option<String>, String> {
    if is_uuid(v) {
        Ok(None)
    } else {
        Err("expected a valid UUID".into())
    }
}

pub(super) fn check_tag(v: &str, ver: &Ver) -> Result<Option<String>, String> {
    let bad = v.is_empty()
        || v.chars().any(|c| {
            c == ','
                || c == '/'
                || (c.is_ascii() && (c.is_ascii_control() || (c == ' ' && !ver.at_least(3, 0))))
        });
    if bad {
        Err(format!(
            "invalid tag '{v}': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"
        ))
    } else {
        Ok(None)
    }
}

pub(crate) fn check_utf8_name(v: &str, _: &Ver) -> Result<Option<String>, String> {
    let ok = !v.is_empty()
        && v.chars().all(|c| {
            !c.is_ascii() || c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
        });
    if ok {
        Ok(None)
    } else {
        Err(format!(
            "invalid value '{v}': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
        ))
    }
}

pub(super) fn check_method(v: &str, _: &Ver) -> Result<Option<String>, String> {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(None)
    } else {
        Err(format!("invalid value: {v}"))
    }
}

pub(crate) fn check_path(v: &str, _: &Ver) -> Result<Option<String>, String> {
    if !v.starts_with('/') {
        return Err("should start with: /".into());
    }
    if v.contains("//") {
        return Err("must not have empty segments".into());
    }
    let ok = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@%".contains(c) || !c.is_ascii());
    if ok {
        Ok(None)
    } else {
        Err(format!(
            "invalid path: '{v}' (characters outside of the reserved list of RFC 3986 found)"
        ))
    }
}

pub(super) fn check_route_path(v: &str, ver: &Ver) -> Result<Option<String>, String> {
    if let Some(regex) = v.strip_prefix('~') {
        if ver.at_least(3, 0) && regex.starts_with('/') {
            return Ok(None);
        }
    }
    if !v.starts_with('/') {
        return Err("should start with: / (fixed path) or ~/ (regex path)".into());
    }
    if !ver.at_least(3, 0) {
        return Ok(None);
    }
    check_path(v, ver).map(|_| None)
}

/// `hostname` per Kong's `check_hostname`: labels of `[A-Za-z0-9-_]`, no leading/trailing `-`.
pub(crate) fn is_hostname(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Split `host[:port]` (IPv6 in brackets or bare). Returns (host, port) with IPv6 hosts still
/// bracket-free.
pub(crate) fn split_host_port(v: &str) -> Option<(String, Option<String>)> {
    if let Some(rest) = v.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.to_string()),
        };
        return Some((host.to_string(), port));
    }
    if v.matches(':').count() == 1 {
        let (h, p) = v.split_once(':')?;
        return Some((h.to_string(), Some(p.to_string())));
    }
    Some((v.to_string(), None))
}

fn valid_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.chars().all(|c| c.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| n <= 65535)
}

fn is_ip(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok() || host.parse::<Ipv6Addr>().is_ok()
}

pub(super) fn check_host_no_port(v: &str, _: &Ver) -> Result<Option<String>, String> {
    let Some((host, port)) = split_host_port(v) else {
        return Err(format!("invalid value: {v}"));
    };
    if !(is_ip(&host) || is_hostname(&host)) {
        return Err(format!("invalid value: {v}"));
    }
    if port.is_some() {
        return Err("must not have a port".into());
    }
    Ok(None)
}

pub(super) fn check_host_with_port(v: &str, _: &Ver) -> Result<Option<String>, String> {
    match split_host_port(v) {
        Some((host, port))
            if (is_ip(&host) || is_hostname(&host)) && port.as_deref().is_none_or(valid_port) =>
        {
            Ok(None)
        }
        _ => Err(format!("invalid value: {v}")),
    }
}

pub(super) fn check_route_host(v: &str, _: &Ver) -> Result<Option<String>, String> {
    let wildcards = v.matches('*').count();
    if wildcards > 1 {
        return Err("invalid wildcard: must have at most one wildcard".into());
    }
    let Some((host, port)) = split_host_port(v) else {
        return Err(format!("invalid hostname: {v}"));
    };
    if port.as_deref().is_some_and(|p| !valid_port(p)) {
        return Err(format!("invalid port number: {v}"));
    }
    if wildcards == 1 {
        let labels: Vec<&str> = host.split('.').collect();
        let first = labels.first() == Some(&"*");
        let last = labels.last() == Some(&"*");
        if !(first || last) || labels.len() < 2 {
            return Err("invalid wildcard: must be placed at leftmost or rightmost label".into());
        }
        let rest = host.replace('*', "x");
        if !is_hostname(&rest) {
            return Err(format!("invalid hostname: {v}"));
        }
        return Ok(None);
    }
    if is_ip(&host) || is_hostname(&host) {
        Ok(None)
    } else {
        Err(format!("invalid hostname: {v}"))
    }
}

/// Upstream names: a hostname, no IP, no port (`kong/tools/ip.lua` `check_hostname`).
pub(crate) fn check_upstream_name(v: &str, _: &Ver) -> Result<Option<String>, String> {
    let Some((host, port)) = split_host_port(v) else {
        return Err(format!("Invalid name ('{v}'); must be a valid hostname"));
    };
    if is_ip(&host) {
        return Err(format!("Invalid name ('{v}'); no ip addresses allowed"));
    }
    if port.is_some() {
        return Err(format!("Invalid name ('{v}'); no port allowed"));
    }
    if !is_hostname(&host) {
        return Err(format!("Invalid name ('{v}'); must be a valid hostname"));
    }
    Ok(None)
}

/// Normalise a target: default port 8000, IPv6 fully expanded in brackets.
pub(crate) fn normalize_target(v: &str) -> Option<String> {
    let (host, port) = split_host_port(v)?;
    let port = match port {
        Some(p) if valid_port(&p) => p.parse::<u32>().ok()?,
        Some(_) => return None,
        None => 8000,
    };
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:04x}")).collect();
        return Some(format!("[{}]:{port}", groups.join(":")));
    }
    if v.starts_with('[') {
        return None;
    }
    if host.parse::<Ipv4Addr>().is_ok() || is_hostname(&host) {
        Some(format!("{host}:{port}"))
    } else {
        None
    }
}

pub(super) fn check_target(v: &str, _: &Ver) -> Result<Option<String>, String> {
    normalize_target(v)
        .map(Some)
        .ok_or_else(|| format!("Invalid target ('{v}'); not a valid hostname or ip address"))
}

/// `typedefs.header_name` (`kong/tools/http.lua` `validate_header_name`): nginx's header name
/// characters only.
pub(super) fn check_header_name(v: &str, _: &Ver) -> Result<Option<String>, String> {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(None)
    } else {
        Err(format!(
            "bad header name '{v}', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
        ))
    }
}

/// `typedefs.cookie_name` (`kong/tools/http.lua` `validate_http_token`): an RFC 2616 token,
/// without control characters, bytes above 127, or separators.
pub(super) fn check_cookie_name(v: &str, _: &Ver) -> Result<Option<String>, String> {
    let forbidden =
        |c: char| !c.is_ascii() || c.is_ascii_control() || " \t()<>@,;:\\\"/?={}[]".contains(c);
    if v.chars().any(forbidden) {
        Err(r#"contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\"/?={}[] are not allowed."#.into())
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_normalise() {
        assert_eq!(normalize_target("a.test").unwrap(), "a.test:8000");
        assert_eq!(normalize_target("1.2.3.4:80").unwrap(), "1.2.3.4:80");
        assert_eq!(
            normalize_target("[::1]").unwrap(),
            "[0000:0000:0000:0000:0000:0000:0000:0001]:8000"
        );
        assert_eq!(
            normalize_target("::1").unwrap(),
            "[0000:0000:0000:0000:0000:0000:0000:0001]:8000"
        );
        assert!(normalize_target("a b").is_none());
        assert!(normalize_target("a:99999").is_none());
    }
}
