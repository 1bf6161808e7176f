//! One conformance suite over every provider (issue 12): each scenario is written once against
//! [`target::Target`] (`scenarios/`), and [`suite!`] runs every scenario on every target, one
//! `#[test]` each, named `conformance::<target>::<scenario>` — so `cargo test conformance::kong::`
//! runs one provider and `cargo test ::switch` one scenario everywhere.
//!
//! Targets (`targets/`), all driven through the real binary on 127.0.0.1:
//! * `kong` — kong-sim (request log and fault rules built in);
//! * `kong_dbless` — two DB-less kong-sim nodes, every write a `POST /config` per node;
//! * `k8s_selector`, `k8s_gateway_api`, `k8s_contour_weights`, `k8s_contour_includes`,
//!   `k8s_istio` — kube-sim, once per router;
//! * `haproxy`, `traefik` — the real processes, their management API behind a recording,
//!   fault-injecting proxy ([`fault_proxy`]) so they get the same write log and faults.
//!
//! What a target cannot do is one list, its `caps()`; a scenario that needs a missing
//! capability asserts bgctl's refusal instead (exit 2 from plan validation with the reason, no
//! write), so the test still runs and can fail.
//!
//! The in-memory `Fake` provider (`src/providers/fake.rs`) is not here: the binary cannot reach
//! it (no plan selects it), and it exists for the engine's unit tests, which drive the same
//! steps through the library. Running these scenarios on it would need a second, library-level
//! runner for every scenario; the engine tests cover it instead.
//!
//! A scenario that fails on a target because of a known bug is ignored there with the bug as
//! the reason, in one place ([`case!`]); `cargo test conformance:: -- --ignored` runs those.
//!
//! Checks that only make sense for one provider (its retry rules, TLS, answers only its API can
//! give, named fault points) are in `kong_only` and `k8s_only`, folded from the former
//! `reliability.rs` and `reliability_k8s.rs` together with the crash and lost-answer matrices,
//! which are now `scenarios/faults.rs`.
//!
//! Adding a scenario: write `pub async fn <name><T: Target>()` in `scenarios/` and add its name
//! to the list in [`suite!`]. Adding a target: implement `Target` and add one line at the end.
//! Figures (kill points, exit codes, times) are printed with `--nocapture`; `docs/reliability.md`
//! tables come from them.

pub mod fault_proxy;
mod k8s_only;
mod kong_only;
pub mod run;
pub mod scenarios;
pub mod target;
pub mod targets;

/// One module per target, one `#[tokio::test]` per scenario in it.
macro_rules! suite {
    ($($module:ident => $target:ty,)*) => {$(
        mod $module {
            #[allow(unused_imports)]
            use crate::conformance::scenarios::{
                anonymous, basic, canary, faults, header, locks, readback, safety,
            };
            type T = $target;
            suite!(@tests $module;
                basic::fresh_blue_green,
                basic::reapply_writes_nothing,
                basic::switch,
                basic::rollback,
                basic::lock_contention_exits_5,
                canary::canary_gate_promoted_from_second_process,
                canary::abort,
                canary::automatic_rollback_on_a_failed_check,
                faults::crash_at_every_write_of_a_fresh_apply,
                faults::crash_at_every_write_of_a_switch,
                faults::crash_at_every_write_of_a_canary,
                faults::lost_answer_at_every_write_of_a_fresh_apply,
                faults::lost_answer_at_every_write_of_a_switch,
                faults::lost_answer_at_every_write_of_a_canary,
                faults::lost_answer_at_every_write_of_a_rollback,
                anonymous::anonymous_blue_green,
                anonymous::anonymous_failing_green_rolls_back,
                anonymous::explicit_identity_missing_refused_before_any_write,
                anonymous::identity_list_reports_what_was_seen,
                anonymous::top_level_verify_checks_canary_steps,
                anonymous::anonymous_canary_abort,
                locks::a_run_waiting_past_its_lock_ttl_keeps_its_lock,
                locks::a_run_whose_lock_was_taken_over_stops_before_its_next_write,
                locks::a_dead_local_holders_lock_is_broken_with_a_message,
                readback::switch_write_answered_but_not_applied,
                readback::switch_write_turned_into_a_get,
                readback::new_target_of_the_live_side_is_probed_first,
                readback::killed_between_traffic_write_and_verification,
                safety::closed_output_pipe_keeps_the_run_going,
                safety::resumed_timed_pause_waits_out_the_rest,
                safety::rollback_after_abort_keeps_stable,
                safety::interrupt_at_a_gate_follows_on_interrupt,
                safety::promote_and_abort_need_yes_without_a_terminal,
                safety::failed_verification_never_reads_as_success,
                safety::printed_commands_are_quoted_for_a_shell,
                header::header_route_gate_weights_and_removal,
                header::header_route_removed_by_abort_and_automatic_rollback,
                header::crash_at_every_write_of_a_header_canary,
                header::crash_at_every_write_of_a_mirror_canary,
                header::lost_answer_at_every_write_of_a_mirror_canary,
            );
        }
    )*};
    (@tests $module:ident; $($file:ident :: $name:ident,)*) => {$(
        case!($module, $file, $name);
    )*};
}

/// One test; the known gaps (target, scenario) are ignored with the bug they show, so
/// `cargo test -- --ignored conformance::` runs them and shows it. Each is reported; remove the
/// arm when the bug is fixed.
macro_rules! case {
    ($module:ident, $file:ident, $name:ident) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            $file::$name::<T>().await;
        }
    };
}

suite! {
    kong => crate::conformance::targets::kong::Kong,
    kong_dbless => crate::conformance::targets::kong_dbless::KongDbless,
    k8s_selector => crate::conformance::targets::kube::Selector,
    k8s_gateway_api => crate::conformance::targets::kube::Gateway,
    k8s_contour_weights => crate::conformance::targets::kube::ContourWeights,
    k8s_contour_includes => crate::conformance::targets::kube::ContourIncludes,
    k8s_istio => crate::conformance::targets::kube::Istio,
    haproxy => crate::conformance::targets::gateway::Haproxy,
    traefik => crate::conformance::targets::gateway::Traefik,
}
