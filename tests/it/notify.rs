//! Notifications (issue 17 item 5) through the real binary: a local webhook receiver gets the
//! documented payloads for a completed canary and for an automatic rollback, and receivers
//! that refuse or hang neither change the exit code nor hold the release up beyond their
//! bounded timeouts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use crate::harness::{render, run, Stack};

type Got = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

/// A receiver on 127.0.0.1:0 recording `(path, Authorization, body)` of each POST.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let record = |path: &'static str, got: Got| {
        post(
            move |headers: HeaderMap, Json(body): Json<Value>| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                got.lock().unwrap().push((path.to_string(), auth, body));
                "ok"
            },
        )
    };
    let app = Router::new()
        .route("/hook", record("/hook", got.clone()))
        .route("/slack", record("/slack", got.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

const NOTIFY: &str = r#"
notifications:
  - webhook:
      url: "${HOOK_URL}/hook"
      headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
  - slack: {webhookUrl: "${HOOK_URL}/slack"}
    on: [completed, rolledBack]
"#;

const TOKEN: &str = "s3cret-hook-token-42";

/// The canary plan without gates or pauses (10%, 50%, 100%), roles left to `release`, with
/// `extra` appended.
fn canary_plan(stack: &Stack, extra: &str) -> String {
    let plan = stack.plan_from(
        "canary.yaml",
        &[
            ("    stable: blue\n    canary: green\n", ""),
            ("      - pause: {}\n", ""),
            ("      - pause: {duration: \"${PAUSE:-0s}\"}\n", ""),
        ],
    );
    let mut text = std::fs::read_to_string(&plan).unwrap();
    text.push_str(extra);
    std::fs::write(&plan, text).unwrap();
    plan.to_str().unwrap().to_string()
}

async fn blue_live(stack: &Stack) {
    let seed = stack.plan("blue");
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "-f", seed.to_str().unwrap(), "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
}

fn release(stack: &Stack, file: &str, hook: &str) -> assert_cmd::Command {
    let mut cmd = stack.bgctl();
    cmd.env("HOOK_URL", hook)
        .env("HOOK_TOKEN", TOKEN)
        .env("GITHUB_ACTOR", "alice")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", "99")
        .args(["release", "-f", file, "--yes"]);
    cmd
}

fn bodies(got: &Got, path: &str) -> Vec<Value> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|(p, _, _)| p == path)
        .map(|(_, _, b)| b.clone())
        .collect()
}

/// A completed canary: the webhook gets `started` then `completed` with the documented fields
/// and its secret header; Slack (filtered to `completed`/`rolledBack`) gets one text; the
/// secret is printed nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_completed_canary_sends_started_and_completed() {
    let stack = Stack::start().await;
    let (hook, got) = receiver().await;
    let file = canary_plan(&stack, NOTIFY);
    blue_live(&stack).await;

    let out = run(release(&stack, &file, &hook)).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let all = format!("{}{}", render(&out), String::from_utf8_lossy(&out.stdout));
    assert!(
        !all.contains(TOKEN),
        "the header secret was printed:\n{all}"
    );

    let hooks = bodies(&got, "/hook");
    let events: Vec<&str> = hooks.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["started", "completed"], "{hooks:#?}");
    for b in &hooks {
        assert_eq!(b["rollout"], "address-service");
        assert_eq!(b["command"], "release");
        assert_eq!(
            (&b["from"], &b["to"]),
            (&"blue".into(), &"green".into()),
            "{b}"
        );
        assert_eq!(b["who"], "alice");
        assert_eq!(b["link"], "https://github.com/acme/shop/actions/runs/99");
        assert_eq!(b["steps"], 3);
        assert!(b["verdicts"].is_array() && b["run"].is_string() && b["at"].is_string());
    }
    assert_eq!(
        (&hooks[0]["phase"], &hooks[0]["weight"]),
        (&"progressing".into(), &10.0.into())
    );
    assert_eq!(
        (&hooks[1]["phase"], &hooks[1]["step"]),
        (&"completed".into(), &3.into())
    );
    let auth: Vec<Option<String>> = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _, _)| p == "/hook")
        .map(|(_, a, _)| a.clone())
        .collect();
    assert!(
        auth.iter()
            .all(|a| a.as_deref() == Some(&format!("Bearer {TOKEN}")[..])),
        "{auth:?}"
    );

    let slack = bodies(&got, "/slack");
    assert_eq!(slack.len(), 1, "{slack:?}");
    let text = slack[0]["text"].as_str().unwrap();
    assert!(
        text.contains("address-service") && text.contains("completed") && text.contains("alice"),
        "{text}"
    );
}

/// A canary whose verification fails is rolled back (exit 3): the webhook gets `started` and
/// `rolledBack` with the reason; Slack gets the rollback.
#[tokio::test(flavor = "multi_thread")]
async fn an_automatic_rollback_sends_rolled_back_with_the_reason() {
    let stack = Stack::start().await;
    let (hook, got) = receiver().await;
    let file = canary_plan(&stack, NOTIFY);
    blue_live(&stack).await;
    for green in &stack.backends[2..] {
        green.set_error_rate(1.0);
    }

    let out = run(release(&stack, &file, &hook)).await;
    assert_eq!(out.status.code(), Some(3), "{}", render(&out));
    let hooks = bodies(&got, "/hook");
    let events: Vec<&str> = hooks.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["started", "rolledBack"], "{hooks:#?}");
    let rb = &hooks[1];
    assert_eq!(
        (&rb["from"], &rb["to"], &rb["phase"]),
        (&"blue".into(), &"green".into(), &"rolled-back".into())
    );
    assert!(
        !rb["reason"].as_str().unwrap_or_default().is_empty(),
        "{rb}"
    );
    let slack = bodies(&got, "/slack");
    assert_eq!(slack.len(), 1, "{slack:?}");
    assert!(
        slack[0]["text"].as_str().unwrap().contains("rolledBack"),
        "{slack:?}"
    );
}

/// A receiver on a closed port and one that accepts and never answers: the release exits 0
/// as without them, each failure is reported (text and `notified` events), and the time they
/// add is bounded by `timeout` × attempts per transition.
#[tokio::test(flavor = "multi_thread")]
async fn dead_receivers_do_not_change_the_exit_code_and_add_bounded_time() {
    let stack = Stack::start().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging_addr = hanging.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let keep = accepted.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = hanging.accept().await {
            keep.lock().unwrap().push(sock);
        }
    });
    let extra = format!(
        "
notifications:
  - webhook: {{url: \"http://{closed}/hook\"}}
    timeout: 500ms
    retries: 1
  - webhook: {{url: \"http://{hanging_addr}/hook\"}}
    timeout: 500ms
    retries: 1
"
    );
    let plan = stack.plan("blue");
    let mut text = std::fs::read_to_string(&plan).unwrap();
    text.push_str(&extra);
    std::fs::write(&plan, text).unwrap();
    let file = plan.to_str().unwrap();
    let mut cmd = stack.bgctl();
    cmd.args(["plan", "apply", "-f", file, "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));

    let started = Instant::now();
    let mut cmd = stack.bgctl();
    cmd.args(["release", "-f", file, "--yes", "-o", "json"]);
    let out = run(cmd).await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["event"] == "notified")
        .collect();
    // started and completed, to each of the two receivers; none delivered, two attempts each.
    assert_eq!(events.len(), 4, "{events:#?}");
    for e in &events {
        assert_eq!(
            (&e["ok"], &e["attempts"]),
            (&false.into(), &2.into()),
            "{e}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["detail"].as_str().unwrap().contains("no answer within")),
        "{events:#?}"
    );
    assert!(
        !accepted.lock().unwrap().is_empty(),
        "the hanging receiver was never reached"
    );
    // 2 transitions × (2 × 500ms + 250ms backoff) at most, beside a release of about a second.
    assert!(
        took < Duration::from_secs(12),
        "the dead receivers held the release up: {took:?}"
    );

    // Text mode says so on stderr, and still exits 0.
    let mut cmd = stack.bgctl();
    cmd.args(["release", "-f", file, "--yes"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notification `completed` to webhook") && err.contains("the release goes on"),
        "{err}"
    );
}
