//! Interoperability with omniEvents 2.6 (Debian's package, on omniORB 4.2): our push
//! supplier, push consumers and pull consumer through a real omniEvents channel (made by
//! `eventc`, which binds it in our naming service); and omniEvents' `events` tool consuming
//! from our channel and supplying into it.
//!
//! Every program runs on a free port with its files in a temporary directory, and is killed by
//! pid when its guard drops. omniEvents listens on every interface (its `-p PORT` makes the
//! endpoint `giop:::PORT`, and an `-ORBendPoint` beside it clashes with that one), and so does
//! an omniORB program serving a consumer, so each test runs again in a network namespace of
//! its own whose only interface is loopback: nothing listens on any other address.

mod common;

use common::*;
use event_service::cos_event_channel_admin::{
    ConsumerAdmin, EventChannel as _, EventChannelRef, ProxyPullSupplier, ProxyPushConsumer,
    ProxyPushSupplier, SupplierAdmin,
};
use event_service::cos_event_comm::{
    PullConsumerRef, PullSupplier, PushConsumer, PushSupplier, PushSupplierRef,
};
use event_service::{ChannelOptions, EventChannel};
use orb::typecode::Any;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed (SIGKILL) and reaped when dropped.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Waits for the process to exit by itself; panics if it does not.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} does not exit", self.what);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A temporary directory, and an empty omniORB configuration file in it so that no
/// `/etc/omniORB.cfg` changes what omniORB's programs do.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("rtorb-events-omni-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("omniORB.cfg"), "").unwrap();
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn omniorb(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("OMNIORB_CONFIG", self.path().join("omniORB.cfg"));
        cmd
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

/// omniEvents on a free port, its data and trace in `scratch`, in the foreground. A port
/// free when looked at may be taken by another test before omniEvents binds it: then it
/// exits, and another port is tried.
fn start_omnievents(scratch: &Scratch) -> (Proc, u16) {
    let mut failures = Vec::new();
    for attempt in 0..5 {
        let port = free_port();
        let data = scratch.path().join(format!("omnievents-data-{attempt}"));
        std::fs::create_dir_all(&data).unwrap();
        let trace = scratch.path().join(format!("omnievents-trace-{attempt}"));
        let stderr = scratch.path().join(format!("omnievents-stderr-{attempt}"));
        let child = scratch
            .omniorb("omniEvents")
            .args(["-f", "-p", &port.to_string(), "-l"])
            .arg(&data)
            .arg("-t")
            .arg(&trace)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("omniEvents (package omnievents; scripts/test.sh installs it)");
        let mut proc = Proc {
            child,
            what: "omniEvents",
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut exited = None;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = proc.child.try_wait() {
                exited = Some(status);
                break;
            }
            assert!(Instant::now() < deadline, "omniEvents does not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        match exited {
            None => return (proc, port),
            Some(status) => failures.push(format!(
                "port {port}: exited with {status}: {}{}",
                std::fs::read_to_string(&stderr).unwrap_or_default(),
                std::fs::read_to_string(&trace).unwrap_or_default()
            )),
        }
    }
    panic!("omniEvents did not start: {failures:#?}");
}

/// Set in the copy of the test binary that runs inside the private network namespace.
const IN_NETNS: &str = "RTORB_EVENTS_TEST_IN_NETNS";

/// Runs the test `name` again, in this test binary, in a network namespace of its own (`unshare
/// --net --map-root-user`, its loopback brought up), unless this already is that run. Returns
/// whether the caller is the outer run, whose part ends with the inner run's success.
fn rerun_in_private_netns(name: &str) -> bool {
    if std::env::var_os(IN_NETNS).is_some() {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["--net", "--map-root-user", "--", "sh", "-c"])
        .arg(r#"ip link set lo up && exec "$0" "$@""#)
        .arg(&exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .output()
        .expect("unshare (util-linux) runs the test in a network namespace of its own");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in its own network namespace ({}; `unshare --net --map-root-user` and `ip` \
         from iproute2 are needed):\n{stdout}\n{stderr}",
        out.status
    );
    true
}

/// Events of two types, to see that the `any`s travel whole.
fn event(i: i32) -> Any {
    if i % 3 == 2 {
        Any::from(format!("event {i}").as_str())
    } else {
        Any::from(i)
    }
}

fn describe(events: &[Any]) -> Vec<String> {
    events
        .iter()
        .map(|e| match (e.as_i32(), e.as_str()) {
            (Some(n), _) => format!("long {n}"),
            (_, Some(s)) => format!("string {s}"),
            _ => format!("other {:?}", e.type_code().kind()),
        })
        .collect()
}

#[test]
fn our_supplier_and_consumers_through_an_omnievents_channel() {
    if rerun_in_private_netns("our_supplier_and_consumers_through_an_omnievents_channel") {
        return;
    }
    let scratch = Scratch::new();
    let client = remote_orb();
    // eventc binds the channel it makes in a naming service: ours, in this process.
    let ns_port = free_port();
    let (_root, _naming) = naming_service::connect_or_start(&client, ns_port, None).unwrap();
    let (_omnievents, port) = start_omnievents(&scratch);
    let out = scratch
        .omniorb("eventc")
        .args(["-v", "-n", "rtorb-test"])
        .args([
            "-ORBInitRef",
            &format!("NameService=corbaloc::127.0.0.1:{ns_port}/NameService"),
        ])
        .arg(format!("corbaloc::127.0.0.1:{port}/omniEvents"))
        .output()
        .expect("eventc (package omnievents)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "eventc failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ior = stdout
        .lines()
        .find(|l| l.starts_with("IOR:"))
        .unwrap_or_else(|| panic!("eventc printed no IOR: {stdout}"));
    let channel = EventChannelRef::unchecked_narrow(client.string_to_object(ior).unwrap());
    // The name eventc bound in our naming service leads to the same channel.
    let named = client
        .string_to_object(&format!("corbaname::127.0.0.1:{ns_port}#rtorb-test"))
        .unwrap();
    assert!(EventChannelRef::narrow(&named).unwrap().is_some());

    let consumers = [Collector::default(), Collector::default()];
    let admin = channel.for_consumers().unwrap();
    let mut proxies = Vec::new();
    for c in &consumers {
        let proxy = admin.obtain_push_supplier().unwrap();
        proxy.connect_push_consumer(&c.activate(&client)).unwrap();
        proxies.push(proxy);
    }
    let puller = admin.obtain_pull_supplier().unwrap();
    puller
        .connect_pull_consumer(&PullConsumerRef::nil())
        .unwrap();
    let supplier_peer = Peer::default();
    let supplier = channel
        .for_suppliers()
        .unwrap()
        .obtain_push_consumer()
        .unwrap();
    supplier
        .connect_push_supplier(&supplier_peer.as_push_supplier(&client))
        .unwrap();
    let sent: Vec<Any> = (0..12).map(event).collect();
    for e in &sent {
        supplier.push(e).unwrap();
    }
    for c in &consumers {
        c.wait_count(sent.len());
        assert_eq!(describe(&c.inner.events.lock().unwrap()), describe(&sent));
    }
    let pulled: Vec<Any> = (0..sent.len()).map(|_| puller.pull().unwrap()).collect();
    assert_eq!(describe(&pulled), describe(&sent));

    // A consumer leaving is told by omniEvents' proxy, as by ours.
    proxies[0].disconnect_push_supplier().unwrap();
    wait_until("omniEvents to tell the consumer", || {
        consumers[0].disconnected()
    });
    supplier.disconnect_push_consumer().unwrap();
    wait_until("omniEvents to tell the supplier", || {
        supplier_peer.disconnected()
    });
    channel.destroy().unwrap();
    wait_until("the other consumer told of destroy", || {
        consumers[1].disconnected()
    });
    client.shutdown(true);
}

#[test]
fn omnievents_tools_consume_from_and_supply_into_our_channel() {
    if rerun_in_private_netns("omnievents_tools_consume_from_and_supply_into_our_channel") {
        return;
    }
    let scratch = Scratch::new();
    let server = server_orb();
    let source = EventChannel::start(&server, ChannelOptions::default()).unwrap();
    let source_ior = source.object().to_ior_string().unwrap();

    // `events CHANNEL` streams the events it is given to its standard output.
    let stream = scratch.path().join("events.bin");
    let mut consumer = Proc {
        child: scratch
            .omniorb("events")
            .arg(&source_ior)
            .stdout(std::fs::File::create(&stream).unwrap())
            .stderr(std::fs::File::create(scratch.path().join("events-stderr")).unwrap())
            .spawn()
            .expect("events (package omnievents)"),
        what: "events",
    };
    wait_until("events to connect to our channel", || {
        source.stats().consumers == 1
    });
    let supplier = source
        .reference()
        .for_suppliers()
        .unwrap()
        .obtain_push_consumer()
        .unwrap();
    supplier
        .connect_push_supplier(&PushSupplierRef::nil())
        .unwrap();
    let sent: Vec<Any> = (0..12).map(event).collect();
    for e in &sent {
        supplier.push(e).unwrap();
    }
    // The last event is the string "event 11": once it is in the stream, `events` has had
    // them all. Destroying the channel then disconnects it, and it ends.
    wait_until("every event delivered to `events`", || {
        std::fs::read(&stream).is_ok_and(|b| b.windows(8).any(|w| w == b"event 11"))
    });
    source.destroy();
    let status = consumer.wait_exit();
    let stderr = std::fs::read_to_string(scratch.path().join("events-stderr")).unwrap();
    assert!(status.success(), "events ended with {status}: {stderr}");
    // It says so on its standard output, after the events: not part of the stream.
    let mut recorded = std::fs::read(&stream).unwrap();
    let note = b"disconnected\n";
    assert!(
        recorded.ends_with(note),
        "events did not report its disconnection"
    );
    recorded.truncate(recorded.len() - note.len());
    let events_file = scratch.path().join("events-only.bin");
    std::fs::write(&events_file, recorded).unwrap();

    // `events -s CHANNEL` pushes what it reads back into another channel of ours.
    let sink = EventChannel::start(&server, ChannelOptions::default()).unwrap();
    let collector = Collector::default();
    sink.reference()
        .for_consumers()
        .unwrap()
        .obtain_push_supplier()
        .unwrap()
        .connect_push_consumer(&collector.activate(&server))
        .unwrap();
    let out = scratch
        .omniorb("events")
        .arg("-s")
        .arg(sink.object().to_ior_string().unwrap())
        .stdin(std::fs::File::open(&events_file).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "events -s failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    collector.wait_count(sent.len());
    assert_eq!(
        describe(&collector.inner.events.lock().unwrap()),
        describe(&sent)
    );
    sink.destroy();
    server.shutdown(true);
}
