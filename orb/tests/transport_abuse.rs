//! Peers that misbehave: garbage, a 2 GiB announcement, an unknown GIOP version, a client
//! that never reads its replies. Each is disconnected (after a MessageError where the
//! protocol allows one) while a well-behaved client on another connection keeps being served.

mod transport_common;

use orb::giop::{GiopError, Message, MsgType};
use orb::transport::{
    ClientConnection, ClientOptions, CloseCause, Dialect, Endpoint, ServerOptions, Strategy,
};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use transport_common::*;

/// A raw peer on any transport.
enum Raw {
    Tcp(std::net::TcpStream),
    Unix(UnixStream),
    Shm(shmring::Channel),
}

impl Raw {
    fn connect(endpoint: &Endpoint) -> Raw {
        let r = match endpoint {
            Endpoint::Iiop { host, port } => {
                Raw::Tcp(std::net::TcpStream::connect((host.as_str(), *port)).unwrap())
            }
            Endpoint::Uiop { path } => Raw::Unix(UnixStream::connect(path).unwrap()),
            Endpoint::Shmiop { path } => Raw::Shm(
                shmring::Channel::connect(path, shmring::MIN_CAPACITY, Duration::from_secs(10))
                    .unwrap(),
            ),
        };
        let t = Some(Duration::from_secs(10));
        match &r {
            Raw::Tcp(s) => s.set_read_timeout(t).unwrap(),
            Raw::Unix(s) => s.set_read_timeout(t).unwrap(),
            Raw::Shm(c) => c.set_read_timeout(t).unwrap(),
        }
        r
    }

    fn write(&mut self, bytes: &[u8]) {
        match self {
            Raw::Tcp(s) => s.write_all(bytes).unwrap(),
            Raw::Unix(s) => s.write_all(bytes).unwrap(),
            Raw::Shm(c) => {
                let mut left = bytes;
                while !left.is_empty() {
                    left = &left[c.write(left).unwrap()..];
                }
            }
        }
    }

    /// Everything until the end of the stream (a reset counts as an end too).
    fn read_to_end(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let r = match self {
            Raw::Tcp(s) => s.read_to_end(&mut out),
            Raw::Unix(s) => s.read_to_end(&mut out),
            Raw::Shm(c) => {
                let mut buf = [0u8; 4096];
                loop {
                    match c.read(&mut buf) {
                        Ok(0) => break Ok(out.len()),
                        Ok(n) => out.extend_from_slice(&buf[..n]),
                        Err(e) => break Err(e),
                    }
                }
            }
        };
        if let Err(e) = r {
            assert_ne!(
                e.kind(),
                std::io::ErrorKind::WouldBlock,
                "the server never closed"
            );
        }
        out
    }
}

fn good_calls(conn: &ClientConnection, n: usize) {
    for _ in 0..n {
        let id = conn.next_request_id();
        let req = request(conn.dialect(), id, "echo", b"still served");
        let reply = conn.call(id, &req, deadline()).unwrap();
        assert_eq!(reply_parts(&reply), (id, b"still served".to_vec()));
    }
}

/// Sends `bad` on a raw connection and checks the server answers MessageError (in `dialect`)
/// and closes, telling the handler, while `good` keeps working.
fn refused(dialect: Dialect, bad: &[u8], expect: fn(&GiopError) -> bool) {
    let dir = SocketDir::new();
    for strategy in STRATEGIES {
        for endpoint in [tcp_any(), dir.endpoint("abuse"), dir.shm_endpoint("abuse")] {
            let handler = Echo::new();
            let (server, bound) = serve(
                endpoint,
                dialect,
                strategy,
                &handler,
                ServerOptions::default(),
            );
            let good =
                ClientConnection::connect(&bound, dialect, &ClientOptions::default()).unwrap();
            good_calls(&good, 3);
            let mut raw = Raw::connect(&bound);
            raw.write(bad);
            let answer = raw.read_to_end();
            // The MessageError the handler sent before the close.
            let msg = match dialect {
                Dialect::Giop => Message::decode(&answer),
                Dialect::Lite(order) => Message::decode_lite(&answer, order),
            }
            .unwrap_or_else(|e| panic!("{strategy:?}: answer {answer:02x?}: {e}"));
            assert_eq!(msg.msg_type(), MsgType::MESSAGE_ERROR);
            good_calls(&good, 3);
            assert!(handler.wait_closes(1));
            {
                let errors = handler.protocol_errors.lock().unwrap();
                assert_eq!(errors.len(), 1, "{strategy:?}");
                assert!(expect(&errors[0]), "{strategy:?}: {:?}", errors[0]);
                let closed = handler.closed.lock().unwrap();
                assert!(matches!(closed[0].1, CloseCause::Protocol(_)), "{closed:?}");
            }
            good_calls(&good, 3);
            drop(good);
            server.shutdown(true);
        }
    }
}

#[test]
fn garbage_is_refused_and_others_are_still_served() {
    refused(Dialect::Giop, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", |e| {
        matches!(e, GiopError::BadMagic(_))
    });
}

#[test]
fn a_two_gib_message_is_refused_at_its_header() {
    // GIOP 1.2, big-endian, Request, 0x7fffffff octets to follow — which never come.
    let mut header = b"GIOP\x01\x02\x00\x00".to_vec();
    header.extend(0x7fff_ffffu32.to_be_bytes());
    refused(
        Dialect::Giop,
        &header,
        |e| matches!(e, GiopError::MessageTooLarge { size, .. } if *size > 1 << 31),
    );
}

#[test]
fn a_two_gib_lite_message_is_refused_at_its_header() {
    let order = orb::cdr::ByteOrder::BigEndian;
    let mut header = vec![0, 3, 0, 0];
    header.extend(0x8000_0000u32.to_be_bytes());
    refused(Dialect::Lite(order), &header, |e| {
        matches!(e, GiopError::MessageTooLarge { .. })
    });
}

#[test]
fn an_unknown_giop_version_is_refused() {
    let mut header = b"GIOP\x01\x09\x00\x00".to_vec();
    header.extend(0u32.to_be_bytes());
    refused(Dialect::Giop, &header, |e| {
        matches!(e, GiopError::UnsupportedVersion { .. })
    });
}

#[test]
fn giop_sent_to_a_lite_listener_is_refused() {
    let req = request(Dialect::Giop, 1, "echo", b"");
    refused(Dialect::LITE_NATIVE, &req, |e| {
        matches!(e, GiopError::InvalidLiteHeader { .. })
    });
}

/// A client that asks for 16 MiB of replies and never reads them: the server must not
/// buffer them all. Reactor strategies cap the pending output; thread-per-connection gives up
/// after its write timeout. Either way the connection closes and a good client is served.
#[test]
fn a_client_that_never_reads_is_cut_off() {
    let dir = SocketDir::new();
    for strategy in STRATEGIES {
        for endpoint in [tcp_any(), dir.endpoint("slow")] {
            let handler = Echo::new();
            let options = ServerOptions {
                max_pending_output: 1 << 20,
                write_timeout: Duration::from_millis(200),
                ..ServerOptions::default()
            };
            let (server, bound) = serve(endpoint, Dialect::Giop, strategy, &handler, options);
            let good = ClientConnection::connect(&bound, Dialect::Giop, &ClientOptions::default())
                .unwrap();
            let mut slow = Raw::connect(&bound);
            // 255 replies of 64 KiB: more than the kernel buffers of both ends hold.
            slow.write(&request(Dialect::Giop, 1, "flood", &[255]));
            assert!(handler.wait_closes(1), "{strategy:?}");
            good_calls(&good, 3);
            let cause = handler.closed.lock().unwrap()[0].1.clone();
            match strategy {
                Strategy::ThreadPerConnection => {
                    assert!(matches!(cause, CloseCause::Io(_)), "{cause:?}")
                }
                _ => assert_eq!(cause, CloseCause::OutputLimit),
            }
            assert_eq!(handler.send_errors.lock().unwrap().len(), 1);
            drop(slow);
            drop(good);
            server.shutdown(true);
        }
    }
}
