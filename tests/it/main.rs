//! Black-box tests of the real `bgctl` binary: one test binary, one module per area.

mod cli;
mod harness;
mod kong;
mod kubernetes;
mod plans;
