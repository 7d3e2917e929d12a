//! The two proxies: a proxy push supplier stands for a consumer (it holds the consumer's
//! compiled filter, its timers, its dispatching queue and counters), a proxy push consumer
//! for a supplier (its `push` is where events enter the channel).
//!
//! Locks, in the only order they are taken: a proxy's link, then its filter, then the
//! subscription tables' writer. No lock is held while a consumer or supplier is called.

use super::channel::Core;
use super::dispatch::{BoundedQueue, MtSlot, Task};
use super::filter::{Filter, FilterState, Input, Output};
use super::idl::rtec_event_channel_admin::{
    proxy_push_consumer, proxy_push_supplier, AlreadyConnected, ConsumerQos, ProxyPushConsumer,
    ProxyPushSupplier, SupplierQos, TypeError,
};
use super::idl::rtec_event_comm::{
    Event, EventHeader, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use super::timeout::{TimerId, TimerTarget};
use super::{Batch, ACE_ES_EVENT_DEADLINE_TIMEOUT, ACE_ES_EVENT_TIMEOUT};
use crate::channel::{gone, nil_reference, no_thread, unreachable};
use orb::exception::{SystemException, SystemExceptionKind};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The shortest timeout period a QOS gets: shorter ones are raised to it.
const MIN_PERIOD: Duration = Duration::from_micros(100);
/// The longest: about ten years.
const MAX_PERIOD: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A proxy's connection to its peer (one shape for both kinds, as the COS channel's).
pub(crate) enum Link<T> {
    /// Obtained, not connected yet.
    Idle,
    Connected(T),
    /// Disconnected, by either side or by destroy: the proxy is disposed of.
    Gone,
}

impl<T> Link<T> {
    /// Disposes of the link: the peer it had, and whether it was not disposed of already.
    fn take(&mut self) -> (Option<T>, bool) {
        match std::mem::replace(self, Link::Gone) {
            Link::Connected(p) => (Some(p), true),
            Link::Idle => (None, true),
            Link::Gone => (None, false),
        }
    }

    /// May this link be (re)connected? `reconnect`: a connected one may.
    fn check_connectable(&self, reconnect: bool) -> Result<(), ConnectRefusal> {
        match self {
            Link::Idle => Ok(()),
            Link::Connected(_) if reconnect => Ok(()),
            Link::Connected(_) => Err(ConnectRefusal::AlreadyConnected),
            Link::Gone => Err(ConnectRefusal::Gone),
        }
    }
}

enum ConnectRefusal {
    AlreadyConnected,
    Gone,
}

impl From<ConnectRefusal> for proxy_push_supplier::ConnectPushConsumerError {
    fn from(r: ConnectRefusal) -> Self {
        match r {
            ConnectRefusal::AlreadyConnected => AlreadyConnected {}.into(),
            ConnectRefusal::Gone => gone().into(),
        }
    }
}

impl From<ConnectRefusal> for proxy_push_consumer::ConnectPushSupplierError {
    fn from(r: ConnectRefusal) -> Self {
        match r {
            ConnectRefusal::AlreadyConnected => AlreadyConnected {}.into(),
            ConnectRefusal::Gone => gone().into(),
        }
    }
}

pub(crate) struct ConsumerLink {
    pub consumer: Arc<PushConsumerRef>,
    pub qos: ConsumerQos,
}

#[derive(Default)]
struct FilterSlot {
    filter: Option<Filter>,
    state: FilterState,
    /// The filter's timers, with their kinds (deadlines are re-armed by deliveries).
    timers: Vec<(TimerId, i32)>,
}

/// What a consumer's filter let through.
pub(crate) enum Accepted {
    /// The event that came in, alone.
    Single,
    /// A correlated set.
    Set(Batch),
}

/// The channel's side of a consumer: `ProxyPushSupplier`.
pub(crate) struct SupplierProxy {
    pub id: u64,
    pub oid: Vec<u8>,
    core: Weak<Core>,
    me: Weak<SupplierProxy>,
    pub(crate) link: Mutex<Link<ConsumerLink>>,
    filter: Mutex<FilterSlot>,
    pub suspended: AtomicBool,
    pub lane: AtomicUsize,
    /// Dispatched, not yet pushed.
    pub queued: AtomicUsize,
    pub dropped: AtomicU64,
    pub delivered: AtomicU64,
    failures: AtomicU32,
    pub(crate) own_queue: Mutex<Option<Arc<BoundedQueue<Task>>>>,
    pub(crate) mt_slot: Mutex<MtSlot>,
}

impl SupplierProxy {
    pub(crate) fn new(id: u64, oid: Vec<u8>, core: Weak<Core>) -> Arc<SupplierProxy> {
        Arc::new_cyclic(|me| SupplierProxy {
            id,
            oid,
            core,
            me: me.clone(),
            link: Mutex::new(Link::Idle),
            filter: Mutex::new(FilterSlot::default()),
            suspended: AtomicBool::new(false),
            lane: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            own_queue: Mutex::new(None),
            mt_slot: Mutex::new(MtSlot::default()),
        })
    }

    pub(crate) fn is_connected(&self) -> bool {
        matches!(*self.link.lock(), Link::Connected(_))
    }

    /// Runs `input` through the consumer's filter: what to push to it, if anything.
    pub(crate) fn accept(&self, input: &Input<'_>) -> Option<Accepted> {
        // Suspended consumers lose what comes meanwhile (TAO drops it too).
        if self.suspended.load(Ordering::Acquire) {
            return None;
        }
        let mut slot = self.filter.lock();
        let FilterSlot {
            filter,
            state,
            timers,
        } = &mut *slot;
        let out = filter.as_ref()?.filter(input, state)?;
        // TAO clears the whole tree after each delivery: conjunctions start over and
        // deadlines count from now.
        state.clear();
        if let Some(core) = self.core.upgrade() {
            for (id, kind) in timers.iter() {
                if *kind == ACE_ES_EVENT_DEADLINE_TIMEOUT {
                    core.timers.rearm(*id);
                }
            }
        }
        drop(slot);
        Some(match out {
            Output::Single => Accepted::Single,
            Output::Set(v) => Accepted::Set(Arc::from(v)),
        })
    }

    /// Pushes `events` to the consumer (from whichever thread the dispatching chose).
    pub(crate) fn deliver(&self, events: &[Event]) {
        let consumer = match &*self.link.lock() {
            Link::Connected(c) => c.consumer.clone(),
            _ => return,
        };
        let Some(core) = self.core.upgrade() else {
            return;
        };
        match consumer.push(events) {
            Ok(()) => {
                self.failures.store(0, Ordering::Relaxed);
                self.delivered
                    .fetch_add(events.len() as u64, Ordering::Relaxed);
            }
            Err(e) if e.kind == SystemExceptionKind::OBJECT_NOT_EXIST => self.dead(&core),
            Err(e) if unreachable(e.kind) => {
                let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
                if n >= core.options.max_failures.max(1) {
                    self.dead(&core);
                }
            }
            Err(_) => {
                core.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The consumer is gone: disconnected, and told (TAO's consumer control does so too;
    /// a consumer that is only unreachable for a while learns it when it is back).
    pub(crate) fn dead(&self, core: &Core) {
        if self.shut(true) {
            core.reaped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Disposes of the proxy; false if it was disposed of already. `notify`: call the
    /// consumer's `disconnect_push_consumer`.
    pub(crate) fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        let slot = std::mem::take(&mut *self.filter.lock());
        if let Some(core) = self.core.upgrade() {
            core.subs.remove(self.id);
            for (id, _) in slot.timers {
                core.timers.cancel(id);
            }
            core.dispatcher.detach(self);
            core.dropped_gone
                .fetch_add(self.dropped.load(Ordering::Relaxed), Ordering::Relaxed);
            core.forget(&self.oid);
            if peer.as_ref().is_some_and(|p| !p.qos.is_gateway) {
                core.consumers_changed();
            }
        }
        if let (true, Some(peer)) = (notify, peer) {
            let _ = peer.consumer.disconnect_push_consumer();
        }
        true
    }

    /// The filter's subscriptions and whether it is a gateway's (for observers).
    pub(crate) fn subscriptions(&self) -> Option<(Vec<(i32, i32)>, bool)> {
        let gateway = match &*self.link.lock() {
            Link::Connected(c) => c.qos.is_gateway,
            _ => return None,
        };
        let slot = self.filter.lock();
        Some((slot.filter.as_ref()?.headers.clone(), gateway))
    }

    pub(crate) fn consumer(&self) -> Option<Arc<PushConsumerRef>> {
        match &*self.link.lock() {
            Link::Connected(c) => Some(c.consumer.clone()),
            _ => None,
        }
    }
}

impl TimerTarget for SupplierProxy {
    fn fire(&self, slot: usize, kind: i32) {
        let (Some(me), Some(core)) = (self.me.upgrade(), self.core.upgrade()) else {
            return;
        };
        // TAO's timeout event: the designator's type, source 0.
        let event = Event {
            header: EventHeader {
                r#type: kind,
                ..EventHeader::default()
            },
            ..Event::default()
        };
        let input = Input {
            event: &event,
            timer: Some(slot),
        };
        match me.accept(&input) {
            Some(Accepted::Single) => core.dispatcher.dispatch_event(&me, &event, &mut None),
            Some(Accepted::Set(batch)) => core.dispatcher.dispatch(&me, batch),
            None => {}
        }
    }
}

impl PushSupplier for SupplierProxy {
    fn disconnect_push_supplier(&self) -> Result<(), SystemException> {
        let notify = self
            .core
            .upgrade()
            .is_some_and(|c| c.options.disconnect_callbacks);
        if self.shut(notify) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPushSupplier for SupplierProxy {
    fn connect_push_consumer(
        &self,
        push_consumer: &PushConsumerRef,
        qos: &ConsumerQos,
    ) -> Result<(), proxy_push_supplier::ConnectPushConsumerError> {
        if push_consumer.is_nil() {
            return Err(nil_reference().into());
        }
        let core = self.core.upgrade().ok_or_else(gone)?;
        core.check_alive()?;
        let me = self.me.upgrade().ok_or_else(gone)?;
        let filter = Filter::build(qos, core.options.filtering).map_err(|e| {
            tracing::debug!("connect_push_consumer: TypeError: {e}");
            TypeError {}
        })?;
        // Gateways' subscriptions are not in the aggregate: their comings and goings change
        // nothing an observer hears (and telling would echo between federated channels).
        let gateways_only: bool;
        {
            let mut link = self.link.lock();
            link.check_connectable(core.options.consumer_reconnect)?;
            if core
                .dispatcher
                .attach(&me, &core.options, &core.threads)
                .is_err()
            {
                return Err(no_thread().into());
            }
            gateways_only = qos.is_gateway
                && match &*link {
                    Link::Connected(old) => old.qos.is_gateway,
                    _ => true,
                };
            *link = Link::Connected(ConsumerLink {
                consumer: Arc::new(push_consumer.clone()),
                qos: qos.clone(),
            });
            let mut slot = self.filter.lock();
            for (id, _) in slot.timers.drain(..) {
                core.timers.cancel(id);
            }
            slot.state = filter.new_state();
            for (i, t) in filter.timeouts.iter().enumerate() {
                // TimeBase units are 100 ns. Clamped: a period of a few hundred nanoseconds
                // would spin the timer thread, one of centuries overflow the clock.
                let period = Duration::from_nanos(t.period.saturating_mul(100))
                    .clamp(MIN_PERIOD, MAX_PERIOD);
                let periodic = t.kind != ACE_ES_EVENT_TIMEOUT;
                let id = core
                    .timers
                    .schedule(self.me.clone(), i, t.kind, period, periodic);
                slot.timers.push((id, t.kind));
            }
            self.lane
                .store(core.options.lane_of(qos), Ordering::Relaxed);
            core.subs.set(self.id, &me, &filter.keys);
            slot.filter = Some(filter);
        }
        if !gateways_only {
            core.consumers_changed();
        }
        Ok(())
    }

    fn suspend_connection(&self) -> Result<(), SystemException> {
        if matches!(*self.link.lock(), Link::Gone) {
            return Err(gone());
        }
        self.suspended.store(true, Ordering::Release);
        Ok(())
    }

    fn resume_connection(&self) -> Result<(), SystemException> {
        if matches!(*self.link.lock(), Link::Gone) {
            return Err(gone());
        }
        self.suspended.store(false, Ordering::Release);
        Ok(())
    }
}

pub(crate) struct SupplierLink {
    pub supplier: PushSupplierRef,
    pub qos: SupplierQos,
}

/// The channel's side of a supplier: `ProxyPushConsumer`.
pub(crate) struct ConsumerProxy {
    pub oid: Vec<u8>,
    core: Weak<Core>,
    pub(crate) link: Mutex<Link<SupplierLink>>,
    /// `push`'s check, without the link's lock.
    connected: AtomicBool,
}

impl ConsumerProxy {
    pub(crate) fn new(oid: Vec<u8>, core: Weak<Core>) -> Arc<ConsumerProxy> {
        Arc::new(ConsumerProxy {
            oid,
            core,
            link: Mutex::new(Link::Idle),
            connected: AtomicBool::new(false),
        })
    }

    pub(crate) fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        self.connected.store(false, Ordering::Release);
        if let Some(core) = self.core.upgrade() {
            core.forget(&self.oid);
            if peer.as_ref().is_some_and(|p| !p.qos.is_gateway) {
                core.suppliers_changed();
            }
        }
        if let (true, Some(peer)) = (notify, peer) {
            if !peer.supplier.is_nil() {
                let _ = peer.supplier.disconnect_push_supplier();
            }
        }
        true
    }

    pub(crate) fn publications(&self) -> Option<SupplierQos> {
        match &*self.link.lock() {
            Link::Connected(s) => Some(s.qos.clone()),
            _ => None,
        }
    }

    pub(crate) fn supplier(&self) -> Option<PushSupplierRef> {
        match &*self.link.lock() {
            Link::Connected(s) if !s.supplier.is_nil() => Some(s.supplier.clone()),
            _ => None,
        }
    }
}

impl PushConsumer for ConsumerProxy {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        if !self.connected.load(Ordering::Acquire) {
            // Before connecting the events have nowhere to go (TAO drops them too); after
            // disconnecting the proxy is no more.
            return match *self.link.lock() {
                Link::Gone => Err(gone()),
                _ => Ok(()),
            };
        }
        let core = self.core.upgrade().ok_or_else(gone)?;
        core.push(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        let notify = self
            .core
            .upgrade()
            .is_some_and(|c| c.options.disconnect_callbacks);
        if self.shut(notify) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPushConsumer for ConsumerProxy {
    fn connect_push_supplier(
        &self,
        push_supplier: &PushSupplierRef,
        qos: &SupplierQos,
    ) -> Result<(), proxy_push_consumer::ConnectPushSupplierError> {
        // A nil supplier is allowed: it is never told anything.
        let core = self.core.upgrade().ok_or_else(gone)?;
        core.check_alive()?;
        let gateways_only: bool;
        {
            let mut link = self.link.lock();
            link.check_connectable(core.options.supplier_reconnect)?;
            gateways_only = qos.is_gateway
                && match &*link {
                    Link::Connected(old) => old.qos.is_gateway,
                    _ => true,
                };
            *link = Link::Connected(SupplierLink {
                supplier: push_supplier.clone(),
                qos: qos.clone(),
            });
            self.connected.store(true, Ordering::Release);
        }
        if !gateways_only {
            core.suppliers_changed();
        }
        Ok(())
    }
}
