//! Fleets (issue 18): one rollout plan run across many gateways or clusters, in waves.
//!
//! A fleet file (`kind: Fleet`) names the plan, the members (each fills the plan's `${…}` with
//! its own `vars`), the waves and what a failure does (`onFailure`). [`load`] reads and checks
//! it and every member's plan before anything moves; [`run`] schedules the waves (members of a
//! wave concurrently up to `maxParallel`, in one process); [`member`] runs one member with its
//! own provider, engine, lock and deadline; [`render`] prints the fleet as a CI pipeline.
//!
//! bgctl keeps no fleet state of its own: each member's state and lock live in its target, as
//! for a single plan. A re-run of `fleet apply` reads them again, so members that finished are
//! "up to date" with zero writes, and a member left mid-switch by a killed run is converged the
//! way `plan apply` converges it (a dead local holder's lock is broken, the record says what to
//! finish). The CLI (`src/cli/fleet.rs`) only resolves flags and renders.

pub mod load;
pub mod member;
pub mod model;
pub mod render;
pub mod run;
pub mod status;

pub use load::{Fleet, Member, Wave};
