//! Header routes and mirroring on a real Traefik (issue 16), through the real binary and
//! `plans/traefik-header-canary.yaml`.
//!
//! The backends here count what reaches them themselves, by class: whether the request
//! carried `X-Canary: yes`, its method, and the phase the test was in when the client sent it
//! (`X-Phase`, set only after a bgctl command returned). So "every request with the header
//! reached green" is read from the backends' own counters, per request class, even with
//! several clients at once; no answer is trusted to say where it came from. (They send
//! `X-Backend` only for bgctl's own data-plane verification.)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::gateways::{traefik_bin, Traefik};
use crate::harness::{render, root, run};

/// (carries `X-Canary: yes`, method, phase) → requests.
type Counts = BTreeMap<(bool, String, Option<u32>), u64>;

struct Counter {
    name: &'static str,
    failing: AtomicBool,
    counts: Mutex<Counts>,
}

/// A backend that counts requests by class and answers 200 (or 500 when failing); `/health`
/// always answers 200.
struct Counting {
    addr: SocketAddr,
    state: Arc<Counter>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(s): State<Arc<Counter>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if uri.path() == "/health" {
        return (StatusCode::OK, "ok\n").into_response();
    }
    let tester = headers.get("x-canary").is_some_and(|v| v == "yes");
    let phase = headers
        .get("x-phase")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    *s.counts
        .lock()
        .unwrap()
        .entry((tester, method.to_string(), phase))
        .or_default() += 1;
    if s.failing.load(Ordering::Relaxed) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "failing\n").into_response();
    }
    ([("x-backend", s.name)], "ok\n").into_response()
}

impl Counting {
    async fn start(name: &'static str) -> Counting {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Counter {
            name,
            failing: AtomicBool::new(false),
            counts: Mutex::new(Counts::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Counting { addr, state, task }
    }

    /// Requests counted whose class satisfies `pick(tester, method, phase)`.
    fn count(&self, pick: impl Fn(bool, &str, Option<u32>) -> bool) -> u64 {
        self.state
            .counts
            .lock()
            .unwrap()
            .iter()
            .filter(|((t, m, p), _)| pick(*t, m, *p))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of one phase, with (`Some(true)`) or without the header, or both (`None`).
    fn in_phase(&self, phase: u32, tester: Option<bool>) -> u64 {
        self.count(|t, _, p| p == Some(phase) && tester.is_none_or(|w| w == t))
    }
}

fn plan() -> PathBuf {
    root().join("plans/traefik-header-canary.yaml")
}

/// `bgctl <args> [-f] <plan>` against `tr` with these backends; asserts the exit code.
async fn bgctl(
    tr: &Traefik,
    blue: &Counting,
    green: &Counting,
    env: &[(&str, &str)],
    args: &[&str],
    plan: &Path,
    code: i32,
) -> String {
    let mut cmd = crate::harness::bgctl(tr.dir.path());
    cmd.env("TRAEFIK_API_URL", format!("http://127.0.0.1:{}", tr.api))
        .env("TRAEFIK_PROXY_URL", format!("http://127.0.0.1:{}", tr.web))
        .env("BGCTL_STATE_FILE", tr.dir.path().join("state/web.json"))
        .env("BLUE_1", blue.addr.to_string())
        .env("GREEN_1", green.addr.to_string())
        .env("ACTIVE", "blue");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args);
    if args.first() != Some(&"plan") {
        cmd.arg("-f");
    }
    cmd.arg(plan);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(code),
        "bgctl {args:?}:\n{}",
        render(&out)
    );
    render(&out)
}

/// Starts Traefik and the two backends, and makes blue live (Traefik starts empty).
async fn start() -> Option<(Traefik, Counting, Counting)> {
    let bin = traefik_bin()?;
    let tr = Traefik::start(&bin).await;
    let (blue, green) = (
        Counting::start("blue-1").await,
        Counting::start("green-1").await,
    );
    bgctl(
        &tr,
        &blue,
        &green,
        &[],
        &["plan", "apply", "--yes"],
        &root().join("plans/traefik-blue-green.yaml"),
        0,
    )
    .await;
    Some((tr, blue, green))
}

/// Traefik's routers and services of the REST provider, without what changes by itself.
async fn rest_objects(tr: &Traefik) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for kind in ["routers", "services"] {
        let list: serde_json::Value = reqwest::get(format!(
            "http://127.0.0.1:{}/api/http/{kind}?per_page=1000",
            tr.api
        ))
        .await
        .expect("traefik api")
        .json()
        .await
        .expect("json");
        for mut o in list.as_array().cloned().unwrap_or_default() {
            let name = o["name"].as_str().unwrap_or_default().to_string();
            if name.ends_with("@rest") {
                if let Some(m) = o.as_object_mut() {
                    m.remove("serverStatus");
                }
                out.insert(format!("{kind}/{name}"), o);
            }
        }
    }
    out
}

/// What the load clients saw, by class: (answered 2xx, failed).
#[derive(Default)]
struct Seen {
    ok: [AtomicU64; 2],
    failed: [AtomicU64; 2],
}

/// Under load (4 clients, two with `X-Canary: yes`, two without, for as long as the rollout
/// takes, at most 90 s): the header route is added, the weights move to 20 %, the route is
/// removed and green is promoted. No request fails; every request with the header sent after
/// the route step (and before the final promotion started) reached green, every one without it
/// reached blue until the weights moved, both sides while they split, green after the
/// promotion. The mirror is set at 0 % here (its copies would also reach green); the mirror
/// test below measures it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn header_route_under_load_sends_every_tester_to_green_and_drops_nothing() {
    let Some((tr, blue, green)) = start().await else {
        return;
    };
    let phase = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let url = format!("http://127.0.0.1:{}/load", tr.web);
    let deadline = Instant::now() + Duration::from_secs(90);
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (phase, stop, seen, url) = (phase.clone(), stop.clone(), seen.clone(), url.clone());
            let tester = i % 2 == 0;
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(3))
                    .build()
                    .expect("client");
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let mut req = client
                        .get(&url)
                        .header("X-Phase", phase.load(Ordering::SeqCst).to_string());
                    if tester {
                        req = req.header("X-Canary", "yes");
                    }
                    let ok = matches!(req.send().await, Ok(r) if r.status().is_success());
                    let slot = if ok { &seen.ok } else { &seen.failed };
                    slot[usize::from(tester)].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let settle = || tokio::time::sleep(Duration::from_millis(1500));
    settle().await;
    let env = [("MIRROR_PERCENT", "0")];
    // Phase 1: the header route (and the 0 % mirror) are live, the canary waits at its gate.
    bgctl(
        &tr,
        &blue,
        &green,
        &env,
        &["plan", "apply", "--yes"],
        &plan(),
        6,
    )
    .await;
    phase.store(1, Ordering::SeqCst);
    settle().await;
    // Phase 2: the weights move to 20 % (the route stays); phase 3: at the second gate.
    phase.store(2, Ordering::SeqCst);
    bgctl(&tr, &blue, &green, &env, &["promote", "--yes"], &plan(), 6).await;
    phase.store(3, Ordering::SeqCst);
    settle().await;
    // Phase 4: mirror and route removed, green promoted; phase 5: green takes everything.
    phase.store(4, Ordering::SeqCst);
    bgctl(&tr, &blue, &green, &env, &["promote", "--yes"], &plan(), 0).await;
    phase.store(5, Ordering::SeqCst);
    settle().await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.expect("client");
    }

    let (ok, failed) = (
        [0, 1].map(|i| seen.ok[i].load(Ordering::Relaxed)),
        [0, 1].map(|i| seen.failed[i].load(Ordering::Relaxed)),
    );
    let table: Vec<String> = (0..=5)
        .map(|p| {
            format!(
                "phase {p}: testers blue {} green {}; others blue {} green {}",
                blue.in_phase(p, Some(true)),
                green.in_phase(p, Some(true)),
                blue.in_phase(p, Some(false)),
                green.in_phase(p, Some(false)),
            )
        })
        .collect();
    let table = table.join("\n");
    println!("{table}\nanswered {ok:?} (others, testers), failed {failed:?}");
    assert_eq!(failed, [0, 0], "requests failed under load:\n{table}");
    // Every answer the clients got was counted by a backend, and nothing else was.
    let counted = blue.count(|_, _, p| p.is_some()) + green.count(|_, _, p| p.is_some());
    assert_eq!(counted, ok[0] + ok[1], "{table}");
    for p in 1..=3 {
        assert!(
            green.in_phase(p, Some(true)) > 20,
            "phase {p}: few testers\n{table}"
        );
        assert_eq!(
            blue.in_phase(p, Some(true)),
            0,
            "phase {p}: a tester reached blue\n{table}"
        );
    }
    assert!(blue.in_phase(1, Some(false)) > 20, "{table}");
    assert_eq!(
        green.in_phase(1, Some(false)),
        0,
        "phase 1: others reached green\n{table}"
    );
    assert!(
        blue.in_phase(3, Some(false)) > 0 && green.in_phase(3, Some(false)) > 0,
        "phase 3: others do not split\n{table}"
    );
    assert!(green.in_phase(5, None) > 20, "{table}");
    assert_eq!(
        blue.in_phase(5, None),
        0,
        "phase 5: blue still served\n{table}"
    );
    // Before the route step, testers were ordinary requests: blue served them.
    assert!(blue.in_phase(0, Some(true)) > 0, "{table}");
    assert!(rest_objects(&tr)
        .await
        .keys()
        .all(|k| !k.contains("-bgctl-")));
}

/// Sends `n` requests (`method`, phase `phase`, no header) one after another; returns how many
/// were answered with 2xx.
async fn send(url: &str, method: Method, phase: u32, n: u64) -> u64 {
    send_with(url, method, None, phase, n).await
}

/// [`send`] with one more request header.
async fn send_with(
    url: &str,
    method: Method,
    header: Option<(&str, &str)>,
    phase: u32,
    n: u64,
) -> u64 {
    let client = reqwest::Client::new();
    let mut ok = 0;
    for _ in 0..n {
        let mut req = client
            .request(method.clone(), url)
            .header("X-Phase", phase.to_string());
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let r = req.timeout(Duration::from_secs(3)).send().await;
        ok += u64::from(matches!(r, Ok(r) if r.status().is_success()));
    }
    ok
}

/// Waits (at most 3 s) until green's count for `phase` stops growing: copies are sent beside
/// the answer, and may land after it.
async fn copies(green: &Counting, phase: u32) -> u64 {
    let mut last = green.in_phase(phase, None);
    let stop = Instant::now() + Duration::from_secs(3);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = green.in_phase(phase, None);
        if now == last || Instant::now() > stop {
            return now;
        }
        last = now;
    }
}

/// The mirror copies about `percentage` % of the matching requests (GET) to green while every
/// client answer comes from blue: green answers 500 to everything and no client sees an error.
/// POSTs do not match and are not copied. Negative controls: after `abort` nothing is copied
/// and Traefik's REST objects are exactly what they were before the canary; at 0 % nothing is
/// copied. Last, the header route's cookie alternative reaches green and Traefik's
/// case-sensitive matching keeps `beta=10` and `X-Canary: YES` on blue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_copies_its_share_to_green_and_clients_only_see_blue() {
    let Some((tr, blue, green)) = start().await else {
        return;
    };
    let before = rest_objects(&tr).await;
    let url = format!("http://127.0.0.1:{}/orders", tr.web);
    green.state.failing.store(true, Ordering::Relaxed);

    bgctl(
        &tr,
        &blue,
        &green,
        &[("MIRROR_PERCENT", "50")],
        &["plan", "apply", "--yes"],
        &plan(),
        6,
    )
    .await;
    let owned: Vec<String> = rest_objects(&tr)
        .await
        .into_keys()
        .filter(|k| k.contains("-bgctl-"))
        .collect();
    assert_eq!(
        owned,
        [
            "routers/app-bgctl-header-testers@rest",
            "routers/app-bgctl-mirror-shadow@rest",
            "services/app-bgctl-mirror-shadow@rest"
        ]
    );
    let st = bgctl(&tr, &blue, &green, &[], &["status"], &plan(), 0).await;
    assert!(
        st.contains("app-bgctl-mirror-shadow") && st.contains("50% → app-green"),
        "{st}"
    );
    assert_eq!(
        send(&url, Method::GET, 1, 200).await,
        200,
        "a client saw green's 500"
    );
    assert_eq!(send(&url, Method::POST, 2, 40).await, 40);
    let got = copies(&green, 1).await;
    println!(
        "mirror 50%: green got {got} copies of 200 GETs; POSTs copied: {}",
        green.in_phase(2, None)
    );
    assert_eq!(blue.in_phase(1, None), 200, "blue answered every GET");
    assert!((90..=110).contains(&got), "about 50 % copied: {got} of 200");
    assert_eq!(green.in_phase(2, None), 0, "a POST was copied");
    assert_eq!(blue.in_phase(2, None), 40);

    // Abort removes the mirror (and the header route): nothing copied, the REST objects as
    // before the canary.
    bgctl(&tr, &blue, &green, &[], &["abort", "--yes"], &plan(), 0).await;
    assert_eq!(
        rest_objects(&tr).await,
        before,
        "abort left Traefik changed"
    );
    assert_eq!(send(&url, Method::GET, 3, 100).await, 100);
    assert_eq!(copies(&green, 3).await, 0, "copies after abort");

    // Percent 0: the mirror is there and copies nothing.
    bgctl(
        &tr,
        &blue,
        &green,
        &[("MIRROR_PERCENT", "0")],
        &["plan", "apply", "--yes"],
        &plan(),
        6,
    )
    .await;
    assert!(rest_objects(&tr)
        .await
        .contains_key("services/app-bgctl-mirror-shadow@rest"));
    assert_eq!(send(&url, Method::GET, 4, 200).await, 200);
    assert_eq!(copies(&green, 4).await, 0, "copies at 0 %");
    assert_eq!(blue.in_phase(4, None), 200);

    // The header route's other alternative, the `beta=1` cookie (a regex), and Traefik's
    // case-sensitive values: `beta=10` and `X-Canary: YES` are not testers.
    green.state.failing.store(false, Ordering::Relaxed);
    for (phase, header, to_green) in [
        (5, ("Cookie", "a=1; beta=1"), true),
        (6, ("Cookie", "beta=10"), false),
        (7, ("X-Canary", "YES"), false),
    ] {
        assert_eq!(
            send_with(&url, Method::POST, Some(header), phase, 20).await,
            20
        );
        let (b, g) = (blue.in_phase(phase, None), green.in_phase(phase, None));
        let want = if to_green { (0, 20) } else { (20, 0) };
        assert_eq!((b, g), want, "{header:?}: (blue, green)");
    }
}
