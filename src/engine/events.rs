//! The events the engine emits. Every renderer (text lines, progress spinners, `-o json`
//! newline-delimited events) consumes this one stream; the engine itself never prints.

use schemars::JsonSchema;
use serde::Serialize;

use super::step::{Step, Waiting};
use crate::probe::TargetHealth;
use crate::providers::{Change, LockInfo, Traffic};

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The live state was read.
    Observed {
        /// Rollout name.
        rollout: String,
        /// Provider description.
        provider: String,
        /// Where traffic goes now.
        traffic: Traffic,
    },
    /// The steps this run will make, each with its writes. In a dry run (`plan diff`,
    /// `--dry-run`) this is the run's output.
    Planned {
        /// The steps, in order.
        steps: Vec<Step>,
        /// Nothing will be written: this is a preview.
        dry_run: bool,
    },
    /// Nothing differs from the plan.
    UpToDate {
        /// Where traffic goes.
        traffic: Traffic,
    },
    /// The lock was taken.
    LockAcquired {
        /// Who holds it now.
        holder: String,
    },
    /// A stale or forced lock was broken.
    LockBroken {
        /// The previous holder.
        previous: LockInfo,
    },
    /// The lock was released.
    LockReleased,
    /// One write is about to be made.
    Write {
        /// The change.
        change: Change,
    },
    /// Probing a side started.
    ProbeStarted {
        /// Environment.
        env: String,
        /// Targets probed.
        targets: usize,
    },
    /// One target's verdict.
    ProbeResult {
        /// Environment.
        env: String,
        /// The verdict.
        health: TargetHealth,
    },
    /// Probing finished.
    ProbeDone {
        /// Environment.
        env: String,
        /// Healthy targets.
        healthy: usize,
        /// Unhealthy targets.
        unhealthy: usize,
    },
    /// Traffic moved.
    TrafficSet {
        /// Before.
        from: Traffic,
        /// After.
        to: Traffic,
    },
    /// A data-plane sample.
    VerifySample {
        /// Expected share of the target side, percent.
        expected: f64,
        /// Observed share, percent.
        observed: f64,
        /// Requests sent.
        requests: u32,
        /// Responses by side.
        by_side: Vec<SideCount>,
        /// Failed requests (socket errors and 5xx).
        failed: u32,
        /// Answers below 500 that named no side (no identity header, or a value no
        /// `identity` matches).
        unidentified: u32,
        /// The node's proxy URL when the plan lists several (`proxyUrls`).
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// The sample through the proxy taken before the first traffic change (the health
    /// baseline verification compares with).
    VerifyBaseline {
        /// Requests sent.
        requests: u32,
        /// Failed requests (socket errors and 5xx).
        failed: u32,
        /// Answers below 500 that named no side.
        unidentified: u32,
        /// What was seen.
        detail: String,
    },
    /// Verification finished.
    Verified {
        /// Passed.
        ok: bool,
        /// Whether the split itself was checked (answers named their side); false: health
        /// only, and `detail` says why the split was not verifiable.
        split: bool,
        /// Explanation with the measured value.
        detail: String,
    },
    /// Every place that serves traffic reports this run's writes, or does not within the
    /// deadline ([`crate::providers::Provider::settled`]: Kong hybrid mode's data planes, by
    /// their own reports to the control plane — not a check of answers through a proxy,
    /// which `verified` is).
    Settled {
        /// All of them did.
        ok: bool,
        /// Which, with the measured values (configuration hash, last report).
        detail: String,
    },
    /// A rollback started.
    RollingBack {
        /// Why.
        reason: String,
        /// To which environment.
        to: String,
    },
    /// A temporary object was removed.
    CleanedUp {
        /// What.
        object: String,
    },
    /// A canary step begins.
    Step {
        /// 0-based index.
        index: usize,
        /// Number of steps.
        total: usize,
        /// What the step does, e.g. `setWeight 10`.
        description: String,
    },
    /// A canary weight was applied: requested and achieved share.
    Weight {
        /// Requested canary percent.
        requested: f64,
        /// Achieved with integer weights.
        achieved: f64,
    },
    /// The rollout waits (a timed pause or a manual gate).
    Paused {
        /// 0-based step index.
        step: usize,
        /// What it waits for.
        waiting: Waiting,
        /// Seconds left for a timed pause.
        #[serde(skip_serializing_if = "Option::is_none")]
        remaining_secs: Option<u64>,
    },
    /// A signal arrived.
    Interrupted {
        /// What bgctl does about it.
        action: String,
    },
    /// Analysis began.
    AnalysisStarted {
        /// `prePromotion`, `postPromotion`, `step 3` or `background`.
        stage: String,
        /// Check names.
        checks: Vec<String>,
    },
    /// One measurement of a check.
    Measurement {
        /// Check name.
        check: String,
        /// The measurement with its value.
        measurement: crate::analysis::Measurement,
    },
    /// A check's verdict, with what was asked, the measured value, the condition and the limit.
    Verdict {
        /// Where in the rollout.
        stage: String,
        /// The verdict.
        verdict: crate::analysis::Verdict,
    },
    /// A hook ran.
    Hook {
        /// `preSwitch`, `postSwitch` or `onRollback`.
        kind: String,
        /// Whether it passed.
        ok: bool,
        /// Exit code or HTTP status and a short output.
        detail: String,
    },
    /// A notification was sent (or could not be): never fatal to the run.
    Notified {
        /// The transition (`started`, `completed`, `rolledBack`, …).
        transition: String,
        /// `webhook` or `slack`.
        kind: String,
        /// The receiver, printable (no query or userinfo; Slack's URL is hidden).
        target: String,
        /// Whether it was delivered (a 2xx answer).
        ok: bool,
        /// Attempts made.
        attempts: u32,
        /// The last answer or error.
        detail: String,
    },
    /// A non-fatal problem.
    Warning {
        /// What.
        message: String,
    },
    /// The run finished.
    Done {
        /// Summary.
        summary: String,
    },
}

/// How many sampled responses one side answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SideCount {
    /// Environment.
    pub env: String,
    /// Responses it answered.
    pub responses: u32,
}

/// Receives events and answers the engine's questions. Implemented by the UI.
pub trait Reporter: Send + Sync {
    /// An event happened.
    fn event(&self, event: &Event);
    /// Asks a yes/no question on a terminal. Only called when the run is interactive.
    fn confirm(&self, question: &str) -> bool;
}

/// A reporter that collects events (tests, the demo's summary).
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: &Event) {
        self.0.lock().expect("collect lock").push(event.clone());
    }
    fn confirm(&self, _: &str) -> bool {
        false
    }
}
