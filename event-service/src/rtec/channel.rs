//! The real-time channel itself: [`RtecChannel`], the handle an embedding program keeps, and
//! the core its servants share (proxies, subscription tables, dispatching, timers,
//! observers, liveness control).

use super::admin::{ChannelServant, ConsumerAdminServant, SupplierAdminServant};
use super::dispatch::Dispatcher;
use super::filter::Input;
use super::idl::rtec_event_channel_admin::{
    consumer_admin, event_channel, proxy_push_consumer, proxy_push_supplier, supplier_admin,
    ConsumerQos, Dependency, EventChannelRef, Observer, ObserverRef, ProxyPushConsumerRef,
    ProxyPushSupplierRef, Publication, SupplierQos,
};
use super::idl::rtec_event_comm::Event;
use super::options::{ObserverStrategy, RtecOptions, SupplierFiltering};
use super::proxy::{Accepted, ConsumerProxy, SupplierProxy};
use super::subscriptions::Subscriptions;
use super::threads::Threads;
use super::timeout::Timers;
use super::{event, ACE_ES_DISJUNCTION_DESIGNATOR};
use crate::channel::{gone, internal, unreachable};
use orb::exception::SystemException;
use orb::poa::{IdAssignment, Lifespan, Policy};
use orb::{ObjectRef, Orb, OrbError, OrbPoa, ServantRef};
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Counters of one consumer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Its proxy's object id.
    pub proxy: String,
    /// Events dispatched to it and not yet pushed.
    pub queued: usize,
    /// Events dropped from full queues that were for it.
    pub dropped: u64,
    /// Events pushed to it.
    pub delivered: u64,
    pub lane: usize,
    pub suspended: bool,
}

/// A snapshot of a channel's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtecStats {
    /// Connected consumers, in connection order, each with its own counters.
    pub consumers: Vec<ConsumerStats>,
    /// Connected suppliers.
    pub suppliers: usize,
    /// Events suppliers pushed.
    pub pushed: u64,
    /// Events dropped at their supplier's proxy: no consumer subscribed to their `(source,
    /// type)`.
    pub unsubscribed: u64,
    /// Events dropped from full queues, for consumers connected or gone.
    pub dropped: u64,
    /// Consumers and suppliers disconnected because they were found dead.
    pub reaped: u64,
    /// Pushes a consumer refused with an exception that does not mean it is gone.
    pub refused: u64,
    /// Timers in the timeout heap.
    pub timers: usize,
    /// The channel's threads still running (dispatching, timers, control): none once it
    /// is destroyed.
    pub threads: usize,
}

/// A real-time event channel (TAO's `RtecEventChannelAdmin::EventChannel`) served by an
/// ORB, in a POA of its own. Dropping the handle leaves it running; [`RtecChannel::destroy`]
/// or the IDL `destroy` ends it.
pub struct RtecChannel {
    core: Arc<Core>,
    reference: EventChannelRef,
}

static CHANNEL_NUMBER: AtomicU64 = AtomicU64::new(0);

const CHANNEL_ID: &[u8] = b"channel";
pub(crate) const CONSUMER_ADMIN_ID: &[u8] = b"consumers";
pub(crate) const SUPPLIER_ADMIN_ID: &[u8] = b"suppliers";

impl RtecChannel {
    /// A new channel in `orb`: its POA, dispatching threads, timer and control threads.
    pub fn start(orb: &Orb, options: RtecOptions) -> Result<RtecChannel, OrbError> {
        let root = orb.root_poa();
        let n = CHANNEL_NUMBER.fetch_add(1, Ordering::Relaxed);
        let mut policies = vec![Policy::IdAssignment(IdAssignment::UserId)];
        if options.persistent {
            policies.push(Policy::Lifespan(Lifespan::Persistent));
        }
        let poa = root.create_poa(
            &format!("RtecEventChannel{n}"),
            Some(root.manager().clone()),
            &policies,
        )?;
        // Proxy ids unique across runs: in a persistent POA, a reference to a proxy of a
        // process since killed must not reach a new proxy that happens to have its number.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let threads = Threads::default();
        // NO_RESOURCES, as the COS channel answers when it cannot make a thread.
        let no_thread = |_: std::io::Error| OrbError::System(crate::channel::no_thread());
        let dispatcher = Dispatcher::start(&options, &threads).map_err(no_thread)?;
        let timers = Timers::start(options.timer_capacity, &threads).map_err(no_thread)?;
        let core = Arc::new_cyclic(|me| Core {
            orb: orb.clone(),
            poa,
            options,
            me: me.clone(),
            run,
            state: Mutex::new(State::default()),
            subs: Subscriptions::new(),
            dispatcher,
            timers,
            threads,
            observers: Mutex::new(Observers::default()),
            consumer_updates: AtomicU64::new(0),
            supplier_updates: AtomicU64::new(0),
            stopping: Mutex::new(false),
            stop: Condvar::new(),
            next_id: AtomicU64::new(0),
            pushed: AtomicU64::new(0),
            unsubscribed: AtomicU64::new(0),
            dropped_gone: AtomicU64::new(0),
            reaped: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        // Every object active before the first reference is made: making one starts the
        // ORB's listeners, and a client that knew the channel from an earlier run (its POA
        // persistent) may call `for_suppliers` at once, which needs the admins.
        for (id, servant) in [
            (
                CHANNEL_ID,
                event_channel::servant(ChannelServant(core.clone())),
            ),
            (
                CONSUMER_ADMIN_ID,
                consumer_admin::servant(ConsumerAdminServant(core.me.clone())),
            ),
            (
                SUPPLIER_ADMIN_ID,
                supplier_admin::servant(SupplierAdminServant(core.me.clone())),
            ),
        ] {
            core.poa.activate_object_with_id(id, servant)?;
        }
        let obj = core
            .orb
            .id_to_reference(&core.poa, CHANNEL_ID, event_channel::REPOSITORY_ID)?;
        let period = match (core.options.consumer_control, core.options.supplier_control) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(period) = period {
            let weak = core.me.clone();
            core.threads
                .spawn("rtec-control", move || control_loop(&weak, period))
                .map_err(no_thread)?;
        }
        Ok(RtecChannel {
            core,
            reference: EventChannelRef::unchecked_narrow(obj),
        })
    }

    /// The channel object, as the ORB it was started in sees it (collocated calls through
    /// it go straight to the servants).
    pub fn reference(&self) -> &EventChannelRef {
        &self.reference
    }

    pub fn object(&self) -> &ObjectRef {
        self.reference.object()
    }

    pub fn options(&self) -> &RtecOptions {
        &self.core.options
    }

    /// Also serves the channel under the plain object key `key` (`corbaloc::HOST:PORT/KEY`),
    /// until it is destroyed, as the COS channel's namesake does (the daemon's
    /// `RtEventChannel`).
    pub fn register_well_known(&self, key: &str) -> Result<ObjectRef, OrbError> {
        let servant = self.core.poa.id_to_servant(CHANNEL_ID)?;
        let obj = self.core.orb.register_well_known(key, servant)?;
        self.core.state.lock().well_known.push(key.to_owned());
        Ok(obj)
    }

    pub fn stats(&self) -> RtecStats {
        self.core.stats()
    }

    pub fn is_destroyed(&self) -> bool {
        self.core.state.lock().destroyed
    }

    /// The IDL `destroy`: every connected consumer and supplier is told, every object of
    /// the channel deactivated, and every thread of the channel joined (but the caller's,
    /// when a consumer's callback destroys it).
    pub fn destroy(&self) {
        self.core.destroy();
    }
}

pub(crate) struct Core {
    orb: Orb,
    poa: OrbPoa,
    pub options: RtecOptions,
    pub me: Weak<Core>,
    state: Mutex<State>,
    pub subs: Subscriptions<SupplierProxy>,
    pub dispatcher: Dispatcher,
    pub timers: Arc<Timers<SupplierProxy>>,
    pub threads: Threads,
    observers: Mutex<Observers>,
    /// Numbers the changes observers are told of. No lock is held while they are told (an
    /// observer may well connect to this channel from its update, from another thread): an
    /// update already overtaken by a newer change is not sent, so the last an observer
    /// hears is the latest state.
    consumer_updates: AtomicU64,
    supplier_updates: AtomicU64,
    stopping: Mutex<bool>,
    stop: Condvar,
    /// When this channel started (ns since the epoch): part of its proxies' object ids.
    run: u64,
    next_id: AtomicU64,
    pushed: AtomicU64,
    unsubscribed: AtomicU64,
    pub dropped_gone: AtomicU64,
    pub reaped: AtomicU64,
    pub refused: AtomicU64,
}

#[derive(Default)]
struct State {
    destroyed: bool,
    /// Every proxy not yet disposed of, by object id, and in creation order.
    proxies: HashMap<Vec<u8>, Proxy>,
    order: Vec<Vec<u8>>,
    /// Plain object keys the channel is also served under, unregistered when it is destroyed.
    well_known: Vec<String>,
}

#[derive(Clone)]
enum Proxy {
    Supplier(Arc<SupplierProxy>),
    Consumer(Arc<ConsumerProxy>),
}

#[derive(Default)]
struct Observers {
    next: u32,
    list: Vec<(u32, ObserverRef)>,
}

impl Core {
    pub(crate) fn reference(&self, id: &[u8], type_id: &str) -> Result<ObjectRef, SystemException> {
        self.orb
            .id_to_reference(&self.poa, id, type_id)
            .map_err(internal)
    }

    pub(crate) fn check_alive(&self) -> Result<(), SystemException> {
        if self.state.lock().destroyed {
            return Err(gone());
        }
        Ok(())
    }

    /// Registers and activates a new proxy (under the state's lock, so that a destroy either
    /// sees it or comes first).
    fn add_proxy(
        &self,
        oid: &[u8],
        proxy: Proxy,
        servant: ServantRef,
    ) -> Result<(), SystemException> {
        let mut st = self.state.lock();
        if st.destroyed {
            return Err(gone());
        }
        self.poa
            .activate_object_with_id(oid, servant)
            .map_err(|e| internal(e.into()))?;
        st.proxies.insert(oid.to_vec(), proxy);
        st.order.push(oid.to_vec());
        Ok(())
    }

    pub(crate) fn obtain_push_supplier(&self) -> Result<ProxyPushSupplierRef, SystemException> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let oid = format!("consumer-{:x}-{id}", self.run).into_bytes();
        let p = SupplierProxy::new(id, oid.clone(), self.me.clone());
        let servant: ServantRef = Arc::new(proxy_push_supplier::Tie::from_arc(p.clone()));
        self.add_proxy(&oid, Proxy::Supplier(p), servant)?;
        let obj = self.reference(&oid, proxy_push_supplier::REPOSITORY_ID)?;
        Ok(ProxyPushSupplierRef::unchecked_narrow(obj))
    }

    pub(crate) fn obtain_push_consumer(&self) -> Result<ProxyPushConsumerRef, SystemException> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let oid = format!("supplier-{:x}-{id}", self.run).into_bytes();
        let p = ConsumerProxy::new(oid.clone(), self.me.clone());
        let servant: ServantRef = Arc::new(proxy_push_consumer::Tie::from_arc(p.clone()));
        self.add_proxy(&oid, Proxy::Consumer(p), servant)?;
        let obj = self.reference(&oid, proxy_push_consumer::REPOSITORY_ID)?;
        Ok(ProxyPushConsumerRef::unchecked_narrow(obj))
    }

    /// Forgets a disposed-of proxy: its object goes.
    pub(crate) fn forget(&self, oid: &[u8]) {
        let mut st = self.state.lock();
        st.proxies.remove(oid);
        st.order.retain(|o| o != oid);
        drop(st);
        // Already gone when the whole POA was destroyed.
        let _ = self.poa.deactivate_object(oid);
    }

    fn proxies(&self) -> Vec<Proxy> {
        let st = self.state.lock();
        st.order
            .iter()
            .filter_map(|o| st.proxies.get(o).cloned())
            .collect()
    }

    fn consumer_proxies(&self) -> Vec<Arc<SupplierProxy>> {
        self.proxies()
            .into_iter()
            .filter_map(|p| match p {
                Proxy::Supplier(s) => Some(s),
                Proxy::Consumer(_) => None,
            })
            .collect()
    }

    fn supplier_proxies(&self) -> Vec<Arc<ConsumerProxy>> {
        self.proxies()
            .into_iter()
            .filter_map(|p| match p {
                Proxy::Consumer(c) => Some(c),
                Proxy::Supplier(_) => None,
            })
            .collect()
    }

    /// Events from a supplier: each is matched against one snapshot of the subscription
    /// tables and handed to the consumers whose filters take it.
    pub(crate) fn push(&self, events: &[Event]) {
        let snapshot = self.subs.snapshot();
        for e in events {
            self.pushed.fetch_add(1, Ordering::Relaxed);
            let input = Input {
                event: e,
                timer: None,
            };
            let mut single = None;
            let visit = |c: &Arc<SupplierProxy>| match c.accept(&input) {
                Some(Accepted::Single) => self.dispatcher.dispatch_event(c, e, &mut single),
                Some(Accepted::Set(batch)) => self.dispatcher.dispatch(c, batch),
                None => {}
            };
            let candidates = match self.options.supplier_filtering {
                SupplierFiltering::Null => snapshot.for_each_candidate(0, 0, visit),
                SupplierFiltering::PerSupplier => {
                    snapshot.for_each_candidate(e.header.source, e.header.r#type, visit)
                }
            };
            if candidates == 0 {
                self.unsubscribed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn stats(&self) -> RtecStats {
        let mut s = RtecStats {
            pushed: self.pushed.load(Ordering::Relaxed),
            unsubscribed: self.unsubscribed.load(Ordering::Relaxed),
            dropped: self.dropped_gone.load(Ordering::Relaxed),
            reaped: self.reaped.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            timers: self.timers.len(),
            threads: self.threads.live(),
            ..RtecStats::default()
        };
        for p in self.proxies() {
            match p {
                Proxy::Supplier(c) if c.is_connected() => {
                    let dropped = c.dropped.load(Ordering::Relaxed);
                    s.dropped += dropped;
                    s.consumers.push(ConsumerStats {
                        proxy: String::from_utf8_lossy(&c.oid).into_owned(),
                        queued: c.queued.load(Ordering::Relaxed),
                        dropped,
                        delivered: c.delivered.load(Ordering::Relaxed),
                        lane: c.lane.load(Ordering::Relaxed),
                        suspended: c.suspended.load(Ordering::Relaxed),
                    });
                }
                Proxy::Consumer(c) if c.publications().is_some() => s.suppliers += 1,
                _ => {}
            }
        }
        s
    }

    // ---- observers (TAO's EC_Basic_ObserverStrategy) ----------------------------------

    pub(crate) fn append_observer(&self, observer: &ObserverRef) -> Result<u32, ObserverRefusal> {
        if self.options.observer == ObserverStrategy::Null {
            return Err(ObserverRefusal::Unsupported);
        }
        self.check_alive().map_err(ObserverRefusal::System)?;
        let handle = {
            let mut obs = self.observers.lock();
            obs.next += 1;
            let h = obs.next;
            obs.list.push((h, observer.clone()));
            h
        };
        // A new observer learns the present state at once.
        let consumers = self.consumer_aggregate();
        let suppliers = self.supplier_aggregate();
        let failed = observer
            .update_consumer(&consumers)
            .and_then(|()| observer.update_supplier(&suppliers));
        if let Err(e) = failed {
            self.drop_observer_if_dead(handle, &e);
        }
        Ok(handle)
    }

    pub(crate) fn remove_observer(&self, handle: u32) -> Result<(), ObserverRefusal> {
        if self.options.observer == ObserverStrategy::Null {
            return Err(ObserverRefusal::Unsupported);
        }
        let mut obs = self.observers.lock();
        let before = obs.list.len();
        obs.list.retain(|(h, _)| *h != handle);
        if obs.list.len() == before {
            return Err(ObserverRefusal::Unknown);
        }
        Ok(())
    }

    fn observer_list(&self) -> Vec<(u32, ObserverRef)> {
        if self.options.observer == ObserverStrategy::Null {
            return Vec::new();
        }
        self.observers.lock().list.clone()
    }

    fn drop_observer_if_dead(&self, handle: u32, e: &SystemException) {
        if unreachable(e.kind) {
            self.observers.lock().list.retain(|(h, _)| *h != handle);
        }
    }

    /// Every subscription of the connected consumers, gateways' excepted (so that
    /// federated channels do not echo each other's interests back), as one disjunction.
    fn consumer_aggregate(&self) -> ConsumerQos {
        let mut headers = BTreeSet::new();
        for c in self.consumer_proxies() {
            if let Some((hs, false)) = c.subscriptions() {
                headers.extend(hs);
            }
        }
        // The prefix form: the designator's source counts its children.
        let mut dependencies = vec![Dependency {
            event: event(headers.len() as i32, ACE_ES_DISJUNCTION_DESIGNATOR),
            rt_info: 0,
        }];
        dependencies.extend(headers.into_iter().map(|(source, ty)| Dependency {
            event: event(source, ty),
            rt_info: 0,
        }));
        ConsumerQos {
            dependencies,
            is_gateway: false,
        }
    }

    fn supplier_aggregate(&self) -> SupplierQos {
        let mut seen = BTreeSet::new();
        let mut publications: Vec<Publication> = Vec::new();
        for s in self.supplier_proxies() {
            let Some(qos) = s.publications() else {
                continue;
            };
            if qos.is_gateway {
                continue;
            }
            for p in qos.publications {
                if seen.insert((p.event.header.source, p.event.header.r#type)) {
                    publications.push(p);
                }
            }
        }
        SupplierQos {
            publications,
            is_gateway: false,
        }
    }

    pub(crate) fn consumers_changed(&self) {
        let observers = self.observer_list();
        if observers.is_empty() || self.state.lock().destroyed {
            return;
        }
        let n = self.consumer_updates.fetch_add(1, Ordering::SeqCst) + 1;
        let qos = self.consumer_aggregate();
        for (h, o) in observers {
            if self.consumer_updates.load(Ordering::SeqCst) != n {
                return;
            }
            if let Err(e) = o.update_consumer(&qos) {
                self.drop_observer_if_dead(h, &e);
            }
        }
    }

    pub(crate) fn suppliers_changed(&self) {
        let observers = self.observer_list();
        if observers.is_empty() || self.state.lock().destroyed {
            return;
        }
        let n = self.supplier_updates.fetch_add(1, Ordering::SeqCst) + 1;
        let qos = self.supplier_aggregate();
        for (h, o) in observers {
            if self.supplier_updates.load(Ordering::SeqCst) != n {
                return;
            }
            if let Err(e) = o.update_supplier(&qos) {
                self.drop_observer_if_dead(h, &e);
            }
        }
    }

    // ---- liveness and destruction -------------------------------------------------------

    /// One round of TAO's reactive consumer and supplier control: each peer is asked
    /// `_non_existent`; the ones that are gone or unreachable are disconnected (and told).
    fn probe(&self) {
        let dead = |r: Result<bool, SystemException>| match r {
            Ok(gone) => gone,
            Err(e) => unreachable(e.kind),
        };
        if self.options.consumer_control.is_some() {
            for c in self.consumer_proxies() {
                if let Some(consumer) = c.consumer() {
                    if dead(consumer.non_existent()) {
                        c.dead(self);
                    }
                }
            }
        }
        if self.options.supplier_control.is_some() {
            for s in self.supplier_proxies() {
                if let Some(supplier) = s.supplier() {
                    if dead(supplier.non_existent()) && s.shut(true) {
                        self.reaped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    pub(crate) fn destroy(&self) {
        let (proxies, keys) = {
            let mut st = self.state.lock();
            if st.destroyed {
                return;
            }
            st.destroyed = true;
            let proxies = st
                .order
                .iter()
                .filter_map(|o| st.proxies.get(o).cloned())
                .collect::<Vec<Proxy>>();
            (proxies, std::mem::take(&mut st.well_known))
        };
        for key in keys {
            self.orb.poa_tree().unregister_well_known(key.as_bytes());
        }
        self.subs.clear();
        *self.stopping.lock() = true;
        self.stop.notify_all();
        for p in proxies {
            match p {
                Proxy::Supplier(s) => s.shut(true),
                Proxy::Consumer(c) => c.shut(true),
            };
        }
        self.observers.lock().list.clear();
        self.dispatcher.shutdown();
        self.timers.stop();
        // Every object of the channel goes at once, its own and the admins too.
        let _ = self.poa.destroy();
        self.threads.join_all();
    }
}

/// Why `append_observer` or `remove_observer` refused.
pub(crate) enum ObserverRefusal {
    /// `-ECObserver null`.
    Unsupported,
    Unknown,
    System(SystemException),
}

fn control_loop(core: &Weak<Core>, period: Duration) {
    loop {
        {
            let Some(c) = core.upgrade() else { return };
            let mut stopping = c.stopping.lock();
            if !*stopping {
                c.stop.wait_for(&mut stopping, period);
            }
            if *stopping {
                return;
            }
        }
        match core.upgrade() {
            Some(c) => c.probe(),
            None => return,
        }
    }
}
