//! The `event-service` daemon as a process of its own: reached by `corbaloc:` at its
//! well-known key and by name through a naming service it bound itself in, events through it
//! over TCP to push and pull consumers, destroy, and its answers to bad arguments.

mod common;

use common::*;
use event_service::cos_event_channel_admin::{
    ConsumerAdmin, EventChannel as _, EventChannelRef, ProxyPullSupplier, ProxyPushConsumer,
    ProxyPushSupplier, SupplierAdmin,
};
use event_service::cos_event_comm::{PullConsumerRef, PullSupplier, PushConsumer, PushSupplierRef};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The daemon, killed (SIGKILL) and reaped when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1, free when asked, picked below the kernel's ephemeral range (32768 and
/// up by default): the outgoing connections of tests running in parallel take their local
/// ports from that range, and one could take a port picked there before its server binds it.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    (0u64..)
        .map(|n| 20_000 + (random.hash_one(n) % 12_000) as u16)
        .find(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port on 127.0.0.1")
}

/// Starts the daemon on a free port with `extra` arguments; returns once it printed its IOR.
fn start(extra: &[&str]) -> (Daemon, String) {
    start_on(free_port(), extra)
}

/// Starts the daemon on `port` with `extra` arguments; returns once it printed its IOR.
fn start_on(port: u16, extra: &[&str]) -> (Daemon, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_event-service"))
        .args(["--port", &port.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let daemon = Daemon { child, port };
    assert!(line.starts_with("IOR:"), "event-service printed {line:?}");
    (daemon, line.trim().to_owned())
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_event-service"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn events_flow_through_the_daemon_found_by_corbaloc_and_by_name() {
    let client = remote_orb();
    let ns_port = free_port();
    let (root, embedded) = naming_service::connect_or_start(&client, ns_port, None).unwrap();
    assert!(embedded.is_some());
    drop(root);
    let dir = tempfile::tempdir().unwrap();
    let ior_file = dir.path().join("channel.ior");
    let ns_url = format!("corbaloc::127.0.0.1:{ns_port}/NameService");
    let (daemon, ior) = start(&[
        "--ior-file",
        ior_file.to_str().unwrap(),
        "--name-service",
        &ns_url,
        "--name",
        "events.channel",
        "--queue-length",
        "64",
    ]);
    assert_eq!(
        std::fs::read_to_string(&ior_file).unwrap().trim(),
        ior,
        "the IOR file"
    );

    // Consumers find it by its well-known key.
    let by_key = EventChannelRef::narrow(
        &client
            .string_to_object(&format!("corbaloc::127.0.0.1:{}/EventChannel", daemon.port))
            .unwrap(),
    )
    .unwrap()
    .expect("corbaloc .../EventChannel is an EventChannel");
    let admin = by_key.for_consumers().unwrap();
    let consumers = [Collector::default(), Collector::default()];
    for c in &consumers {
        admin
            .obtain_push_supplier()
            .unwrap()
            .connect_push_consumer(&c.activate(&client))
            .unwrap();
    }
    let puller = admin.obtain_pull_supplier().unwrap();
    puller
        .connect_pull_consumer(&PullConsumerRef::nil())
        .unwrap();

    // The supplier finds it by name.
    let by_name = EventChannelRef::narrow(
        &client
            .string_to_object(&format!("corbaname::127.0.0.1:{ns_port}#events.channel"))
            .unwrap(),
    )
    .unwrap()
    .expect("the name is bound to an EventChannel");
    let supplier = by_name
        .for_suppliers()
        .unwrap()
        .obtain_push_consumer()
        .unwrap();
    supplier
        .connect_push_supplier(&PushSupplierRef::nil())
        .unwrap();
    for i in 0..30 {
        supplier.push(&ev(i)).unwrap();
    }
    let want: Vec<i32> = (0..30).collect();
    for c in &consumers {
        assert_eq!(c.wait_for(30), want);
    }
    let pulled: Vec<i32> = (0..30)
        .map(|_| puller.pull().unwrap().as_i32().unwrap())
        .collect();
    assert_eq!(pulled, want);

    // Destroyed, it tells its consumers and is gone, by either key.
    by_name.destroy().unwrap();
    wait_until("the consumers told", || {
        consumers.iter().all(Collector::disconnected)
    });
    for (what, ch) in [("by name", &by_name), ("by key", &by_key)] {
        match ch.for_suppliers() {
            Err(e) => assert_eq!(
                e.kind,
                orb::exception::SystemExceptionKind::OBJECT_NOT_EXIST,
                "{what}"
            ),
            Ok(_) => panic!("the channel {what} answers after destroy"),
        }
    }
    drop(daemon);
    client.shutdown(true);
}

/// Killed with SIGKILL and restarted on its port, the daemon answers the IOR it printed
/// before (its POA is persistent); a reconnecting consumer and supplier connect again by
/// themselves through that IOR, and events flow again.
#[test]
fn a_restarted_daemon_answers_its_old_ior_and_reconnecting_clients_carry_on() {
    use event_service::{ReconnectOptions, ReconnectingPushConsumer, ReconnectingPushSupplier};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let (daemon, ior) = start(&[]);
    let port = daemon.port;
    let client = remote_orb();
    let channel = EventChannelRef::unchecked_narrow(client.string_to_object(&ior).unwrap());
    let options = ReconnectOptions {
        retry_interval: Duration::from_millis(20),
        patience: Duration::from_secs(20),
        check_interval: Duration::from_millis(50),
    };
    let got = Arc::new(Mutex::new(Vec::<i32>::new()));
    let sink = got.clone();
    let mut consumer =
        ReconnectingPushConsumer::start(&client, channel.clone(), options.clone(), move |e| {
            sink.lock().unwrap().push(e.as_i32().expect("a long"))
        })
        .unwrap();
    wait_until("the consumer connected", || consumer.connections() == 1);
    let supplier = ReconnectingPushSupplier::new(channel, options);
    for i in 0..10 {
        supplier.push(&ev(i)).unwrap();
    }
    wait_until("10 events", || got.lock().unwrap().len() == 10);

    drop(daemon);
    // Its new IOR differs in the key's stamp of the process, which only speeds up lookups:
    // the old one resolves by the POA's name.
    let (_daemon, _) = start_on(port, &[]);
    let old = EventChannelRef::unchecked_narrow(client.string_to_object(&ior).unwrap());
    old.for_consumers()
        .expect("the old IOR answered after the restart");
    wait_until("the consumer connected again", || {
        consumer.connections() == 2
    });
    // The supplier's first push after the restart may meet its dead connection after
    // writing (COMM_FAILURE, COMPLETED_MAYBE: not pushed again); the next ones go through.
    let mut pushed = Vec::new();
    for i in 10..20 {
        match supplier.push(&ev(i)) {
            Ok(()) => pushed.push(i),
            Err(e) if i == 10 && e.completed == orb::giop::CompletionStatus::Maybe => {}
            Err(e) => panic!("push {i} after the restart: {e}"),
        }
    }
    assert_eq!(supplier.connections(), 2);
    wait_until("the events pushed after the restart", || {
        let got = got.lock().unwrap();
        pushed.iter().all(|i| got.contains(i))
    });
    let got = got.lock().unwrap().clone();
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique, got, "an event delivered twice: {got:?}");
    consumer.stop();
    supplier.disconnect();
    client.shutdown(true);
}

fn assert_refused(out: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit status {}", out.status);
    assert!(
        stderr.contains(expect),
        "stderr does not mention {expect:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_arguments_get_clear_errors() {
    assert_refused(&run(&["--queue-length", "0"]), "--queue-length");
    assert_refused(&run(&["--port", "seventy"]), "--port");
    assert_refused(&run(&["--name", "x"]), "--name-service");
    assert_refused(&run(&["--pull-mode", "sometimes"]), "--pull-mode");
    let port = free_port().to_string();
    assert_refused(
        &run(&["--port", &port, "-ORBfrobnicate", "1"]),
        "-ORBfrobnicate",
    );
    assert_refused(
        &run(&[
            "--port",
            &port,
            "--name-service",
            "corbaloc::127.0.0.1:1/NameService",
            "--name",
            "a",
        ]),
        "cannot bind",
    );
    assert_refused(
        &run(&[
            "--port",
            &port,
            "--name-service",
            "no-such-url",
            "--name",
            "a",
        ]),
        "no-such-url",
    );
    let dir = tempfile::tempdir().unwrap();
    let missing: &Path = &dir.path().join("no/such/dir/ior");
    assert_refused(
        &run(&["--port", &port, "--ior-file", missing.to_str().unwrap()]),
        "cannot write",
    );
}

/// SIGTERM is a clean shutdown: the daemon said where it listens, and exits 0.
#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_event-service"))
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(
        line.trim_end(),
        format!("event-service: listening on giop:tcp:127.0.0.1:{port}")
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Bounded, so that a daemon that ignores the signal fails the test rather than hangs it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon was still running 60 s after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}: {rest}");
    assert!(rest.contains("signal 15"), "{rest}");
}
