//! The CDR decoder.

use super::{ByteOrder, CodeSetId, CodeSets, DecodeError, DecodeErrorKind, GiopVersion};
use std::borrow::Cow;

macro_rules! get_number {
    ($(#[$m:meta])* $name:ident, $ty:ty, $size:expr) => {
        $(#[$m])*
        #[inline]
        pub fn $name(&mut self) -> Result<$ty, DecodeError> {
            let bytes: [u8; $size] = self.read_primitive()?;
            Ok(match self.order {
                ByteOrder::BigEndian => <$ty>::from_be_bytes(bytes),
                ByteOrder::LittleEndian => <$ty>::from_le_bytes(bytes),
            })
        }
    };
}

/// Octets of a GIOP 1.1 Fragment's header: the alignment origin of its data is this far
/// before the data's first octet.
const FRAGMENT_1_1_HEADER_LEN: usize = 12;

/// Deepest encapsulation nesting followed (TypeCodes nest one per level of IDL type nesting);
/// deeper input is refused rather than risking the stack.
pub(crate) const MAX_DEPTH: u32 = 64;

/// Reads CDR from a borrowed buffer.
///
/// Every read checks the remaining length first. Errors carry the absolute offset: the position
/// plus `base`, the offset of this buffer inside the message it was cut from.
///
/// A GIOP 1.1 message joined from fragments is read with the fragments' boundaries
/// ([`Decoder::set_fragments`]): §15.4.9 aligns the data of each 1.1 fragment relative to that
/// fragment's own header, so at each boundary the alignment origin moves. What the
/// specification leaves open follows omniORB, the de-facto layout: a value whose aligned start
/// reaches the end of a fragment starts in the next one, aligned afresh there; a run of
/// primitives read as a block ([`Decoder::align_run`]) is aligned once and then flows across
/// boundaries octet for octet; a primitive split by a boundary, or padding that crosses one,
/// is an error, never a guess.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Index in `buf` that alignment is counted from.
    origin: usize,
    /// Absolute offset of `buf[0]` in the outermost message, for error reports.
    base: usize,
    order: ByteOrder,
    version: GiopVersion,
    codesets: CodeSets,
    depth: u32,
    /// Where in `buf` the data of each GIOP 1.1 continuation fragment starts, ascending; empty
    /// for everything else, which then never leaves the fast paths.
    fragments: &'a [u32],
    /// How many of `fragments` the reading has entered.
    fragment: usize,
    /// End of the current fragment's data: the next boundary, or `buf.len()` after the last.
    /// The fast paths check against it alone.
    fragment_end: usize,
    /// While a chunked value's state is read ([`super::value`]), `buf` ends where the chunk
    /// does and this is the whole buffer: a read that reaches the end of the chunk goes on in
    /// the next chunk if a chunk size follows (writers may cut state between any two reads).
    chunks: Option<&'a [u8]>,
    /// The buffer the decoder was made over, whatever [`Decoder::set_visible_end`] hides of it.
    whole: &'a [u8],
    /// The values read from this stream so far (for indirections back to them): made by the
    /// first value read and shared by the decoder's clones, so that a read through a clone
    /// (how chunk boundaries are crossed) is still a read of the same stream.
    values: Option<std::sync::Arc<parking_lot::Mutex<super::value::ReadStream>>>,
}

impl<'a> Decoder<'a> {
    /// A decoder over `buf` whose alignment origin is `buf[0]`, for GIOP 1.2, default code sets.
    pub fn new(buf: &'a [u8], order: ByteOrder) -> Decoder<'a> {
        Decoder {
            buf,
            pos: 0,
            origin: 0,
            base: 0,
            order,
            version: GiopVersion::V1_2,
            codesets: CodeSets::default(),
            depth: 0,
            fragments: &[],
            fragment: 0,
            fragment_end: buf.len(),
            chunks: None,
            whole: buf,
            values: None,
        }
    }

    /// Starts reading at `pos` with alignment still counted from `buf[0]`: how a GIOP message
    /// body is read after its 12-octet header.
    pub fn new_at(buf: &'a [u8], pos: usize, order: ByteOrder) -> Decoder<'a> {
        let mut d = Decoder::new(buf, order);
        d.pos = pos.min(buf.len());
        d
    }

    pub fn set_version(&mut self, version: GiopVersion) -> &mut Self {
        self.version = version;
        self
    }

    /// Reads `buf` as a GIOP 1.1 message joined from fragments: `starts` are the indexes in
    /// `buf` where the data of each continuation fragment begins (its 12-octet header removed),
    /// ascending, as [`crate::giop::Frame::fragments`] gives them. The current position may be
    /// anywhere; a position on a boundary belongs to the fragment that ends there.
    pub fn set_fragments(&mut self, starts: &'a [u32]) -> &mut Self {
        self.fragments = starts;
        self.fragment = 0;
        self.fragment_end = starts
            .first()
            .map_or(self.buf.len(), |&s| (s as usize).min(self.buf.len()));
        self.sync_fragment();
        self
    }

    /// The GIOP 1.1 fragment boundaries given to [`Decoder::set_fragments`].
    pub fn fragment_starts(&self) -> &'a [u32] {
        self.fragments
    }

    /// Moves into the next fragment, whose data is aligned relative to its own header.
    #[cold]
    fn enter_next_fragment(&mut self) {
        let start = self.fragments[self.fragment] as usize;
        self.origin = start.wrapping_sub(FRAGMENT_1_1_HEADER_LEN);
        self.fragment += 1;
        self.fragment_end = self
            .fragments
            .get(self.fragment)
            .map_or(self.buf.len(), |&s| (s as usize).min(self.buf.len()));
    }

    fn has_next_fragment(&self) -> bool {
        self.fragment < self.fragments.len()
    }

    /// Catches up with a position that runs of octets carried past fragment boundaries.
    fn sync_fragment(&mut self) {
        while self.has_next_fragment() && self.pos > self.fragment_end {
            self.enter_next_fragment();
        }
    }

    pub fn set_codesets(&mut self, codesets: CodeSets) -> &mut Self {
        self.codesets = codesets;
        self
    }

    pub fn set_order(&mut self, order: ByteOrder) -> &mut Self {
        self.order = order;
        self
    }

    pub fn order(&self) -> ByteOrder {
        self.order
    }

    pub fn version(&self) -> GiopVersion {
        self.version
    }

    pub fn codesets(&self) -> CodeSets {
        self.codesets
    }

    /// Position within this decoder's buffer.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Absolute offset of the next octet within the outermost message.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The octets not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// The whole buffer this decoder reads.
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    #[cold]
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    /// Fails unless every octet was consumed.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::TrailingBytes(self.remaining())))
        }
    }

    /// Skips padding up to a multiple of `n` (a power of two) from the origin, before a value
    /// that must not be split: in a message joined from GIOP 1.1 fragments, a value whose
    /// aligned start reaches the end of its fragment starts in the next fragment instead.
    #[inline]
    pub fn align(&mut self, n: usize) -> Result<(), DecodeError> {
        self.align_for(n, false)
    }

    /// Aligns to `n` before a run of primitives read as one block (sequences and arrays of
    /// them): the run is aligned where it starts and then, as omniORB writes it, flows across
    /// GIOP 1.1 fragment boundaries without further padding.
    #[inline]
    pub fn align_run(&mut self, n: usize) -> Result<(), DecodeError> {
        self.align_for(n, true)
    }

    #[inline(always)]
    fn align_for(&mut self, n: usize, run: bool) -> Result<(), DecodeError> {
        debug_assert!(n.is_power_of_two());
        let pad = self.origin.wrapping_sub(self.pos) & (n - 1);
        if self.pos + pad < self.fragment_end {
            self.pos += pad;
            return Ok(());
        }
        self.align_at_boundary(n, run)
    }

    /// The end of the buffer or of a GIOP 1.1 fragment is at or before the aligned position.
    #[cold]
    fn align_at_boundary(&mut self, n: usize, run: bool) -> Result<(), DecodeError> {
        loop {
            self.sync_fragment();
            let pad = self.origin.wrapping_sub(self.pos) & (n - 1);
            let at = self.pos + pad;
            if at >= self.buf.len() && self.chunks.is_some() && self.enter_next_chunk() {
                // What the chunk held before its end was padding; the value is in the next.
                continue;
            }
            let fits = if run {
                at <= self.fragment_end
            } else {
                at < self.fragment_end
            };
            if fits || !self.has_next_fragment() {
                if at > self.buf.len() {
                    return Err(self.error(DecodeErrorKind::Truncated {
                        needed: pad,
                        remaining: self.remaining(),
                    }));
                }
                self.pos = at;
                return Ok(());
            }
            if at == self.fragment_end || self.pos == self.fragment_end {
                // Nothing of the value is in this fragment (its padding may be): it starts in
                // the next one, aligned relative to that fragment.
                self.pos = self.fragment_end;
                self.enter_next_fragment();
                continue;
            }
            return Err(self.error(DecodeErrorKind::Invalid(
                "alignment padding crosses a GIOP 1.1 fragment boundary",
            )));
        }
    }

    /// An aligned primitive of `N` octets (2, 4 or 8), which no fragment boundary may split.
    #[inline]
    fn read_primitive<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let start = self.pos + (self.origin.wrapping_sub(self.pos) & (N - 1));
        if start + N <= self.fragment_end {
            self.pos = start + N;
            let mut a = [0u8; N];
            a.copy_from_slice(&self.buf[start..start + N]);
            return Ok(a);
        }
        self.read_primitive_at_boundary()
    }

    #[cold]
    fn read_primitive_at_boundary<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.align(N)?;
        if self.pos + N > self.fragment_end && self.has_next_fragment() {
            return Err(self.error(DecodeErrorKind::Invalid(
                "a primitive is split across GIOP 1.1 fragments",
            )));
        }
        self.take_array()
    }

    /// The next `n` octets, borrowed.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return self.take_at_end(n);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// `n` octets are not there: at the end of a value chunk they may be in the next one (a
    /// run split between two chunks cannot be borrowed in one piece, so that is an error).
    #[cold]
    fn take_at_end(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() == 0 && self.enter_next_chunk() && n <= self.remaining() {
            return self.take(n);
        }
        Err(self.error(DecodeErrorKind::Truncated {
            needed: n,
            remaining: self.remaining(),
        }))
    }

    #[inline]
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Skips `n` octets.
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    #[inline]
    pub fn read_octet(&mut self) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None if self.enter_next_chunk() => self.read_octet(),
            None => Err(self.error(DecodeErrorKind::Truncated {
                needed: 1,
                remaining: 0,
            })),
        }
    }

    /// IDL `boolean`: the specification allows only 0 (FALSE) and 1 (TRUE).
    #[inline]
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        match self.read_octet()? {
            0 => Ok(false),
            1 => Ok(true),
            b => {
                self.pos -= 1;
                Err(self.error(DecodeErrorKind::InvalidBoolean(b)))
            }
        }
    }

    get_number!(read_short, i16, 2);
    get_number!(read_ushort, u16, 2);
    get_number!(read_long, i32, 4);
    get_number!(read_ulong, u32, 4);
    get_number!(read_longlong, i64, 8);
    get_number!(read_ulonglong, u64, 8);
    get_number!(read_float, f32, 4);
    get_number!(read_double, f64, 8);

    /// A sequence length, checked against the octets left: each element takes at least
    /// `min_element_size` octets, so a length the rest of the message cannot hold is an error
    /// here, before anyone allocates for it. Always inlined: a server reads two octet
    /// sequences (the key, the operation) in every request's header, and left to the
    /// compiler it stayed a call (inlined, the server thread's samples per oneway fell ~3%).
    #[inline(always)]
    pub fn read_seq_len(&mut self, min_element_size: usize) -> Result<usize, DecodeError> {
        self.align(4)?;
        let at = self.offset();
        let n = self.read_ulong()?;
        let remaining = self.remaining();
        let fits = match min_element_size {
            0 => true,
            m => (n as u64).saturating_mul(m as u64) <= remaining as u64,
        };
        if !fits {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthTooLarge {
                    length: n as u64,
                    remaining,
                },
                at,
            ));
        }
        Ok(n as usize)
    }

    /// Like [`Decoder::read_seq_len`] for a bounded sequence or string.
    pub fn read_bounded_len(
        &mut self,
        min_element_size: usize,
        bound: u32,
    ) -> Result<usize, DecodeError> {
        self.align(4)?;
        let at = self.offset();
        let n = self.read_seq_len(min_element_size)?;
        if n as u64 > bound as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::BoundExceeded {
                    length: n as u64,
                    bound: bound as u64,
                },
                at,
            ));
        }
        Ok(n)
    }

    /// `sequence<octet>`, borrowed from the input. Always inlined, as
    /// [`Decoder::read_seq_len`] is, for the same two reads per request.
    #[inline(always)]
    pub fn read_octet_seq(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.read_seq_len(1)?;
        self.take(n)
    }

    /// Reads an encapsulation (§15.3.3) and returns a decoder over its contents, positioned
    /// after the byte-order octet, with its own byte order and alignment origin.
    pub fn read_encapsulation(&mut self) -> Result<Decoder<'a>, DecodeError> {
        let body = self.read_octet_seq()?;
        self.encapsulation_of(body, self.offset() - body.len())
    }

    /// A decoder over `body`, an encapsulation that starts at absolute offset `at`.
    pub fn encapsulation_of(&self, body: &'a [u8], at: usize) -> Result<Decoder<'a>, DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::new(DecodeErrorKind::TooDeep, at));
        }
        let order = match body.first() {
            Some(&b) if b <= 1 => ByteOrder::from_flag(b),
            Some(&b) => return Err(DecodeError::new(DecodeErrorKind::InvalidByteOrder(b), at)),
            None => {
                return Err(DecodeError::new(
                    DecodeErrorKind::Invalid("empty encapsulation has no byte-order octet"),
                    at,
                ))
            }
        };
        // An encapsulation is an octet sequence to the message around it: whatever fragments
        // carried it, its octets are contiguous here and aligned from its own start.
        Ok(Decoder {
            buf: body,
            pos: 1,
            origin: 0,
            base: at,
            order,
            version: self.version,
            codesets: self.codesets,
            depth: self.depth + 1,
            fragments: &[],
            fragment: 0,
            fragment_end: body.len(),
            chunks: None,
            // An encapsulation is a stream of its own: indirections do not cross its bounds.
            whole: body,
            values: None,
        })
    }

    /// Lets the decoder see `whole[..end]` only, `whole` being the buffer it was made over (of
    /// which its own is a prefix): how [`super::value`] confines a chunked value's state to its
    /// chunk, so that state read past the chunk is an error, and lifts that limit afterwards.
    /// With `chunked`, a read that reaches `end` goes on in the next chunk if one follows.
    pub(super) fn set_visible_end(
        &mut self,
        whole: &'a [u8],
        end: usize,
        chunked: bool,
    ) -> Result<(), DecodeError> {
        if !std::ptr::eq(whole.as_ptr(), self.buf.as_ptr()) || end > whole.len() || end < self.pos {
            return Err(self.error(DecodeErrorKind::Invalid(
                "a value is read from another buffer than the one its stream started in",
            )));
        }
        self.buf = &whole[..end];
        self.chunks = chunked.then_some(whole);
        self.fragment_end = self
            .fragments
            .get(self.fragment)
            .map_or(self.buf.len(), |&s| (s as usize).min(self.buf.len()));
        Ok(())
    }

    /// The whole buffer, past any limit a value chunk sets.
    pub(super) fn whole(&self) -> &'a [u8] {
        self.whole
    }

    /// The values of this stream read so far, made on first use.
    pub(super) fn value_stream(
        &mut self,
        make: impl FnOnce() -> super::value::ReadStream,
    ) -> std::sync::Arc<parking_lot::Mutex<super::value::ReadStream>> {
        self.values
            .get_or_insert_with(|| std::sync::Arc::new(parking_lot::Mutex::new(make())))
            .clone()
    }

    /// Makes this decoder read values as part of `stream` (a [`super::value::ValueReader`]
    /// that outlives the decoders it is used with).
    pub(super) fn set_value_stream(
        &mut self,
        stream: std::sync::Arc<parking_lot::Mutex<super::value::ReadStream>>,
    ) {
        self.values = Some(stream);
    }

    /// Whether the decoder is confined to a value chunk (see [`Decoder::set_visible_end`]).
    pub(super) fn in_chunk(&self) -> bool {
        self.chunks.is_some()
    }

    /// The same decoder, stopping at the end of the current chunk rather than going on in the
    /// next: to look at what is left in this one.
    pub(super) fn within_chunk(&self) -> Decoder<'a> {
        Decoder {
            chunks: None,
            ..self.clone()
        }
    }

    /// At the end of a value chunk: if a chunk size follows (a positive long below the value
    /// tags), reads it and goes on inside that chunk.
    #[cold]
    fn enter_next_chunk(&mut self) -> bool {
        let Some(whole) = self.chunks else {
            return false;
        };
        let mut next = self.clone();
        next.pos = self.buf.len();
        if next.set_visible_end(whole, whole.len(), false).is_err() {
            return false;
        }
        match next.read_long() {
            Ok(size) if size > 0 && (size as u32) < super::value::VALUE_TAG_MIN => {
                let end = next.pos + size as usize;
                if end > whole.len() || next.set_visible_end(whole, end, true).is_err() {
                    return false;
                }
                *self = next;
                true
            }
            _ => false,
        }
    }

    /// Nesting depth of encapsulations (and, for TypeCodes, of nested types).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Runs `f` one nesting level deeper, refusing input nested deeper than `MAX_DEPTH` (64) levels.
    pub fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Decoder<'a>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// IDL `char`: one octet in the transmission code set, as a Unicode scalar.
    pub fn read_char(&mut self) -> Result<char, DecodeError> {
        let b = self.read_octet()?;
        match self.codesets.char {
            CodeSetId::ISO_8859_1 => Ok(b as char),
            CodeSetId::UTF_8 | CodeSetId::ISO_646 if b <= 0x7f => Ok(b as char),
            cs @ (CodeSetId::UTF_8 | CodeSetId::ISO_646) => {
                self.pos -= 1;
                Err(self.error(DecodeErrorKind::InvalidCharacter { codeset: cs }))
            }
            other => Err(self.error(DecodeErrorKind::UnsupportedCodeSet(other))),
        }
    }

    /// IDL `string`, borrowed from the input when its octets are already UTF-8 (always for
    /// ASCII), converted otherwise.
    pub fn read_string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        self.align(4)?;
        let at = self.offset();
        let n = self.read_seq_len(1)?;
        let err = |kind| DecodeError::new(kind, at);
        let bytes = self.take(n)?;
        let (last, text) = match bytes.split_last() {
            Some((&0, text)) => (0, text),
            _ => return Err(err(DecodeErrorKind::StringNotTerminated)),
        };
        debug_assert_eq!(last, 0);
        if text.contains(&0) {
            return Err(err(DecodeErrorKind::EmbeddedNul));
        }
        let cs = self.codesets.char;
        if text.is_ascii() {
            // ASCII octets are valid UTF-8 in every code set we accept.
            return match std::str::from_utf8(text) {
                Ok(s) => Ok(Cow::Borrowed(s)),
                Err(_) => Err(err(DecodeErrorKind::InvalidCharacter { codeset: cs })),
            };
        }
        match cs {
            CodeSetId::UTF_8 => std::str::from_utf8(text)
                .map(Cow::Borrowed)
                .map_err(|_| err(DecodeErrorKind::InvalidCharacter { codeset: cs })),
            CodeSetId::ISO_8859_1 => Ok(Cow::Owned(text.iter().map(|&b| b as char).collect())),
            CodeSetId::ISO_646 => Err(err(DecodeErrorKind::InvalidCharacter { codeset: cs })),
            other => Err(err(DecodeErrorKind::UnsupportedCodeSet(other))),
        }
    }

    /// A bounded `string<bound>`.
    pub fn read_bounded_string(&mut self, bound: u32) -> Result<Cow<'a, str>, DecodeError> {
        let at = self.offset();
        let s = self.read_string()?;
        let len = s.chars().count() as u64;
        if len > bound as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::BoundExceeded {
                    length: len,
                    bound: bound as u64,
                },
                at,
            ));
        }
        Ok(s)
    }

    fn check_wide(&self) -> Result<(), DecodeError> {
        if self.version < GiopVersion::V1_1 {
            return Err(self.error(DecodeErrorKind::WideCharInGiop10));
        }
        match self.codesets.wchar {
            CodeSetId::UTF_16 | CodeSetId::UCS_2 => Ok(()),
            other => Err(self.error(DecodeErrorKind::UnsupportedCodeSet(other))),
        }
    }

    /// IDL `wchar` (see [`super::Encoder::write_wchar`] for the two encodings). In GIOP 1.2 a
    /// leading byte-order mark is honoured; without one, UTF-16 is big-endian.
    pub fn read_wchar(&mut self) -> Result<char, DecodeError> {
        self.check_wide()?;
        let at = self.offset();
        let unit = if self.version == GiopVersion::V1_1 {
            self.read_ushort()?
        } else {
            let n = self.read_octet()? as usize;
            let bytes = self.take(n)?;
            let units = utf16_units(bytes).ok_or_else(|| self.invalid_wide(at))?;
            match units.as_slice() {
                [u] => *u,
                _ => return Err(self.invalid_wide(at)),
            }
        };
        char::from_u32(unit as u32).ok_or_else(|| self.invalid_wide(at))
    }

    #[cold]
    fn invalid_wide(&self, at: usize) -> DecodeError {
        DecodeError::new(
            DecodeErrorKind::InvalidCharacter {
                codeset: self.codesets.wchar,
            },
            at,
        )
    }

    /// IDL `wstring` in UTF-16/UCS-2 (always owned: the wire form is not UTF-8).
    pub fn read_wstring(&mut self) -> Result<String, DecodeError> {
        self.check_wide()?;
        self.align(4)?;
        let at = self.offset();
        if self.version == GiopVersion::V1_1 {
            let n = self.read_seq_len(2)?;
            if n == 0 {
                return Err(DecodeError::new(DecodeErrorKind::StringNotTerminated, at));
            }
            let bytes = self.take(n * 2)?;
            let order = self.order;
            let mut units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| match order {
                    ByteOrder::BigEndian => u16::from_be_bytes([c[0], c[1]]),
                    ByteOrder::LittleEndian => u16::from_le_bytes([c[0], c[1]]),
                })
                .collect();
            if units.pop() != Some(0) {
                return Err(DecodeError::new(DecodeErrorKind::StringNotTerminated, at));
            }
            self.wide_units_to_string(&units, at)
        } else {
            let n = self.read_seq_len(1)?;
            let bytes = self.take(n)?;
            let units = utf16_units(bytes).ok_or_else(|| self.invalid_wide(at))?;
            self.wide_units_to_string(&units, at)
        }
    }

    fn wide_units_to_string(&self, units: &[u16], at: usize) -> Result<String, DecodeError> {
        if units.contains(&0) {
            return Err(DecodeError::new(DecodeErrorKind::EmbeddedNul, at));
        }
        String::from_utf16(units).map_err(|_| self.invalid_wide(at))
    }
}

/// UTF-16 code units from GIOP 1.2 wide octets: an optional byte-order mark, else big-endian.
fn utf16_units(bytes: &[u8]) -> Option<Vec<u16>> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let (order, body) = match bytes {
        [0xfe, 0xff, rest @ ..] => (ByteOrder::BigEndian, rest),
        [0xff, 0xfe, rest @ ..] => (ByteOrder::LittleEndian, rest),
        _ => (ByteOrder::BigEndian, bytes),
    };
    Some(
        body.chunks_exact(2)
            .map(|c| match order {
                ByteOrder::BigEndian => u16::from_be_bytes([c[0], c[1]]),
                ByteOrder::LittleEndian => u16::from_le_bytes([c[0], c[1]]),
            })
            .collect(),
    )
}
