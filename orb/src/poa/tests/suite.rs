//! The behaviour every active object map strategy must show, written once; `aom_suite!` in
//! `tests/mod.rs` runs each function for each strategy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::*;

fn with(strategy: AomStrategy, extra: &[Policy]) -> Vec<Policy> {
    let mut p = vec![Policy::ActiveObjectMap(strategy)];
    p.extend_from_slice(extra);
    p
}

const USER_ID: Policy = Policy::IdAssignment(IdAssignment::UserId);
const MULTIPLE_ID: Policy = Policy::IdUniqueness(IdUniqueness::MultipleId);
const IMPLICIT: Policy = Policy::ImplicitActivation(ImplicitActivation::Implicit);
const PERSISTENT: Policy = Policy::Lifespan(Lifespan::Persistent);
const NON_RETAIN: Policy = Policy::ServantRetention(ServantRetention::NonRetain);
const DEFAULT_SERVANT: Policy = Policy::RequestProcessing(RequestProcessing::UseDefaultServant);

/// Replaces the slot fields of a key (octets 20–27).
fn with_slot(key: &[u8], slot: Option<SlotHint>) -> Vec<u8> {
    let k = ObjectKeyRef::parse(key).unwrap();
    let mut out = Vec::new();
    ObjectKeyRef { slot, ..k }.encode(&mut out);
    out
}

fn slot_of(key: &[u8]) -> Option<SlotHint> {
    ObjectKeyRef::parse(key).unwrap().slot
}

pub fn activate_and_dispatch(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[]));
    let servants: Vec<S> = (0..3).map(|i| servant(&format!("s{i}"))).collect();
    let ids: Vec<ObjectId> = servants
        .iter()
        .map(|sv| poa.activate_object(sv.clone()).unwrap())
        .collect();
    assert_eq!(poa.active_object_count(), 3);
    for (id, sv) in ids.iter().zip(&servants) {
        assert_eq!(id.len(), SYSTEM_ID_LEN);
        let key = poa.id_to_reference(id).unwrap();
        match t.dispatch_decision(&key) {
            Decision::Dispatch(target) => {
                assert!(Arc::ptr_eq(&target.servant, sv));
                assert_eq!(target.object_id, &id[..]);
                assert_eq!(target.poa, Some(poa.id()));
                assert!(!target.default_servant);
            }
            other => panic!("{other:?}"),
        }
        assert!(Arc::ptr_eq(&t.key_to_servant(&key).unwrap().servant, sv));
        // Only active demultiplexing gives keys a slot.
        assert_eq!(
            slot_of(&key).is_some(),
            s == AomStrategy::ActiveDemux,
            "{s:?}"
        );
    }
}

pub fn system_id_key_stale_after_reactivation(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[]));
    let a = servant("a");
    let id_a = poa.activate_object(a.clone()).unwrap();
    let key_a = poa.id_to_reference(&id_a).unwrap();
    assert_reaches(&t, &key_a, &a);
    poa.deactivate_object(&id_a).unwrap();
    assert_not_exist(&t, &key_a);
    // The next activation takes the freed slot (LIFO), with the next generation.
    let b = servant("b");
    let id_b = poa.activate_object(b.clone()).unwrap();
    assert_ne!(id_a, id_b);
    let key_b = poa.id_to_reference(&id_b).unwrap();
    if s == AomStrategy::ActiveDemux {
        let (sa, sb) = (slot_of(&key_a).unwrap(), slot_of(&key_b).unwrap());
        assert_eq!(sa.index, sb.index);
        assert_ne!(sa.generation, sb.generation);
    }
    assert_not_exist(&t, &key_a);
    assert_reaches(&t, &key_b, &b);
    // Even a key with the *current* slot and generation but the old id misses.
    let forged = with_slot(&key_a, slot_of(&key_b));
    assert_not_exist(&t, &forged);
}

pub fn user_id_key_reaches_reactivated_object(s: AomStrategy) {
    // An object is its (POA, id): a key stays valid across deactivation and reactivation of the
    // same id in the same POA, and reaches the new incarnation's servant.
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let a = servant("a");
    poa.activate_object_with_id(b"x", a.clone()).unwrap();
    let key = poa.id_to_reference(b"x").unwrap();
    assert_reaches(&t, &key, &a);
    poa.deactivate_object(b"x").unwrap();
    assert_not_exist(&t, &key);
    // Occupy the freed slot with another object, so that "x" lands elsewhere.
    let other = servant("other");
    poa.activate_object_with_id(b"other", other.clone())
        .unwrap();
    let b = servant("b");
    poa.activate_object_with_id(b"x", b.clone()).unwrap();
    assert_reaches(&t, &key, &b);
    assert_reaches(&t, &poa.id_to_reference(b"other").unwrap(), &other);
}

pub fn forged_key_never_reaches_another_object(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let (a, b) = (servant("a"), servant("b"));
    poa.activate_object_with_id(b"x", a.clone()).unwrap();
    poa.activate_object_with_id(b"y", b.clone()).unwrap();
    let kx = poa.id_to_reference(b"x").unwrap();
    let ky = poa.id_to_reference(b"y").unwrap();
    // x's slot, an id nobody activated: the slot's id differs, so nothing.
    let k = ObjectKeyRef::parse(&kx).unwrap();
    let mut forged = Vec::new();
    ObjectKeyRef { id: b"z", ..k }.encode(&mut forged);
    assert_not_exist(&t, &forged);
    // y's slot with x's id: the key names x, and reaches x's servant, never y's.
    assert_reaches(&t, &with_slot(&kx, slot_of(&ky)), &a);
    // A slot index past the end of the map, a wrong generation: found by id, or not at all.
    let far = with_slot(
        &kx,
        Some(SlotHint {
            index: 1_000_000,
            generation: 0,
        }),
    );
    assert_reaches(&t, &far, &a);
    // Another POA's index with this POA's id: not this POA's object.
    let other = child(&t, "q", &with(s, &[USER_ID]));
    other.activate_object_with_id(b"x", servant("q-x")).unwrap();
    let mut cross = Vec::new();
    ObjectKeyRef {
        poa: poa.id(),
        ..ObjectKeyRef::parse(&other.id_to_reference(b"x").unwrap()).unwrap()
    }
    .encode(&mut cross);
    assert_reaches(&t, &cross, &a);
    assert_reaches(&t, &ky, &b);
}

pub fn activate_object_wrong_policy(s: AomStrategy) {
    let t = tree();
    let user = child(&t, "user", &with(s, &[USER_ID]));
    assert!(matches!(
        user.activate_object(servant("a")),
        Err(PoaError::WrongPolicy { .. })
    ));
    let nr = child(
        &t,
        "nr",
        &with(s, &[NON_RETAIN, DEFAULT_SERVANT, MULTIPLE_ID]),
    );
    assert!(matches!(
        nr.activate_object(servant("a")),
        Err(PoaError::WrongPolicy { .. })
    ));
    assert!(matches!(
        nr.activate_object_with_id(&[0; 16], servant("a")),
        Err(PoaError::WrongPolicy { .. })
    ));
    assert!(matches!(
        nr.deactivate_object(&[0; 16]),
        Err(PoaError::WrongPolicy { .. })
    ));
    assert!(matches!(
        user.create_reference(),
        Err(PoaError::WrongPolicy { .. })
    ));
}

pub fn activate_object_with_id_exceptions(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let a = servant("a");
    poa.activate_object_with_id(b"x", a.clone()).unwrap();
    assert_eq!(
        poa.activate_object_with_id(b"x", servant("b")),
        Err(PoaError::ObjectAlreadyActive)
    );
    // UNIQUE_ID: a servant incarnates one object.
    assert_eq!(
        poa.activate_object_with_id(b"y", a.clone()),
        Err(PoaError::ServantAlreadyActive)
    );
    // ObjectAlreadyActive is checked first.
    assert_eq!(
        poa.activate_object_with_id(b"x", a.clone()),
        Err(PoaError::ObjectAlreadyActive)
    );
    // MULTIPLE_ID: it may incarnate several.
    let multi = child(&t, "m", &with(s, &[USER_ID, MULTIPLE_ID]));
    multi.activate_object_with_id(b"x", a.clone()).unwrap();
    multi.activate_object_with_id(b"y", a.clone()).unwrap();
    assert_reaches(&t, &multi.id_to_reference(b"y").unwrap(), &a);
    // SYSTEM_ID: an id the system could not have generated is BAD_PARAM.
    let sys = child(&t, "sys", &with(s, &[]));
    assert!(matches!(
        sys.activate_object_with_id(b"short", servant("c")),
        Err(PoaError::BadParam(_))
    ));
    let mut foreign = vec![0xEE; 8];
    foreign.extend_from_slice(&0u64.to_be_bytes());
    assert!(matches!(
        sys.activate_object_with_id(&foreign, servant("c")),
        Err(PoaError::BadParam(_))
    ));
    // A system id it generated (via create_reference) is fine.
    let key = sys.create_reference().unwrap();
    let id = sys.reference_to_id(&key).unwrap();
    sys.activate_object_with_id(&id, servant("c")).unwrap();
}

pub fn deactivate_object_exceptions(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[]));
    let a = servant("a");
    let id = poa.activate_object(a.clone()).unwrap();
    poa.deactivate_object(&id).unwrap();
    assert_eq!(poa.deactivate_object(&id), Err(PoaError::ObjectNotActive));
    assert_eq!(
        poa.deactivate_object(b"never"),
        Err(PoaError::ObjectNotActive)
    );
    // The servant is no longer active, so UNIQUE_ID lets it be activated again.
    let id2 = poa.activate_object(a.clone()).unwrap();
    assert_eq!(poa.servant_to_id(&a).unwrap(), id2);
    assert_eq!(poa.active_object_count(), 1);
}

pub fn servant_to_id_rules(s: AomStrategy) {
    let t = tree();
    // UNIQUE_ID, no implicit activation: the active servant's id, else ServantNotActive.
    let poa = child(&t, "p", &with(s, &[]));
    let a = servant("a");
    assert_eq!(poa.servant_to_id(&a), Err(PoaError::ServantNotActive));
    let id = poa.activate_object(a.clone()).unwrap();
    assert_eq!(poa.servant_to_id(&a).unwrap(), id);
    assert_eq!(
        poa.servant_to_id(&servant("a")),
        Err(PoaError::ServantNotActive),
        "servants are compared by identity, not value"
    );
    // UNIQUE_ID + IMPLICIT_ACTIVATION: activates once, then answers the same id.
    let imp = child(&t, "imp", &with(s, &[IMPLICIT]));
    let b = servant("b");
    let id1 = imp.servant_to_id(&b).unwrap();
    assert_eq!(imp.servant_to_id(&b).unwrap(), id1);
    assert_eq!(imp.active_object_count(), 1);
    assert_reaches(&t, &imp.id_to_reference(&id1).unwrap(), &b);
    // MULTIPLE_ID + IMPLICIT_ACTIVATION: a new object every time.
    let many = child(&t, "many", &with(s, &[IMPLICIT, MULTIPLE_ID]));
    let x = many.servant_to_id(&b).unwrap();
    let y = many.servant_to_id(&b).unwrap();
    assert_ne!(x, y);
    assert_eq!(many.active_object_count(), 2);
    // MULTIPLE_ID, no implicit activation, no default servant: WrongPolicy.
    let wrong = child(&t, "wrong", &with(s, &[MULTIPLE_ID]));
    assert!(matches!(
        wrong.servant_to_id(&b),
        Err(PoaError::WrongPolicy { .. })
    ));
    // USE_DEFAULT_SERVANT allows the call; outside a request it can only say ServantNotActive.
    let ds = child(&t, "ds", &with(s, &[MULTIPLE_ID, DEFAULT_SERVANT]));
    ds.set_servant(b.clone()).unwrap();
    assert_eq!(ds.servant_to_id(&b), Err(PoaError::ServantNotActive));
}

pub fn servant_to_reference_rules(s: AomStrategy) {
    let t = tree();
    let root = t.root();
    // The RootPOA has IMPLICIT_ACTIVATION: servant_to_reference activates.
    let root_poa = child(&t, "like-root", &with(s, &[IMPLICIT]));
    let a = servant("a");
    let key = root_poa.servant_to_reference(&a).unwrap();
    assert_reaches(&t, &key, &a);
    assert_eq!(root_poa.servant_to_reference(&a).unwrap(), key);
    let r = root.servant_to_reference(&a).unwrap();
    assert_reaches(&t, &r, &a);
    let poa = child(&t, "p", &with(s, &[MULTIPLE_ID]));
    assert!(matches!(
        poa.servant_to_reference(&a),
        Err(PoaError::WrongPolicy { .. })
    ));
    let plain = child(&t, "plain", &with(s, &[]));
    assert_eq!(
        plain.servant_to_reference(&a),
        Err(PoaError::ServantNotActive)
    );
}

pub fn reference_to_servant_and_id(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let other = child(&t, "q", &with(s, &[USER_ID]));
    let a = servant("a");
    poa.activate_object_with_id(b"x", a.clone()).unwrap();
    let key = poa.id_to_reference(b"x").unwrap();
    assert!(Arc::ptr_eq(&poa.reference_to_servant(&key).unwrap(), &a));
    assert_eq!(poa.reference_to_id(&key).unwrap(), b"x");
    // Keys of another POA, of another ORB instance, not ours at all: WrongAdapter.
    other.activate_object_with_id(b"x", servant("qx")).unwrap();
    let okey = other.id_to_reference(b"x").unwrap();
    assert_eq!(poa.reference_to_servant(&okey), Err(PoaError::WrongAdapter));
    assert_eq!(poa.reference_to_id(&okey), Err(PoaError::WrongAdapter));
    let elsewhere = tree_with(7);
    let epoa = child(&elsewhere, "p", &with(s, &[USER_ID]));
    let ekey = epoa.create_reference_with_id(b"x").unwrap();
    assert_eq!(poa.reference_to_id(&ekey), Err(PoaError::WrongAdapter));
    assert_eq!(
        poa.reference_to_servant(b"NameService"),
        Err(PoaError::WrongAdapter)
    );
    // Not active: ObjectNotActive, but the id is still the reference's.
    poa.deactivate_object(b"x").unwrap();
    assert_eq!(
        poa.reference_to_servant(&key),
        Err(PoaError::ObjectNotActive)
    );
    assert_eq!(poa.reference_to_id(&key).unwrap(), b"x");
    // Neither RETAIN nor USE_DEFAULT_SERVANT cannot happen (NON_RETAIN needs a default
    // servant or servant manager), so WrongPolicy is unreachable through valid policies.
}

pub fn id_to_servant_and_reference(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let a = servant("a");
    assert_eq!(poa.id_to_servant(b"x"), Err(PoaError::ObjectNotActive));
    assert_eq!(poa.id_to_reference(b"x"), Err(PoaError::ObjectNotActive));
    poa.activate_object_with_id(b"x", a.clone()).unwrap();
    assert!(Arc::ptr_eq(&poa.id_to_servant(b"x").unwrap(), &a));
    let key = poa.id_to_reference(b"x").unwrap();
    assert_eq!(ObjectKeyRef::parse(&key).unwrap().id, b"x");
    let nr = child(
        &t,
        "nr",
        &with(s, &[USER_ID, NON_RETAIN, DEFAULT_SERVANT, MULTIPLE_ID]),
    );
    assert!(matches!(
        nr.id_to_reference(b"x"),
        Err(PoaError::WrongPolicy { .. })
    ));
    assert_eq!(nr.id_to_servant(b"x"), Err(PoaError::ObjectNotActive));
    let d = servant("default");
    nr.set_servant(d.clone()).unwrap();
    assert!(Arc::ptr_eq(&nr.id_to_servant(b"x").unwrap(), &d));
}

pub fn create_reference_then_activate(s: AomStrategy) {
    let t = tree();
    let sys = child(&t, "sys", &with(s, &[]));
    let key = sys.create_reference().unwrap();
    assert_eq!(slot_of(&key), None);
    assert_not_exist(&t, &key);
    let id = sys.reference_to_id(&key).unwrap();
    let a = servant("a");
    sys.activate_object_with_id(&id, a.clone()).unwrap();
    // The key made before activation has no slot hint: found by id.
    assert_reaches(&t, &key, &a);
    let user = child(&t, "user", &with(s, &[USER_ID]));
    let ukey = user.create_reference_with_id(b"later").unwrap();
    assert_not_exist(&t, &ukey);
    assert_eq!(user.active_object_count(), 0, "no activation");
    let b = servant("b");
    user.activate_object_with_id(b"later", b.clone()).unwrap();
    assert_reaches(&t, &ukey, &b);
    // Made while active, the key gets the slot hint.
    let again = user.create_reference_with_id(b"later").unwrap();
    assert_eq!(slot_of(&again).is_some(), s == AomStrategy::ActiveDemux);
    assert_reaches(&t, &again, &b);
}

pub fn default_servant(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID, MULTIPLE_ID, DEFAULT_SERVANT]));
    let key = poa.create_reference_with_id(b"anything").unwrap();
    assert_eq!(poa.get_servant(), Err(PoaError::NoServant));
    assert_eq!(
        t.dispatch_decision(&key),
        Decision::Reject(SystemException::OBJ_ADAPTER_NO_DEFAULT_SERVANT)
    );
    let d = servant("default");
    poa.set_servant(d.clone()).unwrap();
    assert!(Arc::ptr_eq(&poa.get_servant().unwrap(), &d));
    match t.dispatch_decision(&key) {
        Decision::Dispatch(target) => {
            assert!(Arc::ptr_eq(&target.servant, &d));
            assert!(target.default_servant);
            assert_eq!(target.object_id, b"anything");
        }
        other => panic!("{other:?}"),
    }
    // An active object still wins over the default servant.
    let a = servant("a");
    poa.activate_object_with_id(b"anything", a.clone()).unwrap();
    assert_reaches(&t, &key, &a);
    // The default servant may also be activated (MULTIPLE_ID).
    poa.activate_object_with_id(b"d", d.clone()).unwrap();
    // get/set_servant need USE_DEFAULT_SERVANT.
    let plain = child(&t, "plain", &with(s, &[]));
    assert!(matches!(
        plain.get_servant(),
        Err(PoaError::WrongPolicy { .. })
    ));
    assert!(matches!(
        plain.set_servant(d.clone()),
        Err(PoaError::WrongPolicy { .. })
    ));
}

pub fn non_retain_default_servant(s: AomStrategy) {
    let t = tree();
    let poa = child(
        &t,
        "p",
        &with(s, &[NON_RETAIN, DEFAULT_SERVANT, MULTIPLE_ID]),
    );
    let key = poa.create_reference().unwrap();
    assert_eq!(
        t.dispatch_decision(&key),
        Decision::Reject(SystemException::OBJ_ADAPTER_NO_DEFAULT_SERVANT)
    );
    let d = servant("default");
    poa.set_servant(d.clone()).unwrap();
    assert_reaches(&t, &key, &d);
    assert!(Arc::ptr_eq(&poa.reference_to_servant(&key).unwrap(), &d));
    assert_eq!(poa.active_object_count(), 0);
}

pub fn transient_key_from_other_instance(s: AomStrategy) {
    // Same POA names, same indexes, same slots: but another ORB instance's transient key.
    let old = tree_with(1);
    let new = tree_with(2);
    let (po, pn) = (
        child(&old, "p", &with(s, &[USER_ID])),
        child(&new, "p", &with(s, &[USER_ID])),
    );
    po.activate_object_with_id(b"x", servant("old")).unwrap();
    pn.activate_object_with_id(b"x", servant("new")).unwrap();
    let key = po.id_to_reference(b"x").unwrap();
    assert_eq!(po.id(), pn.id());
    assert_not_exist(&new, &key);
}

pub fn persistent_key_after_restart(s: AomStrategy) {
    let build = |instance: u64| {
        let t = tree_with(instance);
        let a = t
            .root()
            .create_poa("a", Some(t.root().manager().clone()), &[])
            .unwrap();
        let b = a
            .create_poa(
                "b",
                Some(t.root().manager().clone()),
                &with(s, &[PERSISTENT, USER_ID]),
            )
            .unwrap();
        (t, b)
    };
    let (t1, b1) = build(1);
    let old_servant = servant("obj@1");
    b1.activate_object_with_id(b"obj", old_servant.clone())
        .unwrap();
    let key = b1.id_to_reference(b"obj").unwrap();
    assert_reaches(&t1, &key, &old_servant);
    let parsed = ObjectKeyRef::parse_strict(&key).unwrap();
    let names: Vec<&str> = parsed
        .path
        .unwrap()
        .segments()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["a", "b"]);

    // "Restart": a new tree, in which other POAs and objects take the old indexes and slots.
    let t2 = tree_with(2);
    let noise = child(&t2, "noise", &with(s, &[USER_ID]));
    noise
        .activate_object_with_id(b"obj", servant("noise"))
        .unwrap();
    assert_not_exist(&t2, &key);
    let a2 = t2
        .root()
        .create_poa("a", Some(t2.root().manager().clone()), &[])
        .unwrap();
    assert_not_exist(&t2, &key);
    let b2 = a2
        .create_poa(
            "b",
            Some(t2.root().manager().clone()),
            &with(s, &[PERSISTENT, USER_ID]),
        )
        .unwrap();
    assert_ne!(b1.id(), b2.id());
    for i in 0..5 {
        b2.activate_object_with_id(format!("pad{i}").as_bytes(), servant("pad"))
            .unwrap();
    }
    assert_not_exist(&t2, &key);
    let new_servant = servant("obj@2");
    b2.activate_object_with_id(b"obj", new_servant.clone())
        .unwrap();
    assert_reaches(&t2, &key, &new_servant);
    assert_eq!(t2.poa_for_key(&key).unwrap().id(), b2.id());
    assert_eq!(b2.reference_to_id(&key).unwrap(), b"obj");
    assert!(Arc::ptr_eq(
        &b2.reference_to_servant(&key).unwrap(),
        &new_servant
    ));
    // The new process's keys for the object differ but reach the same servant.
    let key2 = b2.id_to_reference(b"obj").unwrap();
    assert_ne!(key, key2);
    assert_reaches(&t2, &key2, &new_servant);
    // A transient POA of the same path does not answer persistent keys.
    let t3 = tree_with(3);
    let a3 = child(&t3, "a", &[]);
    let b3 = a3
        .create_poa("b", Some(t3.root().manager().clone()), &with(s, &[USER_ID]))
        .unwrap();
    b3.activate_object_with_id(b"obj", servant("transient"))
        .unwrap();
    assert_not_exist(&t3, &key);
    assert_eq!(b3.reference_to_id(&key), Err(PoaError::WrongAdapter));
}

pub fn persistent_system_id_after_restart(s: AomStrategy) {
    let t1 = tree_with(1);
    let p1 = child(&t1, "p", &with(s, &[PERSISTENT]));
    let id = p1.activate_object(servant("one")).unwrap();
    let key = p1.id_to_reference(&id).unwrap();
    let t2 = tree_with(2);
    let p2 = child(&t2, "p", &with(s, &[PERSISTENT]));
    // New system ids in the new process never collide with the old one's.
    let fresh = p2.activate_object(servant("fresh")).unwrap();
    assert_ne!(fresh, id);
    assert_not_exist(&t2, &key);
    // The application re-activates the object under its old system id.
    let again = servant("again");
    p2.activate_object_with_id(&id, again.clone()).unwrap();
    assert_reaches(&t2, &key, &again);
}

pub fn persistent_poa_recreated_in_process(s: AomStrategy) {
    let t = tree();
    let p = child(&t, "p", &with(s, &[PERSISTENT, USER_ID]));
    p.activate_object_with_id(b"x", servant("first")).unwrap();
    let key = p.id_to_reference(b"x").unwrap();
    p.destroy().unwrap();
    assert_not_exist(&t, &key);
    // Another POA takes the index; then the persistent POA comes back at another.
    let squatter = child(&t, "squatter", &with(s, &[PERSISTENT, USER_ID]));
    assert_eq!(squatter.id().index, p.id().index);
    squatter
        .activate_object_with_id(b"x", servant("squatter"))
        .unwrap();
    assert_not_exist(&t, &key);
    let p2 = child(&t, "p", &with(s, &[PERSISTENT, USER_ID]));
    let second = servant("second");
    p2.activate_object_with_id(b"x", second.clone()).unwrap();
    assert_reaches(&t, &key, &second);
}

pub fn destroyed_poa_index_reused(s: AomStrategy) {
    let t = tree();
    let c1 = child(&t, "c1", &with(s, &[]));
    let a = servant("a");
    let id_a = c1.activate_object(a.clone()).unwrap();
    let key_a = c1.id_to_reference(&id_a).unwrap();
    assert_reaches(&t, &key_a, &a);
    c1.destroy().unwrap();
    assert_not_exist(&t, &key_a);
    let c2 = child(&t, "c2", &with(s, &[USER_ID]));
    assert_eq!(c2.id().index, c1.id().index, "LIFO reuse of the index");
    assert_ne!(c2.id().generation, c1.id().generation);
    // Same index, same slot, even the same object id: still not the old object.
    c2.activate_object_with_id(&id_a, servant("b")).unwrap();
    let key_b = c2.id_to_reference(&id_a).unwrap();
    assert_eq!(slot_of(&key_a), slot_of(&key_b));
    assert_not_exist(&t, &key_a);
    // The old handle is dead.
    assert!(c1.is_destroyed());
    assert_eq!(c1.activate_object(servant("c")), Err(PoaError::Destroyed));
    assert_eq!(c1.id_to_servant(&id_a), Err(PoaError::Destroyed));
    assert_eq!(c1.destroy(), Err(PoaError::Destroyed));
    assert!(t.poa(c1.id()).is_none());
    assert!(t.poa_for_key(&key_a).is_none());
}

pub fn many_objects(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[]));
    let servants: Vec<S> = (0..600).map(|i| servant(&format!("s{i}"))).collect();
    let mut keys = Vec::new();
    let mut ids = Vec::new();
    for sv in &servants {
        let id = poa.activate_object(sv.clone()).unwrap();
        keys.push(poa.id_to_reference(&id).unwrap());
        ids.push(id);
    }
    for i in (0..servants.len()).step_by(3) {
        poa.deactivate_object(&ids[i]).unwrap();
    }
    // Refill the freed slots with new objects.
    let fresh: Vec<(S, Vec<u8>)> = (0..200)
        .map(|i| {
            let sv = servant(&format!("new{i}"));
            let id = poa.activate_object(sv.clone()).unwrap();
            (sv, poa.id_to_reference(&id).unwrap())
        })
        .collect();
    for (i, key) in keys.iter().enumerate() {
        if i % 3 == 0 {
            assert_not_exist(&t, key);
        } else {
            assert_reaches(&t, key, &servants[i]);
        }
    }
    for (sv, key) in &fresh {
        assert_reaches(&t, key, sv);
    }
    assert_eq!(poa.active_object_count(), 600);
}

pub fn concurrent_lookups_and_activations(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[]));
    let stable: Vec<(S, Vec<u8>)> = (0..64)
        .map(|i| {
            let sv = servant(&format!("stable{i}"));
            let id = poa.activate_object(sv.clone()).unwrap();
            (sv, poa.id_to_reference(&id).unwrap())
        })
        .collect();
    std::thread::scope(|scope| {
        for w in 0..2 {
            let poa = poa.clone();
            let t = t.clone();
            scope.spawn(move || {
                for i in 0..300 {
                    let sv = servant(&format!("churn{w}-{i}"));
                    let id = poa.activate_object(sv.clone()).unwrap();
                    let key = poa.id_to_reference(&id).unwrap();
                    assert_reaches(&t, &key, &sv);
                    poa.deactivate_object(&id).unwrap();
                    // Whoever takes the slot next, this key reaches nobody.
                    assert_not_exist(&t, &key);
                }
            });
        }
        for _ in 0..2 {
            let t = t.clone();
            let stable = &stable;
            scope.spawn(move || {
                for round in 0..50 {
                    for (sv, key) in stable.iter().skip(round % 7) {
                        assert_reaches(&t, key, sv);
                    }
                }
            });
        }
    });
    assert_eq!(poa.active_object_count(), stable.len());
    assert!(dispatched(&t, &stable[0].1).is_some());
}

/// Ids of the three lengths the active object map compares differently: shorter than the 16
/// octets kept in a slot, exactly 16 (a system id's length), and longer (checked by id).
fn id_of_length_class(n: usize) -> Vec<u8> {
    match n % 3 {
        0 => format!("o{n}").into_bytes(),
        1 => format!("{n:016}").into_bytes(),
        _ => format!("an-object-id-longer-than-a-slot-{n:08}").into_bytes(),
    }
}

/// The id a key names.
fn key_id(key: &[u8]) -> Vec<u8> {
    ObjectKeyRef::parse(key).unwrap().id.to_vec()
}

pub fn reused_slot_never_resolves_an_earlier_key(s: AomStrategy) {
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let mut earlier: Vec<Vec<u8>> = Vec::new();
    let mut slots = Vec::new();
    for n in 0..120 {
        let id = id_of_length_class(n);
        let sv = servant(&String::from_utf8(id.clone()).unwrap());
        poa.activate_object_with_id(&id, sv.clone()).unwrap();
        let key = poa.id_to_reference(&id).unwrap();
        slots.extend(slot_of(&key));
        assert_reaches(&t, &key, &sv);
        for old in &earlier {
            assert_not_exist(&t, old);
        }
        // The current slot and generation with another id of the same length: a key that
        // names another object, so it must not reach this one.
        let mut other = id.clone();
        *other.last_mut().unwrap() ^= 0x01;
        let k = ObjectKeyRef::parse(&key).unwrap();
        let mut forged = Vec::new();
        ObjectKeyRef { id: &other, ..k }.encode(&mut forged);
        assert_not_exist(&t, &forged);
        poa.deactivate_object(&id).unwrap();
        assert_not_exist(&t, &key);
        earlier.push(key);
    }
    if s == AomStrategy::ActiveDemux {
        // Every occupant took the one freed slot, each under a generation of its own.
        assert!(slots.iter().all(|h| h.index == slots[0].index));
        for (g, h) in slots.iter().enumerate() {
            assert_eq!(h.generation, g as u32);
        }
    }
}

pub fn concurrent_churn_never_reaches_another_servant(s: AomStrategy) {
    // Writers activate and deactivate ids (of every length class) over and over, so slots are
    // reused constantly; readers meanwhile look up keys made at any time. A lookup may miss, or
    // reach the servant of the object its key names — never another.
    const LOOKUPS: usize = 3_000;
    let t = tree();
    let poa = child(&t, "p", &with(s, &[USER_ID]));
    let keys = parking_lot::Mutex::new(Vec::<Vec<u8>>::new());
    let (reached, missed) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|scope| {
        for w in 0..2 {
            let (poa, keys) = (poa.clone(), &keys);
            scope.spawn(move || {
                for i in 0..600 {
                    let id = id_of_length_class(w * 3 + i % 6 * 7 + i % 3);
                    let sv = servant(&String::from_utf8(id.clone()).unwrap());
                    if poa.activate_object_with_id(&id, sv).is_ok() {
                        keys.lock().push(poa.id_to_reference(&id).unwrap());
                        poa.deactivate_object(&id).unwrap();
                    }
                }
            });
        }
        for r in 0..2 {
            let (t, keys, reached, missed) = (t.clone(), &keys, &reached, &missed);
            scope.spawn(move || {
                let mut i = 0usize;
                while i < LOOKUPS {
                    let key = {
                        let k = keys.lock();
                        if k.is_empty() {
                            drop(k);
                            std::thread::yield_now();
                            continue;
                        }
                        k[(i * 7919 + r) % k.len()].clone()
                    };
                    i += 1;
                    match t.dispatch_decision(&key) {
                        Decision::Dispatch(target) => {
                            let named = key_id(&key);
                            assert_eq!(target.servant.as_bytes(), &named[..]);
                            assert_eq!(target.object_id, &named[..]);
                            reached.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            assert_eq!(other, Decision::Reject(SystemException::OBJECT_NOT_EXIST));
                            missed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    assert_eq!(poa.active_object_count(), 0);
    assert_eq!(
        reached.load(Ordering::Relaxed) + missed.load(Ordering::Relaxed),
        2 * LOOKUPS as u64
    );
}

/// The priority model a dispatch of `key` runs under.
#[track_caller]
fn dispatched_model(t: &PoaTree<S>, key: &[u8]) -> crate::rt::PriorityModelPolicy {
    match t.dispatch_decision(key) {
        Decision::Dispatch(target) => target.priority_model,
        other => panic!("expected a dispatch, got {other:?}"),
    }
}

pub fn object_priorities_follow_their_entries(s: AomStrategy) {
    use crate::rt::{PriorityModel, PriorityModelPolicy};
    let declared = |p| PriorityModelPolicy {
        model: PriorityModel::ServerDeclared,
        server_priority: p,
    };
    let t = tree();
    // Nothing of its own yet: requests need no look-up to know their model.
    assert!(!t.priorities_vary());
    let poa = child(&t, "sd", &with(s, &[Policy::PriorityModel(declared(100))]));
    assert!(t.priorities_vary());
    let (a, b, c) = (servant("a"), servant("b"), servant("c"));
    let a_id = poa.activate_object_with_priority(a, 7).unwrap();
    let a_key = poa.id_to_reference(&a_id).unwrap();
    let b_key = poa
        .id_to_reference(&poa.activate_object(b).unwrap())
        .unwrap();
    for (key, p) in [(&a_key, 7), (&b_key, 100)] {
        assert_eq!(dispatched_model(&t, key), declared(p));
        assert_eq!(t.priority_model_for_key(key), declared(p));
    }
    assert_eq!(poa.object_priority_model(&a_id).unwrap(), declared(7));
    // Deactivated, the object's priority goes with it: the next occupant of its slot has
    // the POA's, and the stale key finds no object (and the POA's model).
    poa.deactivate_object(&a_id).unwrap();
    let c_key = poa
        .id_to_reference(&poa.activate_object(c).unwrap())
        .unwrap();
    assert_eq!(dispatched_model(&t, &c_key), declared(100));
    assert_not_exist(&t, &a_key);
    assert_eq!(t.priority_model_for_key(&a_key), declared(100));
    // A user id reactivated at another priority: the old key (its slot hint stale) finds
    // the object by id, at its new priority.
    let users = child(
        &t,
        "sd-users",
        &with(s, &[USER_ID, Policy::PriorityModel(declared(100))]),
    );
    users
        .activate_object_with_id_and_priority(b"u", servant("u1"), 5)
        .unwrap();
    let u_key = users.id_to_reference(b"u").unwrap();
    users.deactivate_object(b"u").unwrap();
    users
        .activate_object_with_id_and_priority(b"u", servant("u2"), 9)
        .unwrap();
    assert_eq!(dispatched_model(&t, &u_key), declared(9));
    assert_eq!(t.priority_model_for_key(&u_key), declared(9));
    // A default servant runs at its POA's priority.
    let ds = child(
        &t,
        "sd-default",
        &with(
            s,
            &[
                USER_ID,
                MULTIPLE_ID,
                DEFAULT_SERVANT,
                Policy::PriorityModel(declared(42)),
            ],
        ),
    );
    ds.set_servant(servant("d")).unwrap();
    let d_key = ds.create_reference_with_id(b"any").unwrap();
    assert_eq!(dispatched_model(&t, &d_key), declared(42));
    // A well-known key, and the RootPOA's objects, run under the tree's default.
    let root_key = t.root().servant_to_reference(&servant("r")).unwrap();
    assert_eq!(
        dispatched_model(&t, &root_key),
        PriorityModelPolicy::default()
    );
}
