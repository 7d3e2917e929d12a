//! CosNaming (Interoperable Naming Service) servant and client helpers.
//!
//! - [`store`]: the naming graph and its write-ahead log;
//! - [`graph`]: CosNaming's rules over it (compound names, the exceptions).
#![forbid(unsafe_code)]

pub mod graph;
pub mod store;
