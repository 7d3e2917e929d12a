//! The POA tree: create_POA, find_POA, destroy, names and paths.

use super::*;

#[test]
fn root_poa() {
    let t = tree();
    let root = t.root();
    assert_eq!(root.name(), "RootPOA");
    assert!(root.path().is_empty());
    assert!(root.parent().is_none());
    assert_eq!(
        root.id(),
        PoaId {
            index: 0,
            generation: 0
        }
    );
    assert_eq!(t.instance_id(), 0x0123_4567_89ab_cdef);
    assert_ne!(
        PoaTree::<S>::new().instance_id(),
        PoaTree::<S>::new().instance_id()
    );
}

#[test]
fn create_and_find() {
    let t = tree();
    let root = t.root();
    let a = root.create_poa("a", None, &[]).unwrap();
    let b = a.create_poa("b", None, &[]).unwrap();
    assert_eq!(
        root.create_poa("a", None, &[]).unwrap_err(),
        PoaError::AdapterAlreadyExists
    );
    // Names are per parent.
    let b2 = root.create_poa("b", None, &[]).unwrap();
    assert_ne!(b2.id(), b.id());
    assert_eq!(root.find_poa("a").unwrap().id(), a.id());
    assert_eq!(a.find_poa("b").unwrap().id(), b.id());
    assert_eq!(
        root.find_poa("c").unwrap_err(),
        PoaError::AdapterNonExistent
    );
    assert_eq!(b.path(), ["a", "b"]);
    assert_eq!(b.parent().unwrap().id(), a.id());
    assert_eq!(root.children(), ["a", "b"]);
    assert_eq!(t.poa(b.id()).unwrap().name(), "b");
    assert!(matches!(
        root.create_poa(&"n".repeat(70_000), None, &[]),
        Err(PoaError::BadParam(_))
    ));
    // Any string is a name, the empty one too.
    root.create_poa("", None, &[]).unwrap();
}

#[test]
fn destroy_takes_the_descendants() {
    let t = tree();
    let root = t.root();
    let a = root.create_poa("a", None, &[]).unwrap();
    let b = a.create_poa("b", None, &[]).unwrap();
    let c = b.create_poa("c", None, &[]).unwrap();
    let sib = root.create_poa("sibling", None, &[]).unwrap();
    let s = servant("s");
    let id = c.activate_object(s.clone()).unwrap();
    let key = c.id_to_reference(&id).unwrap();
    c.manager().activate().unwrap();
    assert_reaches(&t, &key, &s);
    a.destroy().unwrap();
    for p in [&a, &b, &c] {
        assert!(p.is_destroyed());
        assert!(t.poa(p.id()).is_none());
        assert_eq!(
            p.create_poa("x", None, &[]).unwrap_err(),
            PoaError::Destroyed
        );
        assert_eq!(p.find_poa("b").unwrap_err(), PoaError::Destroyed);
    }
    assert_not_exist(&t, &key);
    assert_eq!(
        Arc::strong_count(&s),
        1,
        "the destroyed POA let go of the servant"
    );
    assert!(!sib.is_destroyed());
    assert_eq!(root.children(), ["sibling"]);
    assert_eq!(
        root.find_poa("a").unwrap_err(),
        PoaError::AdapterNonExistent
    );
    // "The POA so destroyed (that is, the POA with its name) may be re-created later".
    let a2 = root.create_poa("a", None, &[]).unwrap();
    assert!(a2.find_poa("b").is_err());
    assert!(!a2.is_destroyed());
}

#[test]
fn destroying_the_root_destroys_everything() {
    let t = tree();
    let a = t.root().create_poa("a", None, &[]).unwrap();
    let key = t.root().servant_to_reference(&servant("r")).unwrap();
    t.root().destroy().unwrap();
    assert!(a.is_destroyed());
    assert!(t.root().is_destroyed());
    assert_not_exist(&t, &key);
    assert_eq!(
        t.root().activate_object(servant("x")),
        Err(PoaError::Destroyed)
    );
}

#[test]
fn deactivation_drops_the_servant_reference() {
    let t = tree();
    let s = servant("s");
    let id = t.root().activate_object(s.clone()).unwrap();
    assert_eq!(Arc::strong_count(&s), 2);
    t.root().deactivate_object(&id).unwrap();
    assert_eq!(Arc::strong_count(&s), 1);
}

#[test]
fn poa_lookup_by_key_at_depth() {
    let t = tree();
    let mut poa = t.root();
    for depth in 1..=25 {
        poa = poa
            .create_poa(
                &format!("level{depth}"),
                None,
                &[Policy::Lifespan(Lifespan::Persistent)],
            )
            .unwrap();
    }
    let key = poa.create_reference().unwrap();
    assert_eq!(t.poa_for_key(&key).unwrap().id(), poa.id());
    assert_eq!(poa.path().len(), 25);
    // From another instance, the path leads to the same POA.
    let mut other = key.clone();
    other[11] ^= 0xFF;
    assert_eq!(t.poa_for_key(&other).unwrap().id(), poa.id());
}
