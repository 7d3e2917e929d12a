//! The event channel through its CORBA interfaces, in one process: collocated (the client
//! calls the servants directly) and over loopback TCP (a client ORB that never collocates),
//! every proxy kind, the spec's exceptions, disconnects told to the other side, slow and dead
//! consumers, destroy, and a pull supplier pulled by the channel.

mod common;

use common::*;
use event_service::cos_event_channel_admin::{
    proxy_pull_consumer, proxy_pull_supplier, proxy_push_consumer, proxy_push_supplier,
    ConsumerAdmin, EventChannel as _, EventChannelRef, ProxyPullConsumer, ProxyPullSupplier,
    ProxyPushConsumer, ProxyPushConsumerRef, ProxyPushSupplier, SupplierAdmin,
};
use event_service::cos_event_comm::{
    pull_supplier, push_consumer, PullConsumer, PullConsumerRef, PullSupplier, PullSupplierRef,
    PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use event_service::{ChannelOptions, EventChannel, PullMode};
use orb::exception::SystemExceptionKind;
use orb::Orb;
use std::time::Duration;

/// The channel as `client` sees it.
fn channel_in(client: &Orb, channel: &EventChannel) -> EventChannelRef {
    let ior = channel.object().to_ior_string().unwrap();
    EventChannelRef::unchecked_narrow(client.string_to_object(&ior).unwrap())
}

fn connected_supplier(ch: &EventChannelRef) -> ProxyPushConsumerRef {
    let proxy = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    proxy
        .connect_push_supplier(&PushSupplierRef::nil())
        .unwrap();
    proxy
}

/// Three push consumers and two pull consumers (one pulling, one polling) get every event of
/// two suppliers, each supplier's in the order pushed.
fn fan_out(server: &Orb, client: &Orb) {
    let channel = EventChannel::start(server, ChannelOptions::default()).unwrap();
    let ch = channel_in(client, &channel);
    let consumers: Vec<Collector> = (0..3).map(|_| Collector::default()).collect();
    let admin = ch.for_consumers().unwrap();
    for c in &consumers {
        let proxy = admin.obtain_push_supplier().unwrap();
        proxy.connect_push_consumer(&c.activate(client)).unwrap();
    }
    let puller = admin.obtain_pull_supplier().unwrap();
    puller
        .connect_pull_consumer(&PullConsumerRef::nil())
        .unwrap();
    let poller = admin.obtain_pull_supplier().unwrap();
    poller
        .connect_pull_consumer(&PullConsumerRef::nil())
        .unwrap();
    assert_eq!(channel.stats().consumers, 5);

    let a = connected_supplier(&ch);
    let b = connected_supplier(&ch);
    assert_eq!(channel.stats().suppliers, 2);
    for i in 0..40 {
        a.push(&ev(i)).unwrap();
        b.push(&ev(1000 + i)).unwrap();
    }
    let from_a: Vec<i32> = (0..40).collect();
    let from_b: Vec<i32> = (1000..1040).collect();
    let split =
        |got: Vec<i32>| -> (Vec<i32>, Vec<i32>) { got.into_iter().partition(|e| *e < 1000) };

    for c in &consumers {
        assert_eq!(split(c.wait_for(80)), (from_a.clone(), from_b.clone()));
    }
    let pulled: Vec<i32> = (0..80)
        .map(|_| puller.pull().unwrap().as_i32().unwrap())
        .collect();
    assert_eq!(split(pulled), (from_a.clone(), from_b.clone()));
    let mut polled = Vec::new();
    while polled.len() < 80 {
        let (e, has) = poller.try_pull().unwrap();
        if has {
            polled.push(e.as_i32().unwrap());
        } else {
            assert_eq!(e.type_code().kind(), orb::typecode::TCKind::Null);
        }
    }
    assert_eq!(split(polled), (from_a, from_b));
    let (_, has) = poller.try_pull().unwrap();
    assert!(!has, "an event more than was pushed");
    assert_eq!(channel.stats().dropped, 0);
    channel.destroy();
}

#[test]
fn collocated_suppliers_reach_every_consumer_in_order() {
    let orb = server_orb();
    fan_out(&orb, &orb);
    orb.shutdown(true);
}

#[test]
fn remote_suppliers_reach_every_consumer_in_order() {
    let server = server_orb();
    let client = remote_orb();
    fan_out(&server, &client);
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn the_spec_exceptions() {
    let server = server_orb();
    let client = remote_orb();
    let channel = EventChannel::start(&server, ChannelOptions::default()).unwrap();
    let ch = channel_in(&client, &channel);
    let consumers = ch.for_consumers().unwrap();
    let suppliers = ch.for_suppliers().unwrap();
    let is_system = |kind: SystemExceptionKind, e: &dyn std::fmt::Debug| {
        let text = format!("{e:?}");
        assert!(text.contains(kind.name()), "expected {kind:?}, got {text}");
    };

    // Nil where the spec forbids it: BAD_PARAM.
    let pps = consumers.obtain_push_supplier().unwrap();
    match pps.connect_push_consumer(&PushConsumerRef::nil()) {
        Err(proxy_push_supplier::ConnectPushConsumerError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::BAD_PARAM)
        }
        other => panic!("nil push consumer: {other:?}"),
    }
    let ppc = suppliers.obtain_pull_consumer().unwrap();
    match ppc.connect_pull_supplier(&PullSupplierRef::nil()) {
        Err(proxy_pull_consumer::ConnectPullSupplierError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::BAD_PARAM)
        }
        other => panic!("nil pull supplier: {other:?}"),
    }

    // Connected twice: AlreadyConnected, for all four kinds.
    let c = Collector::default();
    pps.connect_push_consumer(&c.activate(&client)).unwrap();
    assert!(matches!(
        pps.connect_push_consumer(&c.activate(&client)),
        Err(proxy_push_supplier::ConnectPushConsumerError::AlreadyConnected(_))
    ));
    let source = Source::default();
    ppc.connect_pull_supplier(&source.activate(&client))
        .unwrap();
    assert!(matches!(
        ppc.connect_pull_supplier(&source.activate(&client)),
        Err(proxy_pull_consumer::ConnectPullSupplierError::AlreadyConnected(_))
    ));
    let pull = consumers.obtain_pull_supplier().unwrap();
    // Pulling before connecting: Disconnected.
    assert!(matches!(
        pull.try_pull(),
        Err(pull_supplier::TryPullError::Disconnected(_))
    ));
    assert!(matches!(
        pull.pull(),
        Err(pull_supplier::PullError::Disconnected(_))
    ));
    pull.connect_pull_consumer(&PullConsumerRef::nil()).unwrap();
    assert!(matches!(
        pull.connect_pull_consumer(&PullConsumerRef::nil()),
        Err(proxy_pull_supplier::ConnectPullConsumerError::AlreadyConnected(_))
    ));
    let push = suppliers.obtain_push_consumer().unwrap();
    // Pushing before connecting: Disconnected.
    assert!(matches!(
        push.push(&ev(1)),
        Err(push_consumer::PushError::Disconnected(_))
    ));
    push.connect_push_supplier(&PushSupplierRef::nil()).unwrap();
    assert!(matches!(
        push.connect_push_supplier(&PushSupplierRef::nil()),
        Err(proxy_push_consumer::ConnectPushSupplierError::AlreadyConnected(_))
    ));
    push.push(&ev(7)).unwrap();
    assert_eq!(c.wait_for(1), vec![7]);

    // Disconnected proxies are disposed of: a remote caller finds no object.
    push.disconnect_push_consumer().unwrap();
    match push.push(&ev(8)) {
        Err(push_consumer::PushError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::OBJECT_NOT_EXIST)
        }
        other => panic!("push after disconnect: {other:?}"),
    }
    pull.disconnect_pull_supplier().unwrap();
    match pull.try_pull() {
        Err(e) => is_system(SystemExceptionKind::OBJECT_NOT_EXIST, &e),
        Ok(_) => panic!("try_pull after disconnect succeeded"),
    }
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn a_collocated_push_on_a_disconnected_proxy_raises_disconnected() {
    // Direct collocation reaches the servant even after its object is deactivated, so the
    // proxy itself must refuse.
    let orb = Orb::init(orb::OrbOptions {
        collocation: orb::CollocationStrategy::Direct,
        ..orb::OrbOptions::default()
    })
    .unwrap();
    let channel = EventChannel::start(&orb, ChannelOptions::default()).unwrap();
    let push = connected_supplier(channel.reference());
    assert!(push.is_collocated());
    push.push(&ev(1)).unwrap();
    push.disconnect_push_consumer().unwrap();
    assert!(matches!(
        push.push(&ev(2)),
        Err(push_consumer::PushError::Disconnected(_))
    ));
    channel.destroy();
    orb.shutdown(true);
}

#[test]
fn disconnecting_tells_the_other_side() {
    let server = server_orb();
    let client = remote_orb();
    let channel = EventChannel::start(&server, ChannelOptions::default()).unwrap();
    let ch = channel_in(&client, &channel);

    // A consumer leaving through its proxy is told by the proxy (disconnect_push_consumer).
    let consumer = Collector::default();
    let pps = ch.for_consumers().unwrap().obtain_push_supplier().unwrap();
    pps.connect_push_consumer(&consumer.activate(&client))
        .unwrap();
    pps.disconnect_push_supplier().unwrap();
    wait_until("the consumer told", || consumer.disconnected());

    // So is a supplier leaving through its proxy.
    let supplier = Peer::default();
    let ppc = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    ppc.connect_push_supplier(&supplier.as_push_supplier(&client))
        .unwrap();
    ppc.disconnect_push_consumer().unwrap();
    wait_until("the supplier told", || supplier.disconnected());

    // And a pull consumer; a pull waiting in the proxy returns Disconnected.
    let pull_consumer = Peer::default();
    let pps = ch.for_consumers().unwrap().obtain_pull_supplier().unwrap();
    pps.connect_pull_consumer(&pull_consumer.as_pull_consumer(&client))
        .unwrap();
    let waiting = {
        let pps = pps.clone();
        std::thread::spawn(move || {
            orb::use_idle_connections(true);
            pps.pull()
        })
    };
    // Both calls on connections of their own: the server serves a connection's requests in
    // order, so on a shared one the disconnect would wait behind the pull it ends.
    orb::use_idle_connections(true);
    wait_until("the pull to wait in the proxy", || {
        channel.stats().pulls_waiting == 1
    });
    pps.disconnect_pull_supplier().unwrap();
    wait_until("the pull consumer told", || pull_consumer.disconnected());
    assert!(matches!(
        waiting.join().unwrap(),
        Err(pull_supplier::PullError::Disconnected(_))
    ));
    assert_eq!(channel.stats().consumers, 0);
    assert_eq!(channel.stats().suppliers, 0);
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn a_blocked_consumer_loses_its_oldest_events_and_holds_up_nobody() {
    let server = server_orb();
    let client = remote_orb();
    let options = ChannelOptions {
        queue_length: 4,
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&server, options).unwrap();
    let ch = channel_in(&client, &channel);
    let admin = ch.for_consumers().unwrap();
    let blocked = Collector::holding();
    let good = Collector::default();
    for c in [&blocked, &good] {
        admin
            .obtain_push_supplier()
            .unwrap()
            .connect_push_consumer(&c.activate(&client))
            .unwrap();
    }
    let supplier = connected_supplier(&ch);
    supplier.push(&ev(0)).unwrap();
    wait_until("the blocked consumer to be in push", || {
        blocked
            .inner
            .entered
            .load(std::sync::atomic::Ordering::SeqCst)
            == 1
    });
    // The good consumer is waited for after each event, so that only the blocked one's
    // queue ever fills.
    for i in 1..=20 {
        supplier.push(&ev(i)).unwrap();
        good.wait_for(i as usize + 1);
    }
    assert_eq!(good.events(), (0..=20).collect::<Vec<_>>());
    // Event 0 is in the blocked push; its queue of 4 has had 20 events: 16 dropped.
    assert_eq!(channel.stats().dropped, 16);
    blocked.release();
    assert_eq!(blocked.wait_for(5), vec![0, 17, 18, 19, 20]);
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn a_dead_consumer_is_disconnected_and_the_others_still_served() {
    let server = server_orb();
    let client = remote_orb();
    let options = ChannelOptions {
        retry_interval: Duration::from_millis(5),
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&server, options).unwrap();
    let ch = channel_in(&client, &channel);
    let admin = ch.for_consumers().unwrap();

    // A consumer in an ORB of its own, which then goes away.
    let doomed_orb = remote_orb();
    let doomed = Collector::default();
    let doomed_proxy = admin.obtain_push_supplier().unwrap();
    doomed_proxy
        .connect_push_consumer(&doomed.activate(&doomed_orb))
        .unwrap();
    let good = Collector::default();
    admin
        .obtain_push_supplier()
        .unwrap()
        .connect_push_consumer(&good.activate(&client))
        .unwrap();
    let supplier = connected_supplier(&ch);
    supplier.push(&ev(0)).unwrap();
    assert_eq!(doomed.wait_for(1), vec![0]);
    doomed_orb.shutdown(true);
    drop(doomed_orb);

    for i in 1..10 {
        supplier.push(&ev(i)).unwrap();
    }
    assert_eq!(good.wait_for(10), (0..10).collect::<Vec<_>>());
    wait_until("the dead consumer disconnected", || {
        channel.stats().consumers == 1
    });
    match doomed_proxy.connect_push_consumer(&good.activate(&client)) {
        Err(proxy_push_supplier::ConnectPushConsumerError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::OBJECT_NOT_EXIST)
        }
        other => panic!("the dead consumer's proxy is still there: {other:?}"),
    }
    supplier.push(&ev(10)).unwrap();
    assert_eq!(good.wait_for(11).last(), Some(&10));
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn destroy_disconnects_everyone_and_removes_the_channel() {
    let server = server_orb();
    let client = remote_orb();
    let options = ChannelOptions {
        pull_interval: Duration::from_millis(5),
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&server, options).unwrap();
    let ch = channel_in(&client, &channel);
    let consumers = ch.for_consumers().unwrap();
    let suppliers = ch.for_suppliers().unwrap();

    let push_consumer = Collector::default();
    consumers
        .obtain_push_supplier()
        .unwrap()
        .connect_push_consumer(&push_consumer.activate(&client))
        .unwrap();
    let pull_consumer = Peer::default();
    let pull_proxy = consumers.obtain_pull_supplier().unwrap();
    pull_proxy
        .connect_pull_consumer(&pull_consumer.as_pull_consumer(&client))
        .unwrap();
    let push_supplier = Peer::default();
    let push_proxy = suppliers.obtain_push_consumer().unwrap();
    push_proxy
        .connect_push_supplier(&push_supplier.as_push_supplier(&client))
        .unwrap();
    let pull_supplier = Source::default();
    suppliers
        .obtain_pull_consumer()
        .unwrap()
        .connect_pull_supplier(&pull_supplier.activate(&client))
        .unwrap();
    assert_eq!(channel.stats().consumers, 2);
    assert_eq!(channel.stats().suppliers, 2);

    ch.destroy().unwrap();
    wait_until("everyone told", || {
        push_consumer.disconnected()
            && pull_consumer.disconnected()
            && push_supplier.disconnected()
            && pull_supplier.disconnected()
    });
    assert!(channel.is_destroyed());
    let gone = |what: &str, r: Result<(), String>| match r {
        Err(e) => assert!(e.contains("OBJECT_NOT_EXIST"), "{what}: {e}"),
        Ok(()) => panic!("{what} still answers after destroy"),
    };
    gone(
        "the channel",
        ch.for_consumers().map(drop).map_err(|e| format!("{e:?}")),
    );
    gone(
        "the consumer admin",
        consumers
            .obtain_push_supplier()
            .map(drop)
            .map_err(|e| format!("{e:?}")),
    );
    gone(
        "a proxy",
        push_proxy.push(&ev(1)).map_err(|e| format!("{e:?}")),
    );
    gone(
        "a pull proxy",
        pull_proxy
            .try_pull()
            .map(drop)
            .map_err(|e| format!("{e:?}")),
    );
    client.shutdown(true);
    server.shutdown(true);
}

/// The channel pulls from a pull supplier and its events reach a push consumer; when the
/// proxy is disconnected the supplier is told.
fn pulled_by_the_channel(mode: PullMode) {
    let server = server_orb();
    let client = remote_orb();
    let options = ChannelOptions {
        pull_mode: mode,
        pull_interval: Duration::from_millis(5),
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&server, options).unwrap();
    let ch = channel_in(&client, &channel);
    let consumer = Collector::default();
    ch.for_consumers()
        .unwrap()
        .obtain_push_supplier()
        .unwrap()
        .connect_push_consumer(&consumer.activate(&client))
        .unwrap();
    let source = Source::default();
    for i in 0..5 {
        source.add(ev(i));
    }
    let proxy = ch.for_suppliers().unwrap().obtain_pull_consumer().unwrap();
    proxy
        .connect_pull_supplier(&source.activate(&client))
        .unwrap();
    assert_eq!(consumer.wait_for(5), (0..5).collect::<Vec<_>>());
    // Events that come later are pulled too.
    for i in 5..10 {
        source.add(ev(i));
    }
    assert_eq!(consumer.wait_for(10), (0..10).collect::<Vec<_>>());
    proxy.disconnect_pull_consumer().unwrap();
    wait_until("the pull supplier told", || source.disconnected());
    assert_eq!(channel.stats().suppliers, 0);
    channel.destroy();
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn the_channel_polls_a_pull_supplier_with_try_pull() {
    pulled_by_the_channel(PullMode::TryPull);
}

#[test]
fn the_channel_pulls_a_pull_supplier_with_pull() {
    pulled_by_the_channel(PullMode::Pull);
}

#[test]
fn a_pull_supplier_that_says_disconnected_is_dropped() {
    let orb = server_orb();
    let options = ChannelOptions {
        pull_interval: Duration::from_millis(5),
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&orb, options).unwrap();
    let source = Source::default();
    let proxy = channel
        .reference()
        .for_suppliers()
        .unwrap()
        .obtain_pull_consumer()
        .unwrap();
    proxy.connect_pull_supplier(&source.activate(&orb)).unwrap();
    assert_eq!(channel.stats().suppliers, 1);
    // The supplier leaves on its own: its next try_pull raises Disconnected.
    source.disconnect_pull_supplier().unwrap();
    wait_until("the supplier's proxy dropped", || {
        channel.stats().suppliers == 0
    });
    channel.destroy();
    orb.shutdown(true);
}
