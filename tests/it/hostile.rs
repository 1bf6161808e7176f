//! Hostile servers (issue 14): the real binary against local servers that redirect, send
//! endless or enormous answers, echo secrets and send terminal escape sequences. Each test
//! asserts what the user must be able to rely on: no redirect is followed (the redirect's
//! target receives nothing), no secret appears in any output (stdout, stderr, `-o json`, logs
//! at `-vvv`), peak memory stays under a bound (GNU time), the exit code is the documented one,
//! and no raw control byte from a server reaches the terminal.

use std::convert::Infallible;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use crate::harness::{root, Stack};

/// Peak RSS bound for every hostile answer.
const RSS_BOUND_KIB: u64 = 100 * 1024;
const GIB: u64 = 1 << 30;

type ReplyFn = Box<dyn Fn() -> Reply + Send + Sync>;
const TOKEN: &str = "tok-9f8e7d6c5b4a-SECRET";
const API_KEY: &str = "key-0a1b2c3d4e-SECRET";
const URL_TOKEN: &str = "qtok-55aa66bb77cc";

/// A request the hostile server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    #[allow(dead_code)] // shown in assertion messages (Debug)
    path: String,
    headers: HeaderMap,
}

/// What the hostile server answers.
enum Reply {
    /// Status, extra headers, body.
    Fixed(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// `total` bytes (`None`: without end) of `chunk` repeated, after `prefix`; optionally
    /// announced by `Content-Length`.
    Stream {
        prefix: Vec<u8>,
        chunk: Vec<u8>,
        total: Option<u64>,
        content_length: bool,
    },
    /// Pass the request to this upstream (the Kong simulator) and return its answer.
    Forward(String),
}

type Script = Arc<dyn Fn(&Method, &str) -> Reply + Send + Sync>;

/// A local server on 127.0.0.1:0 that records every request and answers by script.
struct Hostile {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Hostile {
    async fn start(script: impl Fn(&Method, &str) -> Reply + Send + Sync + 'static) -> Hostile {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let (s2, sc) = (seen.clone(), script.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (seen, script) = (s2.clone(), sc.clone());
            async move { answer(&seen, &script, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hostile {
            url: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(seen: &Mutex<Vec<Seen>>, script: &Script, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        headers: req.headers().clone(),
    });
    match script(&method, &path) {
        Reply::Fixed(status, headers, body) => {
            let mut r = Response::builder().status(status);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(Body::from(body)).unwrap()
        }
        Reply::Stream {
            prefix,
            chunk,
            total,
            content_length,
        } => {
            let chunk = Bytes::from(chunk);
            let n = total.map_or(u64::MAX, |t| t / chunk.len() as u64);
            let first =
                futures::stream::once(async move { Ok::<_, Infallible>(Bytes::from(prefix)) });
            let rest = futures::stream::StreamExt::take(
                futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone())),
                usize::try_from(n).unwrap_or(usize::MAX),
            );
            let mut r = Response::builder()
                .status(200)
                .header("content-type", "application/json");
            if let (true, Some(t)) = (content_length, total) {
                r = r.header("content-length", t.to_string());
            }
            r.body(Body::from_stream(futures::stream::StreamExt::chain(
                first, rest,
            )))
            .unwrap()
        }
        Reply::Forward(upstream) => {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut fwd = reqwest::Client::new().request(parts.method, format!("{upstream}{path}"));
            for (k, v) in &parts.headers {
                if k != "host" {
                    fwd = fwd.header(k, v);
                }
            }
            match fwd.body(body).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let bytes = resp.bytes().await.unwrap_or_default();
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Body::from(bytes))
                        .unwrap()
                }
                Err(_) => Response::builder()
                    .status(StatusCode::BAD_GATEWAY)
                    .body(Body::empty())
                    .unwrap(),
            }
        }
    }
}

/// Runs the real binary under GNU time with a cleared environment; the output (GNU time's line
/// removed from stderr) and the peak RSS in KiB.
fn measured(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> (Output, u64, Duration) {
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.args(["-f", "maxrss_kib=%M"])
        // `HOSTILE_BGCTL` runs another build (e.g. the one before this fix) as a negative control.
        .arg(
            std::env::var_os("HOSTILE_BGCTL")
                .map_or_else(|| assert_cmd::cargo::cargo_bin("bgctl"), Into::into),
        )
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("USER", "tester")
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut out = cmd
        .output()
        .expect("GNU time (scripts/test installs the `time` package)");
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {err}"));
    let cut = err.rfind("maxrss_kib=").unwrap_or(err.len());
    out.stderr = err.as_bytes()[..cut].to_vec();
    (out, kib, took)
}

/// Prints what a hostile case measured (kept in the test log for docs/reliability.md).
fn report(what: &str, out: &Output, kib: u64, took: Duration) {
    println!(
        "  {what}: exit {:?}, peak {:.1} MiB, {took:?}",
        out.status.code(),
        kib as f64 / 1024.0
    );
}

async fn measured_async(
    dir: std::path::PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
) -> (Output, u64, Duration) {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        measured(&dir, &env, &args)
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No secret, no raw control byte (other than newline) in stdout or stderr.
fn assert_clean(what: &str, out: &Output, secrets: &[&str]) {
    let all = text(out);
    for s in secrets {
        assert!(!all.contains(s), "{what}: secret `{s}` printed:\n{all}");
    }
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !stream.iter().any(|b| b.is_ascii_control() && *b != b'\n'),
            "{what}: a control byte on {name}:\n{all:?}"
        );
    }
}

/// The seed plan against `admin` (the hostile server) with the stack's backends.
fn env_for(stack: &Stack, admin: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("KONG_ADMIN_URL".to_string(), admin.to_string()),
        ("KONG_ADMIN_TOKEN".to_string(), TOKEN.to_string()),
        ("KONG_PROXY_URL".to_string(), stack.sim.proxy_url()),
    ];
    for (i, key) in ["BLUE_1", "BLUE_2", "GREEN_1", "GREEN_2"]
        .iter()
        .enumerate()
    {
        env.push(((*key).to_string(), stack.backends[i].addr().to_string()));
    }
    env
}

fn args(list: &[&str], plan: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(ToString::to_string).collect();
    v.push(plan.display().to_string());
    v
}

/// Blue live on the simulator, written through bgctl itself.
async fn blue_live(stack: &Stack) -> std::path::PathBuf {
    let plan = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "--yes"]).arg(&plan);
    let out = crate::harness::run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::render(&out)
    );
    plan
}

/// Item 1: an Admin API that redirects its writes (to another port, with every redirect
/// status) gets an error naming the `Location`; the target receives nothing (not the token, not
/// a GET turned from a POST); nothing is written; bgctl does not claim success.
#[tokio::test(flavor = "multi_thread")]
async fn admin_api_redirects_are_not_followed() {
    let stack = Stack::start().await;
    let plan = blue_live(&stack).await;
    let target = Hostile::start(|_, _| Reply::Fixed(200, vec![], b"{}".to_vec())).await;
    for status in [301u16, 302, 303, 307, 308] {
        let sim = stack.sim.admin_url();
        let to = format!("{}/stolen?token={URL_TOKEN}", target.url);
        let admin = Hostile::start(move |m, _| {
            if *m == Method::GET {
                Reply::Forward(sim.clone())
            } else {
                Reply::Fixed(status, vec![("location", to.clone())], Vec::new())
            }
        })
        .await;
        let writes_before = stack.writes().len();
        for json in [false, true] {
            let mut a = vec![
                "-vvv",
                "switch",
                "--to",
                "green",
                "--yes",
                "--timeout",
                "60s",
            ];
            if json {
                a.extend(["-o", "json"]);
            }
            a.push("-f");
            let (out, kib, took) = measured_async(
                stack.dir.path().into(),
                env_for(&stack, &admin.url),
                args(&a, &plan),
            )
            .await;
            let all = text(&out);
            report(
                &format!("redirect HTTP {status} (json {json})"),
                &out,
                kib,
                took,
            );
            assert_eq!(out.status.code(), Some(1), "HTTP {status}: {all}");
            assert!(kib < RSS_BOUND_KIB, "HTTP {status}: peak {kib} KiB");
            assert!(
                took < Duration::from_mins(1),
                "HTTP {status}: took {took:?}"
            );
            assert_clean(&format!("HTTP {status}"), &out, &[TOKEN, URL_TOKEN]);
            if !json {
                assert!(
                    all.contains(&format!("HTTP {status} redirecting to"))
                        && all.contains("/stolen?token=<redacted>"),
                    "the error names the Location, redacted: {all}"
                );
            }
            assert!(
                !all.contains("done:") && !all.contains("\"event\":\"done\""),
                "{all}"
            );
        }
        assert!(
            target.seen().is_empty(),
            "HTTP {status}: the redirect target was called: {:?}",
            target.seen()
        );
        assert_eq!(
            stack.writes().len(),
            writes_before,
            "HTTP {status}: nothing written"
        );
        assert!(
            admin.seen().iter().any(|s| s.method != Method::GET),
            "a write was attempted"
        );
    }
    assert_eq!(stack.service_host().await, "address.v1.service");
}

/// Item 2: enormous, endless and endlessly paginated Admin API answers end in exit 1 within
/// `--timeout` and bounded memory.
#[tokio::test(flavor = "multi_thread")]
async fn enormous_admin_api_answers_end_in_bounded_memory() {
    let stack = Stack::start().await;
    let plan = blue_live(&stack).await;
    let cases: Vec<(&str, ReplyFn)> = vec![
        (
            "1 GiB answer, chunked",
            Box::new(|| Reply::Stream {
                prefix: b"{\"data\": \"".to_vec(),
                chunk: vec![b'x'; 64 * 1024],
                total: Some(GIB),
                content_length: false,
            }),
        ),
        (
            "1 GiB answer, announced by Content-Length",
            Box::new(|| Reply::Stream {
                prefix: Vec::new(),
                chunk: vec![b' '; 64 * 1024],
                total: Some(GIB),
                content_length: true,
            }),
        ),
        (
            "endless chunked answer",
            Box::new(|| Reply::Stream {
                prefix: b"[".to_vec(),
                chunk: b"0,".repeat(32 * 1024),
                total: None,
                content_length: false,
            }),
        ),
    ];
    for (what, reply) in cases {
        let reply = Arc::new(reply);
        let admin = Hostile::start(move |_, _| reply()).await;
        let (out, kib, took) = measured_async(
            stack.dir.path().into(),
            env_for(&stack, &admin.url),
            args(&["status", "--timeout", "60s", "-f"], &plan),
        )
        .await;
        let all = text(&out);
        report(what, &out, kib, took);
        assert_eq!(out.status.code(), Some(1), "{what}: {all}");
        assert!(all.contains("larger than 4 MiB"), "{what}: {all}");
        assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
        assert!(took < Duration::from_mins(1), "{what}: took {took:?}");
        assert_clean(what, &out, &[TOKEN]);
    }

    // Endless pagination of the targets list: 1 MiB pages of strings, then pages of tiny
    // values (the JSON node budget).
    for (what, item) in [
        (
            "endless pagination, 1 MiB pages",
            format!("{{\"target\": \"{}\"}}", "y".repeat(1000)),
        ),
        ("endless pagination of tiny values", "0".to_string()),
    ] {
        let sim = stack.sim.admin_url();
        let page_items = 1_000_000 / (item.len() + 1);
        let page = Arc::new(move |n: u64| {
            format!(
                "{{\"data\": [{}], \"offset\": \"o{n}\"}}",
                vec![item.as_str(); page_items].join(",")
            )
            .into_bytes()
        });
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let admin = Hostile::start(move |_, path| {
            if path.contains("/targets") {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Reply::Fixed(
                    200,
                    vec![("content-type", "application/json".into())],
                    page(n),
                )
            } else {
                Reply::Forward(sim.clone())
            }
        })
        .await;
        let (out, kib, took) = measured_async(
            stack.dir.path().into(),
            env_for(&stack, &admin.url),
            args(&["status", "--timeout", "60s", "-f"], &plan),
        )
        .await;
        let all = text(&out);
        report(what, &out, kib, took);
        assert_eq!(out.status.code(), Some(1), "{what}: {all}");
        assert!(
            all.contains("add up to more than 16 MiB")
                || all.contains("more than 500000 JSON values"),
            "{what}: {all}"
        );
        assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
        assert_clean(what, &out, &[TOKEN]);
    }
}

/// Items 3 and 5: an Admin API error that echoes the token, forges `done:`/`hint:` lines with
/// newlines, sets the window title with escape sequences, or is 50 MB long: the token is
/// redacted, the text is one line without control bytes, capped, in text, `-o json` and at
/// `-vvv`; logs carry no colour into a pipe.
#[tokio::test(flavor = "multi_thread")]
async fn admin_api_messages_are_redacted_sanitised_and_capped() {
    let stack = Stack::start().await;
    let plan = blue_live(&stack).await;
    let forged = format!(
        "denied for Kong-Admin-Token: {TOKEN}\n\x1b]0;pwned\x07\x1b[2J\ndone: `green` is live\nhint: all good\r"
    );
    let bodies: Vec<(&str, u16, Vec<u8>)> = vec![
        (
            "JSON message echoing the token, with escapes and forged lines",
            403,
            serde_json::to_vec(&serde_json::json!({ "message": forged })).unwrap(),
        ),
        (
            "HTML error page echoing the token",
            403,
            format!("<html><body>\x1b[31mForbidden\x1b[0m {TOKEN}\n</body></html>").into_bytes(),
        ),
        (
            "50 MB message",
            400,
            serde_json::to_vec(&serde_json::json!({ "message": "m".repeat(50_000_000) })).unwrap(),
        ),
    ];
    for (what, status, body) in bodies {
        let body = Arc::new(body);
        let admin = Hostile::start(move |_, _| {
            Reply::Fixed(
                status,
                vec![("content-type", "application/json".into())],
                body.to_vec(),
            )
        })
        .await;
        for a in [
            vec!["status", "-f"],
            vec![
                "-vvv", "--color", "never", "switch", "--to", "green", "--yes", "-f",
            ],
            vec![
                "-o", "json", "-vvv", "switch", "--to", "green", "--yes", "-f",
            ],
        ] {
            let (out, kib, took) = measured_async(
                stack.dir.path().into(),
                env_for(&stack, &admin.url),
                args(&a, &plan),
            )
            .await;
            let all = text(&out);
            println!(
                "  {what} {a:?}: exit {:?}, peak {:.1} MiB, {took:?}, {} bytes of stderr",
                out.status.code(),
                kib as f64 / 1024.0,
                out.stderr.len()
            );
            assert_eq!(out.status.code(), Some(1), "{what} {a:?}: {all}");
            assert_clean(what, &out, &[TOKEN]);
            assert!(
                !all.lines()
                    .any(|l| l.starts_with("done:") || l.starts_with("hint: all good")),
                "{what}: a forged line: {all}"
            );
            assert!(
                out.stderr.len() < 64 * 1024,
                "{what}: {} bytes of stderr",
                out.stderr.len()
            );
            assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
            if status == 403 && a[0] == "status" {
                assert!(all.contains("<redacted>"), "{what}: {all}");
            }
        }
    }
}

/// A plan with a pre-promotion webhook check (and optionally a Prometheus one) at `url`.
fn webhook_plan(stack: &Stack, check: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("tests/plans/seed.yaml"))
        .unwrap()
        .replace(
            "activeEnvironment: ACTIVE",
            "activeEnvironment: green\n    prePromotionAnalysis: {checks: [hostile]}",
        )
        + &format!("checks:\n  hostile:\n{check}");
    let path = stack.dir.path().join("webhook.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Items 1, 2, 3: a webhook that redirects (its `X-Api-Key` and the URL's `?token=` must not
/// travel or print), and webhook and Prometheus answers of 1 GiB.
#[tokio::test(flavor = "multi_thread")]
async fn webhook_and_prometheus_redirects_and_floods() {
    let stack = Stack::start().await;
    blue_live(&stack).await;
    let target = Hostile::start(|_, _| Reply::Fixed(200, vec![], b"true".to_vec())).await;
    let to = format!("{}/elsewhere", target.url);
    let redirecting =
        Hostile::start(move |_, _| Reply::Fixed(307, vec![("location", to.clone())], Vec::new()))
            .await;
    let flood = Hostile::start(|_, _| Reply::Stream {
        prefix: b"{\"status\": \"success\", \"data\": {\"resultType\": \"vector\", \"result\": ["
            .to_vec(),
        chunk: b"0,".repeat(32 * 1024),
        total: Some(1 << 30),
        content_length: false,
    })
    .await;
    let cases = [
        (
            "redirecting webhook",
            format!(
                "    webhook: {{url: '{}/hook?token={URL_TOKEN}', headers: {{X-Api-Key: '{API_KEY}'}}}}\n    consecutiveErrorLimit: 0\n",
                redirecting.url
            ),
            "redirecting to",
        ),
        (
            "1 GiB webhook answer",
            format!(
                "    webhook: {{url: '{}/hook?token={URL_TOKEN}', headers: {{X-Api-Key: '{API_KEY}'}}}}\n    consecutiveErrorLimit: 0\n",
                flood.url
            ),
            "larger than 1 MiB",
        ),
        (
            "1 GiB Prometheus answer",
            format!(
                "    prometheus: {{url: '{}', query: 'up'}}\n    successCondition: result > 0\n    consecutiveErrorLimit: 0\n",
                flood.url
            ),
            "larger than 8 MiB",
        ),
    ];
    for (what, check, expect) in cases {
        let plan = webhook_plan(&stack, &check);
        for json in [false, true] {
            let mut a = vec!["-vvv", "--timeout", "60s", "plan", "apply", "--yes"];
            if json {
                a.extend(["-o", "json"]);
            }
            let (out, kib, took) = measured_async(
                stack.dir.path().into(),
                env_for(&stack, &stack.sim.admin_url()),
                args(&a, &plan),
            )
            .await;
            let all = text(&out);
            report(what, &out, kib, took);
            assert_eq!(out.status.code(), Some(3), "{what}: {all}");
            assert!(all.contains(expect), "{what}: {all}");
            assert_clean(what, &out, &[TOKEN, API_KEY, URL_TOKEN]);
            assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
        }
        assert_eq!(stack.service_host().await, "address.v1.service", "{what}");
    }
    assert!(
        target.seen().is_empty(),
        "the redirect target was called: {:?}",
        target.seen()
    );
    let sent = redirecting.seen();
    assert!(
        sent.iter()
            .all(|s| s.headers.get("x-api-key").is_some_and(|v| v == API_KEY)),
        "the webhook itself got its header"
    );
}

/// Item 4: a header value that is exactly `${VAR}` stays a string: a long number is not a
/// type error that prints it, and leading zeros are sent as written.
#[tokio::test(flavor = "multi_thread")]
async fn header_values_from_variables_stay_strings() {
    let stack = Stack::start().await;
    let plan = blue_live(&stack).await;
    for token in ["98765432101234", "0042424242", "true"] {
        let sim = stack.sim.admin_url();
        let admin = Hostile::start(move |_, _| Reply::Forward(sim.clone())).await;
        let mut env = env_for(&stack, &admin.url);
        env.retain(|(k, _)| k != "KONG_ADMIN_TOKEN");
        env.push(("KONG_ADMIN_TOKEN".into(), token.into()));
        let (out, _, _) =
            measured_async(stack.dir.path().into(), env, args(&["status", "-f"], &plan)).await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{token}: {all}");
        assert!(!all.contains(token) || token == "true", "{token}: {all}");
        let sent: Vec<_> = admin
            .seen()
            .iter()
            .map(|s| {
                s.headers
                    .get("kong-admin-token")
                    .map(|v| v.to_str().unwrap().to_string())
            })
            .collect();
        assert!(
            !sent.is_empty() && sent.iter().all(|v| v.as_deref() == Some(token)),
            "{token}: {sent:?}"
        );
    }
}

/// Item 5: logs honour `--color never` and the terminal check (stderr is a pipe here).
#[tokio::test(flavor = "multi_thread")]
async fn logs_carry_no_colour_into_a_pipe() {
    let stack = Stack::start().await;
    let plan = blue_live(&stack).await;
    for colour in [&["--color", "never"][..], &[][..]] {
        let mut a = vec!["-vvv"];
        a.extend(colour);
        a.extend(["status", "-f"]);
        let (out, _, _) = measured_async(
            stack.dir.path().into(),
            env_for(&stack, &stack.sim.admin_url()),
            args(&a, &plan),
        )
        .await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(all.contains("DEBUG"), "logs are on at -vvv: {all}");
        assert!(
            !all.contains('\x1b'),
            "{colour:?}: colour in a pipe: {all:?}"
        );
    }
}

/// Item 8: a plan starting with a UTF-8 byte-order mark loads; header names that differ only
/// in case are rejected as duplicates; YAML tags other than `!!str` are rejected, not dropped.
#[tokio::test(flavor = "multi_thread")]
async fn plan_files_with_a_bom_duplicate_headers_or_tags() {
    let stack = Stack::start().await;
    let seed = std::fs::read_to_string(root().join("tests/plans/seed.yaml"))
        .unwrap()
        .replace("ACTIVE", "green");
    let cases = [
        // A BOM before `---` was read as a second document.
        ("bom.yaml", format!("\u{feff}---\n{seed}"), 0, "is a valid plan"),
        (
            "dup.yaml",
            seed.replace(
                "      Kong-Admin-Token: ${KONG_ADMIN_TOKEN:-}\n",
                "      Kong-Admin-Token: ${KONG_ADMIN_TOKEN:-}\n      kong-admin-token: other-value\n",
            ),
            2,
            "header `kong-admin-token` repeats `Kong-Admin-Token`",
        ),
        (
            "tag.yaml",
            seed.replace("name: address-service\nprovider", "name: !!binary YWRkcmVzcw==\nprovider"),
            2,
            "the YAML tag `!!binary` is not supported",
        ),
    ];
    for (name, body, code, expect) in cases {
        let path = stack.dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let mut cmd = stack.bgctl();
        cmd.env("KONG_ADMIN_TOKEN", TOKEN)
            .args(["plan", "validate"])
            .arg(&path);
        let out = crate::harness::run(cmd).await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(code), "{name}: {all}");
        assert!(all.contains(expect), "{name}: {all}");
        assert_clean(name, &out, &[TOKEN]);
    }
}

/// Item 2 (HAProxy): a runtime API that answers every command with 1 GiB, or with a short
/// reply that forges lines and sets the window title: exit 1, bounded memory, a short stderr
/// without control bytes or forged lines.
#[tokio::test(flavor = "multi_thread")]
async fn haproxy_runtime_api_floods_and_forgeries() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    for (what, reply, total) in [
        ("1 GiB reply", b"x x x x x x x\n".repeat(4096), GIB),
        (
            "forged reply",
            b"1\n\x1b]0;pwned\x07\x1b[2J\ndone: `blue` is live\nhint: all good\n".to_vec(),
            0,
        ),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    let (r, mut w) = s.into_split();
                    let mut line = String::new();
                    let _ = tokio::io::BufReader::new(r).read_line(&mut line).await;
                    let mut sent = 0u64;
                    loop {
                        if w.write_all(&reply).await.is_err() {
                            return;
                        }
                        sent += reply.len() as u64;
                        if sent >= total {
                            return;
                        }
                    }
                });
            }
        });
        let env = vec![("HAPROXY_RUNTIME_API".to_string(), format!("tcp://{addr}"))];
        let plan = root().join("plans/haproxy-blue-green.yaml");
        let (out, kib, took) = measured_async(
            dir.path().into(),
            env,
            args(&["status", "--timeout", "60s", "-f"], &plan),
        )
        .await;
        let all = text(&out);
        report(&format!("HAProxy {what}"), &out, kib, took);
        assert_clean(what, &out, &[]);
        assert!(
            !all.lines()
                .any(|l| l.starts_with("done:") || l.starts_with("hint: all good")),
            "{what}: a forged line: {all}"
        );
        assert!(
            out.stderr.len() < 64 * 1024,
            "{what}: {} bytes of stderr",
            out.stderr.len()
        );
        assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
        if total > 0 {
            assert_eq!(out.status.code(), Some(1), "{what}: {all}");
            assert!(all.contains("larger than 8 MiB"), "{what}: {all}");
        }
    }
}

/// Item 2 (Traefik): an API that answers every read with 1 GiB (announced or not) ends in exit
/// 1 within bounded memory, naming the cap: Traefik's answers go through the shared bounded
/// reader like Kong's.
#[tokio::test(flavor = "multi_thread")]
async fn traefik_api_floods() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("plans/traefik-blue-green.yaml");
    for content_length in [false, true] {
        let what = if content_length {
            "1 GiB answer with Content-Length"
        } else {
            "1 GiB answer, chunked"
        };
        let flood = Hostile::start(move |_, _| Reply::Stream {
            prefix: b"{\"weighted\": {\"services\": [{\"name\": \"".to_vec(),
            chunk: vec![b'x'; 64 * 1024],
            total: Some(GIB),
            content_length,
        })
        .await;
        let env = vec![
            ("TRAEFIK_API_URL".to_string(), flood.url.clone()),
            (
                "BGCTL_STATE_FILE".to_string(),
                dir.path().join("state.json").display().to_string(),
            ),
        ];
        let (out, kib, took) = measured_async(
            dir.path().into(),
            env,
            args(&["status", "--timeout", "60s", "-f"], &plan),
        )
        .await;
        let all = text(&out);
        report(&format!("Traefik {what}"), &out, kib, took);
        assert!(!flood.seen().is_empty(), "{what}: the API was not asked");
        assert_eq!(out.status.code(), Some(1), "{what}: {all}");
        assert!(all.contains("larger than 4 MiB"), "{what}: {all}");
        assert_clean(what, &out, &[]);
        assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
    }
}

/// Items 1 and 2 (Kubernetes): an API server that redirects gets no request through to the
/// target and no token out; one that answers 1 GiB ends in exit 1 within bounded memory.
#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_api_redirects_and_floods() {
    const KUBE_TOKEN: &str = "kube-sim-dummy-token";
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
    for m in std::fs::read_dir(root().join("plans/k8s")).unwrap() {
        let m = m.unwrap().path();
        std::fs::copy(&m, dir.path().join("k8s").join(m.file_name().unwrap())).unwrap();
    }
    let plan = dir.path().join("k8s-service-selector.yaml");
    std::fs::copy(root().join("plans/k8s-service-selector.yaml"), &plan).unwrap();
    let target = Hostile::start(|_, _| Reply::Fixed(200, vec![], b"{}".to_vec())).await;
    let to = format!("{}/stolen", target.url);
    let redirecting =
        Hostile::start(move |_, _| Reply::Fixed(307, vec![("location", to.clone())], Vec::new()))
            .await;
    let flood = Hostile::start(|_, _| Reply::Stream {
        prefix: b"{\"kind\": \"Service\", \"metadata\": {\"name\": \"".to_vec(),
        chunk: vec![b'x'; 64 * 1024],
        total: Some(GIB),
        content_length: false,
    })
    .await;
    for (what, server, expect) in [
        ("307 redirect", &redirecting, "HTTP 307 redirecting to"),
        ("1 GiB answer", &flood, "length limit exceeded"),
    ] {
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kube_sim::kubeconfig(&server.url)).unwrap();
        let (out, kib, took) = measured_async(
            dir.path().into(),
            vec![("KUBECONFIG".into(), kubeconfig.display().to_string())],
            args(&["-vvv", "status", "--timeout", "60s", "-f"], &plan),
        )
        .await;
        let all = text(&out);
        report(&format!("Kubernetes {what}"), &out, kib, took);
        assert!(all.contains(expect), "{what}: {all}");
        assert_eq!(out.status.code(), Some(1), "{what}: {all}");
        assert_clean(what, &out, &[KUBE_TOKEN]);
        assert!(kib < RSS_BOUND_KIB, "{what}: peak {kib} KiB");
        assert!(
            out.stderr.len() < 256 * 1024,
            "{what}: {} bytes of stderr",
            out.stderr.len()
        );
    }
    assert!(
        target.seen().is_empty(),
        "the redirect target was called: {:?}",
        target.seen()
    );
    assert!(!redirecting.seen().is_empty(), "the API server was asked");
}
