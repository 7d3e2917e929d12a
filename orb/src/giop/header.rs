//! The fixed-size headers that frame a message: GIOP's 12 octets (§15.4.1) and GIOP-lite's 8.
//!
//! Parsing a header validates everything a framer must know before it buffers the rest of the
//! message (magic, version, flags, type), so garbage is refused after at most 12 octets.

use super::{GiopError, HIGHEST_VERSION};
use crate::cdr::{ByteOrder, GiopVersion};
use std::fmt;

/// The four octets every GIOP message starts with.
pub const MAGIC: [u8; 4] = *b"GIOP";
/// Length of the GIOP message header.
pub const HEADER_LEN: usize = 12;
/// Length of the GIOP-lite message header.
pub const LITE_HEADER_LEN: usize = 8;

const FLAG_LITTLE_ENDIAN: u8 = 0x01;
const FLAG_MORE_FRAGMENTS: u8 = 0x02;

/// `GIOP::MsgType`, open so that a value outside the enum is reported, not lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgType(pub u8);

impl MsgType {
    pub const REQUEST: MsgType = MsgType(0);
    pub const REPLY: MsgType = MsgType(1);
    pub const CANCEL_REQUEST: MsgType = MsgType(2);
    pub const LOCATE_REQUEST: MsgType = MsgType(3);
    pub const LOCATE_REPLY: MsgType = MsgType(4);
    pub const CLOSE_CONNECTION: MsgType = MsgType(5);
    pub const MESSAGE_ERROR: MsgType = MsgType(6);
    /// Added in GIOP 1.1.
    pub const FRAGMENT: MsgType = MsgType(7);

    /// The specification's name for a known type.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Request",
            1 => "Reply",
            2 => "CancelRequest",
            3 => "LocateRequest",
            4 => "LocateReply",
            5 => "CloseConnection",
            6 => "MessageError",
            7 => "Fragment",
            _ => return None,
        })
    }

    /// Whether `version` defines this message type.
    pub fn exists_in(self, version: GiopVersion) -> bool {
        match version.minor {
            0 => self.0 <= MsgType::MESSAGE_ERROR.0,
            _ => self.0 <= MsgType::FRAGMENT.0,
        }
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "MsgType({})", self.0),
        }
    }
}

/// The 12-octet GIOP message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GiopHeader {
    pub version: GiopVersion,
    pub order: ByteOrder,
    /// Flags bit 1 (GIOP 1.1 and later): a Fragment message continues this one.
    pub more_fragments: bool,
    pub msg_type: MsgType,
    /// Octets following the header.
    pub size: u32,
}

impl GiopHeader {
    /// Parses and validates the first [`HEADER_LEN`] octets of `bytes` (which may hold more).
    pub fn parse(bytes: &[u8]) -> Result<GiopHeader, GiopError> {
        let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(GiopError::Incomplete {
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        };
        let magic = [h[0], h[1], h[2], h[3]];
        if magic != MAGIC {
            return Err(GiopError::BadMagic(magic));
        }
        let version = GiopVersion::new(h[4], h[5]);
        // §15.4.1: only major version 1 exists; a server must process every minor version up
        // to the one it supports, and answer a higher one with MessageError.
        if version.major != 1 || version.minor > HIGHEST_VERSION.minor {
            return Err(GiopError::UnsupportedVersion {
                received: version,
                supported: HIGHEST_VERSION,
            });
        }
        let flags = h[6];
        // §15.4.1: GIOP 1.0 carries a boolean byte_order here; 1.1 turned it into flags whose
        // six most significant bits are reserved and must be 0.
        let allowed = if version.minor == 0 {
            FLAG_LITTLE_ENDIAN
        } else {
            FLAG_LITTLE_ENDIAN | FLAG_MORE_FRAGMENTS
        };
        if flags & !allowed != 0 {
            return Err(GiopError::InvalidFlags { version, flags });
        }
        let msg_type = MsgType(h[7]);
        if !msg_type.exists_in(version) {
            if msg_type == MsgType::FRAGMENT {
                return Err(GiopError::FragmentInGiop10);
            }
            return Err(GiopError::UnknownMessageType { msg_type, version });
        }
        let order = ByteOrder::from_flag(flags);
        let size_bytes = [h[8], h[9], h[10], h[11]];
        let size = match order {
            ByteOrder::BigEndian => u32::from_be_bytes(size_bytes),
            ByteOrder::LittleEndian => u32::from_le_bytes(size_bytes),
        };
        Ok(GiopHeader {
            version,
            order,
            more_fragments: flags & FLAG_MORE_FRAGMENTS != 0,
            msg_type,
            size,
        })
    }

    /// The flags octet (GIOP 1.0: the byte_order boolean).
    pub fn flags(&self) -> u8 {
        let more = if self.more_fragments {
            FLAG_MORE_FRAGMENTS
        } else {
            0
        };
        self.order.flag() | more
    }

    /// The header's octets.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let size = match self.order {
            ByteOrder::BigEndian => self.size.to_be_bytes(),
            ByteOrder::LittleEndian => self.size.to_le_bytes(),
        };
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4] = self.version.major;
        h[5] = self.version.minor;
        h[6] = self.flags();
        h[7] = self.msg_type.0;
        h[8..].copy_from_slice(&size);
        h
    }

    /// Header plus the announced size, computed without overflow on 32-bit targets.
    pub fn message_len(&self) -> u64 {
        HEADER_LEN as u64 + self.size as u64
    }
}

/// The 8-octet GIOP-lite header: message type, flags, two reserved octets, then the size as an
/// aligned `unsigned long` in the connection's byte order.
///
/// There is no magic, version or byte-order flag: both ends are rtorb ORBs that agreed on the
/// byte order through the endpoint they connected on. Putting the type first means a GIOP
/// stream (starting with `'G'`, 0x47) is refused at its first octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiteHeader {
    pub msg_type: MsgType,
    /// Request: the response flags; zero for every other message type.
    pub flags: u8,
    pub size: u32,
}

impl LiteHeader {
    /// Parses and validates the first [`LITE_HEADER_LEN`] octets of `bytes`.
    pub fn parse(bytes: &[u8], order: ByteOrder) -> Result<LiteHeader, GiopError> {
        let Some(h) = bytes.first_chunk::<LITE_HEADER_LEN>() else {
            return Err(GiopError::Incomplete {
                needed: LITE_HEADER_LEN,
                available: bytes.len(),
            });
        };
        let invalid = |what| GiopError::InvalidLiteHeader { what, octets: *h };
        let msg_type = MsgType(h[0]);
        // GIOP-lite never fragments: both peers are rtorb and bound messages by size instead.
        if msg_type.0 > MsgType::MESSAGE_ERROR.0 {
            return Err(invalid("unknown message type"));
        }
        if h[2] != 0 || h[3] != 0 {
            return Err(invalid("reserved octets are not zero"));
        }
        if msg_type != MsgType::REQUEST && h[1] != 0 {
            return Err(invalid("flags set on a message other than Request"));
        }
        let size_bytes = [h[4], h[5], h[6], h[7]];
        let size = match order {
            ByteOrder::BigEndian => u32::from_be_bytes(size_bytes),
            ByteOrder::LittleEndian => u32::from_le_bytes(size_bytes),
        };
        Ok(LiteHeader {
            msg_type,
            flags: h[1],
            size,
        })
    }

    pub fn message_len(&self) -> u64 {
        LITE_HEADER_LEN as u64 + self.size as u64
    }
}
