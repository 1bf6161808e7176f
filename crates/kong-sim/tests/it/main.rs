//! kong-sim integration tests: one binary, one module per area.

mod binary;
mod conformance;
mod faults;
mod harness;
mod header_routes;
mod hybrid;
mod kong_specs;
mod nodes;
mod off_spec;
mod propagation;
mod scale;
mod seed;
