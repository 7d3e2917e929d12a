//! The COS event service (OMG Event Service, untyped): an event channel servant usable in any
//! process, collocated or remote, and the `event-service` daemon built on it.
//!
//! - [`EventChannel`]: the channel, its admins and proxies, in a POA of its own;
//! - [`cos_event_comm`], [`cos_event_channel_admin`]: the stubs and skeletons idlc generates
//!   from `idl/CosEventComm.idl` and `idl/CosEventChannelAdmin.idl`;
//! - [`rtec`]: those of TAO's real-time event service (`RtecEventComm`,
//!   `RtecEventChannelAdmin`, `RtecScheduler`, ...), the wire contract of the real-time channel.
//!
//! A client that waits in `pull` on a remote proxy while it makes other calls to the
//! channel's process (a `disconnect_pull_supplier` from another thread, say) should give the
//! pulling thread a connection of its own with [`orb::use_idle_connections`]: a server serves
//! one connection's requests in order, so the other calls would wait behind the pull.
//!
//! Built on the ORB core; this crate holds only the channel, never wire code.
#![forbid(unsafe_code)]

mod channel;
mod queue;
pub mod sched;

pub use channel::{ChannelOptions, ChannelStats, EventChannel, PullMode};

/// Generated from `idl/CosEventChannelAdmin.idl` and the `idl/CosEventComm.idl` it includes.
#[allow(missing_docs, clippy::all)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/CosEventChannelAdmin.rs"));
}
pub use generated::{cos_event_channel_admin, cos_event_comm};

/// The IDL of TAO's real-time event service, generated from `idl/RtecEventService.idl`: the
/// modules `rtec_event_channel_admin`, `rtec_event_comm`, `rtec_scheduler`, `rtec_base` and
/// `time_base`, the global-scope `RtecEventData` payload (and `EventPayload`) at this
/// module's root, and `corba::OctetSeq` that the payload names. Names and repository ids are
/// TAO's, so TAO's clients and servers, and programs built on TAO's IDL with any ORB, talk to
/// these types unchanged.
#[allow(missing_docs, clippy::all)]
pub mod rtec {
    include!(concat!(env!("OUT_DIR"), "/RtecEventService.rs"));
}
