//! The Admin API: request pipeline (log, faults, token, content types), the router with
//! Kong's 404/405 rules, and the endpoint handlers (generic CRUD, nested routes, targets,
//! health, node info, status, schemas, tags, DB-less `/config`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::faults::{FaultAction, Faults};
use crate::log::{LoggedRequest, RequestLog};
use crate::proxy::{DataPlane, Snapshot};
use crate::schema::{self, is_uuid, Ver};
use crate::server::{full, Body, Conn};
use crate::store::{Db, Kind, Mode};

/// Shared Admin API state.
pub(crate) struct Admin {
    pub(crate) ver: Ver,
    pub(crate) db_less: bool,
    pub(crate) token: Option<String>,
    pub(crate) node_id: String,
    pub(crate) db: Mutex<Db>,
    pub(crate) log: RequestLog,
    pub(crate) faults: Faults,
    pub(crate) dp: Arc<DataPlane>,
    pub(crate) config_hash: Mutex<Option<String>>,
    pub(crate) listeners: Mutex<(String, String)>,
    pub(crate) total_requests: AtomicU64,
}

struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

fn ok(status: u16, body: Value) -> Result<Reply, ApiError> {
    Ok(Reply {
        status,
        body: Some(body),
        headers: Vec::new(),
    })
}

fn no_content() -> Result<Reply, ApiError> {
    Ok(Reply {
        status: 204,
        body: None,
        headers: Vec::new(),
    })
}

enum BodyKind {
    Empty,
    Json,
    Form,
    Multipart(String),
    Yaml,
}

struct RawBody {
    kind: BodyKind,
    bytes: Bytes,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `ngx.escape_uri`: everything but unreserved characters is %-escaped.
fn escape_uri(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn multipart_pairs(boundary: &str, bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let delimiter = format!("--{boundary}");
    let mut pairs = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head.lines().find_map(|line| {
            let lower = line.to_ascii_lowercase();
            if !lower.starts_with("content-disposition") {
                return None;
            }
            let idx = line.find("name=\"")?;
            let rest = &line[idx + 6..];
            rest.split_once('"').map(|(n, _)| n.to_string())
        });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            pairs.push((name, value.to_string()));
        }
    }
    pairs
}

impl RawBody {
    /// Decode into a JSON object, inferring form values from `fields`.
    fn parse(&self, fields: &[schema::Field]) -> Result<Map<String, Value>, ApiError> {
        let pairs = match &self.kind {
            BodyKind::Empty => return Ok(Map::new()),
            BodyKind::Json => {
                return match serde_json::from_slice::<Value>(&self.bytes) {
                    Ok(Value::Object(map)) => Ok(map),
                    Ok(Value::Null) => Ok(Map::new()),
                    _ => Err(ApiError::message(400, "Cannot parse JSON body")),
                };
            }
            BodyKind::Yaml => {
                return match serde_yaml_ng::from_slice::<Value>(&self.bytes) {
                    Ok(Value::Object(map)) => Ok(map),
                    _ => Err(ApiError::message(400, "Cannot parse YAML body")),
                };
            }
            BodyKind::Form => form_urlencoded::parse(&self.bytes).into_owned().collect(),
            BodyKind::Multipart(boundary) => multipart_pairs(boundary, &self.bytes),
        };
        Ok(schema::infer_record(fields, schema::form_tree(pairs)))
    }
}

fn classify(headers: &HeaderMap, bytes: Bytes, allow_yaml: bool) -> Result<RawBody, ApiError> {
    let types: Vec<&str> = headers
        .get_all("content-type")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if types.len() > 1 {
        return Err(ApiError {
            status: 400,
            body: Some(json!("Bad Request: multiple Content-Type headers")),
            headers: Vec::new(),
        });
    }
    if bytes.is_empty() {
        return Ok(RawBody {
            kind: BodyKind::Empty,
            bytes,
        });
    }
    let Some(ct) = types.first() else {
        return Err(ApiError::unsupported_media_type());
    };
    let lower = ct.to_ascii_lowercase();
    let media = lower.split(';').next().unwrap_or_default().trim();
    let kind = match media {
        "application/json" => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "multipart/form-data" => {
            let boundary = ct
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim_matches('"').to_string())
                .ok_or_else(ApiError::unsupported_media_type)?;
            BodyKind::Multipart(boundary)
        }
        "application/yaml" | "text/yaml" | "application/x-yaml" if allow_yaml => BodyKind::Yaml,
        _ => return Err(ApiError::unsupported_media_type()),
    };
    Ok(RawBody { kind, bytes })
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Other OSS collections decK lists on `dump`/`diff`: always empty and read-only here.
const UNMODELLED: &[&str] = &[
    "plugins",
    "consumers",
    "certificates",
    "ca_certificates",
    "snis",
    "vaults",
    "keys",
    "key-sets",
    "filter-chains",
];

/// Verbs routed on a path, or `None` for an unknown path.
fn allowed(segs: &[&str], ver: &Ver) -> Option<&'static [&'static str]> {
    const GET: &[&str] = &["GET"];
    const LIST: &[&str] = &["GET", "POST"];
    const ENTITY: &[&str] = &["GET", "PUT", "PATCH", "DELETE"];
    let health_verb: &'static [&'static str] = if ver.at_least(3, 0) {
        &["PUT"]
    } else {
        &["POST"]
    };
    let top = |c: &str| matches!(c, "services" | "routes" | "upstreams");
    Some(match segs {
        ["plugins", "enabled"] => GET,
        [c] | [c, _] if UNMODELLED.contains(c) => GET,
        [] | ["status" | "tags"] | ["tags" | "schemas", _] => GET,
        ["config"] => LIST,
        ["schemas", _, "validate"] => &["POST"],
        [c] if top(c) => LIST,
        [c, _] if top(c) => ENTITY,
        ["services", _, "routes"] => LIST,
        ["services", _, "routes", _] => ENTITY,
        ["routes", _, "service"] => &["GET", "PUT", "PATCH"],
        ["upstreams", _, "health"] => GET,
        ["upstreams", _, "targets"] => LIST,
        ["upstreams", _, "targets", "all"] => GET,
        ["upstreams", _, "targets", _] => ENTITY,
        ["upstreams", _, "targets", _, "healthy" | "unhealthy"]
        | ["upstreams", _, "targets", _, _, "healthy" | "unhealthy"] => health_verb,
        _ => return None,
    })
}

impl Admin {
    pub(crate) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        conn: Conn,
    ) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let path_q = parts
            .uri
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_string());
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type = parts
            .headers
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let seq = self.log.start(LoggedRequest {
            method: method.clone(),
            path: path_q,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            status: 0,
            headers,
        });
        self.total_requests.fetch_add(1, Ordering::Relaxed);

        let mut lose_answer = false;
        if let Some(action) = self.faults.check(&method, &path) {
            match action {
                FaultAction::Status {
                    code,
                    retry_after,
                    body,
                } => {
                    let body = body.unwrap_or_else(|| {
                        let reason = http::StatusCode::from_u16(code)
                            .ok()
                            .and_then(|c| c.canonical_reason())
                            .unwrap_or("Injected fault");
                        json!({ "message": reason }).to_string()
                    });
                    let mut builder = Response::builder()
                        .status(code)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("server", format!("kong/{}", self.ver.text));
                    if let Some(seconds) = retry_after {
                        builder = builder.header("retry-after", seconds.to_string());
                    }
                    self.log.finish(seq, code);
                    return builder
                        .body(full(body))
                        .unwrap_or_else(|_| Response::new(full(Bytes::new())));
                }
                FaultAction::Hang { ms } => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    conn.close();
                    return std::future::pending().await;
                }
                FaultAction::Reset => {
                    conn.reset();
                    return std::future::pending().await;
                }
                FaultAction::Delay { ms } => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                FaultAction::LoseAnswer => lose_answer = true,
            }
        }

        let head = method == "HEAD";
        let reply = self.process(&method, &parts.uri, &parts.headers, bytes);
        let (status, body, extra) = match reply {
            Ok(r) => (r.status, r.body, r.headers),
            Err(e) => (e.status, e.body, e.headers),
        };
        self.log.finish(seq, status);
        if lose_answer {
            conn.reset();
            return std::future::pending().await;
        }
        let mut builder = Response::builder()
            .status(status)
            .header("server", format!("kong/{}", self.ver.text))
            .header("access-control-allow-origin", "*")
            .header("x-kong-admin-latency", "0");
        for (k, v) in extra {
            builder = builder.header(k, v);
        }
        let payload = match body {
            Some(value) => {
                builder = builder.header("content-type", "application/json; charset=utf-8");
                if head {
                    Bytes::new()
                } else {
                    Bytes::from(value.to_string())
                }
            }
            None => Bytes::new(),
        };
        builder
            .body(full(payload))
            .unwrap_or_else(|_| Response::new(full(Bytes::new())))
    }

    fn process(
        &self,
        method: &str,
        uri: &http::Uri,
        headers: &HeaderMap,
        bytes: Bytes,
    ) -> Result<Reply, ApiError> {
        if let Some(token) = &self.token {
            let given = headers
                .get("kong-admin-token")
                .and_then(|v| v.to_str().ok());
            if given != Some(token.as_str()) {
                return Err(ApiError::message(
                    401,
                    "Invalid credentials. Token or User credentials required",
                ));
            }
        }
        let segs: Vec<String> = uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let seg_refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let query = Query(
            uri.query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        );
        let Some(verbs) = allowed(&seg_refs, &self.ver) else {
            return Err(ApiError::not_found());
        };
        if method == "OPTIONS" {
            let mut list: Vec<&str> = verbs.to_vec();
            if list.contains(&"GET") {
                list.push("HEAD");
            }
            list.push("OPTIONS");
            let allow = list.join(", ");
            return Ok(Reply {
                status: 204,
                body: None,
                headers: vec![
                    ("allow".into(), allow.clone()),
                    ("access-control-allow-methods".into(), allow),
                ],
            });
        }
        let method = if method == "HEAD" { "GET" } else { method };
        if !verbs.contains(&method) {
            return Err(ApiError::method_not_allowed());
        }
        let body = if matches!(method, "POST" | "PUT" | "PATCH") {
            classify(headers, bytes, seg_refs == ["config"])?
        } else {
            RawBody {
                kind: BodyKind::Empty,
                bytes: Bytes::new(),
            }
        };
        self.route(method, &seg_refs, &query, &body)
    }

    fn publish(&self, db: &Db) {
        self.dp.publish(Snapshot::build(db));
    }

    /// Validate, then store (or refuse in DB-less mode), then publish to the data plane.
    fn write(
        &self,
        db: &mut Db,
        kind: Kind,
        input: Map<String, Value>,
        mode: Mode,
        by_name: bool,
    ) -> Result<Value, ApiError> {
        let row = db.prepare(kind, input, &mode, &self.ver)?;
        if self.db_less {
            let op = match mode {
                Mode::Insert => "create",
                Mode::Upsert(_) => "create or update",
                Mode::Update(_) => "update",
            };
            return Err(self.unsupported(op, kind, by_name));
        }
        let value = db.put(kind, row);
        self.publish(db);
        Ok(value)
    }

    fn unsupported(&self, op: &str, kind: Kind, by_name: bool) -> ApiError {
        let by = if by_name {
            format!(" by '{}'", kind.endpoint_key())
        } else {
            String::new()
        };
        ApiError::unsupported(format!(
            "cannot {op} '{}' entities{by} when not using a database",
            kind.table()
        ))
    }

    fn fields(&self, kind: Kind) -> Vec<schema::Field> {
        kind.fields(&self.ver)
    }

    fn route(
        &self,
        method: &str,
        segs: &[&str],
        q: &Query,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        match (method, segs) {
            (_, []) => self.root(),
            (_, ["status"]) => self.status(q),
            ("GET", ["config"]) => self.get_config(),
            ("POST", ["config"]) => self.post_config(q, body),
            (_, ["schemas", name]) => self.schema(name),
            (_, ["schemas", name, "validate"]) => self.validate_schema(name, body),
            (_, ["plugins", "enabled"]) => ok(200, json!({"enabled_plugins": []})),
            (_, [c]) if UNMODELLED.contains(c) => self.list(&[], q, &format!("/{c}"), true),
            (_, [c, _]) if UNMODELLED.contains(c) => Err(ApiError::not_found()),
            (_, ["tags"]) => self.tags(None),
            (_, ["tags", tag]) => self.tags(Some(tag)),
            (_, [coll]) => {
                let kind = Kind::from_table(coll).ok_or_else(ApiError::not_found)?;
                if method == "GET" {
                    let db = self.db.lock().unwrap();
                    let rows: Vec<&Value> = db.table(kind).values().collect();
                    self.list(&rows, q, &format!("/{coll}"), true)
                } else {
                    let input = body.parse(&self.fields(kind))?;
                    let mut db = self.db.lock().unwrap();
                    ok(201, self.write(&mut db, kind, input, Mode::Insert, false)?)
                }
            }
            (_, [coll, key]) => {
                let kind = Kind::from_table(coll).ok_or_else(ApiError::not_found)?;
                self.entity(method, kind, key, body, None)
            }
            (_, ["services", s, "routes"]) => self.nested_routes(method, s, q, body),
            (_, ["services", s, "routes", r]) => {
                let service_id = {
                    let db = self.db.lock().unwrap();
                    let svc = db
                        .lookup(Kind::Services, s)
                        .ok_or_else(ApiError::not_found)?;
                    svc["id"].as_str().unwrap_or_default().to_string()
                };
                self.entity(method, Kind::Routes, r, body, Some(service_id))
            }
            (_, ["routes", r, "service"]) => self.route_service(method, r, body),
            (_, ["upstreams", u, "health"]) => self.health(u, q),
            ("GET", ["upstreams", u, "targets", "all"]) => {
                let db = self.db.lock().unwrap();
                let up = db
                    .lookup(Kind::Upstreams, u)
                    .ok_or_else(ApiError::not_found)?;
                let up_id = up["id"].clone();
                let rows: Vec<&Value> = db
                    .targets
                    .values()
                    .filter(|t| t["upstream"]["id"] == up_id)
                    .collect();
                self.list(&rows, q, &format!("/upstreams/{u}/targets/all"), false)
            }
            (_, ["upstreams", u, "targets"]) => self.targets(method, u, q, body),
            (_, ["upstreams", u, "targets", t]) => self.target(method, u, t, body),
            (
                _,
                ["upstreams", u, "targets", t, state] | ["upstreams", u, "targets", t, _, state],
            ) => self.set_health(u, t, *state == "healthy"),
            _ => Err(ApiError::not_found()),
        }
    }

    // ------------------------------------------------------------------ lists

    fn list(
        &self,
        rows: &[&Value],
        q: &Query,
        base: &str,
        top_level: bool,
    ) -> Result<Reply, ApiError> {
        let size = parse_size(q.get("size"))?;
        let tags = if top_level {
            self.parse_tags(q.get("tags"))?
        } else {
            None
        };
        let after = match q.get("offset") {
            None => None,
            Some(offset) => Some(decode_offset(offset)?),
        };
        let mut data = Vec::new();
        let mut more = false;
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default();
            if after.as_deref().is_some_and(|a| id <= a) {
                continue;
            }
            if let Some((wanted, all)) = &tags {
                let have: Vec<&str> = row["tags"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let hit = |t: &String| have.contains(&t.as_str());
                let matched = if *all {
                    wanted.iter().all(hit)
                } else {
                    wanted.iter().any(hit)
                };
                if !matched {
                    continue;
                }
            }
            if data.len() == size {
                more = true;
                break;
            }
            data.push((*row).clone());
        }
        let mut body = json!({ "data": data, "next": null });
        if more {
            let last = data
                .last()
                .and_then(|r| r["id"].as_str())
                .unwrap_or_default();
            let offset =
                base64::engine::general_purpose::STANDARD.encode(json!([last]).to_string());
            let mut next = format!("{base}?offset={}", escape_uri(&offset));
            if top_level {
                if let Some(t) = q.get("tags") {
                    next = format!("{next}&tags={}", escape_uri(t));
                }
                if let Some(s) = q.get("size") {
                    next = format!("{next}&size={}", escape_uri(s));
                }
            }
            body["offset"] = json!(offset);
            body["next"] = json!(next);
        }
        ok(200, body)
    }

    fn parse_tags(&self, raw: Option<&str>) -> Result<Option<(Vec<String>, bool)>, ApiError> {
        let Some(raw) = raw else { return Ok(None) };
        if raw.is_empty() {
            if self.ver.at_least(3, 9) {
                return Err(ApiError::invalid_option("tags", "cannot be null"));
            }
            return Ok(None);
        }
        let and = raw.contains(',');
        let or = raw.contains('/');
        if and && or {
            return Err(ApiError::invalid_option("tags", "invalid filter syntax"));
        }
        let tags: Vec<String> = raw.split([',', '/']).map(str::to_string).collect();
        if tags.len() > 5 {
            return Err(ApiError::invalid_option(
                "tags",
                "cannot query more than 5 tags",
            ));
        }
        if tags
            .iter()
            .any(|t| t.is_empty() || t.chars().any(char::is_control))
        {
            return Err(ApiError::invalid_option("tags", "invalid filter syntax"));
        }
        Ok(Some((tags, !or)))
    }

    // ------------------------------------------------------------------ generic entity

    fn check_key(kind: Kind, key: &str, ver: &Ver) -> Result<(), ApiError> {
        if is_uuid(key) {
            return Ok(());
        }
        let result = match kind {
            Kind::Upstreams => schema::check_upstream_name(key, ver),
            Kind::Services | Kind::Routes => schema::check_utf8_name(key, ver),
            Kind::Targets => Ok(None),
        };
        result
            .map(|_| ())
            .map_err(|msg| ApiError::invalid_unique(kind.endpoint_key(), &msg))
    }

    /// `/{coll}/{key}` and `/services/{s}/routes/{key}` (with `parent` = service id).
    fn entity(
        &self,
        method: &str,
        kind: Kind,
        key: &str,
        body: &RawBody,
        parent: Option<String>,
    ) -> Result<Reply, ApiError> {
        Self::check_key(kind, key, &self.ver)?;
        let by_name = !is_uuid(key);
        let mut db = self.db.lock().unwrap();
        let found = db.lookup(kind, key).cloned();
        let belongs = |row: &Value| match &parent {
            Some(sid) => row["service"]["id"].as_str() == Some(sid.as_str()),
            None => true,
        };
        let found = match (found, &parent) {
            (Some(row), Some(_)) if !belongs(&row) => return Err(ApiError::not_found()),
            (found, _) => found,
        };
        let key_obj = if by_name {
            json!({ kind.endpoint_key(): key })
        } else {
            json!({ "id": key })
        };
        match method {
            "GET" => found.map_or_else(|| Err(ApiError::not_found()), |row| ok(200, row)),
            "PUT" => {
                let mut input = body.parse(&self.fields(kind))?;
                let id = match &found {
                    Some(row) => row["id"].as_str().unwrap_or_default().to_string(),
                    None if by_name => uuid::Uuid::new_v4().to_string(),
                    None => key.to_ascii_lowercase(),
                };
                if by_name {
                    input.insert(kind.endpoint_key().into(), json!(key));
                }
                if let Some(sid) = &parent {
                    input.insert("service".into(), json!({ "id": sid }));
                }
                ok(
                    200,
                    self.write(&mut db, kind, input, Mode::Upsert(id), by_name)?,
                )
            }
            "PATCH" => {
                let Some(row) = found else {
                    return Err(if parent.is_some() {
                        ApiError::not_found()
                    } else {
                        ApiError::not_found_key(key_obj)
                    });
                };
                let mut input = body.parse(&self.fields(kind))?;
                if let Some(sid) = &parent {
                    input.insert("service".into(), json!({ "id": sid }));
                }
                let id = row["id"].as_str().unwrap_or_default().to_string();
                ok(
                    200,
                    self.write(&mut db, kind, input, Mode::Update(id), by_name)?,
                )
            }
            "DELETE" => {
                let Some(row) = found else {
                    return if parent.is_some() {
                        Err(ApiError::not_found())
                    } else {
                        no_content()
                    };
                };
                if self.db_less {
                    return Err(self.unsupported("remove", kind, by_name));
                }
                let id = row["id"].as_str().unwrap_or_default().to_string();
                db.delete(kind, &id)?;
                self.publish(&db);
                no_content()
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn nested_routes(
        &self,
        method: &str,
        s: &str,
        q: &Query,
        body: &RawBody,
    ) -> Result<Reply, ApiError> {
        let service_id = {
            let db = self.db.lock().unwrap();
            let svc = db
                .lookup(Kind::Services, s)
                .ok_or_else(ApiError::not_found)?;
            svc["id"].as_str().unwrap_or_default().to_string()
        };
        if method == "GET" {
            let db = self.db.lock().unwrap();
            let rows: Vec<&Value> = db
                .routes
                .values()
                .filter(|r| r["service"]["id"].as_str() == Some(service_id.as_str()))
                .collect();
            return self.list(&rows, q, &format!("/services/{s}/routes"), false);
        }
        let mut input = body.parse(&self.fields(Kind::Routes))?;
        input.insert("service".into(), json!({ "id": service_id }));
        let mut db = self.db.lock().unwrap();
        ok(
            201,
            self.write(&mut db, Kind::Routes, input, Mode::Insert, false)?,
        )
    }

    fn route_service(&self, method: &str, r: &str, body: &RawBody) -> Result<Reply, ApiError> {
        Self::check_key(Kind::Routes, r, &self.ver)?;
        let mut db = self.db.lock().unwrap();
        let route = db.lookup(Kind::Routes, r).ok_or_else(ApiError::not_found)?;
        let service_id = route["service"]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(ApiError::not_found)?;
        let service = db
            .services
            .get(&service_id)
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        match method {
            "GET" => ok(200, service),
            "PATCH" => {
                let input = body.parse(&self.fields(Kind::Services))?;
                ok(
                    200,
                    self.write(
                        &mut db,
                        Kind::Services,
                        input,
                        Mode::Update(service_id),
                        false,
                    )?,
                )
            }
            _ => {
                let input = body.parse(&self.fields(Kind::Services))?;
                ok(
                    200,
                    self.write(
                        &mut db,
                        Kind::Services,
                        input,
                        Mode::Upsert(service_id),
                        false,
                    )?,
                )
            }
        }
    }

    // ------------------------------------------------------------------ targets

    fn upstream_id(db: &Db, u: &str) -> Result<String, ApiError> {
        db.lookup(Kind::Upstreams, u)
            .and_then(|up| up["id"].as_str().map(str::to_string))
            .ok_or_else(ApiError::not_found)
    }

    /// Targets of an upstream, newest first (created_at, then id, reversed).
    fn targets_newest_first(db: &Db, up_id: &str) -> Vec<Value> {
        let mut rows: Vec<Value> = db
            .targets
            .values()
            .filter(|t| t["upstream"]["id"].as_str() == Some(up_id))
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            let ca = a["created_at"].as_f64().unwrap_or(0.0);
            let cb = b["created_at"].as_f64().unwrap_or(0.0);
            cb.total_cmp(&ca)
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        rows
    }

    fn numeric_page(rows: Vec<Value>, q: &Query, base: &str) -> Result<Value, ApiError> {
        let size = match q.get("size") {
            None => 100,
            Some(s) => match s.parse::<f64>() {
                Err(_) => return Err(ApiError::invalid_size("size must be a number")),
                Ok(n) if n < 1.0 || n.fract() != 0.0 => {
                    return Err(ApiError::invalid_size(
                        "size must be an integer between 1 and 1000",
                    ))
                }
                Ok(n) => (n as usize).min(1000),
            },
        };
        let start = match q.get("offset") {
            None => 0,
            Some(o) => o
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_offset(o, "bad offset"))?,
        };
        let end = (start + size).min(rows.len());
        let page: Vec<Value> = rows
            .get(start..end)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        let mut body = json!({ "data": page, "next": null });
        if end < rows.len() {
            body["offset"] = json!(end.to_string());
            body["next"] = json!(format!("{base}?offset={end}"));
        }
        Ok(body)
    }

    fn targets(&self, method: &str, u: &str, q: &Query, body: &RawBody) -> Result<Reply, ApiError> {
        let db = self.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        if method == "GET" {
            let rows = Self::targets_newest_first(&db, &up_id);
            return ok(
                200,
                Self::numeric_page(rows, q, &format!("/upstreams/{u}/targets"))?,
            );
        }
        drop(db);
        let mut input = body.parse(&self.fields(Kind::Targets))?;
        input.insert("upstream".into(), json!({ "id": up_id }));
        let mut db = self.db.lock().unwrap();
        if !self.ver.at_least(3, 0) {
            // 2.8: POST of an existing target updates it, with a Deprecation header.
            let normalized = input
                .get("target")
                .and_then(Value::as_str)
                .and_then(schema::normalize_target);
            let existing = db.targets.values().find(|t| {
                t["upstream"]["id"].as_str() == Some(up_id.as_str())
                    && normalized.is_some()
                    && t["target"].as_str() == normalized.as_deref()
            });
            if let Some(existing) = existing {
                let id = existing["id"].as_str().unwrap_or_default().to_string();
                let row = self.write(&mut db, Kind::Targets, input, Mode::Update(id), false)?;
                return Ok(Reply {
                    status: 200,
                    body: Some(row),
                    headers: vec![("deprecation".into(), "true".into())],
                });
            }
        }
        ok(
            201,
            self.write(&mut db, Kind::Targets, input, Mode::Insert, false)?,
        )
    }

    fn find_target(db: &Db, up_id: &str, t: &str) -> Option<Value> {
        db.targets
            .values()
            .find(|row| {
                row["upstream"]["id"].as_str() == Some(up_id)
                    && (row["id"].as_str() == Some(t.to_ascii_lowercase().as_str())
                        || row["target"].as_str() == Some(t))
            })
            .cloned()
    }

    fn target(&self, method: &str, u: &str, t: &str, body: &RawBody) -> Result<Reply, ApiError> {
        let mut db = self.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        let row = Self::find_target(&db, &up_id, t).ok_or_else(ApiError::not_found)?;
        let id = row["id"].as_str().unwrap_or_default().to_string();
        match method {
            "GET" => ok(200, row),
            "DELETE" => {
                if self.db_less {
                    return Err(self.unsupported("remove", Kind::Targets, false));
                }
                db.delete(Kind::Targets, &id)?;
                self.dp.health.lock().unwrap().remove(&id);
                self.publish(&db);
                no_content()
            }
            // PATCH and PUT are both partial updates of an existing target.
            _ => {
                let mut input = body.parse(&self.fields(Kind::Targets))?;
                input.insert("upstream".into(), json!({ "id": up_id }));
                ok(
                    200,
                    self.write(&mut db, Kind::Targets, input, Mode::Update(id), false)?,
                )
            }
        }
    }

    fn set_health(&self, u: &str, t: &str, healthy: bool) -> Result<Reply, ApiError> {
        let db = self.db.lock().unwrap();
        let up_id = Self::upstream_id(&db, u)?;
        let row = Self::find_target(&db, &up_id, t).ok_or_else(ApiError::not_found)?;
        let id = row["id"].as_str().unwrap_or_default().to_string();
        self.dp.health.lock().unwrap().insert(id, healthy);
        no_content()
    }

    fn health(&self, u: &str, q: &Query) -> Result<Reply, ApiError> {
        let db = self.db.lock().unwrap();
        let up = db
            .lookup(Kind::Upstreams, u)
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        let up_id = up["id"].as_str().unwrap_or_default().to_string();
        let hc = &up["healthchecks"];
        let nz = |v: &Value| v.as_f64().is_some_and(|x| x != 0.0);
        let checks_on = nz(&hc["active"]["healthy"]["interval"])
            || nz(&hc["active"]["unhealthy"]["interval"])
            || nz(&hc["passive"]["unhealthy"]["tcp_failures"])
            || nz(&hc["passive"]["unhealthy"]["timeouts"])
            || nz(&hc["passive"]["unhealthy"]["http_failures"]);
        let marks = self.dp.health.lock().unwrap().clone();
        let rows = Self::targets_newest_first(&db, &up_id);
        let mut total = 0u64;
        let mut available = 0u64;
        let mut data = Vec::new();
        for mut row in rows {
            let weight = row["weight"].as_u64().unwrap_or(0);
            let id = row["id"].as_str().unwrap_or_default();
            let health = if weight == 0 {
                "HEALTHCHECKS_OFF"
            } else {
                match marks.get(id) {
                    Some(true) => "HEALTHY",
                    Some(false) => "UNHEALTHY",
                    None if checks_on => "HEALTHY",
                    None => "HEALTHCHECKS_OFF",
                }
            };
            let up_weight = if health == "UNHEALTHY" { 0 } else { weight };
            total += weight;
            available += up_weight;
            let target = row["target"].as_str().unwrap_or_default();
            let (host, port) = schema::split_host_port(target).unwrap_or_default();
            let port: u64 = port.and_then(|p| p.parse().ok()).unwrap_or(8000);
            let dns = if host.parse::<std::net::IpAddr>().is_ok() {
                "A"
            } else {
                "HOSTNAME"
            };
            row["health"] = json!(health);
            row["data"] = json!({
                "host": host,
                "port": port,
                "dns": dns,
                "nodeWeight": weight,
                "weight": {"total": weight, "available": up_weight, "unavailable": weight - up_weight},
                "addresses": [{"ip": host, "port": port, "weight": weight, "health": health}],
            });
            data.push(row);
        }
        if q.get("balancer_health")
            .is_some_and(|v| v == "1" || v == "true")
        {
            let threshold = hc["threshold"].as_f64().unwrap_or(0.0);
            let health = if !checks_on {
                "HEALTHCHECKS_OFF"
            } else if total > 0
                && (available as f64) * 100.0 / (total as f64) >= threshold
                && available > 0
            {
                "HEALTHY"
            } else {
                "UNHEALTHY"
            };
            return ok(
                200,
                json!({
                    "data": {
                        "health": health,
                        "balancer_health": health,
                        "id": up_id,
                        "details": {
                            "healthy": health != "UNHEALTHY",
                            "weight": {"total": total, "available": available, "unavailable": total - available},
                            "hosts": data.iter().map(|d| d["data"].clone()).collect::<Vec<_>>(),
                        },
                    },
                    "next": null,
                    "node_id": self.node_id,
                }),
            );
        }
        let mut body = Self::numeric_page(data, q, &format!("/upstreams/{u}/health"))?;
        body["node_id"] = json!(self.node_id);
        ok(200, body)
    }

    // ------------------------------------------------------------------ node

    fn root(&self) -> Result<Reply, ApiError> {
        let plugin_names = [
            "acl",
            "basic-auth",
            "cors",
            "key-auth",
            "rate-limiting",
            "request-transformer",
        ];
        let available: Map<String, Value> = plugin_names
            .iter()
            .map(|name| {
                let meta = if self.ver.at_least(3, 0) {
                    json!({"version": self.ver.text, "priority": 1000})
                } else {
                    json!(true)
                };
                ((*name).to_string(), meta)
            })
            .collect();
        let (admin, proxy) = self.listeners.lock().unwrap().clone();
        let pid = std::process::id();
        let mut body = json!({
            "tagline": "Welcome to kong",
            "version": self.ver.text,
            "hostname": "kong-sim",
            "node_id": self.node_id,
            "timers": {"running": 0, "pending": 0},
            "plugins": {"available_on_server": available, "enabled_in_cluster": []},
            "lua_version": "LuaJIT 2.1.0-20231117",
            "configuration": {
                "database": if self.db_less { "off" } else { "postgres" },
                "role": "traditional",
                "router_flavor": "traditional_compatible",
                "admin_listen": [admin],
                "proxy_listen": [proxy],
            },
            "pids": {"master": pid, "workers": [pid]},
        });
        if self.ver.at_least(3, 6) {
            body["edition"] = json!("community");
        }
        ok(200, body)
    }

    fn status(&self, q: &Query) -> Result<Reply, ApiError> {
        if let Some(unit) = q.get("unit") {
            if !matches!(unit, "b" | "B" | "k" | "K" | "m" | "M" | "g" | "G") {
                return Err(ApiError::message(
                    400,
                    &format!("invalid unit '{unit}' (expected 'k/K', 'm/M', or 'g/G')"),
                ));
            }
        }
        if let Some(scale) = q.get("scale") {
            if scale.parse::<u32>().is_err() {
                return Err(ApiError::message(400, &format!("invalid scale: {scale}")));
            }
        }
        let n = self.total_requests.load(Ordering::Relaxed);
        let mut body = json!({
            "memory": {
                "lua_shared_dicts": {
                    "kong": {"allocated_slabs": "0.04 MiB", "capacity": "5.00 MiB"},
                    "kong_db_cache": {"allocated_slabs": "0.80 MiB", "capacity": "128.00 MiB"},
                },
                "workers_lua_vms": [{"http_allocated_gc": "40.00 MiB", "pid": std::process::id()}],
            },
            "server": {
                "connections_accepted": n, "connections_active": 1, "connections_handled": n,
                "connections_reading": 0, "connections_writing": 1, "connections_waiting": 0,
                "total_requests": n,
            },
        });
        if self.db_less {
            let hash = self
                .config_hash
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| "0".repeat(32));
            body["configuration_hash"] = json!(hash);
            if !self.ver.at_least(3, 4) {
                body["database"] = json!({"reachable": true});
            }
        } else {
            body["database"] = json!({"reachable": true});
        }
        ok(200, body)
    }

    fn schema(&self, name: &str) -> Result<Reply, ApiError> {
        let kind = Kind::from_table(name)
            .ok_or_else(|| ApiError::message(404, &format!("No entity named '{name}'")))?;
        ok(
            200,
            json!({ "fields": schema::render_fields(&self.fields(kind)) }),
        )
    }

    fn validate_schema(&self, name: &str, body: &RawBody) -> Result<Reply, ApiError> {
        let kind = Kind::from_table(name)
            .ok_or_else(|| ApiError::message(404, &format!("No entity named '{name}'")))?;
        let input = body.parse(&self.fields(kind))?;
        let db = self.db.lock().unwrap();
        match db.prepare(kind, input, &Mode::Insert, &self.ver) {
            Err(e) if e.body.as_ref().is_some_and(|b| b["code"] == json!(2)) => Err(e),
            _ => ok(200, json!({"message": "schema validation successful"})),
        }
    }

    fn tags(&self, only: Option<&str>) -> Result<Reply, ApiError> {
        let db = self.db.lock().unwrap();
        let mut data = Vec::new();
        for kind in Kind::ALL {
            for row in db.table(kind).values() {
                for tag in row["tags"].as_array().into_iter().flatten() {
                    let Some(tag) = tag.as_str() else { continue };
                    if only.is_none_or(|o| o == tag) {
                        data.push(json!({"tag": tag, "entity_name": kind.table(), "entity_id": row["id"]}));
                    }
                }
            }
        }
        ok(200, json!({ "data": data, "next": null }))
    }

    // ------------------------------------------------------------------ DB-less /config

    fn get_config(&self) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(ApiError::message(
                400,
                "this endpoint is only available when Kong is configured to not use a database",
            ));
        }
        let db = self.db.lock().unwrap();
        let mut doc = Map::new();
        doc.insert("_format_version".into(), json!("3.0"));
        for kind in Kind::ALL {
            let rows: Vec<Value> = db.table(kind).values().cloned().collect();
            if !rows.is_empty() {
                doc.insert(kind.table().into(), Value::Array(rows));
            }
        }
        let yaml = serde_yaml_ng::to_string(&Value::Object(doc)).unwrap_or_default();
        ok(200, json!({ "config": yaml }))
    }

    fn post_config(&self, q: &Query, body: &RawBody) -> Result<Reply, ApiError> {
        if !self.db_less {
            return Err(ApiError::message(
                400,
                "this endpoint is only available when Kong is configured to not use a database",
            ));
        }
        let mut doc = body.parse(&[])?;
        if let Some(Value::String(text)) = doc.get("config").cloned() {
            doc = match serde_yaml_ng::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiError::declarative(
                        json!({"config": "failed parsing declarative configuration"}),
                    ))
                }
            };
        }
        let hash = config_hash(&Value::Object(doc.clone()));
        if q.get("check_hash") == Some("1")
            && self.config_hash.lock().unwrap().as_deref() == Some(hash.as_str())
        {
            return Ok(Reply {
                status: 304,
                body: None,
                headers: Vec::new(),
            });
        }
        let new_db = self.load_declarative(doc)?;
        let mut out = Map::new();
        for kind in Kind::ALL {
            let rows: Map<String, Value> = new_db
                .table(kind)
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert(kind.table().into(), Value::Object(rows));
        }
        let mut db = self.db.lock().unwrap();
        *db = new_db;
        self.dp.health.lock().unwrap().clear();
        *self.config_hash.lock().unwrap() = Some(hash);
        self.publish(&db);
        ok(201, Value::Object(out))
    }

    fn load_declarative(&self, doc: Map<String, Value>) -> Result<Db, ApiError> {
        const IGNORED: &[&str] = &[
            "_format_version",
            "_transform",
            "_comment",
            "_info",
            "_workspace",
        ];
        let mut errors = Map::new();
        if doc.get("_format_version").is_none_or(Value::is_null) {
            errors.insert("_format_version".into(), json!("required field missing"));
        }
        for (key, value) in &doc {
            if IGNORED.contains(&key.as_str())
                || Kind::from_table(key).is_some_and(|k| k != Kind::Targets)
            {
                continue;
            }
            if key == "targets" {
                continue;
            }
            let empty = value.as_array().is_some_and(Vec::is_empty) || value.is_null();
            if !empty {
                errors.insert(
                    key.clone(),
                    json!("not modelled by kong-sim (only services, routes, upstreams, targets)"),
                );
            }
        }
        let mut db = Db::default();
        let list = |key: &str| -> Vec<Value> {
            doc.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let add = |db: &mut Db,
                   kind: Kind,
                   mut row: Map<String, Value>,
                   index: usize,
                   errors: &mut Map<String, Value>|
         -> Option<String> {
            // Foreign references may be a bare name or id string.
            for field in ["service", "upstream"] {
                if let Some(Value::String(reference)) = row.get(field).cloned() {
                    let key = if is_uuid(&reference) { "id" } else { "name" };
                    row.insert(field.into(), json!({ key: reference }));
                }
            }
            match db.prepare(kind, row, &Mode::Insert, &self.ver) {
                Ok(row) => {
                    let id = row["id"].as_str().unwrap_or_default().to_string();
                    db.put(kind, row);
                    Some(id)
                }
                Err(e) => {
                    let detail = e
                        .body
                        .as_ref()
                        .and_then(|b| {
                            b.get("fields")
                                .cloned()
                                .or_else(|| b.get("message").cloned())
                        })
                        .unwrap_or(Value::Null);
                    let slot = errors
                        .entry(kind.table())
                        .or_insert_with(|| Value::Object(Map::new()));
                    slot[index.to_string()] = detail;
                    None
                }
            }
        };
        for (i, svc) in list("services").into_iter().enumerate() {
            let Value::Object(mut svc) = svc else {
                continue;
            };
            let routes = svc.remove("routes");
            if let Some(id) = add(&mut db, Kind::Services, svc, i, &mut errors) {
                for (j, route) in routes
                    .and_then(|r| r.as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let Value::Object(mut route) = route else {
                        continue;
                    };
                    route.insert("service".into(), json!({ "id": id }));
                    add(&mut db, Kind::Routes, route, j, &mut errors);
                }
            }
        }
        for (i, route) in list("routes").into_iter().enumerate() {
            if let Value::Object(route) = route {
                add(&mut db, Kind::Routes, route, i, &mut errors);
            }
        }
        for (i, up) in list("upstreams").into_iter().enumerate() {
            let Value::Object(mut up) = up else { continue };
            let targets = up.remove("targets");
            if let Some(id) = add(&mut db, Kind::Upstreams, up, i, &mut errors) {
                for (j, t) in targets
                    .and_then(|r| r.as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let Value::Object(mut t) = t else { continue };
                    t.insert("upstream".into(), json!({ "id": id }));
                    add(&mut db, Kind::Targets, t, j, &mut errors);
                }
            }
        }
        for (i, t) in list("targets").into_iter().enumerate() {
            if let Value::Object(t) = t {
                add(&mut db, Kind::Targets, t, i, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(db)
        } else {
            Err(ApiError::declarative(Value::Object(errors)))
        }
    }
}

fn config_hash(doc: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let text = doc.to_string();
    let mut a = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (text, 0x9e37_79b9_u32).hash(&mut b);
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

fn parse_size(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(100) };
    let n: f64 = raw
        .parse()
        .map_err(|_| ApiError::invalid_size("size must be a number"))?;
    if n.fract() != 0.0 || !(1.0..=1000.0).contains(&n) {
        return Err(ApiError::invalid_size(
            "size must be an integer between 1 and 1000",
        ));
    }
    Ok(n as usize)
}

fn decode_offset(offset: &str) -> Result<String, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(offset)
        .map_err(|_| ApiError::invalid_offset(offset, "bad base64 encoding"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::invalid_offset(offset, "bad json encoding"))?;
    value
        .get(0)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid_offset(offset, "bad json encoding"))
}
