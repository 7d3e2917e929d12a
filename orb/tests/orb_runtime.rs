//! The ORB end to end over loopback, with a hand-written servant (what generated `Tie`s do):
//! requests dispatched through the POA, replies, user and system exceptions, `_is_a`,
//! LocateRequest, LOCATION_FORWARD, stale keys, POA manager states, timeouts, reconnection
//! after the server closed the connection, and garbage from a peer.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::object::ReplyOutcome;
use orb::poa::{IdAssignment, Lifespan, Policy};
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant, ServantRef};
use std::any::Any;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "IDL:Test/Calc:1.0";

/// `interface Calc { long add(in long a, in long b); void fail(in long how) raises (Oops);
/// void sleep(in unsigned long ms); oneway void bump(); long count(); }`
#[derive(Default)]
struct Calc {
    bumps: AtomicU32,
}

impl Servant for Calc {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID || id == "IDL:omg.org/CORBA/Object:1.0"
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "add" => {
                let a = args.read_long()?;
                let b = args.read_long()?;
                reply.write_long(a.wrapping_add(b));
                Ok(DispatchStatus::NoException)
            }
            "fail" => match args.read_long()? {
                0 => {
                    reply.write_string("IDL:Test/Oops:1.0").unwrap();
                    reply.write_long(42);
                    Ok(DispatchStatus::UserException)
                }
                1 => Err(SystemException::new(
                    SystemExceptionKind::BAD_PARAM,
                    0x4f4d_0007,
                    CompletionStatus::Yes,
                )),
                _ => panic!("servant bug"),
            },
            "sleep" => {
                std::thread::sleep(Duration::from_millis(args.read_ulong()? as u64));
                Ok(DispatchStatus::NoException)
            }
            "bump" => {
                self.bumps.fetch_add(1, Ordering::SeqCst);
                Ok(DispatchStatus::NoException)
            }
            "count" => {
                reply.write_ulong(self.bumps.load(Ordering::SeqCst));
                Ok(DispatchStatus::NoException)
            }
            "_is_a" => {
                let id = args.read_string()?;
                reply.write_bool(self.is_a(&id));
                Ok(DispatchStatus::NoException)
            }
            "_non_existent" | "_not_existent" => {
                reply.write_bool(false);
                Ok(DispatchStatus::NoException)
            }
            _ => Err(SystemException::bad_operation()),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn remote_orb() -> Orb {
    Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap()
}

fn add(obj: &ObjectRef, a: i32, b: i32) -> Result<i32, SystemException> {
    obj.invoke("add", &|e: &mut Encoder| -> Result<(), EncodeError> {
        e.write_long(a);
        e.write_long(b);
        Ok(())
    })?
    .normal_result(|d| d.read_long())
}

fn serve() -> (Orb, ObjectRef, ServantRef) {
    let orb = remote_orb();
    let servant: ServantRef = Arc::new(Calc::default());
    let obj = orb.activate(&orb.root_poa(), servant.clone()).unwrap();
    (orb, obj, servant)
}

/// A client ORB in the same process, reaching the server's IOR as another process would.
fn client_ref(server_obj: &ObjectRef) -> (Orb, ObjectRef) {
    let client = remote_orb();
    let obj = client
        .string_to_object(&server_obj.to_ior_string().unwrap())
        .unwrap();
    (client, obj)
}

#[test]
fn twoway_calls_in_every_giop_version_and_giop_lite() {
    for version in ["1.0", "1.1", "1.2"] {
        let mut o = OrbOptions {
            collocation: CollocationStrategy::None,
            ..OrbOptions::default()
        };
        o.parse_args(["-ORBmaxGIOPVersion".into(), version.into()])
            .unwrap();
        let orb = Orb::init(o).unwrap();
        let obj = orb
            .activate(&orb.root_poa(), Arc::new(Calc::default()))
            .unwrap();
        assert_eq!(add(&obj, 40, 2).unwrap(), 42, "GIOP {version}");
        assert!(obj.is_a(ID).unwrap());
        assert!(!obj.is_a("IDL:Other:1.0").unwrap());
        assert!(!obj.non_existent().unwrap());
        assert!(obj.locate().unwrap());
        orb.shutdown(true);
    }
    // GIOP-lite: the server also listens for lite, the client prefers it.
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(
        "-ORBliteEndPoint giop:tcp:127.0.0.1:0 -ORBgiopLite 1"
            .split(' ')
            .map(String::from),
    )
    .unwrap();
    let orb = Orb::init(o).unwrap();
    let obj = orb
        .activate(&orb.root_poa(), Arc::new(Calc::default()))
        .unwrap();
    assert_eq!(add(&obj, 1, 2).unwrap(), 3);
    assert!(format!("{obj:?}").contains("(GIOP-lite)"), "{obj:?}");
    // A client that does not enable GIOP-lite uses the plain GIOP listener.
    let (_client, plain) = client_ref(&obj);
    assert_eq!(add(&plain, 2, 2).unwrap(), 4);
    assert!(!format!("{plain:?}").contains("GIOP-lite"), "{plain:?}");
}

#[test]
fn user_and_system_exceptions_and_servant_panics_reach_the_caller() {
    let (_server, obj, _) = serve();
    let (_client, obj) = client_ref(&obj);
    let fail = |how: i32| {
        obj.invoke("fail", &|e: &mut Encoder| {
            e.write_long(how);
            Ok(())
        })
    };
    let reply = fail(0).unwrap();
    match reply.outcome().unwrap() {
        ReplyOutcome::UserException { id, mut body } => {
            assert_eq!(id, "IDL:Test/Oops:1.0");
            assert_eq!(body.read_string().unwrap(), "IDL:Test/Oops:1.0");
            assert_eq!(body.read_long().unwrap(), 42);
        }
        ReplyOutcome::Normal(_) => panic!("expected a user exception"),
    }
    // An operation that declares no exceptions gets UNKNOWN for a user exception.
    let e = reply.normal_result(|d| d.read_long()).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::UNKNOWN);

    let e = fail(1).unwrap_err();
    assert_eq!(
        e,
        SystemException::new(
            SystemExceptionKind::BAD_PARAM,
            0x4f4d_0007,
            CompletionStatus::Yes
        )
    );
    let e = fail(2).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::UNKNOWN);
    assert_eq!(e.completed, CompletionStatus::Maybe);
    // The server survived its servant's panic.
    assert_eq!(add(&obj, 2, 2).unwrap(), 4);

    let e = obj.invoke("nope", &|_| Ok(())).unwrap_err();
    assert_eq!(e, SystemException::bad_operation());
    // Arguments that do not decode: MARSHAL, completed NO.
    let e = obj
        .invoke("add", &|e: &mut Encoder| {
            e.write_long(1);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::MARSHAL);
    assert_eq!(e.completed, CompletionStatus::No);
}

#[test]
fn deactivated_objects_and_poa_manager_states() {
    let (server, obj, servant) = serve();
    let (_client, remote) = client_ref(&obj);
    let poa = server.root_poa();
    let id = poa.servant_to_id(&servant).unwrap();

    poa.manager().discard_requests().unwrap();
    let e = add(&remote, 1, 1).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::TRANSIENT);
    assert_eq!(e.completed, CompletionStatus::No);

    // Holding queues the request until the manager becomes active again.
    poa.manager().hold_requests().unwrap();
    let waiter = {
        let remote = remote.clone();
        std::thread::spawn(move || add(&remote, 5, 5))
    };
    std::thread::sleep(Duration::from_millis(50));
    poa.manager().activate().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 10);

    poa.deactivate_object(&id).unwrap();
    let e = add(&remote, 1, 1).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::OBJECT_NOT_EXIST);
    assert!(remote.non_existent().unwrap());
    assert!(!remote.locate().unwrap());
    // A new object in the same slot is not reached by the stale reference.
    let other = server.activate(&poa, Arc::new(Calc::default())).unwrap();
    assert_eq!(add(&other, 1, 1).unwrap(), 2);
    assert_eq!(
        add(&remote, 1, 1).unwrap_err().kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
    );
}

/// The servant a call reaches, told by the count it answers (each test servant's differs).
fn count(obj: &ObjectRef) -> Result<u32, SystemException> {
    obj.invoke("count", &|_| Ok(()))?
        .normal_result(|d| d.read_ulong())
}

/// A servant whose `count` answers `n`.
fn counting(n: u32) -> Arc<Calc> {
    Arc::new(Calc {
        bumps: AtomicU32::new(n),
    })
}

/// The server's threads remember their last dispatch decision: every change made between two
/// requests on one connection must still be seen by the second, as if nothing were
/// remembered.
#[test]
fn every_poa_change_between_two_requests_on_a_connection_is_seen() {
    let server = remote_orb();
    let root = server.root_poa();
    let poa = root
        .create_poa(
            "memo",
            Some(root.manager().clone()),
            &[
                Policy::Lifespan(Lifespan::Persistent),
                Policy::IdAssignment(IdAssignment::UserId),
            ],
        )
        .unwrap();
    let first = counting(1);
    let obj = server
        .activate_with_id(&poa, b"calc", first.clone())
        .unwrap();
    let (_client, remote) = client_ref(&obj);
    assert_eq!(count(&remote).unwrap(), 1);
    assert_eq!(count(&remote).unwrap(), 1);

    // The manager's states, each between two requests that reached the object.
    root.manager().discard_requests().unwrap();
    let e = count(&remote).unwrap_err();
    assert_eq!(
        (e.kind, e.completed),
        (SystemExceptionKind::TRANSIENT, CompletionStatus::No)
    );
    root.manager().activate().unwrap();
    assert_eq!(count(&remote).unwrap(), 1);
    root.manager().hold_requests().unwrap();
    let waiter = {
        let remote = remote.clone();
        std::thread::spawn(move || count(&remote))
    };
    std::thread::sleep(Duration::from_millis(50));
    root.manager().activate().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 1);

    // Deactivated: not reached, and no longer held by the server.
    poa.deactivate_object(b"calc").unwrap();
    assert_eq!(
        count(&remote).unwrap_err().kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
    );
    assert_eq!(Arc::strong_count(&first), 1);
    // Reactivated under the same id with another servant: that one is reached.
    let second: ServantRef = counting(2);
    poa.activate_object_with_id(b"calc", second).unwrap();
    assert_eq!(count(&remote).unwrap(), 2);
    assert_eq!(count(&remote).unwrap(), 2);

    // The POA destroyed: its objects are gone; re-created (persistent, same path), its new
    // incarnation's object is reached through the same reference.
    poa.destroy().unwrap();
    assert_eq!(
        count(&remote).unwrap_err().kind,
        SystemExceptionKind::OBJECT_NOT_EXIST
    );
    let poa = root
        .create_poa(
            "memo",
            Some(root.manager().clone()),
            &[
                Policy::Lifespan(Lifespan::Persistent),
                Policy::IdAssignment(IdAssignment::UserId),
            ],
        )
        .unwrap();
    poa.activate_object_with_id(b"calc", counting(3)).unwrap();
    assert_eq!(count(&remote).unwrap(), 3);

    // The manager deactivated for good.
    root.manager().deactivate().unwrap();
    assert_eq!(
        count(&remote).unwrap_err().kind,
        SystemExceptionKind::OBJ_ADAPTER
    );
}

/// A server that answers every request with LOCATION_FORWARD to `target`.
fn forwarder(target: ObjectRef) -> (std::net::SocketAddr, std::thread::JoinHandle<u32>) {
    use orb::cdr::ByteOrder;
    use orb::giop::{Framer, Header, MessageWriter, ReplyHeader, ReplyStatus, ServiceContexts};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut framer = Framer::giop();
        let mut buf = [0u8; 4096];
        let mut forwarded = 0;
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => return forwarded,
                Ok(n) => n,
            };
            framer.push(&buf[..n]);
            while let Ok(Some(frame)) = framer.poll_message() {
                let msg = frame.decode().unwrap();
                let Header::Request(r) = msg.header() else {
                    continue;
                };
                let h = Header::Reply(ReplyHeader {
                    request_id: r.request_id,
                    reply_status: ReplyStatus::LocationForward,
                    service_context: ServiceContexts::EMPTY,
                });
                let mut w = MessageWriter::new(msg.version(), ByteOrder::NATIVE, &h).unwrap();
                orb::cdr::CdrEncode::encode(target.ior(), w.body()).unwrap();
                s.write_all(&w.finish().unwrap()).unwrap();
                forwarded += 1;
            }
        }
    });
    (addr, handle)
}

#[test]
fn location_forward_is_followed_and_remembered() {
    let (_server, obj, _) = serve();
    let (addr, handle) = forwarder(obj.clone());
    let client = remote_orb();
    let via = client
        .string_to_object(&format!(
            "corbaloc:iiop:1.2@127.0.0.1:{}/whatever",
            addr.port()
        ))
        .unwrap();
    assert_eq!(add(&via, 20, 22).unwrap(), 42);
    // The reference now goes straight to the object: no second forward.
    assert_eq!(add(&via, 1, 1).unwrap(), 2);
    client.shutdown(true);
    assert_eq!(handle.join().unwrap(), 1);
}

#[test]
fn timeouts_and_dead_servers_raise_the_right_exceptions() {
    let (_server, obj, _) = serve();
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBclientCallTimeOutPeriod".into(), "100".into()])
        .unwrap();
    let client = Orb::init(o).unwrap();
    let remote = client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    let e = remote
        .invoke("sleep", &|e: &mut Encoder| {
            e.write_ulong(2000);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::TIMEOUT);
    assert_eq!(e.completed, CompletionStatus::Maybe);

    // Nobody listens: TRANSIENT, completed NO.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = client
        .string_to_object(&format!("corbaloc::127.0.0.1:{port}/x"))
        .unwrap();
    let e = add(&dead, 1, 1).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::TRANSIENT);
    assert_eq!(e.completed, CompletionStatus::No);

    let nil = ObjectRef::nil();
    assert_eq!(
        add(&nil, 1, 1).unwrap_err().kind,
        SystemExceptionKind::INV_OBJREF
    );
}

#[test]
fn a_restarted_server_is_reached_again_on_a_new_connection() {
    let start = |port: u16| {
        let mut o = OrbOptions {
            collocation: CollocationStrategy::None,
            ..OrbOptions::default()
        };
        o.parse_args(["-ORBendPoint".into(), format!("giop:tcp:127.0.0.1:{port}")])
            .unwrap();
        let orb = Orb::init(o).unwrap();
        orb.register_well_known("Calc", Arc::new(Calc::default()))
            .unwrap();
        let port = match orb.listen().unwrap().first() {
            Some(orb::transport::Endpoint::Iiop { port, .. }) => *port,
            other => panic!("{other:?}"),
        };
        (orb, port)
    };
    let (first, port) = start(0);
    let client = remote_orb();
    let calc = client
        .string_to_object(&format!("corbaloc::127.0.0.1:{port}/Calc"))
        .unwrap();
    assert_eq!(add(&calc, 1, 1).unwrap(), 2);
    // The server goes away in order (CloseConnection on the client's connection) and comes
    // back on the same port: the cached connection is dead, the call goes on a new one.
    first.shutdown(true);
    drop(first);
    let (_second, _) = start(port);
    assert_eq!(add(&calc, 2, 2).unwrap(), 4);
}

/// A thread remembers the bindings of the references it called last (by their address, a
/// few of them): each reference's calls still reach its own object however a thread
/// interleaves more references than it remembers, and a reference made after another was
/// dropped (maybe at its address) goes where its own IOR says.
#[test]
fn each_reference_reaches_its_own_object_however_calls_interleave() {
    let servers: Vec<_> = (0..3).map(|_| serve()).collect();
    let client = remote_orb();
    let iors: Vec<String> = servers
        .iter()
        .map(|(_, obj, _)| obj.to_ior_string().unwrap())
        .collect();
    let count = |obj: &ObjectRef| {
        obj.invoke("count", &|_| Ok(()))
            .unwrap()
            .normal_result(|d| d.read_ulong())
            .unwrap()
    };
    // Three references to each server, called in turn: more than a thread remembers.
    let refs: Vec<ObjectRef> = (0..9)
        .map(|k| client.string_to_object(&iors[k % 3]).unwrap())
        .collect();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let refs = refs.clone();
            std::thread::spawn(move || {
                for round in 0..50 {
                    for r in &refs {
                        r.invoke_oneway("bump", &|_| Ok(())).unwrap();
                    }
                    assert_eq!(
                        add(&refs[round % 9], round as i32, 1).unwrap(),
                        round as i32 + 1
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // References made and dropped one after the other, each to the next server.
    for round in 0..30 {
        let r = client.string_to_object(&iors[round % 3]).unwrap();
        r.invoke_oneway("bump", &|_| Ok(())).unwrap();
    }
    for (_, obj, _) in &servers {
        let r = client
            .string_to_object(&obj.to_ior_string().unwrap())
            .unwrap();
        // 2 threads × 50 rounds × 3 references, and 10 of the 30 made and dropped.
        assert_eq!(count(&r), 2 * 50 * 3 + 10);
    }
}

#[test]
fn oneways_are_delivered_in_order_with_twoways() {
    let (_server, obj, _) = serve();
    let (_client, remote) = client_ref(&obj);
    for _ in 0..10 {
        remote.invoke_oneway("bump", &|_| Ok(())).unwrap();
    }
    // Requests on one connection are served in order: the twoway sees every oneway.
    let n = remote
        .invoke("count", &|_| Ok(()))
        .unwrap()
        .normal_result(|d| d.read_ulong())
        .unwrap();
    assert_eq!(n, 10);
}

#[test]
fn garbage_gets_message_error_and_other_clients_keep_being_served() {
    let (_server, obj, _) = serve();
    let (_client, remote) = client_ref(&obj);
    let addr = match &obj.ior().profiles[..] {
        [p, ..] => orb::ior::IiopProfile::from_tagged(p).unwrap(),
        [] => unreachable!(),
    };
    let mut s = std::net::TcpStream::connect((addr.host.as_str(), addr.port)).unwrap();
    // A valid GIOP 1.2 header announcing a Request whose header does not decode.
    let mut m = b"GIOP\x01\x02\x01\x00".to_vec();
    m.extend_from_slice(&8u32.to_le_bytes());
    m.extend_from_slice(&[0xff; 8]);
    s.write_all(&m).unwrap();
    let mut got = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_end(&mut got);
    assert!(
        got.len() >= 12 && &got[..4] == b"GIOP" && got[7] == 6,
        "{got:?}"
    );
    assert_eq!(add(&remote, 3, 4).unwrap(), 7);
}

#[test]
fn initial_references_and_string_to_object_forms() {
    let (server, obj, _) = serve();
    let dir = std::env::temp_dir().join(format!("rtorb-ior-{}", std::process::id()));
    std::fs::write(&dir, server.object_to_string(&obj).unwrap()).unwrap();
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args([
        "-ORBInitRef".into(),
        format!("Calc=file://{}", dir.display()),
    ])
    .unwrap();
    let client = Orb::init(o).unwrap();
    let calc = client.resolve_initial_references("Calc").unwrap();
    assert_eq!(add(&calc, 2, 3).unwrap(), 5);
    assert!(client.resolve_initial_references("Nope").is_err());
    let _ = std::fs::remove_file(&dir);

    // A well-known key, reached by corbaloc.
    server
        .register_well_known("Calc", Arc::new(Calc::default()))
        .unwrap();
    let port = orb::ior::IiopProfile::from_tagged(&obj.ior().profiles[0])
        .unwrap()
        .port;
    let by_url = client
        .string_to_object(&format!("corbaloc::127.0.0.1:{port}/Calc"))
        .unwrap();
    assert_eq!(add(&by_url, 3, 3).unwrap(), 6);
    assert!(client.string_to_object("IOR:zz").is_err());
}

#[test]
fn unix_sockets_between_our_orbs_and_ipv6_endpoints() {
    let dir = std::env::temp_dir().join(format!("rtorb-uiop-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args([
        "-ORBendPoint".into(),
        format!("giop:unix:{}", dir.display()),
        "-ORBendPoint".into(),
        "giop:tcp:127.0.0.1:0".into(),
    ])
    .unwrap();
    let server = Orb::init(o).unwrap();
    let obj = server
        .activate(&server.root_poa(), Arc::new(Calc::default()))
        .unwrap();
    // The IOR has the UIOP profile first, then IIOP for other ORBs.
    assert_eq!(obj.ior().profiles.len(), 2);
    let (_client, remote) = client_ref(&obj);
    assert_eq!(add(&remote, 6, 7).unwrap(), 13);
    assert!(format!("{remote:?}").contains("giop:unix"), "{remote:?}");
    // A client told not to use Unix sockets takes the IIOP profile.
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.prefer_unix = false;
    let tcp_client = Orb::init(o).unwrap();
    let via_tcp = tcp_client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    assert_eq!(add(&via_tcp, 1, 7).unwrap(), 8);
    assert!(format!("{via_tcp:?}").contains("giop:tcp"), "{via_tcp:?}");
    assert!(!format!("{via_tcp:?}").contains("GIOP-lite"), "{via_tcp:?}");
    server.shutdown(true);

    // IPv6 loopback, where the machine has it.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let mut o = OrbOptions {
            collocation: CollocationStrategy::None,
            ..OrbOptions::default()
        };
        o.parse_args(["-ORBendPoint".into(), "giop:tcp:[::1]:0".into()])
            .unwrap();
        let v6 = Orb::init(o).unwrap();
        let obj = v6
            .activate(&v6.root_poa(), Arc::new(Calc::default()))
            .unwrap();
        let (_client, remote) = client_ref(&obj);
        assert_eq!(add(&remote, 2, 40).unwrap(), 42);
    }
}

#[test]
fn every_server_strategy_serves_concurrent_clients() {
    for strategy in ["reactive", "pool", "connection"] {
        let mut o = OrbOptions {
            collocation: CollocationStrategy::None,
            ..OrbOptions::default()
        };
        o.parse_args(["-ORBthreadStrategy".into(), strategy.into()])
            .unwrap();
        let server = Orb::init(o).unwrap();
        let obj = server
            .activate(&server.root_poa(), Arc::new(Calc::default()))
            .unwrap();
        let ior = obj.to_ior_string().unwrap();
        let clients: Vec<_> = (0..4)
            .map(|t| {
                let ior = ior.clone();
                std::thread::spawn(move || {
                    // Each thread its own client ORB, so its own connection.
                    let client = remote_orb();
                    let obj = client.string_to_object(&ior).unwrap();
                    (0..50).all(|i| add(&obj, t, i).unwrap() == t + i)
                })
            })
            .collect();
        for c in clients {
            assert!(c.join().unwrap(), "{strategy}");
        }
        server.shutdown(true);
    }
}

#[test]
fn a_reference_whose_orb_is_gone_does_not_borrow_another_orbs() {
    let (_server, obj, _) = serve();
    let (client, remote) = client_ref(&obj);
    assert_eq!(add(&remote, 2, 3).unwrap(), 5);
    drop(client);
    // The server's ORB is still alive in this process; the reference must not call through
    // it (its connections, options and collocation table are not the reference's).
    let e = add(&remote, 2, 3).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::BAD_INV_ORDER);
    assert_eq!(e.completed, CompletionStatus::No);
}

/// `invoke_async`'s future may go to any executor's threads: it holds nothing bound to the
/// thread that made it (the thread's memo of the reference's binding is not lent to it).
#[test]
fn an_asynchronous_call_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    let nil = ObjectRef::nil();
    let call = nil.invoke_async("op", &|_: &mut Encoder| -> Result<(), EncodeError> {
        Ok(())
    });
    send(&call);
}

/// The same for oneways, sent before on the thread's memo of the reference without holding
/// its ORB: the ORB gone, the next fails as a twoway does.
#[test]
fn a_oneway_on_a_reference_whose_orb_is_gone_fails() {
    let (_server, obj, _) = serve();
    let (client, remote) = client_ref(&obj);
    let oneway = || {
        remote.invoke_oneway("add", &|e: &mut Encoder| -> Result<(), EncodeError> {
            e.write_long(1);
            e.write_long(2);
            Ok(())
        })
    };
    for _ in 0..3 {
        oneway().unwrap();
    }
    assert_eq!(add(&remote, 2, 3).unwrap(), 5);
    oneway().unwrap();
    drop(client);
    let e = oneway().unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::BAD_INV_ORDER);
    assert_eq!(e.completed, CompletionStatus::No);
}

/// `relay`: adds through another object during the upcall. `relay_later` (oneway) does the
/// same and keeps the sum for `last`.
struct Relay {
    target: ObjectRef,
    last: AtomicU32,
}

impl Servant for Relay {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Relay:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "relay" => {
                let a = args.read_long()?;
                reply.write_long(add(&self.target, a, 1)?);
            }
            "relay_later" => {
                let a = args.read_long()?;
                self.last
                    .store(add(&self.target, a, 1)? as u32, Ordering::SeqCst);
            }
            "last" => reply.write_ulong(self.last.load(Ordering::SeqCst)),
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A call made during an upcall to an object of the same ORB, through the transport
/// (collocation None): the server serves a connection's requests in order, so on the
/// connection that carries the request being served it would wait for that request, which
/// waits for it. It goes on another connection instead — after a twoway and after a oneway.
#[test]
fn a_call_from_an_upcall_does_not_wait_behind_the_request_it_serves() {
    let orb = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        // Only a deadlock takes this long: it fails the test instead of hanging it.
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .unwrap();
    let calc = orb
        .activate(&orb.root_poa(), Arc::new(Calc::default()))
        .unwrap();
    let relay = orb
        .activate(
            &orb.root_poa(),
            Arc::new(Relay {
                target: calc,
                last: AtomicU32::new(0),
            }),
        )
        .unwrap();
    let relay_call = |op: &str, a: i32| {
        relay.invoke(op, &|e: &mut Encoder| -> Result<(), EncodeError> {
            e.write_long(a);
            Ok(())
        })
    };
    let sum = relay_call("relay", 41)
        .unwrap()
        .normal_result(|d| d.read_long())
        .unwrap();
    assert_eq!(sum, 42);
    relay
        .invoke_oneway(
            "relay_later",
            &|e: &mut Encoder| -> Result<(), EncodeError> {
                e.write_long(6);
                Ok(())
            },
        )
        .unwrap();
    let last = relay
        .invoke("last", &|_| Ok(()))
        .unwrap()
        .normal_result(|d| d.read_ulong())
        .unwrap();
    assert_eq!(last, 7);
}
