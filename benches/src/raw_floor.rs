//! The floor of a cubit server: a process with one thread on a mio reactor (epoll) that
//! frames GIOP messages and answers every `cube_long` Request with canned octets, its
//! request id copied in — no decoding, no object adapter, no servant. No ORB's server can do
//! less for a twoway and still answer it, so its throughput with many clients is what any
//! server strategy could reach here: the measure of how far a target above omniORB's is
//! reachable at all on this machine.
//!
//! It serves only the cubit's `cube_long` (every Request that expects a reply gets the reply
//! to `cube_long(X)`) and drops oneways; it answers nothing else (a LocateRequest, a
//! CloseConnection) and is not an ORB. Started as this executable again with
//! [`RAW_FLOOR_ENV`] set (see [`crate::cubit::serve_if_asked`]).

use crate::cubit::{reply, request, Op, ServerProcess};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::{GiopHeader, Message};
use orb::ior::{IiopProfile, Ior};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::process::Command;

/// Set (to anything) in the environment of this executable started again: it serves as the
/// floor server instead of running its `main`.
pub const RAW_FLOOR_ENV: &str = "RTORB_BENCH_RAW_FLOOR";

/// The object key its IOR carries (the server looks at no key).
const KEY: &[u8] = b"raw-floor";

const LISTENER: Token = Token(usize::MAX);

/// More octets than this of one unfinished message close its connection.
const MAX_MESSAGE: usize = 1 << 20;

/// The floor server's process, started and reaped as rtorb's server processes are.
pub fn start() -> ServerProcess {
    let exe = std::env::current_exe().expect("the path of this executable");
    let mut cmd = Command::new(exe);
    cmd.env(RAW_FLOOR_ENV, "1");
    ServerProcess::spawn(cmd, "the raw floor server")
}

/// Serves as the floor server if this process was started as one: prints its IOR, serves
/// on a thread of its own, and exits when its standard input ends.
pub fn serve_if_asked() {
    if std::env::var_os(RAW_FLOOR_ENV).is_none() {
        return;
    }
    match bind() {
        Ok((listener, ior)) => {
            println!("{ior}");
            let _ = io::stdout().flush();
            std::thread::spawn(move || {
                if let Err(e) = serve(listener) {
                    eprintln!("raw floor server: {e}");
                    std::process::exit(1);
                }
            });
            let mut sink = Vec::new();
            let _ = io::stdin().read_to_end(&mut sink);
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("raw floor server: {e}");
            std::process::exit(1);
        }
    }
}

fn bind() -> io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
    let port = listener.local_addr()?.port();
    let profile = IiopProfile::new(GiopVersion::V1_2, "127.0.0.1", port, KEY);
    let ior = Ior::with_iiop_profile("IDL:CubitApp/Cubit:1.0", &profile, ByteOrder::NATIVE)
        .and_then(|ior| ior.to_ior_string())
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((listener, ior))
}

/// A client's connection: what it sent that is not a whole message yet, and replies the
/// socket did not take yet.
struct Conn {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
}

fn serve(mut listener: TcpListener) -> io::Result<()> {
    // The reply to `cube_long(X)` in this machine's byte order (the order rtorb's client
    // sends in, so a request id copies over unchanged).
    let canned = reply(&Message::decode(&request(0, KEY, Op::CubeLong)).expect("a request"))
        .expect("the reply to a cubit request");
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(256);
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => r?,
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            stream.set_nodelay(true)?;
                            let token = Token(next);
                            next += 1;
                            poll.registry()
                                .register(&mut stream, token, Interest::READABLE)?;
                            let conn = Conn {
                                stream,
                                input: Vec::new(),
                                output: Vec::new(),
                            };
                            conns.insert(token, conn);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let Some(conn) = conns.get_mut(&event.token()) else {
                continue;
            };
            if !serve_ready(conn, &mut buf, &canned) {
                let mut gone = conns.remove(&event.token()).expect("looked up above");
                let _ = poll.registry().deregister(&mut gone.stream);
                continue;
            }
            // Ask for writability only while replies wait for room.
            let interest = if conn.output.is_empty() {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            poll.registry()
                .reregister(&mut conn.stream, event.token(), interest)?;
        }
    }
}

/// Reads what `conn` has until the socket is empty, answers every whole Request that expects
/// a reply, and writes what replies the socket takes; false when the connection is done.
fn serve_ready(conn: &mut Conn, buf: &mut [u8], canned: &[u8]) -> bool {
    loop {
        match conn.stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => {
                conn.input.extend_from_slice(&buf[..n]);
                let mut at = 0;
                while let Some(len) = whole_giop_message(&conn.input[at..]) {
                    let message = &conn.input[at..at + len];
                    if expects_reply(message) {
                        let start = conn.output.len();
                        conn.output.extend_from_slice(canned);
                        // GIOP 1.2 Request and Reply both have the request id at octet 12.
                        conn.output[start + 12..start + 16].copy_from_slice(&message[12..16]);
                    }
                    at += len;
                }
                conn.input.drain(..at);
                if conn.input.len() > MAX_MESSAGE {
                    // Not a cubit client: no message of one is this long.
                    return false;
                }
                if n < buf.len() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    while !conn.output.is_empty() {
        match conn.stream.write(&conn.output) {
            Ok(0) => return false,
            Ok(n) => {
                conn.output.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Whether a GIOP 1.2 message is a Request that expects a reply (message type 0; the
/// response flags follow the 12-octet header and the 4-octet request id, 0 for a oneway).
pub(crate) fn expects_reply(message: &[u8]) -> bool {
    message.len() > 16 && message[7] == 0 && message[16] != 0
}

/// The length of the GIOP message at the start of `buf`, if all of it is there (a header
/// that does not parse never completes: its connection ends at `MAX_MESSAGE`).
pub(crate) fn whole_giop_message(buf: &[u8]) -> Option<usize> {
    let len = usize::try_from(GiopHeader::parse(buf).ok()?.message_len()).ok()?;
    (buf.len() >= len).then_some(len)
}
