//! The COS event service (OMG Event Service, untyped): an event channel servant usable in any
//! process, collocated or remote, and the `event-service` daemon built on it.
//!
//! - [`EventChannel`]: the channel, its admins and proxies, in a POA of its own;
//! - [`ReconnectingPushSupplier`], [`ReconnectingPushConsumer`]: clients that connect
//!   again when the channel was killed and restarted;
//! - [`cos_event_comm`], [`cos_event_channel_admin`]: the stubs and skeletons idlc generates
//!   from `idl/CosEventComm.idl` and `idl/CosEventChannelAdmin.idl`;
//! - [`rtec`]: TAO's real-time event service: the channel ([`rtec::RtecChannel`]) and the
//!   stubs and skeletons of its IDL (`RtecEventComm`, `RtecEventChannelAdmin`,
//!   `RtecScheduler`, ...), the wire contract of the real-time channel.
//!
//! A client that waits in `pull` on a remote proxy while it makes other calls to the
//! channel's process (a `disconnect_pull_supplier` from another thread, say) should give the
//! pulling thread a connection of its own with [`orb::use_idle_connections`]: a server serves
//! one connection's requests in order, so the other calls would wait behind the pull.
//!
//! Built on the ORB core; this crate holds only the channel, never wire code.
// Denied rather than forbidden only so that `rtec::rt_thread` may ask for SCHED_FIFO.
#![deny(unsafe_code)]

mod channel;
/// For the benches that set our channels beside omniEvents (ev_bench, rtec_bench).
#[doc(hidden)]
pub mod comparison;
/// For the daemons' binaries: ORB options, naming-service binding, the IOR line.
#[doc(hidden)]
pub mod daemon_support;
mod queue;
mod reconnect;
pub mod rtec;
pub mod sched;

pub use channel::{ChannelOptions, ChannelStats, EventChannel, PullMode};
pub use reconnect::{ReconnectOptions, ReconnectingPushConsumer, ReconnectingPushSupplier};

/// Generated from `idl/CosEventChannelAdmin.idl` and the `idl/CosEventComm.idl` it includes.
#[allow(missing_docs, clippy::all)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/CosEventChannelAdmin.rs"));
}
pub use generated::{cos_event_channel_admin, cos_event_comm};
