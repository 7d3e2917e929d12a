//! COS event channel and real-time event channel.
//!
//! Built on the ORB core; this crate holds only the channels, never wire code.
#![forbid(unsafe_code)]

/// Generated from `idl/CosEventChannelAdmin.idl` and the `idl/CosEventComm.idl` it includes.
#[allow(missing_docs, clippy::all)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/CosEventChannelAdmin.rs"));
}
pub use generated::{cos_event_channel_admin, cos_event_comm};
