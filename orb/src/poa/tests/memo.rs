//! The dispatch memo ([`DispatchMemo`]): between two requests for the same key, every change
//! that alters the decision must be seen, exactly as [`PoaTree::dispatch_decision`] sees it.

use super::*;
use crate::rt::{PriorityModel, PriorityModelPolicy};

/// The memo's decision for `key`, checked against the lookup's (taken after it, with the same
/// tree state: tests change the tree only between calls).
#[track_caller]
fn decide<'a>(t: &PoaTree<S>, key: &'a [u8], memo: &mut DispatchMemo<S>) -> Decision<'a, S> {
    let remembered = t.remembered(key, memo);
    let d = t.dispatch_decision_memo(key, memo);
    let looked_up = t.dispatch_decision(key);
    // What the request path takes from the memo alone, when it answers, is the lookup's.
    if let Some((servant, priority_model)) = remembered {
        match &looked_up {
            Decision::Dispatch(b) => {
                assert!(Arc::ptr_eq(&servant, &b.servant), "{servant:?} / {b:?}");
                assert_eq!(priority_model, b.priority_model);
            }
            other => panic!("the memo answered {servant:?} where the lookup says {other:?}"),
        }
    }
    match (&d, &looked_up) {
        // The same servant, by identity, and the same everything else.
        (Decision::Dispatch(a), Decision::Dispatch(b)) => {
            assert!(Arc::ptr_eq(&a.servant, &b.servant), "{a:?} / {b:?}");
            assert_eq!(a, b);
        }
        _ => assert_eq!(d, looked_up),
    }
    d
}

#[track_caller]
fn reaches(t: &PoaTree<S>, key: &[u8], memo: &mut DispatchMemo<S>, s: &S) {
    match decide(t, key, memo) {
        Decision::Dispatch(target) => assert!(Arc::ptr_eq(&target.servant, s)),
        other => panic!("expected dispatch to {s:?}, got {other:?}"),
    }
}

#[test]
fn a_repeated_decision_is_the_lookups() {
    let t = tree();
    let root = t.root();
    let a = servant("a");
    let id = root.activate_object(a.clone()).unwrap();
    let key = root.id_to_reference(&id).unwrap();
    let mut memo = DispatchMemo::new();
    for _ in 0..3 {
        reaches(&t, &key, &mut memo, &a);
    }
    // Another key, then the first again: each its own answer.
    let b = servant("b");
    let other = root
        .id_to_reference(&root.activate_object(b.clone()).unwrap())
        .unwrap();
    reaches(&t, &other, &mut memo, &b);
    reaches(&t, &key, &mut memo, &a);
    match decide(&t, &key, &mut memo) {
        Decision::Dispatch(target) => assert_eq!(target.object_id, &id[..]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deactivation_and_reactivation_between_two_requests() {
    let t = tree();
    let p = child(&t, "p", &[Policy::IdAssignment(IdAssignment::UserId)]);
    let first = servant("first");
    p.activate_object_with_id(b"obj", first.clone()).unwrap();
    let key = p.id_to_reference(b"obj").unwrap();
    let mut memo = DispatchMemo::new();
    reaches(&t, &key, &mut memo, &first);
    p.deactivate_object(b"obj").unwrap();
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
    // The memo kept no hold on the servant the POA let go.
    assert_eq!(Arc::strong_count(&first), 1);
    let second = servant("second");
    p.activate_object_with_id(b"obj", second.clone()).unwrap();
    reaches(&t, &key, &mut memo, &second);
    // Deactivated while remembered: gone at once, memo or not.
    p.deactivate_object(b"obj").unwrap();
    assert_eq!(Arc::strong_count(&second), 1);
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
}

#[test]
fn every_manager_state_between_two_requests() {
    let t = tree();
    let root = t.root();
    let s = servant("s");
    let key = root
        .id_to_reference(&root.activate_object(s.clone()).unwrap())
        .unwrap();
    let mut memo = DispatchMemo::new();
    reaches(&t, &key, &mut memo, &s);
    root.manager().hold_requests().unwrap();
    assert_eq!(decide(&t, &key, &mut memo), Decision::Hold);
    root.manager().activate().unwrap();
    reaches(&t, &key, &mut memo, &s);
    root.manager().discard_requests().unwrap();
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::TRANSIENT_DISCARDING)
    );
    root.manager().activate().unwrap();
    reaches(&t, &key, &mut memo, &s);
    root.manager().deactivate().unwrap();
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJ_ADAPTER_INACTIVE)
    );
}

#[test]
fn a_destroyed_poa_and_its_successor_between_two_requests() {
    let t = tree();
    let persistent = [
        Policy::Lifespan(Lifespan::Persistent),
        Policy::IdAssignment(IdAssignment::UserId),
    ];
    let p = child(&t, "p", &persistent);
    let first = servant("first");
    p.activate_object_with_id(b"obj", first.clone()).unwrap();
    let key = p.id_to_reference(b"obj").unwrap();
    let mut memo = DispatchMemo::new();
    reaches(&t, &key, &mut memo, &first);
    p.destroy().unwrap();
    assert_eq!(Arc::strong_count(&first), 1);
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
    // Re-created under the same path: the persistent key reaches the new incarnation.
    let p = child(&t, "p", &persistent);
    let second = servant("second");
    p.activate_object_with_id(b"obj", second.clone()).unwrap();
    reaches(&t, &key, &mut memo, &second);

    // A transient POA destroyed while remembered.
    let q = child(&t, "q", &[]);
    let s = servant("s");
    let key = q
        .id_to_reference(&q.activate_object(s.clone()).unwrap())
        .unwrap();
    reaches(&t, &key, &mut memo, &s);
    q.destroy().unwrap();
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
}

#[test]
fn default_servants_between_two_requests() {
    let t = tree();
    let p = child(
        &t,
        "d",
        &[
            Policy::IdAssignment(IdAssignment::UserId),
            Policy::IdUniqueness(IdUniqueness::MultipleId),
            Policy::RequestProcessing(RequestProcessing::UseDefaultServant),
        ],
    );
    let key = p.create_reference_with_id(b"any").unwrap();
    let mut memo = DispatchMemo::new();
    assert_eq!(
        decide(&t, &key, &mut memo),
        Decision::Reject(SystemException::OBJ_ADAPTER_NO_DEFAULT_SERVANT)
    );
    let d1 = servant("d1");
    p.set_servant(d1.clone()).unwrap();
    reaches(&t, &key, &mut memo, &d1);
    let d2 = servant("d2");
    p.set_servant(d2.clone()).unwrap();
    reaches(&t, &key, &mut memo, &d2);
    // An active object under that id now takes precedence over the default servant.
    let own = servant("own");
    p.activate_object_with_id(b"any", own.clone()).unwrap();
    reaches(&t, &key, &mut memo, &own);
    match decide(&t, &key, &mut memo) {
        Decision::Dispatch(target) => assert!(!target.default_servant),
        other => panic!("{other:?}"),
    }
    p.deactivate_object(b"any").unwrap();
    reaches(&t, &key, &mut memo, &d2);
}

#[test]
fn well_known_keys_of_two_trees_are_not_confused() {
    let (t1, t2) = (tree(), tree_with(7));
    let (s1, s2) = (servant("one"), servant("two"));
    t1.register_well_known(b"NameService", s1.clone()).unwrap();
    t2.register_well_known(b"NameService", s2.clone()).unwrap();
    let mut memo = DispatchMemo::new();
    reaches(&t1, b"NameService", &mut memo, &s1);
    reaches(&t2, b"NameService", &mut memo, &s2);
    reaches(&t1, b"NameService", &mut memo, &s1);
    t1.unregister_well_known(b"NameService");
    assert_eq!(
        decide(&t1, b"NameService", &mut memo),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
}

#[test]
fn an_objects_own_priority_is_remembered_with_its_servant() {
    let declared = |p| PriorityModelPolicy {
        model: PriorityModel::ServerDeclared,
        server_priority: p,
    };
    let t = tree();
    let p = child(
        &t,
        "rt",
        &[
            Policy::IdAssignment(IdAssignment::UserId),
            Policy::PriorityModel(declared(5)),
        ],
    );
    let s = servant("s");
    p.activate_object_with_id_and_priority(b"obj", s.clone(), 20)
        .unwrap();
    let key = p.id_to_reference(b"obj").unwrap();
    let mut memo = DispatchMemo::new();
    for _ in 0..2 {
        match decide(&t, &key, &mut memo) {
            Decision::Dispatch(target) => assert_eq!(target.priority_model, declared(20)),
            other => panic!("{other:?}"),
        }
    }
    // Reactivated without a priority of its own: the POA's.
    p.deactivate_object(b"obj").unwrap();
    p.activate_object_with_id(b"obj", s).unwrap();
    match decide(&t, &key, &mut memo) {
        Decision::Dispatch(target) => assert_eq!(target.priority_model, declared(5)),
        other => panic!("{other:?}"),
    }
}
