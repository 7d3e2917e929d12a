//! The leader/followers pool (and the reactor it shares its loop with): many connections served
//! by several threads at once with each connection's requests in order, a handler that blocks
//! holding up its own connection only, a connection that never stops sending leaving the
//! others served, and a stop that reaches every thread whatever it is doing.
//!
//! Every wait is bounded (see `transport_common`): a pool that serialised, starved or lost a
//! thread makes a test fail, not hang.

mod transport_common;

use orb::giop::{Frame, Header};
use orb::transport::{ConnectionHandle, Dialect, Handler, ServerOptions, Strategy};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;
use transport_common::*;

const BOUND: Duration = Duration::from_secs(20);

/// Replies to every request with its body, after doing what its operation says:
/// - `seq`: records the body (a sequence number) under the connection's id;
/// - `gather`: waits until `quorum` handler calls are inside `gather` at the same time (or
///   the bound passes, which the reply then says);
/// - `block`: waits until a `release` request has come (on any connection);
/// - `release`: lets every `block` go on;
/// - `nap`: sleeps 100 µs (a server slower than its client, whose every read is full);
/// - `count`: nothing more.
#[derive(Default)]
struct Pool {
    quorum: usize,
    inside: Mutex<usize>,
    all_in: Condvar,
    released: Mutex<bool>,
    release: Condvar,
    seqs: Mutex<HashMap<u64, Vec<u32>>>,
    frames: AtomicUsize,
}

impl Pool {
    fn new(quorum: usize) -> Arc<Pool> {
        Arc::new(Pool {
            quorum,
            ..Pool::default()
        })
    }

    /// Whether `quorum` calls met inside the handler.
    fn gather(&self) -> bool {
        let mut inside = self.inside.lock().unwrap();
        *inside += 1;
        self.all_in.notify_all();
        let (inside, timeout) = self
            .all_in
            .wait_timeout_while(inside, BOUND, |n| *n < self.quorum)
            .unwrap();
        drop(inside);
        !timeout.timed_out()
    }
}

impl Handler for Pool {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        self.frames.fetch_add(1, Ordering::SeqCst);
        let msg = frame.decode().unwrap();
        let Header::Request(req) = msg.header() else {
            return;
        };
        let mut body = msg.body().to_vec();
        match &*req.operation {
            "seq" => {
                let n = u32::from_le_bytes(body[..4].try_into().unwrap());
                let mut seqs = self.seqs.lock().unwrap();
                seqs.entry(conn.id().0).or_default().push(n);
            }
            "gather" => body = vec![u8::from(self.gather())],
            "block" => {
                let released = self.released.lock().unwrap();
                let (_released, timeout) = self
                    .release
                    .wait_timeout_while(released, BOUND, |r| !*r)
                    .unwrap();
                body = vec![u8::from(!timeout.timed_out())];
            }
            "release" => {
                *self.released.lock().unwrap() = true;
                self.release.notify_all();
            }
            "nap" => std::thread::sleep(Duration::from_micros(100)),
            "count" => {}
            other => panic!("unknown test operation {other}"),
        }
        if req.response_flags.response_expected() {
            let _ = conn.send(reply_to(&msg, req.request_id, &body));
        }
    }
}

#[test]
fn a_pool_serves_as_many_connections_at_once_as_it_has_threads() {
    const THREADS: usize = 3;
    let handler = Pool::new(THREADS);
    let (server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: THREADS },
        &handler,
        ServerOptions::default(),
    );
    let conns = connect_giop(&bound, THREADS);
    // Each call waits inside the handler until all are inside: only a pool that runs them on
    // different threads at once answers `1` to every one.
    let met: Vec<Vec<u8>> = std::thread::scope(|s| {
        let calls: Vec<_> = conns
            .iter()
            .map(|c| s.spawn(move || call_op(c, "gather", b"")))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(met, vec![vec![1u8]; THREADS]);
    server.shutdown(true);
}

#[test]
fn many_connections_keep_their_order_under_a_pool() {
    const CONNS: usize = 24;
    const PER_CONN: u32 = 200;
    for strategy in [
        Strategy::ThreadPool { threads: 4 },
        Strategy::ThreadPool { threads: 2 },
        Strategy::Reactive,
        ADAPTIVE,
    ] {
        let handler = Pool::new(1);
        let (server, bound) = serve(
            tcp_any(),
            Dialect::Giop,
            strategy,
            &handler,
            ServerOptions::default(),
        );
        let conns = connect_giop(&bound, CONNS);
        std::thread::scope(|s| {
            for c in &conns {
                s.spawn(move || {
                    // Oneways, written back to back so the server finds several per read
                    // and several connections ready per wait, then a twoway behind them.
                    for n in 0..PER_CONN {
                        let id = c.next_request_id();
                        let mut req = request(Dialect::Giop, id, "seq", &n.to_le_bytes());
                        // GIOP 1.2's response flags: the octet after the request id.
                        req[16] = 0;
                        c.send_oneway(&req).unwrap();
                    }
                    call_op(c, "count", b"");
                });
            }
        });
        let seqs = handler.seqs.lock().unwrap();
        assert_eq!(seqs.len(), CONNS, "{strategy:?}");
        for got in seqs.values() {
            assert_eq!(*got, (0..PER_CONN).collect::<Vec<_>>(), "{strategy:?}");
        }
        drop(seqs);
        server.shutdown(true);
    }
}

#[test]
fn a_blocked_request_holds_up_its_own_connection_only() {
    for threads in [2, 4] {
        let handler = Pool::new(1);
        let (server, bound) = serve(
            tcp_any(),
            Dialect::Giop,
            Strategy::ThreadPool { threads },
            &handler,
            ServerOptions::default(),
        );
        let conns = connect_giop(&bound, 3);
        std::thread::scope(|s| {
            // Blocks until another connection's request releases it: the pool must go on
            // serving while a thread is stuck in a handler (another thread takes over polling).
            let blocked = s.spawn(|| call_op(&conns[0], "block", b""));
            assert!(wait_until(|| handler.frames.load(Ordering::SeqCst) >= 1));
            // Other connections are served meanwhile, more than once.
            for _ in 0..3 {
                assert_eq!(call_op(&conns[1], "count", b"x"), b"x");
            }
            call_op(&conns[2], "release", b"");
            assert_eq!(
                blocked.join().unwrap(),
                vec![1u8],
                "released, not timed out"
            );
        });
        server.shutdown(true);
    }
}

#[test]
fn a_connection_that_never_stops_sending_leaves_the_others_served() {
    // A Unix socket: its buffer holds far more than a read takes, where TCP's window, small at
    // first, would keep every read short and the budget never spent.
    let dir = SocketDir::new();
    for strategy in [
        Strategy::Reactive,
        Strategy::ThreadPool { threads: 2 },
        ADAPTIVE,
    ] {
        let handler = Pool::new(1);
        let (server, bound) = serve(
            dir.endpoint("flood"),
            Dialect::Giop,
            strategy,
            &handler,
            ServerOptions::default(),
        );
        let conns = connect_giop(&bound, 1);
        let answered = AtomicBool::new(false);
        std::thread::scope(|s| {
            let flood = s.spawn(|| {
                // Oneways as fast as the socket takes them, each slower to serve than to send,
                // so every read the server makes is full and its read budget runs out, until
                // the other connection has its answer, or up to a bound far beyond what the
                // server reads before it yields.
                let orb::transport::Endpoint::Uiop { path } = &bound else {
                    unreachable!("a Unix endpoint")
                };
                let mut sock = std::os::unix::net::UnixStream::connect(path).unwrap();
                let mut one = request(Dialect::Giop, 1, "nap", &[0u8; 4000]);
                one[16] = 0;
                let chunk = one.repeat(256);
                let mut sent = 0usize;
                while !answered.load(Ordering::SeqCst) && sent < 1 << 25 {
                    std::io::Write::write_all(&mut sock, &chunk).unwrap();
                    sent += chunk.len();
                }
                sent
            });
            // Sure to be under way: the server read some of the stream.
            assert!(wait_until(|| handler.frames.load(Ordering::SeqCst) > 20));
            assert_eq!(call_op(&conns[0], "count", b"y"), b"y");
            answered.store(true, Ordering::SeqCst);
            let sent = flood.join().unwrap();
            assert!(sent < 1 << 25, "{strategy:?}: the flood ran to its bound");
        });
        server.shutdown(true);
    }
}

#[test]
fn stop_reaches_every_thread_polling_idle_or_busy() {
    let handler = Pool::new(1);
    let (server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPool { threads: 5 },
        &handler,
        ServerOptions::default(),
    );
    let conns = connect_giop(&bound, 2);
    // One thread stuck in a handler, one polling, one standing by, two idle.
    let blocked_conn = conns[0].clone();
    let blocked = std::thread::spawn(move || {
        let id = blocked_conn.next_request_id();
        blocked_conn.call(id, &request(Dialect::Giop, id, "block", b""), deadline())
    });
    assert!(wait_until(|| handler.frames.load(Ordering::SeqCst) >= 1));
    assert_eq!(call_op(&conns[1], "count", b"z"), b"z");
    // Stopped while every role is taken; then the blocked handler is let go, and the wait
    // for the threads must end.
    server.shutdown(false);
    *handler.released.lock().unwrap() = true;
    handler.release.notify_all();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        server.shutdown(true);
        let _ = done_tx.send(());
    });
    assert!(
        done_rx.recv_timeout(BOUND).is_ok(),
        "shutdown(true) returned: every thread saw the stop"
    );
    let _ = blocked.join().unwrap();
}
