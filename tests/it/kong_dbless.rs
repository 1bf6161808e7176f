//! DB-less Kong (issue 15 §2, done-when (b)): two kong-sim nodes in `--db-less` mode, each
//! holding entities bgctl does not own (another service with a route and a plugin, a consumer,
//! a global plugin). bgctl reads `GET /config` from both, edits only its own entities and
//! pushes with `POST /config?check_hash=1`; the foreign entities must be there and unchanged
//! (compared in full, ids and timestamps included) after a release, a switch, a canary and a
//! rollback, each verified through both nodes' proxies.

use std::collections::BTreeMap;
use std::time::Duration;

use kong_sim::{Backend, BackendConfig, FaultAction, FaultRule, SimConfig};
use serde_json::{json, Value};

use crate::harness::{answered_by, render, run, Stack};

/// bgctl's entities in the seed plans (everything else in a node's config is foreign).
const OWNED: [&str; 6] = [
    "address-service",
    "address-route",
    "address.v1.service",
    "address.v2.service",
    "address.v2.service.bgctl-canary",
    "address-service.bgctl-lock",
];

/// A header route's row: tagged as bgctl's header routes of the seed plans' rollout.
fn is_header_route(row: &Value) -> bool {
    row["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "bgctl.route-of=address-service"))
}

struct Dbless {
    stack: Stack,
    other: Backend,
}

/// Two DB-less nodes, each loaded with the same foreign configuration.
async fn start() -> Dbless {
    let mut config = SimConfig::cluster(&[Duration::ZERO, Duration::ZERO]);
    config.db_less = true;
    let stack = Stack::with_config(config).await;
    let other = Backend::start(BackendConfig::new("billing"))
        .await
        .expect("backend");
    let foreign = json!({
        "_format_version": "3.0",
        "services": [{
            "name": "billing",
            "host": "127.0.0.1",
            "port": other.addr().port(),
            "protocol": "http",
            "routes": [{"name": "billing-route", "hosts": ["billing.example.com"]}],
            "plugins": [{"name": "rate-limiting", "config": {"minute": 1000}}],
        }],
        "consumers": [{"username": "ann", "custom_id": "ann-1"}],
        "plugins": [{"name": "cors", "config": {"origins": ["*"]}}],
    });
    let client = reqwest::Client::new();
    for admin in stack.sim.admin_urls() {
        let resp = client
            .post(format!("{admin}/config"))
            .json(&foreign)
            .send()
            .await
            .expect("admin");
        assert_eq!(
            resp.status().as_u16(),
            201,
            "{}",
            resp.text().await.unwrap()
        );
    }
    Dbless { stack, other }
}

impl Dbless {
    /// A plan from `tests/plans/<name>` listing both nodes' Admin APIs and proxies.
    fn plan(&self, name: &str, replace: &[(&str, &str)]) -> std::path::PathBuf {
        let admins = self.stack.sim.admin_urls();
        let proxies = self.stack.sim.proxy_urls();
        let nodes = format!(
            "    proxyUrl: ${{KONG_PROXY_URL}}\n    proxyUrls: [{}]\n    adminUrls: [{}]",
            proxies[1], admins[1]
        );
        let mut all: Vec<(&str, &str)> = vec![("    proxyUrl: ${KONG_PROXY_URL}", &nodes)];
        all.extend_from_slice(replace);
        self.stack.plan_from(name, &all)
    }

    async fn bgctl(&self, args: &[&str], plan: &std::path::Path) -> std::process::Output {
        let mut cmd = self.stack.bgctl();
        cmd.args(args).arg(plan);
        run(cmd).await
    }

    /// Each node's configuration as `GET /config` gives it.
    async fn configs(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for admin in self.stack.sim.admin_urls() {
            let v: Value = reqwest::get(format!("{admin}/config"))
                .await
                .expect("admin")
                .json()
                .await
                .expect("json");
            let text = v["config"].as_str().expect("config text");
            out.push(serde_yaml_ng::from_str(text).expect("yaml"));
        }
        out
    }

    /// Each node's foreign rows, by section (bgctl's rows and targets removed).
    async fn foreign(&self) -> Vec<BTreeMap<String, Vec<Value>>> {
        let mut out = Vec::new();
        for config in self.configs().await {
            let mut sections = BTreeMap::new();
            for (section, rows) in config.as_object().expect("mapping") {
                let Some(rows) = rows.as_array() else {
                    continue;
                };
                if section == "targets" {
                    continue;
                }
                // `updated_at` is the node's load time (a node may stamp it on every load);
                // everything else must stay as it was.
                let rows: Vec<Value> = rows
                    .iter()
                    .filter(|r| !OWNED.contains(&r["name"].as_str().unwrap_or_default()))
                    .filter(|r| !is_header_route(r))
                    .map(|r| {
                        let mut r = r.clone();
                        r.as_object_mut().expect("row").remove("updated_at");
                        r
                    })
                    .collect();
                if !rows.is_empty() {
                    sections.insert(section.clone(), rows);
                }
            }
            out.push(sections);
        }
        out
    }

    /// Which backends answer `n` requests for `host` through each node's proxy.
    async fn split(&self, host: &str, n: usize) -> Vec<BTreeMap<String, usize>> {
        let mut out = Vec::new();
        for proxy in self.stack.sim.proxy_urls() {
            out.push(answered_by(&proxy, host, n).await);
        }
        out
    }

    /// Asserts every node's proxy sends all of `n` requests to `side`.
    async fn serves(&self, side: &str, when: &str) {
        for (i, c) in self
            .split("address.mydomain.com", 12)
            .await
            .iter()
            .enumerate()
        {
            assert!(
                c.keys().all(|k| k.starts_with(side)),
                "{when}: node {} serves {c:?}, expected only {side}",
                i + 1
            );
        }
    }

    /// The foreign service still answers through every node.
    async fn billing_answers(&self, when: &str) {
        for (i, c) in self
            .split("billing.example.com", 3)
            .await
            .iter()
            .enumerate()
        {
            assert_eq!(c.get("billing"), Some(&3), "{when}: node {}: {c:?}", i + 1);
        }
    }

    /// Every Admin API write on every node was a config push (no entity write, no 405).
    fn only_config_pushes(&self) {
        for (i, node) in self.stack.sim.nodes().iter().enumerate() {
            for r in node.requests().iter().filter(|r| r.is_write()) {
                let seeded = r.path == "/config";
                assert!(
                    seeded || (r.method == "POST" && r.path == "/config?check_hash=1"),
                    "node {}: {} {} ({})",
                    i + 1,
                    r.method,
                    r.path,
                    r.status
                );
                assert_ne!(r.status, 405, "node {}: {} {}", i + 1, r.method, r.path);
            }
        }
    }
}

impl Dbless {
    /// Requests answered by (blue, green, neither) through node `node`'s proxy, counted on the
    /// backends themselves: `n` requests, with `X-Canary: <value>` when `header` is set.
    async fn sides(&self, node: usize, header: Option<&str>, n: u64) -> (u64, u64, u64) {
        let count = |r: std::ops::Range<usize>| -> u64 {
            self.stack.backends[r]
                .iter()
                .map(Backend::request_count)
                .sum()
        };
        let (b0, g0) = (count(0..2), count(2..4));
        let client = reqwest::Client::new();
        let mut failed = 0;
        for _ in 0..n {
            let mut req = client
                .get(format!("{}/", self.stack.sim.proxy_urls()[node]))
                .header("host", "address.mydomain.com");
            if let Some(v) = header {
                req = req.header("X-Canary", v);
            }
            if !req.send().await.is_ok_and(|r| r.status().is_success()) {
                failed += 1;
            }
        }
        (count(0..2) - b0, count(2..4) - g0, failed)
    }

    /// Each node's header route rows and whether it has the routes' service.
    async fn header_rows(&self) -> Vec<(Vec<String>, bool)> {
        self.configs()
            .await
            .iter()
            .map(|c| {
                let routes = c["routes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| is_header_route(r))
                    .map(|r| r["name"].as_str().unwrap_or_default().to_string())
                    .collect();
                let service = c["services"].as_array().into_iter().flatten().any(|s| {
                    s["name"] == "address-service.bgctl-canary" && s["host"] == "address.v2.service"
                });
                (routes, service)
            })
            .collect()
    }
}

fn ok(out: &std::process::Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", render(out));
}

/// A release, a switch, a rollback, a 10→50→100 canary and a rollback on two DB-less nodes:
/// each verified through both proxies, the foreign entities unchanged on both nodes throughout,
/// and nothing but config pushes written.
#[tokio::test(flavor = "multi_thread")]
async fn foreign_entities_survive_release_switch_canary_and_rollback() {
    let d = start().await;
    let before = d.foreign().await;
    assert_eq!(before[0], before[1], "both nodes start alike");
    assert!(
        before[0]["consumers"].len() == 1 && before[0]["plugins"].len() == 2,
        "{before:?}"
    );
    d.billing_answers("before").await;

    let seed = d.plan("seed.yaml", &[("ACTIVE", "blue")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "release",
    );
    d.serves("blue", "after the release").await;
    assert_eq!(d.foreign().await, before, "after the release");

    ok(
        &d.bgctl(&["switch", "--to", "green", "--yes", "-f"], &seed)
            .await,
        "switch",
    );
    d.serves("green", "after the switch").await;
    assert_eq!(d.foreign().await, before, "after the switch");

    ok(
        &d.bgctl(&["rollback", "--yes", "-f"], &seed).await,
        "rollback",
    );
    d.serves("blue", "after the rollback").await;

    let canary = d.plan(
        "canary.yaml",
        &[
            ("      - pause: {duration: \"${PAUSE:-0s}\"}\n", ""),
            ("      - pause: {}\n", ""),
        ],
    );
    let out = d.bgctl(&["plan", "apply", "--yes"], &canary).await;
    ok(&out, "canary");
    let err = String::from_utf8_lossy(&out.stderr);
    for step in ["requested 10%", "requested 50%"] {
        assert!(err.contains(step), "{step}: {}", render(&out));
    }
    d.serves("green", "after the canary").await;
    assert_eq!(d.foreign().await, before, "after the canary");
    for config in d.configs().await {
        let ups: Vec<&str> = config["upstreams"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["name"].as_str())
            .collect();
        assert!(
            !ups.contains(&"address.v2.service.bgctl-canary")
                && !ups.contains(&"address-service.bgctl-lock"),
            "the mixed upstream and the lock are gone: {ups:?}"
        );
    }

    ok(
        &d.bgctl(&["rollback", "--yes", "-f"], &canary).await,
        "rollback",
    );
    d.serves("blue", "after the canary's rollback").await;
    assert_eq!(d.foreign().await, before, "after the canary's rollback");
    d.billing_answers("after").await;
    d.only_config_pushes();

    let out = d
        .bgctl(&["-o", "json", "status", "--no-probe", "-f"], &canary)
        .await;
    ok(&out, "status");
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["kong"]["mode"], "db-less", "{status}");
    let nodes = status["kong"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{status}");
    assert!(nodes.iter().all(|n| n.get("differs").is_none()), "{status}");
    let _ = &d.other;
}

/// A node that refuses every push (the switch's and the rollback's) is named by `status` as differing,
/// and the next `plan apply` pushes to it before anything else, after which both nodes agree.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_refused_a_push_is_reported_and_converged() {
    let d = start().await;
    let seed = d.plan("seed.yaml", &[("ACTIVE", "blue")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "release",
    );
    let before = d.foreign().await;
    d.stack.sim.nodes()[1].faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/config".into(),
        skip: 0,
        times: 50,
        action: FaultAction::Status {
            code: 400,
            retry_after: None,
            body: None,
        },
    });
    let out = d
        .bgctl(&["switch", "--to", "green", "--yes", "-f"], &seed)
        .await;
    assert_ne!(out.status.code(), Some(0), "{}", render(&out));
    d.serves("blue", "node 2 never took green; node 1 was rolled back")
        .await;

    let out = d.bgctl(&["status", "--no-probe", "-f"], &seed).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let admin2 = &d.stack.sim.admin_urls()[1];
    assert!(text.contains("mode:     db-less"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(admin2.as_str()) && l.contains("DIFFERS")),
        "node 2 is named as differing: {text}"
    );

    d.stack.sim.nodes()[1].faults().clear();
    let out = d.bgctl(&["plan", "diff"], &seed).await;
    let diff =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        diff.contains("POST /config?check_hash=1") && diff.contains(admin2.as_str()),
        "the diff shows the push to node 2: {diff}"
    );

    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "converge",
    );
    let out = d.bgctl(&["status", "--no-probe", "-f"], &seed).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("DIFFERS"), "{text}");
    d.serves("blue", "after converging").await;
    assert_eq!(d.foreign().await, before, "foreign rows untouched");
}

/// A node restarted with an old configuration (it serves the old side) is brought level by the
/// next `plan apply` before it reports success: then both nodes serve the live side.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_restarted_with_an_old_config_is_converged_before_success() {
    let d = start().await;
    let seed = d.plan("seed.yaml", &[("ACTIVE", "blue")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "release",
    );
    let old = reqwest::get(format!("{}/config", d.stack.sim.admin_urls()[1]))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    ok(
        &d.bgctl(&["switch", "--to", "green", "--yes", "-f"], &seed)
            .await,
        "switch",
    );
    d.serves("green", "after the switch").await;
    // Node 2 "restarts" with the configuration it had before the switch.
    let resp = reqwest::Client::new()
        .post(format!("{}/config", d.stack.sim.admin_urls()[1]))
        .json(&json!({"config": old["config"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let c = d.split("address.mydomain.com", 6).await;
    assert!(
        c[1].keys().all(|k| k.starts_with("blue")),
        "node 2 is back on blue: {c:?}"
    );

    let out = d.bgctl(&["status", "--no-probe", "-f"], &seed).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("DIFFERS") && l.contains("service host")),
        "{text}"
    );
    let green = d.plan("seed.yaml", &[("ACTIVE", "green")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &green).await,
        "converge",
    );
    d.serves("green", "after converging").await;
}

/// A plan that states a mode the nodes do not run in is refused before any write (exit 2).
#[tokio::test(flavor = "multi_thread")]
async fn a_stated_mode_that_disagrees_is_refused_before_any_write() {
    let d = start().await;
    let seed = d.plan(
        "seed.yaml",
        &[
            ("ACTIVE", "blue"),
            ("    adminUrls:", "    mode: traditional\n    adminUrls:"),
        ],
    );
    let out = d.bgctl(&["plan", "apply", "--yes"], &seed).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`provider.kong.mode` is `traditional`") && err.contains("db-less"),
        "{err}"
    );
    for node in d.stack.sim.nodes() {
        let writes: Vec<_> = node
            .requests()
            .into_iter()
            .filter(|r| r.is_write() && r.path != "/config")
            .collect();
        assert!(writes.is_empty(), "{writes:?}");
    }
}

/// A hybrid data plane is refused with exit 2 before any write, pointing at its control plane.
#[tokio::test(flavor = "multi_thread")]
async fn a_data_plane_is_refused_before_any_write() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let n = conn.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            log.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or_default().to_string());
            let body = json!({"version": "3.9.0", "configuration": {"database": "off", "role": "data_plane"}})
                .to_string();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
        }
    });
    let stack = Stack::start().await;
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.env("KONG_ADMIN_URL", &admin)
        .args(["plan", "apply", "--yes"])
        .arg(&plan);
    let out = run(cmd).await;
    server.abort();
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a hybrid data plane, which is read-only") && err.contains("control plane"),
        "{err}"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.is_empty() && seen.iter().all(|l| l.starts_with("GET ")),
        "{seen:?}"
    );
}

/// Header routes on DB-less nodes (issue 15 leftovers, issue 16): a `setHeaderRoute` step is one
/// config push per node; through both nodes' proxies requests with the header reach green and
/// all others blue; `status` lists the owned route and service; the foreign entities stay
/// unchanged; `abort` removes the route and its service from both nodes.
#[tokio::test(flavor = "multi_thread")]
async fn header_routes_on_every_node_leave_foreign_entities_alone() {
    let d = start().await;
    let before = d.foreign().await;
    let seed = d.plan("seed.yaml", &[("ACTIVE", "blue")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "release",
    );
    let plan = d.plan(
        "canary.yaml",
        &[(
            "      - setWeight: 10\n      - pause: {duration: \"${PAUSE:-0s}\"}\n",
            "      - setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]}\n",
        )],
    );
    for node in d.stack.sim.nodes() {
        node.clear_requests();
    }
    let out = d.bgctl(&["plan", "apply", "--yes"], &plan).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "paused at the gate: {}",
        render(&out)
    );
    // The route step: one push per node (besides the lock's and the record's).
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("set the header route `testers`"),
        "{}",
        render(&out)
    );
    let rows = d.header_rows().await;
    for (i, (routes, service)) in rows.iter().enumerate() {
        assert_eq!(
            (routes.as_slice(), *service),
            (
                &["address-route.bgctl-header-testers-0".to_string()][..],
                true
            ),
            "node {}: {rows:?}",
            i + 1
        );
    }
    for node in 0..2 {
        assert_eq!(
            d.sides(node, Some("yes"), 20).await,
            (0, 20, 0),
            "node {node}, header"
        );
        assert_eq!(
            d.sides(node, None, 20).await,
            (20, 0, 0),
            "node {node}, no header"
        );
    }
    assert_eq!(d.foreign().await, before, "with the header route");
    d.only_config_pushes();

    let out = d
        .bgctl(&["-o", "json", "status", "--no-probe", "-f"], &plan)
        .await;
    ok(&out, "status");
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    let extra = status["extra"].to_string();
    assert!(
        extra.contains("route address-route.bgctl-header-testers-0 (header route: x-canary: yes)")
            && extra.contains(
                "service address-service.bgctl-canary (header routes → address.v2.service)"
            ),
        "{status}"
    );
    let nodes = status["kong"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n.get("differs").is_none()), "{status}");

    ok(&d.bgctl(&["abort", "--yes", "-f"], &plan).await, "abort");
    assert_eq!(d.header_rows().await, vec![(Vec::new(), false); 2]);
    for node in 0..2 {
        assert_eq!(
            d.sides(node, Some("yes"), 20).await,
            (20, 0, 0),
            "node {node} after abort"
        );
    }
    assert_eq!(d.foreign().await, before, "after abort");
    d.only_config_pushes();
}

/// A node that lost the header route (restarted with the configuration it had before the route
/// step) is named by `status` as differing in its header routes, serves testers from blue
/// meanwhile, and the next `plan apply` brings it level: then testers reach green through it.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_lost_a_header_route_is_reported_and_converged() {
    let d = start().await;
    let seed = d.plan("seed.yaml", &[("ACTIVE", "blue")]);
    ok(
        &d.bgctl(&["plan", "apply", "--yes"], &seed).await,
        "release",
    );
    let admin2 = d.stack.sim.admin_urls()[1].clone();
    let old = reqwest::get(format!("{admin2}/config"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let plan = d.plan(
        "canary.yaml",
        &[(
            "      - setWeight: 10\n      - pause: {duration: \"${PAUSE:-0s}\"}\n",
            "      - setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]}\n",
        )],
    );
    let out = d.bgctl(&["plan", "apply", "--yes"], &plan).await;
    assert_eq!(out.status.code(), Some(6), "{}", render(&out));
    assert_eq!(d.sides(1, Some("yes"), 10).await, (0, 10, 0));
    // Node 2 "restarts" with the configuration it had before the route step.
    let resp = reqwest::Client::new()
        .post(format!("{admin2}/config"))
        .json(&json!({"config": old["config"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        d.sides(1, Some("yes"), 10).await,
        (10, 0, 0),
        "node 2 lost it"
    );

    let out = d
        .bgctl(&["-o", "json", "status", "--no-probe", "-f"], &plan)
        .await;
    ok(&out, "status");
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    let node2 = status["kong"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["url"] == admin2.as_str())
        .expect("node 2 listed")
        .clone();
    assert!(
        node2["differs"].to_string().contains("header routes"),
        "{status}"
    );
    assert!(
        status["extra"]
            .to_string()
            .contains("address-route.bgctl-header-testers-0"),
        "the reference node's route is listed: {status}"
    );

    let out = d.bgctl(&["plan", "apply", "--yes"], &plan).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "still at the gate: {}",
        render(&out)
    );
    assert_eq!(
        d.header_rows().await,
        vec![
            (
                vec!["address-route.bgctl-header-testers-0".to_string()],
                true
            );
            2
        ]
    );
    assert_eq!(
        d.sides(1, Some("yes"), 10).await,
        (0, 10, 0),
        "node 2 converged"
    );
    let out = d
        .bgctl(&["-o", "json", "status", "--no-probe", "-f"], &plan)
        .await;
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    let nodes = status["kong"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n.get("differs").is_none()), "{status}");
}
