//! Interoperability with omniORB 4.2 (Debian's packages): omniORB's `nameclt` drives our
//! naming service; our `nsadmin` and client library drive omniNames; contexts of one are
//! bound in the other and names resolved across; an omniORB C++ server binds itself in ours
//! and a Rust client resolves and calls it.
//!
//! Every program runs on 127.0.0.1 on a free port with its files in a temporary directory,
//! and is killed by pid when its guard drops, so a failing test leaves nothing behind.

use naming_service::cos_naming::{
    naming_context, BindingIterator, BindingType, Name, NameComponent, NamingContext,
    NamingContextExt, NamingContextExtRef, NamingContextRef,
};
use orb::{ObjectRef, Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The test uses only the client half of the generated code.
#[allow(dead_code)]
mod greeter {
    include!(concat!(env!("OUT_DIR"), "/greeter.rs"));
}

fn n(s: &str) -> Name {
    orb::ior::parse_string_name(s)
        .unwrap()
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect()
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

fn corbaloc(port: u16) -> String {
    format!("corbaloc::127.0.0.1:{port}/NameService")
}

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

/// A temporary directory, and an empty omniORB configuration file in it so that no
/// `/etc/omniORB.cfg` (an InitRef there, say) changes what omniORB's programs do.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("rtorb-ns-omniorb-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("omniORB.cfg"), "").unwrap();
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// An omniORB program, configured from our empty file.
    fn omniorb(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("OMNIORB_CONFIG", self.path().join("omniORB.cfg"));
        cmd
    }
}

/// Our `naming-service` binary on a free port, durable in `dir`.
fn start_ours(dir: &Path) -> (Proc, u16) {
    let port = free_port();
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
    let proc = Proc {
        child,
        what: "naming-service",
    };
    assert!(line.starts_with("IOR:"), "naming-service printed {line:?}");
    (proc, port)
}

/// Waits until something accepts connections on `port`, or the process exits.
fn wait_for_port(proc: &mut Proc, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("{} exited with {status} before listening", proc.what);
        }
        assert!(
            Instant::now() < deadline,
            "{} does not listen on {port}",
            proc.what
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A real omniNames on a free port, its log in a directory of `scratch`.
fn start_omninames(scratch: &Scratch) -> (Proc, u16) {
    let port = free_port();
    let logdir = scratch.path().join(format!("omninames-{port}"));
    std::fs::create_dir_all(&logdir).unwrap();
    let child = scratch
        .omniorb("omniNames")
        .args(["-start", &port.to_string(), "-logdir"])
        .arg(&logdir)
        .args(["-ORBendPoint", &format!("giop:tcp:127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(logdir.join("stderr")).unwrap())
        .spawn()
        .expect("omniNames (package omniorb-nameserver; scripts/test.sh installs it)");
    let mut proc = Proc {
        child,
        what: "omniNames",
    };
    wait_for_port(&mut proc, port);
    // omniNames listens before it activates its root context, and in between answers
    // OBJECT_NOT_EXIST: wait until the root is there.
    let orb = client();
    let root = orb.string_to_object(&corbaloc(port)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while root.locate() != Ok(true) {
        assert!(Instant::now() < deadline, "omniNames has no root context");
        std::thread::sleep(Duration::from_millis(20));
    }
    (proc, port)
}

/// Runs `nameclt` against the naming service on `port`.
fn nameclt(scratch: &Scratch, port: u16, args: &[&str]) -> Output {
    scratch
        .omniorb("nameclt")
        .args(["-ORBInitRef", &format!("NameService={}", corbaloc(port))])
        .args(args)
        .output()
        .expect("nameclt (package omniorb; scripts/test.sh installs it)")
}

/// `nameclt` that must succeed: its standard output.
fn nameclt_ok(scratch: &Scratch, port: u16, args: &[&str]) -> String {
    let out = nameclt(scratch, port, args);
    assert!(
        out.status.success(),
        "nameclt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `nameclt` that must fail: its standard error.
fn nameclt_err(scratch: &Scratch, port: u16, args: &[&str]) -> String {
    let out = nameclt(scratch, port, args);
    assert!(
        !out.status.success(),
        "nameclt {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// The lines of a listing, sorted (omniNames lists in its own order).
fn lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    v.sort_unstable();
    v
}

fn client() -> Orb {
    Orb::init(OrbOptions::default()).unwrap()
}

fn root_at(orb: &Orb, port: u16) -> NamingContextExtRef {
    NamingContextExtRef::unchecked_narrow(orb.string_to_object(&corbaloc(port)).unwrap())
}

fn some_object(orb: &Orb, key: &str) -> ObjectRef {
    orb.string_to_object(&format!("corbaloc::127.0.0.1:1/{key}"))
        .unwrap()
}

#[test]
fn nameclt_drives_our_service() {
    let scratch = Scratch::new();
    let (_ours, port) = start_ours(&scratch.path().join("data"));
    let orb = client();
    let root = root_at(&orb, port);
    let obj = some_object(&orb, "thing");
    let ior = obj.to_ior_string().unwrap();

    assert_eq!(nameclt_ok(&scratch, port, &["list"]).trim(), "");
    let ctx_ior = nameclt_ok(&scratch, port, &["bind_new_context", "a.dir"]);
    let ctx = root.resolve(&n("a.dir")).unwrap();
    assert_eq!(orb.string_to_object(ctx_ior.trim()).unwrap(), ctx);
    nameclt_ok(&scratch, port, &["bind", "a.dir/x.obj", &ior]);
    nameclt_ok(&scratch, port, &["bind", "top", &ior]);
    assert_eq!(
        lines(&nameclt_ok(&scratch, port, &["list"])),
        ["a.dir/", "top"]
    );
    assert_eq!(
        lines(&nameclt_ok(&scratch, port, &["list", "a.dir"])),
        ["x.obj"]
    );
    // What nameclt bound is what we hold, and what it resolves is what was bound.
    assert_eq!(root.resolve(&n("a.dir/x.obj")).unwrap(), obj);
    let resolved = nameclt_ok(&scratch, port, &["resolve", "a.dir/x.obj"]);
    assert_eq!(orb.string_to_object(resolved.trim()).unwrap(), obj);

    // The exceptions reach nameclt as the ones it knows.
    assert!(nameclt_err(&scratch, port, &["bind", "top", &ior]).contains("AlreadyBound"));
    assert!(nameclt_err(&scratch, port, &["resolve", "a.dir/nope"]).contains("missing node"));
    assert!(nameclt_err(&scratch, port, &["resolve", "top/deeper"]).contains("not context"));
    assert!(nameclt_err(&scratch, port, &["remove_context", "a.dir"]).contains("NotEmpty"));

    let other = some_object(&orb, "other");
    nameclt_ok(
        &scratch,
        port,
        &[
            "-advanced",
            "rebind",
            "top",
            &other.to_ior_string().unwrap(),
        ],
    );
    assert_eq!(root.resolve(&n("top")).unwrap(), other);

    nameclt_ok(&scratch, port, &["unbind", "a.dir/x.obj"]);
    match root.resolve(&n("a.dir/x.obj")) {
        Err(naming_context::ResolveError::NotFound(_)) => {}
        other => panic!("{other:?}"),
    }
    // nameclt looks for the binding in a listing before it unbinds.
    assert!(
        nameclt_err(&scratch, port, &["unbind", "a.dir/x.obj"]).contains("couldn't find binding")
    );
    nameclt_ok(&scratch, port, &["remove_context", "a.dir"]);
    // remove_context destroyed the context, not only unbound it.
    let ctx = NamingContextRef::unchecked_narrow(ctx);
    assert!(ctx.list(10).is_err());
    nameclt_ok(&scratch, port, &["unbind", "top"]);
    assert_eq!(nameclt_ok(&scratch, port, &["list"]).trim(), "");

    // The older GIOP versions omniORB speaks work too.
    for version in ["1.0", "1.1"] {
        nameclt_ok(
            &scratch,
            port,
            &[
                "-ORBmaxGIOPVersion",
                version,
                "bind",
                &format!("g{version}"),
                &ior,
            ],
        );
        let got = nameclt_ok(
            &scratch,
            port,
            &[
                "-ORBmaxGIOPVersion",
                version,
                "resolve",
                &format!("g{version}"),
            ],
        );
        assert_eq!(orb.string_to_object(got.trim()).unwrap(), obj);
    }
}

/// Runs our `nsadmin` against `ns`.
fn nsadmin(ns: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nsadmin"))
        .args(["--ns", ns])
        .args(args)
        .output()
        .unwrap()
}

fn nsadmin_ok(ns: &str, args: &[&str]) -> String {
    let out = nsadmin(ns, args);
    assert!(
        out.status.success(),
        "nsadmin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn nsadmin_err(ns: &str, args: &[&str]) -> String {
    let out = nsadmin(ns, args);
    assert!(
        !out.status.success(),
        "nsadmin {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn nsadmin_drives_omninames_and_says_what_failed_where() {
    let scratch = Scratch::new();
    let (_om, port) = start_omninames(&scratch);
    nsadmin_session(&scratch, port);
}

#[test]
fn nsadmin_drives_our_service_and_says_what_failed_where() {
    let scratch = Scratch::new();
    let (_ours, port) = start_ours(&scratch.path().join("data"));
    nsadmin_session(&scratch, port);
}

/// Every nsadmin command, and its failures, against the naming service on `port`.
fn nsadmin_session(scratch: &Scratch, port: u16) {
    let ns = corbaloc(port);
    let orb = client();
    let obj = some_object(&orb, "thing");
    let ior = obj.to_ior_string().unwrap();

    assert_eq!(nsadmin_ok(&ns, &["list"]).trim(), "");
    nsadmin_ok(&ns, &["bind-new-context", "a"]);
    nsadmin_ok(&ns, &["bind-new-context", "a/b.k"]);
    nsadmin_ok(&ns, &["bind", "a/b.k/x.obj", &ior]);
    nsadmin_ok(&ns, &["bind", "top", &ior]);
    assert_eq!(
        lines(&nsadmin_ok(&ns, &["list", "--recursive"])),
        ["a/", "a/b.k/", "a/b.k/x.obj", "top"]
    );
    // nameclt sees there what nsadmin put there.
    assert_eq!(
        lines(&nameclt_ok(scratch, port, &["list", "a/b.k"])),
        ["x.obj"]
    );
    let got = nsadmin_ok(&ns, &["resolve", "a/b.k/x.obj"]);
    assert_eq!(orb.string_to_object(got.trim()).unwrap(), obj);

    let e = nsadmin_err(&ns, &["resolve", "a/nope/x"]);
    assert!(e.contains(&format!("resolve \"a/nope/x\" at {ns}")), "{e}");
    assert!(e.contains("\"nope\" is not bound in \"a\""), "{e}");
    // omniNames asks an object bound where a context should be what it is (an unreachable
    // one gives TRANSIENT), so this one must answer: its own root, bound as an object.
    nsadmin_ok(&ns, &["bind", "a/obj", &ns]);
    let e = nsadmin_err(&ns, &["resolve", "a/obj/deeper"]);
    assert!(
        e.contains("\"obj\" in \"a\" is bound to an object, not a context"),
        "{e}"
    );
    nsadmin_ok(&ns, &["unbind", "a/obj"]);
    let e = nsadmin_err(&ns, &["bind", "top", &ior]);
    assert!(e.contains("already bound"), "{e}");
    let e = nsadmin_err(&ns, &["remove-context", "a"]);
    assert!(e.contains("not empty"), "{e}");
    let e = nsadmin_err(&ns, &["bind", "a//b", &ior]);
    assert!(e.contains("\"a//b\" is not a name"), "{e}");
    let e = nsadmin_err(&ns, &["bind", "z", "not-a-reference"]);
    assert!(e.contains("cannot read object reference"), "{e}");
    let nobody = corbaloc(free_port());
    let e = nsadmin_err(&nobody, &["list"]);
    assert!(
        e.contains(&format!("at {nobody}: no naming service answers there")),
        "{e}"
    );

    nsadmin_ok(&ns, &["unbind", "a/b.k/x.obj"]);
    nsadmin_ok(&ns, &["remove-context", "a/b.k"]);
    nsadmin_ok(&ns, &["remove-context", "a"]);
    nsadmin_ok(&ns, &["unbind", "top"]);
    assert_eq!(nsadmin_ok(&ns, &["list"]).trim(), "");
}

#[test]
fn our_client_library_drives_omninames() {
    let scratch = Scratch::new();
    let (_om, port) = start_omninames(&scratch);
    let orb = client();
    let root = root_at(&orb, port);
    let obj = some_object(&orb, "thing");

    let a = root.bind_new_context(&n("a")).unwrap();
    root.bind(&n("a/x.obj"), &obj).unwrap();
    assert_eq!(root.resolve(&n("a/x.obj")).unwrap(), obj);
    assert_eq!(root.resolve_str("a/x.obj").unwrap(), obj);
    assert_eq!(a.resolve(&n("x.obj")).unwrap(), obj);
    let other = some_object(&orb, "other");
    root.rebind(&n("a/x.obj"), &other).unwrap();
    assert_eq!(root.resolve(&n("a/x.obj")).unwrap(), other);

    // omniNames' exceptions, with their members, decode as ours.
    match root.bind(&n("a/x.obj"), &obj) {
        Err(naming_context::BindError::AlreadyBound(_)) => {}
        other => panic!("{other:?}"),
    }
    match root.resolve(&n("a/missing/deeper")) {
        Err(naming_context::ResolveError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::MissingNode);
            assert_eq!(e.rest_of_name, n("missing/deeper"));
        }
        other => panic!("{other:?}"),
    }
    // An object where a context should be (omniNames asks it, so it must answer).
    root.bind(&n("a/obj"), root.object()).unwrap();
    match root.resolve(&n("a/obj/deeper")) {
        Err(naming_context::ResolveError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::NotContext);
            assert_eq!(e.rest_of_name, n("obj/deeper"));
        }
        other => panic!("{other:?}"),
    }
    root.unbind(&n("a/obj")).unwrap();
    match root.resolve(&[]) {
        Err(naming_context::ResolveError::InvalidName(_)) => {}
        other => panic!("{other:?}"),
    }
    match a.destroy() {
        Err(naming_context::DestroyError::NotEmpty(_)) => {}
        other => panic!("{other:?}"),
    }

    // list through a BindingIterator omniNames made.
    for i in 0..30 {
        a.bind(&n(&format!("o{i:02}")), &obj).unwrap();
    }
    let (first, it) = a.list(10).unwrap();
    assert_eq!(first.len(), 10);
    assert!(!it.is_nil());
    let mut all = first;
    loop {
        let (more, batch) = it.next_n(7).unwrap();
        if !more {
            break;
        }
        all.extend(batch);
    }
    it.destroy().unwrap();
    assert_eq!(all.len(), 31);
    assert!(all.iter().all(|b| b.binding_type == BindingType::Nobject));

    // omniNames and we escape INS names alike.
    for text in ["a\\/b.c\\.d/e", "x.y/z", "\\\\.k"] {
        let name = root.to_name(text).unwrap();
        assert_eq!(
            orb::ior::parse_string_name(text).unwrap(),
            name.iter()
                .map(|c| (c.id.clone(), c.kind.clone()))
                .collect::<Vec<_>>(),
            "{text}"
        );
        assert_eq!(root.to_string(&name).unwrap(), text);
    }
    assert_eq!(
        root.to_url(":127.0.0.1:2809", "a b/c").unwrap(),
        "corbaname::127.0.0.1:2809#a%20b/c"
    );
}

#[test]
fn contexts_bound_across_ours_and_omninames_resolve_both_ways() {
    let scratch = Scratch::new();
    let (_ours, our_port) = start_ours(&scratch.path().join("data"));
    let (_om, om_port) = start_omninames(&scratch);
    let orb = client();
    let ours = root_at(&orb, our_port);
    let theirs = root_at(&orb, om_port);
    let x = some_object(&orb, "x");
    let y = some_object(&orb, "y");

    let our_ctx = ours.bind_new_context(&n("mine")).unwrap();
    ours.bind(&n("mine/x.obj"), &x).unwrap();
    let their_ctx = theirs.bind_new_context(&n("theirs")).unwrap();
    theirs.bind(&n("theirs/y.obj"), &y).unwrap();

    // Each service holds the other's context.
    ours.bind_context(&n("far"), &their_ctx).unwrap();
    theirs.bind_context(&n("far"), &our_ctx).unwrap();

    // A name through our service continues in omniNames, and the reverse.
    assert_eq!(ours.resolve(&n("far/y.obj")).unwrap(), y);
    assert_eq!(theirs.resolve(&n("far/x.obj")).unwrap(), x);
    // Twice across: ours → omniNames → ours.
    theirs.bind_context(&n("theirs/back"), &our_ctx).unwrap();
    assert_eq!(ours.resolve(&n("far/back/x.obj")).unwrap(), x);

    // Binding through the other service lands there.
    let z = some_object(&orb, "z");
    ours.bind(&n("far/z.obj"), &z).unwrap();
    assert_eq!(theirs.resolve(&n("theirs/z.obj")).unwrap(), z);
    theirs.bind(&n("far/w"), &z).unwrap();
    assert_eq!(ours.resolve(&n("mine/w")).unwrap(), z);

    // A missing name over there is NotFound, as omniNames says it.
    match ours.resolve(&n("far/nope")) {
        Err(naming_context::ResolveError::NotFound(e)) => {
            assert_eq!(e.why, naming_context::NotFoundReason::MissingNode)
        }
        other => panic!("{other:?}"),
    }

    // nameclt sees the same across both.
    assert_eq!(
        lines(&nameclt_ok(&scratch, our_port, &["list", "far"])),
        ["back/", "y.obj", "z.obj"]
    );
    assert_eq!(
        lines(&nameclt_ok(&scratch, om_port, &["list", "far"])),
        ["w", "x.obj"]
    );
}

/// Builds `tests/omniorb/greeter_server.cc` with omniidl and g++ against pkg-config's
/// omniORB4, in `dir`.
fn build_greeter_server(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/omniorb");
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(
        Command::new("omniidl")
            .args(["-bcxx", "-C"])
            .arg(dir)
            .arg(src.join("greeter.idl")),
        "omniidl (package omniidl)",
    );
    let flags = run(
        Command::new("pkg-config").args(["--cflags", "--libs", "omniORB4"]),
        "pkg-config omniORB4 (package libomniorb4-dev)",
    );
    let exe = dir.join("greeter_server");
    run(
        Command::new("g++")
            .args(["-O0", "-o"])
            .arg(&exe)
            .arg("-I")
            .arg(dir)
            .arg(src.join("greeter_server.cc"))
            .arg(dir.join("greeterSK.cc"))
            .args(flags.split_whitespace())
            .arg("-pthread"),
        "g++",
    );
    exe
}

#[test]
fn an_omniorb_server_binds_itself_in_ours_and_a_rust_client_calls_it() {
    use greeter::Greeter;
    let scratch = Scratch::new();
    let exe = build_greeter_server(scratch.path());
    let (_ours, port) = start_ours(&scratch.path().join("data"));
    let orb = client();
    let root = root_at(&orb, port);
    root.bind_new_context(&n("demo.ctx")).unwrap();

    let mut child = scratch
        .omniorb(&exe)
        .args([
            "-ORBInitRef",
            &format!("NameService={}", corbaloc(port)),
            "-ORBendPoint",
            "giop:tcp:127.0.0.1:",
            "demo.ctx/greeter.obj",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Proc {
        child,
        what: "greeter_server",
    };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        "READY",
        "the greeter server did not bind itself"
    );

    let obj = root.resolve_str("demo.ctx/greeter.obj").unwrap();
    assert_eq!(obj.type_id(), "IDL:Greeter:1.0");
    let greeter = greeter::GreeterRef::unchecked_narrow(obj);
    assert_eq!(
        greeter.greet("rtorb").unwrap(),
        "Hello, rtorb, from omniORB"
    );
    // And through a corbaname URL, which resolves the name through our service too.
    let by_url = orb
        .string_to_object(&format!("corbaname::127.0.0.1:{port}#demo.ctx/greeter.obj"))
        .unwrap();
    let greeter = greeter::GreeterRef::unchecked_narrow(by_url);
    assert_eq!(
        greeter.greet("again").unwrap(),
        "Hello, again, from omniORB"
    );
}
