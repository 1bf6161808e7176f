//! kong-sim integration tests: one binary, one module per area.

mod binary;
mod conformance;
mod faults;
mod harness;
mod propagation;
mod seed;
