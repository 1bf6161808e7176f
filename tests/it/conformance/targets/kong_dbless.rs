//! DB-less Kong through kong-sim: two `--db-less` nodes, each with its own declarative
//! configuration; the plan lists both (`adminUrls`, `proxyUrls`), so bgctl writes nothing but
//! `POST /config?check_hash=1`, one per node per write cycle.
//!
//! The write log merges the two nodes' request logs in the order bgctl makes them: it pushes
//! each cycle to node 1, then node 2, and nodes that agree always both get a push (or neither),
//! so a clean run's writes alternate node 1, node 2. Write `k` is therefore node `k % 2`'s
//! write `k / 2`, and a fault on it is a kong-sim fault rule on that node's `POST /config`
//! (skip `k / 2`). A write's path says what the push changed, read from its body: `config
//! service` when the plan's service (its host or the record in its tags) differs from the
//! node's previous push, else `config` (environments, the canary mix, the lock) — the first
//! is the traffic write. Traffic is read from node 1's configuration.
//!
//! Header routes (`Cap::HeaderRoutes`): a route step is a `config` push per node; the owned
//! routes are read from both nodes' configurations by their tag, and the scenario's requests go
//! through node 1's proxy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kong_sim::{FaultAction, FaultRule, SimConfig};
use serde_json::Value;

use super::kong::{Kong, BLUE_UP, GREEN_UP, LOCK_UP, MIXED_UP, SERVICE};
use crate::conformance::target::{Cap, Fault, PlanSpec, Target, Traffic, Write};
use crate::harness::Stack;

/// The tag of bgctl's header routes for the conformance plans' rollout.
const ROUTE_TAG: &str = "bgctl.route-of=address-service";

pub struct KongDbless {
    inner: Kong,
    /// Each node's last pushed service before the log was cleared (what the first logged
    /// push is compared with).
    baseline: std::sync::Mutex<[Option<String>; 2]>,
}

/// A node's configuration as `GET /config` gives it.
async fn config(admin: &str) -> Value {
    let v: Value = reqwest::get(format!("{admin}/config"))
        .await
        .expect("admin api")
        .json()
        .await
        .expect("json");
    serde_yaml_ng::from_str(v["config"].as_str().expect("config text")).expect("yaml")
}

fn rows<'a>(config: &'a Value, section: &str) -> Vec<&'a Value> {
    config[section]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn by_name<'a>(config: &'a Value, section: &str, name: &str) -> Option<&'a Value> {
    rows(config, section)
        .into_iter()
        .find(|r| r["name"].as_str() == Some(name))
}

/// The header routes (tagged `bgctl.route-of=<rollout>`) and their service in a configuration.
fn owned_on(config: &Value) -> Vec<String> {
    let mut out: Vec<String> = rows(config, "routes")
        .into_iter()
        .filter(|r| {
            r["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == ROUTE_TAG))
        })
        .map(|r| format!("route {}", r["name"].as_str().unwrap_or_default()))
        .collect();
    if by_name(config, "services", &format!("{SERVICE}.bgctl-canary")).is_some() {
        out.push(format!("service {SERVICE}.bgctl-canary"));
    }
    out
}

/// The plan's service in a pushed body: its host and tags (bgctl's generation counter aside).
fn service_of(body: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).ok()?;
    let doc: Value = serde_json::from_str(body["config"].as_str()?).ok()?;
    let svc = by_name(&doc, "services", SERVICE)?;
    let mut tags: Vec<&str> = svc["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    tags.retain(|t| !t.starts_with("bgctl.generation="));
    Some(format!("{} {tags:?}", svc["host"]))
}

impl KongDbless {
    fn stack(&self) -> &Stack {
        &self.inner.stack
    }

    /// Each node's writes, `path` saying what the push changed (module docs).
    fn node_writes(&self, node: usize) -> Vec<Write> {
        let mut previous: Option<String> = self.baseline.lock().unwrap()[node].clone();
        self.stack().sim.nodes()[node]
            .requests()
            .into_iter()
            .filter(kong_sim::LoggedRequest::is_write)
            .map(|r| {
                let svc = service_of(&r.body);
                let path = if svc.is_some() && svc != previous {
                    "config service"
                } else {
                    "config"
                };
                previous = svc.or(previous.take());
                Write {
                    method: r.method,
                    path: path.to_string(),
                    answered: r.status != 0,
                }
            })
            .collect()
    }

    async fn node1(&self) -> Value {
        config(&self.stack().sim.admin_urls()[0]).await
    }
}

impl Target for KongDbless {
    async fn start() -> KongDbless {
        let mut config = SimConfig::cluster(&[Duration::ZERO, Duration::ZERO]);
        config.db_less = true;
        KongDbless {
            inner: Kong {
                stack: Stack::with_config(config).await,
            },
            baseline: std::sync::Mutex::new([None, None]),
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[Cap::Canary, Cap::Proxy, Cap::Targets, Cap::HeaderRoutes]
    }

    /// Node 1's proxy (the scenario's requests; both nodes hold the same routes, which
    /// `after_converge` and `check_status` check from their configurations).
    fn data_plane(&self) -> Option<(String, &'static str)> {
        Some((
            self.stack().sim.proxy_urls()[0].clone(),
            "address.mydomain.com",
        ))
    }

    /// On either node: the routes tagged `bgctl.route-of=address-service` and the header
    /// routes' service, each once.
    async fn owned_routes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for admin in self.stack().sim.admin_urls() {
            for o in owned_on(&config(&admin).await) {
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
        out
    }

    /// Restoring blue removes every header route bgctl added, on both nodes.
    async fn after_restore(&self, ctx: &str) {
        let left = self.owned_routes().await;
        assert!(
            left.is_empty(),
            "{ctx}: header routes left after restoring blue: {left:?}"
        );
    }

    const NAME: &'static str = "kong-dbless";

    fn dir(&self) -> &Path {
        self.inner.dir()
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.inner.env();
        env.push((
            "KONG_ADMIN_URL_2".into(),
            self.stack().sim.admin_urls()[1].clone(),
        ));
        env.push((
            "KONG_PROXY_URL_2".into(),
            self.stack().sim.proxy_urls()[1].clone(),
        ));
        env
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let path = self.inner.plan(spec);
        let mut text = std::fs::read_to_string(&path).expect("plan");
        text = text.replace(
            "    adminUrl: ${KONG_ADMIN_URL}\n",
            "    adminUrl: ${KONG_ADMIN_URL}\n    adminUrls: [\"${KONG_ADMIN_URL_2}\"]\n",
        );
        text = text.replace(
            "    proxyUrl: ${KONG_PROXY_URL}\n",
            "    proxyUrl: ${KONG_PROXY_URL}\n    proxyUrls: [\"${KONG_PROXY_URL_2}\"]\n",
        );
        std::fs::write(&path, text).expect("write plan");
        path
    }

    /// On any node: a run killed between its pushes leaves the lock on some nodes only, and
    /// it is held there.
    async fn lock_present(&self) -> bool {
        for admin in self.stack().sim.admin_urls() {
            if by_name(&config(&admin).await, "upstreams", LOCK_UP).is_some() {
                return true;
            }
        }
        false
    }

    async fn traffic(&self) -> Traffic {
        let config = self.node1().await;
        let Some(svc) = by_name(&config, "services", SERVICE) else {
            return Traffic::Missing;
        };
        match svc["host"].as_str() {
            Some(BLUE_UP) => Traffic::Blue,
            Some(GREEN_UP) => Traffic::Green,
            Some(MIXED_UP) => {
                let green: Vec<String> = self.stack().backends[2..]
                    .iter()
                    .map(|b| b.addr().to_string())
                    .collect();
                let mixed = by_name(&config, "upstreams", MIXED_UP).expect("mixed upstream");
                let id = mixed["id"].clone();
                let (mut g, mut total) = (0u64, 0u64);
                for t in rows(&config, "targets") {
                    if t["upstream"] != id && t["upstream"]["id"] != id {
                        continue;
                    }
                    let w = t["weight"].as_u64().unwrap_or(100);
                    total += w;
                    if green
                        .iter()
                        .any(|a| Some(a.as_str()) == t["target"].as_str())
                    {
                        g += w;
                    }
                }
                Traffic::Split(if total == 0 {
                    0.0
                } else {
                    100.0 * g as f64 / total as f64
                })
            }
            other => panic!("half-switched: the service points at `{other:?}`"),
        }
    }

    fn writes(&self) -> Vec<Write> {
        let (a, b) = (self.node_writes(0), self.node_writes(1));
        let mut out = Vec::new();
        for i in 0..a.len().max(b.len()) {
            out.extend(a.get(i).cloned());
            out.extend(b.get(i).cloned());
        }
        out
    }

    fn clear_log(&self) {
        for (i, node) in self.stack().sim.nodes().iter().enumerate() {
            let last = node
                .requests()
                .into_iter()
                .filter(|r| r.is_write() && r.status / 100 == 2)
                .filter_map(|r| service_of(&r.body))
                .next_back();
            if last.is_some() {
                self.baseline.lock().unwrap()[i] = last;
            }
            node.clear_requests();
        }
    }

    fn arm(&self, _reference: &[Write], k: usize, fault: Fault) {
        self.stack().sim.nodes()[k % 2].faults().add(FaultRule {
            method: Some("POST".into()),
            path: "/config".into(),
            skip: u32::try_from(k / 2).expect("small"),
            times: 1,
            action: match fault {
                Fault::Hang => FaultAction::Hang { ms: 60_000 },
                Fault::LoseAnswer => FaultAction::LoseAnswer,
                // kong-sim answers `GET /config`: 200, the configuration as it was.
                Fault::AnswerWithoutApplying | Fault::TurnIntoGet => FaultAction::AsGet,
            },
        });
    }

    fn fault_met(&self, _reference: &[Write], k: usize, fault: Fault) -> bool {
        let w = self.node_writes(k % 2);
        match fault {
            Fault::Hang => w.len() == k / 2 + 1 && !w[k / 2].answered,
            Fault::LoseAnswer | Fault::AnswerWithoutApplying | Fault::TurnIntoGet => {
                w.len() > k / 2
            }
        }
    }

    fn clear_faults(&self) {
        for node in self.stack().sim.nodes() {
            node.faults().clear();
        }
    }

    fn backends(&self, env: &str) -> Vec<&kong_sim::Backend> {
        self.inner.backends(env)
    }

    fn is_traffic_write(&self, w: &Write) -> bool {
        w.method == "POST" && w.path == "config service"
    }

    fn fail_green_requests(&self, on: bool) -> bool {
        self.inner.fail_green_requests(on)
    }

    fn fail_green(&self, failing: bool) -> bool {
        self.inner.fail_green(failing)
    }

    /// No orphans on either node, and both nodes hold the same bgctl entities unless `status`
    /// names the one that differs.
    async fn check_status(&self, st: &Value, ctx: &str) {
        for admin in self.stack().sim.admin_urls() {
            for u in rows(&config(&admin).await, "upstreams") {
                match u["name"].as_str().unwrap_or_default() {
                    BLUE_UP | GREEN_UP | LOCK_UP => {}
                    // Listed as owned, or the node named as differing because of it (a run
                    // killed between its pushes left it on this node only).
                    MIXED_UP => assert!(
                        st["extra"].to_string().contains(MIXED_UP)
                            || st["kong"]["nodes"].as_array().is_some_and(|nodes| {
                                nodes.iter().any(|n| {
                                    n["url"] == admin.as_str()
                                        && n["differs"].to_string().contains(MIXED_UP)
                                })
                            }),
                        "{ctx}: status does not list the mixed upstream of {admin}: {st}"
                    ),
                    other => panic!("{ctx}: orphan upstream `{other}` on {admin}"),
                }
            }
        }
        // Header routes on a node: listed as owned, or the node named as differing.
        for admin in self.stack().sim.admin_urls() {
            for o in owned_on(&config(&admin).await) {
                let name = o.split_whitespace().last().unwrap_or_default();
                assert!(
                    st["extra"].to_string().contains(name)
                        || st["kong"]["nodes"].as_array().is_some_and(|nodes| {
                            nodes.iter().any(|n| {
                                n["url"] == admin.as_str()
                                    && n["differs"].to_string().contains("header routes")
                            })
                        }),
                    "{ctx}: status does not list `{o}` of {admin}: {st}"
                );
            }
        }
        assert_eq!(st["kong"]["mode"], "db-less", "{ctx}: {st}");
    }

    async fn after_converge(
        &self,
        lock_left: bool,
        _out: &std::process::Output,
        ctx: &str,
    ) -> String {
        for admin in self.stack().sim.admin_urls() {
            let mut ups: Vec<String> = rows(&config(&admin).await, "upstreams")
                .into_iter()
                .filter_map(|u| u["name"].as_str().map(str::to_string))
                .collect();
            ups.retain(|u| !(lock_left && u == LOCK_UP));
            ups.sort();
            assert_eq!(ups, [BLUE_UP, GREEN_UP], "{ctx}: leftovers on {admin}");
        }
        let hosts: Vec<Option<String>> = {
            let mut out = Vec::new();
            for admin in self.stack().sim.admin_urls() {
                let c = config(&admin).await;
                out.push(
                    by_name(&c, "services", SERVICE)
                        .and_then(|s| s["host"].as_str().map(str::to_string)),
                );
            }
            out
        };
        assert_eq!(
            hosts[0], hosts[1],
            "{ctx}: the nodes disagree after converging"
        );
        let routes = self.owned_routes().await;
        assert!(
            routes.is_empty(),
            "{ctx}: header routes left after converging: {routes:?}"
        );
        String::new()
    }
}
