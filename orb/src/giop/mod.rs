//! GIOP 1.0, 1.1 and 1.2 (CORBA 3.0 §15.4) and GIOP-lite: a fully deterministic implementation
//! of the messages and their framing, with no networking code and no clock.
//!
//! Bytes in: a [`Framer`] takes whatever a connection read and yields whole messages as
//! [`Frame`]s, fragments already joined (through a [`Reassembler`]). [`Message::decode`]
//! reads a message header, borrowing object keys, operation names, principals and service
//! contexts from the buffer, and says where the body starts. Bytes out: a [`MessageWriter`]
//! writes a header, lets the caller encode the body into the same CDR encoder, and patches the
//! size, cutting the message into Fragments as it goes if asked ([`MessageWriter::fragment`]);
//! [`fragment_message`] splits an already marshalled GIOP 1.2 message.
//!
//! GIOP-lite is rtorb's reduced framing for connections between two rtorb ORBs (after TAO's
//! GIOP-lite): an 8-octet header (type, flags, size) with no magic, version or byte-order flag
//! — the byte order is fixed per connection by the endpoint — and message headers without
//! service contexts or principal. A Request's response flags ride in the header's flags octet.
//!
//! This module never does I/O, never reads a clock, never panics on input and never allocates
//! more than the octets received justify. Sockets live in the transport layer above.

mod error;
mod fragment;
mod framer;
mod header;
mod message;
mod types;

pub use error::{GiopEncodeError, GiopError};
pub use fragment::{fragment_message, Joined, Reassembler};
pub use framer::{Frame, Framer};
pub use header::{GiopHeader, LiteHeader, MsgType, HEADER_LEN, LITE_HEADER_LEN, MAGIC};
pub use message::{
    Header, LocateReplyHeader, LocateRequestHeader, Message, MessageWriter, ReplyHeader,
    RequestHeader, RequestPrefix, WholeRequest,
};
pub use types::{
    AddressingDisposition, CompletionStatus, IorAddressingInfo, LocateStatus, ReplyStatus,
    ResponseFlags, ServiceContextIter, ServiceContextRef, ServiceContexts, SystemExceptionBody,
    TargetAddress,
};

use crate::cdr::GiopVersion;

/// The highest GIOP version this ORB speaks (and answers unsupported versions in).
pub const HIGHEST_VERSION: GiopVersion = GiopVersion::V1_2;

#[cfg(test)]
mod tests;
