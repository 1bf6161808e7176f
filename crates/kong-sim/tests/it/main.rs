//! kong-sim integration tests: one binary, one module per area.

mod binary;
mod conformance;
mod faults;
mod harness;
mod nodes;
mod propagation;
mod seed;
