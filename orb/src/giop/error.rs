//! Errors of the GIOP layer, split by direction: [`GiopError`] for everything received (framing,
//! reassembly, header decoding), [`GiopEncodeError`] for everything sent.
//!
//! A receive error means the peer broke the protocol: the connection answers `MessageError` (in
//! the version [`GiopError::message_error_version`] names) and closes. Errors name the field and
//! the absolute offset through the wrapped [`cdr::DecodeError`].

use super::MsgType;
use crate::cdr::{self, GiopVersion};

/// A received byte stream or message that is not valid GIOP (or GIOP-lite).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GiopError {
    #[error("not a GIOP message: it starts with \"{}\", not \"GIOP\"", .0.escape_ascii())]
    BadMagic([u8; 4]),
    #[error("unsupported GIOP version {received} (the highest this ORB supports is {supported})")]
    UnsupportedVersion {
        received: GiopVersion,
        supported: GiopVersion,
    },
    #[error("unknown message type {msg_type} in GIOP {version}")]
    UnknownMessageType {
        msg_type: MsgType,
        version: GiopVersion,
    },
    #[error("GIOP {version} flags octet {flags:#04x} has reserved bits set")]
    InvalidFlags { version: GiopVersion, flags: u8 },
    #[error("message of {size} octets exceeds the limit of {max} octets")]
    MessageTooLarge { size: u64, max: usize },
    #[error("incomplete message: {available} octets where at least {needed} are needed")]
    Incomplete { needed: usize, available: usize },
    #[error("message header announces {announced} octets but {actual} follow it")]
    SizeMismatch { announced: usize, actual: usize },
    #[error("{msg_type} message: {source}")]
    Decode {
        msg_type: MsgType,
        #[source]
        source: cdr::DecodeError,
    },
    #[error(
        "{msg_type} message must end after its header, but {len} octets follow at offset {offset}"
    )]
    UnexpectedBody {
        msg_type: MsgType,
        offset: usize,
        len: usize,
    },
    #[error("GIOP 1.0 has no fragmentation")]
    FragmentInGiop10,
    #[error("Fragment (GIOP {version}, request id {request_id:?}) with no fragmented message in progress")]
    FragmentWithoutMessage {
        version: GiopVersion,
        request_id: Option<u32>,
    },
    #[error("{msg_type} messages cannot be fragmented in GIOP {version}")]
    FragmentNotAllowed {
        msg_type: MsgType,
        version: GiopVersion,
    },
    #[error("a {msg_type} message arrived between the fragments of a GIOP 1.1 message")]
    InterleavedFragment { msg_type: MsgType },
    #[error("a fragmented message with request id {0} is already being reassembled")]
    DuplicateFragmentedRequest(u32),
    #[error("fragment does not match its initial message: {0}")]
    FragmentMismatch(&'static str),
    #[error("non-final GIOP 1.2 fragment of {len} octets is not a multiple of 8 octets")]
    FragmentNotAligned { len: usize },
    #[error("reassembled messages would hold {size} octets, over the limit of {max}")]
    ReassemblyTooLarge { size: u64, max: usize },
    #[error("not a GIOP-lite message header ({what}): {octets:02x?}")]
    InvalidLiteHeader { what: &'static str, octets: [u8; 8] },
}

impl GiopError {
    /// The GIOP version in which to answer this error with a `MessageError` message.
    ///
    /// §15.4.1: a server that receives a higher minor version than it supports answers with an
    /// error message of the highest minor version it supports, then closes the connection.
    pub fn message_error_version(&self) -> GiopVersion {
        match self {
            GiopError::UnsupportedVersion { supported, .. } => *supported,
            _ => super::HIGHEST_VERSION,
        }
    }

    #[cold]
    pub(crate) fn decode(msg_type: MsgType, source: cdr::DecodeError) -> GiopError {
        GiopError::Decode { msg_type, source }
    }
}

/// A message that cannot be written as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GiopEncodeError {
    #[error(transparent)]
    Cdr(#[from] cdr::EncodeError),
    #[error("{what} cannot be expressed in GIOP {version}")]
    NotInVersion {
        what: &'static str,
        version: GiopVersion,
    },
    #[error("{what} cannot be expressed in GIOP-lite")]
    NotInLite { what: &'static str },
    #[error("message of {0} octets does not fit a GIOP message_size field")]
    TooLarge(usize),
    #[error("cannot fragment this message: {0}")]
    CannotFragment(&'static str),
}
