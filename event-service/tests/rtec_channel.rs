//! The real-time event channel through its CORBA interfaces, collocated (one ORB: calls go
//! straight to the servants) and over loopback TCP (a client ORB that never collocates):
//! every filter and correlation shape with exact delivery counts, timeouts, suspend and
//! resume, connect/disconnect/reconnect with every callback counted, concurrent pushes
//! during subscription churn, each dispatching strategy, stalled consumers, observers,
//! liveness, and a storm of calls from inside callbacks ended by destroy.

mod common;

use common::{remote_orb, server_orb, wait_until};
use event_service::rtec::rtec_event_channel_admin::{
    event_channel, observer, proxy_push_consumer, proxy_push_supplier, ConsumerAdmin, ConsumerQos,
    EventChannel, EventChannelRef, Observer, ObserverRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin, SupplierQos,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, push_supplier, Event, PushConsumer, PushConsumerRef, PushSupplier,
    PushSupplierRef,
};
use event_service::rtec::{
    self, ConsumerQosBuilder, Dispatching, FilteringMode, FullPolicy, ObserverStrategy,
    RtecChannel, RtecOptions, SupplierQosBuilder, ACE_ES_EVENT_ANY, ACE_ES_EVENT_DEADLINE_TIMEOUT,
    ACE_ES_EVENT_INTERVAL_TIMEOUT,
};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::Orb;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

// ---- test peers -----------------------------------------------------------------------------

/// What a consumer was pushed: (source, type, sequence number) of each event, per push.
type Push = Vec<(i32, i32, i32)>;

/// A push consumer that keeps what it gets; it may hold in `push` until released, and may
/// run a hook inside `push` (to call the channel from a callback).
#[derive(Clone, Default)]
struct Sink(Arc<SinkInner>);

type Hook = Box<dyn Fn(&[Event]) + Send + Sync>;

#[derive(Default)]
struct SinkInner {
    pushes: Mutex<Vec<Push>>,
    disconnects: AtomicUsize,
    hold: Mutex<bool>,
    released: Condvar,
    entered: AtomicUsize,
    threads: Mutex<Vec<ThreadId>>,
    hook: Mutex<Option<Arc<Hook>>>,
}

impl Sink {
    fn holding() -> Sink {
        let s = Sink::default();
        *s.0.hold.lock().unwrap() = true;
        s
    }

    fn release(&self) {
        *self.0.hold.lock().unwrap() = false;
        self.0.released.notify_all();
    }

    fn activate(&self, orb: &Orb) -> PushConsumerRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(push_consumer::Tie::new(self.clone())),
            )
            .unwrap();
        PushConsumerRef::unchecked_narrow(obj)
    }

    fn pushes(&self) -> Vec<Push> {
        self.0.pushes.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<(i32, i32, i32)> {
        self.pushes().into_iter().flatten().collect()
    }

    fn count(&self) -> usize {
        self.0.pushes.lock().unwrap().iter().map(Vec::len).sum()
    }

    fn push_count(&self) -> usize {
        self.0.pushes.lock().unwrap().len()
    }

    fn disconnects(&self) -> usize {
        self.0.disconnects.load(Ordering::SeqCst)
    }

    fn wait_count(&self, n: usize) {
        wait_until(&format!("{n} events"), || self.count() >= n);
    }
}

impl PushConsumer for Sink {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.entered.fetch_add(1, Ordering::SeqCst);
        let mut hold = self.0.hold.lock().unwrap();
        while *hold {
            hold = self.0.released.wait(hold).unwrap();
        }
        drop(hold);
        self.0
            .threads
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        let got = data
            .iter()
            .map(|e| (e.header.source, e.header.r#type, e.data.pad1))
            .collect();
        self.0.pushes.lock().unwrap().push(got);
        let hook = self.0.hook.lock().unwrap().clone();
        if let Some(h) = hook {
            h(data);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        self.0.disconnects.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A push supplier: only ever told to disconnect.
#[derive(Clone, Default)]
struct Source(Arc<AtomicUsize>);

impl Source {
    fn activate(&self, orb: &Orb) -> PushSupplierRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(push_supplier::Tie::new(self.clone())),
            )
            .unwrap();
        PushSupplierRef::unchecked_narrow(obj)
    }

    fn disconnects(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl PushSupplier for Source {
    fn disconnect_push_supplier(&self) -> Result<(), SystemException> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn ev(source: i32, ty: i32, seq: i32) -> Event {
    let mut e = rtec::event(source, ty);
    e.data.pad1 = seq;
    e
}

fn options(f: impl FnOnce(&mut RtecOptions)) -> RtecOptions {
    let mut o = RtecOptions::default();
    o.filtering(FilteringMode::Prefix);
    f(&mut o);
    o
}

/// The channel as `client` sees it.
fn channel_in(client: &Orb, channel: &RtecChannel) -> EventChannelRef {
    let ior = channel.object().to_ior_string().unwrap();
    EventChannelRef::unchecked_narrow(client.string_to_object(&ior).unwrap())
}

fn consumer_proxy(ch: &EventChannelRef) -> ProxyPushSupplierRef {
    ch.for_consumers().unwrap().obtain_push_supplier().unwrap()
}

fn connect(
    client: &Orb,
    ch: &EventChannelRef,
    sink: &Sink,
    qos: &ConsumerQos,
) -> ProxyPushSupplierRef {
    let proxy = consumer_proxy(ch);
    proxy
        .connect_push_consumer(&sink.activate(client), qos)
        .unwrap();
    proxy
}

fn supplier(ch: &EventChannelRef, qos: &SupplierQos) -> ProxyPushConsumerRef {
    let proxy = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    proxy
        .connect_push_supplier(&PushSupplierRef::nil(), qos)
        .unwrap();
    proxy
}

fn any_supplier(ch: &EventChannelRef) -> ProxyPushConsumerRef {
    supplier(ch, &SupplierQosBuilder::new().insert(0, 0, 0, 1).build())
}

/// Pushes one event per push, then one more to a consumer subscribed to everything, so that
/// once the fence is through (calls from one client reach the channel in order and the
/// channel keeps each supplier's order) everything before it has been filtered.
fn push_all(client: &Orb, ch: &EventChannelRef, events: &[(i32, i32)]) {
    let fence = Sink::default();
    let fence_proxy = connect(
        client,
        ch,
        &fence,
        &ConsumerQosBuilder::new().insert(999, 999, 0).build(),
    );
    let s = any_supplier(ch);
    for (i, &(source, ty)) in events.iter().enumerate() {
        s.push(&[ev(source, ty, i as i32)]).unwrap();
    }
    s.push(&[ev(999, 999, -1)]).unwrap();
    fence.wait_count(1);
    fence_proxy.disconnect_push_supplier().unwrap();
    s.disconnect_push_consumer().unwrap();
}

// ---- filters and correlation ----------------------------------------------------------------

/// A QOS shape's name, the QOS, the `(source, type)`s pushed, and the sizes of the sets its
/// consumer must get.
type Shape = (&'static str, ConsumerQos, Vec<(i32, i32)>, Vec<usize>);

fn shapes() -> Vec<Shape> {
    let b = ConsumerQosBuilder::new;
    let stream = vec![(1, 20), (2, 20), (1, 21), (3, 22), (1, 20), (2, 21)];
    vec![
        (
            "exact",
            b().insert(1, 20, 0).build(),
            stream.clone(),
            vec![1, 1],
        ),
        (
            "type wildcard",
            b().insert_type(20, 0).build(),
            stream.clone(),
            vec![1; 3],
        ),
        (
            "source wildcard",
            b().insert_source(1, 0).build(),
            stream.clone(),
            vec![1; 3],
        ),
        (
            "any",
            b().insert(ACE_ES_EVENT_ANY, ACE_ES_EVENT_ANY, 0).build(),
            stream.clone(),
            vec![1; 6],
        ),
        (
            "disjunction",
            b().start_disjunction_group(2)
                .insert(1, 21, 0)
                .insert(3, 22, 0)
                .build(),
            stream.clone(),
            vec![1, 1],
        ),
        (
            // (1,20)+(1,21), then (1,20)+(2,21): the type member takes any source.
            "conjunction",
            b().start_conjunction_group(2)
                .insert(1, 20, 0)
                .insert_type(21, 0)
                .build(),
            stream.clone(),
            vec![2, 2],
        ),
        (
            "conjunction resets after delivering",
            b().start_conjunction_group(2)
                .insert(1, 20, 0)
                .insert(1, 21, 0)
                .build(),
            // The second (1,20) in a row is absorbed: still one set of two.
            vec![(1, 20), (1, 21), (1, 20), (1, 20), (1, 21)],
            vec![2, 2],
        ),
        (
            "negation",
            b().start_negation().insert_source(1, 0).build(),
            stream.clone(),
            vec![1; 3],
        ),
        (
            "logical and",
            b().start_logical_and_group(2)
                .insert_source(1, 0)
                .insert_type(20, 0)
                .build(),
            stream.clone(),
            vec![1, 1],
        ),
        (
            // Sources with bit 2 (2, 3) and types with bit 1 (22 = 0b10110, 20 and 21 have it
            // clear? 20 = 0b10100, 21 = 0b10101): only (3,22) has both.
            "bitmask",
            b().start_bitmask(0b10, 0b10)
                .insert(ACE_ES_EVENT_ANY, ACE_ES_EVENT_ANY, 0)
                .build(),
            stream.clone(),
            vec![1],
        ),
        (
            // Types whose low two bits are 0b01 (21), any source with bit 0 clear (2).
            "masked type",
            b().insert_masked_type(0b1, 0, 0b11, 0b01).build(),
            stream.clone(),
            vec![1],
        ),
        (
            // disj( conj(disj((1,20),(2,20)), (1,21)), and(neg(source 1), type 22) )
            "nested",
            b().start_disjunction_group(2)
                .start_conjunction_group(2)
                .start_disjunction_group(2)
                .insert(1, 20, 0)
                .insert(2, 20, 0)
                .insert(1, 21, 0)
                .start_logical_and_group(2)
                .start_negation()
                .insert_source(1, 0)
                .insert_type(22, 0)
                .build(),
            stream.clone(),
            // (1,20) joins the conjunction, (2,20) is absorbed (same member), (1,21)
            // completes it: a set of 2; (3,22) passes the and; (1,20) starts over.
            vec![2, 1],
        ),
        (
            "null",
            b().insert_null().build(),
            stream.clone(),
            vec![1; 6],
        ),
    ]
}

fn every_shape(server: &Orb, client: &Orb) {
    let channel = RtecChannel::start(server, options(|_| {})).unwrap();
    let ch = channel_in(client, &channel);
    for (name, qos, events, want) in shapes() {
        let sink = Sink::default();
        let proxy = connect(client, &ch, &sink, &qos);
        push_all(client, &ch, &events);
        // Without the fence, which wildcard subscriptions see too.
        let sizes: Vec<usize> = sink
            .pushes()
            .iter()
            .map(|p| p.iter().filter(|e| e.2 != -1).count())
            .filter(|n| *n > 0)
            .collect();
        assert_eq!(sizes, want, "{name}");
        proxy.disconnect_push_supplier().unwrap();
    }
    assert_eq!(channel.stats().consumers.len(), 0);
    channel.destroy();
}

#[test]
fn every_filter_shape_collocated() {
    let orb = server_orb();
    every_shape(&orb, &orb);
    orb.shutdown(true);
}

#[test]
fn every_filter_shape_remote() {
    let server = server_orb();
    let client = remote_orb();
    every_shape(&server, &client);
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn basic_filtering_reads_groups_as_tao_basic_builder() {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.filtering(FilteringMode::Basic);
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    // The child count in the designator is ignored: the group runs to the end.
    let sink = Sink::default();
    connect(
        &orb,
        &ch,
        &sink,
        &ConsumerQosBuilder::new()
            .start_disjunction_group(1)
            .insert(1, 20, 0)
            .insert(1, 21, 0)
            .build(),
    );
    push_all(&orb, &ch, &[(1, 20), (1, 21), (1, 22)]);
    assert_eq!(sink.count(), 2);
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn unsubscribed_events_stop_at_the_supplier_proxy() {
    let orb = server_orb();
    let channel = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let ch = channel.reference().clone();
    let sink = Sink::default();
    connect(
        &orb,
        &ch,
        &sink,
        &ConsumerQosBuilder::new().insert(1, 20, 0).build(),
    );
    let s = any_supplier(&ch);
    for i in 0..10 {
        s.push(&[ev(5, 50, i), ev(1, 20, i)]).unwrap();
    }
    let stats = channel.stats();
    assert_eq!((stats.pushed, stats.unsubscribed), (20, 10));
    assert_eq!(sink.count(), 10);
    assert_eq!(stats.consumers[0].delivered, 10);
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn a_bad_qos_is_type_error_and_a_nil_consumer_bad_param() {
    let server = server_orb();
    let client = remote_orb();
    let channel = RtecChannel::start(&server, options(|_| {})).unwrap();
    let ch = channel_in(&client, &channel);
    let sink = Sink::default();
    let consumer = sink.activate(&client);
    let bad = [
        ConsumerQos::default(),
        ConsumerQosBuilder::new()
            .start_conjunction_group(3)
            .insert(1, 2, 0)
            .build(),
        ConsumerQosBuilder::new()
            .start_conjunction_group(-1)
            .insert(1, 2, 0)
            .build(),
        ConsumerQosBuilder::new().start_bitmask(1, 1).build(),
        ConsumerQosBuilder::new()
            .insert_time(ACE_ES_EVENT_INTERVAL_TIMEOUT, 0, 0)
            .build(),
    ];
    for qos in bad {
        let proxy = consumer_proxy(&ch);
        match proxy.connect_push_consumer(&consumer, &qos) {
            Err(proxy_push_supplier::ConnectPushConsumerError::TypeError(_)) => {}
            other => panic!("{qos:?}: expected TypeError, got {other:?}"),
        }
        // Still usable with a good one.
        proxy
            .connect_push_consumer(
                &consumer,
                &ConsumerQosBuilder::new().insert(1, 2, 0).build(),
            )
            .unwrap();
    }
    let proxy = consumer_proxy(&ch);
    match proxy.connect_push_consumer(
        &PushConsumerRef::nil(),
        &ConsumerQosBuilder::new().insert(1, 2, 0).build(),
    ) {
        Err(proxy_push_supplier::ConnectPushConsumerError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::BAD_PARAM)
        }
        other => panic!("expected BAD_PARAM, got {other:?}"),
    }
    // Extreme periods are held in range, never a panic: a huge one waits, 100 ns ticks
    // every 100 µs.
    for period in [u64::MAX, 1] {
        let sink = Sink::default();
        let qos = ConsumerQosBuilder::new()
            .insert_time(ACE_ES_EVENT_INTERVAL_TIMEOUT, period, 0)
            .build();
        let p = connect(&client, &ch, &sink, &qos);
        if period == 1 {
            sink.wait_count(3);
        }
        p.disconnect_push_supplier().unwrap();
    }
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

// ---- timeouts -------------------------------------------------------------------------------

/// 100 ns units.
fn timebase(d: Duration) -> u64 {
    (d.as_nanos() / 100) as u64
}

#[test]
fn interval_and_deadline_timeouts() {
    let orb = server_orb();
    let channel = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let ch = channel.reference().clone();
    let period = Duration::from_millis(20);
    let ticker = Sink::default();
    let started = Instant::now();
    let ticker_proxy = connect(
        &orb,
        &ch,
        &ticker,
        &ConsumerQosBuilder::new()
            .insert_time(ACE_ES_EVENT_INTERVAL_TIMEOUT, timebase(period), 0)
            .build(),
    );
    // A deadline of 200 ms, met by an event every 10 ms for a while, then missed.
    let watched = Sink::default();
    connect(
        &orb,
        &ch,
        &watched,
        &ConsumerQosBuilder::new()
            .start_disjunction_group(2)
            .insert(1, 20, 0)
            .insert_time(
                ACE_ES_EVENT_DEADLINE_TIMEOUT,
                timebase(Duration::from_millis(200)),
                0,
            )
            .build(),
    );
    let s = any_supplier(&ch);
    for i in 0..20 {
        s.push(&[ev(1, 20, i)]).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    let missed_while_fed = watched
        .events()
        .iter()
        .filter(|e| e.1 == ACE_ES_EVENT_DEADLINE_TIMEOUT)
        .count();
    // Fed every 10 ms against a 200 ms deadline: a miss needs a 200 ms stall of this thread.
    assert!(
        missed_while_fed <= 2,
        "{missed_while_fed} deadline misses while fed"
    );
    wait_until("a missed deadline", || {
        watched
            .events()
            .iter()
            .any(|e| e.1 == ACE_ES_EVENT_DEADLINE_TIMEOUT)
    });
    ticker_proxy.disconnect_push_supplier().unwrap();
    let elapsed = started.elapsed();
    let ticks = ticker.count();
    let expected = (elapsed.as_millis() / period.as_millis()) as usize;
    // Generous: a loaded machine may run the timer thread late, never early.
    assert!(
        ticks >= expected / 4 && ticks <= expected + 1,
        "{ticks} ticks in {elapsed:?} at {period:?}"
    );
    assert!(ticker
        .events()
        .iter()
        .all(|&(source, ty, _)| (source, ty) == (0, ACE_ES_EVENT_INTERVAL_TIMEOUT)));
    // Disconnecting cancelled the interval timer: no more ticks, one timer left.
    assert_eq!(channel.stats().timers, 1);
    std::thread::sleep(period * 3);
    assert_eq!(ticker.count(), ticks);
    channel.destroy();
    assert_eq!(channel.stats().timers, 0);
    orb.shutdown(true);
}

// ---- suspend, resume, connect, disconnect, reconnect, destroy -------------------------------

#[test]
fn suspended_consumers_lose_what_comes_meanwhile() {
    let orb = server_orb();
    let channel = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let ch = channel.reference().clone();
    let sink = Sink::default();
    let proxy = connect(
        &orb,
        &ch,
        &sink,
        &ConsumerQosBuilder::new().insert(1, 20, 0).build(),
    );
    let s = any_supplier(&ch);
    let burst = |from: i32| {
        for i in from..from + 5 {
            s.push(&[ev(1, 20, i)]).unwrap();
        }
    };
    burst(0);
    proxy.suspend_connection().unwrap();
    burst(100);
    assert!(channel.stats().consumers[0].suspended);
    proxy.resume_connection().unwrap();
    burst(200);
    let seqs: Vec<i32> = sink.events().iter().map(|e| e.2).collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4, 200, 201, 202, 203, 204]);
    proxy.disconnect_push_supplier().unwrap();
    assert_eq!(
        proxy.suspend_connection().unwrap_err().kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
    );
    channel.destroy();
    orb.shutdown(true);
}

fn lifecycle(server: &Orb, client: &Orb) {
    let channel = RtecChannel::start(
        server,
        options(|o| {
            o.consumer_reconnect(true);
        }),
    )
    .unwrap();
    let ch = channel_in(client, &channel);
    let qos20 = ConsumerQosBuilder::new().insert(1, 20, 0).build();
    let qos21 = ConsumerQosBuilder::new().insert(1, 21, 0).build();
    let sinks: Vec<Sink> = (0..3).map(|_| Sink::default()).collect();
    let sources: Vec<Source> = (0..2).map(|_| Source::default()).collect();
    let s = any_supplier(&ch);
    for cycle in 0..5 {
        // Connect, push, a reconnect to another subscription, push, disconnect.
        let proxy = connect(client, &ch, &sinks[0], &qos20);
        s.push(&[ev(1, 20, cycle), ev(1, 21, cycle)]).unwrap();
        proxy
            .connect_push_consumer(&sinks[0].activate(client), &qos21)
            .unwrap();
        s.push(&[ev(1, 20, cycle), ev(1, 21, cycle)]).unwrap();
        proxy.disconnect_push_supplier().unwrap();
        // Disconnecting again: the proxy is no more.
        assert_eq!(
            proxy.disconnect_push_supplier().unwrap_err().kind,
            SystemExceptionKind::OBJECT_NOT_EXIST
        );
        // A supplier too.
        let sp = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
        sp.connect_push_supplier(&sources[0].activate(client), &SupplierQos::default())
            .unwrap();
        assert!(matches!(
            sp.connect_push_supplier(&sources[0].activate(client), &SupplierQos::default()),
            Err(proxy_push_consumer::ConnectPushSupplierError::AlreadyConnected(_))
        ));
        sp.disconnect_push_consumer().unwrap();
    }
    wait_until("20 events", || sinks[0].count() >= 10);
    // (1,20) before the reconnect, (1,21) after, each cycle. (Sorted: a remote consumer's
    // ORB may run two oneway pushes on two threads.)
    let mut got: Vec<(i32, i32)> = sinks[0].events().iter().map(|e| (e.2, e.1)).collect();
    got.sort();
    let want: Vec<(i32, i32)> = (0..5).flat_map(|c| [(c, 20), (c, 21)]).collect();
    assert_eq!(got, want);
    // Peers that disconnect themselves are not told (TAO's default).
    assert_eq!((sinks[0].disconnects(), sources[0].disconnects()), (0, 0));

    // Destroy tells everyone connected: consumers, and suppliers with a reference.
    for sink in &sinks[1..] {
        connect(client, &ch, sink, &qos20);
    }
    let sp = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    sp.connect_push_supplier(&sources[1].activate(client), &SupplierQos::default())
        .unwrap();
    let idle = consumer_proxy(&ch);
    assert_eq!(channel.stats().consumers.len(), 2);
    assert_eq!(channel.stats().suppliers, 2);
    ch.destroy().unwrap();
    wait_until("every callback", || {
        sinks[1..].iter().all(|s| s.disconnects() == 1) && sources[1].disconnects() == 1
    });
    assert_eq!(sinks[0].disconnects(), 0);
    assert!(channel.is_destroyed());
    let gone = |e: SystemException| assert_eq!(e.kind, SystemExceptionKind::OBJECT_NOT_EXIST);
    gone(ch.for_consumers().unwrap_err());
    gone(idle.suspend_connection().unwrap_err());
    // A oneway push to a gone proxy: collocated callers hear it, remote ones cannot.
    if s.is_collocated() {
        gone(s.push(&[ev(1, 20, 0)]).unwrap_err());
    }
}

#[test]
fn lifecycle_collocated() {
    let orb = server_orb();
    lifecycle(&orb, &orb);
    orb.shutdown(true);
}

#[test]
fn lifecycle_remote() {
    let server = server_orb();
    let client = remote_orb();
    lifecycle(&server, &client);
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn reconnecting_is_already_connected_unless_allowed() {
    let orb = server_orb();
    let channel = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let ch = channel.reference().clone();
    let sink = Sink::default();
    let qos = ConsumerQosBuilder::new().insert(1, 20, 0).build();
    let proxy = connect(&orb, &ch, &sink, &qos);
    assert!(matches!(
        proxy.connect_push_consumer(&sink.activate(&orb), &qos),
        Err(proxy_push_supplier::ConnectPushConsumerError::AlreadyConnected(_))
    ));
    let s = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    s.connect_push_supplier(&PushSupplierRef::nil(), &SupplierQos::default())
        .unwrap();
    assert!(matches!(
        s.connect_push_supplier(&PushSupplierRef::nil(), &SupplierQos::default()),
        Err(proxy_push_consumer::ConnectPushSupplierError::AlreadyConnected(_))
    ));
    // With supplier reconnection on, a connected supplier proxy takes a new supplier.
    let open = RtecChannel::start(
        &orb,
        options(|o| {
            o.supplier_reconnect(true);
        }),
    )
    .unwrap();
    let (first, second) = (Source::default(), Source::default());
    let sp = open
        .reference()
        .for_suppliers()
        .unwrap()
        .obtain_push_consumer()
        .unwrap();
    sp.connect_push_supplier(&first.activate(&orb), &SupplierQos::default())
        .unwrap();
    sp.connect_push_supplier(&second.activate(&orb), &SupplierQos::default())
        .unwrap();
    open.destroy();
    // Only the supplier connected at the end is told; the replaced one never was.
    assert_eq!((first.disconnects(), second.disconnects()), (0, 1));
    // With disconnect callbacks on, a peer that disconnects itself is told too.
    let told = RtecChannel::start(
        &orb,
        options(|o| {
            o.disconnect_callbacks(true);
        }),
    )
    .unwrap();
    let other = Sink::default();
    let p = connect(&orb, told.reference(), &other, &qos);
    p.disconnect_push_supplier().unwrap();
    assert_eq!(other.disconnects(), 1);
    told.destroy();
    channel.destroy();
    assert_eq!(sink.disconnects(), 1);
    orb.shutdown(true);
}

// ---- concurrency ----------------------------------------------------------------------------

#[test]
fn stable_subscriptions_lose_nothing_while_others_churn() {
    let orb = server_orb();
    for dispatching in [Dispatching::Reactive, Dispatching::Mt] {
        let channel = RtecChannel::start(
            &orb,
            options(|o| {
                o.dispatching(dispatching)
                    .dispatching_threads(3)
                    .full_policy(PATIENT);
            }),
        )
        .unwrap();
        let ch = channel.reference().clone();
        let stable = Sink::default();
        connect(
            &orb,
            &ch,
            &stable,
            &ConsumerQosBuilder::new().insert_type(20, 0).build(),
        );
        let wildcard = Sink::default();
        connect(
            &orb,
            &ch,
            &wildcard,
            &ConsumerQosBuilder::new().insert_source(2, 0).build(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let churn = {
            let (ch, orb, stop) = (ch.clone(), orb.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut cycles = 0;
                while !stop.load(Ordering::SeqCst) || cycles < 20 {
                    let s = Sink::default();
                    let qos = ConsumerQosBuilder::new()
                        .start_disjunction_group(2)
                        .insert(cycles % 4, 20, 0)
                        .insert_type(21, 0)
                        .build();
                    let p = connect(&orb, &ch, &s, &qos);
                    p.disconnect_push_supplier().unwrap();
                    cycles += 1;
                }
                cycles
            })
        };
        let per_supplier = 300;
        let pushers: Vec<_> = (1..=4)
            .map(|source| {
                let ch = ch.clone();
                std::thread::spawn(move || {
                    let s = any_supplier(&ch);
                    for i in 0..per_supplier {
                        s.push(&[ev(source, 20, i)]).unwrap();
                    }
                })
            })
            .collect();
        for p in pushers {
            p.join().unwrap();
        }
        stop.store(true, Ordering::SeqCst);
        assert!(churn.join().unwrap() >= 20);
        stable.wait_count(4 * per_supplier as usize);
        wildcard.wait_count(per_supplier as usize);
        channel.destroy();
        let mut got = stable.events();
        assert_eq!(got.len(), 4 * per_supplier as usize, "{dispatching:?}");
        for source in 1..=4 {
            let seqs: Vec<i32> = got.iter().filter(|e| e.0 == source).map(|e| e.2).collect();
            assert_eq!(
                seqs,
                (0..per_supplier).collect::<Vec<_>>(),
                "{dispatching:?} source {source}"
            );
        }
        got = wildcard.events();
        assert_eq!(got.len(), per_supplier as usize);
        assert!(got.iter().all(|e| e.0 == 2));
    }
    orb.shutdown(true);
}

/// Suppliers wait for room rather than lose events (the tests count every one).
const PATIENT: FullPolicy = FullPolicy::Block {
    max_delay: Duration::from_secs(600),
};

/// Three consumers get every event of two suppliers in each supplier's order.
fn in_order(dispatching: Dispatching) {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.dispatching(dispatching)
                .dispatching_threads(4)
                .full_policy(PATIENT);
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let sinks: Vec<Sink> = (0..3).map(|_| Sink::default()).collect();
    for (i, s) in sinks.iter().enumerate() {
        // Each on its own lane under priority dispatching.
        connect(
            &orb,
            &ch,
            s,
            &ConsumerQosBuilder::new().insert_type(20, i as i32).build(),
        );
    }
    let n = 200;
    let suppliers: Vec<_> = (1..=2)
        .map(|source| {
            let ch = ch.clone();
            std::thread::spawn(move || {
                let s = any_supplier(&ch);
                for i in 0..n {
                    s.push(&[ev(source, 20, i)]).unwrap();
                }
            })
        })
        .collect();
    for s in suppliers {
        s.join().unwrap();
    }
    for s in &sinks {
        s.wait_count(2 * n as usize);
        let got = s.events();
        for source in 1..=2 {
            let seqs: Vec<i32> = got.iter().filter(|e| e.0 == source).map(|e| e.2).collect();
            assert_eq!(seqs, (0..n).collect::<Vec<_>>(), "{dispatching:?}");
        }
    }
    let stats = channel.stats();
    assert_eq!(stats.dropped, 0);
    assert!(stats.consumers.iter().all(|c| c.delivered == 2 * n as u64));
    if dispatching == Dispatching::Priority {
        let lanes: Vec<usize> = stats.consumers.iter().map(|c| c.lane).collect();
        assert_eq!(lanes, [0, 1, 2]);
    }
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn reactive_delivers_in_order() {
    in_order(Dispatching::Reactive);
}

#[test]
fn mt_delivers_in_order() {
    in_order(Dispatching::Mt);
}

#[test]
fn tpc_delivers_in_order() {
    in_order(Dispatching::Tpc);
}

#[test]
fn priority_delivers_in_order() {
    in_order(Dispatching::Priority);
}

/// A consumer that stops reading holds up only itself; its queue fills, the oldest go and
/// are counted against it.
fn stalled_consumer(dispatching: Dispatching) {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.dispatching(dispatching)
                .water_marks(8, 4)
                .full_policy(FullPolicy::DropOldest);
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let stalled = Sink::holding();
    // Lane 1 (priority dispatching): a lane of its own.
    connect(
        &orb,
        &ch,
        &stalled,
        &ConsumerQosBuilder::new().insert_type(20, 1).build(),
    );
    let healthy = Sink::default();
    connect(
        &orb,
        &ch,
        &healthy,
        &ConsumerQosBuilder::new().insert_type(20, 0).build(),
    );
    let s = any_supplier(&ch);
    s.push(&[ev(1, 20, 0)]).unwrap();
    wait_until("the stalled consumer to be in push", || {
        stalled.0.entered.load(Ordering::SeqCst) == 1
    });
    for i in 1..50 {
        s.push(&[ev(1, 20, i)]).unwrap();
        // In step with the healthy consumer, so that only the stalled one's queue fills.
        healthy.wait_count(i as usize + 1);
    }
    let stats = channel.stats();
    let st = &stats.consumers[0];
    // One in push, eight queued, the rest dropped.
    assert_eq!((st.queued, st.dropped), (8, 41), "{dispatching:?}");
    assert_eq!(stats.consumers[1].dropped, 0);
    stalled.release();
    stalled.wait_count(9);
    let seqs: Vec<i32> = stalled.events().iter().map(|e| e.2).collect();
    // The first, then the newest eight.
    assert_eq!(seqs, [0, 42, 43, 44, 45, 46, 47, 48, 49]);
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn tpc_stalled_consumer_delays_nobody() {
    stalled_consumer(Dispatching::Tpc);
}

#[test]
fn priority_stalled_lane_delays_the_others() {
    stalled_consumer(Dispatching::Priority);
}

#[test]
fn a_blocked_supplier_waits_for_the_low_water_mark() {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.dispatching(Dispatching::Tpc)
                .water_marks(4, 1)
                .full_policy(FullPolicy::Block {
                    max_delay: Duration::from_secs(600),
                });
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let slow = Sink::holding();
    connect(
        &orb,
        &ch,
        &slow,
        &ConsumerQosBuilder::new().insert_type(20, 0).build(),
    );
    let s = any_supplier(&ch);
    s.push(&[ev(1, 20, 0)]).unwrap();
    wait_until("the consumer to be in push", || {
        slow.0.entered.load(Ordering::SeqCst) == 1
    });
    let pushed = Arc::new(AtomicUsize::new(0));
    let pusher = {
        let pushed = pushed.clone();
        std::thread::spawn(move || {
            for i in 1..20 {
                s.push(&[ev(1, 20, i)]).unwrap();
                pushed.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Four queued behind the one in push: the fifth waits.
    wait_until("the queue to fill", || pushed.load(Ordering::SeqCst) == 4);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(pushed.load(Ordering::SeqCst), 4);
    slow.release();
    pusher.join().unwrap();
    slow.wait_count(20);
    let stats = channel.stats();
    assert_eq!(stats.dropped, 0);
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn a_high_priority_event_overtakes_queued_low_ones() {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.dispatching(Dispatching::Priority).priority_lanes(3);
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let low = Sink::holding();
    connect(
        &orb,
        &ch,
        &low,
        &ConsumerQosBuilder::new().insert(1, 30, 2).build(),
    );
    let high = Sink::default();
    connect(
        &orb,
        &ch,
        &high,
        &ConsumerQosBuilder::new().insert(1, 40, 0).build(),
    );
    let s = any_supplier(&ch);
    for i in 0..5 {
        s.push(&[ev(1, 30, i)]).unwrap();
    }
    wait_until("the low lane to be busy", || {
        low.0.entered.load(Ordering::SeqCst) == 1
    });
    s.push(&[ev(1, 40, 100)]).unwrap();
    high.wait_count(1);
    // Delivered while the four low events behind the first still wait.
    assert_eq!(channel.stats().consumers[0].queued, 4);
    assert_eq!(low.count(), 0);
    low.release();
    low.wait_count(5);
    channel.destroy();
    orb.shutdown(true);
}

// ---- embedded use ---------------------------------------------------------------------------

#[test]
fn collocated_reactive_delivery_is_a_direct_call_in_the_suppliers_thread() {
    let orb = server_orb();
    let channel = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let ch = channel.reference().clone();
    assert!(ch.is_collocated());
    let sinks: Vec<Sink> = (0..3).map(|_| Sink::default()).collect();
    for s in &sinks {
        let consumer = s.activate(&orb);
        assert!(consumer.is_collocated());
        let proxy = consumer_proxy(&ch);
        assert!(proxy.is_collocated());
        proxy
            .connect_push_consumer(
                &consumer,
                &ConsumerQosBuilder::new().insert_type(20, 0).build(),
            )
            .unwrap();
    }
    let s = any_supplier(&ch);
    assert!(s.is_collocated());
    s.push(&[ev(1, 20, 7)]).unwrap();
    // Delivered before push returned, by this thread: no queue, no marshalling.
    let me = std::thread::current().id();
    for sink in &sinks {
        assert_eq!(sink.events(), [(1, 20, 7)]);
        assert_eq!(*sink.0.threads.lock().unwrap(), [me]);
    }
    channel.destroy();
    orb.shutdown(true);
}

// ---- observers and liveness -----------------------------------------------------------------

#[derive(Clone, Default)]
struct Watcher(Arc<Mutex<(Vec<ConsumerQos>, Vec<SupplierQos>)>>);

impl Observer for Watcher {
    fn update_consumer(&self, sub: &ConsumerQos) -> Result<(), SystemException> {
        self.0.lock().unwrap().0.push(sub.clone());
        Ok(())
    }

    fn update_supplier(&self, r#pub: &SupplierQos) -> Result<(), SystemException> {
        self.0.lock().unwrap().1.push(r#pub.clone());
        Ok(())
    }
}

fn headers(q: &ConsumerQos) -> Vec<(i32, i32)> {
    q.dependencies[1..]
        .iter()
        .map(|d| (d.event.header.source, d.event.header.r#type))
        .collect()
}

#[test]
fn observers_hear_the_aggregate_subscriptions() {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.observer(ObserverStrategy::Basic);
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let w = Watcher::default();
    let obj = orb
        .activate(&orb.root_poa(), Arc::new(observer::Tie::new(w.clone())))
        .unwrap();
    let handle = ch
        .append_observer(&ObserverRef::unchecked_narrow(obj))
        .unwrap();
    let a = Sink::default();
    let pa = connect(
        &orb,
        &ch,
        &a,
        &ConsumerQosBuilder::new()
            .start_disjunction_group(2)
            .insert(1, 20, 0)
            .insert_type(21, 0)
            .build(),
    );
    // A gateway's subscriptions are not echoed back to the observers (gateways).
    connect(
        &orb,
        &ch,
        &Sink::default(),
        &ConsumerQosBuilder::new()
            .insert(9, 99, 0)
            .gateway(true)
            .build(),
    );
    supplier(&ch, &SupplierQosBuilder::new().insert(1, 20, 0, 1).build());
    pa.disconnect_push_supplier().unwrap();
    {
        let seen = w.0.lock().unwrap();
        let consumer_updates: Vec<Vec<(i32, i32)>> = seen.0.iter().map(headers).collect();
        assert_eq!(
            consumer_updates,
            // On appending, on a's connect, on a's disconnect: the gateway's connect
            // changes nothing observers hear, so they are not told of it.
            [vec![], vec![(0, 21), (1, 20)], vec![]]
        );
        // The designator counts its children (prefix form).
        assert_eq!(seen.0[1].dependencies[0].event.header.source, 2);
        let supplier_updates: Vec<usize> = seen.1.iter().map(|q| q.publications.len()).collect();
        assert_eq!(supplier_updates, [0, 1]);
    }
    ch.remove_observer(handle).unwrap();
    assert!(matches!(
        ch.remove_observer(handle),
        Err(event_channel::RemoveObserverError::CantRemoveObserver(_))
    ));
    channel.destroy();

    let plain = RtecChannel::start(&orb, options(|_| {})).unwrap();
    let obj = orb
        .activate(&orb.root_poa(), Arc::new(observer::Tie::new(w)))
        .unwrap();
    assert!(matches!(
        plain
            .reference()
            .append_observer(&ObserverRef::unchecked_narrow(obj)),
        Err(event_channel::AppendObserverError::CantAppendObserver(_))
    ));
    plain.destroy();
    orb.shutdown(true);
}

#[test]
fn dead_consumers_are_reaped_by_the_control() {
    let server = server_orb();
    let client = remote_orb();
    let channel = RtecChannel::start(
        &server,
        options(|o| {
            o.consumer_control(Some(Duration::from_millis(20)));
        }),
    )
    .unwrap();
    let ch = channel_in(&client, &channel);
    let alive = Sink::default();
    connect(
        &client,
        &ch,
        &alive,
        &ConsumerQosBuilder::new().insert_type(20, 0).build(),
    );
    let doomed: orb::ServantRef = Arc::new(push_consumer::Tie::new(Sink::default()));
    let consumer = PushConsumerRef::unchecked_narrow(
        client.activate(&client.root_poa(), doomed.clone()).unwrap(),
    );
    consumer_proxy(&ch)
        .connect_push_consumer(
            &consumer,
            &ConsumerQosBuilder::new().insert_type(20, 0).build(),
        )
        .unwrap();
    assert_eq!(channel.stats().consumers.len(), 2);
    let root = client.root_poa();
    root.deactivate_object(&root.servant_to_id(&doomed).unwrap())
        .unwrap();
    wait_until("the dead consumer to be reaped", || {
        channel.stats().reaped == 1
    });
    assert_eq!(channel.stats().consumers.len(), 1);
    channel.destroy();
    assert_eq!(alive.disconnects(), 1);
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn dead_suppliers_are_reaped_by_the_control() {
    let orb = server_orb();
    let channel = RtecChannel::start(
        &orb,
        options(|o| {
            o.supplier_control(Some(Duration::from_millis(20)));
        }),
    )
    .unwrap();
    let ch = channel.reference().clone();
    let live = Source::default();
    let sp = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    sp.connect_push_supplier(&live.activate(&orb), &SupplierQos::default())
        .unwrap();
    let doomed: orb::ServantRef = Arc::new(push_supplier::Tie::new(Source::default()));
    let supplier_ref =
        PushSupplierRef::unchecked_narrow(orb.activate(&orb.root_poa(), doomed.clone()).unwrap());
    let dp = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    dp.connect_push_supplier(&supplier_ref, &SupplierQos::default())
        .unwrap();
    // A nil supplier cannot be probed: it stays.
    any_supplier(&ch);
    assert_eq!(channel.stats().suppliers, 3);
    let root = orb.root_poa();
    root.deactivate_object(&root.servant_to_id(&doomed).unwrap())
        .unwrap();
    wait_until("the dead supplier to be reaped", || {
        channel.stats().reaped == 1
    });
    assert_eq!(channel.stats().suppliers, 2);
    assert_eq!(
        dp.push(&[ev(1, 20, 0)]).unwrap_err().kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
    );
    channel.destroy();
    assert_eq!(live.disconnects(), 1);
    assert_eq!(channel.stats().threads, 0);
    orb.shutdown(true);
}

#[test]
fn a_consumer_may_destroy_the_channel_from_its_push() {
    for dispatching in [
        Dispatching::Reactive,
        Dispatching::Mt,
        Dispatching::Tpc,
        Dispatching::Priority,
    ] {
        let orb = server_orb();
        let channel = RtecChannel::start(
            &orb,
            options(|o| {
                o.dispatching(dispatching);
            }),
        )
        .unwrap();
        let ch = channel.reference().clone();
        let killer = Sink::default();
        let bystander = Sink::default();
        {
            let ch = ch.clone();
            let hook: Hook = Box::new(move |_| {
                let _ = ch.destroy();
            });
            *killer.0.hook.lock().unwrap() = Some(Arc::new(hook));
        }
        let qos = ConsumerQosBuilder::new().insert_type(20, 0).build();
        connect(&orb, &ch, &killer, &qos);
        connect(&orb, &ch, &bystander, &qos);
        let s = any_supplier(&ch);
        let _ = s.push(&[ev(1, 20, 0)]);
        wait_until("the destroy", || channel.is_destroyed());
        wait_until("every callback", || {
            killer.disconnects() == 1 && bystander.disconnects() == 1
        });
        // The thread that destroyed it could not join itself: it ends on its own.
        wait_until("every channel thread to end", || {
            channel.stats().threads == 0
        });
        orb.shutdown(true);
    }
}

// ---- a storm --------------------------------------------------------------------------------

/// xorshift: the storm's choices, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn a_storm_of_calls_from_callbacks_then_destroy() {
    for dispatching in [
        Dispatching::Reactive,
        Dispatching::Mt,
        Dispatching::Tpc,
        Dispatching::Priority,
    ] {
        let orb = server_orb();
        let channel = RtecChannel::start(
            &orb,
            options(|o| {
                o.dispatching(dispatching)
                    .dispatching_threads(2)
                    .water_marks(64, 32);
            }),
        )
        .unwrap();
        let ch = channel.reference().clone();
        let proxies: Arc<Mutex<Vec<ProxyPushSupplierRef>>> = Arc::default();
        let budget = Arc::new(AtomicUsize::new(400));
        let sinks: Vec<Sink> = (0..6).map(|_| Sink::default()).collect();
        for (i, sink) in sinks.iter().enumerate() {
            let (ch2, orb2, proxies, budget) =
                (ch.clone(), orb.clone(), proxies.clone(), budget.clone());
            let rng = Mutex::new(Rng(0x9e37_79b9 + i as u64));
            let hook: Hook = Box::new(move |_events| {
                if budget
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                    .is_err()
                {
                    return;
                }
                let choice = rng.lock().unwrap().next(4);
                // Errors are expected once the channel is going: only panics would count.
                match choice {
                    0 => {
                        if let Ok(p) = ch2.for_consumers().and_then(|a| a.obtain_push_supplier()) {
                            let qos = ConsumerQosBuilder::new().insert_type(20, 0).build();
                            let _ = p.connect_push_consumer(&Sink::default().activate(&orb2), &qos);
                            proxies.lock().unwrap().push(p);
                        }
                    }
                    1 => {
                        let p = proxies.lock().unwrap().pop();
                        if let Some(p) = p {
                            let _ = p.disconnect_push_supplier();
                        }
                    }
                    _ => {
                        if let Ok(s) = ch2.for_suppliers().and_then(|a| a.obtain_push_consumer()) {
                            let _ = s.connect_push_supplier(
                                &PushSupplierRef::nil(),
                                &SupplierQos::default(),
                            );
                            let _ = s.push(&[ev(7, 20, 0)]);
                            let _ = s.disconnect_push_consumer();
                        }
                    }
                }
            });
            *sink.0.hook.lock().unwrap() = Some(Arc::new(hook));
            connect(
                &orb,
                &ch,
                sink,
                &ConsumerQosBuilder::new().insert_type(20, 0).build(),
            );
        }
        let pushers: Vec<_> = (1..=2)
            .map(|source| {
                // Connected here, not in the thread: a thread that started late could find
                // the channel destroyed already (the other's pushes may spend the budget).
                let (s, budget) = (any_supplier(&ch), budget.clone());
                std::thread::spawn(move || {
                    // Until the callbacks have spent their budget (full queues drop events,
                    // so how many pushes that takes varies), and on through the destroy.
                    for i in 0..1_000_000 {
                        if budget.load(Ordering::SeqCst) == 0 && i >= 100 {
                            return;
                        }
                        if s.push(&[ev(source, 20, i)]).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        wait_until("the storm to spend its budget", || {
            budget.load(Ordering::SeqCst) == 0
        });
        let started = Instant::now();
        channel.destroy();
        for p in pushers {
            p.join().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{dispatching:?}"
        );
        assert!(
            sinks.iter().all(|s| s.disconnects() == 1),
            "{dispatching:?}"
        );
        let stats = channel.stats();
        assert_eq!(
            (
                stats.consumers.len(),
                stats.suppliers,
                stats.timers,
                stats.threads
            ),
            (0, 0, 0, 0),
            "{dispatching:?}"
        );
        assert!(sinks.iter().all(|s| s.push_count() > 0));
        orb.shutdown(true);
    }
}
