//! Truncation of a value type (values.idl): a derived value read whole by a receiver that
//! knows its type, truncated to its base by one that does not. On its own in this test
//! binary: a value factory registered is registered for the whole process, and the tests in
//! `values.rs` register `Derived` (one of them while this one would read as a receiver that
//! does not know it: a CI run saw the value read whole where the base was expected).

use idlc_tests::values::values::{Base, Derived, Leaf, Node};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use orb::codegen::{ValueGraph, ValueHandle, ValueType};
use std::sync::Arc;

fn node(id: i32, label: &str) -> Node {
    Node {
        id,
        label: label.into(),
        next: None,
        other: None,
    }
}

#[test]
fn a_derived_value_is_read_whole_when_known_and_truncated_to_its_base_when_not() {
    let mut g = ValueGraph::new();
    let child = g.insert(node(5, "child"));
    let leaf = g.insert(Leaf {
        x: 3,
        extra: "extra".into(),
        child: Some(child),
        weight: 0.5,
    });
    assert_eq!(
        g.get(leaf).unwrap().truncatable_bases(),
        // Leaf : Derived is not truncatable, so a receiver must know Leaf itself.
        &[] as &[&str]
    );
    let derived = {
        let mut g = ValueGraph::new();
        let child = g.insert(node(6, "kid"));
        let d = g.insert(Derived {
            x: 4,
            extra: "more".into(),
            child: Some(child),
        });
        Some(ValueHandle::new(Arc::new(g), d))
    };
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    derived.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    // Read where a Base is expected, by a receiver that does not know Derived: truncated.
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let base = Option::<ValueHandle<Base>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    assert_eq!(base.get().unwrap().x, 4);
    // As any value: Derived is reachable from no formal type here, so it must be registered.
    orb::codegen::register_value_factory::<Derived>();
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let any = Option::<ValueHandle<dyn ValueType>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    let d = any.downcast::<Derived>().unwrap();
    assert_eq!(d.get().unwrap().extra, "more");
    let kid = d
        .graph()
        .unwrap()
        .get(d.get().unwrap().child.unwrap())
        .unwrap();
    assert_eq!(kid.label, "kid");
    // Leaf derives from Derived: where a Base is expected, a Leaf is accepted too.
    assert!(g
        .get(leaf)
        .unwrap()
        .base_ids()
        .contains(&Base::REPOSITORY_ID));
}
