//! An IIOP gateway between two real-time channels (TAO's `TAO_EC_Gateway_IIOP`): it brings
//! into a *local* channel the events of a *remote* one that the local consumers want, and
//! nothing else.
//!
//! The gateway is an observer of the local channel, so it hears the aggregate of the local
//! consumers' subscriptions (gateways' own excepted: `is_gateway` keeps federated channels
//! from echoing each other's interests). It connects to the remote channel as one consumer
//! with exactly that QOS (marked `is_gateway`), and to the local channel as one supplier
//! publishing the same `(source, type)`s. What the remote channel pushes it pushes into the
//! local one with `ttl` one less, and drops events whose `ttl` is already 0, so that a loop of
//! gateways stops an event after the hops its supplier allowed.
//!
//! All remote calls are made by one worker thread per gateway: an observer update only
//! records the wanted QOS, so a local consumer's `connect_push_consumer` never waits on the
//! network. The worker probes the remote proxy (`_non_existent`) every `probe_period`; when
//! the peer is gone it finds the channel again from its locator (an `IOR:`, `corbaloc:` or
//! `file://` name, read anew on each attempt, so a restarted peer that rewrote its file is
//! found) with exponential backoff. What this module must never do: call the remote channel
//! from an observer callback or a push, or hold its lock across any call.

#![forbid(unsafe_code)]

use super::idl::rtec_event_channel_admin::event_channel::AppendObserverError;
use super::idl::rtec_event_channel_admin::proxy_push_consumer::ConnectPushSupplierError;
use super::idl::rtec_event_channel_admin::proxy_push_supplier::ConnectPushConsumerError;
use super::idl::rtec_event_channel_admin::{
    observer, ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, Observer, ObserverRef,
    ProxyPushConsumer, ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef,
    SupplierAdmin, SupplierQos,
};
use super::idl::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use super::{is_designator, SupplierQosBuilder};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::poa::ObjectId;
use orb::{ObjectRef, Orb, OrbError, ServantRef};
use parking_lot::{Condvar, Mutex};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a gateway watches and re-finds its peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayOptions {
    /// How often the remote proxy is asked `_non_existent`.
    pub probe_period: Duration,
    /// The first wait after a failed (re)connection; doubled on each failure.
    pub backoff_min: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            probe_period: Duration::from_millis(500),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// A gateway's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Events the remote channel pushed to the gateway.
    pub received: u64,
    /// Events pushed on into the local channel.
    pub forwarded: u64,
    /// Events dropped because their `ttl` was spent.
    pub expired: u64,
    /// Successful connections to a remote channel (the first one included).
    pub connects: u64,
    /// Whether a remote proxy is connected with the QOS wanted now (or none is needed).
    pub synced: bool,
    /// The `(source, type)`s the gateway subscribes to on the remote channel.
    pub subscribed: Vec<(i32, i32)>,
}

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("activating the gateway's objects: {0}")]
    Orb(#[from] OrbError),
    #[error("the local channel refused the gateway as an observer (is -ECObserver null?)")]
    ObserverRefused,
    #[error("calling the local channel: {0:?}")]
    System(SystemException),
    #[error("starting the gateway's thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running gateway; [`Gateway::shutdown`] (or dropping it) disconnects it from both
/// channels.
pub struct Gateway {
    inner: Arc<Inner>,
    worker: Option<JoinHandle<()>>,
}

struct Inner {
    orb: Orb,
    local: EventChannelRef,
    locator: String,
    options: GatewayOptions,
    state: Mutex<State>,
    wake: Condvar,
    /// The object ids of the gateway's consumer and observer, deactivated on shutdown.
    servants: Mutex<Vec<ObjectId>>,
    received: AtomicU64,
    forwarded: AtomicU64,
    expired: AtomicU64,
    connects: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The `(source, type)`s local consumers want, as last told by the local channel.
    wanted: BTreeSet<(i32, i32)>,
    /// What the remote proxy was connected with; `None` while no proxy is (or it is
    /// known dead), so that any `wanted` differs from it.
    applied: Option<BTreeSet<(i32, i32)>>,
    remote: Option<ProxyPushSupplierRef>,
    /// Our supplier proxy in the local channel and the publications it was given.
    local_proxy: Option<(ProxyPushConsumerRef, BTreeSet<(i32, i32)>)>,
    /// The remote channel said it disconnected us: probe at once.
    probe_now: bool,
    stop: bool,
}

impl Gateway {
    /// Joins the channel `remote` names (anything [`Orb::string_to_object`] takes) to
    /// `local`, a channel with observers enabled; the gateway's objects live in `orb`'s root
    /// POA, which must be reachable by the remote channel.
    pub fn start(
        orb: &Orb,
        local: &EventChannelRef,
        remote: &str,
        options: GatewayOptions,
    ) -> Result<Gateway, GatewayError> {
        let inner = Arc::new(Inner {
            orb: orb.clone(),
            local: local.clone(),
            locator: remote.to_owned(),
            options,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            servants: Mutex::new(Vec::new()),
            received: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            connects: AtomicU64::new(0),
        });
        let (consumer, consumer_id) = activate(
            orb,
            Arc::new(push_consumer::Tie::new(GatewayConsumer(inner.clone()))),
        )?;
        let consumer = PushConsumerRef::unchecked_narrow(consumer);
        let (watcher, watcher_id) = activate(
            orb,
            Arc::new(observer::Tie::new(GatewayObserver(inner.clone()))),
        )?;
        *inner.servants.lock() = vec![consumer_id, watcher_id];
        // The local channel tells the present subscriptions from inside this call.
        let handle = match local.append_observer(&ObserverRef::unchecked_narrow(watcher)) {
            Ok(h) => h,
            Err(e) => {
                let poa = orb.root_poa();
                for id in inner.servants.lock().drain(..) {
                    let _ = poa.deactivate_object(&id);
                }
                return Err(match e {
                    AppendObserverError::System(s) => GatewayError::System(s),
                    _ => GatewayError::ObserverRefused,
                });
            }
        };
        let worker_inner = inner.clone();
        let worker = std::thread::Builder::new()
            .name("rtec-gateway".into())
            .spawn(move || worker_inner.run(&consumer, handle))?;
        Ok(Gateway {
            inner,
            worker: Some(worker),
        })
    }

    pub fn stats(&self) -> GatewayStats {
        let st = self.inner.state.lock();
        GatewayStats {
            received: self.inner.received.load(Ordering::Relaxed),
            forwarded: self.inner.forwarded.load(Ordering::Relaxed),
            expired: self.inner.expired.load(Ordering::Relaxed),
            connects: self.inner.connects.load(Ordering::Relaxed),
            synced: st.applied.as_ref() == Some(&st.wanted),
            subscribed: st
                .applied
                .as_ref()
                .map(|a| a.iter().copied().collect())
                .unwrap_or_default(),
        }
    }

    /// Stops watching, and disconnects from the remote channel (when it can still be
    /// reached) and from the local one.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.inner.state.lock().stop = true;
        self.inner.wake.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Activates `servant` in the root POA, keeping its id to deactivate it later.
pub(super) fn activate(orb: &Orb, servant: ServantRef) -> Result<(ObjectRef, ObjectId), OrbError> {
    let poa = orb.root_poa();
    let type_id = servant.repository_id();
    let id = poa.activate_object(servant)?;
    let key = poa.id_to_reference(&id)?;
    Ok((orb.key_to_reference(key, type_id)?, id))
}

/// The `(source, type)`s a QOS subscribes to, designators left out (TAO's gateway skips its
/// "magic" types likewise).
fn headers(qos: &ConsumerQos) -> BTreeSet<(i32, i32)> {
    qos.dependencies
        .iter()
        .map(|d| (d.event.header.source, d.event.header.r#type))
        .filter(|&(_, ty)| !is_designator(ty))
        .collect()
}

/// The QOS the gateway connects to the remote channel with: a disjunction (prefix form, as
/// the observer's aggregate) of the wanted pairs, marked as a gateway's.
fn remote_qos(wanted: &BTreeSet<(i32, i32)>) -> ConsumerQos {
    let mut b = super::ConsumerQosBuilder::new();
    if wanted.len() > 1 {
        b = b.start_disjunction_group(wanted.len() as i32);
    }
    for &(source, ty) in wanted {
        b = b.insert(source, ty, 0);
    }
    b.gateway(true).build()
}

fn local_qos(publications: &BTreeSet<(i32, i32)>) -> SupplierQos {
    publications
        .iter()
        .fold(SupplierQosBuilder::new(), |b, &(source, ty)| {
            b.insert(source, ty, 0, 1)
        })
        .gateway(true)
        .build()
}

fn transient() -> SystemException {
    SystemException::new(
        SystemExceptionKind::TRANSIENT,
        0,
        orb::giop::CompletionStatus::No,
    )
}

impl Inner {
    fn run(&self, consumer: &PushConsumerRef, observer_handle: u32) {
        let mut backoff = self.options.backoff_min;
        let mut next_probe = Instant::now() + self.options.probe_period;
        loop {
            let mut st = self.state.lock();
            // Wait for a change, a probe that is due, or the end.
            loop {
                if st.stop || st.applied.as_ref() != Some(&st.wanted) || st.probe_now {
                    break;
                }
                if Instant::now() >= next_probe {
                    break;
                }
                self.wake.wait_until(&mut st, next_probe);
            }
            if st.stop {
                break;
            }
            let wanted = st.wanted.clone();
            let needs_update = st.applied.as_ref() != Some(&wanted);
            let remote = st.remote.clone();
            st.probe_now = false;
            drop(st);
            if needs_update {
                match self.apply(consumer, remote, &wanted) {
                    Ok(()) => backoff = self.options.backoff_min,
                    Err(_) => {
                        // Wait (unless told to stop) before the next attempt.
                        let until = Instant::now() + backoff;
                        let mut st = self.state.lock();
                        while !st.stop && Instant::now() < until {
                            self.wake.wait_until(&mut st, until);
                        }
                        backoff = (backoff * 2).min(self.options.backoff_max);
                    }
                }
                next_probe = Instant::now() + self.options.probe_period;
                continue;
            }
            next_probe = Instant::now() + self.options.probe_period;
            if let Some(proxy) = remote {
                let dead = match proxy.non_existent() {
                    Ok(gone) => gone,
                    Err(e) => crate::channel::unreachable(e.kind),
                };
                if dead {
                    let mut st = self.state.lock();
                    st.remote = None;
                    st.applied = None;
                }
            }
        }
        self.close(observer_handle);
    }

    /// Connects (or reconnects) the remote proxy with `wanted`, and the local supplier
    /// proxy with the same publications.
    fn apply(
        &self,
        consumer: &PushConsumerRef,
        remote: Option<ProxyPushSupplierRef>,
        wanted: &BTreeSet<(i32, i32)>,
    ) -> Result<(), SystemException> {
        self.apply_local(wanted)?;
        if wanted.is_empty() {
            // Nobody here wants anything: the remote channel should not send us a thing.
            if let Some(p) = remote {
                let _ = p.disconnect_push_supplier();
            }
            let mut st = self.state.lock();
            st.remote = None;
            st.applied = Some(wanted.clone());
            return Ok(());
        }
        let qos = remote_qos(wanted);
        let connected = match remote {
            Some(p) => match p.connect_push_consumer(consumer, &qos) {
                // The remote channel allows reconnection: the QOS was replaced in place,
                // losing and repeating nothing.
                Ok(()) => Some(p),
                Err(_) => {
                    // TAO's way otherwise: close, then connect anew. (Also what a dead
                    // proxy comes to.)
                    let _ = p.disconnect_push_supplier();
                    let mut st = self.state.lock();
                    st.remote = None;
                    st.applied = None;
                    None
                }
            },
            None => None,
        };
        let proxy = match connected {
            Some(p) => p,
            None => {
                let p = self.connect_remote(consumer, &qos)?;
                self.connects.fetch_add(1, Ordering::Relaxed);
                p
            }
        };
        let mut st = self.state.lock();
        st.remote = Some(proxy);
        st.applied = Some(wanted.clone());
        Ok(())
    }

    fn connect_remote(
        &self,
        consumer: &PushConsumerRef,
        qos: &ConsumerQos,
    ) -> Result<ProxyPushSupplierRef, SystemException> {
        let obj = self
            .orb
            .string_to_object(&self.locator)
            .map_err(|_| transient())?;
        let channel = EventChannelRef::unchecked_narrow(obj);
        let proxy = channel.for_consumers()?.obtain_push_supplier()?;
        proxy
            .connect_push_consumer(consumer, qos)
            .map_err(|e| match e {
                ConnectPushConsumerError::System(s) => s,
                _ => transient(),
            })?;
        Ok(proxy)
    }

    /// The local supplier proxy publishes what the gateway may push.
    fn apply_local(&self, wanted: &BTreeSet<(i32, i32)>) -> Result<(), SystemException> {
        let old = {
            let st = self.state.lock();
            match &st.local_proxy {
                Some((_, pubs)) if pubs == wanted => return Ok(()),
                other => other.as_ref().map(|(p, _)| p.clone()),
            }
        };
        if let Some(p) = old {
            let _ = p.disconnect_push_consumer();
        }
        self.state.lock().local_proxy = None;
        if wanted.is_empty() {
            return Ok(());
        }
        let proxy = self.local.for_suppliers()?.obtain_push_consumer()?;
        proxy
            .connect_push_supplier(&PushSupplierRef::nil(), &local_qos(wanted))
            .map_err(|e| match e {
                ConnectPushSupplierError::System(s) => s,
                _ => transient(),
            })?;
        self.state.lock().local_proxy = Some((proxy, wanted.clone()));
        Ok(())
    }

    fn close(&self, observer_handle: u32) {
        let _ = self.local.remove_observer(observer_handle);
        let (remote, local) = {
            let mut st = self.state.lock();
            st.applied = None;
            (st.remote.take(), st.local_proxy.take())
        };
        if let Some(p) = remote {
            let _ = p.disconnect_push_supplier();
        }
        if let Some((p, _)) = local {
            let _ = p.disconnect_push_consumer();
        }
        // Whatever still calls them (a remote channel that missed the disconnect) hears
        // OBJECT_NOT_EXIST and lets go of them.
        let poa = self.orb.root_poa();
        for id in self.servants.lock().drain(..) {
            let _ = poa.deactivate_object(&id);
        }
    }
}

/// The gateway as the remote channel's consumer.
struct GatewayConsumer(Arc<Inner>);

impl PushConsumer for GatewayConsumer {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        let inner = &self.0;
        inner
            .received
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        let out: Vec<Event> = data
            .iter()
            .filter(|e| e.header.ttl > 0)
            .map(|e| {
                let mut e = e.clone();
                e.header.ttl -= 1;
                e
            })
            .collect();
        let spent = (data.len() - out.len()) as u64;
        inner.expired.fetch_add(spent, Ordering::Relaxed);
        if out.is_empty() {
            return Ok(());
        }
        let proxy = inner
            .state
            .lock()
            .local_proxy
            .as_ref()
            .map(|(p, _)| p.clone());
        if let Some(p) = proxy {
            // A local refusal (the channel going away) is not the remote channel's
            // business: it would count it as our failure and reap us.
            if p.push(&out).is_ok() {
                inner
                    .forwarded
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        // The remote channel let us go (destroyed, or it found us dead): the worker checks
        // at once and reconnects if the channel is still there.
        self.0.state.lock().probe_now = true;
        self.0.wake.notify_all();
        Ok(())
    }
}

/// The gateway as the local channel's observer.
struct GatewayObserver(Arc<Inner>);

impl Observer for GatewayObserver {
    fn update_consumer(&self, sub: &ConsumerQos) -> Result<(), SystemException> {
        let wanted = headers(sub);
        let mut st = self.0.state.lock();
        if st.wanted != wanted {
            st.wanted = wanted;
            drop(st);
            self.0.wake.notify_all();
        }
        Ok(())
    }

    /// As TAO's gateway: publications are derived from the subscriptions, so what local
    /// suppliers publish does not matter here.
    fn update_supplier(&self, _pub: &SupplierQos) -> Result<(), SystemException> {
        Ok(())
    }
}
