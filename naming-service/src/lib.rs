//! CosNaming (Interoperable Naming Service) servant and client helpers.
//!
//! - [`store`]: the naming graph and its write-ahead log.
#![forbid(unsafe_code)]

pub mod store;
