//! rtorb ORB core.
//!
//! Layers, bottom to top (each uses only those below it):
//! - [`cdr`]: the Common Data Representation, pure encoding and decoding;
//! - [`iop`]: IORs, tagged profiles and components, service contexts as opaque wire types;
//! - [`typecode`]: TypeCodes and `any` values, in CDR (an `any` can hold an object reference);
//! - [`giop`]: GIOP 1.0–1.2 and GIOP-lite messages and framing, without I/O;
//! - [`ior`]: interoperable object references, `corbaloc:` and `corbaname:` URLs;
//! - [`poa`]: the Portable Object Adapter: POA tree, policies, object keys, request demultiplexing;
//! - [`transport`]: IIOP/UIOP connections, server strategies, client wait strategy and cache.
#![forbid(unsafe_code)]

pub mod cdr;
pub mod giop;
pub mod iop;
pub mod ior;
pub mod poa;
pub mod transport;
pub mod typecode;
