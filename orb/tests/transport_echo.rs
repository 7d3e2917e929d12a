//! Round trips through every server strategy, over TCP, Unix sockets and shared memory
//! (SHMIOP), in GIOP and GIOP-lite: echo, gathered writes in both directions (messages far
//! larger than a shared-memory ring among them), fragmented requests, many connections at
//! once.

mod transport_common;

use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::fragment_message;
use orb::transport::{
    ClientConnection, ClientOptions, Dialect, Endpoint, ListenerSpec, Server, ServerOptions,
    Strategy,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use transport_common::*;

fn echo_calls(conn: &ClientConnection, op: &str, n: u32) {
    for i in 0..n {
        let id = conn.next_request_id();
        let body: Vec<u8> = (0..(i * 37 % 300)).map(|b| (b ^ i) as u8).collect();
        let req = request(conn.dialect(), id, op, &body);
        let reply = conn.call(id, &req, deadline()).unwrap();
        assert_eq!(reply_parts(&reply), (id, body));
        assert_eq!(reply.is_lite(), conn.dialect().is_lite());
    }
}

#[test]
fn echo_under_every_strategy_transport_and_dialect() {
    let dir = SocketDir::new();
    for strategy in STRATEGIES {
        for dialect in DIALECTS {
            for (name, endpoint) in [
                ("tcp", tcp_any()),
                ("unix", dir.endpoint("echo")),
                ("shm", dir.shm_endpoint("echo")),
            ] {
                let handler = Echo::new();
                let (server, bound) = serve(
                    endpoint,
                    dialect,
                    strategy,
                    &handler,
                    ServerOptions::default(),
                );
                if let Endpoint::Iiop { port, .. } = &bound {
                    assert_ne!(*port, 0, "the bound port is the one taken");
                }
                let conn = ClientConnection::connect(&bound, dialect, &ClientOptions::default())
                    .unwrap_or_else(|e| panic!("{strategy:?} {dialect} {name}: {e}"));
                echo_calls(&conn, "echo", 25);
                drop(conn);
                assert!(handler.wait_closes(1), "{strategy:?} {dialect} {name}");
                server.shutdown(true);
                assert_eq!(handler.frames.load(Ordering::SeqCst), 25);
                assert_eq!(handler.accepted.load(Ordering::SeqCst), 1);
            }
        }
    }
}

#[test]
fn earlier_giop_versions_are_served_in_their_own_version() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::Reactive,
        &handler,
        ServerOptions::default(),
    );
    let conn = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap();
    for version in [GiopVersion::V1_0, GiopVersion::V1_1, GiopVersion::V1_2] {
        let id = conn.next_request_id();
        let req = request_in(Dialect::Giop, version, id, "echo", b"versioned");
        let reply = conn.call(id, &req, deadline()).unwrap();
        assert_eq!(reply.version(), version);
        assert_eq!(reply_parts(&reply), (id, b"versioned".to_vec()));
    }
}

#[test]
fn ipv6_loopback_when_the_machine_has_it() {
    let handler = Echo::new();
    let Ok(server) = Server::bind(
        &[ListenerSpec::giop(
            Endpoint::parse("giop:tcp:[::1]:0").unwrap(),
        )],
        Strategy::Reactive,
        handler.clone(),
        ServerOptions::default(),
    ) else {
        // No IPv6 loopback in this sandbox: nothing to test.
        return;
    };
    let bound = server.endpoints()[0].endpoint.clone();
    assert!(bound.to_string().starts_with("giop:tcp:[::1]:"), "{bound}");
    let conn = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap();
    echo_calls(&conn, "echo", 5);
}

#[test]
fn gathered_writes_arrive_whole_in_both_directions() {
    let dir = SocketDir::new();
    for strategy in STRATEGIES {
        for endpoint in [
            tcp_any(),
            dir.endpoint("gather"),
            dir.shm_endpoint("gather"),
        ] {
            let handler = Echo::new();
            let (server, bound) = serve(
                endpoint,
                Dialect::Giop,
                strategy,
                &handler,
                ServerOptions::default(),
            );
            let conn = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default())
                .unwrap();
            // Small bodies, and one large enough (4 MiB) to need several writes each way,
            // so the reactor's queue and writability path carry part of it (and 4 times a
            // shared-memory ring: it goes through in parts).
            for len in [0usize, 1, 100, 5000, 4 << 20] {
                let id = conn.next_request_id();
                let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let whole = request(Dialect::Giop, id, "segments", &body);
                let cut = [0, 5, 12, whole.len() / 3, whole.len() - 2, whole.len()];
                let segs: Vec<&[u8]> = cut.windows(2).map(|w| &whole[w[0]..w[1]]).collect();
                let reply = conn.call_vectored(id, &segs, deadline()).unwrap();
                let (rid, rbody) = reply_parts(&reply);
                assert_eq!(rid, id);
                assert!(
                    rbody == body,
                    "{strategy:?}: a {len}-octet body came back changed"
                );
            }
            // And a oneway-style send in segments, answered by a later echo on the same
            // connection: the stream stayed in step.
            let id = conn.next_request_id();
            let whole = request(Dialect::Giop, id, "ignore", b"oneway");
            conn.send_vectored(&[&whole[..7], &whole[7..]]).unwrap();
            echo_calls(&conn, "echo", 1);
            drop(conn);
            server.shutdown(true);
            assert!(handler.send_errors.lock().unwrap().is_empty());
        }
    }
}

#[test]
fn fragmented_requests_are_reassembled() {
    let handler = Echo::new();
    let (_server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 2 },
        &handler,
        ServerOptions::default(),
    );
    let conn = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap();
    let id = conn.next_request_id();
    let body: Vec<u8> = (0..10_000).map(|i| (i * 7) as u8).collect();
    let whole = request_in(Dialect::Giop, GiopVersion::V1_2, id, "echo", &body);
    let fragments = fragment_message(&whole, 1024).unwrap();
    assert!(fragments.len() > 5);
    let segs: Vec<&[u8]> = fragments.iter().map(Vec::as_slice).collect();
    let reply = conn.call_vectored(id, &segs, deadline()).unwrap();
    assert_eq!(reply_parts(&reply), (id, body));
    assert_eq!(handler.frames.load(Ordering::SeqCst), 1);
}

#[test]
fn many_connections_at_once() {
    const CONNS: usize = 48;
    const THREADS: usize = 6;
    let dir = SocketDir::new();
    for strategy in STRATEGIES {
        for endpoint in [tcp_any(), dir.endpoint("many"), dir.shm_endpoint("many")] {
            let handler = Echo::new();
            let (server, bound) = serve(
                endpoint,
                Dialect::LITE_NATIVE,
                strategy,
                &handler,
                ServerOptions::default(),
            );
            let conns: Vec<Arc<ClientConnection>> = (0..CONNS)
                .map(|_| {
                    Arc::new(
                        ClientConnection::connect(
                            &bound,
                            Dialect::LITE_NATIVE,
                            &ClientOptions::default(),
                        )
                        .unwrap(),
                    )
                })
                .collect();
            std::thread::scope(|s| {
                for t in 0..THREADS {
                    let conns = &conns;
                    s.spawn(move || {
                        // Each thread works through its share of the connections, round
                        // robin, so every connection sees traffic interleaved with others.
                        for round in 0..5 {
                            for c in conns.iter().skip(t).step_by(THREADS) {
                                let id = c.next_request_id();
                                let body = format!("t{t} r{round}").into_bytes();
                                let req = request(c.dialect(), id, "echo", &body);
                                let reply = c.call(id, &req, deadline()).unwrap();
                                assert_eq!(reply_parts(&reply), (id, body));
                            }
                        }
                    });
                }
            });
            assert_eq!(handler.accepted.load(Ordering::SeqCst), CONNS);
            assert_eq!(handler.frames.load(Ordering::SeqCst), CONNS * 5);
            drop(conns);
            assert!(handler.wait_closes(CONNS), "{strategy:?}");
            server.shutdown(true);
        }
    }
}

#[test]
fn a_lite_listener_and_a_giop_listener_side_by_side() {
    let handler = Echo::new();
    let server = Server::bind(
        &[
            ListenerSpec::giop(tcp_any()),
            ListenerSpec::lite(tcp_any(), ByteOrder::BigEndian),
        ],
        Strategy::Reactive,
        handler.clone(),
        ServerOptions::default(),
    )
    .unwrap();
    let eps = server.endpoints().to_vec();
    assert_eq!(eps[0].dialect, Dialect::Giop);
    assert_eq!(eps[1].dialect, Dialect::Lite(ByteOrder::BigEndian));
    for spec in &eps {
        let conn =
            ClientConnection::connect(&spec.endpoint, spec.dialect, &ClientOptions::default())
                .unwrap();
        echo_calls(&conn, "echo", 3);
    }
}

/// Shuts its own server down from inside a handler call: must neither deadlock (a thread
/// cannot join itself) nor leave the call's reply unsent.
struct Stopper {
    server: std::sync::OnceLock<std::sync::Weak<Server>>,
    echo: Arc<Echo>,
}

impl orb::transport::Handler for Stopper {
    fn on_frame(&self, conn: &orb::transport::ConnectionHandle, frame: orb::giop::Frame) {
        self.echo.on_frame(conn, frame);
        if let Some(server) = self.server.get().and_then(|w| w.upgrade()) {
            server.shutdown(true);
        }
    }

    fn on_close(&self, conn: orb::transport::ConnectionId, cause: &orb::transport::CloseCause) {
        self.echo.on_close(conn, cause);
    }
}

#[test]
fn a_handler_may_shut_its_own_server_down() {
    for strategy in STRATEGIES {
        let echo = Echo::new();
        let handler = Arc::new(Stopper {
            server: std::sync::OnceLock::new(),
            echo: echo.clone(),
        });
        let server = Arc::new(
            Server::bind(
                &[ListenerSpec::giop(tcp_any())],
                strategy,
                handler.clone(),
                ServerOptions::default(),
            )
            .unwrap(),
        );
        handler.server.set(Arc::downgrade(&server)).unwrap();
        let bound = server.endpoints()[0].endpoint.clone();
        let conn =
            ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()).unwrap();
        let id = conn.next_request_id();
        let reply = conn
            .call(id, &request(Dialect::Giop, id, "echo", b"last"), deadline())
            .unwrap();
        assert_eq!(reply_parts(&reply), (id, b"last".to_vec()));
        assert!(echo.wait_closes(1), "{strategy:?}");
        drop(server);
        assert!(
            wait_until(|| Arc::strong_count(&handler) == 1),
            "{strategy:?}: the server's threads are gone"
        );
    }
}

/// Replies to each request with how many requests its connection has made so far, counted
/// in the connection's attachment; records every request id in the order handled.
struct PerConnection {
    ids: std::sync::Mutex<Vec<u32>>,
}

impl orb::transport::Handler for PerConnection {
    fn on_frame(&self, conn: &orb::transport::ConnectionHandle, frame: orb::giop::Frame) {
        let slot = conn
            .attachment()
            .get_or_init(|| Box::new(std::sync::atomic::AtomicU32::new(0)));
        let count = slot
            .downcast_ref::<std::sync::atomic::AtomicU32>()
            .expect("only this handler fills the slot")
            .fetch_add(1, Ordering::SeqCst)
            + 1;
        let msg = frame.decode().unwrap();
        let orb::giop::Header::Request(req) = msg.header() else {
            return;
        };
        self.ids.lock().unwrap().push(req.request_id);
        if req.response_flags.response_expected() {
            let _ = conn.send(reply_to(&msg, req.request_id, &count.to_le_bytes()));
        }
    }
}

#[test]
fn each_connection_has_its_own_attachment() {
    for strategy in STRATEGIES {
        let handler = Arc::new(PerConnection {
            ids: std::sync::Mutex::new(Vec::new()),
        });
        let (server, bound) = serve(
            tcp_any(),
            Dialect::Giop,
            strategy,
            &handler,
            ServerOptions::default(),
        );
        let conns: Vec<ClientConnection> = (0..2)
            .map(|_| ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default()))
            .collect::<Result<_, _>>()
            .unwrap();
        for round in 1..=3u32 {
            for conn in &conns {
                let id = conn.next_request_id();
                let reply = conn
                    .call(id, &request(Dialect::Giop, id, "count", b""), deadline())
                    .unwrap();
                assert_eq!(
                    reply_parts(&reply),
                    (id, round.to_le_bytes().to_vec()),
                    "{strategy:?}"
                );
            }
        }
        drop(conns);
        server.shutdown(true);
    }
}

#[test]
fn oneways_written_at_once_are_all_dispatched_in_order() {
    use std::io::{Read, Write};
    for strategy in STRATEGIES {
        let handler = Arc::new(PerConnection {
            ids: std::sync::Mutex::new(Vec::new()),
        });
        let (server, bound) = serve(
            tcp_any(),
            Dialect::Giop,
            strategy,
            &handler,
            ServerOptions::default(),
        );
        let Endpoint::Iiop { port, .. } = bound else {
            unreachable!("a TCP endpoint")
        };
        // 300 oneways and a twoway in one write: many messages per read, the last ones
        // likely cut by a read's end.
        let mut stream = Vec::new();
        for id in 0..300u32 {
            let header = orb::giop::Header::Request(orb::giop::RequestHeader {
                response_flags: orb::giop::ResponseFlags::from_response_expected(false),
                ..orb::giop::RequestHeader::new(id, b"key", "ping")
            });
            let mut w =
                orb::giop::MessageWriter::new(GiopVersion::V1_2, ByteOrder::NATIVE, &header)
                    .unwrap();
            w.body().write_octets(&id.to_le_bytes());
            stream.extend_from_slice(&w.finish().unwrap());
        }
        stream.extend_from_slice(&request(Dialect::Giop, 300, "count", b""));
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        sock.write_all(&stream).unwrap();
        // The twoway's reply comes once everything before it was handled.
        let mut header = [0u8; 12];
        sock.read_exact(&mut header).unwrap();
        assert_eq!(&header[..4], b"GIOP");
        let ids = handler.ids.lock().unwrap().clone();
        assert_eq!(ids, (0..=300).collect::<Vec<u32>>(), "{strategy:?}");
        drop(sock);
        server.shutdown(true);
    }
}
