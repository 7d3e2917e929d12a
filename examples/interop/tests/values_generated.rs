//! Objects by value between rtorb's idlc-generated code and omniORB 4.2.5 (`idl/values.idl`),
//! both ways: generated stubs against omniORB's `cpp/values_server.cc` in GIOP 1.0, 1.1 and
//! 1.2, and omniORB's `cpp/values_client.cc` against a generated skeleton
//! ([`ValueTesterImpl`]). Graphs must come back as graphs (cycle and shared node kept), a
//! truncatable `Derived` reach a receiver that does not know it as its `Base`, boxes and nulls
//! round-trip, indirections across parameters resolve, and an abstract interface carry a
//! reference and a value.

mod common;
use common::{client, server};

use orb::{Orb, OrbOptions};
use rtorb_interop::generated_values::values::{value_tester, ValueTesterRef};
use rtorb_interop::values_servant::{check_values, ValueTesterImpl};

const CXX_SERVER: &str = env!("VALUES_CXX_SERVER");
const CXX_CLIENT: &str = env!("VALUES_CXX_CLIENT");

#[test]
fn generated_stubs_send_values_to_the_omniorb_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    let mut failures = Vec::new();
    for v in ["1.0", "1.1", "1.2"] {
        let (orb, _) = Orb::init_from_args(["-ORBmaxGIOPVersion".to_owned(), v.to_owned()])
            .expect("client ORB");
        let obj = orb.string_to_object(&ior).expect("the server's IOR");
        let t = ValueTesterRef::narrow(&obj)
            .expect("narrow")
            .expect("a ValueTester");
        let outcomes = check_values(&t, &obj);
        assert_eq!(outcomes.len(), 13, "every operation checked");
        for o in outcomes {
            if let Some(why) = o.failure {
                failures.push(format!("GIOP {v} {}: {why}", o.op));
            }
        }
        orb.shutdown(true);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_omniorb_client_sends_values_to_a_generated_skeleton() {
    let orb = Orb::init(OrbOptions::default()).expect("server ORB");
    let obj = orb
        .activate(&orb.root_poa(), value_tester::servant(ValueTesterImpl))
        .expect("activate");
    let ior = orb.object_to_string(&obj).expect("IOR");
    let (ok, text) = client(CXX_CLIENT, &[&ior]);
    assert!(ok, "{text}");
    let (passed, of) = text
        .rsplit_once('\n')
        .map_or(text.as_str(), |(_, last)| last)
        .trim_end_matches(" ops ok")
        .split_once('/')
        .expect("N/N ops ok");
    assert_eq!(passed, of, "{text}");
    assert!(
        of.parse::<u32>().expect("a count") >= 16,
        "every check ran: {text}"
    );
    orb.shutdown(true);
}

#[test]
fn generated_code_sends_values_to_itself_remotely() {
    let server = Orb::init(OrbOptions::default()).expect("server ORB");
    let obj = server
        .activate(&server.root_poa(), value_tester::servant(ValueTesterImpl))
        .expect("activate");
    let ior = server.object_to_string(&obj).expect("IOR");
    let client = Orb::init(OrbOptions::default()).expect("client ORB");
    let obj = client.string_to_object(&ior).expect("IOR");
    let t = ValueTesterRef::narrow(&obj).unwrap().unwrap();
    let failures: Vec<String> = check_values(&t, &obj)
        .into_iter()
        .filter_map(|o| o.failure.map(|f| format!("{}: {f}", o.op)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
