//! Hostile input (folded from `reliability.rs` §6, provider-independent): a proptest fuzzer
//! over plan parsing, interpolation and the condition language, peak memory on hostile plans,
//! and oversized or deeply nested plans through the real binary. `docs/reliability.md` has the
//! figures; the long fuzz run is `fuzz_long` (ignored).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::harness::{render, root};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

mod fuzz {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use bgctl::analysis::condition::{Condition, Value};
    use bgctl::plan::{load, parse_with_env, Limits};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use crate::harness::root;

    /// Slowest accepted single case (generous: debug build, 2 shared cores).
    const CASE_BOUND: Duration = Duration::from_secs(2);

    fn env(name: &str) -> Option<String> {
        match name {
            "KONG_ADMIN_URL" => Some("http://127.0.0.1:8001".into()),
            "KONG_PROXY_URL" => Some("http://127.0.0.1:8000".into()),
            "BLUE_1" | "BLUE_2" | "GREEN_1" | "GREEN_2" => Some("127.0.0.1:9000".into()),
            _ => None,
        }
    }

    fn valid_plans() -> Vec<String> {
        ["seed.yaml", "canary.yaml"]
            .iter()
            .map(|f| {
                std::fs::read_to_string(root().join("tests/plans").join(f))
                    .expect("plan")
                    .replace("ACTIVE", "blue")
            })
            .collect()
    }

    /// A valid plan with a few byte-level edits: deletions, insertions, duplicated slices.
    fn mutated_plan() -> impl Strategy<Value = Vec<u8>> {
        let plans = valid_plans();
        (
            0..plans.len(),
            proptest::collection::vec(
                (
                    0usize..4,
                    any::<usize>(),
                    any::<usize>(),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ),
                1..6,
            ),
        )
            .prop_map(move |(i, edits)| {
                let mut b = plans[i].clone().into_bytes();
                for (kind, a, c, ins) in edits {
                    let at = a % (b.len() + 1);
                    match kind {
                        0 => {
                            let end = (at + c % 16).min(b.len());
                            b.drain(at..end);
                        }
                        1 => {
                            b.splice(at..at, ins);
                        }
                        2 => {
                            let end = (at + c % 64).min(b.len());
                            let slice = b[at..end].to_vec();
                            b.splice(at..at, slice);
                        }
                        _ => {
                            // YAML-significant characters.
                            let ch = b"&*!|>-:{}[]%@`'\"#\n $"[c % 22];
                            b.splice(at..at, [ch]);
                        }
                    }
                }
                b
            })
    }

    fn timed<T>(what: &str, input: &dyn std::fmt::Debug, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        assert!(
            t.elapsed() < CASE_BOUND,
            "{what} took {:?} on {input:?}",
            t.elapsed()
        );
        out
    }

    /// Runs every fuzz target `cases` times; returns the number of executions.
    pub fn run(cases: u32) -> u64 {
        let mut total = 0u64;
        let limits = Limits::default();
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let file = Path::new("fuzz.yaml");

        // Plan parsing: arbitrary bytes, arbitrary text and mutated valid plans.
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
                let _ = timed("load_bytes", &bytes, || {
                    load::load_bytes(file, &bytes, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                Ok(())
            })
            .expect("plan parsing on arbitrary bytes");
        runner
            .run(&"(?s).{0,1024}", |text| {
                let _ = timed("parse_with_env", &text, || {
                    parse_with_env(file, &text, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                Ok(())
            })
            .expect("plan parsing on arbitrary text");
        runner
            .run(&mutated_plan(), |bytes| {
                let _ = timed("load_bytes", &String::from_utf8_lossy(&bytes), || {
                    load::load_bytes(file, &bytes, &env, &limits)
                        .map(|_| ())
                        .map_err(|e| e.details())
                });
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    let _ = timed("parse_with_env", &text, || {
                        parse_with_env(file, text, &env, &limits)
                            .map(|_| ())
                            .map_err(|e| e.details())
                    });
                }
                Ok(())
            })
            .expect("plan parsing on mutated plans");

        // Interpolation.
        runner
            .run(&"[${}:\\-a-zA-Z0-9_ ]{0,256}", |s| {
                let _ = timed("interpolate", &s, || {
                    load::interpolate(&s, &env).map(|_| ())
                });
                Ok(())
            })
            .expect("interpolation");

        // The condition language: token soup, nested parentheses, then evaluation.
        runner
            .run(&"[a-z0-9_.()<>=!&|+*/%µ -]{0,300}", |s| {
                if let Ok(c) = timed("Condition::parse", &s, || Condition::parse(&s)) {
                    let lookup = |_: &str| Some(Value::Vector(vec![1.0, f64::NAN, 0.5]));
                    let _ = timed("Condition::eval", &s, || {
                        c.eval(&lookup).map(|_| ()).map_err(|e| e.to_string())
                    });
                    let lookup = |_: &str| Some(Value::Number(0.25));
                    let _ = timed("Condition::eval", &s, || {
                        c.eval(&lookup).map(|_| ()).map_err(|e| e.to_string())
                    });
                }
                Ok(())
            })
            .expect("condition language");
        runner
            .run(
                &(0usize..5000, "[(!-]{1,3}", "[a-z0-9 <>=&|]{0,20}"),
                |(depth, open, inner)| {
                    let s = format!("{}{inner}{}", open.repeat(depth), ")".repeat(depth));
                    let _ = timed("Condition::parse", &s.len(), || {
                        Condition::parse(&s).map(|_| ()).map_err(|e| e.to_string())
                    });
                    Ok(())
                },
            )
            .expect("deeply nested conditions");
        total += u64::from(cases) * 7;
        total
    }
}

/// Fuzz smoke (fixed case count, seconds): no panic and no slow case in plan parsing,
/// interpolation and the condition language. The long run is `fuzz_long` (ignored).
#[test]
fn fuzz_smoke_plan_interpolation_and_conditions() {
    let t = Instant::now();
    let n = fuzz::run(1000);
    println!("fuzz smoke: {n} cases in {:.1}s", t.elapsed().as_secs_f64());
}

/// The long fuzz run recorded in docs/reliability.md: `cargo test --test it fuzz_long -- --ignored --nocapture`.
#[test]
#[ignore = "long run (minutes); see docs/reliability.md"]
fn fuzz_long() {
    let cases = std::env::var("BGCTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    let n = fuzz::run(cases);
    println!("fuzz long: {n} cases in {:.1}s", t.elapsed().as_secs_f64());
}

/// Peak memory (GNU time's maximum resident set size) of `bgctl plan validate` on each hostile
/// input stays within a fixed bound and a small multiple of validating an example plan, measured
/// in the same run: the input limits bound memory, whatever the input.
#[test]
fn hostile_plans_are_rejected_within_bounded_memory() {
    const BOUND_KIB: u64 = 160 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let at_limit = |name: &str, text: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // Just under the default 1 MiB limit: 20 000 environments in flow style.
    let mut wide = String::from("apiVersion: bgctl.dev/v1\nkind: Rollout\nenvironments:\n");
    let mut i = 0;
    while wide.len() < 1024 * 1024 - 100 {
        wide.push_str(&format!(
            "  e{i}: {{upstream: u{i}, targets: [{{target: \"10.0.0.1:80\"}}]}}\n"
        ));
        i += 1;
    }
    let mut anchors = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for n in 1..40 {
        let prev = n - 1;
        anchors.push_str(&format!(
            "a{n}: &a{n} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let bytes: Vec<u8> = (0..1024 * 1024 - 1)
        .map(|i: u32| u8::try_from((i.wrapping_mul(2_654_435_761) >> 24) & 0xff).unwrap())
        .collect();
    let inputs = [
        (
            "plans/kong-blue-green.yaml (baseline)",
            root().join("plans/kong-blue-green.yaml"),
            0,
        ),
        (
            "billion laughs (40 levels x 10)",
            at_limit("laughs.yaml", anchors.as_bytes()),
            2,
        ),
        (
            "100 000-deep flow nesting",
            at_limit(
                "deep.yaml",
                format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
            ),
            2,
        ),
        (
            "1 MiB of wide YAML",
            at_limit("wide.yaml", wide.as_bytes()),
            2,
        ),
        (
            "1 MiB of non-UTF-8 bytes",
            at_limit("bytes.yaml", &bytes),
            2,
        ),
        (
            "10 MiB file (over the limit)",
            at_limit("big.yaml", &vec![b'#'; 10 * 1024 * 1024]),
            2,
        ),
    ];
    let mut baseline = 0;
    for (what, path, code) in &inputs {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "maxrss_kib=%M"])
            .arg(assert_cmd::cargo::cargo_bin("bgctl"))
            .args(["plan", "validate"])
            .arg(path)
            .env("NO_COLOR", "1")
            .output()
            .expect("GNU time (scripts/test installs the `time` package)");
        let err = stderr(&out);
        let kib: u64 = err
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("maxrss_kib="))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{what}: no maxrss in {err}"));
        assert_eq!(out.status.code(), Some(*code), "{what}: {}", render(&out));
        if baseline == 0 {
            baseline = kib;
        }
        println!(
            "  {what}: exit {code}, peak {:.1} MiB ({:.1}x the example plan)",
            kib as f64 / 1024.0,
            kib as f64 / baseline as f64
        );
        assert!(kib < BOUND_KIB, "{what}: peak {kib} KiB");
    }
}

/// Black box: larger than `--max-plan-bytes`, and deeper than the nesting limit: clean exit 2
/// with no request. (Non-UTF-8 and billion laughs are `tests/plans/invalid/25` and `27`, run by
/// `plans::broken_plans_fail_with_located_messages`.)
#[test]
fn oversized_and_deeply_nested_plans_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let seed = root().join("tests/plans/seed.yaml");
    let out = crate::harness::bgctl(dir.path())
        .args(["--max-plan-bytes", "100", "plan", "validate"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(
        stderr(&out).contains("the limit is 100") && stderr(&out).contains("--max-plan-bytes"),
        "{}",
        render(&out)
    );

    let deep = dir.path().join("deep.yaml");
    std::fs::write(
        &deep,
        format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    let deep_map = dir.path().join("deep-map.yaml");
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&" ".repeat(i));
        text.push_str("k:\n");
    }
    std::fs::write(&deep_map, text).unwrap();
    for file in [&deep, &deep_map] {
        let t = Instant::now();
        let out = crate::harness::bgctl(dir.path())
            .args(["plan", "validate"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", render(&out));
        let err = stderr(&out);
        assert!(
            err.contains("nest") || err.contains("recursion limit"),
            "{}",
            render(&out)
        );
        assert!(!stderr(&out).contains("panicked"));
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }
}
