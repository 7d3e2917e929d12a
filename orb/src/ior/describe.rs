//! A human-readable description of an IOR in the format of omniORB's `catior`, so that our
//! output and omniORB's can be compared line for line (the `ior` example prints it).
//!
//! The text reproduces `catior`'s observable output (checked against omniORB 4.2 by the interop
//! tests), including its quirks: an empty line after `TAG_CODE_SETS` and after
//! `TAG_OMNIORB_PERSISTENT_ID`, component tags in decimal, the profile tag in hex. It only
//! formats; it never does I/O.

use super::component::open_encapsulation;
use super::{
    Component, Corbaloc, IiopProfile, IorError, MultipleComponentProfile, ObjAddr, ObjectUrl,
};
use crate::cdr::ByteOrder;
use crate::cdr::{CdrDecode, DecodeError, Decoder, ResultExt};
use crate::iop::{ComponentId, Ior, ProfileId, TaggedComponent};
use std::fmt::Write;

/// How [`describe`] prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DescribeOptions {
    /// Object keys in hex with their length (`catior -x`) instead of as quoted text.
    pub hex_key: bool,
    /// Says whether each key looks like an omniORB POA or BOA key (`catior -o`).
    pub omniorb_key: bool,
    /// Adds a line with the octets of each component `catior` does not decode (not in
    /// `catior`'s output; off for comparisons).
    pub raw_unknown: bool,
}

/// Describes any reference text `string_to_object` takes: an IOR as [`describe`] does; a
/// `corbaloc:` URL by its addresses and key, then as the IOR a client would invoke; a
/// `corbaname:` URL by its naming context's URL and the name (what `rtorb ior decode` and the
/// `ior` example print).
pub fn describe_url(url: &ObjectUrl, opts: DescribeOptions) -> Result<String, IorError> {
    match url {
        ObjectUrl::Ior(ior) => describe(ior, opts),
        ObjectUrl::Corbaloc(loc) => {
            let mut out = String::from("corbaloc URL\n");
            out.push_str(&describe_corbaloc(loc, opts)?);
            Ok(out)
        }
        ObjectUrl::Corbaname(name) => {
            let mut out = String::from("corbaname URL\nNaming context:\n");
            out.push_str(&describe_corbaloc(&name.context, opts)?);
            let _ = writeln!(out, "Name: {:?}", name.string_name);
            Ok(out)
        }
    }
}

fn describe_corbaloc(loc: &Corbaloc, opts: DescribeOptions) -> Result<String, IorError> {
    let mut out = String::from("Addresses:\n");
    for (i, a) in loc.addresses.iter().enumerate() {
        let line = match a {
            ObjAddr::Iiop(a) => format!(
                "IIOP {} {} {}",
                a.version_or_default(),
                a.host,
                a.port_or_default()
            ),
            ObjAddr::Rir => "rir (resolve_initial_references)".to_owned(),
            ObjAddr::Other { protocol, address } => format!("{protocol} {address} (not supported)"),
        };
        let _ = writeln!(out, "{}. {line}", i + 1);
    }
    out.push_str("Object Key: ");
    if opts.hex_key {
        let hex: String = loc.key.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "0x{hex}  ({} bytes)", loc.key.len());
    } else {
        out.push('"');
        for &b in &loc.key {
            if (b' '..=b'~').contains(&b) {
                out.push(b as char);
            } else {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        out.push_str("\"\n");
    }
    let _ = writeln!(out, "As a URL: {loc}");
    if !loc.is_rir() {
        if let Ok(ior) = loc.to_ior(ByteOrder::NATIVE) {
            let _ = writeln!(out, "As an IOR: {}", ior.to_ior_string()?);
            out.push_str(&describe(&ior, opts)?);
        }
    }
    Ok(out)
}

/// Describes `ior` as `catior` would. Fails, as `catior` does, on an IIOP or
/// multiple-components profile that does not decode.
pub fn describe(ior: &Ior, opts: DescribeOptions) -> Result<String, IorError> {
    let mut out = String::new();
    if ior.profiles.is_empty() && ior.type_id.is_empty() {
        out.push_str("IOR is a nil object reference.\n");
        return Ok(out);
    }
    let _ = writeln!(out, "Type ID: \"{}\"", ior.type_id);
    out.push_str("Profiles:\n");
    for (i, p) in ior.profiles.iter().enumerate() {
        let _ = write!(out, "{}. ", i + 1);
        match p.tag {
            ProfileId::INTERNET_IOP => {
                let body = IiopProfile::from_tagged(p)?;
                let _ = write!(
                    out,
                    "IIOP {}.{} {} {} ",
                    body.version.major, body.version.minor, body.host, body.port
                );
                if opts.omniorb_key {
                    out.push_str(&omniorb_key_kind(&body.object_key));
                }
                write_key(&mut out, &body.object_key, opts.hex_key);
                write_components(&mut out, &body.components, opts);
                out.push('\n');
            }
            ProfileId::MULTIPLE_COMPONENTS => {
                out.push_str("Multiple Component Profile ");
                let m = MultipleComponentProfile::from_tagged(p)?;
                write_components(&mut out, &m.components, opts);
                out.push('\n');
            }
            other => {
                let _ = writeln!(out, "Unrecognised profile tag: 0x{:x}", other.0);
            }
        }
    }
    Ok(out)
}

/// `catior`'s rendering of one octet: printable ASCII as itself, anything else as `\xHH`.
fn push_char(out: &mut String, b: u8) {
    if (b' '..=b'~').contains(&b) {
        out.push(b as char);
    } else {
        let _ = write!(out, "\\x{b:02x}");
    }
}

fn write_key(out: &mut String, key: &[u8], hex: bool) {
    if hex {
        out.push_str("0x");
        for b in key {
            let _ = write!(out, "{b:02x}");
        }
        let _ = writeln!(out, "  ({} bytes)", key.len());
    } else {
        out.push('"');
        for &b in key {
            push_char(out, b);
        }
        out.push_str("\"\n");
    }
}

/// `catior -o`'s guess at an omniORB key's layout: `POA(root/child) ` for a POA key, `BOA `
/// for a 12-octet BOA key, `Unknown ` otherwise.
fn omniorb_key_kind(key: &[u8]) -> String {
    match omniorb_poa_path(key) {
        Some(path) => format!("POA({}) ", path.join("/")),
        None if key.len() == 12 => "BOA ".to_owned(),
        None => "Unknown ".to_owned(),
    }
}

/// omniORB's POA key layout: for each POA below the root, 0xff and its name; then, for a
/// transient POA, 0xfe and an 8-octet suffix; then a NUL and the object id.
fn omniorb_poa_path(key: &[u8]) -> Option<Vec<String>> {
    const POA_NAME_SEP: u8 = 0xff;
    const TRANSIENT_SEP: u8 = 0xfe;
    const TRANSIENT_SUFFIX: usize = 8;
    let mut path = vec!["root".to_owned()];
    let mut rest = key;
    if !matches!(rest.first(), Some(&POA_NAME_SEP) | Some(&TRANSIENT_SEP)) {
        return None;
    }
    while let [POA_NAME_SEP, tail @ ..] = rest {
        let end = tail
            .iter()
            .position(|&b| b == 0 || b == POA_NAME_SEP || b == TRANSIENT_SEP)?;
        path.push(String::from_utf8_lossy(&tail[..end]).into_owned());
        rest = &tail[end..];
    }
    if let [TRANSIENT_SEP, ..] = rest {
        rest = rest.get(1 + TRANSIENT_SUFFIX..)?;
    }
    match rest {
        [0, ..] => Some(path),
        _ => None,
    }
}

fn write_components(out: &mut String, components: &[TaggedComponent], opts: DescribeOptions) {
    for c in components {
        let mut line = String::new();
        match describe_component(&mut line, c) {
            Ok(true) => out.push_str(&line),
            Ok(false) => {
                let _ = writeln!(out, "      Unknown component tag {}", c.tag.0);
                if opts.raw_unknown {
                    out.push_str("        data ");
                    for b in &c.data {
                        let _ = write!(out, "{b:02x}");
                    }
                    out.push('\n');
                }
            }
            Err(_) => {
                let _ = writeln!(out, "            Broken component with tag {}", c.tag.0);
            }
        }
    }
}

/// Writes the description of a component `catior` knows; `Ok(false)` for one it does not.
fn describe_component(out: &mut String, c: &TaggedComponent) -> Result<bool, DecodeError> {
    const INDENT: &str = "      ";
    // catior reads each component's leading fields and ignores whatever follows, so the
    // decoding here is lenient about trailing octets too.
    match c.tag {
        ComponentId::ORB_TYPE | ComponentId::CODE_SETS | ComponentId::ALTERNATE_IIOP_ADDRESS => {
            let mut dec = open_encapsulation(&c.data)?;
            match Component::decode_body(c.tag, &mut dec)? {
                Component::OrbType(t) => {
                    let _ = write!(out, "{INDENT}TAG_ORB_TYPE {} (", orb_vendor(t));
                    for b in t.to_be_bytes() {
                        push_char(out, b);
                    }
                    out.push_str(")\n");
                }
                Component::CodeSets(info) => {
                    let list = |v: &[crate::cdr::CodeSetId]| {
                        v.iter()
                            .map(|cs| codeset_name(cs.0))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let c = &info.for_char_data;
                    let w = &info.for_wchar_data;
                    let _ = writeln!(
                        out,
                        "{INDENT}TAG_CODE_SETS char native code set:       {}",
                        codeset_name(c.native_code_set.0)
                    );
                    let _ = writeln!(
                        out,
                        "                    char conversion code sets:  {}",
                        list(&c.conversion_code_sets)
                    );
                    let _ = writeln!(
                        out,
                        "                    wchar native code set:      {}",
                        codeset_name(w.native_code_set.0)
                    );
                    let _ = writeln!(
                        out,
                        "                    wchar conversion code sets: {}\n",
                        list(&w.conversion_code_sets)
                    );
                }
                Component::AlternateIiopAddress { host, port } => {
                    let _ = writeln!(out, "{INDENT}TAG_ALTERNATE_IIOP_ADDRESS {host} {port}");
                }
                _ => return Ok(false),
            }
        }
        ComponentId::SSL_SEC_TRANS => {
            out.push_str("      TAG_SSL_SEC_TRANS");
            match ssl_fields(&c.data) {
                Ok((supports, requires, port, visibroker)) => {
                    let _ = write!(
                        out,
                        " port = {port} supports {supports} requires {requires}"
                    );
                    if visibroker {
                        out.push_str(" (visibroker format)");
                    }
                }
                Err(_) => out.push_str(" (non-standard and unknown format)"),
            }
            out.push('\n');
        }
        ComponentId::POLICIES => describe_policies(out, &c.data)?,
        ComponentId::OMNIORB_BIDIR => {
            let mut dec = open_encapsulation(&c.data)?;
            let from = dec.read_string()?;
            let _ = writeln!(out, "{INDENT}TAG_OMNIORB_BIDIR {from}");
        }
        ComponentId::OMNIORB_UNIX_TRANS => {
            let mut dec = open_encapsulation(&c.data)?;
            let host = dec.read_string().field("host")?;
            let file = dec.read_string().field("filename")?;
            let _ = writeln!(out, "{INDENT}TAG_OMNIORB_UNIX_TRANS {host} {file}");
        }
        ComponentId::RTORB_SHMIOP => {
            let mut dec = open_encapsulation(&c.data)?;
            let host = dec.read_string().field("host_id")?;
            let path = dec.read_string().field("path")?;
            let _ = writeln!(out, "{INDENT}TAG_RTORB_SHMIOP host {host} path {path}");
        }
        ComponentId::RTORB_LANES => {
            let mut dec = open_encapsulation(&c.data)?;
            let n = dec.read_seq_len(10).field("lane count")?;
            let _ = write!(out, "{INDENT}TAG_RTORB_LANES");
            for _ in 0..n {
                let priority = dec.read_short().field("priority")?;
                let host = dec.read_string().field("host")?;
                let port = dec.read_ushort().field("port")?;
                let _ = write!(out, " {priority}@{host}:{port}");
            }
            out.push('\n');
        }
        ComponentId::OMNIORB_PERSISTENT_ID => {
            // Raw octets, not an encapsulation.
            out.push_str("      TAG_OMNIORB_PERSISTENT_ID ");
            write_key(out, &c.data, true);
            out.push('\n');
        }
        ComponentId::OMNIORB_RESTRICTED_CONNECTION => {
            let mut dec = open_encapsulation(&c.data)?;
            let version = dec.read_octet()?;
            let flags = dec.read_ushort()?;
            let connection_id = dec.read_ulong()?;
            let max_connections = dec.read_ulong()?;
            let max_threads = dec.read_ulong()?;
            let pad = "                                        ";
            let _ = writeln!(
                out,
                "{INDENT}TAG_OMNIORB_RESTRICTED_CONNECTION version         {version}"
            );
            let _ = write!(out, "{pad}flags          ");
            for (bit, name) in [
                (1, " data_batch"),
                (2, " permit_interleaved"),
                (4, " hold_open"),
            ] {
                if flags & bit != 0 {
                    out.push_str(name);
                }
            }
            if flags == 0 {
                out.push_str(" (none)");
            }
            out.push('\n');
            let _ = writeln!(out, "{pad}connection_id   {connection_id}");
            let _ = writeln!(out, "{pad}max_connections {max_connections}");
            let _ = writeln!(out, "{pad}max_threads     {max_threads}");
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `SSLIOP::SSL` as three ushorts when the encapsulation is the standard 8 octets; otherwise
/// VisiBroker's variant with `unsigned long` association options, as `catior` guesses.
fn ssl_fields(data: &[u8]) -> Result<(u32, u32, u16, bool), DecodeError> {
    let mut dec = open_encapsulation(data)?;
    if data.len() == 8 {
        let s = dec.read_ushort()? as u32;
        let r = dec.read_ushort()? as u32;
        Ok((s, r, dec.read_ushort()?, false))
    } else {
        let s = dec.read_ulong()?;
        let r = dec.read_ulong()?;
        Ok((s, r, dec.read_ushort()?, true))
    }
}

/// `Messaging::PolicyValueSeq`: catior names the two ZIOP policies and numbers the others.
fn describe_policies(out: &mut String, data: &[u8]) -> Result<(), DecodeError> {
    let mut dec = open_encapsulation(data)?;
    let n = dec.read_seq_len(8)?;
    for i in 0..n {
        out.push_str(if i == 0 {
            "      TAG_POLICIES "
        } else {
            "                   "
        });
        let ptype = dec.read_ulong()?;
        let value = <&[u8]>::decode(&mut dec)?;
        match ptype {
            64 => {
                let enabled = open_encapsulation(value)?.read_bool()?;
                let _ = writeln!(out, "ZIOP::COMPRESSION_ENABLING_POLICY_ID: {enabled}");
            }
            65 => {
                out.push_str("ZIOP::COMPRESSOR_ID_LEVEL_LIST_POLICY_ID: \n");
                let mut pe: Decoder<'_> = open_encapsulation(value)?;
                let count = pe.read_seq_len(4)?;
                for _ in 0..count {
                    let id = pe.read_ushort()?;
                    let level = pe.read_ushort()?;
                    const NAMES: [&str; 10] = [
                        "NONE", "GZIP", "PKZIP", "BZIP2", "ZLIB", "LZMA", "LZO", "RZIP", "7X",
                        "XAR",
                    ];
                    let name = NAMES.get(id as usize).copied().unwrap_or("unknown");
                    let _ = writeln!(
                        out,
                        "                           compressor {name}, level {level}"
                    );
                }
            }
            other => {
                let _ = writeln!(out, "unknown({other})");
            }
        }
    }
    Ok(())
}

/// The vendor of an ORB type: OMG's vendor tag registry assigns the top 24 bits (some vendors
/// only the top 16), and `catior` names these.
fn orb_vendor(t: u32) -> &'static str {
    match t & 0xffff_ff00 {
        0x4154_5400 => "omniORB",
        0x4850_0000 | 0x4e53_4400 => "HP",
        0x4942_4d00 => "IBM",
        0x5355_4e00 => "Sun",
        0x4f42_4200 | 0x4245_4100 | 0x574c_5300 => "BEA",
        0x494c_5500 => "Xerox",
        0x5850_5300 | 0x5054_4300 => "PrismTech",
        0x4953_4900 => "AdNovum Informatik",
        0x5649_5300 => "Borland",
        0x4f49_5300 => "Object Interface Systems",
        0x4642_0000 => "FloorBoard Software",
        0x4e4e_4e00 => "Rogue Wave",
        0x4e55_0000 => "Nihon Unisys",
        0x4a42_4b00 => "SilverStream Software",
        0x5441_4f00 => "TAO",
        0x4c43_4200 => "2AB",
        0x4150_5800 => "Univ. of Erlangen-Nuernberg",
        0x4f42_5400 => "ORBit",
        0x4753_4900 => "GemStone Systems",
        0x464a_0000 => "Fujitsu",
        0x4f42_5f00 => "TIBCO",
        0x4f41_4b00 => "Camros Corporation",
        0x4f4f_4300 => "IONA (Orbacus)",
        0x4954_5f00 => "IONA (Orbix)",
        0x4e45_4300 => "NEC",
        0x424c_5500 => "Berry Software",
        0x5649_5400 => "Vitria",
        0x444f_4700 => "Exoffice Technologies",
        0xcb0e_0000 => "Chicago Board of Exchange",
        0x4a41_4300 => "JacORB",
        0x5854_5200 => "Xtradyne Technologies",
        0x5447_5800 => "Top Graph'X",
        0x4164_6100 => "AdaOS Project",
        0x4e4f_4b00 => "Nokia",
        0x4552_4900 => "Ericsson",
        0x5241_5900 => "RayORB",
        0x5341_4e00 => "Sankhya Technologies",
        0x414e_4400 => "Androsoft",
        0x4242_4300 => "Bionic Buffalo",
        0x522e_4300 => "Remoting.Corba",
        0x504f_0000 => "PolyORB",
        0x5449_4400 => "Telefonica",
        _ => "(unknown)",
    }
}

/// OSF code set registry names as `catior` spells them (its UCS-2 names carry the level).
fn codeset_name(id: u32) -> String {
    let name = match id {
        0x0001_0001..=0x0001_0010 if id != 0x0001_000c => {
            return format!("ISO-8859-{}", id & 0xff);
        }
        0x0001_0020 => "ISO-646",
        0x0001_0100 => "UCS-2-level-1",
        0x0001_0101 => "UCS-2-level-2",
        0x0001_0102 => "UCS-2-level-3",
        0x0001_0106 => "UCS-4",
        0x0501_0001 => "UTF-8",
        0x0001_0109 => "UTF-16",
        0x1002_04e2..=0x1002_04ea => return format!("windows-{}", 1250 + (id - 0x1002_04e2)),
        0x1002_0025 => "IBM-037",
        0x1002_01f8 => "IBM-500",
        0x1004_0366 => "SNI-EDF-4",
        0x1002_0567 => "GBK",
        _ => return format!("(0x{id:08x})"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ior::parse_ior_string;

    /// `catior` output for `genior IDL:A:1.0 10.0.0.1 1234 0x00ff41420a7e225c`.
    #[test]
    fn matches_catior_for_a_genior_ior_with_a_binary_key() {
        let ior = parse_ior_string("IOR:010000000a00000049444c3a413a312e30000000010000000000000058000000010102000900000031302e302e302e310000d2040800000000ff41420a7e225c0200000000000000080000000100000000545441010000001c00000001000000010001000100000001000105090101000100000009010100").unwrap();
        let components = "      TAG_ORB_TYPE omniORB (ATT\\x00)
      TAG_CODE_SETS char native code set:       ISO-8859-1
                    char conversion code sets:  UTF-8
                    wchar native code set:      UTF-16
                    wchar conversion code sets: UTF-16


";
        let text = describe(&ior, DescribeOptions::default()).unwrap();
        assert_eq!(
            text,
            format!(
                "Type ID: \"IDL:A:1.0\"\nProfiles:\n1. IIOP 1.2 10.0.0.1 1234 \"\\x00\\xffAB\\x0a~\"\\\"\n{components}"
            )
        );
        let hex = describe(
            &ior,
            DescribeOptions {
                hex_key: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(hex.contains("1. IIOP 1.2 10.0.0.1 1234 0x00ff41420a7e225c  (8 bytes)\n"));
    }

    #[test]
    fn nil_unknown_profile_and_broken_component() {
        assert_eq!(
            describe(&Ior::nil(), DescribeOptions::default()).unwrap(),
            "IOR is a nil object reference.\n"
        );
        let ior = Ior {
            type_id: "IDL:X:1.0".into(),
            profiles: vec![crate::iop::TaggedProfile {
                tag: ProfileId(0x1234),
                data: vec![],
            }],
        };
        assert_eq!(
            describe(&ior, DescribeOptions::default()).unwrap(),
            "Type ID: \"IDL:X:1.0\"\nProfiles:\n1. Unrecognised profile tag: 0x1234\n"
        );
        let mut out = String::new();
        write_components(
            &mut out,
            &[
                TaggedComponent {
                    tag: ComponentId::ORB_TYPE,
                    data: vec![1, 0],
                },
                TaggedComponent {
                    tag: ComponentId(1234),
                    data: vec![0xab],
                },
            ],
            DescribeOptions {
                raw_unknown: true,
                ..Default::default()
            },
        );
        assert_eq!(
            out,
            "            Broken component with tag 0\n      Unknown component tag 1234\n        data ab\n"
        );
    }

    #[test]
    fn omniorb_key_layouts() {
        // An empty POA name is kept, as catior keeps it.
        assert_eq!(omniorb_key_kind(b"\xff\x00id"), "POA(root/) ");
        assert_eq!(omniorb_key_kind(b"\xffa\xffb\x00id"), "POA(root/a/b) ");
        assert_eq!(omniorb_key_kind(b"\xfe12345678\x00id"), "POA(root) ");
        assert_eq!(omniorb_key_kind(b"\xfe1234\x00"), "Unknown ");
        assert_eq!(omniorb_key_kind(b"\xffabc"), "Unknown ");
        assert_eq!(omniorb_key_kind(b"NameService\x00"), "BOA ");
        assert_eq!(omniorb_key_kind(b"NameService"), "Unknown ");
    }

    #[test]
    fn codeset_names_follow_catior() {
        assert_eq!(codeset_name(0x0001_000f), "ISO-8859-15");
        assert_eq!(codeset_name(0x0001_000c), "(0x0001000c)");
        assert_eq!(codeset_name(0x1002_04e4), "windows-1252");
        assert_eq!(codeset_name(0x0001_0100), "UCS-2-level-1");
    }
}
