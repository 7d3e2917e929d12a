//! `corbaloc:` and `corbaname:` object URLs (Interoperable Naming Service, CORBA 3.0 §13.6.10):
//! parsing, formatting, and turning a `corbaloc:` into the IOR a client invokes.
//!
//! ```text
//! corbaloc      = "corbaloc:" obj_addr_list ["/" key_string]
//! corbaname     = "corbaname:" obj_addr_list ["/" key_string] ["#" string_name]
//! obj_addr_list = [obj_addr ","]* obj_addr
//! obj_addr      = "rir:" | (":" | "iiop:") [major "." minor "@"] host [":" port] | future_prot_addr
//! ```
//!
//! Parsing never panics and never resolves anything: no DNS, no initial references. Errors give
//! the character position of what is wrong.

use super::{IiopProfile, IorError};
use crate::cdr::{ByteOrder, GiopVersion};
use crate::iop::Ior;
use std::fmt;

/// The port an `iiop` address without one means (§13.6.10.3: "the default port is 2809").
pub const DEFAULT_IIOP_PORT: u16 = 2809;

/// The key a `corbaname:` URL without one means.
pub const DEFAULT_NAMING_KEY: &[u8] = b"NameService";

/// One IIOP address of a `corbaloc:` URL. `version` and `port` are kept as written (absent or
/// not) so that a URL formats back the way it was given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IiopAddr {
    pub version: Option<GiopVersion>,
    /// A DNS name, an IPv4 address, or an IPv6 address *without* its brackets.
    pub host: String,
    pub port: Option<u16>,
}

impl IiopAddr {
    pub fn new(host: impl Into<String>, port: u16) -> IiopAddr {
        IiopAddr {
            version: None,
            host: host.into(),
            port: Some(port),
        }
    }

    /// The version, or 1.0 when none was written (§13.6.10.3: "If the version is absent, 1.0
    /// is assumed").
    pub fn version_or_default(&self) -> GiopVersion {
        self.version.unwrap_or(GiopVersion::V1_0)
    }

    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_IIOP_PORT)
    }
}

/// One address of an `obj_addr_list`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjAddr {
    Iiop(IiopAddr),
    /// `rir:` — the key is an ObjectId for `resolve_initial_references`.
    Rir,
    /// A protocol this ORB does not know (`future_prot_addr`), kept as written.
    Other {
        protocol: String,
        address: String,
    },
}

/// A parsed `corbaloc:` URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Corbaloc {
    /// At least one.
    pub addresses: Vec<ObjAddr>,
    /// The object key with `%HH` escapes turned into octets (empty when the URL has none).
    pub key: Vec<u8>,
}

/// A parsed `corbaname:` URL: where the naming context is, and the name to resolve in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Corbaname {
    /// The naming context; its key is `NameService` when the URL gives none.
    pub context: Corbaloc,
    /// The stringified name (`a/b.kind`), unescaped; empty means the context itself.
    pub string_name: String,
}

/// Strips a case-insensitive scheme (URL schemes are case-insensitive, RFC 2396 §3.1).
fn strip_scheme<'a>(s: &'a str, scheme: &'static str) -> Option<&'a str> {
    match s.get(..scheme.len()) {
        Some(p) if p.eq_ignore_ascii_case(scheme) => Some(&s[scheme.len()..]),
        _ => None,
    }
}

fn trim_input(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_ascii_whitespace())
}

impl Corbaloc {
    /// A URL with the given addresses and key.
    pub fn new(addresses: Vec<ObjAddr>, key: impl Into<Vec<u8>>) -> Corbaloc {
        Corbaloc {
            addresses,
            key: key.into(),
        }
    }

    /// Parses a `corbaloc:` URL (scheme and protocol names in any case; trailing whitespace
    /// ignored).
    pub fn parse(input: &str) -> Result<Corbaloc, IorError> {
        let s = trim_input(input);
        let rest = strip_scheme(s, "corbaloc:").ok_or(IorError::UnknownScheme {
            expected: "\"corbaloc:\"",
        })?;
        let base = s.len() - rest.len();
        let (addresses, key) = parse_addr_list_and_key(input, rest, base)?;
        Ok(Corbaloc {
            addresses,
            key: key.unwrap_or_default(),
        })
    }

    /// Whether this is a `corbaloc:rir:` URL.
    pub fn is_rir(&self) -> bool {
        self.addresses.iter().any(|a| matches!(a, ObjAddr::Rir))
    }

    pub fn iiop_addresses(&self) -> impl Iterator<Item = &IiopAddr> {
        self.addresses.iter().filter_map(|a| match a {
            ObjAddr::Iiop(a) => Some(a),
            _ => None,
        })
    }

    /// The IOR a client invokes for this URL: an empty type id (§13.6.10.1: the type id is
    /// unknown until the object is asked) and one IIOP profile per `iiop` address, in order, each
    /// with the URL's key. Addresses of unknown protocols are left out; `rir:` has no address.
    pub fn to_ior(&self, order: ByteOrder) -> Result<Ior, IorError> {
        if self.is_rir() {
            return Err(IorError::RirHasNoAddress);
        }
        let profiles = self
            .iiop_addresses()
            .map(|a| {
                IiopProfile::new(
                    a.version_or_default(),
                    a.host.clone(),
                    a.port_or_default(),
                    self.key.clone(),
                )
                .to_tagged(order)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if profiles.is_empty() {
            return Err(IorError::NoIiopAddress);
        }
        Ok(Ior {
            type_id: String::new(),
            profiles,
        })
    }
}

impl Corbaname {
    /// Parses a `corbaname:` URL.
    pub fn parse(input: &str) -> Result<Corbaname, IorError> {
        let s = trim_input(input);
        let rest = strip_scheme(s, "corbaname:").ok_or(IorError::UnknownScheme {
            expected: "\"corbaname:\"",
        })?;
        let base = s.len() - rest.len();
        let (loc, name) = match rest.find('#') {
            Some(i) => (&rest[..i], Some((&rest[i + 1..], base + i + 1))),
            None => (rest, None),
        };
        let (addresses, key) = parse_addr_list_and_key(input, loc, base)?;
        // INS: "If the key_string is not specified, the default is NameService"; an empty one
        // names no object either, so it gets the default too.
        let key = match key {
            Some(k) if !k.is_empty() => k,
            _ => DEFAULT_NAMING_KEY.to_vec(),
        };
        let string_name = match name {
            Some((text, at)) => {
                let octets = unescape(input, text, at, NAME_MUST_ESCAPE)?;
                String::from_utf8(octets).map_err(|e| {
                    // Point at the escape that produced the bad octet: count octets back to it.
                    let bad = e.utf8_error().valid_up_to();
                    IorError::syntax(
                        "string name is not UTF-8 once unescaped",
                        input,
                        at + escaped_index(text, bad),
                    )
                })?
            }
            None => String::new(),
        };
        Ok(Corbaname {
            context: Corbaloc { addresses, key },
            string_name,
        })
    }
}

/// The byte index in `text` where octet number `n` of its unescaped form starts.
fn escaped_index(text: &str, n: usize) -> usize {
    let b = text.as_bytes();
    let (mut i, mut octets) = (0, 0);
    while i < b.len() && octets < n {
        i += if b[i] == b'%' { 3 } else { 1 };
        octets += 1;
    }
    i.min(b.len())
}

/// Parses `obj_addr_list ["/" key_string]`; `rest` starts at byte `base` of `input`.
fn parse_addr_list_and_key(
    input: &str,
    rest: &str,
    base: usize,
) -> Result<(Vec<ObjAddr>, Option<Vec<u8>>), IorError> {
    // obj_addr cannot contain '/' (IPv6 brackets hold none either), so the first '/' ends the
    // list; the key string may contain more.
    let (list, key) = match rest.find('/') {
        Some(i) => (&rest[..i], Some((&rest[i + 1..], base + i + 1))),
        None => (rest, None),
    };
    let mut addresses = Vec::new();
    let mut at = base;
    for addr in list.split(',') {
        addresses.push(parse_obj_addr(input, addr, at)?);
        at += addr.len() + 1;
    }
    // "The rir protocol can not be used with any other protocol in a URL": it names a local
    // initial reference, so there is nothing to fail over to.
    if addresses.len() > 1 && addresses.iter().any(|a| matches!(a, ObjAddr::Rir)) {
        return Err(IorError::syntax(
            "rir: cannot be combined with other addresses",
            input,
            base,
        ));
    }
    let key = match key {
        Some((text, at)) => Some(unescape(input, text, at, KEY_MUST_ESCAPE)?),
        None => None,
    };
    Ok((addresses, key))
}

fn parse_obj_addr(input: &str, addr: &str, at: usize) -> Result<ObjAddr, IorError> {
    if addr.is_empty() {
        return Err(IorError::syntax("empty address", input, at));
    }
    let Some(colon) = addr.find(':') else {
        return Err(IorError::syntax(
            "expected a protocol (\"iiop:\", \":\" or \"rir:\") before the address",
            input,
            at,
        ));
    };
    let (protocol, rest) = (&addr[..colon], &addr[colon + 1..]);
    let rest_at = at + colon + 1;
    if protocol.is_empty() || protocol.eq_ignore_ascii_case("iiop") {
        return parse_iiop_addr(input, rest, rest_at).map(ObjAddr::Iiop);
    }
    if protocol.eq_ignore_ascii_case("rir") {
        if !rest.is_empty() {
            return Err(IorError::syntax("rir: takes no address", input, rest_at));
        }
        return Ok(ObjAddr::Rir);
    }
    if let Some(i) = protocol.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        return Err(IorError::syntax(
            "invalid character in protocol name",
            input,
            at + i,
        ));
    }
    Ok(ObjAddr::Other {
        protocol: protocol.to_owned(),
        address: rest.to_owned(),
    })
}

fn parse_iiop_addr(input: &str, s: &str, at: usize) -> Result<IiopAddr, IorError> {
    let (version, s, at) = match s.find('@') {
        Some(i) => (
            Some(parse_version(input, &s[..i], at)?),
            &s[i + 1..],
            at + i + 1,
        ),
        None => (None, s, at),
    };
    let (host, after) = if let Some(inner) = s.strip_prefix('[') {
        // RFC 2732: an IPv6 literal is bracketed so its colons are not taken for the port's.
        let Some(close) = inner.find(']') else {
            return Err(IorError::syntax(
                "missing ']' after IPv6 address",
                input,
                at,
            ));
        };
        let host = &inner[..close];
        if host.is_empty() {
            return Err(IorError::syntax("empty IPv6 address", input, at + 1));
        }
        if let Some(i) = host.find(|c: char| !(c.is_ascii_alphanumeric() || ":.%-_".contains(c))) {
            return Err(IorError::syntax(
                "invalid character in IPv6 address",
                input,
                at + 1 + i,
            ));
        }
        (host, &inner[close + 1..])
    } else {
        let end = s.find(':').unwrap_or(s.len());
        let host = &s[..end];
        if host.is_empty() {
            return Err(IorError::syntax("missing host", input, at));
        }
        if let Some(i) =
            host.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'))
        {
            return Err(IorError::syntax("invalid character in host", input, at + i));
        }
        (host, &s[end..])
    };
    let after_at = at + (s.len() - after.len());
    let port = match after.strip_prefix(':') {
        Some(digits) => Some(parse_number(input, digits, after_at + 1, PORT_ERRORS)?),
        None if after.is_empty() => None,
        None => {
            return Err(IorError::syntax(
                "expected ':' and a port after the host",
                input,
                after_at,
            ))
        }
    };
    Ok(IiopAddr {
        version,
        host: host.to_owned(),
        port,
    })
}

fn parse_version(input: &str, s: &str, at: usize) -> Result<GiopVersion, IorError> {
    let Some(dot) = s.find('.') else {
        return Err(IorError::syntax(
            "expected a version \"major.minor@\"",
            input,
            at,
        ));
    };
    let major: u8 = parse_number(input, &s[..dot], at, VERSION_ERRORS)?;
    let minor: u8 = parse_number(input, &s[dot + 1..], at + dot + 1, VERSION_ERRORS)?;
    Ok(GiopVersion::new(major, minor))
}

/// The messages for one kind of number: empty, bad digit, out of range.
type NumberErrors = [&'static str; 3];
const PORT_ERRORS: NumberErrors = [
    "expected a port number",
    "invalid character in port",
    "port is larger than 65535",
];
const VERSION_ERRORS: NumberErrors = [
    "expected a version number",
    "invalid character in version",
    "version number is larger than 255",
];

fn parse_number<T: TryFrom<u32>>(
    input: &str,
    s: &str,
    at: usize,
    [empty, bad_digit, too_big]: NumberErrors,
) -> Result<T, IorError> {
    if s.is_empty() {
        return Err(IorError::syntax(empty, input, at));
    }
    let mut v: u32 = 0;
    for (i, c) in s.bytes().enumerate() {
        if !c.is_ascii_digit() {
            return Err(IorError::syntax(bad_digit, input, at + i));
        }
        v = v.saturating_mul(10).saturating_add((c - b'0') as u32);
    }
    T::try_from(v).map_err(|_| IorError::syntax(too_big, input, at))
}

/// INS key strings: "US-ASCII alphanumeric characters and the following characters are not
/// escaped: `; / : ? @ & = + $ , - _ . ! ~ * ' ( )`. All others are escaped."
pub fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b";/:?@&=+$,-_.!~*'()".contains(&c)
}

/// Escapes octets for a key string or string name: unreserved ones as themselves, the rest
/// as `%HH` (upper-case hex).
pub fn escape(octets: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(octets.len());
    for &b in octets {
        if is_unreserved(b) {
            s.push(b as char);
        } else {
            s.push('%');
            s.push(DIGITS[(b >> 4) as usize] as char);
            s.push(DIGITS[(b & 0xf) as usize] as char);
        }
    }
    s
}

const KEY_MUST_ESCAPE: &str = "character must be %-escaped in a key string";
const NAME_MUST_ESCAPE: &str = "character must be %-escaped in a string name";

/// Unescapes a key string (`%HH` to octets); only unreserved characters may appear literally.
pub fn unescape_key(s: &str) -> Result<Vec<u8>, IorError> {
    unescape(s, s, 0, KEY_MUST_ESCAPE)
}

/// `text` starts at byte `at` of `input` (for positions).
fn unescape(
    input: &str,
    text: &str,
    at: usize,
    must_escape: &'static str,
) -> Result<Vec<u8>, IorError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let digit = |j: usize| {
                    b.get(j)
                        .and_then(|&c| (c as char).to_digit(16))
                        .ok_or_else(|| {
                            IorError::syntax(
                                "'%' must be followed by two hex digits",
                                input,
                                at + i,
                            )
                        })
                };
                let v = digit(i + 1)? << 4 | digit(i + 2)?;
                out.push(v as u8);
                i += 3;
            }
            c if is_unreserved(c) => {
                out.push(c);
                i += 1;
            }
            _ => return Err(IorError::syntax(must_escape, input, at + i)),
        }
    }
    Ok(out)
}

impl fmt::Display for IiopAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("iiop:")?;
        if let Some(v) = self.version {
            write!(f, "{}.{}@", v.major, v.minor)?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ObjAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjAddr::Iiop(a) => write!(f, "{a}"),
            ObjAddr::Rir => f.write_str("rir:"),
            ObjAddr::Other { protocol, address } => write!(f, "{protocol}:{address}"),
        }
    }
}

fn write_addr_list(f: &mut fmt::Formatter<'_>, addresses: &[ObjAddr]) -> fmt::Result {
    for (i, a) in addresses.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}

impl fmt::Display for Corbaloc {
    /// `corbaloc:` addresses `/` escaped key; parsing the result gives the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("corbaloc:")?;
        write_addr_list(f, &self.addresses)?;
        write!(f, "/{}", escape(&self.key))
    }
}

impl fmt::Display for Corbaname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("corbaname:")?;
        write_addr_list(f, &self.context.addresses)?;
        write!(f, "/{}", escape(&self.context.key))?;
        if !self.string_name.is_empty() {
            write!(f, "#{}", escape(self.string_name.as_bytes()))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Corbaloc {
    type Err = IorError;
    fn from_str(s: &str) -> Result<Corbaloc, IorError> {
        Corbaloc::parse(s)
    }
}

impl std::str::FromStr for Corbaname {
    type Err = IorError;
    fn from_str(s: &str) -> Result<Corbaname, IorError> {
        Corbaname::parse(s)
    }
}

/// Splits an INS stringified name (Naming Service §2.4.2, as `corbaname:` URLs and
/// `NamingContextExt::to_name` take it) into `(id, kind)` components: components separated
/// by `/`, id and kind by `.`, `\` escaping any of `/ . \`. Empty components are invalid.
pub fn parse_string_name(s: &str) -> Result<Vec<(String, String)>, &'static str> {
    let mut out = Vec::new();
    let (mut id, mut kind) = (String::new(), String::new());
    let mut in_kind = false;
    let mut chars = s.chars();
    let mut finish = |id: &mut String, kind: &mut String, in_kind: &mut bool| {
        if id.is_empty() && kind.is_empty() && !*in_kind {
            return Err("a name component is empty");
        }
        out.push((std::mem::take(id), std::mem::take(kind)));
        *in_kind = false;
        Ok(())
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let e = chars.next().ok_or("the name ends with a lone \\")?;
                if in_kind {
                    kind.push(e)
                } else {
                    id.push(e)
                }
            }
            '.' if !in_kind => in_kind = true,
            '.' => return Err("a name component has two unescaped '.'"),
            '/' => finish(&mut id, &mut kind, &mut in_kind)?,
            c => {
                if in_kind {
                    kind.push(c)
                } else {
                    id.push(c)
                }
            }
        }
    }
    finish(&mut id, &mut kind, &mut in_kind)?;
    Ok(out)
}

/// The INS stringified form of a name (`NamingContextExt::to_string`): the inverse of
/// [`parse_string_name`]. A component with an empty kind is its id alone; one with an empty
/// id is `.kind`; both empty is `.`.
pub fn format_string_name<'a>(components: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    let esc = |out: &mut String, s: &str| {
        for c in s.chars() {
            if matches!(c, '/' | '.' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    };
    for (i, (id, kind)) in components.into_iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        esc(&mut out, id);
        if !kind.is_empty() || id.is_empty() {
            out.push('.');
            esc(&mut out, kind);
        }
    }
    out
}

#[cfg(test)]
mod string_name_tests {
    use super::*;

    #[test]
    fn stringified_names_split_unescape_and_format_back() {
        let n = parse_string_name("a.b/c/d\\.e.f/.k/.").unwrap();
        assert_eq!(
            n,
            vec![
                ("a".into(), "b".into()),
                ("c".into(), "".into()),
                ("d.e".into(), "f".into()),
                ("".into(), "k".into()),
                ("".into(), "".into()),
            ]
        );
        let back = format_string_name(n.iter().map(|(i, k)| (i.as_str(), k.as_str())));
        assert_eq!(back, "a.b/c/d\\.e.f/.k/.");
        assert!(parse_string_name("").is_err());
        assert!(parse_string_name("a//b").is_err());
        assert!(parse_string_name("a\\").is_err());
        assert!(parse_string_name("a.b.c").is_err());
        assert_eq!(format_string_name([("x/y", "")]), "x\\/y");
    }
}
