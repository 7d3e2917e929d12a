//! RT-CORBA priorities per POA and per object (RT-CORBA 1.2 `PriorityModelPolicy` at POA
//! creation, `RTPortableServer::POA`'s `*_with_priority` operations): in one server ORB, a
//! SERVER_DECLARED POA's objects run at their own priority or the POA's whatever their
//! clients', while a CLIENT_PROPAGATED POA's run at their clients'; each reference's
//! `TAG_POLICIES` says which; a client picks the band and lane endpoint of the declared
//! priority and sends no priority of its own; bad priorities are refused.
//!
//! Every ORB maps no native priorities (`-ORBpriorityMapping off`): the mapping is per
//! process, and these tests are about which priority and lane a request gets.

mod rt_common;

use orb::cdr::{ByteOrder, Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::iop::{ComponentId, Ior};
use orb::poa::{AomStrategy, ImplicitActivation, PoaError, Policy};
use orb::rt::{PriorityModel, PriorityModelPolicy};
use orb::servant::Servant;
use orb::{ObjectRef, Orb, OrbError, OrbPoa};
use std::any::Any;
use std::sync::Arc;

use rt_common::*;

const ID: &str = "IDL:Test/PoaPrio:1.0";

/// `whoami` answers who serves it ([`Who`]).
struct Prio;

impl Servant for Prio {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID
    }
    fn dispatch(
        &self,
        operation: &str,
        _args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        if operation != "whoami" {
            return Err(SystemException::bad_operation());
        }
        Who::here().write(reply)?;
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn declared(p: i16) -> PriorityModelPolicy {
    PriorityModelPolicy {
        model: PriorityModel::ServerDeclared,
        server_priority: p,
    }
}

fn propagated(p: i16) -> PriorityModelPolicy {
    PriorityModelPolicy {
        model: PriorityModel::ClientPropagated,
        server_priority: p,
    }
}

/// A child of the RootPOA sharing its (active) manager, with `policies`.
fn child(server: &Orb, name: &str, policies: &[Policy]) -> OrbPoa {
    let root = server.root_poa();
    root.create_poa(name, Some(root.manager().clone()), policies)
        .unwrap()
}

/// The priority model `obj`'s IOR declares (its first IIOP profile's `TAG_POLICIES`).
fn declared_model(obj: &ObjectRef) -> Option<PriorityModelPolicy> {
    iiop_profile(obj)
        .component(ComponentId::POLICIES)
        .map(|c| PriorityModelPolicy::from_component_data(&c.data).expect("a priority model"))
}

/// The server of the lane tests: lanes 0, 10000 and 20000; a SERVER_DECLARED POA at 10000
/// holding an object of its own priority 20000, one without (10000), and one made by
/// `create_reference_with_id_and_priority` then activated at 20000; a CLIENT_PROPAGATED POA
/// holding one object.
struct TwoPoas {
    server: Orb,
    own: ObjectRef,
    poa_default: ObjectRef,
    made_first: ObjectRef,
    propagated: ObjectRef,
}

fn two_poas() -> TwoPoas {
    let server = orb("-ORBlanes 0:1,10000:1,20000:1");
    let sd = child(
        &server,
        "declared",
        &[Policy::PriorityModel(declared(10000))],
    );
    let cp = child(
        &server,
        "propagated",
        &[Policy::PriorityModel(propagated(0))],
    );
    let own = server
        .activate_with_priority(&sd, Arc::new(Prio), 20000)
        .unwrap();
    let poa_default = server.activate(&sd, Arc::new(Prio)).unwrap();
    let id = sd.create_reference().unwrap();
    let id = sd.reference_to_id(&id).unwrap();
    let made_first = server
        .create_reference_with_id_and_priority(&sd, &id, ID, 20000)
        .unwrap();
    server
        .activate_with_id_and_priority(&sd, &id, Arc::new(Prio), 20000)
        .unwrap();
    let propagated = server.activate(&cp, Arc::new(Prio)).unwrap();
    TwoPoas {
        server,
        own,
        poa_default,
        made_first,
        propagated,
    }
}

#[test]
fn each_reference_declares_its_poas_model_and_its_objects_priority() {
    let s = two_poas();
    assert_eq!(declared_model(&s.own), Some(declared(20000)));
    assert_eq!(declared_model(&s.poa_default), Some(declared(10000)));
    assert_eq!(declared_model(&s.made_first), Some(declared(20000)));
    // With lanes, every reference says how its requests are prioritised.
    assert_eq!(declared_model(&s.propagated), Some(propagated(0)));
    // A reference made again from the active object's id declares its priority too.
    let sd = s.server.root_poa().find_poa("declared").unwrap();
    let id = sd
        .reference_to_id(&iiop_profile(&s.own).object_key)
        .unwrap();
    let again = s.server.id_to_reference(&sd, &id, ID).unwrap();
    assert_eq!(declared_model(&again), Some(declared(20000)));
    s.server.shutdown(true);
}

#[test]
fn declared_objects_run_at_their_priority_whatever_the_clients_and_propagated_at_the_clients() {
    let s = two_poas();
    // (object, client thread priority, priority the servant sees, lane that runs it)
    let cases = [
        (&s.own, Some(0), 20000, 20000),
        (&s.own, Some(25000), 20000, 20000),
        (&s.own, None, 20000, 20000),
        (&s.poa_default, Some(0), 10000, 10000),
        (&s.poa_default, Some(25000), 10000, 10000),
        (&s.made_first, Some(0), 20000, 20000),
        (&s.made_first, Some(25000), 20000, 20000),
        (&s.propagated, Some(0), 0, 0),
        (&s.propagated, Some(25000), 25000, 20000),
        (&s.propagated, Some(12000), 12000, 10000),
        (&s.propagated, None, 0, 0),
    ];
    // A client without bands (the server's own address, whose reader hands each request
    // to its lane) and one with bands (the lane endpoint of the call's priority, whose
    // thread runs it as it reads it).
    for client_args in ["", "-ORBpriorityBands 0-9999,10000-19999,20000-32767"] {
        let client = orb(client_args);
        for (obj, at, priority, lane) in cases {
            let obj = client_ref(&client, obj);
            // Called from a thread of its own at that priority, as an application would.
            let who = std::thread::scope(|t| t.spawn(|| whoami_at(&obj, at)).join().unwrap());
            let what = format!(
                "{:?} at {at:?}, client {client_args:?}, served by {}",
                declared_model(&obj),
                who.thread
            );
            assert_eq!((who.priority, who.lane), (priority, lane), "{what}");
            assert!(
                who.thread.starts_with(&format!("orb-lane-{lane}-")),
                "{what}"
            );
            // A banded client goes to the endpoint of the lane of the declared priority
            // (not of its thread's): that lane's connection thread runs the request.
            let banded = !client_args.is_empty();
            let model = declared_model(&obj).map(|m| m.model);
            if banded && model == Some(PriorityModel::ServerDeclared) {
                assert!(
                    who.thread.starts_with(&format!("orb-lane-{lane}-conn-")),
                    "{what}"
                );
            }
        }
    }
    s.server.shutdown(true);
}

/// `obj`'s reference with its `TAG_POLICIES` replaced by one declaring `model`.
fn claiming(client: &Orb, obj: &ObjectRef, model: PriorityModelPolicy) -> ObjectRef {
    let mut profile = iiop_profile(obj);
    profile
        .components
        .retain(|c| c.tag != ComponentId::POLICIES);
    profile.components.push(model.to_component());
    client.reference_from_ior(Ior {
        type_id: ID.to_owned(),
        profiles: vec![profile.to_tagged(ByteOrder::NATIVE).unwrap()],
    })
}

#[test]
fn a_client_sends_no_priority_to_a_server_declared_reference() {
    let s = two_poas();
    // The CLIENT_PROPAGATED object behind a reference that claims SERVER_DECLARED 20000,
    // called from a thread at 25000: the servant runs at the priority its request carries,
    // or, carrying none, at its POA's (0) on the server's own address, or at the lane's on
    // a lane's endpoint — where a banded client sends it: to the lane of the declared
    // priority, not of its thread's.
    for (client_args, runs_at) in [("", 0), ("-ORBpriorityBands 0-9999,10000-32767", 20000)] {
        let client = orb(client_args);
        let obj = claiming(&client, &s.propagated, declared(20000));
        let who = whoami_at(&obj, Some(25000));
        assert_eq!(
            (who.priority, who.lane),
            (runs_at, runs_at),
            "client {client_args:?}, served by {}",
            who.thread
        );
    }
    s.server.shutdown(true);
}

#[test]
fn without_lanes_only_poas_and_objects_with_their_own_model_declare_one() {
    let server = orb("");
    let root = server.root_poa();
    let plain = server.activate(&root, Arc::new(Prio)).unwrap();
    // An ordinary reference stays as it was: no TAG_POLICIES.
    assert_eq!(declared_model(&plain), None);
    let client = orb("");
    for strategy in [
        AomStrategy::ActiveDemux,
        AomStrategy::Linear,
        AomStrategy::DynamicHash,
    ] {
        let sd = child(
            &server,
            &format!("declared-{strategy:?}"),
            &[
                Policy::ActiveObjectMap(strategy),
                Policy::PriorityModel(declared(300)),
            ],
        );
        let own = server
            .activate_with_priority(&sd, Arc::new(Prio), 4000)
            .unwrap();
        let poa_default = server.activate(&sd, Arc::new(Prio)).unwrap();
        assert_eq!(declared_model(&own), Some(declared(4000)), "{strategy:?}");
        assert_eq!(declared_model(&poa_default), Some(declared(300)));
        // Served by the server's own threads, at the declared priorities.
        let own = client_ref(&client, &own);
        let poa_default = client_ref(&client, &poa_default);
        for at in [Some(5), Some(32767), None] {
            assert_eq!(whoami_at(&own, at).priority, 4000, "{strategy:?} at {at:?}");
            assert_eq!(whoami_at(&poa_default, at).priority, 300, "{strategy:?}");
        }
        // The RootPOA's objects keep the ORB's model: their client's priority.
        let plain = client_ref(&client, &plain);
        assert_eq!(whoami_at(&plain, Some(5)).priority, 5);
        assert_eq!(whoami_at(&plain, None).priority, 0);
    }
    server.shutdown(true);
}

#[test]
fn poas_created_without_a_model_have_the_orbs() {
    let server = orb("-ORBpriorityModel server -ORBserverPriority 50");
    let poa = child(&server, "inherits", &[]);
    assert_eq!(poa.priority_model(), declared(50));
    // SERVER_DECLARED by default: its objects may have priorities of their own.
    let own = server
        .activate_with_priority(&poa, Arc::new(Prio), 7000)
        .unwrap();
    let plain = server.activate(&poa, Arc::new(Prio)).unwrap();
    let client = orb("");
    assert_eq!(
        whoami_at(&client_ref(&client, &own), Some(1)).priority,
        7000
    );
    assert_eq!(
        whoami_at(&client_ref(&client, &plain), Some(1)).priority,
        50
    );
    // A POA's own policy overrides the ORB's.
    let cp = child(&server, "own", &[Policy::PriorityModel(propagated(0))]);
    let obj = server.activate(&cp, Arc::new(Prio)).unwrap();
    assert_eq!(declared_model(&obj), None);
    assert_eq!(whoami_at(&client_ref(&client, &obj), Some(1)).priority, 1);
    server.shutdown(true);
}

fn wrong_policy(r: Result<ObjectRef, OrbError>) -> bool {
    matches!(r, Err(OrbError::Poa(PoaError::WrongPolicy { .. })))
}

fn bad_param(r: Result<ObjectRef, OrbError>) -> bool {
    matches!(r, Err(OrbError::Poa(PoaError::BadParam(_))))
}

#[test]
fn bad_priorities_and_priorities_for_client_propagated_poas_are_refused() {
    let server = orb("");
    let sd = child(&server, "declared", &[Policy::PriorityModel(declared(10))]);
    // Not a priority: BAD_PARAM, saying what priorities are.
    for p in [-1, i16::MIN] {
        let r = server.activate_with_priority(&sd, Arc::new(Prio), p);
        match r {
            Err(OrbError::Poa(e @ PoaError::BadParam(_))) => {
                assert!(e.to_string().contains("0 to 32767"), "{e}")
            }
            other => panic!("priority {p}: {other:?}"),
        }
        assert!(bad_param(server.create_reference_with_priority(&sd, ID, p)));
        assert!(bad_param(server.activate_with_id_and_priority(
            &sd,
            b"x",
            Arc::new(Prio),
            p
        )));
    }
    assert_eq!(sd.active_object_count(), 0);
    // A CLIENT_PROPAGATED POA (the ORB's default, or its own policy): WrongPolicy, naming
    // the model needed.
    let cp = child(&server, "propagated", &[]);
    let r = server.activate_with_priority(&cp, Arc::new(Prio), 10);
    match &r {
        Err(OrbError::Poa(e @ PoaError::WrongPolicy { .. })) => {
            assert!(e.to_string().contains("SERVER_DECLARED"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let cp_own = child(
        &server,
        "propagated-own",
        &[Policy::PriorityModel(propagated(5))],
    );
    assert!(wrong_policy(
        server.create_reference_with_priority(&cp_own, ID, 10)
    ));
    let user_ids = child(
        &server,
        "propagated-user-ids",
        &[Policy::IdAssignment(orb::poa::IdAssignment::UserId)],
    );
    assert!(wrong_policy(
        server.create_reference_with_id_and_priority(&user_ids, b"x", ID, 10)
    ));
    assert!(wrong_policy(server.activate_with_id_and_priority(
        &user_ids,
        b"x",
        Arc::new(Prio),
        10
    )));
    // The RootPOA (CLIENT_PROPAGATED here, and IMPLICIT_ACTIVATION) and a SERVER_DECLARED
    // POA with IMPLICIT_ACTIVATION: an object activated implicitly would have no priority.
    assert!(wrong_policy(server.activate_with_priority(
        &server.root_poa(),
        Arc::new(Prio),
        10
    )));
    let implicit = child(
        &server,
        "declared-implicit",
        &[
            Policy::ImplicitActivation(ImplicitActivation::Implicit),
            Policy::PriorityModel(declared(10)),
        ],
    );
    assert!(wrong_policy(server.activate_with_priority(
        &implicit,
        Arc::new(Prio),
        10
    )));
    // A POA policy whose priority is not one: InvalidPolicy at its index.
    let root = server.root_poa();
    let e = root
        .create_poa(
            "bad",
            None,
            &[
                Policy::ActiveObjectMap(AomStrategy::Linear),
                Policy::PriorityModel(declared(-5)),
            ],
        )
        .unwrap_err();
    assert_eq!(e, PoaError::InvalidPolicy { index: 1 });
    server.shutdown(true);
}

#[test]
fn server_declared_objects_are_not_called_directly_in_their_own_process() {
    // A process calling its own objects, collocation allowed (as by default).
    let server = orb("-ORBcollocation direct");
    let sd = child(
        &server,
        "declared",
        &[Policy::PriorityModel(declared(10000))],
    );
    let cp = child(
        &server,
        "propagated",
        &[Policy::PriorityModel(propagated(0))],
    );
    let declared_obj = server.activate(&sd, Arc::new(Prio)).unwrap();
    let own_priority = server
        .activate_with_priority(&sd, Arc::new(Prio), 20000)
        .unwrap();
    let propagated_obj = server.activate(&cp, Arc::new(Prio)).unwrap();
    // What a typed reference calls directly (`codegen::collocated`): the client-propagated
    // object's servant, never a server-declared one's.
    assert!(propagated_obj.collocated_servant().is_some());
    assert!(declared_obj.collocated_servant().is_none());
    assert!(own_priority.collocated_servant().is_none());
    // Their calls go through the server, at the declared priority, whatever this thread's.
    assert_eq!(whoami_at(&declared_obj, Some(3)).priority, 10000);
    assert_eq!(whoami_at(&own_priority, None).priority, 20000);
    assert_eq!(whoami_at(&propagated_obj, Some(3)).priority, 3);
    server.shutdown(true);
}
