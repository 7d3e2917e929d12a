//! CosNaming (Interoperable Naming Service) servant and client helpers.
//!
//! Built on the ORB core (issue #5); this crate holds only the service, never wire code.
#![forbid(unsafe_code)]
