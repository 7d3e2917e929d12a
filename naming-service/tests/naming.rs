//! The naming service through its CORBA interface: every operation and exception in
//! process, 100 concurrent clients, iterators reaped, replies that wait for the log's
//! `fsync` and share it, `kill -9` of the daemon (idle, and amid concurrent clients) losing
//! no acknowledged binding, and a damaged log tail reported and cut.

use naming_service::cos_naming::{
    naming_context, naming_context_ext, BindingIterator, BindingType, Name, NameComponent,
    NamingContext, NamingContextExt, NamingContextExtRef, NamingContextRef,
};
use naming_service::store::{Bound, Store, ROOT};
use naming_service::{open_store, NamingService};
use orb::exception::SystemExceptionKind;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn n(s: &str) -> Name {
    orb::ior::parse_string_name(s)
        .unwrap()
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect()
}

/// A service in its own ORB and a client ORB calling it over loopback.
fn service() -> (Orb, NamingService, Orb, NamingContextExtRef) {
    service_on(Store::in_memory())
}

/// The same, on `store`, with a thread per connection (as the daemon has) so that
/// concurrent clients' requests run at once.
fn service_on(store: Store) -> (Orb, NamingService, Orb, NamingContextExtRef) {
    let mut options = OrbOptions::default();
    options
        .parse_args(["-ORBthreadStrategy".into(), "connection".into()])
        .unwrap();
    let server = Orb::init(options).unwrap();
    let svc = NamingService::start(&server, store).unwrap();
    let client = client_orb();
    let root = client
        .string_to_object(&svc.root().to_ior_string().unwrap())
        .unwrap();
    (
        server,
        svc,
        client,
        NamingContextExtRef::unchecked_narrow(root),
    )
}

fn client_orb() -> Orb {
    Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rtorb-ns-")
        .tempdir()
        .unwrap()
}

/// Polls `done` until it holds; panics (naming `what`) if it never does. For waiting on
/// other threads' progress, never for timing anything.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn some_object(orb: &Orb, tag: &str) -> ObjectRef {
    orb.string_to_object(&format!("corbaloc::127.0.0.1:1/{tag}"))
        .unwrap()
}

#[test]
fn every_operation_and_exception() {
    let (_s, _svc, client, root) = service();
    let obj = some_object(&client, "a");
    let a = root.bind_new_context(&n("a")).unwrap();
    root.bind(&n("a/x.obj"), &obj).unwrap();
    assert_eq!(root.resolve(&n("a/x.obj")).unwrap(), obj);
    assert_eq!(root.resolve_str("a/x.obj").unwrap(), obj);
    assert_eq!(a.resolve(&n("x.obj")).unwrap(), obj);

    match root.bind(&n("a/x.obj"), &obj) {
        Err(naming_context::BindError::AlreadyBound(_)) => {}
        other => panic!("{other:?}"),
    }
    let other = some_object(&client, "b");
    root.rebind(&n("a/x.obj"), &other).unwrap();
    assert_eq!(root.resolve(&n("a/x.obj")).unwrap(), other);

    match root.resolve(&n("a/missing/deeper")) {
        Err(naming_context::ResolveError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::MissingNode);
            assert_eq!(e.rest_of_name, n("missing/deeper"));
        }
        other => panic!("{other:?}"),
    }
    match root.resolve(&n("a/x.obj/deeper")) {
        Err(naming_context::ResolveError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::NotContext);
            assert_eq!(e.rest_of_name, n("x.obj/deeper"));
        }
        other => panic!("{other:?}"),
    }
    match root.resolve(&[]) {
        Err(naming_context::ResolveError::InvalidName(_)) => {}
        other => panic!("{other:?}"),
    }
    match root.bind(
        &[NameComponent {
            id: String::new(),
            kind: "k".into(),
        }],
        &obj,
    ) {
        Err(naming_context::BindError::InvalidName(_)) => {}
        other => panic!("{other:?}"),
    }
    match a.destroy() {
        Err(naming_context::DestroyError::NotEmpty(_)) => {}
        other => panic!("{other:?}"),
    }

    // A context made apart, then bound by reference.
    let loose = root.new_context().unwrap();
    root.bind_context(&n("loose"), &loose).unwrap();
    loose.bind(&n("y"), &obj).unwrap();
    assert_eq!(root.resolve(&n("loose/y")).unwrap(), obj);

    // to_string / to_name / to_url follow the INS escaping.
    let tricky = n("a\\/b.c\\.d/e");
    assert_eq!(root.to_string(&tricky).unwrap(), "a\\/b.c\\.d/e");
    assert_eq!(root.to_name("a\\/b.c\\.d/e").unwrap(), tricky);
    assert_eq!(
        root.to_url(":127.0.0.1:2809", "a b/c").unwrap(),
        "corbaname::127.0.0.1:2809#a%20b/c"
    );
    match root.to_url("", "a") {
        Err(naming_context_ext::ToUrlError::InvalidAddress(_)) => {}
        other => panic!("{other:?}"),
    }
    match root.to_name("a//b") {
        Err(naming_context_ext::ToNameError::InvalidName(_)) => {}
        other => panic!("{other:?}"),
    }

    root.unbind(&n("a/x.obj")).unwrap();
    match root.unbind(&n("a/x.obj")) {
        Err(naming_context::UnbindError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::MissingNode)
        }
        other => panic!("{other:?}"),
    }
    a.destroy().unwrap();
    // The binding to a destroyed context dangles: the name cannot proceed through it.
    match root.resolve(&n("a/x")) {
        Err(naming_context::ResolveError::CannotProceed(e)) => {
            assert_eq!(e.rest_of_name, n("x"))
        }
        Err(naming_context::ResolveError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::OBJECT_NOT_EXIST)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn list_pages_through_an_iterator_and_abandoned_ones_are_reaped() {
    let (_s, svc, client, root) = service();
    let obj = some_object(&client, "o");
    for i in 0..25 {
        root.bind(&n(&format!("o{i:02}")), &obj).unwrap();
    }
    root.bind_new_context(&n("ctx")).unwrap();
    let (first, it) = root.list(10).unwrap();
    assert_eq!(first.len(), 10);
    assert!(!it.is_nil());
    let (ok, one) = it.next_one().unwrap();
    assert!(ok);
    let (more, rest) = it.next_n(100).unwrap();
    assert!(more);
    assert_eq!(10 + 1 + rest.len(), 26);
    let all: Vec<_> = first.iter().chain([&one]).chain(&rest).collect();
    assert_eq!(
        all.iter()
            .filter(|b| b.binding_type == BindingType::Ncontext)
            .count(),
        1
    );
    let (more, empty) = it.next_n(5).unwrap();
    assert!(!more && empty.is_empty());
    it.destroy().unwrap();
    assert!(it.next_one().is_err());
    assert_eq!(svc.live_iterators(), 0);

    // Everything fits: no iterator.
    let (all, it) = root.list(1000).unwrap();
    assert_eq!(all.len(), 26);
    assert!(it.is_nil());

    // how_many 0 always gives an iterator, even over an empty context: nameclt lists that
    // way and calls next_one without checking for nil.
    let empty = root.new_context().unwrap();
    let (none, it) = empty.list(0).unwrap();
    assert!(none.is_empty());
    assert!(!it.is_nil());
    assert!(!it.next_one().unwrap().0);
    it.destroy().unwrap();
    let (none, it) = empty.list(5).unwrap();
    assert!(none.is_empty() && it.is_nil());

    // 1,100 abandoned iterators: the service keeps at most 1,000.
    for _ in 0..1100 {
        let (_, it) = root.list(1).unwrap();
        assert!(!it.is_nil());
    }
    assert!(svc.live_iterators() <= 1000, "{}", svc.live_iterators());
}

#[test]
fn a_hundred_concurrent_clients_lose_nothing() {
    let dir = tempdir();
    let (_s, _svc, _client, root) = service_on(open_store(Some(dir.path())).unwrap());
    let ior = root.object().to_ior_string().unwrap();
    let threads: Vec<_> = (0..100)
        .map(|t| {
            let ior = ior.clone();
            std::thread::spawn(move || {
                let orb = client_orb();
                let root =
                    NamingContextExtRef::unchecked_narrow(orb.string_to_object(&ior).unwrap());
                let obj = some_object(&orb, &format!("t{t}"));
                for i in 0..10 {
                    root.bind(&n(&format!("t{t}-{i}")), &obj).unwrap();
                }
                for i in 0..10 {
                    if i % 2 == 0 {
                        root.unbind(&n(&format!("t{t}-{i}"))).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (all, it) = root.list(10_000).unwrap();
    assert!(it.is_nil());
    assert_eq!(all.len(), 100 * 5);
    for t in 0..100 {
        for i in (1..10).step_by(2) {
            root.resolve(&n(&format!("t{t}-{i}"))).unwrap();
        }
    }
    // And the log says the same to a store reopened from it.
    let (disk, recovery) = Store::open(dir.path()).unwrap();
    assert_eq!(recovery.truncated, None);
    let names: Vec<String> = disk
        .context(ROOT)
        .unwrap()
        .keys()
        .map(|(id, _)| id.clone())
        .collect();
    let mut want: Vec<String> = (0..100)
        .flat_map(|t| (1..10).step_by(2).map(move |i| format!("t{t}-{i}")))
        .collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn replies_wait_for_the_fsync_and_concurrent_binds_share_one() {
    let dir = tempdir();
    let store = open_store(Some(dir.path())).unwrap();
    let sync = store.durability().unwrap();
    let (_s, _svc, _client, root) = service_on(store);
    let ior = root.object().to_ior_string().unwrap();
    const CLIENTS: usize = 16;
    let acked = Arc::new(AtomicUsize::new(0));
    let fsyncs_before = sync.fsyncs();

    // No fsync may start: every bind is appended, none may be replied.
    let hold = sync.hold();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (ior, acked) = (ior.clone(), acked.clone());
            std::thread::spawn(move || {
                let orb = client_orb();
                let root =
                    NamingContextExtRef::unchecked_narrow(orb.string_to_object(&ior).unwrap());
                root.bind(&n(&format!("c{t}")), &some_object(&orb, "x"))
                    .unwrap();
                acked.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    wait_until("every bind to be appended", || {
        sync.written() == CLIENTS as u64
    });
    assert_eq!(
        acked.load(Ordering::SeqCst),
        0,
        "a reply came before its fsync"
    );
    assert_eq!(sync.synced(), 0);

    // One fsync makes all of them durable and lets every reply go.
    drop(hold);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(acked.load(Ordering::SeqCst), CLIENTS);
    assert_eq!(sync.fsyncs() - fsyncs_before, 1);
    assert_eq!(sync.synced(), CLIENTS as u64);
    let (disk, _) = Store::open(dir.path()).unwrap();
    assert_eq!(disk.context(ROOT).unwrap().len(), CLIENTS);

    // Left to themselves, concurrent binds still share fsyncs (each waits for the one
    // running when it appended, and the next covers all who came meanwhile).
    let fsyncs_before = sync.fsyncs();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let ior = ior.clone();
            std::thread::spawn(move || {
                let orb = client_orb();
                let root =
                    NamingContextExtRef::unchecked_narrow(orb.string_to_object(&ior).unwrap());
                for i in 0..20 {
                    root.bind(&n(&format!("free{t}-{i}")), &some_object(&orb, "x"))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let records = (CLIENTS * 20) as u64;
    let fsyncs = sync.fsyncs() - fsyncs_before;
    assert!(fsyncs > 0 && fsyncs <= records, "{fsyncs} fsyncs");
    assert_eq!(sync.synced(), CLIENTS as u64 + records);
    let (disk, _) = Store::open(dir.path()).unwrap();
    assert_eq!(
        disk.context(ROOT).unwrap().len(),
        CLIENTS + records as usize
    );
    eprintln!("{records} concurrent binds took {fsyncs} fsyncs");
}

/// The daemon, killed by pid when dropped: its root IOR and where its standard error goes.
struct Daemon(Child, String, PathBuf);

impl Daemon {
    fn start(port: u16, dir: &Path) -> Daemon {
        let stderr = dir.with_extension(format!("stderr-{port}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_naming-service"))
            .args(["--port", &port.to_string(), "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let daemon = Daemon(child, line.trim().to_owned(), stderr);
        assert!(daemon.1.starts_with("IOR:"), "{line:?} {}", daemon.stderr());
        daemon
    }

    /// What it wrote on standard error so far.
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.2).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

#[test]
fn kill_dash_nine_loses_no_acknowledged_binding_and_references_survive() {
    let dir = std::env::temp_dir().join(format!("rtorb-ns-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let client = Orb::init(OrbOptions::default()).unwrap();
    let url = format!("corbaloc::127.0.0.1:{port}/NameService");
    let obj = some_object(&client, "x");

    let daemon = Daemon::start(port, &dir);
    let first_ior = daemon.1.clone();
    let root = NamingContextExtRef::unchecked_narrow(client.string_to_object(&url).unwrap());
    let ctx = root.bind_new_context(&n("dir")).unwrap();
    let ctx_ior = ctx.object().to_ior_string().unwrap();
    let mut acked = 0;
    for i in 0..200 {
        root.bind(&n(&format!("dir/o{i}")), &obj).unwrap();
        acked += 1;
    }
    // SIGKILL: no chance to flush anything that was not already on disk.
    drop(daemon);

    let daemon = Daemon::start(port, &dir);
    let root = NamingContextExtRef::unchecked_narrow(client.string_to_object(&url).unwrap());
    for i in 0..acked {
        assert_eq!(root.resolve(&n(&format!("dir/o{i}"))).unwrap(), obj);
    }
    // The old references still work: the root's and the context's.
    let old_root = NamingContextRef::unchecked_narrow(client.string_to_object(&first_ior).unwrap());
    assert_eq!(old_root.resolve(&n("dir/o0")).unwrap(), obj);
    let old_ctx = NamingContextRef::unchecked_narrow(client.string_to_object(&ctx_ior).unwrap());
    assert_eq!(old_ctx.resolve(&n("o199")).unwrap(), obj);
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kill -9` leaves the page cache to the kernel, so this shows that nothing acknowledged
/// lived only in the process (unwritten, or buffered); that replies wait for the `fsync`
/// itself is `replies_wait_for_the_fsync_and_concurrent_binds_share_one`'s to show.
/// SIGTERM (what `systemctl stop` and `docker stop` send) is a clean shutdown: the daemon
/// said where it listens, exits 0, and leaves a log that replays whole, every binding in it.
#[test]
fn sigterm_shuts_the_daemon_down_cleanly() {
    let scratch = tempdir();
    let dir = scratch.path().join("data");
    let port = free_port();
    let mut daemon = Daemon::start(port, &dir);
    wait_until("\"listening on\" on the daemon's stderr", || {
        daemon.stderr().contains("listening on")
    });
    assert!(
        daemon.stderr().contains(&format!(
            "naming-service: listening on giop:tcp:127.0.0.1:{port}"
        )),
        "{}",
        daemon.stderr()
    );
    let client = client_orb();
    let root = NamingContextExtRef::unchecked_narrow(
        client
            .string_to_object(&format!("corbaloc::127.0.0.1:{port}/NameService"))
            .unwrap(),
    );
    let obj = some_object(&client, "x");
    for i in 0..20 {
        root.bind(&n(&format!("o{i}")), &obj).unwrap();
    }
    let kill = Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut status = None;
    wait_until("the daemon to exit after SIGTERM", || {
        status = daemon.0.try_wait().unwrap();
        status.is_some()
    });
    let status = status.unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}: {}", daemon.stderr());
    assert!(daemon.stderr().contains("signal 15"), "{}", daemon.stderr());
    let (store, recovery) = Store::open(&dir).unwrap();
    assert_eq!(recovery.truncated, None);
    assert_eq!(store.context(ROOT).unwrap().len(), 20);
}

#[test]
fn kill_dash_nine_amid_concurrent_clients_loses_no_acknowledged_binding() {
    let scratch = tempdir();
    let dir = scratch.path().join("data");
    let port = free_port();
    let url = format!("corbaloc::127.0.0.1:{port}/NameService");
    let daemon = Daemon::start(port, &dir);
    const CLIENTS: usize = 8;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (url, acked) = (url.clone(), acked.clone());
            std::thread::spawn(move || {
                let orb = client_orb();
                let root =
                    NamingContextExtRef::unchecked_narrow(orb.string_to_object(&url).unwrap());
                let obj = some_object(&orb, &format!("t{t}"));
                // Bind until the daemon dies under us; only what was replied to counts.
                for i in 0.. {
                    let name = format!("t{t}-{i}");
                    if root.bind(&n(&name), &obj).is_err() {
                        return;
                    }
                    acked.lock().unwrap().push(name);
                }
            })
        })
        .collect();
    wait_until("400 acknowledged binds, some from every client", || {
        let acked = acked.lock().unwrap();
        acked.len() >= 400
            && (0..CLIENTS).all(|t| acked.iter().any(|a| a.starts_with(&format!("t{t}-"))))
    });
    // SIGKILL while all eight are mid-stream.
    drop(daemon);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let daemon = Daemon::start(port, &dir);
    let orb = client_orb();
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&url).unwrap());
    for name in &acked {
        root.resolve(&n(name))
            .unwrap_or_else(|e| panic!("acknowledged {name} lost: {e}"));
    }
    // SIGKILL can land inside the `write` of a batch not yet acknowledged (the kernel stops
    // copying at a fatal signal), so a torn last record is allowed and must be reported as such;
    // any other damage (a checksum mismatch) would mean a record was written wrongly.
    let stderr = daemon.stderr();
    if stderr.contains("damaged") {
        assert!(stderr.contains("cut short"), "{stderr}");
    }
}

#[test]
fn a_damaged_log_tail_is_reported_and_the_valid_prefix_served() {
    let scratch = tempdir();
    let dir = scratch.path().join("data");
    let port = free_port();
    let url = format!("corbaloc::127.0.0.1:{port}/NameService");
    let orb = client_orb();
    let obj = some_object(&orb, "x");
    let daemon = Daemon::start(port, &dir);
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&url).unwrap());
    for i in 0..10 {
        root.bind(&n(&format!("o{i}")), &obj).unwrap();
    }
    drop(daemon);
    let log = dir.join("naming.log");
    let full = std::fs::read(&log).unwrap();
    let record = full.len() / 10;

    for (damage, kept, why) in [
        // A crash in the middle of appending the last record.
        (full[..full.len() - 3].to_vec(), 9, "cut short"),
        // A flipped bit in the eighth record: the seven before it stay.
        (
            {
                let mut bad = full.clone();
                bad[7 * record + 20] ^= 0x10;
                bad
            },
            7,
            "checksum",
        ),
        // Garbage where the fifth record's length should be.
        (
            {
                let mut bad = full.clone();
                bad[4 * record..4 * record + 4].copy_from_slice(&[0xff; 4]);
                bad
            },
            4,
            "claims",
        ),
    ] {
        std::fs::write(&log, &damage).unwrap();
        let daemon = Daemon::start(port, &dir);
        let report = daemon.stderr();
        assert!(
            report.contains("damaged record")
                && report.contains(why)
                && report.contains(&format!("kept the {kept} records")),
            "{report}"
        );
        let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&url).unwrap());
        let (all, _) = root.list(100).unwrap();
        assert_eq!(all.len(), kept);
        for i in 0..kept {
            assert_eq!(root.resolve(&n(&format!("o{i}"))).unwrap(), obj);
        }
        // What it kept is what the log now holds, and new changes append after it.
        root.bind(&n("after"), &obj).unwrap();
        drop(daemon);
        let (disk, recovery) = Store::open(&dir).unwrap();
        assert_eq!(recovery.truncated, None);
        assert_eq!(recovery.replayed, kept + 1);
        assert!(matches!(
            disk.lookup(ROOT, &("after".into(), String::new())),
            Some(Bound::Object(_))
        ));
    }
}

#[test]
fn embedded_mode_starts_a_service_only_when_none_answers() {
    let port = free_port();
    let orb = Orb::init(OrbOptions::default()).unwrap();
    let (root, embedded) = naming_service::connect_or_start(&orb, port, None).unwrap();
    assert!(embedded.is_some());
    root.bind_new_context(&n("here")).unwrap();
    // A second caller finds the first one's service.
    let (again, none) = naming_service::connect_or_start(&orb, port, None).unwrap();
    assert!(none.is_none());
    again.resolve(&n("here")).unwrap();
}

#[test]
fn embedded_mode_gives_up_on_a_port_that_never_answers() {
    // Something took the port and never answers: an error naming the port, not a hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().flatten().collect();
        drop(held);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let orb = Orb::init(OrbOptions::default()).unwrap();
        let _ = tx.send(
            naming_service::connect_or_start(&orb, port, None)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
    });
    let got = rx
        .recv_timeout(naming_service::PROBE_TIMEOUT * 6)
        .expect("connect_or_start still waiting on a silent port");
    let e = got.unwrap_err();
    assert!(
        e.starts_with(&format!(
            "something at 127.0.0.1:{port} accepts connections but does not answer"
        )) && e.contains("TIMEOUT"),
        "{e}"
    );
}

#[test]
fn a_data_dir_that_is_a_file_is_said_so() {
    let scratch = tempdir();
    let file = scratch.path().join("data");
    std::fs::write(&file, "not a directory").unwrap();
    let e = open_store(Some(&file)).err().unwrap().to_string();
    assert_eq!(
        e,
        format!(
            "the data directory {} is a file, not a directory: give --data-dir a directory \
             (it is made if missing), or move the file away",
            file.display()
        )
    );
}

#[test]
fn nsadmin_list_of_an_object_says_it_is_not_a_context() {
    let scratch = tempdir();
    let port = free_port();
    let _daemon = Daemon::start(port, &scratch.path().join("data"));
    let ns = format!("corbaloc::127.0.0.1:{port}/NameService");
    let client = client_orb();
    let root = NamingContextExtRef::unchecked_narrow(client.string_to_object(&ns).unwrap());
    // A live object of the service that is not a context: a binding iterator.
    let (_, iterator) = root.list(0).unwrap();
    root.bind(&n("thing"), iterator.object()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nsadmin"))
        .args(["--ns", &ns, "list", "thing"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "nsadmin: list \"thing\" at {ns}: \"thing\" is bound to an object that is not a \
             naming context: there is nothing to list (`nsadmin resolve thing` prints its IOR)"
        )
    );
}

#[test]
fn a_typed_reference_can_have_its_own_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().flatten().collect();
        drop(held);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut o = OrbOptions::default();
        // The ORB would wait for ever; the typed reference does not.
        o.parse_args(["-ORBclientCallTimeOutPeriod".into(), "0".into()])
            .unwrap();
        let orb = Orb::init(o).unwrap();
        let root = NamingContextExtRef::unchecked_narrow(
            orb.string_to_object(&format!("corbaloc::{addr}/NameService"))
                .unwrap(),
        )
        .with_timeout(Duration::from_millis(200));
        assert_eq!(root.object().timeout(), Some(Duration::from_millis(200)));
        let _ = tx.send(root.resolve(&n("x")).map(drop));
    });
    let got = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the call was still waiting");
    match got {
        Err(naming_context::ResolveError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::TIMEOUT, "{e}");
            assert_eq!(e.peer(), Some(addr));
        }
        other => panic!("{other:?}"),
    }
}

/// A restarted service answers nothing until all of it is there: a client calling
/// `corbaloc::…/NameService` while the service starts gets TRANSIENT (nothing listens yet)
/// or an answer — never OBJECT_NOT_EXIST, which tells a client the object is gone for good.
/// (Found by `faults/`'s naming scenario: the listener opened with the first context's
/// activation, and the root was registered only after every context was.) Many contexts
/// make the start take long enough for the client to call all through it.
#[test]
fn a_client_calling_through_the_start_never_gets_object_not_exist() {
    let mut store = Store::in_memory();
    for _ in 0..20_000 {
        store.new_context().unwrap();
    }
    let port = free_port();
    let mut options = OrbOptions::default();
    options
        .parse_args([
            "-ORBendPoint".to_owned(),
            format!("giop:tcp:127.0.0.1:{port}"),
        ])
        .unwrap();
    let server = Orb::init(options).unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = {
        let (served, stop) = (served.clone(), stop.clone());
        std::thread::spawn(move || {
            let orb = client_orb();
            let url = format!("corbaloc::127.0.0.1:{port}/NameService");
            let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&url).unwrap());
            let mut refused = 0;
            while !stop.load(Ordering::Relaxed) || served.load(Ordering::Relaxed) == 0 {
                match root.resolve(&n("absent")) {
                    Err(naming_context::ResolveError::NotFound(_)) => {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(naming_context::ResolveError::System(e))
                        if e.kind == SystemExceptionKind::TRANSIENT =>
                    {
                        refused += 1;
                    }
                    other => panic!("while the service started: {other:?}"),
                }
            }
            refused
        })
    };
    let svc = NamingService::start(&server, store).unwrap();
    stop.store(true, Ordering::Relaxed);
    let refused = caller.join().unwrap();
    assert!(served.load(Ordering::Relaxed) > 0);
    eprintln!("{refused} calls refused while the service started");
    drop(svc);
}
