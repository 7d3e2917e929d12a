//! The naming service through its CORBA interface: every operation and exception in
//! process, 100 concurrent clients, iterators reaped, and `kill -9` of the daemon losing no
//! acknowledged binding.

use naming_service::cos_naming::{
    naming_context, naming_context_ext, BindingIterator, BindingType, Name, NameComponent,
    NamingContext, NamingContextExt, NamingContextExtRef, NamingContextRef,
};
use naming_service::{open_store, NamingService};
use orb::exception::SystemExceptionKind;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn n(s: &str) -> Name {
    orb::ior::parse_string_name(s)
        .unwrap()
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect()
}

/// A service in its own ORB and a client ORB calling it over loopback.
fn service() -> (Orb, NamingService, Orb, NamingContextExtRef) {
    let server = Orb::init(OrbOptions::default()).unwrap();
    let svc = NamingService::start(&server, open_store(None).unwrap()).unwrap();
    let client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap();
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
    let (_s, _svc, _client, root) = service();
    let ior = root.object().to_ior_string().unwrap();
    let threads: Vec<_> = (0..100)
        .map(|t| {
            let ior = ior.clone();
            std::thread::spawn(move || {
                let orb = Orb::init(OrbOptions {
                    collocation: CollocationStrategy::None,
                    ..OrbOptions::default()
                })
                .unwrap();
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
}

/// The daemon, killed by pid when dropped.
struct Daemon(Child, String);

impl Daemon {
    fn start(port: u16, dir: &std::path::Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_naming-service"))
            .args(["--port", &port.to_string(), "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("IOR:"), "{line:?}");
        Daemon(child, line.trim().to_owned())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
