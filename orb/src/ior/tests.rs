//! Tests across the module: URL parsing and formatting, error positions, and property tests
//! (round trips, no panics on arbitrary input).

use super::*;
use crate::cdr::{ByteOrder, GiopVersion};
use crate::iop::{ComponentId, ProfileId, TaggedComponent, TaggedProfile};
use proptest::prelude::*;

fn iiop(version: Option<(u8, u8)>, host: &str, port: Option<u16>) -> ObjAddr {
    ObjAddr::Iiop(IiopAddr {
        version: version.map(|(a, b)| GiopVersion::new(a, b)),
        host: host.into(),
        port,
    })
}

fn syntax_at(r: Result<impl std::fmt::Debug, IorError>) -> (usize, String) {
    let e = r.unwrap_err();
    (e.position().expect("position"), e.to_string())
}

#[test]
fn corbaloc_forms_from_the_specification() {
    let c = Corbaloc::parse("corbaloc:iiop:1.2@xyz_host.net/NameService").unwrap();
    assert_eq!(c.addresses, [iiop(Some((1, 2)), "xyz_host.net", None)]);
    assert_eq!(c.key, b"NameService");

    let c = Corbaloc::parse("corbaloc:rir:/NameService").unwrap();
    assert_eq!(c.addresses, [ObjAddr::Rir]);
    assert!(c.is_rir());
    assert_eq!(
        c.to_ior(ByteOrder::BigEndian),
        Err(IorError::RirHasNoAddress)
    );

    let c =
        Corbaloc::parse("corbaloc::primary.com:110,:1.2@backup.com:120/Dev/NameService").unwrap();
    assert_eq!(
        c.addresses,
        [
            iiop(None, "primary.com", Some(110)),
            iiop(Some((1, 2)), "backup.com", Some(120))
        ]
    );
    assert_eq!(c.key, b"Dev/NameService");

    let c = Corbaloc::parse("CORBALOC:IIOP:[::1]:2810,iiop:[fe80::1%25eth0]/a%20b%2F%00").unwrap();
    assert_eq!(
        c.addresses,
        [
            iiop(None, "::1", Some(2810)),
            iiop(None, "fe80::1%25eth0", None)
        ]
    );
    assert_eq!(c.key, b"a b/\0");

    let c = Corbaloc::parse("corbaloc::host\n").unwrap();
    assert_eq!(c.key, b"");
    // '/' ends the address list, so an unknown protocol's address cannot hold one.
    let c = Corbaloc::parse("corbaloc:omniunix:/tmp/x").unwrap();
    assert_eq!(
        c.addresses,
        [ObjAddr::Other {
            protocol: "omniunix".into(),
            address: "".into()
        }]
    );
    assert_eq!(c.key, b"tmp/x");
    let c = Corbaloc::parse("corbaloc:ssliop:h:1,:h/k").unwrap();
    assert_eq!(
        c.addresses[0],
        ObjAddr::Other {
            protocol: "ssliop".into(),
            address: "h:1".into()
        }
    );
}

#[test]
fn corbaloc_becomes_an_ior_with_one_profile_per_iiop_address() {
    let c = Corbaloc::parse("corbaloc::a:1,iiop:1.2@b,x:y/Key%01").unwrap();
    let ior = c.to_ior(ByteOrder::LittleEndian).unwrap();
    assert_eq!(ior.type_id, "");
    let p = ior.iiop_profiles().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].version, p[0].host.as_str(), p[0].port),
        (GiopVersion::V1_0, "a", 1)
    );
    assert_eq!(
        (p[1].version, p[1].host.as_str(), p[1].port),
        (GiopVersion::V1_2, "b", DEFAULT_IIOP_PORT)
    );
    assert!(p.iter().all(|p| p.object_key == b"Key\x01"));
    assert!(p.iter().all(|p| p.components.is_empty()));
    assert_eq!(
        Corbaloc::parse("corbaloc:x:y/k")
            .unwrap()
            .to_ior(ByteOrder::BigEndian),
        Err(IorError::NoIiopAddress)
    );
}

#[test]
fn corbaloc_syntax_errors_point_at_the_character() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "corbaloc:iiop:host:99999/k",
            19,
            "port is larger than 65535",
        ),
        ("corbaloc:iiop:host:12a/k", 21, "invalid character in port"),
        ("corbaloc:iiop:host:/k", 19, "expected a port number"),
        ("corbaloc::/k", 10, "missing host"),
        ("corbaloc::ho st/k", 12, "invalid character in host"),
        ("corbaloc::[::1/k", 10, "missing ']'"),
        ("corbaloc::[::1]x/k", 15, "expected ':' and a port"),
        ("corbaloc::1.x@h/k", 12, "invalid character in version"),
        ("corbaloc::12@h/k", 10, "expected a version"),
        ("corbaloc::1.256@h/k", 12, "larger than 255"),
        ("corbaloc:/k", 9, "empty address"),
        ("corbaloc::a,,:b/k", 12, "empty address"),
        ("corbaloc:host/k", 9, "expected a protocol"),
        ("corbaloc:rir:x/k", 13, "rir: takes no address"),
        ("corbaloc:rir:,:h/k", 9, "rir: cannot be combined"),
        ("corbaloc::h/a b", 13, "must be %-escaped in a key string"),
        (
            "corbaloc::h/a%4",
            13,
            "'%' must be followed by two hex digits",
        ),
        (
            "corbaloc::h/a%4g",
            13,
            "'%' must be followed by two hex digits",
        ),
        ("corbaloc::h/é#", 12, "must be %-escaped"),
        ("corbaloc:é:h/k", 9, "invalid character in protocol"),
        ("corbaloc::h/ab\u{e9}c", 14, "must be %-escaped"),
    ];
    for &(input, position, what) in cases {
        let (p, text) = syntax_at(Corbaloc::parse(input));
        assert_eq!(p, position, "{input}: {text}");
        assert!(text.contains(what), "{input}: {text}");
    }
    // Positions count characters, not bytes.
    let (p, _) = syntax_at(Corbaloc::parse("corbaloc::h/%C3%A9é"));
    assert_eq!(p, 18);
    assert_eq!(
        Corbaloc::parse("corbaname::h").unwrap_err(),
        IorError::UnknownScheme {
            expected: "\"corbaloc:\""
        }
    );
}

#[test]
fn corbaname_defaults_and_escapes() {
    let n = Corbaname::parse("corbaname::555xyz.com/dev/NContext1#a/b/c").unwrap();
    assert_eq!(n.context.addresses, [iiop(None, "555xyz.com", None)]);
    assert_eq!(n.context.key, b"dev/NContext1");
    assert_eq!(n.string_name, "a/b/c");

    let n = Corbaname::parse("corbaname:rir:#a%20b.kind/%5C%2F").unwrap();
    assert_eq!(n.context.addresses, [ObjAddr::Rir]);
    assert_eq!(n.context.key, DEFAULT_NAMING_KEY);
    assert_eq!(n.string_name, "a b.kind/\\/");

    let n = Corbaname::parse("corbaname::h:2809").unwrap();
    assert_eq!(n.context.key, DEFAULT_NAMING_KEY);
    assert_eq!(n.string_name, "");
    assert_eq!(n.to_string(), "corbaname:iiop:h:2809/NameService");

    let n = Corbaname::parse("corbaname::h#%C3%A9t%C3%A9").unwrap();
    assert_eq!(n.string_name, "été");
    assert_eq!(n.to_string(), "corbaname:iiop:h/NameService#%C3%A9t%C3%A9");

    let (p, text) = syntax_at(Corbaname::parse("corbaname::h#ab%FFc"));
    assert_eq!(p, 15, "{text}");
    let (p, _) = syntax_at(Corbaname::parse("corbaname::h#a b"));
    assert_eq!(p, 14);
    let (p, _) = syntax_at(Corbaname::parse("corbaname::h:x#a"));
    assert_eq!(p, 13);
}

#[test]
fn corbaloc_formatting_escapes_outside_the_unreserved_set() {
    let c = Corbaloc::new(
        vec![
            iiop(Some((1, 2)), "::1", Some(1)),
            iiop(None, "h", None),
            ObjAddr::Other {
                protocol: "ssliop".into(),
                address: "s:2".into(),
            },
        ],
        b"a/b c#%\xff;:?@&=+$,-_.!~*'()".to_vec(),
    );
    let s = c.to_string();
    assert_eq!(
        s,
        "corbaloc:iiop:1.2@[::1]:1,iiop:h,ssliop:s:2/a/b%20c%23%25%FF;:?@&=+$,-_.!~*'()"
    );
    assert_eq!(Corbaloc::parse(&s).unwrap(), c);
    assert_eq!(unescape_key("%41b%2f").unwrap(), b"Ab/");
}

#[test]
fn object_urls_by_scheme() {
    assert!(matches!(
        parse_object_url("IOR:01000000010000000000000000000000\n"),
        Ok(ObjectUrl::Ior(_))
    ));
    assert!(matches!(
        parse_object_url("corbaloc:rir:/NameService"),
        Ok(ObjectUrl::Corbaloc(_))
    ));
    assert!(matches!(
        parse_object_url("Corbaname::h#x"),
        Ok(ObjectUrl::Corbaname(_))
    ));
    assert!(matches!(
        parse_object_url("file:///x"),
        Err(IorError::UnknownScheme { .. })
    ));
}

// ---- property tests ----

fn arb_component() -> impl Strategy<Value = TaggedComponent> {
    (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..24)).prop_map(|(tag, data)| {
        TaggedComponent {
            tag: ComponentId(tag),
            data,
        }
    })
}

fn latin1_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(1u8..=255, 0..max)
        .prop_map(|v| v.into_iter().map(|b| b as char).collect())
}

fn arb_iiop_profile() -> impl Strategy<Value = IiopProfile> {
    (
        0u8..=2,
        latin1_string(20),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(arb_component(), 0..4),
    )
        .prop_map(|(minor, host, port, key, components)| IiopProfile {
            version: GiopVersion::new(1, minor),
            host,
            port,
            object_key: key,
            components: if minor == 0 { Vec::new() } else { components },
        })
}

fn arb_order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::BigEndian), Just(ByteOrder::LittleEndian)]
}

fn arb_ior() -> impl Strategy<Value = Ior> {
    let profile = prop_oneof![
        (arb_iiop_profile(), arb_order()).prop_map(|(p, o)| p.to_tagged(o).unwrap()),
        (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..30)).prop_map(|(t, d)| {
            TaggedProfile {
                tag: ProfileId(t),
                data: d,
            }
        }),
    ];
    (latin1_string(30), proptest::collection::vec(profile, 0..4))
        .prop_map(|(type_id, profiles)| Ior { type_id, profiles })
}

fn arb_host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9][a-zA-Z0-9._-]{0,20}",
        "[0-9a-f]{0,4}:[0-9a-f:]{0,12}",
    ]
}

fn arb_obj_addr() -> impl Strategy<Value = ObjAddr> {
    prop_oneof![
        4 => (
            proptest::option::of((any::<u8>(), any::<u8>())),
            arb_host(),
            proptest::option::of(any::<u16>())
        )
            .prop_map(|(v, h, p)| iiop(v, &h, p)),
        1 => ("[a-z]{2,8}", "[a-z0-9.:]{0,10}").prop_filter_map("not a known protocol", |(p, a)| {
            (p != "iiop" && p != "rir").then_some(ObjAddr::Other { protocol: p, address: a })
        }),
    ]
}

fn arb_corbaloc() -> impl Strategy<Value = Corbaloc> {
    prop_oneof![
        4 => (
            proptest::collection::vec(arb_obj_addr(), 1..4),
            proptest::collection::vec(any::<u8>(), 0..30)
        )
            .prop_map(|(a, k)| Corbaloc::new(a, k)),
        1 => proptest::collection::vec(any::<u8>(), 0..30)
            .prop_map(|k| Corbaloc::new(vec![ObjAddr::Rir], k)),
    ]
}

proptest! {
    #[test]
    fn ior_string_round_trips(ior in arb_ior(), order in arb_order(), upper in any::<bool>()) {
        let mut s = ior.to_ior_string_in(order).unwrap();
        if upper {
            s = s.to_uppercase();
        }
        prop_assert_eq!(parse_ior_string(&s).unwrap(), ior.clone());
        // The raw octets round-trip exactly, whatever they hold.
        let again = parse_ior_string(&s).unwrap().to_ior_string_in(order).unwrap();
        prop_assert_eq!(again.to_lowercase(), s.to_lowercase());
    }

    #[test]
    fn iiop_profile_round_trips(p in arb_iiop_profile(), order in arb_order()) {
        let t = p.to_tagged(order).unwrap();
        prop_assert_eq!(IiopProfile::from_tagged(&t).unwrap(), p.clone());
        prop_assert_eq!(IiopProfile::from_tagged(&t).unwrap().to_tagged(order).unwrap(), t);
    }

    #[test]
    fn corbaloc_format_parse_round_trips(c in arb_corbaloc()) {
        let s = c.to_string();
        prop_assert_eq!(Corbaloc::parse(&s).unwrap(), c);
    }

    #[test]
    fn corbaname_format_parse_round_trips(
        c in arb_corbaloc(),
        name in "\\PC{0,12}",
    ) {
        let mut context = c;
        if context.key.is_empty() {
            context.key = DEFAULT_NAMING_KEY.to_vec();
        }
        let n = Corbaname { context, string_name: name };
        prop_assert_eq!(Corbaname::parse(&n.to_string()).unwrap(), n);
    }

    #[test]
    fn escape_unescape_round_trips(octets in proptest::collection::vec(any::<u8>(), 0..64)) {
        let e = escape(&octets);
        prop_assert!(e.bytes().all(|c| is_unreserved(c) || c == b'%' || c.is_ascii_hexdigit()));
        prop_assert_eq!(unescape_key(&e).unwrap(), octets);
    }

    #[test]
    fn parsers_never_panic_on_text(s in "\\PC{0,80}") {
        let _ = parse_object_url(&s);
        let _ = Corbaloc::parse(&format!("corbaloc:{s}"));
        let _ = Corbaname::parse(&format!("corbaname:{s}"));
        let _ = parse_ior_string(&format!("IOR:{s}"));
    }

    #[test]
    fn parsers_never_panic_on_url_like_text(s in "[:/@,#%\\[\\]0-9a-fA-Z.é-]{0,40}") {
        let _ = Corbaloc::parse(&format!("corbaloc:{s}"));
        let _ = Corbaname::parse(&format!("corbaname:{s}"));
    }

    #[test]
    fn decoders_never_panic_on_octets(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_ior_encapsulation(&data);
        let _ = IiopProfile::decode_body(&data);
        let _ = MultipleComponentProfile::decode_body(&data);
        for tag in [0u32, 1, 2, 3, 20, 0x4154_5401, 0x4154_5402, 0x4154_5403, 0x4154_5404, 99] {
            let c = TaggedComponent { tag: ComponentId(tag), data: data.clone() };
            let _ = Component::decode(&c);
            let ior = Ior {
                type_id: "x".into(),
                profiles: vec![TaggedProfile {
                    tag: ProfileId::MULTIPLE_COMPONENTS,
                    data: MultipleComponentProfile { components: vec![c] }
                        .to_tagged(ByteOrder::BigEndian)
                        .unwrap()
                        .data,
                }],
            };
            let _ = describe(&ior, DescribeOptions::default());
        }
        let ior = Ior {
            type_id: String::new(),
            profiles: vec![TaggedProfile { tag: ProfileId::INTERNET_IOP, data }],
        };
        let _ = describe(&ior, DescribeOptions { omniorb_key: true, ..Default::default() });
    }

    #[test]
    fn mutated_iors_never_panic(ior in arb_ior(), at in any::<usize>(), b in any::<u8>()) {
        let mut bytes = encode_ior_encapsulation(&ior, ByteOrder::BigEndian).unwrap();
        let i = at % bytes.len();
        bytes[i] = b;
        if let Ok(ior) = decode_ior_encapsulation(&bytes) {
            let _ = describe(&ior, DescribeOptions::default());
            let _ = ior.iiop_profiles();
        }
    }
}
