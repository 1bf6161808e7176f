//! Plan files: every example in `plans/` validates; every broken plan in
//! `tests/plans/invalid/` fails with exit 2 and a message pinned by a snapshot; an invalid plan
//! makes zero Admin API requests even when `apply` is pointed at a live Kong.

use crate::harness::{bgctl, render, root, run, Stack};

#[test]
fn every_example_plan_validates() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("plans"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "plans/ has the demo and the seed plan at least"
    );
    let out = bgctl(&root())
        .args(["plan", "validate"])
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", render(&out));
}

fn invalid_plans() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/plans/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn broken_plans_fail_with_located_messages() {
    let files = invalid_plans();
    assert!(files.len() >= 20, "the corpus has at least 20 broken plans");
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let rel = file.strip_prefix(root()).unwrap().to_path_buf();
        let out = bgctl(&root())
            .env("KONG_ADMIN_URL", "http://127.0.0.1:9")
            .args(["plan", "validate"])
            .arg(&rel)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {}", render(&out));
        insta::assert_snapshot!(format!("invalid-{name}"), render(&out));
    }
}

/// Nothing is written before the whole plan validated: `apply` of each broken plan against a
/// live simulator makes no request at all.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_plans_make_no_requests() {
    let stack = Stack::start().await;
    for file in invalid_plans() {
        let mut cmd = stack.bgctl();
        cmd.args(["plan", "apply", "--yes"]).arg(&file);
        let out = run(cmd).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            file.display(),
            render(&out)
        );
    }
    assert!(
        stack.sim.requests().is_empty(),
        "requests were made: {:?}",
        stack.sim.requests()
    );
}
