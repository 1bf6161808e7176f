//! Verbs, status codes, `kind: Status` bodies, resourceVersion and generation rules (reference
//! §4 of kubernetes.md).

mod surface;
mod writes;
