//! Collocated calls under `ThruPoa` see what the POA would say to a remote caller — a
//! deactivated object, a destroyed POA, a discarding or holding manager, an ORB that is gone —
//! at the first call after the change, even though a call with nothing changed skips the
//! lookup. Under `Direct` the POA is not consulted.

use orb::cdr::{Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::{CollocationStrategy, Orb, OrbOptions, Servant, ServantRef};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

struct Nothing;

impl Servant for Nothing {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Nothing:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        _operation: &str,
        _args: &mut Decoder<'_>,
        _reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        Err(SystemException::bad_operation())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn orb(strategy: CollocationStrategy) -> Orb {
    Orb::init(OrbOptions {
        collocation: strategy,
        ..OrbOptions::default()
    })
    .unwrap()
}

/// The exception a collocated call's check raises, if any (a check that lets the call go
/// lets it go directly: these objects declare no priority).
fn kind(r: Result<bool, SystemException>) -> Option<SystemExceptionKind> {
    match r {
        Ok(direct) => {
            assert!(direct, "a collocated call sent through the transport");
            None
        }
        Err(e) => Some(e.kind),
    }
}

#[test]
fn thru_poa_sees_every_change_at_the_next_call() {
    let orb = orb(CollocationStrategy::ThruPoa);
    let root = orb.root_poa();
    let servant: ServantRef = Arc::new(Nothing);
    let obj = orb.activate(&root, servant.clone()).unwrap();
    assert!(obj.collocated_servant().is_some());
    // Twice: the second skips the lookup.
    assert_eq!(kind(obj.check_collocated()), None);
    assert_eq!(kind(obj.check_collocated()), None);

    root.manager().discard_requests().unwrap();
    assert_eq!(
        kind(obj.check_collocated()),
        Some(SystemExceptionKind::TRANSIENT)
    );
    root.manager().activate().unwrap();
    assert_eq!(kind(obj.check_collocated()), None);

    // Holding: the call waits until the manager is active again.
    root.manager().hold_requests().unwrap();
    let activator = {
        let root = root.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            root.manager().activate().unwrap();
        })
    };
    assert_eq!(kind(obj.check_collocated()), None);
    activator.join().unwrap();
    assert_eq!(kind(obj.check_collocated()), None);

    let id = root.servant_to_id(&servant).unwrap();
    root.deactivate_object(&id).unwrap();
    assert_eq!(
        kind(obj.check_collocated()),
        Some(SystemExceptionKind::OBJECT_NOT_EXIST)
    );

    let child = root.create_poa("child", None, &[]).unwrap();
    child.manager().activate().unwrap();
    let in_child = orb.activate(&child, Arc::new(Nothing)).unwrap();
    assert_eq!(kind(in_child.check_collocated()), None);
    assert_eq!(kind(in_child.check_collocated()), None);
    child.destroy().unwrap();
    assert_eq!(
        kind(in_child.check_collocated()),
        Some(SystemExceptionKind::OBJECT_NOT_EXIST)
    );

    let last = orb.activate(&root, Arc::new(Nothing)).unwrap();
    assert_eq!(kind(last.check_collocated()), None);
    assert_eq!(kind(last.check_collocated()), None);
    orb.shutdown(true);
    drop(orb);
    drop(root);
    drop(child);
    assert_eq!(
        kind(last.check_collocated()),
        Some(SystemExceptionKind::OBJECT_NOT_EXIST)
    );
}

#[test]
fn direct_does_not_consult_the_poa() {
    let orb = orb(CollocationStrategy::Direct);
    let root = orb.root_poa();
    let obj = orb.activate(&root, Arc::new(Nothing)).unwrap();
    root.manager().discard_requests().unwrap();
    assert_eq!(kind(obj.check_collocated()), None);
}
