//! The harness itself: the proxy carries bytes intact (late when told, never when stalled),
//! outcome lines read back as written, and namespaces go away — on drop, and those of a
//! test process that died, at the next start.

use rtorb_faults::netns::Hosts;
use rtorb_faults::outcome::{Failure, Outcome};
use rtorb_faults::proxy::{Proxy, ProxyOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// An echo server on loopback: what it reads, it writes back.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut &s);
            });
        }
    });
    addr
}

fn through(options: ProxyOptions) -> (Proxy, TcpStream) {
    let proxy = Proxy::start("127.0.0.1:0", &echo_server(), options).unwrap();
    let s = TcpStream::connect(proxy.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    (proxy, s)
}

#[test]
fn the_proxy_carries_every_byte_in_order_delayed_and_lossy() {
    let options = ProxyOptions {
        delay: Duration::from_millis(50),
        jitter: Duration::from_millis(20),
        loss_percent: 30,
        retransmit_delay: Duration::from_millis(40),
        stall_replies: false,
    };
    let (_proxy, mut s) = through(options);
    let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let start = Instant::now();
    let mut writer = s.try_clone().unwrap();
    let data = sent.clone();
    let w = std::thread::spawn(move || writer.write_all(&data).unwrap());
    let mut got = vec![0u8; sent.len()];
    s.read_exact(&mut got).unwrap();
    w.join().unwrap();
    assert_eq!(got, sent);
    // Through the proxy and back: at least the delay each way, less the jitter.
    assert!(start.elapsed() >= Duration::from_millis(60));
}

#[test]
fn a_stalled_proxy_delivers_requests_and_never_replies() {
    let (_proxy, mut s) = through(ProxyOptions {
        stall_replies: true,
        ..ProxyOptions::default()
    });
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    let e = loop {
        match s.read(&mut buf) {
            // A signal to the test process cuts a read with a timeout short: read on.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break e,
            Ok(n) => panic!("the stalled proxy delivered {n} octets back"),
        }
    };
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{e}"
    );
}

#[test]
fn a_bad_loss_rate_is_refused_with_the_reason() {
    let e = Proxy::start(
        "127.0.0.1:0",
        "127.0.0.1:1",
        ProxyOptions {
            loss_percent: 101,
            ..ProxyOptions::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("from 0 to 100"), "{e}");
}

#[test]
fn outcome_lines_read_back_as_written() {
    for result in [
        Ok(()),
        Err(Failure {
            kind: "TIMEOUT".into(),
            minor: 0x4154_0008,
            completed: "MAYBE".into(),
        }),
        Err(Failure::user("NotFound")),
    ] {
        let o = Outcome {
            op: "execute".into(),
            id: "c-0-17".into(),
            start_ms: 1_000,
            end_ms: 1_250,
            result,
        };
        assert_eq!(Outcome::parse(&o.line()), Some(o.clone()));
    }
    assert_eq!(Outcome::parse("IOR:0123"), None);
    assert_eq!(Outcome::parse("execute x 1 2 TIMEOUT nothex MAYBE"), None);
}

fn namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn namespaces_are_deleted_on_drop_and_when_their_process_died() {
    let test = "namespaces_are_deleted_on_drop_and_when_their_process_died";
    if let Some(why) = Hosts::unavailable() {
        rtorb_faults::skip(test, &why);
        return;
    }
    // A namespace as a test process that was killed would leave it: named after a pid
    // that no longer runs.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let stale = format!("faults-{}-stale-h0", gone.id());
    assert!(Command::new("ip")
        .args(["netns", "add", &stale])
        .status()
        .unwrap()
        .success());
    let hosts = Hosts::create("faults", "drop", 2).unwrap();
    let ours = [hosts.name(0).to_owned(), hosts.name(1).to_owned()];
    let now = namespaces();
    assert!(!now.contains(&stale), "{now:?}");
    assert!(ours.iter().all(|n| now.contains(n)), "{now:?}");
    drop(hosts);
    let now = namespaces();
    assert!(ours.iter().all(|n| !now.contains(n)), "{now:?}");
}

#[test]
fn the_oneway_audit_sees_losses_duplicates_and_reordering() {
    use rtorb_faults::oneway::{OnewayAudit, Phase};
    let sent = |n: u64, start_ms: u64| Outcome {
        op: "oneway".into(),
        id: format!("c-2-{n}"),
        start_ms,
        end_ms: start_ms,
        result: Ok(()),
    };
    let oneways: Vec<Outcome> = (0..4).map(|n| sent(n, 10 * n)).collect();
    let phases = [
        Phase {
            label: "before".into(),
            from_ms: 0,
            to_ms: 15,
        },
        Phase {
            label: "after".into(),
            from_ms: 15,
            to_ms: u64::MAX,
        },
    ];
    let log = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // In order, one lost.
    let clean = OnewayAudit::of(&oneways, &log(&["c-2-0", "x", "c-2-2", "c-2-3"]), &phases);
    assert!(clean.is_clean(), "{clean:?}");
    let before = clean.phase("before").unwrap();
    assert_eq!((before.sent, before.executed, before.lost), (2, 1, 1));
    let after = clean.phase("after").unwrap();
    assert_eq!((after.sent, after.executed, after.lost), (2, 2, 0));
    // Executed twice, and one after a later one.
    let bad = OnewayAudit::of(
        &oneways,
        &log(&["c-2-0", "c-2-2", "c-2-1", "c-2-2"]),
        &phases,
    );
    assert_eq!(bad.duplicated, vec!["c-2-2".to_string()]);
    assert_eq!(
        bad.reordered,
        vec![("c-2".to_string(), 1), ("c-2".to_string(), 2)]
    );
    assert!(!bad.is_clean());
}
