//! Byte-literal tests (expected octets worked out by hand from §15.3) and round-trip property
//! tests for every primitive and composite shape, in both byte orders.

use super::*;
use proptest::prelude::*;
use std::borrow::Cow;

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;

fn enc(order: ByteOrder) -> Encoder {
    Encoder::new(order)
}

#[test]
fn primitives_are_aligned_to_their_size_from_the_origin() {
    let mut e = enc(BE);
    e.write_octet(1);
    e.write_short(-2);
    e.write_octet(3);
    e.write_ulong(0x0102_0304);
    e.write_octet(4);
    e.write_ulonglong(0x0102_0304_0506_0708);
    assert_eq!(
        e.as_bytes(),
        [
            1, 0, 0xff, 0xfe, // octet, pad 1, short
            3, 0, 0, 0, 1, 2, 3, 4, // octet, pad 3, ulong
            4, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, // octet, pad 3, ulonglong at 16
        ]
    );
    let mut d = Decoder::new(e.as_bytes(), BE);
    assert_eq!(d.read_octet().unwrap(), 1);
    assert_eq!(d.read_short().unwrap(), -2);
    assert_eq!(d.read_octet().unwrap(), 3);
    assert_eq!(d.read_ulong().unwrap(), 0x0102_0304);
    assert_eq!(d.read_octet().unwrap(), 4);
    assert_eq!(d.read_ulonglong().unwrap(), 0x0102_0304_0506_0708);
    d.expect_end().unwrap();
}

#[test]
fn little_endian_numbers() {
    let mut e = enc(LE);
    e.write_long(-2);
    e.write_double(1.0);
    assert_eq!(
        e.as_bytes(),
        [0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
    );
}

#[test]
fn decoding_from_a_body_offset_keeps_alignment_relative_to_the_message_start() {
    // Twelve octets of "header", then a ulong at 12 and a double at 16.
    let mut msg = vec![0u8; 12];
    msg.extend_from_slice(&7u32.to_be_bytes());
    msg.extend_from_slice(&2.5f64.to_be_bytes());
    let mut d = Decoder::new_at(&msg, 12, BE);
    assert_eq!(d.read_ulong().unwrap(), 7);
    assert_eq!(d.read_double().unwrap(), 2.5);
}

#[test]
fn string_is_length_with_nul_then_octets() {
    let mut e = enc(BE);
    e.write_octet(9);
    e.write_string("Hi").unwrap();
    assert_eq!(e.as_bytes(), [9, 0, 0, 0, 0, 0, 0, 3, b'H', b'i', 0]);
    let mut d = Decoder::new(e.as_bytes(), BE);
    d.read_octet().unwrap();
    assert!(matches!(d.read_string().unwrap(), Cow::Borrowed("Hi")));
}

#[test]
fn latin1_strings_are_transcoded_both_ways() {
    let mut e = enc(BE);
    e.write_string("café").unwrap();
    assert_eq!(e.as_bytes(), [0, 0, 0, 5, b'c', b'a', b'f', 0xe9, 0]);
    let s: String = decode_from_slice(e.as_bytes(), BE).unwrap();
    assert_eq!(s, "café");
    assert_eq!(
        enc(BE).write_string("€").unwrap_err(),
        EncodeError::Unrepresentable('€', CodeSetId::ISO_8859_1)
    );
}

#[test]
fn utf8_strings_are_borrowed_when_the_code_set_is_utf8() {
    let utf8 = CodeSets {
        char: CodeSetId::UTF_8,
        wchar: CodeSetId::UTF_16,
    };
    let mut e = enc(LE);
    e.set_codesets(utf8);
    e.write_string("€uro").unwrap();
    let mut d = Decoder::new(e.as_bytes(), LE);
    d.set_codesets(utf8);
    assert!(matches!(d.read_string().unwrap(), Cow::Borrowed("€uro")));
}

#[test]
fn strings_with_nul_are_refused_both_ways() {
    assert_eq!(
        enc(BE).write_string("a\0b").unwrap_err(),
        EncodeError::EmbeddedNul
    );
    let bytes = [0, 0, 0, 4, b'a', 0, b'b', 0];
    let err = decode_from_slice::<String>(&bytes, BE).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::EmbeddedNul);
    let unterminated = [0, 0, 0, 2, b'a', b'b'];
    let err = decode_from_slice::<String>(&unterminated, BE).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::StringNotTerminated);
    let empty = [0, 0, 0, 0];
    let err = decode_from_slice::<String>(&empty, BE).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::StringNotTerminated);
}

#[test]
fn wide_strings_follow_the_giop_version() {
    // GIOP 1.1: length in code units including a NUL unit, units in stream order.
    let mut e = enc(LE);
    e.set_version(GiopVersion::V1_1);
    e.write_wstring("Aé").unwrap();
    assert_eq!(e.as_bytes(), [3, 0, 0, 0, 0x41, 0, 0xe9, 0, 0, 0]);
    let mut d = Decoder::new(e.as_bytes(), LE);
    d.set_version(GiopVersion::V1_1);
    assert_eq!(d.read_wstring().unwrap(), "Aé");

    // GIOP 1.2: length in octets, no terminator, big-endian whatever the stream order.
    let mut e = enc(LE);
    e.write_wstring("Aé").unwrap();
    assert_eq!(e.as_bytes(), [4, 0, 0, 0, 0, 0x41, 0, 0xe9]);
    assert_eq!(
        decode_from_slice::<WString>(e.as_bytes(), LE).unwrap().0,
        "Aé"
    );

    // GIOP 1.2 with a little-endian byte-order mark, as some ORBs send.
    let bom = [6, 0, 0, 0, 0xff, 0xfe, 0x41, 0, 0xe9, 0];
    assert_eq!(decode_from_slice::<WString>(&bom, LE).unwrap().0, "Aé");

    // Characters beyond the BMP travel as surrogate pairs in UTF-16.
    let mut e = enc(BE);
    e.write_wstring("𝄞").unwrap();
    assert_eq!(e.as_bytes(), [0, 0, 0, 4, 0xd8, 0x34, 0xdd, 0x1e]);
}

#[test]
fn wide_characters_are_refused_in_giop_1_0() {
    let mut e = enc(BE);
    e.set_version(GiopVersion::V1_0);
    assert_eq!(
        e.write_wchar('x').unwrap_err(),
        EncodeError::WideCharInGiop10
    );
    assert_eq!(
        e.write_wstring("x").unwrap_err(),
        EncodeError::WideCharInGiop10
    );
    let mut d = Decoder::new(&[0, 0, 0, 0], BE);
    d.set_version(GiopVersion::V1_0);
    assert_eq!(
        d.read_wstring().unwrap_err().kind(),
        &DecodeErrorKind::WideCharInGiop10
    );
}

#[test]
fn wchar_encodings() {
    let mut e = enc(BE);
    e.write_octet(0);
    e.write_wchar('é').unwrap();
    assert_eq!(e.as_bytes(), [0, 2, 0, 0xe9]);
    let mut e = enc(BE);
    e.set_version(GiopVersion::V1_1);
    e.write_octet(0);
    e.write_wchar('é').unwrap();
    assert_eq!(e.as_bytes(), [0, 0, 0, 0xe9]);
    assert!(enc(BE).write_wchar('𝄞').is_err());
}

#[test]
fn encapsulations_align_from_their_own_start_and_carry_their_byte_order() {
    let mut e = enc(BE);
    e.write_octet(0xaa);
    e.write_encapsulation(|e| {
        e.write_ulong(5);
        Ok(())
    })
    .unwrap();
    // length 8 at 4; inside: byte-order 0, pad 3 (to 4 from the inner origin), ulong 5.
    assert_eq!(
        e.as_bytes(),
        [0xaa, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5]
    );
    let mut d = Decoder::new(e.as_bytes(), BE);
    d.read_octet().unwrap();
    let mut inner = d.read_encapsulation().unwrap();
    assert_eq!(inner.read_ulong().unwrap(), 5);
    inner.expect_end().unwrap();
    d.expect_end().unwrap();

    // A little-endian encapsulation inside a big-endian stream.
    let bytes = [0, 0, 0, 8, 1, 0, 0, 0, 5, 0, 0, 0];
    let mut d = Decoder::new(&bytes, BE);
    let mut inner = d.read_encapsulation().unwrap();
    assert_eq!(inner.order(), LE);
    assert_eq!(inner.read_ulong().unwrap(), 5);
    // Errors inside report absolute offsets.
    let mut d = Decoder::new(&bytes, BE);
    let mut inner = d.read_encapsulation().unwrap();
    inner.read_ulong().unwrap();
    assert_eq!(inner.read_octet().unwrap_err().offset(), 12);
}

#[test]
fn bad_encapsulations_are_errors() {
    let bad_order = [0, 0, 0, 1, 7];
    let mut d = Decoder::new(&bad_order, BE);
    let err = d.read_encapsulation().unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidByteOrder(7));
    assert_eq!(err.offset(), 4);
    let empty = [0, 0, 0, 0];
    assert!(Decoder::new(&empty, BE).read_encapsulation().is_err());
}

#[test]
fn hostile_lengths_are_refused_before_allocating() {
    // A sequence of 2^32-1 longs in an 8-octet message.
    let bytes = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let err = decode_from_slice::<Vec<i32>>(&bytes, BE).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::LengthTooLarge {
            length: u32::MAX as u64,
            remaining: 4
        }
    );
    assert_eq!(err.offset(), 0);
    // Strings take at least five octets each on the wire.
    let bytes = [0, 0, 0, 2, 0, 0, 0, 1, 0];
    assert!(matches!(
        decode_from_slice::<Vec<String>>(&bytes, BE)
            .unwrap_err()
            .kind(),
        DecodeErrorKind::LengthTooLarge { length: 2, .. }
    ));
    let err = decode_from_slice::<String>(&[0x7f, 0xff, 0xff, 0xff], BE).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::LengthTooLarge { .. }));
}

#[test]
fn bounded_lengths() {
    let mut d = Decoder::new(&[0, 0, 0, 3, 1, 2, 3], BE);
    let err = d.read_bounded_len(1, 2).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::BoundExceeded {
            length: 3,
            bound: 2
        }
    );
}

#[test]
fn booleans_other_than_0_and_1_are_refused() {
    let err = decode_from_slice::<bool>(&[2], BE).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidBoolean(2));
    assert_eq!(err.offset(), 0);
}

#[test]
fn errors_name_the_field_path_and_offset() {
    let bytes = [0, 0, 0, 1];
    let mut d = Decoder::new(&bytes, BE);
    d.read_ulong().unwrap();
    let err = d.read_ulong().field("count").field("header").unwrap_err();
    assert_eq!(err.path(), "header.count");
    assert_eq!(
        err.to_string(),
        "CDR decode error at offset 4 in header.count: needs 4 more octets but only 0 remain"
    );
}

#[test]
fn trailing_octets_are_refused_by_whole_buffer_decodes() {
    let err = decode_from_slice::<u8>(&[1, 2], BE).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::TrailingBytes(1));
}

#[test]
fn fixed_is_packed_bcd_with_a_trailing_sign() {
    // fixed<5,2> 123.45: digits 1 2 3 4 5, sign C → 0x12 0x34 0x5C.
    let mut e = enc(BE);
    e.write_fixed(&Fixed::new(12345, 2), 5, 2).unwrap();
    assert_eq!(e.as_bytes(), [0x12, 0x34, 0x5c]);
    // fixed<4,2> -12.34: an even digit count gets a leading zero half-octet.
    let mut e = enc(BE);
    e.write_fixed(&Fixed::new(-1234, 2), 4, 2).unwrap();
    assert_eq!(e.as_bytes(), [0x01, 0x23, 0x4d]);
    let mut d = Decoder::new(e.as_bytes(), BE);
    let v = d.read_fixed(4, 2).unwrap();
    assert_eq!(v, Fixed::new(-1234, 2));
    assert_eq!(v.to_string(), "-12.34");
    // Rescaling pads with zeros; overflowing the digits is an error.
    let mut e = enc(BE);
    e.write_fixed(&Fixed::new(5, 0), 3, 1).unwrap();
    assert_eq!(e.as_bytes(), [0x05, 0x0c]);
    assert!(enc(BE).write_fixed(&Fixed::new(1000, 0), 3, 0).is_err());
    // A digit above 9 is not BCD.
    let mut d = Decoder::new(&[0x1a, 0x2c], BE);
    assert_eq!(
        d.read_fixed(3, 0).unwrap_err().kind(),
        &DecodeErrorKind::InvalidFixed
    );
    assert_eq!(Fixed::new(5, 3).to_string(), "0.005");
}

#[test]
fn long_double_is_sixteen_octets_aligned_on_eight() {
    let mut e = enc(LE);
    e.write_octet(0);
    LongDouble::from_f64(1.0).encode(&mut e).unwrap();
    let mut expected = vec![0u8; 8];
    // binary128 1.0 = 0x3fff followed by zeros; little-endian puts it last.
    expected.extend_from_slice(&[0; 14]);
    expected.extend_from_slice(&[0xff, 0x3f]);
    assert_eq!(e.as_bytes(), expected.as_slice());
    let mut d = Decoder::new(e.as_bytes(), LE);
    d.read_octet().unwrap();
    assert_eq!(LongDouble::decode(&mut d).unwrap().to_f64(), 1.0);
}

#[test]
fn long_double_conversions_are_exact_for_every_f64_class() {
    for v in [
        0.0,
        -0.0,
        1.0,
        -2.5,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1.2345e-310,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let back = LongDouble::from_f64(v).to_f64();
        assert_eq!(back.to_bits(), v.to_bits(), "{v}");
    }
    assert!(LongDouble::from_f64(f64::NAN).to_f64().is_nan());
}

#[test]
fn arrays_carry_no_length() {
    let a: [[i16; 2]; 2] = [[1, 2], [3, 4]];
    let bytes = encode_to_vec(&a, BE).unwrap();
    assert_eq!(bytes, [0, 1, 0, 2, 0, 3, 0, 4]);
    assert_eq!(decode_from_slice::<[[i16; 2]; 2]>(&bytes, BE).unwrap(), a);
    assert!(decode_from_slice::<[[i16; 2]; 2]>(&bytes[..6], BE).is_err());
}

#[test]
fn octet_sequences_are_borrowed() {
    let bytes = [0, 0, 0, 3, 7, 8, 9];
    let s: &[u8] = decode_from_slice(&bytes, BE).unwrap();
    assert_eq!(s, [7, 8, 9]);
    assert!(std::ptr::eq(s.as_ptr(), bytes[4..].as_ptr()));
}

#[test]
fn nesting_depth_is_limited() {
    fn recurse(d: &mut Decoder<'_>, n: u32) -> Result<u32, DecodeError> {
        d.nested(|d| if n == 0 { Ok(0) } else { recurse(d, n - 1) })
    }
    let mut d = Decoder::new(&[], BE);
    assert!(recurse(&mut d, 10).is_ok());
    assert_eq!(
        recurse(&mut d, 1000).unwrap_err().kind(),
        &DecodeErrorKind::TooDeep
    );
    assert_eq!(d.depth(), 0);
}

fn order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(BE), Just(LE)]
}

fn version() -> impl Strategy<Value = GiopVersion> {
    prop_oneof![Just(GiopVersion::V1_1), Just(GiopVersion::V1_2)]
}

/// Encodes `v` after `skew` octets so that every alignment path is exercised, decodes it back.
fn round_trip<T>(v: &T, order: ByteOrder, skew: usize, version: GiopVersion) -> T
where
    T: CdrEncode + for<'a> CdrDecode<'a>,
{
    let mut e = Encoder::new(order);
    e.set_version(version);
    for _ in 0..skew {
        e.write_octet(0x55);
    }
    v.encode(&mut e).unwrap();
    let mut d = Decoder::new_at(e.as_bytes(), skew, order);
    d.set_version(version);
    let back = T::decode(&mut d).unwrap();
    d.expect_end().unwrap();
    back
}

/// A stand-in for a generated struct: proves the traits compose the way idlc's output will.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    id: u16,
    name: String,
    wide: WString,
    readings: Vec<f64>,
    grid: [[i32; 3]; 2],
    flags: Vec<bool>,
    tag: char,
    nested: Vec<Vec<u64>>,
}

impl CdrEncode for Sample {
    fn encode(&self, e: &mut Encoder) -> Result<(), EncodeError> {
        self.id.encode(e)?;
        self.name.encode(e)?;
        self.wide.encode(e)?;
        self.readings.encode(e)?;
        self.grid.encode(e)?;
        self.flags.encode(e)?;
        self.tag.encode(e)?;
        self.nested.encode(e)
    }
}

impl<'a> CdrDecode<'a> for Sample {
    const MIN_WIRE_SIZE: usize = 2 + 5 + 4 + 4 + 24 + 4 + 1 + 4;

    fn decode(d: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(Sample {
            id: CdrDecode::decode(d).field("id")?,
            name: CdrDecode::decode(d).field("name")?,
            wide: CdrDecode::decode(d).field("wide")?,
            readings: CdrDecode::decode(d).field("readings")?,
            grid: CdrDecode::decode(d).field("grid")?,
            flags: CdrDecode::decode(d).field("flags")?,
            tag: CdrDecode::decode(d).field("tag")?,
            nested: CdrDecode::decode(d).field("nested")?,
        })
    }
}

fn latin1_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(1u8..=255, 0..40)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

fn wide_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 0..20)
        .prop_map(|c| c.into_iter().collect())
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        any::<u16>(),
        latin1_string(),
        wide_string(),
        proptest::collection::vec(
            any::<f64>().prop_filter("NaN != NaN", |f| !f.is_nan()),
            0..10,
        ),
        any::<[[i32; 3]; 2]>(),
        proptest::collection::vec(any::<bool>(), 0..10),
        (0u32..=255).prop_map(|c| char::from_u32(c).unwrap()),
        proptest::collection::vec(proptest::collection::vec(any::<u64>(), 0..4), 0..4),
    )
        .prop_map(
            |(id, name, wide, readings, grid, flags, tag, nested)| Sample {
                id,
                name,
                wide: WString(wide),
                readings,
                grid,
                flags,
                tag,
                nested,
            },
        )
}

proptest! {
    #[test]
    fn integers_round_trip(v in any::<(i16, u16, i32, u32, i64, u64)>(), o in order(), skew in 0usize..8) {
        let (a, b, c, d, e, f) = v;
        prop_assert_eq!(round_trip(&a, o, skew, GiopVersion::V1_2), a);
        prop_assert_eq!(round_trip(&b, o, skew, GiopVersion::V1_2), b);
        prop_assert_eq!(round_trip(&c, o, skew, GiopVersion::V1_2), c);
        prop_assert_eq!(round_trip(&d, o, skew, GiopVersion::V1_2), d);
        prop_assert_eq!(round_trip(&e, o, skew, GiopVersion::V1_2), e);
        prop_assert_eq!(round_trip(&f, o, skew, GiopVersion::V1_2), f);
    }

    #[test]
    fn floats_round_trip_bit_for_bit(a in any::<f32>(), b in any::<f64>(), o in order(), skew in 0usize..8) {
        prop_assert_eq!(round_trip(&a, o, skew, GiopVersion::V1_2).to_bits(), a.to_bits());
        prop_assert_eq!(round_trip(&b, o, skew, GiopVersion::V1_2).to_bits(), b.to_bits());
    }

    #[test]
    fn long_doubles_round_trip_unchanged(bits in any::<[u8; 16]>(), o in order(), skew in 0usize..8) {
        let v = LongDouble(bits);
        prop_assert_eq!(round_trip(&v, o, skew, GiopVersion::V1_2), v);
    }

    #[test]
    fn chars_and_strings_round_trip(s in latin1_string(), w in wide_string(), o in order(), skew in 0usize..8, v in version()) {
        prop_assert_eq!(&round_trip(&s, o, skew, v), &s);
        prop_assert_eq!(round_trip(&WString(w.clone()), o, skew, v).0, w);
    }

    #[test]
    fn wchars_round_trip(c in any::<char>().prop_filter("BMP", |c| c.len_utf16() == 1), o in order(), skew in 0usize..8, v in version()) {
        prop_assert_eq!(round_trip(&WChar(c), o, skew, v), WChar(c));
    }

    #[test]
    fn sequences_round_trip(a in proptest::collection::vec(any::<i32>(), 0..64),
                            b in proptest::collection::vec(any::<u8>(), 0..64),
                            c in proptest::collection::vec(latin1_string(), 0..8),
                            o in order(), skew in 0usize..8) {
        prop_assert_eq!(round_trip(&a, o, skew, GiopVersion::V1_2), a);
        prop_assert_eq!(round_trip(&b, o, skew, GiopVersion::V1_2), b);
        prop_assert_eq!(round_trip(&c, o, skew, GiopVersion::V1_2), c);
    }

    #[test]
    fn fixed_round_trips(digits in 1u16..=31, raw in any::<i128>(), o in order()) {
        let scale = (raw.unsigned_abs() % (digits as u128 + 1)) as u16;
        let value = raw % 10i128.pow(digits as u32);
        let f = Fixed::new(value, scale);
        let mut e = Encoder::new(o);
        e.write_fixed(&f, digits, scale).unwrap();
        let mut d = Decoder::new(e.as_bytes(), o);
        prop_assert_eq!(d.read_fixed(digits, scale).unwrap(), f);
        d.expect_end().unwrap();
    }

    #[test]
    fn composite_values_round_trip(s in sample(), o in order(), skew in 0usize..8, v in version()) {
        prop_assert_eq!(round_trip(&s, o, skew, v), s);
    }

    #[test]
    fn decoding_arbitrary_octets_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), o in order(), v in version()) {
        let mut d = Decoder::new(&bytes, o);
        d.set_version(v);
        let _ = Sample::decode(&mut d);
        let _ = decode_from_slice::<Vec<Vec<String>>>(&bytes, o);
        let _ = decode_from_slice::<Vec<WString>>(&bytes, o);
    }

    #[test]
    fn truncating_an_encoding_is_always_an_error(s in sample(), o in order(), cut in any::<prop::sample::Index>()) {
        let bytes = encode_to_vec(&s, o).unwrap();
        let cut = cut.index(bytes.len());
        let mut d = Decoder::new(&bytes[..cut], o);
        prop_assert!(Sample::decode(&mut d).is_err());
    }
}
