//! Cutting a connection's byte stream into whole messages, without I/O: the transport pushes
//! whatever octets it read, and polls for messages.
//!
//! A framer speaks one dialect for its whole life (GIOP, or GIOP-lite in one byte order) and
//! never guesses: a stream in the other dialect is an error at its first header. The size a
//! header announces is checked against the limit as soon as the header is complete, before
//! any of the body is waited for, so a hostile size costs an error, not memory.

use super::fragment::Reassembler;
use super::header::{GiopHeader, LiteHeader, HEADER_LEN, LITE_HEADER_LEN};
use super::{GiopError, Message, MsgType};
use crate::buffers::{self, AllocatorStrategy, Buffer};
use crate::cdr::{ByteOrder, GiopVersion};

/// Consumed octets are dropped from the front of the input buffer once there are this many
/// (or once nothing unconsumed is left), so pushing one octet at a time stays linear.
const COMPACT_AT: usize = 4096;

/// The framer of one connection. See the module documentation.
///
/// ```
/// use orb::cdr::{ByteOrder, GiopVersion};
/// use orb::giop::{Framer, Header, MessageWriter};
///
/// let bytes = MessageWriter::new(GiopVersion::V1_0, ByteOrder::BigEndian, &Header::CloseConnection)
///     .unwrap()
///     .finish()
///     .unwrap();
/// let mut framer = Framer::giop();
/// framer.push(&bytes[..5]);
/// assert!(framer.poll_message().unwrap().is_none());
/// assert_eq!(framer.needed(), 7);
/// framer.push(&bytes[5..]);
/// let frame = framer.poll_message().unwrap().unwrap();
/// assert_eq!(frame.decode().unwrap().header(), &Header::CloseConnection);
/// ```
#[derive(Debug)]
pub struct Framer {
    /// `Some(order)` for GIOP-lite.
    lite: Option<ByteOrder>,
    max_message_size: usize,
    /// Where each frame's buffer comes from.
    allocator: AllocatorStrategy,
    buf: Vec<u8>,
    /// Octets of `buf` before this index were consumed.
    start: usize,
    reassembler: Reassembler,
    /// A stream that broke the protocol cannot be resynchronised: every later poll repeats the
    /// error.
    failed: Option<GiopError>,
}

impl Framer {
    /// The default limit on a message's size, header and all fragments included.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

    /// A framer for GIOP 1.0–1.2 (every message says its own version and byte order).
    pub fn giop() -> Framer {
        Framer::new(None)
    }

    /// A framer for GIOP-lite in the byte order the connection's endpoint fixed.
    pub fn lite(order: ByteOrder) -> Framer {
        Framer::new(Some(order))
    }

    fn new(lite: Option<ByteOrder>) -> Framer {
        Framer {
            lite,
            max_message_size: Framer::DEFAULT_MAX_MESSAGE_SIZE,
            allocator: AllocatorStrategy::ThreadLocal,
            buf: Vec::new(),
            start: 0,
            reassembler: Reassembler::new(Framer::DEFAULT_MAX_MESSAGE_SIZE),
            failed: None,
        }
    }

    /// Sets the largest message accepted, header included; for fragmented messages, the
    /// limit applies to the reassembled size of all messages in progress together.
    pub fn with_max_message_size(mut self, max: usize) -> Framer {
        self.max_message_size = max;
        self.reassembler = Reassembler::new(max);
        self
    }

    /// Sets where the buffers of the frames come from: by default the thread-local pools,
    /// which dropped frames go back to (see [`crate::buffers`]).
    pub fn with_allocator(mut self, allocator: AllocatorStrategy) -> Framer {
        self.allocator = allocator;
        self
    }

    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The byte order of a GIOP-lite framer; `None` for GIOP.
    pub fn lite_order(&self) -> Option<ByteOrder> {
        self.lite
    }

    /// Appends octets read from the connection. Ignored once the stream has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= COMPACT_AT {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Octets pushed but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The error the stream failed with, if it did.
    pub fn error(&self) -> Option<&GiopError> {
        self.failed.as_ref()
    }

    /// How many more octets must be pushed before the next message (or Fragment) is complete;
    /// 0 when one is ready or the stream has failed. Never more than the size limit.
    pub fn needed(&self) -> usize {
        if self.failed.is_some() {
            return 0;
        }
        let avail = &self.buf[self.start..];
        let header_len = self.header_len();
        if avail.len() < header_len {
            return header_len - avail.len();
        }
        match self.announced_len(avail) {
            Ok(len) if len <= self.max_message_size as u64 => {
                (len as usize).saturating_sub(avail.len())
            }
            _ => 0,
        }
    }

    fn header_len(&self) -> usize {
        if self.lite.is_some() {
            LITE_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// The whole length of the message starting at `avail`, whose header is complete.
    fn announced_len(&self, avail: &[u8]) -> Result<u64, GiopError> {
        self.announced(avail).map(|(len, _)| len)
    }

    /// [`Framer::announced_len`], and whether the message is whole by itself: neither a
    /// Fragment, nor followed by any, nor a CancelRequest (which may end a fragmented
    /// request), so that the reassembler has nothing to do with it when it holds nothing.
    #[inline]
    fn announced(&self, avail: &[u8]) -> Result<(u64, bool), GiopError> {
        match self.lite {
            Some(order) => LiteHeader::parse(avail, order).map(|h| (h.message_len(), true)),
            None => GiopHeader::parse(avail).map(|h| {
                let whole = !h.more_fragments
                    && h.msg_type != MsgType::FRAGMENT
                    && h.msg_type != MsgType::CANCEL_REQUEST;
                (h.message_len(), whole)
            }),
        }
    }

    /// The next whole message, reassembled from its fragments; `None` until enough octets
    /// have been pushed.
    pub fn poll_message(&mut self) -> Result<Option<Frame>, GiopError> {
        loop {
            if let Some(e) = &self.failed {
                return Err(e.clone());
            }
            let (len, whole) = match self.complete_len(&self.buf[self.start..]) {
                Ok(Some(len)) => len,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(e)),
            };
            // The frame owns its message, in a buffer from the pool that it goes back to
            // when the frame is dropped: no allocation once the pool has buffers.
            let mut message = buffers::take(self.allocator);
            message.extend_from_slice(&self.buf[self.start..self.start + len]);
            self.start += len;
            if self.is_whole(whole) {
                return Ok(Some(self.whole_frame(message)));
            }
            if let Some(frame) = self.reassemble(message)? {
                return Ok(Some(frame));
            }
        }
    }

    /// Like [`Framer::push`] then [`Framer::poll_message`], but takes whole messages
    /// straight out of `input` (one read's octets), consuming what it uses: a message that
    /// arrived whole in one read is copied once, into its frame, instead of into the framer
    /// first and then out again. Only the octets of a message cut by the end of `input` are
    /// kept in the framer, to be completed by the next read's.
    ///
    /// Call it until it returns `Ok(None)`, which it does only once `input` is used up.
    pub fn next_message(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, GiopError> {
        loop {
            if let Some(e) = &self.failed {
                return Err(e.clone());
            }
            if self.buffered() > 0 {
                // A message an earlier read began (or octets given to `push`): finish it
                // from the input first, taking only what it still needs.
                if let Some(frame) = self.poll_message()? {
                    return Ok(Some(frame));
                }
                if input.is_empty() {
                    return Ok(None);
                }
                let (head, rest) = input.split_at(self.needed().clamp(1, input.len()));
                self.push(head);
                *input = rest;
                continue;
            }
            let (len, whole) = match self.complete_len(input) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    // Part of a message: kept for the next read to complete.
                    self.push(input);
                    *input = &[];
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            };
            let mut message = buffers::take(self.allocator);
            message.extend_from_slice(&input[..len]);
            *input = &input[len..];
            if self.is_whole(whole) {
                return Ok(Some(self.whole_frame(message)));
            }
            if let Some(frame) = self.reassemble(message)? {
                return Ok(Some(frame));
            }
        }
    }

    /// The length of the message at the start of `avail` if all of it is there; `None`
    /// while its header or body is incomplete. A header announcing more than the limit fails
    /// the stream (the caller's to record).
    /// With the length, whether the message is whole by itself (see [`Framer::announced`]).
    fn complete_len(&self, avail: &[u8]) -> Result<Option<(usize, bool)>, GiopError> {
        if avail.len() < self.header_len() {
            return Ok(None);
        }
        let (len, whole) = self.announced(avail)?;
        if len > self.max_message_size as u64 {
            return Err(GiopError::MessageTooLarge {
                size: len,
                max: self.max_message_size,
            });
        }
        let len = len as usize;
        Ok((avail.len() >= len).then_some((len, whole)))
    }

    /// Whether a message whose header says `whole` ([`Framer::announced`]) is a frame by
    /// itself: it is unfragmented while no fragmented one is in progress, as nearly all
    /// are (what the reassembler would hand back as it came, without parsing its header
    /// again), or GIOP-lite, which has no fragments.
    #[inline]
    fn is_whole(&self, whole: bool) -> bool {
        self.lite.is_some() || (whole && self.reassembler.in_progress() == 0)
    }

    /// The frame of a message [`Framer::is_whole`] says is one, made where the caller
    /// returns it: a frame built here and moved out through another result was copied as
    /// a whole union, across fields just written one by one (a store-forwarding stall).
    #[inline(always)]
    fn whole_frame(&self, message: Vec<u8>) -> Frame {
        Frame {
            bytes: Buffer::from_vec(message, self.allocator),
            lite: self.lite,
            fragment_starts: Vec::new(),
        }
    }

    /// A message that is, or may be, part of a fragmented one, through the reassembler: the
    /// whole message it completes, or `None` while more fragments are to come.
    fn reassemble(&mut self, message: Vec<u8>) -> Result<Option<Frame>, GiopError> {
        // An unfragmented message comes back as it went in; a reassembled one is the first
        // fragment's buffer, grown.
        match self.reassembler.push(message) {
            Ok(Some(joined)) => Ok(Some(Frame {
                bytes: Buffer::from_vec(joined.bytes, self.allocator),
                lite: None,
                fragment_starts: joined.fragment_starts,
            })),
            Ok(None) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    #[cold]
    fn fail(&mut self, e: GiopError) -> GiopError {
        self.failed = Some(e.clone());
        self.buf = Vec::new();
        self.start = 0;
        e
    }
}

/// One whole message a [`Framer`] yielded, in its own buffer, which goes back to the
/// dropping thread's pool (see [`crate::buffers`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    bytes: Buffer,
    lite: Option<ByteOrder>,
    /// See [`Frame::fragment_starts`]; empty (and unallocated) but for GIOP 1.1 fragments.
    fragment_starts: Vec<u32>,
}

impl Frame {
    /// Decodes the message header; the result borrows from this frame.
    pub fn decode(&self) -> Result<Message<'_>, GiopError> {
        match self.lite {
            Some(order) => Message::decode_lite(&self.bytes, order),
            None => Message::decode_joined(&self.bytes, &self.fragment_starts),
        }
    }

    /// Where the data of each Fragment starts in a GIOP 1.1 message joined from fragments
    /// (see [`super::Joined`]); empty for every other message. Whoever decodes
    /// [`Frame::as_bytes`] itself must give these to its decoder
    /// ([`crate::cdr::Decoder::set_fragments`]).
    pub fn fragment_starts(&self) -> &[u32] {
        &self.fragment_starts
    }

    /// The message in its pooled buffer, with [`Frame::fragment_starts`].
    pub fn into_parts(self) -> (Buffer, Vec<u32>) {
        (self.bytes, self.fragment_starts)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message's octets, no longer pooled (without [`Frame::fragment_starts`]).
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes.into_vec()
    }

    pub fn is_lite(&self) -> bool {
        self.lite.is_some()
    }

    /// The message type, known without decoding the message header.
    pub fn msg_type(&self) -> MsgType {
        match self.lite {
            Some(_) => MsgType(self.bytes[0]),
            None => MsgType(self.bytes[7]),
        }
    }

    /// The GIOP version (1.2 for GIOP-lite, whose bodies follow 1.2's CDR rules).
    pub fn version(&self) -> GiopVersion {
        match self.lite {
            Some(_) => GiopVersion::V1_2,
            None => GiopVersion::new(self.bytes[4], self.bytes[5]),
        }
    }
}
