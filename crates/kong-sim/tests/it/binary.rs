//! The `kong-sim` binary: announced addresses, the two commands, clean SIGTERM shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, Vec<String>, usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kong-sim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // `serve` announces an admin and a proxy line per node, then the control port.
    let nodes = args
        .iter()
        .position(|a| *a == "--nodes")
        .map_or(1, |i| args[i + 1].parse::<usize>().unwrap());
    let expected = if args[0] == "serve" { 2 * nodes + 1 } else { 1 };
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..expected {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    (child, lines, expected)
}

fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn url_of(line: &str, prefix: &str) -> String {
    let url = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:?} starts with {prefix:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(
        url.rsplit(':').next().unwrap().parse::<u16>().unwrap() > 0,
        "{line}"
    );
    url.to_string()
}

#[tokio::test]
async fn serve_announces_and_stops_on_sigterm() {
    let (child, lines, _) = spawn(&[
        "serve",
        "--version",
        "3.4.2",
        "--admin-token",
        "t0k",
        "--propagation-delay",
        "0ms",
    ]);
    let admin = url_of(&lines[0], "admin ");
    url_of(&lines[1], "proxy ");
    let control = url_of(&lines[2], "control ");
    let http = crate::harness::client();
    let r = http
        .get(format!("{admin}/"))
        .header("kong-admin-token", "t0k")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["version"],
        "3.4.2"
    );
    assert_eq!(
        http.get(format!("{admin}/")).send().await.unwrap().status(),
        401
    );
    let log: serde_json::Value = http
        .get(format!("{control}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 2);
    terminate(child);
}

#[tokio::test]
async fn backend_announces_and_answers() {
    let (child, lines, _) = spawn(&[
        "backend",
        "--name",
        "green",
        "--latency",
        "1ms",
        "--error-rate",
        "0",
    ]);
    let url = url_of(&lines[0], "backend green ");
    let r = crate::harness::client()
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-backend"], "green");
    terminate(child);
}

#[tokio::test]
async fn serve_runs_several_nodes_with_their_own_delays() {
    let (child, lines, _) = spawn(&[
        "serve",
        "--nodes",
        "2",
        "--db-less",
        "--propagation-delay",
        "0ms,2s",
    ]);
    let admins = [url_of(&lines[0], "admin "), url_of(&lines[1], "admin ")];
    url_of(&lines[2], "proxy ");
    url_of(&lines[3], "proxy ");
    url_of(&lines[4], "control ");
    assert_ne!(admins[0], admins[1]);
    let http = crate::harness::client();
    for admin in &admins {
        let root: serde_json::Value = http
            .get(format!("{admin}/"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(root["configuration"]["database"], "off");
    }
    terminate(child);
}

#[test]
fn serve_refuses_lists_that_do_not_fit_the_node_count() {
    for args in [
        &["serve", "--nodes", "3", "--propagation-delay", "0ms,1s"][..],
        &["serve", "--nodes", "2", "--admin", "127.0.0.1:18999"][..],
        &["serve", "--admin", "127.0.0.1:0,127.0.0.1:0"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kong-sim"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--nodes") || stderr.contains("shared by"),
            "{stderr}"
        );
    }
}
