//! POA manager states and transitions, and the dispatch decision in each state.

use super::*;
use crate::exception::minor::OMG_VMCID;
use crate::giop::CompletionStatus;

#[test]
fn starts_holding_and_moves_freely_until_inactive() {
    let m = PoaManager::new();
    assert_eq!(m.state(), ManagerState::Holding);
    m.activate().unwrap();
    assert_eq!(m.state(), ManagerState::Active);
    m.discard_requests().unwrap();
    assert_eq!(m.state(), ManagerState::Discarding);
    m.hold_requests().unwrap();
    assert_eq!(m.state(), ManagerState::Holding);
    m.hold_requests().unwrap();
    m.discard_requests().unwrap();
    m.activate().unwrap();
    m.activate().unwrap();
    assert_eq!(m.state(), ManagerState::Active);
    m.deactivate().unwrap();
    assert_eq!(m.state(), ManagerState::Inactive);
    // INACTIVE is final: every transition, deactivate included, is AdapterInactive.
    assert_eq!(m.activate(), Err(AdapterInactive));
    assert_eq!(m.hold_requests(), Err(AdapterInactive));
    assert_eq!(m.discard_requests(), Err(AdapterInactive));
    assert_eq!(m.deactivate(), Err(AdapterInactive));
    assert_eq!(m.state(), ManagerState::Inactive);
}

#[test]
fn clones_share_the_state_and_compare_equal() {
    let m = PoaManager::new();
    let m2 = m.clone();
    m2.activate().unwrap();
    assert_eq!(m.state(), ManagerState::Active);
    assert_eq!(m, m2);
    assert_ne!(m, PoaManager::new());
}

#[test]
fn new_poas_get_a_new_holding_manager_unless_given_one() {
    let t = tree();
    let root = t.root();
    let own = root.create_poa("own", None, &[]).unwrap();
    assert_ne!(own.manager(), root.manager());
    assert_eq!(own.manager().state(), ManagerState::Holding);
    let shared = root
        .create_poa("shared", Some(root.manager().clone()), &[])
        .unwrap();
    assert_eq!(shared.manager(), root.manager());
}

#[test]
fn dispatch_decision_in_each_state() {
    let t = tree();
    let m = PoaManager::new();
    let p1 = t.root().create_poa("p1", Some(m.clone()), &[]).unwrap();
    let p2 = t.root().create_poa("p2", Some(m.clone()), &[]).unwrap();
    let (a, b) = (servant("a"), servant("b"));
    let k1 = p1
        .id_to_reference(&p1.activate_object(a.clone()).unwrap())
        .unwrap();
    let k2 = p2
        .id_to_reference(&p2.activate_object(b.clone()).unwrap())
        .unwrap();
    let missing = p1.create_reference().unwrap();
    let check = |k: &[u8], expected: Decision<'_, S>| assert_eq!(t.dispatch_decision(k), expected);

    // Holding (new manager): queue, even for an object that is not active (it may be by then).
    check(&k1, Decision::Hold);
    check(&k2, Decision::Hold);
    check(&missing, Decision::Hold);
    // The lookup itself ignores the manager.
    assert!(Arc::ptr_eq(&t.key_to_servant(&k1).unwrap().servant, &a));

    m.activate().unwrap();
    assert_reaches(&t, &k1, &a);
    assert_reaches(&t, &k2, &b);
    assert_not_exist(&t, &missing);

    m.discard_requests().unwrap();
    check(&k1, Decision::Reject(SystemException::TRANSIENT_DISCARDING));
    check(&k2, Decision::Reject(SystemException::TRANSIENT_DISCARDING));
    assert_eq!(
        SystemException::TRANSIENT_DISCARDING,
        SystemException::new(
            SystemExceptionKind::TRANSIENT,
            OMG_VMCID | 1,
            CompletionStatus::No
        )
    );

    m.hold_requests().unwrap();
    check(&k1, Decision::Hold);

    m.deactivate().unwrap();
    check(&k1, Decision::Reject(SystemException::OBJ_ADAPTER_INACTIVE));
    check(&k2, Decision::Reject(SystemException::OBJ_ADAPTER_INACTIVE));
    assert_eq!(
        SystemException::OBJ_ADAPTER_INACTIVE.kind,
        SystemExceptionKind::OBJ_ADAPTER
    );

    // The RootPOA's manager is another one, still active; a key of a POA that is gone is
    // OBJECT_NOT_EXIST whatever the state of the manager it had.
    let r = t.root();
    let kr = r.servant_to_reference(&a).unwrap();
    assert_reaches(&t, &kr, &a);
    p1.destroy().unwrap();
    assert_not_exist(&t, &k1);
}
