//! UDP multicast federation, run in a network namespace of its own: the test runs this
//! binary again under `unshare -n`, where only a loopback interface exists; the child
//! brings it up with a multicast route and runs a sender and a receiver there, never on a
//! real interface. Also the reassembly alone, from byte vectors.

use event_service::rtec::mcast::{
    decode_events, encode_events, fragment, Accepted, AddressTable, FragmentHeader, Reassembler,
    ReassemblyLimits, ReceiverOptions, SenderOptions, UdpReceiver, UdpSender,
};
use event_service::rtec::rtec_event_comm::{Event, PushConsumer, PushSupplier};
use event_service::rtec::{self, ConsumerQosBuilder, RtecChannel};
use orb::cdr::ByteOrder;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;
use std::time::{Duration, Instant};
use test_support::skip;

const CHILD_ENV: &str = "RTEC_FED_UDP_CHILD";

pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The test's side: runs the child in a new network namespace, or says why it cannot.
pub fn udp_multicast_federation() {
    let probe = Command::new("unshare").args(["-n", "true"]).output();
    let why = match probe {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`unshare -n` refused (root is needed): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("`unshare` cannot run: {e}")),
    }
    .or_else(|| match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("`ip` (iproute2) cannot run, to bring the namespace's loopback up".into()),
    });
    if let Some(why) = why {
        skip("udp_multicast_federation", &why);
        return;
    }
    let out = Command::new("unshare")
        .arg("-n")
        .arg(std::env::current_exe().unwrap())
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the namespace's child failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("udp federation: ok"), "{stdout}");
}

fn ip(args: &[&str]) {
    let s = Command::new("ip").args(args).status().unwrap();
    assert!(s.success(), "ip {args:?}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ev(ty: i32, ttl: i32, payload: usize) -> Event {
    let mut e = rtec::event(1, ty);
    e.header.ttl = ttl;
    e.data.payload = (0..payload).map(|i| (i % 251) as u8).collect();
    e
}

/// Inside the namespace.
pub fn child_main() {
    ip(&["link", "set", "lo", "up"]);
    ip(&["link", "set", "lo", "multicast", "on"]);
    ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);

    let orb = super::node_orb();
    let sending = RtecChannel::start(&orb, super::node_options()).unwrap();
    let receiving = RtecChannel::start(&orb, super::node_options()).unwrap();
    let port = 47011;
    let g = |last: u8| SocketAddrV4::new(Ipv4Addr::new(239, 7, 7, last), port);
    // 61 and 62 share a group; 63 has one nobody here joins.
    let table = AddressTable::new()
        .route(60, g(1))
        .route(61, g(2))
        .route(62, g(2))
        .route(63, g(3));

    let (got, proxy) = super::connect_counter(
        &orb,
        receiving.reference(),
        &ConsumerQosBuilder::new()
            .start_disjunction_group(2)
            .insert_type(60, 0)
            .insert_type(61, 0)
            .build(),
    );
    let mut ropts = ReceiverOptions::default();
    ropts.limits.timeout = Duration::from_millis(200);
    let receiver = UdpReceiver::start(&orb, receiving.reference(), table.clone(), ropts).unwrap();
    wait_until("the receiver to join the groups its consumer needs", || {
        receiver.stats().joined == [g(1), g(2)]
    });

    let big = ev(60, 1, 5000);
    let order = ByteOrder::NATIVE;
    let max_datagram = 1000;
    let pieces = fragment(
        0,
        order,
        &encode_events(std::slice::from_ref(&big), order).unwrap(),
        1000,
    )
    .len();
    assert!(pieces > 3, "the big event must need several datagrams");
    // Small ones first: 10 + 10 + 5 + 5 datagrams, then the big one, then a second big one
    // whose second fragment is lost.
    let lost = (30 + pieces + 1) as u64;
    let sopts = SenderOptions {
        max_datagram,
        order,
        lose: [lost].into(),
        ..SenderOptions::default()
    };
    let sender = UdpSender::start(&orb, sending.reference(), table, sopts).unwrap();
    let supplier = super::connect_supplier(sending.reference());
    let push = |e: Event| supplier.push(&[e]).unwrap();
    for (ty, n) in [(60, 10), (61, 10), (62, 5), (63, 5)] {
        for _ in 0..n {
            push(ev(ty, 1, 8));
        }
    }
    push(big.clone());
    push(ev(61, 1, 5000));
    for _ in 0..3 {
        push(ev(60, 1, 8));
    }
    push(ev(60, 0, 8)); // spent: never sent

    let s = sender.stats();
    assert_eq!(s.events, 10 + 10 + 5 + 5 + 2 + 3);
    assert_eq!(s.lost, 1);
    assert_eq!(s.skipped, 1);
    assert_eq!(s.datagrams, (30 + 2 * pieces + 3 - 1) as u64);
    // Received: everything sent to groups 1 and 2.
    let expected_datagrams = (25 + 2 * pieces - 1 + 3) as u64;
    wait_until("every datagram sent to the joined groups", || {
        receiver.stats().reassembly.datagrams == expected_datagrams
    });
    wait_until("the incomplete message to expire", || {
        receiver.stats().reassembly.expired == 1
    });
    let r = receiver.stats();
    assert_eq!(r.reassembly.completed, 25 + 1 + 3);
    assert_eq!(r.reassembly.duplicates, 0);
    assert_eq!(r.reassembly.malformed, 0);
    assert_eq!(r.forwarded, 29);
    let events = got.0.lock().unwrap().clone();
    let types: Vec<i32> = events.iter().map(|e| e.header.r#type).collect();
    let mut expected = vec![60; 10];
    expected.extend([61; 10]);
    expected.push(60);
    expected.extend([60; 3]);
    assert_eq!(types, expected);
    assert!(events.iter().all(|e| e.header.ttl == 0));
    assert_eq!(events[20].data.payload, big.data.payload);
    // Type 62 shares 61's group: received, and stopped at the receiving channel, which no
    // consumer asked for it.
    assert_eq!(receiving.stats().unsubscribed, 5);

    // The consumer leaves: the receiver leaves the groups.
    proxy.disconnect_push_supplier().unwrap();
    wait_until("the receiver to leave the groups", || {
        receiver.stats().joined.is_empty()
    });
    sender.shutdown();
    receiver.shutdown();
    sending.destroy();
    receiving.destroy();
    orb.shutdown(true);
    println!("udp federation: ok");
}

// ---- reassembly from byte vectors -----------------------------------------------------------

fn from(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], port))
}

fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

pub fn reassembly_out_of_order_with_duplicates() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let now = Instant::now();
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let m = message(2500);
        let mut d = fragment(9, order, &m, 1000);
        assert_eq!(d.len(), 3);
        d.reverse();
        assert_eq!(r.accept(from(1), &d[0], now), Accepted::Pending);
        assert_eq!(r.accept(from(1), &d[0], now), Accepted::Duplicate);
        assert_eq!(r.accept(from(1), &d[1], now), Accepted::Pending);
        assert_eq!(r.accept(from(1), &d[2], now), Accepted::Complete(order, m));
        // The whole message again: already delivered.
        assert_eq!(r.accept(from(1), &d[1], now), Accepted::Duplicate);
        // The same number from another sender is another message.
        for x in &d[..2] {
            assert_eq!(r.accept(from(2), x, now), Accepted::Pending);
        }
        r = Reassembler::new(ReassemblyLimits::default());
    }
    assert_eq!(r.buffered(), 0);
}

pub fn reassembly_gives_up_lost_fragments_and_stays_bounded() {
    let limits = ReassemblyLimits {
        timeout: Duration::from_millis(100),
        max_buffered: 5000,
        ..ReassemblyLimits::default()
    };
    let mut r = Reassembler::new(limits);
    let t0 = Instant::now();
    let d = fragment(1, ByteOrder::BigEndian, &message(3000), 1000);
    assert_eq!(d.len(), 4);
    for x in &d[..3] {
        assert_eq!(r.accept(from(1), x, t0), Accepted::Pending);
    }
    r.purge(t0 + Duration::from_millis(50));
    assert_eq!(r.stats().expired, 0);
    r.purge(t0 + Duration::from_millis(100));
    assert_eq!(r.stats().expired, 1);
    assert_eq!(r.buffered(), 0);
    // The late fragment starts a new message, which never completes.
    assert_eq!(r.accept(from(1), &d[3], t0), Accepted::Pending);
    // Two more messages of 3000 octets: the oldest is given up to stay under 5000.
    for seq in [2, 3] {
        let d = fragment(seq, ByteOrder::BigEndian, &message(3000), 1000);
        assert_eq!(r.accept(from(1), &d[0], t0), Accepted::Pending);
        assert!(r.buffered() <= 5000);
    }
    assert_eq!(r.stats().evicted, 2);
    let one = fragment(4, ByteOrder::BigEndian, &message(10), 1000);
    assert!(matches!(
        r.accept(from(1), &one[0], t0),
        Accepted::Complete(..)
    ));
}

pub fn reassembly_refuses_what_is_not_ours() {
    let mut r = Reassembler::new(ReassemblyLimits {
        max_message: 10_000,
        ..ReassemblyLimits::default()
    });
    let now = Instant::now();
    let good = fragment(1, ByteOrder::LittleEndian, &message(3000), 1000);
    let mut cases: Vec<Vec<u8>> = vec![Vec::new(), b"EC".to_vec(), vec![0; 40]];
    let bad_header = |f: &dyn Fn(&mut FragmentHeader)| {
        let (mut h, piece) = FragmentHeader::parse(&good[0]).unwrap();
        f(&mut h);
        let mut d = fragment(h.sequence, h.order, piece, 2000).remove(0);
        let mut words = Vec::new();
        for v in [h.sequence, h.total, h.offset, h.index, h.count] {
            words.extend_from_slice(&v.to_le_bytes());
        }
        d[4..24].copy_from_slice(&words);
        d
    };
    cases.push(bad_header(&|h| h.total = 1 << 30)); // larger than allowed
    cases.push(bad_header(&|h| h.index = h.count)); // no such fragment
    cases.push(bad_header(&|h| h.count = 0));
    cases.push(bad_header(&|h| h.offset = h.total - 10)); // runs past the end
    cases.push(bad_header(&|h| h.offset = 10)); // not where fragment 0 goes
    for c in &cases {
        assert_eq!(r.accept(from(1), c, now), Accepted::Malformed, "{c:?}");
    }
    assert_eq!(r.stats().malformed, cases.len() as u64);
    // A fragment that overlaps its neighbour is refused; the right one then completes it.
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.accept(from(1), &good[0], now), Accepted::Pending);
    let (h, piece) = FragmentHeader::parse(&good[1]).unwrap();
    let mut shifted = good[1].clone();
    shifted[12..16].copy_from_slice(&(h.offset - 1).to_le_bytes());
    assert_eq!(r.accept(from(1), &shifted, now), Accepted::Malformed);
    assert_eq!(piece.len(), 976);
    assert_eq!(good.len(), 4);
    assert_eq!(r.accept(from(1), &good[1], now), Accepted::Pending);
    assert_eq!(r.accept(from(1), &good[2], now), Accepted::Pending);
    assert!(matches!(
        r.accept(from(1), &good[3], now),
        Accepted::Complete(..)
    ));
    assert_eq!(r.accept(from(1), &good[0], now), Accepted::Duplicate);
    assert_eq!(r.buffered(), 0);
    // CDR that is not an EventSet is refused too.
    assert!(decode_events(&message(50), ByteOrder::BigEndian).is_none());
    let set = [ev(60, 3, 100), ev(61, 0, 0)];
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let bytes = encode_events(&set, order).unwrap();
        assert_eq!(decode_events(&bytes, order).unwrap(), set);
    }
}
