//! Thread per connection with followers (`ServerOptions::connection_threads`), as RT-CORBA
//! lanes read their own connections: a handler that hands the reading on
//! (`Handler::on_frame_releasing`) runs up to that many of one connection's requests at once,
//! each on the thread that read it; never more threads than that; what it does before
//! handing on stays in the connection's order; and a handler that never hands on is served
//! one message at a time, as without followers.
//!
//! Every wait is bounded (see `transport_common`): a server that serialised or lost a
//! request makes a test fail, not hang.

mod transport_common;

use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::{Frame, Header, MessageWriter, RequestHeader, ResponseFlags};
use orb::transport::{
    ClientConnection, ClientOptions, ConnectionHandle, ConnectionId, Dialect, Endpoint, Handler,
    Server, ServerOptions, Strategy,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use transport_common::*;

const BOUND: Duration = Duration::from_secs(20);

/// `gather`: hands the reading on (if `release`), then waits until `quorum` calls are inside
/// at once (or the bound passes; the reply says which), answering its thread's name and id;
/// `seq`: records its body, before handing on, then answers; `block`: hands on, counts
/// itself in, and waits for the gate.
struct Followers {
    release: bool,
    prefix: &'static str,
    quorum: usize,
    inside: Mutex<usize>,
    all_in: Condvar,
    gate: Mutex<bool>,
    opened: Condvar,
    seqs: Mutex<Vec<u32>>,
    in_block: AtomicUsize,
}

impl Followers {
    fn new(release: bool, prefix: &'static str, quorum: usize) -> Arc<Followers> {
        Arc::new(Followers {
            release,
            prefix,
            quorum,
            inside: Mutex::new(0),
            all_in: Condvar::new(),
            gate: Mutex::new(false),
            opened: Condvar::new(),
            seqs: Mutex::new(Vec::new()),
            in_block: AtomicUsize::new(0),
        })
    }

    fn open(&self) {
        *self.gate.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Handler for Followers {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        self.on_frame_releasing(conn, frame, &mut || {});
    }

    fn on_frame_releasing(&self, conn: &ConnectionHandle, frame: Frame, release: &mut dyn FnMut()) {
        let msg = frame.decode().unwrap();
        let Header::Request(req) = msg.header() else {
            return;
        };
        let mut body = msg.body().to_vec();
        let mut hand_on = || {
            if self.release {
                release();
            }
        };
        match &*req.operation {
            "gather" => {
                hand_on();
                let mut inside = self.inside.lock().unwrap();
                *inside += 1;
                self.all_in.notify_all();
                let (_inside, timeout) = self
                    .all_in
                    .wait_timeout_while(inside, BOUND, |n| *n < self.quorum)
                    .unwrap();
                let me = std::thread::current();
                let name = me.name().unwrap_or("");
                body = format!("{} {name} {:?}", !timeout.timed_out(), me.id()).into_bytes();
            }
            "seq" => {
                let n = u32::from_le_bytes(body[..4].try_into().unwrap());
                self.seqs.lock().unwrap().push(n);
                hand_on();
            }
            "block" => {
                hand_on();
                self.in_block.fetch_add(1, Ordering::SeqCst);
                let gate = self.gate.lock().unwrap();
                let _ = self.opened.wait_timeout_while(gate, BOUND, |open| !*open);
            }
            other => panic!("unknown test operation {other}"),
        }
        if req.response_flags.response_expected() {
            let _ = conn.send(reply_to(&msg, req.request_id, &body));
        }
    }

    fn connection_thread_name(&self, id: ConnectionId) -> String {
        format!("{}-{}", self.prefix, id.0)
    }
}

/// A thread-per-connection TCP server of `handler` whose connections have up to `threads`
/// threads each.
fn serve_with_threads(handler: &Arc<Followers>, threads: usize) -> (Server, Endpoint) {
    let options = ServerOptions {
        connection_threads: threads,
        ..ServerOptions::default()
    };
    serve(
        tcp_any(),
        Dialect::Giop,
        Strategy::ThreadPerConnection,
        handler,
        options,
    )
}

fn connect(bound: &Endpoint) -> Arc<ClientConnection> {
    Arc::new(ClientConnection::connect(bound, Dialect::Giop, &ClientOptions::default()).unwrap())
}

/// Makes `calls` concurrent `block` calls on `conn`; once `inside` of them are in the handler
/// at once, lets them all go, and checks that every one was answered, having run.
fn block_calls(conn: &ClientConnection, handler: &Followers, calls: usize, inside: usize) {
    std::thread::scope(|s| {
        let running: Vec<_> = (0..calls)
            .map(|_| s.spawn(|| call_op(conn, "block", b"")))
            .collect();
        assert!(wait_until(
            || handler.in_block.load(Ordering::SeqCst) == inside
        ));
        handler.open();
        for c in running {
            c.join().unwrap();
        }
    });
    assert_eq!(handler.in_block.load(Ordering::SeqCst), calls);
}

/// The threads of this process whose name (its first 15 octets) begins with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
fn a_connection_runs_as_many_requests_at_once_as_it_has_threads_each_on_its_reader() {
    const THREADS: usize = 3;
    let handler = Followers::new(true, "lf-gather", THREADS);
    let (server, bound) = serve_with_threads(&handler, THREADS);
    let conn = connect(&bound);
    // Each call waits inside the handler until all are: only if the connection's three
    // requests run at once, on three threads of the connection, does each answer `true`.
    let replies: Vec<String> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(|| call_op(&conn, "gather", b"")))
            .collect();
        calls
            .into_iter()
            .map(|c| String::from_utf8(c.join().unwrap()).unwrap())
            .collect()
    });
    // Three threads, all the connection's.
    let mut threads: Vec<&str> = replies
        .iter()
        .map(|r| r.strip_prefix("true ").unwrap_or_else(|| panic!("{r}")))
        .collect();
    threads.sort_unstable();
    threads.dedup();
    assert_eq!(threads.len(), THREADS, "{replies:?}");
    assert!(threads.iter().all(|n| n.starts_with("lf-gather-")));
    server.shutdown(true);
}

#[test]
fn a_connection_never_has_more_threads_than_its_limit() {
    let handler = Followers::new(true, "lf-limit", usize::MAX);
    let (server, bound) = serve_with_threads(&handler, 2);
    let conn = connect(&bound);
    // Two in the handler: the third waits unread, with no thread to read it.
    block_calls(&conn, &handler, 3, 2);
    assert_eq!(threads_named("lf-limit-"), 2);
    server.shutdown(true);
    assert!(wait_until(|| threads_named("lf-limit-") == 0));
}

/// A oneway `seq` request carrying `n`.
fn oneway_seq(n: u32) -> Vec<u8> {
    let mut header = RequestHeader::new(0, b"echo-key", "seq");
    header.response_flags = ResponseFlags::from_response_expected(false);
    let mut w = MessageWriter::new(
        GiopVersion::V1_2,
        ByteOrder::NATIVE,
        &Header::Request(header),
    )
    .unwrap();
    w.body().write_octets(&n.to_le_bytes());
    w.finish().unwrap()
}

#[test]
fn what_comes_before_handing_on_stays_in_the_connections_order() {
    let handler = Followers::new(true, "lf-order", usize::MAX);
    let (server, bound) = serve_with_threads(&handler, 4);
    let conn = connect(&bound);
    // Oneways back to back, read by whichever of the four threads has the turn, then a
    // twoway: once it is answered, everything before it was taken in.
    for n in 0..500u32 {
        conn.send_oneway(&oneway_seq(n)).unwrap();
    }
    call_op(&conn, "seq", &500u32.to_le_bytes());
    assert_eq!(*handler.seqs.lock().unwrap(), (0..=500).collect::<Vec<_>>());
    server.shutdown(true);
}

#[test]
fn a_handler_that_never_hands_on_is_served_one_message_at_a_time() {
    let handler = Followers::new(false, "lf-serial", usize::MAX);
    let (server, bound) = serve_with_threads(&handler, 4);
    let conn = connect(&bound);
    block_calls(&conn, &handler, 2, 1);
    // Followers are started only when the reading is handed on: none were.
    assert_eq!(threads_named("lf-serial-"), 1);
    server.shutdown(true);
}
