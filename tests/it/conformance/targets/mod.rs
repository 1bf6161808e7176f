//! The systems the suite runs over; see `conformance/mod.rs`.

pub mod gateway;
pub mod kong;
pub mod kong_dbless;
pub mod kube;
