//! Tests of the object adapter. `suite` holds the behaviour every active object map strategy must
//! show; `aom_suite!` runs each of its tests once per strategy.

use std::sync::Arc;

use super::*;

mod key;
mod manager;
mod memo;
mod policy;
mod suite;
mod tree;

/// Servants in tests: named, compared by identity where it matters.
pub(super) type S = Arc<str>;

pub(super) fn servant(name: &str) -> S {
    Arc::from(name)
}

/// A tree with a fixed instance id and its RootPOA's manager active.
pub(super) fn tree_with(instance: u64) -> PoaTree<S> {
    let t = PoaTree::with_instance_id(instance);
    t.root().manager().activate().unwrap();
    t
}

pub(super) fn tree() -> PoaTree<S> {
    tree_with(0x0123_4567_89ab_cdef)
}

/// A child of the RootPOA sharing its (active) manager.
pub(super) fn child(t: &PoaTree<S>, name: &str, policies: &[Policy]) -> Poa<S> {
    let root = t.root();
    root.create_poa(name, Some(root.manager().clone()), policies)
        .unwrap()
}

/// The servant a key dispatches to, if it dispatches.
pub(super) fn dispatched(t: &PoaTree<S>, key: &[u8]) -> Option<S> {
    match t.dispatch_decision(key) {
        Decision::Dispatch(target) => Some(target.servant),
        _ => None,
    }
}

/// Asserts the key reaches exactly this servant (by identity).
#[track_caller]
pub(super) fn assert_reaches(t: &PoaTree<S>, key: &[u8], s: &S) {
    match t.dispatch_decision(key) {
        Decision::Dispatch(target) => assert!(
            Arc::ptr_eq(&target.servant, s),
            "reached {:?}, expected {:?}",
            target.servant,
            s
        ),
        other => panic!("expected dispatch to {s:?}, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn assert_not_exist(t: &PoaTree<S>, key: &[u8]) {
    assert_eq!(
        t.dispatch_decision(key),
        Decision::Reject(SystemException::OBJECT_NOT_EXIST)
    );
}

macro_rules! aom_suite {
    ($($module:ident => $strategy:expr),* $(,)?) => {$(
        mod $module {
            use super::super::AomStrategy;
            use super::suite;
            const STRATEGY: AomStrategy = $strategy;
            aom_suite!(@tests
                activate_and_dispatch,
                system_id_key_stale_after_reactivation,
                user_id_key_reaches_reactivated_object,
                forged_key_never_reaches_another_object,
                activate_object_wrong_policy,
                activate_object_with_id_exceptions,
                deactivate_object_exceptions,
                servant_to_id_rules,
                servant_to_reference_rules,
                reference_to_servant_and_id,
                id_to_servant_and_reference,
                create_reference_then_activate,
                default_servant,
                non_retain_default_servant,
                transient_key_from_other_instance,
                persistent_key_after_restart,
                persistent_system_id_after_restart,
                persistent_poa_recreated_in_process,
                destroyed_poa_index_reused,
                many_objects,
                concurrent_lookups_and_activations,
                reused_slot_never_resolves_an_earlier_key,
                concurrent_churn_never_reaches_another_servant,
                object_priorities_follow_their_entries,
            );
        }
    )*};
    (@tests $($test:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            suite::$test(STRATEGY)
        }
    )*};
}

aom_suite! {
    active_demux => AomStrategy::ActiveDemux,
    linear => AomStrategy::Linear,
    dynamic_hash => AomStrategy::DynamicHash,
}

#[test]
fn arc_identity_is_the_allocation() {
    let a = servant("a");
    let a2 = a.clone();
    let b = servant("a");
    assert_eq!(a.identity(), a2.identity());
    assert_ne!(a.identity(), b.identity());
    let d: Arc<dyn std::fmt::Debug + Send + Sync> = Arc::new(5u8);
    assert_eq!(d.identity(), d.clone().identity());
}

#[test]
fn poa_errors_name_their_system_exceptions() {
    assert_eq!(
        PoaError::Destroyed.system_exception(),
        Some(SystemException::OBJECT_NOT_EXIST)
    );
    assert_eq!(
        PoaError::BadParam("x").system_exception().map(|e| e.kind),
        Some(SystemExceptionKind::BAD_PARAM)
    );
    assert_eq!(PoaError::ObjectNotActive.system_exception(), None);
}
