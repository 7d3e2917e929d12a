//! Byte-literal tests (hand-computed), indirection and limit tests, and round-trip properties.

use super::*;
use crate::cdr::{
    decode_from_slice, encode_to_vec, ByteOrder, DecodeErrorKind, Fixed, GiopVersion, LongDouble,
    WChar, WString,
};
use crate::iop::{Ior, ProfileId, TaggedProfile};
use proptest::prelude::*;

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;

/// Writes CDR by hand, independently of [`Encoder`], with a byte order per encapsulation: how
/// the tests build input no encoder of ours would produce.
struct Hand {
    buf: Vec<u8>,
    /// (alignment origin, little-endian, position of the length) per open encapsulation.
    stack: Vec<(usize, bool, usize)>,
    le: bool,
}

impl Hand {
    fn new(le: bool) -> Hand {
        Hand {
            buf: Vec::new(),
            stack: Vec::new(),
            le,
        }
    }

    fn origin(&self) -> usize {
        self.stack.last().map_or(0, |s| s.0)
    }

    fn pos(&self) -> usize {
        self.buf.len()
    }

    fn align(&mut self, n: usize) {
        while (self.buf.len() - self.origin()) % n != 0 {
            self.buf.push(0);
        }
    }

    fn octet(&mut self, b: u8) -> &mut Self {
        self.buf.push(b);
        self
    }

    fn ulong(&mut self, v: u32) -> &mut Self {
        self.align(4);
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.buf.extend_from_slice(&b);
        self
    }

    fn long(&mut self, v: i32) -> &mut Self {
        self.ulong(v as u32)
    }

    fn string(&mut self, s: &str) -> &mut Self {
        self.ulong(s.len() as u32 + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self
    }

    fn begin(&mut self, le: bool) -> &mut Self {
        self.align(4);
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.stack.push((self.buf.len(), self.le, len_at));
        self.le = le;
        self.buf.push(le as u8);
        self
    }

    fn end(&mut self) -> &mut Self {
        let (origin, outer_le, len_at) = self.stack.pop().expect("open encapsulation");
        let len = (self.buf.len() - origin) as u32;
        self.le = outer_le;
        let b = if outer_le {
            len.to_le_bytes()
        } else {
            len.to_be_bytes()
        };
        self.buf[len_at..len_at + 4].copy_from_slice(&b);
        self
    }

    /// An indirection to the TypeCode whose kind is at `target`.
    fn indirection(&mut self, target: usize) -> &mut Self {
        self.ulong(0xffff_ffff);
        let at = self.pos();
        self.long(target as i32 - at as i32)
    }
}

fn decode_tc(bytes: &[u8], order: ByteOrder) -> Result<TypeCode, DecodeError> {
    decode_from_slice::<TypeCode>(bytes, order)
}

fn encode_tc(tc: &TypeCode, order: ByteOrder) -> Vec<u8> {
    encode_to_vec(tc, order).expect("TypeCode encodes")
}

fn s_tc() -> TypeCode {
    TypeCode::struct_tc(
        "IDL:S:1.0",
        "S",
        [("a", TypeCode::Long), ("b", TypeCode::string(0))],
    )
}

/// `struct S { long a; string b; };` big-endian, computed by hand: offsets in the comments are
/// from the encapsulation's byte-order octet, which is where its alignment counts from.
#[rustfmt::skip]
const S_BE: [u8; 68] = [
    0, 0, 0, 15,                                   // tk_struct
    0, 0, 0, 60,                                   // encapsulation length
    0, 0, 0, 0,                                    // 0: big-endian, 3 octets padding
    0, 0, 0, 10, b'I', b'D', b'L', b':', b'S', b':', b'1', b'.', b'0', 0, // 4: id
    0, 0,                                          // 18: pad to 20
    0, 0, 0, 2, b'S', 0,                           // 20: name
    0, 0,                                          // 26: pad to 28
    0, 0, 0, 2,                                    // 28: member count
    0, 0, 0, 2, b'a', 0, 0, 0,                     // 32: "a", pad to 40
    0, 0, 0, 3,                                    // 40: tk_long
    0, 0, 0, 2, b'b', 0, 0, 0,                     // 44: "b", pad to 52
    0, 0, 0, 18, 0, 0, 0, 0,                       // 52: tk_string, bound 0
];

#[rustfmt::skip]
const S_LE: [u8; 68] = [
    15, 0, 0, 0,
    60, 0, 0, 0,
    1, 0, 0, 0,
    10, 0, 0, 0, b'I', b'D', b'L', b':', b'S', b':', b'1', b'.', b'0', 0,
    0, 0,
    2, 0, 0, 0, b'S', 0,
    0, 0,
    2, 0, 0, 0,
    2, 0, 0, 0, b'a', 0, 0, 0,
    3, 0, 0, 0,
    2, 0, 0, 0, b'b', 0, 0, 0,
    18, 0, 0, 0, 0, 0, 0, 0,
];

#[test]
fn simple_typecodes_have_empty_or_simple_parameter_lists() {
    assert_eq!(encode_tc(&TypeCode::Long, BE), [0, 0, 0, 3]);
    assert_eq!(encode_tc(&TypeCode::LongDouble, LE), [25, 0, 0, 0]);
    assert_eq!(
        encode_tc(&TypeCode::string(10), BE),
        [0, 0, 0, 18, 0, 0, 0, 10]
    );
    assert_eq!(
        encode_tc(&TypeCode::wstring(0), LE),
        [27, 0, 0, 0, 0, 0, 0, 0]
    );
    // fixed<10,2>: digits ushort, scale short, no encapsulation.
    assert_eq!(
        encode_tc(&TypeCode::fixed(10, 2), BE),
        [0, 0, 0, 28, 0, 10, 0, 2]
    );
    for kind in (0..=36).filter_map(TCKind::from_value) {
        if let Some(tc) = TypeCode::from_kind(kind) {
            for order in [BE, LE] {
                let bytes = encode_tc(&tc, order);
                assert_eq!(bytes.len(), 4);
                assert_eq!(decode_tc(&bytes, order).unwrap(), tc);
            }
        }
    }
    assert_eq!(TCKind::from_value(37), None);
    assert_eq!(TCKind::Event.name(), "tk_event");
}

#[test]
fn struct_with_two_members_matches_hand_computed_bytes_in_both_orders() {
    assert_eq!(encode_tc(&s_tc(), BE), S_BE);
    assert_eq!(encode_tc(&s_tc(), LE), S_LE);
    assert_eq!(decode_tc(&S_BE, BE).unwrap(), s_tc());
    assert_eq!(decode_tc(&S_LE, LE).unwrap(), s_tc());
    // The encapsulation carries its own byte order: the outer order only matters for the
    // kind and length.
    let mut mixed = S_LE;
    mixed[..8].copy_from_slice(&[0, 0, 0, 15, 0, 0, 0, 60]);
    assert_eq!(decode_tc(&mixed, BE).unwrap(), s_tc());
}

#[test]
fn union_with_default_member_matches_hand_computed_bytes() {
    // union U switch (long) { case 1: short s; default: boolean b; };
    #[rustfmt::skip]
    let bytes: [u8; 80] = [
        0, 0, 0, 16, 0, 0, 0, 72,
        0, 0, 0, 0,                                                             // 0
        0, 0, 0, 10, b'I', b'D', b'L', b':', b'U', b':', b'1', b'.', b'0', 0, 0, 0, // 4: id
        0, 0, 0, 2, b'U', 0, 0, 0,                                              // 20: name
        0, 0, 0, 3,                                                             // 28: tk_long
        0, 0, 0, 1,                                                             // 32: default_index
        0, 0, 0, 2,                                                             // 36: count
        0, 0, 0, 1,                                                             // 40: label 1
        0, 0, 0, 2, b's', 0, 0, 0,                                              // 44
        0, 0, 0, 2,                                                             // 52: tk_short
        0, 0, 0, 0,                                                             // 56: default label
        0, 0, 0, 2, b'b', 0, 0, 0,                                              // 60
        0, 0, 0, 8,                                                             // 68: tk_boolean
    ];
    let u = TypeCode::union_tc(
        "IDL:U:1.0",
        "U",
        TypeCode::Long,
        [
            (UnionLabel::Value(Value::Long(1)), "s", TypeCode::Short),
            (UnionLabel::Default, "b", TypeCode::Boolean),
        ],
    );
    assert_eq!(encode_tc(&u, BE), bytes);
    assert_eq!(decode_tc(&bytes, BE).unwrap(), u);
    assert_eq!(u.default_index(), Some(1));
    assert_eq!(u.discriminator_type(), Some(&TypeCode::Long));

    // A default label other than the zero octet, and a default index out of range.
    let mut bad = bytes;
    bad[64] = 1;
    let e = decode_tc(&bad, BE).unwrap_err();
    assert_eq!(
        (e.offset(), e.path().as_str()),
        (64, "tk_union.member_label")
    );
    let mut bad = bytes;
    bad[43] = 2;
    let e = decode_tc(&bad, BE).unwrap_err();
    assert_eq!(e.path(), "tk_union.default_index");
}

#[test]
fn any_holding_a_struct_matches_hand_computed_bytes() {
    let any = Any::new(
        s_tc(),
        Value::Struct(vec![Value::Long(-2), Value::String("hi".into())]),
    )
    .unwrap();
    let mut expected = S_BE.to_vec();
    expected.extend_from_slice(&[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 3, b'h', b'i', 0]);
    assert_eq!(encode_to_vec(&any, BE).unwrap(), expected);
    assert_eq!(Any::decode_from_slice(&expected, BE).unwrap(), any);
}

/// `struct Node { sequence<Node> children; };`, the sequence's content an indirection back
/// to the struct, big-endian. Offsets in the comments are absolute.
#[rustfmt::skip]
const NODE_BE: [u8; 88] = [
    0, 0, 0, 15,                                   // 0: tk_struct
    0, 0, 0, 80,                                   // 4: length
    0, 0, 0, 0,                                    // 8: byte order, padding
    0, 0, 0, 13, b'I', b'D', b'L', b':', b'N', b'o', b'd', b'e', b':', b'1', b'.', b'0', 0, // 12
    0, 0, 0,                                       // 29: pad to 32
    0, 0, 0, 5, b'N', b'o', b'd', b'e', 0, 0, 0, 0, // 32: name, pad to 44
    0, 0, 0, 1,                                    // 44: member count
    0, 0, 0, 9, b'c', b'h', b'i', b'l', b'd', b'r', b'e', b'n', 0, 0, 0, 0, // 48
    0, 0, 0, 19,                                   // 64: tk_sequence
    0, 0, 0, 16,                                   // 68: length
    0, 0, 0, 0,                                    // 72: byte order, padding
    0xff, 0xff, 0xff, 0xff,                        // 76: indirection
    0xff, 0xff, 0xff, 0xb0,                        // 80: -80, back to offset 0
    0, 0, 0, 0,                                    // 84: bound
];

const NODE_ID: &str = "IDL:Node:1.0";

fn node_tc() -> TypeCode {
    TypeCode::struct_tc(
        NODE_ID,
        "Node",
        [(
            "children",
            TypeCode::sequence(TypeCode::recursive(TCKind::Struct, NODE_ID), 0),
        )],
    )
}

#[test]
fn recursive_struct_encodes_as_indirection_and_decodes_back() {
    assert_eq!(encode_tc(&node_tc(), BE), NODE_BE);
    let tc = decode_tc(&NODE_BE, BE).unwrap();
    assert_eq!(tc, node_tc());
    let content = tc.member_type(0).unwrap().content_type().unwrap();
    assert!(content.is_recursive());
    assert_eq!(content.kind(), TCKind::Struct);
    assert_eq!(content.id(), Some(NODE_ID));
    for order in [BE, LE] {
        assert_eq!(
            decode_tc(&encode_tc(&node_tc(), order), order).unwrap(),
            node_tc()
        );
    }
}

#[test]
fn bad_indirections_are_errors_naming_the_offset() {
    let cases: [(i32, &str); 7] = [
        (4, "forward"),
        (0, "zero"),
        (-4, "its own kind"),
        (-76, "the struct's encapsulation length"),
        (-68, "the middle of the struct's parameters"),
        (-16, "the enclosing anonymous sequence"),
        (-84, "before the stream"),
    ];
    for (offset, what) in cases {
        let mut bytes = NODE_BE;
        bytes[80..84].copy_from_slice(&offset.to_be_bytes());
        let e = decode_tc(&bytes, BE).expect_err(what);
        assert_eq!(e.offset(), 80, "{what}: {e}");
        assert_eq!(
            e.path(),
            "tk_struct.member_type.tk_sequence.content_type.indirection",
            "{what}"
        );
    }
    // Far outside in both directions.
    for offset in [i32::MIN, i32::MAX] {
        let mut bytes = NODE_BE;
        bytes[80..84].copy_from_slice(&offset.to_be_bytes());
        assert!(decode_tc(&bytes, BE).is_err());
    }
    // A lone top-level indirection has nothing to point at.
    assert!(decode_tc(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc], BE).is_err());
}

/// alias NodeAlias -> struct Node { sequence<Node> children; } where the indirection points
/// into the alias's encapsulation, built with a different byte order per encapsulation.
fn aliased_node_bytes(orders: [bool; 3]) -> (Vec<u8>, usize) {
    let mut h = Hand::new(false);
    h.ulong(21)
        .begin(orders[0])
        .string("IDL:NodeAlias:1.0")
        .string("NodeAlias");
    h.align(4);
    let node_at = h.pos();
    h.ulong(15)
        .begin(orders[1])
        .string(NODE_ID)
        .string("Node")
        .ulong(1);
    h.string("children").ulong(19).begin(orders[2]);
    h.indirection(node_at);
    let indirection_at = h.pos() - 4;
    h.ulong(0).end().end().end();
    (h.buf, indirection_at)
}

#[test]
fn indirection_into_an_enclosing_encapsulation_with_mixed_byte_orders() {
    let expected = TypeCode::alias("IDL:NodeAlias:1.0", "NodeAlias", node_tc());
    for orders in [
        [false; 3],
        [true; 3],
        [false, true, false],
        [true, false, true],
    ] {
        let (bytes, _) = aliased_node_bytes(orders);
        assert_eq!(decode_tc(&bytes, BE).unwrap(), expected, "{orders:?}");
    }
    // Our encoder measures the offset the same way: same octets as the hand-made ones.
    assert_eq!(encode_tc(&expected, BE), aliased_node_bytes([false; 3]).0);
    assert_eq!(encode_tc(&expected, LE), {
        let mut h = aliased_node_bytes([true; 3]).0;
        h[..4].copy_from_slice(&21u32.to_le_bytes());
        let len = u32::from_be_bytes(h[4..8].try_into().unwrap());
        h[4..8].copy_from_slice(&len.to_le_bytes());
        h
    });
    // Pointing at the alias (an enclosing type, but not one that can recurse) is refused.
    let (mut bytes, at) = aliased_node_bytes([false; 3]);
    bytes[at..at + 4].copy_from_slice(&(-(at as i32)).to_be_bytes());
    let e = decode_tc(&bytes, BE).unwrap_err();
    assert_eq!(e.offset(), at);
}

#[test]
fn repeated_typecodes_become_indirections_and_stay_shared() {
    // struct P { sequence<Q> a; Q b; }: `b` repeats `Q`, which sits in a's encapsulation.
    let q = TypeCode::struct_tc("IDL:Q:1.0", "Q", [("x", TypeCode::Long)]);
    let p = TypeCode::struct_tc(
        "IDL:P:1.0",
        "P",
        [("a", TypeCode::sequence(q.clone(), 0)), ("b", q.clone())],
    );
    let unshared = TypeCode::struct_tc(
        "IDL:P:1.0",
        "P",
        [
            ("a", TypeCode::sequence(q.clone(), 0)),
            (
                "b",
                TypeCode::struct_tc("IDL:Q:1.0", "Q", [("x", TypeCode::Long)]),
            ),
        ],
    );
    let shared_bytes = encode_tc(&p, BE);
    let unshared_bytes = encode_tc(&unshared, BE);
    assert!(shared_bytes.len() < unshared_bytes.len());
    for bytes in [&shared_bytes, &unshared_bytes] {
        assert_eq!(decode_tc(bytes, BE).unwrap(), p);
    }
    // Decoding the indirection shares the node, so re-encoding reproduces the octets.
    let back = decode_tc(&shared_bytes, BE).unwrap();
    match (
        back.member_type(0).unwrap().content_type(),
        back.member_type(1),
    ) {
        (Some(TypeCode::Struct(a)), Some(TypeCode::Struct(b))) => assert!(Arc::ptr_eq(a, b)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(encode_tc(&back, BE), shared_bytes);
}

#[test]
fn repeated_typecode_referring_to_an_enclosing_type_outside_it_is_refused() {
    // struct Outer { Node n; <repeat of n's sequence<Node>> m; }: the repeat refers to Node,
    // which does not enclose it there.
    let mut h = Hand::new(false);
    h.ulong(15)
        .begin(false)
        .string("IDL:Outer:1.0")
        .string("Outer")
        .ulong(2);
    h.string("n");
    h.align(4);
    let node_at = h.pos();
    h.ulong(15)
        .begin(false)
        .string(NODE_ID)
        .string("Node")
        .ulong(1)
        .string("children");
    h.align(4);
    let seq_at = h.pos();
    h.ulong(19).begin(false).indirection(node_at).ulong(0).end();
    h.end();
    h.string("m").indirection(seq_at);
    h.end();
    let e = decode_tc(&h.buf, BE).unwrap_err();
    assert_eq!(e.offset(), h.buf.len() - 4);
}

#[test]
fn shared_typecodes_may_not_expand_beyond_the_node_limit() {
    // struct S_i { S_(i-1) a; S_(i-1) b; }: with `b` an indirection to `a`, a few octets per
    // level describe 2^(levels+1) - 1 nodes.
    let nested = |levels: usize| {
        let mut tc = TypeCode::Long;
        for i in 0..levels {
            tc = TypeCode::struct_tc(format!("IDL:S{i}:1.0"), "S", [("a", tc.clone()), ("b", tc)]);
        }
        encode_tc(&tc, BE)
    };
    assert!(decode_tc(&nested(15), BE).is_ok());
    let bytes = nested(16);
    assert!(bytes.len() < 2048);
    let e = decode_tc(&bytes, BE).unwrap_err();
    assert_eq!(e.offset(), 0);
    assert!(e.to_string().contains("too many nodes"), "{e}");
}

#[test]
fn thousand_nested_sequences_are_too_deep_not_a_stack_overflow() {
    let mut bytes = vec![0, 0, 0, 3];
    for _ in 0..1000 {
        let mut outer = vec![0, 0, 0, 19];
        outer.extend_from_slice(&(bytes.len() as u32 + 8).to_be_bytes());
        outer.extend_from_slice(&[0, 0, 0, 0]);
        outer.extend_from_slice(&bytes);
        outer.extend_from_slice(&[0, 0, 0, 0]);
        bytes = outer;
    }
    let e = decode_tc(&bytes, BE).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::TooDeep);
    // The same for anys nested in anys.
    let mut anys = [0, 0, 0, 11].repeat(100_000);
    anys.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 7]);
    let e = Any::decode_from_slice(&anys, BE).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::TooDeep);
}

#[test]
fn counts_are_checked_before_allocating() {
    // A struct claiming 2^32-1 members in a few octets.
    let mut h = Hand::new(false);
    h.ulong(15)
        .begin(false)
        .string("IDL:X:1.0")
        .string("X")
        .ulong(u32::MAX)
        .end();
    let e = decode_tc(&h.buf, BE).unwrap_err();
    assert!(
        matches!(e.kind(), DecodeErrorKind::LengthTooLarge { .. }),
        "{e}"
    );
    assert_eq!(e.path(), "tk_struct.member_count");
    // An unknown kind.
    let e = decode_tc(&[0, 0, 0, 37], BE).unwrap_err();
    assert_eq!((e.offset(), e.path().as_str()), (0, "kind"));
    // Trailing octets inside an encapsulation.
    let mut h = Hand::new(false);
    h.ulong(14)
        .begin(false)
        .string("IDL:I:1.0")
        .string("I")
        .octet(9)
        .end();
    assert!(decode_tc(&h.buf, BE).is_err());
}

#[test]
fn equal_and_equivalent() {
    let long_alias = TypeCode::alias("IDL:L:1.0", "L", TypeCode::Long);
    assert!(long_alias.equivalent(&TypeCode::Long));
    assert!(!long_alias.equal(&TypeCode::Long));
    let renamed = TypeCode::struct_tc(
        "IDL:S:1.0",
        "Other",
        [("x", TypeCode::Long), ("y", TypeCode::string(0))],
    );
    assert!(renamed.equivalent(&s_tc()));
    assert_ne!(renamed, s_tc());
    let anonymous = |name: &str, member: TypeCode| TypeCode::struct_tc("", name, [("m", member)]);
    assert!(anonymous("A", long_alias.clone()).equivalent(&anonymous("B", TypeCode::Long)));
    assert!(!anonymous("A", TypeCode::Short).equivalent(&anonymous("A", TypeCode::Long)));
    assert!(!TypeCode::string(1).equivalent(&TypeCode::string(2)));
    assert_eq!(node_tc(), node_tc());
    assert!(node_tc().equivalent(&node_tc()));
    // Accessors.
    assert_eq!(s_tc().member_count(), Some(2));
    assert_eq!(s_tc().member_name(1), Some("b"));
    assert_eq!(s_tc().member_type(0), Some(&TypeCode::Long));
    assert_eq!(s_tc().name(), Some("S"));
    assert_eq!(long_alias.unalias(), &TypeCode::Long);
    assert_eq!(TypeCode::array(TypeCode::Octet, 4).length(), Some(4));
    assert_eq!(TypeCode::fixed(5, 2).fixed_digits_scale(), Some((5, 2)));
}

#[test]
fn encoding_a_recursive_reference_without_its_enclosing_type_fails() {
    let free = TypeCode::sequence(TypeCode::recursive(TCKind::Struct, NODE_ID), 0);
    assert!(encode_to_vec(&free, BE).is_err());
    // The kind must match too.
    let wrong_kind = TypeCode::struct_tc(
        NODE_ID,
        "Node",
        [(
            "c",
            TypeCode::sequence(TypeCode::recursive(TCKind::Union, NODE_ID), 0),
        )],
    );
    assert!(encode_to_vec(&wrong_kind, BE).is_err());
}

// ---- any ----

fn round_trip(any: &Any) {
    for order in [BE, LE] {
        for version in [GiopVersion::V1_1, GiopVersion::V1_2] {
            let mut enc = Encoder::new(order);
            enc.set_version(version);
            any.encode(&mut enc).unwrap();
            let bytes = enc.into_vec();
            let mut dec = Decoder::new(&bytes, order);
            dec.set_version(version);
            let back = Any::decode(&mut dec).unwrap();
            dec.expect_end().unwrap();
            assert_eq!(&back, any, "{order:?} {version}");
        }
    }
}

#[test]
fn primitives_insert_and_extract() {
    assert_eq!(Any::from(-7i32).as_i32(), Some(-7));
    assert_eq!(Any::from(-7i32).as_i16(), None);
    assert_eq!(i32::try_from(&Any::from(5i32)), Ok(5));
    assert_eq!(
        u16::try_from(&Any::from(5i32)),
        Err(WrongType(TCKind::Long))
    );
    assert_eq!(Any::from(true).as_bool(), Some(true));
    assert_eq!(Any::from(3.5f64).as_f64(), Some(3.5));
    assert_eq!(Any::from(u64::MAX).as_u64(), Some(u64::MAX));
    assert_eq!(Any::from('x').as_char(), Some('x'));
    assert_eq!(Any::from(7u8).as_u8(), Some(7));
    assert_eq!(Any::from("hi").as_str(), Some("hi"));
    assert_eq!(Any::from(WString::from("wide")).as_wstr(), Some("wide"));
    assert_eq!(Any::from(WChar('ж')).as_wchar(), Some('ж'));
    assert_eq!(Any::from(vec![1u8, 2]).as_octets(), Some(&[1u8, 2][..]));
    assert_eq!(
        Any::from(TypeCode::Long).as_type_code(),
        Some(&TypeCode::Long)
    );
    let alias = TypeCode::alias("IDL:L:1.0", "L", TypeCode::Long);
    assert_eq!(Any::new(alias, Value::Long(3)).unwrap().as_i32(), Some(3));
    assert_eq!(Any::default().type_code(), &TypeCode::Null);
    // Bytes of a long in an any, both orders.
    assert_eq!(
        encode_to_vec(&Any::from(1i32), BE).unwrap(),
        [0, 0, 0, 3, 0, 0, 0, 1]
    );
    assert_eq!(
        encode_to_vec(&Any::from(1i32), LE).unwrap(),
        [3, 0, 0, 0, 1, 0, 0, 0]
    );
    for any in [
        Any::from(-7i32),
        Any::from(1.25f32),
        Any::from(LongDouble::from_f64(-2.5)),
        Any::from("text"),
        Any::from(WString::from("wide 𝄞")),
        Any::from(WChar('é')),
        Any::new(TypeCode::Any, Value::Any(Box::new(Any::from(3i16)))).unwrap(),
        Any::default(),
    ] {
        round_trip(&any);
    }
}

#[test]
fn values_are_checked_against_their_typecode() {
    assert!(Any::new(TypeCode::Long, Value::Short(1)).is_err());
    assert!(Any::new(s_tc(), Value::Struct(vec![Value::Long(1)])).is_err());
    assert!(Any::new(TypeCode::string(2), Value::String("abc".into())).is_err());
    assert!(Any::new(TypeCode::string(0), Value::String("a\0b".into())).is_err());
    let e = TypeCode::enum_tc("IDL:E:1.0", "E", ["A", "B"]);
    assert!(Any::new(e.clone(), Value::Enum(2)).is_err());
    assert!(Any::new(e, Value::Enum(1)).is_ok());
    assert!(Any::new(
        TypeCode::sequence(TypeCode::Octet, 2),
        Value::Octets(vec![1, 2, 3])
    )
    .is_err());
    assert!(Any::new(
        TypeCode::array(TypeCode::Octet, 2),
        Value::Octets(vec![1, 2])
    )
    .is_ok());
    assert!(Any::new(TypeCode::fixed(3, 1), Value::from(Fixed::new(12345, 1))).is_err());
}

fn union_tc() -> TypeCode {
    TypeCode::union_tc(
        "IDL:U:1.0",
        "U",
        TypeCode::Long,
        [
            (UnionLabel::Value(Value::Long(1)), "s", TypeCode::Short),
            (UnionLabel::Value(Value::Long(2)), "t", TypeCode::string(0)),
            (UnionLabel::Default, "b", TypeCode::Boolean),
        ],
    )
}

#[test]
fn union_discriminator_selects_the_member() {
    let u = union_tc();
    let bytes_of = |disc: i32, rest: &[u8]| {
        let mut b = encode_tc(&u, BE);
        b.extend_from_slice(&disc.to_be_bytes());
        b.extend_from_slice(rest);
        b
    };
    let any = Any::decode_from_slice(&bytes_of(1, &[0xff, 0xfe]), BE).unwrap();
    assert_eq!(
        any.value(),
        &Value::Union(Box::new(UnionValue {
            discriminator: Value::Long(1),
            member: Some((0, Value::Short(-2))),
        }))
    );
    // Any other discriminator selects the default member.
    let any = Any::decode_from_slice(&bytes_of(9, &[1]), BE).unwrap();
    assert_eq!(
        any.value(),
        &Value::Union(Box::new(UnionValue {
            discriminator: Value::Long(9),
            member: Some((2, Value::Boolean(true))),
        }))
    );
    round_trip(&any);
    // Without a default, no member: the union is just its discriminator.
    let no_default = TypeCode::union_tc(
        "IDL:V:1.0",
        "V",
        TypeCode::enum_tc("IDL:E:1.0", "E", ["A", "B", "C"]),
        [(UnionLabel::Value(Value::Enum(0)), "a", TypeCode::Long)],
    );
    let mut b = encode_tc(&no_default, LE);
    b.extend_from_slice(&2u32.to_le_bytes());
    let any = Any::decode_from_slice(&b, LE).unwrap();
    assert_eq!(
        any.value(),
        &Value::Union(Box::new(UnionValue {
            discriminator: Value::Enum(2),
            member: None,
        }))
    );
    round_trip(&any);
    // A member that the discriminator does not select cannot be encoded.
    let wrong = Value::Union(Box::new(UnionValue {
        discriminator: Value::Long(2),
        member: Some((0, Value::Short(1))),
    }));
    assert!(Any::new(u, wrong).is_err());
}

fn node_value(children: Vec<Value>) -> Value {
    Value::Struct(vec![Value::Sequence(children)])
}

#[test]
fn recursive_values_round_trip_and_decode_from_bytes() {
    let tree = node_value(vec![
        node_value(vec![]),
        node_value(vec![node_value(vec![]), node_value(vec![])]),
    ]);
    let any = Any::new(node_tc(), tree).unwrap();
    round_trip(&any);
    // By hand: the TypeCode, then 1 child, which has 0 children.
    let mut bytes = NODE_BE.to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    let any = Any::decode_from_slice(&bytes, BE).unwrap();
    assert_eq!(any.value(), &node_value(vec![node_value(vec![])]));
    // A chain deeper than the depth limit is an error, not a stack overflow.
    let mut deep = NODE_BE.to_vec();
    deep.extend_from_slice(&[0, 0, 0, 1].repeat(10_000));
    let e = Any::decode_from_slice(&deep, BE).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::TooDeep);
}

#[test]
fn empty_values_cannot_cost_more_than_their_octets_justify() {
    // sequence<struct E {}> of 2^32-1 elements, each taking no octets.
    let empty = TypeCode::struct_tc("IDL:E:1.0", "E", Vec::<(String, TypeCode)>::new());
    let mut bytes = encode_tc(&TypeCode::sequence(empty, 0), BE);
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    let e = Any::decode_from_slice(&bytes, BE).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Invalid(_)), "{e}");
    // void[65536][65536].
    let arrays = TypeCode::array(TypeCode::array(TypeCode::Void, 1 << 16), 1 << 16);
    let e = Any::decode_from_slice(&encode_tc(&arrays, LE), LE).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Invalid(_)), "{e}");
}

const V_ID: &str = "IDL:Point:1.0";

fn point_tc() -> TypeCode {
    TypeCode::Value(Arc::new(ValueType {
        id: V_ID.into(),
        name: "Point".into(),
        modifier: ValueType::VM_NONE,
        concrete_base: TypeCode::Null,
        members: vec![
            ValueMember {
                name: "x".into(),
                type_code: TypeCode::Long,
                visibility: ValueMember::PUBLIC,
            },
            ValueMember {
                name: "label".into(),
                type_code: TypeCode::string(0),
                visibility: ValueMember::PRIVATE,
            },
        ],
    }))
}

fn point(x: i32, type_info: ValueTypeInfo) -> Value {
    Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info,
        state: vec![Value::Long(x), Value::String("p".into())],
    })))
}

#[test]
fn value_types_null_single_id_and_repository_id_indirection() {
    let seq = TypeCode::sequence(point_tc(), 0);
    let tc_bytes = encode_tc(&seq, BE);
    let mut h = Hand::new(false);
    h.buf = tc_bytes.clone();
    h.ulong(3);
    h.ulong(0); // null
    h.ulong(0x7fff_ff02);
    let id_at = h.pos();
    h.string(V_ID).long(5).string("p");
    h.ulong(0x7fff_ff02).indirection(id_at).long(6).string("p");
    let any = Any::decode_from_slice(&h.buf, BE).unwrap();
    let single = || ValueTypeInfo::Single(V_ID.into());
    assert_eq!(
        any.value(),
        &Value::Sequence(vec![
            Value::Valuetype(None),
            point(5, single()),
            point(6, single()),
        ])
    );
    round_trip(&any);
    for info in [
        ValueTypeInfo::Implied,
        ValueTypeInfo::Truncatable(vec![V_ID.into(), "IDL:Base:1.0".into()]),
    ] {
        round_trip(&Any::new(point_tc(), point(1, info)).unwrap());
    }
    let boxed = TypeCode::value_box("IDL:Name:1.0", "Name", TypeCode::string(0));
    let name = Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: Some("http://example.org/".into()),
        type_info: ValueTypeInfo::Single("IDL:Name:1.0".into()),
        state: vec![Value::String("n".into())],
    })));
    round_trip(&Any::new(boxed, name).unwrap());

    // Another type's id, a forward indirection and chunked state without a chunk are clear
    // errors, at the value tag.
    let tag_at = (encode_tc(&point_tc(), BE).len() + 3) & !3;
    for (tag, id, what, at) in [
        (
            0x7fff_ff02,
            "IDL:Other:1.0",
            "IDL:Other:1.0 is unknown here",
            tag_at,
        ),
        (0xffff_ffff, V_ID, "does not point backwards", tag_at + 4),
        // (The long 1 after the id reads as a chunk of one octet, too short for the long.)
        (
            0x7fff_ff0a_u32,
            V_ID,
            "runs past the end of its chunk",
            tag_at + 28,
        ),
    ] {
        let mut h = Hand::new(false);
        h.buf = encode_tc(&point_tc(), BE);
        h.ulong(tag).string(id).long(1).string("p");
        let e = Any::decode_from_slice(&h.buf, BE).unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
        assert_eq!(e.offset(), at, "{e}");
    }
}

/// A chunk of what `body` writes, its size patched in.
fn hand_chunk(h: &mut Hand, body: impl FnOnce(&mut Hand)) {
    h.ulong(0);
    let start = h.pos();
    body(h);
    let len = (h.pos() - start) as u32;
    h.buf[start - 4..start].copy_from_slice(&len.to_be_bytes());
}

#[test]
fn chunked_and_truncated_values_decode_in_an_any() {
    // Chunked, the state cut in two chunks.
    let mut h = Hand::new(false);
    h.buf = encode_tc(&point_tc(), BE);
    h.ulong(0x7fff_ff0a).string(V_ID);
    hand_chunk(&mut h, |h| {
        h.long(5);
    });
    hand_chunk(&mut h, |h| {
        h.string("p");
    });
    h.long(-1);
    let any = Any::decode_from_slice(&h.buf, BE).unwrap();
    assert_eq!(any.value(), &point(5, ValueTypeInfo::Single(V_ID.into())));
    round_trip(&any);

    // A derived truncatable value read as its base, the TypeCode's type: the derived state
    // and a value nested in it are skipped up to the end tag, which closes both levels.
    let mut h = Hand::new(false);
    h.buf = encode_tc(&point_tc(), BE);
    h.ulong(0x7fff_ff0e)
        .ulong(2)
        .string("IDL:Point3:1.0")
        .string(V_ID);
    hand_chunk(&mut h, |h| {
        h.long(5).string("p").long(77);
    });
    h.ulong(0x7fff_ff0a).string("IDL:Whatever:1.0");
    hand_chunk(&mut h, |h| {
        h.long(1);
    });
    h.long(-1);
    let any = Any::decode_from_slice(&h.buf, BE).unwrap();
    assert_eq!(
        any.value(),
        &point(5, ValueTypeInfo::Truncatable(vec![V_ID.into()]))
    );
    round_trip(&any);

    // Truncatable to nothing the TypeCode names: an error naming the value's type.
    let mut h = Hand::new(false);
    h.buf = encode_tc(&point_tc(), BE);
    h.ulong(0x7fff_ff0e).ulong(1).string("IDL:Point3:1.0");
    hand_chunk(&mut h, |h| {
        h.long(5);
    });
    h.long(-1);
    let e = Any::decode_from_slice(&h.buf, BE).unwrap_err();
    assert_eq!(
        e.kind(),
        &DecodeErrorKind::UnknownValueType("IDL:Point3:1.0".into())
    );
}

#[test]
fn shared_values_and_cycles_in_an_any_stay_a_graph() {
    let single = || ValueTypeInfo::Single(V_ID.into());
    // A sequence holding one point three times: written once, then twice as an indirection.
    let seq = TypeCode::sequence(point_tc(), 0);
    let v = Value::Sequence(vec![
        point(1, single()),
        Value::SharedValue(0),
        Value::SharedValue(0),
    ]);
    let any = Any::new(seq.clone(), v.clone()).unwrap();
    round_trip(&any);
    let mut enc = Encoder::new(BE);
    any.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    let mut h = Hand::new(false);
    h.buf = encode_tc(&seq, BE);
    h.ulong(3);
    let tag = h.pos();
    h.ulong(0x7fff_ff02).string(V_ID).long(1).string("p");
    h.indirection(tag).indirection(tag);
    assert_eq!(bytes, h.buf);
    assert_eq!(Any::decode_from_slice(&bytes, BE).unwrap().value(), &v);

    // valuetype Link { public Link next; }: one whose next is itself.
    let link_id = "IDL:Link:1.0";
    let link = TypeCode::Value(Arc::new(ValueType {
        id: link_id.into(),
        name: "Link".into(),
        modifier: ValueType::VM_NONE,
        concrete_base: TypeCode::Null,
        members: vec![ValueMember {
            name: "next".into(),
            type_code: TypeCode::recursive(TCKind::Value, link_id),
            visibility: ValueMember::PUBLIC,
        }],
    }));
    let cycle = Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info: ValueTypeInfo::Single(link_id.into()),
        state: vec![Value::SharedValue(0)],
    })));
    let any = Any::new(link.clone(), cycle).unwrap();
    round_trip(&any);

    // A shared value that refers to no instance written before it is refused.
    assert!(Any::new(seq, Value::Sequence(vec![Value::SharedValue(0)])).is_err());
    assert!(Any::new(
        link,
        Value::Valuetype(Some(Box::new(ValueInstance {
            codebase: None,
            type_info: ValueTypeInfo::Single(link_id.into()),
            state: vec![Value::SharedValue(1)],
        })))
    )
    .is_err());
}

/// `valuetype Link { public Link next; }`.
fn link_tc() -> TypeCode {
    TypeCode::Value(Arc::new(ValueType {
        id: LINK_ID.into(),
        name: "Link".into(),
        modifier: ValueType::VM_NONE,
        concrete_base: TypeCode::Null,
        members: vec![ValueMember {
            name: "next".into(),
            type_code: TypeCode::recursive(TCKind::Value, LINK_ID),
            visibility: ValueMember::PUBLIC,
        }],
    }))
}

const LINK_ID: &str = "IDL:Link:1.0";

fn link(next: Value) -> Value {
    Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info: ValueTypeInfo::Single(LINK_ID.into()),
        state: vec![next],
    })))
}

#[test]
fn values_of_one_stream_may_refer_back_to_earlier_ones() {
    // Three parameters, as omniORB sends them: the first a two-link cycle A -> B -> A (B's
    // repository id an indirection to A's); the second an indirection to B; the third a new
    // Link (its id an indirection into the first) whose next is an indirection to A.
    let mut h = Hand::new(false);
    let a = h.pos();
    h.ulong(0x7fff_ff02);
    let id = h.pos();
    h.string(LINK_ID);
    h.align(4);
    let b = h.pos();
    h.ulong(0x7fff_ff02).indirection(id).indirection(a);
    h.indirection(b);
    h.ulong(0x7fff_ff02).indirection(id).indirection(a);
    let types = [link_tc(), link_tc(), link_tc()];
    let mut dec = Decoder::new(&h.buf, BE);
    let anys = Any::read_values(&types, &mut dec).unwrap();
    dec.expect_end().unwrap();
    let values: Vec<&Value> = anys.iter().map(Any::value).collect();
    // Each any holds its own graph: the later ones copies, their cycles kept (in the third,
    // the copy of A is instance 1, after the new Link).
    let cycle = link(link(Value::SharedValue(0)));
    let behind_new = link(link(link(Value::SharedValue(1))));
    assert_eq!(values, [&cycle, &cycle, &behind_new]);
    anys.iter().for_each(round_trip);

    // Read one at a time, the second has nothing to refer back to: a clear error.
    let mut dec = Decoder::new(&h.buf, BE);
    Any::read_value(link_tc(), &mut dec).unwrap();
    let e = Any::read_value(link_tc(), &mut dec).unwrap_err();
    assert!(e.to_string().contains("does not point back"), "{e}");
}

#[test]
fn copies_across_parameters_keep_sharing_and_are_bounded() {
    // The first parameter A -> B; the second a sequence [B, A] of indirections into it. A is
    // copied after B, and its copy must reach B's copy, not a second one.
    let seq = TypeCode::sequence(link_tc(), 0);
    let mut h = Hand::new(false);
    let a = h.pos();
    h.ulong(0x7fff_ff02);
    let id = h.pos();
    h.string(LINK_ID);
    h.align(4);
    let b = h.pos();
    h.ulong(0x7fff_ff02).indirection(id).ulong(0);
    h.ulong(2).indirection(b).indirection(a);
    let mut dec = Decoder::new(&h.buf, BE);
    let anys = Any::read_values(&[link_tc(), seq.clone()], &mut dec).unwrap();
    dec.expect_end().unwrap();
    let copy_of_b = link(Value::Valuetype(None));
    assert_eq!(
        anys[1].value(),
        &Value::Sequence(vec![copy_of_b, link(Value::SharedValue(0))])
    );
    round_trip(&anys[1]);

    // 200 links side by side, each pointing at the one before (the stream nests one deep);
    // the copy of the last would nest 200 deep: refused, not a stack overflow.
    let mut h = Hand::new(false);
    h.ulong(200);
    let mut tags = Vec::new();
    let mut id = 0;
    for i in 0..200 {
        h.align(4);
        tags.push(h.pos());
        h.ulong(0x7fff_ff02);
        if i == 0 {
            id = h.pos();
            h.string(LINK_ID);
            h.ulong(0);
        } else {
            h.indirection(id).indirection(tags[i - 1]);
        }
    }
    h.indirection(tags[199]);
    let mut dec = Decoder::new(&h.buf, BE);
    let e = Any::read_values(&[seq, link_tc()], &mut dec).unwrap_err();
    assert!(e.to_string().contains("too deep to copy"), "{e}");
}

#[test]
fn value_with_a_concrete_base_carries_the_base_state_first() {
    let base = point_tc();
    let derived = TypeCode::Value(Arc::new(ValueType {
        id: "IDL:Point3:1.0".into(),
        name: "Point3".into(),
        modifier: ValueType::VM_NONE,
        concrete_base: base,
        members: vec![ValueMember {
            name: "z".into(),
            type_code: TypeCode::Double,
            visibility: ValueMember::PUBLIC,
        }],
    }));
    let v = Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info: ValueTypeInfo::Single("IDL:Point3:1.0".into()),
        state: vec![
            Value::Long(1),
            Value::String("p".into()),
            Value::Double(2.0),
        ],
    })));
    round_trip(&Any::new(derived, v).unwrap());
}

#[test]
fn exceptions_objects_and_the_rest() {
    let ex = TypeCode::except_tc("IDL:Oops:1.0", "Oops", [("why", TypeCode::string(0))]);
    round_trip(&Any::new(ex, Value::Struct(vec![Value::String("bad".into())])).unwrap());
    let ior = Ior {
        type_id: "IDL:Echo:1.0".into(),
        profiles: vec![TaggedProfile {
            tag: ProfileId::INTERNET_IOP,
            data: vec![0, 1, 2, 0],
        }],
    };
    let objref = TypeCode::objref("IDL:Echo:1.0", "Echo");
    let any = Any::new(objref, Value::ObjRef(Box::new(ior.clone()))).unwrap();
    assert_eq!(any.as_objref(), Some(&ior));
    round_trip(&any);
    let abs = TypeCode::AbstractInterface(Arc::new(Named {
        id: "IDL:A:1.0".into(),
        name: "A".into(),
    }));
    round_trip(&Any::new(abs.clone(), Value::ObjRef(Box::new(ior))).unwrap());
    round_trip(&Any::new(abs, Value::Valuetype(None)).unwrap());
    round_trip(&Any::new(TypeCode::fixed(5, 2), Value::from(Fixed::new(-12345, 2))).unwrap());
    round_trip(&Any::new(TypeCode::Principal, Value::Octets(vec![1, 2, 3])).unwrap());
    round_trip(&Any::new(TypeCode::TypeCode, Value::TypeCode(node_tc())).unwrap());
    round_trip(
        &Any::new(
            TypeCode::array(TypeCode::Short, 3),
            Value::Array(vec![Value::Short(1), Value::Short(2), Value::Short(3)]),
        )
        .unwrap(),
    );
    // Native values cannot travel.
    let native = TypeCode::Native(Arc::new(Named {
        id: "IDL:N:1.0".into(),
        name: "N".into(),
    }));
    assert!(Any::decode_from_slice(&encode_tc(&native, BE), BE).is_err());
}

// ---- properties ----

fn arb_ident() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,6}"
}

fn arb_id() -> impl Strategy<Value = String> {
    "IDL:[A-Z][a-z]{0,4}:1\\.0"
}

fn leaf_tc() -> impl Strategy<Value = TypeCode> {
    prop_oneof![
        prop::sample::select(vec![
            TypeCode::Null,
            TypeCode::Void,
            TypeCode::Short,
            TypeCode::Long,
            TypeCode::UShort,
            TypeCode::ULong,
            TypeCode::Float,
            TypeCode::Double,
            TypeCode::Boolean,
            TypeCode::Char,
            TypeCode::Octet,
            TypeCode::Any,
            TypeCode::TypeCode,
            TypeCode::Principal,
            TypeCode::LongLong,
            TypeCode::ULongLong,
            TypeCode::LongDouble,
            TypeCode::WChar,
        ]),
        (0u32..4).prop_map(TypeCode::string),
        (0u32..4).prop_map(TypeCode::wstring),
        (0u16..=31)
            .prop_flat_map(|d| (Just(d), 0..=d as i16))
            .prop_map(|(d, s)| TypeCode::fixed(d, s)),
        (arb_id(), arb_ident()).prop_map(|(id, n)| TypeCode::objref(id, n)),
        (
            arb_id(),
            arb_ident(),
            prop::collection::vec(arb_ident(), 1..4)
        )
            .prop_map(|(id, n, m)| TypeCode::enum_tc(id, n, m)),
    ]
}

fn members(inner: BoxedStrategy<TypeCode>) -> impl Strategy<Value = Vec<(String, TypeCode)>> {
    prop::collection::vec((arb_ident(), inner), 0..4)
}

fn arb_tc() -> impl Strategy<Value = TypeCode> {
    leaf_tc().prop_recursive(4, 24, 4, |inner| {
        let inner = inner.boxed();
        prop_oneof![
            (inner.clone(), 0u32..4).prop_map(|(c, b)| TypeCode::sequence(c, b)),
            (inner.clone(), 1u32..4).prop_map(|(c, n)| TypeCode::array(c, n)),
            (arb_id(), arb_ident(), inner.clone()).prop_map(|(i, n, c)| TypeCode::alias(i, n, c)),
            (arb_id(), arb_ident(), members(inner.clone()))
                .prop_map(|(i, n, m)| TypeCode::struct_tc(i, n, m)),
            (arb_id(), arb_ident(), members(inner.clone()))
                .prop_map(|(i, n, m)| TypeCode::except_tc(i, n, m)),
            // A recursive struct: its members, then a sequence of itself.
            (arb_id(), arb_ident(), members(inner.clone())).prop_map(|(i, n, mut m)| {
                let me = TypeCode::recursive(TCKind::Struct, i.clone());
                m.push(("next".into(), TypeCode::sequence(me, 0)));
                TypeCode::struct_tc(i, n, m)
            }),
            (
                arb_id(),
                arb_ident(),
                prop::collection::vec((arb_ident(), inner.clone()), 1..4),
                any::<bool>()
            )
                .prop_map(|(i, n, m, with_default)| {
                    let last = m.len() - 1;
                    let members = m.into_iter().enumerate().map(|(k, (name, tc))| {
                        let label = if with_default && k == last {
                            UnionLabel::Default
                        } else {
                            UnionLabel::Value(Value::Long(k as i32 * 3 - 1))
                        };
                        (label, name, tc)
                    });
                    TypeCode::union_tc(i, n, TypeCode::Long, members)
                }),
            (arb_id(), arb_ident(), members(inner.clone()), any::<bool>()).prop_map(
                |(i, n, m, event)| {
                    let v = Arc::new(ValueType {
                        id: i,
                        name: n,
                        modifier: ValueType::VM_NONE,
                        concrete_base: TypeCode::Null,
                        members: m
                            .into_iter()
                            .enumerate()
                            .map(|(k, (name, type_code))| ValueMember {
                                name,
                                type_code,
                                visibility: (k % 2) as i16,
                            })
                            .collect(),
                    });
                    if event {
                        TypeCode::Event(v)
                    } else {
                        TypeCode::Value(v)
                    }
                }
            ),
            (arb_id(), arb_ident(), inner).prop_map(|(i, n, c)| TypeCode::value_box(i, n, c)),
        ]
    })
}

fn fixed_value(digits: u16, scale: i16) -> BoxedStrategy<Value> {
    let max = 10i128.pow(digits as u32) - 1;
    (-max..=max)
        .prop_map(move |v| Value::from(Fixed::new(v, scale as u16)))
        .boxed()
}

fn latin1_string(bound: u32) -> BoxedStrategy<String> {
    let max = if bound == 0 { 6 } else { bound as usize };
    prop::collection::vec(1u8..=255, 0..=max)
        .prop_map(|b| b.into_iter().map(char::from).collect())
        .boxed()
}

fn wide_string(bound: u32) -> BoxedStrategy<String> {
    let max = if bound == 0 { 6 } else { bound as usize };
    prop::collection::vec(
        prop_oneof![
            prop::char::range('\u{1}', '\u{d7ff}'),
            prop::char::range('\u{10000}', '\u{10ffff}')
        ],
        0..=max,
    )
    .prop_map(|c| c.into_iter().collect())
    .boxed()
}

fn instance(type_info: ValueTypeInfo, state: Vec<Value>) -> Value {
    Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info,
        state,
    })))
}

/// Values of `tc`. Recursive references only occur as sequence contents here, where the
/// empty sequence ends the recursion.
fn arb_value(tc: &TypeCode) -> BoxedStrategy<Value> {
    use TypeCode as T;
    match tc {
        T::Null => Just(Value::Null).boxed(),
        T::Void => Just(Value::Void).boxed(),
        T::Short => any::<i16>().prop_map(Value::Short).boxed(),
        T::Long => any::<i32>().prop_map(Value::Long).boxed(),
        T::UShort => any::<u16>().prop_map(Value::UShort).boxed(),
        T::ULong => any::<u32>().prop_map(Value::ULong).boxed(),
        T::LongLong => any::<i64>().prop_map(Value::LongLong).boxed(),
        T::ULongLong => any::<u64>().prop_map(Value::ULongLong).boxed(),
        T::Float => (-1e9f32..1e9).prop_map(Value::Float).boxed(),
        T::Double => (-1e300f64..1e300).prop_map(Value::Double).boxed(),
        T::LongDouble => (-1e300f64..1e300)
            .prop_map(|v| Value::LongDouble(LongDouble::from_f64(v)))
            .boxed(),
        T::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        T::Char => any::<u8>().prop_map(|b| Value::Char(b as char)).boxed(),
        T::WChar => prop::char::range('\u{0}', '\u{d7ff}')
            .prop_map(Value::WChar)
            .boxed(),
        T::Octet => any::<u8>().prop_map(Value::Octet).boxed(),
        T::Fixed { digits, scale } => fixed_value(*digits, *scale),
        T::String(b) => latin1_string(*b).prop_map(Value::String).boxed(),
        T::WString(b) => wide_string(*b).prop_map(Value::WString).boxed(),
        T::Any => any::<i32>()
            .prop_map(|v| Value::Any(Box::new(Any::from(v))))
            .boxed(),
        T::TypeCode => Just(Value::TypeCode(node_tc())).boxed(),
        T::Principal => prop::collection::vec(any::<u8>(), 0..4)
            .prop_map(Value::Octets)
            .boxed(),
        T::ObjRef(n) => {
            let id = n.id.clone();
            prop::collection::vec(any::<u8>(), 0..8)
                .prop_map(move |data| {
                    Value::ObjRef(Box::new(Ior {
                        type_id: id.clone(),
                        profiles: vec![TaggedProfile {
                            tag: ProfileId::INTERNET_IOP,
                            data,
                        }],
                    }))
                })
                .boxed()
        }
        T::Enum(e) => (0..e.members.len() as u32).prop_map(Value::Enum).boxed(),
        T::Struct(s) | T::Except(s) => s
            .members
            .iter()
            .map(|m| arb_value(&m.type_code))
            .collect::<Vec<_>>()
            .prop_map(Value::Struct)
            .boxed(),
        T::Union(u) => {
            let arms: Vec<BoxedStrategy<Value>> = u
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let disc = match &m.label {
                        UnionLabel::Value(v) => v.clone(),
                        UnionLabel::Default => Value::Long(1000),
                    };
                    arb_value(&m.type_code)
                        .prop_map(move |v| {
                            Value::Union(Box::new(UnionValue {
                                discriminator: disc.clone(),
                                member: Some((i, v)),
                            }))
                        })
                        .boxed()
                })
                .collect();
            let mut arms = arms;
            if u.default_index().is_none() {
                arms.push(
                    Just(Value::Union(Box::new(UnionValue {
                        discriminator: Value::Long(1000),
                        member: None,
                    })))
                    .boxed(),
                );
            }
            prop::strategy::Union::new(arms).boxed()
        }
        T::Sequence(s) if s.content.is_recursive() => Just(Value::Sequence(vec![])).boxed(),
        T::Sequence(s) => {
            let max = if s.bound == 0 { 3 } else { s.bound as usize };
            if matches!(s.content.unalias(), T::Octet) {
                prop::collection::vec(any::<u8>(), 0..=max)
                    .prop_map(Value::Octets)
                    .boxed()
            } else {
                prop::collection::vec(arb_value(&s.content), 0..=max)
                    .prop_map(Value::Sequence)
                    .boxed()
            }
        }
        T::Array(a) => {
            let n = a.length as usize;
            if matches!(a.content.unalias(), T::Octet) {
                prop::collection::vec(any::<u8>(), n)
                    .prop_map(Value::Octets)
                    .boxed()
            } else {
                prop::collection::vec(arb_value(&a.content), n)
                    .prop_map(Value::Array)
                    .boxed()
            }
        }
        T::Alias(a) => arb_value(&a.content),
        T::Value(v) | T::Event(v) => {
            let id = v.id.clone();
            let state: Vec<_> = v.members.iter().map(|m| arb_value(&m.type_code)).collect();
            prop_oneof![
                Just(Value::Valuetype(None)),
                (state, any::<bool>()).prop_map(move |(s, single)| {
                    let info = if single {
                        ValueTypeInfo::Single(id.clone())
                    } else {
                        ValueTypeInfo::Implied
                    };
                    instance(info, s)
                }),
            ]
            .boxed()
        }
        T::ValueBox(b) => {
            let id = b.id.clone();
            prop_oneof![
                Just(Value::Valuetype(None)),
                arb_value(&b.content)
                    .prop_map(move |v| instance(ValueTypeInfo::Single(id.clone()), vec![v])),
            ]
            .boxed()
        }
        other => panic!("no values generated for {other:?}"),
    }
}

fn arb_any() -> impl Strategy<Value = Any> {
    arb_tc().prop_flat_map(|tc| {
        arb_value(&tc).prop_map(move |v| Any::new(tc.clone(), v).expect("generated value fits"))
    })
}

/// A sequence of points where each element is null, a new point (chunked when it announces a
/// truncatable base), or an earlier point again.
fn arb_shared_points() -> impl Strategy<Value = Any> {
    prop::collection::vec((0u8..4, any::<i32>(), any::<prop::sample::Index>()), 0..12).prop_map(
        |choices| {
            let mut count = 0u32;
            let elements = choices
                .into_iter()
                .map(|(kind, x, earlier)| match kind {
                    0 => Value::Valuetype(None),
                    1 | 2 if count > 0 => Value::SharedValue(earlier.index(count as usize) as u32),
                    _ => {
                        count += 1;
                        let info = if x % 2 == 0 {
                            ValueTypeInfo::Truncatable(vec![V_ID.into(), "IDL:Base:1.0".into()])
                        } else {
                            ValueTypeInfo::Single(V_ID.into())
                        };
                        point(x, info)
                    }
                })
                .collect();
            Any::new(TypeCode::sequence(point_tc(), 0), Value::Sequence(elements))
                .expect("generated value fits")
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shared_and_chunked_values_in_anys_round_trip(any in arb_shared_points()) {
        round_trip(&any);
    }

    #[test]
    fn typecodes_round_trip(tc in arb_tc(), little in any::<bool>()) {
        let order = if little { LE } else { BE };
        let bytes = encode_tc(&tc, order);
        let back = decode_tc(&bytes, order).unwrap();
        prop_assert_eq!(&back, &tc);
        prop_assert!(back.equivalent(&tc));
        prop_assert_eq!(encode_tc(&back, order), bytes);
    }

    #[test]
    fn anys_round_trip(any in arb_any()) {
        round_trip(&any);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..256)) {
        fuzz_any(&data);
    }

    #[test]
    fn mutated_anys_never_panic(
        any in arb_any(),
        flags in 0u8..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let order = ByteOrder::from_flag(flags);
        let mut enc = Encoder::new(order);
        enc.set_version(if flags & 2 != 0 { GiopVersion::V1_1 } else { GiopVersion::V1_2 });
        any.encode(&mut enc).unwrap();
        let mut data = vec![flags];
        data.extend_from_slice(enc.as_bytes());
        fuzz_any(&data);
        for (i, b) in edits {
            let i = i.index(data.len() - 1) + 1;
            data[i] = b;
        }
        fuzz_any(&data);
    }
}

// ---- omniORB vectors (orb/tests/vectors/typecode/README.md) ----

fn interop_pair_tc() -> TypeCode {
    TypeCode::struct_tc(
        "IDL:Interop/Pair:1.0",
        "Pair",
        [("a", TypeCode::Long), ("b", TypeCode::string(0))],
    )
}

fn pair_value(a: i32, b: &str) -> Value {
    Value::Struct(vec![Value::Long(a), Value::String(b.into())])
}

/// Decodes an omniORB vector, then checks that our encoding of what we decoded decodes to the
/// same `any` (not the same octets: omniORB leaves padding uninitialised).
fn decode_vector(bytes: &[u8], order: ByteOrder) -> Any {
    let any = Any::decode_from_slice(bytes, order).unwrap();
    let ours = encode_to_vec(&any, order).unwrap();
    assert_eq!(Any::decode_from_slice(&ours, order).unwrap(), any);
    any
}

#[test]
fn omniorb_any_holding_a_struct() {
    for (bytes, order) in [
        (
            &include_bytes!("../../tests/vectors/typecode/pair-be.cdr")[..],
            BE,
        ),
        (
            &include_bytes!("../../tests/vectors/typecode/pair-le.cdr")[..],
            LE,
        ),
    ] {
        let any = decode_vector(bytes, order);
        assert_eq!(any.type_code(), &interop_pair_tc());
        assert_eq!(any.value(), &pair_value(7, "seven"));
    }
}

#[test]
fn omniorb_any_holding_a_recursive_struct() {
    // The indirection sits in the sequence's encapsulation inside the alias's inside the
    // struct's, and points at the struct's kind at offset 0. In the big-endian vector the
    // encapsulations are little-endian: omniORB reuses its cached native-order parameters.
    let node_id = "IDL:Interop/Node:1.0";
    let expected = TypeCode::struct_tc(
        node_id,
        "Node",
        [
            ("name", TypeCode::string(0)),
            (
                "children",
                TypeCode::alias(
                    "IDL:Interop/NodeSeq:1.0",
                    "NodeSeq",
                    TypeCode::sequence(TypeCode::recursive(TCKind::Struct, node_id), 0),
                ),
            ),
        ],
    );
    let node = |name: &str, children: Vec<Value>| {
        Value::Struct(vec![Value::String(name.into()), Value::Sequence(children)])
    };
    let tree = node(
        "root",
        vec![
            node("leaf1", vec![]),
            node("mid", vec![node("leaf2", vec![])]),
        ],
    );
    for (bytes, order) in [
        (
            &include_bytes!("../../tests/vectors/typecode/node-be.cdr")[..],
            BE,
        ),
        (
            &include_bytes!("../../tests/vectors/typecode/node-le.cdr")[..],
            LE,
        ),
    ] {
        let any = decode_vector(bytes, order);
        assert_eq!(any.type_code(), &expected);
        assert_eq!(any.value(), &tree);
    }
}

#[test]
fn omniorb_any_with_a_repeated_typecode_and_a_union() {
    let u = TypeCode::union_tc(
        "IDL:Interop/U:1.0",
        "U",
        TypeCode::Long,
        [
            (UnionLabel::Value(Value::Long(1)), "s", TypeCode::Short),
            (UnionLabel::Default, "b", TypeCode::Boolean),
        ],
    );
    let expected = TypeCode::struct_tc(
        "IDL:Interop/Holder:1.0",
        "Holder",
        [
            ("p1", interop_pair_tc()),
            ("p2", interop_pair_tc()),
            ("sel", u),
            ("d", TypeCode::sequence(TypeCode::Double, 0)),
        ],
    );
    for (bytes, order) in [
        (
            &include_bytes!("../../tests/vectors/typecode/holder-be.cdr")[..],
            BE,
        ),
        (
            &include_bytes!("../../tests/vectors/typecode/holder-le.cdr")[..],
            LE,
        ),
    ] {
        let any = decode_vector(bytes, order);
        assert_eq!(any.type_code(), &expected);
        // omniORB sends p2's TypeCode as an indirection to p1's: decoded, they are shared.
        match (
            any.type_code().member_type(0),
            any.type_code().member_type(1),
        ) {
            (Some(TypeCode::Struct(a)), Some(TypeCode::Struct(b))) => assert!(Arc::ptr_eq(a, b)),
            other => panic!("unexpected {other:?}"),
        }
        let Value::Struct(members) = any.value() else {
            panic!("not a struct: {:?}", any.value());
        };
        assert_eq!(members[0], pair_value(7, "seven"));
        assert_eq!(members[1], pair_value(-1, ""));
        // The default member was set; omniORB chose a discriminator no label has.
        let Value::Union(sel) = &members[2] else {
            panic!("not a union: {:?}", members[2]);
        };
        assert_ne!(sel.discriminator, Value::Long(1));
        assert_eq!(sel.member, Some((1, Value::Boolean(true))));
        assert_eq!(
            members[3],
            Value::Sequence(vec![Value::Double(1.5), Value::Double(-0.25)])
        );
    }
}
