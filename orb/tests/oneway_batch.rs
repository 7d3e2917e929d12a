//! Oneway batching (`-ORBonewayBatchMicros`): batched oneways all arrive, in the order they
//! were made, written by the flusher with no further call, ahead of a twoway made after them,
//! and at shutdown or when the client ORB goes.
//!
//! The server is reactive, so it dispatches the requests of a connection one after the other
//! in the order it reads them: what the servant records is the order on the wire.

use orb::cdr::{Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant};
use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ID: &str = "IDL:Test/Notes:1.0";

/// `interface Notes { oneway void note(in long n); unsigned long seen(); }`
#[derive(Default)]
struct Notes {
    seen: Mutex<Vec<i32>>,
}

impl Servant for Notes {
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
            "note" => {
                let n = args.read_long()?;
                self.seen.lock().unwrap().push(n);
                Ok(DispatchStatus::NoException)
            }
            "seen" => {
                reply.write_ulong(self.seen.lock().unwrap().len() as u32);
                Ok(DispatchStatus::NoException)
            }
            _ => Err(SystemException::bad_operation()),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn server() -> (Orb, Arc<Notes>, String) {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBthreadStrategy".into(), "reactive".into()])
        .unwrap();
    let orb = Orb::init(o).unwrap();
    let notes = Arc::new(Notes::default());
    let obj = orb.activate(&orb.root_poa(), notes.clone()).unwrap();
    let ior = obj.to_ior_string().unwrap();
    (orb, notes, ior)
}

/// A client ORB batching oneways for `micros` µs, and its reference to the server's object.
fn client(micros: u32, ior: &str) -> (Orb, ObjectRef) {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBonewayBatchMicros".into(), micros.to_string()])
        .unwrap();
    assert!(o.oneway_batch.is_some());
    let orb = Orb::init(o).unwrap();
    let obj = orb.string_to_object(ior).unwrap();
    (orb, obj)
}

fn note(obj: &ObjectRef, n: i32) {
    obj.invoke_oneway("note", &|e: &mut Encoder| {
        e.write_long(n);
        Ok(())
    })
    .unwrap();
}

fn seen(obj: &ObjectRef) -> u32 {
    obj.invoke("seen", &|_| Ok(()))
        .unwrap()
        .normal_result(|d| d.read_ulong())
        .unwrap()
}

/// Waits (a bounded time, so a lost oneway fails the test rather than hanging it) until the
/// servant has seen `n` notes, and returns them.
fn wait_for(notes: &Notes, n: usize) -> Vec<i32> {
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = notes.seen.lock().unwrap().clone();
        if seen.len() >= n || Instant::now() > give_up {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_flusher_writes_batched_oneways_in_order_with_no_further_call() {
    let (_server, notes, ior) = server();
    let (_client, obj) = client(200, &ior);
    // More than one buffer's worth (64 KiB at 60-odd octets a request), so both the writes of
    // full buffers by the caller and the flusher's write of the rest are in the stream.
    let n = 3_000;
    for i in 0..n {
        note(&obj, i);
    }
    assert_eq!(wait_for(&notes, n as usize), (0..n).collect::<Vec<_>>());
}

#[test]
fn a_twoway_is_read_after_the_oneways_made_before_it() {
    let (_server, notes, ior) = server();
    // A bound of a second: were the batch not written ahead of the twoway, the server would
    // answer it having seen none of the notes.
    let (_client, obj) = client(1_000_000, &ior);
    for round in 0..3 {
        for i in 0..100 {
            note(&obj, round * 100 + i);
        }
        assert_eq!(seen(&obj), (round as u32 + 1) * 100);
    }
    assert_eq!(*notes.seen.lock().unwrap(), (0..300).collect::<Vec<i32>>());
}

#[test]
fn shutdown_and_the_end_of_the_client_orb_write_what_is_buffered() {
    let (_server, notes, ior) = server();
    let (client_orb, obj) = client(1_000_000, &ior);
    for i in 0..50 {
        note(&obj, i);
    }
    client_orb.shutdown(true);
    // After shutdown oneways still work, written at once (on a new connection, so the
    // server may read it before the end of the old one's).
    note(&obj, 50);
    let mut got = wait_for(&notes, 51);
    assert!(got.contains(&50), "{got:?}");
    got.retain(|&n| n != 50);
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    notes.seen.lock().unwrap().clear();

    let (client_orb, obj) = client(1_000_000, &ior);
    for i in 51..100 {
        note(&obj, i);
    }
    drop(client_orb);
    drop(obj);
    assert_eq!(wait_for(&notes, 49), (51..100).collect::<Vec<_>>());
}

/// `objects` Notes in a thread-per-connection server ORB (which reads each connection with a
/// thread of its own, so that oneways on two connections can overtake each other), each with
/// a client ORB's reference to it.
fn thread_per_connection_objects(objects: usize) -> (Orb, Orb, Vec<(Arc<Notes>, ObjectRef)>) {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBthreadStrategy".into(), "connection".into()])
        .unwrap();
    let server = Orb::init(o).unwrap();
    let client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap();
    let all = (0..objects)
        .map(|_| {
            let notes = Arc::new(Notes::default());
            let ior = server
                .activate(&server.root_poa(), notes.clone())
                .unwrap()
                .to_ior_string()
                .unwrap();
            (notes, client.string_to_object(&ior).unwrap())
        })
        .collect();
    (server, client, all)
}

/// A thread that takes idle connections (an upcall, an event channel's delivery) sends its
/// oneways to one object after each other on one connection while any may still be with the
/// server: sent on whichever connection was idle, a thread-per-connection server, which reads
/// each connection with its own thread, ran later ones before earlier ones.
#[test]
fn oneways_of_a_thread_on_idle_connections_stay_in_order() {
    let (_server, _client, mut all) = thread_per_connection_objects(1);
    let (notes, obj) = all.pop().unwrap();
    let n = 2_000;
    std::thread::spawn(move || {
        orb::use_idle_connections(true);
        for i in 0..n {
            note(&obj, i);
        }
    })
    .join()
    .unwrap();
    assert_eq!(wait_for(&notes, n as usize), (0..n).collect::<Vec<_>>());
}

/// The same with oneways to twenty objects of one server, interleaved: each object's arrive
/// in order. More objects than an endpoint keeps spare connections for: the routes to them
/// must not be closed as surplus (a closed route's oneways could be overtaken by the next
/// ones on a new connection, and every push reconnected).
#[test]
fn oneways_to_many_objects_on_idle_connections_stay_in_order() {
    let (_server, _client, all) = thread_per_connection_objects(20);
    let refs: Vec<ObjectRef> = all.iter().map(|(_, obj)| obj.clone()).collect();
    let n = 200;
    std::thread::spawn(move || {
        orb::use_idle_connections(true);
        for i in 0..n {
            for r in &refs {
                note(r, i);
            }
        }
    })
    .join()
    .unwrap();
    for (k, (notes, _)) in all.iter().enumerate() {
        assert_eq!(
            wait_for(notes, n as usize),
            (0..n).collect::<Vec<_>>(),
            "object {k}"
        );
    }
}
