//! Arbitrary octets as an object key, as every request delivers one: parsing must never panic
//! and never allocate; a key that parses strictly must encode back to the same octets, and
//! looking it up in a populated POA tree must give an answer, never another object's servant
//! (a key may differ from the one the tree made, e.g. in its slot hint, and still reach its
//! object: what matters is that the servant is the one activated under that object id).
#![no_main]

use libfuzzer_sys::fuzz_target;
use orb::poa::{Decision, ObjectKeyRef, PoaTree};
use std::sync::{Arc, LazyLock};

/// A tree with a few servants, built once: lookups of arbitrary keys must all be refused or
/// reach one of the keys made here.
type Servants = Vec<(Vec<u8>, u32)>;

static TREE: LazyLock<(PoaTree<Arc<u32>>, Servants)> = LazyLock::new(|| {
    let tree = PoaTree::new();
    let root = tree.root();
    root.manager().activate().expect("a new manager activates");
    let ids = (0..4)
        .map(|n| (root.activate_object(Arc::new(n)).expect("activation"), n))
        .collect();
    (tree, ids)
});

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = ObjectKeyRef::parse_strict(data) {
        let mut again = Vec::new();
        key.encode(&mut again);
        assert_eq!(again, data, "a strictly parsed key encodes to itself");
    }
    let (tree, ids) = &*TREE;
    if let Decision::Dispatch(target) = tree.dispatch_decision(data) {
        let expected = ids.iter().find(|(id, _)| id.as_slice() == target.object_id);
        assert_eq!(
            expected.map(|(_, n)| *n),
            Some(*target.servant),
            "a key reaches exactly the servant activated under its object id"
        );
    }
});
