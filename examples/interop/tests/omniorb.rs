//! rtorb against omniORB 4.2.5, both ways, in GIOP 1.0, 1.1 and 1.2: the omniORB C++ client
//! (built from `idl/interop.idl` and `cpp/client.cc` by build.rs) calls every operation of
//! the Rust server, the Rust client every operation of the omniORB C++ server, each checking
//! every result exactly; Rust against Rust; and the Rust client reaching the C++ server
//! through a real omniNames. Then the same pairs exchange large values of every type of the
//! IDL (`--large`: 64 KiB to 1 MiB, so in fragments of GIOP 1.1 and 1.2, omniORB's of about
//! 8 KiB and rtorb's with `-ORBfragmentSize`), checked element by element on both sides, and
//! through a relay that shows the messages went in the fragments each test claims. Every
//! process listens on 127.0.0.1 (ephemeral or free ports) and is killed by pid when its guard
//! drops, so a failing test leaves nothing running. rtorb's DII client calls the omniORB
//! server and the omniORB client an rtorb DSI servant (`interop-server --dsi`), both ways.
//!
//! What is not called between the two ORBs, and why, is in `PeerOrb` (src/lib.rs); the
//! `omniorb_wire_*` test captures what omniORB sends there, byte for byte.

use orb::cdr::{Decoder, Encoder, GiopVersion};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::{Orb, OrbOptions, Servant};
use rtorb_interop::{interop, TesterImpl};
use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{client, server, Proc};

const CXX_SERVER: &str = env!("INTEROP_CXX_SERVER");
const CXX_CLIENT: &str = env!("INTEROP_CXX_CLIENT");
const RUST_SERVER: &str = env!("CARGO_BIN_EXE_interop-server");
const RUST_CLIENT: &str = env!("CARGO_BIN_EXE_interop-client");

const VERSIONS: [&str; 3] = ["1.0", "1.1", "1.2"];

fn expect(program: &str, args: &[&str], want: &str) {
    expect_all(&[(program, args.to_vec(), want.to_owned())]);
}

/// Runs each client to its end, then fails with every run that did not print what it should:
/// a failing GIOP version or fragment size does not hide what the others did.
fn expect_all(runs: &[Run]) {
    let failures: Vec<String> = runs
        .iter()
        .filter_map(|(program, args, want)| {
            let (ok, out) = client(program, args);
            println!("{program} {args:?}: {out}");
            (!(ok && out == *want))
                .then(|| format!("{program} {args:?}\n got: {out}\nwant: {want}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What the two clients print against the other ORB, per GIOP version.
fn across(version: &str) -> &'static str {
    match version {
        "1.1" => "30/30 ops ok (not called: next_wchar, reverse_wstring, widen, shrink)",
        _ => "32/32 ops ok (not called: widen, shrink)",
    }
}

#[test]
fn omniorb_client_calls_every_op_of_the_rust_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(RUST_SERVER, &[]);
    for v in VERSIONS {
        expect(
            CXX_CLIENT,
            &["--peer", "rtorb", &ior, "-ORBmaxGIOPVersion", v],
            across(v),
        );
    }
}

#[test]
fn omniorb_client_is_served_over_iiop_by_a_server_that_also_offers_shared_memory() {
    let (_server, ior) = server(
        RUST_SERVER,
        &[
            "-ORBendPoint",
            "giop:tcp:127.0.0.1:0",
            "-ORBendPoint",
            "giop:shm:",
        ],
    );
    // The IIOP profile carries rtorb's SHMIOP component, which omniORB skips as unknown.
    let parsed = orb::ior::parse_ior_string(&ior).unwrap();
    let advertised = parsed
        .profiles
        .iter()
        .filter_map(|p| orb::ior::IiopProfile::from_tagged(p).ok())
        .any(|p| p.component(orb::TAG_RTORB_SHMIOP).is_some());
    assert!(advertised, "the server does not advertise SHMIOP");
    expect(CXX_CLIENT, &["--peer", "rtorb", &ior], across("1.2"));
    // And rtorb's own client, on this host, through shared memory.
    expect(RUST_CLIENT, &["--peer", "rtorb", &ior], "34/34 ops ok");
}

#[test]
fn rust_client_calls_every_op_of_the_omniorb_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    for v in VERSIONS {
        expect(
            RUST_CLIENT,
            &["--peer", "omniorb", &ior, "-ORBmaxGIOPVersion", v],
            across(v),
        );
    }
}

#[test]
fn rust_client_calls_every_op_of_the_rust_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(RUST_SERVER, &[]);
    for v in VERSIONS {
        expect(
            RUST_CLIENT,
            &["--peer", "rtorb", &ior, "-ORBmaxGIOPVersion", v],
            "34/34 ops ok",
        );
    }
}

/// rtorb's DII (`rtorb_interop::dii::check_dii`: requests from names, anys and TypeCodes,
/// in/inout/out, a user exception as an any, oneway, deferred) against the omniORB server.
#[test]
fn rust_dii_requests_to_the_omniorb_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    dii_against(&ior);
}

/// The same DII requests to rtorb's DSI servant (`interop-server --dsi`) and to its
/// generated skeleton: DII and DSI agree with each other and with generated code.
#[test]
fn rust_dii_requests_to_the_rust_dsi_and_skeleton_servers_in_giop_1_0_1_1_1_2() {
    for args in [&["--dsi"][..], &[]] {
        let (_server, ior) = server(RUST_SERVER, args);
        dii_against(&ior);
    }
}

fn dii_against(ior: &str) {
    for v in VERSIONS {
        let (orb, _) = Orb::init_from_args(["-ORBmaxGIOPVersion".to_owned(), v.to_owned()])
            .expect("client ORB");
        let target = orb.string_to_object(ior).expect("the server's IOR");
        let report = rtorb_interop::dii::check_dii(&target);
        orb.shutdown(true);
        assert_eq!(report.summary(), "25/25 ops ok", "GIOP {v}");
    }
}

/// The omniORB client calls every operation of an rtorb DSI servant (`interop-server --dsi`,
/// `rtorb_interop::dsi::DsiTester`: no generated skeleton), with the checks it makes of the
/// generated one.
#[test]
fn omniorb_client_calls_every_op_of_a_rust_dsi_servant_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(RUST_SERVER, &["--dsi"]);
    let runs: Vec<Run> = VERSIONS
        .iter()
        .map(|v| {
            (
                CXX_CLIENT,
                vec!["--peer", "rtorb", ior.as_str(), "-ORBmaxGIOPVersion", v],
                across(v).to_owned(),
            )
        })
        .collect();
    expect_all(&runs);
}

/// The C++ programs agree with each other where omniORB agrees with itself, so a failure
/// across the ORBs is not a mistake in the C++ checks. (omniORB against itself fails
/// wchar in GIOP 1.1 with BAD_PARAM: its client sends GIOP 1.2's layout there.)
#[test]
fn omniorb_client_calls_every_op_of_the_omniorb_server_in_giop_1_0_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    for v in ["1.0", "1.2"] {
        expect(
            CXX_CLIENT,
            &["--peer", "omniorb", &ior, "-ORBmaxGIOPVersion", v],
            "34/34 ops ok",
        );
    }
}

/// What both clients print with `--large` (`check_large`, and `check_large` in
/// cpp/client.cc): `wide`, whether wide characters are sent in that GIOP version, and
/// `held`, whether the large any is (`PeerOrb` says when they are not).
fn large(wide: bool, held: bool) -> String {
    let skipped: Vec<&str> = [(!held, "echo_held"), (!wide, "echo_wide_bulk")]
        .into_iter()
        .filter_map(|(skip, op)| skip.then_some(op))
        .collect();
    let n = 24 + 7 * usize::from(wide) + 7 * usize::from(held);
    if skipped.is_empty() {
        format!("{n}/{n} ops ok")
    } else {
        format!("{n}/{n} ops ok (not called: {})", skipped.join(", "))
    }
}

/// Between the two ORBs wide characters go in GIOP 1.2 only (`PeerOrb`)...
fn wide_across(version: &str) -> bool {
    version == "1.2"
}

/// ... and between two rtorb ORBs in 1.1 and 1.2.
fn wide_rtorb(version: &str) -> bool {
    version != "1.0"
}

/// A client run: the program, its arguments, what it must print.
type Run<'a> = (&'a str, Vec<&'a str>, String);

/// `program --peer PEER --large IOR -ORBmaxGIOPVersion V EXTRA...` for each version `V`.
/// `omniorb_reads_fragments`: omniORB reads the messages with large values in fragments
/// (from a fragmenting rtorb), so no any goes in GIOP 1.1 (`PeerOrb`).
fn large_runs<'a>(
    program: &'a str,
    peer: &'a str,
    ior: &'a str,
    versions: &[&'a str],
    extra: &[&'a str],
    wide: fn(&str) -> bool,
    omniorb_reads_fragments: bool,
) -> Vec<Run<'a>> {
    versions
        .iter()
        .map(|v| {
            let mut args = vec!["--peer", peer, "--large", ior, "-ORBmaxGIOPVersion", v];
            args.extend(extra);
            let held = !(omniorb_reads_fragments && *v == "1.1");
            (program, args, large(wide(v), held))
        })
        .collect()
}

/// The GIOP versions with fragments. GIOP 1.0 has none, and is run beside them where the
/// sender chooses whole messages: the same values, unfragmented, show that a failure in 1.1
/// or 1.2 is the fragments'.
const FRAGMENTING: [&str; 2] = ["1.1", "1.2"];

/// `-ORBfragmentSize` for rtorb: omniORB's own size (its 8 KiB buffers) and an odd one, so
/// boundaries fall elsewhere in every value.
const FRAGMENT_SIZES: [&str; 2] = ["8192", "1000"];

/// A relay on 127.0.0.1 in front of one server, keeping every octet that crosses it each way,
/// one connection apart from another, so that a test sees the messages themselves: whether
/// they came in fragments and how large they were. Its accepting thread stops when it drops;
/// each connection's two threads stop when the connection closes.
struct Relay {
    /// The server's IOR with its IIOP profile pointing at the relay.
    ior: String,
    addr: std::net::SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// Per connection: what went to the server, what came back.
    seen: Arc<Mutex<Vec<(Captured, Captured)>>>,
}

type Captured = Arc<Mutex<Vec<u8>>>;

impl Relay {
    fn new(server_ior: &str) -> Relay {
        use orb::ior::parse_ior_string;
        use std::net::{TcpListener, TcpStream};
        let mut ior = parse_ior_string(server_ior).expect("the server's IOR");
        let mut profile = ior.iiop_profiles().expect("its IIOP profiles")[0].clone();
        let server = (profile.host.clone(), profile.port);
        let listener = TcpListener::bind("127.0.0.1:0").expect("the relay's port");
        let addr = listener.local_addr().expect("the relay's address");
        profile.host = "127.0.0.1".into();
        profile.port = addr.port();
        let at = ior
            .profiles
            .iter()
            .position(|p| p.tag == orb::iop::ProfileId::INTERNET_IOP)
            .expect("an IIOP profile");
        ior.profiles[at] = profile
            .to_tagged(orb::cdr::ByteOrder::LittleEndian)
            .expect("the relay's profile");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen: Arc<Mutex<Vec<(Captured, Captured)>>> = Arc::default();
        let (stop2, seen2) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let server = TcpStream::connect((server.0.as_str(), server.1))
                    .expect("the relay reaches the server");
                let (up, down): (Captured, Captured) = Default::default();
                seen2.lock().unwrap().push((up.clone(), down.clone()));
                pump(client.try_clone().unwrap(), server.try_clone().unwrap(), up);
                pump(server, client, down);
            }
        });
        Relay {
            ior: ior.to_ior_string().expect("the relay's IOR"),
            addr,
            stop,
            seen,
        }
    }

    /// Checks each GIOP 1.1 and 1.2 connection so far: what went to the server and what came
    /// back have the shape given.
    fn check(&self, to_server: Shape, to_client: Shape) {
        let seen = self.seen.lock().unwrap();
        let mut fragmenting = 0;
        for (n, (up, down)) in seen.iter().enumerate() {
            let up = giop_messages(&up.lock().unwrap());
            let down = giop_messages(&down.lock().unwrap());
            if up.first().is_some_and(|m| m.minor >= 1) {
                fragmenting += 1;
                to_server.check(&format!("connection {n} to the server"), &up);
                to_client.check(&format!("connection {n} to the client"), &down);
            }
        }
        assert!(
            fragmenting > 0,
            "no GIOP 1.1 or 1.2 connection went through the relay"
        );
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accepting thread, which sees `stop`.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// Copies `from` to `to` until `from` ends, keeping a copy of every octet.
fn pump(mut from: std::net::TcpStream, mut to: std::net::TcpStream, kept: Captured) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let mut buf = [0; 65536];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            kept.lock().unwrap().extend_from_slice(&buf[..n]);
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// A GIOP message's header as a relay saw it.
struct Message {
    minor: u8,
    /// GIOP's `MsgType_1_1`: 7 is a Fragment.
    kind: u8,
    /// Header included.
    len: usize,
}

const FRAGMENT: u8 = 7;

/// The GIOP messages in what crossed a relay one way, from their 12-octet headers.
fn giop_messages(bytes: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let header = &bytes[at..(at + 12).min(bytes.len())];
        assert!(
            header.len() == 12 && header.starts_with(b"GIOP"),
            "no GIOP header at octet {at} of what crossed the relay: {header:02x?}"
        );
        let size = [header[8], header[9], header[10], header[11]];
        // Bit 0 of the flags (1.1, 1.2) or the byte order octet (1.0): little-endian.
        let size = if header[6] & 1 == 1 {
            u32::from_le_bytes(size)
        } else {
            u32::from_be_bytes(size)
        };
        let len = 12 + size as usize;
        out.push(Message {
            minor: header[5],
            kind: header[7],
            len,
        });
        at += len;
    }
    out
}

/// What the messages of one connection one way must look like.
#[derive(Clone, Copy)]
enum Shape {
    /// Whole messages, no Fragment among them.
    Whole,
    /// Some in fragments (omniORB's, of its own size).
    Fragments,
    /// Some in fragments, and no message longer than this (rtorb's `-ORBfragmentSize`).
    FragmentsOfAtMost(usize),
}

impl Shape {
    /// Fragments of at most `size` (`-ORBfragmentSize`'s argument) octets.
    fn at_most(size: &str) -> Shape {
        Shape::FragmentsOfAtMost(size.parse().expect("a fragment size"))
    }

    fn check(self, what: &str, messages: &[Message]) {
        let fragments = messages.iter().filter(|m| m.kind == FRAGMENT).count();
        let longest = messages.iter().map(|m| m.len).max().unwrap_or(0);
        let ok = match self {
            Shape::Whole => fragments == 0,
            Shape::Fragments => fragments > 0,
            Shape::FragmentsOfAtMost(n) => fragments > 0 && longest <= n,
        };
        assert!(
            ok,
            "{what}: {} messages, {fragments} of them Fragments, the longest {longest} \
             octets; expected {}",
            messages.len(),
            match self {
                Shape::Whole => "no Fragment".to_owned(),
                Shape::Fragments => "Fragments".to_owned(),
                Shape::FragmentsOfAtMost(n) => format!("Fragments, none over {n} octets"),
            }
        );
    }
}

/// The large values (every type of the IDL, messages of 64 KiB to 1 MiB) from omniORB, which
/// splits each request into fragments of about 8 KiB in GIOP 1.1 and 1.2; the Rust server
/// checks every element of each request and sends whole replies, which the C++ client checks.
#[test]
fn omniorb_client_sends_large_values_in_fragments_to_the_rust_server_in_giop_1_1_1_2() {
    let (_server, ior) = server(RUST_SERVER, &[]);
    let relay = Relay::new(&ior);
    let ior = &relay.ior;
    expect_all(&large_runs(
        CXX_CLIENT,
        "rtorb",
        ior,
        &VERSIONS,
        &[],
        wide_across,
        false,
    ));
    relay.check(Shape::Fragments, Shape::Whole);
}

/// The large values to omniORB, whose replies come in fragments of about 8 KiB in GIOP 1.1
/// and 1.2; the Rust client sends whole requests (which the C++ server checks) and checks
/// every element of the replies.
#[test]
fn rust_client_gets_large_values_in_fragments_from_the_omniorb_server_in_giop_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    let relay = Relay::new(&ior);
    let ior = &relay.ior;
    expect_all(&large_runs(
        RUST_CLIENT,
        "omniorb",
        ior,
        &VERSIONS,
        &[],
        wide_across,
        false,
    ));
    relay.check(Shape::Whole, Shape::Fragments);
}

/// rtorb's fragments (`-ORBfragmentSize`) to omniORB: each Rust server sends its replies in
/// fragments of one size, which the C++ client checks, and gets omniORB's.
#[test]
fn rust_server_sends_large_values_in_fragments_to_the_omniorb_client_in_giop_1_1_1_2() {
    for size in FRAGMENT_SIZES {
        let (_server, ior) = server(RUST_SERVER, &["-ORBfragmentSize", size]);
        let relay = Relay::new(&ior);
        let extra = ["--fragmented-replies"];
        expect_all(&large_runs(
            CXX_CLIENT,
            "rtorb",
            &relay.ior,
            &FRAGMENTING,
            &extra,
            wide_across,
            true,
        ));
        relay.check(Shape::Fragments, Shape::at_most(size));
    }
}

/// rtorb's fragments (`-ORBfragmentSize`) to omniORB: the Rust client sends its requests in
/// fragments of each size, which the C++ server checks.
#[test]
fn rust_client_sends_large_values_in_fragments_to_the_omniorb_server_in_giop_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    for size in FRAGMENT_SIZES {
        let relay = Relay::new(&ior);
        let extra = ["-ORBfragmentSize", size];
        expect_all(&large_runs(
            RUST_CLIENT,
            "omniorb",
            &relay.ior,
            &FRAGMENTING,
            &extra,
            wide_across,
            true,
        ));
        relay.check(Shape::at_most(size), Shape::Fragments);
    }
}

/// The large values between two rtorb ORBs in whole messages.
#[test]
fn rust_client_exchanges_large_values_with_the_rust_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(RUST_SERVER, &[]);
    let relay = Relay::new(&ior);
    let ior = &relay.ior;
    expect_all(&large_runs(
        RUST_CLIENT,
        "rtorb",
        ior,
        &VERSIONS,
        &[],
        wide_rtorb,
        false,
    ));
    relay.check(Shape::Whole, Shape::Whole);
}

/// The large values between two rtorb ORBs in fragments of one size one way and of the
/// other the other way.
#[test]
fn rust_client_exchanges_large_values_in_fragments_with_the_rust_server_in_giop_1_1_1_2() {
    for (server_size, client_size) in FRAGMENT_SIZES
        .into_iter()
        .zip(FRAGMENT_SIZES.into_iter().rev())
    {
        let (_server, ior) = server(RUST_SERVER, &["-ORBfragmentSize", server_size]);
        let relay = Relay::new(&ior);
        let extra = ["-ORBfragmentSize", client_size];
        expect_all(&large_runs(
            RUST_CLIENT,
            "rtorb",
            &relay.ior,
            &FRAGMENTING,
            &extra,
            wide_rtorb,
            false,
        ));
        relay.check(Shape::at_most(client_size), Shape::at_most(server_size));
    }
}

/// The C++ large-value checks agree with themselves (omniORB against omniORB, fragments in
/// GIOP 1.2 both ways), so a failure across the ORBs is not a mistake in them. (omniORB
/// against itself fails in GIOP 1.1: see the next test.)
#[test]
fn omniorb_client_exchanges_large_values_with_the_omniorb_server_in_giop_1_0_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    let relay = Relay::new(&ior);
    let ior = &relay.ior;
    expect_all(&large_runs(
        CXX_CLIENT,
        "omniorb",
        ior,
        &["1.0", "1.2"],
        &[],
        wide_across,
        false,
    ));
    relay.check(Shape::Fragments, Shape::Fragments);
}

/// omniORB against itself in GIOP 1.1 with fragments: every large value but two kinds
/// crosses. Wide characters are refused (BAD_PARAM, as in small messages), and an any holding
/// a sequence that runs past the fragment it starts in (`echo_held`) fails: the server raises
/// MARSHAL `SequenceIsTooLong` or, when it takes the request's next fragment for a message,
/// logs "Detected GIOP 1.1 protocol error in input message" and closes the connection
/// (COMM_FAILURE), which of the two depending on timing.
#[test]
fn omniorb_cannot_send_itself_a_large_any_or_wide_characters_in_giop_1_1() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    let (ok, out) = client(
        CXX_CLIENT,
        &[
            "--peer",
            "omniorb",
            "--large",
            &ior,
            "-ORBmaxGIOPVersion",
            "1.1",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    let held: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FAILED echo_held: "))
        .collect();
    let wide = (1..=7).map(|seed| {
        format!("FAILED echo_wide_bulk: lead {seed}: raised BAD_PARAM minor 0x4f4d0017")
    });
    assert!(
        !ok && lines.len() == 15
            && lines.last() == Some(&"24/38 ops ok")
            && held.len() == 7
            && held
                .iter()
                .all(|l| l.contains("raised MARSHAL minor 0x41540012")
                    || l.contains("raised COMM_FAILURE"))
            && lines[7..14].iter().copied().eq(wide),
        "omniORB's client against omniORB's server, large values in GIOP 1.1: {out}"
    );
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

/// omniNames on 127.0.0.1 at a free port, its data in a temporary directory.
fn omninames(dir: &std::path::Path) -> (Proc, u16) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("log.txt")).expect("omniNames log");
    let child = Command::new("omniNames")
        .args(["-start", &port.to_string(), "-datadir"])
        .arg(dir)
        .args([
            "-always",
            "-ORBendPoint",
            &format!("giop:tcp:127.0.0.1:{port}"),
        ])
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("cannot start omniNames (apt-get install omniorb-nameserver)");
    let p = Proc {
        child,
        what: "omniNames".into(),
    };
    // omniNames says when its root context is ready; bounded, so a broken one fails.
    for _ in 0..500 {
        let text = std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default();
        if text.contains("Root context is") {
            return (p, port);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "omniNames did not start: {}",
        std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default()
    );
}

#[test]
fn rust_client_reaches_the_omniorb_server_through_omninames() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_names, port) = omninames(dir.path());
    let init_ref = format!("NameService=corbaloc::127.0.0.1:{port}/NameService");
    let (_server, _ior) = server(
        CXX_SERVER,
        &["--bind", "interop/tester.obj", "-ORBInitRef", &init_ref],
    );
    let corbaname = format!("corbaname::127.0.0.1:{port}#interop/tester.obj");
    for v in ["1.0", "1.2"] {
        expect(
            RUST_CLIENT,
            &["--peer", "omniorb", &corbaname, "-ORBmaxGIOPVersion", v],
            across(v),
        );
    }
    expect(
        RUST_CLIENT,
        &[
            "--peer",
            "omniorb",
            "corbaname:rir:#interop/tester.obj",
            "-ORBInitRef",
            &init_ref,
        ],
        across("1.2"),
    );
}

/// Records the arguments of each request as they came off the wire, then serves it as the
/// real Tester does.
struct Recorder {
    inner: interop::tester::Tie<TesterImpl>,
    seen: Mutex<HashMap<String, (GiopVersion, Vec<u8>)>>,
}

impl Servant for Recorder {
    fn repository_id(&self) -> &'static str {
        self.inner.repository_id()
    }
    fn is_a(&self, id: &str) -> bool {
        self.inner.is_a(id)
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        self.seen
            .lock()
            .unwrap()
            .insert(operation.to_owned(), (args.version(), args.rest().to_vec()));
        self.inner.dispatch(operation, args, reply)
    }
    fn upcast(&self, id: &str) -> Option<Box<dyn std::any::Any + Send + Sync>> {
        self.inner.upcast(id)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// What omniORB 4.2.5 sends where it departs from the GIOP specification (the reasons
/// `PeerOrb` gives for not calling those operations across the ORBs), captured from its
/// C++ client by a Rust servant that keeps each request's argument octets.
#[test]
fn omniorb_wire_wide_characters_in_giop_1_1_and_long_double() {
    let orb = Orb::init(OrbOptions::default()).unwrap();
    let recorder = Arc::new(Recorder {
        inner: interop::tester::Tie::new(TesterImpl::new(orb.clone())),
        seen: Mutex::new(HashMap::new()),
    });
    let obj = orb.activate(&orb.root_poa(), recorder.clone()).unwrap();
    let ior = orb.object_to_string(&obj).unwrap();
    // Against an omniORB server (--peer omniorb) the client calls everything; the results
    // do not matter here, only what it sent.
    let _ = client(
        CXX_CLIENT,
        &["--peer", "omniorb", &ior, "-ORBmaxGIOPVersion", "1.1"],
    );
    let seen = recorder.seen.lock().unwrap();
    let args = |op: &str| {
        let (v, bytes) = seen
            .get(op)
            .unwrap_or_else(|| panic!("the omniORB client did not send {op}"));
        assert_eq!(*v, GiopVersion::V1_1, "{op}");
        bytes.clone()
    };

    // wchar U+03BB in GIOP 1.1: GIOP 1.1 has one 2-octet unit in the message's byte order
    // (little-endian here: bb 03). omniORB sends GIOP 1.2's form: an octet count, then the
    // UTF-16 unit big-endian.
    assert_eq!(args("next_wchar"), [0x02, 0x03, 0xbb]);

    // wstring "Grüße, κόσμε" (12 characters) in GIOP 1.1: GIOP 1.1 has a length of 13
    // characters, NUL included. omniORB sends 26: octets, with a byte order mark (FF FE:
    // little-endian units follow) and no NUL, as GIOP 1.2 does.
    let mut want = vec![26, 0, 0, 0, 0xff, 0xfe];
    for u in "Grüße, κόσμε".encode_utf16() {
        want.extend(u.to_le_bytes());
    }
    assert_eq!(args("reverse_wstring"), want);

    // long double 2.5e-7: CDR's binary128 would be 3f e9 0c 6f 7a 0b 5e d8 d0 ... in big
    // endian. omniORB sends x86-64's 80-bit extended value in little-endian order (a 64-bit
    // significand with its integer bit, then sign and exponent 0x3fe9) padded to 16 octets
    // with whatever was in memory.
    let ld = args("shrink");
    let ld = &ld[ld.len() - 16..];
    assert_eq!(
        u64::from_le_bytes(ld[..8].try_into().unwrap()),
        0x8637_bd05_af6c_6800
    );
    assert_eq!(u16::from_le_bytes([ld[8], ld[9]]), 0x3fe9);
    orb.shutdown(true);
}

#[test]
fn omniorb_client_reaches_the_rust_server_through_omninames() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_names, port) = omninames(dir.path());
    let init_ref = format!("NameService=corbaloc::127.0.0.1:{port}/NameService");
    let (_server, _ior) = server(
        RUST_SERVER,
        &["--bind", "interop/rust.tester", "-ORBInitRef", &init_ref],
    );
    expect(
        CXX_CLIENT,
        &[
            "--peer",
            "rtorb",
            &format!("corbaname::127.0.0.1:{port}#interop/rust.tester"),
        ],
        across("1.2"),
    );
}

/// omniORB's server does not take wide characters in GIOP 1.1 at all, whatever the layout:
/// it answers BAD_PARAM `WCharTCSNotKnown` (OMG minor 23) to ours (the specification's) as
/// to its own client's (GIOP 1.2's). So there is no layout to choose for omniORB in 1.1.
#[test]
fn omniorb_server_refuses_wide_characters_in_giop_1_1() {
    use orb::exception::SystemExceptionKind;
    use orb::giop::CompletionStatus;
    use rtorb_interop::interop::{Tester, TesterRef};

    let (_server, ior) = server(CXX_SERVER, &[]);
    let mut options = OrbOptions::default();
    options
        .parse_args(["-ORBmaxGIOPVersion".into(), "1.1".into()])
        .unwrap();
    let orb = Orb::init(options).unwrap();
    let t = TesterRef::unchecked_narrow(orb.string_to_object(&ior).unwrap());
    let refused = SystemException::new(
        SystemExceptionKind::BAD_PARAM,
        0x4f4d_0017,
        CompletionStatus::No,
    );
    assert_eq!(t.next_wchar(orb::cdr::WChar('λ')).err(), Some(refused));
    assert_eq!(t.reverse_wstring("κόσμε").err(), Some(refused));
    // The same client, the same connection, narrow characters: fine.
    assert_eq!(t.reverse_string("abc").unwrap(), "cba");

    let (_, out) = client(
        CXX_CLIENT,
        &["--peer", "omniorb", &ior, "-ORBmaxGIOPVersion", "1.1"],
    );
    assert!(
        out.contains("FAILED next_wchar: raised BAD_PARAM")
            && out.contains("FAILED reverse_wstring: raised BAD_PARAM"),
        "omniORB's client against omniORB's server in GIOP 1.1: {out}"
    );
}

/// An RT-CORBA client's priority (the `RTCorbaPriority` service context, id 10) reaches
/// omniORB, which has no RT-CORBA and ignores it, as GIOP asks of contexts a receiver does
/// not know: every call is answered, in every GIOP version, and the relay shows that every
/// request carried the priority.
#[test]
fn omniorb_server_ignores_the_rt_corba_priority_context() {
    use orb::giop::{Header, Message as GiopMessage};
    use orb::iop::ServiceId;
    use orb::rt::RtCurrent;
    use rtorb_interop::interop::{Tester, TesterRef};

    let (_server, ior) = server(CXX_SERVER, &[]);
    let relay = Relay::new(&ior);
    for v in VERSIONS {
        let mut options = OrbOptions::default();
        let args = ["-ORBmaxGIOPVersion", v, "-ORBpriorityMapping", "off"];
        options
            .parse_args(args.iter().map(|s| s.to_string()))
            .unwrap();
        let orb = Orb::init(options).unwrap();
        let t = TesterRef::unchecked_narrow(orb.string_to_object(&relay.ior).unwrap());
        RtCurrent::set_the_priority(20000).unwrap();
        let echoed = t.echo_long(42);
        RtCurrent::clear();
        assert_eq!(echoed.unwrap(), 42, "GIOP {v}");
        orb.shutdown(true);
    }
    let seen = relay.seen.lock().unwrap();
    let mut requests = 0;
    for (up, _) in seen.iter() {
        let up = up.lock().unwrap();
        let mut at = 0;
        while at + 12 <= up.len() {
            let size: [u8; 4] = up[at + 8..at + 12].try_into().unwrap();
            let size = if up[at + 6] & 1 == 1 {
                u32::from_le_bytes(size)
            } else {
                u32::from_be_bytes(size)
            } as usize;
            let end = (at + 12 + size).min(up.len());
            let message = GiopMessage::decode(&up[at..end]).expect("a GIOP message to omniORB");
            if let Header::Request(r) = message.header() {
                requests += 1;
                let p = r
                    .service_context
                    .get(ServiceId::RT_CORBA_PRIORITY)
                    .and_then(orb::rt::read_priority_context);
                assert_eq!(
                    p,
                    Some(20000),
                    "request {} in GIOP {}",
                    r.operation,
                    message.version()
                );
            }
            at = end;
        }
    }
    assert_eq!(requests, VERSIONS.len(), "one request per GIOP version");
}
