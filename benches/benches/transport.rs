//! Transport latency: the round trip of a cube_long-sized GIOP 1.2 Request/Reply through
//! `ClientConnection::call` and a `Server`, side by side in the same run with a raw blocking
//! ping-pong of the same octets (std sockets, `TCP_NODELAY`, a plain server thread) — the
//! floor any transport sits on.
//!
//! Not criterion: the figures wanted are medians of single round trips and their ratio to the
//! floor measured under the same load, so the cases are interleaved in short rounds (a burst of
//! load from a neighbour hits them all alike) and every round trip is timed on its own.
//!
//! `cargo bench -p rtorb-benches --bench transport` for the full run; without `--bench` (as
//! `cargo test --benches` runs it) a few hundred round trips per case, to prove it works.

use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::ServiceContexts;
use orb::giop::{Frame, Header, MessageWriter, ReplyHeader, ReplyStatus, RequestHeader};
use orb::transport::{
    ClientConnection, ClientOptions, ConnectionHandle, Dialect, Endpoint, Handler, ListenerSpec,
    Server, ServerOptions, Strategy,
};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// omniORB's object keys for a child POA's servant are about this long.
const OBJECT_KEY: &[u8] = b"\xff\x00child_poa\x00\x00\x00\x00\x01\x00\x00\x00\x07";

fn cube_request(dialect: Dialect, id: u32, x: i32) -> Vec<u8> {
    let header = Header::Request(RequestHeader::new(id, OBJECT_KEY, "cube_long"));
    let mut w = match dialect {
        Dialect::Giop => MessageWriter::new(GiopVersion::V1_2, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite(order, &header),
    }
    .unwrap();
    w.body().write_long(x);
    w.finish().unwrap()
}

fn cube_reply(dialect: Dialect, id: u32, x: i32) -> Vec<u8> {
    let header = Header::Reply(ReplyHeader {
        request_id: id,
        reply_status: ReplyStatus::NoException,
        service_context: ServiceContexts::EMPTY,
    });
    let mut w = match dialect {
        Dialect::Giop => MessageWriter::new(GiopVersion::V1_2, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite(order, &header),
    }
    .unwrap();
    w.body().write_long(x.wrapping_mul(x).wrapping_mul(x));
    w.finish().unwrap()
}

/// The servant side, reduced to what the transport must carry: read the request header and
/// the argument, write the reply.
struct Cube;

impl Handler for Cube {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        let Ok(msg) = frame.decode() else { return };
        let Header::Request(req) = msg.header() else {
            return;
        };
        let x = msg.body_decoder().read_long().unwrap_or(0);
        let _ = conn.send(cube_reply(conn.dialect(), req.request_id, x));
    }
}

/// One way of doing a round trip, measured by the caller.
trait RoundTrip {
    fn name(&self) -> String;
    /// The floor this case compares to: "tcp" or "unix".
    fn floor(&self) -> &'static str;
    fn once(&mut self);
}

/// The floor: write the request octets, read as many octets as the reply has.
struct Raw<S: Read + Write> {
    name: &'static str,
    floor: &'static str,
    stream: S,
    request: Vec<u8>,
    reply: Vec<u8>,
}

impl<S: Read + Write> RoundTrip for Raw<S> {
    fn name(&self) -> String {
        self.name.to_owned()
    }
    fn floor(&self) -> &'static str {
        self.floor
    }
    fn once(&mut self) {
        self.stream.write_all(&self.request).unwrap();
        self.stream.read_exact(&mut self.reply).unwrap();
    }
}

/// The raw server: a plain thread answering each request-sized read with the reply octets.
fn raw_echo<S: Read + Write>(mut s: S, req_len: usize, reply: Vec<u8>) {
    let mut buf = vec![0; req_len];
    while s.read_exact(&mut buf).is_ok() {
        if s.write_all(&reply).is_err() {
            return;
        }
    }
}

struct Orb {
    name: String,
    floor: &'static str,
    conn: ClientConnection,
    request: Vec<u8>,
    /// Where the request id sits in `request` (patched per call, not re-encoded: the
    /// client's encoding cost is the stubs', not the transport's).
    id_at: usize,
    x: i32,
    _server: Server,
}

impl RoundTrip for Orb {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn floor(&self) -> &'static str {
        self.floor
    }
    fn once(&mut self) {
        let id = self.conn.next_request_id();
        self.request[self.id_at..self.id_at + 4].copy_from_slice(&id.to_ne_bytes());
        let reply = self.conn.call(id, &self.request, None).unwrap();
        let msg = reply.decode().unwrap();
        let cube = msg.body_decoder().read_long().unwrap();
        assert_eq!(cube, self.x.wrapping_mul(self.x).wrapping_mul(self.x));
    }
}

fn orb_case(
    name: &str,
    floor: &'static str,
    endpoint: Endpoint,
    dialect: Dialect,
    strategy: Strategy,
) -> Orb {
    let server = Server::bind(
        &[ListenerSpec { endpoint, dialect }],
        strategy,
        Arc::new(Cube),
        ServerOptions::default(),
    )
    .unwrap();
    let bound = server.endpoints()[0].endpoint.clone();
    let conn = ClientConnection::connect(&bound, dialect, &ClientOptions::default()).unwrap();
    let x = 7;
    Orb {
        name: name.to_owned(),
        floor,
        conn,
        request: cube_request(dialect, 0, x),
        id_at: if dialect.is_lite() { 8 } else { 12 },
        x,
        _server: server,
    }
}

fn socket_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtorb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // Rounds of 50 round trips per case (about a millisecond each): a neighbour's burst on
    // this shared machine spans several cases instead of landing on one.
    let (rounds, per_round, warmup) = if full { (400, 50, 2_000) } else { (4, 50, 50) };

    let request = cube_request(Dialect::Giop, 1, 7);
    let reply = cube_reply(Dialect::Giop, 1, 7);

    let tcp_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_addr = tcp_listener.local_addr().unwrap();
    let (req_len, rep) = (request.len(), reply.clone());
    std::thread::spawn(move || {
        let (s, _) = tcp_listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        raw_echo(s, req_len, rep);
    });
    let raw_tcp = TcpStream::connect(tcp_addr).unwrap();
    raw_tcp.set_nodelay(true).unwrap();

    let unix_path = socket_path("raw");
    let unix_listener = UnixListener::bind(&unix_path).unwrap();
    let rep = reply.clone();
    std::thread::spawn(move || {
        let (s, _) = unix_listener.accept().unwrap();
        raw_echo(s, req_len, rep);
    });
    let raw_unix = UnixStream::connect(&unix_path).unwrap();

    let tcp = || Endpoint::parse("giop:tcp:127.0.0.1:0").unwrap();
    let mut cases: Vec<Box<dyn RoundTrip>> = vec![
        Box::new(Raw {
            name: "raw TCP ping-pong",
            floor: "tcp",
            stream: raw_tcp,
            request: request.clone(),
            reply: vec![0; reply.len()],
        }),
        Box::new(orb_case(
            "IIOP reactive",
            "tcp",
            tcp(),
            Dialect::Giop,
            Strategy::Reactive,
        )),
        Box::new(orb_case(
            "IIOP thread-per-connection",
            "tcp",
            tcp(),
            Dialect::Giop,
            Strategy::ThreadPerConnection,
        )),
        Box::new(orb_case(
            "IIOP thread pool (2)",
            "tcp",
            tcp(),
            Dialect::Giop,
            Strategy::ThreadPool { threads: 2 },
        )),
        Box::new(orb_case(
            "IIOP reactive, GIOP-lite",
            "tcp",
            tcp(),
            Dialect::LITE_NATIVE,
            Strategy::Reactive,
        )),
        Box::new(Raw {
            name: "raw Unix ping-pong",
            floor: "unix",
            stream: raw_unix,
            request: request.clone(),
            reply: vec![0; reply.len()],
        }),
        Box::new(orb_case(
            "UIOP reactive",
            "unix",
            Endpoint::unix(socket_path("reactive")),
            Dialect::Giop,
            Strategy::Reactive,
        )),
        Box::new(orb_case(
            "UIOP thread-per-connection",
            "unix",
            Endpoint::unix(socket_path("tpc")),
            Dialect::Giop,
            Strategy::ThreadPerConnection,
        )),
    ];

    for c in cases.iter_mut() {
        for _ in 0..warmup {
            c.once();
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds * per_round); cases.len()];
    for _ in 0..rounds {
        for (c, s) in cases.iter_mut().zip(samples.iter_mut()) {
            for _ in 0..per_round {
                let t = Instant::now();
                c.once();
                s.push(t.elapsed());
            }
        }
    }

    let medians: Vec<Duration> = samples
        .iter_mut()
        .map(|s| {
            s.sort_unstable();
            percentile(s, 0.5)
        })
        .collect();
    let floor_of = |f: &str| {
        cases
            .iter()
            .zip(&medians)
            .find(|(c, _)| c.name().starts_with("raw") && c.floor() == f)
            .map(|(_, m)| *m)
            .unwrap()
    };
    let raw_tcp = floor_of("tcp");
    println!(
        "cube_long round trip: request {} octets, reply {} octets (GIOP 1.2); {} round trips per case",
        request.len(),
        reply.len(),
        rounds * per_round
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "case", "median µs", "p90 µs", "p99 µs", "× own floor", "× raw TCP"
    );
    for ((c, s), m) in cases.iter().zip(&samples).zip(&medians) {
        let own = floor_of(c.floor());
        println!(
            "{:<28} {:>10.2} {:>10.2} {:>10.2} {:>12.3} {:>12.3}",
            c.name(),
            m.as_secs_f64() * 1e6,
            percentile(s, 0.9).as_secs_f64() * 1e6,
            percentile(s, 0.99).as_secs_f64() * 1e6,
            m.as_secs_f64() / own.as_secs_f64(),
            m.as_secs_f64() / raw_tcp.as_secs_f64(),
        );
    }
    drop(cases);
    let _ = std::fs::remove_dir_all(unix_path.parent().unwrap());
}
