//! Clients of a real-time event channel that outlive the channel's process: a push supplier
//! and a push consumer that connect again, with the same QOS, when the channel was killed
//! and restarted (the `rt-event-service` daemon's channel is in a persistent POA, so its IOR
//! and `corbaloc::HOST:PORT/RtEventChannel` stay good on a fixed endpoint).
//!
//! Both keep their proxy the way [`crate::ReconnectingPushConsumer`] does: a thread asks
//! the proxy every [`ReconnectOptions::check_interval`] whether it still exists and connects
//! again when the channel says it does not. That check is the only way a supplier learns of
//! a restart: `push` is oneway in `RtecEventComm`, so a push into a proxy the restarted
//! channel no longer has is dropped without an answer. A push that fails (no connection
//! could be made) makes the supplier check at once.
//!
//! What [`RtecReconnectingPushSupplier::push`] promises is a oneway's: `Ok` means handed to
//! the connection, not received. Events are lost while the channel is down, and those
//! written into a connection to a channel that was killed, or into a proxy the restarted
//! channel no longer has, until the check sees it; none is sent twice.

use super::rtec_event_channel_admin::{
    proxy_push_consumer, proxy_push_supplier, ConsumerAdmin as _, ConsumerQos, EventChannel as _,
    EventChannelRef, ProxyPushConsumer as _, ProxyPushConsumerRef, ProxyPushSupplier as _,
    ProxyPushSupplierRef, SupplierAdmin as _, SupplierQos,
};
use super::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier as _, PushSupplierRef,
};
use crate::reconnect::{already_connected, away, let_go_if_unknown, Keeper, KeptProxy};
use crate::ReconnectOptions;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::{ObjectRef, Orb, OrbError};
use std::sync::Arc;
use std::time::Instant;

impl KeptProxy for ProxyPushConsumerRef {
    fn object_ref(&self) -> &ObjectRef {
        self.object()
    }

    fn let_go(&self) {
        let _ = self.disconnect_push_consumer();
    }
}

impl KeptProxy for ProxyPushSupplierRef {
    fn object_ref(&self) -> &ObjectRef {
        self.object()
    }

    fn let_go(&self) {
        let _ = self.disconnect_push_supplier();
    }
}

/// A real-time push supplier kept connected to a channel with its QOS.
pub struct RtecReconnectingPushSupplier {
    keeper: Arc<Keeper<ProxyPushConsumerRef>>,
    watchdog: Option<std::thread::JoinHandle<()>>,
}

impl RtecReconnectingPushSupplier {
    /// Starts the thread that connects a supplier with `qos` to `channel` (with no supplier
    /// object: the channel has nothing to tell it) and keeps it connected. Returns at once.
    pub fn start(
        channel: EventChannelRef,
        qos: SupplierQos,
        options: ReconnectOptions,
    ) -> Result<RtecReconnectingPushSupplier, OrbError> {
        let keeper = Keeper::new(options);
        let watchdog = keeper.start(move || {
            let proxy = channel.for_suppliers()?.obtain_push_consumer()?;
            proxy
                .connect_push_supplier(&PushSupplierRef::nil(), &qos)
                .map_err(|e| {
                    let e = match e {
                        proxy_push_consumer::ConnectPushSupplierError::System(e) => e,
                        proxy_push_consumer::ConnectPushSupplierError::AlreadyConnected(_) => {
                            already_connected()
                        }
                    };
                    let_go_if_unknown(&proxy, &e);
                    e
                })?;
            Ok(proxy)
        })?;
        Ok(RtecReconnectingPushSupplier {
            keeper,
            watchdog: Some(watchdog),
        })
    }

    /// How many times it connected (the first time included).
    pub fn connections(&self) -> u64 {
        self.keeper.connections()
    }

    /// Sends `events` (a oneway: see the module's documentation), waiting up to
    /// [`ReconnectOptions::patience`] for a proxy when there is none and trying again
    /// while no connection can be made. TRANSIENT (COMPLETED_NO) when it gave up.
    pub fn push(&self, events: &[Event]) -> Result<(), SystemException> {
        let options = self.keeper.options();
        let until = Instant::now() + options.patience;
        loop {
            let failure = match self.keeper.proxy_by(until) {
                None => {
                    SystemException::new(SystemExceptionKind::TRANSIENT, 0, CompletionStatus::No)
                }
                Some(proxy) => match proxy.push(events) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        if away(&e) {
                            self.keeper.suspect();
                        }
                        e
                    }
                },
            };
            if failure.completed != CompletionStatus::No
                || !away(&failure)
                || Instant::now() + options.retry_interval > until
            {
                return Err(failure);
            }
            std::thread::sleep(options.retry_interval);
        }
    }

    /// Stops reconnecting and disconnects from the channel (best effort).
    pub fn stop(&mut self) {
        self.keeper.stop(self.watchdog.take());
    }
}

impl Drop for RtecReconnectingPushSupplier {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real-time push consumer kept connected to a channel with its QOS; each event set is
/// given to the function it was started with, on the ORB's server thread that received it.
/// The consumer's ORB must serve (`listen`) at an address the channel reaches.
pub struct RtecReconnectingPushConsumer {
    keeper: Arc<Keeper<ProxyPushSupplierRef>>,
    watchdog: Option<std::thread::JoinHandle<()>>,
}

/// The servant the channel pushes to.
struct Sink<F> {
    keeper: Arc<Keeper<ProxyPushSupplierRef>>,
    on_events: F,
}

impl<F: Fn(&[Event]) + Send + Sync + 'static> PushConsumer for Sink<F> {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        if !self.keeper.is_stopped() {
            (self.on_events)(data);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        // The channel let us go (destroyed, or found us dead): connect again at once,
        // unless we are the ones who left.
        self.keeper.dropped();
        Ok(())
    }
}

impl RtecReconnectingPushConsumer {
    /// Activates a push consumer in `orb`'s root POA calling `on_events` for each event set,
    /// and starts the thread that connects it to `channel` with `qos` and keeps it
    /// connected. Returns at once.
    pub fn start(
        orb: &Orb,
        channel: EventChannelRef,
        qos: ConsumerQos,
        options: ReconnectOptions,
        on_events: impl Fn(&[Event]) + Send + Sync + 'static,
    ) -> Result<RtecReconnectingPushConsumer, OrbError> {
        let keeper = Keeper::new(options);
        let sink = Sink {
            keeper: keeper.clone(),
            on_events,
        };
        let me = orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(sink)))?;
        let me = PushConsumerRef::unchecked_narrow(me);
        let watchdog = keeper.start(move || {
            let proxy = channel.for_consumers()?.obtain_push_supplier()?;
            proxy.connect_push_consumer(&me, &qos).map_err(|e| {
                let e = match e {
                    proxy_push_supplier::ConnectPushConsumerError::System(e) => e,
                    proxy_push_supplier::ConnectPushConsumerError::AlreadyConnected(_) => {
                        already_connected()
                    }
                    // The QOS was refused: a reconnect cannot mend that.
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
        Ok(RtecReconnectingPushConsumer {
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

impl Drop for RtecReconnectingPushConsumer {
    fn drop(&mut self) {
        self.stop();
    }
}
