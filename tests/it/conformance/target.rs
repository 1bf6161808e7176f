//! What a scenario needs from the system under test: the [`Target`] trait, its capabilities and
//! the plan a scenario asks for. A target starts its system on 127.0.0.1, writes the plan for a
//! scenario, reads where traffic goes from the system's own state (never from the backends
//! naming themselves), lists the writes bgctl made (from the system's request log, or from a
//! recording proxy in front of a real process), and arms a fault on exactly one write.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Something a target may not be able to do. A scenario that needs a missing capability asserts
/// the refusal instead ([`crate::conformance::scenarios::refused`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cap {
    /// The traffic object can split traffic: canaries, gates, abort, analysis.
    Canary,
    /// A data plane bgctl can send sample requests through (`proxyUrl`): verification. The
    /// target serves its backends itself ([`Target::backends`]).
    Proxy,
    /// An environment lists the addresses bgctl writes into the system (Kong targets, HAProxy
    /// servers, Traefik server URLs). Kubernetes names a Deployment instead, and bgctl never
    /// writes the serving side's objects there.
    Targets,
    /// `setHeaderRoute` steps: requests carrying a header reach the canary first
    /// (`scenarios/header.rs`).
    HeaderRoutes,
    /// `setMirrorRoute` steps: a copy of matching requests also goes to the canary
    /// (`scenarios/header.rs`, its crash matrix).
    Mirror,
}

/// Where traffic goes, read from the system (not from `bgctl status`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Traffic {
    /// Nothing is configured yet (a fresh Kong or Traefik).
    Missing,
    Blue,
    Green,
    /// A canary split: percent of traffic to green.
    Split(f64),
}

/// Which rollout the plan describes.
#[derive(Clone, Debug)]
pub enum Strategy {
    /// `strategy.blueGreen.activeEnvironment`.
    BlueGreen(&'static str),
    /// `strategy.canary` blue → green with these steps (a YAML flow list).
    Canary(String),
}

/// The plan a scenario asks for; each target renders it in its provider's terms.
#[derive(Clone, Debug)]
pub struct PlanSpec {
    pub strategy: Strategy,
    /// Extra provider settings (`key: value` lines under `provider.<kind>`), where the target
    /// has them (`requestTimeout`, `lockTtl`).
    pub provider: Vec<String>,
    /// Top-level YAML appended as is (`checks:`, `hooks:`).
    pub extra: String,
    /// One more target of blue at this address (`host:port`), where the target has
    /// [`Cap::Targets`].
    pub extra_blue_target: Option<String>,
    /// No `proxyUrl`: no data-plane verification, so reading the target back is the only
    /// check a write gets (Kubernetes plans have none anyway).
    pub no_proxy: bool,
}

impl PlanSpec {
    pub fn blue_green(active: &'static str) -> PlanSpec {
        PlanSpec {
            strategy: Strategy::BlueGreen(active),
            provider: Vec::new(),
            extra: String::new(),
            extra_blue_target: None,
            no_proxy: false,
        }
    }

    pub fn canary(steps: &str) -> PlanSpec {
        PlanSpec {
            strategy: Strategy::Canary(steps.to_string()),
            provider: Vec::new(),
            extra: String::new(),
            extra_blue_target: None,
            no_proxy: false,
        }
    }

    pub fn with_extra(mut self, yaml: &str) -> PlanSpec {
        self.extra.push_str(yaml);
        self
    }

    /// The `strategy:` section (and `extra`) as YAML; `canary_extra` is added inside `canary:`.
    pub fn tail(&self, canary_extra: &str) -> String {
        let mut s = self.extra.clone();
        match &self.strategy {
            Strategy::BlueGreen(active) => {
                s.push_str(&format!(
                    "strategy:\n  blueGreen:\n    activeEnvironment: {active}\n"
                ));
            }
            Strategy::Canary(steps) => {
                s.push_str(&format!(
                    "strategy:\n  canary:\n    stable: blue\n    canary: green\n    steps: {steps}\n{canary_extra}"
                ));
            }
        }
        s
    }
}

/// Where the routing object sends one request ([`Target::routed_by_object`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectRoute {
    /// Effective weight of blue's and of green's backend in the chosen rule.
    pub blue: u64,
    pub green: u64,
    /// Index of the chosen rule, and whether bgctl owns it (its name or the owned-routes
    /// annotation says so).
    pub rule: usize,
    pub owned: bool,
}

/// One write bgctl made, as the target's log shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub method: String,
    pub path: String,
    /// Answered (false: pending, or its connection was cut).
    pub answered: bool,
}

impl Write {
    /// What two runs' writes are compared by (ids and ports differ between systems).
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// How many writes right after write `k` of `reference` may be in flight or answered while
/// write `k` is pending: bgctl makes the writes of one wave (an upstream's targets) several at
/// a time, so the run after `k` of writes like it (same key) may overtake it; anything else
/// must wait for it.
pub fn wave_siblings(reference: &[Write], k: usize) -> usize {
    let key = reference[k].key();
    reference[k + 1..]
        .iter()
        .take_while(|w| w.key() == key)
        .count()
}

/// A fault on exactly one write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fault {
    /// The write never reaches the system and gets no answer (the test then SIGKILLs bgctl).
    Hang,
    /// The write is carried out, then the connection is reset instead of answering.
    LoseAnswer,
    /// The write is answered as a success showing the object as it was, and not carried out.
    AnswerWithoutApplying,
    /// A proxy in between turned the write into a read of the same object (HTTP: a GET, its
    /// body dropped); the system answers that read and nothing is written.
    TurnIntoGet,
}

/// A provider (and router) the suite runs over. Methods are `async` where they read the system.
pub trait Target: Sized {
    /// Starts the system in its initial state: nothing managed yet, blue serving where the
    /// system cannot be empty (Kubernetes objects, HAProxy's configuration).
    async fn start() -> Self;

    fn caps(&self) -> &'static [Cap];

    /// The name in the figures (`kong`, `k8s-selector`, …).
    const NAME: &'static str;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn has(&self, cap: Cap) -> bool {
        self.caps().contains(&cap)
    }

    /// The temp dir the runs use (plans, outputs).
    fn dir(&self) -> &Path;

    /// Environment for `bgctl` (besides PATH, NO_COLOR, USER).
    fn env(&self) -> Vec<(String, String)>;

    /// Writes the plan for `spec` into the temp dir and returns its path.
    fn plan(&self, spec: &PlanSpec) -> PathBuf;

    /// The lock file / lease / lock object exists (bgctl's lock, read from the system).
    async fn lock_present(&self) -> bool;

    /// Where traffic goes.
    async fn traffic(&self) -> Traffic;

    /// The writes since the last [`Target::clear_log`], in order.
    fn writes(&self) -> Vec<Write>;

    fn clear_log(&self);

    /// Arms `fault` on write `k` of `reference` (a complete run's writes).
    fn arm(&self, reference: &[Write], k: usize, fault: Fault);

    /// The armed fault has been met (a hung write is pending, a lost answer was given).
    fn fault_met(&self, reference: &[Write], k: usize, fault: Fault) -> bool;

    fn clear_faults(&self);

    /// The app backends of `env` (`blue`, `green`) that this target started, so a scenario can
    /// make them fail or stop naming themselves; empty where the target runs none.
    fn backends(&self, _env: &str) -> Vec<&kong_sim::Backend> {
        Vec::new()
    }

    /// The data plane's URL and the `Host` the plan's route matches, where the target serves
    /// its backends itself: a scenario sends its own requests through it.
    fn data_plane(&self) -> Option<(String, &'static str)> {
        None
    }

    /// The header routes (and their objects) bgctl owns in the system now, read from the
    /// system; empty where the target has none.
    async fn owned_routes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether the system compares header values case-insensitively for an `exact` header
    /// route (Kong lower-cases both sides), so `X-Canary: YES` matches `exact: "yes"`; Traefik
    /// compares them byte for byte.
    fn header_values_ignore_case(&self) -> bool {
        true
    }

    /// Where a request carrying `X-Canary: <header>` (none: without it) would go, read from the
    /// routing object the system holds, for targets without a data plane (Kubernetes, through
    /// kube-sim's evaluator); `None` where the target has a data plane to send requests through.
    async fn routed_by_object(&self, _header: Option<&str>) -> Option<ObjectRoute> {
        None
    }

    /// Whether `w` writes the traffic object (and so also the record kept with it): Kong's
    /// service, a Kubernetes traffic object, an HAProxy server of the plan, Traefik's
    /// configuration.
    fn is_traffic_write(&self, w: &Write) -> bool;

    /// Makes green answer every request but `/health` with 500 (`on`), so probes pass and the
    /// data-plane verification through the proxy fails; false where the plan has no
    /// verification through a proxy (Kubernetes: the read-back is the verification).
    fn fail_green_requests(&self, _on: bool) -> bool {
        false
    }

    /// The lock can exist before its holder is written (HAProxy: `add server`, then `set var`):
    /// `status` may then show it with an unknown holder.
    fn lock_may_be_anonymous(&self) -> bool {
        false
    }

    /// Makes green's backends answer every request with a 500 (`failing`), or heals them;
    /// false where the plan verifies no data plane (Kubernetes: bgctl sees no proxy), so a
    /// scenario must make verification fail another way (a failing post-switch check).
    fn fail_green(&self, _failing: bool) -> bool {
        false
    }

    /// Refuses the next write to the traffic object (403, not carried out, not retried by
    /// bgctl); false where the target cannot (its writes are retried after any fault the
    /// suite can inject).
    fn refuse_next_traffic_write(&self) -> bool {
        false
    }

    /// Provider-specific checks of `bgctl status -o json` against the system (orphans, lock
    /// holder); the common ones are in [`crate::conformance::run::assert_status_truthful`].
    async fn check_status(&self, _st: &Value, _ctx: &str) {}

    /// After a SIGKILL, before recovery (e.g. an owed retirement is shown as pending).
    async fn after_kill(&self, _st: &Value, _ctx: &str) {}

    /// After a run under a fault ended (its output): provider-specific contract checks.
    async fn after_faulted_run(&self, _spec: &PlanSpec, _out: &std::process::Output, _ctx: &str) {}

    /// After `rollback`/`abort` restored blue.
    async fn after_restore(&self, _ctx: &str) {}

    /// After converging to the end state; `lock_left` when a killed run's lock may stay
    /// (an up-to-date apply takes no lock). Returns a note for the figures.
    async fn after_converge(
        &self,
        _lock_left: bool,
        _out: &std::process::Output,
        _ctx: &str,
    ) -> String {
        String::new()
    }
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
