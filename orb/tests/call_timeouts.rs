//! Calls on a server that accepts connections and never answers end in `TIMEOUT` — by the
//! ORB's option, a reference's own timeout or one call's — and every failure says where it
//! went and what to check. The silent server is a bare listener on port 0 that keeps what
//! it accepts and reads nothing.

use orb::exception::{minor, SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::{ObjectRef, Orb, OrbOptions};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// Far longer than any timeout set here: a call still waiting then would wait for ever.
const WATCHDOG: Duration = Duration::from_secs(60);

/// A listener that accepts and never answers; it lives as long as the process.
fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

fn client(args: &[&str]) -> Orb {
    let mut o = OrbOptions::default();
    o.parse_args(args.iter().map(|s| s.to_string())).unwrap();
    Orb::init(o).unwrap()
}

fn reference(orb: &Orb, addr: SocketAddr) -> ObjectRef {
    orb.string_to_object(&format!("corbaloc::{addr}/Silent"))
        .unwrap()
}

/// Runs `call` on another thread and gives its error, failing the test if it has not ended
/// within the watchdog's bound (the call hung) or succeeded.
fn fails(call: impl FnOnce() -> Result<(), SystemException> + Send + 'static) -> SystemException {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(call());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(Err(e)) => e,
        Ok(Ok(())) => panic!("a call to a server that never answers succeeded"),
        Err(_) => panic!("the call was still waiting after {WATCHDOG:?}"),
    }
}

fn call(obj: &ObjectRef) -> Result<(), SystemException> {
    obj.invoke("ping", &|_| Ok(())).map(drop)
}

fn assert_timed_out(e: &SystemException, addr: SocketAddr) {
    assert_eq!(e.kind, SystemExceptionKind::TIMEOUT, "{e}");
    assert_eq!(e.minor, minor::TIMEOUT_CALL_TIMED_OUT);
    assert_eq!(e.completed, CompletionStatus::Maybe);
    assert_eq!(e.peer(), Some(addr));
    let text = e.to_string();
    assert!(
        text.starts_with("TIMEOUT (minor CallTimedOutOnClient 0x41540008, COMPLETED_MAYBE): ")
            && text.contains(&format!("no reply from {addr} within the call timeout")),
        "{text}"
    );
}

#[test]
fn the_orb_option_bounds_every_call() {
    let addr = silent_server();
    let orb = client(&["-ORBclientCallTimeOutPeriod", "200"]);
    let obj = reference(&orb, addr);
    let e = fails(move || call(&obj));
    assert_timed_out(&e, addr);
}

#[test]
fn the_default_is_thirty_seconds_and_zero_waits_for_ever() {
    assert_eq!(
        OrbOptions::default().request_timeout,
        Some(Duration::from_secs(30))
    );
    let orb = client(&["-ORBclientCallTimeOutPeriod", "0"]);
    assert_eq!(orb.options().request_timeout, None);
}

#[test]
fn a_reference_can_have_its_own_timeout() {
    let addr = silent_server();
    // The ORB would wait for ever; the reference does not.
    let orb = client(&["-ORBclientCallTimeOutPeriod", "0"]);
    let obj = reference(&orb, addr);
    let bounded = obj.with_timeout(Duration::from_millis(200));
    assert_eq!(bounded.timeout(), Some(Duration::from_millis(200)));
    assert_eq!(obj.timeout(), None, "the original keeps the ORB's timeout");
    assert!(bounded.is_equivalent(&obj));
    let e = fails(move || call(&bounded));
    assert_timed_out(&e, addr);
}

#[test]
fn one_call_can_have_its_own_timeout() {
    let addr = silent_server();
    let orb = client(&["-ORBclientCallTimeOutPeriod", "0"]);
    let obj = reference(&orb, addr);
    let e = fails(move || orb::with_call_timeout(Duration::from_millis(200), || call(&obj)));
    assert_timed_out(&e, addr);
}

#[test]
fn the_innermost_timeout_wins() {
    let addr = silent_server();
    // The reference alone would wait for ever; the call's own bound applies.
    let orb = client(&["-ORBclientCallTimeOutPeriod", "600000"]);
    let obj = reference(&orb, addr).with_timeout(Duration::ZERO);
    let e = fails(move || orb::with_call_timeout(Duration::from_millis(200), || call(&obj)));
    assert_timed_out(&e, addr);
}

#[test]
fn nothing_listening_says_where_and_what_to_check() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is gone: connections to `addr` are refused.
    let orb = client(&[]);
    let obj = reference(&orb, addr);
    let e = fails(move || call(&obj));
    assert_eq!(e.kind, SystemExceptionKind::TRANSIENT);
    assert_eq!(e.peer(), Some(addr));
    assert_eq!(
        e.to_string(),
        format!(
            "TRANSIENT (minor ConnectFailed 0x41540002, COMPLETED_NO): nothing listens at \
             {addr} — is the server running?"
        )
    );
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so a connect to it
/// waits as one to a host that has gone (a partition) does. It lives as long as the process.
fn unanswering_listener() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => queued.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
            Err(e) => panic!("filling the accept queue of {addr}: {e}"),
        }
        assert!(
            queued.len() < 10_000,
            "the accept queue of {addr} never filled"
        );
    }
    std::thread::spawn(move || {
        let _held = (listener, queued);
        std::thread::park();
    });
    addr
}

/// The call's timeout covers its connect: with a connect timeout longer than the watchdog,
/// a connect that is never answered still ends the call at its own timeout — TIMEOUT,
/// COMPLETED_NO, as nothing was sent — where it used to wait out the connect timeout
/// (found by the partition scenario of `faults/`: a client connecting during a partition).
#[test]
fn a_connect_never_answered_ends_at_the_call_timeout() {
    let addr = unanswering_listener();
    let orb = client(&[
        "-ORBclientCallTimeOutPeriod",
        "300",
        "-ORBclientConnectTimeOutPeriod",
        "600000",
    ]);
    let obj = reference(&orb, addr);
    let e = fails(move || call(&obj));
    assert_eq!(e.kind, SystemExceptionKind::TIMEOUT, "{e}");
    assert_eq!(e.minor, minor::TIMEOUT_CALL_TIMED_OUT);
    assert_eq!(e.completed, CompletionStatus::No);
    assert_eq!(e.peer(), Some(addr));
}
