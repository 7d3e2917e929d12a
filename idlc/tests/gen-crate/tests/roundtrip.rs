//! Every generated type round-trips through CDR in both byte orders; bounds, enum ranges,
//! union discriminators and exception ids are checked both ways; TypeCodes are well formed.

use idlc_tests::alltypes::all_types::{self as t, r#type as kw};
use orb::cdr::{
    decode_from_slice, encode_to_vec, ByteOrder, CdrDecode, CdrEncode, DecodeErrorKind,
    EncodeError, Encoder, Fixed, WChar,
};
use orb::typecode::{Any, TCKind, TypeCode, Value};
use std::fmt::Debug;

mod common;
use common::everything;

const ORDERS: [ByteOrder; 2] = [ByteOrder::BigEndian, ByteOrder::LittleEndian];

fn round_trip<T>(v: &T)
where
    T: CdrEncode + for<'a> CdrDecode<'a> + PartialEq + Debug,
{
    for order in ORDERS {
        let bytes = encode_to_vec(v, order).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
        let back: T =
            decode_from_slice(&bytes, order).unwrap_or_else(|e| panic!("decode {v:?}: {e}"));
        assert_eq!(&back, v, "{order:?}");
        assert!(bytes.len() >= T::MIN_WIRE_SIZE, "MIN_WIRE_SIZE of {v:?}");
    }
}

#[test]
fn struct_with_every_type_round_trips() {
    round_trip(&everything());
}

#[test]
fn nested_and_keyword_named_types_round_trip() {
    round_trip(&t::Outer {
        in_field: t::outer::Inner { x: 7 },
        y: -1,
    });
    round_trip(&kw::Result_ {
        r#match: 1,
        self_: "self".into(),
        some: true,
    });
    round_trip(&kw::Option_::Some);
    assert_eq!(kw::MOVE, 1);
    let v: kw::Vec_ = 3;
    round_trip(&v);
    round_trip(&t::Big {
        pts: std::array::from_fn(|i| t::Point {
            x: i as i32,
            y: -(i as i32),
        }),
    });
}

#[test]
fn recursive_types_round_trip() {
    let tree = t::Node {
        value: 1,
        children: vec![
            t::Node {
                value: 2,
                children: vec![],
            },
            t::Node {
                value: 3,
                children: vec![t::Node {
                    value: 4,
                    children: vec![],
                }],
            },
        ],
    };
    round_trip(&tree);
    round_trip(&t::Tree::Branches(vec![
        t::Tree::Leaf(1),
        t::Tree::Branches(vec![]),
        t::Tree::Unselected(9),
    ]));
}

#[test]
fn constants_have_their_values() {
    assert_eq!(t::C_SHORT, -3i16);
    assert_eq!(t::C_LONG, i32::MIN);
    assert_eq!(t::C_LONGLONG, i64::MIN);
    assert_eq!(t::C_USHORT, u16::MAX);
    assert_eq!(t::C_ULONG, u32::MAX);
    assert_eq!(t::C_ULONGLONG, u64::MAX);
    assert_eq!(t::C_FLOAT, 1.5f32);
    assert_eq!(t::C_DOUBLE, -2.25e10);
    assert_eq!(t::C_LONGDOUBLE, 3.5f64);
    assert_eq!(t::C_CHAR, 'x');
    assert_eq!(t::C_WCHAR, WChar('w'));
    const { assert!(t::C_BOOLEAN) };
    assert_eq!(t::C_OCTET, 255u8);
    assert_eq!(t::C_STRING, "hello \"world\"\n");
    assert_eq!(t::C_WSTRING, "wide");
    assert_eq!(t::C_FIXED, Fixed::new(12345, 2));
    assert_eq!(t::C_COLOR, t::Color::Green);
}

#[test]
fn bounds_are_checked_on_encode_and_decode() {
    let mut e = everything();
    e.bstr = "nine char".into();
    let err = encode_to_vec(&e, ByteOrder::BigEndian).unwrap_err();
    assert_eq!(
        err,
        EncodeError::BoundExceeded {
            length: 9,
            bound: 8
        }
    );

    let mut e = everything();
    e.octets = vec![0; 17];
    assert!(matches!(
        encode_to_vec(&e, ByteOrder::BigEndian),
        Err(EncodeError::BoundExceeded {
            length: 17,
            bound: 16
        })
    ));

    let mut e = everything();
    e.nested = vec![vec!["abc".into()]];
    assert!(matches!(
        encode_to_vec(&e, ByteOrder::BigEndian),
        Err(EncodeError::BoundExceeded {
            length: 3,
            bound: 2
        })
    ));

    let mut e = everything();
    e.name_seq.push("d".into());
    assert!(matches!(
        encode_to_vec(&e, ByteOrder::BigEndian),
        Err(EncodeError::BoundExceeded {
            length: 4,
            bound: 3
        })
    ));

    // Decode: splice an over-long bounded string into otherwise valid octets.
    let mut e = everything();
    e.str = "ok".into();
    let good = encode_to_vec(&e, ByteOrder::BigEndian).unwrap();
    let needle = [
        0, 0, 0, 9, b'8', b' ', b'c', b'h', b'a', b'r', b's', b'!', 0,
    ];
    let at = good
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("bstr on the wire");
    let mut bad = good[..at].to_vec();
    bad.extend_from_slice(&[0, 0, 0, 10]);
    bad.extend_from_slice(b"9 chars!!\0");
    bad.extend_from_slice(&good[at + needle.len()..]);
    let err = decode_from_slice::<t::Everything>(&bad, ByteOrder::BigEndian).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            DecodeErrorKind::BoundExceeded {
                length: 9,
                bound: 8
            }
        ),
        "{err}"
    );
    assert_eq!(err.path(), "bstr");
}

#[test]
fn fixed_values_that_do_not_fit_are_refused() {
    let mut e = everything();
    e.cash = Fixed::new(10_000_000_000, 2);
    assert!(matches!(
        encode_to_vec(&e, ByteOrder::BigEndian),
        Err(EncodeError::FixedOverflow(..))
    ));
    // A finer scale is truncated to the type's, as the specification says for assignment.
    let mut e = everything();
    e.cash = Fixed::new(12345, 3);
    let bytes = encode_to_vec(&e, ByteOrder::BigEndian).unwrap();
    let back: t::Everything = decode_from_slice(&bytes, ByteOrder::BigEndian).unwrap();
    assert_eq!(back.cash, Fixed::new(1234, 2));
}

#[test]
fn enums_check_their_range() {
    round_trip(&t::Color::Red);
    assert_eq!(
        encode_to_vec(&t::Color::Blue, ByteOrder::BigEndian).unwrap(),
        [0, 0, 0, 2]
    );
    let err = decode_from_slice::<t::Color>(&[0, 0, 0, 3], ByteOrder::BigEndian).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidEnum(3));
    assert_eq!(t::Color::from_u32(1), Some(t::Color::Green));
    assert_eq!(t::Color::default(), t::Color::Red);
}

#[test]
fn unions_round_trip_every_variant() {
    round_trip(&t::ByLong::One(5));
    round_trip(&t::ByLong::TwoOrThree(2, "two".into()));
    round_trip(&t::ByLong::TwoOrThree(3, "three".into()));
    round_trip(&t::ByLong::Other(-9, 0.5));
    round_trip(&t::ByEnum::RedName("red".into()));
    round_trip(&t::ByEnum::GreenNode(t::Node {
        value: 1,
        children: vec![],
    }));
    round_trip(&t::ByEnum::Unselected(t::Color::Blue));
    round_trip(&t::ByBool::Yes(1));
    round_trip(&t::ByBool::No("no".into()));
    round_trip(&t::ByChar::A(1));
    round_trip(&t::ByChar::B('b', Fixed::new(5, 2)));
    round_trip(&t::ByChar::B('z', Fixed::new(-5, 2)));
    // Wire form: discriminator, then the member.
    assert_eq!(
        encode_to_vec(&t::ByLong::One(5), ByteOrder::BigEndian).unwrap(),
        [0, 0, 0, 1, 0, 0, 0, 5]
    );
    // A value with no member decodes to the default case or to Unselected.
    assert_eq!(
        decode_from_slice::<t::ByEnum>(&[0, 0, 0, 2], ByteOrder::BigEndian).unwrap(),
        t::ByEnum::Unselected(t::Color::Blue)
    );
}

#[test]
fn union_discriminators_must_select_their_variant() {
    for bad in [
        encode_to_vec(&t::ByLong::TwoOrThree(1, "x".into()), ByteOrder::BigEndian),
        encode_to_vec(&t::ByLong::Other(2, 1.0), ByteOrder::BigEndian),
        encode_to_vec(&t::ByEnum::Unselected(t::Color::Red), ByteOrder::BigEndian),
        encode_to_vec(&t::ByChar::B('a', Fixed::new(1, 2)), ByteOrder::BigEndian),
        encode_to_vec(&t::Tree::Unselected(1), ByteOrder::BigEndian),
    ] {
        assert!(matches!(bad, Err(EncodeError::Invalid(_))), "{bad:?}");
    }
}

#[test]
fn exceptions_carry_their_repository_id_first() {
    let e = t::Oops {
        code: 7,
        why: "because".into(),
    };
    round_trip(&e);
    round_trip(&t::Empty {});
    let bytes = encode_to_vec(&e, ByteOrder::BigEndian).unwrap();
    let id = b"IDL:AllTypes/Oops:1.0\0";
    assert_eq!(&bytes[..4], &(id.len() as u32).to_be_bytes());
    assert_eq!(&bytes[4..4 + id.len()], id);
    assert_eq!(
        orb::exception::UserException::repository_id(&e),
        "IDL:AllTypes/Oops:1.0"
    );
    // Another exception's body is refused.
    let other = encode_to_vec(&t::Empty {}, ByteOrder::BigEndian).unwrap();
    assert!(decode_from_slice::<t::Oops>(&other, ByteOrder::BigEndian).is_err());
}

#[test]
fn type_codes_are_well_formed_and_round_trip() {
    let tcs = [
        t::Everything::type_code(),
        t::Node::type_code(),
        t::ByLong::type_code(),
        t::ByEnum::type_code(),
        t::ByBool::type_code(),
        t::ByChar::type_code(),
        t::Tree::type_code(),
        t::Oops::type_code(),
        t::Color::type_code(),
        t::Big::type_code(),
        t::node_seq_type_code(),
        t::matrix_type_code(),
        t::money_grid_type_code(),
        t::outer::Inner::type_code(),
    ];
    for tc in &tcs {
        for order in ORDERS {
            let bytes = encode_to_vec(tc, order).unwrap_or_else(|e| panic!("{tc:?}: {e}"));
            let back: TypeCode = decode_from_slice(&bytes, order).unwrap();
            assert!(back.equal(tc), "{tc:?}");
        }
    }
    let e = t::Everything::type_code();
    assert_eq!(e.id(), Some("IDL:AllTypes/Everything:1.0"));
    assert_eq!(e.member_count(), Some(32));
    assert_eq!(e.member_name(18), Some("bstr"));
    assert_eq!(
        e.member_type(18),
        Some(&TypeCode::alias(
            "IDL:AllTypes/ShortName:1.0",
            "ShortName",
            TypeCode::String(8)
        ))
    );
    // Node's children refer back to Node.
    let node = t::Node::type_code();
    let children = node
        .member_type(1)
        .unwrap()
        .unalias()
        .content_type()
        .unwrap();
    assert!(children.is_recursive());
    assert_eq!(children.kind(), TCKind::Struct);
    // Every label of a multi-label case is its own member; the default has the Default label.
    let u = t::ByLong::type_code();
    assert_eq!(u.member_count(), Some(4));
    assert_eq!(u.default_index(), Some(3));
    // An Any of a generated type: encode the value with the generated code and decode it by
    // the TypeCode alone.
    let p = t::Point { x: 1, y: 2 };
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    t::Point::type_code().encode(&mut enc).unwrap();
    p.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    let any = Any::decode_from_slice(&bytes, ByteOrder::BigEndian).unwrap();
    assert_eq!(
        any.value(),
        &Value::Struct(vec![Value::Long(1), Value::Long(2)])
    );
}
