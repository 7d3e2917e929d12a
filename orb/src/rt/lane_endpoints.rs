//! The lanes' own endpoints: with them, a lane's threads read the connections of its
//! priority themselves, and a request on them runs on the thread that read it, with no
//! hand-off to the lane's queue.
//!
//! An rtorb server with lanes listens on one more IIOP port per lane and advertises them in
//! its IIOP profiles as [`ComponentId::RTORB_LANES`] (rtorb's vendor range, like
//! `TAG_RTORB_SHMIOP`; TAO does the same with its own `TAO_TAG_ENDPOINTS`): an encapsulated
//! `sequence<struct { short priority; string host; ushort port; }>`. Other ORBs skip the
//! component and call the profile's own address, whose connections hand each request to its
//! lane. An rtorb client making a call in one of its priority bands connects to the
//! endpoint of the lane that serves the call's priority ([`serving_lane`]): in plain GIOP
//! even when it binds by GIOP-lite, and, for a call made inside an upcall, on an idle
//! connection of the call's band. A request that carries no priority runs at the priority of
//! the lane whose endpoint it came to: the connection says it.

use super::{check_priority, Priority};
use crate::cdr::{ByteOrder, Encoder};
use crate::iop::{ComponentId, TaggedComponent};

/// A lane's listening endpoint: the lane's priority and its IIOP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LaneEndpoint {
    pub priority: Priority,
    pub host: String,
    pub port: u16,
}

/// The index of the lane that serves priority `p` among `lanes` sorted by increasing
/// priority: the one of highest priority not above `p`, else the lowest (`None` without
/// lanes). Server and client choose alike, so a call's connection goes to the lane that
/// runs it.
pub fn serving_lane<T>(
    lanes: &[T],
    priority_of: impl Fn(&T) -> Priority,
    p: Priority,
) -> Option<usize> {
    if lanes.is_empty() {
        return None;
    }
    Some(lanes.iter().rposition(|l| priority_of(l) <= p).unwrap_or(0))
}

/// The `TAG_RTORB_LANES` component listing `endpoints`.
pub fn lanes_component(
    endpoints: &[LaneEndpoint],
) -> Result<TaggedComponent, crate::cdr::EncodeError> {
    let mut enc = Encoder::new(ByteOrder::NATIVE);
    enc.write_encapsulation(|e| {
        e.write_length(endpoints.len())?;
        for l in endpoints {
            e.write_short(l.priority);
            e.write_string(&l.host)?;
            e.write_ushort(l.port);
        }
        Ok(())
    })?;
    let bytes = enc.into_vec();
    // The component data is the encapsulation's octets, without its length.
    Ok(TaggedComponent {
        tag: ComponentId::RTORB_LANES,
        data: bytes[4..].to_vec(),
    })
}

/// The lane endpoints of a `TAG_RTORB_LANES` component's data, by increasing priority;
/// `None` if it does not decode (the client then calls the profile's address, which serves
/// every priority).
pub fn lane_endpoints_from_component_data(data: &[u8]) -> Option<Vec<LaneEndpoint>> {
    let mut dec = crate::ior::open_encapsulation(data).ok()?;
    // A short, an empty string's length and its NUL, a ushort: 10 octets at least.
    let n = dec.read_seq_len(10).ok()?;
    let mut lanes = Vec::with_capacity(n);
    for _ in 0..n {
        let priority = check_priority(dec.read_short().ok()?.into()).ok()?;
        let host = dec.read_string().ok()?.into_owned();
        let port = dec.read_ushort().ok()?;
        lanes.push(LaneEndpoint {
            priority,
            host,
            port,
        });
    }
    lanes.sort_by_key(|l| l.priority);
    Some(lanes)
}
