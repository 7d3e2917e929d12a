//! Clients of a COS event channel that outlive the channel's process: a push supplier and a
//! push consumer that connect again, through the channel's reference, when the channel was
//! killed and restarted (or disconnected them).
//!
//! They need a channel reference that is still good after a restart: the daemon's
//! `corbaloc::HOST:PORT/EventChannel`, or its IOR (the daemon's channel is in a persistent
//! POA on a fixed endpoint, so the IOR it wrote or bound in a naming service stays valid).
//! A restarted channel knows nothing of the proxies of the one killed: what is reconnected
//! is a fresh proxy, obtained from the channel's admin as the first one was.
//!
//! What each promises:
//!
//! - [`ReconnectingPushSupplier::push`] returns `Ok` when the channel took the event: it was
//!   queued for every consumer connected at that moment (a channel killed afterwards loses
//!   what it had queued and not yet delivered). A push that fails before the channel could
//!   have taken the event (`TRANSIENT`, `OBJECT_NOT_EXIST` — the proxy of a channel since
//!   restarted — or `Disconnected`, all COMPLETED_NO) is tried again on a new proxy until
//!   [`ReconnectOptions::patience`] runs out. One whose fate is unknown (`COMM_FAILURE`,
//!   `TIMEOUT` with COMPLETED_MAYBE: the connection broke after the request was written) is
//!   *not* pushed again, so that no event is delivered twice; it is returned, and the next
//!   push reconnects.
//! - [`ReconnectingPushConsumer`] checks its proxy every [`ReconnectOptions::check_interval`]
//!   (`_non_existent`) and connects again when the channel says the proxy does not exist (a
//!   restarted channel) or the channel disconnects it. While the channel is unreachable it
//!   keeps its proxy and asks again: a channel only partitioned away still has the proxy and
//!   will deliver to it, and a second proxy would deliver every event twice. Events pushed
//!   while it is not connected are not for it (a channel delivers to the consumers
//!   connected when the event comes).
//!
//! The real-time channel's clients, [`crate::rtec::RtecReconnectingPushSupplier`] and
//! [`crate::rtec::RtecReconnectingPushConsumer`], keep their proxies the same way.

use crate::channel::unreachable;
use crate::cos_event_channel_admin::{
    proxy_push_consumer, proxy_push_supplier, ConsumerAdmin as _, EventChannel as _,
    EventChannelRef, ProxyPushConsumer as _, ProxyPushConsumerRef, ProxyPushSupplier as _,
    ProxyPushSupplierRef, SupplierAdmin as _,
};
use crate::cos_event_comm::{
    push_consumer, Disconnected, PushConsumer, PushConsumerRef, PushSupplier as _, PushSupplierRef,
};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::typecode::Any;
use orb::{ObjectRef, Orb, OrbError};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the reconnecting clients pace themselves.
#[derive(Clone, Debug)]
pub struct ReconnectOptions {
    /// The pause between two attempts to reach a channel that is away.
    pub retry_interval: Duration,
    /// How long a push keeps trying to hand over an event the channel did not take.
    pub patience: Duration,
    /// How often a consumer asks whether its proxy still exists.
    pub check_interval: Duration,
}

impl Default for ReconnectOptions {
    fn default() -> ReconnectOptions {
        ReconnectOptions {
            retry_interval: Duration::from_millis(100),
            patience: Duration::from_secs(10),
            check_interval: Duration::from_millis(500),
        }
    }
}

/// Whether a failure says the channel or the proxy is away (so a new proxy is worth trying),
/// as opposed to refusing this one call. `TIMEOUT` counts: a channel that does not answer
/// in time may be gone.
pub(crate) fn away(e: &SystemException) -> bool {
    unreachable(e.kind) || e.kind == SystemExceptionKind::TIMEOUT
}

/// What `connect` raises when a fresh proxy says it is connected already: a channel that
/// gives out proxies twice, which a reconnect cannot mend.
pub(crate) fn already_connected() -> SystemException {
    SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No)
}

/// A push supplier that connects (again) whenever it has no live proxy: lazily, at the
/// first push, and after the channel went away. Shareable between threads.
pub struct ReconnectingPushSupplier {
    channel: EventChannelRef,
    options: ReconnectOptions,
    proxy: Mutex<Option<ProxyPushConsumerRef>>,
    connections: AtomicU64,
}

impl ReconnectingPushSupplier {
    /// A supplier of `channel`; nothing is called until the first push.
    pub fn new(channel: EventChannelRef, options: ReconnectOptions) -> ReconnectingPushSupplier {
        ReconnectingPushSupplier {
            channel,
            options,
            proxy: Mutex::new(None),
            connections: AtomicU64::new(0),
        }
    }

    /// How many times it connected (the first time included).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// A new proxy push consumer, connected (with no supplier object: the channel has
    /// nothing to tell this supplier).
    fn connect(&self) -> Result<ProxyPushConsumerRef, SystemException> {
        let proxy = self.channel.for_suppliers()?.obtain_push_consumer()?;
        proxy
            .connect_push_supplier(&PushSupplierRef::nil())
            .map_err(|e| match e {
                proxy_push_consumer::ConnectPushSupplierError::System(e) => e,
                proxy_push_consumer::ConnectPushSupplierError::AlreadyConnected(_) => {
                    already_connected()
                }
            })?;
        self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(proxy)
    }

    /// The live proxy, connecting one if there is none.
    fn proxy(&self) -> Result<ProxyPushConsumerRef, SystemException> {
        let mut proxy = self.proxy.lock();
        if let Some(p) = proxy.as_ref() {
            return Ok(p.clone());
        }
        let p = self.connect()?;
        *proxy = Some(p.clone());
        Ok(p)
    }

    /// Forgets `dead` (unless another thread already put a new proxy in its place).
    fn forget(&self, dead: &ProxyPushConsumerRef) {
        let mut proxy = self.proxy.lock();
        if proxy.as_ref().is_some_and(|p| p.object() == dead.object()) {
            *proxy = None;
        }
    }

    /// Pushes `event`, connecting first if need be: see the module's documentation for
    /// what `Ok` and each error mean.
    pub fn push(&self, event: &Any) -> Result<(), SystemException> {
        let until = Instant::now() + self.options.patience;
        loop {
            let failure = match self.proxy() {
                Err(e) => e,
                Ok(proxy) => match proxy.push(event) {
                    Ok(()) => return Ok(()),
                    Err(push_consumer::PushError::Disconnected(Disconnected {})) => {
                        self.forget(&proxy);
                        SystemException::new(
                            SystemExceptionKind::OBJECT_NOT_EXIST,
                            0,
                            CompletionStatus::No,
                        )
                    }
                    Err(push_consumer::PushError::System(e)) => {
                        if away(&e) {
                            self.forget(&proxy);
                        }
                        e
                    }
                },
            };
            // Try again only what the channel surely did not take, and only while it is away.
            if failure.completed != CompletionStatus::No
                || !away(&failure)
                || Instant::now() + self.options.retry_interval > until
            {
                return Err(failure);
            }
            std::thread::sleep(self.options.retry_interval);
        }
    }

    /// Disconnects from the channel (best effort: an unreachable channel drops the proxy
    /// when it restarts anyway).
    pub fn disconnect(&self) {
        if let Some(p) = self.proxy.lock().take() {
            let _ = p.disconnect_push_consumer();
        }
    }
}

/// What a client keeps connected: a proxy reference it can check and let go of.
pub(crate) trait KeptProxy: Clone + Send + Sync + 'static {
    fn object_ref(&self) -> &ObjectRef;
    /// `disconnect_*` on the proxy, best effort.
    fn let_go(&self);
}

impl KeptProxy for ProxyPushSupplierRef {
    fn object_ref(&self) -> &ObjectRef {
        self.object()
    }

    fn let_go(&self) {
        let _ = self.disconnect_push_supplier();
    }
}

/// A proxy kept connected by a thread of its own (the "watchdog"): it connects when there
/// is no proxy, and asks the proxy every `check_interval` whether it still exists
/// (`_non_existent`), forgetting it when the channel says it does not (a restarted channel)
/// so as to connect again. While the channel is unreachable the proxy is kept: a channel
/// only partitioned away still has it and will deliver to it, and a second proxy would
/// deliver every event twice.
pub(crate) struct Keeper<P> {
    options: ReconnectOptions,
    proxy: Mutex<Option<P>>,
    /// Signalled when the proxy is lost or suspected, or on stop, to act at once.
    wake: Condvar,
    /// Set by [`Keeper::suspect`]: check the proxy now rather than at the next interval.
    suspected: AtomicBool,
    stopped: AtomicBool,
    connections: AtomicU64,
}

impl<P: KeptProxy> Keeper<P> {
    pub(crate) fn new(options: ReconnectOptions) -> Arc<Keeper<P>> {
        Arc::new(Keeper {
            options,
            proxy: Mutex::new(None),
            wake: Condvar::new(),
            suspected: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            connections: AtomicU64::new(0),
        })
    }

    pub(crate) fn options(&self) -> &ReconnectOptions {
        &self.options
    }

    pub(crate) fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// The proxy, waiting for one until `until` if there is none.
    pub(crate) fn proxy_by(&self, until: Instant) -> Option<P> {
        let mut proxy = self.proxy.lock();
        while proxy.is_none() && !self.is_stopped() {
            if self.wake.wait_until(&mut proxy, until).timed_out() {
                break;
            }
        }
        proxy.clone()
    }

    /// The channel let us go (it called our `disconnect_*`): connect again at once.
    pub(crate) fn dropped(&self) {
        *self.proxy.lock() = None;
        self.wake.notify_all();
    }

    /// A call through the proxy failed as if the channel were away: check it now.
    pub(crate) fn suspect(&self) {
        self.suspected.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    /// Starts the watchdog; `connect` obtains and connects a new proxy.
    pub(crate) fn start(
        self: &Arc<Self>,
        connect: impl Fn() -> Result<P, SystemException> + Send + 'static,
    ) -> Result<std::thread::JoinHandle<()>, OrbError> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("event-reconnect".into())
            .spawn(move || me.keep(connect))
            .map_err(|e| OrbError::System(no_thread(&e)))
    }

    fn keep(&self, connect: impl Fn() -> Result<P, SystemException>) {
        while !self.is_stopped() {
            let proxy = self.proxy.lock().clone();
            self.suspected.store(false, Ordering::Relaxed);
            let pause = match proxy {
                None => match connect() {
                    Ok(p) => {
                        // Set before counted: whoever sees the count sees the proxy.
                        *self.proxy.lock() = Some(p);
                        self.connections.fetch_add(1, Ordering::Relaxed);
                        self.wake.notify_all();
                        self.options.check_interval
                    }
                    Err(_) => self.options.retry_interval,
                },
                Some(p) => {
                    // The channel says it has no such proxy: restarted (or it dropped us).
                    if let Ok(true) = p.object_ref().non_existent() {
                        let mut proxy = self.proxy.lock();
                        if proxy
                            .as_ref()
                            .is_some_and(|q| q.object_ref() == p.object_ref())
                        {
                            *proxy = None;
                        }
                        continue;
                    }
                    self.options.check_interval
                }
            };
            let mut proxy = self.proxy.lock();
            let idle = proxy.is_some() || pause == self.options.retry_interval;
            if idle && !self.is_stopped() && !self.suspected.load(Ordering::Relaxed) {
                self.wake.wait_for(&mut proxy, pause);
            }
        }
    }

    /// Stops the watchdog and lets the proxy go.
    pub(crate) fn stop(&self, watchdog: Option<std::thread::JoinHandle<()>>) {
        self.stopped.store(true, Ordering::Relaxed);
        self.wake.notify_all();
        if let Some(w) = watchdog {
            let _ = w.join();
        }
        let proxy = self.proxy.lock().take();
        if let Some(p) = proxy {
            p.let_go();
        }
    }
}

/// A connect whose fate is unknown may have connected `proxy`: let it go, so that it does
/// not deliver beside the next one.
pub(crate) fn let_go_if_unknown<P: KeptProxy>(proxy: &P, e: &SystemException) {
    if e.completed != CompletionStatus::No {
        proxy.let_go();
    }
}

/// A push consumer that stays connected to a channel across the channel's restarts; each
/// event is given to the function it was started with, on the ORB's server thread that
/// received it. The consumer's ORB must serve (`listen`) at an address the channel reaches.
pub struct ReconnectingPushConsumer {
    keeper: Arc<Keeper<ProxyPushSupplierRef>>,
    watchdog: Option<std::thread::JoinHandle<()>>,
}

/// The servant the channel pushes to.
struct Sink<F> {
    keeper: Arc<Keeper<ProxyPushSupplierRef>>,
    on_event: F,
}

impl<F: Fn(&Any) + Send + Sync + 'static> PushConsumer for Sink<F> {
    fn push(&self, data: &Any) -> Result<(), push_consumer::PushError> {
        if self.keeper.is_stopped() {
            // The channel stops pushing to a consumer that says so.
            return Err(Disconnected {}.into());
        }
        (self.on_event)(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        // The channel let us go (destroyed, or gave up on us): connect again at once,
        // unless we are the ones who left.
        self.keeper.dropped();
        Ok(())
    }
}

impl ReconnectingPushConsumer {
    /// Activates a push consumer in `orb`'s root POA calling `on_event` for each event,
    /// and starts the thread that connects it to `channel` and keeps it connected. It
    /// returns at once; [`ReconnectingPushConsumer::connections`] says when it connected.
    pub fn start(
        orb: &Orb,
        channel: EventChannelRef,
        options: ReconnectOptions,
        on_event: impl Fn(&Any) + Send + Sync + 'static,
    ) -> Result<ReconnectingPushConsumer, OrbError> {
        let keeper = Keeper::new(options);
        let sink = Sink {
            keeper: keeper.clone(),
            on_event,
        };
        let me = orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(sink)))?;
        let me = PushConsumerRef::unchecked_narrow(me);
        let watchdog = keeper.start(move || {
            let proxy = channel.for_consumers()?.obtain_push_supplier()?;
            proxy.connect_push_consumer(&me).map_err(|e| {
                let e = match e {
                    proxy_push_supplier::ConnectPushConsumerError::System(e) => e,
                    proxy_push_supplier::ConnectPushConsumerError::AlreadyConnected(_) => {
                        already_connected()
                    }
                    // An untyped channel never asks more of a consumer than PushConsumer.
                    proxy_push_supplier::ConnectPushConsumerError::TypeError(_) => {
                        SystemException::new(
                            SystemExceptionKind::BAD_PARAM,
                            0,
                            CompletionStatus::No,
                        )
                    }
                };
                let_go_if_unknown(&proxy, &e);
                e
            })?;
            Ok(proxy)
        })?;
        Ok(ReconnectingPushConsumer {
            keeper,
            watchdog: Some(watchdog),
        })
    }

    /// How many times it connected (the first time included).
    pub fn connections(&self) -> u64 {
        self.keeper.connections()
    }

    /// Stops reconnecting and disconnects from the channel (best effort).
    pub fn stop(&mut self) {
        self.keeper.stop(self.watchdog.take());
    }
}

impl Drop for ReconnectingPushConsumer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn no_thread(e: &std::io::Error) -> SystemException {
    tracing::warn!("cannot start a client's reconnecting thread: {e}");
    SystemException::new(SystemExceptionKind::NO_RESOURCES, 0, CompletionStatus::No)
}
