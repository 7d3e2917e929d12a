//! Interoperability with omniORB: the Rust half.
//!
//! - [`interop`]: what idlc generates from `idl/interop.idl`.
//! - [`TesterImpl`]: the Rust servant, answering exactly as the C++ one (`cpp/server.cc`).
//! - [`check_all`]: the Rust client, which calls every operation of `Interop::Tester` and
//!   checks every result exactly, as the C++ client (`cpp/client.cc`) does.
//! - [`check_large`]: the Rust client's calls with large values (see [`large`]), as the C++
//!   client's `--large`.
//! - [`values`]: objects by value (`idl/values.idl`) through DII and DSI, against omniORB's
//!   `cpp/values_server.cc` and `cpp/values_client.cc`; [`values_servant`], the same through
//!   idlc's generated stubs and skeletons.
//!
//! The two servants and the two clients follow one specification (below, per operation);
//! change one, change the other.
#![forbid(unsafe_code)]

use orb::cdr::{GiopVersion, LongDouble, WChar, WString};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::typecode::{Any, Value};
use orb::Orb;
use std::sync::Mutex;

/// What idlc generates from `idl/interop.idl` (its module `Interop` is [`interop`]).
#[deny(warnings)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/interop.rs"));
}
pub use generated::interop;

/// What idlc generates from `idl/values.idl` (its module `Values` is [`generated_values::values`]).
#[deny(warnings)]
pub mod generated_values {
    include!(concat!(env!("OUT_DIR"), "/values.rs"));
}
pub mod values_servant;

pub mod dii;
pub mod dsi;
pub mod large;
pub mod values;

use interop::{
    tester, Bulk, Color, Grid, Pair, PeerRef, Point, Record, Shape, Tester, TesterRef, WideBulk,
};

/// What `_get_name` answers, on both servers.
pub const NAME: &str = "interop-tester";

/// omniORB's minor code for a wchar or wstring a GIOP 1.0 client was asked to send
/// (`MARSHAL_WCharSentByGIOP10Client`, OMG minor 5 in omniORB4/minorCode.h); ours is the same.
pub const MARSHAL_WCHAR_GIOP10_CLIENT: u32 =
    orb::exception::minor::MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT;

/// A Peer: an object the Tester makes, so that references travel as results and arguments.
pub struct PeerImpl {
    id: i32,
}

impl interop::Peer for PeerImpl {
    fn id(&self) -> Result<i32, SystemException> {
        Ok(self.id)
    }
}

/// The Rust Tester servant.
pub struct TesterImpl {
    orb: Orb,
    counter: Mutex<i32>,
    last_notified: Mutex<i32>,
}

impl TesterImpl {
    /// A servant whose `make_peer` activates peers in `orb`'s RootPOA.
    pub fn new(orb: Orb) -> TesterImpl {
        TesterImpl {
            orb,
            counter: Mutex::new(0),
            last_notified: Mutex::new(0),
        }
    }
}

fn lock<T: Copy>(m: &Mutex<T>) -> T {
    // A poisoned lock only means a panicking upcall held it: the value is still an i32.
    *m.lock().unwrap_or_else(|p| p.into_inner())
}

fn store<T>(m: &Mutex<T>, v: T) {
    *m.lock().unwrap_or_else(|p| p.into_inner()) = v;
}

/// `next_char`: the next ISO-8859-1 character, wrapping.
fn next_latin1(c: char) -> char {
    char::from(((c as u32 + 1) & 0xff) as u8)
}

/// `next_wchar`: the next BMP code point (U+FFFF wraps to U+0000; surrogates are skipped).
fn next_bmp(c: char) -> char {
    let mut n = (c as u32 + 1) & 0xffff;
    if (0xd800..0xe000).contains(&n) {
        n = 0xe000;
    }
    char::from_u32(n).unwrap_or('\0')
}

/// `reverse_wstring`: the UTF-16 code units in reverse order (callers send BMP text only).
fn reverse_utf16(s: &str) -> String {
    let mut units: Vec<u16> = s.encode_utf16().collect();
    units.reverse();
    String::from_utf16_lossy(&units)
}

/// `rotate_add`: the grid turned by half a turn, plus `k` in every cell.
fn rotate_add(g: &Grid, k: i32) -> Grid {
    let mut r = [[0; 3]; 2];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = g[1 - i][2 - j].wrapping_add(k);
        }
    }
    r
}

impl Tester for TesterImpl {
    fn echo_short(&self, v: i16) -> Result<i16, SystemException> {
        Ok(v)
    }
    fn echo_ushort(&self, v: u16) -> Result<u16, SystemException> {
        Ok(v)
    }
    fn echo_long(&self, v: i32) -> Result<i32, SystemException> {
        Ok(v)
    }
    fn echo_ulong(&self, v: u32) -> Result<u32, SystemException> {
        Ok(v)
    }
    fn echo_longlong(&self, v: i64) -> Result<i64, SystemException> {
        Ok(v)
    }
    fn echo_ulonglong(&self, v: u64) -> Result<u64, SystemException> {
        Ok(v)
    }
    fn echo_float(&self, v: f32) -> Result<f32, SystemException> {
        Ok(v)
    }
    fn echo_double(&self, v: f64) -> Result<f64, SystemException> {
        Ok(v)
    }
    fn negate(&self, v: bool) -> Result<bool, SystemException> {
        Ok(!v)
    }
    fn echo_octet(&self, v: u8) -> Result<u8, SystemException> {
        Ok(v)
    }
    fn next_char(&self, v: char) -> Result<char, SystemException> {
        Ok(next_latin1(v))
    }
    fn reverse_string(&self, v: &str) -> Result<String, SystemException> {
        Ok(v.chars().rev().collect())
    }
    fn next_color(&self, c: Color) -> Result<Color, SystemException> {
        Ok(match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        })
    }
    fn next_wchar(&self, v: WChar) -> Result<WChar, SystemException> {
        Ok(WChar(next_bmp(v.0)))
    }
    fn reverse_wstring(&self, v: &str) -> Result<WString, SystemException> {
        Ok(WString(reverse_utf16(v)))
    }
    fn widen(&self, v: f64) -> Result<LongDouble, SystemException> {
        Ok(LongDouble::from_f64(v))
    }
    fn shrink(&self, v: LongDouble) -> Result<f64, SystemException> {
        Ok(v.to_f64())
    }
    fn echo_record(&self, r: &Record) -> Result<Record, SystemException> {
        Ok(r.clone())
    }
    fn echo_shape(&self, s: &Shape) -> Result<Shape, SystemException> {
        Ok(s.clone())
    }
    fn reverse_records(&self, rs: &[Record]) -> Result<Vec<Record>, SystemException> {
        Ok(rs.iter().rev().cloned().collect())
    }
    fn rotate_add(&self, g: &Grid, k: i32) -> Result<Grid, SystemException> {
        Ok(rotate_add(g, k))
    }
    fn echo_any(&self, a: &Any) -> Result<Any, SystemException> {
        Ok(a.clone())
    }
    fn make_peer(&self, id: i32) -> Result<PeerRef, SystemException> {
        let obj = self
            .orb
            .activate(
                &self.orb.root_poa(),
                interop::peer::servant(PeerImpl { id }),
            )
            .map_err(|e| match e {
                orb::OrbError::System(s) => s,
                _ => SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No),
            })?;
        Ok(PeerRef::unchecked_narrow(obj))
    }
    fn echo_peer(&self, p: &PeerRef) -> Result<PeerRef, SystemException> {
        Ok(p.clone())
    }
    fn exchange(&self, a: &mut i32, s: &mut String) -> Result<(i32, f64, Point), SystemException> {
        let old = *a;
        *a = old.wrapping_add(1);
        s.push('!');
        Ok((
            old.wrapping_mul(2),
            f64::from(old) / 4.0,
            Point {
                x: old,
                y: old.wrapping_neg(),
            },
        ))
    }
    fn counter(&self) -> Result<i32, SystemException> {
        Ok(lock(&self.counter))
    }
    fn set_counter(&self, value: i32) -> Result<(), SystemException> {
        store(&self.counter, value);
        Ok(())
    }
    fn name(&self) -> Result<String, SystemException> {
        Ok(NAME.to_owned())
    }
    fn fail(&self, code: i32) -> Result<(), tester::FailError> {
        Err(interop::Failure {
            code,
            reason: format!("failure {code}"),
        }
        .into())
    }
    fn notify(&self, token: i32) -> Result<(), SystemException> {
        store(&self.last_notified, token);
        Ok(())
    }
    fn last_notified(&self) -> Result<i32, SystemException> {
        Ok(lock(&self.last_notified))
    }
    fn echo_pairs(&self, p: &[Pair]) -> Result<Vec<Pair>, tester::EchoPairsError> {
        large::check_pairs(p, p.len()).map_err(in_request)?;
        Ok(p.to_vec())
    }
    fn echo_bulk(&self, b: &Bulk) -> Result<Bulk, tester::EchoBulkError> {
        large::check_bulk(b).map_err(in_request)?;
        Ok(b.clone())
    }
    fn raise_large(&self, lead: &str) -> Result<(), tester::RaiseLargeError> {
        Err(large::failure(lead).map_err(in_request)?.into())
    }
    fn echo_held(&self, lead: &str, held: &Any) -> Result<Any, tester::EchoHeldError> {
        large::check_held(lead, held).map_err(in_request)?;
        Ok(held.clone())
    }
    fn echo_trees(&self, lead: &str, trees: &[Any]) -> Result<Vec<Any>, tester::EchoTreesError> {
        large::check_trees(lead, trees).map_err(in_request)?;
        Ok(trees.to_vec())
    }
    fn echo_wide_bulk(&self, w: &WideBulk) -> Result<WideBulk, tester::EchoWideBulkError> {
        large::check_wide_bulk(w).map_err(in_request)?;
        Ok(w.clone())
    }
}

/// A large value that arrived wrong, as the servants (both) tell the client: so a failure
/// says which way the value was going when it went wrong.
fn in_request(why: String) -> interop::Failure {
    interop::Failure {
        code: 1,
        reason: format!("the request: {why}"),
    }
}

/// One operation's check that failed: the operation and what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub op: &'static str,
    pub why: String,
}

/// The outcome of [`check_all`]: how many operations were checked and which failed.
#[derive(Debug, Default)]
pub struct Report {
    pub checked: usize,
    pub failed: Vec<Failed>,
    /// Operations not called, because the peer cannot carry them (see [`PeerOrb`]).
    pub skipped: Vec<&'static str>,
}

/// Which ORB serves the Tester: against omniORB, what omniORB 4.2.5 puts on the wire
/// differently from the GIOP specification is not called (each is captured byte for byte
/// in `tests/omniorb.rs`, `omniorb_wire_*`):
///
/// - `long double` (`widen`, `shrink`): omniORB on x86-64 sends the x87 80-bit extended
///   value and six uninitialised octets, not the IEEE binary128 CDR specifies (CORBA 3.0
///   §15.3.1.3); there is no telling it from a binary128 on the wire.
/// - `wchar`/`wstring` in GIOP 1.1 (`next_wchar`, `reverse_wstring`): omniORB's client uses
///   GIOP 1.2's layout (a length-prefixed octet sequence; wstring lengths in octets, with a
///   BOM and no NUL) where GIOP 1.1 has a 2-octet unit and a length in characters with a NUL
///   (§15.3.1.6, §15.3.2.7), and omniORB's server refuses wide characters in 1.1 whatever
///   the layout (BAD_PARAM `WCharTCSNotKnown`, to its own client too). A server cannot tell
///   an omniORB client from another, and no layout reaches omniORB's server, so rtorb keeps
///   the specification's and the two do not exchange wide characters in 1.1.
/// - an `any` holding a sequence that runs past the end of the GIOP 1.1 fragment it starts in
///   (`echo_held`, with `check_large`): omniORB sends one as it sends everything in 1.1,
///   each fragment aligned from its own header, but cannot read one, not even from its own
///   client: its server raises MARSHAL `SequenceIsTooLong` or takes the rest of the request
///   for a message and closes the connection
///   (`omniorb_cannot_send_itself_a_large_any_or_wide_characters_in_giop_1_1`). 400 pairs
///   in the any cross, 500 (8,000 octets) do not; a thousand small anys, some across
///   boundaries, do (`echo_trees`). So in 1.1 `echo_held` is not called where omniORB would
///   read it in fragments: by the Rust client that fragments its requests, by the C++ client
///   of a Rust server that fragments its replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerOrb {
    Rtorb,
    OmniOrb,
}

impl Report {
    fn check<T: std::fmt::Debug + PartialEq, E: std::fmt::Debug>(
        &mut self,
        op: &'static str,
        got: Result<T, E>,
        want: T,
    ) {
        self.checked += 1;
        match got {
            Ok(v) if v == want => {}
            Ok(v) => self.fail(op, format!("returned {v:?}, expected {want:?}")),
            Err(e) => self.fail(op, format!("raised {e:?}, expected {want:?}")),
        }
    }

    /// One call with a large value, `label` saying which: `got` is the reply or what went
    /// wrong instead, and `check` says what is wrong with the reply (the servant has
    /// checked the request).
    fn check_large<T>(
        &mut self,
        op: &'static str,
        label: String,
        got: Result<T, String>,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) {
        self.checked += 1;
        let why = got.and_then(|v| check(&v).map_err(|why| format!("the reply: {why}")));
        if let Err(why) = why {
            self.fail(op, format!("{label}: {why}"));
        }
    }

    fn fail(&mut self, op: &'static str, why: String) {
        self.failed.push(Failed { op, why });
    }

    /// `N/N ops ok`, the operations skipped, and the failures, one a line.
    pub fn summary(&self) -> String {
        let ok = self.checked - self.failed.len();
        let mut s = format!("{ok}/{} ops ok", self.checked);
        if !self.skipped.is_empty() {
            s.push_str(&format!(" (not called: {})", self.skipped.join(", ")));
        }
        for f in &self.failed {
            s.push_str(&format!("\nFAILED {}: {}", f.op, f.why));
        }
        s
    }
}

/// A record with every primitive at an edge of its range, and non-ASCII ISO-8859-1 text.
pub fn sample_record(n: i32) -> Record {
    Record {
        s: i16::MIN + n as i16,
        us: u16::MAX - n as u16,
        l: i32::MIN + n,
        ul: u32::MAX - n as u32,
        ll: i64::MIN + i64::from(n),
        ull: u64::MAX - n as u64,
        f: 1.5e-3 * n as f32,
        d: -6.02214076e23 * f64::from(n),
        b: n % 2 == 0,
        o: 0xf0 | n as u8,
        c: 'Ã',
        str: format!("record {n}: ça marche"),
        hue: Color::Blue,
        r#where: Point { x: n, y: -n },
    }
}

/// Calls every operation of `t` and checks every result exactly. `version` is the GIOP
/// version the calls go out in: in 1.0 the wide-character operations must be refused by
/// the client ORB with `MARSHAL` (minor 5, as omniORB does), not sent.
pub fn check_all(t: &TesterRef, version: GiopVersion, peer: PeerOrb) -> Report {
    let mut r = Report::default();
    r.check("echo_short", t.echo_short(-12345), -12345);
    r.check("echo_ushort", t.echo_ushort(65000), 65000);
    r.check("echo_long", t.echo_long(i32::MIN), i32::MIN);
    r.check("echo_ulong", t.echo_ulong(4_000_000_000), 4_000_000_000);
    r.check(
        "echo_longlong",
        t.echo_longlong(-9_000_000_000_000_000_001),
        -9_000_000_000_000_000_001,
    );
    r.check(
        "echo_ulonglong",
        t.echo_ulonglong(u64::MAX - 7),
        u64::MAX - 7,
    );
    r.check("echo_float", t.echo_float(-3.25e-5), -3.25e-5);
    r.check(
        "echo_double",
        t.echo_double(std::f64::consts::PI * 1e300),
        std::f64::consts::PI * 1e300,
    );
    r.check("negate", t.negate(true), false);
    r.check("echo_octet", t.echo_octet(0xa5), 0xa5);
    r.check("next_char", t.next_char('é'), 'ê');
    r.check(
        "reverse_string",
        t.reverse_string("Grüß dich, omniORB"),
        "BROinmo ,hcid ßürG".to_owned(),
    );
    r.check("next_color", t.next_color(Color::Blue), Color::Red);

    if version == GiopVersion::V1_0 {
        let refused = SystemException::new(
            SystemExceptionKind::MARSHAL,
            MARSHAL_WCHAR_GIOP10_CLIENT,
            CompletionStatus::No,
        );
        r.checked += 1;
        refused_with(&mut r, "next_wchar", t.next_wchar(WChar('λ')), &refused);
        r.checked += 1;
        refused_with(
            &mut r,
            "reverse_wstring",
            t.reverse_wstring("κόσμε"),
            &refused,
        );
    } else if version == GiopVersion::V1_1 && peer == PeerOrb::OmniOrb {
        r.skipped.extend(["next_wchar", "reverse_wstring"]);
    } else {
        r.check("next_wchar", t.next_wchar(WChar('λ')), WChar('μ'));
        r.check(
            "reverse_wstring",
            t.reverse_wstring("Grüße, κόσμε"),
            WString("εμσόκ ,eßürG".to_owned()),
        );
    }

    if peer == PeerOrb::OmniOrb {
        r.skipped.extend(["widen", "shrink"]);
    } else {
        r.check(
            "widen",
            t.widen(-1.0 / 3.0),
            LongDouble::from_f64(-1.0 / 3.0),
        );
        r.check("shrink", t.shrink(LongDouble::from_f64(2.5e-7)), 2.5e-7);
    }

    let rec = sample_record(3);
    r.check("echo_record", t.echo_record(&rec), rec);
    for s in [
        Shape::Radius(7),
        Shape::Label(3, "three".into()),
        Shape::Weight(99, -0.5),
    ] {
        r.check("echo_shape", t.echo_shape(&s), s.clone());
    }
    let recs: Vec<Record> = (1..=4).map(sample_record).collect();
    let reversed: Vec<Record> = recs.iter().rev().cloned().collect();
    r.check("reverse_records", t.reverse_records(&recs), reversed);
    r.check(
        "rotate_add",
        t.rotate_add(&[[1, 2, 3], [4, 5, 6]], 10),
        [[16, 15, 14], [13, 12, 11]],
    );
    match Any::new(
        Point::type_code(),
        Value::Struct(vec![Value::Long(-8), Value::Long(1 << 20)]),
    ) {
        Ok(any) => r.check("echo_any", t.echo_any(&any), any.clone()),
        Err(e) => {
            r.checked += 1;
            r.fail("echo_any", format!("cannot build the any: {e}"));
        }
    }

    r.checked += 1;
    match t.make_peer(41) {
        Err(e) => r.fail("make_peer", format!("raised {e:?}")),
        Ok(p) if p.is_nil() => r.fail("make_peer", "returned nil".into()),
        Ok(p) => {
            // The reference is checked from this side, after the call: no callback.
            match interop::Peer::id(&p) {
                Ok(41) => {}
                other => r.fail("make_peer", format!("the peer's id is {other:?}, not 41")),
            }
            r.checked += 1;
            match t.echo_peer(&p) {
                Ok(back) if back.object().is_equivalent(p.object()) => {
                    if let Ok(id) = interop::Peer::id(&back) {
                        if id != 41 {
                            r.fail("echo_peer", format!("the peer's id is {id}, not 41"));
                        }
                    } else {
                        r.fail("echo_peer", "the returned peer cannot be called".into());
                    }
                }
                Ok(back) => r.fail(
                    "echo_peer",
                    format!(
                        "returned another reference: {:?}, sent {:?}",
                        back.object().ior(),
                        p.object().ior()
                    ),
                ),
                Err(e) => r.fail("echo_peer", format!("raised {e:?}")),
            }
        }
    }
    r.checked += 1;
    match t.echo_peer(&PeerRef::nil()) {
        Ok(back) if back.is_nil() => {}
        other => r.fail("echo_peer", format!("nil came back as {other:?}")),
    }

    let mut a = 21;
    let mut s = String::from("hé");
    let got = t.exchange(&mut a, &mut s);
    r.check(
        "exchange",
        got.map(|ret| (ret, a, s)),
        ((42, 5.25, Point { x: 21, y: -21 }), 22, "hé!".to_owned()),
    );

    r.check("_set_counter", t.set_counter(-77), ());
    r.check("_get_counter", t.counter(), -77);
    r.check("_get_name", t.name(), NAME.to_owned());

    r.checked += 1;
    match t.fail(1234) {
        Err(tester::FailError::Failure(f)) if f.code == 1234 && f.reason == "failure 1234" => {}
        other => r.fail(
            "fail",
            format!("{other:?}, expected Failure {{ 1234, \"failure 1234\" }}"),
        ),
    }

    // The oneway has no reply; last_notified shows it arrived. Requests on one connection
    // are served in order by both ORBs, but polling keeps the check honest if not.
    r.check("notify", t.notify(8086), ());
    r.checked += 1;
    let mut seen = None;
    for _ in 0..200 {
        match t.last_notified() {
            Ok(8086) => {
                seen = Some(8086);
                break;
            }
            Ok(v) => seen = Some(v),
            Err(e) => {
                r.fail("last_notified", format!("raised {e:?}"));
                seen = Some(8086);
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if seen != Some(8086) {
        r.fail(
            "last_notified",
            format!("the oneway notify(8086) never arrived: last_notified is {seen:?}"),
        );
    }
    r
}

/// Calls `echo_pairs`, `echo_bulk`, `raise_large`, `echo_held`, `echo_trees` and
/// `echo_wide_bulk` with large values and checks every element of the replies (the servant
/// checks the requests'); see [`large`]. `fragmenting`: this client's ORB sends its requests in fragments
/// (`-ORBfragmentSize`). Wide characters are not sent in GIOP 1.0, nor to omniORB in GIOP
/// 1.1; nor an any in fragments of GIOP 1.1 to omniORB (see [`PeerOrb`]).
pub fn check_large(
    t: &TesterRef,
    version: GiopVersion,
    peer: PeerOrb,
    fragmenting: bool,
) -> Report {
    let mut r = Report::default();
    for n in large::PAIRS_COUNTS {
        let got = t.echo_pairs(&large::pairs(n)).map_err(raised);
        r.check_large("echo_pairs", format!("{n} pairs"), got, |got| {
            large::check_pairs(got, n)
        });
    }

    // References travel in a Bulk; these two are the server's own, so it need not call back.
    r.checked += 1;
    match (t.make_peer(71), t.make_peer(72)) {
        (Ok(first), Ok(second)) => {
            for seed in large::SEEDS {
                let got = t
                    .echo_bulk(&large::bulk(seed, &first, &second))
                    .map_err(raised);
                r.check_large("echo_bulk", format!("lead {seed}"), got, |got| {
                    large::check_bulk(got)?;
                    // check_bulk saw three references.
                    for (i, sent) in [(0, &first), (2, &second)] {
                        if !got.peers[i].object().is_equivalent(sent.object()) {
                            return Err(format!(
                                "peers[{i}] is {:?}, expected {:?}",
                                got.peers[i].object().ior(),
                                sent.object().ior()
                            ));
                        }
                    }
                    Ok(())
                });
            }
        }
        (first, second) => r.fail(
            "make_peer",
            format!("for echo_bulk's references: {first:?}, {second:?}"),
        ),
    }

    for seed in large::SEEDS {
        let lead = large::lead(seed);
        let got = match t.raise_large(&lead) {
            Err(tester::RaiseLargeError::Failure(f)) => Ok(f),
            Ok(()) => Err("returned, expected a Failure".to_owned()),
            Err(e) => Err(format!("{}, expected a Failure", raised(e))),
        };
        r.check_large("raise_large", format!("lead {seed}"), got, |got| {
            large::check_failure(&lead, got)
        });
    }

    for seed in large::SEEDS {
        let lead = large::lead(seed);
        let got = t.echo_trees(&lead, &large::trees(seed)).map_err(raised);
        r.check_large("echo_trees", format!("lead {seed}"), got, |got| {
            large::check_trees(&lead, got)
        });
    }

    if version == GiopVersion::V1_1 && peer == PeerOrb::OmniOrb && fragmenting {
        r.skipped.push("echo_held");
    } else {
        for seed in large::SEEDS {
            let lead = large::lead(seed);
            let got = t.echo_held(&lead, &large::held(seed)).map_err(raised);
            r.check_large("echo_held", format!("lead {seed}"), got, |got| {
                large::check_held(&lead, got)
            });
        }
    }

    if version == GiopVersion::V1_0 || (version == GiopVersion::V1_1 && peer == PeerOrb::OmniOrb) {
        r.skipped.push("echo_wide_bulk");
    } else {
        for seed in large::SEEDS {
            let got = t.echo_wide_bulk(&large::wide_bulk(seed)).map_err(raised);
            r.check_large(
                "echo_wide_bulk",
                format!("lead {seed}"),
                got,
                large::check_wide_bulk,
            );
        }
    }
    r
}

fn raised(e: impl std::fmt::Debug) -> String {
    format!("raised {e:?}")
}

fn refused_with<T: std::fmt::Debug>(
    r: &mut Report,
    op: &'static str,
    got: Result<T, SystemException>,
    want: &SystemException,
) {
    match got {
        Err(e) if e == *want => {}
        other => r.fail(
            op,
            format!(
                "in GIOP 1.0 expected {want:?} (the client refuses wide characters), got {other:?}"
            ),
        ),
    }
}
