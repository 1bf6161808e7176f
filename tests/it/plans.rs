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

/// The plan must not depend on providers (issue 12: the arrows point from providers to plan):
/// no file under `src/plan` names `crate::providers` or uses a `providers::` path in code.
#[test]
fn plan_modules_do_not_import_providers() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(&root().join("src/plan"), &mut files);
    assert!(files.len() >= 4, "src/plan has its modules: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            let is_comment = code.starts_with("//");
            if line.contains("crate::providers") || (!is_comment && line.contains("providers::")) {
                found.push(format!("{}:{}: {line}", file.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "src/plan imports providers:\n{}",
        found.join("\n")
    );
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

/// Relative paths in a plan resolve against the plan's folder, whatever the working directory
/// (issue 14 item 7: `tls.caFile` used to resolve against the working directory while
/// `manifest` and `kubeconfig` followed the plan); a CA file with no certificate in it is an
/// error naming the file, before any request.
#[test]
fn tls_files_resolve_against_the_plan_folder_and_an_empty_ca_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("release");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("ca.pem"), "not a certificate\n").unwrap();
    let text = std::fs::read_to_string(root().join("plans/kong-blue-green.yaml"))
        .unwrap()
        .replace(
            "    adminUrl: ",
            "    tls: {caFile: ca.pem}\n    adminUrl: ",
        );
    assert!(
        text.contains("caFile: ca.pem"),
        "the example plan has `adminUrl`"
    );
    std::fs::write(sub.join("plan.yaml"), text).unwrap();
    let out = bgctl(dir.path())
        .env("KONG_ADMIN_URL", "https://127.0.0.1:1")
        .args(["status", "--no-probe", "-f", "release/plan.yaml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        err.contains("holds no certificate") && err.contains("release/ca.pem"),
        "the error names the file beside the plan: {}",
        render(&out)
    );
}
