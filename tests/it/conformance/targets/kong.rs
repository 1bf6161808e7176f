//! Kong through kong-sim: the Admin API simulator and four backends in this process. The
//! request log gives the writes; kong-sim's fault rules give a hang or a lost answer on one
//! write (a rule on the write's method with `skip` = the earlier writes with that method:
//! kong-sim counts `skip` only among requests the rule matches). The plan verifies through the
//! proxy; the backends name themselves (`X-Backend`) unless a scenario turns that off
//! (`scenarios/anonymous.rs`), and the suite itself never relies on it: it reads traffic from
//! the service's `host` and the mixed upstream's target weights.

use std::path::{Path, PathBuf};

use kong_sim::{FaultAction, FaultRule};
use serde_json::Value;

use crate::conformance::run::unique;
use crate::conformance::target::{Cap, Fault, PlanSpec, Target, Traffic, Write};
use crate::harness::Stack;

pub const SERVICE: &str = "address-service";
pub const BLUE_UP: &str = "address.v1.service";
pub const GREEN_UP: &str = "address.v2.service";
pub const MIXED_UP: &str = "address.v2.service.bgctl-canary";
pub const LOCK_UP: &str = "address-service.bgctl-lock";

pub struct Kong {
    pub stack: Stack,
}

const HEAD: &str = "apiVersion: bgctl.dev/v1
kind: Rollout
metadata:
  name: address-service
provider:
  kong:
    adminUrl: ${KONG_ADMIN_URL}
    headers:
      Kong-Admin-Token: ${KONG_ADMIN_TOKEN:-}
    proxyUrl: ${KONG_PROXY_URL}
PROVIDER_EXTRA
service:
  name: address-service
  path: /address
  routes:
    - {name: address-route, hosts: [address.mydomain.com]}
environments:
  blue:
    upstream: address.v1.service
    targets:
      - {target: \"${BLUE_1}\", weight: 100}
      - {target: \"${BLUE_2}\", weight: 50}
  green:
    upstream: address.v2.service
    targets:
      - {target: \"${GREEN_1}\", weight: 100}
      - {target: \"${GREEN_2}\", weight: 100}
healthCheck:
  http: {path: /health, expectStatus: [200]}
  timeout: 1s
  interval: 100ms
  healthyThreshold: 2
  unhealthyThreshold: 2
verify:
  samples: 60
  tolerance: 5
  timeout: 5s
";

/// Indents `key: value` lines under `provider.<kind>:`.
pub fn provider_lines(lines: &[String]) -> String {
    lines.iter().fold(String::new(), |mut s, l| {
        s.push_str("    ");
        s.push_str(l);
        s.push('\n');
        s
    })
}

/// First path segment, so paths compare across stacks (ids and ports differ).
fn shape(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

impl Kong {
    pub async fn host(&self) -> Option<String> {
        host(&self.stack).await
    }

    pub async fn upstreams(&self) -> Vec<String> {
        upstreams(&self.stack).await
    }

    async fn mixed_percent(&self) -> f64 {
        mixed_percent(&self.stack).await
    }
}

/// A GET on the simulator's Admin API from the test itself; `None` on 404.
pub(crate) async fn admin_get(stack: &Stack, path: &str) -> Option<Value> {
    let resp = reqwest::get(format!("{}{path}", stack.sim.admin_url()))
        .await
        .expect("admin api");
    if resp.status().as_u16() == 404 {
        return None;
    }
    Some(resp.json().await.expect("json"))
}

/// The service's `host`: which upstream takes the traffic.
pub(crate) async fn host(stack: &Stack) -> Option<String> {
    admin_get(stack, &format!("/services/{SERVICE}"))
        .await
        .map(|s| s["host"].as_str().unwrap_or_default().to_string())
}

/// Every upstream's name.
pub(crate) async fn upstreams(stack: &Stack) -> Vec<String> {
    let list = admin_get(stack, "/upstreams?size=1000")
        .await
        .expect("upstreams");
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Canary share of the mixed upstream, from its targets (green targets are backends 2, 3).
pub(crate) async fn mixed_percent(stack: &Stack) -> f64 {
    let green: Vec<String> = stack.backends[2..]
        .iter()
        .map(|b| b.addr().to_string())
        .collect();
    let list = admin_get(stack, &format!("/upstreams/{MIXED_UP}/targets"))
        .await
        .expect("mixed targets");
    let (mut g, mut total) = (0u64, 0u64);
    for t in list["data"].as_array().expect("data") {
        let w = t["weight"].as_u64().unwrap_or(0);
        total += w;
        if green
            .iter()
            .any(|a| Some(a.as_str()) == t["target"].as_str())
        {
            g += w;
        }
    }
    if total == 0 {
        0.0
    } else {
        100.0 * g as f64 / total as f64
    }
}

impl Target for Kong {
    async fn start() -> Kong {
        Kong {
            stack: Stack::start().await,
        }
    }

    fn caps(&self) -> &'static [Cap] {
        &[Cap::Canary, Cap::Proxy, Cap::Targets, Cap::HeaderRoutes]
    }

    fn backends(&self, env: &str) -> Vec<&kong_sim::Backend> {
        match env {
            "blue" => self.stack.backends[..2].iter().collect(),
            "green" => self.stack.backends[2..].iter().collect(),
            _ => Vec::new(),
        }
    }

    fn is_traffic_write(&self, w: &Write) -> bool {
        w.method == "PATCH" && w.path == "services"
    }

    fn data_plane(&self) -> Option<(String, &'static str)> {
        Some((self.stack.sim.proxy_url(), "address.mydomain.com"))
    }

    /// The routes tagged `bgctl.route-of=<rollout>` and the header routes' service.
    async fn owned_routes(&self) -> Vec<String> {
        let mut out: Vec<String> =
            admin_get(&self.stack, "/routes?tags=bgctl.route-of%3Daddress-service")
                .await
                .map(|l| {
                    l["data"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| format!("route {}", r["name"].as_str().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
        if admin_get(&self.stack, &format!("/services/{SERVICE}.bgctl-canary"))
            .await
            .is_some()
        {
            out.push(format!("service {SERVICE}.bgctl-canary"));
        }
        out
    }

    /// Restoring blue removes every header route bgctl added.
    async fn after_restore(&self, ctx: &str) {
        let left = self.owned_routes().await;
        assert!(
            left.is_empty(),
            "{ctx}: header routes left after restoring blue: {left:?}"
        );
    }

    fn fail_green_requests(&self, on: bool) -> bool {
        for b in &self.stack.backends[2..] {
            b.set_error_rate(if on { 1.0 } else { 0.0 });
        }
        true
    }

    const NAME: &'static str = "kong";

    fn dir(&self) -> &Path {
        self.stack.dir.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("KONG_ADMIN_URL".to_string(), self.stack.sim.admin_url()),
            ("KONG_PROXY_URL".to_string(), self.stack.sim.proxy_url()),
        ];
        for (i, key) in ["BLUE_1", "BLUE_2", "GREEN_1", "GREEN_2"]
            .iter()
            .enumerate()
        {
            env.push((key.to_string(), self.stack.backends[i].addr().to_string()));
        }
        env
    }

    fn plan(&self, spec: &PlanSpec) -> PathBuf {
        let mut head = HEAD.replace("PROVIDER_EXTRA\n", &provider_lines(&spec.provider));
        if spec.no_proxy {
            // A `verify` block without a proxy is refused by validation: it goes too.
            head = head
                .replace("    proxyUrl: ${KONG_PROXY_URL}\n", "")
                .replace(
                    "verify:\n  samples: 60\n  tolerance: 5\n  timeout: 5s\n",
                    "",
                );
        }
        if let Some(addr) = &spec.extra_blue_target {
            head = head.replace(
                "      - {target: \"${BLUE_2}\", weight: 50}\n",
                &format!("      - {{target: \"${{BLUE_2}}\", weight: 50}}\n      - {{target: \"{addr}\", weight: 50}}\n"),
            );
        }
        let canary_verify = if spec.no_proxy {
            ""
        } else {
            "    verify: {samples: 60, tolerance: 5, timeout: 5s}\n"
        };
        let text = head + &spec.tail(&format!("{canary_verify}    cleanupDelay: 0s\n"));
        let path = self.dir().join(format!("plan-{}.yaml", unique()));
        std::fs::write(&path, text).expect("write plan");
        path
    }

    async fn lock_present(&self) -> bool {
        self.upstreams().await.iter().any(|u| u == LOCK_UP)
    }

    async fn traffic(&self) -> Traffic {
        match self.host().await.as_deref() {
            None => Traffic::Missing,
            Some(BLUE_UP) => Traffic::Blue,
            Some(GREEN_UP) => Traffic::Green,
            Some(MIXED_UP) => Traffic::Split(self.mixed_percent().await),
            Some(other) => panic!("half-switched: the service points at `{other}`"),
        }
    }

    fn writes(&self) -> Vec<Write> {
        self.stack
            .writes()
            .into_iter()
            .map(|r| Write {
                path: shape(&r.path).to_string(),
                method: r.method,
                answered: r.status != 0,
            })
            .collect()
    }

    fn clear_log(&self) {
        self.stack.sim.clear_requests();
    }

    fn arm(&self, reference: &[Write], k: usize, fault: Fault) {
        let method = &reference[k].method;
        let skip = reference[..k]
            .iter()
            .filter(|w| &w.method == method)
            .count();
        self.stack.sim.faults().add(FaultRule {
            method: Some(method.clone()),
            path: "*".into(),
            skip: u32::try_from(skip).expect("small"),
            times: 1,
            action: match fault {
                Fault::Hang => FaultAction::Hang { ms: 60_000 },
                Fault::LoseAnswer => FaultAction::LoseAnswer,
                // kong-sim answers a GET of the entity: 200, the object as it was.
                Fault::AnswerWithoutApplying | Fault::TurnIntoGet => FaultAction::AsGet,
            },
        });
    }

    fn fault_met(&self, reference: &[Write], k: usize, fault: Fault) -> bool {
        let w = self.writes();
        match fault {
            Fault::Hang => {
                // Writes of write `k`'s wave may overtake it (made concurrently); nothing
                // after the wave may start while it hangs.
                let siblings = crate::conformance::target::wave_siblings(reference, k);
                assert!(
                    w.len() <= k + 1 + siblings,
                    "ran past the kill point: {w:?}"
                );
                w.len() > k && w[k..].iter().any(|x| !x.answered)
            }
            Fault::LoseAnswer | Fault::AnswerWithoutApplying | Fault::TurnIntoGet => w.len() > k,
        }
    }

    fn clear_faults(&self) {
        self.stack.sim.faults().clear();
    }

    /// Green is backends 2 and 3.
    fn fail_green(&self, failing: bool) -> bool {
        for b in &self.stack.backends[2..] {
            b.set_error_rate(if failing { 1.0 } else { 0.0 });
        }
        true
    }

    /// No orphans: every upstream is a plan environment, the canary mix (listed by `status`
    /// under `extra`) or the lock.
    async fn check_status(&self, st: &Value, ctx: &str) {
        for u in &self.upstreams().await {
            match u.as_str() {
                BLUE_UP | GREEN_UP | LOCK_UP => {}
                MIXED_UP => assert!(
                    st["extra"].to_string().contains(MIXED_UP),
                    "{ctx}: status does not list the mixed upstream: {st}"
                ),
                other => panic!("{ctx}: orphan upstream `{other}` bgctl cannot explain"),
            }
        }
    }

    async fn after_converge(
        &self,
        lock_left: bool,
        _out: &std::process::Output,
        ctx: &str,
    ) -> String {
        let mut ups = self.upstreams().await;
        ups.retain(|u| !(lock_left && u == LOCK_UP));
        ups.sort();
        assert_eq!(
            ups,
            [BLUE_UP, GREEN_UP],
            "{ctx}: leftovers after converging"
        );
        let routes = self.owned_routes().await;
        assert!(
            routes.is_empty(),
            "{ctx}: header routes left after converging: {routes:?}"
        );
        String::new()
    }
}
