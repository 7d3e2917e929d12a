//! The CDR encoder.

use super::{ByteOrder, CodeSetId, CodeSets, EncodeError, GiopVersion};

/// The UTF-16 byte-order mark, U+FEFF.
const BOM: u16 = 0xfeff;

fn looks_like_bom(unit: u16) -> bool {
    unit == BOM || unit == 0xfffe
}

macro_rules! put_number {
    ($(#[$m:meta])* $name:ident, $ty:ty, $size:expr) => {
        $(#[$m])*
        #[inline]
        pub fn $name(&mut self, v: $ty) {
            self.align_value($size);
            let bytes = match self.order {
                ByteOrder::BigEndian => v.to_be_bytes(),
                ByteOrder::LittleEndian => v.to_le_bytes(),
            };
            self.buf.extend_from_slice(&bytes);
        }
    };
}

/// Writes CDR into a growable buffer.
///
/// Infallible for fixed-size primitives; text can fail because not every character fits every
/// code set. Alignment is counted from the *origin*: index 0 of the buffer (the start of the GIOP
/// message) unless an encapsulation is being written.
///
/// It can also cut what it writes into fragments as it goes ([`Encoder::start_fragments`]), the
/// way a GIOP 1.1 message must be fragmented: alignment restarts at each fragment, so only the
/// marshaller, which knows where values begin, can place the cuts.
#[derive(Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
    origin: usize,
    order: ByteOrder,
    version: GiopVersion,
    codesets: CodeSets,
    /// Where the current fragment ends; `usize::MAX` when not fragmenting, so that the one
    /// check aligned writes make never fires.
    fragment_limit: usize,
    fragments: Option<Box<Fragments>>,
    /// The values written to this stream so far (for indirections back to them), made by the
    /// first value written.
    values: Option<Box<super::value::WriteStream>>,
}

/// The state of an encoder cutting its output into fragments.
#[derive(Debug, Clone)]
struct Fragments {
    /// Octets of each fragment after the first, header gap included: a multiple of 8, so that
    /// a fragment always ends aligned for any primitive.
    max_len: usize,
    /// Octets left at the start of each fragment after the first, for the caller's header.
    header_len: usize,
    /// Where the first fragment ends.
    first_limit: usize,
    /// Alignment origin of the first fragment.
    first_origin: usize,
    /// Where each fragment after the first starts (its header gap).
    starts: Vec<usize>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new(ByteOrder::NATIVE)
    }
}

impl Encoder {
    /// The values written to this stream so far, made on first use; taken out while a value
    /// is written (see [`super::value`]), so a value inside it finds it with
    /// [`Encoder::put_value_stream`] back in place.
    pub(super) fn take_value_stream(&mut self) -> Box<super::value::WriteStream> {
        self.values.take().unwrap_or_default()
    }

    pub(super) fn put_value_stream(&mut self, stream: Box<super::value::WriteStream>) {
        self.values = Some(stream);
    }

    /// Puts `stream` in place of the encoder's own (a [`super::value::ValueWriter`]'s, while
    /// it writes) and returns what was there.
    pub(super) fn replace_value_stream(
        &mut self,
        stream: Option<Box<super::value::WriteStream>>,
    ) -> Option<Box<super::value::WriteStream>> {
        std::mem::replace(&mut self.values, stream)
    }

    /// An encoder for GIOP 1.2 with the default code sets.
    pub fn new(order: ByteOrder) -> Encoder {
        Encoder::with_buffer(Vec::new(), order)
    }

    /// Reuses `buf`'s capacity (its contents are cleared): the hook for pooled buffers.
    pub fn with_buffer(mut buf: Vec<u8>, order: ByteOrder) -> Encoder {
        buf.clear();
        Encoder {
            buf,
            origin: 0,
            order,
            version: GiopVersion::V1_2,
            codesets: CodeSets::default(),
            fragment_limit: usize::MAX,
            fragments: None,
            values: None,
        }
    }

    /// An encoder that goes on after `buf`'s contents (the start of a message, written by the
    /// caller), for GIOP `version`, alignment counting from `buf`'s start.
    pub(crate) fn continuing(buf: Vec<u8>, order: ByteOrder, version: GiopVersion) -> Encoder {
        Encoder {
            buf,
            origin: 0,
            order,
            version,
            codesets: CodeSets::default(),
            fragment_limit: usize::MAX,
            fragments: None,
            values: None,
        }
    }

    /// The octets written, taken out (the encoder is left empty).
    pub(crate) fn take_vec(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// From here on, cuts the output into fragments: the current one ends at `first_limit`,
    /// every later one holds at most `max_len` octets (rounded down to a multiple of 8) and
    /// starts with a gap of `header_len` zero octets for its header, which the caller fills
    /// once done ([`Encoder::fragment_starts`]). Alignment restarts at each fragment's start,
    /// as GIOP 1.1 requires (§15.4.9; with GIOP 1.2's 16-octet headers and fragments of a
    /// multiple of 8 octets, that is the same as counting from the message's start).
    ///
    /// The layout is omniORB's: a primitive never straddles two fragments — one that does not
    /// fit is padded to the fragment's end and starts the next fragment, aligned there; runs of
    /// octets, strings, encapsulations and blocks of primitives written with [`Encoder::align`]
    /// and [`Encoder::write_octets`] flow across the cut unchanged.
    ///
    /// `first_limit` must lie at a multiple of 8 from the current alignment origin, at or
    /// after the current position, and `max_len` must exceed `header_len` by at least 16.
    pub fn start_fragments(&mut self, first_limit: usize, max_len: usize, header_len: usize) {
        let max_len = max_len & !7;
        debug_assert!(max_len >= header_len + 16);
        debug_assert!(first_limit >= self.buf.len());
        debug_assert_eq!(first_limit.wrapping_sub(self.origin) & 7, 0);
        self.fragment_limit = first_limit;
        self.fragments = Some(Box::new(Fragments {
            max_len,
            header_len,
            first_limit,
            first_origin: self.origin,
            starts: Vec::new(),
        }));
    }

    /// Closes the fragments (cutting what the last writes carried past a fragment's end) and
    /// returns where each fragment after the first starts; empty when not fragmenting or when
    /// everything fit in one.
    pub fn fragment_starts(&mut self) -> &[usize] {
        self.cut_overflow();
        self.fragments.as_ref().map_or(&[], |f| &f.starts)
    }

    /// Pads before a primitive of `n` octets; one that would cross the current fragment's end
    /// goes to the start of the next fragment instead.
    #[inline]
    fn align_value(&mut self, n: usize) {
        let pad = self.origin.wrapping_sub(self.buf.len()) & (n - 1);
        if self.buf.len() + pad + n > self.fragment_limit {
            return self.align_value_in_next_fragment(n);
        }
        if pad != 0 {
            self.buf.resize(self.buf.len() + pad, 0);
        }
    }

    #[cold]
    fn align_value_in_next_fragment(&mut self, n: usize) {
        self.cut_overflow();
        let pad = self.origin.wrapping_sub(self.buf.len()) & (n - 1);
        if self.buf.len() + pad + n > self.fragment_limit {
            // The fragment ends at a multiple of 8 from its start, so the aligned position is
            // its very end: pad up to it, and align afresh in the next.
            self.buf.resize(self.fragment_limit, 0);
            self.open_fragment();
        }
        let pad = self.origin.wrapping_sub(self.buf.len()) & (n - 1);
        self.buf.resize(self.buf.len() + pad, 0);
    }

    /// Runs of octets may carry the output past the current fragment's end (checking every
    /// octet written would slow the common case); before the next aligned value, or at the
    /// end, the excess moves into fragments of its own, octet for octet.
    fn cut_overflow(&mut self) {
        if self.buf.len() <= self.fragment_limit {
            return;
        }
        let tail = self.buf.split_off(self.fragment_limit);
        let mut rest = &tail[..];
        while !rest.is_empty() {
            self.open_fragment();
            let n = (self.fragment_limit - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
    }

    fn open_fragment(&mut self) {
        let Some(f) = self.fragments.as_mut() else {
            return;
        };
        let start = self.buf.len();
        f.starts.push(start);
        self.buf.resize(start + f.header_len, 0);
        self.origin = start;
        self.fragment_limit = start + f.max_len;
    }

    pub fn set_version(&mut self, version: GiopVersion) -> &mut Self {
        self.version = version;
        self
    }

    pub fn set_codesets(&mut self, codesets: CodeSets) -> &mut Self {
        self.codesets = codesets;
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

    /// Where the next octet will be in the stream the receiver reads: [`Encoder::len`] less
    /// the headers of the fragments cut so far (see [`Encoder::start_fragments`]), which the
    /// receiver strips. Offsets inside a message (TypeCode indirections) count in this stream.
    pub fn stream_position(&self) -> usize {
        match &self.fragments {
            Some(f) => self.buf.len() - f.starts.len() * f.header_len,
            None => self.buf.len(),
        }
    }

    /// Octets written so far (the length of the buffer).
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops what was written after the first `len` octets (alignment still counts from the
    /// start, so writing on continues as if they had never been written).
    pub fn truncate(&mut self, len: usize) {
        let mut len = len;
        if let Some(f) = self.fragments.as_mut() {
            // Fragments whose header would be cut go too, and with them their alignment.
            while let Some(&start) = f.starts.last() {
                if start + f.header_len <= len {
                    break;
                }
                f.starts.pop();
                len = len.min(start);
            }
            (self.origin, self.fragment_limit) = match f.starts.last() {
                Some(&start) => (start, start + f.max_len),
                None => (f.first_origin, f.first_limit),
            };
        }
        self.buf.truncate(len);
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    pub fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
    }

    /// Pads with zero octets until the position is a multiple of `n` (a power of two) from the
    /// origin: before a block of primitives written as octets, which may then run on into the
    /// next fragment when fragmenting (see [`Encoder::start_fragments`]).
    #[inline]
    pub fn align(&mut self, n: usize) {
        debug_assert!(n.is_power_of_two());
        if self.buf.len() > self.fragment_limit {
            self.cut_overflow();
        }
        let pad = self.origin.wrapping_sub(self.buf.len()) & (n - 1);
        if pad != 0 {
            self.buf.resize(self.buf.len() + pad, 0);
        }
    }

    #[inline]
    pub fn write_octet(&mut self, v: u8) {
        self.buf.push(v);
    }

    #[inline]
    pub fn write_bool(&mut self, v: bool) {
        self.buf.push(v as u8);
    }

    put_number!(write_short, i16, 2);
    put_number!(write_ushort, u16, 2);
    put_number!(write_long, i32, 4);
    put_number!(write_ulong, u32, 4);
    put_number!(write_longlong, i64, 8);
    put_number!(write_ulonglong, u64, 8);
    put_number!(write_float, f32, 4);
    put_number!(write_double, f64, 8);

    /// Raw octets, no length and no alignment.
    #[inline]
    pub fn write_octets(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A length as a CDR `unsigned long`, refusing lengths that do not fit.
    #[inline]
    pub fn write_length(&mut self, len: usize) -> Result<(), EncodeError> {
        let v = u32::try_from(len).map_err(|_| EncodeError::TooLong(len))?;
        self.write_ulong(v);
        Ok(())
    }

    /// Appends `n` zero octets and returns them to be filled in place (bulk writes of runs).
    #[inline]
    pub fn extend_zeroed(&mut self, n: usize) -> &mut [u8] {
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        &mut self.buf[start..]
    }

    /// `sequence<octet>`: length then the octets.
    pub fn write_octet_seq(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.write_length(bytes.len())?;
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes a placeholder `unsigned long` and returns where it is, for [`Encoder::patch_ulong`]:
    /// lengths that are known only after their content (message size, encapsulation length).
    pub fn reserve_ulong(&mut self) -> usize {
        self.align_value(4);
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        at
    }

    /// Overwrites the `unsigned long` at `at` (a position returned by [`Encoder::reserve_ulong`]).
    pub fn patch_ulong(&mut self, at: usize, v: u32) {
        let bytes = match self.order {
            ByteOrder::BigEndian => v.to_be_bytes(),
            ByteOrder::LittleEndian => v.to_le_bytes(),
        };
        self.buf[at..at + 4].copy_from_slice(&bytes);
    }

    /// Writes an encapsulation (§15.3.3): a length, then a byte-order octet and `body`, whose
    /// alignment counts from that octet. The encapsulation uses this encoder's byte order.
    pub fn write_encapsulation<F>(&mut self, body: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Encoder) -> Result<(), EncodeError>,
    {
        let len_at = self.reserve_ulong();
        let saved_origin = self.origin;
        // To the stream around it an encapsulation is octets: fragments cut it anywhere, and
        // never realign inside it (its own alignment counts from its start).
        let saved_limit = std::mem::replace(&mut self.fragment_limit, usize::MAX);
        self.origin = self.buf.len();
        self.buf.push(self.order.flag());
        let result = body(self);
        let len = self.buf.len() - self.origin;
        self.origin = saved_origin;
        self.fragment_limit = saved_limit;
        result?;
        let len = u32::try_from(len).map_err(|_| EncodeError::TooLong(len))?;
        self.patch_ulong(len_at, len);
        Ok(())
    }

    /// IDL `char`: one octet in the transmission code set.
    pub fn write_char(&mut self, c: char) -> Result<(), EncodeError> {
        let v = c as u32;
        let fits = match self.codesets.char {
            CodeSetId::ISO_8859_1 => v <= 0xff,
            // A multi-octet UTF-8 character cannot be a single IDL char.
            CodeSetId::UTF_8 | CodeSetId::ISO_646 => v <= 0x7f,
            other => return Err(EncodeError::UnsupportedCodeSet(other)),
        };
        if !fits {
            return Err(EncodeError::Unrepresentable(c, self.codesets.char));
        }
        self.buf.push(v as u8);
        Ok(())
    }

    /// IDL `string`: length including the NUL, the characters in the transmission code set, NUL.
    pub fn write_string(&mut self, s: &str) -> Result<(), EncodeError> {
        if s.as_bytes().contains(&0) {
            return Err(EncodeError::EmbeddedNul);
        }
        let cs = self.codesets.char;
        // ASCII is the same octets in every code set we support, and by far the common case.
        if s.is_ascii() || cs == CodeSetId::UTF_8 {
            self.write_length(s.len() + 1)?;
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.push(0);
            return Ok(());
        }
        match cs {
            CodeSetId::ISO_8859_1 => {
                let n = s.chars().count();
                self.write_length(n + 1)?;
                self.buf.reserve(n + 1);
                for c in s.chars() {
                    let v = c as u32;
                    if v > 0xff {
                        return Err(EncodeError::Unrepresentable(c, cs));
                    }
                    self.buf.push(v as u8);
                }
                self.buf.push(0);
                Ok(())
            }
            CodeSetId::ISO_646 => {
                let c = s.chars().find(|c| !c.is_ascii()).unwrap_or('\u{80}');
                Err(EncodeError::Unrepresentable(c, cs))
            }
            other => Err(EncodeError::UnsupportedCodeSet(other)),
        }
    }

    /// [`Encoder::write_string`], returning the [`Encoder::stream_position`] of its length: what
    /// a later indirection to the same string (a value's repository id) points at.
    pub fn write_string_located(&mut self, s: &str) -> Result<usize, EncodeError> {
        // Placed now, the length cannot move on to the next fragment when written.
        self.align_value(4);
        let at = self.stream_position();
        self.write_string(s)?;
        Ok(at)
    }

    fn check_wide(&self) -> Result<(), EncodeError> {
        if self.version < GiopVersion::V1_1 {
            return Err(EncodeError::WideCharInGiop10);
        }
        match self.codesets.wchar {
            CodeSetId::UTF_16 | CodeSetId::UCS_2 => Ok(()),
            other => Err(EncodeError::UnsupportedCodeSet(other)),
        }
    }

    fn utf16_unit(&mut self, u: u16, order: ByteOrder) {
        let b = match order {
            ByteOrder::BigEndian => u.to_be_bytes(),
            ByteOrder::LittleEndian => u.to_le_bytes(),
        };
        self.buf.extend_from_slice(&b);
    }

    /// IDL `wchar` in UTF-16/UCS-2 (§15.3.1.6). GIOP 1.1: one aligned 2-octet unit in the
    /// stream's byte order. GIOP 1.2: an octet count then the unit, big-endian, no BOM.
    pub fn write_wchar(&mut self, c: char) -> Result<(), EncodeError> {
        self.check_wide()?;
        let mut units = [0u16; 2];
        let units = c.encode_utf16(&mut units);
        if units.len() != 1 {
            // A wchar is a single code unit: characters beyond the BMP need two.
            return Err(EncodeError::Unrepresentable(c, self.codesets.wchar));
        }
        if self.version == GiopVersion::V1_1 {
            self.write_ushort(units[0]);
        } else if looks_like_bom(units[0]) {
            // Without a mark of its own, the receiver would take this character for one.
            self.buf.push(4);
            self.utf16_unit(BOM, ByteOrder::BigEndian);
            self.utf16_unit(units[0], ByteOrder::BigEndian);
        } else {
            self.buf.push(2);
            self.utf16_unit(units[0], ByteOrder::BigEndian);
        }
        Ok(())
    }

    /// IDL `wstring` in UTF-16 (§15.3.2.7). GIOP 1.1: length in code units including a
    /// terminating NUL unit, units in the stream's byte order. GIOP 1.2: length in octets, no
    /// terminator, big-endian without a BOM.
    pub fn write_wstring(&mut self, s: &str) -> Result<(), EncodeError> {
        self.check_wide()?;
        if s.contains('\0') {
            return Err(EncodeError::EmbeddedNul);
        }
        if self.codesets.wchar == CodeSetId::UCS_2 {
            if let Some(c) = s.chars().find(|c| c.len_utf16() != 1) {
                return Err(EncodeError::Unrepresentable(c, CodeSetId::UCS_2));
            }
        }
        let units = s.encode_utf16().count();
        if self.version == GiopVersion::V1_1 {
            self.write_length(units + 1)?;
            let order = self.order;
            for u in s.encode_utf16() {
                self.utf16_unit(u, order);
            }
            self.utf16_unit(0, order);
        } else {
            // A leading U+FEFF/U+FFFE would be read as a byte-order mark: send a real mark first.
            let mark = s.encode_utf16().next().is_some_and(looks_like_bom);
            self.write_length((units + mark as usize) * 2)?;
            self.buf.reserve((units + 1) * 2);
            if mark {
                self.utf16_unit(BOM, ByteOrder::BigEndian);
            }
            for u in s.encode_utf16() {
                self.utf16_unit(u, ByteOrder::BigEndian);
            }
        }
        Ok(())
    }
}
