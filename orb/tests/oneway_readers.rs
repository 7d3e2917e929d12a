//! A thread-per-connection server's reading thread waits under `SCHED_BATCH` once its last
//! reads were a flood of oneways (so its client's sends stop preempting the client on a shared
//! core), and goes back to `SCHED_OTHER` as soon as it answers a twoway; oneways that come one
//! at a time, with pauses, leave it alone; `-ORBbatchOnewayReaders 0` keeps it under
//! `SCHED_OTHER`. (The rule's timing is unit-tested in `oneway_wait`.)
//!
//! The servant reports the scheduling policy of the thread it runs on, which is the reading
//! thread itself (thread per connection runs each request on the thread that read it): a
//! twoway read right after the oneways runs under the policy its thread waited in. The client
//! writes the GIOP itself, so that it knows what each read of the server brings: each of its
//! writes is read whole, since it writes the next only once the server has run the one before.

use orb::cdr::{ByteOrder, Decoder, Encoder, GiopVersion};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::giop::{Header, MessageWriter, RequestHeader, ResponseFlags};
use orb::iop::ProfileId;
use orb::ior::IiopProfile;
use orb::transport::{ClientConnection, ClientOptions, Dialect, Endpoint};
use orb::{CollocationStrategy, Orb, OrbOptions, Servant};
use std::any::Any;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ID: &str = "IDL:Test/Readers:1.0";

/// `SCHED_OTHER` and `SCHED_BATCH` in `/proc/.../stat`'s `policy` field.
const SCHED_OTHER: u32 = 0;
const SCHED_BATCH: u32 = 3;

/// `interface Readers { oneway void ping(); unsigned long pings(); unsigned long policy(); }`
#[derive(Default)]
struct Readers {
    pings: AtomicU32,
}

/// The calling thread's scheduling policy (`/proc/thread-self/stat`, field 41).
fn own_policy() -> u32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(38).unwrap().parse().unwrap()
}

impl Servant for Readers {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID
    }
    fn dispatch(
        &self,
        operation: &str,
        _args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "ping" => {
                self.pings.fetch_add(1, Ordering::SeqCst);
            }
            "pings" => reply.write_ulong(self.pings.load(Ordering::SeqCst)),
            "policy" => reply.write_ulong(own_policy()),
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn orb(args: &str) -> Orb {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(args.split_whitespace().map(str::to_owned))
        .unwrap();
    Orb::init(o).unwrap()
}

/// A GIOP 1.2 Request of `operation` (no arguments) to the object `key`.
fn request(id: u32, key: &[u8], operation: &str, response_expected: bool) -> Vec<u8> {
    let mut header = RequestHeader::new(id, key, operation);
    header.response_flags = ResponseFlags::from_response_expected(response_expected);
    MessageWriter::new(
        GiopVersion::V1_2,
        ByteOrder::NATIVE,
        &Header::Request(header),
    )
    .unwrap()
    .finish()
    .unwrap()
}

/// A connection of the test's own to the servant's object, whose key it addresses.
struct Client {
    conn: ClientConnection,
    key: Vec<u8>,
}

impl Client {
    /// A twoway `operation` answering an unsigned long.
    fn ulong(&self, operation: &str) -> u32 {
        let id = self.conn.next_request_id();
        let deadline = Some(Instant::now() + Duration::from_secs(30));
        let reply = self
            .conn
            .call(id, &request(id, &self.key, operation, true), deadline)
            .unwrap();
        let msg = reply.decode().unwrap();
        u32::from_ne_bytes(msg.body()[..4].try_into().unwrap())
    }

    /// `n` oneway `ping`s in one write.
    fn pings(&self, n: u32) {
        let mut write = Vec::new();
        for _ in 0..n {
            let id = self.conn.next_request_id();
            write.extend(request(id, &self.key, "ping", false));
        }
        self.conn.send_oneway(&write).unwrap();
    }
}

/// The policy a twoway runs under, read after `writes` writes of `per_write` oneways each (each
/// written `pause` after the server has run the one before), and the policy of the twoway
/// after it.
fn policies_after_oneways(
    server_args: &str,
    writes: u32,
    per_write: u32,
    pause: Duration,
) -> (u32, u32) {
    let server = orb(&format!("-ORBthreadStrategy connection {server_args}"));
    let servant = Arc::new(Readers::default());
    let target = server
        .activate(&server.root_poa(), servant.clone())
        .unwrap();
    let profile = target
        .ior()
        .profiles
        .iter()
        .find(|p| p.tag == ProfileId::INTERNET_IOP)
        .map(|p| IiopProfile::from_tagged(p).unwrap())
        .expect("an IIOP profile");
    let endpoint = Endpoint::Iiop {
        host: profile.host.clone(),
        port: profile.port,
    };
    let client = Client {
        conn: ClientConnection::connect(&endpoint, Dialect::Giop, &ClientOptions::default())
            .unwrap(),
        key: profile.object_key.clone(),
    };
    // Connected, and answered: the reader starts under SCHED_OTHER.
    assert_eq!(client.ulong("policy"), SCHED_OTHER);
    let watchdog = Instant::now() + Duration::from_secs(30);
    for write in 1..=writes {
        client.pings(per_write);
        while servant.pings.load(Ordering::SeqCst) < write * per_write {
            assert!(Instant::now() < watchdog, "the oneways were not all served");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(pause);
    }
    let after_oneways = client.ulong("policy");
    let after_twoway = client.ulong("policy");
    assert_eq!(client.ulong("pings"), writes * per_write);
    server.shutdown(true);
    (after_oneways, after_twoway)
}

#[test]
fn a_reader_of_oneways_waits_under_sched_batch_and_answers_twoways_under_sched_other() {
    let (after_oneways, after_twoway) = policies_after_oneways("", 6, 3, Duration::ZERO);
    assert_eq!(
        after_oneways, SCHED_BATCH,
        "after six reads of three oneways each"
    );
    assert_eq!(after_twoway, SCHED_OTHER, "once it has answered a twoway");
}

#[test]
fn a_few_reads_of_oneways_do_not_move_it() {
    // Fewer such reads in a row than it takes (four): a client that mixes oneways and
    // twoways keeps its reader under SCHED_OTHER.
    assert_eq!(
        policies_after_oneways("", 3, 3, Duration::ZERO),
        (SCHED_OTHER, SCHED_OTHER)
    );
}

#[test]
fn oneways_that_come_one_at_a_time_do_not_move_it() {
    // A sender that does not outpace the reader (an event channel's pushes, say): each read
    // brings one message, well after the one before, and the reader keeps its prompt wake-up.
    let pause = Duration::from_millis(2);
    assert_eq!(
        policies_after_oneways("", 8, 1, pause),
        (SCHED_OTHER, SCHED_OTHER)
    );
}

#[test]
fn the_option_turns_it_off() {
    assert_eq!(
        policies_after_oneways("-ORBbatchOnewayReaders 0", 6, 3, Duration::ZERO),
        (SCHED_OTHER, SCHED_OTHER)
    );
}
