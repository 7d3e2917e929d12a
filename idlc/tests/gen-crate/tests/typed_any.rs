//! Typed `any`: every kind of generated type and every primitive goes into an `Any` and comes
//! back out unchanged; extraction as another type is refused by TypeCode (aliases looked
//! through, bounds and repository ids respected); what went in is the same `any` the CDR
//! decoder produces from the type's own encoding, so it travels as any other `any`.

use idlc_tests::alltypes::all_types::{self as t};
use idlc_tests::remote::remote as r;
use orb::cdr::{decode_from_slice, encode_to_vec, ByteOrder, LongDouble, WChar, WString};
use orb::iop::{Ior, ProfileId, TaggedProfile};
use orb::typecode::{Any, AnyError, AnyType, TCKind, TypeCode, Value};
use orb::ObjectRef;
use std::fmt::Debug;

mod common;
use common::everything;

/// `v` goes in, comes out equal, and the `any` survives CDR in both byte orders.
fn round_trip<T: AnyType + PartialEq + Debug>(v: &T) -> Any {
    let any = Any::insert(v).unwrap_or_else(|e| panic!("insert {v:?}: {e}"));
    assert!(any.type_code().equal(&T::type_code()), "{v:?}");
    assert!(any.holds::<T>());
    assert_eq!(&any.get::<T>().unwrap(), v);
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let bytes = encode_to_vec(&any, order).unwrap();
        let back: Any = decode_from_slice(&bytes, order).unwrap();
        assert_eq!(back, any, "{order:?}");
        assert_eq!(&back.get::<T>().unwrap(), v, "{order:?}");
    }
    any
}

fn wrong_type(r: Result<impl Debug, AnyError>) -> (String, String) {
    match r {
        Err(AnyError::WrongType { wanted, found }) => (wanted, found),
        other => panic!("expected WrongType, got {other:?}"),
    }
}

fn ior(type_id: &str) -> Ior {
    Ior {
        type_id: type_id.into(),
        profiles: vec![TaggedProfile {
            tag: ProfileId::INTERNET_IOP,
            data: vec![1, 2, 3],
        }],
    }
}

#[test]
fn primitives_go_in_and_out() {
    assert_eq!(round_trip(&-3i16).value(), &Value::Short(-3));
    round_trip(&i32::MIN);
    round_trip(&u16::MAX);
    round_trip(&u32::MAX);
    round_trip(&i64::MIN);
    round_trip(&u64::MAX);
    round_trip(&1.5f32);
    round_trip(&-2.25e300f64);
    round_trip(&LongDouble::from_f64(2.5));
    round_trip(&true);
    round_trip(&'x');
    round_trip(&WChar('€'));
    round_trip(&0xfeu8);
    round_trip(&"text".to_owned());
    round_trip(&WString::from("wide ∑"));
    round_trip(&t::Point::type_code());
    // An any in an any.
    let inner = Any::from(7i32);
    let outer = round_trip(&inner);
    assert_eq!(outer.type_code().kind(), TCKind::Any);
    // The typed and the older untyped paths agree.
    assert_eq!(Any::insert(&7i32).unwrap(), Any::from(7i32));
    assert_eq!(Any::insert(&"s".to_owned()).unwrap(), Any::from("s"));
}

#[test]
fn primitives_refuse_other_kinds() {
    let any = Any::insert(&7i32).unwrap();
    let (wanted, found) = wrong_type(any.get::<u32>());
    assert_eq!((wanted.as_str(), found.as_str()), ("tk_ulong", "tk_long"));
    assert!(any.get::<i16>().is_err());
    assert!(any.get::<String>().is_err());
    assert!(!any.holds::<f64>());
    assert!(Any::default().get::<i32>().is_err());
}

#[test]
fn sequences_and_arrays_go_in_and_out() {
    round_trip(&vec![1i32, -2, 3]);
    round_trip(&Vec::<i32>::new());
    // sequence<octet> is carried as octets.
    let octets = round_trip(&vec![0u8, 1, 255]);
    assert_eq!(octets.as_octets(), Some(&[0u8, 1, 255][..]));
    round_trip(&vec![vec!["a".to_owned()], vec![]]);
    round_trip(&vec![t::Color::Red, t::Color::Blue]);
    let m: t::Matrix = [[1, 2, 3], [4, 5, 6]];
    let any = round_trip(&m);
    assert_eq!(any.type_code().length(), Some(2));
    // An array's length is part of its type.
    assert!(any.get::<[[i32; 3]; 3]>().is_err());
    assert!(any.get::<[[i32; 2]; 2]>().is_err());
    // A sequence is not an array, nor a sequence of another element type.
    let seq = Any::insert(&vec![1i32, 2]).unwrap();
    assert!(seq.get::<[i32; 2]>().is_err());
    let (wanted, found) = wrong_type(seq.get::<Vec<i16>>());
    assert_eq!(
        (wanted.as_str(), found.as_str()),
        ("sequence<tk_short>", "sequence<tk_long>")
    );
}

#[test]
fn structs_go_in_and_out_and_are_told_apart_by_repository_id() {
    let p = t::Point { x: 1, y: -2 };
    let any = round_trip(&p);
    assert_eq!(
        any.value(),
        &Value::Struct(vec![Value::Long(1), Value::Long(-2)])
    );
    // Same shape, other repository id: not a t::Point.
    let other = r::Point {
        x: 1,
        y: -2,
        label: "l".into(),
    };
    round_trip(&other);
    let (wanted, found) = wrong_type(any.get::<r::Point>());
    assert_eq!(wanted, "tk_struct IDL:Remote/Point:1.0");
    assert_eq!(found, "tk_struct IDL:AllTypes/Point:1.0");
    // Nested, keyword-named and recursive structs.
    round_trip(&t::Outer {
        in_field: t::outer::Inner { x: 7 },
        y: -1,
    });
    round_trip(&t::Node {
        value: 1,
        children: vec![t::Node {
            value: 2,
            children: vec![t::Node {
                value: 3,
                children: vec![],
            }],
        }],
    });
    round_trip(&t::Big {
        pts: std::array::from_fn(|i| t::Point { x: i as i32, y: 1 }),
    });
}

#[test]
fn a_struct_of_every_type_goes_in_and_out() {
    let e = everything();
    round_trip(&e);
    // A bound the value breaks is an error, not a corrupt any.
    let too_long = t::Everything {
        bstr: "nine char".into(),
        ..e
    };
    assert!(matches!(
        Any::insert(&too_long),
        Err(AnyError::Encode(
            orb::cdr::EncodeError::BoundExceeded { .. }
        ))
    ));
}

#[test]
fn unions_go_in_and_out_with_their_member_checked() {
    let any = round_trip(&t::ByLong::One(5));
    let Value::Union(u) = any.value() else {
        panic!("{any:?}")
    };
    assert_eq!(u.discriminator, Value::Long(1));
    assert_eq!(u.member, Some((0, Value::Long(5))));
    round_trip(&t::ByLong::TwoOrThree(3, "three".into()));
    round_trip(&t::ByLong::Other(-9, 0.5));
    round_trip(&t::ByEnum::RedName("red".into()));
    round_trip(&t::ByBool::No("no".into()));
    round_trip(&t::ByChar::A(1));
    round_trip(&t::Tree::Branches(vec![
        t::Tree::Leaf(1),
        t::Tree::Unselected(9),
    ]));
    // A discriminator that selects another member cannot go in.
    assert!(matches!(
        Any::insert(&t::ByLong::TwoOrThree(1, "one?".into())),
        Err(AnyError::Encode(_))
    ));
    assert!(any.get::<t::ByBool>().is_err());
}

#[test]
fn enums_go_in_and_out() {
    let any = round_trip(&t::Color::Green);
    assert_eq!(any.value(), &Value::Enum(1));
    assert!(any.get::<r::Shape>().is_err());
    assert!(any.get::<u32>().is_err());
}

#[test]
fn exceptions_go_in_with_their_members_only() {
    let oops = t::Oops {
        code: 7,
        why: "because".into(),
    };
    let any = round_trip(&oops);
    assert_eq!(any.type_code().kind(), TCKind::Except);
    assert_eq!(any.type_code().id(), Some("IDL:AllTypes/Oops:1.0"));
    // Only the members are in the value; the id is in the TypeCode.
    assert_eq!(
        any.value(),
        &Value::Struct(vec![Value::Long(7), Value::String("because".into())])
    );
    round_trip(&t::Empty {});
    assert!(any.get::<t::Empty>().is_err());
    assert!(any.get::<r::Refused>().is_err());
}

#[test]
fn typedefs_go_in_under_their_alias_and_come_out_as_their_type() {
    let longs: t::Longs = vec![1, 2];
    let any = Any::insert_as(t::longs_type_code(), &longs).unwrap();
    assert_eq!(any.type_code().kind(), TCKind::Alias);
    assert_eq!(any.get::<t::Longs>().unwrap(), longs);
    assert_eq!(any.get::<Vec<i32>>().unwrap(), longs);
    // Bounded forms: the bound is checked going in, and the unbounded Rust type takes it out.
    let name: t::ShortName = "eight ch".into();
    let any = Any::insert_as(t::short_name_type_code(), &name).unwrap();
    assert_eq!(any.get::<String>().unwrap(), name);
    assert!(matches!(
        Any::insert_as(t::short_name_type_code(), &"nine char".to_owned()),
        Err(AnyError::Decode(_))
    ));
    let small: t::SmallOctets = vec![1; 16];
    let any = Any::insert_as(t::small_octets_type_code(), &small).unwrap();
    assert_eq!(any.get::<Vec<u8>>().unwrap(), small);
    assert!(Any::insert_as(t::small_octets_type_code(), &vec![1u8; 17]).is_err());
    let any = Any::insert_as(t::matrix_type_code(), &[[1, 2, 3], [4, 5, 6]]).unwrap();
    assert_eq!(any.get::<t::Matrix>().unwrap(), [[1, 2, 3], [4, 5, 6]]);
    // A TypeCode the value's type does not fit is refused before anything is marshalled.
    let (wanted, found) = wrong_type(Any::insert_as(t::longs_type_code(), &7i32));
    assert_eq!(
        (wanted.as_str(), found.as_str()),
        ("tk_long", "tk_alias IDL:AllTypes/Longs:1.0")
    );
}

#[test]
fn object_references_go_in_and_out() {
    let obj = ObjectRef::from_ior(ior("IDL:Remote/Counter:1.0"));
    let any = Any::insert(&obj).unwrap();
    assert_eq!(any.as_objref(), Some(obj.ior()));
    assert!(any.get::<ObjectRef>().unwrap().is_equivalent(&obj));
    // A typed reference carries its interface's TypeCode...
    let counter = r::CounterRef::unchecked_narrow(obj.clone());
    let any = Any::insert(&counter).unwrap();
    assert_eq!(any.type_code().id(), Some("IDL:Remote/Counter:1.0"));
    assert!(any
        .get::<r::CounterRef>()
        .unwrap()
        .object()
        .is_equivalent(&obj));
    // ...comes out as a plain Object too, but not as a reference to another interface.
    assert!(any.get::<ObjectRef>().unwrap().is_equivalent(&obj));
    assert!(any.get::<r::CallbackRef>().is_err());
    round_trip(&ObjectRef::nil());
    let ref_any = Any::insert_as(t::ref_type_code(), &obj).unwrap();
    assert_eq!(ref_any.type_code().kind(), TCKind::Alias);
    assert!(ref_any.get::<ObjectRef>().unwrap().is_equivalent(&obj));
}

#[test]
fn an_any_from_another_orb_comes_out_as_the_generated_type() {
    // Built by hand as a peer would send it: the TypeCode from scratch (equivalent, not the
    // same Arc) and a positional value.
    let tc = TypeCode::struct_tc(
        "IDL:AllTypes/Point:1.0",
        "Point",
        [("x", TypeCode::Long), ("y", TypeCode::Long)],
    );
    let any = Any::new(tc, Value::Struct(vec![Value::Long(5), Value::Long(6)])).unwrap();
    assert_eq!(any.get::<t::Point>().unwrap(), t::Point { x: 5, y: 6 });
    // Equivalence ignores names but not member types.
    let renamed = TypeCode::struct_tc(
        "IDL:AllTypes/Point:1.0",
        "P",
        [("a", TypeCode::Long), ("b", TypeCode::Long)],
    );
    let any = Any::new(renamed, Value::Struct(vec![Value::Long(5), Value::Long(6)])).unwrap();
    assert_eq!(any.get::<t::Point>().unwrap(), t::Point { x: 5, y: 6 });
    let aliased = TypeCode::alias("IDL:X/P:1.0", "P", t::Point::type_code());
    let any = Any::new(aliased, Value::Struct(vec![Value::Long(1), Value::Long(2)])).unwrap();
    assert_eq!(any.get::<t::Point>().unwrap(), t::Point { x: 1, y: 2 });
}

/// DynAny, lite: taken apart by name and built from parts, equal to what typed insertion
/// gives.
mod by_name {
    use super::*;

    fn invalid(r: Result<impl Debug, AnyError>) -> String {
        match r {
            Err(AnyError::Invalid(why)) => why,
            other => panic!("expected AnyError::Invalid, got {other:?}"),
        }
    }

    #[test]
    fn structs_by_member_name() {
        let any = Any::insert(&t::Point { x: 1, y: -2 }).unwrap();
        assert_eq!(any.member("y").unwrap().get::<i32>(), Ok(-2));
        let names: Vec<String> = any.members().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["x", "y"]);
        assert!(invalid(any.member("z")).contains("its members: x, y"));
        let built = Any::from_members(
            t::Point::type_code(),
            [("y", Any::from(-2i32)), ("x", Any::from(1i32))],
        )
        .unwrap();
        assert_eq!(built, any);
        assert!(invalid(Any::from_members(
            t::Point::type_code(),
            [("x", Any::from(1i32))]
        ))
        .contains("\"y\" is missing"));
        assert!(invalid(Any::from_members(
            t::Point::type_code(),
            [("x", Any::from(1i32)), ("x", Any::from(1i32))]
        ))
        .contains("twice"));
        assert!(invalid(Any::from_members(
            t::Point::type_code(),
            [("x", Any::from(1i16)), ("y", Any::from(1i32))]
        ))
        .contains("x must be tk_long, not tk_short"));
        let oops = Any::from_members(
            t::Oops::type_code(),
            [("code", Any::from(3i32)), ("why", Any::from("w"))],
        )
        .unwrap();
        assert_eq!(
            oops.get::<t::Oops>().unwrap(),
            t::Oops {
                code: 3,
                why: "w".into()
            }
        );
    }

    #[test]
    fn recursive_parts_stand_alone() {
        let node = t::Node {
            value: 1,
            children: vec![t::Node {
                value: 2,
                children: vec![t::Node {
                    value: 3,
                    children: vec![],
                }],
            }],
        };
        let any = Any::insert(&node).unwrap();
        let children = any.member("children").unwrap();
        let first = &children.elements().unwrap()[0];
        assert_eq!(first.member("value").unwrap().get::<i32>(), Ok(2));
        // A part is an any of its own: it encodes, and comes out as its generated type.
        assert_eq!(first.get::<t::Node>().unwrap(), node.children[0]);
        let bytes = orb::cdr::encode_to_vec(first, ByteOrder::BigEndian).unwrap();
        let back: Any = decode_from_slice(&bytes, ByteOrder::BigEndian).unwrap();
        assert_eq!(back.get::<t::Node>().unwrap(), node.children[0]);
        // Rebuilt from its parts, the tree is the same any.
        let rebuilt_children =
            Any::from_elements(children.type_code().clone(), children.elements().unwrap()).unwrap();
        let rebuilt = Any::from_members(
            t::Node::type_code(),
            [
                ("value", any.member("value").unwrap()),
                ("children", rebuilt_children),
            ],
        )
        .unwrap();
        assert_eq!(rebuilt, any);
    }

    #[test]
    fn unions_by_member_name() {
        let one = Any::from_union_member(t::ByLong::type_code(), "one", Any::from(5i32)).unwrap();
        assert_eq!(one, Any::insert(&t::ByLong::One(5)).unwrap());
        let (name, value) = one.union_member().unwrap().unwrap();
        assert_eq!((name.as_str(), value.get::<i32>()), ("one", Ok(5)));
        assert_eq!(one.discriminator().unwrap().get::<i32>(), Ok(1));
        assert!(invalid(one.member("other")).contains("holds member \"one\""));
        let three = Any::from_union(
            t::ByLong::type_code(),
            Any::from(3i32),
            Some(Any::from("three")),
        )
        .unwrap();
        assert_eq!(
            three.get::<t::ByLong>().unwrap(),
            t::ByLong::TwoOrThree(3, "three".into())
        );
        let other = Any::from_union(
            t::ByLong::type_code(),
            Any::from(9i32),
            Some(Any::from(0.5f64)),
        )
        .unwrap();
        assert_eq!(other.get::<t::ByLong>().unwrap(), t::ByLong::Other(9, 0.5));
        // The default member has no label to pick, and the member's type is checked.
        assert!(invalid(Any::from_union_member(
            t::ByLong::type_code(),
            "other",
            Any::from(0.5f64)
        ))
        .contains("default member"));
        assert!(Any::from_union_member(t::ByLong::type_code(), "one", Any::from("x")).is_err());
        assert!(Any::from_union(t::ByLong::type_code(), Any::from(1i32), None).is_err());
        // A union with no member for its discriminator.
        let unselected = Any::from_union(t::Tree::type_code(), Any::from(9i16), None).unwrap();
        assert_eq!(unselected.get::<t::Tree>().unwrap(), t::Tree::Unselected(9));
        assert_eq!(unselected.union_member(), Ok(None));
    }

    #[test]
    fn enums_and_sequences_by_parts() {
        let green = Any::from_enumerator(t::Color::type_code(), "GREEN").unwrap();
        assert_eq!(green, Any::insert(&t::Color::Green).unwrap());
        assert_eq!(
            Any::insert(&t::Color::Blue).unwrap().enumerator(),
            Ok("BLUE")
        );
        assert!(invalid(Any::from_enumerator(t::Color::type_code(), "PINK"))
            .contains("RED, GREEN, BLUE"));
        let octets = Any::from_elements(
            TypeCode::sequence(TypeCode::Octet, 0),
            [Any::from(1u8), Any::from(2u8)],
        )
        .unwrap();
        assert_eq!(octets, Any::from(vec![1u8, 2]));
        assert_eq!(octets.elements().unwrap()[1].get::<u8>(), Ok(2));
        let matrix = Any::insert(&[[1i32, 2, 3], [4, 5, 6]]).unwrap();
        let rows = matrix.elements().unwrap();
        assert_eq!(rows[1].elements().unwrap()[2].get::<i32>(), Ok(6));
        assert!(Any::from_elements(TypeCode::array(TypeCode::Long, 2), [Any::from(1i32)]).is_err());
        assert!(Any::from(7i32).elements().is_err());
    }
}
