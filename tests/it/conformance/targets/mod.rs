//! The systems the suite runs over; see `conformance/mod.rs`.

pub mod gateway;
pub mod kong;
pub mod kube;
