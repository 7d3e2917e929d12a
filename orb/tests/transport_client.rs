//! The client side: many threads sharing one connection with replies out of order,
//! deadlines, a server that goes away mid-request, and the connection cache.

mod transport_common;

use orb::giop::{CompletionStatus, Header, Message};
use orb::transport::{
    ClientConnection, ClientOptions, CloseCause, ConnectionCache, Dialect, Endpoint, ServerOptions,
    Strategy, TransportError,
};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use transport_common::*;

/// 8 threads × 200 calls on ONE connection; every other request is answered late from
/// another thread, so replies arrive out of order and whoever reads hands them out.
#[test]
fn threads_sharing_one_connection_each_get_their_own_reply() {
    const THREADS: u32 = 8;
    const CALLS: u32 = 200;
    let dir = SocketDir::new();
    for strategy in [
        Strategy::Reactive,
        Strategy::ThreadPool { threads: 3 },
        ADAPTIVE,
    ] {
        for (endpoint, dialect) in dir.every_transport("mux") {
            let handler = Echo::new();
            let (_server, bound) = serve(
                endpoint,
                dialect,
                strategy,
                &handler,
                ServerOptions::default(),
            );
            let conn = Arc::new(
                ClientConnection::connect(&bound, dialect, &ClientOptions::default()).unwrap(),
            );
            std::thread::scope(|s| {
                for t in 0..THREADS {
                    let conn = &conn;
                    let bound = &bound;
                    s.spawn(move || {
                        for i in 0..CALLS {
                            let id = conn.next_request_id();
                            let op = if (t + i) % 2 == 0 { "delay" } else { "echo" };
                            let body = format!("thread {t} call {i}").into_bytes();
                            let req = request(dialect, id, op, &body);
                            let reply = conn
                                .call(id, &req, deadline())
                                .unwrap_or_else(|e| panic!("{strategy:?} {bound} call {i}: {e}"));
                            assert_eq!(reply_parts(&reply), (id, body));
                        }
                    });
                }
            });
            assert!(!conn.is_closed());
            assert_eq!(
                handler.frames.load(std::sync::atomic::Ordering::SeqCst),
                (THREADS * CALLS) as usize
            );
        }
    }
}

#[test]
fn a_deadline_gives_timeout_and_the_late_reply_is_dropped() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let conn = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap();

    // Never answered: the deadline ends the wait.
    let id = conn.next_request_id();
    let req = request(Dialect::Giop, id, "ignore", b"");
    let e = conn
        .call(id, &req, Some(Instant::now() + Duration::from_millis(30)))
        .unwrap_err();
    assert!(matches!(e, TransportError::Timeout), "{e}");
    assert_eq!(e.completion(), CompletionStatus::Maybe);

    // A deadline already past: no wait at all, same error.
    let id = conn.next_request_id();
    let req = request(Dialect::Giop, id, "ignore", b"");
    let e = conn.call(id, &req, Some(Instant::now())).unwrap_err();
    assert!(matches!(e, TransportError::Timeout), "{e}");

    // Answered late: the caller is gone when the reply comes, and the reply must not be
    // taken for the next call's.
    let id = conn.next_request_id();
    let req = request(Dialect::Giop, id, "delay", b"late");
    let e = conn.call(id, &req, Some(Instant::now())).unwrap_err();
    assert!(matches!(e, TransportError::Timeout), "{e}");
    for _ in 0..20 {
        let id = conn.next_request_id();
        let req = request(Dialect::Giop, id, "echo", b"on time");
        let reply = conn.call(id, &req, deadline()).unwrap();
        assert_eq!(reply_parts(&reply), (id, b"on time".to_vec()));
    }
    assert!(!conn.is_closed());
}

#[test]
fn a_waiter_with_a_deadline_does_not_hold_up_one_without() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let conn = Arc::new(
        ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap(),
    );
    std::thread::scope(|s| {
        // The reader may be the caller whose deadline passes: it must hand the reading on.
        let c = &conn;
        let impatient = s.spawn(move || {
            let id = c.next_request_id();
            let req = request(Dialect::Giop, id, "ignore", b"");
            c.call(id, &req, Some(Instant::now() + Duration::from_millis(20)))
        });
        let patient = s.spawn(move || {
            let id = c.next_request_id();
            let req = request(Dialect::Giop, id, "delay", b"patient");
            (id, c.call(id, &req, deadline()))
        });
        assert!(matches!(
            impatient.join().unwrap(),
            Err(TransportError::Timeout)
        ));
        let (id, reply) = patient.join().unwrap();
        assert_eq!(reply_parts(&reply.unwrap()), (id, b"patient".to_vec()));
    });
}

#[test]
fn duplicate_request_ids_are_refused() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::Reactive,
        &handler,
        ServerOptions::default(),
    );
    let conn = Arc::new(
        ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap(),
    );
    std::thread::scope(|s| {
        let c = &conn;
        let first = s.spawn(move || {
            let req = request(Dialect::Giop, 7, "ignore", b"first");
            c.call(7, &req, deadline())
        });
        // Once the server has it, the first call is certainly waiting for id 7.
        assert!(wait_until(|| handler
            .frames
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1));
        let req = request(Dialect::Giop, 7, "echo", b"second");
        let e = c.call(7, &req, deadline()).unwrap_err();
        assert!(matches!(e, TransportError::DuplicateRequestId(7)), "{e:?}");
        // Nothing of the refused call was written: the server saw only the first.
        conn.close();
        let e = first.join().unwrap().unwrap_err();
        assert!(
            matches!(e, TransportError::Closed { sent: true, .. }),
            "{e:?}"
        );
        assert_eq!(handler.frames.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}

/// A raw server that accepts one connection, reads `read_len` octets of the request, then
/// optionally writes `answer` and closes.
fn raw_server(read_len: usize, answer: Vec<u8>) -> (Endpoint, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = Endpoint::tcp(listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = vec![0; read_len];
        let _ = s.read_exact(&mut buf);
        let _ = s.write_all(&answer);
    });
    (endpoint, t)
}

#[test]
fn a_server_closing_mid_request_fails_the_waiter_with_maybe() {
    let req = request(Dialect::Giop, 1, "echo", b"doomed");
    // The server reads the whole request, then closes without a reply.
    let (endpoint, t) = raw_server(req.len(), Vec::new());
    let conn =
        ClientConnection::connect(&endpoint, Dialect::Giop, &ClientOptions::default()).unwrap();
    let e = conn.call(1, &req, deadline()).unwrap_err();
    t.join().unwrap();
    match &e {
        TransportError::Closed { sent: true, .. } => {}
        e => panic!("expected Closed {{ sent: true }}, got {e:?}"),
    }
    assert_eq!(e.completion(), CompletionStatus::Maybe);
    assert!(!e.is_retryable());
    assert!(conn.is_closed());
    // Later calls fail at once, before writing anything.
    let e = conn.call(2, &req, deadline()).unwrap_err();
    assert!(
        matches!(e, TransportError::Closed { sent: false, .. }),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[test]
fn a_server_closing_mid_reply_fails_the_waiter() {
    let req = request(Dialect::Giop, 1, "echo", b"");
    let msg = Message::decode(&req).unwrap();
    let reply = reply_to(&msg, 1, &[1; 100]);
    // Half a reply, then the end of the stream.
    let (endpoint, t) = raw_server(req.len(), reply[..reply.len() / 2].to_vec());
    let conn =
        ClientConnection::connect(&endpoint, Dialect::Giop, &ClientOptions::default()).unwrap();
    let e = conn.call(1, &req, deadline()).unwrap_err();
    t.join().unwrap();
    assert!(
        matches!(
            e,
            TransportError::Closed {
                sent: true,
                cause: CloseCause::PeerClosed
            }
        ),
        "{e:?}"
    );
}

#[test]
fn close_connection_fails_every_waiter_as_retryable() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let conn = Arc::new(
        ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap(),
    );
    std::thread::scope(|s| {
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let c = &conn;
                s.spawn(move || {
                    let id = c.next_request_id();
                    let req = request(Dialect::Giop, id, "ignore", b"");
                    c.call(id, &req, deadline())
                })
            })
            .collect();
        // Bounded wait until the server has all four requests, then make it say goodbye.
        assert!(wait_until(|| handler
            .frames
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 4));
        let id = conn.next_request_id();
        let e = conn
            .call(id, &request(Dialect::Giop, id, "close", b""), deadline())
            .unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        for w in waiters {
            let e = w.join().unwrap().unwrap_err();
            assert!(
                matches!(
                    e,
                    TransportError::Closed {
                        cause: CloseCause::CloseConnection,
                        ..
                    }
                ),
                "{e:?}"
            );
            assert_eq!(e.completion(), CompletionStatus::No);
        }
    });
}

#[test]
fn closing_locally_fails_the_waiters() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::Reactive,
        &handler,
        ServerOptions::default(),
    );
    let conn = Arc::new(
        ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap(),
    );
    std::thread::scope(|s| {
        let c = &conn;
        let waiter = s.spawn(move || {
            let id = c.next_request_id();
            c.call(id, &request(Dialect::Giop, id, "ignore", b""), deadline())
        });
        assert!(wait_until(|| handler
            .frames
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1));
        conn.close();
        let e = waiter.join().unwrap().unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::Closed {
                    sent: true,
                    cause: CloseCause::Local
                }
            ),
            "{e:?}"
        );
    });
}

#[test]
fn connecting_to_nothing_is_a_retryable_error() {
    // Bind then drop: the port is (almost certainly) closed now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = ClientConnection::connect(
        &Endpoint::Iiop {
            host: "127.0.0.1".into(),
            port,
        },
        Dialect::Giop,
        &ClientOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, TransportError::Connect { .. }), "{e:?}");
    assert!(e.is_retryable());
    let dir = SocketDir::new();
    let e = ClientConnection::connect(
        &dir.endpoint("nobody"),
        Dialect::Giop,
        &ClientOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, TransportError::Connect { .. }), "{e:?}");
}

#[test]
fn the_cache_shares_a_connection_and_replaces_a_broken_one() {
    let dir = SocketDir::new();
    for (endpoint, dialect) in dir.every_transport("cache") {
        let handler = Echo::new();
        let (_server, bound) = serve(
            endpoint,
            dialect,
            Strategy::Reactive,
            &handler,
            ServerOptions::default(),
        );
        let cache = ConnectionCache::new(ClientOptions::default());
        let a = cache.get(&bound, dialect).unwrap();
        let b = cache.get(&bound, dialect).unwrap();
        assert!(
            Arc::ptr_eq(&a, &b),
            "one connection per endpoint and dialect"
        );
        // Another dialect is another connection (refused by the server's framer, but the
        // cache must not hand out the GIOP one for it).
        let other = if dialect == Dialect::Giop {
            Dialect::LITE_NATIVE
        } else {
            Dialect::Giop
        };
        let c = cache.get(&bound, other).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        cache.remove(&bound, other);
        assert_eq!(cache.len(), 1);

        let id = a.next_request_id();
        let reply = a
            .call(id, &request(dialect, id, "echo", b"one"), deadline())
            .unwrap();
        assert_eq!(reply_parts(&reply).1, b"one");

        // The server says goodbye; the caller learns it can retry.
        let id = a.next_request_id();
        let e = a
            .call(id, &request(dialect, id, "close", b""), deadline())
            .unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        assert!(a.is_closed());

        // The next call through the cache reconnects.
        let fresh = cache.get(&bound, dialect).unwrap();
        assert!(!Arc::ptr_eq(&a, &fresh));
        let id = fresh.next_request_id();
        let reply = fresh
            .call(id, &request(dialect, id, "echo", b"two"), deadline())
            .unwrap();
        assert_eq!(reply_parts(&reply), (id, b"two".to_vec()));

        // A connection the server drops without a word: the failure may come at the write
        // (not sent) or at the read (sent, MAYBE); either way the cache replaces it.
        let id = fresh.next_request_id();
        let _ = fresh.call(id, &request(dialect, id, "drop", b""), deadline());
        assert!(wait_until(|| {
            let c = cache.get(&bound, dialect).unwrap();
            let id = c.next_request_id();
            c.call(id, &request(dialect, id, "echo", b"three"), deadline())
                .is_ok()
        }));
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.is_empty());
    }
}

/// A caller's memory of the shared connection ([`ConnectionCache::remember`]) gives it back
/// only from the cache that gave it, and only while the cache would give it again: once the
/// server closed it, the cache discarded it or was cleared, `recall` or the usable check says
/// no, and `get` replaces it. The memory keeps no connection alive.
#[test]
fn a_remembered_connection_is_recalled_only_while_the_cache_would_give_it() {
    let dir = SocketDir::new();
    for (endpoint, dialect) in dir.every_transport("recall") {
        let handler = Echo::new();
        let (_server, bound) = serve(
            endpoint,
            dialect,
            Strategy::ThreadPerConnection,
            &handler,
            ServerOptions::default(),
        );
        let cache = ConnectionCache::new(ClientOptions::default());
        let a = cache.get(&bound, dialect).unwrap();
        let memory = cache.remember(&a);
        let recalled = cache.recall(&memory).unwrap();
        assert!(Arc::ptr_eq(&a, &recalled));
        assert!(cache.recalled_usable(&recalled));
        // Another cache never takes it for its own.
        let other = ConnectionCache::new(ClientOptions::default());
        assert!(other.recall(&memory).is_none());
        assert!(other.recall(&Default::default()).is_none());

        // The server says goodbye: the remembered connection is not usable any more, and the
        // cache replaces it.
        let id = a.next_request_id();
        let e = a
            .call(id, &request(dialect, id, "close", b""), deadline())
            .unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        assert!(!cache.recalled_usable(&recalled));
        let fresh = cache.get(&bound, dialect).unwrap();
        assert!(!Arc::ptr_eq(&a, &fresh));
        drop((a, recalled));
        // Nothing holds the old one but the memory, which does not keep it.
        assert!(cache.recall(&memory).is_none());

        let memory = cache.remember(&fresh);
        let id = fresh.next_request_id();
        let reply = fresh
            .call(id, &request(dialect, id, "echo", b"two"), deadline())
            .unwrap();
        assert_eq!(reply_parts(&reply), (id, b"two".to_vec()));
        assert!(cache.recalled_usable(&cache.recall(&memory).unwrap()));
        // Discarded (a failure the caller saw): closed, so not usable while a caller
        // still holds it, and gone once none does.
        cache.discard(&fresh);
        assert!(!cache.recalled_usable(&cache.recall(&memory).unwrap()));
        drop(fresh);
        assert!(cache.recall(&memory).is_none());

        // Cleared (the ORB shutting down): the same.
        let c = cache.get(&bound, dialect).unwrap();
        let memory = cache.remember(&c);
        cache.clear();
        assert!(!cache.recalled_usable(&cache.recall(&memory).unwrap()));
        drop(c);
        assert!(cache.recall(&memory).is_none());
    }
}

#[test]
fn unknown_reply_ids_are_dropped() {
    // A raw server that answers request 1 with a reply for id 99 first, then the right one.
    let req = request(Dialect::Giop, 1, "echo", b"");
    let msg = Message::decode(&req).unwrap();
    assert!(matches!(msg.header(), Header::Request(_)));
    let mut answer = reply_to(&msg, 99, b"stray");
    answer.extend(reply_to(&msg, 1, b"mine"));
    let (endpoint, t) = raw_server(req.len(), answer);
    let conn =
        ClientConnection::connect(&endpoint, Dialect::Giop, &ClientOptions::default()).unwrap();
    let reply = conn.call(1, &req, deadline()).unwrap();
    assert_eq!(reply_parts(&reply), (1, b"mine".to_vec()));
    t.join().unwrap();
}

/// `get_idle` (for calls made during an upcall) never gives a connection on which a request
/// is still with the server — awaited, given up on, or a oneway no later reply vouches for —
/// nor one another `get_idle` caller holds: a request queued there behind the one its
/// caller is serving would deadlock. It makes a spare instead, and reuses it once idle.
#[test]
fn get_idle_passes_a_busy_connection_by() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let dialect = Dialect::Giop;
    let cache = ConnectionCache::new(ClientOptions::default());
    let echo = |c: &ClientConnection, body: &[u8]| {
        let id = c.next_request_id();
        let reply = c.call(id, &request(dialect, id, "echo", body), deadline());
        assert_eq!(reply_parts(&reply.unwrap()), (id, body.to_vec()));
    };
    let shared = cache.get(&bound, dialect).unwrap();
    assert!(shared.is_idle());

    // Idle: the shared connection itself, held by one get_idle caller at a time.
    let held = cache.get_idle(&bound, dialect).unwrap();
    assert!(Arc::ptr_eq(&held, &shared));
    assert!(!shared.is_idle(), "held");
    let spare = cache.get_idle(&bound, dialect).unwrap();
    assert!(!Arc::ptr_eq(&spare, &shared));
    echo(&spare, b"on the spare");
    let spare_conn = Arc::clone(&spare);
    drop((held, spare));
    assert!(shared.is_idle() && spare_conn.is_idle());
    assert_eq!(cache.len(), 2);
    // The shared callers' connection is still the first one.
    assert!(Arc::ptr_eq(&cache.get(&bound, dialect).unwrap(), &shared));

    // A oneway: busy until the reply to a later request shows the server got past it.
    let id = shared.next_request_id();
    shared
        .send_oneway(&request(dialect, id, "ignore", b""))
        .unwrap();
    assert!(!shared.is_idle(), "a oneway may still run");
    let other = cache.get_idle(&bound, dialect).unwrap();
    assert!(Arc::ptr_eq(&other, &spare_conn), "the idle spare");
    drop(other);
    echo(&shared, b"after the oneway");
    assert!(shared.is_idle());

    // A request given up on: the server may still be running it.
    let id = shared.next_request_id();
    let gone = Some(Instant::now() + Duration::from_millis(20));
    let e = shared
        .call(id, &request(dialect, id, "ignore", b""), gone)
        .unwrap_err();
    assert!(matches!(e, TransportError::Timeout), "{e:?}");
    assert!(!shared.is_idle(), "an abandoned request may still run");
    let other = cache.get_idle(&bound, dialect).unwrap();
    assert!(Arc::ptr_eq(&other, &spare_conn));

    // A request awaited (on the spare now, held by nobody): both busy, so a third one.
    drop(other);
    std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            let id = spare_conn.next_request_id();
            spare_conn.call(id, &request(dialect, id, "ignore", b""), deadline())
        });
        assert!(wait_until(|| !spare_conn.is_idle()));
        let third = cache.get_idle(&bound, dialect).unwrap();
        assert!(!Arc::ptr_eq(&third, &shared) && !Arc::ptr_eq(&third, &spare_conn));
        echo(&third, b"third");
        assert_eq!(cache.len(), 3);
        // Discarding one connection closes it (its waiter fails) and leaves the others.
        cache.discard(&spare_conn);
        let e = waiting.join().unwrap().unwrap_err();
        assert!(matches!(e, TransportError::Closed { .. }), "{e:?}");
    });
    assert!(spare_conn.is_closed());
    assert_eq!(cache.len(), 2);
    assert!(Arc::ptr_eq(&cache.get(&bound, dialect).unwrap(), &shared));
}

/// `get_idle_banded_within` (a call made during an upcall, in an RT-CORBA priority band)
/// gives an idle connection of the band — its shared one when idle, else a spare of its
/// own — never another band's, idle or not, nor one of the unbanded calls.
#[test]
fn get_idle_banded_keeps_to_the_connections_of_its_band() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let dialect = Dialect::Giop;
    let cache = ConnectionCache::new(ClientOptions::default());
    let unbanded = cache.get(&bound, dialect).unwrap();
    let band0 = cache.get_banded_within(&bound, dialect, 0, None).unwrap();
    assert!(!Arc::ptr_eq(&band0, &unbanded));

    let held0 = cache
        .get_idle_banded_within(&bound, dialect, 0, None)
        .unwrap();
    assert!(
        Arc::ptr_eq(&held0, &band0),
        "the band's shared connection, idle"
    );
    let spare0 = cache
        .get_idle_banded_within(&bound, dialect, 0, None)
        .unwrap();
    assert!(!Arc::ptr_eq(&spare0, &band0) && !Arc::ptr_eq(&spare0, &unbanded));
    let spare0_conn = Arc::clone(&spare0);
    drop((held0, spare0));
    assert_eq!(cache.len(), 3);

    // Band 1 has none of its own yet: a new one, though band 0's and the unbanded are idle.
    let held1 = cache
        .get_idle_banded_within(&bound, dialect, 1, None)
        .unwrap();
    let band1_conn = Arc::clone(&held1);
    for other in [&band0, &spare0_conn, &unbanded] {
        assert!(!Arc::ptr_eq(&held1, other));
    }
    drop(held1);
    // ... and its own again once idle; the unbanded callers' idle one is not a banded one.
    let again1 = cache
        .get_idle_banded_within(&bound, dialect, 1, None)
        .unwrap();
    assert!(Arc::ptr_eq(&again1, &band1_conn));
    drop(again1);
    let idle = cache.get_idle(&bound, dialect).unwrap();
    assert!(Arc::ptr_eq(&idle, &unbanded));
    drop(idle);
    assert_eq!(cache.len(), 4);

    // A banded spare discarded goes; removing the endpoint closes every band's.
    cache.discard(&spare0_conn);
    assert!(spare0_conn.is_closed());
    assert_eq!(cache.len(), 3);
    cache.remove(&bound, dialect);
    assert!(cache.is_empty());
    assert!(band0.is_closed() && band1_conn.is_closed() && unbanded.is_closed());
}

/// Spares left busy only by oneways (no reply will ever vouch for them if no twoway
/// follows) do not pile up: past eight connections to one endpoint the surplus is closed.
#[test]
fn spares_awaiting_only_oneways_are_closed_past_the_limit() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let cache = ConnectionCache::new(ClientOptions::default());
    let mut used = Vec::new();
    for _ in 0..20 {
        let c = cache.get_idle(&bound, Dialect::Giop).unwrap();
        let id = c.next_request_id();
        c.send_oneway(&request(Dialect::Giop, id, "ignore", b""))
            .unwrap();
        assert!(!c.is_idle());
        used.push(Arc::clone(&c));
        assert!(cache.len() <= 8, "{} connections", cache.len());
    }
    assert_eq!(cache.len(), 8);
    // The first (the shared connection) stays; the oldest spares were closed.
    assert!(!used[0].is_closed());
    assert!(used[1].is_closed());
    assert!(!used[19].is_closed());
}

/// A server that accepts and never reads: once the socket's buffers are full, a write
/// blocks. A request with a deadline gives up at its deadline (NotSentInTime: TIMEOUT,
/// COMPLETED_NO), not at the connection's write timeout (an hour here), and so does a
/// caller waiting behind the blocked writer for its turn to write.
#[test]
fn a_write_the_socket_does_not_take_ends_at_the_callers_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ClientOptions {
        write_timeout: Some(Duration::from_secs(3600)),
        ..ClientOptions::default()
    };
    let bound = orb::transport::Endpoint::Iiop {
        host: "127.0.0.1".into(),
        port: addr.port(),
    };
    // Connected by the kernel's backlog; accepted, and then never read.
    let conn = Arc::new(ClientConnection::connect(&bound, Dialect::Giop, &options).unwrap());
    let _server_end = listener.accept().unwrap().0;
    let big = vec![0u8; 1 << 20];
    let e = loop {
        let id = conn.next_request_id();
        let req = request(Dialect::Giop, id, "ignore", &big);
        let soon = Some(Instant::now() + Duration::from_millis(200));
        if let Err(e) = conn.send_oneway_within(&req, soon) {
            break e;
        }
    };
    assert!(matches!(e, TransportError::NotSentInTime), "{e}");
    assert_eq!(e.completion(), CompletionStatus::No);
    // The message was cut short: nothing more can follow it on this connection.
    assert!(conn.is_closed());

    // Behind a writer that blocks, a caller with a deadline does not wait for its turn
    // past its deadline.
    let conn = Arc::new(ClientConnection::connect(&bound, Dialect::Giop, &options).unwrap());
    let _other_server_end = listener.accept().unwrap().0;
    let blocker = {
        let conn = conn.clone();
        let big = big.clone();
        std::thread::spawn(move || loop {
            let id = conn.next_request_id();
            let req = request(Dialect::Giop, id, "ignore", &big);
            let later = Some(Instant::now() + Duration::from_secs(1));
            if let Err(e) = conn.send_oneway_within(&req, later) {
                return e;
            }
        })
    };
    let mut waited = None;
    while waited.is_none() && !blocker.is_finished() {
        let id = conn.next_request_id();
        let req = request(Dialect::Giop, id, "ignore", b"");
        let soon = Some(Instant::now() + Duration::from_millis(50));
        waited = conn.send_oneway_within(&req, soon).err();
    }
    let waited = waited.expect("a small request failed behind the blocked writer");
    assert!(
        matches!(
            waited,
            TransportError::NotSentInTime | TransportError::Closed { .. }
        ),
        "{waited}"
    );
    let e = blocker.join().unwrap();
    assert!(
        matches!(
            e,
            TransportError::NotSentInTime | TransportError::Closed { .. }
        ),
        "{e}"
    );
}

/// A server that closes a connection the client is not using (its CloseConnection, then the
/// end of the stream) makes the connection unusable before any request is written into it,
/// over every transport — a SHMIOP channel shows it without a system call, a socket is
/// checked once it has been idle a while — and a connection the server leaves alone stays
/// usable, however long it was idle.
#[test]
fn a_connection_the_server_closes_while_idle_is_found_unusable() {
    let dir = SocketDir::new();
    for strategy in [Strategy::ThreadPerConnection, Strategy::Reactive] {
        for (endpoint, dialect) in dir.every_transport("idle") {
            let handler = Echo::new();
            let (_server, bound) = serve(
                endpoint,
                dialect,
                strategy,
                &handler,
                ServerOptions::default(),
            );
            let conn =
                ClientConnection::connect(&bound, dialect, &ClientOptions::default()).unwrap();
            let id = conn.next_request_id();
            let reply = conn
                .call(id, &request(dialect, id, "echo", b"hi"), deadline())
                .unwrap();
            assert_eq!(reply_parts(&reply), (id, b"hi".to_vec()));
            // Idle past the threshold after which a socket is checked.
            std::thread::sleep(Duration::from_millis(5));
            assert!(conn.is_usable(), "{strategy:?} {bound}: left alone");
            assert!(
                conn.is_usable(),
                "{strategy:?} {bound}: left alone, looked at again"
            );
            let id = conn.next_request_id();
            conn.send_oneway(&request(dialect, id, "close", b""))
                .unwrap();
            assert!(
                wait_until(|| !conn.is_usable()),
                "{strategy:?} {bound}: closed by the server, still usable"
            );
            assert!(conn.is_closed());
        }
    }
}
