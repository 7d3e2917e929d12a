//! Interoperability of `orb::ior` with omniORB, the independent ORB we measure ourselves against:
//!
//! - IORs made by omniORB's `genior` decode field for field, and our description of them is
//!   exactly what `catior` prints;
//! - IORs made by our encoder are read by `catior` as we meant them;
//! - the IORs of real omniORB servers (checked-in vectors from omniNames and omniEvents, and a
//!   live omniNames started here) decode and describe as `catior` says.
//!
//! These tests need omniORB's tools (`catior`, `genior`, `omniNames`); without them they fail,
//! never skip: install the Debian package `omniorb` (and `omniorb-nameserver`), as
//! `scripts/test.sh` does in CI. Servers started here listen on 127.0.0.1 only, keep their
//! files in a fresh temporary directory and are stopped by their pid.

#[allow(dead_code)]
#[path = "../examples/ior.rs"]
mod ior_cli;

use orb::cdr::{ByteOrder, CodeSetId, GiopVersion};
use orb::iop::{ComponentId, Ior, ProfileId, TaggedComponent, TaggedProfile};
use orb::ior::{
    describe, parse_ior_string, CodeSetComponent, CodeSetComponentInfo, Component, Corbaloc,
    DescribeOptions, IiopProfile, MultipleComponentProfile, SslSecTrans, OMNIORB_ORB_TYPE,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// ---- running omniORB's tools ----

/// The path of an omniORB tool, or a failure that says how to get it.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH: these interop tests need omniORB's tools. Install them \
                 (Debian/Ubuntu: `apt-get install omniorb omniorb-nameserver`; scripts/test.sh \
                 installs them in CI)"
            )
        })
}

/// Runs an omniORB tool and returns its standard output; it must succeed.
fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(tool(name))
        .args(args)
        // An empty configuration file, so no site configuration changes what the tools do.
        .env("OMNIORB_CONFIG", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

fn catior(ior: &str, hex: bool) -> String {
    if hex {
        run("catior", &["-x", ior])
    } else {
        run("catior", &[ior])
    }
}

fn ours(ior: &Ior, hex_key: bool) -> String {
    describe(
        ior,
        DescribeOptions {
            hex_key,
            ..Default::default()
        },
    )
    .unwrap()
}

/// What our `ior decode` command prints for `input`.
fn ior_decode(args: &[&str]) -> String {
    let mut v = vec!["decode".to_owned()];
    v.extend(args.iter().map(|s| s.to_string()));
    ior_cli::run(&v).unwrap_or_else(|e| panic!("ior decode {args:?}: {e:?}"))
}

// ---- reading catior's output ----

/// One IIOP profile as `catior -x` shows it.
#[derive(Debug, Default, PartialEq)]
struct CatiorProfile {
    version: String,
    host: String,
    port: u16,
    key: Vec<u8>,
    orb_vendor: Option<String>,
    char_native: Option<String>,
    wchar_native: Option<String>,
    alternates: Vec<(String, u16)>,
}

/// Type id and IIOP profiles from `catior -x` output.
fn parse_catior(text: &str) -> (String, Vec<CatiorProfile>) {
    let mut type_id = String::new();
    let mut profiles: Vec<CatiorProfile> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Type ID: \"") {
            type_id = rest.strip_suffix('"').expect("quoted type id").to_owned();
        } else if line.contains(". IIOP ") && !line.starts_with(' ') {
            // "N. IIOP M.m HOST PORT 0xHEX  (N bytes)"
            let f: Vec<&str> = line.split_whitespace().collect();
            let hex = f[5].strip_prefix("0x").expect("catior -x key");
            let key = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            profiles.push(CatiorProfile {
                version: f[2].to_owned(),
                host: f[3].to_owned(),
                port: f[4].parse().unwrap(),
                key,
                ..Default::default()
            });
        } else if let Some(p) = profiles.last_mut() {
            let l = line.trim_start();
            if let Some(v) = l.strip_prefix("TAG_ORB_TYPE ") {
                p.orb_vendor = Some(v.split(" (").next().unwrap().to_owned());
            } else if let Some(v) = l.strip_prefix("TAG_CODE_SETS char native code set:") {
                p.char_native = Some(v.trim().to_owned());
            } else if let Some(v) = l.strip_prefix("wchar native code set:") {
                p.wchar_native = Some(v.trim().to_owned());
            } else if let Some(v) = l.strip_prefix("TAG_ALTERNATE_IIOP_ADDRESS ") {
                let (h, port) = v.rsplit_once(' ').unwrap();
                p.alternates.push((h.to_owned(), port.parse().unwrap()));
            }
        }
    }
    (type_id, profiles)
}

/// The same view of one of our decoded profiles, computed without `describe`.
fn our_view(p: &IiopProfile) -> CatiorProfile {
    let name = |cs: CodeSetId| match cs {
        CodeSetId::ISO_8859_1 => "ISO-8859-1".to_owned(),
        CodeSetId::UTF_8 => "UTF-8".to_owned(),
        CodeSetId::UTF_16 => "UTF-16".to_owned(),
        CodeSetId::UCS_2 => "UCS-2-level-1".to_owned(),
        other => format!("(0x{:08x})", other.0),
    };
    let mut v = CatiorProfile {
        version: p.version.to_string(),
        host: p.host.clone(),
        port: p.port,
        key: p.object_key.clone(),
        ..Default::default()
    };
    for c in p.decoded_components().unwrap() {
        match c {
            Component::OrbType(t) if t & 0xffff_ff00 == OMNIORB_ORB_TYPE => {
                v.orb_vendor = Some("omniORB".into())
            }
            Component::OrbType(t) if t & 0xffff_ff00 == 0x5441_4f00 => {
                v.orb_vendor = Some("TAO".into())
            }
            Component::OrbType(_) => v.orb_vendor = Some("(unknown)".into()),
            Component::CodeSets(info) => {
                v.char_native = Some(name(info.for_char_data.native_code_set));
                v.wchar_native = Some(name(info.for_wchar_data.native_code_set));
            }
            Component::AlternateIiopAddress { host, port } => v.alternates.push((host, port)),
            _ => {}
        }
    }
    v
}

fn assert_same_as_catior(ior_string: &str, ior: &Ior) {
    let expected = catior(ior_string, false);
    assert_eq!(ours(ior, false), expected, "catior {ior_string}");
    assert_eq!(
        ior_decode(&[ior_string]),
        expected,
        "ior decode {ior_string}"
    );
    let expected_x = catior(ior_string, true);
    assert_eq!(ours(ior, true), expected_x, "catior -x {ior_string}");
    let (type_id, cat_profiles) = parse_catior(&expected_x);
    assert_eq!(type_id, ior.type_id);
    let our_profiles: Vec<CatiorProfile> =
        ior.iiop_profiles().unwrap().iter().map(our_view).collect();
    assert_eq!(our_profiles, cat_profiles, "{ior_string}");
}

// ---- (a) genior's IORs decode field for field ----

#[test]
fn genior_iors_decode_field_for_field() {
    struct Case {
        args: &'static [&'static str],
        type_id: &'static str,
        host: &'static str,
        port: u16,
        key: Option<&'static [u8]>,
    }
    let cases = [
        Case {
            args: &["IDL:Test/Echo:1.0", "localhost", "2809", "MyKey"],
            type_id: "IDL:Test/Echo:1.0",
            host: "localhost",
            port: 2809,
            key: Some(b"MyKey"),
        },
        Case {
            args: &["-x", "IDL:A:1.0", "10.0.0.1", "1234", "0x00ff41420a7e225c"],
            type_id: "IDL:A:1.0",
            host: "10.0.0.1",
            port: 1234,
            key: Some(b"\x00\xffAB\x0a~\"\\"),
        },
        Case {
            args: &[
                "IDL:omg.org/CosNaming/NamingContextExt:1.0",
                "::1",
                "65535",
                "NameService",
            ],
            type_id: "IDL:omg.org/CosNaming/NamingContextExt:1.0",
            host: "::1",
            port: 65535,
            key: Some(b"NameService"),
        },
        Case {
            args: &["", "a-rather-long-host-name.example.com", "1", "k/e:y%20"],
            type_id: "",
            host: "a-rather-long-host-name.example.com",
            port: 1,
            key: Some(b"k/e:y%20"),
        },
        Case {
            args: &["IDL:x:1.0", "h", "1", ""],
            type_id: "IDL:x:1.0",
            host: "h",
            port: 1,
            key: Some(b""),
        },
        // No key: genior makes a random 12-octet omniORB key; catior -x tells us which.
        Case {
            args: &["IDL:x:1.0", "127.0.0.1", "2809"],
            type_id: "IDL:x:1.0",
            host: "127.0.0.1",
            port: 2809,
            key: None,
        },
    ];
    for case in cases {
        let s = run("genior", case.args);
        let s = s.trim();
        let ior = parse_ior_string(s).unwrap_or_else(|e| panic!("genior {:?}: {e}", case.args));
        assert_eq!(ior.type_id, case.type_id);
        assert_eq!(ior.profiles.len(), 1);
        let p = IiopProfile::from_tagged(&ior.profiles[0]).unwrap();
        assert_eq!(p.version, GiopVersion::V1_2);
        assert_eq!(p.host, case.host);
        assert_eq!(p.port, case.port);
        match case.key {
            Some(k) => assert_eq!(p.object_key, k),
            None => {
                assert_eq!(p.object_key.len(), 12);
                let (_, cat) = parse_catior(&catior(s, true));
                assert_eq!(cat[0].key, p.object_key);
            }
        }
        // genior always adds omniORB's ORB type and its default code sets, in that order.
        let comps = p.decoded_components().unwrap();
        assert_eq!(
            comps,
            [
                Component::OrbType(OMNIORB_ORB_TYPE),
                Component::CodeSets(CodeSetComponentInfo::omniorb_default())
            ]
        );
        // Re-encoding the decoded IOR and decoding that again changes nothing.
        let again = ior.to_ior_string_in(ByteOrder::BigEndian).unwrap();
        assert_eq!(parse_ior_string(&again).unwrap(), ior);
        assert_same_as_catior(s, &ior);
    }
}

// ---- (b) our IORs read by catior ----

fn omni_unix_trans(host: &str, path: &str) -> TaggedComponent {
    // omniORB's TAG_OMNIORB_UNIX_TRANS: an encapsulation of two strings (host, socket path).
    let mut data = vec![0u8, 0, 0, 0];
    for s in [host, path] {
        while data.len() % 4 != 0 {
            data.push(0);
        }
        data.extend_from_slice(&(s.len() as u32 + 1).to_be_bytes());
        data.extend_from_slice(s.as_bytes());
        data.push(0);
    }
    TaggedComponent {
        tag: ComponentId::OMNIORB_UNIX_TRANS,
        data,
    }
}

fn our_iors() -> Vec<Ior> {
    let all_octets: Vec<u8> = (0..=255).collect();
    let odd_code_sets = CodeSetComponentInfo {
        for_char_data: CodeSetComponent {
            native_code_set: CodeSetId::UTF_8,
            conversion_code_sets: vec![
                CodeSetId::ISO_8859_1,
                CodeSetId(0x1002_04e4),
                CodeSetId(0x1234_5678),
            ],
        },
        for_wchar_data: CodeSetComponent {
            native_code_set: CodeSetId::UCS_2,
            conversion_code_sets: vec![],
        },
    };
    let mut v = Vec::new();
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let c = |comp: Component| comp.to_tagged(order).unwrap();
        let p10 = IiopProfile::new(GiopVersion::V1_0, "host10.example", 1, b"key10".to_vec());
        v.push(Ior::with_iiop_profile("IDL:Test/V10:1.0", &p10, order).unwrap());

        let mut p11 = IiopProfile::new(GiopVersion::V1_1, "10.1.2.3", 65535, all_octets.clone());
        p11.components = vec![
            c(Component::OrbType(OMNIORB_ORB_TYPE)),
            c(Component::CodeSets(odd_code_sets.clone())),
        ];
        v.push(Ior::with_iiop_profile("IDL:Test/V11:1.0", &p11, order).unwrap());

        let mut p12 = IiopProfile::new(GiopVersion::V1_2, "::1", 2809, b"NameService".to_vec());
        p12.components = vec![
            c(Component::OrbType(0x5441_4f00)),
            c(Component::CodeSets(CodeSetComponentInfo::omniorb_default())),
            c(Component::AlternateIiopAddress {
                host: "backup1".into(),
                port: 2810,
            }),
            c(Component::AlternateIiopAddress {
                host: "192.168.0.9".into(),
                port: 0,
            }),
            c(Component::SslSecTrans(SslSecTrans {
                target_supports: 0x66,
                target_requires: 0x06,
                port: 443,
            })),
            omni_unix_trans("myhost", "/tmp/omni-sock"),
            TaggedComponent {
                tag: ComponentId::OMNIORB_PERSISTENT_ID,
                data: vec![0xa9, 0x6a, 0x02, 0x6b],
            },
            TaggedComponent {
                tag: ComponentId(0x7777),
                data: vec![1, 2, 3],
            },
        ];
        let mut multi = Ior::with_iiop_profile("IDL:Test/V12:1.0", &p12, order).unwrap();
        multi.profiles.push(
            MultipleComponentProfile {
                components: vec![c(Component::OrbType(OMNIORB_ORB_TYPE))],
            }
            .to_tagged(order)
            .unwrap(),
        );
        multi.profiles.push(TaggedProfile {
            tag: ProfileId(0xabcd),
            data: vec![0, 1, 2],
        });
        multi.profiles.push(
            IiopProfile::new(GiopVersion::V1_2, "second", 7, b"\xff\x00key".to_vec())
                .to_tagged(order)
                .unwrap(),
        );
        v.push(multi);
    }
    v.push(Ior::nil());
    v.push(Ior {
        type_id: "IDL:OnlyType:1.0".into(),
        profiles: vec![],
    });
    v
}

#[test]
fn catior_reads_our_iors_as_we_meant_them() {
    for ior in our_iors() {
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let s = ior.to_ior_string_in(order).unwrap();
            assert_same_as_catior(&s, &ior);
        }
    }
}

#[test]
fn catior_reads_our_encode_command_output() {
    let out = ior_cli::run(
        &[
            "encode",
            "--type-id",
            "IDL:Cli:1.0",
            "--host",
            "cli.example",
            "--port",
            "4242",
            "--key",
            "a%00b c",
            "--orb-type",
            "0x41545400",
            "--code-sets",
            "--alternate",
            "[::1]:9",
            "--big-endian",
        ]
        .map(String::from),
    )
    .unwrap();
    let s = out.trim();
    let (type_id, profiles) = parse_catior(&catior(s, true));
    assert_eq!(type_id, "IDL:Cli:1.0");
    assert_eq!(
        profiles,
        [CatiorProfile {
            version: "1.2".into(),
            host: "cli.example".into(),
            port: 4242,
            key: b"a\0b c".to_vec(),
            orb_vendor: Some("omniORB".into()),
            char_native: Some("ISO-8859-1".into()),
            wchar_native: Some("UTF-16".into()),
            alternates: vec![("::1".into(), 9)],
        }]
    );
    let out = ior_cli::run(
        &[
            "encode",
            "--type-id",
            "IDL:Cli:1.0",
            "--host",
            "h",
            "--port",
            "1",
            "--key-hex",
            "00ff",
            "--giop",
            "1.0",
        ]
        .map(String::from),
    )
    .unwrap();
    assert!(catior(out.trim(), true).contains("1. IIOP 1.0 h 1 0x00ff  (2 bytes)\n"));
}

// ---- (c) IORs of real omniORB servers ----

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// Every `NAME.ior` in `tests/vectors` with `NAME.catior.txt` beside it (the output of
/// `catior`) and, usually, `NAME.catior-xo.txt` (of `catior -x -o`).
#[test]
fn saved_omniorb_iors_describe_as_catior_says() {
    tool("catior");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("ior") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        // Files end with a newline; the parser must take them as they are.
        let ior = parse_ior_string(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = std::fs::read_to_string(path.with_extension("catior.txt"))
            .unwrap_or_else(|e| panic!("{name}.ior has no {name}.catior.txt beside it: {e}"));
        assert_eq!(ours(&ior, false), expected, "{name}: catior");
        // Our command, given the file's path, prints the same.
        assert_eq!(
            ior_decode(&[path.to_str().unwrap()]),
            expected,
            "{name}: ior decode FILE"
        );
        // And the catior installed here agrees with the saved output.
        assert_eq!(
            catior(&text, false),
            expected,
            "{name}: saved output is stale"
        );

        let xo_path = path.with_extension("catior-xo.txt");
        if let Ok(xo) = std::fs::read_to_string(&xo_path) {
            let xo_opts = DescribeOptions {
                hex_key: true,
                omniorb_key: true,
                ..Default::default()
            };
            let our_xo = describe(&ior, xo_opts).unwrap();
            if xo.contains("exited with status") {
                // catior -o crashed on this one (an empty key): compare what it printed first.
                let printed = xo.lines().take_while(|l| !l.starts_with('[')).count();
                let ours_head: Vec<&str> = our_xo.lines().take(printed).collect();
                let theirs_head: Vec<&str> = xo.lines().take(printed).collect();
                assert_eq!(ours_head, theirs_head, "{name}: catior -x -o (partial)");
            } else {
                assert_eq!(our_xo, xo, "{name}: catior -x -o");
                assert_eq!(
                    ior_decode(&["-x", "-o", text.trim()]),
                    xo,
                    "{name}: ior decode -x -o"
                );
            }
        }
        // Structure, independently of describe().
        let (type_id, cat) = parse_catior(
            &describe(
                &ior,
                DescribeOptions {
                    hex_key: true,
                    ..Default::default()
                },
            )
            .unwrap(),
        );
        assert_eq!(type_id, ior.type_id);
        let our: Vec<CatiorProfile> = ior.iiop_profiles().unwrap().iter().map(our_view).collect();
        assert_eq!(our, cat, "{name}");
        checked.push(name);
    }
    checked.sort();
    eprintln!("checked against catior: {checked:?}");
    for must in [
        "omninames-root",
        "omninames-root-iiop10",
        "omninames-root-iiop11",
        "omnievents-channel",
        "genior-echo",
    ] {
        assert!(
            checked.iter().any(|n| n == must),
            "vector {must}.ior is missing from {:?}",
            vectors_dir()
        );
    }
}

/// A port on 127.0.0.1, free when asked, picked below the kernel's ephemeral range (32768 and
/// up by default): the outgoing connections of tests running in parallel take their local
/// ports from that range, and one could take a port picked there before its server binds it.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    (0u64..)
        .map(|n| 20_000 + (random.hash_one(n) % 12_000) as u16)
        .find(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port on 127.0.0.1")
}

/// A child process killed (by its pid) and a directory removed when dropped.
struct Server {
    child: std::process::Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn live_omninames_root_context_with_alternate_and_unix_endpoints() {
    let omninames = tool("omniNames");
    tool("catior");
    let dir = std::env::temp_dir().join(format!(
        "rtorb-ior-interop-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (port, alt) = (free_port(), free_port());
    let socket = dir.join("sock");
    let log = std::fs::File::create(dir.join("out.txt")).unwrap();
    let child = Command::new(omninames)
        .args([
            "-start",
            &port.to_string(),
            "-logdir",
            dir.to_str().unwrap(),
        ])
        .args(["-ORBendPoint", &format!("giop:tcp:127.0.0.1:{port}")])
        .args(["-ORBendPoint", &format!("giop:tcp:127.0.0.1:{alt}")])
        .args(["-ORBendPoint", &format!("giop:unix:{}", socket.display())])
        .env("OMNIORB_CONFIG", "/dev/null")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start omniNames");
    let server = Server {
        child,
        dir: dir.clone(),
    };

    let deadline = Instant::now() + Duration::from_secs(20);
    let ior_string = loop {
        let text = std::fs::read_to_string(server.dir.join("out.txt")).unwrap_or_default();
        if let Some(i) = text.find("Root context is IOR:") {
            let rest = &text[i + "Root context is ".len()..];
            break rest.lines().next().unwrap().trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "omniNames printed no root context:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(server);

    let ior = parse_ior_string(&ior_string).unwrap();
    assert_eq!(ior.type_id, "IDL:omg.org/CosNaming/NamingContextExt:1.0");
    let p = &ior.iiop_profiles().unwrap()[0];
    assert_eq!(
        (p.version, p.host.as_str(), p.port),
        (GiopVersion::V1_2, "127.0.0.1", port)
    );
    assert_eq!(p.object_key, b"NameService");
    assert_eq!(p.orb_type(), Some(OMNIORB_ORB_TYPE));
    assert_eq!(
        p.addresses(),
        [
            ("127.0.0.1".to_owned(), port),
            ("127.0.0.1".to_owned(), alt)
        ]
    );
    assert!(p.component(ComponentId::OMNIORB_UNIX_TRANS).is_some());
    assert!(p.component(ComponentId::OMNIORB_PERSISTENT_ID).is_some());
    let text = ours(&ior, false);
    assert!(text.contains("TAG_OMNIORB_UNIX_TRANS "), "{text}");
    assert!(text.contains(&socket.display().to_string()), "{text}");
    assert_same_as_catior(&ior_string, &ior);

    // The corbaloc URL a client would use for it names the same address and key.
    let loc = Corbaloc::parse(&format!("corbaloc:iiop:1.2@127.0.0.1:{port}/NameService")).unwrap();
    let via_url = &loc
        .to_ior(ByteOrder::NATIVE)
        .unwrap()
        .iiop_profiles()
        .unwrap()[0];
    assert_eq!(
        (via_url.version, &via_url.host, via_url.port),
        (p.version, &p.host, p.port)
    );
    assert_eq!(via_url.object_key, p.object_key);
}

#[test]
fn corbaloc_iors_are_read_by_catior() {
    let loc = Corbaloc::parse("corbaloc::a.example:1,iiop:1.1@[::1]:2,:1.2@c/Dev%2FName%00Service")
        .unwrap();
    let ior = loc.to_ior(ByteOrder::LittleEndian).unwrap();
    let s = ior.to_ior_string().unwrap();
    let (type_id, profiles) = parse_catior(&catior(&s, true));
    assert_eq!(type_id, "");
    let seen: Vec<(String, String, u16, Vec<u8>)> = profiles
        .into_iter()
        .map(|p| (p.version, p.host, p.port, p.key))
        .collect();
    let key = b"Dev/Name\0Service".to_vec();
    assert_eq!(
        seen,
        [
            ("1.0".into(), "a.example".into(), 1, key.clone()),
            ("1.1".into(), "::1".into(), 2, key.clone()),
            ("1.2".into(), "c".into(), 2809, key),
        ]
    );
    assert_same_as_catior(&s, &ior);
}
