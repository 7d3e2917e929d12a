//! A component's link to the channel: one consumer proxy with the component's `ConsumerQOS`
//! (exactly the types, and sources, it handles) and one supplier proxy with its
//! `SupplierQOS` (what it publishes).
//!
//! A [`Link`] made by name ([`Link::named`]) can find the channel again: each bus then asks
//! its supplier proxy `_non_existent` every [`PROBE_PERIOD`] and, when the channel has gone
//! (destroyed, or its process dead), resolves the name anew and connects both proxies to
//! whatever channel is bound there now. Events published while no channel was there are
//! lost, as with TAO's gateways.

use crate::wire;
use crate::Error;
use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, ProxyPushConsumer,
    ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin, SupplierQos,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use naming_service::cos_naming::NamingContextExtRef;
use orb::cdr::CdrEncode;
use orb::exception::SystemException;
use orb::Orb;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// What a component does with an event it subscribed to.
pub type Handler = Arc<dyn Fn(&Event) + Send + Sync>;

/// Finds the channel (again).
pub type Finder = Arc<dyn Fn() -> Result<EventChannelRef, Error> + Send + Sync>;

/// How often a bus made by name checks that its channel is still there.
pub const PROBE_PERIOD: Duration = Duration::from_millis(50);

/// Where components find the channel: an ORB, the channel, and maybe how to find it again.
#[derive(Clone)]
pub struct Link {
    pub orb: Orb,
    channel: EventChannelRef,
    find: Option<Finder>,
}

impl Link {
    /// This channel, for good.
    pub fn fixed(orb: &Orb, channel: EventChannelRef) -> Link {
        Link {
            orb: orb.clone(),
            channel,
            find: None,
        }
    }

    /// The channel bound as [`crate::CHANNEL_NAME`] in the naming service at `naming_url`
    /// (a `corbaloc:`), waiting up to `wait` for it to be bound; found there again whenever
    /// it goes away.
    pub fn named(orb: &Orb, naming_url: &str, wait: Duration) -> Result<Link, Error> {
        let (o, url) = (orb.clone(), naming_url.to_string());
        let find: Finder = Arc::new(move || {
            let root = NamingContextExtRef::unchecked_narrow(o.string_to_object(&url)?);
            crate::system::resolve_channel(&root)
        });
        let end = std::time::Instant::now() + wait;
        let channel = loop {
            match find() {
                Ok(ch) => break ch,
                Err(e) if std::time::Instant::now() > end => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        Ok(Link {
            orb: orb.clone(),
            channel,
            find: Some(find),
        })
    }

    pub fn channel(&self) -> &EventChannelRef {
        &self.channel
    }
}

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
        // A channel being destroyed says so; a bus made by name finds the next one.
        eprintln!("mshn: {}: disconnected by the channel", self.name);
        Ok(())
    }
}

struct Proxies {
    supplier: ProxyPushConsumerRef,
    consumer: Option<ProxyPushSupplierRef>,
}

struct Shared {
    name: &'static str,
    publish: SupplierQos,
    subscribe: Option<(ConsumerQos, PushConsumerRef)>,
    proxies: Mutex<Proxies>,
    /// Held while reconnecting, so that the prober and a failed publish do it once.
    reconnecting: Mutex<()>,
    find: Option<Finder>,
    closed: Arc<AtomicBool>,
    reconnects: AtomicU64,
}

/// One component's connection to the channel.
pub struct Bus(Arc<Shared>);

impl Shared {
    fn connect(&self, channel: &EventChannelRef) -> Result<Proxies, Error> {
        let name = self.name;
        let supplier = channel.for_suppliers()?.obtain_push_consumer()?;
        supplier
            .connect_push_supplier(&PushSupplierRef::nil(), &self.publish)
            .map_err(|e| Error(format!("{name}: connecting its supplier: {e:?}")))?;
        let consumer = match &self.subscribe {
            Some((qos, servant)) => {
                let proxy = channel.for_consumers()?.obtain_push_supplier()?;
                proxy
                    .connect_push_consumer(servant, qos)
                    .map_err(|e| Error(format!("{name}: connecting its consumer: {e:?}")))?;
                Some(proxy)
            }
            None => None,
        };
        Ok(Proxies { supplier, consumer })
    }

    fn supplier(&self) -> ProxyPushConsumerRef {
        self.proxies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .supplier
            .clone()
    }

    /// Finds the channel again and connects to it, unless `stale` is no longer the
    /// supplier proxy in use (someone else reconnected meanwhile).
    fn reconnect(&self, stale: &ProxyPushConsumerRef) -> Result<(), Error> {
        let Some(find) = &self.find else {
            return Err(Error(format!("{}: the channel is gone", self.name)));
        };
        let _one = self.reconnecting.lock().unwrap_or_else(|p| p.into_inner());
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.supplier().object() != stale.object() {
            return Ok(());
        }
        let fresh = self.connect(&find()?)?;
        *self.proxies.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.reconnects.fetch_add(1, Ordering::AcqRel);
        eprintln!("mshn: {}: reconnected to the channel", self.name);
        Ok(())
    }
}

impl Bus {
    /// Connects `handler` with `subscribe` (None: the component only publishes) and a
    /// supplier with `publish`.
    pub fn connect(
        link: &Link,
        name: &'static str,
        subscribe: Option<ConsumerQos>,
        publish: SupplierQos,
        handler: Handler,
    ) -> Result<Bus, Error> {
        let closed = Arc::new(AtomicBool::new(false));
        let subscribe = match subscribe {
            Some(qos) => {
                let servant = Consumer {
                    name,
                    handler,
                    closed: closed.clone(),
                };
                let obj = link.orb.activate(
                    &link.orb.root_poa(),
                    Arc::new(push_consumer::Tie::new(servant)),
                )?;
                Some((qos, PushConsumerRef::unchecked_narrow(obj)))
            }
            None => None,
        };
        let mut shared = Shared {
            name,
            publish,
            subscribe,
            proxies: Mutex::new(Proxies {
                supplier: ProxyPushConsumerRef::nil(),
                consumer: None,
            }),
            reconnecting: Mutex::new(()),
            find: link.find.clone(),
            closed,
            reconnects: AtomicU64::new(0),
        };
        shared.proxies = Mutex::new(shared.connect(&link.channel)?);
        let shared = Arc::new(shared);
        if shared.find.is_some() {
            let weak = Arc::downgrade(&shared);
            std::thread::Builder::new()
                .name(format!("mshn-{name}-probe"))
                .spawn(move || probe(weak))?;
        }
        Ok(Bus(shared))
    }

    /// [`Bus::connect`] for a component: events go to `handle` while `component` lives (the
    /// bus holds it weakly, so dropping the component ends it), and what `handle` refuses is
    /// reported as a malformed event.
    pub fn attach<C, F>(
        link: &Link,
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
        Bus::connect(link, name, Some(subscribe), publish, handler)
    }

    /// Publishes `value` as an event of type `ty` from `source`; if the channel has gone
    /// and the bus was made by name, once more on the channel bound now.
    pub fn publish<T: CdrEncode>(&self, source: i32, ty: i32, value: &T) -> Result<(), Error> {
        let s = &self.0;
        if s.closed.load(Ordering::Acquire) {
            return Err(Error(format!("{}: disconnected", s.name)));
        }
        let e = [wire::event(source, ty, value)?];
        let failed = |err: SystemException| {
            Error(format!(
                "{}: publishing {}: {err}",
                s.name,
                wire::type_name(ty)
            ))
        };
        let supplier = s.supplier();
        match supplier.push(&e) {
            Ok(()) => Ok(()),
            Err(err) if s.find.is_none() => Err(failed(err)),
            Err(_) => {
                s.reconnect(&supplier)?;
                s.supplier().push(&e).map_err(failed)
            }
        }
    }

    /// Publishes, reporting a failure on standard error: for handlers, which have nobody to
    /// return an error to.
    pub fn send<T: CdrEncode>(&self, source: i32, ty: i32, value: &T) {
        if let Err(e) = self.publish(source, ty, value) {
            eprintln!("mshn: {e}");
        }
    }

    /// Times this bus found the channel again.
    pub fn reconnects(&self) -> u64 {
        self.0.reconnects.load(Ordering::Acquire)
    }

    /// Leaves the channel: nothing more is handled or published.
    pub fn disconnect(&self) {
        let s = &self.0;
        if s.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let p = s.proxies.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = &p.consumer {
            let _ = c.disconnect_push_supplier();
        }
        let _ = p.supplier.disconnect_push_consumer();
    }

    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// The prober of a bus made by name: while the bus lives, checks its supplier proxy and
/// reconnects when the channel is gone (retrying every period while none is bound).
fn probe(bus: Weak<Shared>) {
    loop {
        std::thread::sleep(PROBE_PERIOD);
        let Some(s) = bus.upgrade() else { return };
        if s.closed.load(Ordering::Acquire) {
            return;
        }
        let supplier = s.supplier();
        if !matches!(supplier.object().non_existent(), Ok(false)) {
            let _ = s.reconnect(&supplier);
        }
    }
}

/// Reports a malformed event a handler was given (never a panic: the sender is at fault).
pub fn bad_event(component: &str, e: Error) {
    eprintln!("mshn: {component}: ignored a malformed event: {e}");
}
