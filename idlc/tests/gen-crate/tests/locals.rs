//! Local interfaces inside data and in local operations, abstract interfaces carrying an
//! object reference or a value, and native types (locals.idl): what they hold, and that what
//! must not travel is refused rather than sent.

use idlc_tests::locals::m::{self, Cookie, Loc2, Uses, UsesRef, L, S, V};
use orb::cdr::{ByteOrder, CdrEncode, Encoder};
use orb::codegen::{AbstractRef, LocalRef, Native, ValueHandle};
use orb::exception::SystemException;
use orb::{Orb, OrbOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Doubler;
impl L for Doubler {
    fn f(&self, x: i32) -> Result<i32, SystemException> {
        Ok(2 * x)
    }
}

/// A local object whose operations take a native type and a struct holding a local object.
struct Keeper {
    cookies: Mutex<Vec<Cookie>>,
    held: S,
}
impl Loc2 for Keeper {
    fn take(&self, c: &Cookie) -> Result<(), SystemException> {
        self.cookies.lock().unwrap().push(c.clone());
        Ok(())
    }
    fn get(&self) -> Result<S, SystemException> {
        Ok(self.held.clone())
    }
    fn both(&self, x: &AbstractRef) -> Result<AbstractRef, SystemException> {
        Ok(x.clone())
    }
}

#[test]
fn local_objects_and_native_values_live_in_data_and_local_calls_and_never_travel() {
    let doubler: LocalRef<dyn L> = LocalRef::new(Arc::new(Doubler));
    let keeper = Keeper {
        cookies: Mutex::new(Vec::new()),
        held: S {
            loc: doubler.clone(),
            k: 3,
        },
    };
    let local: LocalRef<dyn Loc2> = LocalRef::new(Arc::new(keeper));
    let s = local.get().unwrap().get().unwrap();
    assert_eq!(s.loc, doubler);
    assert_eq!(s.loc.get().unwrap().f(s.k).unwrap(), 6);
    local
        .get()
        .unwrap()
        .take(&Native::new(String::from("opaque")))
        .unwrap();

    // Marshalling a struct that holds a local object fails, naming why; nothing is written
    // past what came before it.
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    let e = s.encode(&mut enc).unwrap_err();
    assert!(e.to_string().contains("local interface"), "{e}");
    assert!(Native::new(1u8)
        .encode(&mut Encoder::new(ByteOrder::BigEndian))
        .is_err());
}

struct Passer;
impl Uses for Passer {
    fn pass(&self, x: &AbstractRef) -> Result<AbstractRef, SystemException> {
        Ok(x.clone())
    }
}

fn orb() -> Orb {
    Orb::init(OrbOptions {
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .unwrap()
}

#[test]
fn an_abstract_interface_parameter_carries_a_reference_then_a_value_over_the_wire() {
    orb::codegen::register_value_factory::<V>();
    let server = orb();
    let obj = server
        .activate(&server.root_poa(), m::uses::servant(Passer))
        .unwrap();
    let client = orb();
    let obj = client
        .string_to_object(&server.object_to_string(&obj).unwrap())
        .unwrap();
    let uses = UsesRef::narrow(&obj).unwrap().unwrap();

    // An object reference: comes back as one, to the same object.
    let back = uses.pass(&AbstractRef::Object(obj.clone())).unwrap();
    let AbstractRef::Object(o) = back else {
        panic!("a reference went in, {back:?} came out");
    };
    assert!(UsesRef::narrow(&o).unwrap().is_some());

    // A value of a type that supports the interface: comes back as that value.
    let value = AbstractRef::Value(Some(ValueHandle::from_value(V { n: 12 }).erase()));
    let back = uses.pass(&value).unwrap();
    assert_eq!(back, value);
    let AbstractRef::Value(Some(v)) = back else {
        panic!("a value went in");
    };
    assert_eq!(v.downcast::<V>().unwrap().get().unwrap().n, 12);

    // Null both ways.
    assert_eq!(
        uses.pass(&AbstractRef::Value(None)).unwrap(),
        AbstractRef::Value(None)
    );
    let AbstractRef::Object(nil) = uses.pass(&AbstractRef::default()).unwrap() else {
        panic!("a nil reference went in");
    };
    assert!(nil.is_nil());
}
