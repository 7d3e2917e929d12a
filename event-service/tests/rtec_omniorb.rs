//! Interoperability with omniORB 4.2 through TAO's real-time event IDL: the C++ programs in
//! `tests/omniorb-rtec/` (stubs from our `idl/` by `omniidl -bcxx`) push into and receive
//! from our channel, as the `rt-event-service` daemon and as an [`RtecChannel`] in this
//! process, beside Rust suppliers and consumers.
//!
//! The C++ side is built here, once per test run, into `CARGO_TARGET_TMPDIR` (kept while its
//! sources and the IDL stay the same), so that the event-service library never depends on
//! omniORB. Without omniidl, g++ and libomniorb4-dev the tests fail and say so: these are
//! interop tests, with nothing to run without the other ORB.
//!
//! Every omniORB program reads an empty configuration file of the test's, listens on
//! 127.0.0.1 only, and is killed by pid when its guard drops.

mod rtd_common;

use event_service::rtec::rtec_event_channel_admin::EventChannelRef;
use event_service::rtec::rtec_event_comm::{Event, PushConsumer as _};
use event_service::rtec::{self, ConsumerQosBuilder, RtecChannel, RtecOptions};
use orb::typecode::Any;
use rtd_common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ---- the C++ side ---------------------------------------------------------------------------

struct Programs {
    supplier: PathBuf,
    consumer: PathBuf,
}

const SOURCES: [&str; 2] = ["rtec_supplier.cc", "rtec_consumer.cc"];
const IDL: [&str; 6] = [
    "TimeBase",
    "OctetSeq",
    "RtecBase",
    "RtecDefaultEventData",
    "RtecEventComm",
    "RtecEventChannelAdmin",
];
/// omniORB's own IDL: `OctetSeq.idl` takes CORBA::OctetSeq from its `corbaidl.idl`.
const OMNIORB_IDL: &str = "/usr/share/idl/omniORB";

fn programs() -> &'static Programs {
    static BUILT: OnceLock<Programs> = OnceLock::new();
    BUILT.get_or_init(build_programs)
}

/// omniidl over the six IDL files, g++ over what it makes and our two programs (these with
/// `-Werror`: they must compile without a warning), linked against omniORB. Built in a
/// directory named by a hash of every input, so an unchanged build is reused and a changed one
/// never mixes with an old one.
fn build_programs() -> Programs {
    use std::hash::{Hash, Hasher};
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let idl_dir = manifest.join("../idl");
    let cc_dir = manifest.join("tests/omniorb-rtec");
    let mut hash = std::collections::hash_map::DefaultHasher::new();
    for f in IDL.iter().map(|f| idl_dir.join(format!("{f}.idl"))) {
        std::fs::read(&f).unwrap().hash(&mut hash);
    }
    for f in SOURCES {
        std::fs::read(cc_dir.join(f)).unwrap().hash(&mut hash);
    }
    let flags = tool(
        Command::new("pkg-config").args(["--cflags", "--libs", "omniDynamic4"]),
        "pkg-config omniDynamic4 (libomniorb4-dev)",
    );
    flags.hash(&mut hash);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("omniorb-rtec-{:016x}", hash.finish()));
    let programs = Programs {
        supplier: dir.join("rtec_supplier"),
        consumer: dir.join("rtec_consumer"),
    };
    if programs.supplier.exists() && programs.consumer.exists() {
        return programs;
    }
    // Built aside, then renamed into place: a run that stops half way leaves nothing that
    // looks finished.
    let work = tempfile::Builder::new()
        .prefix("omniorb-rtec-building-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let w = work.path();
    for f in IDL {
        tool(
            Command::new("omniidl")
                .args(["-bcxx", "-Wba", "-I"])
                .arg(&idl_dir)
                .args(["-I", OMNIORB_IDL, "-C"])
                .arg(w)
                .arg(idl_dir.join(format!("{f}.idl"))),
            "omniidl (package omniidl)",
        );
    }
    let cflags: Vec<&str> = flags
        .split_whitespace()
        .filter(|f| !f.starts_with("-l"))
        .collect();
    let libs: Vec<&str> = flags
        .split_whitespace()
        .filter(|f| f.starts_with("-l"))
        .collect();
    let compile = |source: &Path, object: &Path, strict: bool| {
        let mut cmd = Command::new("g++");
        cmd.args(["-std=c++11", "-O1", "-Wall", "-Wextra", "-c", "-I"])
            .arg(w)
            .args(&cflags)
            .arg(source)
            .arg("-o")
            .arg(object);
        if strict {
            cmd.arg("-Werror");
        }
        tool(&mut cmd, "g++");
    };
    let mut stubs = Vec::new();
    for f in IDL {
        for suffix in ["SK", "DynSK"] {
            let object = w.join(format!("{f}{suffix}.o"));
            compile(&w.join(format!("{f}{suffix}.cc")), &object, false);
            stubs.push(object);
        }
    }
    for f in SOURCES {
        let name = f.trim_end_matches(".cc");
        let object = w.join(format!("{name}.o"));
        compile(&cc_dir.join(f), &object, true);
        tool(
            Command::new("g++")
                .arg(&object)
                .args(&stubs)
                .arg("-o")
                .arg(w.join(name))
                .arg("-pthread")
                .args(&libs),
            "linking with g++",
        );
    }
    let built = work.keep();
    if std::fs::rename(&built, &dir).is_err() {
        // Another run got there first with the same inputs: its build is as good.
        let _ = std::fs::remove_dir_all(&built);
    }
    programs
}

/// Runs `cmd`; its stdout, or a panic naming `what` with its stderr.
fn tool(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (the omniORB interop tests need it)"));
    assert!(
        out.status.success(),
        "{what} failed: {cmd:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An omniORB program, killed (SIGKILL) and reaped when dropped.
struct Omni {
    child: Child,
    _config: tempfile::TempDir,
}

impl Drop for Omni {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Omni {
    fn start(program: &Path, args: &[&str]) -> Omni {
        let config = tempfile::tempdir().unwrap();
        std::fs::write(config.path().join("omniORB.cfg"), "").unwrap();
        let child = Command::new(program)
            .args(args)
            // Its POA listens on loopback only, on a port of the system's choosing.
            .args(["-ORBendPoint", "giop:tcp:127.0.0.1:"])
            .env("OMNIORB_CONFIG", config.path().join("omniORB.cfg"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Omni {
            child,
            _config: config,
        }
    }

    /// Waits (bounded) for it to exit; its exit status and everything it printed.
    fn finish(mut self) -> (bool, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "an omniORB program does not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        (status.success(), out)
    }
}

/// The C++ consumer of `type_source` (`TYPE:SOURCE`), once it printed `connected`.
struct CxxConsumer {
    omni: Omni,
    first: String,
}

impl CxxConsumer {
    fn connect(channel: &str, type_source: &str, count: usize) -> CxxConsumer {
        let mut omni = Omni::start(
            &programs().consumer,
            &[channel, type_source, &count.to_string()],
        );
        let (first, reader) = first_line(omni.child.stdout.take().unwrap());
        // The rest of its stdout is read when it has exited; put the pipe back for that.
        omni.child.stdout = Some(reader.into_inner());
        CxxConsumer { omni, first }
    }

    /// Its exit status, and `(type, source, pad1)` of each event it reports, sorted by pad1.
    fn finish(self) -> (bool, Vec<(i32, i32, i32)>, String) {
        let (ok, rest) = self.omni.finish();
        let out = format!("{}{rest}", self.first);
        assert!(self.first.starts_with("connected"), "{out}");
        let mut events: Vec<(i32, i32, i32)> = out
            .lines()
            .filter_map(|l| l.strip_prefix("event "))
            .map(|l| {
                let n: Vec<i32> = l
                    .split_whitespace()
                    .take(3)
                    .map(|w| w.parse().unwrap())
                    .collect();
                (n[0], n[1], n[2])
            })
            .collect();
        events.sort_by_key(|e| e.2);
        assert!(!out.contains("MISMATCH"), "{out}");
        (ok, events, out)
    }
}

/// The C++ supplier pushing `count` events cycling through `pairs` (`TYPE:SOURCE,...`), to
/// its end.
fn cxx_supply(channel: &str, pairs: &str, count: usize) {
    let (ok, out) =
        Omni::start(&programs().supplier, &[channel, pairs, &count.to_string()]).finish();
    assert!(ok && out.contains(&format!("pushed {count}")), "{out}");
}

/// `(type, source, pad1)` of the events among `count` cycling through `pairs` that
/// `(ty, source)` (0 a wildcard) subscribes to.
fn expected(pairs: &[(i32, i32)], count: usize, ty: i32, source: i32) -> Vec<(i32, i32, i32)> {
    (0..count)
        .map(|i| (pairs[i % pairs.len()], i as i32))
        .filter(|&((t, s), _)| (ty == 0 || t == ty) && (source == 0 || s == source))
        .map(|((t, s), i)| (t, s, i))
        .collect()
}

/// Event `i` as rtec_supplier makes it: pad1 i, `i % 17` octets `(i + k) % 256`, a long i.
fn cxx_style_event(ty: i32, source: i32, i: i32) -> Event {
    let mut e = rtec::event(source, ty);
    e.header.ttl = 1;
    e.data.pad1 = i;
    e.data.payload = (0..i % 17).map(|k| ((i + k) % 256) as u8).collect();
    e.data.any_value = Any::from(i);
    e
}

const PAIRS: [(i32, i32); 4] = [(17, 3), (18, 3), (17, 4), (19, 5)];
const PAIRS_ARG: &str = "17:3,18:3,17:4,19:5";

// ---- the tests --------------------------------------------------------------------------------

#[test]
fn cxx_consumers_get_exactly_their_events_from_the_cxx_supplier_through_the_daemon() {
    let daemon = RtDaemon::start(&["--stats", "0.05"]);
    let channel = daemon.corbaloc();
    let n = 40;
    // An exact pair, a wildcard type and a wildcard source: 10, 20 and 10 of the 40.
    let subscriptions = [(17, 3), (0, 3), (18, 0)];
    let consumers: Vec<CxxConsumer> = subscriptions
        .iter()
        .map(|&(t, s)| {
            CxxConsumer::connect(
                &channel,
                &format!("{t}:{s}"),
                expected(&PAIRS, n, t, s).len(),
            )
        })
        .collect();
    cxx_supply(&channel, PAIRS_ARG, n);
    for (c, &(t, s)) in consumers.into_iter().zip(&subscriptions) {
        let (ok, events, out) = c.finish();
        assert!(ok, "{out}");
        assert_eq!(events, expected(&PAIRS, n, t, s), "{t}:{s}");
    }
    // (17, 4) and (19, 5), 20 events, had nobody and stopped at the supplier's proxy.
    let stats = daemon.stats_after(n as u64);
    assert_eq!(stats.get("unsubscribed"), 20, "{stats:?}");
    assert_eq!(stats.get("dropped"), 0, "{stats:?}");
}

#[test]
fn cxx_consumer_gets_exactly_its_events_from_the_cxx_supplier_through_a_channel_in_this_process() {
    let server = client_orb();
    let channel = RtecChannel::start(&server, RtecOptions::default()).unwrap();
    server.listen().unwrap();
    let ior = server.object_to_string(channel.object()).unwrap();
    let n = 40;
    let consumer = CxxConsumer::connect(&ior, "17:3", 10);
    cxx_supply(&ior, PAIRS_ARG, n);
    let (ok, events, out) = consumer.finish();
    assert!(ok, "{out}");
    assert_eq!(events, expected(&PAIRS, n, 17, 3));
    let stats = channel.stats();
    assert_eq!(
        (stats.pushed, stats.unsubscribed, stats.dropped),
        (40, 30, 0)
    );
    channel.destroy();
    server.shutdown(true);
}

#[test]
fn a_rust_supplier_reaches_the_cxx_consumer_through_the_daemon() {
    let daemon = RtDaemon::start(&[]);
    let consumer = CxxConsumer::connect(&daemon.corbaloc(), "18:0", 15);
    let client = client_orb();
    let ch = EventChannelRef::unchecked_narrow(client.string_to_object(&daemon.ior).unwrap());
    let proxy = connect_supplier(&ch, PAIRS.map(|(t, s)| (s, t)));
    for i in 0..60 {
        let (t, s) = PAIRS[i % PAIRS.len()];
        proxy.push(&[cxx_style_event(t, s, i as i32)]).unwrap();
    }
    let (ok, events, out) = consumer.finish();
    assert!(ok, "{out}");
    assert_eq!(events, expected(&PAIRS, 60, 18, 0));
    proxy.disconnect_push_consumer().unwrap();
    client.shutdown(true);
}

#[test]
fn the_cxx_supplier_reaches_a_rust_consumer_through_the_daemon() {
    let daemon = RtDaemon::start(&["--stats", "0.05"]);
    let client = client_orb();
    let ch = EventChannelRef::unchecked_narrow(client.string_to_object(&daemon.ior).unwrap());
    let keeper = Keeper::default();
    keeper.connect(
        &client,
        &ch,
        &ConsumerQosBuilder::new().insert(3, 17, 0).build(),
    );
    cxx_supply(&daemon.corbaloc(), PAIRS_ARG, 40);
    keeper.wait_count(10);
    let mut got = keeper.events();
    got.sort_by_key(|e| e.data.pad1);
    let want: Vec<Event> = expected(&PAIRS, 40, 17, 3)
        .into_iter()
        .map(|(t, s, i)| cxx_style_event(t, s, i))
        .collect();
    // Everything the C++ supplier put in, header, payload and the long in the any.
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (
                g.header.r#type,
                g.header.source,
                g.data.pad1,
                &g.data.payload
            ),
            (
                w.header.r#type,
                w.header.source,
                w.data.pad1,
                &w.data.payload
            )
        );
        assert_eq!(g.data.any_value.as_i32(), Some(g.data.pad1));
    }
    // And nothing more: the 30 others stopped at the supplier's proxy, and the channel
    // pushed the consumer its 10.
    let stats = daemon.stats_after(40);
    assert_eq!(stats.get("unsubscribed"), 30, "{stats:?}");
    wait_until("a report with the consumer's 10 delivered", || {
        daemon
            .latest_stats()
            .is_some_and(|s| s.consumers.len() == 1 && get(&s.consumers[0], "delivered") == 10)
    });
    assert_eq!(keeper.events().len(), 10);
    client.shutdown(true);
}
