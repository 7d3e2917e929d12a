//! What the ORB says through `tracing` when a program installs a subscriber (the library
//! installs none): a span per request on each side with operation, request id, peer, GIOP
//! version, transport and outcome; events when connections open and close; an event per
//! call with `-ORBtraceInvocations 1`. This binary installs a global subscriber that writes
//! into a buffer, so it is alone in its process.

use orb::cdr::{Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::{CollocationStrategy, Orb, OrbOptions, Servant, ServantRef};
use parking_lot::Mutex;
use std::any::Any;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use tracing_subscriber::fmt::format::FmtSpan;

const ID: &str = "IDL:Test/Adder:1.0";

struct Adder;

impl Servant for Adder {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "add" => {
                let (a, b) = (args.read_long()?, args.read_long()?);
                reply.write_long(a.wrapping_add(b));
                Ok(DispatchStatus::NoException)
            }
            _ => Err(SystemException::bad_operation()),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let out = Captured::default();
        let writer = out.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::CLOSE)
            .init();
        out
    })
}

fn text() -> String {
    String::from_utf8_lossy(&captured().0.lock()).into_owned()
}

fn add(obj: &orb::ObjectRef, a: i32, b: i32) -> Result<i32, SystemException> {
    obj.invoke("add", &|e: &mut Encoder| {
        e.write_long(a);
        e.write_long(b);
        Ok(())
    })?
    .normal_result(|d| d.read_long())
}

#[test]
fn requests_and_connections_are_traced_on_both_sides() {
    captured();
    let server = Orb::init(OrbOptions::default()).unwrap();
    let servant: ServantRef = Arc::new(Adder);
    let obj = server.activate(&server.root_poa(), servant).unwrap();
    let port = match &server.listen().unwrap()[0] {
        orb::transport::Endpoint::Iiop { port, .. } => *port,
        other => panic!("{other}"),
    };
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBtraceInvocations".into(), "1".into()])
        .unwrap();
    let client = Orb::init(o).unwrap();
    let remote = client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    assert_eq!(add(&remote, 40, 2).unwrap(), 42);
    let e = remote
        .invoke("subtract", &|_: &mut Encoder| Ok(()))
        .unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::BAD_OPERATION);
    client.shutdown(true);
    server.shutdown(true);

    let log = text();
    let lines = |needles: &[&str]| {
        log.lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .count()
    };
    let peer = format!("peer=giop:tcp:127.0.0.1:{port}");
    // The client's span of each call, closed with its outcome.
    assert_eq!(
        lines(&[
            "invoke",
            "operation=\"add\"",
            "request_id=",
            &peer,
            "giop=1.2",
            "transport=\"iiop\"",
            "outcome=ok",
            "close"
        ]),
        1,
        "{log}"
    );
    assert_eq!(
        lines(&[
            "invoke",
            "operation=\"subtract\"",
            "outcome=BAD_OPERATION (minor UnRecognisedOperationName",
            "close"
        ]),
        1,
        "{log}"
    );
    // The server's span of each request, with the client's address as peer.
    assert_eq!(
        lines(&[
            "request",
            "operation=\"add\"",
            "request_id=",
            "peer=\"127.0.0.1:",
            "giop=1.2",
            "outcome=\"ok\"",
            "close"
        ]),
        1,
        "{log}"
    );
    // -ORBtraceInvocations: an event per call.
    assert_eq!(
        lines(&["orb::invocations", "invocation", "operation=\"add\""]),
        1,
        "{log}"
    );
    // -ORBtraceLevel 25's worth: each message.
    assert!(lines(&["orb::giop", "sending request"]) >= 2, "{log}");
    assert!(
        lines(&["orb::giop", "message received", "msg_type=Request"]) >= 2,
        "{log}"
    );
    // Connections, both sides.
    assert!(
        lines(&[
            "connection opened",
            "side=\"client\"",
            &format!("127.0.0.1:{port}")
        ]) >= 1,
        "{log}"
    );
    assert!(
        lines(&["connection opened", "side=\"server\""]) >= 1,
        "{log}"
    );
    assert!(
        lines(&["connection closed", "side=\"server\""]) >= 1,
        "{log}"
    );
    assert!(
        lines(&["connection closed", "side=\"client\""]) >= 1,
        "{log}"
    );
}

#[test]
fn a_call_through_shared_memory_says_so_in_its_span() {
    captured();
    let mut o = OrbOptions::default();
    o.parse_args(
        [
            "-ORBendPoint",
            "giop:tcp:127.0.0.1:0",
            "-ORBendPoint",
            "giop:shm:",
        ]
        .map(str::to_owned),
    )
    .unwrap();
    let server = Orb::init(o).unwrap();
    let obj = server
        .activate(&server.root_poa(), Arc::new(Adder) as ServantRef)
        .unwrap();
    let shm = server
        .listen()
        .unwrap()
        .into_iter()
        .find(|e| matches!(e, orb::transport::Endpoint::Shmiop { .. }))
        .expect("a SHMIOP listener");
    let client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap();
    let remote = client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    assert_eq!(add(&remote, 1, 2).unwrap(), 3);
    assert_eq!(remote.transport(), Some("shmiop"));
    client.shutdown(true);
    server.shutdown(true);
    let log = text();
    let spans = log
        .lines()
        .filter(|l| {
            l.contains("invoke")
                && l.contains(&format!("peer={shm}"))
                && l.contains("transport=\"shmiop\"")
                && l.contains("outcome=ok")
        })
        .count();
    assert_eq!(spans, 1, "{log}");
}
