//! DII and DSI between two ORBs of the process over TCP: a DSI servant implementing part of
//! `Remote::Tester` (remote.idl) is called through the generated stubs (so its replies are
//! what generated code expects) and through DII requests (in, out and inout parameters, a
//! declared and an undeclared user exception, a system exception, oneway, deferred).

use idlc_tests::remote::remote::{self as r, Counter, Tester, TesterRef};
use orb::dynamic::{
    dynamic_servant, DynamicImplementation, ParamMode, Request, RequestError, ServerRequest,
};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::typecode::{Any, TypeCode};
use orb::{ObjectRef, Orb, OrbOptions};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// How long a test waits for what must come (a oneway's effect, a deferred reply) before
/// calling it lost.
const PATIENCE: Duration = Duration::from_secs(20);

/// `Remote::Tester`'s `add`, `scale`, `refuse`, `bump_later` and `_get_value`, by hand.
struct DynTester {
    value: Mutex<i32>,
    bumped: Mutex<mpsc::Sender<i32>>,
}

impl DynamicImplementation for DynTester {
    fn repository_id(&self) -> &'static str {
        r::tester::REPOSITORY_ID
    }

    fn is_a(&self, id: &str) -> bool {
        r::tester::is_a(id)
    }

    fn invoke(&self, req: &mut ServerRequest<'_, '_>) -> Result<(), SystemException> {
        let long = || TypeCode::Long;
        match req.operation() {
            "add" => {
                let args = req.arguments(&[(ParamMode::In, long()), (ParamMode::In, long())])?;
                let (a, b) = (get::<i32>(&args[0])?, get::<i32>(&args[1])?);
                req.set_result(Any::from(a.wrapping_add(b)));
            }
            "scale" => {
                let args = req.arguments(&[
                    (ParamMode::In, TypeCode::Double),
                    (ParamMode::Out, TypeCode::Double),
                    (ParamMode::InOut, TypeCode::Double),
                ])?;
                let (x, acc) = (get::<f64>(&args[0])?, get::<f64>(&args[1])?);
                req.set_result(Any::from(x * 2.0));
                req.set_outs(vec![Any::from(x / 2.0), Any::from(acc + x)]);
            }
            "refuse" => {
                let args = req.arguments(&[(ParamMode::In, long())])?;
                match get::<i32>(&args[0])? {
                    0 => req.set_exception(any(&r::Refused {
                        why: "no".into(),
                        code: 7,
                    })?),
                    1 => req.set_exception(any(&r::Other {})?),
                    _ => {
                        return Err(SystemException::new(
                            SystemExceptionKind::NO_PERMISSION,
                            3,
                            CompletionStatus::Yes,
                        ))
                    }
                }
            }
            "bump_later" => {
                let args = req.arguments(&[(ParamMode::In, long())])?;
                let by = get::<i32>(&args[0])?;
                *self.value.lock().unwrap() += by;
                let _ = self.bumped.lock().unwrap().send(by);
            }
            "_get_value" => {
                req.arguments(&[])?;
                req.set_result(Any::from(*self.value.lock().unwrap()));
            }
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(())
    }
}

fn get<T: orb::typecode::AnyType>(a: &Any) -> Result<T, SystemException> {
    a.get::<T>()
        .map_err(|_| SystemException::new(SystemExceptionKind::BAD_PARAM, 0, CompletionStatus::No))
}

fn any<T: orb::typecode::AnyType>(v: &T) -> Result<Any, SystemException> {
    Any::insert(v)
        .map_err(|_| SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::Yes))
}

struct Fixture {
    server: Orb,
    client: Orb,
    /// The DSI object, as the client ORB reaches it.
    target: ObjectRef,
    bumped: mpsc::Receiver<i32>,
}

impl Fixture {
    fn new() -> Fixture {
        let server = Orb::init(OrbOptions::default()).expect("server ORB");
        let (tx, bumped) = mpsc::channel();
        let obj = server
            .activate(
                &server.root_poa(),
                dynamic_servant(DynTester {
                    value: Mutex::new(0),
                    bumped: Mutex::new(tx),
                }),
            )
            .expect("activate the DSI servant");
        let client = Orb::init(OrbOptions::default()).expect("client ORB");
        let ior = server.object_to_string(&obj).expect("IOR");
        let target = client.string_to_object(&ior).expect("string_to_object");
        Fixture {
            server,
            client,
            target,
            bumped,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.client.shutdown(true);
        self.server.shutdown(true);
    }
}

#[test]
fn generated_stubs_call_a_dsi_servant() {
    let f = Fixture::new();
    let t = TesterRef::narrow(&f.target)
        .expect("_is_a answered by the DSI servant")
        .expect("a Tester");
    assert_eq!(t.add(2, 40).unwrap(), 42);
    let mut acc = 1.5;
    assert_eq!(t.scale(3.0, &mut acc).unwrap(), (6.0, 1.5));
    assert_eq!(acc, 4.5);
    match t.refuse(0) {
        Err(r::tester::RefuseError::Refused(e)) => {
            assert_eq!((e.why.as_str(), e.code), ("no", 7))
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(matches!(t.refuse(1), Err(r::tester::RefuseError::Other(_))));
    match t.refuse(2) {
        Err(r::tester::RefuseError::System(e)) => {
            assert_eq!((e.kind, e.minor), (SystemExceptionKind::NO_PERMISSION, 3))
        }
        other => panic!("expected NO_PERMISSION, got {other:?}"),
    }
    t.bump_later(5).unwrap();
    assert_eq!(f.bumped.recv_timeout(PATIENCE), Ok(5));
    assert_eq!(t.value().unwrap(), 5);
    // What the servant does not implement is BAD_OPERATION, as from a skeleton.
    let e = t.concat("a", &mut String::new()).unwrap_err();
    assert_eq!(e.kind, SystemExceptionKind::BAD_OPERATION);
    assert!(!t.non_existent().unwrap());
}

#[test]
fn dii_requests_with_every_parameter_mode_and_outcome() {
    let f = Fixture::new();
    let mut add = Request::new(&f.target, "add");
    add.add_in_arg(Any::from(2i32))
        .add_in_arg(Any::from(40i32))
        .set_return_type(TypeCode::Long);
    let resp = add.invoke().unwrap();
    assert_eq!(resp.result.get::<i32>().unwrap(), 42);
    assert!(resp.outs.is_empty());

    let mut scale = Request::new(&f.target, "scale");
    scale
        .add_in_arg(Any::from(3.0f64))
        .add_out_arg(TypeCode::Double)
        .add_inout_arg(Any::from(1.5f64))
        .set_return_type(TypeCode::Double);
    let resp = scale.invoke().unwrap();
    assert_eq!(resp.result.get::<f64>().unwrap(), 6.0);
    let outs: Vec<f64> = resp.outs.iter().map(|a| a.get().unwrap()).collect();
    assert_eq!(outs, [1.5, 4.5]);

    // A declared user exception comes back as an any of its type.
    let mut refuse = Request::new(&f.target, "refuse");
    refuse
        .add_in_arg(Any::from(0i32))
        .add_exception(r::Refused::type_code())
        .add_exception(r::Other::type_code());
    match refuse.invoke() {
        Err(RequestError::User { id, exception }) => {
            assert_eq!(id, r::Refused::REPOSITORY_ID);
            let e = exception.get::<r::Refused>().unwrap();
            assert_eq!((e.why.as_str(), e.code), ("no", 7));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    // An undeclared one is named, not read.
    let mut undeclared = Request::new(&f.target, "refuse");
    undeclared.add_in_arg(Any::from(1i32));
    match undeclared.invoke() {
        Err(RequestError::UndeclaredUser { id }) => assert_eq!(id, r::Other::REPOSITORY_ID),
        other => panic!("expected an undeclared user exception, got {other:?}"),
    }
    let mut system = Request::new(&f.target, "refuse");
    system.add_in_arg(Any::from(2i32));
    match system.invoke() {
        Err(RequestError::System(e)) => assert_eq!(e.kind, SystemExceptionKind::NO_PERMISSION),
        other => panic!("expected NO_PERMISSION, got {other:?}"),
    }
    // Arguments of the wrong type reach the servant as what it cannot read.
    let mut wrong = Request::new(&f.target, "add");
    wrong
        .add_in_arg(Any::from(1i16))
        .set_return_type(TypeCode::Long);
    assert!(matches!(wrong.invoke(), Err(RequestError::System(_))));
    // Not a tk_except TypeCode: refused before anything is sent.
    let mut bad = Request::new(&f.target, "refuse");
    bad.add_in_arg(Any::from(0i32))
        .add_exception(TypeCode::Long);
    assert!(matches!(bad.invoke(), Err(RequestError::Invalid(_))));
}

#[test]
fn dii_oneway_and_deferred_requests() {
    let f = Fixture::new();
    let mut bump = Request::new(&f.target, "bump_later");
    bump.add_in_arg(Any::from(4i32));
    bump.send_oneway().unwrap();
    assert_eq!(f.bumped.recv_timeout(PATIENCE), Ok(4));
    // A oneway cannot have a result.
    let mut with_result = bump.clone();
    with_result.set_return_type(TypeCode::Long);
    assert!(matches!(
        with_result.send_oneway(),
        Err(RequestError::Invalid(_))
    ));

    let mut value = Request::new(&f.target, "_get_value");
    value.set_return_type(TypeCode::Long);
    let deferred = value.clone().send_deferred();
    assert_eq!(deferred.operation(), "_get_value");
    assert_eq!(deferred.get_response().unwrap().result.get::<i32>(), Ok(4));

    let mut add = Request::new(&f.target, "add");
    add.add_in_arg(Any::from(1i32))
        .add_in_arg(Any::from(2i32))
        .set_return_type(TypeCode::Long);
    let mut deferred = add.send_deferred();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while !deferred.poll_response() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = tx.send(deferred.get_response());
    });
    let resp = rx.recv_timeout(PATIENCE).expect("the deferred reply");
    assert_eq!(resp.unwrap().result.get::<i32>(), Ok(3));
}
