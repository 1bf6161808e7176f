//! Names and addresses a plan holds, by the rules of the systems they go to. Plan validation
//! checks them so a plan the target would reject fails before anything is written; the providers
//! use the same functions (re-exported as `providers::kong::names` and
//! `providers::haproxy::Endpoint`), so the plan never depends on a provider module.
//!
//! - Kong's naming rules, as its schema validators apply them (`kong/tools/ip.lua`
//!   `check_hostname`, `targets.lua` `format_target`); targets are normalised the way Kong
//!   stores them so comparisons with live state are exact.
//! - The HAProxy runtime API address syntax ([`Endpoint`]).
//! - Environment names ([`check_environment_name`]): they end up in object names (Traefik
//!   services, Kubernetes annotations, Kong tags), in the rollout record and in shell commands
//!   bgctl prints (`bgctl switch --to <env>`), so they are DNS labels, a charset every provider
//!   accepts for names and no shell treats specially.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Kong's largest target weight.
pub const MAX_WEIGHT: u32 = 65_535;
/// Kong's default target port.
pub const DEFAULT_PORT: u16 = 8000;

/// Longest environment name (a DNS label's limit).
pub const MAX_ENVIRONMENT_NAME: usize = 63;

/// An environment name is a DNS label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn check_environment_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ENVIRONMENT_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else if name.len() > MAX_ENVIRONMENT_NAME {
        Err(format!(
            "environment name `{name}` is longer than {MAX_ENVIRONMENT_NAME} characters"
        ))
    } else {
        Err(format!("`{name}` is not a valid environment name"))
    }
}

fn is_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// An upstream name must be a hostname: no IP, no port.
pub fn check_upstream_name(name: &str) -> Result<(), String> {
    if name.parse::<Ipv4Addr>().is_ok() || name.trim_matches(['[', ']']).parse::<Ipv6Addr>().is_ok()
    {
        return Err(format!(
            "invalid upstream name `{name}`: no IP addresses allowed"
        ));
    }
    if let Some((host, port)) = name.rsplit_once(':') {
        if port.chars().all(|c| c.is_ascii_digit()) && is_hostname(host) {
            return Err(format!("invalid upstream name `{name}`: no port allowed"));
        }
    }
    if !is_hostname(name) {
        return Err(format!(
            "invalid upstream name `{name}`: must be a valid hostname"
        ));
    }
    Ok(())
}

/// Normalises `host[:port]` as Kong stores it: default port 8000, IPv6 fully expanded in brackets.
pub fn normalize_target(target: &str) -> Result<String, String> {
    let bad = || format!("invalid target `{target}`: not a valid hostname or IP address");
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => return Err(bad()),
        };
        let ip: Ipv6Addr = addr.parse().map_err(|_| bad())?;
        (expand_v6(ip), port)
    } else if let Ok(ip) = target.parse::<Ipv6Addr>() {
        (expand_v6(ip), None)
    } else {
        match target.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (target.to_string(), None),
        }
    };
    if !host.starts_with('[') && host.parse::<Ipv4Addr>().is_err() && !is_hostname(&host) {
        return Err(bad());
    }
    let port: u16 = match port {
        None => DEFAULT_PORT,
        Some(p) => p.parse().map_err(|_| {
            format!("invalid target `{target}`: port `{p}` is not a number between 0 and 65535")
        })?,
    };
    Ok(format!("{host}:{port}"))
}

fn expand_v6(ip: Ipv6Addr) -> String {
    let segs: Vec<String> = ip.segments().iter().map(|s| format!("{s:04x}")).collect();
    format!("[{}]", segs.join(":"))
}

/// Where the runtime API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `tcp://host:port`
    Tcp(String),
    /// `unix:///path`
    Unix(PathBuf),
}

impl Endpoint {
    /// Parses `tcp://host:port` or `unix:///path`.
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if let Some(rest) = s.strip_prefix("tcp://") {
            let ok = rest
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if ok {
                Ok(Endpoint::Tcp(rest.to_string()))
            } else {
                Err(format!("`{s}` has no `host:port` after `tcp://`"))
            }
        } else if let Some(rest) = s.strip_prefix("unix://") {
            if rest.starts_with('/') {
                Ok(Endpoint::Unix(PathBuf::from(rest)))
            } else {
                Err(format!("`{s}` needs an absolute path after `unix://`"))
            }
        } else {
            Err(format!("`{s}` is neither `tcp://…` nor `unix://…`"))
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_are_dns_labels() {
        for ok in ["blue", "green", "v2", "canary-1", "a", &"x".repeat(63)] {
            assert_eq!(check_environment_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Blue",
            "blue_1",
            "blue.v2",
            "-blue",
            "blue-",
            "blue green",
            "$(id)",
            "grün",
        ] {
            let err = check_environment_name(bad).unwrap_err();
            assert!(err.contains("not a valid environment name"), "{bad}: {err}");
        }
        assert!(check_environment_name(&"x".repeat(64))
            .unwrap_err()
            .contains("longer than 63"));
    }

    #[test]
    fn upstream_names_follow_kong() {
        assert!(check_upstream_name("address.v1.service").is_ok());
        assert!(check_upstream_name("1.2.3.4")
            .unwrap_err()
            .contains("no IP"));
        assert!(check_upstream_name("svc:80")
            .unwrap_err()
            .contains("no port"));
        assert!(check_upstream_name("bad name")
            .unwrap_err()
            .contains("valid hostname"));
        assert!(check_upstream_name("-x.y").is_err());
    }

    #[test]
    fn targets_normalise_like_kong() {
        assert_eq!(
            normalize_target("192.168.34.15:80").unwrap(),
            "192.168.34.15:80"
        );
        assert_eq!(
            normalize_target("example.test").unwrap(),
            "example.test:8000"
        );
        assert_eq!(
            normalize_target("[::1]:81").unwrap(),
            "[0000:0000:0000:0000:0000:0000:0000:0001]:81"
        );
        assert_eq!(
            normalize_target("::1").unwrap(),
            "[0000:0000:0000:0000:0000:0000:0000:0001]:8000"
        );
        assert!(normalize_target("host:99999").is_err());
        assert!(normalize_target("bad host:80").is_err());
    }
}
