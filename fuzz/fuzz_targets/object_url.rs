//! Arbitrary input as the strings `string_to_object` accepts (`IOR:`, `corbaloc:`,
//! `corbaname:`) and as the octets of an IOR encapsulation and of IIOP profile bodies. Whatever
//! parses must print and parse back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orb::cdr::ByteOrder;
use orb::ior::{
    decode_ior_encapsulation, describe, parse_object_url, Corbaloc, Corbaname, DescribeOptions,
    IiopProfile, ObjectUrl,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match parse_object_url(text) {
            Ok(ObjectUrl::Ior(ior)) => check_ior(&ior),
            Ok(ObjectUrl::Corbaloc(loc)) => {
                let again = Corbaloc::parse(&loc.to_string()).expect("printed corbaloc parses");
                assert_eq!(again, loc);
                let _ = loc.to_ior(ByteOrder::BigEndian);
            }
            Ok(ObjectUrl::Corbaname(name)) => {
                let again = Corbaname::parse(&name.to_string()).expect("printed corbaname parses");
                assert_eq!(again, name);
            }
            Err(_) => {}
        }
    }
    if let Ok(ior) = decode_ior_encapsulation(data) {
        check_ior(&ior);
    }
    if let Ok(profile) = IiopProfile::decode_body(data) {
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let body = profile.encode_body(order).expect("decoded profile encodes");
            assert_eq!(
                IiopProfile::decode_body(&body).expect("re-decodes"),
                profile
            );
        }
        let _ = profile.decoded_components();
    }
});

fn check_ior(ior: &orb::iop::Ior) {
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let s = ior.to_ior_string_in(order).expect("decoded IOR encodes");
        let again: orb::iop::Ior = s.parse().expect("printed IOR parses");
        assert_eq!(&again, ior);
    }
    let _ = describe(ior, DescribeOptions::default());
    let _ = ior.iiop_profiles();
}
