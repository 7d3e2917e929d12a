//! The Echo hierarchy (echo.idl): inherited attributes, `out` and `inout` parameters, oneway
//! operations, several user exceptions, object references; and omniORB's COS interfaces.

use idlc_tests::perfect::echo::{all_types as t, demo};
use orb::cdr::{decode_from_slice, ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder, Fixed};
use orb::codegen::DispatchStatus;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::iop::{Ior, ProfileId, TaggedProfile};
use orb::typecode::{Any, TypeCode, Value};
use orb::ObjectRef;
use std::sync::Mutex;

#[derive(Default)]
struct EchoImpl {
    name: Mutex<String>,
    fired: Mutex<Vec<String>>,
}

impl demo::Named for EchoImpl {
    fn name(&self) -> Result<String, SystemException> {
        Ok(self.name.lock().unwrap().clone())
    }
    fn set_name(&self, value: &str) -> Result<(), SystemException> {
        *self.name.lock().unwrap() = value.to_owned();
        Ok(())
    }
    fn id(&self) -> Result<i32, SystemException> {
        Ok(77)
    }
}

impl demo::Echo for EchoImpl {
    fn echo_string(&self, s: &str) -> Result<String, SystemException> {
        Ok(s.to_uppercase())
    }
    fn echo_everything(
        &self,
        e: &t::Everything,
        counter: &mut i32,
    ) -> Result<(t::Everything, t::Everything), demo::echo::EchoEverythingError> {
        if *counter < 0 {
            return Err(t::Oops {
                code: *counter,
                why: "negative".into(),
            }
            .into());
        }
        *counter += 1;
        Ok((e.clone(), e.clone()))
    }
    fn takes_all(
        &self,
        s: i16,
        l: &[i32],
        n: &[t::ShortName],
        m: &t::Matrix,
        money: t::Money,
        c: t::Color,
        a: &Any,
        u: &t::ByLong,
        io: &mut String,
    ) -> Result<t::Monies, SystemException> {
        *io = format!(
            "{io}|{s}|{l:?}|{n:?}|{m:?}|{money}|{c:?}|{:?}|{u:?}",
            a.value()
        );
        Ok(vec![money, Fixed::new(1, 2)])
    }
    fn fire(&self, what: &str) -> Result<(), SystemException> {
        self.fired.lock().unwrap().push(what.to_owned());
        Ok(())
    }
    fn fails(&self, which: i32) -> Result<(), demo::echo::FailsError> {
        Err(match which {
            0 => t::Oops {
                code: 0,
                why: "zero".into(),
            }
            .into(),
            1 => t::Empty {}.into(),
            _ => SystemException::new(SystemExceptionKind::NO_PERMISSION, 1, CompletionStatus::Yes)
                .into(),
        })
    }
    fn self_ref(&self) -> Result<ObjectRef, SystemException> {
        // A profile, or the IOR would be nil (and travel without its type id).
        Ok(ObjectRef::from_ior(Ior {
            type_id: demo::echo::REPOSITORY_ID.into(),
            profiles: vec![TaggedProfile {
                tag: ProfileId::INTERNET_IOP,
                data: vec![1, 2, 3],
            }],
        }))
    }
}

const ORDER: ByteOrder = ByteOrder::LittleEndian;

fn call(
    servant: &EchoImpl,
    op: &str,
    args: &[u8],
) -> Result<(DispatchStatus, Vec<u8>), SystemException> {
    let mut dec = Decoder::new(args, ORDER);
    let mut reply = Encoder::new(ORDER);
    demo::echo::dispatch(servant, op, &mut dec, &mut reply).map(|s| (s, reply.into_vec()))
}

fn encode(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::new(ORDER);
    f(&mut e);
    e.into_vec()
}

#[test]
fn plain_operation() {
    let s = EchoImpl::default();
    let got = call(
        &s,
        "echo_string",
        &encode(|e| e.write_string("hello").unwrap()),
    );
    assert_eq!(
        got,
        Ok((
            DispatchStatus::NoException,
            encode(|e| e.write_string("HELLO").unwrap())
        ))
    );
}

#[test]
fn inherited_attributes() {
    let s = EchoImpl::default();
    let got = call(
        &s,
        "_set_name",
        &encode(|e| e.write_string("echo").unwrap()),
    );
    assert_eq!(got, Ok((DispatchStatus::NoException, vec![])));
    let got = call(&s, "_get_name", &[]);
    assert_eq!(
        got,
        Ok((
            DispatchStatus::NoException,
            encode(|e| e.write_string("echo").unwrap())
        ))
    );
    let got = call(&s, "_get_id", &[]);
    assert_eq!(
        got,
        Ok((DispatchStatus::NoException, encode(|e| e.write_long(77))))
    );
    // `id` is readonly: no setter.
    assert_eq!(
        call(&s, "_set_id", &[]).unwrap_err().kind,
        SystemExceptionKind::BAD_OPERATION
    );
    // The base's own skeleton answers for its attributes too.
    let mut reply = Encoder::new(ORDER);
    let st = demo::named::dispatch(&s, "_get_id", &mut Decoder::new(&[], ORDER), &mut reply);
    assert_eq!(st, Ok(DispatchStatus::NoException));
}

#[test]
fn out_and_inout_parameters_follow_the_result() {
    let s = EchoImpl::default();
    // Decoding gives a fixed value its type's scale, so the defaults get it too.
    let cents = Fixed::new(0, 2);
    let e = t::Everything {
        str: "payload".into(),
        tc: TypeCode::Long,
        cash: cents,
        grid: [[cents; 2]; 2],
        ..Default::default()
    };
    let args = encode(|enc| {
        e.encode(enc).unwrap();
        enc.write_long(41);
    });
    let (status, reply) = call(&s, "echo_everything", &args).unwrap();
    assert_eq!(status, DispatchStatus::NoException);
    let mut dec = Decoder::new(&reply, ORDER);
    assert_eq!(t::Everything::decode(&mut dec).unwrap(), e);
    assert_eq!(t::Everything::decode(&mut dec).unwrap(), e);
    assert_eq!(dec.read_long().unwrap(), 42);
    dec.expect_end().unwrap();

    let args = encode(|enc| {
        enc.write_short(-1);
        vec![1i32, 2].encode(enc).unwrap();
        vec!["ab".to_owned()].encode(enc).unwrap();
        [[1i32, 2, 3], [4, 5, 6]].encode(enc).unwrap();
        enc.write_fixed(&Fixed::new(150, 2), 9, 2).unwrap();
        t::Color::Green.encode(enc).unwrap();
        Any::new(TypeCode::Boolean, Value::Boolean(true))
            .unwrap()
            .encode(enc)
            .unwrap();
        t::ByLong::TwoOrThree(3, "x".into()).encode(enc).unwrap();
        enc.write_string("in").unwrap();
    });
    let (status, reply) = call(&s, "takes_all", &args).unwrap();
    assert_eq!(status, DispatchStatus::NoException);
    let mut dec = Decoder::new(&reply, ORDER);
    // Reply order: out and inout values as declared (`io`, then `outs`).
    let io = dec.read_string().unwrap();
    let monies = orb::codegen::decode_seq_with(&mut dec, 0, 5, |d| d.read_fixed(9, 2)).unwrap();
    assert_eq!(monies, vec![Fixed::new(150, 2), Fixed::new(1, 2)]);
    dec.expect_end().unwrap();
    assert_eq!(
        io,
        "in|-1|[1, 2]|[\"ab\"]|[[1, 2, 3], [4, 5, 6]]|1.50|Green|Boolean(true)|TwoOrThree(3, \"x\")"
    );
}

#[test]
fn oneway_and_object_references() {
    let s = EchoImpl::default();
    let got = call(&s, "fire", &encode(|e| e.write_string("bang").unwrap()));
    assert_eq!(got, Ok((DispatchStatus::NoException, vec![])));
    assert_eq!(*s.fired.lock().unwrap(), ["bang"]);
    let (_, reply) = call(&s, "self_ref", &[]).unwrap();
    let ior: Ior = decode_from_slice(&reply, ORDER).unwrap();
    assert_eq!(ior.type_id, "IDL:Demo/Echo:1.0");
}

#[test]
fn user_exceptions_are_encoded_and_system_exceptions_returned() {
    let s = EchoImpl::default();
    let got = call(&s, "fails", &encode(|e| e.write_long(0)));
    let want = encode(|e| {
        e.write_string("IDL:AllTypes/Oops:1.0").unwrap();
        e.write_long(0);
        e.write_string("zero").unwrap();
    });
    assert_eq!(got, Ok((DispatchStatus::UserException, want)));
    let got = call(&s, "fails", &encode(|e| e.write_long(1)));
    let want = encode(|e| e.write_string("IDL:AllTypes/Empty:1.0").unwrap());
    assert_eq!(got, Ok((DispatchStatus::UserException, want)));
    let got = call(&s, "fails", &encode(|e| e.write_long(2)));
    assert_eq!(
        got,
        Err(SystemException::new(
            SystemExceptionKind::NO_PERMISSION,
            1,
            CompletionStatus::Yes
        ))
    );
    // The error enum converts and displays.
    let err: demo::echo::FailsError = t::Empty {}.into();
    assert_eq!(err.to_string(), "user exception IDL:AllTypes/Empty:1.0");
    // Members are shown, under their IDL names.
    let oops = t::Oops {
        code: 7,
        why: "disk full".into(),
    };
    assert_eq!(
        oops.to_string(),
        "user exception IDL:AllTypes/Oops:1.0 { code: 7, why: \"disk full\" }"
    );
    let got = call(
        &s,
        "echo_everything",
        &encode(|enc| {
            t::Everything {
                tc: TypeCode::Long,
                ..Default::default()
            }
            .encode(enc)
            .unwrap();
            enc.write_long(-5);
        }),
    );
    assert_eq!(got.unwrap().0, DispatchStatus::UserException);
}

#[test]
fn is_a_knows_the_bases() {
    let s = EchoImpl::default();
    for (id, yes) in [
        ("IDL:Demo/Echo:1.0", true),
        ("IDL:Demo/Named:1.0", true),
        ("IDL:omg.org/CORBA/Object:1.0", true),
        ("IDL:Demo/Empty:1.0", false),
    ] {
        let got = call(&s, "_is_a", &encode(|e| e.write_string(id).unwrap()));
        assert_eq!(
            got,
            Ok((DispatchStatus::NoException, vec![yes as u8])),
            "{id}"
        );
    }
    assert_eq!(demo::echo::BASE_IDS, ["IDL:Demo/Named:1.0"]);
    assert!(demo::named::is_a("IDL:Demo/Named:1.0"));
    assert!(!demo::named::is_a("IDL:Demo/Echo:1.0"));
    assert_eq!(
        demo::echo::type_code(),
        TypeCode::objref("IDL:Demo/Echo:1.0", "Echo")
    );
}

#[test]
fn an_empty_interface_still_answers_the_object_operations() {
    struct Nothing;
    impl demo::Empty for Nothing {}
    let mut reply = Encoder::new(ORDER);
    let args = encode(|e| e.write_string("IDL:Demo/Empty:1.0").unwrap());
    let st = demo::empty::dispatch(
        &Nothing,
        "_is_a",
        &mut Decoder::new(&args, ORDER),
        &mut reply,
    );
    assert_eq!(
        (st, reply.into_vec()),
        (Ok(DispatchStatus::NoException), vec![1])
    );
    let st = demo::empty::dispatch(
        &Nothing,
        "echo_string",
        &mut Decoder::new(&[], ORDER),
        &mut Encoder::new(ORDER),
    );
    assert_eq!(st.unwrap_err().kind, SystemExceptionKind::BAD_OPERATION);
}

#[test]
fn cos_naming_maps() {
    use idlc_tests::omniorb::cos_naming::cos_naming as n;
    let name = vec![n::NameComponent {
        id: "a".into(),
        kind: "b".into(),
    }];
    let bytes = orb::cdr::encode_to_vec(&name, ORDER).unwrap();
    let back: n::Name = decode_from_slice(&bytes, ORDER).unwrap();
    assert_eq!(back, name);
    assert_eq!(
        n::naming_context::REPOSITORY_ID,
        "IDL:omg.org/CosNaming/NamingContext:1.0"
    );
    assert_eq!(
        n::naming_context::NotFound::REPOSITORY_ID,
        "IDL:omg.org/CosNaming/NamingContext/NotFound:1.0"
    );
    for op in [
        "bind",
        "resolve",
        "unbind",
        "bind_new_context",
        "list",
        "_is_a",
    ] {
        assert!(n::naming_context::operation_index(op).is_some(), "{op}");
    }
    // NamingContextExt inherits NamingContext's operations.
    assert!(n::naming_context_ext::operation_index("resolve").is_some());
    assert!(n::naming_context_ext::operation_index("to_name").is_some());
    assert!(n::naming_context_ext::is_a(
        "IDL:omg.org/CosNaming/NamingContext:1.0"
    ));
}

#[test]
fn cos_event_admin_maps() {
    use idlc_tests::omniorb::cos_event_channel_admin::cos_event_channel_admin as a;
    assert!(a::proxy_push_consumer::BASE_IDS.contains(&"IDL:omg.org/CosEventComm/PushConsumer:1.0"));
    assert!(a::proxy_push_consumer::operation_index("push").is_some());
    assert!(a::proxy_push_consumer::operation_index("connect_push_supplier").is_some());
    assert_eq!(
        a::AlreadyConnected::REPOSITORY_ID,
        "IDL:omg.org/CosEventChannelAdmin/AlreadyConnected:1.0"
    );
}

#[test]
fn all_61_accepted_omniorb_idl_files_are_compiled() {
    assert_eq!(
        idlc_tests::omniorb::FILES.len(),
        61,
        "{:?}",
        idlc_tests::omniorb::FILES
    );
}
