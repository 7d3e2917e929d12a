//! Helpers for the transport tests: an echo handler whose behaviour each request picks by its
//! operation name, request and reply builders, temporary Unix socket paths.
//!
//! Every wait in these tests is bounded: calls carry a generous deadline that only a hang
//! would reach, raw sockets have read timeouts, loops have fixed counts.
#![allow(dead_code)]

use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::{
    Frame, GiopError, Header, Message, MessageWriter, ReplyHeader, ReplyStatus, RequestHeader,
    ServiceContexts,
};
use orb::transport::{
    CloseCause, ConnectionHandle, ConnectionId, Dialect, Endpoint, Handler, ListenerSpec, Server,
    ServerOptions, Strategy,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The four server strategies, the pool small enough for a two-core machine.
pub const STRATEGIES: [Strategy; 4] = [
    Strategy::Reactive,
    Strategy::ThreadPool { threads: 3 },
    ADAPTIVE,
    Strategy::ThreadPerConnection,
];

/// An adaptive server of up to three threads, quick to promote and to retire.
pub const ADAPTIVE: Strategy = Strategy::Adaptive(orb::transport::AdaptivePolicy {
    max_threads: 3,
    promote_after: Duration::from_millis(1),
    retire_after: Duration::from_millis(30),
});

/// GIOP and GIOP-lite in both byte orders.
pub const DIALECTS: [Dialect; 3] = [
    Dialect::Giop,
    Dialect::Lite(ByteOrder::BigEndian),
    Dialect::Lite(ByteOrder::LittleEndian),
];

/// A deadline no working test comes near: it only turns a hang into a failure.
pub fn deadline() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(20))
}

/// A Request in `dialect` (GIOP 1.2 in native order for GIOP) with `body` as its octets.
pub fn request(dialect: Dialect, id: u32, op: &str, body: &[u8]) -> Vec<u8> {
    request_in(dialect, GiopVersion::V1_2, id, op, body)
}

pub fn request_in(
    dialect: Dialect,
    version: GiopVersion,
    id: u32,
    op: &str,
    body: &[u8],
) -> Vec<u8> {
    let header = Header::Request(RequestHeader::new(id, b"echo-key", op));
    let mut w = match dialect {
        Dialect::Giop => MessageWriter::new(version, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite(order, &header),
    }
    .unwrap();
    w.body().write_octets(body);
    w.finish().unwrap()
}

/// The Reply to `msg` (a Request) carrying `body`, in the request's version and byte order.
pub fn reply_to(msg: &Message<'_>, request_id: u32, body: &[u8]) -> Vec<u8> {
    let header = Header::Reply(ReplyHeader {
        request_id,
        reply_status: ReplyStatus::NoException,
        service_context: ServiceContexts::EMPTY,
    });
    let mut w = if msg.is_lite() {
        MessageWriter::lite(msg.order(), &header)
    } else {
        MessageWriter::new(msg.version(), msg.order(), &header)
    }
    .unwrap();
    w.body().write_octets(body);
    w.finish().unwrap()
}

/// The request id and body of a Reply frame.
pub fn reply_parts(frame: &Frame) -> (u32, Vec<u8>) {
    let msg = frame.decode().unwrap();
    match msg.header() {
        Header::Reply(r) => (r.request_id, msg.body().to_vec()),
        h => panic!("expected a Reply, got {h:?}"),
    }
}

/// `n` GIOP connections of their own to `bound`.
pub fn connect_giop(bound: &Endpoint, n: usize) -> Vec<Arc<orb::transport::ClientConnection>> {
    (0..n)
        .map(|_| {
            Arc::new(
                orb::transport::ClientConnection::connect(
                    bound,
                    Dialect::Giop,
                    &orb::transport::ClientOptions::default(),
                )
                .unwrap(),
            )
        })
        .collect()
}

/// A GIOP call of `op` with `body` on `conn`, checked to be answered by its own Reply;
/// that Reply's body.
pub fn call_op(conn: &orb::transport::ClientConnection, op: &str, body: &[u8]) -> Vec<u8> {
    let id = conn.next_request_id();
    let reply = conn
        .call(id, &request(Dialect::Giop, id, op, body), deadline())
        .unwrap();
    let (got, body) = reply_parts(&reply);
    assert_eq!(got, id);
    body
}

/// The CloseConnection message of a dialect.
pub fn close_connection(dialect: Dialect) -> Vec<u8> {
    match dialect {
        Dialect::Giop => MessageWriter::new(
            GiopVersion::V1_2,
            ByteOrder::NATIVE,
            &Header::CloseConnection,
        ),
        Dialect::Lite(order) => MessageWriter::lite(order, &Header::CloseConnection),
    }
    .unwrap()
    .finish()
    .unwrap()
}

/// A reply to send later, and where.
type Delayed = (ConnectionHandle, Vec<u8>);

/// Replies to every Request, choosing what to do by the operation name:
/// - `echo`: a Reply with the same request id and body;
/// - `segments`: the same, sent as four segments of one gathering write;
/// - `delay`: the same, sent later from another thread (so replies overtake each other);
/// - `ignore`: no reply at all;
/// - `close`: CloseConnection, then close the connection;
/// - `drop`: close the connection without a word;
/// - `flood`: as many 64 KiB replies as the body's first octet says, at once.
#[derive(Default)]
pub struct Echo {
    pub frames: AtomicUsize,
    pub accepted: AtomicUsize,
    pub closed: Mutex<Vec<(ConnectionId, CloseCause)>>,
    pub protocol_errors: Mutex<Vec<GiopError>>,
    pub send_errors: Mutex<Vec<String>>,
    delayed: OnceLock<Mutex<mpsc::Sender<Delayed>>>,
}

impl Echo {
    pub fn new() -> Arc<Echo> {
        Arc::new(Echo::default())
    }

    fn delay(&self, conn: &ConnectionHandle, reply: Vec<u8>) {
        let tx = self.delayed.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Delayed>();
            // Ends when the handler, which holds the only sender, is dropped.
            std::thread::spawn(move || {
                while let Ok((conn, reply)) = rx.recv() {
                    std::thread::sleep(Duration::from_micros(300));
                    let _ = conn.send(reply);
                }
            });
            Mutex::new(tx)
        });
        tx.lock().unwrap().send((conn.clone(), reply)).unwrap();
    }

    fn sent(&self, r: Result<(), orb::transport::TransportError>) {
        if let Err(e) = r {
            self.send_errors.lock().unwrap().push(e.to_string());
        }
    }

    pub fn closes(&self) -> usize {
        self.closed.lock().unwrap().len()
    }

    /// Waits (bounded) until `n` connections have been reported closed.
    pub fn wait_closes(&self, n: usize) -> bool {
        wait_until(|| self.closes() >= n)
    }
}

impl Handler for Echo {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        self.frames.fetch_add(1, Ordering::SeqCst);
        let msg = frame
            .decode()
            .expect("the framer yields decodable messages");
        let Header::Request(req) = msg.header() else {
            return;
        };
        let id = req.request_id;
        match &*req.operation {
            "echo" => self.sent(conn.send(reply_to(&msg, id, msg.body()))),
            "segments" => {
                let whole = reply_to(&msg, id, msg.body());
                let cuts = [0, 3, whole.len() / 2, whole.len() - 1, whole.len()];
                let segs = cuts
                    .windows(2)
                    .map(|w| whole[w[0]..w[1]].to_vec())
                    .collect();
                self.sent(conn.send_vectored(segs));
            }
            "delay" => self.delay(conn, reply_to(&msg, id, msg.body())),
            "ignore" => {}
            "close" => {
                self.sent(conn.send(close_connection(conn.dialect())));
                conn.close();
            }
            "drop" => conn.close(),
            "flood" => {
                let n = msg.body().first().copied().unwrap_or(1);
                for _ in 0..n {
                    if let Err(e) = conn.send(reply_to(&msg, id, &[0x5a; 64 * 1024])) {
                        self.send_errors.lock().unwrap().push(e.to_string());
                        break;
                    }
                }
            }
            other => panic!("unknown test operation {other}"),
        }
    }

    fn on_accept(&self, _conn: &ConnectionHandle) {
        self.accepted.fetch_add(1, Ordering::SeqCst);
    }

    /// Answers with MessageError (in GIOP, in the version the error names), as the ORB will.
    fn on_protocol_error(&self, conn: &ConnectionHandle, error: &GiopError) {
        self.protocol_errors.lock().unwrap().push(error.clone());
        let bytes = match conn.dialect() {
            Dialect::Giop => MessageWriter::new(
                error.message_error_version(),
                ByteOrder::NATIVE,
                &Header::MessageError,
            ),
            Dialect::Lite(order) => MessageWriter::lite(order, &Header::MessageError),
        };
        self.sent(conn.send(bytes.unwrap().finish().unwrap()));
    }

    fn on_close(&self, conn: ConnectionId, cause: &CloseCause) {
        self.closed.lock().unwrap().push((conn, cause.clone()));
    }
}

/// Polls `cond` every millisecond for at most ten seconds.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    cond()
}

/// A Unix socket path in a fresh temporary directory, removed on drop.
pub struct SocketDir(pub PathBuf);

impl SocketDir {
    pub fn new() -> SocketDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rtorb-transport-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        SocketDir(dir)
    }

    pub fn endpoint(&self, name: &str) -> Endpoint {
        Endpoint::unix(self.0.join(name))
    }

    /// A SHMIOP listener's socket in the directory.
    pub fn shm_endpoint(&self, name: &str) -> Endpoint {
        Endpoint::Shmiop {
            path: self.0.join(format!("{name}.shm")),
        }
    }

    /// One endpoint of each transport, with a dialect to speak there: TCP in GIOP, a Unix
    /// socket in GIOP-lite, SHMIOP in GIOP (`name` names the files of the last two).
    pub fn every_transport(&self, name: &str) -> [(Endpoint, Dialect); 3] {
        [
            (tcp_any(), Dialect::Giop),
            (self.endpoint(name), Dialect::LITE_NATIVE),
            (self.shm_endpoint(name), Dialect::Giop),
        ]
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loopback TCP on an ephemeral port.
pub fn tcp_any() -> Endpoint {
    Endpoint::parse("giop:tcp:127.0.0.1:0").unwrap()
}

/// Starts a server on one endpoint.
pub fn serve<H: Handler>(
    endpoint: Endpoint,
    dialect: Dialect,
    strategy: Strategy,
    handler: &Arc<H>,
    options: ServerOptions,
) -> (Server, Endpoint) {
    let server = Server::bind(
        &[ListenerSpec { endpoint, dialect }],
        strategy,
        handler.clone(),
        options,
    )
    .unwrap();
    let bound = server.endpoints()[0].endpoint.clone();
    (server, bound)
}
