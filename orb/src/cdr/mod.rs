//! CDR, the Common Data Representation (CORBA 3.0 §15.3): how IDL values become octets.
//!
//! [`Encoder`] writes into one growable buffer and aligns every primitive to its natural boundary,
//! counted from an *origin* (the start of the GIOP message or of the innermost encapsulation).
//! [`Decoder`] reads from a borrowed slice, borrows strings and octet sequences where the code set
//! allows, and checks every length against the octets actually present *before* allocating, so a
//! hostile length costs an error, never memory.
//!
//! This module never does I/O and never panics on input.

mod codeset;
mod decoder;
mod encoder;
mod error;
mod fixed;
pub mod local;
mod long_double;
mod traits;
pub mod value;

pub use codeset::{CodeSetId, CodeSets};
pub use decoder::Decoder;
pub use encoder::Encoder;
pub use error::{DecodeError, DecodeErrorKind, EncodeError, ResultExt};
pub use fixed::Fixed;
pub use long_double::LongDouble;
pub use traits::{decode_from_slice, encode_to_vec, CdrDecode, CdrEncode, WChar, WString};
pub use value::ValueTypeInfo;

/// Byte order of a CDR stream; GIOP flags bit 0 and an encapsulation's first octet say which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    BigEndian,
    LittleEndian,
}

impl ByteOrder {
    /// The byte order of the machine we run on: encoding in it makes the receiver's job cheapest
    /// when the peer is like us ("receiver makes right").
    #[cfg(target_endian = "little")]
    pub const NATIVE: ByteOrder = ByteOrder::LittleEndian;
    #[cfg(target_endian = "big")]
    pub const NATIVE: ByteOrder = ByteOrder::BigEndian;

    /// From the GIOP flags / encapsulation octet: bit 0 set means little-endian.
    pub fn from_flag(flag: u8) -> ByteOrder {
        if flag & 1 == 1 {
            ByteOrder::LittleEndian
        } else {
            ByteOrder::BigEndian
        }
    }

    /// The value of bit 0 of the GIOP flags / encapsulation octet.
    pub fn flag(self) -> u8 {
        match self {
            ByteOrder::BigEndian => 0,
            ByteOrder::LittleEndian => 1,
        }
    }
}

/// A GIOP protocol version; CDR needs it because wide characters are encoded differently in
/// GIOP 1.1 and 1.2 (and not at all in 1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GiopVersion {
    pub major: u8,
    pub minor: u8,
}

impl GiopVersion {
    pub const V1_0: GiopVersion = GiopVersion { major: 1, minor: 0 };
    pub const V1_1: GiopVersion = GiopVersion { major: 1, minor: 1 };
    pub const V1_2: GiopVersion = GiopVersion { major: 1, minor: 2 };

    pub const fn new(major: u8, minor: u8) -> GiopVersion {
        GiopVersion { major, minor }
    }
}

impl std::fmt::Display for GiopVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests;
