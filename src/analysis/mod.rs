//! Analysis: the checks that decide whether a release may continue, and the hooks run around
//! traffic changes.
//!
//! - [`condition`]: the `successCondition` language, parsed and validated when the plan loads.
//! - [`checks`]: the public entry points ([`checks::run_check`], [`checks::run_checks`]) and the
//!   explained [`checks::Verdict`]; one measurement source per file: [`prometheus`],
//!   [`webhook`], [`exec`], [`traffic`] (probe checks).
//! - [`policy`]: the pure verdict policy (`count`, `failureLimit`, `consecutiveErrorLimit`,
//!   `noData`).
//! - [`hooks`]: [`hooks::run_hook`] for `preSwitch`, `postSwitch` and `onRollback`.
//!
//! The engine owns *when* analysis runs and what a verdict does to the rollout; this module owns
//! measuring and judging, and never prints.

pub mod checks;
pub mod condition;
pub mod exec;
pub mod hooks;
pub mod policy;
pub mod prometheus;
pub mod traffic;
pub mod webhook;

pub use checks::{run_check, run_checks, CheckContext, Measurement, Outcome, ProxyTarget, Verdict};
pub use hooks::run_hook;
