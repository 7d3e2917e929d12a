//! Benchmarks for rtorb; see `benches/` for the criterion targets and the README's performance
//! section for the figures and the commands that produced them.
#![forbid(unsafe_code)]

pub mod cubit;
