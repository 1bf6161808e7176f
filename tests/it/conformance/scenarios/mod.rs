//! The scenarios, each written once against [`Target`]; `conformance/mod.rs` runs every one on
//! every target. A scenario that needs a capability the target lacks asserts the refusal
//! instead ([`refused`]), so what a provider cannot do is said in one place (its `caps`).

pub mod anonymous;
pub mod basic;
pub mod canary;
pub mod faults;
pub mod header;
pub mod locks;
pub mod readback;
pub mod safety;

use std::path::PathBuf;

use super::run::{bgctl, bgctl_exit, p};
use super::target::{stderr, Cap, PlanSpec, Target};
use crate::harness::render;

/// The three-step canary of the matrices: 10 → 50 → 100, no gates.
pub const THREE_STEPS: &str = "[{setWeight: 10}, {setWeight: 50}, {setWeight: 100}]";
/// Two manual gates: 10 → gate → 50 → gate → 100.
pub const GATED: &str =
    "[{setWeight: 10}, {pause: {}}, {setWeight: 50}, {pause: {}}, {setWeight: 100}]";

/// Makes blue live with the blue-green plan (up to date where blue already serves); returns
/// that plan. The log is cleared afterwards.
pub async fn blue_live<T: Target>(t: &T) -> PathBuf {
    let blue = t.plan(&PlanSpec::blue_green("blue"));
    bgctl_exit(t, &["plan", "apply", "--yes", p(&blue)], 0).await;
    t.clear_log();
    blue
}

/// When the target lacks `cap`, asserts that bgctl refuses a plan that needs it (exit 2 from
/// validation, with the reason, and no write) and returns true: the scenario is done.
pub async fn refused<T: Target>(t: &T, cap: Cap) -> bool {
    if t.has(cap) {
        return false;
    }
    let plan = match cap {
        Cap::Canary => t.plan(&PlanSpec::canary(THREE_STEPS)),
        Cap::Proxy => anonymous::with_verify(&t.plan(&PlanSpec::blue_green("green")), ""),
        Cap::Targets | Cap::HeaderRoutes | Cap::Mirror => {
            unreachable!("refused in its own scenario (`header.rs`), or nothing to refuse")
        }
    };
    let reason = match cap {
        Cap::Canary => "cannot run a canary",
        Cap::Proxy => "proxy URL",
        Cap::Targets | Cap::HeaderRoutes | Cap::Mirror => {
            unreachable!("refused in its own scenario (`header.rs`), or nothing to refuse")
        }
    };
    let out = bgctl(t, &["plan", "validate", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(2), "{}: {}", t.name(), render(&out));
    assert!(
        stderr(&out).contains(reason),
        "{}: the refusal says why: {}",
        t.name(),
        render(&out)
    );
    t.clear_log();
    let out = bgctl(t, &["plan", "apply", "--yes", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(2), "{}: {}", t.name(), render(&out));
    assert!(
        t.writes().is_empty(),
        "{}: a refused plan wrote {:?}",
        t.name(),
        t.writes()
    );
    println!("{}: {cap:?} refused (exit 2)", t.name());
    true
}
