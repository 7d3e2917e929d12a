//! The adaptive server: one thread while handlers return, more while they block (one blocked
//! handler stalls no other connection), back to one when they are not needed; each
//! connection's requests in order however the crew changes; nested callbacks through one
//! server, each level holding a thread, never stalled; a stop that reaches every thread.
//!
//! Every wait is bounded (see `transport_common`): a server that stalled, lost a wake-up or
//! kept its threads makes a test fail, not hang.

mod transport_common;

use orb::giop::{Frame, Header};
use orb::transport::{
    AdaptivePolicy, ClientConnection, ClientOptions, ConnectionHandle, Dialect, Endpoint, Handler,
    Server, ServerOptions, Strategy,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use transport_common::*;

const BOUND: Duration = Duration::from_secs(20);

/// Quick to promote and to retire, so that the tests see both within their bounds.
fn adaptive(max_threads: usize) -> Strategy {
    Strategy::Adaptive(AdaptivePolicy {
        max_threads,
        promote_after: Duration::from_millis(1),
        retire_after: Duration::from_millis(30),
    })
}

/// Replies to every request with its body, after doing what its operation says:
/// - `seq`: records the body (a sequence number) under the connection's id;
/// - `block`: waits until released (see [`Crew::release`]);
/// - `nap`: sleeps 3 ms, long enough for the monitor to start another thread, then does as
///   `seq`;
/// - `nest`: with a depth `d` > 0 in the body, calls `nest` with `d - 1` on the same server
///   over a connection of its own and waits for the answer, then answers it plus one;
/// - `count`: nothing more.
#[derive(Default)]
struct Crew {
    blocked: AtomicUsize,
    released: Mutex<bool>,
    release: Condvar,
    seqs: Mutex<HashMap<u64, Vec<u32>>>,
    frames: AtomicUsize,
    /// The server's endpoint, for `nest` to call it back.
    me: OnceLock<Endpoint>,
}

impl Crew {
    fn new() -> Arc<Crew> {
        Arc::new(Crew::default())
    }

    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.release.notify_all();
    }

    fn nest(&self, depth: u32) -> u32 {
        if depth == 0 {
            return 0;
        }
        let me = self.me.get().expect("the server's endpoint is known");
        let conn = ClientConnection::connect(me, Dialect::Giop, &ClientOptions::default())
            .expect("the nested call's connection");
        let inner = call_op(&conn, "nest", &(depth - 1).to_le_bytes());
        u32::from_le_bytes(inner[..4].try_into().unwrap()) + 1
    }
}

impl Handler for Crew {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        self.frames.fetch_add(1, Ordering::SeqCst);
        let msg = frame.decode().unwrap();
        let Header::Request(req) = msg.header() else {
            return;
        };
        let mut body = msg.body().to_vec();
        let op = &*req.operation;
        if op == "nap" {
            std::thread::sleep(Duration::from_millis(3));
        }
        match op {
            "seq" | "nap" => {
                let n = u32::from_le_bytes(body[..4].try_into().unwrap());
                let mut seqs = self.seqs.lock().unwrap();
                seqs.entry(conn.id().0).or_default().push(n);
            }
            "block" => {
                self.blocked.fetch_add(1, Ordering::SeqCst);
                let released = self.released.lock().unwrap();
                let (_released, timeout) = self
                    .release
                    .wait_timeout_while(released, BOUND, |r| !*r)
                    .unwrap();
                body = vec![u8::from(!timeout.timed_out())];
            }
            "nest" => {
                let depth = u32::from_le_bytes(body[..4].try_into().unwrap());
                body = self.nest(depth).to_le_bytes().to_vec();
            }
            "count" => {}
            other => panic!("unknown test operation {other}"),
        }
        if req.response_flags.response_expected() {
            let _ = conn.send(reply_to(&msg, req.request_id, &body));
        }
    }
}

fn start(strategy: Strategy) -> (Arc<Crew>, Server, Endpoint) {
    let handler = Crew::new();
    let (server, bound) = serve(
        tcp_any(),
        Dialect::Giop,
        strategy,
        &handler,
        ServerOptions::default(),
    );
    handler.me.set(bound.clone()).unwrap();
    (handler, server, bound)
}

#[test]
fn blocked_handlers_leave_the_other_connections_served() {
    let (handler, server, bound) = start(adaptive(4));
    assert_eq!(server.serving_threads(), 1, "starts as the plain reactor");
    let conns = connect_giop(&bound, 4);
    std::thread::scope(|s| {
        // Two handlers block, one after the other: each time the only thread polling is the
        // one now stuck, and another must take over.
        let first = s.spawn(|| call_op(&conns[0], "block", b""));
        assert!(wait_until(|| handler.blocked.load(Ordering::SeqCst) == 1));
        assert_eq!(call_op(&conns[2], "count", b"x"), b"x");
        let second = s.spawn(|| call_op(&conns[1], "block", b""));
        assert!(wait_until(|| handler.blocked.load(Ordering::SeqCst) == 2));
        for _ in 0..3 {
            assert_eq!(call_op(&conns[3], "count", b"y"), b"y");
        }
        handler.release();
        assert_eq!(first.join().unwrap(), vec![1u8], "released, not timed out");
        assert_eq!(second.join().unwrap(), vec![1u8], "released, not timed out");
    });
    server.shutdown(true);
}

#[test]
fn threads_grow_while_handlers_block_and_return_to_one_when_idle() {
    const BLOCKED: usize = 3;
    let (handler, server, bound) = start(adaptive(8));
    let conns = connect_giop(&bound, BLOCKED + 1);
    std::thread::scope(|s| {
        let blocked: Vec<_> = conns[..BLOCKED]
            .iter()
            .map(|c| s.spawn(move || call_op(c, "block", b"")))
            .collect();
        assert!(wait_until(
            || handler.blocked.load(Ordering::SeqCst) == BLOCKED
        ));
        // Three threads stuck, and one polling.
        assert_eq!(call_op(&conns[BLOCKED], "count", b"z"), b"z");
        assert!(
            wait_until(|| server.serving_threads() > BLOCKED),
            "{} threads with {BLOCKED} handlers blocked",
            server.serving_threads()
        );
        // The threads held do not retire while their handlers block.
        assert!(server.serving_threads() > BLOCKED);
        handler.release();
        for b in blocked {
            assert_eq!(b.join().unwrap(), vec![1u8]);
        }
    });
    assert!(
        wait_until(|| server.serving_threads() == 1),
        "{} threads long after the load ended",
        server.serving_threads()
    );
    // And the one thread left still serves.
    assert_eq!(call_op(&conns[0], "count", b"w"), b"w");
    // The crew never goes over its maximum.
    let (handler, server, bound) = start(adaptive(2));
    let conns = connect_giop(&bound, 4);
    std::thread::scope(|s| {
        let blocked: Vec<_> = conns[..3]
            .iter()
            .map(|c| s.spawn(move || call_op(c, "block", b"")))
            .collect();
        assert!(wait_until(|| handler.blocked.load(Ordering::SeqCst) == 2));
        assert_eq!(server.serving_threads(), 2);
        handler.release();
        for b in blocked {
            assert_eq!(b.join().unwrap(), vec![1u8]);
        }
    });
    server.shutdown(true);
}

#[test]
fn each_connection_keeps_its_order_while_the_crew_grows_and_shrinks() {
    const CONNS: usize = 12;
    const PER_CONN: u32 = 150;
    let (handler, server, bound) = start(adaptive(6));
    let conns = connect_giop(&bound, CONNS);
    std::thread::scope(|s| {
        for (i, c) in conns.iter().enumerate() {
            s.spawn(move || {
                // Oneways back to back, so the server finds several per read and several
                // connections ready per wait; every so often one that naps long enough for
                // the crew to grow under it, and a twoway at the end.
                for n in 0..PER_CONN {
                    let id = c.next_request_id();
                    let op = if (n as usize + i) % 50 == 0 {
                        "nap"
                    } else {
                        "seq"
                    };
                    let mut req = request(Dialect::Giop, id, op, &n.to_le_bytes());
                    // GIOP 1.2's response flags: the octet after the request id.
                    req[16] = 0;
                    c.send_oneway(&req).unwrap();
                }
                call_op(c, "count", b"");
            });
        }
    });
    let seqs = handler.seqs.lock().unwrap();
    assert_eq!(seqs.len(), CONNS);
    for got in seqs.values() {
        assert_eq!(*got, (0..PER_CONN).collect::<Vec<_>>());
    }
    drop(seqs);
    server.shutdown(true);
}

#[test]
fn nested_callbacks_through_one_server_never_stall() {
    // Every level holds a thread while it waits for the next, which arrives on a new
    // connection of the same server: each level needs a thread promoted while all the
    // others are stuck. Repeated, on fresh servers and on one that has shrunk back, so that a
    // hand-over that could lose its wake-up would show as a call timing out.
    const DEPTH: u32 = 7;
    const CHAINS: usize = 3;
    for round in 0..12 {
        let (_handler, server, bound) = start(adaptive(32));
        let conns = connect_giop(&bound, CHAINS);
        for _ in 0..2 {
            let answers: Vec<Vec<u8>> = std::thread::scope(|s| {
                let chains: Vec<_> = conns
                    .iter()
                    .take(if round % 2 == 0 { 1 } else { CHAINS })
                    .map(|c| s.spawn(move || call_op(c, "nest", &DEPTH.to_le_bytes())))
                    .collect();
                chains.into_iter().map(|c| c.join().unwrap()).collect()
            });
            for a in answers {
                assert_eq!(a, DEPTH.to_le_bytes(), "round {round}");
            }
            assert!(
                wait_until(|| server.serving_threads() == 1),
                "round {round}: {} threads after the chains",
                server.serving_threads()
            );
        }
        server.shutdown(true);
    }
}

#[test]
fn stop_reaches_every_thread_of_a_grown_crew() {
    let (handler, server, bound) = start(adaptive(8));
    let conns = connect_giop(&bound, 3);
    // Two threads stuck in handlers, one polling, the monitor ticking.
    let blocked: Vec<_> = conns[..2]
        .iter()
        .map(|c| {
            let c = c.clone();
            std::thread::spawn(move || {
                let id = c.next_request_id();
                c.call(id, &request(Dialect::Giop, id, "block", b""), deadline())
            })
        })
        .collect();
    assert!(wait_until(|| handler.blocked.load(Ordering::SeqCst) == 2));
    assert_eq!(call_op(&conns[2], "count", b"z"), b"z");
    server.shutdown(false);
    handler.release();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        server.shutdown(true);
        let _ = done_tx.send(server.serving_threads());
    });
    assert!(
        done_rx.recv_timeout(BOUND).is_ok(),
        "shutdown(true) returned: every thread saw the stop"
    );
    for b in blocked {
        let _ = b.join().unwrap();
    }
}
