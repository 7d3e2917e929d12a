//! The design's cubit latency experiment, the parts that need no FFI: omniORB's cubit server
//! as a child process, and the Rust cases that are timed beside omniORB's own client (whose
//! FFI half lives in `benches/benches/omniorb/cubit_ffi.rs`, shared by the `cubit` bench and
//! the `cubit_latency` tool).
//!
//! Every case makes the same call — `cube_long(x)` or `cube_seq(s)` of the IDL in
//! `benches/omniorb/cubit.idl` — and every case is a [`Case`]: criterion times batches with
//! [`Case::run`], the latency tool times single calls with [`Case::record`].
//!
//! - [`RawTcp`]: the floor, a blocking ping-pong of exactly the octets of the GIOP Request and
//!   Reply the rtorb cases exchange, against a plain echo thread; nothing is encoded or decoded.
//! - [`RtorbClient`]: a Request encoded with `orb::giop::MessageWriter` on every call, sent with
//!   `orb::transport::ClientConnection::call`, the Reply decoded with `orb::giop` and `orb::cdr`
//!   and checked — to omniORB's server process ([`RtorbClient::to_omniorb`]) or to an
//!   `orb::transport::Server` in this process running [`CubitHandler`]
//!   ([`RtorbClient::to_rtorb`]).
//! - [`PlainRust`]: a call through a `&dyn` trait object, what a collocated call cannot beat.

use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, GiopVersion};
use orb::giop::{
    Frame, Header, Message, MessageWriter, ReplyHeader, ReplyStatus, RequestHeader, ServiceContexts,
};
use orb::iop::ProfileId;
use orb::ior::{parse_ior_string, IiopProfile};
use orb::transport::{
    ClientConnection, ClientOptions, ConnectionHandle, Dialect, Endpoint, Handler, ListenerSpec,
    Server, ServerOptions, Strategy,
};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The argument of every `cube_long` call, and what it must return.
pub const X: i32 = 7;
pub const X_CUBED: i32 = 343;

/// How long a correctness check, or omniORB's server process printing its IOR, may take before
/// the run fails instead of hanging.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The operation a case calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    CubeLong,
    /// `cube_seq` with a sequence of this many longs.
    CubeSeq(usize),
}

impl Op {
    /// The IDL operation name, as it goes in a Request.
    pub fn operation(self) -> &'static str {
        match self {
            Op::CubeLong => "cube_long",
            Op::CubeSeq(_) => "cube_seq",
        }
    }

    /// `cube_long` or `cube_seq/LEN`.
    pub fn label(self) -> String {
        match self {
            Op::CubeLong => "cube_long".to_owned(),
            Op::CubeSeq(n) => format!("cube_seq/{n}"),
        }
    }

    /// The `cube_seq` argument of this length: small values around zero, some negative, some
    /// whose cube wraps, so that a wrong element or byte order shows.
    pub fn seq_args(self) -> Vec<i32> {
        match self {
            Op::CubeLong => Vec::new(),
            Op::CubeSeq(n) => (0..n as i32).map(|i| i * 37 - 500).collect(),
        }
    }
}

/// The cube as IDL `long` arithmetic wraps it (two's complement), on both sides.
pub fn cube(v: i32) -> i32 {
    v.wrapping_mul(v).wrapping_mul(v)
}

/// One way of calling the cubit, measured by the caller.
pub trait Case {
    /// Makes one call and asserts that its result is exactly right (every element of a
    /// sequence), failing rather than hanging if no reply comes.
    fn check(&mut self);

    /// One call, returning something of its result for the caller to `black_box`.
    fn call(&mut self) -> i64;

    /// `iters` calls; the wall time of the whole batch (criterion's `iter_custom`).
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let mut sum = 0i64;
        for _ in 0..iters {
            sum = sum.wrapping_add(self.call());
        }
        let elapsed = start.elapsed();
        black_box(sum);
        elapsed
    }

    /// One call per element of `ns`, storing each call's nanoseconds there.
    fn record(&mut self, ns: &mut [u64]) {
        let mut sum = 0i64;
        for slot in ns.iter_mut() {
            let t = Instant::now();
            sum = sum.wrapping_add(self.call());
            *slot = t.elapsed().as_nanos() as u64;
        }
        black_box(sum);
    }
}

// ---- omniORB's server process ---------------------------------------------------------------

/// omniORB's cubit server (`benches/omniorb/cubit_server_main.cc`, built by `build.rs`) running
/// as a child process on 127.0.0.1 and a port of its choosing. Dropping this (also while a
/// panic unwinds) closes its stdin, which makes it exit, and kills it by pid if it has not
/// exited within a second; either way it is reaped.
pub struct OmniServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    ior: String,
}

impl OmniServerProcess {
    /// Starts the server and reads its IOR, waiting at most [`CHECK_TIMEOUT`] for it.
    pub fn spawn() -> OmniServerProcess {
        let exe = env!("RTORB_CUBIT_SERVER");
        let mut child = Command::new(exe)
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start omniORB's cubit server {exe}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        // The guard exists before the wait, so a timeout or a bad line still kills the child.
        let mut server = OmniServerProcess {
            child,
            stdin,
            ior: String::new(),
        };
        // A blocking read cannot time out: a thread reads the line, this one waits for it a
        // bounded time. The thread ends when the child's stdout closes (at the latest when
        // the guard kills it).
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        match rx.recv_timeout(CHECK_TIMEOUT) {
            Ok(Ok(line)) if line.starts_with("IOR:") => server.ior = line.trim_end().to_owned(),
            Ok(Ok(line)) => panic!("omniORB's cubit server printed {line:?}, not an IOR"),
            Ok(Err(e)) => panic!("reading omniORB's cubit server's IOR: {e}"),
            Err(_) => panic!("omniORB's cubit server printed no IOR within {CHECK_TIMEOUT:?}"),
        }
        server
    }

    /// The servant's stringified IOR.
    pub fn ior(&self) -> &str {
        &self.ior
    }
}

impl Drop for OmniServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // `Child::kill` signals this child's pid (SIGKILL); `wait` reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the object of a stringified IOR is reached: its first IIOP profile's address (a
/// `giop:tcp` endpoint) and object key, decoded with `orb::ior`.
pub fn iiop_target(ior: &str) -> (Endpoint, Vec<u8>) {
    let ior = parse_ior_string(ior).expect("omniORB's IOR decodes");
    let tagged = ior
        .profiles
        .iter()
        .find(|p| p.tag == ProfileId::INTERNET_IOP)
        .expect("omniORB's IOR has an IIOP profile");
    let profile = IiopProfile::from_tagged(tagged).expect("omniORB's IIOP profile decodes");
    let endpoint = Endpoint::Iiop {
        host: profile.host,
        port: profile.port,
    };
    (endpoint, profile.object_key)
}

// ---- GIOP messages ------------------------------------------------------------------------------

/// A GIOP 1.2 Request for `op` with the arguments the cases use, in this machine's byte order,
/// encoded into `buf`'s allocation.
pub fn request(buf: Vec<u8>, id: u32, key: &[u8], op: Op, args: &[i32]) -> Vec<u8> {
    let header = Header::Request(RequestHeader::new(id, key, op.operation()));
    let mut w = MessageWriter::with_buffer(buf, GiopVersion::V1_2, ByteOrder::NATIVE, &header)
        .expect("a GIOP 1.2 request header encodes");
    match op {
        Op::CubeLong => w.body().write_long(X),
        Op::CubeSeq(_) => args.encode(w.body()).expect("a sequence<long> encodes"),
    }
    w.finish().expect("the request fits")
}

/// The Reply [`CubitHandler`] sends for `request`, or `None` if it is not a cubit Request.
pub fn reply(request: &Message<'_>) -> Option<Vec<u8>> {
    let Header::Request(req) = request.header() else {
        return None;
    };
    let header = Header::Reply(ReplyHeader {
        request_id: req.request_id,
        reply_status: ReplyStatus::NoException,
        service_context: ServiceContexts::EMPTY,
    });
    let mut args = request.body_decoder();
    let mut w = MessageWriter::new(request.version(), request.order(), &header).ok()?;
    match &*req.operation {
        "cube_long" => w.body().write_long(cube(args.read_long().ok()?)),
        "cube_seq" => {
            let s = Vec::<i32>::decode(&mut args).ok()?;
            let cubed: Vec<i32> = s.into_iter().map(cube).collect();
            cubed.encode(w.body()).ok()?;
        }
        _ => return None,
    }
    w.finish().ok()
}

/// What a Reply to `id` carries: its body decoder, after checking it is a NO_EXCEPTION Reply to
/// that request.
fn reply_body<'a>(frame: &'a Frame, id: u32) -> orb::cdr::Decoder<'a> {
    let msg = frame.decode().expect("the reply decodes");
    match msg.header() {
        Header::Reply(r) if r.request_id == id && r.reply_status == ReplyStatus::NoException => {}
        h => panic!("expected a NO_EXCEPTION reply to request {id}, got {h:?}"),
    }
    msg.body_decoder()
}

/// rtorb's server side of the experiment, reduced to what the transport carries up today (no
/// POA, no skeleton yet): decode the Request header and the arguments, cube, encode the Reply.
pub struct CubitHandler;

impl Handler for CubitHandler {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        let Ok(msg) = frame.decode() else { return };
        if let Some(reply) = reply(&msg) {
            let _ = conn.send(reply);
        }
    }
}

// ---- the cases -----------------------------------------------------------------------------

/// rtorb's transport client: a Request encoded per call into a reused buffer (as a stub will),
/// `ClientConnection::call`, the Reply's header and result decoded (a fresh `Vec` for a
/// sequence, as omniORB's client unmarshals a fresh `LongSeq`).
pub struct RtorbClient {
    conn: ClientConnection,
    key: Vec<u8>,
    op: Op,
    args: Vec<i32>,
    buf: Vec<u8>,
    /// The rtorb server this client calls, if it runs in this process.
    _server: Option<Server>,
}

impl RtorbClient {
    /// To omniORB's server at `ior` (its server process).
    pub fn to_omniorb(ior: &str, op: Op) -> RtorbClient {
        let (endpoint, key) = iiop_target(ior);
        RtorbClient::connect(&endpoint, key, op, None)
    }

    /// To an `orb::transport::Server` running [`CubitHandler`] under `strategy`, started here
    /// on 127.0.0.1 and an ephemeral port. `key` is sent but not looked at (no POA yet); pass
    /// omniORB's so that the messages have the same size as in the other cases.
    pub fn to_rtorb(strategy: Strategy, key: &[u8], op: Op) -> RtorbClient {
        let endpoint = Endpoint::parse("giop:tcp:127.0.0.1:0").expect("a valid endpoint");
        let server = Server::bind(
            &[ListenerSpec::giop(endpoint)],
            strategy,
            Arc::new(CubitHandler),
            ServerOptions::default(),
        )
        .expect("rtorb's server binds 127.0.0.1");
        let bound = server.endpoints()[0].endpoint.clone();
        RtorbClient::connect(&bound, key.to_vec(), op, Some(server))
    }

    fn connect(endpoint: &Endpoint, key: Vec<u8>, op: Op, server: Option<Server>) -> RtorbClient {
        let conn = ClientConnection::connect(endpoint, Dialect::Giop, &ClientOptions::default())
            .unwrap_or_else(|e| panic!("connecting to {endpoint}: {e}"));
        RtorbClient {
            conn,
            key,
            op,
            args: op.seq_args(),
            buf: Vec::new(),
            _server: server,
        }
    }

    /// Sends one request; returns its id and the reply.
    fn round_trip(&mut self, deadline: Option<Instant>) -> (u32, Frame) {
        let id = self.conn.next_request_id();
        let req = request(
            std::mem::take(&mut self.buf),
            id,
            &self.key,
            self.op,
            &self.args,
        );
        let reply = self.conn.call(id, &req, deadline);
        self.buf = req;
        (
            id,
            reply.unwrap_or_else(|e| panic!("{} failed: {e}", self.op.label())),
        )
    }
}

impl Case for RtorbClient {
    fn check(&mut self) {
        let (id, frame) = self.round_trip(Some(Instant::now() + CHECK_TIMEOUT));
        let mut body = reply_body(&frame, id);
        match self.op {
            Op::CubeLong => assert_eq!(body.read_long().unwrap(), X_CUBED),
            Op::CubeSeq(_) => {
                let got = Vec::<i32>::decode(&mut body).unwrap();
                let want: Vec<i32> = self.args.iter().copied().map(cube).collect();
                assert_eq!(got, want);
            }
        }
    }

    fn call(&mut self) -> i64 {
        let (id, frame) = self.round_trip(None);
        let mut body = reply_body(&frame, id);
        match self.op {
            Op::CubeLong => i64::from(body.read_long().unwrap()),
            Op::CubeSeq(n) => {
                let got = Vec::<i32>::decode(&mut body).unwrap();
                assert_eq!(got.len(), n);
                got.len() as i64 + i64::from(got[0]) + i64::from(got[n - 1])
            }
        }
    }
}

/// The floor: a blocking TCP ping-pong (`TCP_NODELAY` both ends) of exactly the octets of the
/// rtorb cases' Request and Reply for the same call, with an echo thread that reads a whole
/// request and writes the reply. No encoding, decoding or dispatch on either side.
pub struct RawTcp {
    stream: TcpStream,
    request: Vec<u8>,
    reply: Vec<u8>,
    expected: Vec<u8>,
}

impl RawTcp {
    pub fn new(key: &[u8], op: Op) -> RawTcp {
        let request = request(Vec::new(), 1, key, op, &op.seq_args());
        let reply = reply(&Message::decode(&request).unwrap()).expect("a cubit request");
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let (req_len, canned) = (request.len(), reply.clone());
        std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let _ = s.set_nodelay(true);
            let mut buf = vec![0; req_len];
            // Ends when the client closes its end.
            while s.read_exact(&mut buf).is_ok() && s.write_all(&canned).is_ok() {}
        });
        let stream = TcpStream::connect(addr).expect("connecting to the echo thread");
        stream.set_nodelay(true).unwrap();
        RawTcp {
            stream,
            request,
            reply: vec![0; reply.len()],
            expected: reply,
        }
    }
}

impl Case for RawTcp {
    fn check(&mut self) {
        // Bounded only here: a receive timeout arms a kernel timer on every blocking read,
        // which the floor should not pay.
        self.stream.set_read_timeout(Some(CHECK_TIMEOUT)).unwrap();
        self.call();
        self.stream.set_read_timeout(None).unwrap();
        assert_eq!(self.reply, self.expected);
    }

    fn call(&mut self) -> i64 {
        self.stream.write_all(&self.request).unwrap();
        self.stream.read_exact(&mut self.reply).unwrap();
        i64::from(self.reply[self.reply.len() - 1])
    }
}

/// The cubit as a Rust trait: what a collocated call through an object reference competes
/// with.
pub trait CubitOps {
    fn cube_long(&self, l: i32) -> i32;
    fn cube_seq(&self, s: &[i32]) -> Vec<i32>;
}

struct CubitImpl;

impl CubitOps for CubitImpl {
    fn cube_long(&self, l: i32) -> i32 {
        cube(l)
    }
    fn cube_seq(&self, s: &[i32]) -> Vec<i32> {
        s.iter().copied().map(cube).collect()
    }
}

/// A plain call of a cube function through a `&dyn CubitOps`, hidden from the optimiser so it
/// stays a virtual call; the sequence result is a fresh `Vec`, as a collocated omniORB call
/// returns a fresh `LongSeq`.
pub struct PlainRust {
    servant: Box<dyn CubitOps>,
    op: Op,
    args: Vec<i32>,
}

impl PlainRust {
    pub fn new(op: Op) -> PlainRust {
        PlainRust {
            servant: Box::new(CubitImpl),
            op,
            args: op.seq_args(),
        }
    }
}

impl Case for PlainRust {
    fn check(&mut self) {
        match self.op {
            Op::CubeLong => assert_eq!(self.servant.cube_long(X), X_CUBED),
            Op::CubeSeq(_) => {
                let want: Vec<i32> = self.args.iter().copied().map(cube).collect();
                assert_eq!(self.servant.cube_seq(&self.args), want);
            }
        }
    }

    fn call(&mut self) -> i64 {
        let servant: &dyn CubitOps = black_box(&*self.servant);
        match self.op {
            Op::CubeLong => i64::from(servant.cube_long(black_box(X))),
            Op::CubeSeq(n) => {
                let got = servant.cube_seq(black_box(&self.args));
                got.len() as i64 + i64::from(got[0]) + i64::from(got[n - 1])
            }
        }
    }
}
