//! Entity schemas for services, routes, upstreams and targets: fields, defaults, validators,
//! form-value inference and the `/schemas/{entity}` rendering that decK reads defaults from.
//! Field lists, defaults and messages follow shared/reference/kong-admin-api.md §1 and §3.5.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Map, Value};

/// The Kong version being simulated; only major/minor matter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ver {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) text: String,
}

impl Ver {
    pub(crate) fn parse(text: &str) -> Ver {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        Ver {
            major: parts.next().unwrap_or(3),
            minor: parts.next().unwrap_or(0),
            text: text.to_string(),
        }
    }

    /// At least `major.minor`.
    pub(crate) fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

pub(crate) type Check = fn(&str, &Ver) -> Result<Option<String>, String>;

#[derive(Clone, Debug)]
pub(crate) enum Ty {
    Str,
    Int,
    Num,
    Bool,
    Set(Box<Field>),
    Arr(Box<Field>),
    Rec(Vec<Field>),
    Foreign(&'static str),
    Map(Box<Field>),
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) default: Option<Value>,
    pub(crate) required: bool,
    pub(crate) unique: bool,
    pub(crate) auto: bool,
    pub(crate) uuid: bool,
    pub(crate) between: Option<(i64, i64)>,
    pub(crate) one_of: Option<Vec<Value>>,
    pub(crate) check: Option<Check>,
}

fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        default: None,
        required: false,
        unique: false,
        auto: false,
        uuid: false,
        between: None,
        one_of: None,
        check: None,
    }
}

impl Field {
    fn def(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    fn req(mut self) -> Self {
        self.required = true;
        self
    }
    fn uniq(mut self) -> Self {
        self.unique = true;
        self
    }
    fn between(mut self, lo: i64, hi: i64) -> Self {
        self.between = Some((lo, hi));
        self
    }
    fn one_of(mut self, values: &[&str]) -> Self {
        self.one_of = Some(values.iter().map(|v| json!(v)).collect());
        self
    }
    fn one_of_int(mut self, values: &[i64]) -> Self {
        self.one_of = Some(values.iter().map(|v| json!(v)).collect());
        self
    }
    fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }
}

fn s(name: &'static str) -> Field {
    f(name, Ty::Str)
}
fn int(name: &'static str) -> Field {
    f(name, Ty::Int)
}
fn boolean(name: &'static str) -> Field {
    f(name, Ty::Bool)
}
fn set_of(name: &'static str, el: Field) -> Field {
    f(name, Ty::Set(Box::new(el)))
}
fn arr_of(name: &'static str, el: Field) -> Field {
    f(name, Ty::Arr(Box::new(el)))
}
fn rec(name: &'static str, fields: Vec<Field>) -> Field {
    f(name, Ty::Rec(fields))
}

fn id_field() -> Field {
    let mut id = s("id");
    id.auto = true;
    id.uuid = true;
    id
}
fn ts(name: &'static str) -> Field {
    let mut field = int(name);
    field.auto = true;
    field
}
fn ts_ms(name: &'static str) -> Field {
    let mut field = f(name, Ty::Num);
    field.auto = true;
    field
}
fn tags() -> Field {
    set_of("tags", s("").check(check_tag))
}
fn http_statuses(default: &[i64]) -> Field {
    arr_of("http_statuses", int("").between(100, 999)).def(json!(default))
}

pub(crate) const SERVICE_PROTOCOLS: &[&str] = &[
    "grpc",
    "grpcs",
    "http",
    "https",
    "tcp",
    "tls",
    "tls_passthrough",
    "udp",
];

/// Fields of `services`.
pub(crate) fn services(_ver: &Ver) -> Vec<Field> {
    let timeout = |n| int(n).def(json!(60000)).between(1, 2_147_483_646);
    vec![
        id_field(),
        ts("created_at"),
        ts("updated_at"),
        s("name").uniq().check(check_utf8_name),
        int("retries").def(json!(5)).between(0, 32767),
        s("protocol")
            .req()
            .def(json!("http"))
            .one_of(SERVICE_PROTOCOLS),
        s("host").req().check(check_host_no_port),
        int("port").req().def(json!(80)).between(0, 65535),
        s("path").check(check_path),
        timeout("connect_timeout"),
        timeout("write_timeout"),
        timeout("read_timeout"),
        tags(),
        f("client_certificate", Ty::Foreign("certificates")),
        boolean("tls_verify"),
        int("tls_verify_depth").between(0, 64),
        set_of("ca_certificates", s("").check(check_uuid)),
        boolean("enabled").req().def(json!(true)),
    ]
}

/// Fields of `routes`.
pub(crate) fn routes(_ver: &Ver) -> Vec<Field> {
    let cidr_port = |name| arr_of(name, rec("", vec![s("ip"), int("port").between(0, 65535)]));
    vec![
        id_field(),
        ts("created_at"),
        ts("updated_at"),
        s("name").uniq().check(check_utf8_name),
        set_of(
            "protocols",
            s("").one_of(&[
                "grpc",
                "grpcs",
                "http",
                "https",
                "tcp",
                "tls",
                "tls_passthrough",
                "udp",
            ]),
        )
        .req()
        .def(json!(["http", "https"])),
        set_of("methods", s("").check(check_method)),
        arr_of("hosts", s("").check(check_route_host)),
        arr_of("paths", s("").check(check_route_path)),
        f("headers", Ty::Map(Box::new(arr_of("", s(""))))),
        int("https_redirect_status_code")
            .req()
            .def(json!(426))
            .one_of_int(&[426, 301, 302, 307, 308]),
        int("regex_priority").def(json!(0)),
        boolean("strip_path").req().def(json!(true)),
        s("path_handling").def(json!("v0")).one_of(&["v0", "v1"]),
        boolean("preserve_host").req().def(json!(false)),
        boolean("request_buffering").req().def(json!(true)),
        boolean("response_buffering").req().def(json!(true)),
        set_of("snis", s("")),
        cidr_port("sources"),
        cidr_port("destinations"),
        tags(),
        f("service", Ty::Foreign("services")),
    ]
}

fn healthchecks(ver: &Ver) -> Field {
    let mut active = vec![
        s("type")
            .def(json!("http"))
            .one_of(&["tcp", "http", "https", "grpc", "grpcs"]),
        int("timeout").def(json!(1)).between(0, 65535),
        int("concurrency").def(json!(10)).between(1, 2_147_483_648),
        s("http_path").def(json!("/")).check(check_path),
        s("https_sni"),
        boolean("https_verify_certificate").def(json!(true)),
    ];
    if ver.at_least(3, 0) {
        active.push(f("headers", Ty::Map(Box::new(arr_of("", s(""))))));
    }
    active.push(rec(
        "healthy",
        vec![
            int("interval").def(json!(0)).between(0, 65535),
            http_statuses(&[200, 302]),
            int("successes").def(json!(0)).between(0, 255),
        ],
    ));
    active.push(rec(
        "unhealthy",
        vec![
            int("interval").def(json!(0)).between(0, 65535),
            http_statuses(&[429, 404, 500, 501, 502, 503, 504, 505]),
            int("tcp_failures").def(json!(0)).between(0, 255),
            int("timeouts").def(json!(0)).between(0, 255),
            int("http_failures").def(json!(0)).between(0, 255),
        ],
    ));
    let passive = vec![
        s("type")
            .def(json!("http"))
            .one_of(&["tcp", "http", "https", "grpc", "grpcs"]),
        rec(
            "healthy",
            vec![
                http_statuses(&[
                    200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
                    306, 307, 308,
                ]),
                int("successes").def(json!(0)).between(0, 255),
            ],
        ),
        rec(
            "unhealthy",
            vec![
                http_statuses(&[429, 500, 503]),
                int("tcp_failures").def(json!(0)).between(0, 255),
                int("timeouts").def(json!(0)).between(0, 255),
                int("http_failures").def(json!(0)).between(0, 255),
            ],
        ),
    ];
    rec(
        "healthchecks",
        vec![
            rec("active", active),
            rec("passive", passive),
            f("threshold", Ty::Num).def(json!(0)).between(0, 100),
        ],
    )
}

/// Fields of `upstreams`.
pub(crate) fn upstreams(ver: &Ver) -> Vec<Field> {
    let hash_values: &[&str] = if ver.at_least(3, 0) {
        &[
            "none",
            "consumer",
            "ip",
            "header",
            "cookie",
            "path",
            "query_arg",
            "uri_capture",
        ]
    } else {
        &["none", "consumer", "ip", "header", "cookie"]
    };
    let algorithms: &[&str] = if ver.at_least(3, 2) {
        &[
            "consistent-hashing",
            "least-connections",
            "round-robin",
            "latency",
        ]
    } else {
        &["consistent-hashing", "least-connections", "round-robin"]
    };
    let mut fields = vec![id_field(), ts("created_at")];
    if ver.at_least(3, 3) {
        fields.push(ts("updated_at"));
    }
    fields.extend([
        s("name").req().uniq().check(check_upstream_name),
        s("algorithm").def(json!("round-robin")).one_of(algorithms),
        s("hash_on").def(json!("none")).one_of(hash_values),
        s("hash_fallback").def(json!("none")).one_of(hash_values),
        s("hash_on_header"),
        s("hash_fallback_header"),
        s("hash_on_cookie"),
        s("hash_on_cookie_path").def(json!("/")).check(check_path),
        s("hash_on_query_arg"),
        s("hash_fallback_query_arg"),
        s("hash_on_uri_capture"),
        s("hash_fallback_uri_capture"),
        int("slots").def(json!(10000)).between(10, 65536),
        healthchecks(ver),
        tags(),
        s("host_header").check(check_host_with_port),
        f("client_certificate", Ty::Foreign("certificates")),
    ]);
    if ver.at_least(3, 1) {
        fields.push(boolean("use_srv_name").def(json!(false)));
    }
    fields
}

/// Fields of `targets`.
pub(crate) fn targets(ver: &Ver) -> Vec<Field> {
    let mut fields = vec![id_field(), ts_ms("created_at")];
    if ver.at_least(3, 3) {
        fields.push(ts_ms("updated_at"));
    }
    fields.extend([
        f("upstream", Ty::Foreign("upstreams")).req(),
        s("target").req().check(check_target),
        int("weight").def(json!(100)).between(0, 65535),
        tags(),
    ]);
    fields
}

// ---------------------------------------------------------------------------------------------
// Validators. Each returns Ok(Some(normalised)) to rewrite the value.

pub(crate) fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

fn check_uuid(v: &str, _: &Ver) -> Result<Option<String>, String> {
    if is_uuid(v) {
        Ok(None)
    } else {
        Err("expected a valid UUID".into())
    }
}

fn check_tag(v: &str, ver: &Ver) -> Result<Option<String>, String> {
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

fn check_method(v: &str, _: &Ver) -> Result<Option<String>, String> {
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

fn check_route_path(v: &str, ver: &Ver) -> Result<Option<String>, String> {
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

fn check_host_no_port(v: &str, _: &Ver) -> Result<Option<String>, String> {
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

fn check_host_with_port(v: &str, _: &Ver) -> Result<Option<String>, String> {
    match split_host_port(v) {
        Some((host, port))
            if (is_ip(&host) || is_hostname(&host)) && port.as_deref().is_none_or(valid_port) =>
        {
            Ok(None)
        }
        _ => Err(format!("invalid value: {v}")),
    }
}

fn check_route_host(v: &str, _: &Ver) -> Result<Option<String>, String> {
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

fn check_target(v: &str, _: &Ver) -> Result<Option<String>, String> {
    normalize_target(v)
        .map(Some)
        .ok_or_else(|| format!("Invalid target ('{v}'); not a valid hostname or ip address"))
}

// ---------------------------------------------------------------------------------------------
// Defaults, merge, validation.

/// Fill defaults for absent keys (recursively inside records that are present or defaulted).
pub(crate) fn fill_defaults(fields: &[Field], obj: &mut Map<String, Value>) {
    for field in fields {
        match obj.get_mut(field.name) {
            None => {
                let value = match (&field.ty, &field.default) {
                    (Ty::Rec(sub), None) => {
                        let mut inner = Map::new();
                        fill_defaults(sub, &mut inner);
                        Value::Object(inner)
                    }
                    (_, Some(default)) => default.clone(),
                    (_, None) => Value::Null,
                };
                obj.insert(field.name.to_string(), value);
            }
            Some(Value::Object(inner)) => {
                if let Ty::Rec(sub) = &field.ty {
                    fill_defaults(sub, inner);
                }
            }
            Some(_) => {}
        }
    }
}

/// PATCH semantics: records are deep-merged, everything else (arrays, sets) replaced.
pub(crate) fn merge(fields: &[Field], base: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        let field = fields.iter().find(|f| f.name == key);
        match (field.map(|f| &f.ty), base.get_mut(&key), value) {
            (Some(Ty::Rec(sub)), Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge(sub, existing, incoming);
            }
            (_, _, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Validate (and normalise) a record against `fields`. Errors come back as a Kong `fields`
/// object (nested for records, arrays with `null` holes for array elements).
pub(crate) fn validate_record(
    fields: &[Field],
    obj: &mut Map<String, Value>,
    ver: &Ver,
) -> Map<String, Value> {
    let mut errors = Map::new();
    for key in obj.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.insert(key.clone(), json!("unknown field"));
        }
    }
    for field in fields {
        let value = obj.entry(field.name).or_insert(Value::Null);
        if let Err(err) = validate_value(field, value, ver) {
            errors.insert(field.name.to_string(), err);
        }
    }
    errors
}

fn validate_value(field: &Field, value: &mut Value, ver: &Ver) -> Result<(), Value> {
    if value.is_null() {
        return if field.required {
            Err(json!("required field missing"))
        } else {
            Ok(())
        };
    }
    match &field.ty {
        Ty::Str => {
            let Some(text) = value.as_str() else {
                return Err(json!("expected a string"));
            };
            if text.is_empty() {
                return Err(json!("length must be at least 1"));
            }
            if field.uuid && !is_uuid(text) {
                return Err(json!("expected a valid UUID"));
            }
            check_one_of(field, value)?;
            if let Some(check) = field.check {
                match check(value.as_str().unwrap_or_default(), ver) {
                    Ok(Some(normalised)) => *value = Value::String(normalised),
                    Ok(None) => {}
                    Err(e) => return Err(json!(e)),
                }
            }
        }
        Ty::Int => {
            let n = match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
                Value::Number(n) => n
                    .as_f64()
                    .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
                    .map(|x| x as i64),
                _ => None,
            };
            let Some(n) = n else {
                return Err(json!("expected an integer"));
            };
            *value = json!(n);
            if let Some((lo, hi)) = field.between {
                if n < lo || n > hi {
                    return Err(json!(format!("value should be between {lo} and {hi}")));
                }
            }
            check_one_of(field, value)?;
        }
        Ty::Num => {
            let Some(x) = value.as_f64() else {
                return Err(json!("expected a number"));
            };
            if let Some((lo, hi)) = field.between {
                if x < lo as f64 || x > hi as f64 {
                    return Err(json!(format!("value should be between {lo} and {hi}")));
                }
            }
        }
        Ty::Bool => {
            if !value.is_boolean() {
                return Err(json!("expected a boolean"));
            }
        }
        Ty::Set(el) | Ty::Arr(el) => {
            let is_set = matches!(field.ty, Ty::Set(_));
            let Some(items) = value.as_array_mut() else {
                return Err(json!(if is_set {
                    "expected a set"
                } else {
                    "expected an array"
                }));
            };
            let mut errs = Vec::new();
            let mut any = false;
            for item in items.iter_mut() {
                match validate_value(el, item, ver) {
                    Ok(()) => errs.push(Value::Null),
                    Err(e) => {
                        any = true;
                        errs.push(e);
                    }
                }
            }
            if any {
                while errs.last().is_some_and(Value::is_null) {
                    errs.pop();
                }
                return Err(Value::Array(errs));
            }
            if is_set {
                let mut seen = Vec::new();
                items.retain(|item| {
                    if seen.contains(item) {
                        false
                    } else {
                        seen.push(item.clone());
                        true
                    }
                });
            }
        }
        Ty::Rec(sub) => {
            let Some(obj) = value.as_object_mut() else {
                return Err(json!("expected a record"));
            };
            let errs = validate_record(sub, obj, ver);
            if !errs.is_empty() {
                return Err(Value::Object(errs));
            }
        }
        Ty::Foreign(_) => {
            let Some(obj) = value.as_object() else {
                return Err(json!("expected a record"));
            };
            match obj.get("id") {
                Some(Value::String(id)) if is_uuid(id) => {}
                Some(_) => return Err(json!({"id": "expected a valid UUID"})),
                None => return Err(json!({"id": "required field missing"})),
            }
        }
        Ty::Map(val) => {
            let Some(obj) = value.as_object_mut() else {
                return Err(json!("expected a map"));
            };
            let mut errs = Map::new();
            for (k, v) in obj.iter_mut() {
                if let Err(e) = validate_value(val, v, ver) {
                    errs.insert(k.clone(), e);
                }
            }
            if !errs.is_empty() {
                return Err(Value::Object(errs));
            }
        }
    }
    Ok(())
}

fn check_one_of(field: &Field, value: &Value) -> Result<(), Value> {
    match &field.one_of {
        Some(options) if !options.contains(value) => {
            let list: Vec<String> = options
                .iter()
                .map(|o| match o {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Err(json!(format!("expected one of: {}", list.join(", "))))
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Form inference (kong/api/arguments.lua `infer_value`).

/// Convert a form-decoded tree (strings, arrays of strings, objects) into typed values.
pub(crate) fn infer_record(fields: &[Field], raw: Map<String, Value>) -> Map<String, Value> {
    raw.into_iter()
        .map(|(key, value)| {
            let inferred = match fields.iter().find(|f| f.name == key) {
                Some(field) => infer(&field.ty, value),
                None => value,
            };
            (key, inferred)
        })
        .collect()
}

fn infer(ty: &Ty, raw: Value) -> Value {
    match (ty, raw) {
        (_, Value::String(s)) if s.is_empty() => Value::Null,
        (Ty::Int | Ty::Num, Value::String(s)) => {
            if let Ok(n) = s.parse::<i64>() {
                json!(n)
            } else if let Ok(x) = s.parse::<f64>() {
                json!(x)
            } else {
                Value::String(s)
            }
        }
        (Ty::Bool, Value::String(s)) => match s.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => Value::String(s),
        },
        (Ty::Set(el) | Ty::Arr(el), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|i| infer(&el.ty, i)).collect())
        }
        (Ty::Set(el) | Ty::Arr(el), scalar @ Value::String(_)) => {
            Value::Array(vec![infer(&el.ty, scalar)])
        }
        (Ty::Rec(sub), Value::Object(obj)) => Value::Object(infer_record(sub, obj)),
        (Ty::Map(val), Value::Object(obj)) => Value::Object(
            obj.into_iter()
                .map(|(k, v)| (k, infer(&val.ty, v)))
                .collect(),
        ),
        // Repeated key for a scalar field: keep the last value.
        (Ty::Str | Ty::Int | Ty::Num | Ty::Bool, Value::Array(mut items)) if !items.is_empty() => {
            let last = items.pop().unwrap_or_default();
            infer(ty, last)
        }
        (_, other) => other,
    }
}

/// Build the raw tree from form pairs: `a.b=1`, `hosts[]=x`, `hosts[1]=x`, repeated keys.
pub(crate) fn form_tree(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in pairs {
        let (key, is_array) = match key.find('[') {
            Some(idx) if key.ends_with(']') => (key[..idx].to_string(), true),
            _ => (key, false),
        };
        let parts: Vec<&str> = key.split('.').collect();
        insert_path(&mut root, &parts, Value::String(value), is_array);
    }
    root
}

fn insert_path(node: &mut Map<String, Value>, parts: &[&str], value: Value, is_array: bool) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if !rest.is_empty() {
        let entry = node
            .entry((*first).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(child) = entry {
            insert_path(child, rest, value, is_array);
        }
        return;
    }
    match node.get_mut(*first) {
        None if is_array => {
            node.insert((*first).to_string(), Value::Array(vec![value]));
        }
        None => {
            node.insert((*first).to_string(), value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let previous = existing.take();
            *existing = Value::Array(vec![previous, value]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `/schemas/{entity}` rendering.

fn render_field(field: &Field) -> Value {
    let mut out = Map::new();
    let type_name = match &field.ty {
        Ty::Str => "string",
        Ty::Int => "integer",
        Ty::Num => "number",
        Ty::Bool => "boolean",
        Ty::Set(_) => "set",
        Ty::Arr(_) => "array",
        Ty::Rec(_) => "record",
        Ty::Foreign(_) => "foreign",
        Ty::Map(_) => "map",
    };
    out.insert("type".into(), json!(type_name));
    match &field.ty {
        Ty::Set(el) | Ty::Arr(el) => {
            out.insert("elements".into(), render_field(el));
        }
        Ty::Rec(sub) => {
            out.insert("fields".into(), render_fields(sub));
            out.insert("required".into(), json!(true));
        }
        Ty::Foreign(reference) => {
            out.insert("reference".into(), json!(reference));
        }
        Ty::Map(val) => {
            out.insert("keys".into(), json!({"type": "string"}));
            out.insert("values".into(), render_field(val));
        }
        _ => {}
    }
    if let Some(default) = &field.default {
        out.insert("default".into(), default.clone());
    }
    if field.required {
        out.insert("required".into(), json!(true));
    }
    if field.unique {
        out.insert("unique".into(), json!(true));
    }
    if field.auto {
        out.insert("auto".into(), json!(true));
    }
    if field.uuid {
        out.insert("uuid".into(), json!(true));
    }
    if let Some((lo, hi)) = field.between {
        out.insert("between".into(), json!([lo, hi]));
    }
    if let Some(options) = &field.one_of {
        out.insert("one_of".into(), json!(options));
    }
    Value::Object(out)
}

pub(crate) fn render_fields(fields: &[Field]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|field| {
                let mut one = Map::new();
                one.insert(field.name.to_string(), render_field(field));
                Value::Object(one)
            })
            .collect(),
    )
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

    #[test]
    fn form_tree_shapes() {
        let pairs = vec![
            ("hosts[]".to_string(), "a".to_string()),
            ("hosts[]".to_string(), "b".to_string()),
            ("service.id".to_string(), "x".to_string()),
            ("methods".to_string(), "GET".to_string()),
            ("methods".to_string(), "POST".to_string()),
        ];
        let tree = form_tree(pairs);
        assert_eq!(tree["hosts"], json!(["a", "b"]));
        assert_eq!(tree["service"], json!({"id": "x"}));
        assert_eq!(tree["methods"], json!(["GET", "POST"]));
    }
}
