//! GIOP 1.0 cannot carry wchar or wstring (CORBA 3.0 §15.3.1.6: no code set negotiation):
//! a client limited to 1.0 refuses to send them with MARSHAL minor 5, omniORB's
//! `MARSHAL_WCharSentByGIOP10Client`, completed NO, and sends nothing. Found by the omniORB
//! interop tests (examples/interop), where we answered minor 6 (the server's code).

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{minor, SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::{CollocationStrategy, Orb, OrbOptions, Servant};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Counts the requests that reached it.
#[derive(Default)]
struct Counter(AtomicU32);

impl Servant for Counter {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Counter:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        _operation: &str,
        _args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        reply.write_ulong(self.0.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn a_giop_1_0_client_refuses_wide_characters_with_omniorbs_minor_code() {
    let server = Orb::init(OrbOptions::default()).unwrap();
    let counter = Arc::new(Counter::default());
    let obj = server
        .activate(&server.root_poa(), counter.clone())
        .unwrap();
    let mut options = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    options
        .parse_args(["-ORBmaxGIOPVersion".into(), "1.0".into()])
        .unwrap();
    let client = Orb::init(options).unwrap();
    let obj = client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();

    let refused = SystemException::new(
        SystemExceptionKind::MARSHAL,
        minor::MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT,
        CompletionStatus::No,
    );
    assert_eq!(minor::MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT, 0x4f4d_0005);
    let wchar = |e: &mut Encoder| -> Result<(), EncodeError> { e.write_wchar('λ') };
    let wstring = |e: &mut Encoder| -> Result<(), EncodeError> { e.write_wstring("κόσμε") };
    assert_eq!(obj.invoke("op", &wchar).err(), Some(refused));
    assert_eq!(obj.invoke("op", &wstring).err(), Some(refused));
    assert_eq!(obj.invoke_oneway("op", &wstring).err(), Some(refused));
    // Nothing was sent: the next request is the first the servant sees.
    let n = obj
        .invoke("op", &|_: &mut Encoder| Ok(()))
        .unwrap()
        .normal_result(|d| d.read_ulong())
        .unwrap();
    assert_eq!(n, 1);
    server.shutdown(true);
}
