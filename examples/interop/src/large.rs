//! Large values for `echo_pairs`, `echo_bulk`, `raise_large`, `echo_held`, `echo_trees` and `echo_wide_bulk`:
//! messages of 64 KiB and more, which omniORB sends as fragments in GIOP 1.1 and 1.2. Every
//! element is computed from its field, a seed and its index, exactly as `cpp/large.h` computes
//! it (change one, change the other), so whichever side receives a value checks it element by
//! element, and a value that went wrong on the way names the first element that differs, what
//! it is and what it should be.

use crate::interop::{Bulk, Color, Grid, Node, Odd, Pair, PeerRef, Point, Record, Shape, WideBulk};
use orb::cdr::{WChar, WString};
use orb::typecode::{Any, Value};
use std::fmt::Debug;

/// The sizes `echo_pairs` is called with: the two the fragment bug was reported with.
pub const PAIRS_COUNTS: [usize; 2] = [1000, 65536];

/// `Bulk::lead`, `WideBulk::lead` and `echo_held`'s `lead` are the first 1 to 7 characters
/// of this; their number is the seed of every other value.
pub const LEAD: &str = "abcdefg";

/// The seeds `echo_bulk`, `raise_large`, `echo_held`, `echo_trees` and `echo_wide_bulk` are
/// called with: every shift of
/// what follows the lead within an 8-octet alignment.
pub const SEEDS: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

/// What a value is of, so that each field draws other numbers; the same numbers as
/// `large::Field` in `cpp/large.h`.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Field {
    Pairs = 1,
    Octets,
    Booleans,
    Chars,
    Shorts,
    UShorts,
    Longs,
    ULongs,
    LongLongs,
    ULongLongs,
    Floats,
    Doubles,
    Strings,
    Odds,
    Shapes,
    ShapeLabels,
    Colors,
    Nested,
    Held,
    WChars,
    WStrings,
    Records,
    RecordTexts,
    Grids,
    Reasons,
    Trees,
}

impl Field {
    /// How many elements a field has (the seed is added, so each seed moves the boundaries
    /// of everything that follows). Every field takes several fragments of 1000 octets, and
    /// a `Bulk` (about 200 KiB), a `WideBulk` (about 75 KiB in GIOP 1.2) and the any of
    /// `echo_held` (72 KiB) many of 8 KiB.
    fn count(self, seed: u8) -> usize {
        let base = match self {
            Field::Pairs => 1000,
            Field::Octets => 9001,
            Field::Booleans => 8191,
            Field::Chars => 8209,
            Field::Shorts => 4999,
            Field::UShorts => 4111,
            Field::Longs => 3001,
            Field::ULongs => 2801,
            Field::LongLongs => 1503,
            Field::ULongLongs => 1301,
            Field::Floats => 2503,
            Field::Doubles => 1237,
            Field::Strings => 701,
            Field::Odds => 997,
            Field::Shapes | Field::ShapeLabels => 499,
            Field::Colors => 2011,
            Field::Nested => 101,
            Field::Held => 4500,
            Field::WChars => 9001,
            Field::WStrings => 2003,
            Field::Records | Field::RecordTexts => 601,
            Field::Grids => 701,
            Field::Reasons => 70_000,
            Field::Trees => 1000,
        };
        base + usize::from(seed)
    }
}

/// The number for (field, part, seed, index): splitmix64's finaliser of the four packed in
/// one word, so that neighbouring elements differ in every octet.
fn mix(field: Field, part: u8, seed: u8, i: usize) -> u64 {
    let mut x =
        ((field as u64) << 56) ^ (u64::from(part) << 48) ^ (u64::from(seed) << 40) ^ i as u64;
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn latin1(m: u64) -> char {
    char::from((1 + m % 255) as u8)
}

/// A float with 24 significant bits, so exact in both languages.
fn float(m: u64) -> f32 {
    ((m >> 40) as i32 - (1 << 23)) as f32 / 1024.0
}

/// A double with 53 significant bits, exact in both languages, and never a NaN.
fn double(m: u64) -> f64 {
    ((m >> 11) as i64 - (1 << 52)) as f64 / 1_048_576.0
}

/// A BMP character that is neither NUL nor a surrogate.
fn wchar(m: u64) -> char {
    char::from_u32(1 + (m % 0xd7ff) as u32).unwrap_or('?')
}

fn text(field: Field, seed: u8, i: usize) -> String {
    let len = mix(field, 0, seed, i) % 13;
    (0..len as usize)
        .map(|k| latin1(mix(field, 1, seed, (i << 8) | k)))
        .collect()
}

/// Element `i` of a `PairSeq` of `field` (`Pairs` in `Bulk` and `echo_pairs`, `Held` in the
/// any).
fn pair(field: Field, seed: u8, i: usize) -> Pair {
    Pair {
        a: double(mix(field, 0, seed, i)),
        b: double(mix(field, 1, seed, i)),
    }
}

fn shape(seed: u8, i: usize) -> Shape {
    let m = mix(Field::Shapes, 0, seed, i);
    match m % 4 {
        0 => Shape::Radius(mix(Field::Shapes, 1, seed, i) as i32),
        k @ (1 | 2) => Shape::Label(k as i32 + 1, text(Field::ShapeLabels, seed, i)),
        _ => Shape::Weight(
            4 + ((m >> 8) % 1000) as i32,
            double(mix(Field::Shapes, 2, seed, i)),
        ),
    }
}

fn nested(seed: u8, i: usize) -> Vec<i32> {
    let len = mix(Field::Nested, 0, seed, i) % 40;
    (0..len as usize)
        .map(|k| mix(Field::Nested, 1, seed, (i << 8) | k) as i32)
        .collect()
}

fn record(seed: u8, i: usize) -> Record {
    let m = |part: u8| mix(Field::Records, part, seed, i);
    Record {
        s: m(0) as i16,
        us: m(1) as u16,
        l: m(2) as i32,
        ul: m(3) as u32,
        ll: m(4) as i64,
        ull: m(5),
        f: float(m(6)),
        d: double(m(7)),
        b: (m(8) >> 7) & 1 == 1,
        o: m(9) as u8,
        c: latin1(m(10)),
        str: text(Field::RecordTexts, seed, i),
        hue: color(m(11)),
        r#where: Point {
            x: m(12) as i32,
            y: m(13) as i32,
        },
    }
}

fn grid(seed: u8, i: usize) -> Grid {
    let cell = |k: usize| mix(Field::Grids, 0, seed, (i << 3) | k) as i32;
    [[cell(0), cell(1), cell(2)], [cell(3), cell(4), cell(5)]]
}

/// Node `path` of tree `i` (1 for the root; a child's is four times its parent's plus one
/// plus its index): up to two children each, three levels below the root at most.
fn node(seed: u8, i: usize, path: usize, depth: u8) -> Node {
    let key = (i << 16) | path;
    let children = if depth < 3 {
        mix(Field::Trees, 8 + depth, seed, key) % 3
    } else {
        0
    };
    Node {
        id: mix(Field::Trees, depth, seed, key) as i32,
        children: (0..children as usize)
            .map(|j| node(seed, i, 4 * path + 1 + j, depth + 1))
            .collect(),
    }
}

fn node_value(n: &Node) -> Value {
    Value::Struct(vec![
        Value::Long(n.id),
        Value::Sequence(n.children.iter().map(node_value).collect()),
    ])
}

fn wide_text(seed: u8, i: usize) -> WString {
    let len = mix(Field::WStrings, 0, seed, i) % 21;
    WString(
        (0..len as usize)
            .map(|k| wchar(mix(Field::WStrings, 1, seed, (i << 8) | k)))
            .collect(),
    )
}

fn color(m: u64) -> Color {
    [Color::Red, Color::Green, Color::Blue][(m % 3) as usize]
}

/// The values of one field: element `i` is `f(i)`.
fn values<T>(field: Field, seed: u8, f: impl Fn(usize) -> T) -> Vec<T> {
    (0..field.count(seed)).map(f).collect()
}

/// What `echo_pairs` is called with: `n` pairs of seed 0.
pub fn pairs(n: usize) -> Vec<Pair> {
    (0..n).map(|i| pair(Field::Pairs, 0, i)).collect()
}

/// What `echo_held` is called with after the lead of `seed`: a `PairSeq` in an any.
pub fn held(seed: u8) -> Any {
    let elements = values(Field::Held, seed, |i| {
        let p = pair(Field::Held, seed, i);
        Value::Struct(vec![Value::Double(p.a), Value::Double(p.b)])
    });
    Any::new(
        crate::interop::pair_seq_type_code(),
        Value::Sequence(elements),
    )
    .expect("a sequence of pairs is a PairSeq")
}

/// The `Bulk` of `seed` (1 to 7), its references `[first, nil, second]`.
pub fn bulk(seed: u8, first: &PeerRef, second: &PeerRef) -> Bulk {
    let s = seed;
    let m = |field: Field, part: u8| move |i: usize| mix(field, part, s, i);
    Bulk {
        lead: lead(seed),
        octets: values(Field::Octets, s, |i| m(Field::Octets, 0)(i) as u8),
        booleans: values(Field::Booleans, s, |i| {
            (m(Field::Booleans, 0)(i) >> 7) & 1 == 1
        }),
        chars: values(Field::Chars, s, |i| latin1(m(Field::Chars, 0)(i))),
        shorts: values(Field::Shorts, s, |i| m(Field::Shorts, 0)(i) as i16),
        ushorts: values(Field::UShorts, s, |i| m(Field::UShorts, 0)(i) as u16),
        longs: values(Field::Longs, s, |i| m(Field::Longs, 0)(i) as i32),
        ulongs: values(Field::ULongs, s, |i| m(Field::ULongs, 0)(i) as u32),
        longlongs: values(Field::LongLongs, s, |i| m(Field::LongLongs, 0)(i) as i64),
        ulonglongs: values(Field::ULongLongs, s, m(Field::ULongLongs, 0)),
        floats: values(Field::Floats, s, |i| float(m(Field::Floats, 0)(i))),
        doubles: values(Field::Doubles, s, |i| double(m(Field::Doubles, 0)(i))),
        strings: values(Field::Strings, s, |i| text(Field::Strings, s, i)),
        pairs: values(Field::Pairs, s, |i| pair(Field::Pairs, s, i)),
        odds: values(Field::Odds, s, |i| Odd {
            o: m(Field::Odds, 0)(i) as u8,
            d: double(m(Field::Odds, 1)(i)),
        }),
        shapes: values(Field::Shapes, s, |i| shape(s, i)),
        colors: values(Field::Colors, s, |i| color(m(Field::Colors, 0)(i))),
        nested: values(Field::Nested, s, |i| nested(s, i)),
        recs: values(Field::Records, s, |i| record(s, i)),
        grids: values(Field::Grids, s, |i| grid(s, i)),
        peers: vec![first.clone(), PeerRef::nil(), second.clone()],
    }
}

/// The `WideBulk` of `seed` (1 to 7).
pub fn wide_bulk(seed: u8) -> WideBulk {
    WideBulk {
        lead: lead(seed),
        wchars: values(Field::WChars, seed, |i| {
            WChar(wchar(mix(Field::WChars, 0, seed, i)))
        }),
        wstrings: values(Field::WStrings, seed, |i| wide_text(seed, i)),
    }
}

/// `Ok` when `got` is `want`; else the first element that differs (its index, what it is,
/// what it should be, and how many differ in all), or the wrong length.
fn same<T: PartialEq + Debug>(what: &str, got: &[T], want: &[T]) -> Result<(), String> {
    let differs = |i: &usize| got[*i] != want[*i];
    let common = got.len().min(want.len());
    if let Some(first) = (0..common).find(differs) {
        let wrong = (first..common).filter(differs).count();
        return Err(format!(
            "{what}[{first}] is {:?}, expected {:?} ({wrong} of {} elements differ)",
            got[first],
            want[first],
            want.len()
        ));
    }
    if got.len() != want.len() {
        return Err(format!(
            "{what} has {} elements, expected {}",
            got.len(),
            want.len()
        ));
    }
    Ok(())
}

/// The lead of `seed`.
pub fn lead(seed: u8) -> String {
    LEAD[..usize::from(seed)].to_owned()
}

/// The seed a lead gives, if it is one of ours.
fn seed_of(lead: &str) -> Result<u8, String> {
    match SEEDS.into_iter().find(|&s| lead == &LEAD[..usize::from(s)]) {
        Some(s) => Ok(s),
        None => Err(format!(
            "lead is {lead:?}, not 1 to 7 characters of {LEAD:?}"
        )),
    }
}

/// Checks what `echo_pairs` carries: `n` pairs of seed 0.
pub fn check_pairs(got: &[Pair], n: usize) -> Result<(), String> {
    same("pairs", got, &pairs(n))
}

/// Checks a `Bulk` against the values its lead gives. Of the references only their
/// nil-ness can be told here; the client compares them with those it sent.
pub fn check_bulk(got: &Bulk) -> Result<(), String> {
    let s = seed_of(&got.lead)?;
    let want = bulk(s, &PeerRef::nil(), &PeerRef::nil());
    same("octets", &got.octets, &want.octets)?;
    same("booleans", &got.booleans, &want.booleans)?;
    same("chars", &got.chars, &want.chars)?;
    same("shorts", &got.shorts, &want.shorts)?;
    same("ushorts", &got.ushorts, &want.ushorts)?;
    same("longs", &got.longs, &want.longs)?;
    same("ulongs", &got.ulongs, &want.ulongs)?;
    same("longlongs", &got.longlongs, &want.longlongs)?;
    same("ulonglongs", &got.ulonglongs, &want.ulonglongs)?;
    same("floats", &got.floats, &want.floats)?;
    same("doubles", &got.doubles, &want.doubles)?;
    same("strings", &got.strings, &want.strings)?;
    same("pairs", &got.pairs, &want.pairs)?;
    same("odds", &got.odds, &want.odds)?;
    same("shapes", &got.shapes, &want.shapes)?;
    same("colors", &got.colors, &want.colors)?;
    same("nested", &got.nested, &want.nested)?;
    same("recs", &got.recs, &want.recs)?;
    same("grids", &got.grids, &want.grids)?;
    let nil: Vec<bool> = got.peers.iter().map(PeerRef::is_nil).collect();
    if nil != [false, true, false] {
        return Err(format!(
            "peers are {nil:?} in nil-ness, expected [false, true, false]"
        ));
    }
    Ok(())
}

/// Checks what `echo_held` carries: a `PairSeq` of the `Held` values of the lead's seed.
pub fn check_held(lead: &str, held: &Any) -> Result<(), String> {
    let seed = seed_of(lead)?;
    let tc = crate::interop::pair_seq_type_code();
    if *held.type_code() != tc {
        return Err(format!(
            "held has the TypeCode {:?}, expected PairSeq's {tc:?}",
            held.type_code()
        ));
    }
    let Value::Sequence(elements) = held.value() else {
        return Err(format!("held holds {:?}, not a sequence", held.value()));
    };
    let got: Vec<Option<Pair>> = elements
        .iter()
        .map(|e| match e {
            Value::Struct(m) => match m.as_slice() {
                [Value::Double(a), Value::Double(b)] => Some(Pair { a: *a, b: *b }),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let want = values(Field::Held, seed, |i| Some(pair(Field::Held, seed, i)));
    same("held", &got, &want)
}

/// What `echo_trees` is called with after the lead of `seed`: anys each holding a tree of
/// Nodes, with Node's recursive TypeCode.
pub fn trees(seed: u8) -> Vec<Any> {
    values(Field::Trees, seed, |i| {
        Any::new(Node::type_code(), node_value(&node(seed, i, 1, 0)))
            .expect("a tree of Nodes is a Node")
    })
}

/// Checks what `echo_trees` carries after `lead`.
pub fn check_trees(lead: &str, got: &[Any]) -> Result<(), String> {
    same("trees", got, &trees(seed_of(lead)?))
}

/// The reason of the Failure `raise_large` raises after the lead of `seed`: 70,000 and more
/// ISO-8859-1 characters.
pub fn reason(seed: u8) -> String {
    values(Field::Reasons, seed, |k| {
        latin1(mix(Field::Reasons, 0, seed, k))
    })
    .into_iter()
    .collect()
}

/// The Failure `raise_large` raises after `lead`: `Err` if the lead is not one of ours.
pub fn failure(lead: &str) -> Result<crate::interop::Failure, String> {
    let seed = seed_of(lead)?;
    Ok(crate::interop::Failure {
        code: i32::from(seed),
        reason: reason(seed),
    })
}

/// Checks the Failure `raise_large` raised after `lead`.
pub fn check_failure(lead: &str, got: &crate::interop::Failure) -> Result<(), String> {
    let want = failure(lead)?;
    if got.code != want.code {
        return Err(format!("code is {}, expected {}", got.code, want.code));
    }
    let chars = |s: &str| s.chars().collect::<Vec<char>>();
    same("reason", &chars(&got.reason), &chars(&want.reason))
}

/// Checks a `WideBulk` against the values its lead gives.
pub fn check_wide_bulk(got: &WideBulk) -> Result<(), String> {
    let s = seed_of(&got.lead)?;
    let want = wide_bulk(s);
    same("wchars", &got.wchars, &want.wchars)?;
    same("wstrings", &got.wstrings, &want.wstrings)
}
