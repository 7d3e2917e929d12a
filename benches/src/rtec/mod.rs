//! The real-time event channel's measurements (TAO's real-time event service paper), shared by
//! `rtec_bench` (which prints them) and the experiments suite's `events` experiment (which
//! writes them as CSV, plots and a report): latency from an event's `creation_time` to its
//! consumers, collocated and across processes ([`latency`]), the processes those need
//! ([`roles`]), and deadlines kept as the utilization grows ([`utilization`]).
//!
//! Time stamps: a supplier writes `CLOCK_MONOTONIC` in nanoseconds (not TimeBase's 100 ns
//! units) into `header.creation_time` just before its `push`; a consumer reads the same clock
//! when its `push` starts. The clock is one for every process of the machine, so the
//! difference is the latency across processes too.

pub mod latency;
pub mod roles;
pub mod sys;
pub mod utilization;

use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, EventChannel, EventChannelRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, SupplierAdmin,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplierRef,
};
use event_service::rtec::{
    ConsumerQosBuilder, Dispatching, FullPolicy, RtecOptions, SupplierQosBuilder,
    ACE_ES_EVENT_UNDEFINED,
};
use orb::exception::SystemException;
use orb::transport::{Endpoint, Strategy};
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error>;

/// The event type every supplier pushes and every consumer subscribes to.
pub const TYPE: i32 = ACE_ES_EVENT_UNDEFINED + 1;

/// An ORB whose calls to its own objects are plain calls (`Direct`): the collocated case.
pub fn collocated_orb() -> Result<Orb, Error> {
    Ok(Orb::init(OrbOptions {
        collocation: CollocationStrategy::Direct,
        ..OrbOptions::default()
    })?)
}

/// An ORB serving on loopback with one reactive thread (as the cubit server it is compared
/// with), never collocating.
pub fn serving_orb() -> Result<Orb, Error> {
    Ok(Orb::init(OrbOptions {
        endpoints: vec![Endpoint::parse("giop:tcp:127.0.0.1:0")?],
        strategy: match std::env::var("RTORB_RTEC_BENCH_STRATEGY").as_deref() {
            Ok("pool") => Strategy::ThreadPool { threads: 2 },
            Ok("tpc") => Strategy::ThreadPerConnection,
            _ => Strategy::Reactive,
        },
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })?)
}

/// Channel options for `dispatching`; queues block their supplier when full (up to 1 s)
/// rather than drop, so that throughput counts deliveries, not drops.
pub fn channel_options(dispatching: Dispatching, lanes: usize) -> RtecOptions {
    RtecOptions {
        dispatching,
        dispatching_threads: if dispatching == Dispatching::Mt { 2 } else { 1 },
        priority_lanes: lanes,
        full_policy: FullPolicy::Block {
            max_delay: Duration::from_secs(1),
        },
        ..RtecOptions::default()
    }
}

pub fn dispatching_name(d: Dispatching) -> &'static str {
    match d {
        Dispatching::Reactive => "reactive",
        Dispatching::Mt => "mt",
        Dispatching::Tpc => "tpc",
        Dispatching::Priority => "priority",
    }
}

pub fn parse_dispatching(s: &str) -> Result<Dispatching, Error> {
    Ok(match s {
        "reactive" => Dispatching::Reactive,
        "mt" => Dispatching::Mt,
        "tpc" => Dispatching::Tpc,
        "priority" => Dispatching::Priority,
        other => return Err(format!("no dispatching {other:?}").into()),
    })
}

pub const DISPATCHINGS: [Dispatching; 4] = [
    Dispatching::Reactive,
    Dispatching::Mt,
    Dispatching::Tpc,
    Dispatching::Priority,
];

/// Connects `servant` as a consumer of [`TYPE`] (from any source) at priority `rt_info`.
pub fn connect_consumer<C: PushConsumer + 'static>(
    orb: &Orb,
    channel: &EventChannelRef,
    servant: C,
    rt_info: i32,
) -> Result<(), Error> {
    connect_consumer_of(orb, channel, servant, TYPE, rt_info)
}

/// Connects `servant` as a consumer of events of type `ty` at priority `rt_info`.
pub fn connect_consumer_of<C: PushConsumer + 'static>(
    orb: &Orb,
    channel: &EventChannelRef,
    servant: C,
    ty: i32,
    rt_info: i32,
) -> Result<(), Error> {
    let obj = orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(servant)))?;
    let proxy = channel.for_consumers()?.obtain_push_supplier()?;
    let qos = ConsumerQosBuilder::new().insert_type(ty, rt_info).build();
    proxy.connect_push_consumer(&PushConsumerRef::unchecked_narrow(obj), &qos)?;
    Ok(())
}

/// A supplier proxy for events of [`TYPE`] from `source`.
pub fn connect_supplier(
    channel: &EventChannelRef,
    source: i32,
) -> Result<ProxyPushConsumerRef, Error> {
    connect_supplier_of(channel, source, TYPE)
}

/// A supplier proxy for events of type `ty` from `source`.
pub fn connect_supplier_of(
    channel: &EventChannelRef,
    source: i32,
    ty: i32,
) -> Result<ProxyPushConsumerRef, Error> {
    let proxy = channel.for_suppliers()?.obtain_push_consumer()?;
    let qos = SupplierQosBuilder::new().insert(source, ty, 0, 1).build();
    proxy.connect_push_supplier(&PushSupplierRef::nil(), &qos)?;
    Ok(proxy)
}

/// Polls `done` until it holds, for at most `limit`.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), Error> {
    let end = Instant::now() + limit;
    while !done() {
        if Instant::now() > end {
            return Err(format!("gave up waiting for {what}").into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Arrivals of numbered events (`data.pad1`) at any number of consumers: the latency to the
/// first and to the last consumer that got each.
pub struct Arrivals {
    pub first: Vec<AtomicU64>,
    pub last: Vec<AtomicU64>,
    pub delivered: AtomicU64,
}

impl Arrivals {
    pub fn new(events: usize) -> Arc<Arrivals> {
        Arc::new(Arrivals {
            first: (0..events).map(|_| AtomicU64::new(u64::MAX)).collect(),
            last: (0..events).map(|_| AtomicU64::new(0)).collect(),
            delivered: AtomicU64::new(0),
        })
    }
}

/// A consumer that records when each event reaches it.
#[derive(Clone)]
pub struct Stamping(pub Arc<Arrivals>);

impl PushConsumer for Stamping {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        let now = sys::now_ns();
        for e in data {
            let latency = now.saturating_sub(e.header.creation_time);
            if let Some(slot) = usize::try_from(e.data.pad1)
                .ok()
                .and_then(|i| self.0.first.get(i).zip(self.0.last.get(i)))
            {
                slot.0.fetch_min(latency, Ordering::Relaxed);
                slot.1.fetch_max(latency, Ordering::Relaxed);
            }
            self.0.delivered.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

/// A consumer that counts what it gets.
#[derive(Clone)]
pub struct Counter(pub Arc<AtomicU64>);

impl PushConsumer for Counter {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.fetch_add(data.len() as u64, Ordering::Release);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}
