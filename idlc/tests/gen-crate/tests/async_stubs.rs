//! Generated async stubs (`asyncs.idl`, `gate::AsyncRef`) over a real ORB: every parameter
//! direction, attributes, a user exception, a oneway and an inherited operation, awaited on
//! tokio (both runtimes) and on the `futures` executor; many calls in flight on one
//! connection; a call the server holds does not hold the executor's thread; timeouts and
//! dropped futures leave the connection usable; blocking and async callers share it; a
//! server that goes away ends the awaited call with an exception.
//!
//! Every ORB has a request timeout, so that a future that never completes fails its test
//! with TIMEOUT instead of hanging it.

use idlc_tests::asyncs::asyncs::{self as a, gate, Adder, Gate, GateRef, Refused};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::transport::Strategy;
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Far longer than any call here takes; only a future that never completes reaches it.
const STUCK: Duration = Duration::from_secs(20);

fn orb(collocation: CollocationStrategy) -> Orb {
    Orb::init(OrbOptions {
        collocation,
        request_timeout: Some(STUCK),
        strategy: Strategy::ThreadPool { threads: 4 },
        ..OrbOptions::default()
    })
    .expect("ORB")
}

/// The servant: a counter, arithmetic, and gates that `hold` waits at until the test opens
/// them.
#[derive(Default)]
struct GateImpl {
    value: AtomicI32,
    open: Mutex<HashSet<String>>,
    opened: Condvar,
    /// Told each time a `hold` has arrived and waits.
    held: Notify,
}

impl GateImpl {
    fn open(&self, key: &str) {
        self.open.lock().unwrap().insert(key.to_owned());
        self.opened.notify_all();
    }
}

impl Adder for GateImpl {
    fn add(&self, a: i32, b: i32) -> Result<i32, SystemException> {
        Ok(a.wrapping_add(b))
    }
}

impl Gate for GateImpl {
    fn value(&self) -> Result<i32, SystemException> {
        Ok(self.value.load(Ordering::SeqCst))
    }
    fn set_value(&self, value: i32) -> Result<(), SystemException> {
        self.value.store(value, Ordering::SeqCst);
        Ok(())
    }
    fn scale(&self, x: f64, acc: &mut f64) -> Result<(f64, f64), SystemException> {
        *acc += x;
        Ok((x * 2.0, x / 2.0))
    }
    fn reverse(&self, l: &[i32]) -> Result<a::Longs, SystemException> {
        Ok(l.iter().rev().copied().collect())
    }
    fn hold(&self, key: &str) -> Result<String, SystemException> {
        self.held.notify_one();
        let open = self.open.lock().unwrap();
        let (_open, waited) = self
            .opened
            .wait_timeout_while(open, STUCK, |o| !o.contains(key))
            .unwrap();
        if waited.timed_out() {
            return Err(SystemException::new(
                SystemExceptionKind::NO_RESOURCES,
                0,
                orb::giop::CompletionStatus::Yes,
            ));
        }
        Ok(format!("{key} passed"))
    }
    fn bump(&self, by: i32) -> Result<(), SystemException> {
        self.value.fetch_add(by, Ordering::SeqCst);
        Ok(())
    }
    fn refuse(&self, code: i32) -> Result<(), gate::RefuseError> {
        Err(Refused {
            why: "told to".into(),
            code,
        }
        .into())
    }
}

/// A tokio runtime whose one thread runs every task of the test.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A server ORB with one gate, and the reference a caller uses: from a second ORB over TCP
/// (`remote`), or the server's own (collocated unless the strategy is `None`).
struct Fixture {
    server: Orb,
    client: Orb,
    servant: Arc<GateImpl>,
    gate: GateRef,
}

impl Fixture {
    fn new(strategy: CollocationStrategy, remote: bool) -> Fixture {
        let server = orb(strategy);
        let servant = Arc::new(GateImpl::default());
        let obj = server
            .activate(
                &server.root_poa(),
                Arc::new(gate::Tie::from_arc(servant.clone())),
            )
            .expect("activate");
        let (client, obj) = if remote {
            let client = orb(strategy);
            let ior = server.object_to_string(&obj).expect("IOR");
            let obj = client.string_to_object(&ior).expect("string_to_object");
            (client, obj)
        } else {
            (server.clone(), obj)
        };
        let gate = GateRef::narrow(&obj).expect("narrow").expect("a Gate");
        Fixture {
            server,
            client,
            servant,
            gate,
        }
    }

    fn remote() -> Fixture {
        Fixture::new(CollocationStrategy::None, true)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.client.shutdown(true);
        self.server.shutdown(true);
    }
}

/// Every kind of call through the async reference.
async fn every_kind(g: &gate::AsyncRef, servant: &GateImpl) {
    assert_eq!(g.add(40, 2).await.unwrap(), 42, "inherited operation");
    g.set_value(7).await.unwrap();
    assert_eq!(g.value().await.unwrap(), 7, "attribute");
    let mut acc = 1.5;
    let (ret, half) = g.scale(3.0, &mut acc).await.unwrap();
    assert_eq!((ret, half, acc), (6.0, 1.5, 4.5), "out and inout");
    assert_eq!(g.reverse(&[1, 2, 3]).await.unwrap(), vec![3, 2, 1]);
    match g.refuse(17).await {
        Err(gate::RefuseError::Refused(Refused { why, code })) => {
            assert_eq!((why.as_str(), code), ("told to", 17));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    g.bump(5).await.unwrap();
    // A twoway after the oneway on the same connection returns once the oneway is served.
    assert_eq!(g.value().await.unwrap(), 12, "the oneway ran");
    assert_eq!(servant.value.load(Ordering::SeqCst), 12);
}

#[test]
fn every_kind_of_call_on_tokio_remote_and_collocated() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (strategy, remote) in [
        (CollocationStrategy::None, true),
        (CollocationStrategy::None, false),
        (CollocationStrategy::ThruPoa, false),
        (CollocationStrategy::Direct, false),
    ] {
        let f = Fixture::new(strategy, remote);
        let g = f.gate.to_async();
        let servant = f.servant.clone();
        // Spawned: the future must be Send to run on a multi-threaded runtime.
        rt.block_on(async { tokio::spawn(async move { every_kind(&g, &servant).await }).await })
            .unwrap();
    }
}

#[test]
fn every_kind_of_call_on_the_futures_executor() {
    let f = Fixture::remote();
    futures::executor::block_on(every_kind(&f.gate.to_async(), &f.servant));
    // And back: the blocking reference it came from still works.
    let sync: GateRef = f.gate.to_async().into();
    assert_eq!(sync.add(1, 1).unwrap(), 2);
}

#[test]
fn a_held_call_does_not_hold_the_executors_thread() {
    let f = Fixture::remote();
    let g = f.gate.to_async();
    let servant = f.servant.clone();
    let rt = current_thread();
    rt.block_on(async {
        // One thread runs both: the held call must be pending, not blocking, for the other
        // to open its gate; else the server holds it until STUCK and it fails.
        let held = g.hold("a");
        let opener = async {
            servant.held.notified().await;
            servant.open("a");
        };
        let (passed, ()) = tokio::join!(held, opener);
        assert_eq!(passed.unwrap(), "a passed");
    });
}

#[test]
fn many_calls_in_flight_on_one_connection() {
    let f = Fixture::remote();
    let g = f.gate.to_async();
    let rt = current_thread();
    let sums = rt.block_on(futures::future::join_all((0..200).map(|i| {
        let g = g.clone();
        async move { g.add(i, 1000).await }
    })));
    for (i, s) in sums.into_iter().enumerate() {
        assert_eq!(s.unwrap(), i as i32 + 1000, "call {i} got another's reply");
    }
}

#[test]
fn blocking_and_async_callers_share_the_connection() {
    let f = Fixture::remote();
    let g = f.gate.to_async();
    let sync = f.gate.clone();
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let sync = sync.clone();
            std::thread::spawn(move || {
                for i in 0..300 {
                    assert_eq!(sync.add(t * 1000, i).unwrap(), t * 1000 + i);
                }
            })
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|t| {
                let g = g.clone();
                tokio::spawn(async move {
                    for i in 0..300 {
                        assert_eq!(g.add(-t * 1000, i).await.unwrap(), -t * 1000 + i);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_timeout_ends_the_call_and_the_connection_goes_on() {
    let f = Fixture::remote();
    let impatient = f.gate.with_timeout(Duration::from_millis(200)).to_async();
    let g = f.gate.to_async();
    futures::executor::block_on(async {
        let err = impatient
            .hold("t")
            .await
            .expect_err("no reply within the timeout");
        assert_eq!(err.kind, SystemExceptionKind::TIMEOUT, "{err}");
        // Its reply comes later and is dropped; the connection serves the next calls.
        f.servant.open("t");
        assert_eq!(g.add(2, 3).await.unwrap(), 5);
        assert_eq!(g.hold("t").await.unwrap(), "t passed");
    });
}

#[test]
fn a_dropped_future_gives_up_its_call_and_others_go_on() {
    let f = Fixture::remote();
    let g = f.gate.to_async();
    let rt = current_thread();
    rt.block_on(async {
        let gave_up = tokio::time::timeout(Duration::from_millis(100), g.hold("d")).await;
        assert!(gave_up.is_err(), "the held call cannot have finished");
        f.servant.open("d");
        for i in 0..50 {
            assert_eq!(g.add(i, i).await.unwrap(), 2 * i);
        }
    });
}

#[test]
fn a_server_that_goes_away_ends_the_awaited_call() {
    let f = Fixture::remote();
    let g = f.gate.to_async();
    let server = f.server.clone();
    let servant = f.servant.clone();
    let rt = current_thread();
    rt.block_on(async {
        let held = g.hold("never");
        let closer = async {
            servant.held.notified().await;
            // Off the executor: shutting down waits for the held upcall, which the gate
            // then lets go.
            std::thread::spawn(move || server.shutdown(true));
            tokio::time::sleep(Duration::from_millis(50)).await;
            servant.open("never");
        };
        let (result, ()) = tokio::join!(held, closer);
        // Either the reply made it out before the connection closed, or the call ends with
        // the exception of a connection lost after sending; never a hang.
        match result {
            Ok(s) => assert_eq!(s, "never passed"),
            Err(e) => assert!(
                matches!(
                    e.kind,
                    SystemExceptionKind::COMM_FAILURE | SystemExceptionKind::TRANSIENT
                ),
                "{e}"
            ),
        }
        // Nothing listens any more: a new call fails at once, it does not wait.
        let err = g.add(1, 2).await.expect_err("the server is gone");
        assert!(
            matches!(
                err.kind,
                SystemExceptionKind::TRANSIENT | SystemExceptionKind::COMM_FAILURE
            ),
            "{err}"
        );
    });
}
