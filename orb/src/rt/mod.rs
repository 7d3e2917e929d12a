//! RT-CORBA (OMG Real-time CORBA 1.2): CORBA priorities, the priority models, thread pools
//! with lanes and priority-banded connections.
//!
//! - [`RtCurrent`]: the calling thread's CORBA priority (`RTCORBA::Current::the_priority`).
//!   Setting it also sets the thread's native priority through the process's
//!   [`NativePriorityPolicy`] ([`mapping`]).
//! - [`PriorityModel`]: `CLIENT_PROPAGATED` (the default) — a client whose thread has a
//!   priority sends it in the `RTCorbaPriority` service context (id 10) of each request, and
//!   the server runs the request at it — or `SERVER_DECLARED` — the server runs every request
//!   at the priority it declares, advertised in its IORs' `TAG_POLICIES` component. A request
//!   without the context (from a non-RT client) runs at the server's priority; a non-RT server
//!   ignores the context, as GIOP asks of service contexts it does not know.
//!   The ORB's model (`-ORBpriorityModel`, `-ORBserverPriority`) is the default of its POAs:
//!   a POA created with [`crate::poa::Policy::PriorityModel`] has its own, and an object of
//!   a SERVER_DECLARED POA may have its own priority (`activate_object_with_priority` and
//!   the other `RTPortableServer::POA` operations on [`crate::poa::Poa`], and their
//!   reference-returning forms on [`crate::Orb`]), kept in its active object map entry. Each
//!   reference's `TAG_POLICIES` declares its object's model and priority, which its requests
//!   run at and which an rtorb client's calls to it choose their band and lane endpoint by.
//! - [`ThreadpoolLane`]s (`-ORBthreadStrategy lanes -ORBlanes 0:2,20000:1`): each lane has its
//!   own threads, at its own native priority, and a request is run by the lane with the
//!   highest priority not above the request's ([`lanes`]).
//!   Each lane also listens on an endpoint of its own ([`lane_endpoints`]), whose
//!   connections its threads read themselves, running their requests with no hand-off.
//! - [`PriorityBand`]s (`-ORBpriorityBands 0-9999,10000-32767`): a client's calls in different
//!   bands go on different connections to the same server, so a flood queued on one cannot
//!   delay a call on another.

pub mod lane_endpoints;
pub(crate) mod lanes;
pub mod mapping;

pub use lane_endpoints::{serving_lane, LaneEndpoint};
pub use lanes::{parse_bands, parse_lanes, PriorityBand, ThreadpoolLane};
pub use mapping::NativePriorityPolicy;

use crate::cdr::{ByteOrder, Decoder, Encoder};
use crate::iop::{ComponentId, ServiceContext, ServiceId, TaggedComponent};
use std::cell::Cell;

/// `RTCORBA::Priority`: a CORBA `short`, of which only 0 ..= 32767 are priorities.
pub type Priority = i16;

/// `RTCORBA::minPriority`.
pub const MIN_PRIORITY: Priority = 0;
/// `RTCORBA::maxPriority`.
pub const MAX_PRIORITY: Priority = i16::MAX;

/// `RTCORBA::PRIORITY_MODEL_POLICY_TYPE`.
pub const PRIORITY_MODEL_POLICY_TYPE: u32 = 40;

/// A priority given to [`RtCurrent::set_the_priority`] that is not one (`BAD_PARAM` in
/// RT-CORBA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an RTCORBA priority: priorities run from 0 to 32767")]
pub struct BadPriority(pub i32);

/// Checks that `p` is an RTCORBA priority (0 ..= 32767).
pub fn check_priority(p: i32) -> Result<Priority, BadPriority> {
    Priority::try_from(p)
        .ok()
        .filter(|p| *p >= MIN_PRIORITY)
        .ok_or(BadPriority(p))
}

thread_local! {
    /// The calling thread's CORBA priority, if it has one.
    static CURRENT_PRIORITY: Cell<Option<Priority>> = const { Cell::new(None) };
    /// The priority of the lane whose thread this is.
    static LANE: Cell<Option<Priority>> = const { Cell::new(None) };
}

/// `RTCORBA::Current`: the CORBA priority of the calling thread.
///
/// A client thread's priority goes with its calls (the `RTCorbaPriority` service context)
/// and chooses their band; in a servant, it is the priority the request runs at.
#[derive(Debug, Clone, Copy, Default)]
pub struct RtCurrent;

impl RtCurrent {
    /// The calling thread's CORBA priority; `None` for a thread that never set one (and,
    /// in a servant, for a request that carried none to a server without a priority model
    /// of its own — which never happens with rtorb servers, see [`PriorityModel`]).
    pub fn the_priority() -> Option<Priority> {
        CURRENT_PRIORITY.with(Cell::get)
    }

    /// Sets the calling thread's CORBA priority and, through the process's
    /// [`NativePriorityPolicy`], its native priority (which is left as it is, with one
    /// warning, where the process may not change it).
    pub fn set_the_priority(p: Priority) -> Result<(), BadPriority> {
        let p = check_priority(i32::from(p))?;
        CURRENT_PRIORITY.with(|c| c.set(Some(p)));
        mapping::apply_to_current_thread(p);
        Ok(())
    }

    /// Forgets the calling thread's CORBA priority: its calls carry none again (its native
    /// priority stays as it was last set).
    pub fn clear() {
        CURRENT_PRIORITY.with(|c| c.set(None));
    }

    /// The priority of the thread-pool lane whose thread this is (`None` outside lanes): for
    /// servants and tests that want to know which lane serves them.
    pub fn lane_priority() -> Option<Priority> {
        LANE.with(Cell::get)
    }
}

/// Marks the calling thread as one of the lane of priority `p`.
pub(crate) fn enter_lane(p: Priority) {
    LANE.with(|c| c.set(Some(p)));
}

/// The CORBA priority a request runs at, set for the time it is served and restored after.
pub(crate) struct RequestPriority {
    previous: Option<Priority>,
}

impl RequestPriority {
    pub(crate) fn enter(p: Priority) -> RequestPriority {
        RequestPriority {
            previous: CURRENT_PRIORITY.with(|c| c.replace(Some(p))),
        }
    }
}

impl Drop for RequestPriority {
    fn drop(&mut self) {
        CURRENT_PRIORITY.with(|c| c.set(self.previous));
    }
}

/// `RTCORBA::PriorityModel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PriorityModel {
    /// Requests run at the priority their client sends (`RTCorbaPriority` context), or the
    /// server's priority when they carry none.
    #[default]
    ClientPropagated,
    /// Requests run at the server's declared priority, whatever the client's.
    ServerDeclared,
}

impl PriorityModel {
    fn to_wire(self) -> u32 {
        match self {
            PriorityModel::ClientPropagated => 0,
            PriorityModel::ServerDeclared => 1,
        }
    }

    fn from_wire(v: u32) -> Option<PriorityModel> {
        match v {
            0 => Some(PriorityModel::ClientPropagated),
            1 => Some(PriorityModel::ServerDeclared),
            _ => None,
        }
    }
}

/// `RTCORBA::PriorityModelPolicy`: a server's model and priority, as its IORs advertise them.
/// The default is CLIENT_PROPAGATED with priority 0 (that of requests carrying none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PriorityModelPolicy {
    pub model: PriorityModel,
    pub server_priority: Priority,
}

impl PriorityModelPolicy {
    /// The priority a request runs at under this policy, given the one its client sent.
    pub fn request_priority(&self, sent: Option<Priority>) -> Priority {
        match (self.model, sent) {
            (PriorityModel::ClientPropagated, Some(p)) => p,
            _ => self.server_priority,
        }
    }

    /// `TAG_POLICIES` (IOP component 2): an encapsulated `sequence<Messaging::PolicyValue>`
    /// holding this policy (`ptype` 40, `pvalue` an encapsulation of the model as a `ulong`
    /// and the server priority as a `short`). ORBs without RT-CORBA skip the policy.
    pub fn to_component(&self) -> TaggedComponent {
        let mut enc = Encoder::new(ByteOrder::NATIVE);
        // A ulong, a short, two lengths and their octets: nothing here can fail.
        let _ = enc.write_encapsulation(|e| {
            e.write_length(1)?;
            e.write_ulong(PRIORITY_MODEL_POLICY_TYPE);
            e.write_encapsulation(|v| {
                v.write_ulong(self.model.to_wire());
                v.write_short(self.server_priority);
                Ok(())
            })
        });
        let bytes = enc.into_vec();
        // The component data is the encapsulation's octets, without its length.
        TaggedComponent {
            tag: ComponentId::POLICIES,
            data: bytes[4..].to_vec(),
        }
    }

    /// The priority model policy of a `TAG_POLICIES` component's data, if it has one (other
    /// policies are skipped; a component that does not decode has none).
    pub fn from_component_data(data: &[u8]) -> Option<PriorityModelPolicy> {
        let mut dec = crate::ior::open_encapsulation(data).ok()?;
        let n = dec.read_seq_len(8).ok()?;
        for _ in 0..n {
            let ptype = dec.read_ulong().ok()?;
            let mut value = dec.read_encapsulation().ok()?;
            if ptype == PRIORITY_MODEL_POLICY_TYPE {
                let model = PriorityModel::from_wire(value.read_ulong().ok()?)?;
                let server_priority = check_priority(value.read_short().ok()?.into()).ok()?;
                return Some(PriorityModelPolicy {
                    model,
                    server_priority,
                });
            }
        }
        None
    }
}

/// The `RTCorbaPriority` service context (id 10) carrying `p`: a CDR encapsulation of a
/// `short`.
pub fn priority_context(p: Priority) -> ServiceContext {
    ServiceContext {
        id: ServiceId::RT_CORBA_PRIORITY,
        data: priority_context_data(p, Vec::new()),
    }
}

/// The data of an `RTCorbaPriority` context carrying `p`, written into `buf`'s capacity (its
/// contents are cleared): how a client reuses one buffer for every request's context.
pub fn priority_context_data(p: Priority, buf: Vec<u8>) -> Vec<u8> {
    let mut enc = Encoder::with_buffer(buf, ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    enc.write_short(p);
    enc.into_vec()
}

/// The priority an `RTCorbaPriority` context's data carries; `None` if it does not decode
/// or is not a priority (such a request runs at the server's priority, as one without).
pub fn read_priority_context(data: &[u8]) -> Option<Priority> {
    let order = match data.first()? {
        0 => ByteOrder::BigEndian,
        1 => ByteOrder::LittleEndian,
        _ => return None,
    };
    let mut dec = Decoder::new_at(data, 1, order);
    check_priority(dec.read_short().ok()?.into()).ok()
}

#[cfg(test)]
mod tests;
