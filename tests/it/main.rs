//! Black-box tests of the real `bgctl` binary: one test binary, one module per area.

mod canary;
mod cli;
mod harness;
mod kong;
mod plans;
mod reliability;
