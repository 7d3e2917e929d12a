//! Benchmarks for rtorb; see `benches/` for the criterion targets, `src/bin/experiments.rs` for
//! the experiments suite, and the README's performance section for the figures and the commands
//! that produced them.
// Unsafe code only in `rtec::sys` (libc's clock, affinity and scheduling calls), which allows
// it for itself.
#![deny(unsafe_code)]

pub mod allocator;
pub mod cubit;
pub mod many_clients;
pub mod measure;
pub mod op_demux;
pub mod plot;
pub mod raw_floor;
pub mod report;
pub mod rtec;
pub mod servant_demux;
