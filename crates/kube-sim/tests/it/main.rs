//! kube-sim's integration tests: one binary, one module per area.

mod binary;
mod concurrency;
mod conformance;
mod deployments;
mod faults;
mod kubectl;
mod route_eval;
mod support;
mod watch;
