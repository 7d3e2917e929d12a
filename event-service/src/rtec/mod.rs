//! TAO's real-time event service: the IDL's Rust ([`idl`], also re-exported here, so
//! `rtec::rtec_event_comm` and the rest keep their paths) and the channel built on it,
//! [`RtecChannel`].
//!
//! A consumer connects with a `ConsumerQOS` whose dependencies are compiled there and then
//! into a filter tree (types with wildcards, conjunctions, disjunctions, negations,
//! logical-ands, bitmasks, masked types, timeouts, nested as deep as a QOS says); suppliers'
//! events find interested consumers through subscription tables (source → type →
//! consumers), so consumers that want other events cost an event nothing, and an event
//! nobody subscribed to stops at its supplier's proxy. Deliveries run as the channel's
//! dispatching says (reactive, mt, tpc, priority lanes), through bounded queues.
//!
//! `event-service/RTEC.md` tables every option beside TAO's meaning. What this module must
//! never do: panic on a QOS or an event a client sends, queue without bound, or hold a lock
//! while it calls a consumer, a supplier or an observer.
//!
//! ```no_run
//! use event_service::rtec::{self, ConsumerQosBuilder, RtecChannel, RtecOptions};
//! use event_service::rtec::rtec_event_channel_admin::{ConsumerAdmin, EventChannel};
//! # fn f(orb: &orb::Orb, consumer: &rtec::rtec_event_comm::PushConsumerRef) {
//! let mut options = RtecOptions::default();
//! options.parse_args(["-ECDispatching", "tpc", "-ECFiltering", "prefix"]).unwrap();
//! let channel = RtecChannel::start(orb, options).unwrap();
//! let proxy = channel.reference().for_consumers().unwrap().obtain_push_supplier().unwrap();
//! let qos = ConsumerQosBuilder::new().start_disjunction_group(2).insert(1, 20, 0).insert_type(21, 0).build();
//! use event_service::rtec::rtec_event_channel_admin::ProxyPushSupplier;
//! proxy.connect_push_consumer(consumer, &qos).unwrap();
//! # }
//! ```

mod admin;
mod channel;
mod dispatch;
mod filter;
mod gateway;
pub mod mcast;
mod options;
mod proxy;
mod reconnect;
mod rt_thread;
mod subscriptions;
mod threads;
mod timeout;

pub use channel::{ConsumerStats, RtecChannel, RtecStats};
pub use filter::{FilteringMode, QosError, TimeoutSpec, MAX_DEPTH};
pub use gateway::{Gateway, GatewayError, GatewayOptions, GatewayStats};
pub use options::{
    default_lane, Dispatching, FullPolicy, LaneResolver, ObserverStrategy, OptionError,
    RtecOptions, SupplierFiltering, TimeoutStrategy,
};
pub use reconnect::{RtecReconnectingPushConsumer, RtecReconnectingPushSupplier};

/// Generated from `idl/RtecEventService.idl`: the modules `rtec_event_channel_admin`,
/// `rtec_event_comm`, `rtec_scheduler`, `rtec_base` and `time_base`, the global-scope
/// `RtecEventData` payload (and `EventPayload`) at this module's root, and `corba::OctetSeq`
/// that the payload names. Names and repository ids are TAO's, so TAO's clients and servers,
/// and programs built on TAO's IDL with any ORB, talk to these types unchanged.
#[allow(missing_docs, clippy::all)]
pub mod idl {
    include!(concat!(env!("OUT_DIR"), "/RtecEventService.rs"));
}
pub use idl::*;

use idl::rtec_event_channel_admin::{ConsumerQos, Dependency, Publication, SupplierQos};
use idl::rtec_event_comm::{Event, EventHeader};
use std::sync::Arc;

/// Events as dispatching passes them around: one allocation, shared by every consumer
/// that takes the same event.
pub(crate) type Batch = Arc<[Event]>;

// TAO's predefined event types and designators (`orbsvcs/Event_Service_Constants.h`).
// Application types start at ACE_ES_EVENT_UNDEFINED.
/// As a type or source: any (a wildcard, in subscriptions and in events).
pub const ACE_ES_EVENT_ANY: i32 = 0;
pub const ACE_ES_EVENT_SHUTDOWN: i32 = 1;
pub const ACE_ES_EVENT_ACT: i32 = 2;
pub const ACE_ES_EVENT_NOTIFICATION: i32 = 3;
/// A one-shot timeout; its period is the designator's `creation_time` (100 ns units).
pub const ACE_ES_EVENT_TIMEOUT: i32 = 4;
/// A periodic timeout.
pub const ACE_ES_EVENT_INTERVAL_TIMEOUT: i32 = 5;
/// A periodic timeout that each delivery to the consumer re-arms.
pub const ACE_ES_EVENT_DEADLINE_TIMEOUT: i32 = 6;
/// Older TAO's name for a disjunction; taken as one.
pub const ACE_ES_GLOBAL_DESIGNATOR: i32 = 7;
pub const ACE_ES_CONJUNCTION_DESIGNATOR: i32 = 8;
pub const ACE_ES_DISJUNCTION_DESIGNATOR: i32 = 9;
pub const ACE_ES_NEGATION_DESIGNATOR: i32 = 10;
pub const ACE_ES_LOGICAL_AND_DESIGNATOR: i32 = 11;
pub const ACE_ES_BITMASK_DESIGNATOR: i32 = 12;
pub const ACE_ES_MASKED_TYPE_DESIGNATOR: i32 = 13;
pub const ACE_ES_NULL_DESIGNATOR: i32 = 14;
pub const ACE_ES_EVENT_UNDEFINED: i32 = 16;
pub const ACE_ES_EVENT_SOURCE_ANY: i32 = 0;

/// Whether `ty` is a designator or a timeout rather than an event type to match.
pub fn is_designator(ty: i32) -> bool {
    matches!(
        ty,
        ACE_ES_EVENT_TIMEOUT
            | ACE_ES_EVENT_INTERVAL_TIMEOUT
            | ACE_ES_EVENT_DEADLINE_TIMEOUT
            | ACE_ES_GLOBAL_DESIGNATOR..=ACE_ES_NULL_DESIGNATOR
    )
}

/// An event with this source and type, everything else zero (a ttl of zero: set
/// `header.ttl` for events gateways are to forward).
pub fn event(source: i32, ty: i32) -> Event {
    Event {
        header: EventHeader {
            r#type: ty,
            source,
            ..EventHeader::default()
        },
        ..Event::default()
    }
}

/// Builds a `ConsumerQOS` as TAO's `ACE_ConsumerQOS_Factory` does. Group designators carry
/// their number of children in `source` (what `-ECFiltering prefix` reads; basic filtering
/// ignores it), so the same QOS serves both.
#[derive(Clone, Debug, Default)]
pub struct ConsumerQosBuilder {
    qos: ConsumerQos,
}

impl ConsumerQosBuilder {
    pub fn new() -> ConsumerQosBuilder {
        ConsumerQosBuilder::default()
    }

    fn push(mut self, source: i32, ty: i32, rt_info: i32) -> Self {
        self.qos.dependencies.push(Dependency {
            event: event(source, ty),
            rt_info,
        });
        self
    }

    /// A conjunction of the next `children` filters: delivered together once all matched.
    pub fn start_conjunction_group(self, children: i32) -> Self {
        self.push(children, ACE_ES_CONJUNCTION_DESIGNATOR, 0)
    }

    /// A disjunction of the next `children` filters: any of them.
    pub fn start_disjunction_group(self, children: i32) -> Self {
        self.push(children, ACE_ES_DISJUNCTION_DESIGNATOR, 0)
    }

    /// The next `children` filters must all accept an event.
    pub fn start_logical_and_group(self, children: i32) -> Self {
        self.push(children, ACE_ES_LOGICAL_AND_DESIGNATOR, 0)
    }

    /// What the next filter refuses.
    pub fn start_negation(self) -> Self {
        self.push(0, ACE_ES_NEGATION_DESIGNATOR, 0)
    }

    /// Only events with a bit of `source_mask` in their source and of `type_mask` in their
    /// type reach the next filter.
    pub fn start_bitmask(self, source_mask: u32, type_mask: u32) -> Self {
        self.push(0, ACE_ES_BITMASK_DESIGNATOR, 0)
            .push(source_mask as i32, type_mask as i32, 0)
    }

    /// Events whose masked source and type equal the values.
    pub fn insert_masked_type(
        self,
        source_mask: u32,
        source_value: u32,
        type_mask: u32,
        type_value: u32,
    ) -> Self {
        self.push(0, ACE_ES_MASKED_TYPE_DESIGNATOR, 0)
            .push(source_mask as i32, type_mask as i32, 0)
            .push(source_value as i32, type_value as i32, 0)
    }

    /// Events from `source` of type `ty` (either may be [`ACE_ES_EVENT_ANY`]); `rt_info` is
    /// the consumer's scheduling handle for it.
    pub fn insert(self, source: i32, ty: i32, rt_info: i32) -> Self {
        self.push(source, ty, rt_info)
    }

    pub fn insert_type(self, ty: i32, rt_info: i32) -> Self {
        self.push(ACE_ES_EVENT_ANY, ty, rt_info)
    }

    pub fn insert_source(self, source: i32, rt_info: i32) -> Self {
        self.push(source, ACE_ES_EVENT_ANY, rt_info)
    }

    /// Everything (TAO's null designator).
    pub fn insert_null(self) -> Self {
        self.push(0, ACE_ES_NULL_DESIGNATOR, 0)
    }

    /// A timeout of `kind` ([`ACE_ES_EVENT_INTERVAL_TIMEOUT`], ...) every `period` (in
    /// TimeBase units of 100 ns, as TAO's `insert_time`).
    pub fn insert_time(self, kind: i32, period: u64, rt_info: i32) -> Self {
        let mut s = self.push(0, kind, rt_info);
        if let Some(d) = s.qos.dependencies.last_mut() {
            d.event.header.creation_time = period;
        }
        s
    }

    /// For gateways: their subscriptions are kept out of what observers are told.
    pub fn gateway(mut self, is_gateway: bool) -> Self {
        self.qos.is_gateway = is_gateway;
        self
    }

    pub fn build(self) -> ConsumerQos {
        self.qos
    }
}

/// Builds a `SupplierQOS` (TAO's `ACE_SupplierQOS_Factory`).
#[derive(Clone, Debug, Default)]
pub struct SupplierQosBuilder {
    qos: SupplierQos,
}

impl SupplierQosBuilder {
    pub fn new() -> SupplierQosBuilder {
        SupplierQosBuilder::default()
    }

    /// The supplier publishes events from `source` of type `ty`.
    pub fn insert(mut self, source: i32, ty: i32, rt_info: i32, number_of_calls: i32) -> Self {
        let mut p = Publication {
            event: event(source, ty),
            ..Publication::default()
        };
        p.dependency_info.rt_info = rt_info;
        p.dependency_info.number_of_calls = number_of_calls;
        self.qos.publications.push(p);
        self
    }

    pub fn gateway(mut self, is_gateway: bool) -> Self {
        self.qos.is_gateway = is_gateway;
        self
    }

    pub fn build(self) -> SupplierQos {
        self.qos
    }
}
