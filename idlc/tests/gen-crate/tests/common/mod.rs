//! Values shared by the test files (each file under `tests/` is a crate of its own).

use idlc_tests::alltypes::all_types as t;
use orb::cdr::{Fixed, LongDouble, WChar, WString};
use orb::iop::{Ior, ProfileId, TaggedProfile};
use orb::typecode::{Any, TypeCode, Value};
use orb::ObjectRef;

/// A struct with a member of every IDL type, none at its default.
pub fn everything() -> t::Everything {
    t::Everything {
        s: -2,
        l: -70000,
        ll: i64::MIN,
        us: 65535,
        ul: 4_000_000_000,
        ull: u64::MAX,
        f: 1.25,
        d: -1e300,
        ld: LongDouble::from_f64(2.5),
        c: 'é',
        wc: WChar('€'),
        b: true,
        o: 0xfe,
        a: Any::new(TypeCode::Long, Value::Long(42)).unwrap(),
        obj: ObjectRef::from_ior(Ior {
            type_id: "IDL:Demo/Echo:1.0".into(),
            profiles: vec![TaggedProfile {
                tag: ProfileId::INTERNET_IOP,
                data: vec![1, 2, 3],
            }],
        }),
        tc: t::Point::type_code(),
        str: "a string".into(),
        wstr: WString::from("wide ∑"),
        bstr: "8 chars!".into(),
        bwstr: WString::from("four"),
        long_seq: vec![1, -2, 3],
        octets: (0..16).collect(),
        name_seq: vec!["a".into(), "bb".into(), "ccc".into()],
        mat: [[1, 2, 3], [4, 5, 6]],
        cash: Fixed::new(-1234567, 2),
        cash_seq: vec![Fixed::new(1, 2), Fixed::new(999_999_999, 2)],
        grid: [
            [Fixed::new(1, 2), Fixed::new(2, 2)],
            [Fixed::new(3, 2), Fixed::new(-4, 2)],
        ],
        hue: t::Color::Blue,
        hues: vec![t::Color::Red, t::Color::Green],
        whole: Fixed::new(99999, 0),
        nested: vec![vec!["ab".into()], vec![]],
        reference: ObjectRef::nil(),
    }
}
