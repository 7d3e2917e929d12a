//! omniORB's cubit server process serves in the thread model it is asked for: each model's
//! options reach omniORB (as its configuration dump shows), and with a thread per connection
//! (the default) every connection gets a thread of its own. Arguments that are not omniORB's
//! are refused with a message.

// The pool is not told apart by its threads: a thread that has served a call watches its
// connection a while (`threadPoolWatchConnection`), so calls on fresh connections one after
// the other also start a thread each, which then idles in the pool; only timing would show it.

use rtorb_benches::cubit::{
    client_orb, cubit_ref, Case, OmniModel, Op, OrbCase, ServerProcess, Transport,
};
use std::process::Command;

/// The connections each model is given.
const CONNECTIONS: usize = 16;

/// The threads of process `pid` (Linux's `/proc/PID/task`).
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/task: {e}"))
        .count()
}

/// How many threads omniORB's server in `model` gains while [`CONNECTIONS`] clients, each
/// with a connection of its own, have made one call each, one after the other, and stay
/// connected.
fn threads_gained(model: OmniModel) -> usize {
    let server = ServerProcess::omniorb_with(model);
    let before = threads(server.pid());
    let clients: Vec<OrbCase> = (0..CONNECTIONS)
        .map(|_| {
            let orb = client_orb(Transport::Giop, None);
            let target = cubit_ref(&orb, server.ior());
            let mut case = OrbCase::new(orb, target, Op::CubeLong);
            case.check();
            case
        })
        .collect();
    let after = threads(server.pid());
    drop(clients);
    after.saturating_sub(before)
}

#[test]
fn thread_per_connection_spends_a_thread_on_every_connection() {
    let gained = threads_gained(OmniModel::ThreadPerConnection);
    assert!(
        gained >= CONNECTIONS,
        "{gained} threads more for {CONNECTIONS} connections"
    );
}

/// What omniORB's server, started with `options`, says its configuration is (it prints it
/// with `-ORBdumpConfiguration 1`, then serves until stdin, here empty, closes).
fn configuration(options: &[&str]) -> String {
    let out = Command::new(env!("RTORB_CUBIT_SERVER"))
        .arg("0")
        .args(options)
        .args(["-ORBdumpConfiguration", "1"])
        .output()
        .expect("cubit_server runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}: {err}", out.status);
    err
}

#[test]
fn each_model_reaches_omniorb_as_its_thread_policy() {
    for (model, policy) in [
        (
            OmniModel::ThreadPerConnection,
            "threadPerConnectionPolicy = 1",
        ),
        (OmniModel::Pool, "threadPerConnectionPolicy = 0"),
    ] {
        let config = configuration(model.orb_options());
        assert!(config.contains(policy), "{model:?}: {config}");
    }
}

#[test]
fn arguments_that_are_not_omniorb_options_are_refused() {
    let out = Command::new(env!("RTORB_CUBIT_SERVER"))
        .args(["0", "stray"])
        .output()
        .expect("cubit_server runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stray is not an omniORB option"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("IOR:"));
}
