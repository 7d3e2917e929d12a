//! Benchmarks for rtorb; see `benches/` for the criterion targets, `src/bin/experiments.rs` for
//! the experiments suite, and the README's performance section for the figures and the commands
//! that produced them.
#![forbid(unsafe_code)]

pub mod allocator;
pub mod cubit;
pub mod many_clients;
pub mod measure;
pub mod op_demux;
pub mod plot;
pub mod report;
pub mod servant_demux;
