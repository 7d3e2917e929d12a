//! Stringified IORs (CORBA 3.0 §13.6.9): `"IOR:"` followed by the hex digits of a CDR
//! encapsulation of the `IOP::IOR`, byte-order octet first.
//!
//! Parsing decodes all the hex into one buffer (no allocation per character) and then the CDR;
//! it never panics, whatever the text. Errors point at the character that is wrong.

use super::component::open_encapsulation;
use super::error::char_position;
use super::IorError;
use crate::cdr::{ByteOrder, CdrDecode, CdrEncode, DecodeError, EncodeError, Encoder};
use crate::iop::Ior;

const PREFIX: &str = "IOR:";

/// Parses a stringified IOR. The `IOR:` prefix is matched without regard to case, hex digits
/// may be upper or lower case, and trailing whitespace (the newline at the end of an IOR file)
/// is ignored.
pub fn parse_ior_string(s: &str) -> Result<Ior, IorError> {
    let bytes = ior_string_octets(s)?;
    decode_ior_encapsulation(&bytes).map_err(|source| {
        // Each octet is two hex digits after the prefix; an offset at the very end (truncated
        // input) points just past the last digit.
        let position = PREFIX.len() + 2 * source.offset();
        IorError::Cdr {
            source,
            position: Some(position),
        }
    })
}

/// The octets a stringified IOR's hex digits stand for (the encapsulation, not yet decoded).
pub fn ior_string_octets(s: &str) -> Result<Vec<u8>, IorError> {
    let s = s.trim_end_matches(|c: char| c.is_ascii_whitespace());
    match s.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => {}
        _ => {
            return Err(IorError::UnknownScheme {
                expected: "\"IOR:\"",
            })
        }
    }
    let hex = &s.as_bytes()[PREFIX.len()..];
    let mut out = Vec::with_capacity(hex.len() / 2);
    let bad = |i: usize| {
        let at = PREFIX.len() + i;
        IorError::InvalidHexDigit {
            // The first bad byte of a multi-byte character is its leading byte, so `at` is a
            // character boundary; `get` keeps even a mistake there from panicking.
            found: s
                .get(at..)
                .and_then(|t| t.chars().next())
                .unwrap_or('\u{fffd}'),
            position: char_position(s, at),
        }
    };
    let mut pairs = hex.chunks_exact(2);
    for (n, pair) in pairs.by_ref().enumerate() {
        let hi = hex_value(pair[0]).ok_or_else(|| bad(2 * n))?;
        let lo = hex_value(pair[1]).ok_or_else(|| bad(2 * n + 1))?;
        out.push(hi << 4 | lo);
    }
    if let [last] = pairs.remainder() {
        let i = hex.len() - 1;
        return Err(match hex_value(*last) {
            Some(_) => IorError::OddHexLength {
                position: char_position(s, PREFIX.len() + i),
            },
            None => bad(i),
        });
    }
    Ok(out)
}

#[inline]
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes an IOR from its encapsulation (byte-order octet first) that must fill `bytes`.
pub fn decode_ior_encapsulation(bytes: &[u8]) -> Result<Ior, DecodeError> {
    let mut dec = open_encapsulation(bytes)?;
    let ior = Ior::decode(&mut dec)?;
    dec.expect_end()?;
    Ok(ior)
}

/// Encodes `ior` as an encapsulation in `order`.
pub fn encode_ior_encapsulation(ior: &Ior, order: ByteOrder) -> Result<Vec<u8>, EncodeError> {
    let mut enc = Encoder::new(order);
    enc.write_octet(order.flag());
    ior.encode(&mut enc)?;
    Ok(enc.into_vec())
}

impl Ior {
    /// The stringified form, `IOR:` and lower-case hex, in this machine's byte order (as
    /// omniORB writes it, so that our strings and omniORB's agree on the same machine).
    pub fn to_ior_string(&self) -> Result<String, EncodeError> {
        self.to_ior_string_in(ByteOrder::NATIVE)
    }

    /// The stringified form with the encapsulation in `order`.
    pub fn to_ior_string_in(&self, order: ByteOrder) -> Result<String, EncodeError> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let bytes = encode_ior_encapsulation(self, order)?;
        let mut s = String::with_capacity(PREFIX.len() + 2 * bytes.len());
        s.push_str(PREFIX);
        for b in bytes {
            s.push(DIGITS[(b >> 4) as usize] as char);
            s.push(DIGITS[(b & 0xf) as usize] as char);
        }
        Ok(s)
    }
}

impl std::str::FromStr for Ior {
    type Err = IorError;

    /// See [`parse_ior_string`].
    fn from_str(s: &str) -> Result<Ior, IorError> {
        parse_ior_string(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iop::{ProfileId, TaggedProfile};

    /// `genior IDL:Test/Echo:1.0 localhost 2809 MyKey`.
    const GENIOR: &str = "IOR:010000001200000049444c3a546573742f4563686f3a312e30000000010000000000000058000000010102000a0000006c6f63616c686f737400f90a050000004d794b65790000000200000000000000080000000100000000545441010000001c00000001000000010001000100000001000105090101000100000009010100";

    #[test]
    fn genior_string_decodes_and_reencodes_exactly() {
        let ior: Ior = GENIOR.parse().unwrap();
        assert_eq!(ior.type_id, "IDL:Test/Echo:1.0");
        assert_eq!(ior.profiles.len(), 1);
        assert_eq!(ior.profiles[0].tag, ProfileId::INTERNET_IOP);
        assert_eq!(ior.profiles[0].data.len(), 0x58);
        assert_eq!(
            ior.to_ior_string_in(ByteOrder::LittleEndian).unwrap(),
            GENIOR
        );
        let upper = format!("ior:{}\r\n \t", GENIOR[4..].to_uppercase());
        assert_eq!(parse_ior_string(&upper).unwrap(), ior);
    }

    #[test]
    fn hand_computed_big_endian_ior() {
        let ior = Ior {
            type_id: "IDL:A:1.0".into(),
            profiles: vec![TaggedProfile {
                tag: ProfileId(0x0102_0304),
                data: vec![0xab],
            }],
        };
        let expected = concat!(
            "IOR:",
            "00000000",             // byte order BE + pad
            "0000000a",             // type id length 10
            "49444c3a413a312e3000", // "IDL:A:1.0\0"
            "0000",                 // pad to 4
            "00000001",             // one profile
            "01020304",             // tag
            "00000001",             // data length
            "ab",
        );
        assert_eq!(
            ior.to_ior_string_in(ByteOrder::BigEndian).unwrap(),
            expected
        );
        assert_eq!(parse_ior_string(expected).unwrap(), ior);
    }

    #[test]
    fn nil_reference_as_omniorb_writes_it() {
        let nil = "IOR:01000000010000000000000000000000";
        let ior = parse_ior_string(nil).unwrap();
        assert!(ior.is_nil());
        assert_eq!(ior.to_ior_string_in(ByteOrder::LittleEndian).unwrap(), nil);
    }

    #[test]
    fn hex_errors_give_the_character_position() {
        assert_eq!(
            parse_ior_string("IOR:01x0").unwrap_err(),
            IorError::InvalidHexDigit {
                found: 'x',
                position: 6
            }
        );
        assert_eq!(
            parse_ior_string("IOR:0100000").unwrap_err(),
            IorError::OddHexLength { position: 10 }
        );
        assert_eq!(
            parse_ior_string("IOR:010000g").unwrap_err(),
            IorError::InvalidHexDigit {
                found: 'g',
                position: 10
            }
        );
        // Non-ASCII counts as one character.
        assert_eq!(
            parse_ior_string("IOR:00é0").unwrap_err(),
            IorError::InvalidHexDigit {
                found: 'é',
                position: 6
            }
        );
        // Inner whitespace is not tolerated; only trailing.
        assert_eq!(
            parse_ior_string("IOR:01 00").unwrap_err().position(),
            Some(6)
        );
        assert_eq!(
            parse_ior_string("IOP:00").unwrap_err(),
            IorError::UnknownScheme {
                expected: "\"IOR:\""
            }
        );
        assert!(parse_ior_string("IO").is_err());
        assert!(parse_ior_string("").is_err());
        assert!(parse_ior_string("é").is_err());
    }

    #[test]
    fn cdr_errors_give_offset_field_and_character_position() {
        // Type id length 0x100 but nothing follows.
        let e = parse_ior_string("IOR:0100000000010000").unwrap_err();
        let d = e.decode_error().unwrap();
        assert_eq!(d.offset(), 4);
        assert_eq!(d.path(), "type_id");
        assert_eq!(e.position(), Some(12));
        assert!(e.to_string().contains("character 12"), "{e}");
        // Empty: no byte-order octet.
        assert!(parse_ior_string("IOR:")
            .unwrap_err()
            .decode_error()
            .is_some());
        // Trailing octets after the IOR.
        let e = parse_ior_string("IOR:0100000001000000000000000000000000").unwrap_err();
        assert_eq!(e.decode_error().unwrap().offset(), 16);
    }
}
