//! GIOP fragmentation (§15.4.9): joining a message and its Fragment messages into one buffer
//! ([`Reassembler`]), and splitting an already marshalled GIOP 1.2 message
//! ([`fragment_message`]). Fragmenting while marshalling, the only way for GIOP 1.1, is
//! [`super::MessageWriter::fragment`].
//!
//! Reassembly never holds more than its configured limit, summed over every message in
//! progress, and never trusts a size it has not received.

use super::header::{GiopHeader, HEADER_LEN};
use super::types::ServiceContexts;
use super::{GiopEncodeError, GiopError, Message, MsgType};
use crate::cdr::{ByteOrder, CdrDecode, Decoder, GiopVersion};

/// Octets of a GIOP 1.2 Fragment's headers: the GIOP header and the request id.
const FRAGMENT_1_2_HEADER_LEN: usize = HEADER_LEN + 4;

#[derive(Debug)]
struct Partial {
    request_id: Option<u32>,
    version: GiopVersion,
    order: ByteOrder,
    bytes: Vec<u8>,
    /// GIOP 1.1: where each Fragment's data starts in `bytes`.
    starts: Vec<u32>,
}

/// A whole message out of a [`Reassembler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The initial message's octets followed by each Fragment's data, with the size rewritten
    /// and the more-fragments flag cleared.
    pub bytes: Vec<u8>,
    /// For a GIOP 1.1 message joined from fragments, where the data of each Fragment starts in
    /// `bytes`: the boundaries a decoder must know ([`crate::cdr::Decoder::set_fragments`]).
    /// Empty otherwise.
    pub fragment_starts: Vec<u32>,
}

impl Joined {
    fn whole(bytes: Vec<u8>) -> Joined {
        Joined {
            bytes,
            fragment_starts: Vec::new(),
        }
    }
}

/// Joins fragmented messages, fed one whole GIOP message at a time, into whole messages.
///
/// GIOP 1.2 fragments of different requests may interleave (they carry the request id); GIOP
/// 1.1 fragments of one message are contiguous.
///
/// The body of a reassembled message is the concatenation of the fragments' data. That is
/// exactly the 1.2 stream (§15.4.9 makes every fragment but the last a multiple of 8 octets,
/// checked here, and its 16-octet header keeps the alignment). In 1.1 the data of each
/// fragment is aligned relative to that fragment's own header, so the joined message comes
/// with the places where fragments start ([`Joined::fragment_starts`]), which its decoder
/// needs to know where alignment restarts.
#[derive(Debug)]
pub struct Reassembler {
    max_size: usize,
    /// The GIOP 1.1 message in progress.
    contiguous: Option<Partial>,
    /// GIOP 1.2 messages in progress; few at once, so a linear search beats a map.
    interleaved: Vec<Partial>,
    buffered: usize,
}

impl Reassembler {
    /// A reassembler holding at most `max_size` octets, all messages in progress together.
    pub fn new(max_size: usize) -> Reassembler {
        Reassembler {
            max_size,
            contiguous: None,
            interleaved: Vec::new(),
            buffered: 0,
        }
    }

    /// How many fragmented messages are waiting for more fragments.
    pub fn in_progress(&self) -> usize {
        self.contiguous.is_some() as usize + self.interleaved.len()
    }

    /// Octets held for messages in progress.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Takes one whole GIOP message (header and the octets its size announces). Returns a whole
    /// message when `message` is one or completes one, `None` when it was kept for reassembly.
    pub fn push(&mut self, message: Vec<u8>) -> Result<Option<Joined>, GiopError> {
        let h = GiopHeader::parse(&message)?;
        if h.message_len() != message.len() as u64 {
            return Err(GiopError::SizeMismatch {
                announced: h.size as usize,
                actual: message.len().saturating_sub(HEADER_LEN),
            });
        }
        if h.msg_type == MsgType::FRAGMENT {
            return match h.version.minor {
                0 => Err(GiopError::FragmentInGiop10),
                1 => self.continue_contiguous(&h, message),
                _ => self.continue_interleaved(&h, message),
            };
        }
        if h.msg_type == MsgType::CANCEL_REQUEST {
            // §15.4.9: a CancelRequest may be sent before the final fragment of the request it
            // cancels; the server then assumes no more fragments follow.
            self.cancel(request_id_at_12(&message, h.order));
            return Ok(Some(Joined::whole(message)));
        }
        if self.contiguous.is_some() {
            // GIOP 1.1 fragments cannot say which message they continue, so nothing but a
            // Fragment (or the CancelRequest above) may come between them.
            return Err(GiopError::InterleavedFragment {
                msg_type: h.msg_type,
            });
        }
        if !h.more_fragments {
            return Ok(Some(Joined::whole(message)));
        }
        // §15.4.9: in GIOP 1.1 only Request and Reply may be fragmented; 1.2 adds
        // LocateRequest and LocateReply.
        let allowed = match h.version.minor {
            1 => matches!(h.msg_type, MsgType::REQUEST | MsgType::REPLY),
            _ => matches!(
                h.msg_type,
                MsgType::REQUEST | MsgType::REPLY | MsgType::LOCATE_REQUEST | MsgType::LOCATE_REPLY
            ),
        };
        if !allowed {
            return Err(GiopError::FragmentNotAllowed {
                msg_type: h.msg_type,
                version: h.version,
            });
        }
        if h.version.minor == 1 {
            grow(&mut self.buffered, self.max_size, message.len())?;
            let request_id = request_id_1_1(&message, h.order);
            self.contiguous = Some(Partial {
                request_id,
                version: h.version,
                order: h.order,
                bytes: message,
                starts: Vec::new(),
            });
            return Ok(None);
        }
        // These four message headers all begin with the request id in GIOP 1.2.
        let Some(id) = request_id_at_12(&message, h.order) else {
            return Err(GiopError::Incomplete {
                needed: FRAGMENT_1_2_HEADER_LEN,
                available: message.len(),
            });
        };
        check_1_2_fragment_len(message.len())?;
        if self.interleaved.iter().any(|p| p.request_id == Some(id)) {
            return Err(GiopError::DuplicateFragmentedRequest(id));
        }
        grow(&mut self.buffered, self.max_size, message.len())?;
        self.interleaved.push(Partial {
            request_id: Some(id),
            version: h.version,
            order: h.order,
            bytes: message,
            starts: Vec::new(),
        });
        Ok(None)
    }

    /// Drops the message in progress for `request_id`, if any (a CancelRequest arrived).
    pub fn cancel(&mut self, request_id: Option<u32>) -> bool {
        let Some(id) = request_id else { return false };
        if self
            .contiguous
            .as_ref()
            .is_some_and(|p| p.request_id == Some(id))
        {
            let p = self.contiguous.take().map_or(0, |p| p.bytes.len());
            self.buffered -= p;
            return true;
        }
        if let Some(i) = self
            .interleaved
            .iter()
            .position(|p| p.request_id == Some(id))
        {
            let p = self.interleaved.swap_remove(i);
            self.buffered -= p.bytes.len();
            return true;
        }
        false
    }

    fn continue_contiguous(
        &mut self,
        h: &GiopHeader,
        fragment: Vec<u8>,
    ) -> Result<Option<Joined>, GiopError> {
        let Some(p) = self.contiguous.as_mut() else {
            return Err(GiopError::FragmentWithoutMessage {
                version: h.version,
                request_id: None,
            });
        };
        check_matches(p, h)?;
        let data = &fragment[HEADER_LEN..];
        grow(&mut self.buffered, self.max_size, data.len())?;
        // `grow` kept the joined size within a u32 (it must fit the header's size field).
        p.starts.push(p.bytes.len() as u32);
        p.bytes.extend_from_slice(data);
        if h.more_fragments {
            return Ok(None);
        }
        Ok(self.contiguous.take().map(|p| {
            self.buffered -= p.bytes.len();
            finish(p)
        }))
    }

    fn continue_interleaved(
        &mut self,
        h: &GiopHeader,
        fragment: Vec<u8>,
    ) -> Result<Option<Joined>, GiopError> {
        let Some(id) = request_id_at_12(&fragment, h.order) else {
            return Err(GiopError::Incomplete {
                needed: FRAGMENT_1_2_HEADER_LEN,
                available: fragment.len(),
            });
        };
        let Some(i) = self
            .interleaved
            .iter()
            .position(|p| p.request_id == Some(id))
        else {
            return Err(GiopError::FragmentWithoutMessage {
                version: h.version,
                request_id: Some(id),
            });
        };
        check_matches(&self.interleaved[i], h)?;
        if h.more_fragments {
            check_1_2_fragment_len(fragment.len())?;
        }
        let data = &fragment[FRAGMENT_1_2_HEADER_LEN..];
        grow(&mut self.buffered, self.max_size, data.len())?;
        self.interleaved[i].bytes.extend_from_slice(data);
        if h.more_fragments {
            return Ok(None);
        }
        let p = self.interleaved.swap_remove(i);
        self.buffered -= p.bytes.len();
        Ok(Some(finish(p)))
    }
}

/// Counts `n` more octets held, refusing to go over `max`.
fn grow(buffered: &mut usize, max: usize, n: usize) -> Result<(), GiopError> {
    let total = *buffered as u64 + n as u64;
    // The joined message's size must also fit its header's unsigned long.
    if total > max as u64 || total > HEADER_LEN as u64 + u32::MAX as u64 {
        return Err(GiopError::ReassemblyTooLarge { size: total, max });
    }
    *buffered += n;
    Ok(())
}

fn check_matches(p: &Partial, h: &GiopHeader) -> Result<(), GiopError> {
    if p.version != h.version {
        return Err(GiopError::FragmentMismatch(
            "GIOP version differs from the initial message",
        ));
    }
    // §15.4.1: the byte order of a fragment must match that of the message it extends.
    if p.order != h.order {
        return Err(GiopError::FragmentMismatch(
            "byte order differs from the initial message",
        ));
    }
    Ok(())
}

/// §15.4.9: in GIOP 1.2 every fragment but the last, header included, is a multiple of 8
/// octets long, so that the joined data keeps its 8-octet alignment.
fn check_1_2_fragment_len(len: usize) -> Result<(), GiopError> {
    if len % 8 != 0 {
        return Err(GiopError::FragmentNotAligned { len });
    }
    Ok(())
}

fn request_id_at_12(message: &[u8], order: ByteOrder) -> Option<u32> {
    let b: [u8; 4] = message.get(HEADER_LEN..HEADER_LEN + 4)?.try_into().ok()?;
    Some(match order {
        ByteOrder::BigEndian => u32::from_be_bytes(b),
        ByteOrder::LittleEndian => u32::from_le_bytes(b),
    })
}

/// A GIOP 1.1 Request's or Reply's request id follows its service contexts; `None` if the
/// first fragment ends before it.
fn request_id_1_1(message: &[u8], order: ByteOrder) -> Option<u32> {
    let mut dec = Decoder::new_at(message, HEADER_LEN, order);
    ServiceContexts::decode(&mut dec).ok()?;
    dec.read_ulong().ok()
}

fn finish(p: Partial) -> Joined {
    let mut bytes = p.bytes;
    let size = (bytes.len() - HEADER_LEN) as u32;
    let size = match p.order {
        ByteOrder::BigEndian => size.to_be_bytes(),
        ByteOrder::LittleEndian => size.to_le_bytes(),
    };
    bytes[6] &= !0x02;
    bytes[8..12].copy_from_slice(&size);
    Joined {
        bytes,
        fragment_starts: p.starts,
    }
}

/// Splits a whole GIOP 1.2 message into fragments of at most `max_fragment_len` octets each
/// (headers included); a message that fits is returned whole.
///
/// The first fragment holds the complete message header, so the receiver learns the request
/// id and target before the body; every fragment but the last is a multiple of 8 octets, so
/// no primitive of 8 octets or less is ever split (§15.4.9).
///
/// GIOP 1.1 is refused: its fragment data is aligned relative to each fragment, which only the
/// marshaller, knowing where values begin, can arrange — [`super::MessageWriter::fragment`]
/// does, for 1.1 and 1.2 alike.
pub fn fragment_message(
    message: &[u8],
    max_fragment_len: usize,
) -> Result<Vec<Vec<u8>>, GiopEncodeError> {
    let msg = Message::decode(message)
        .map_err(|_| GiopEncodeError::CannotFragment("not a whole, valid GIOP message"))?;
    if message.len() <= max_fragment_len {
        return Ok(vec![message.to_vec()]);
    }
    if msg.more_fragments() {
        return Err(GiopEncodeError::CannotFragment("it is already a fragment"));
    }
    if msg.version() != GiopVersion::V1_2 {
        return Err(GiopEncodeError::CannotFragment(
            "only GIOP 1.2 messages are fragmented after marshalling",
        ));
    }
    if !matches!(
        msg.msg_type(),
        MsgType::REQUEST | MsgType::REPLY | MsgType::LOCATE_REQUEST | MsgType::LOCATE_REPLY
    ) {
        return Err(GiopEncodeError::CannotFragment(
            "GIOP 1.2 fragments only Request, Reply, LocateRequest and LocateReply",
        ));
    }
    let step = max_fragment_len & !7;
    let header_end = (msg.body_offset() + 7) & !7;
    if step < header_end || step < FRAGMENT_1_2_HEADER_LEN + 8 {
        return Err(GiopEncodeError::CannotFragment(
            "the maximum fragment length cannot hold the message header",
        ));
    }
    let order = msg.order();
    let request_id = msg.header().request_id().unwrap_or(0);
    let chunk = step - FRAGMENT_1_2_HEADER_LEN;
    let mut out = Vec::with_capacity(2 + (message.len() - step) / chunk);

    let mut first = message[..step].to_vec();
    first[6] |= 0x02;
    write_size(&mut first, order);
    out.push(first);

    let mut at = step;
    while at < message.len() {
        let end = (at + chunk).min(message.len());
        let more = end < message.len();
        let mut f = Vec::with_capacity(FRAGMENT_1_2_HEADER_LEN + end - at);
        f.extend_from_slice(
            &GiopHeader {
                version: GiopVersion::V1_2,
                order,
                more_fragments: more,
                msg_type: MsgType::FRAGMENT,
                size: 0,
            }
            .to_bytes(),
        );
        f.extend_from_slice(&match order {
            ByteOrder::BigEndian => request_id.to_be_bytes(),
            ByteOrder::LittleEndian => request_id.to_le_bytes(),
        });
        f.extend_from_slice(&message[at..end]);
        write_size(&mut f, order);
        out.push(f);
        at = end;
    }
    Ok(out)
}

fn write_size(bytes: &mut [u8], order: ByteOrder) {
    let size = (bytes.len() - HEADER_LEN) as u32;
    bytes[8..12].copy_from_slice(&match order {
        ByteOrder::BigEndian => size.to_be_bytes(),
        ByteOrder::LittleEndian => size.to_le_bytes(),
    });
}
