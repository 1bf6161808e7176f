//! The control port: HTTP/JSON access to the request log and the fault table, for tests that
//! drive the `kong-sim` binary from another process.
//!
//! `GET /requests`, `DELETE /requests`, `GET /faults`, `POST /faults` (a `FaultRule`),
//! `DELETE /faults`, `POST /faults/random` (`{"rate":0.2,"action":{…}}`) act on node 1; the
//! same paths under `/nodes/{i}` (1-based) act on node `i` of a cluster.
//!
//! Hybrid mode: `GET /data-planes` lists the data planes (as `/clustering/data-planes` does,
//! plus `syncing` and `applied_hash`); `POST /data-planes/{i}/stop` cuts data plane `i`'s
//! (1-based) cluster connection (it keeps serving its last configuration and stops
//! heartbeating) and `POST /data-planes/{i}/resume` reconnects it.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{FaultAction, FaultRule, Faults};
use crate::log::RequestLog;
use crate::server::{full, Body, Conn};

pub(crate) struct Control {
    /// Each node's request log and fault table, node 1 first.
    pub(crate) nodes: Vec<(RequestLog, Faults)>,
    /// Hybrid mode: the control plane whose data planes `/data-planes` acts on.
    pub(crate) hybrid: Option<Arc<crate::hybrid::ControlPlane>>,
}

#[derive(Deserialize)]
struct Random {
    rate: f64,
    action: FaultAction,
}

fn reply(status: u16, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .unwrap_or_else(|_| Response::new(full("")))
}

impl Control {
    fn data_planes(&self, method: &str, rest: &str) -> Response<Body> {
        let Some(cp) = &self.hybrid else {
            return reply(404, &json!({"message": "not a hybrid-mode simulator"}));
        };
        if method == "GET" && rest.is_empty() {
            return reply(200, &cp.control_view());
        }
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let (index, on) = match (method, parts.as_slice()) {
            ("POST", [i, "stop"]) => (i.parse::<usize>().ok(), false),
            ("POST", [i, "resume"]) => (i.parse::<usize>().ok(), true),
            _ => return reply(404, &json!({"message": "Not found"})),
        };
        match index
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| cp.set_syncing(i, on))
        {
            Some(()) => reply(200, &json!({"syncing": on})),
            None => reply(404, &json!({"message": "no such data plane"})),
        }
    }

    pub(crate) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        _conn: Conn,
    ) -> Response<Body> {
        let method = req.method().as_str().to_string();
        let full_path = req.uri().path().trim_end_matches('/').to_string();
        if let Some(rest) = full_path.strip_prefix("/data-planes") {
            return self.data_planes(&method, rest);
        }
        let (index, path) = match full_path.strip_prefix("/nodes/") {
            Some(rest) => {
                let (n, tail) = rest.split_once('/').unwrap_or((rest, ""));
                match n.parse::<usize>() {
                    Ok(n) if (1..=self.nodes.len()).contains(&n) => (n - 1, format!("/{tail}")),
                    _ => return reply(404, &json!({"message": "no such node"})),
                }
            }
            None => (0, full_path),
        };
        let (log, faults) = &self.nodes[index];
        let body = req
            .into_body()
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        match (method.as_str(), path.as_str()) {
            ("GET", "/requests") => reply(200, &json!(log.all())),
            ("DELETE", "/requests") => {
                log.clear();
                reply(200, &json!({"cleared": true}))
            }
            ("GET", "/faults") => reply(200, &json!(faults.rules())),
            ("POST", "/faults") => match serde_json::from_slice::<FaultRule>(&body) {
                Ok(rule) => {
                    faults.add(rule);
                    reply(201, &json!({"added": true}))
                }
                Err(e) => reply(400, &json!({"message": e.to_string()})),
            },
            ("DELETE", "/faults") => {
                faults.clear();
                reply(200, &json!({"cleared": true}))
            }
            ("POST", "/faults/random") => match serde_json::from_slice::<Random>(&body) {
                Ok(random) => {
                    faults.set_random(random.rate, random.action);
                    reply(200, &json!({"rate": random.rate}))
                }
                Err(e) => reply(400, &json!({"message": e.to_string()})),
            },
            _ => reply(404, &json!({"message": "Not found"})),
        }
    }
}
