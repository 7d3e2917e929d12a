//! A component's link to the channel: one consumer proxy with the component's `ConsumerQOS`
//! (exactly the types, and sources, it handles) and one supplier proxy with its
//! `SupplierQOS` (what it publishes).

use crate::wire;
use crate::Error;
use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, ProxyPushConsumer,
    ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin, SupplierQos,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use orb::cdr::CdrEncode;
use orb::exception::SystemException;
use orb::Orb;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a component does with an event it subscribed to.
pub type Handler = Arc<dyn Fn(&Event) + Send + Sync>;

struct Consumer {
    name: &'static str,
    handler: Handler,
    closed: Arc<AtomicBool>,
}

impl PushConsumer for Consumer {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        for e in data {
            (self.handler)(e);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        // The channel went away or dropped us: stop handling, say so once.
        if !self.closed.swap(true, Ordering::AcqRel) {
            eprintln!("mshn: {}: disconnected by the channel", self.name);
        }
        Ok(())
    }
}

/// One component's connection to the channel.
pub struct Bus {
    name: &'static str,
    supplier: ProxyPushConsumerRef,
    consumer: Option<ProxyPushSupplierRef>,
    closed: Arc<AtomicBool>,
}

impl Bus {
    /// Connects `handler` with `subscribe` (None: the component only publishes) and a
    /// supplier with `publish`.
    pub fn connect(
        orb: &Orb,
        channel: &EventChannelRef,
        name: &'static str,
        subscribe: Option<ConsumerQos>,
        publish: SupplierQos,
        handler: Handler,
    ) -> Result<Bus, Error> {
        let closed = Arc::new(AtomicBool::new(false));
        let supplier = channel.for_suppliers()?.obtain_push_consumer()?;
        supplier
            .connect_push_supplier(&PushSupplierRef::nil(), &publish)
            .map_err(|e| Error(format!("{name}: connecting its supplier: {e:?}")))?;
        let consumer = match subscribe {
            Some(qos) => {
                let servant = Consumer {
                    name,
                    handler,
                    closed: closed.clone(),
                };
                let obj =
                    orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(servant)))?;
                let proxy = channel.for_consumers()?.obtain_push_supplier()?;
                proxy
                    .connect_push_consumer(&PushConsumerRef::unchecked_narrow(obj), &qos)
                    .map_err(|e| Error(format!("{name}: connecting its consumer: {e:?}")))?;
                Some(proxy)
            }
            None => None,
        };
        Ok(Bus {
            name,
            supplier,
            consumer,
            closed,
        })
    }

    /// [`Bus::connect`] for a component: events go to `handle` while `component` lives (the
    /// bus holds it weakly, so dropping the component ends it), and what `handle` refuses is
    /// reported as a malformed event.
    pub fn attach<C, F>(
        orb: &Orb,
        channel: &EventChannelRef,
        name: &'static str,
        subscribe: ConsumerQos,
        publish: SupplierQos,
        component: &Arc<C>,
        handle: F,
    ) -> Result<Bus, Error>
    where
        C: Send + Sync + 'static,
        F: Fn(&Arc<C>, &Event) -> Result<(), Error> + Send + Sync + 'static,
    {
        let weak = Arc::downgrade(component);
        let handler: Handler = Arc::new(move |e: &Event| {
            if let Some(c) = weak.upgrade() {
                if let Err(err) = handle(&c, e) {
                    bad_event(name, err);
                }
            }
        });
        Bus::connect(orb, channel, name, Some(subscribe), publish, handler)
    }

    /// Publishes `value` as an event of type `ty` from `source`.
    pub fn publish<T: CdrEncode>(&self, source: i32, ty: i32, value: &T) -> Result<(), Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error(format!("{}: disconnected", self.name)));
        }
        let e = wire::event(source, ty, value)?;
        self.supplier.push(&[e]).map_err(|e| {
            Error(format!(
                "{}: publishing {}: {e}",
                self.name,
                wire::type_name(ty)
            ))
        })
    }

    /// Publishes, reporting a failure on standard error: for handlers, which have nobody to
    /// return an error to.
    pub fn send<T: CdrEncode>(&self, source: i32, ty: i32, value: &T) {
        if let Err(e) = self.publish(source, ty, value) {
            eprintln!("mshn: {e}");
        }
    }

    /// Leaves the channel: nothing more is handled or published.
    pub fn disconnect(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(c) = &self.consumer {
            let _ = c.disconnect_push_supplier();
        }
        let _ = self.supplier.disconnect_push_consumer();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// Reports a malformed event a handler was given (never a panic: the sender is at fault).
pub fn bad_event(component: &str, e: Error) {
    eprintln!("mshn: {component}: ignored a malformed event: {e}");
}
