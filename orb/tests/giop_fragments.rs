//! Fragmented messages decode to exactly what was encoded, in every GIOP version that has
//! fragments, for every kind of value and every fragment size — or fail with an error, never
//! with wrong data.
//!
//! GIOP 1.1 is the hard case (§15.4.9): each Fragment's data is aligned relative to that
//! fragment's own 12-octet header, so an 8-octet value after a boundary carries padding that a
//! reader joining the fragments by concatenation would take for data. omniORB fragments 1.1
//! messages at 8 KiB; `omniorb_layout_*` pins the layout it sends (which our encoder writes too).

use orb::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, Decoder, EncodeError, Encoder, GiopVersion,
    WString,
};
use orb::giop::{Frame, Framer, Header, MessageWriter, MsgType, ReplyHeader, ReplyStatus};
use orb::giop::{RequestHeader, ServiceContexts};
use proptest::prelude::*;

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;

/// One struct of every alignment, as IDL-generated code would marshal it.
#[derive(Clone, Debug, PartialEq)]
struct Pair {
    tag: u8,
    x: f64,
    y: f64,
}

impl CdrEncode for Pair {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_octet(self.tag);
        enc.write_double(self.x);
        enc.write_double(self.y);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for Pair {
    const MIN_WIRE_SIZE: usize = 17;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(Pair {
            tag: dec.read_octet()?,
            x: dec.read_double()?,
            y: dec.read_double()?,
        })
    }
}

/// A value holding every kind of thing a fragment boundary can fall in: primitives of each
/// size, strings, wide strings, runs of primitives (sequences, which travel as blocks), runs
/// of structs (element by element), octets and an encapsulation.
#[derive(Clone, Debug, PartialEq)]
struct Mixed {
    lead: String,
    short: i16,
    long: i32,
    longlong: i64,
    double: f64,
    doubles: Vec<f64>,
    shorts: Vec<u16>,
    pairs: Vec<Pair>,
    octets: Vec<u8>,
    names: Vec<String>,
    wide: String,
    nested: Vec<Vec<i64>>,
    encapsulated: Vec<f64>,
    last: u64,
}

impl CdrEncode for Mixed {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(&self.lead)?;
        enc.write_short(self.short);
        enc.write_long(self.long);
        enc.write_longlong(self.longlong);
        enc.write_double(self.double);
        self.doubles.encode(enc)?;
        self.shorts.encode(enc)?;
        self.pairs.encode(enc)?;
        enc.write_octet_seq(&self.octets)?;
        self.names.encode(enc)?;
        WString(self.wide.clone()).encode(enc)?;
        self.nested.encode(enc)?;
        enc.write_encapsulation(|e| self.encapsulated.encode(e))?;
        enc.write_ulonglong(self.last);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for Mixed {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(Mixed {
            lead: dec.read_string()?.into_owned(),
            short: dec.read_short()?,
            long: dec.read_long()?,
            longlong: dec.read_longlong()?,
            double: dec.read_double()?,
            doubles: Vec::decode(dec)?,
            shorts: Vec::decode(dec)?,
            pairs: Vec::decode(dec)?,
            octets: dec.read_octet_seq()?.to_vec(),
            names: Vec::decode(dec)?,
            wide: WString::decode(dec)?.0,
            nested: Vec::decode(dec)?,
            encapsulated: {
                let mut e = dec.read_encapsulation()?;
                let v = Vec::decode(&mut e)?;
                e.expect_end()?;
                v
            },
            last: dec.read_ulonglong()?,
        })
    }
}

fn mixed() -> impl Strategy<Value = Mixed> {
    (
        (
            "[a-z]{0,9}",
            any::<i16>(),
            any::<i32>(),
            any::<i64>(),
            any::<f64>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
            prop::collection::vec(-1e9f64..1e9, 0..300),
            prop::collection::vec(any::<u16>(), 0..50),
        ),
        (
            prop::collection::vec(
                (any::<u8>(), -1e9f64..1e9, -1e9f64..1e9).prop_map(|(tag, x, y)| Pair {
                    tag,
                    x,
                    y,
                }),
                0..120,
            ),
            prop::collection::vec(any::<u8>(), 0..300),
            prop::collection::vec("[a-zA-Z0-9 ]{0,20}", 0..10),
            "[a-zé€中]{0,12}",
            prop::collection::vec(prop::collection::vec(any::<i64>(), 0..6), 0..6),
            prop::collection::vec(-1e9f64..1e9, 0..40),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (lead, short, long, longlong, double, doubles, shorts),
                (pairs, octets, names, wide, nested, encapsulated, last),
            )| Mixed {
                lead,
                short,
                long,
                longlong,
                double,
                doubles,
                shorts,
                pairs,
                octets,
                names,
                wide,
                nested,
                encapsulated,
                last,
            },
        )
}

fn request_header(id: u32) -> Header<'static> {
    Header::Request(RequestHeader::new(id, b"object-key", "operation"))
}

fn reply_header(id: u32) -> Header<'static> {
    Header::Reply(ReplyHeader {
        request_id: id,
        reply_status: ReplyStatus::NoException,
        service_context: ServiceContexts::EMPTY,
    })
}

/// The message(s) carrying `value`: the initial message and its Fragments, back to back.
fn encode<T: CdrEncode>(
    version: GiopVersion,
    order: ByteOrder,
    header: &Header<'_>,
    fragment: Option<usize>,
    value: &T,
) -> Vec<u8> {
    let mut w = MessageWriter::new(version, order, header).unwrap();
    if let Some(n) = fragment {
        w.fragment(n).unwrap();
    }
    value.encode(w.body()).unwrap();
    w.finish().unwrap()
}

/// Splits a stream of GIOP messages into the messages, by their headers.
fn messages(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let size = match rest[6] & 1 {
            0 => u32::from_be_bytes(rest[8..12].try_into().unwrap()),
            _ => u32::from_le_bytes(rest[8..12].try_into().unwrap()),
        } as usize;
        let (m, r) = rest.split_at(12 + size);
        out.push(m);
        rest = r;
    }
    out
}

/// Feeds `stream` to a framer in reads of `chunk` octets and returns the one frame it makes.
fn frame(stream: &[u8], chunk: usize) -> Frame {
    let mut framer = Framer::giop();
    let mut frames = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        let mut input = piece;
        while let Some(f) = framer.next_message(&mut input).unwrap() {
            frames.push(f);
        }
    }
    assert_eq!(frames.len(), 1, "the fragments make one message");
    frames.pop().unwrap()
}

fn decode<T: for<'a> CdrDecode<'a>>(frame: &Frame) -> Result<T, DecodeError> {
    let msg = frame.decode().unwrap();
    let mut dec = msg.body_decoder();
    let v = T::decode(&mut dec)?;
    dec.expect_end()?;
    Ok(v)
}

fn check_fragment_sizes(stream: &[u8], version: GiopVersion, max: usize) {
    let max = max & !7;
    let msgs = messages(stream);
    for (i, m) in msgs.iter().enumerate() {
        let last = i + 1 == msgs.len();
        assert_eq!(m[4..6], [1, version.minor], "fragment {i}'s version");
        assert_eq!(m[6] & 2 != 0, !last, "fragment {i}'s more-fragments flag");
        if i > 0 {
            assert_eq!(MsgType(m[7]), MsgType::FRAGMENT);
        }
        if !last {
            // The first fragment may be larger only to hold the whole message header.
            assert!(
                m.len() <= max || i == 0,
                "fragment {i} is {} > {max}",
                m.len()
            );
            // GIOP 1.2 requires it; GIOP 1.1 fragments end aligned as omniORB's do.
            assert_eq!(m.len() % 8, 0, "fragment {i} is {} octets", m.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_value_in_any_fragment_size_decodes_equal(
        value in mixed(),
        size in 32usize..600,
        chunk in 1usize..5000,
        big_endian in any::<bool>(),
        v12 in any::<bool>(),
        reply in any::<bool>(),
    ) {
        let order = if big_endian { BE } else { LE };
        let version = if v12 { GiopVersion::V1_2 } else { GiopVersion::V1_1 };
        let header = if reply { reply_header(9) } else { request_header(9) };
        let whole = encode(version, order, &header, None, &value);
        let stream = encode(version, order, &header, Some(size), &value);
        check_fragment_sizes(&stream, version, size);
        if whole.len() <= (size & !7) {
            prop_assert_eq!(&stream, &whole);
        }
        let f = frame(&stream, chunk);
        let msg = f.decode().unwrap();
        prop_assert_eq!(msg.header(), &header);
        prop_assert_eq!(decode::<Mixed>(&f).unwrap(), value);
    }
}

/// The case omniORB showed: a sequence of structs of two doubles in a GIOP 1.1 Reply of
/// 8 KiB fragments came back wrong from element #505 on.
#[test]
fn giop_1_1_sequences_of_double_pairs_survive_8k_fragments() {
    for n in [1_000usize, 65_536] {
        let value: Vec<(f64, f64)> = (0..n).map(|i| (i as f64, -(i as f64) / 3.0)).collect();
        let pairs: Vec<Pair> = value.iter().map(|&(x, y)| Pair { tag: 0, x, y }).collect();
        for order in [BE, LE] {
            let stream = encode(
                GiopVersion::V1_1,
                order,
                &reply_header(1),
                Some(8192),
                &pairs,
            );
            assert!(messages(&stream).len() > 2);
            check_fragment_sizes(&stream, GiopVersion::V1_1, 8192);
            let got: Vec<Pair> = decode(&frame(&stream, 65536)).unwrap();
            assert_eq!(got.len(), n);
            if let Some(i) = (0..n).find(|&i| got[i] != pairs[i]) {
                panic!("element {i}: {:?} != {:?}", got[i], pairs[i]);
            }
        }
    }
}

/// The layout omniORB sends and our encoder writes: fragments of 8 KiB ending at a multiple
/// of 8 from their own start; in the next, a double is aligned relative to the Fragment's
/// header — 4 octets of padding after the 12-octet header.
#[test]
fn omniorb_layout_realigns_values_after_a_giop_1_1_boundary() {
    // A 1.1 Reply's body starts at 24 (header, no service contexts, request id, status):
    // doubles at 24, 32, ... fill the first 8 KiB fragment exactly, 1,021 of them.
    let mut w = MessageWriter::new(GiopVersion::V1_1, LE, &reply_header(3)).unwrap();
    w.fragment(8192).unwrap();
    for i in 0..3000 {
        w.body().write_double(i as f64);
    }
    let stream = w.finish().unwrap();
    let msgs = messages(&stream);
    assert_eq!(msgs[0].len(), 8192);
    let second = msgs[1];
    assert_eq!(&second[..8], b"GIOP\x01\x01\x03\x07");
    assert_eq!(second.len(), 8192);
    // After the 12-octet Fragment header, 4 octets of padding, then double #1021 at 16.
    assert_eq!(&second[12..16], &[0; 4]);
    assert_eq!(second[16..24], 1021f64.to_le_bytes());
    let f = frame(&stream, 4096);
    let mut dec = f.decode().unwrap().body_decoder();
    for i in 0..3000 {
        assert_eq!(dec.read_double().unwrap(), i as f64, "double #{i}");
    }
    assert!(dec.is_empty());
}

/// Cuts one whole GIOP 1.1 message into an initial message and one Fragment at `cut` (an
/// offset in the message), by hand, without any realignment: what a careless writer sends.
fn cut_1_1(whole: &[u8], cut: usize) -> Vec<u8> {
    let mut first = whole[..cut].to_vec();
    first[6] |= 2;
    first[8..12].copy_from_slice(&((cut - 12) as u32).to_be_bytes());
    let mut frag = b"GIOP\x01\x01\x00\x07".to_vec();
    frag.extend_from_slice(&((whole.len() - cut) as u32).to_be_bytes());
    frag.extend_from_slice(&whole[cut..]);
    first.extend_from_slice(&frag);
    first
}

#[test]
fn a_primitive_split_by_a_giop_1_1_boundary_is_an_error_not_data() {
    // Body: a long at body offset 0 then a double; the body of a 1.1 Reply with no service
    // contexts starts at 24 (12 + count + id + status).
    let mut w = MessageWriter::new(GiopVersion::V1_1, BE, &reply_header(1)).unwrap();
    w.body().write_long(0x0102_0304);
    w.body().write_double(2.5);
    let whole = w.finish().unwrap();
    let body = 24;
    // A boundary inside the long.
    let f = frame(&cut_1_1(&whole, body + 2), 7);
    let mut dec = f.decode().unwrap().body_decoder();
    let e = dec.read_long().unwrap_err();
    assert!(
        e.to_string().contains("split across GIOP 1.1 fragments"),
        "{e}"
    );
    // A boundary inside the double.
    let f = frame(&cut_1_1(&whole, body + 4 + 4 + 4), 7);
    let mut dec = f.decode().unwrap().body_decoder();
    assert_eq!(dec.read_long().unwrap(), 0x0102_0304);
    let e = dec.read_double().unwrap_err();
    assert!(e.to_string().contains("GIOP 1.1 fragment"), "{e}");
    // A boundary inside the padding before the double (the long ends at 32, the double is
    // at 40 from the message start): nothing says where the double is.
    let f = frame(&cut_1_1(&whole, body + 4 + 2), 7);
    let mut dec = f.decode().unwrap().body_decoder();
    assert_eq!(dec.read_long().unwrap(), 0x0102_0304);
    let e = dec.read_double().unwrap_err();
    assert!(e.to_string().contains("padding crosses"), "{e}");
}

#[test]
fn a_value_after_an_unaligned_giop_1_1_boundary_is_aligned_in_its_fragment() {
    // A fragment ending right after the long (at 28, not a multiple of 8): the double starts
    // in the next fragment, aligned relative to that fragment's header (offset 16 in it).
    let mut w = MessageWriter::new(GiopVersion::V1_1, BE, &reply_header(1)).unwrap();
    w.body().write_long(7);
    let mut stream = w.finish().unwrap();
    stream[6] |= 2;
    let mut frag = b"GIOP\x01\x01\x00\x07\x00\x00\x00\x0c".to_vec();
    frag.extend_from_slice(&[0xee; 4]);
    frag.extend_from_slice(&2.5f64.to_be_bytes());
    stream.extend_from_slice(&frag);
    let f = frame(&stream, 5);
    assert_eq!(f.fragment_starts(), &[28]);
    let mut dec = f.decode().unwrap().body_decoder();
    assert_eq!(dec.read_long().unwrap(), 7);
    assert_eq!(dec.read_double().unwrap(), 2.5);
    assert!(dec.is_empty());
}

#[test]
fn strings_and_sequence_headers_cut_anywhere_decode_equal() {
    // Every cut position through a run of strings and sequence lengths, with small fragments:
    // the encoder places each boundary; the decoder must follow.
    let value = Mixed {
        lead: "abcdefg".into(),
        short: -2,
        long: 77,
        longlong: -1 << 40,
        double: 1.25,
        doubles: (0..40).map(|i| i as f64 * 1.5).collect(),
        shorts: (0..9).collect(),
        pairs: (0..10)
            .map(|i| Pair {
                tag: i,
                x: i as f64,
                y: -(i as f64),
            })
            .collect(),
        octets: (0..=255).collect(),
        names: vec!["".into(), "x".into(), "a longer name".into()],
        wide: "wide € text".into(),
        nested: vec![vec![1, 2], vec![], vec![3]],
        encapsulated: vec![0.5, 0.25],
        last: u64::MAX,
    };
    for version in [GiopVersion::V1_1, GiopVersion::V1_2] {
        for size in (32..200).step_by(1) {
            for order in [BE, LE] {
                let stream = encode(version, order, &request_header(5), Some(size), &value);
                check_fragment_sizes(&stream, version, size);
                let got: Mixed = decode(&frame(&stream, 13)).unwrap();
                assert_eq!(got, value, "GIOP {version}, fragments of {size}");
            }
        }
    }
}

#[test]
fn fragmenting_is_refused_where_giop_has_no_fragments() {
    let mut w = MessageWriter::new(GiopVersion::V1_0, BE, &request_header(1)).unwrap();
    assert!(w.fragment(64).is_err());
    let locate = Header::LocateRequest(orb::giop::LocateRequestHeader {
        request_id: 1,
        target: orb::giop::TargetAddress::KeyAddr(b"k"),
    });
    let mut w = MessageWriter::new(GiopVersion::V1_1, BE, &locate).unwrap();
    assert!(w.fragment(64).is_err());
    let mut w = MessageWriter::new(GiopVersion::V1_2, BE, &locate).unwrap();
    assert!(w.fragment(64).is_ok());
    let mut w = MessageWriter::new(GiopVersion::V1_2, BE, &request_header(1)).unwrap();
    assert!(w.fragment(31).is_err());
    w.body().write_long(1);
    assert!(w.fragment(64).is_err(), "too late: the body has begun");
}

#[test]
fn a_reply_rewritten_after_a_fragmented_body_drops_its_fragments() {
    // A server marshals results, then learns it must send an exception instead.
    let mut w = MessageWriter::new(GiopVersion::V1_1, LE, &reply_header(4)).unwrap();
    w.fragment(64).unwrap();
    for i in 0..100 {
        w.body().write_double(i as f64);
    }
    w.reset_body();
    w.set_reply_status(ReplyStatus::SystemException);
    w.body()
        .write_string("IDL:omg.org/CORBA/MARSHAL:1.0")
        .unwrap();
    w.body().write_ulong(5);
    w.body().write_ulong(1);
    let stream = w.finish().unwrap();
    check_fragment_sizes(&stream, GiopVersion::V1_1, 64);
    let f = frame(&stream, 3);
    let msg = f.decode().unwrap();
    let ex = msg.system_exception().unwrap();
    assert_eq!(ex.minor, 5);
}

/// `any` values whose TypeCodes hold indirections (a recursive struct) and whose values hold
/// runs of numbers: offsets inside a message count in the stream the receiver joins, without
/// the fragment headers, wherever the boundaries fall.
#[test]
fn anys_with_indirections_and_number_runs_cross_fragments() {
    use orb::typecode::{Any, TCKind, TypeCode, Value};
    const NODE: &str = "IDL:test/Node:1.0";
    let node_tc = TypeCode::struct_tc(
        NODE,
        "Node",
        [(
            "children",
            TypeCode::sequence(TypeCode::recursive(TCKind::Struct, NODE), 0),
        )],
    );
    let leaf = Value::Struct(vec![Value::Sequence(vec![])]);
    let tree = Value::Struct(vec![Value::Sequence(vec![
        leaf.clone(),
        Value::Struct(vec![Value::Sequence(vec![leaf.clone(), leaf])]),
    ])]);
    let node = Any::new(node_tc, tree).unwrap();
    let doubles = Any::new(
        TypeCode::sequence(TypeCode::Double, 0),
        Value::Sequence((0..50).map(|i| Value::Double(i as f64 / 7.0)).collect()),
    )
    .unwrap();
    let value = vec![doubles, node.clone(), node];
    for version in [GiopVersion::V1_1, GiopVersion::V1_2] {
        for size in 32..240 {
            for order in [BE, LE] {
                let stream = encode(version, order, &request_header(2), Some(size), &value);
                let got: Vec<Any> = decode(&frame(&stream, 11)).unwrap();
                assert_eq!(got, value, "GIOP {version}, fragments of {size}");
            }
        }
    }
}
