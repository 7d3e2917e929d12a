//! `rt-event-service` as a process of its own: reached by `corbaloc:` at `RtEventChannel` and
//! by the name it bound itself under, `-EC…` options passed through, events to consumers
//! exactly as their subscriptions say, its `--stats` reports, destroy, and its answers to bad
//! arguments.

mod rtd_common;

use event_service::rtec::rtec_event_channel_admin::{EventChannel, EventChannelRef};
use event_service::rtec::rtec_event_comm::PushConsumer as _;
use event_service::rtec::{self, ConsumerQosBuilder};
use naming_service::{open_store, NamingService};
use orb::{Orb, OrbOptions};
use rtd_common::*;
use std::process::Output;

/// A naming service in this process, on a port of the system's choosing.
fn naming_service() -> (Orb, NamingService, u16) {
    let mut options = OrbOptions::default();
    options
        .parse_args(["-ORBendPoint".into(), "giop:tcp:127.0.0.1:0".into()])
        .unwrap();
    let orb = Orb::init(options).unwrap();
    let service = NamingService::start(&orb, open_store(None).unwrap()).unwrap();
    let port = match &orb.listen().unwrap()[0] {
        orb::transport::Endpoint::Iiop { port, .. } => *port,
        other => panic!("listening on {other}"),
    };
    (orb, service, port)
}

/// (source, type) of the events the supplier pushes, in turn: three wanted by one consumer
/// each, the last by nobody.
const CYCLE: [(i32, i32); 4] = [(1, 20), (2, 20), (1, 21), (3, 22)];

#[test]
fn events_reach_exactly_their_subscribers_through_the_daemon_found_by_corbaloc_and_by_name() {
    let (ns_orb, _ns, ns_port) = naming_service();
    let dir = tempfile::tempdir().unwrap();
    let ior_file = dir.path().join("channel.ior");
    let ns_url = format!("corbaloc::127.0.0.1:{ns_port}/NameService");
    let daemon = RtDaemon::start(&[
        "--ior-file",
        ior_file.to_str().unwrap(),
        "--name-service",
        &ns_url,
        "--name",
        "rt.channel",
        "--stats",
        "0.05",
        "-ECDispatching",
        "mt",
        "-ORBthreadStrategy",
        "connection",
        "-ECFiltering",
        "prefix",
    ]);
    assert_eq!(
        std::fs::read_to_string(&ior_file).unwrap().trim(),
        daemon.ior,
        "the IOR file"
    );

    // Consumers find it by its well-known key.
    let client = client_orb();
    let by_key = EventChannelRef::narrow(&client.string_to_object(&daemon.corbaloc()).unwrap())
        .unwrap()
        .expect("corbaloc .../RtEventChannel is an RtecEventChannelAdmin::EventChannel");
    let exact = Keeper::default();
    let by_type = Keeper::default();
    let by_source = Keeper::default();
    let qos = [
        ConsumerQosBuilder::new().insert(1, 20, 0).build(),
        ConsumerQosBuilder::new().insert_type(21, 0).build(),
        ConsumerQosBuilder::new().insert_source(2, 0).build(),
    ];
    for (k, q) in [&exact, &by_type, &by_source].into_iter().zip(&qos) {
        k.connect(&client, &by_key, q);
    }

    // The supplier finds it by name.
    let by_name = EventChannelRef::narrow(
        &client
            .string_to_object(&format!("corbaname::127.0.0.1:{ns_port}#rt.channel"))
            .unwrap(),
    )
    .unwrap()
    .expect("the name is bound to an RtecEventChannelAdmin::EventChannel");
    let supplier = connect_supplier(&by_name, CYCLE);
    for i in 0..60 {
        let (source, ty) = CYCLE[i % CYCLE.len()];
        let mut e = rtec::event(source, ty);
        e.data.pad1 = i as i32;
        supplier.push(&[e]).unwrap();
    }
    let want = |(source, ty): (i32, i32)| -> Vec<(i32, i32, i32)> {
        (0..60)
            .filter(|i| CYCLE[i % CYCLE.len()] == (source, ty))
            .map(|i| (ty, source, i as i32))
            .collect()
    };
    // Compared as sets: `push` is oneway, and a call made in an upcall or from a channel
    // thread takes an idle connection, which one with an unconfirmed oneway is not, so
    // successive pushes to a consumer can leave on different connections, each served on a
    // thread of its own, and overtake each other.
    for (k, pair) in [
        (&exact, CYCLE[0]),
        (&by_type, CYCLE[2]),
        (&by_source, CYCLE[1]),
    ] {
        k.wait_count(15);
        let mut got = k.headers();
        got.sort_by_key(|h| h.2);
        assert_eq!(got, want(pair));
    }

    // The reports agree: all 60 came in, the 15 nobody wanted stopped at the supplier's proxy,
    // and each consumer was pushed its 15 and nothing more.
    let stats = daemon.stats_after(60);
    assert_eq!(stats.get("suppliers"), 1, "{stats:?}");
    assert_eq!(stats.get("unsubscribed"), 15, "{stats:?}");
    assert_eq!(stats.get("dropped"), 0, "{stats:?}");
    let mut settled = None;
    wait_until("a report with every consumer's 15 delivered", || {
        settled = daemon.latest_stats().filter(|s| {
            s.consumers.len() == 3 && s.consumers.iter().all(|c| get(c, "delivered") == 15)
        });
        settled.is_some()
    });
    for c in &settled.unwrap().consumers {
        assert_eq!((get(c, "queued"), get(c, "dropped")), (0, 0), "{c:?}");
    }
    for k in [&exact, &by_type, &by_source] {
        assert_eq!(k.events().len(), 15);
    }

    // Destroyed, it tells its consumers and is gone by either key.
    by_name.destroy().unwrap();
    wait_until("the consumers told", || {
        [&exact, &by_type, &by_source]
            .iter()
            .all(|k| k.disconnects() == 1)
    });
    for (what, ch) in [("by name", &by_name), ("by key", &by_key)] {
        match ch.for_suppliers() {
            Err(e) => assert_eq!(
                e.kind,
                orb::exception::SystemExceptionKind::OBJECT_NOT_EXIST,
                "{what}"
            ),
            Ok(_) => panic!("the channel {what} answers after destroy"),
        }
    }
    drop(daemon);
    client.shutdown(true);
    ns_orb.shutdown(true);
}

/// `out` failed with exit status `code` and said `expect` on stderr, without panicking.
fn assert_refused(out: &Output, code: i32, expect: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(expect),
        "stderr does not mention {expect:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "printed an IOR: {out:?}");
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    for (args, expect) in [
        (
            &["-ECfrobnicate", "1"][..],
            "unknown event channel option -ECfrobnicate",
        ),
        (
            &["-ECDispatching", "sometimes"],
            "-ECDispatching: unsupported value",
        ),
        (&["-ECDispatching"], "-ECDispatching needs a value"),
        (&["-ORBfrobnicate", "1"], "-ORBfrobnicate"),
        (&["-x"], "unknown option \"-x\""),
        (&["channel"], "unexpected argument \"channel\""),
        (&["--stats", "0"], "--stats"),
        (&["--stats", "soon"], "--stats"),
        (&["--port", "seventy"], "--port"),
        (&["--name", "x"], "--name-service"),
        (
            &["--name-service", "no-such-url", "--name", "a"],
            "no-such-url",
        ),
        (
            &["--ior-file", "/no/such/dir/ior"],
            "cannot write /no/such/dir/ior",
        ),
    ] {
        assert_refused(&run(args), 2, expect);
    }
    // Understood, but the naming service is not there: a failure, not a usage error.
    assert_refused(
        &run(&[
            "--name-service",
            "corbaloc::127.0.0.1:1/NameService",
            "--name",
            "a",
        ]),
        1,
        "cannot bind \"a\"",
    );
}

/// Killed with SIGKILL and restarted on its port, the daemon answers the IOR it printed
/// before (its POA is persistent); a reconnecting supplier and consumer connect again by
/// themselves with their QOS, and events flow again, none twice.
#[test]
fn a_restarted_daemon_answers_its_old_ior_and_reconnecting_clients_carry_on() {
    use event_service::rtec::{
        RtecReconnectingPushConsumer, RtecReconnectingPushSupplier, SupplierQosBuilder,
    };
    use event_service::ReconnectOptions;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let daemon = RtDaemon::start(&[]);
    let (port, ior) = (daemon.port, daemon.ior.clone());
    let client = client_orb();
    let channel = EventChannelRef::unchecked_narrow(client.string_to_object(&ior).unwrap());
    let options = ReconnectOptions {
        retry_interval: Duration::from_millis(20),
        patience: Duration::from_secs(20),
        check_interval: Duration::from_millis(50),
    };
    let got = Arc::new(Mutex::new(Vec::<i32>::new()));
    let sink = got.clone();
    let mut consumer = RtecReconnectingPushConsumer::start(
        &client,
        channel.clone(),
        ConsumerQosBuilder::new().insert(1, 20, 0).build(),
        options.clone(),
        move |events| {
            let mut got = sink.lock().unwrap();
            got.extend(events.iter().map(|e| e.data.pad1));
        },
    )
    .unwrap();
    let mut supplier = RtecReconnectingPushSupplier::start(
        channel,
        SupplierQosBuilder::new().insert(1, 20, 0, 1).build(),
        options,
    )
    .unwrap();
    let ev = |seq: i32| {
        let mut e = rtec::event(1, 20);
        e.data.pad1 = seq;
        e
    };
    wait_until("both connected", || {
        consumer.connections() == 1 && supplier.connections() == 1
    });
    for seq in 0..10 {
        supplier.push(&[ev(seq)]).unwrap();
    }
    wait_until("10 events", || got.lock().unwrap().len() == 10);

    drop(daemon);
    let endpoint = format!("giop:tcp:127.0.0.1:{port}");
    let _daemon = RtDaemon::start(&["--endpoint", &endpoint]);
    wait_until("both connected again", || {
        consumer.connections() == 2 && supplier.connections() == 2
    });
    for seq in 10..20 {
        supplier.push(&[ev(seq)]).unwrap();
    }
    wait_until("the events pushed after the restart", || {
        let got = got.lock().unwrap();
        (10..20).all(|seq| got.contains(&seq))
    });
    let got = got.lock().unwrap().clone();
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique, got, "an event delivered twice: {got:?}");
    consumer.stop();
    supplier.stop();
    client.shutdown(true);
}
