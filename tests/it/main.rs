//! Black-box tests of the real `bgctl` binary.
