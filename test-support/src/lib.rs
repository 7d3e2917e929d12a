//! What the workspace's multi-host tests and benches share (`faults`, `examples/mshn`):
//!
//! - [`netns`]: hosts as network namespaces of this machine joined by veth pairs, with
//!   partitions and heals.
#![forbid(unsafe_code)]

pub mod netns;
