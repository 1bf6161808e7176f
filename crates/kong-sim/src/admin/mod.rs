//! The Admin API: request pipeline (log, faults, token, content types), the router with
//! Kong's 404/405 rules, and the endpoint handlers (generic CRUD, nested routes, targets,
//! health, node info, status, schemas, tags, DB-less `/config`).
//!
//! Parts: this file holds the shared state, the pipeline ([`Admin::handle`]) and the router;
//! [`request`] decodes bodies and query strings; [`lists`] pages collections and serves the
//! generic entity endpoints; [`targets`] upstream targets and health; [`node`] the node,
//! status, schema and tag endpoints; [`config`] DB-less `/config`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
use crate::schema::{self, Ver};
use crate::server::{full, Body, Conn};

mod config;
mod lists;
mod node;
mod request;
mod targets;

use crate::store::{Db, Kind, Mode};
use request::{classify, percent_decode, BodyKind, Query, RawBody};

/// What a node serves from: with a database every node holds the same `Store` (clones of one
/// set of `Arc`s); DB-less, every node has its own.
#[derive(Clone)]
pub(crate) struct Store {
    pub(crate) db: Arc<Mutex<Db>>,
    /// DB-less: the hash of the loaded declarative config (`/status` `configuration_hash`).
    pub(crate) config_hash: Arc<Mutex<Option<String>>>,
    /// Manual health marks by target id (`PUT …/healthy|unhealthy`): Kong broadcasts them to
    /// every node of the cluster, so they are shared with the store.
    pub(crate) health: Arc<Mutex<HashMap<String, bool>>>,
    /// The data planes a write is published to.
    pub(crate) planes: Arc<Mutex<Vec<Arc<DataPlane>>>>,
}

/// One node's Admin API state.
pub(crate) struct Admin {
    pub(crate) ver: Ver,
    pub(crate) db_less: bool,
    pub(crate) token: Option<String>,
    pub(crate) node_id: String,
    pub(crate) store: Store,
    pub(crate) log: RequestLog,
    pub(crate) faults: Faults,
    pub(crate) listeners: Mutex<(String, String)>,
    pub(crate) total_requests: AtomicU64,
    /// Hybrid mode: this node is the control plane of these data planes.
    pub(crate) hybrid: Option<Arc<crate::hybrid::ControlPlane>>,
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
        ["clustering", "data-planes"] => GET,
        ["config"] => LIST,
        ["schemas", _, "validate"] => &["POST"],
        [c] if top(c) => LIST,
        [c, _] if top(c) => ENTITY,
        ["services", _, "routes"] => LIST,
        ["services", _, "routes", _] => ENTITY,
        // DELETE is routed so a missing route is 404; an existing one is 405
        // (`09-routes_routes_spec.lua:1504-1522`).
        ["routes", _, "service"] => &["DELETE", "GET", "PUT", "PATCH"],
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
        let mut as_get = false;
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
                FaultAction::AsGet => as_get = true,
            }
        }

        let head = method == "HEAD";
        let reply = if as_get {
            self.process("GET", &parts.uri, &parts.headers, Bytes::new())
        } else {
            self.process(&method, &parts.uri, &parts.headers, bytes)
        };
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
                    // HEAD answers GET's headers, `Content-Length` included
                    // (`02-kong_routes_spec.lua:35-57`); the body is left out.
                    builder = builder.header("content-length", value.to_string().len());
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
            // `kong/api/api_helpers.lua`: the verbs plus HEAD (with GET) and OPTIONS, sorted;
            // allowed headers echo `Access-Control-Request-Headers`, else `Content-Type`.
            let mut list: Vec<&str> = verbs.to_vec();
            if list.contains(&"GET") {
                list.push("HEAD");
            }
            list.push("OPTIONS");
            list.sort_unstable();
            let allow = list.join(", ");
            let allow_headers = headers
                .get("access-control-request-headers")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("Content-Type")
                .to_string();
            return Ok(Reply {
                status: 204,
                body: None,
                headers: vec![
                    ("allow".into(), allow.clone()),
                    ("access-control-allow-methods".into(), allow),
                    ("access-control-allow-headers".into(), allow_headers),
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

    /// Hand a new snapshot to every data plane of the store; each starts using it after its
    /// own propagation delay. A plane without delay only learns that its snapshot is stale and
    /// builds the next one from the store when a proxy request asks, so a write costs the
    /// same however many targets the store holds (seeding thousands of targets stayed
    /// quadratic while every write rebuilt the whole routing table); a delayed plane must see
    /// this state later, so it gets it built now (once for all delayed planes).
    fn publish(&self, db: &Db) {
        let mut built: Option<Arc<Snapshot>> = None;
        for plane in self.store.planes.lock().unwrap().iter() {
            if plane.is_immediate() {
                plane.invalidate(&self.store.db);
            } else {
                let snapshot = built.get_or_insert_with(|| Arc::new(Snapshot::build(db)));
                plane.publish(snapshot.clone());
            }
        }
        if let Some(cp) = &self.hybrid {
            cp.publish(db);
        }
    }

    /// Validate, then refuse in DB-less mode (405 code 12 *before* the primary-key, foreign-key
    /// and uniqueness checks, which belong to the database: Kong's
    /// `spec/02-integration/04-admin_api/15-off_spec.lua:77-215` creates routes pointing at
    /// random service ids and expects 405), else check constraints, store and publish.
    fn write(
        &self,
        db: &mut Db,
        kind: Kind,
        input: Map<String, Value>,
        mode: Mode,
        by_name: bool,
    ) -> Result<Value, ApiError> {
        // The targets DAO formats the target before any schema check and answers its own,
        // shorter message (`kong/db/dao/targets.lua` `format_target`, on insert and upsert;
        // `08-targets_routes_spec.lua:166-176`).
        if kind == Kind::Targets && !matches!(mode, Mode::Update(_)) {
            if let Some(Value::String(target)) = input.get("target") {
                if schema::normalize_target(target).is_none() {
                    let mut fields = Map::new();
                    fields.insert(
                        "target".into(),
                        json!("Invalid target; not a valid hostname or ip address"),
                    );
                    return Err(ApiError::schema(fields));
                }
            }
        }
        let row = db.validate(kind, input, &mode, &self.ver)?;
        if self.db_less {
            let op = match mode {
                Mode::Insert => "create",
                Mode::Upsert(_) => "create or update",
                Mode::Update(_) => "update",
            };
            return Err(self.unsupported(op, kind, by_name));
        }
        db.constraints(kind, &row, &mode)?;
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
            (_, ["clustering", "data-planes"]) => match &self.hybrid {
                Some(cp) => ok(200, cp.list()),
                // Kong registers the route on control planes only.
                None => Err(ApiError::not_found()),
            },
            ("GET", ["config"]) => self.get_config(),
            ("POST", ["config"]) => self.post_config(q, body),
            (_, ["schemas", name]) => self.schema(name),
            (_, ["schemas", name, "validate"]) => self.validate_schema(name, body),
            (_, ["plugins", "enabled"]) => ok(200, json!({"enabled_plugins": []})),
            // Loaded from a declarative config (DB-less); always empty with a database.
            (_, [c]) if UNMODELLED.contains(c) => {
                let db = self.store.db.lock().unwrap();
                let rows: Vec<&Value> = db
                    .other
                    .get(&crate::declarative::section_of(c))
                    .map(|t| t.values().collect())
                    .unwrap_or_default();
                self.list(&rows, q, &format!("/{c}"), true)
            }
            (_, [c, key]) if UNMODELLED.contains(c) => {
                let db = self.store.db.lock().unwrap();
                let key = key.to_string();
                let row = db
                    .other
                    .get(&crate::declarative::section_of(c))
                    .and_then(|t| {
                        t.get(&key.to_ascii_lowercase()).or_else(|| {
                            t.values().find(|r| {
                                r["name"].as_str() == Some(key.as_str())
                                    || r["username"].as_str() == Some(key.as_str())
                            })
                        })
                    })
                    .cloned();
                row.map_or_else(|| Err(ApiError::not_found()), |row| ok(200, row))
            }
            (_, ["tags"]) => self.tags(None),
            (_, ["tags", tag]) => self.tags(Some(tag)),
            (_, [coll]) => {
                let kind = Kind::from_table(coll).ok_or_else(ApiError::not_found)?;
                if method == "GET" {
                    let db = self.store.db.lock().unwrap();
                    let rows: Vec<&Value> = db.table(kind).values().collect();
                    self.list(&rows, q, &format!("/{coll}"), true)
                } else {
                    let input = body.parse(&self.fields(kind))?;
                    let mut db = self.store.db.lock().unwrap();
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
                    let db = self.store.db.lock().unwrap();
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
                let db = self.store.db.lock().unwrap();
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
}
