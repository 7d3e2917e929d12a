//! SHMIOP end to end between two ORBs of this process: every CDR type round trips through the
//! shared-memory rings under every server strategy, a message bigger than a ring goes through
//! in parts, and each reference chooses its transport — shared memory on the same host, a Unix
//! socket or TCP when shared memory is forbidden or cannot be connected, TCP when the
//! advertised SHMIOP listener belongs to another host.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::iop::{Ior, ProfileId};
use orb::ior::IiopProfile;
use orb::transport::Strategy;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant, ServantRef};
use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

const ID: &str = "IDL:Test/Mirror:1.0";

/// Every kind of value CDR carries, in one request and back in the reply.
#[derive(Clone, Debug, PartialEq)]
struct Values {
    octet: u8,
    boolean: bool,
    ch: char,
    wch: char,
    short: i16,
    ushort: u16,
    long: i32,
    ulong: u32,
    longlong: i64,
    ulonglong: u64,
    float: f32,
    double: f64,
    string: String,
    wstring: String,
    octets: Vec<u8>,
    longs: Vec<i32>,
    doubles: Vec<f64>,
    strings: Vec<String>,
}

impl Values {
    fn sample(i: u32) -> Values {
        Values {
            octet: i as u8,
            boolean: i % 2 == 0,
            ch: 'é',
            wch: '€',
            short: -(i as i16),
            ushort: u16::MAX - i as u16,
            long: i32::MIN + i as i32,
            ulong: u32::MAX - i,
            longlong: i64::MIN + i as i64,
            ulonglong: u64::MAX - i as u64,
            float: 1.5 * i as f32,
            double: -2.25e300 / (i as f64 + 1.0),
            string: format!("call {i}: ISO 8859-1 ümlaut"),
            wstring: format!("wide {i} ∑ 𝄞"),
            octets: (0..i * 13).map(|b| b as u8).collect(),
            longs: (0..i as i32).collect(),
            doubles: vec![f64::MIN_POSITIVE, f64::MAX, -0.0],
            strings: vec![String::new(), "a".into(), "bc".repeat(i as usize)],
        }
    }

    fn encode(&self, e: &mut Encoder) -> Result<(), EncodeError> {
        e.write_octet(self.octet);
        e.write_bool(self.boolean);
        e.write_char(self.ch)?;
        e.write_wchar(self.wch)?;
        e.write_short(self.short);
        e.write_ushort(self.ushort);
        e.write_long(self.long);
        e.write_ulong(self.ulong);
        e.write_longlong(self.longlong);
        e.write_ulonglong(self.ulonglong);
        e.write_float(self.float);
        e.write_double(self.double);
        e.write_string(&self.string)?;
        e.write_wstring(&self.wstring)?;
        e.write_octet_seq(&self.octets)?;
        e.write_length(self.longs.len())?;
        self.longs.iter().for_each(|v| e.write_long(*v));
        e.write_length(self.doubles.len())?;
        self.doubles.iter().for_each(|v| e.write_double(*v));
        e.write_length(self.strings.len())?;
        for s in &self.strings {
            e.write_string(s)?;
        }
        Ok(())
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Values, orb::cdr::DecodeError> {
        Ok(Values {
            octet: d.read_octet()?,
            boolean: d.read_bool()?,
            ch: d.read_char()?,
            wch: d.read_wchar()?,
            short: d.read_short()?,
            ushort: d.read_ushort()?,
            long: d.read_long()?,
            ulong: d.read_ulong()?,
            longlong: d.read_longlong()?,
            ulonglong: d.read_ulonglong()?,
            float: d.read_float()?,
            double: d.read_double()?,
            string: d.read_string()?.into_owned(),
            wstring: d.read_wstring()?,
            octets: d.read_octet_seq()?.to_vec(),
            longs: {
                let n = d.read_seq_len(4)?;
                (0..n).map(|_| d.read_long()).collect::<Result<_, _>>()?
            },
            doubles: {
                let n = d.read_seq_len(8)?;
                (0..n).map(|_| d.read_double()).collect::<Result<_, _>>()?
            },
            strings: {
                let n = d.read_seq_len(5)?;
                (0..n)
                    .map(|_| d.read_string().map(|s| s.into_owned()))
                    .collect::<Result<_, _>>()?
            },
        })
    }
}

/// `mirror(in Values v) -> Values`; `blob(in sequence<octet> b) -> sequence<octet>`;
/// `oneway note(in unsigned long n)`, which keeps `n`, and `notes() -> sequence<unsigned long>`,
/// the numbers kept, in the order they came.
#[derive(Default)]
struct Mirror {
    notes: std::sync::Mutex<Vec<u32>>,
}

impl Servant for Mirror {
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
            "mirror" => {
                let v = Values::decode(args)?;
                v.encode(reply)?;
            }
            "blob" => {
                let b = args.read_octet_seq()?.to_vec();
                reply.write_octet_seq(&b)?;
            }
            "note" => {
                let n = args.read_ulong()?;
                self.notes.lock().unwrap().push(n);
            }
            "notes" => {
                let notes = self.notes.lock().unwrap();
                reply.write_ulong(notes.len() as u32);
                for &n in notes.iter() {
                    reply.write_ulong(n);
                }
            }
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn mirror(obj: &ObjectRef, v: &Values) -> Values {
    obj.invoke("mirror", &|e: &mut Encoder| v.encode(e))
        .unwrap()
        .normal_result(Values::decode)
        .unwrap()
}

fn blob(obj: &ObjectRef, len: usize) {
    let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    let back = obj
        .invoke("blob", &|e: &mut Encoder| e.write_octet_seq(&data))
        .unwrap()
        .normal_result(|d| d.read_octet_seq().map(<[u8]>::to_vec))
        .unwrap();
    assert!(back == data, "a {len}-octet blob came back changed");
}

/// A server ORB listening on the given endpoints, with a Mirror object.
fn server(endpoints: &[&str], strategy: Strategy) -> (Orb, ObjectRef) {
    let mut o = OrbOptions {
        strategy,
        ..OrbOptions::default()
    };
    let mut args = Vec::new();
    for e in endpoints {
        args.push("-ORBendPoint".to_owned());
        args.push((*e).to_owned());
    }
    o.parse_args(args).unwrap();
    let orb = Orb::init(o).unwrap();
    let obj = orb
        .activate(&orb.root_poa(), Arc::new(Mirror::default()) as ServantRef)
        .unwrap();
    (orb, obj)
}

/// A client ORB with `args`, and the server's reference as it reads it.
fn client(obj: &ObjectRef, args: &[&str]) -> (Orb, ObjectRef) {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(args.iter().map(|s| (*s).to_owned())).unwrap();
    let orb = Orb::init(o).unwrap();
    let r = orb.string_to_object(&obj.to_ior_string().unwrap()).unwrap();
    (orb, r)
}

const TCP_AND_SHM: &[&str] = &["giop:tcp:127.0.0.1:0", "giop:shm:"];

#[test]
fn every_type_round_trips_over_shared_memory_under_every_server_strategy() {
    for strategy in [
        Strategy::Reactive,
        Strategy::ThreadPool { threads: 3 },
        Strategy::Adaptive(orb::transport::AdaptivePolicy::default()),
        Strategy::ThreadPerConnection,
    ] {
        let (srv, obj) = server(TCP_AND_SHM, strategy);
        let (cli, r) = client(&obj, &[]);
        assert_eq!(r.transport(), None, "not bound before the first call");
        for i in 0..40 {
            let v = Values::sample(i);
            assert_eq!(mirror(&r, &v), v, "{strategy:?}");
        }
        assert_eq!(r.transport(), Some("shmiop"), "{strategy:?}");
        // Three times a ring (1 MiB) each way: it goes through in parts.
        blob(&r, 3 << 20);
        blob(&r, 0);
        // Threads sharing the reference share its connection.
        std::thread::scope(|s| {
            for t in 0..4 {
                let r = &r;
                s.spawn(move || {
                    for i in 0..25 {
                        let v = Values::sample(t * 100 + i);
                        assert_eq!(mirror(r, &v), v);
                    }
                });
            }
        });
        cli.shutdown(true);
        srv.shutdown(true);
    }
}

/// Polls `futures` to completion on this thread, parking between wake-ups (the replies come
/// from the connection's reader thread).
fn block_on_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    while out.iter().any(Option::is_none) {
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                if let Poll::Ready(v) = std::pin::Pin::new(f).poll(&mut cx) {
                    *o = Some(v);
                }
            }
        }
        if out.iter().any(Option::is_none) {
            std::thread::park_timeout(std::time::Duration::from_millis(50));
        }
    }
    out.into_iter().flatten().collect()
}

#[test]
fn asynchronous_calls_in_flight_together_over_shared_memory() {
    let (srv, obj) = server(TCP_AND_SHM, Strategy::ThreadPool { threads: 4 });
    let (cli, r) = client(&obj, &[]);
    let values: Vec<Values> = (0..16).map(Values::sample).collect();
    let encoders: Vec<_> = values
        .iter()
        .map(|v| move |e: &mut Encoder| v.encode(e))
        .collect();
    let futures: Vec<_> = encoders
        .iter()
        .map(|enc| Box::pin(r.invoke_async("mirror", enc)))
        .collect();
    for (reply, v) in block_on_all(futures).into_iter().zip(&values) {
        assert_eq!(reply.unwrap().normal_result(Values::decode).unwrap(), *v);
    }
    assert_eq!(r.transport(), Some("shmiop"));
    cli.shutdown(true);
    srv.shutdown(true);
}

#[test]
fn a_burst_of_oneways_is_served_whole_and_in_order_under_every_server_strategy() {
    // The client publishes oneways without waiting; the server reads what the ring holds and
    // serves each whole message in order, in place from the ring under thread per connection.
    // A small ring makes the burst wrap around it many times and fill it.
    for strategy in [
        Strategy::ThreadPerConnection,
        Strategy::Reactive,
        Strategy::ThreadPool { threads: 2 },
    ] {
        let (srv, obj) = server(TCP_AND_SHM, strategy);
        let (cli, r) = client(&obj, &["-ORBshmRingSize", "4096"]);
        let n = 5_000u32;
        for i in 0..n {
            r.invoke_oneway("note", &|e: &mut Encoder| {
                e.write_ulong(i);
                Ok(())
            })
            .unwrap();
        }
        // A twoway after them on the same connection is served after them.
        let notes = r
            .invoke("notes", &|_: &mut Encoder| Ok(()))
            .unwrap()
            .normal_result(|d| {
                let len = d.read_ulong()?;
                (0..len)
                    .map(|_| d.read_ulong())
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        assert_eq!(notes, (0..n).collect::<Vec<_>>(), "under {strategy:?}");
        assert_eq!(r.transport(), Some("shmiop"));
        cli.shutdown(true);
        srv.shutdown(true);
    }
}

#[test]
fn a_small_ring_carries_messages_many_times_its_size() {
    let (srv, obj) = server(TCP_AND_SHM, Strategy::Reactive);
    let (cli, r) = client(&obj, &["-ORBshmRingSize", "4096"]);
    blob(&r, 1 << 20);
    let v = Values::sample(30);
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("shmiop"));
    cli.shutdown(true);
    srv.shutdown(true);
}

#[test]
fn shared_memory_can_be_forbidden_and_gives_way_to_a_unix_socket_then_tcp() {
    let dir = TempDir::new("choice");
    let unix = format!("giop:unix:{}", dir.0.join("uiop").display());
    let (srv, obj) = server(
        &["giop:tcp:127.0.0.1:0", &unix, "giop:shm:"],
        Strategy::ThreadPerConnection,
    );
    let v = Values::sample(7);
    for (args, expect) in [
        (&[][..], "shmiop"),
        (&["-ORBshmiop", "0"][..], "uiop"),
        (&["-ORBshmiop", "0", "-ORBpreferUnix", "0"][..], "iiop"),
    ] {
        let (cli, r) = client(&obj, args);
        assert_eq!(mirror(&r, &v), v);
        assert_eq!(r.transport(), Some(expect), "{args:?}");
        cli.shutdown(true);
    }
    srv.shutdown(true);
}

#[test]
fn a_shared_memory_listener_that_cannot_be_reached_gives_way_to_tcp() {
    let dir = TempDir::new("gone");
    let path = dir.0.join("shm.sock");
    let shm = format!("giop:shm:{}", path.display());
    let (srv, obj) = server(&["giop:tcp:127.0.0.1:0", &shm], Strategy::Reactive);
    // The component still advertises the socket, but no one can connect to it any more.
    std::fs::remove_file(&path).unwrap();
    let (cli, r) = client(&obj, &[]);
    let v = Values::sample(3);
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("iiop"));
    cli.shutdown(true);
    srv.shutdown(true);
}

#[test]
fn a_reference_that_gave_way_to_tcp_chooses_shared_memory_again_once_it_is_back() {
    let dir = TempDir::new("back");
    let path = dir.0.join("shm.sock");
    let aside = dir.0.join("aside.sock");
    let shm = format!("giop:shm:{}", path.display());
    let (srv, obj) = server(
        &["giop:tcp:127.0.0.1:0", &shm],
        Strategy::ThreadPerConnection,
    );
    // The listener's socket is out of reach at the reference's first call...
    std::fs::rename(&path, &aside).unwrap();
    let (cli, r) = client(&obj, &[]);
    let v = Values::sample(4);
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("iiop"));
    // ... and back at once: the calls of the next seconds stay on TCP, paying no connect
    // attempt each, ...
    std::fs::rename(&aside, &path).unwrap();
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("iiop"));
    // ... and the first call after that chooses again, the cheapest way.
    std::thread::sleep(std::time::Duration::from_millis(5_300));
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("shmiop"));
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("shmiop"));
    // A reference whose local way is still gone keeps working over TCP.
    std::fs::rename(&path, &aside).unwrap();
    let (cli2, r2) = client(&obj, &[]);
    assert_eq!(mirror(&r2, &v), v);
    assert_eq!(r2.transport(), Some("iiop"));
    cli2.shutdown(true);
    cli.shutdown(true);
    srv.shutdown(true);
}

/// The notes `r`'s object has taken.
fn notes(r: &ObjectRef) -> Vec<u32> {
    r.invoke("notes", &|_: &mut Encoder| Ok(()))
        .unwrap()
        .normal_result(|d| {
            let len = d.read_ulong()?;
            (0..len)
                .map(|_| d.read_ulong())
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
}

fn note(r: &ObjectRef, i: u32) -> Result<(), SystemException> {
    r.invoke_oneway("note", &|e: &mut Encoder| {
        e.write_ulong(i);
        Ok(())
    })
}

/// A reference's calls take the connection their last call went on without asking the
/// connection cache, while it is usable. A server that goes away (in order, or its
/// connection closed under the client) leaves that connection dead: the next call sees it
/// as the cache would, and goes on a new connection — to the server restarted on the same
/// endpoints, twoways and oneways alike.
#[test]
fn a_remembered_connection_that_died_is_replaced_and_the_call_succeeds() {
    let dir = TempDir::new("restart");
    let shm = format!("giop:shm:{}", dir.0.join("shm.sock").display());
    let start = |port: u16| {
        let mut o = OrbOptions {
            strategy: Strategy::ThreadPerConnection,
            ..OrbOptions::default()
        };
        o.parse_args([
            "-ORBendPoint".to_owned(),
            format!("giop:tcp:127.0.0.1:{port}"),
            "-ORBendPoint".to_owned(),
            shm.clone(),
        ])
        .unwrap();
        let orb = Orb::init(o).unwrap();
        let obj = orb
            .register_well_known("Mirror", Arc::new(Mirror::default()) as ServantRef)
            .unwrap();
        let port = IiopProfile::from_tagged(&obj.ior().profiles[0])
            .unwrap()
            .port;
        (orb, obj, port)
    };
    let cases = [
        (&[][..], "shmiop", false),
        (&[][..], "shmiop", true),
        // Not a oneway first over TCP: one written into a connection the server closed
        // less than the idle check's 1 ms before is lost, nobody told (README, "What
        // becomes of a oneway"), with or without the cache; a twoway is retried.
        (&["-ORBshmiop", "0"][..], "iiop", false),
    ];
    for (args, transport, oneways_first) in cases {
        let (first, obj, port) = start(0);
        let (cli, r) = client(&obj, args);
        // A second reference to the same object shares the connection.
        let other = cli.string_to_object(&obj.to_ior_string().unwrap()).unwrap();
        note(&r, 1).unwrap();
        note(&other, 2).unwrap();
        assert_eq!(notes(&r), [1, 2]);
        assert_eq!(r.transport(), Some(transport));

        first.shutdown(true);
        drop(first);
        let (second, _, again) = start(port);
        assert_eq!(again, port);
        if oneways_first {
            // A oneway finds its remembered connection dead (or is refused on it and
            // retried once): it reaches the new server.
            note(&r, 3).unwrap();
        }
        let v = Values::sample(5);
        assert_eq!(mirror(&r, &v), v);
        assert_eq!(mirror(&other, &v), v);
        note(&other, 4).unwrap();
        let expect: &[u32] = if oneways_first { &[3, 4] } else { &[4] };
        assert_eq!(
            notes(&r),
            expect,
            "{transport}, oneways first: {oneways_first}"
        );
        assert_eq!(r.transport(), Some(transport));

        cli.shutdown(true);
        second.shutdown(true);
    }
}

/// A oneway's timeout counts from its first wait: one the ring takes at once reads no clock,
/// but one that finds the ring full (its server stuck in an upcall) still gives up at the
/// call timeout, with TIMEOUT, COMPLETED_NO — and is then not executed.
#[test]
fn a_oneway_that_finds_the_ring_full_times_out_completed_no() {
    let mut o = OrbOptions {
        strategy: Strategy::ThreadPerConnection,
        ..OrbOptions::default()
    };
    o.parse_args(
        TCP_AND_SHM
            .iter()
            .flat_map(|e| ["-ORBendPoint".to_owned(), (*e).to_owned()]),
    )
    .unwrap();
    let srv = Orb::init(o).unwrap();
    let servant = Arc::new(Mirror::default());
    let obj = srv
        .activate(&srv.root_poa(), servant.clone() as ServantRef)
        .unwrap();
    let (cli, r) = client(
        &obj,
        &[
            "-ORBshmRingSize",
            "4096",
            "-ORBclientCallTimeOutPeriod",
            "200",
        ],
    );
    note(&r, 0).unwrap();
    assert_eq!(notes(&r), [0]);
    assert_eq!(r.transport(), Some("shmiop"));
    // The server's reader blocks in the first note's upcall; the ring fills behind it.
    let held = servant.notes.lock().unwrap();
    let mut timed_out = None;
    for i in 1..100_000 {
        match note(&r, i) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.kind, orb::exception::SystemExceptionKind::TIMEOUT, "{e}");
                assert_eq!(e.completed, orb::giop::CompletionStatus::No, "{e}");
                timed_out = Some(i);
                break;
            }
        }
    }
    drop(held);
    let timed_out = timed_out.expect("a oneway into a full ring timed out");
    // Calls go on (on a new connection if that one broke), and the oneway that timed out
    // was never executed.
    let v = Values::sample(2);
    assert_eq!(mirror(&r, &v), v);
    assert!(!notes(&r).contains(&timed_out));
    cli.shutdown(true);
    srv.shutdown(true);
}

/// Local clients that connect to the SHMIOP socket and never send their segment hold up no
/// one: each waits for its segment on a thread of its own, not on the thread that accepts (which
/// under the reactive strategy is the whole server). Eight of them would have held the accepting
/// thread for the handshake's 2 s each, far past the proper client's 5 s call timeout.
#[test]
fn clients_that_never_send_their_segment_hold_up_no_one() {
    for strategy in [Strategy::Reactive, Strategy::ThreadPerConnection] {
        let dir = TempDir::new("silent");
        let path = dir.0.join("shm.sock");
        let shm = format!("giop:shm:{}", path.display());
        let (srv, obj) = server(&["giop:tcp:127.0.0.1:0", &shm], strategy);
        let silent: Vec<_> = (0..8)
            .map(|_| std::os::unix::net::UnixStream::connect(&path).unwrap())
            .collect();
        let (cli, r) = client(&obj, &["-ORBclientCallTimeOutPeriod", "5000"]);
        for i in 0..10 {
            let v = Values::sample(i);
            assert_eq!(mirror(&r, &v), v, "{strategy:?}");
        }
        assert_eq!(r.transport(), Some("shmiop"), "{strategy:?}");
        drop(silent);
        cli.shutdown(true);
        srv.shutdown(true);
    }
}

#[test]
fn the_component_is_ours_and_names_this_host() {
    let (srv, obj) = server(TCP_AND_SHM, Strategy::Reactive);
    let ior = obj.ior().clone();
    let profile = IiopProfile::from_tagged(&ior.profiles[0]).unwrap();
    let c = profile
        .component(orb::TAG_RTORB_SHMIOP)
        .expect("SHMIOP advertised");
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let text = String::from_utf8_lossy(&c.data);
    assert!(text.contains(boot_id.trim()), "{text:?}");
    assert!(text.contains("rtorb-shm-"), "{text:?}");
    // catior-style descriptions name it.
    let described = orb::ior::describe(&ior, Default::default()).unwrap();
    assert!(
        described.contains(&format!("TAG_RTORB_SHMIOP host {}", boot_id.trim())),
        "{described}"
    );
    // Another host's listener (another boot id) is not tried: TCP.
    let (cli, r) = client(&with_host_id(&ior, boot_id.trim(), "not-this-host"), &[]);
    let v = Values::sample(1);
    assert_eq!(mirror(&r, &v), v);
    assert_eq!(r.transport(), Some("iiop"));
    cli.shutdown(true);
    srv.shutdown(true);
}

/// `ior` with the SHMIOP component's host id replaced (same length, so the encapsulation's
/// lengths stay right).
fn with_host_id(ior: &Ior, from: &str, to: &str) -> ObjectRef {
    let to = format!("{to:-<width$}", width = from.len());
    let mut ior = ior.clone();
    for p in ior
        .profiles
        .iter_mut()
        .filter(|p| p.tag == ProfileId::INTERNET_IOP)
    {
        let mut profile = IiopProfile::from_tagged(p).unwrap();
        for c in profile
            .components
            .iter_mut()
            .filter(|c| c.tag == orb::TAG_RTORB_SHMIOP)
        {
            let at = c
                .data
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap();
            c.data[at..at + from.len()].copy_from_slice(to.as_bytes());
        }
        *p = profile.to_tagged(orb::cdr::ByteOrder::NATIVE).unwrap();
    }
    ObjectRef::from_ior(ior)
}

/// A fresh directory for sockets, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("rtorb-shmiop-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
