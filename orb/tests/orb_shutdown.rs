//! `ORB::run` returns only once the shutdown has completed (CORBA 3.0 §4.2.3.3), also when a
//! servant asked for it without waiting from inside an upcall: a request under way is
//! answered (its connection closed only after the reply) before `run` returns, so a
//! server's `main` may tear down what its servants use.
//! Found by the omniORB interop tests (examples/interop), whose server exits after `run`.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::{CollocationStrategy, Orb, OrbOptions, Servant};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `slow` blocks until released, then logs "slow done"; `stop` calls `shutdown(false)`.
struct Stopper {
    orb: Mutex<Option<Orb>>,
    release: Mutex<mpsc::Receiver<()>>,
    log: Arc<Mutex<Vec<&'static str>>>,
    started: Mutex<mpsc::Sender<()>>,
}

impl Servant for Stopper {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Stopper:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        operation: &str,
        _args: &mut Decoder<'_>,
        _reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "slow" => {
                let _ = self.started.lock().unwrap().send(());
                let _ = self.release.lock().unwrap().recv();
                self.log.lock().unwrap().push("slow done");
            }
            _ => {
                if let Some(orb) = self.orb.lock().unwrap().take() {
                    orb.shutdown(false);
                }
            }
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn run_returns_after_the_requests_under_way_when_a_servant_shuts_down_without_waiting() {
    let server = Orb::init(OrbOptions::default()).unwrap();
    let (release_tx, release_rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let servant = Arc::new(Stopper {
        orb: Mutex::new(Some(server.clone())),
        release: Mutex::new(release_rx),
        log: log.clone(),
        started: Mutex::new(started_tx),
    });
    let obj = server.activate(&server.root_poa(), servant).unwrap();
    let ior = obj.to_ior_string().unwrap();

    let runner = {
        let server = server.clone();
        let log = log.clone();
        std::thread::spawn(move || {
            let r = server.run();
            log.lock().unwrap().push("run returned");
            r
        })
    };

    // Bounded, so a lost reply fails the test instead of hanging it.
    let client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .unwrap();
    let slow_obj = client.string_to_object(&ior).unwrap();
    let slow = std::thread::spawn(move || {
        slow_obj
            .invoke("slow", &|_: &mut Encoder| -> Result<(), EncodeError> {
                Ok(())
            })
            .map(|_| ())
    });
    started_rx.recv().unwrap();

    // A second client (its own connection, so the stop is not queued behind slow).
    let stopper_client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap();
    let stop_obj = stopper_client.string_to_object(&ior).unwrap();
    // A oneway: the shutdown closes the connections, so a reply might never come.
    stop_obj
        .invoke_oneway("stop", &|_: &mut Encoder| -> Result<(), EncodeError> {
            Ok(())
        })
        .unwrap();

    // A run that returned early has had time to say so before slow finishes; a correct one
    // waits for slow whatever the timing, so this sleep cannot make the test fail wrongly.
    std::thread::sleep(Duration::from_millis(200));
    release_tx.send(()).unwrap();
    runner.join().unwrap().unwrap();
    // The request under way is answered before its connection is closed (§15.5.1).
    slow.join()
        .unwrap()
        .expect("the reply to a request under way at shutdown");
    assert_eq!(*log.lock().unwrap(), ["slow done", "run returned"]);
}

/// `run_until_signal` is `run` when no signal comes: a shutdown from elsewhere ends it, with
/// no signal to report, and its signal-watching thread goes too.
#[test]
fn run_until_signal_returns_none_after_a_shutdown_from_elsewhere() {
    let orb = Orb::init(OrbOptions::default()).unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = orb.clone();
    std::thread::spawn(move || {
        let _ = tx.send(runner.run_until_signal().map_err(|e| e.to_string()));
    });
    orb.shutdown(true);
    let got = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("run_until_signal still running after shutdown");
    assert_eq!(got, Ok(None));
}

/// A server that has shut down refuses connections under every thread strategy: the reactor's
/// listening sockets stayed open after its threads were gone, so a client's connect succeeded
/// into the backlog and its request waited, unanswered, until the call timeout (found by the
/// async stub tests).
#[test]
fn a_server_shut_down_refuses_new_connections_under_every_strategy() {
    for strategy in ["reactive", "pool", "connection"] {
        let mut options = OrbOptions::default();
        options
            .parse_args(["-ORBthreadStrategy".into(), strategy.into()])
            .unwrap();
        let server = Orb::init(options).unwrap();
        let (_release_tx, release_rx) = mpsc::channel();
        let (started_tx, _started_rx) = mpsc::channel();
        let servant = Arc::new(Stopper {
            orb: Mutex::new(None),
            release: Mutex::new(release_rx),
            log: Arc::new(Mutex::new(Vec::new())),
            started: Mutex::new(started_tx),
        });
        let ior = server
            .activate(&server.root_poa(), servant)
            .unwrap()
            .to_ior_string()
            .unwrap();
        let client = Orb::init(OrbOptions {
            collocation: CollocationStrategy::None,
            request_timeout: Some(Duration::from_secs(20)),
            ..OrbOptions::default()
        })
        .unwrap();
        let obj = client.string_to_object(&ior).unwrap();
        let call = || {
            obj.invoke("stop", &|_: &mut Encoder| -> Result<(), EncodeError> {
                Ok(())
            })
        };
        call().expect("served before the shutdown");
        server.shutdown(true);
        let err = call().expect_err("nothing serves after the shutdown");
        assert_eq!(
            err.kind,
            orb::exception::SystemExceptionKind::TRANSIENT,
            "{strategy}: {err}"
        );
    }
}
