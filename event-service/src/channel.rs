//! The untyped COS event channel (OMG Event Service, formal/04-10-02, chapter 3): the
//! `EventChannel` object, its two admins and the four kinds of proxy, all in a POA of the
//! channel's own, usable in any process and called the same way collocated or remote.
//!
//! Delivery never makes a supplier wait for a consumer: an event a supplier pushes (or the
//! channel pulls) is appended to the bounded queue of every connected consumer-side proxy, and
//! each proxy push supplier empties its queue towards its consumer on a thread of its own. So
//! a slow, blocked or dead consumer costs only its own queue (the oldest events go when it is
//! full, and are counted), and events from one supplier reach each consumer in the order
//! pushed.

use crate::cos_event_channel_admin::{
    consumer_admin, event_channel, proxy_pull_consumer, proxy_pull_supplier, proxy_push_consumer,
    proxy_push_supplier, supplier_admin, AlreadyConnected, ConsumerAdmin, ConsumerAdminRef,
    EventChannel as EventChannelOps, EventChannelRef, ProxyPullConsumer, ProxyPullConsumerRef,
    ProxyPullSupplier, ProxyPullSupplierRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin, SupplierAdminRef,
};
use crate::cos_event_comm::{
    pull_supplier, push_consumer, Disconnected, PullConsumer, PullConsumerRef, PullSupplier,
    PullSupplierRef, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use crate::queue::{EventQueue, Pop};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::poa::{IdAssignment, Lifespan, Policy};
use orb::typecode::Any;
use orb::{ObjectRef, Orb, OrbError, OrbPoa, ServantRef};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How the channel gets events from a pull supplier connected to one of its proxy pull
/// consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullMode {
    /// `try_pull`, and when there is nothing, again after [`ChannelOptions::pull_interval`].
    TryPull,
    /// `pull`, which the supplier answers when it has an event (one thread blocked in it per
    /// pull supplier, here and there).
    Pull,
}

/// What a channel can be tuned with.
#[derive(Clone, Debug)]
pub struct ChannelOptions {
    /// Events held for each consumer that has not taken them yet; when full, the oldest is
    /// dropped (and counted in [`ChannelStats::dropped`]).
    pub queue_length: usize,
    pub pull_mode: PullMode,
    /// How long to wait before polling a pull supplier again after a `try_pull` found nothing.
    pub pull_interval: Duration,
    /// A consumer or pull supplier that fails this many times in a row with
    /// `OBJECT_NOT_EXIST`, `COMM_FAILURE` or `TRANSIENT` is disconnected.
    pub max_failures: u32,
    /// The pause before calling such a failing peer again.
    pub retry_interval: Duration,
    /// The channel's POA is PERSISTENT: a process that starts its channels in the same
    /// order on the same endpoint after a restart (the daemon does) answers the references
    /// of the channel and its admins it gave out before. What a channel held in memory —
    /// its proxies, their queued events — is not kept: the proxies of the process killed
    /// answer OBJECT_NOT_EXIST, and clients connect again (see
    /// [`crate::ReconnectingPushSupplier`], [`crate::ReconnectingPushConsumer`]).
    pub persistent: bool,
}

impl Default for ChannelOptions {
    fn default() -> ChannelOptions {
        ChannelOptions {
            queue_length: 1024,
            pull_mode: PullMode::TryPull,
            pull_interval: Duration::from_millis(100),
            max_failures: 3,
            retry_interval: Duration::from_millis(100),
            persistent: false,
        }
    }
}

/// A snapshot of a channel's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Consumer-side proxies (push and pull suppliers) connected now.
    pub consumers: usize,
    /// Supplier-side proxies (push and pull consumers) connected now.
    pub suppliers: usize,
    /// Events dropped from full queues since the channel started.
    pub dropped: u64,
    /// Calls to `pull` on proxy pull suppliers waiting for an event now.
    pub pulls_waiting: usize,
    /// Events a consumer's push refused with a system exception other than the ones that
    /// count as unreachable (which are retried): skipped for that consumer.
    pub refused: u64,
}

/// An event channel served by an ORB. Dropping the handle leaves the channel running (its
/// objects live in the ORB's POA); [`EventChannel::destroy`] or the IDL `destroy` ends it.
pub struct EventChannel {
    channel: Arc<Channel>,
    reference: EventChannelRef,
}

static CHANNEL_NUMBER: AtomicU64 = AtomicU64::new(0);

impl EventChannel {
    /// A new channel in `orb`, in a POA of its own under the root POA.
    pub fn start(orb: &Orb, options: ChannelOptions) -> Result<EventChannel, OrbError> {
        let root = orb.root_poa();
        let n = CHANNEL_NUMBER.fetch_add(1, Ordering::Relaxed);
        let mut policies = vec![Policy::IdAssignment(IdAssignment::UserId)];
        if options.persistent {
            policies.push(Policy::Lifespan(Lifespan::Persistent));
        }
        let poa = root.create_poa(
            &format!("EventChannel{n}"),
            Some(root.manager().clone()),
            &policies,
        )?;
        // Proxy ids unique across runs: in a persistent POA, a reference to a proxy of a
        // process since killed must not reach a new proxy that happens to have its number.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let channel = Arc::new_cyclic(|me| Channel {
            orb: orb.clone(),
            poa,
            options,
            me: me.clone(),
            run,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            pulls_waiting: AtomicUsize::new(0),
        });
        // Every object active before the first reference is made: making one starts the
        // ORB's listeners, and a client that knew the channel from an earlier run (its POA
        // persistent) may call `for_suppliers` at once, which needs the admins.
        for (id, servant) in [
            (
                CHANNEL_ID,
                event_channel::servant(ChannelServant(channel.clone())),
            ),
            (
                CONSUMER_ADMIN_ID,
                consumer_admin::servant(ConsumerAdminServant(channel.me.clone())),
            ),
            (
                SUPPLIER_ADMIN_ID,
                supplier_admin::servant(SupplierAdminServant(channel.me.clone())),
            ),
        ] {
            channel.poa.activate_object_with_id(id, servant)?;
        }
        let obj =
            channel
                .orb
                .id_to_reference(&channel.poa, CHANNEL_ID, event_channel::REPOSITORY_ID)?;
        Ok(EventChannel {
            channel,
            reference: EventChannelRef::unchecked_narrow(obj),
        })
    }

    /// The channel object, as the ORB it was started in sees it.
    pub fn reference(&self) -> &EventChannelRef {
        &self.reference
    }

    /// The channel object, untyped (for `object_to_string`, a naming service).
    pub fn object(&self) -> &ObjectRef {
        self.reference.object()
    }

    /// Also serves the channel under the plain object key `key` (`corbaloc::HOST:PORT/KEY`),
    /// until it is destroyed.
    pub fn register_well_known(&self, key: &str) -> Result<ObjectRef, OrbError> {
        let servant = self.channel.poa.id_to_servant(CHANNEL_ID)?;
        let obj = self.channel.orb.register_well_known(key, servant)?;
        self.channel.state.lock().well_known.push(key.to_owned());
        Ok(obj)
    }

    pub fn stats(&self) -> ChannelStats {
        self.channel.stats()
    }

    pub fn is_destroyed(&self) -> bool {
        self.channel.state.lock().destroyed
    }

    /// The IDL `destroy`: every connected supplier and consumer is told (its `disconnect_*`
    /// is called) and every object of the channel is deactivated.
    pub fn destroy(&self) {
        self.channel.destroy();
    }
}

const CHANNEL_ID: &[u8] = b"channel";
const CONSUMER_ADMIN_ID: &[u8] = b"consumers";
const SUPPLIER_ADMIN_ID: &[u8] = b"suppliers";

struct Channel {
    orb: Orb,
    poa: OrbPoa,
    options: ChannelOptions,
    me: Weak<Channel>,
    /// When this channel started (ns since the epoch): part of its proxies' object ids.
    run: u64,
    state: Mutex<State>,
    next_id: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    pulls_waiting: AtomicUsize,
}

#[derive(Default)]
struct State {
    destroyed: bool,
    well_known: Vec<String>,
    /// Every proxy not yet disconnected, by object id.
    proxies: HashMap<Vec<u8>, Proxy>,
    /// The queues of connected consumer-side proxies, in connection order.
    sinks: Vec<(Vec<u8>, Arc<EventQueue>)>,
}

#[derive(Clone)]
enum Proxy {
    PushSupplier(Arc<PushSupplierProxy>),
    PullSupplier(Arc<PullSupplierProxy>),
    PushConsumer(Arc<PushConsumerProxy>),
    PullConsumer(Arc<PullConsumerProxy>),
}

impl Proxy {
    fn shut(&self, notify: bool) -> bool {
        match self {
            Proxy::PushSupplier(p) => p.shut(notify),
            Proxy::PullSupplier(p) => p.shut(notify),
            Proxy::PushConsumer(p) => p.shut(notify),
            Proxy::PullConsumer(p) => p.shut(notify),
        }
    }

    fn is_connected(&self) -> bool {
        match self {
            Proxy::PushSupplier(p) => p.link.lock().is_connected(),
            Proxy::PullSupplier(p) => p.link.lock().is_connected(),
            Proxy::PushConsumer(p) => p.link.lock().is_connected(),
            Proxy::PullConsumer(p) => p.link.lock().is_connected(),
        }
    }

    fn is_consumer_side(&self) -> bool {
        matches!(self, Proxy::PushSupplier(_) | Proxy::PullSupplier(_))
    }
}

impl Channel {
    fn reference(&self, id: &[u8], type_id: &str) -> Result<ObjectRef, SystemException> {
        self.orb
            .id_to_reference(&self.poa, id, type_id)
            .map_err(internal)
    }

    fn check_alive(&self) -> Result<(), SystemException> {
        if self.state.lock().destroyed {
            return Err(gone());
        }
        Ok(())
    }

    fn stats(&self) -> ChannelStats {
        // The proxies' links are locked after the channel's state is let go: connecting
        // locks them in the other order.
        let proxies: Vec<Proxy> = self.state.lock().proxies.values().cloned().collect();
        let mut s = ChannelStats {
            dropped: self.dropped.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            pulls_waiting: self.pulls_waiting.load(Ordering::SeqCst),
            ..ChannelStats::default()
        };
        for p in proxies.iter().filter(|p| p.is_connected()) {
            if p.is_consumer_side() {
                s.consumers += 1;
            } else {
                s.suppliers += 1;
            }
        }
        s
    }

    /// Makes a proxy with a fresh object id and activates it: `make` builds the proxy and its
    /// servant from the id.
    fn new_proxy(
        &self,
        type_id: &str,
        make: impl FnOnce(Vec<u8>) -> (Proxy, ServantRef),
    ) -> Result<ObjectRef, SystemException> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("proxy-{:x}-{n}", self.run).into_bytes();
        let (proxy, servant) = make(id.clone());
        // Under the lock, so that a destroy either sees this proxy or comes first.
        let mut st = self.state.lock();
        if st.destroyed {
            return Err(gone());
        }
        self.poa
            .activate_object_with_id(&id, servant)
            .map_err(|e| internal(e.into()))?;
        st.proxies.insert(id.clone(), proxy);
        drop(st);
        self.reference(&id, type_id)
    }

    /// Starts giving events to `queue` (a consumer-side proxy just connected).
    fn add_sink(&self, id: &[u8], queue: Arc<EventQueue>) -> Result<(), SystemException> {
        let mut st = self.state.lock();
        if st.destroyed {
            return Err(gone());
        }
        st.sinks.push((id.to_vec(), queue));
        Ok(())
    }

    /// Forgets a proxy that is disconnected: no more events, and its object deactivated.
    fn forget(&self, id: &[u8]) {
        let mut st = self.state.lock();
        st.proxies.remove(id);
        st.sinks.retain(|(i, _)| i != id);
        drop(st);
        // Already gone when the whole POA was destroyed: nothing left to do then.
        let _ = self.poa.deactivate_object(id);
    }

    /// An event from a supplier, for every connected consumer. Queued under the channel's
    /// lock, so that every consumer sees concurrent suppliers' events in the same order.
    fn deliver(&self, event: &Any) {
        let st = self.state.lock();
        for (_, q) in &st.sinks {
            if q.push(event.clone()) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn destroy(&self) {
        let (proxies, keys) = {
            let mut st = self.state.lock();
            if st.destroyed {
                return;
            }
            st.destroyed = true;
            st.sinks.clear();
            let proxies: Vec<Proxy> = st.proxies.values().cloned().collect();
            (proxies, std::mem::take(&mut st.well_known))
        };
        for p in proxies {
            p.shut(true);
        }
        for key in keys {
            self.orb.poa_tree().unregister_well_known(key.as_bytes());
        }
        // Every object of the channel goes at once, the channel's own and the admins too.
        let _ = self.poa.destroy();
    }

    fn orb_is_running(&self) -> bool {
        self.orb.perform_work()
    }
}

/// `OBJECT_NOT_EXIST`: the proxy or channel was disconnected or destroyed. What a remote
/// caller gets from the POA then; a collocated caller that skipped the POA gets it from us.
pub(crate) fn gone() -> SystemException {
    SystemException::new(
        SystemExceptionKind::OBJECT_NOT_EXIST,
        orb::exception::minor::OBJECT_NOT_EXIST_NO_MATCH,
        CompletionStatus::No,
    )
}

/// CORBA 3.0 §4.11.3.28: "A parameter passed to a call is out of range or otherwise
/// considered illegal."
pub(crate) fn nil_reference() -> SystemException {
    SystemException::new(
        SystemExceptionKind::BAD_PARAM,
        orb::exception::minor::OMG_VMCID,
        CompletionStatus::No,
    )
}

/// `NO_RESOURCES`: no thread could be made for a proxy's deliveries or pulls.
pub(crate) fn no_thread() -> SystemException {
    SystemException::new(SystemExceptionKind::NO_RESOURCES, 0, CompletionStatus::No)
}

pub(crate) fn internal(e: OrbError) -> SystemException {
    match e {
        OrbError::System(s) => s,
        _ => SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No),
    }
}

/// Whether a peer failing with `kind` looks unreachable (gone, or the way to it broken), as
/// opposed to refusing one call.
pub(crate) fn unreachable(kind: SystemExceptionKind) -> bool {
    matches!(
        kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
            | SystemExceptionKind::COMM_FAILURE
            | SystemExceptionKind::TRANSIENT
    )
}

/// Runs `f` (a call to a peer's `disconnect_*`) on a thread of its own: the peer may call
/// back into the channel from it, or be slow to answer, and neither must hold up the
/// disconnect or destroy that tells it.
fn tell_peer(f: impl FnOnce() + Send + 'static) {
    // A peer that is not told because no thread could be made is no worse off than one that
    // is unreachable; the channel's side is disconnected either way.
    let _ = spawn("event-disconnect", f);
}

/// A thread of the channel's. Its calls to peers go on connections of their own: a peer
/// process serves each connection's requests in order, so on a shared connection one
/// consumer blocked in `push` (or a supplier in `pull`) would hold up every call to its
/// process, other consumers' events included.
pub(crate) fn spawn(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name(name.into()).spawn(|| {
        orb::use_idle_connections(true);
        f()
    })
}

/// A proxy's connection to its peer.
enum Link<T> {
    /// Obtained, not connected yet.
    Idle,
    /// Connected; the peer's reference may be nil where the specification allows it.
    Connected(T),
    /// Disconnected (by either side) or destroyed with the channel: the proxy is disposed.
    Gone,
}

impl<T: Clone> Link<T> {
    fn is_connected(&self) -> bool {
        matches!(self, Link::Connected(_))
    }

    /// Connects to `peer`: `AlreadyConnected` if connected, `OBJECT_NOT_EXIST` if disposed.
    fn connect(&mut self, peer: T) -> Result<(), ConnectError> {
        match self {
            Link::Idle => {
                *self = Link::Connected(peer);
                Ok(())
            }
            Link::Connected(_) => Err(ConnectError::AlreadyConnected),
            Link::Gone => Err(ConnectError::System(gone())),
        }
    }

    /// Disposes of the link; the peer it had, if any, and whether it was not disposed already.
    fn take(&mut self) -> (Option<T>, bool) {
        match std::mem::replace(self, Link::Gone) {
            Link::Connected(p) => (Some(p), true),
            Link::Idle => (None, true),
            Link::Gone => (None, false),
        }
    }
}

enum ConnectError {
    AlreadyConnected,
    System(SystemException),
}

macro_rules! connect_error_into {
    ($($t:ty),*) => {$(
        impl From<ConnectError> for $t {
            fn from(e: ConnectError) -> $t {
                match e {
                    ConnectError::AlreadyConnected => AlreadyConnected {}.into(),
                    ConnectError::System(s) => s.into(),
                }
            }
        }
    )*};
}

connect_error_into!(
    proxy_push_supplier::ConnectPushConsumerError,
    proxy_pull_supplier::ConnectPullConsumerError,
    proxy_push_consumer::ConnectPushSupplierError,
    proxy_pull_consumer::ConnectPullSupplierError
);

// ---- The channel and its admins -------------------------------------------------------------

struct ChannelServant(Arc<Channel>);

impl EventChannelOps for ChannelServant {
    fn for_consumers(&self) -> Result<ConsumerAdminRef, SystemException> {
        self.0.check_alive()?;
        let obj = self
            .0
            .reference(CONSUMER_ADMIN_ID, consumer_admin::REPOSITORY_ID)?;
        Ok(ConsumerAdminRef::unchecked_narrow(obj))
    }

    fn for_suppliers(&self) -> Result<SupplierAdminRef, SystemException> {
        self.0.check_alive()?;
        let obj = self
            .0
            .reference(SUPPLIER_ADMIN_ID, supplier_admin::REPOSITORY_ID)?;
        Ok(SupplierAdminRef::unchecked_narrow(obj))
    }

    fn destroy(&self) -> Result<(), SystemException> {
        self.0.check_alive()?;
        self.0.destroy();
        Ok(())
    }
}

/// The admins hold the channel weakly: the channel's servant is what keeps it.
struct ConsumerAdminServant(Weak<Channel>);

fn upgrade(w: &Weak<Channel>) -> Result<Arc<Channel>, SystemException> {
    w.upgrade().ok_or_else(gone)
}

impl ConsumerAdmin for ConsumerAdminServant {
    fn obtain_push_supplier(&self) -> Result<ProxyPushSupplierRef, SystemException> {
        let ch = upgrade(&self.0)?;
        let obj = ch.new_proxy(proxy_push_supplier::REPOSITORY_ID, |id| {
            let p = Arc::new_cyclic(|me| PushSupplierProxy {
                id,
                channel: ch.me.clone(),
                me: me.clone(),
                queue: Arc::new(EventQueue::new(ch.options.queue_length)),
                link: Mutex::new(Link::Idle),
            });
            let servant: ServantRef = Arc::new(proxy_push_supplier::Tie::from_arc(Arc::clone(&p)));
            (Proxy::PushSupplier(p), servant)
        })?;
        Ok(ProxyPushSupplierRef::unchecked_narrow(obj))
    }

    fn obtain_pull_supplier(&self) -> Result<ProxyPullSupplierRef, SystemException> {
        let ch = upgrade(&self.0)?;
        let obj = ch.new_proxy(proxy_pull_supplier::REPOSITORY_ID, |id| {
            let p = Arc::new(PullSupplierProxy {
                id,
                channel: ch.me.clone(),
                queue: Arc::new(EventQueue::new(ch.options.queue_length)),
                link: Mutex::new(Link::Idle),
            });
            let servant: ServantRef = Arc::new(proxy_pull_supplier::Tie::from_arc(Arc::clone(&p)));
            (Proxy::PullSupplier(p), servant)
        })?;
        Ok(ProxyPullSupplierRef::unchecked_narrow(obj))
    }
}

struct SupplierAdminServant(Weak<Channel>);

impl SupplierAdmin for SupplierAdminServant {
    fn obtain_push_consumer(&self) -> Result<ProxyPushConsumerRef, SystemException> {
        let ch = upgrade(&self.0)?;
        let obj = ch.new_proxy(proxy_push_consumer::REPOSITORY_ID, |id| {
            let p = Arc::new(PushConsumerProxy {
                id,
                channel: ch.me.clone(),
                link: Mutex::new(Link::Idle),
            });
            let servant: ServantRef = Arc::new(proxy_push_consumer::Tie::from_arc(Arc::clone(&p)));
            (Proxy::PushConsumer(p), servant)
        })?;
        Ok(ProxyPushConsumerRef::unchecked_narrow(obj))
    }

    fn obtain_pull_consumer(&self) -> Result<ProxyPullConsumerRef, SystemException> {
        let ch = upgrade(&self.0)?;
        let obj = ch.new_proxy(proxy_pull_consumer::REPOSITORY_ID, |id| {
            let p = Arc::new_cyclic(|me| PullConsumerProxy {
                id,
                channel: ch.me.clone(),
                me: me.clone(),
                link: Mutex::new(Link::Idle),
                wake: Condvar::new(),
            });
            let servant: ServantRef = Arc::new(proxy_pull_consumer::Tie::from_arc(Arc::clone(&p)));
            (Proxy::PullConsumer(p), servant)
        })?;
        Ok(ProxyPullConsumerRef::unchecked_narrow(obj))
    }
}

// ---- Proxy push supplier: the channel pushes to a consumer ----------------------------------

struct PushSupplierProxy {
    id: Vec<u8>,
    channel: Weak<Channel>,
    me: Weak<PushSupplierProxy>,
    queue: Arc<EventQueue>,
    link: Mutex<Link<PushConsumerRef>>,
}

impl PushSupplierProxy {
    /// Disposes of the proxy; false if it was disposed of already.
    fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        self.queue.close();
        if let Some(ch) = self.channel.upgrade() {
            ch.forget(&self.id);
        }
        if let (true, Some(consumer)) = (notify, peer) {
            tell_peer(move || {
                let _ = consumer.disconnect_push_consumer();
            });
        }
        true
    }

    /// The delivery thread: pushes each queued event to the consumer until the queue closes.
    fn deliver(self: Arc<Self>, consumer: PushConsumerRef, options: ChannelOptions) {
        let mut failures = 0;
        loop {
            let event = match self.queue.pop_wait(Duration::from_secs(3600)) {
                Pop::Event(e) => e,
                Pop::Empty => continue,
                Pop::Closed => return,
            };
            loop {
                match consumer.push(&event) {
                    Ok(()) => {
                        failures = 0;
                        break;
                    }
                    // "The Disconnected exception is raised if the event communication has
                    // already been disconnected": the consumer has left, nothing to tell it.
                    Err(push_consumer::PushError::Disconnected(_)) => {
                        self.shut(false);
                        return;
                    }
                    Err(push_consumer::PushError::System(e)) if unreachable(e.kind) => {
                        failures += 1;
                        if failures >= options.max_failures {
                            self.shut(false);
                            return;
                        }
                        if self.queue.wait_closed(options.retry_interval) {
                            return;
                        }
                    }
                    Err(push_consumer::PushError::System(_)) => {
                        if let Some(ch) = self.channel.upgrade() {
                            ch.refused.fetch_add(1, Ordering::Relaxed);
                        }
                        break;
                    }
                }
            }
        }
    }
}

impl PushSupplier for PushSupplierProxy {
    fn disconnect_push_supplier(&self) -> Result<(), SystemException> {
        if self.shut(true) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPushSupplier for PushSupplierProxy {
    fn connect_push_consumer(
        &self,
        push_consumer: &PushConsumerRef,
    ) -> Result<(), proxy_push_supplier::ConnectPushConsumerError> {
        // §3.2.4: "A nil object reference may not be passed to the connect_push_consumer
        // operation; if so a BAD_PARAM exception is raised." (TypeError is for channels that
        // ask more of a consumer than PushConsumer, which this untyped one never does.)
        if push_consumer.is_nil() {
            return Err(nil_reference().into());
        }
        let ch = upgrade(&self.channel)?;
        let me = self.me.upgrade().ok_or_else(gone)?;
        {
            let mut link = self.link.lock();
            link.connect(push_consumer.clone())?;
            if let Err(e) = ch.add_sink(&self.id, self.queue.clone()) {
                *link = Link::Idle;
                return Err(e.into());
            }
        }
        let consumer = push_consumer.clone();
        let options = ch.options.clone();
        let spawned = spawn("event-push", move || me.deliver(consumer, options));
        if spawned.is_err() {
            self.shut(false);
            return Err(no_thread().into());
        }
        Ok(())
    }
}

// ---- Proxy pull supplier: a consumer pulls from the channel ---------------------------------

struct PullSupplierProxy {
    id: Vec<u8>,
    channel: Weak<Channel>,
    queue: Arc<EventQueue>,
    link: Mutex<Link<PullConsumerRef>>,
}

impl PullSupplierProxy {
    /// Disposes of the proxy; false if it was disposed of already.
    fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        self.queue.close();
        if let Some(ch) = self.channel.upgrade() {
            ch.forget(&self.id);
        }
        if let (true, Some(consumer)) = (notify, peer.filter(|c| !c.is_nil())) {
            tell_peer(move || {
                let _ = consumer.disconnect_pull_consumer();
            });
        }
        true
    }

    /// Waits for an event in slices, so that a pull does not hold a server thread past the
    /// ORB's shutdown (which waits for requests under way).
    fn wait_for_event(&self, channel: &Channel) -> Result<Any, pull_supplier::PullError> {
        loop {
            match self.queue.pop_wait(Duration::from_millis(200)) {
                Pop::Event(e) => return Ok(e),
                Pop::Closed => return Err(Disconnected {}.into()),
                Pop::Empty => {
                    if !channel.orb_is_running() {
                        return Err(SystemException::new(
                            SystemExceptionKind::TRANSIENT,
                            0,
                            CompletionStatus::No,
                        )
                        .into());
                    }
                }
            }
        }
    }

    fn check_connected(&self) -> Result<(), Disconnected> {
        if self.link.lock().is_connected() {
            Ok(())
        } else {
            Err(Disconnected {})
        }
    }
}

impl PullSupplier for PullSupplierProxy {
    fn pull(&self) -> Result<Any, pull_supplier::PullError> {
        self.check_connected()?;
        let channel = upgrade(&self.channel)?;
        channel.pulls_waiting.fetch_add(1, Ordering::SeqCst);
        let got = self.wait_for_event(&channel);
        channel.pulls_waiting.fetch_sub(1, Ordering::SeqCst);
        got
    }

    fn try_pull(&self) -> Result<(Any, bool), pull_supplier::TryPullError> {
        self.check_connected()?;
        match self.queue.try_pop() {
            Pop::Event(e) => Ok((e, true)),
            Pop::Empty => Ok((Any::default(), false)),
            Pop::Closed => Err(Disconnected {}.into()),
        }
    }

    fn disconnect_pull_supplier(&self) -> Result<(), SystemException> {
        if self.shut(true) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPullSupplier for PullSupplierProxy {
    fn connect_pull_consumer(
        &self,
        pull_consumer: &PullConsumerRef,
    ) -> Result<(), proxy_pull_supplier::ConnectPullConsumerError> {
        // §3.2.5: "If a nil object reference is passed to connect_pull_consumer, then the
        // proxy will not notify the consumer when it is disconnected" — nil is allowed.
        let ch = upgrade(&self.channel)?;
        let mut link = self.link.lock();
        link.connect(pull_consumer.clone())?;
        if let Err(e) = ch.add_sink(&self.id, self.queue.clone()) {
            *link = Link::Idle;
            return Err(e.into());
        }
        Ok(())
    }
}

// ---- Proxy push consumer: a supplier pushes into the channel --------------------------------

struct PushConsumerProxy {
    id: Vec<u8>,
    channel: Weak<Channel>,
    link: Mutex<Link<PushSupplierRef>>,
}

impl PushConsumerProxy {
    /// Disposes of the proxy; false if it was disposed of already.
    fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        if let Some(ch) = self.channel.upgrade() {
            ch.forget(&self.id);
        }
        if let (true, Some(supplier)) = (notify, peer.filter(|s| !s.is_nil())) {
            tell_peer(move || {
                let _ = supplier.disconnect_push_supplier();
            });
        }
        true
    }
}

impl PushConsumer for PushConsumerProxy {
    fn push(&self, data: &Any) -> Result<(), push_consumer::PushError> {
        // Not connected yet, or disconnected: "the Disconnected exception is raised if the
        // event communication has already been disconnected".
        if !self.link.lock().is_connected() {
            return Err(Disconnected {}.into());
        }
        upgrade(&self.channel)?.deliver(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        if self.shut(true) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPushConsumer for PushConsumerProxy {
    fn connect_push_supplier(
        &self,
        push_supplier: &PushSupplierRef,
    ) -> Result<(), proxy_push_consumer::ConnectPushSupplierError> {
        // §3.2.3: "If a nil object reference is passed to connect_push_supplier, the proxy
        // push consumer will not notify the supplier when it is disconnected" — nil is
        // allowed.
        upgrade(&self.channel)?.check_alive()?;
        self.link.lock().connect(push_supplier.clone())?;
        Ok(())
    }
}

// ---- Proxy pull consumer: the channel pulls from a supplier ---------------------------------

struct PullConsumerProxy {
    id: Vec<u8>,
    channel: Weak<Channel>,
    me: Weak<PullConsumerProxy>,
    link: Mutex<Link<PullSupplierRef>>,
    /// Signalled when the link goes, to end the puller's pauses early.
    wake: Condvar,
}

/// What one pull from a supplier gave.
enum Pulled {
    Event(Any),
    Nothing,
    Disconnected,
    Failed(SystemException),
}

impl PullConsumerProxy {
    /// Disposes of the proxy; false if it was disposed of already.
    fn shut(&self, notify: bool) -> bool {
        let (peer, was_live) = self.link.lock().take();
        if !was_live {
            return false;
        }
        self.wake.notify_all();
        if let Some(ch) = self.channel.upgrade() {
            ch.forget(&self.id);
        }
        if let (true, Some(supplier)) = (notify, peer) {
            tell_peer(move || {
                let _ = supplier.disconnect_pull_supplier();
            });
        }
        true
    }

    /// Pauses for `d`; returns whether the proxy is still connected after it.
    fn pause(&self, d: Duration) -> bool {
        let mut link = self.link.lock();
        if link.is_connected() {
            self.wake.wait_for(&mut link, d);
        }
        link.is_connected()
    }

    /// The puller thread: pulls from the supplier and feeds the channel until disconnected.
    fn pull_loop(self: Arc<Self>, supplier: PullSupplierRef, options: ChannelOptions) {
        let mut failures = 0;
        loop {
            let pulled = match options.pull_mode {
                PullMode::Pull => match supplier.pull() {
                    Ok(e) => Pulled::Event(e),
                    Err(pull_supplier::PullError::Disconnected(_)) => Pulled::Disconnected,
                    Err(pull_supplier::PullError::System(e)) => Pulled::Failed(e),
                },
                PullMode::TryPull => match supplier.try_pull() {
                    Ok((e, true)) => Pulled::Event(e),
                    Ok((_, false)) => Pulled::Nothing,
                    Err(pull_supplier::TryPullError::Disconnected(_)) => Pulled::Disconnected,
                    Err(pull_supplier::TryPullError::System(e)) => Pulled::Failed(e),
                },
            };
            let pause = match pulled {
                Pulled::Event(e) => {
                    failures = 0;
                    if !self.link.lock().is_connected() {
                        return;
                    }
                    match self.channel.upgrade() {
                        Some(ch) => ch.deliver(&e),
                        None => return,
                    }
                    None
                }
                Pulled::Nothing => {
                    failures = 0;
                    Some(options.pull_interval)
                }
                Pulled::Disconnected => {
                    self.shut(false);
                    return;
                }
                Pulled::Failed(e) if unreachable(e.kind) => {
                    failures += 1;
                    if failures >= options.max_failures {
                        self.shut(false);
                        return;
                    }
                    Some(options.retry_interval)
                }
                Pulled::Failed(_) => Some(options.pull_interval),
            };
            let connected = match pause {
                Some(d) => self.pause(d),
                None => self.link.lock().is_connected(),
            };
            if !connected {
                return;
            }
        }
    }
}

impl PullConsumer for PullConsumerProxy {
    fn disconnect_pull_consumer(&self) -> Result<(), SystemException> {
        if self.shut(true) {
            Ok(())
        } else {
            Err(gone())
        }
    }
}

impl ProxyPullConsumer for PullConsumerProxy {
    fn connect_pull_supplier(
        &self,
        pull_supplier: &PullSupplierRef,
    ) -> Result<(), proxy_pull_consumer::ConnectPullSupplierError> {
        // §3.2.6: "If a nil object reference is passed, BAD_PARAM is raised" (and, as with
        // push consumers, TypeError is for typed channels only).
        if pull_supplier.is_nil() {
            return Err(nil_reference().into());
        }
        let ch = upgrade(&self.channel)?;
        ch.check_alive()?;
        let me = self.me.upgrade().ok_or_else(gone)?;
        self.link.lock().connect(pull_supplier.clone())?;
        let supplier = pull_supplier.clone();
        let options = ch.options.clone();
        let spawned = spawn("event-pull", move || me.pull_loop(supplier, options));
        if spawned.is_err() {
            self.shut(false);
            return Err(no_thread().into());
        }
        Ok(())
    }
}
