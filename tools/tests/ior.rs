//! `rtorb ior`: a live naming service's IOR decoded, IORs made and read back, and bad
//! arguments refused with what is wrong.

mod common;

use common::*;

#[test]
fn decode_shows_a_live_servers_profile() {
    let (_ns, ior) = start_daemon("naming-service", &[]);
    let text = rtorb_ok(&["ior", "decode", &ior]);
    assert!(
        text.contains("Type ID: \"IDL:omg.org/CosNaming/NamingContextExt:1.0\""),
        "{text}"
    );
    let profile = text
        .lines()
        .find(|l| l.starts_with("1. IIOP 1.2 127.0.0.1 "))
        .unwrap_or_else(|| panic!("no IIOP 1.2 profile on 127.0.0.1 in {text}"));
    let port: u16 = profile.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert_ne!(port, 0, "the port the daemon bound");
    assert!(text.contains("TAG_CODE_SETS"), "{text}");

    // A corbaloc URL for the same object, decoded: its address, key and IOR.
    let url = format!("corbaloc:iiop:1.2@127.0.0.1:{port}/NameService");
    let text = rtorb_ok(&["ior", "decode", "-x", &url]);
    assert!(
        text.contains(&format!("1. IIOP 1.2 127.0.0.1 {port}")),
        "{text}"
    );
    assert!(
        text.contains("Object Key: 0x4e616d6553657276696365  (11 bytes)"),
        "{text}"
    );
}

#[test]
fn encode_then_decode_gives_back_every_field() {
    let ior = rtorb_ok(&[
        "ior",
        "encode",
        "--type-id",
        "IDL:Echo:1.0",
        "--host",
        "example.org",
        "--port",
        "4242",
        "--key",
        "My%00Key",
        "--giop",
        "1.1",
        "--orb-type",
        "0x41545400",
        "--code-sets",
        "--alternate",
        "10.0.0.2:4343",
        "--big-endian",
    ]);
    let ior = ior.trim();
    assert!(ior.starts_with("IOR:00"), "big-endian: {ior}");
    let text = rtorb_ok(&["ior", "decode", ior]);
    for want in [
        "Type ID: \"IDL:Echo:1.0\"",
        "1. IIOP 1.1 example.org 4242 \"My\\x00Key\"",
        "TAG_ORB_TYPE omniORB",
        "TAG_CODE_SETS",
        "TAG_ALTERNATE_IIOP_ADDRESS 10.0.0.2 4343",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    // From a file too.
    let file = std::env::temp_dir().join(format!("rtorb-ior-{}.txt", std::process::id()));
    std::fs::write(&file, format!("{ior}\n")).unwrap();
    let from_file = rtorb_ok(&["ior", "decode", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(from_file, text);
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    let out = rtorb(&[
        "ior",
        "encode",
        "--type-id",
        "X",
        "--host",
        "h",
        "--port",
        "1",
        "--key-hex",
        "abc",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("invalid value 'abc' for '--key-hex <KEY_HEX>': Odd number of digits"),
        "{}",
        stderr(&out)
    );

    let out = rtorb(&[
        "ior",
        "encode",
        "--type-id",
        "X",
        "--host",
        "h",
        "--port",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--key <KEY>|--key-hex <KEY_HEX>"),
        "{}",
        stderr(&out)
    );

    let out = rtorb(&["ior", "decode", "IOR:0102"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("rtorb ior: ") && err.lines().count() == 1,
        "{err}"
    );
}
