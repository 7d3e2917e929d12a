//! RT-CORBA end to end: a client's priority reaches the servant (client-propagated), a
//! server's declared priority overrides it and is in its IORs, requests run in the lane of
//! their priority, a high-priority request is served while every low-lane thread is blocked
//! (and, for contrast, is not by a plain pool whose threads are all blocked), and calls of
//! different priority bands go on different connections.
//!
//! Every ORB here maps no native priorities (`-ORBpriorityMapping off`): the mapping is
//! per process, and these tests are about queues and lanes, not the operating system's
//! scheduler (`rt_native_priorities.rs` is).

mod rt_common;

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::{Frame, Header, MessageWriter, ReplyHeader, ReplyStatus, ServiceContexts};
use orb::iop::ComponentId;
use orb::iop::ServiceId;
use orb::rt::{PriorityModel, PriorityModelPolicy, RtCurrent};
use orb::servant::Servant;
use orb::transport::{ConnectionHandle, Handler, ListenerSpec, Server, ServerOptions, Strategy};
use orb::{ObjectRef, Orb};
use parking_lot::{Condvar, Mutex};
use std::any::Any;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rt_common::*;

const ID: &str = "IDL:Test/Prio:1.0";

/// Long enough for anything that is going to be served; a call still waiting then never
/// will be.
const WATCHDOG: Duration = Duration::from_secs(30);

/// A gate servants wait at until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock();
        while !*open {
            self.cv.wait(&mut open);
        }
    }

    fn open(&self) {
        *self.open.lock() = true;
        self.cv.notify_all();
    }
}

/// `whoami` answers the priority the request runs at, its lane's priority (-1 for none) and
/// the serving thread's name; `block` tells the test it has started, then waits at the gate;
/// `hops(n)` answers the same as `whoami` in a list, after what `hops(n - 1)` on the `next`
/// object, called from inside the upcall, answered (if `n` > 0); the oneway `note` adds who
/// serves it to `noted`.
struct Prio {
    gate: Arc<Gate>,
    entered: Mutex<mpsc::Sender<()>>,
    next: Arc<Mutex<Option<ObjectRef>>>,
    noted: Arc<Mutex<Vec<Who>>>,
}

impl Servant for Prio {
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
            "whoami" => Who::here().write(reply)?,
            "note" => self.noted.lock().push(Who::here()),
            "hops" => {
                let left = args.read_ushort()?;
                let mut hops = vec![Who::here()];
                if left > 0 {
                    let next = self.next.lock().clone();
                    let next = next.ok_or_else(SystemException::bad_operation)?;
                    hops.extend(hops_via(&next, left - 1)?);
                }
                reply.write_length(hops.len())?;
                for h in &hops {
                    h.write(reply)?;
                }
            }
            "block" => {
                let _ = self.entered.lock().send(());
                self.gate.wait();
            }
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Served {
    server: Orb,
    obj: ObjectRef,
    gate: Arc<Gate>,
    entered: mpsc::Receiver<()>,
    /// The object the servant's `hops` calls.
    next: Arc<Mutex<Option<ObjectRef>>>,
    /// Who served each `note`, in the order they ran.
    noted: Arc<Mutex<Vec<Who>>>,
}

fn serve(args: &str) -> Served {
    let server = orb(args);
    let gate = Arc::new(Gate::default());
    let (tx, entered) = mpsc::channel();
    let next = Arc::default();
    let noted = Arc::default();
    let obj = server
        .activate(
            &server.root_poa(),
            Arc::new(Prio {
                gate: gate.clone(),
                entered: Mutex::new(tx),
                next: Arc::clone(&next),
                noted: Arc::clone(&noted),
            }),
        )
        .unwrap();
    Served {
        server,
        obj,
        gate,
        entered,
        next,
        noted,
    }
}

/// `hops(left)` on `obj`: who served each call of the chain, the first first.
fn hops_via(obj: &ObjectRef, left: u16) -> Result<Vec<Who>, SystemException> {
    obj.invoke("hops", &|e: &mut Encoder| -> Result<(), EncodeError> {
        e.write_ushort(left);
        Ok(())
    })?
    .normal_result(|d| {
        let n = d.read_seq_len(4)?;
        (0..n).map(|_| Who::read(d)).collect()
    })
}

fn block(obj: &ObjectRef) -> Result<(), SystemException> {
    obj.invoke("block", &|_: &mut Encoder| -> Result<(), EncodeError> {
        Ok(())
    })
    .map(drop)
}

#[test]
fn the_clients_priority_reaches_the_servant_and_none_means_the_servers() {
    let s = serve("-ORBserverPriority 77");
    let client = orb("");
    let obj = client_ref(&client, &s.obj);
    assert_eq!(whoami_at(&obj, Some(123)).priority, 123);
    assert_eq!(whoami_at(&obj, Some(32767)).priority, 32767);
    // No priority: the request carries no context and runs at the server's priority.
    assert_eq!(whoami_at(&obj, None).priority, 77);
    // The server's own thread priority is not left set after a request.
    assert_eq!(whoami_at(&obj, None).lane, -1);
    s.server.shutdown(true);
}

#[test]
fn a_server_declared_priority_overrides_the_clients_and_is_in_its_iors() {
    let s = serve("-ORBpriorityModel server -ORBserverPriority 300");
    let profile = iiop_profile(&s.obj);
    let policies = profile.component(ComponentId::POLICIES).unwrap();
    assert_eq!(
        PriorityModelPolicy::from_component_data(&policies.data),
        Some(PriorityModelPolicy {
            model: PriorityModel::ServerDeclared,
            server_priority: 300
        })
    );
    let client = orb("");
    let obj = client_ref(&client, &s.obj);
    assert_eq!(whoami_at(&obj, Some(5)).priority, 300);
    assert_eq!(whoami_at(&obj, None).priority, 300);
    s.server.shutdown(true);
}

#[test]
fn an_ordinary_server_puts_no_policies_in_its_iors() {
    let s = serve("");
    let profile = iiop_profile(&s.obj);
    assert!(profile.component(ComponentId::POLICIES).is_none());
    s.server.shutdown(true);
}

#[test]
fn requests_run_in_the_lane_of_their_priority() {
    let s = serve("-ORBlanes 100:1,10000:2,20000:1");
    let client = orb("");
    let obj = client_ref(&client, &s.obj);
    for (p, lane) in [
        (Some(0), 100),
        (Some(9999), 100),
        (Some(10000), 10000),
        (Some(19999), 10000),
        (Some(20000), 20000),
        (Some(32767), 20000),
        // No priority: the server's (0), below every lane: the lowest.
        (None, 100),
    ] {
        let who = whoami_at(&obj, p);
        assert_eq!(who.lane, lane, "priority {p:?}");
        assert_eq!(who.priority, p.unwrap_or(0));
        assert!(
            who.thread.starts_with(&format!("orb-lane-{lane}-")),
            "priority {p:?} served by {}",
            who.thread
        );
    }
    s.server.shutdown(true);
}

/// Starts `n` calls to `block` at priority `p`, each from its own thread (and, if
/// `own_connections`, on a connection of its own), and waits until the servant has `n` of
/// them in hand.
fn blocked_calls(
    s: &Served,
    obj: &ObjectRef,
    p: i16,
    n: usize,
    own_connections: bool,
) -> Vec<std::thread::JoinHandle<Result<(), SystemException>>> {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let obj = obj.clone();
            std::thread::spawn(move || {
                orb::use_idle_connections(own_connections);
                RtCurrent::set_the_priority(p).unwrap();
                orb::with_call_timeout(WATCHDOG, || block(&obj))
            })
        })
        .collect();
    for _ in 0..n {
        s.entered
            .recv_timeout(WATCHDOG)
            .expect("a low-priority call never reached the servant");
    }
    calls
}

#[test]
fn a_high_priority_request_is_served_while_every_low_lane_thread_is_blocked() {
    let s = serve("-ORBlanes 0:2,20000:1");
    let client = orb("-ORBpriorityBands 0-19999,20000-32767");
    let obj = client_ref(&client, &s.obj);
    // Both low-lane threads blocked in the servant, and a third low call queued behind.
    // On one connection: its reader hands both to the lane.
    let mut low = blocked_calls(&s, &obj, 10, 2, false);
    let queued = {
        let obj = obj.clone();
        std::thread::spawn(move || {
            RtCurrent::set_the_priority(10).unwrap();
            orb::with_call_timeout(WATCHDOG, || block(&obj))
        })
    };
    RtCurrent::set_the_priority(25000).unwrap();
    let who = orb::with_call_timeout(WATCHDOG, || whoami(&obj))
        .expect("the high-priority call was not served while the low lane was busy");
    RtCurrent::clear();
    assert_eq!((who.priority, who.lane), (25000, 20000));
    // The low lane was busy throughout: nothing of it has finished.
    assert!(low.iter().all(|c| !c.is_finished()));
    s.gate.open();
    low.push(queued);
    for c in low {
        c.join().unwrap().unwrap();
    }
    s.server.shutdown(true);
}

#[test]
fn without_lanes_a_pool_whose_threads_are_all_blocked_serves_nothing_else() {
    // The contrast: two pool threads, both blocked by low-priority calls (on connections of
    // their own: a pool serves a connection's requests one at a time); the high-priority
    // call cannot be served until one is released, so within its bound it times out.
    let s = serve("-ORBthreadStrategy pool -ORBthreadPoolSize 2");
    let client = orb("-ORBpriorityBands 0-19999,20000-32767");
    let obj = client_ref(&client, &s.obj);
    let low = blocked_calls(&s, &obj, 10, 2, true);
    RtCurrent::set_the_priority(25000).unwrap();
    let e = orb::with_call_timeout(Duration::from_millis(300), || whoami(&obj))
        .expect_err("a pool with every thread blocked served a call");
    RtCurrent::clear();
    assert_eq!(e.kind, SystemExceptionKind::TIMEOUT);
    s.gate.open();
    for c in low {
        c.join().unwrap().unwrap();
    }
    s.server.shutdown(true);
}

/// A bare GIOP server that answers every request with an empty reply and records, per
/// request, the connection it came on and the priority context it carried.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(u64, Option<i16>)>>,
}

impl Handler for Recorder {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        let Ok(msg) = frame.decode() else { return };
        if let Header::Request(r) = msg.header() {
            let p = r
                .service_context
                .get(ServiceId::RT_CORBA_PRIORITY)
                .and_then(orb::rt::read_priority_context);
            self.seen.lock().push((conn.id().0, p));
            let reply = Header::Reply(ReplyHeader {
                request_id: r.request_id,
                reply_status: ReplyStatus::NoException,
                service_context: ServiceContexts::EMPTY,
            });
            let w = MessageWriter::new(msg.version(), msg.order(), &reply).unwrap();
            let _ = conn.send(w.finish().unwrap());
        }
    }
}

#[test]
fn calls_of_different_bands_go_on_different_connections_with_their_priority() {
    let recorder = Arc::new(Recorder::default());
    let endpoint = orb::transport::Endpoint::parse("giop:tcp:127.0.0.1:0").unwrap();
    let server = Server::bind(
        &[ListenerSpec::giop(endpoint)],
        Strategy::ThreadPerConnection,
        recorder.clone(),
        ServerOptions::default(),
    )
    .unwrap();
    let bound = server.endpoints()[0].endpoint.to_string();
    let port = bound.rsplit(':').next().unwrap();
    let client = orb("-ORBpriorityBands 0-9999,10000-32767");
    let obj = client
        .string_to_object(&format!("corbaloc::127.0.0.1:{port}/Prio"))
        .unwrap();
    let ping = |p: Option<i16>| {
        match p {
            Some(p) => RtCurrent::set_the_priority(p).unwrap(),
            None => RtCurrent::clear(),
        }
        obj.invoke("ping", &|_: &mut Encoder| -> Result<(), EncodeError> {
            Ok(())
        })
        .unwrap();
    };
    for p in [Some(5), Some(20000), None, Some(9999), Some(10000), None] {
        ping(p);
    }
    RtCurrent::clear();
    let seen = recorder.seen.lock().clone();
    let priorities: Vec<Option<i16>> = seen.iter().map(|(_, p)| *p).collect();
    assert_eq!(
        priorities,
        vec![Some(5), Some(20000), None, Some(9999), Some(10000), None],
        "each request carries its caller's priority, and one without carries none"
    );
    let conn = |i: usize| seen[i].0;
    // Band 0-9999, band 10000-32767, no priority: three connections, each reused.
    assert_eq!(conn(0), conn(3));
    assert_eq!(conn(1), conn(4));
    assert_eq!(conn(2), conn(5));
    assert_ne!(conn(0), conn(1));
    assert_ne!(conn(0), conn(2));
    assert_ne!(conn(1), conn(2));
    server.shutdown(true);
}

#[test]
fn a_shutdown_answers_the_requests_lanes_have_in_hand() {
    // Two requests of one connection in the lane's two threads, blocked: the connection's
    // reader has nothing left to do when the shutdown stops it, and must not close the
    // connection before their replies are out.
    let s = serve("-ORBlanes 0:2");
    let client = orb("");
    let obj = client_ref(&client, &s.obj);
    let calls = blocked_calls(&s, &obj, 0, 2, false);
    // Not waiting: the lane's threads are blocked until the gate opens.
    s.server.shutdown(false);
    s.gate.open();
    for c in calls {
        c.join()
            .unwrap()
            .expect("a request in a lane when the server shut down was not answered");
    }
    s.server.shutdown(true);
}

/// The lane endpoints `obj`'s IOR advertises (`TAG_RTORB_LANES`).
fn lane_endpoints(obj: &ObjectRef) -> Vec<orb::rt::LaneEndpoint> {
    let profile = iiop_profile(obj);
    let c = profile
        .component(ComponentId::RTORB_LANES)
        .expect("a server with lanes advertises their endpoints");
    orb::rt::lane_endpoints::lane_endpoints_from_component_data(&c.data).unwrap()
}

/// A reference to `obj` at the endpoint of its server's lane of priority `lane`, as a
/// client that knows nothing of lanes would use it: the lane's connection then carries
/// requests of any priority.
fn at_lane_endpoint(client: &Orb, obj: &ObjectRef, lane: i16) -> ObjectRef {
    let l = lane_endpoints(obj)
        .into_iter()
        .find(|l| l.priority == lane)
        .unwrap();
    let mut profile = iiop_profile(obj);
    profile.host = l.host;
    profile.port = l.port;
    profile
        .components
        .retain(|c| c.tag != ComponentId::RTORB_LANES);
    let ior = orb::iop::Ior {
        type_id: ID.to_owned(),
        profiles: vec![profile.to_tagged(orb::cdr::ByteOrder::NATIVE).unwrap()],
    };
    client.reference_from_ior(ior)
}

#[test]
fn banded_calls_go_to_their_lanes_endpoint_and_run_on_the_thread_that_read_them() {
    let s = serve("-ORBlanes 0:2,20000:1");
    // One endpoint per lane, beside the server's own address.
    let lanes = lane_endpoints(&s.obj);
    assert_eq!(
        lanes.iter().map(|l| l.priority).collect::<Vec<_>>(),
        vec![0, 20000]
    );
    let primary = iiop_profile(&s.obj).port;
    assert!(lanes.iter().all(|l| l.port != primary && l.port != 0));
    assert_ne!(lanes[0].port, lanes[1].port);
    // catior-style descriptions name them.
    let described = orb::ior::describe(s.obj.ior(), Default::default()).unwrap();
    let listed = format!(
        "TAG_RTORB_LANES 0@{}:{} 20000@{}:{}",
        lanes[0].host, lanes[0].port, lanes[1].host, lanes[1].port
    );
    assert!(described.contains(&listed), "{described}");
    let client = orb("-ORBpriorityBands 0-19999,20000-32767");
    let obj = client_ref(&client, &s.obj);
    for (p, lane) in [(10, 0), (19999, 0), (20000, 20000), (32767, 20000)] {
        let who = whoami_at(&obj, Some(p));
        assert_eq!((who.priority, who.lane), (p, lane), "priority {p}");
        // The lane's own connection thread, not one of the lane's queue threads
        // (`orb-lane-{lane}-{i}`): no hand-off.
        assert!(
            who.thread.starts_with(&format!("orb-lane-{lane}-conn-")),
            "priority {p} served by {}",
            who.thread
        );
    }
    // Without a priority (outside every band): the server's address, whose reader hands
    // the request to the lane of the server's priority.
    let who = whoami_at(&obj, None);
    assert_eq!((who.priority, who.lane), (0, 0));
    assert!(
        who.thread.starts_with("orb-lane-0-") && !who.thread.contains("conn"),
        "served by {}",
        who.thread
    );
    s.server.shutdown(true);
}

#[test]
fn clients_without_bands_or_priorities_are_served_by_the_right_lane() {
    let s = serve("-ORBlanes 0:2,20000:1");
    // A client without bands calls the server's own address: hand-off, as ever.
    let plain = orb("");
    let obj = client_ref(&plain, &s.obj);
    for (p, lane) in [(Some(25000), 20000), (Some(5), 0), (None, 0)] {
        let who = whoami_at(&obj, p);
        assert_eq!(who.lane, lane, "priority {p:?}");
        assert!(
            who.thread.starts_with(&format!("orb-lane-{lane}-")) && !who.thread.contains("conn"),
            "priority {p:?} served by {}",
            who.thread
        );
    }
    // Requests of another lane's priority on a lane's own connection are handed to the
    // right lane.
    let at_low = at_lane_endpoint(&plain, &s.obj, 0);
    let who = whoami_at(&at_low, Some(25000));
    assert_eq!((who.priority, who.lane), (25000, 20000));
    assert!(who.thread.starts_with("orb-lane-20000-") && !who.thread.contains("conn"));
    // ... while those of its own run on its connection's thread.
    let who = whoami_at(&at_low, Some(7));
    assert_eq!((who.priority, who.lane), (7, 0));
    assert!(who.thread.starts_with("orb-lane-0-conn-"), "{}", who.thread);
    // One without a priority runs at the priority of the lane whose endpoint it came to,
    // on its connection's thread: the connection says the priority.
    let at_high = at_lane_endpoint(&plain, &s.obj, 20000);
    let who = whoami_at(&at_high, None);
    assert_eq!((who.priority, who.lane), (20000, 20000));
    assert!(
        who.thread.starts_with("orb-lane-20000-conn-"),
        "{}",
        who.thread
    );
    s.server.shutdown(true);
}

#[test]
fn a_plain_giop_request_without_context_is_served_on_every_endpoint_at_its_lanes_priority() {
    // Bytes as a non-RT ORB would send them: GIOP 1.2, no service context at all. On the
    // server's address, such a request runs at the server's priority (0); on a lane's own
    // endpoint, at the lane's — unless the server declares its priority (then at that).
    for (args, server_priority) in [
        ("-ORBlanes 0:1,20000:1", None),
        (
            "-ORBlanes 0:1,20000:1 -ORBpriorityModel server -ORBserverPriority 20001",
            Some(20001),
        ),
    ] {
        let s = serve(args);
        let client = orb("");
        let key = iiop_profile(&s.obj).object_key;
        let mut ports = vec![(iiop_profile(&s.obj).port, 0)];
        ports.extend(lane_endpoints(&s.obj).iter().map(|l| (l.port, l.priority)));
        for (port, lane) in ports {
            let obj = client
                .string_to_object(&format!("corbaloc::1.2@127.0.0.1:{port}/{}", url_key(&key)))
                .unwrap();
            let who = whoami(&obj).unwrap();
            let p = server_priority.unwrap_or(lane);
            let serving = if p >= 20000 { 20000 } else { 0 };
            assert_eq!(
                (who.priority, who.lane),
                (p, serving),
                "{args}: port {port}"
            );
        }
        s.server.shutdown(true);
    }
}

/// `key` as a corbaloc object key (every octet escaped).
fn url_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("%{b:02x}")).collect()
}

#[test]
fn a_high_priority_call_is_served_while_every_low_lane_thread_and_reader_is_blocked() {
    let s = serve("-ORBlanes 0:2,20000:1");
    let banded = orb("-ORBpriorityBands 0-19999,20000-32767");
    let plain = orb("");
    let banded_obj = client_ref(&banded, &s.obj);
    let plain_obj = client_ref(&plain, &s.obj);
    // Two low calls on the low lane's own connection, run by its two threads (the second
    // read by the follower the first handed the reading to), and two on the server's
    // address, handed to the low lane's queue threads: every low-lane thread blocked.
    let mut low = blocked_calls(&s, &banded_obj, 10, 2, false);
    low.extend(blocked_calls(&s, &plain_obj, 10, 2, false));
    RtCurrent::set_the_priority(25000).unwrap();
    let who = orb::with_call_timeout(WATCHDOG, || whoami(&banded_obj))
        .expect("the high-priority call was not served while the low lane was busy");
    let handed = orb::with_call_timeout(WATCHDOG, || whoami(&plain_obj))
        .expect("the high-priority call on the server's address was not served");
    RtCurrent::clear();
    assert_eq!((who.priority, who.lane), (25000, 20000));
    assert!(
        who.thread.starts_with("orb-lane-20000-conn-"),
        "{}",
        who.thread
    );
    assert_eq!((handed.priority, handed.lane), (25000, 20000));
    assert!(low.iter().all(|c| !c.is_finished()));
    s.gate.open();
    for c in low {
        c.join().unwrap().unwrap();
    }
    s.server.shutdown(true);
}

/// The threads of this process whose name begins with `prefix` (as `/proc` has it: the
/// first 15 octets).
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
fn a_shutdown_answers_what_a_lanes_own_connection_has_in_hand_and_ends_its_threads() {
    // Priority 7: no other test's lane, so its threads are told apart by name.
    let s = serve("-ORBlanes 7:2");
    let client = orb("-ORBpriorityBands 0-32767");
    let obj = client_ref(&client, &s.obj);
    let calls = blocked_calls(&s, &obj, 7, 2, false);
    assert_eq!(
        threads_named("orb-lane-7-conn"),
        2,
        "the lane's connection has a reader and a follower"
    );
    s.server.shutdown(false);
    s.gate.open();
    for c in calls {
        c.join()
            .unwrap()
            .expect("a request run by a lane's connection thread when the server shut down was not answered");
    }
    s.server.shutdown(true);
    // Joined threads may linger in /proc for a moment: wait for them to go, within bounds.
    let deadline = std::time::Instant::now() + WATCHDOG;
    while threads_named("orb-lane-7-") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "lane threads left after the shutdown: {}",
            threads_named("orb-lane-7-")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_lane_endpoint_that_refuses_connections_is_passed_over_for_a_while() {
    let s = serve("-ORBlanes 0:1,20000:1");
    // The server's IOR with its high lane's endpoint moved to a port where nothing listens.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut lanes = lane_endpoints(&s.obj);
    lanes[1].host = "127.0.0.1".to_owned();
    lanes[1].port = dead;
    let mut profile = iiop_profile(&s.obj);
    profile
        .components
        .retain(|c| c.tag != ComponentId::RTORB_LANES);
    profile
        .components
        .push(orb::rt::lane_endpoints::lanes_component(&lanes).unwrap());
    let ior = orb::iop::Ior {
        type_id: ID.to_owned(),
        profiles: vec![profile.to_tagged(orb::cdr::ByteOrder::NATIVE).unwrap()],
    };
    let client = orb("-ORBpriorityBands 0-19999,20000-32767 -ORBclientCallTimeOutPeriod 3000");
    let obj = client.reference_from_ior(ior);
    // Refused there, the call goes to the server's own address, whose reader hands it to
    // the high lane.
    let who = whoami_at(&obj, Some(20000));
    assert_eq!(who.lane, 20000);
    assert!(!who.thread.contains("conn"), "served by {}", who.thread);
    // Something listens there now, and never answers: a call sent there would time out.
    // The next calls, within the while the endpoint is passed over, do not go there.
    let trap = std::net::TcpListener::bind(("127.0.0.1", dead))
        .expect("the port freed a moment ago is free again");
    trap.set_nonblocking(true).unwrap();
    for _ in 0..3 {
        assert_eq!(whoami_at(&obj, Some(20000)).lane, 20000);
    }
    let tried = trap.accept();
    assert!(
        matches!(&tried, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the refused lane endpoint was tried again: {tried:?}"
    );
    s.server.shutdown(true);
}

#[test]
fn calls_made_inside_upcalls_go_to_their_lane_of_each_server_and_call_back_without_deadlock() {
    // Two servers whose `hops` call each other's from inside the upcall: client -> A -> B
    // -> A -> B. One thread per lane, and so per connection of a lane's endpoint: a nested
    // call sent on a connection whose request waits for it would wait for ever (until the
    // call timeout, which fails the test).
    let args = "-ORBlanes 0:1,20000:1 -ORBpriorityBands 0-19999,20000-32767 \
                -ORBclientCallTimeOutPeriod 30000";
    let a = serve(args);
    let b = serve(args);
    *a.next.lock() = Some(client_ref(&a.server, &b.obj));
    *b.next.lock() = Some(client_ref(&b.server, &a.obj));
    let client = orb("-ORBpriorityBands 0-19999,20000-32767");
    let obj = client_ref(&client, &a.obj);
    let mut first_nested = Vec::new();
    for (p, lane) in [(10, 0), (25000, 20000), (10, 0)] {
        RtCurrent::set_the_priority(p).unwrap();
        let hops = orb::with_call_timeout(WATCHDOG, || hops_via(&obj, 3))
            .unwrap_or_else(|e| panic!("the chain at priority {p} failed: {e}"));
        RtCurrent::clear();
        assert_eq!(hops.len(), 4);
        for (i, h) in hops.iter().enumerate() {
            // The caller's priority travelled with each nested call (the context: not the
            // lane's priority, which a call without one would run at) ...
            assert_eq!(
                (h.priority, h.lane),
                (p, lane),
                "priority {p}, hop {i}: {h:?}"
            );
            // ... to the endpoint of the lane of its priority, whose connection's thread ran
            // it: no hand-off to a queue thread, in A and in B alike.
            assert!(
                h.thread.starts_with(&format!("orb-lane-{lane}-conn-")),
                "priority {p}, hop {i} served by {}",
                h.thread
            );
        }
        // A's second call to B, made while its first waits for it, went on a connection of
        // its own, not the one in B's hands.
        assert_ne!(hops[1].thread, hops[3].thread, "priority {p}");
        first_nested.push(hops[1].thread.clone());
    }
    // The connection of a nested call is kept for the next one of its band, idle again:
    // not a connection per call.
    assert_eq!(first_nested[0], first_nested[2]);
    // A thread that asked for idle connections takes the same way as a nested call.
    orb::use_idle_connections(true);
    let who = whoami_at(&obj, Some(25000));
    orb::use_idle_connections(false);
    assert_eq!((who.priority, who.lane), (25000, 20000));
    assert!(
        who.thread.starts_with("orb-lane-20000-conn-"),
        "{}",
        who.thread
    );
    a.server.shutdown(true);
    b.server.shutdown(true);
}

#[test]
fn a_giop_lite_clients_banded_calls_run_on_their_lanes_threads() {
    let s = serve("-ORBlanes 0:1,20000:1 -ORBliteEndPoint giop:tcp:127.0.0.1:0");
    let client = orb("-ORBgiopLite 1 -ORBpriorityBands 0-19999,20000-32767");
    let obj = client_ref(&client, &s.obj);
    // Outside every band (no priority): GIOP-lite to the server's lite address, where the
    // reader hands the request to the lane of the server's priority.
    let who = whoami_at(&obj, None);
    assert_eq!(obj.transport(), Some("iiop-lite"));
    assert_eq!((who.priority, who.lane), (0, 0));
    assert!(!who.thread.contains("conn"), "served by {}", who.thread);
    // In a band: plain GIOP to the lane's own endpoint, the priority in the context.
    for (p, lane) in [(10, 0), (25000, 20000)] {
        let who = whoami_at(&obj, Some(p));
        assert_eq!((who.priority, who.lane), (p, lane), "priority {p}");
        assert!(
            who.thread.starts_with(&format!("orb-lane-{lane}-conn-")),
            "priority {p} served by {}",
            who.thread
        );
    }
    s.server.shutdown(true);
}

#[test]
fn batched_oneways_of_a_band_go_on_its_connection_to_its_lane_not_in_another_batch() {
    let s = serve("-ORBlanes 0:1,20000:1");
    // Batches written only when full, at a twoway on their connection, or after a second:
    // the unbanded batch below is still pending when the banded oneways are made.
    let client = orb("-ORBpriorityBands 0-19999,20000-32767 -ORBonewayBatchMicros 1000000");
    let obj = client_ref(&client, &s.obj);
    let note = |p: Option<i16>| {
        match p {
            Some(p) => RtCurrent::set_the_priority(p).unwrap(),
            None => RtCurrent::clear(),
        }
        obj.invoke_oneway("note", &|_: &mut Encoder| -> Result<(), EncodeError> {
            Ok(())
        })
        .unwrap();
        RtCurrent::clear();
    };
    for _ in 0..3 {
        note(None);
    }
    for _ in 0..3 {
        note(Some(25000));
    }
    // A twoway writes its connection's batch first and is read after it, and each lane
    // here has one thread: once both have answered, every oneway has run.
    assert_eq!(whoami_at(&obj, Some(25000)).lane, 20000);
    assert_eq!(whoami_at(&obj, None).lane, 0);
    let noted = s.noted.lock().clone();
    assert_eq!(noted.len(), 6, "{noted:?}");
    let banded: Vec<_> = noted.iter().filter(|w| w.priority == 25000).collect();
    assert_eq!(banded.len(), 3, "{noted:?}");
    for w in banded {
        // Read and run by the high lane's own connection thread: the band's connection to
        // the lane's endpoint, not the server's address (whose reader hands requests to the
        // lanes' queue threads, `orb-lane-P-I`).
        assert!(
            w.lane == 20000 && w.thread.starts_with("orb-lane-20000-conn-"),
            "a banded oneway served by {w:?}"
        );
    }
    for w in noted.iter().filter(|w| w.priority != 25000) {
        assert_eq!((w.priority, w.lane), (0, 0), "{noted:?}");
    }
    s.server.shutdown(true);
}
