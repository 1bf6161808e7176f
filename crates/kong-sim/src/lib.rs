//! kong-sim
