//! Message headers (§15.4.2–§15.4.9) and GIOP-lite's reduced ones: decoding a whole message
//! buffer into a [`Message`] that borrows from it, and writing one with [`MessageWriter`].
//!
//! The body is never interpreted here: a decoded message says where it starts, and the caller
//! decodes the arguments with alignment counted from the start of the message.

use super::header::{GiopHeader, LiteHeader, HEADER_LEN, LITE_HEADER_LEN, MAGIC};
use super::types::{
    AddressingDisposition, LocateStatus, ReplyStatus, ResponseFlags, ServiceContexts,
    SystemExceptionBody, TargetAddress,
};
use super::{GiopEncodeError, GiopError, MsgType};
use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, Decoder, Encoder, GiopVersion, ResultExt,
};
use crate::iop::Ior;
use std::borrow::Cow;

/// A Request header, the union of every version's fields.
///
/// Fields a version cannot carry must hold their empty value to be encoded in it: before 1.2
/// the target is always [`TargetAddress::KeyAddr`]; from 1.2 on there is no principal; GIOP-lite
/// carries neither service contexts nor a principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    pub request_id: u32,
    /// GIOP 1.0/1.1 carry only [`ResponseFlags::response_expected`]: decoding them yields
    /// [`ResponseFlags::NONE`] or [`ResponseFlags::SYNC_WITH_TARGET`].
    pub response_flags: ResponseFlags,
    pub target: TargetAddress<'a>,
    pub operation: Cow<'a, str>,
    pub service_context: ServiceContexts<'a>,
    /// Deprecated since GIOP 1.0's day and removed in 1.2; kept to decode 1.0/1.1 exactly.
    pub requesting_principal: &'a [u8],
}

impl<'a> RequestHeader<'a> {
    /// A twoway request to `object_key` with no service contexts.
    pub fn new(request_id: u32, object_key: &'a [u8], operation: &'a str) -> RequestHeader<'a> {
        RequestHeader {
            request_id,
            response_flags: ResponseFlags::SYNC_WITH_TARGET,
            target: TargetAddress::KeyAddr(object_key),
            operation: Cow::Borrowed(operation),
            service_context: ServiceContexts::EMPTY,
            requesting_principal: &[],
        }
    }
}

/// A Reply header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyHeader<'a> {
    pub request_id: u32,
    pub reply_status: ReplyStatus,
    pub service_context: ServiceContexts<'a>,
}

/// A LocateRequest header; before GIOP 1.2 the target is always an object key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocateRequestHeader<'a> {
    pub request_id: u32,
    pub target: TargetAddress<'a>,
}

/// A LocateReply header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocateReplyHeader {
    pub request_id: u32,
    pub locate_status: LocateStatus,
}

/// The header of a message of each type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header<'a> {
    Request(RequestHeader<'a>),
    Reply(ReplyHeader<'a>),
    CancelRequest {
        request_id: u32,
    },
    LocateRequest(LocateRequestHeader<'a>),
    LocateReply(LocateReplyHeader),
    CloseConnection,
    MessageError,
    /// GIOP 1.1 fragments carry no request id; 1.2 fragments do.
    Fragment {
        request_id: Option<u32>,
    },
}

impl Header<'_> {
    pub fn msg_type(&self) -> MsgType {
        match self {
            Header::Request(_) => MsgType::REQUEST,
            Header::Reply(_) => MsgType::REPLY,
            Header::CancelRequest { .. } => MsgType::CANCEL_REQUEST,
            Header::LocateRequest(_) => MsgType::LOCATE_REQUEST,
            Header::LocateReply(_) => MsgType::LOCATE_REPLY,
            Header::CloseConnection => MsgType::CLOSE_CONNECTION,
            Header::MessageError => MsgType::MESSAGE_ERROR,
            Header::Fragment { .. } => MsgType::FRAGMENT,
        }
    }

    /// The request id the message is about, if it names one.
    pub fn request_id(&self) -> Option<u32> {
        match self {
            Header::Request(h) => Some(h.request_id),
            Header::Reply(h) => Some(h.request_id),
            Header::CancelRequest { request_id } => Some(*request_id),
            Header::LocateRequest(h) => Some(h.request_id),
            Header::LocateReply(h) => Some(h.request_id),
            Header::CloseConnection | Header::MessageError => None,
            Header::Fragment { request_id } => *request_id,
        }
    }
}

/// A decoded message that borrows from its buffer: the header, and where the body starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// Where GIOP 1.1 fragments start in `bytes` (see [`super::Joined`]).
    fragment_starts: &'a [u32],
    lite: bool,
    version: GiopVersion,
    order: ByteOrder,
    more_fragments: bool,
    header: Header<'a>,
    body_offset: usize,
}

impl<'a> Message<'a> {
    /// Decodes one whole GIOP message: `bytes` must be exactly the 12-octet header and the
    /// `message_size` octets it announces.
    pub fn decode(bytes: &'a [u8]) -> Result<Message<'a>, GiopError> {
        Message::decode_joined(bytes, &[])
    }

    /// Decodes a GIOP 1.1 message joined from fragments whose data starts at
    /// `fragment_starts` in `bytes` (as [`super::Reassembler`] gives them; empty for a message
    /// that came whole).
    pub fn decode_joined(
        bytes: &'a [u8],
        fragment_starts: &'a [u32],
    ) -> Result<Message<'a>, GiopError> {
        let h = GiopHeader::parse(bytes)?;
        check_size(bytes.len() - HEADER_LEN, h.size)?;
        if h.msg_type == MsgType::REQUEST && h.version.minor >= 2 {
            return decode_request_1_2(bytes, fragment_starts, &h);
        }
        decode_general(bytes, fragment_starts, &h)
    }

    /// Decodes one whole GIOP-lite message in the connection's byte order `order`.
    pub fn decode_lite(bytes: &'a [u8], order: ByteOrder) -> Result<Message<'a>, GiopError> {
        let h = LiteHeader::parse(bytes, order)?;
        check_size(bytes.len() - LITE_HEADER_LEN, h.size)?;
        let mut dec = Decoder::new_at(bytes, LITE_HEADER_LEN, order);
        dec.set_version(LITE_CDR_VERSION);
        let header = decode_lite_header(&mut dec, h.msg_type, ResponseFlags(h.flags))
            .map_err(|e| GiopError::decode(h.msg_type, e))?;
        let msg = Message {
            bytes,
            fragment_starts: &[],
            lite: true,
            version: LITE_CDR_VERSION,
            order,
            more_fragments: false,
            header,
            body_offset: dec.position(),
        };
        msg.check_no_body()?;
        Ok(msg)
    }

    fn check_no_body(&self) -> Result<(), GiopError> {
        let has_body = matches!(
            self.header,
            Header::Request(_)
                | Header::Reply(_)
                | Header::LocateReply(_)
                | Header::Fragment { .. }
        );
        // A fragmented message's header may be followed by anything in its first fragment.
        if !has_body && !self.more_fragments && self.body_offset < self.bytes.len() {
            return Err(GiopError::UnexpectedBody {
                msg_type: self.msg_type(),
                offset: self.body_offset,
                len: self.bytes.len() - self.body_offset,
            });
        }
        Ok(())
    }

    pub fn msg_type(&self) -> MsgType {
        self.header.msg_type()
    }

    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    pub fn into_header(self) -> Header<'a> {
        self.header
    }

    /// The GIOP version; for GIOP-lite, the version whose CDR rules its bodies follow (1.2).
    pub fn version(&self) -> GiopVersion {
        self.version
    }

    pub fn is_lite(&self) -> bool {
        self.lite
    }

    pub fn order(&self) -> ByteOrder {
        self.order
    }

    /// Whether a Fragment continues this message (never, for a message a framer yields).
    pub fn more_fragments(&self) -> bool {
        self.more_fragments
    }

    /// The whole message, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Offset of the body from the start of the message (the body's alignment origin).
    pub fn body_offset(&self) -> usize {
        self.body_offset
    }

    /// The body: arguments, results, exception or forwarded IOR, or a fragment's data.
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[self.body_offset..]
    }

    /// A decoder positioned at the body, aligned from the start of the message, with the
    /// message's byte order and version (code sets are the caller's to set).
    #[inline]
    pub fn body_decoder(&self) -> Decoder<'a> {
        let mut dec = Decoder::new_at(self.bytes, self.body_offset, self.order);
        dec.set_version(self.version)
            .set_fragments(self.fragment_starts);
        dec
    }

    /// Where GIOP 1.1 fragments start in [`Message::as_bytes`]; empty unless the message was
    /// joined from fragments.
    pub fn fragment_starts(&self) -> &'a [u32] {
        self.fragment_starts
    }

    /// Decodes a value at the start of the body: [`SystemExceptionBody`] for
    /// `SYSTEM_EXCEPTION`/`LOC_SYSTEM_EXCEPTION`, [`Ior`] for the forwarding statuses,
    /// [`AddressingDisposition`] for `NEEDS_ADDRESSING_MODE`.
    pub fn decode_body<T: CdrDecode<'a>>(&self) -> Result<T, GiopError> {
        T::decode(&mut self.body_decoder())
            .field("body")
            .map_err(|e| GiopError::decode(self.msg_type(), e))
    }

    /// The body of a `SYSTEM_EXCEPTION` reply or `LOC_SYSTEM_EXCEPTION` locate reply.
    pub fn system_exception(&self) -> Result<SystemExceptionBody<'a>, GiopError> {
        self.decode_body()
    }

    /// The IOR of a `LOCATION_FORWARD(_PERM)` reply or `OBJECT_FORWARD(_PERM)` locate reply.
    pub fn forward_ior(&self) -> Result<Ior, GiopError> {
        self.decode_body()
    }

    /// The body of a `NEEDS_ADDRESSING_MODE` reply or `LOC_NEEDS_ADDRESSING_MODE` locate reply.
    pub fn addressing_disposition(&self) -> Result<AddressingDisposition, GiopError> {
        self.decode_body()
    }

    /// Writes this message again: header, then the body octets unchanged. For a message
    /// encoded canonically (zero padding and reserved octets) the result equals
    /// [`Message::as_bytes`].
    pub fn encode(&self) -> Result<Vec<u8>, GiopEncodeError> {
        let mut w = if self.lite {
            MessageWriter::lite(self.order, &self.header)?
        } else {
            MessageWriter::new(self.version, self.order, &self.header)?
        };
        w.set_more_fragments(self.more_fragments);
        w.body().write_octets(self.body());
        w.finish()
    }
}

/// GIOP-lite bodies follow GIOP 1.2's CDR rules (wide characters included).
const LITE_CDR_VERSION: GiopVersion = GiopVersion::V1_2;

fn check_size(actual: usize, announced: u32) -> Result<(), GiopError> {
    if actual as u64 != announced as u64 {
        return Err(GiopError::SizeMismatch {
            announced: announced as usize,
            actual,
        });
    }
    Ok(())
}

/// Any message after its checked GIOP header: [`decode_giop_header`], then the [`Message`].
#[inline(never)]
fn decode_general<'a>(
    bytes: &'a [u8],
    fragment_starts: &'a [u32],
    h: &GiopHeader,
) -> Result<Message<'a>, GiopError> {
    let mut dec = Decoder::new_at(bytes, HEADER_LEN, h.order);
    dec.set_version(h.version).set_fragments(fragment_starts);
    let (header, body_offset) = decode_giop_header(&mut dec, h.version, h.msg_type)
        .map_err(|e| GiopError::decode(h.msg_type, e))?;
    let msg = Message {
        bytes,
        fragment_starts,
        lite: false,
        version: h.version,
        order: h.order,
        more_fragments: h.more_fragments,
        header,
        body_offset,
    };
    msg.check_no_body()?;
    Ok(msg)
}

/// A GIOP 1.2 Request, the message a server decodes most: [`decode_giop_header`]'s case, made
/// into the message where it is decoded rather than moved out of a result into it (the header
/// is some 200 octets, and the moves of the general path were a third of decoding a oneway).
///
/// Its target is read here when it is an object key (KeyAddr), as it nearly always is:
/// TargetAddress's own decoding returns it through a result whose layout costs store
/// forwarding stalls when it is moved on. A request addressed otherwise, or one that does
/// not decode, is decoded again by [`decode_general`], so that its header or its error is
/// exactly what that gives.
#[inline]
fn decode_request_1_2<'a>(
    bytes: &'a [u8],
    fragment_starts: &'a [u32],
    h: &GiopHeader,
) -> Result<Message<'a>, GiopError> {
    let mut dec = Decoder::new_at(bytes, HEADER_LEN, h.order);
    dec.set_version(h.version).set_fragments(fragment_starts);
    let Ok(request_id) = dec.read_ulong() else {
        return decode_general(bytes, fragment_starts, h);
    };
    let Ok(response_flags) = dec.read_octet() else {
        return decode_general(bytes, fragment_starts, h);
    };
    // The reserved octets are ignored on input: §15.4.2.1 only fixes them at zero for
    // senders.
    let key = match (dec.skip(3), dec.read_short()) {
        (Ok(_), Ok(d)) if AddressingDisposition(d) == AddressingDisposition::KEY_ADDR => {
            dec.read_octet_seq().ok()
        }
        _ => None,
    };
    // The operation as `read_string` reads an ASCII name (the same octets: a string is an
    // octet sequence ending in NUL), borrowed; anything else goes the general way. Its
    // result came back through memory, a Cow and an error, and stalled on its first load.
    let operation = dec
        .read_octet_seq()
        .ok()
        .and_then(|raw| match raw.split_last() {
            Some((&0, text)) if text.is_ascii() && !text.contains(&0) => {
                std::str::from_utf8(text).ok()
            }
            _ => None,
        });
    let (Some(key), Some(operation)) = (key, operation) else {
        return decode_general(bytes, fragment_starts, h);
    };
    let operation = Cow::Borrowed(operation);
    // No service context, as in most requests: nothing to check, and no result of
    // ServiceContexts' own decoding to move (the same stalls as the target's). Else that
    // decoding, from where the list starts.
    let contexts_at = dec.position();
    let service_context = match dec.read_ulong() {
        Ok(0) => ServiceContexts::EMPTY,
        _ => {
            dec = Decoder::new_at(bytes, contexts_at, h.order);
            dec.set_version(h.version).set_fragments(fragment_starts);
            let Ok(contexts) = ServiceContexts::decode(&mut dec) else {
                return decode_general(bytes, fragment_starts, h);
            };
            contexts
        }
    };
    // §15.4.2.2: the body is aligned on an 8-octet boundary; the padding exists only if a body
    // does.
    if !dec.is_empty() && dec.align(8).is_err() {
        return decode_general(bytes, fragment_starts, h);
    }
    // A Request has a body: `check_no_body` has nothing to check.
    Ok(Message {
        bytes,
        fragment_starts,
        lite: false,
        version: h.version,
        order: h.order,
        more_fragments: h.more_fragments,
        body_offset: dec.position(),
        header: Header::Request(RequestHeader {
            request_id,
            response_flags: ResponseFlags(response_flags),
            target: TargetAddress::KeyAddr(key),
            operation,
            service_context,
            requesting_principal: &[],
        }),
    })
}

/// Decodes the message header after the 12-octet GIOP header; returns it and the body offset.
fn decode_giop_header<'a>(
    dec: &mut Decoder<'a>,
    version: GiopVersion,
    msg_type: MsgType,
) -> Result<(Header<'a>, usize), DecodeError> {
    let v12 = version.minor >= 2;
    // §15.4.2.2, §15.4.3.2, §15.4.6.2: in GIOP 1.2 the Request, Reply and LocateReply bodies
    // are aligned on an 8-octet boundary; the padding exists only if a body does.
    let mut body_aligned = false;
    let header = match msg_type {
        MsgType::REQUEST if v12 => {
            let request_id = dec.read_ulong().field("request_id")?;
            let response_flags = ResponseFlags(dec.read_octet().field("response_flags")?);
            // The reserved octets are ignored on input: §15.4.2.1 only fixes them at zero for
            // senders.
            dec.skip(3).field("reserved")?;
            let target = TargetAddress::decode(dec).field("target")?;
            let operation = dec.read_string().field("operation")?;
            let service_context = ServiceContexts::decode(dec).field("service_context")?;
            body_aligned = true;
            Header::Request(RequestHeader {
                request_id,
                response_flags,
                target,
                operation,
                service_context,
                requesting_principal: &[],
            })
        }
        MsgType::REQUEST => {
            let service_context = ServiceContexts::decode(dec).field("service_context")?;
            let request_id = dec.read_ulong().field("request_id")?;
            let expected = dec.read_bool().field("response_expected")?;
            if version.minor == 1 {
                dec.skip(3).field("reserved")?;
            }
            let object_key = dec.read_octet_seq().field("object_key")?;
            let operation = dec.read_string().field("operation")?;
            let requesting_principal = dec.read_octet_seq().field("requesting_principal")?;
            Header::Request(RequestHeader {
                request_id,
                response_flags: ResponseFlags::from_response_expected(expected),
                target: TargetAddress::KeyAddr(object_key),
                operation,
                service_context,
                requesting_principal,
            })
        }
        MsgType::REPLY if v12 => {
            let request_id = dec.read_ulong().field("request_id")?;
            let reply_status = ReplyStatus::decode_in(dec, version)?;
            let service_context = ServiceContexts::decode(dec).field("service_context")?;
            body_aligned = true;
            Header::Reply(ReplyHeader {
                request_id,
                reply_status,
                service_context,
            })
        }
        MsgType::REPLY => {
            let service_context = ServiceContexts::decode(dec).field("service_context")?;
            let request_id = dec.read_ulong().field("request_id")?;
            let reply_status = ReplyStatus::decode_in(dec, version)?;
            Header::Reply(ReplyHeader {
                request_id,
                reply_status,
                service_context,
            })
        }
        MsgType::CANCEL_REQUEST => Header::CancelRequest {
            request_id: dec.read_ulong().field("request_id")?,
        },
        MsgType::LOCATE_REQUEST => {
            let request_id = dec.read_ulong().field("request_id")?;
            let target = if v12 {
                TargetAddress::decode(dec).field("target")?
            } else {
                TargetAddress::KeyAddr(dec.read_octet_seq().field("object_key")?)
            };
            Header::LocateRequest(LocateRequestHeader { request_id, target })
        }
        MsgType::LOCATE_REPLY => {
            let request_id = dec.read_ulong().field("request_id")?;
            let locate_status = LocateStatus::decode_in(dec, version)?;
            body_aligned = v12;
            Header::LocateReply(LocateReplyHeader {
                request_id,
                locate_status,
            })
        }
        MsgType::CLOSE_CONNECTION => Header::CloseConnection,
        MsgType::MESSAGE_ERROR => Header::MessageError,
        // §15.4.9: the 1.2 fragment header is the request id; 1.1 has none.
        MsgType::FRAGMENT if v12 => Header::Fragment {
            request_id: Some(dec.read_ulong().field("request_id")?),
        },
        MsgType::FRAGMENT => Header::Fragment { request_id: None },
        // GiopHeader::parse refused every other type.
        other => return Err(dec.error(crate::cdr::DecodeErrorKind::InvalidEnum(other.0 as u32))),
    };
    if body_aligned && !dec.is_empty() {
        dec.align(8).field("body")?;
    }
    Ok((header, dec.position()))
}

fn decode_lite_header<'a>(
    dec: &mut Decoder<'a>,
    msg_type: MsgType,
    flags: ResponseFlags,
) -> Result<Header<'a>, DecodeError> {
    Ok(match msg_type {
        MsgType::REQUEST => {
            let request_id = dec.read_ulong().field("request_id")?;
            let object_key = dec.read_octet_seq().field("object_key")?;
            let operation = dec.read_string().field("operation")?;
            Header::Request(RequestHeader {
                request_id,
                response_flags: flags,
                target: TargetAddress::KeyAddr(object_key),
                operation,
                service_context: ServiceContexts::EMPTY,
                requesting_principal: &[],
            })
        }
        MsgType::REPLY => {
            let request_id = dec.read_ulong().field("request_id")?;
            let reply_status = ReplyStatus::decode_in(dec, LITE_CDR_VERSION)?;
            Header::Reply(ReplyHeader {
                request_id,
                reply_status,
                service_context: ServiceContexts::EMPTY,
            })
        }
        MsgType::CANCEL_REQUEST => Header::CancelRequest {
            request_id: dec.read_ulong().field("request_id")?,
        },
        MsgType::LOCATE_REQUEST => {
            let request_id = dec.read_ulong().field("request_id")?;
            let key = dec.read_octet_seq().field("object_key")?;
            Header::LocateRequest(LocateRequestHeader {
                request_id,
                target: TargetAddress::KeyAddr(key),
            })
        }
        MsgType::LOCATE_REPLY => {
            let request_id = dec.read_ulong().field("request_id")?;
            let locate_status = LocateStatus::decode_in(dec, LITE_CDR_VERSION)?;
            Header::LocateReply(LocateReplyHeader {
                request_id,
                locate_status,
            })
        }
        MsgType::CLOSE_CONNECTION => Header::CloseConnection,
        MsgType::MESSAGE_ERROR => Header::MessageError,
        other => return Err(dec.error(crate::cdr::DecodeErrorKind::InvalidEnum(other.0 as u32))),
    })
}

/// Writes one message: the header with a placeholder size, the message header, the 1.2 body
/// alignment; then the caller encodes the body into [`MessageWriter::body`]; [`finish`]
/// patches the size.
///
/// ```
/// use orb::cdr::{ByteOrder, GiopVersion};
/// use orb::giop::{Header, Message, MessageWriter, RequestHeader};
///
/// let header = Header::Request(RequestHeader::new(7, b"key", "cube_long"));
/// let mut w = MessageWriter::new(GiopVersion::V1_2, ByteOrder::BigEndian, &header).unwrap();
/// w.body().write_long(3);
/// let bytes = w.finish().unwrap();
/// let msg = Message::decode(&bytes).unwrap();
/// assert_eq!(msg.body_decoder().read_long().unwrap(), 3);
/// ```
///
/// [`finish`]: MessageWriter::finish
#[derive(Debug)]
pub struct MessageWriter {
    enc: Encoder,
    lite: bool,
    size_at: usize,
    header_len: usize,
    /// Where the header ends, before any body alignment.
    header_end: usize,
    /// Where the body starts, after it.
    body_start: usize,
    more_fragments: bool,
    version: GiopVersion,
    /// Where a Reply header's status is, so a server can write the body before it knows
    /// whether the operation returned or raised.
    reply_status_at: Option<usize>,
    /// Set by [`MessageWriter::fragment`].
    fragmenting: bool,
    msg_type: MsgType,
    /// What each GIOP 1.2 Fragment repeats in its header.
    request_id: Option<u32>,
}

/// The octets of a GIOP Request's start — its header and the body's alignment — kept by
/// [`MessageWriter::keep_request_prefix`] to start requests that differ in their request id
/// alone: a client calling one operation of one object again and again writes its header
/// once, then copies it and writes the id.
#[derive(Debug, Clone)]
pub struct RequestPrefix {
    octets: Vec<u8>,
    header_end: usize,
    id_at: usize,
    version: GiopVersion,
    order: ByteOrder,
}

impl Default for RequestPrefix {
    fn default() -> Self {
        RequestPrefix {
            octets: Vec::new(),
            header_end: 0,
            id_at: 0,
            version: GiopVersion::V1_2,
            order: ByteOrder::NATIVE,
        }
    }
}

impl RequestPrefix {
    /// Starts a request, in `buf`'s capacity, that is the kept one with `request_id` for its
    /// id: the same writer [`MessageWriter::with_buffer`] would have made for it. (Inlined,
    /// as that is: the writer is made where the caller keeps it.)
    #[inline]
    pub fn start(&self, buf: Vec<u8>, request_id: u32) -> MessageWriter {
        let mut enc = Encoder::with_buffer(buf, self.order);
        enc.set_version(self.version);
        enc.write_octets(&self.octets);
        enc.patch_ulong(self.id_at, request_id);
        MessageWriter {
            body_start: self.octets.len(),
            enc,
            lite: false,
            size_at: 8,
            header_len: HEADER_LEN,
            header_end: self.header_end,
            more_fragments: false,
            version: self.version,
            reply_status_at: None,
            fragmenting: false,
            msg_type: MsgType::REQUEST,
            request_id: Some(request_id),
        }
    }
}

impl RequestPrefix {
    /// [`start`](Self::start), for a request that is not to be fragmented: the same octets
    /// from a smaller writer, which holds just what finishing such a request needs (on a
    /// oneway's short path, moving and reading back the whole [`MessageWriter`] was a fair
    /// part of the encoding).
    #[inline]
    pub fn start_whole(&self, mut buf: Vec<u8>, request_id: u32) -> WholeRequest {
        // The octets written before the encoder is made, which is made at once: an encoder
        // made, written to and then moved read its fields back while they were still being
        // stored.
        buf.clear();
        buf.extend_from_slice(&self.octets);
        let id = match self.order {
            ByteOrder::BigEndian => request_id.to_be_bytes(),
            ByteOrder::LittleEndian => request_id.to_le_bytes(),
        };
        // (Always there: a kept prefix holds the header its id is in; a default one is
        // empty, and never started from.)
        if let Some(at) = buf.get_mut(self.id_at..self.id_at + 4) {
            at.copy_from_slice(&id);
        }
        WholeRequest {
            enc: Encoder::continuing(buf, self.order, self.version),
            header_end: self.header_end,
            body_start: self.octets.len(),
        }
    }
}

/// The length of the message `enc` holds, whose body starts at `body_start` after a header
/// ending at `header_end`: an empty body has no alignment padding before it.
#[inline]
fn message_len(enc: &Encoder, body_start: usize, header_end: usize) -> usize {
    if enc.len() == body_start {
        header_end
    } else {
        enc.len()
    }
}

/// A request begun from a [`RequestPrefix`] ([`RequestPrefix::start_whole`]), sent whole.
pub struct WholeRequest {
    enc: Encoder,
    header_end: usize,
    body_start: usize,
}

impl WholeRequest {
    /// The body's encoder.
    pub fn body(&mut self) -> &mut Encoder {
        &mut self.enc
    }

    /// Patches the size and returns the whole message, as [`MessageWriter::finish`] does for
    /// a message not fragmented.
    /// (Taken out of the writer rather than the writer consumed, so that it is not moved;
    /// inlined, so that the result is not returned through memory either.)
    #[inline]
    pub fn finish(&mut self) -> Result<Vec<u8>, GiopEncodeError> {
        let len = message_len(&self.enc, self.body_start, self.header_end);
        let size = u32::try_from(len - HEADER_LEN).map_err(|_| GiopEncodeError::TooLarge(len))?;
        self.enc.patch_ulong(8, size);
        let mut bytes = self.enc.take_vec();
        bytes.truncate(len);
        Ok(bytes)
    }
}

impl MessageWriter {
    /// Starts a GIOP message of `version` in byte order `order`.
    pub fn new(
        version: GiopVersion,
        order: ByteOrder,
        header: &Header<'_>,
    ) -> Result<MessageWriter, GiopEncodeError> {
        MessageWriter::with_buffer(Vec::new(), version, order, header)
    }

    /// Like [`MessageWriter::new`], reusing `buf`'s capacity.
    ///
    /// The writer is made first and the header written through it, rather than an encoder
    /// written and then moved into a writer: every request and reply starts here, and the
    /// moves of the encoder (its buffer, re-read in other widths than it was stored) cost more
    /// than writing the header. Inlined, so that the writer is made where the caller keeps it
    /// rather than copied there.
    #[inline]
    pub fn with_buffer(
        buf: Vec<u8>,
        version: GiopVersion,
        order: ByteOrder,
        header: &Header<'_>,
    ) -> Result<MessageWriter, GiopEncodeError> {
        if version.major != 1 || version.minor > super::HIGHEST_VERSION.minor {
            return Err(GiopEncodeError::NotInVersion {
                what: "any message",
                version,
            });
        }
        let msg_type = header.msg_type();
        let mut w = MessageWriter {
            enc: Encoder::with_buffer(buf, order),
            lite: false,
            size_at: 8,
            header_len: HEADER_LEN,
            header_end: 0,
            body_start: 0,
            more_fragments: false,
            version,
            reply_status_at: None,
            fragmenting: false,
            msg_type,
            request_id: header.request_id(),
        };
        let enc = &mut w.enc;
        enc.set_version(version);
        enc.write_octets(&MAGIC);
        enc.write_octets(&[version.major, version.minor, order.flag(), msg_type.0]);
        // The size, patched by `finish`: at offset 8, aligned.
        enc.write_octets(&[0; 4]);
        let body_aligned = write_giop_header(enc, version, header)?;
        if let Header::Reply(_) = header {
            // 1.2 puts the status right after the request id; earlier versions end the
            // header with it.
            w.reply_status_at = Some(if version.minor >= 2 {
                HEADER_LEN + 4
            } else {
                w.enc.len() - 4
            });
        }
        w.header_end = w.enc.len();
        if body_aligned {
            w.enc.align(8);
        }
        w.body_start = w.enc.len();
        Ok(w)
    }

    /// Keeps this writer's header in `prefix`, for requests that differ from this one in
    /// their request id alone ([`RequestPrefix::start`]): true if it is a GIOP Request whose
    /// request id sits where a prefix can rewrite it, with nothing of the body written yet.
    /// A GIOP 1.0/1.1 request qualifies only without service contexts (its id follows
    /// them); a 1.2 request's id comes first, and its prefix repeats its contexts.
    pub fn keep_request_prefix(&self, prefix: &mut RequestPrefix) -> bool {
        let octets = self.enc.as_bytes();
        if self.lite || self.msg_type != MsgType::REQUEST || octets.len() != self.body_start {
            return false;
        }
        let id_at = if self.version.minor >= 2 {
            HEADER_LEN
        } else {
            // The context count, then the id.
            if octets[HEADER_LEN..HEADER_LEN + 4] != [0; 4] {
                return false;
            }
            HEADER_LEN + 4
        };
        prefix.octets.clear();
        prefix.octets.extend_from_slice(octets);
        prefix.header_end = self.header_end;
        prefix.id_at = id_at;
        prefix.version = self.version;
        prefix.order = self.enc.order();
        true
    }

    /// Starts a GIOP-lite message in the connection's byte order `order`.
    pub fn lite(order: ByteOrder, header: &Header<'_>) -> Result<MessageWriter, GiopEncodeError> {
        MessageWriter::lite_with_buffer(Vec::new(), order, header)
    }

    /// Like [`MessageWriter::lite`], reusing `buf`'s capacity.
    pub fn lite_with_buffer(
        buf: Vec<u8>,
        order: ByteOrder,
        header: &Header<'_>,
    ) -> Result<MessageWriter, GiopEncodeError> {
        let mut enc = Encoder::with_buffer(buf, order);
        enc.set_version(LITE_CDR_VERSION);
        let flags = match header {
            Header::Request(r) => r.response_flags.0,
            _ => 0,
        };
        enc.write_octets(&[header.msg_type().0, flags, 0, 0]);
        let size_at = enc.reserve_ulong();
        write_lite_header(&mut enc, header)?;
        let status_at = enc.len() - 4;
        let mut w =
            MessageWriter::started(enc, true, size_at, LITE_HEADER_LEN, false, LITE_CDR_VERSION)?;
        if let Header::Reply(_) = header {
            w.reply_status_at = Some(status_at);
        }
        Ok(w)
    }

    fn started(
        mut enc: Encoder,
        lite: bool,
        size_at: usize,
        header_len: usize,
        body_aligned: bool,
        version: GiopVersion,
    ) -> Result<MessageWriter, GiopEncodeError> {
        let header_end = enc.len();
        if body_aligned {
            enc.align(8);
        }
        Ok(MessageWriter {
            body_start: enc.len(),
            enc,
            lite,
            size_at,
            header_len,
            header_end,
            more_fragments: false,
            version,
            reply_status_at: None,
            fragmenting: false,
            msg_type: MsgType(0),
            request_id: None,
        })
    }

    /// Sends the message in fragments of at most `max_len` octets each, headers included
    /// (rounded down to a multiple of 8; at least 32), if it turns out longer: call before
    /// writing the body. [`MessageWriter::finish`] then returns the initial message followed
    /// by its Fragment messages, back to back, ready to be written to the connection.
    ///
    /// The body is cut while it is marshalled (see [`Encoder::start_fragments`]), so GIOP 1.1,
    /// whose fragments each restart alignment (§15.4.9), is cut as exactly as 1.2. The first
    /// fragment always holds the whole message header. GIOP 1.1 fragments only Requests and
    /// Replies, 1.2 also LocateRequests and LocateReplies; GIOP 1.0 and GIOP-lite not at all.
    pub fn fragment(&mut self, max_len: usize) -> Result<&mut Self, GiopEncodeError> {
        let max_len = max_len & !7;
        if max_len < 32 {
            return Err(GiopEncodeError::CannotFragment(
                "a fragment must hold at least 32 octets",
            ));
        }
        if self.lite {
            return Err(GiopEncodeError::NotInLite {
                what: "fragmentation",
            });
        }
        let allowed = match self.version.minor {
            0 => false,
            1 => matches!(self.msg_type, MsgType::REQUEST | MsgType::REPLY),
            _ => matches!(
                self.msg_type,
                MsgType::REQUEST | MsgType::REPLY | MsgType::LOCATE_REQUEST | MsgType::LOCATE_REPLY
            ),
        };
        if !allowed {
            return Err(GiopEncodeError::CannotFragment(
                "GIOP 1.1 fragments only Requests and Replies, 1.2 also LocateRequests and \
                 LocateReplies, 1.0 nothing",
            ));
        }
        if self.enc.len() != self.body_start {
            return Err(GiopEncodeError::CannotFragment(
                "fragmentation must be chosen before the body is written",
            ));
        }
        // GIOP 1.2's Fragment header repeats the request id; 1.1's has none.
        let header_len = if self.version.minor == 1 {
            HEADER_LEN
        } else {
            HEADER_LEN + 4
        };
        // The first fragment holds the whole header; alignment counts from the message start.
        let first_limit = max_len.max((self.body_start + 7) & !7);
        self.enc.start_fragments(first_limit, max_len, header_len);
        self.fragmenting = true;
        Ok(self)
    }

    /// Rewrites the status of the Reply this writer started (nothing for other messages):
    /// a server encodes the results first and learns only then whether they are a user
    /// exception. The body's layout is the same either way.
    pub fn set_reply_status(&mut self, status: ReplyStatus) -> &mut Self {
        if let Some(at) = self.reply_status_at {
            self.enc.patch_ulong(at, status as u32);
        }
        self
    }

    /// Empties the body, keeping the header, to write another body instead (a system
    /// exception in place of half-written results).
    pub fn reset_body(&mut self) -> &mut Self {
        self.enc.truncate(self.body_start);
        self
    }

    /// The encoder to write the body with; alignment counts from the start of the message.
    pub fn body(&mut self) -> &mut Encoder {
        &mut self.enc
    }

    /// Sets the more-fragments flag (GIOP 1.1 and 1.2); see also [`super::fragment_message`].
    pub fn set_more_fragments(&mut self, more: bool) -> &mut Self {
        self.more_fragments = more;
        self
    }

    /// Patches the size and returns the whole message.
    pub fn finish(mut self) -> Result<Vec<u8>, GiopEncodeError> {
        let len = message_len(&self.enc, self.body_start, self.header_end);
        let size = len - self.header_len;
        let size = u32::try_from(size).map_err(|_| GiopEncodeError::TooLarge(len))?;
        if self.more_fragments {
            if self.lite {
                return Err(GiopEncodeError::NotInLite {
                    what: "fragmentation",
                });
            }
            if self.version.minor == 0 {
                return Err(GiopEncodeError::NotInVersion {
                    what: "fragmentation",
                    version: self.version,
                });
            }
        }
        if self.fragmenting {
            return self.finish_fragments();
        }
        self.enc.patch_ulong(self.size_at, size);
        let mut bytes = self.enc.into_vec();
        bytes.truncate(len);
        if self.more_fragments {
            bytes[6] |= 0x02;
        }
        Ok(bytes)
    }

    /// The initial message and its Fragments, each header written over the gap the encoder
    /// left for it.
    fn finish_fragments(mut self) -> Result<Vec<u8>, GiopEncodeError> {
        let starts = self.enc.fragment_starts().to_vec();
        let empty_body = self.enc.len() == self.body_start;
        let order = self.enc.order();
        let request_id = self.request_id.filter(|_| self.version.minor >= 2);
        let version = self.version;
        let mut bytes = self.enc.into_vec();
        if empty_body {
            bytes.truncate(self.header_end);
        }
        let total = bytes.len();
        let ends = starts.iter().copied().chain(std::iter::once(total));
        let begins = std::iter::once(0).chain(starts.iter().copied());
        for (i, (begin, end)) in begins.zip(ends).enumerate() {
            let size = end - begin - HEADER_LEN;
            let size = u32::try_from(size).map_err(|_| GiopEncodeError::TooLarge(size))?;
            let more = end < total;
            let header = &mut bytes[begin..begin + HEADER_LEN];
            if i > 0 {
                header[..4].copy_from_slice(&MAGIC);
                header[4] = version.major;
                header[5] = version.minor;
                header[7] = MsgType::FRAGMENT.0;
            }
            header[6] = order.flag() | if more { 0x02 } else { 0 };
            header[8..12].copy_from_slice(&match order {
                ByteOrder::BigEndian => size.to_be_bytes(),
                ByteOrder::LittleEndian => size.to_le_bytes(),
            });
            if let (true, Some(id)) = (i > 0, request_id) {
                bytes[begin + HEADER_LEN..begin + HEADER_LEN + 4].copy_from_slice(&match order {
                    ByteOrder::BigEndian => id.to_be_bytes(),
                    ByteOrder::LittleEndian => id.to_le_bytes(),
                });
            }
        }
        Ok(bytes)
    }
}

fn not_in(what: &'static str, version: GiopVersion) -> GiopEncodeError {
    GiopEncodeError::NotInVersion { what, version }
}

fn key_only<'k>(
    target: &TargetAddress<'k>,
    version: GiopVersion,
) -> Result<&'k [u8], GiopEncodeError> {
    target
        .object_key()
        .ok_or_else(|| not_in("a target other than an object key", version))
}

fn check_since(
    since: GiopVersion,
    version: GiopVersion,
    what: &'static str,
) -> Result<(), GiopEncodeError> {
    if since > version {
        return Err(not_in(what, version));
    }
    Ok(())
}

/// Writes the message header; returns whether a body must be aligned to 8.
fn write_giop_header(
    enc: &mut Encoder,
    version: GiopVersion,
    header: &Header<'_>,
) -> Result<bool, GiopEncodeError> {
    let v12 = version.minor >= 2;
    match header {
        Header::Request(r) if v12 => {
            if !r.requesting_principal.is_empty() {
                return Err(not_in("requesting_principal", version));
            }
            enc.write_ulong(r.request_id);
            enc.write_octet(r.response_flags.0);
            enc.write_octets(&[0; 3]);
            r.target.encode(enc)?;
            enc.write_string(&r.operation)?;
            r.service_context.encode(enc)?;
            Ok(true)
        }
        Header::Request(r) => {
            let key = key_only(&r.target, version)?;
            r.service_context.encode(enc)?;
            enc.write_ulong(r.request_id);
            enc.write_bool(r.response_flags.response_expected());
            if version.minor == 1 {
                enc.write_octets(&[0; 3]);
            }
            enc.write_octet_seq(key)?;
            enc.write_string(&r.operation)?;
            enc.write_octet_seq(r.requesting_principal)?;
            Ok(false)
        }
        Header::Reply(r) => {
            check_since(r.reply_status.since(), version, r.reply_status.name())?;
            if v12 {
                enc.write_ulong(r.request_id);
                r.reply_status.encode(enc)?;
                r.service_context.encode(enc)?;
            } else {
                r.service_context.encode(enc)?;
                enc.write_ulong(r.request_id);
                r.reply_status.encode(enc)?;
            }
            Ok(v12)
        }
        Header::CancelRequest { request_id } => {
            enc.write_ulong(*request_id);
            Ok(false)
        }
        Header::LocateRequest(r) => {
            enc.write_ulong(r.request_id);
            if v12 {
                r.target.encode(enc)?;
            } else {
                enc.write_octet_seq(key_only(&r.target, version)?)?;
            }
            Ok(false)
        }
        Header::LocateReply(r) => {
            check_since(r.locate_status.since(), version, r.locate_status.name())?;
            enc.write_ulong(r.request_id);
            r.locate_status.encode(enc)?;
            Ok(v12)
        }
        Header::CloseConnection | Header::MessageError => Ok(false),
        Header::Fragment { request_id } => {
            match (version.minor, request_id) {
                (0, _) => return Err(not_in("Fragment", version)),
                (1, None) => {}
                (1, Some(_)) => return Err(not_in("a Fragment request id", version)),
                (_, Some(id)) => enc.write_ulong(*id),
                (_, None) => {
                    return Err(GiopEncodeError::NotInVersion {
                        what: "a Fragment without a request id",
                        version,
                    })
                }
            }
            Ok(false)
        }
    }
}

fn lite_key<'k>(target: &TargetAddress<'k>) -> Result<&'k [u8], GiopEncodeError> {
    target.object_key().ok_or(GiopEncodeError::NotInLite {
        what: "a target other than an object key",
    })
}

fn write_lite_header(enc: &mut Encoder, header: &Header<'_>) -> Result<(), GiopEncodeError> {
    let lite = |what| GiopEncodeError::NotInLite { what };
    match header {
        Header::Request(r) => {
            if !r.service_context.is_empty() {
                return Err(lite("service contexts"));
            }
            if !r.requesting_principal.is_empty() {
                return Err(lite("requesting_principal"));
            }
            enc.write_ulong(r.request_id);
            enc.write_octet_seq(lite_key(&r.target)?)?;
            enc.write_string(&r.operation)?;
        }
        Header::Reply(r) => {
            if !r.service_context.is_empty() {
                return Err(lite("service contexts"));
            }
            enc.write_ulong(r.request_id);
            r.reply_status.encode(enc)?;
        }
        Header::CancelRequest { request_id } => enc.write_ulong(*request_id),
        Header::LocateRequest(r) => {
            enc.write_ulong(r.request_id);
            enc.write_octet_seq(lite_key(&r.target)?)?;
        }
        Header::LocateReply(r) => {
            enc.write_ulong(r.request_id);
            r.locate_status.encode(enc)?;
        }
        Header::CloseConnection | Header::MessageError => {}
        Header::Fragment { .. } => return Err(lite("Fragment")),
    }
    Ok(())
}

#[cfg(test)]
mod decode_tests {
    use super::*;
    use crate::iop::{ServiceContext, ServiceId, TaggedProfile};

    /// GIOP 1.2 requests of every addressing form, with and without contexts and bodies.
    fn requests() -> Vec<Vec<u8>> {
        let contexts = [ServiceContext {
            id: ServiceId::CODE_SETS,
            data: vec![0, 1, 2, 3, 4, 5, 6, 7, 8],
        }];
        let headers = [
            RequestHeader::new(5, b"object key", "cube_long"),
            RequestHeader {
                response_flags: ResponseFlags::NONE,
                service_context: ServiceContexts::from_slice(&contexts),
                ..RequestHeader::new(6, b"k", "ping")
            },
            RequestHeader {
                target: TargetAddress::ProfileAddr(TaggedProfile {
                    tag: crate::iop::ProfileId::INTERNET_IOP,
                    data: vec![0xaa, 0xbb],
                }),
                ..RequestHeader::new(7, b"", "op")
            },
            RequestHeader {
                target: TargetAddress::ReferenceAddr(super::super::IorAddressingInfo {
                    selected_profile_index: 0,
                    ior: Ior::nil(),
                }),
                ..RequestHeader::new(8, b"", "op")
            },
        ];
        let mut out = Vec::new();
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            for h in &headers {
                for body in [&[][..], &[1, 2, 3, 4, 5][..]] {
                    let mut w =
                        MessageWriter::new(GiopVersion::V1_2, order, &Header::Request(h.clone()))
                            .unwrap();
                    w.body().write_octets(body);
                    out.push(w.finish().unwrap());
                }
            }
        }
        out
    }

    /// What the general path makes of `bytes` (a checked GIOP 1.2 Request header).
    fn general(bytes: &[u8]) -> Result<Message<'_>, GiopError> {
        let h = GiopHeader::parse(bytes)?;
        check_size(bytes.len() - HEADER_LEN, h.size)?;
        decode_general(bytes, &[], &h)
    }

    fn with_size(mut m: Vec<u8>) -> Vec<u8> {
        let size = (m.len() - HEADER_LEN) as u32;
        let size = if m[6] & 1 == 1 {
            size.to_le_bytes()
        } else {
            size.to_be_bytes()
        };
        m[8..12].copy_from_slice(&size);
        m
    }

    /// The Request fast path gives exactly the general path's message, or its error, for
    /// whole requests, every truncation of them, and every octet of them corrupted.
    #[test]
    fn the_request_fast_path_decodes_as_the_general_path() {
        for m in requests() {
            let whole = Message::decode(&m);
            assert!(whole.is_ok(), "{whole:?}");
            assert_eq!(whole, general(&m));
            for cut in HEADER_LEN..m.len() {
                let t = with_size(m[..cut].to_vec());
                assert_eq!(Message::decode(&t), general(&t), "cut at {cut}");
            }
            for at in HEADER_LEN..m.len() {
                for v in [0x00, 0x01, 0x02, 0x7f, 0xff] {
                    let mut c = m.clone();
                    c[at] = v;
                    assert_eq!(Message::decode(&c), general(&c), "{v:#x} at {at}");
                }
            }
        }
    }
}
