//! `Builder::shared_units`: `units_user.idl` includes `units_base.idl`, reopens its module,
//! inherits its interface and uses its types; each definition is generated once, in the unit
//! of the file that makes it, and both units use the same Rust types. Calls go over a real ORB
//! (collocated and over TCP) through the inherited and the new operations.

use idlc_tests::units::units_base::shared::{
    self as base, counter::CountError, Color, Counter, CounterRef, Full, Point, Shape,
};
use idlc_tests::units::units_user::shared::Pair;
use idlc_tests::units::units_user::user::{self as user, meter::TraceError, Meter, MeterRef};
use orb::exception::SystemException;
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BASE_RS: &str = include_str!(concat!(env!("OUT_DIR"), "/units/units_base.rs"));
const USER_RS: &str = include_str!(concat!(env!("OUT_DIR"), "/units/units_user.rs"));

#[test]
fn each_definition_is_generated_once() {
    for def in [
        "pub struct Point",
        "pub enum Color",
        "pub struct Full",
        "pub enum Shape",
        "pub trait Counter",
        "pub struct CounterRef",
        "pub const LIMIT",
    ] {
        assert_eq!(BASE_RS.matches(def).count(), 1, "{def} in units_base.rs");
        assert!(!USER_RS.contains(def), "{def} repeated in units_user.rs");
    }
    assert!(USER_RS.contains("pub struct Pair") && USER_RS.contains("pub trait Meter"));
    assert!(
        !BASE_RS.contains("Pair"),
        "the base unit knows nothing of its user"
    );
    // The reopened module's new constant is computed from the base's.
    assert_eq!(user::TWICE, base::LIMIT * 2);
}

#[test]
fn both_units_use_the_same_types() {
    // A base Point in the user's struct: a compile error if the user had its own copy.
    let p = Point {
        x: 1,
        y: 2,
        c: Color::Green,
    };
    let pair = Pair {
        a: p.clone(),
        b: p.clone(),
        r: base::counter::Reading { value: 3 },
    };
    assert_eq!(pair.a, p);
    let err: TraceError = Full { limit: 1 }.into();
    assert!(matches!(err, TraceError::Full(Full { limit: 1 })));
}

struct MeterImpl {
    total: AtomicI32,
    peer: Mutex<CounterRef>,
}

impl Counter for MeterImpl {
    fn count(&self, p: &Point) -> Result<i32, CountError> {
        let n = self.total.fetch_add(p.x + p.y, Ordering::SeqCst) + p.x + p.y;
        if n > base::LIMIT * 10 {
            return Err(Full { limit: base::LIMIT }.into());
        }
        Ok(n)
    }
    fn total(&self) -> Result<i32, SystemException> {
        Ok(self.total.load(Ordering::SeqCst))
    }
    fn set_total(&self, value: i32) -> Result<(), SystemException> {
        self.total.store(value, Ordering::SeqCst);
        Ok(())
    }
}

impl Meter for MeterImpl {
    fn trace(&self, s: &Shape) -> Result<(base::Points, Color), TraceError> {
        match s {
            Shape::P(p) => Ok((vec![p.clone()], p.c)),
            Shape::Ps(ps) if ps.len() > base::LIMIT as usize => {
                Err(Full { limit: base::LIMIT }.into())
            }
            Shape::Ps(ps) => Ok((ps.clone(), ps.last().map_or(Color::Red, |p| p.c))),
        }
    }
    fn peer(&self) -> Result<CounterRef, SystemException> {
        Ok(self.peer.lock().unwrap().clone())
    }
}

fn orb(collocation: CollocationStrategy) -> Orb {
    Orb::init(OrbOptions {
        collocation,
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .expect("ORB")
}

#[test]
fn inherited_and_own_operations_across_units() {
    for (collocation, remote) in [
        (CollocationStrategy::Direct, false),
        (CollocationStrategy::ThruPoa, false),
        (CollocationStrategy::None, true),
    ] {
        let server = orb(collocation);
        let obj = server
            .activate(
                &server.root_poa(),
                user::meter::servant(MeterImpl {
                    total: AtomicI32::new(0),
                    peer: Mutex::new(CounterRef::nil()),
                }),
            )
            .expect("activate");
        let (client, obj) = if remote {
            let client = orb(collocation);
            let ior = server.object_to_string(&obj).expect("IOR");
            let obj = client.string_to_object(&ior).expect("string_to_object");
            (Some(client), obj)
        } else {
            (None, obj)
        };
        let meter = MeterRef::narrow(&obj).expect("narrow").expect("a Meter");
        let p = Point {
            x: 3,
            y: 4,
            c: Color::Green,
        };
        // Inherited from the base unit's interface, through the user unit's reference.
        assert_eq!(meter.count(&p).unwrap(), 7, "{collocation:?}");
        meter.set_total(65).unwrap();
        assert!(matches!(
            meter.count(&p),
            Err(CountError::Full(Full { limit: 7 }))
        ));
        // A reference to the derived object is a base reference too.
        let counter = CounterRef::narrow(&obj)
            .expect("narrow")
            .expect("a Counter");
        assert_eq!(counter.total().unwrap(), 72);
        // The user's own operation, with the base's types in and out.
        let (points, last) = meter.trace(&Shape::P(p.clone())).unwrap();
        assert_eq!((points, last), (vec![p.clone()], Color::Green));
        let many = Shape::Ps(vec![p.clone(); 8]);
        assert!(matches!(meter.trace(&many), Err(TraceError::Full(_))));
        assert!(meter.peer().unwrap().is_nil());
        drop(client);
    }
}

#[test]
fn a_typed_reference_goes_through_the_server_once_its_object_declares_a_priority() {
    use orb::poa::{IdAssignment, Lifespan, Policy};
    use orb::rt::{NativePriorityPolicy, PriorityModel, PriorityModelPolicy};
    // Under ThruPoa the POA is asked before each collocated call. A reference narrowed while
    // its object ran at its callers' priorities calls the servant directly; once the
    // object's POA is made again declaring a priority (same name, same persistent key), its
    // requests must run at that priority, in the server: the reference goes through the
    // transport to the ORB's own endpoint, and reaches the object active now.
    let server = Orb::init(OrbOptions {
        collocation: CollocationStrategy::ThruPoa,
        priority_mapping: NativePriorityPolicy::Off,
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .expect("ORB");
    let root = server.root_poa();
    let poa_with = |model, server_priority| {
        root.create_poa(
            "again",
            Some(root.manager().clone()),
            &[
                Policy::Lifespan(Lifespan::Persistent),
                Policy::IdAssignment(IdAssignment::UserId),
                Policy::PriorityModel(PriorityModelPolicy {
                    model,
                    server_priority,
                }),
            ],
        )
        .expect("POA")
    };
    let meter = |total| {
        user::meter::servant(MeterImpl {
            total: AtomicI32::new(total),
            peer: Mutex::new(CounterRef::nil()),
        })
    };
    let poa = poa_with(PriorityModel::ClientPropagated, 0);
    let first = server
        .activate_with_id(&poa, b"m", meter(1))
        .expect("activate");
    let typed = MeterRef::narrow(&first).expect("narrow").expect("a Meter");
    assert_eq!(first.check_collocated(), Ok(true));
    assert_eq!(typed.total().unwrap(), 1);

    poa.destroy().expect("destroy");
    let poa = poa_with(PriorityModel::ServerDeclared, 10000);
    let second = server
        .activate_with_id(&poa, b"m", meter(2))
        .expect("activate again");
    // (The same key: a reference to another would be OBJECT_NOT_EXIST here.)
    assert_eq!(first.check_collocated(), Ok(false));
    assert!(second.collocated_servant().is_none());
    // The servant active now answers (the first is gone from the POA), through the server.
    assert_eq!(typed.total().unwrap(), 2);
    server.shutdown(true);
}

/// Definitions of `pattern` in the generated files of directory `dir` under OUT_DIR.
fn definitions(dir: &str, pattern: &str) -> usize {
    let dir = std::path::Path::new(env!("OUT_DIR")).join(dir);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .matches(pattern)
                .count()
        })
        .sum()
}

#[test]
fn omniorb_idl_shared_defines_each_type_once() {
    // CosEventComm's PushSupplier reference: in every output that includes CosEventComm.idl
    // when each file stands alone (11 of them); once, in CosEventComm's unit, when they share.
    let pattern = "implementing IDL interface `CosEventComm::PushSupplier`";
    let alone = definitions("omniorb", pattern);
    assert!(alone > 5, "{alone}");
    assert_eq!(definitions("omniorb_shared", pattern), 1);
    let filter = "implementing IDL interface `CosNotifyFilter::Filter`";
    assert!(definitions("omniorb", filter) > 2);
    assert_eq!(definitions("omniorb_shared", filter), 1);
    // The shared units' references resolve: the event channel admin's proxy is a base
    // unit's consumer.
    fn consumer_of(
        p: &idlc_tests::omniorb_shared::cos_event_channel_admin::cos_event_channel_admin::ProxyPushConsumerRef,
    ) -> &dyn idlc_tests::omniorb_shared::cos_event_comm::cos_event_comm::PushConsumer {
        p
    }
    let _ = consumer_of;
}
