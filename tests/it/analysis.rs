//! Analysis checks and hooks against real things: a real Prometheus scraping kong-sim backends,
//! a local HTTP server for webhooks, and scripts in a temp dir for exec checks and hooks. The
//! library is called directly (`bgctl::analysis`); wiring into the engine is tested elsewhere.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use bgctl::analysis::checks::{
    run_check, run_checks, CheckContext, Measurement, Outcome, ProxyTarget, Verdict,
};
use bgctl::analysis::hooks::run_hook;
use bgctl::plan::model::{CheckSpec, HookSpec};
use indexmap::IndexMap;
use kong_sim::{Backend, BackendConfig};
use tokio::time::Instant;

use crate::prometheus::{free_port, Prometheus};

fn check(yaml: &str) -> CheckSpec {
    serde_yaml_ng::from_str(yaml).expect("check spec")
}

fn hook(yaml: &str) -> HookSpec {
    serde_yaml_ng::from_str(yaml).expect("hook spec")
}

fn ctx(timeout: Duration) -> CheckContext {
    CheckContext::new(timeout)
}

/// Runs one check, collecting the measurements reported on the way.
async fn run(name: &str, spec: &CheckSpec, ctx: &CheckContext) -> (Verdict, Vec<Outcome>) {
    let seen = Mutex::new(Vec::new());
    let on = |check: &str, m: &Measurement| {
        assert_eq!(check, name);
        seen.lock().unwrap().push(m.outcome);
    };
    let v = run_check(name, spec, ctx, &on).await;
    eprintln!("{}", v.summary); // shown with --nocapture or on failure
    (v, seen.into_inner().unwrap())
}

/// The error ratio of one color over the last 10 s (absent when it never failed).
fn ratio_query(color: &str) -> String {
    format!(
        "sum(rate(app_requests_total{{color=\"{color}\",code=~\"5..\"}}[10s])) / sum(rate(app_requests_total{{color=\"{color}\"}}[10s]))"
    )
}

/// Bounded load straight at the backends: at most 3000 requests and 25 s, until `stop`.
fn drive_load(urls: Vec<String>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u32> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut sent = 0;
        while sent < 3000
            && started.elapsed() < Duration::from_secs(25)
            && !stop.load(Ordering::Relaxed)
        {
            for u in &urls {
                let _ = client.get(u).timeout(Duration::from_secs(1)).send().await;
                sent += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        sent
    })
}

/// The number after "returned " in a summary.
fn returned_value(summary: &str) -> f64 {
    let rest = summary
        .split("returned ")
        .nth(1)
        .expect("a value in the summary");
    rest.split([';', ',', ' '])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("a number in {summary}"))
}

/// One Prometheus for every scenario: starting it costs ~6 s, so the scenarios run in sequence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_checks_catch_errors_and_follow_the_no_data_policy() {
    let blue = Backend::start(BackendConfig::new("blue"))
        .await
        .expect("blue");
    let mut config = BackendConfig::new("green");
    config.error_rate = 0.2;
    let green = Backend::start(config).await.expect("green");
    let stop = Arc::new(AtomicBool::new(false));
    let load = drive_load(
        vec![format!("{}/", blue.url()), format!("{}/", green.url())],
        stop.clone(),
    );

    let Some(prom) = Prometheus::start(&[blue.addr(), green.addr()]).await else {
        stop.store(true, Ordering::Relaxed);
        return;
    };
    // Each color's counters need two scrapes inside the rate window before a rate exists, and
    // the targets are scraped at different offsets: wait for both colors and green's 5xx.
    prom.wait_for(
        "count(sum by (color) (rate(app_requests_total[10s])) > 0)",
        Duration::from_secs(10),
        |v| v == "2",
    )
    .await;
    prom.wait_for(&ratio_query("green"), Duration::from_secs(10), |v| {
        v.parse::<f64>().is_ok_and(|x| x > 0.0)
    })
    .await;
    let url = &prom.url;
    let ctx = ctx(Duration::from_secs(30));

    // A green backend at 20% errors is caught, with the measured ratio in the summary.
    let spec = check(&format!(
        "prometheus: {{url: '{url}', query: '{}'}}\nsuccessCondition: result < 0.01\n",
        ratio_query("green")
    ));
    let (v, seen) = run("error-rate", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail, "{}", v.summary);
    assert_eq!(seen, [Outcome::Fail]);
    let measured = returned_value(&v.summary);
    assert!(
        (0.08..0.35).contains(&measured),
        "ratio {measured}: {}",
        v.summary
    );
    assert!(
        v.summary.starts_with(&format!(
            "error-rate: FAIL — query `{}` returned ",
            ratio_query("green")
        )) && v
            .summary
            .ends_with("; condition `result < 0.01`; 1 of 1 measurements failed (failureLimit 0)"),
        "{}",
        v.summary
    );
    assert_eq!(v.asked, ratio_query("green"));
    assert_eq!(v.condition.as_deref(), Some("result < 0.01"));
    assert_eq!(
        v.limits,
        "count 1 every 10s, failureLimit 0, consecutiveErrorLimit 4, noData fail"
    );

    // A healthy blue passes: the absent 5xx series is made 0 explicitly (`or on() vector(0)`).
    let healthy = "(sum(rate(app_requests_total{color=\"blue\",code=~\"5..\"}[10s])) or on() vector(0)) / sum(rate(app_requests_total{color=\"blue\"}[10s]))";
    let spec = check(&format!(
        "prometheus: {{url: '{url}', query: '{healthy}'}}\nsuccessCondition: result < 0.01\ncount: 2\ninterval: 300ms\n"
    ));
    let (v, seen) = run("blue-error-rate", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);
    assert_eq!(seen, [Outcome::Pass, Outcome::Pass]);
    assert!(
        v.summary.ends_with("returned 0 (×2); condition `result < 0.01`; 2 of 2 measurements passed (failureLimit 0)"),
        "{}",
        v.summary
    );

    // Without `or vector(0)` the healthy ratio is an empty vector: no data, never 0.
    let empty = ratio_query("blue");
    for (policy, outcome, tail) in [
        ("fail", Outcome::Fail, "returned no data (noData: fail); condition `result < 0.01`; 1 of 1 measurements failed (failureLimit 0)"),
        ("inconclusive", Outcome::Inconclusive, "returned no data (noData: inconclusive); condition `result < 0.01`; 1 of 1 measurements inconclusive, 0 failed (failureLimit 0); a person must decide"),
        ("pass", Outcome::Pass, "returned no data (noData: pass); condition `result < 0.01`; 1 of 1 measurements passed (failureLimit 0); 1 with no data counted as passed (noData: pass)"),
    ] {
        let spec = check(&format!(
            "prometheus: {{url: '{url}', query: '{empty}'}}\nsuccessCondition: result < 0.01\nnoData: {policy}\n"
        ));
        let (v, seen) = run("blue-raw", &spec, &ctx).await;
        assert_eq!(v.outcome, outcome, "noData {policy}: {}", v.summary);
        assert_eq!(seen, [Outcome::NoData], "noData {policy}");
        assert_eq!(v.measurements[0].outcome, Outcome::NoData);
        assert!(v.summary.ends_with(tail), "noData {policy}: {}", v.summary);
    }

    // Several series: the condition must reduce them.
    let by_color = "sum by (color) (rate(app_requests_total[10s]))";
    let spec = check(&format!(
        "prometheus: {{url: '{url}', query: '{by_color}'}}\nsuccessCondition: result > 0\nconsecutiveErrorLimit: 0\n"
    ));
    let (v, _) = run("per-color", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Error, "{}", v.summary);
    assert!(
        v.measurements[0]
            .value
            .as_deref()
            .unwrap()
            .starts_with("2 series: {color=\"blue\"} "),
        "{:?}",
        v.measurements[0]
    );
    assert!(
        v.summary.starts_with("per-color: ERROR — query `sum by (color) (rate(app_requests_total[10s]))`: 2 series: {color=\"blue\"} ")
            && v.summary.contains(": cannot evaluate `result > 0`: `result` has 2 series; reduce it with max(result), min(result), avg(result) or sum(result); condition `result > 0`; ")
            && v.summary.ends_with("1 errors in a row exceeded consecutiveErrorLimit 0"),
        "{}",
        v.summary
    );
    let spec = check(&format!(
        "prometheus: {{url: '{url}', query: '{by_color}'}}\nsuccessCondition: min(result) > 0\n"
    ));
    assert_eq!(run("per-color", &spec, &ctx).await.0.outcome, Outcome::Pass);

    // A query Prometheus rejects is an Error carrying Prometheus' own message.
    let spec = check(&format!(
        "prometheus: {{url: '{url}', query: 'sum(rate(app_requests_total[10s]) by'}}\nsuccessCondition: result < 1\nconsecutiveErrorLimit: 0\n"
    ));
    let (v, _) = run("typo", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Error);
    assert!(
        v.summary.contains("query failed (bad_data)") && v.summary.contains("parse error"),
        "{}",
        v.summary
    );

    // Several checks at once, as the engine runs a step's analysis.
    let mut checks = IndexMap::new();
    checks.insert(
        "green".to_string(),
        check(&format!(
            "prometheus: {{url: '{url}', query: '{}'}}\nsuccessCondition: result < 0.01\n",
            ratio_query("green")
        )),
    );
    checks.insert(
        "blue".to_string(),
        check(&format!(
            "prometheus: {{url: '{url}', query: '{healthy}'}}\nsuccessCondition: result < 0.01\n"
        )),
    );
    let names = vec!["green".to_string(), "blue".to_string()];
    let verdicts = run_checks(&names, &checks, &ctx, &|_, _| {}).await;
    let got: Vec<(&str, Outcome)> = verdicts
        .iter()
        .map(|v| (v.check.as_str(), v.outcome))
        .collect();
    assert_eq!(got, [("green", Outcome::Fail), ("blue", Outcome::Pass)]);

    stop.store(true, Ordering::Relaxed);
    let sent = load.await.unwrap();
    assert!(sent <= 3000);
}

#[tokio::test]
async fn prometheus_down_is_an_error_that_hits_the_consecutive_error_limit() {
    let port = free_port();
    let spec = check(&format!(
        "prometheus: {{url: 'http://127.0.0.1:{port}', query: 'up'}}\nsuccessCondition: result == 1\ninterval: 100ms\nconsecutiveErrorLimit: 2\n"
    ));
    let started = Instant::now();
    let (v, seen) = run("prom-down", &spec, &ctx(Duration::from_secs(10))).await;
    assert_eq!(v.outcome, Outcome::Error, "{}", v.summary);
    assert_eq!(seen, [Outcome::Error; 3]);
    assert!(started.elapsed() < Duration::from_secs(2));
    let detail = &v.measurements[0].detail;
    assert!(
        detail.starts_with(&format!(
            "Prometheus at http://127.0.0.1:{port} unreachable ("
        )),
        "{detail}"
    );
    assert!(
        v.summary
            .starts_with("prom-down: ERROR — query `up`: Prometheus at ")
            && v.summary.ends_with(
                "(×3); condition `result == 1`; 3 errors in a row exceeded consecutiveErrorLimit 2"
            ),
        "{}",
        v.summary
    );
}

/// What the local webhook server saw.
#[derive(Default)]
struct Seen {
    bodies: Vec<String>,
    tokens: Vec<String>,
    hosts: Vec<String>,
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

/// A local webhook server: `/ok` (204, records body and token), `/fail` (503), `/stats` (JSON),
/// `/slow` and `/slowprom/api/v1/query` (answer after 5 s), `/flaky` (500 twice, then 200), `/probe` (records the Host header).
async fn webhook_server() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let flaky = Arc::new(AtomicU32::new(0));
    let s = seen.clone();
    let h = seen.clone();
    let app = axum::Router::new()
        .route(
            "/probe",
            get(move |headers: HeaderMap| {
                let h = h.clone();
                async move {
                    h.lock().unwrap().hosts.extend(
                        headers
                            .get("host")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                    );
                    "ok"
                }
            }),
        )
        .route(
            "/ok",
            post(move |headers: HeaderMap, body: String| {
                let s = s.clone();
                async move {
                    let mut seen = s.lock().unwrap();
                    seen.bodies.push(body);
                    seen.tokens.extend(
                        headers
                            .get("x-token")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                    );
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .route(
            "/fail",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "maintenance   in\nprogress",
                )
            })
            .post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "maintenance in progress") }),
        )
        .route(
            "/stats",
            get(|| async { r#"{"stats": {"errorRate": 0.002, "ok": true}, "version": "2.1"}"# }),
        )
        .route("/slow", get(slow))
        .route("/slowprom/api/v1/query", get(slow))
        .route(
            "/flaky",
            get(move || {
                let n = flaky.fetch_add(1, Ordering::Relaxed);
                async move {
                    if n < 2 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

#[tokio::test]
async fn webhook_checks_judge_status_and_body_and_never_print_header_values() {
    let (url, seen) = webhook_server().await;
    let ctx = ctx(Duration::from_secs(20));

    let spec = check(&format!(
        "webhook: {{url: '{url}/ok', headers: {{X-Token: s3cr3t-value}}}}\n"
    ));
    let (v, _) = run("smoke", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);
    assert_eq!(v.summary, format!("smoke: PASS — `POST {url}/ok` answered HTTP 204; condition a 2xx status; 1 of 1 measurements passed (failureLimit 0)"));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.bodies, [r#"{"check":"smoke"}"#]);
        assert_eq!(seen.tokens, ["s3cr3t-value"]);
    }
    let json = serde_json::to_string(&v).unwrap() + &format!("{v:?}") + &format!("{spec:?}");
    assert!(!json.contains("s3cr3t"), "a header value leaked: {json}");

    let spec = check(&format!("webhook: {{url: '{url}/fail', method: get}}\n"));
    let (v, _) = run("smoke", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(
        v.measurements[0].detail,
        "HTTP 503: maintenance in progress"
    );
    assert_eq!(
        v.summary,
        format!("smoke: FAIL — `GET {url}/fail` answered HTTP 503; condition a 2xx status; 1 of 1 measurements failed (failureLimit 0)")
    );

    let spec = check(&format!(
        "webhook: {{url: '{url}/stats', method: GET}}\nsuccessCondition: status == 200 && result.stats.ok && result.stats.errorRate < 0.001\n"
    ));
    let (v, _) = run("stats", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail, "{}", v.summary);
    assert!(
        v.summary.contains("answered HTTP 200, result.stats.ok = true, result.stats.errorRate = 0.002; condition `status == 200 && result.stats.ok && result.stats.errorRate < 0.001`"),
        "{}",
        v.summary
    );
    let spec = check(&format!(
        "webhook: {{url: '{url}/stats', method: GET}}\nsuccessCondition: result.stats.errorRate < 0.01 && result.version >= 2\n"
    ));
    assert_eq!(run("stats", &spec, &ctx).await.0.outcome, Outcome::Pass);

    // A timeout is an Error, retried; errors between real measurements fill no slot.
    let spec = check(&format!(
        "webhook: {{url: '{url}/slow', method: GET, timeout: 200ms}}\ninterval: 50ms\nconsecutiveErrorLimit: 1\n"
    ));
    let started = Instant::now();
    let (v, seen) = run("slow", &spec, &ctx).await;
    assert_eq!(
        (v.outcome, seen.len()),
        (Outcome::Error, 2),
        "{}",
        v.summary
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        v.measurements[0].detail.ends_with("no answer within 200ms"),
        "{:?}",
        v.measurements[0]
    );

    // failureLimit tolerates the flaky endpoint's two 500s.
    let spec = check(&format!(
        "webhook: {{url: '{url}/flaky', method: GET}}\ncount: 3\ninterval: 10ms\nfailureLimit: 2\n"
    ));
    let (v, seen) = run("flaky", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);
    assert_eq!(seen, [Outcome::Fail, Outcome::Fail, Outcome::Pass]);
    assert!(
        v.summary
            .ends_with("1 of 3 measurements passed (failureLimit 2), 2 failed within the limit"),
        "{}",
        v.summary
    );
}

#[tokio::test]
async fn a_slow_prometheus_is_cut_off_by_the_query_timeout() {
    let (url, _) = webhook_server().await;
    // `/slowprom` never answers within the timeout: the query is abandoned, not waited for.
    let spec = check(&format!(
        "prometheus: {{url: '{url}/slowprom', query: 'up', timeout: 200ms}}\nsuccessCondition: result == 1\nconsecutiveErrorLimit: 0\n"
    ));
    let started = Instant::now();
    let (v, _) = run("slow-prom", &spec, &ctx(Duration::from_secs(10))).await;
    assert_eq!(v.outcome, Outcome::Error, "{}", v.summary);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        v.measurements[0].detail.ends_with("no answer within 200ms"),
        "{:?}",
        v.measurements[0]
    );
}

fn script(dir: &std::path::Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn exec_checks_pass_on_exit_zero_and_explain_failures() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "e2e.sh", "echo ran >> runs.txt");
    script(
        dir.path(),
        "broken.sh",
        "echo 'checking /health'\necho 'expected 200, got 503' >&2\nexit 3",
    );
    let mut ctx = ctx(Duration::from_secs(20));
    ctx.workdir = dir.path().to_path_buf();

    let spec = check("exec: {command: [./e2e.sh]}\ncount: 2\ninterval: 100ms\n");
    let (v, seen) = run("e2e", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);
    assert_eq!(seen, [Outcome::Pass; 2]);
    assert_eq!(v.summary, "e2e: PASS — `./e2e.sh` ended with exit 0 (×2); condition exit code 0; 2 of 2 measurements passed (failureLimit 0)");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("runs.txt")).unwrap(),
        "ran\nran\n"
    );

    let spec = check("exec: {command: [./broken.sh, --fast]}\n");
    let (v, _) = run("e2e", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(v.summary, "e2e: FAIL — `./broken.sh --fast` ended with exit 3; condition exit code 0; 1 of 1 measurements failed (failureLimit 0)");
    assert!(
        v.measurements[0]
            .detail
            .ends_with("; stderr: expected 200, got 503"),
        "{:?}",
        v.measurements[0]
    );

    let spec = check("exec: {command: [sleep, '10'], timeout: 200ms}\n");
    let started = Instant::now();
    let (v, _) = run("hang", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        v.measurements[0].detail,
        "did not finish within its timeout of 200ms; killed"
    );

    let spec = check("exec: {command: [./missing.sh]}\nconsecutiveErrorLimit: 0\n");
    let (v, _) = run("missing", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Error);
    assert!(
        v.summary
            .starts_with("missing: ERROR — `./missing.sh`: could not start: "),
        "{}",
        v.summary
    );
}

#[tokio::test]
async fn hooks_report_exit_codes_statuses_and_snippets() {
    let (url, seen) = webhook_server().await;
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "migrate.sh",
        "echo \"$BGCTL_HOOK $1\" > hook.txt",
    );
    script(
        dir.path(),
        "fail.sh",
        "echo 'migration 42 failed: table locked' >&2\nexit 2",
    );
    let mut ctx = ctx(Duration::from_secs(20));
    ctx.workdir = dir.path().to_path_buf();

    let ok = run_hook(
        "preSwitch",
        &hook("exec: {command: [./migrate.sh, up]}"),
        &ctx,
    )
    .await
    .unwrap();
    assert!(
        ok.starts_with("preSwitch hook `./migrate.sh up` exited 0 after "),
        "{ok}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hook.txt")).unwrap(),
        "preSwitch up\n"
    );

    let err = run_hook("preSwitch", &hook("exec: {command: [./fail.sh]}"), &ctx)
        .await
        .unwrap_err();
    assert!(
        err.starts_with("preSwitch hook `./fail.sh` exited 2 after ")
            && err.ends_with("; stderr: migration 42 failed: table locked"),
        "{err}"
    );
    let err = run_hook("preSwitch", &hook("exec: {command: [./nope.sh]}"), &ctx)
        .await
        .unwrap_err();
    assert!(
        err.starts_with("preSwitch hook `./nope.sh`: could not start: "),
        "{err}"
    );

    let ok = run_hook(
        "postSwitch",
        &hook(&format!("webhook: {{url: '{url}/ok'}}")),
        &ctx,
    )
    .await
    .unwrap();
    assert_eq!(
        ok,
        format!("postSwitch hook `POST {url}/ok` answered HTTP 204")
    );
    assert_eq!(seen.lock().unwrap().bodies, [r#"{"hook":"postSwitch"}"#]);

    let err = run_hook(
        "onRollback",
        &hook(&format!("webhook: {{url: '{url}/fail'}}")),
        &ctx,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        format!("onRollback hook `POST {url}/fail` answered HTTP 503: maintenance in progress")
    );

    let port = free_port();
    let err = run_hook(
        "onRollback",
        &hook(&format!("webhook: {{url: 'http://127.0.0.1:{port}/page'}}")),
        &ctx,
    )
    .await
    .unwrap_err();
    assert!(
        err.starts_with(&format!(
            "onRollback hook `POST http://127.0.0.1:{port}/page`: unreachable ("
        )),
        "{err}"
    );
}

#[test]
fn webhook_conditions_may_use_any_result_path_and_nothing_else() {
    let plan = |cond: &str, source: &str| {
        format!(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata: {{name: shop}}\nprovider: {{kong: {{adminUrl: 'http://127.0.0.1:8001'}}}}\nservice: {{name: shop}}\n\
             environments:\n  blue: {{upstream: shop.v1, targets: [{{target: '127.0.0.1:9001'}}]}}\n  green: {{upstream: shop.v2, targets: [{{target: '127.0.0.1:9002'}}]}}\n\
             checks:\n  c:\n    {source}\n    successCondition: '{cond}'\nstrategy: {{blueGreen: {{activeEnvironment: green}}}}\n"
        )
    };
    let load = |text: String| {
        bgctl::plan::parse_with_env(
            std::path::Path::new("plan.yaml"),
            &text,
            &|_| None,
            &bgctl::plan::load::Limits::default(),
        )
        .map(|_| ())
        .map_err(|e| e.details())
    };
    let webhook = "webhook: {url: 'http://127.0.0.1:8080/stats'}";
    let prom = "prometheus: {url: 'http://127.0.0.1:9090', query: up}";
    load(plan(
        "status == 200 && result.stats.errorRate < 0.01 && result.ok",
        webhook,
    ))
    .expect("webhook body paths");
    let err = load(plan("resultt.ok", webhook)).unwrap_err();
    assert!(err.contains("unknown variable `resultt.ok`"), "{err}");
    let err = load(plan("result. < 1", webhook));
    assert!(err.is_err(), "a dangling dot is not a path");
    let err = load(plan("result.stats.errorRate < 0.01", prom)).unwrap_err();
    assert!(
        err.contains("unknown variable `result.stats.errorRate`"),
        "{err}"
    );
}

#[tokio::test]
async fn probe_checks_measure_success_rate_and_latency_through_the_proxy() {
    let mut config = BackendConfig::new("green");
    config.error_rate = 0.3;
    let flaky = Backend::start(config).await.expect("backend");
    let mut config = BackendConfig::new("blue");
    config.latency = Duration::from_millis(30);
    let slow = Backend::start(config).await.expect("backend");
    let (url, seen) = webhook_server().await;
    let through = |url: String, path: &str| ProxyTarget {
        url,
        host: Some("shop.test".into()),
        path: path.into(),
    };
    let mut ctx = ctx(Duration::from_secs(20));

    // Default condition: successRate >= 0.99.
    ctx.proxy = Some(through(flaky.url(), "/"));
    let (v, _) = run("canary-probe", &check("probe: {through: proxy}"), &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail, "{}", v.summary);
    assert_eq!(
        v.asked,
        format!("100 × GET {}/ (Host: shop.test)", flaky.url())
    );
    assert_eq!(v.condition.as_deref(), Some("successRate >= 0.99"));
    assert!(
        v.measurements[0].detail.contains("failed: HTTP 500 ×"),
        "{:?}",
        v.measurements[0]
    );
    let rate: f64 = v
        .summary
        .split("successRate ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.5..0.9).contains(&rate), "{}", v.summary);
    assert_eq!(flaky.request_count(), 100);

    // Latency percentiles are seconds, so durations compare directly.
    ctx.proxy = Some(through(slow.url(), "/"));
    let spec =
        check("probe: {requests: 16}\nsuccessCondition: successRate >= 0.99 && p99 < 20ms\n");
    let (v, _) = run("latency", &spec, &ctx).await;
    assert_eq!(v.outcome, Outcome::Fail, "{}", v.summary);
    assert!(
        v.summary
            .contains("measured successRate 1 (16 of 16), p50 "),
        "{}",
        v.summary
    );
    let spec =
        check("probe: {requests: 16}\nsuccessCondition: successRate >= 0.99 && p99 < 300ms\n");
    assert_eq!(run("latency", &spec, &ctx).await.0.outcome, Outcome::Pass);

    // The route's Host header and the check's own path.
    ctx.proxy = Some(through(url, "/not-this"));
    let (v, _) = run("host", &check("probe: {path: /probe, requests: 3}"), &ctx).await;
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.summary);
    assert_eq!(seen.lock().unwrap().hosts, ["shop.test"; 3]);
}

/// `plans/kong-canary-analysis.yaml` end to end with a real Prometheus: a green that fails 20%
/// of requests is caught at the analysis step and rolled back (exit 3, the measured ratio in
/// the output); a healthy green passes and is promoted.
#[tokio::test(flavor = "multi_thread")]
async fn canary_analysis_plan_rolls_back_a_bad_green_and_promotes_a_good_one() {
    let measured = regex::Regex::new(r"returned (0\.\d+)").unwrap();
    for bad in [true, false] {
        let stack = crate::harness::Stack::start().await;
        let addrs: Vec<std::net::SocketAddr> =
            stack.backends.iter().map(kong_sim::Backend::addr).collect();
        let Some(prom) = Prometheus::start(&addrs).await else {
            return;
        };
        if bad {
            stack.backends[2].set_error_rate(0.2);
            stack.backends[3].set_error_rate(0.2);
        }
        let plan = crate::harness::root().join("plans/kong-canary-analysis.yaml");
        let mut cmd = stack.bgctl();
        cmd.env("PROMETHEUS_URL", &prom.url)
            .env("ANALYSIS_INTERVAL", "3s")
            .env("WARMUP", "7s")
            .args(["plan", "apply", "--yes", "--timeout", "90s"])
            .arg(&plan);
        let run = tokio::task::spawn_blocking(move || cmd.output().unwrap());
        // Bounded load through the proxy while the canary runs (≤ 60 s, ≤ 20,000 requests).
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        let mut sent = 0;
        while !run.is_finished()
            && started.elapsed() < std::time::Duration::from_mins(1)
            && sent < 20_000
        {
            let _ = client
                .get(format!("{}/", stack.sim.proxy_url()))
                .header("Host", "address.mydomain.com")
                .send()
                .await;
            sent += 1;
        }
        let out = run.await.unwrap();
        let text = crate::harness::render(&out);
        if bad {
            assert_eq!(out.status.code(), Some(3), "{text}");
            assert!(
                text.contains("error-rate: FAIL") && text.contains("result < 0.01"),
                "{text}"
            );
            let ratio = measured
                .captures(&text)
                .and_then(|c| c[1].parse::<f64>().ok())
                .expect("a measured ratio in the output");
            assert!((0.08..0.35).contains(&ratio), "measured {ratio}: {text}");
            assert!(
                text.contains("rolled back"),
                "the onRollback hook ran: {text}"
            );
            assert_eq!(stack.service_host().await, "address.v1.service");
        } else {
            assert_eq!(out.status.code(), Some(0), "{text}");
            assert!(text.contains("error-rate: PASS"), "{text}");
            assert_eq!(stack.service_host().await, "address.v2.service");
        }
    }
}
