//! Object keys: the layout octet by octet, every malformation, and property tests (no input
//! panics; encode/parse round trips).

use proptest::prelude::*;

use super::*;

fn sample(path: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    crate::poa::key::encode_key(
        &mut out,
        0x0102_0304_0506_0708,
        PoaId {
            index: 9,
            generation: 10,
        },
        Some(SlotHint {
            index: 11,
            generation: 12,
        }),
        b"id",
        path,
    );
    out
}

#[test]
fn layout_octet_by_octet() {
    let path = encode_path(["a", "bc"]).unwrap();
    assert_eq!(path, [0, 1, b'a', 0, 2, b'b', b'c']);
    let key = sample(Some(&path));
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0xD7, 0x52,                 // magic
        1,                          // version
        1,                          // flags: persistent
        1, 2, 3, 4, 5, 6, 7, 8,     // ORB instance id
        0, 0, 0, 9,                 // POA index
        0, 0, 0, 10,                // POA generation
        0, 0, 0, 11,                // slot
        0, 0, 0, 12,                // slot generation
        0, 0, 0, 2, b'i', b'd',     // object id
        0, 1, b'a', 0, 2, b'b', b'c', // path
    ];
    assert_eq!(key, expected);
    let k = ObjectKeyRef::parse_strict(&key).unwrap();
    assert_eq!(k.instance_id, 0x0102_0304_0506_0708);
    assert_eq!(
        k.poa,
        PoaId {
            index: 9,
            generation: 10
        }
    );
    assert_eq!(
        k.slot,
        Some(SlotHint {
            index: 11,
            generation: 12
        })
    );
    assert_eq!(k.id, b"id");
    let segs: Vec<&str> = k.path.unwrap().segments().map(Result::unwrap).collect();
    assert_eq!(segs, ["a", "bc"]);
    // The id and path are sub-slices of the key: nothing copied.
    assert!(std::ptr::eq(k.id.as_ptr(), key[32..].as_ptr()));
    assert!(std::ptr::eq(
        k.path.unwrap().as_bytes().as_ptr(),
        key[34..].as_ptr()
    ));

    let transient = sample(None);
    assert_eq!(transient.len(), 34);
    assert_eq!(transient[3], 0);
    assert_eq!(ObjectKeyRef::parse(&transient).unwrap().path, None);
}

#[test]
fn no_slot_marker() {
    let t = tree();
    let key = t.root().create_reference().unwrap();
    assert_eq!(&key[20..28], &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    assert_eq!(ObjectKeyRef::parse(&key).unwrap().slot, None);
    let mut bad = key.clone();
    bad[27] = 1;
    assert_eq!(
        ObjectKeyRef::parse(&bad),
        Err(KeyError::BadSlot { generation: 1 })
    );
}

#[test]
fn foreign_keys_are_not_ours() {
    for k in [
        &b""[..],
        b"N",
        b"NameService",
        b"RootPOA",
        // omniORB's root POA transient key shape: 12 binary octets.
        &[
            0x4e, 0x1c, 0x7a, 0x65, 0x00, 0x00, 0x11, 0x3c, 0x00, 0x00, 0x00, 0x01,
        ],
        &[0xD7],
        &[0xD7, 0x53, 1],
    ] {
        assert_eq!(ObjectKeyRef::parse(k), Err(KeyError::NotOurs), "{k:?}");
    }
}

#[test]
fn every_malformation_is_named() {
    let key = sample(Some(&encode_path(["a"]).unwrap()));
    assert_eq!(
        ObjectKeyRef::parse(&key[..2]),
        Err(KeyError::Truncated {
            field: "version",
            offset: 2
        })
    );
    let mut v = key.clone();
    v[2] = 2;
    assert_eq!(
        ObjectKeyRef::parse(&v),
        Err(KeyError::UnsupportedVersion { found: 2 })
    );
    assert_eq!(
        ObjectKeyRef::parse(&key[..3]),
        Err(KeyError::Truncated {
            field: "flags",
            offset: 3
        })
    );
    let mut f = key.clone();
    f[3] = 0x81;
    assert_eq!(
        ObjectKeyRef::parse(&f),
        Err(KeyError::UnknownFlags { flags: 0x81 })
    );
    for (cut, field, offset) in [
        (5, "ORB instance id", 4),
        (13, "POA index", 12),
        (19, "POA generation", 16),
        (20, "slot", 20),
        (27, "slot generation", 24),
        (31, "object id length", 28),
        (33, "object id", 32),
    ] {
        assert_eq!(
            ObjectKeyRef::parse(&key[..cut]),
            Err(KeyError::Truncated { field, offset }),
            "cut at {cut}"
        );
    }
    // Persistent without a path.
    assert_eq!(
        ObjectKeyRef::parse(&key[..34]),
        Err(KeyError::EmptyPath { offset: 34 })
    );
    // A huge id length does not overflow or allocate.
    let mut huge = key.clone();
    huge[28..32].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        ObjectKeyRef::parse(&huge),
        Err(KeyError::Truncated { .. })
    ));
    // Transient with trailing octets.
    let mut tr = sample(None);
    tr.push(0);
    assert_eq!(
        ObjectKeyRef::parse(&tr),
        Err(KeyError::TrailingOctets { offset: 34 })
    );
    // Path faults are found when the path is read (parse_strict, validate, segments).
    let mut p = key[..34].to_vec();
    p.extend_from_slice(&[0, 5, b'a']);
    assert!(ObjectKeyRef::parse(&p).is_ok());
    assert_eq!(
        ObjectKeyRef::parse_strict(&p),
        Err(KeyError::Truncated {
            field: "POA name",
            offset: 36
        })
    );
    let mut p1 = key[..34].to_vec();
    p1.push(0);
    assert_eq!(
        ObjectKeyRef::parse_strict(&p1),
        Err(KeyError::Truncated {
            field: "POA name length",
            offset: 34
        })
    );
    let mut u = key[..34].to_vec();
    u.extend_from_slice(&[0, 1, 0xFF]);
    assert_eq!(
        ObjectKeyRef::parse_strict(&u),
        Err(KeyError::BadSegment { offset: 36 })
    );
    let segs: Vec<_> = ObjectKeyRef::parse(&u)
        .unwrap()
        .path
        .unwrap()
        .segments()
        .collect();
    assert_eq!(segs, [Err(KeyError::BadSegment { offset: 36 })]);
    assert_eq!(
        PoaPath::from_encoded(&[]),
        Err(KeyError::EmptyPath { offset: 0 })
    );
    assert!(encode_path([&*"x".repeat(65_536)]).is_none());
}

#[test]
fn malformed_keys_of_ours_are_object_not_exist() {
    let t = tree();
    let key = t.root().servant_to_reference(&servant("a")).unwrap();
    for cut in 0..key.len() {
        let d = t.dispatch_decision(&key[..cut]);
        assert_eq!(
            d,
            Decision::Reject(SystemException::OBJECT_NOT_EXIST),
            "cut {cut}"
        );
    }
    // A path that does not parse, on a key whose fast path fails: OBJECT_NOT_EXIST.
    let p = t
        .root()
        .create_poa(
            "p",
            Some(t.root().manager().clone()),
            &[Policy::Lifespan(Lifespan::Persistent)],
        )
        .unwrap();
    let k = p.create_reference().unwrap();
    let mut bad = k.clone();
    bad[4] ^= 1; // another ORB instance: slow path
    let n = bad.len();
    bad[n - 1] = 0xFF; // the name "p" is now not UTF-8
    assert_not_exist(&t, &bad);
}

#[test]
fn well_known_keys() {
    let t = tree();
    let ns = servant("naming");
    t.register_well_known(b"NameService", ns.clone()).unwrap();
    assert_eq!(
        t.register_well_known(b"NameService", servant("other")),
        Err(PoaError::AlreadyBound)
    );
    assert!(matches!(
        t.register_well_known(&[0xD7, 0x52, 1], servant("x")),
        Err(PoaError::BadParam(_))
    ));
    assert!(matches!(
        t.register_well_known(b"", servant("x")),
        Err(PoaError::BadParam(_))
    ));
    match t.dispatch_decision(b"NameService") {
        Decision::Dispatch(target) => {
            assert!(Arc::ptr_eq(&target.servant, &ns));
            assert_eq!(target.poa, None);
            assert_eq!(target.object_id, b"NameService");
        }
        other => panic!("{other:?}"),
    }
    // Well-known keys do not depend on any POA manager.
    t.root().manager().hold_requests().unwrap();
    assert_reaches(&t, b"NameService", &ns);
    assert_not_exist(&t, b"NameServic");
    assert_not_exist(&t, b"InterfaceRepository");
    assert!(Arc::ptr_eq(
        &t.unregister_well_known(b"NameService").unwrap(),
        &ns
    ));
    assert_not_exist(&t, b"NameService");
    assert!(t.unregister_well_known(b"NameService").is_none());
}

fn arb_path() -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(proptest::collection::vec(".{0,12}", 1..6))
}

proptest! {
    #[test]
    fn arbitrary_octets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let _ = ObjectKeyRef::parse(&bytes);
        let _ = ObjectKeyRef::parse_strict(&bytes);
        if let Ok(k) = ObjectKeyRef::parse(&bytes) {
            if let Some(p) = k.path {
                let _ = p.segments().count();
            }
        }
        let t = tree();
        let _ = t.dispatch_decision(&bytes);
    }

    #[test]
    fn octets_behind_our_magic_never_panic(
        rest in proptest::collection::vec(any::<u8>(), 0..80),
        version in prop_oneof![Just(1u8), any::<u8>()],
        flags in 0u8..3,
        prefix in 0usize..36,
    ) {
        // Start from a real key so the fuzzing reaches the id and the path.
        let t = tree();
        let p = t
            .root()
            .create_poa("p", Some(t.root().manager().clone()), &[Policy::Lifespan(Lifespan::Persistent)])
            .unwrap();
        let real = p.create_reference().unwrap();
        let mut bytes = real[..prefix.min(real.len())].to_vec();
        if bytes.len() > 3 {
            bytes[2] = version;
            bytes[3] = flags;
        }
        bytes.extend_from_slice(&rest);
        if let Ok(k) = ObjectKeyRef::parse_strict(&bytes) {
            let mut again = Vec::new();
            k.encode(&mut again);
            prop_assert_eq!(&again, &bytes);
        }
        let _ = t.dispatch_decision(&bytes);
        let _ = p.reference_to_id(&bytes);
        let _ = p.reference_to_servant(&bytes);
        let _ = t.poa_for_key(&bytes);
    }

    #[test]
    fn encode_parse_round_trip(
        instance_id in any::<u64>(),
        index in any::<u32>(),
        generation in any::<u32>(),
        slot in proptest::option::of((0..u32::MAX, any::<u32>())),
        id in proptest::collection::vec(any::<u8>(), 0..64),
        path in arb_path(),
    ) {
        let encoded_path = path.as_ref().map(|p| encode_path(p.iter().map(String::as_str)).unwrap());
        let slot = slot.map(|(index, generation)| SlotHint { index, generation });
        let poa = PoaId { index, generation };
        let mut bytes = Vec::new();
        crate::poa::key::encode_key(&mut bytes, instance_id, poa, slot, &id, encoded_path.as_deref());
        let k = ObjectKeyRef::parse_strict(&bytes).unwrap();
        prop_assert_eq!(k.instance_id, instance_id);
        prop_assert_eq!(k.poa, poa);
        prop_assert_eq!(k.slot, slot);
        prop_assert_eq!(k.id, &id[..]);
        let names: Option<Vec<String>> = k
            .path
            .map(|p| p.segments().map(|s| s.unwrap().to_owned()).collect());
        prop_assert_eq!(&names, &path);
        let mut again = Vec::new();
        k.encode(&mut again);
        prop_assert_eq!(again, bytes);
    }
}
