//! Policy lists: defaults, the CORBA combination rules, and which index InvalidPolicy names.

use super::*;

use IdAssignment::*;
use IdUniqueness::*;
use ImplicitActivation::*;
use Lifespan::*;
use RequestProcessing::*;
use ServantRetention::*;

#[test]
fn defaults_and_root() {
    let d = Policies::from_list(&[]).unwrap();
    assert_eq!(d, Policies::default());
    assert_eq!(d.lifespan, Transient);
    assert_eq!(d.id_assignment, SystemId);
    assert_eq!(d.id_uniqueness, UniqueId);
    assert_eq!(d.implicit_activation, NoImplicit);
    assert_eq!(d.servant_retention, Retain);
    assert_eq!(d.request_processing, UseActiveObjectMapOnly);
    assert_eq!(d.aom, AomStrategy::ActiveDemux);
    let r = Policies::root();
    assert_eq!(r.implicit_activation, Implicit);
    assert_eq!(
        r,
        Policies {
            implicit_activation: Implicit,
            ..d
        }
    );
    assert_eq!(*tree().root().policies(), r);
}

fn invalid(list: &[Policy]) -> Option<u16> {
    match Policies::from_list(list) {
        Ok(_) => None,
        Err(PoaError::InvalidPolicy { index }) => Some(index),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn implicit_activation_requires_system_id_and_retain() {
    let imp = Policy::ImplicitActivation(Implicit);
    assert_eq!(invalid(&[imp]), None);
    assert_eq!(invalid(&[imp, Policy::IdAssignment(UserId)]), Some(1));
    assert_eq!(invalid(&[Policy::IdAssignment(UserId), imp]), Some(1));
    assert_eq!(
        invalid(&[
            Policy::RequestProcessing(UseDefaultServant),
            Policy::IdUniqueness(MultipleId),
            Policy::ServantRetention(NonRetain),
            imp,
        ]),
        Some(3)
    );
}

#[test]
fn active_object_map_only_requires_retain() {
    // NON_RETAIN with the default USE_ACTIVE_OBJECT_MAP_ONLY: NON_RETAIN is to blame.
    assert_eq!(invalid(&[Policy::ServantRetention(NonRetain)]), Some(0));
    assert_eq!(
        invalid(&[
            Policy::Lifespan(Persistent),
            Policy::ServantRetention(NonRetain),
            Policy::RequestProcessing(UseActiveObjectMapOnly),
        ]),
        Some(2),
        "both listed: the later one breaks the rule"
    );
    assert_eq!(
        invalid(&[
            Policy::RequestProcessing(UseActiveObjectMapOnly),
            Policy::ServantRetention(NonRetain),
        ]),
        Some(1)
    );
}

#[test]
fn default_servant_requires_multiple_id() {
    assert_eq!(
        invalid(&[Policy::RequestProcessing(UseDefaultServant)]),
        Some(0)
    );
    assert_eq!(
        invalid(&[
            Policy::IdUniqueness(MultipleId),
            Policy::RequestProcessing(UseDefaultServant)
        ]),
        None
    );
    assert_eq!(
        invalid(&[
            Policy::RequestProcessing(UseDefaultServant),
            Policy::IdUniqueness(UniqueId)
        ]),
        Some(1)
    );
}

#[test]
fn servant_managers_are_not_supported() {
    assert_eq!(
        invalid(&[
            Policy::Lifespan(Persistent),
            Policy::RequestProcessing(UseServantManager)
        ]),
        Some(1)
    );
}

#[test]
fn duplicates_conflict_only_with_different_values() {
    let p = Policy::Lifespan(Persistent);
    assert_eq!(invalid(&[p, p]), None);
    assert_eq!(invalid(&[p, Policy::Lifespan(Transient)]), Some(1));
    assert_eq!(
        invalid(&[
            Policy::ActiveObjectMap(AomStrategy::Linear),
            Policy::ActiveObjectMap(AomStrategy::DynamicHash)
        ]),
        Some(1)
    );
    // The first offending index wins when there are several.
    assert_eq!(
        invalid(&[
            Policy::ServantRetention(NonRetain),
            p,
            Policy::Lifespan(Transient)
        ]),
        Some(0)
    );
}

#[test]
fn every_combination_against_the_rules() {
    // All 96 combinations of explicit values, checked against the rules written plainly.
    let mut valid = 0;
    for l in [Transient, Persistent] {
        for a in [SystemId, UserId] {
            for u in [UniqueId, MultipleId] {
                for i in [Implicit, NoImplicit] {
                    for r in [Retain, NonRetain] {
                        for p in [UseActiveObjectMapOnly, UseDefaultServant, UseServantManager] {
                            let list = [
                                Policy::Lifespan(l),
                                Policy::IdAssignment(a),
                                Policy::IdUniqueness(u),
                                Policy::ImplicitActivation(i),
                                Policy::ServantRetention(r),
                                Policy::RequestProcessing(p),
                            ];
                            let ok = p != UseServantManager
                                && !(i == Implicit && (a == UserId || r == NonRetain))
                                && !(p == UseActiveObjectMapOnly && r == NonRetain)
                                && !(p == UseDefaultServant && u == UniqueId);
                            let got = Policies::from_list(&list);
                            assert_eq!(got.is_ok(), ok, "{list:?}");
                            if let Ok(got) = got {
                                valid += 1;
                                assert_eq!(
                                    (got.lifespan, got.id_assignment, got.id_uniqueness),
                                    (l, a, u)
                                );
                                assert_eq!(
                                    (
                                        got.implicit_activation,
                                        got.servant_retention,
                                        got.request_processing
                                    ),
                                    (i, r, p)
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // 11 per lifespan: the published tables of valid combinations less their servant-manager
    // rows (6 with USE_ACTIVE_OBJECT_MAP_ONLY, 5 with USE_DEFAULT_SERVANT).
    assert_eq!(valid, 2 * 11);
}

#[test]
fn create_poa_reports_invalid_policy() {
    let t = tree();
    assert_eq!(
        t.root()
            .create_poa(
                "bad",
                None,
                &[
                    Policy::IdAssignment(UserId),
                    Policy::ImplicitActivation(Implicit)
                ]
            )
            .unwrap_err(),
        PoaError::InvalidPolicy { index: 1 }
    );
    assert!(t.root().children().is_empty(), "nothing created");
}
