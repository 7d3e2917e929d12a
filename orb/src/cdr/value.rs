//! Value types on the wire (CORBA 3.0 §15.3.4): value tags, sharing, chunking, truncation.
//!
//! A value is written as a *value tag* (`0x7fffff00` to `0x7fffffff`: bit 0 says a codebase URL
//! follows, bits 1–2 whether no, one or a list of repository ids follow, bit 3 that the state is
//! chunked), then those strings, then the state. `null` is the long 0. A value, repository id,
//! codebase URL or id list written earlier in the same stream may be written again as an
//! *indirection*: `0xffffffff` and a negative long, the offset from that long back to where the
//! earlier one starts — so a graph with sharing and cycles travels as a graph.
//!
//! Chunked state is cut into chunks, each a positive long (its size, below `0x7fffff00`) and
//! that many octets, and ends with an *end tag*: the negated nesting level of the value (1 for
//! the outermost chunked value). A nested value is never inside a chunk: the enclosing chunk
//! ends before its tag, and a new one starts after its end tag if the enclosing state goes on.
//! One end tag may close several levels at once (`-k` closes every open value at level `k` or
//! deeper); the writer does so whenever a value's state ends with a nested value, the form
//! omniORB reads (it refuses `-2 -1` after a nested truncatable value). Chunking is what lets a receiver that knows only a *truncatable* base read the base
//! state and skip the rest up to the matching end tag.
//!
//! Two layers:
//! - [`ValueEncoder`] / [`ValueDecoder`]: the wire format alone (tags, strings, indirections,
//!   chunks, end tags, limits), driven by whoever knows how to write or read the state. The
//!   TypeCode-driven `any` ([`crate::typecode::Any`]) uses them directly.
//! - [`ValueWriter`] / [`ValueReader`]: typed values (what generated code implements,
//!   [`ValueType`] and [`ValueFactory`]) kept in a [`ValueGraph`].
//!
//! # Why an arena
//!
//! A value graph may share nodes and have cycles. Rust ownership cannot express a cycle with
//! `Box`, `Rc` cycles leak (and which edge should be `Weak` is not something the IDL says), and
//! a hostile peer would make leaking cycles at will. So values live in a [`ValueGraph`], an
//! arena, and refer to one another by [`ValueRef`] (an index): sharing and cycles are plain
//! indices, the graph is `Send`, dropping it frees everything, and a cycle can be decoded by
//! reserving a node's slot before its state is read.
//!
//! # Example
//!
//! A linked list node, as generated code would implement it, sent as a two-node cycle:
//!
//! ```
//! use orb::cdr::value::{ValueFactories, ValueFactory, ValueGraph, ValueInput, ValueOutput,
//!     ValueReader, ValueRef, ValueType, ValueWriter};
//! use orb::cdr::{ByteOrder, Decoder, DecodeError, EncodeError, Encoder};
//!
//! #[derive(Debug)]
//! struct Node { value: i32, next: Option<ValueRef<Node>> }
//!
//! impl ValueType for Node {
//!     fn repository_id(&self) -> &str { Self::REPOSITORY_ID }
//!     fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
//!         out.encoder().write_long(self.value);
//!         out.write_value(self.next)
//!     }
//!     fn as_any(&self) -> &dyn std::any::Any { self }
//!     fn as_any_mut(&mut self) -> &mut dyn std::any::Any { self }
//! }
//!
//! impl ValueFactory for Node {
//!     const REPOSITORY_ID: &'static str = "IDL:Node:1.0";
//!     fn read_state(input: &mut ValueInput<'_, '_, '_>) -> Result<Self, DecodeError> {
//!         let value = input.decoder().read_long()?;
//!         let next = input.read_value::<Node>()?;
//!         Ok(Node { value, next })
//!     }
//! }
//!
//! let mut graph = ValueGraph::new();
//! let a = graph.insert(Node { value: 1, next: None });
//! let b = graph.insert(Node { value: 2, next: Some(a) });
//! graph.get_mut(a).unwrap().next = Some(b); // a -> b -> a
//!
//! let mut enc = Encoder::new(ByteOrder::BigEndian);
//! ValueWriter::new().write(&mut enc, &graph, Some(a)).unwrap();
//! let bytes = enc.into_vec();
//!
//! let mut factories = ValueFactories::new();
//! factories.register::<Node>();
//! let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
//! let mut reader = ValueReader::new(&factories, &dec);
//! let root = reader.read_value::<Node>(&mut dec).unwrap().unwrap();
//! let graph = reader.into_graph();
//! let next = graph.get(root).unwrap().next.unwrap();
//! assert_eq!(graph.get(next).unwrap().value, 2);
//! assert_eq!(graph.get(next).unwrap().next, Some(root)); // the cycle, not a copy
//! ```

use super::{DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder, ResultExt};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// The null value.
pub const NULL_TAG: u32 = 0;
/// An indirection to a value or string earlier in the stream; a negative offset follows.
pub const INDIRECTION_TAG: u32 = 0xffff_ffff;
/// The lowest value tag; the low octet's bits say what follows it.
pub const VALUE_TAG_MIN: u32 = 0x7fff_ff00;
/// A codebase URL follows the tag.
pub const TAG_CODEBASE: u32 = 0x01;
/// The bits saying which type information follows the codebase URL.
pub const TAG_TYPE_INFO_MASK: u32 = 0x06;
/// One repository id follows.
pub const TAG_SINGLE_ID: u32 = 0x02;
/// A list of repository ids follows, most derived first (truncatable values).
pub const TAG_ID_LIST: u32 = 0x06;
/// The state is chunked.
pub const TAG_CHUNKED: u32 = 0x08;
/// Value tag bits that no version of the specification defines.
const TAG_RESERVED: u32 = 0xf0;

/// The type information a value tag announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueTypeInfo {
    /// None: the value is of the formal type where it appears.
    Implied,
    /// One repository id.
    Single(String),
    /// Repository ids, most derived first (truncatable values).
    Truncatable(Vec<String>),
}

impl ValueTypeInfo {
    /// The repository ids announced, most derived first.
    pub fn ids(&self) -> &[String] {
        match self {
            ValueTypeInfo::Implied => &[],
            ValueTypeInfo::Single(id) => std::slice::from_ref(id),
            ValueTypeInfo::Truncatable(ids) => ids,
        }
    }
}

/// Bounds a hostile stream cannot push a [`ValueDecoder`] past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueLimits {
    /// Values nested inside one another's state (each level is a recursion of the reader).
    pub max_depth: u32,
    /// New values (value tags) in one stream.
    pub max_values: usize,
}

impl Default for ValueLimits {
    fn default() -> Self {
        ValueLimits {
            // Deep enough for long chains of honest data; shallow enough for a 2 MiB thread stack.
            max_depth: 128,
            max_values: 1 << 20,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Writing: the wire format.

/// Type information to write with a value (the borrowed form of [`ValueTypeInfo`]).
#[derive(Clone, Copy, Debug)]
pub enum TypeInfoRef<'s> {
    Implied,
    Single(&'s str),
    /// Most derived first; must not be empty.
    List(&'s [&'s str]),
}

/// What [`ValueEncoder::begin_value`] returns, for [`ValueEncoder::end_value`].
#[derive(Debug)]
#[must_use = "a value begun must be ended"]
pub struct ValueToken {
    chunked: bool,
}

/// Writes the value encoding's framing for one stream (a message body, an `any`): remembers
/// where values and repository ids went (for indirections) and keeps the chunks of chunked
/// values, whose sizes are patched in when each chunk ends.
///
/// Positions are [`Encoder::stream_position`]s, so GIOP 1.1 fragment headers the encoder
/// inserts count in neither chunk sizes nor indirection offsets.
#[derive(Debug, Default)]
pub struct ValueEncoder {
    /// Identity of a value (chosen by the caller) → stream position of its tag: by index for
    /// small identities (a graph's node indices, an `any`'s instance numbers), which is most of
    /// them and needs no hashing.
    dense: Vec<usize>,
    values: HashMap<u64, usize>,
    /// Repository ids and codebase URLs written → stream position of their length.
    strings: HashMap<String, usize>,
    /// Nesting level of chunked values being written (0: none).
    level: u32,
    /// Values being written, nested.
    depth: u32,
    /// The open chunk: buffer index of its size placeholder, stream position of its data.
    chunk: Option<(usize, usize)>,
    /// Buffer index of the last end tag written and of the octet after it: an enclosing value
    /// that ends right after it patches it rather than writing its own.
    last_end_tag: Option<(usize, usize)>,
    limits: ValueLimits,
}

impl ValueEncoder {
    pub fn new() -> ValueEncoder {
        ValueEncoder::default()
    }

    /// Refuses to write values nested deeper than `limits.max_depth` (what a receiver with the
    /// same limits would refuse to read).
    pub fn with_limits(limits: ValueLimits) -> ValueEncoder {
        ValueEncoder {
            limits,
            ..ValueEncoder::default()
        }
    }

    /// Whether a chunked value is being written (so values written now must be chunked too).
    pub fn in_chunked_value(&self) -> bool {
        self.level > 0
    }

    /// The null value. Inside chunked state it is part of the current chunk's data.
    pub fn write_null(&mut self, enc: &mut Encoder) {
        enc.write_ulong(NULL_TAG);
    }

    /// If the value `key` was written before in this stream, writes an indirection to it and
    /// returns true; otherwise writes nothing and returns false.
    pub fn write_indirection(&mut self, enc: &mut Encoder, key: u64) -> Result<bool, EncodeError> {
        match self.position_of(key) {
            Some(target) => {
                write_indirection_to(enc, target)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Starts a value: ends the enclosing chunk (a nested value never sits in a chunk), writes
    /// the tag, codebase URL and type information (strings written before become
    /// indirections), remembers the value as `key` for later indirections, and opens a chunk
    /// if the value is chunked — which it is when asked, or when nested in a chunked value.
    pub fn begin_value(
        &mut self,
        enc: &mut Encoder,
        key: Option<u64>,
        codebase: Option<&str>,
        type_info: TypeInfoRef<'_>,
        chunked: bool,
    ) -> Result<ValueToken, EncodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(EncodeError::Invalid(
                "value graph nests deeper than a receiver accepts (ValueLimits::max_depth)",
            ));
        }
        self.close_chunk(enc)?;
        let chunked = chunked || self.level > 0;
        let mut tag = VALUE_TAG_MIN;
        if codebase.is_some() {
            tag |= TAG_CODEBASE;
        }
        tag |= match type_info {
            TypeInfoRef::Implied => 0,
            TypeInfoRef::Single(_) => TAG_SINGLE_ID,
            TypeInfoRef::List([]) => {
                return Err(EncodeError::Invalid("empty repository id list"));
            }
            TypeInfoRef::List(_) => TAG_ID_LIST,
        };
        if chunked {
            tag |= TAG_CHUNKED;
        }
        enc.write_ulong(tag);
        if let Some(key) = key {
            self.remember(key, enc.stream_position() - 4);
        }
        if let Some(url) = codebase {
            self.write_repo_string(enc, url)?;
        }
        match type_info {
            TypeInfoRef::Implied => {}
            TypeInfoRef::Single(id) => self.write_repo_string(enc, id)?,
            TypeInfoRef::List(ids) => {
                enc.write_length(ids.len())?;
                for id in ids {
                    self.write_repo_string(enc, id)?;
                }
            }
        }
        self.depth += 1;
        if chunked {
            self.level += 1;
            self.open_chunk(enc);
        }
        Ok(ValueToken { chunked })
    }

    /// Ends a value begun with [`ValueEncoder::begin_value`]: for a chunked one, ends its chunk
    /// and writes its end tag, then opens a chunk for the enclosing state if that is chunked.
    pub fn end_value(&mut self, enc: &mut Encoder, token: ValueToken) -> Result<(), EncodeError> {
        self.depth = self.depth.saturating_sub(1);
        if !token.chunked {
            return Ok(());
        }
        self.close_chunk(enc)?;
        let tag = -(self.level as i32);
        match self.last_end_tag {
            // One end tag closes every level at or below its own (§15.3.4.5): a value whose
            // state ends with a nested value closes both with one. omniORB 4.2 reads only
            // this form when the nested value is of a truncatable type.
            Some((at, end)) if end == enc.len() => enc.patch_ulong(at, tag as u32),
            _ => {
                enc.write_long(tag);
                self.last_end_tag = Some((enc.len() - 4, enc.len()));
            }
        }
        self.level -= 1;
        if self.level > 0 {
            self.open_chunk(enc);
        }
        Ok(())
    }

    fn position_of(&self, key: u64) -> Option<usize> {
        match self.dense.get(key as usize) {
            Some(&NOT_WRITTEN) => None,
            Some(&at) => Some(at),
            None if key < DENSE_KEYS => None,
            None => self.values.get(&key).copied(),
        }
    }

    fn remember(&mut self, key: u64, at: usize) {
        if key < DENSE_KEYS {
            if self.dense.len() <= key as usize {
                self.dense.resize(key as usize + 1, NOT_WRITTEN);
            }
            self.dense[key as usize] = at;
        } else {
            self.values.insert(key, at);
        }
    }

    /// A repository id or codebase URL: an indirection if written before, else the string.
    fn write_repo_string(&mut self, enc: &mut Encoder, s: &str) -> Result<(), EncodeError> {
        if let Some(&target) = self.strings.get(s) {
            return write_indirection_to(enc, target);
        }
        let at = enc.write_string_located(s)?;
        self.strings.insert(s.to_owned(), at);
        Ok(())
    }

    fn open_chunk(&mut self, enc: &mut Encoder) {
        let size_at = enc.reserve_ulong();
        self.chunk = Some((size_at, enc.stream_position()));
    }

    /// Patches the open chunk's size in; an empty chunk (which the format cannot express: sizes
    /// start at 1) is taken back out.
    fn close_chunk(&mut self, enc: &mut Encoder) -> Result<(), EncodeError> {
        let Some((size_at, start)) = self.chunk.take() else {
            return Ok(());
        };
        let len = enc.stream_position().saturating_sub(start);
        if len == 0 {
            enc.truncate(size_at);
            return Ok(());
        }
        if len >= VALUE_TAG_MIN as usize {
            return Err(EncodeError::TooLong(len));
        }
        enc.patch_ulong(size_at, len as u32);
        Ok(())
    }
}

/// Value identities below this are remembered by index ([`ValueEncoder`]).
const DENSE_KEYS: u64 = 1 << 20;
const NOT_WRITTEN: usize = usize::MAX;

/// `0xffffffff` and the offset from the offset's own position back to `target`.
fn write_indirection_to(enc: &mut Encoder, target: usize) -> Result<(), EncodeError> {
    enc.write_ulong(INDIRECTION_TAG);
    let at = enc.reserve_ulong();
    let field = enc.stream_position() - 4;
    let offset = i32::try_from(target as i64 - field as i64)
        .map_err(|_| EncodeError::Invalid("indirection offset does not fit a long"))?;
    enc.patch_ulong(at, offset as u32);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Reading: the wire format.

/// What [`ValueDecoder::begin`] found where a value was expected.
#[derive(Debug)]
pub enum ValueStart {
    Null,
    /// An indirection to the value that was the `n`th (from 0) value tag of the stream.
    Shared(usize),
    /// A new value: its state follows; end it with [`ValueDecoder::end`].
    New(ValueHeader),
}

/// A new value's tag and what followed it.
#[derive(Debug)]
pub struct ValueHeader {
    /// Absolute offset of the value tag, for error reports.
    pub offset: usize,
    /// Which value tag of the stream this is, counting from 0: what later indirections to it
    /// are resolved to ([`ValueStart::Shared`]).
    pub ordinal: usize,
    pub codebase: Option<String>,
    pub type_info: ValueTypeInfo,
    pub chunked: bool,
    /// Nesting level among chunked values (0 if unchunked).
    level: u32,
}

/// One step of skipping the rest of a value ([`ValueDecoder::skip_step`]).
#[derive(Debug)]
pub enum SkipStep {
    /// The value ended.
    Done,
    /// A value nested in the skipped state begins: read it or skip it, then step again.
    Nested(ValueHeader),
}

/// Reads the value encoding's framing for one stream: resolves indirections to values (to the
/// ordinal of their tag) and to strings, follows chunks and end tags, and enforces
/// [`ValueLimits`]. The state in between is read by the caller from the same [`Decoder`], which
/// is confined to the current chunk while a chunked value's state is read: state that runs past
/// its chunk is an error, not a misreading of the next chunk's size.
#[derive(Debug)]
pub struct ValueDecoder<'a> {
    /// The decoder's whole buffer, to lift the chunk limit.
    whole: &'a [u8],
    limits: ValueLimits,
    /// Buffer position of each value tag read → its ordinal.
    values: ByPosition<usize>,
    count: usize,
    /// Buffer position of each repository id / codebase URL read (of its length) → the string.
    strings: ByPosition<String>,
    /// Buffer position of each repository id list read (of its count) → the ids.
    lists: ByPosition<Vec<String>>,
    depth: u32,
    /// Nesting level of the chunked values open (0: none).
    level: u32,
    /// An end tag closed the values at this level and deeper ahead of their readers; `u32::MAX`
    /// when none is pending.
    closed_to: u32,
}

const NOT_CLOSED: u32 = u32::MAX;

fn invalid(msg: &'static str, at: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Invalid(msg), at)
}

impl<'a> ValueDecoder<'a> {
    /// For values read from `dec`'s buffer (a whole message or `any`).
    pub fn new(dec: &Decoder<'a>) -> ValueDecoder<'a> {
        ValueDecoder::with_limits(dec, ValueLimits::default())
    }

    pub fn with_limits(dec: &Decoder<'a>, limits: ValueLimits) -> ValueDecoder<'a> {
        ValueDecoder {
            whole: dec.buffer(),
            limits,
            values: ByPosition::default(),
            count: 0,
            strings: ByPosition::default(),
            lists: ByPosition::default(),
            depth: 0,
            level: 0,
            closed_to: NOT_CLOSED,
        }
    }

    /// Values read so far (value tags, nested ones included).
    pub fn value_count(&self) -> usize {
        self.count
    }

    /// Reads what stands where a value is expected: null, an indirection, or a new value's
    /// header. Inside chunked state, null and indirections may be chunk data; a new value
    /// begins after the current chunk ends.
    pub fn begin(&mut self, dec: &mut Decoder<'a>) -> Result<ValueStart, DecodeError> {
        if self.level > 0 {
            self.move_to_value(dec)?;
        }
        let between_chunks = self.level > 0 && !dec.in_chunk();
        dec.align(4)?;
        let pos = dec.position();
        let at = dec.offset();
        let tag = dec.read_ulong().field("value_tag")?;
        match tag {
            NULL_TAG => Ok(ValueStart::Null),
            INDIRECTION_TAG if !between_chunks => {
                let target = read_indirection(dec).field("value_indirection")?;
                match self.values.get(target) {
                    Some(&ordinal) => Ok(ValueStart::Shared(ordinal)),
                    None => Err(invalid(
                        "value indirection does not point back at a value tag read before it",
                        at,
                    )),
                }
            }
            VALUE_TAG_MIN..=0x7fff_ffff => self.begin_new(dec, tag, pos, at).map(ValueStart::New),
            other if other as i32 <= -1 => Err(invalid(
                "an end tag where a value was expected: the enclosing value ended before its state",
                at,
            )),
            other => Err(DecodeError::new(
                DecodeErrorKind::InvalidValueTag(other),
                at,
            )),
        }
    }

    fn begin_new(
        &mut self,
        dec: &mut Decoder<'a>,
        tag: u32,
        pos: usize,
        at: usize,
    ) -> Result<ValueHeader, DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::new(DecodeErrorKind::TooDeep, at));
        }
        if self.count >= self.limits.max_values {
            return Err(invalid(
                "more values in the stream than ValueLimits::max_values",
                at,
            ));
        }
        if tag & TAG_RESERVED != 0 {
            return Err(DecodeError::new(DecodeErrorKind::InvalidValueTag(tag), at));
        }
        let chunked = tag & TAG_CHUNKED != 0;
        if self.level > 0 && !chunked {
            return Err(invalid(
                "a value nested in a chunked value is not chunked itself",
                at,
            ));
        }
        let codebase = if tag & TAG_CODEBASE != 0 {
            Some(self.read_repo_string(dec).field("codebase_url")?)
        } else {
            None
        };
        let type_info = match tag & TAG_TYPE_INFO_MASK {
            0 => ValueTypeInfo::Implied,
            TAG_SINGLE_ID => {
                ValueTypeInfo::Single(self.read_repo_string(dec).field("repository_id")?)
            }
            TAG_ID_LIST => {
                ValueTypeInfo::Truncatable(self.read_id_list(dec).field("repository_ids")?)
            }
            _ => return Err(DecodeError::new(DecodeErrorKind::InvalidValueTag(tag), at)),
        };
        let ordinal = self.count;
        self.count += 1;
        self.values.insert(pos, ordinal);
        self.depth += 1;
        let mut level = 0;
        if chunked {
            self.level += 1;
            level = self.level;
            self.open_chunk_if_any(dec)?;
        }
        Ok(ValueHeader {
            offset: at,
            ordinal,
            codebase,
            type_info,
            chunked,
            level,
        })
    }

    /// Ends a value whose state the caller read in full: its chunk must be used up and its end
    /// tag (or a deeper one that closed it too) must follow.
    pub fn end(&mut self, dec: &mut Decoder<'a>, header: &ValueHeader) -> Result<(), DecodeError> {
        self.depth = self.depth.saturating_sub(1);
        if !header.chunked {
            return Ok(());
        }
        if self.closed_to > header.level {
            if dec.in_chunk() && dec.remaining() > 0 {
                return Err(invalid(
                    "value state ends before its chunk does: the value is not of the type read",
                    dec.offset(),
                ));
            }
            self.leave_chunk(dec)?;
            let at = dec.offset();
            let t = self.peek_long(dec)?;
            if t > 0 {
                return Err(invalid(
                    "value state ends before its chunks do: the value is not of the type read",
                    at,
                ));
            }
            self.read_end_tag(dec, header.level)?;
        }
        self.after_end(dec, header.level)
    }

    /// Skips what is left of a value's state, one step at a time: chunks are skipped, a nested
    /// value is handed back ([`SkipStep::Nested`]) to be read (so that later indirections to it
    /// resolve) or skipped, and [`SkipStep::Done`] comes once the value's end tag was read.
    /// Only chunked values can be skipped.
    pub fn skip_step(
        &mut self,
        dec: &mut Decoder<'a>,
        header: &ValueHeader,
    ) -> Result<SkipStep, DecodeError> {
        if !header.chunked {
            return Err(invalid(
                "the rest of an unchunked value cannot be skipped (truncation needs chunking)",
                header.offset,
            ));
        }
        loop {
            if self.closed_to <= header.level {
                self.depth = self.depth.saturating_sub(1);
                self.after_end(dec, header.level)?;
                return Ok(SkipStep::Done);
            }
            if dec.in_chunk() {
                dec.skip(dec.remaining())?;
                self.leave_chunk(dec)?;
            }
            let t = self.peek_long(dec)?;
            if t > 0 && (t as u32) < VALUE_TAG_MIN {
                self.open_chunk_if_any(dec)?;
            } else if t < 0 {
                // Between chunks, 0xffffffff is the end tag of level 1, not an indirection:
                // null and indirections in chunked state are chunk data.
                self.read_end_tag(dec, header.level)?;
                self.depth = self.depth.saturating_sub(1);
                self.after_end(dec, header.level)?;
                return Ok(SkipStep::Done);
            } else {
                match self.begin(dec)? {
                    ValueStart::New(nested) => return Ok(SkipStep::Nested(nested)),
                    ValueStart::Null | ValueStart::Shared(_) => {}
                }
            }
        }
    }

    /// Skips a whole value whose header was read, nested values included (none of them can be
    /// referred to afterwards).
    pub fn skip_value(
        &mut self,
        dec: &mut Decoder<'a>,
        header: &ValueHeader,
    ) -> Result<(), DecodeError> {
        while let SkipStep::Nested(nested) = self.skip_step(dec, header)? {
            self.skip_value(dec, &nested)?;
        }
        Ok(())
    }

    /// Turns "needs N more octets" inside chunked state (the decoder is confined to the open
    /// chunk, or to nothing between chunks) into what it means.
    pub fn explain(&self, e: DecodeError) -> DecodeError {
        match e.kind() {
            DecodeErrorKind::Truncated { .. } if self.level > 0 => invalid(
                "value state runs past the end of its chunk: the value is not of the type read, \
                 or its writer split a primitive or a string across chunks",
                e.offset(),
            )
            .in_field("state"),
            _ => e,
        }
    }

    /// In chunked state, gets to where a value can start: null and indirections may be chunk
    /// data; anything else starts after the chunk.
    fn move_to_value(&mut self, dec: &mut Decoder<'a>) -> Result<(), DecodeError> {
        loop {
            if dec.in_chunk() {
                let mut peek = dec.within_chunk();
                if peek.align(4).is_ok() && peek.remaining() >= 4 {
                    let t = peek.read_ulong()?;
                    if t == NULL_TAG || t == INDIRECTION_TAG {
                        return Ok(());
                    }
                    return Err(invalid(
                        "a value tag inside a chunk (a nested value must start after the chunk)",
                        peek.offset() - 4,
                    ));
                }
                // Fewer than 4 octets left: the chunk ends here, unless they are state that
                // was not read.
                if dec.rest().iter().any(|&b| b != 0) {
                    return Err(invalid(
                        "value state left unread in its chunk before a nested value",
                        dec.offset(),
                    ));
                }
                dec.skip(dec.remaining())?;
                self.leave_chunk(dec)?;
            }
            let t = self.peek_long(dec)?;
            if t > 0 && (t as u32) < VALUE_TAG_MIN {
                self.open_chunk_if_any(dec)?;
            } else {
                return Ok(());
            }
        }
    }

    /// The next aligned long, not consumed, with the chunk limit lifted.
    fn peek_long(&mut self, dec: &mut Decoder<'a>) -> Result<i32, DecodeError> {
        dec.set_visible_end(self.whole, self.whole.len(), false)?;
        let mut peek = dec.clone();
        peek.read_long()
    }

    /// If the next long is a chunk size, reads it and confines `dec` to the chunk; otherwise
    /// confines `dec` to where it is (no state may be read before a chunk starts).
    fn open_chunk_if_any(&mut self, dec: &mut Decoder<'a>) -> Result<(), DecodeError> {
        let t = self.peek_long(dec)?;
        if t > 0 && (t as u32) < VALUE_TAG_MIN {
            dec.align(4)?;
            dec.skip(4)?;
            let size = t as usize;
            if size > dec.remaining() {
                return Err(DecodeError::new(
                    DecodeErrorKind::LengthTooLarge {
                        length: size as u64,
                        remaining: dec.remaining(),
                    },
                    dec.offset() - 4,
                )
                .in_field("chunk_size"));
            }
            let end = dec.position() + size;
            dec.set_visible_end(self.whole, end, true)?;
        } else {
            let here = dec.position();
            dec.set_visible_end(self.whole, here, true)?;
        }
        Ok(())
    }

    fn leave_chunk(&mut self, dec: &mut Decoder<'a>) -> Result<(), DecodeError> {
        dec.set_visible_end(self.whole, self.whole.len(), false)
    }

    /// Reads an end tag that must close the value at `level` (and maybe enclosing ones).
    fn read_end_tag(&mut self, dec: &mut Decoder<'a>, level: u32) -> Result<(), DecodeError> {
        dec.align(4)?;
        let at = dec.offset();
        let t = dec.read_long().field("end_tag")?;
        let closes = t.checked_neg().filter(|&k| k >= 1).map(|k| k as u32);
        match closes {
            Some(k) if k <= level => {
                if k < level {
                    self.closed_to = k;
                }
                Ok(())
            }
            _ => Err(invalid(
                "end tag does not close the value being read (not minus a nesting level at or above it)",
                at,
            )),
        }
    }

    /// Bookkeeping once the value at `level` ended: the enclosing chunked state, if it goes on,
    /// continues in a new chunk.
    fn after_end(&mut self, dec: &mut Decoder<'a>, level: u32) -> Result<(), DecodeError> {
        if self.closed_to == level {
            self.closed_to = NOT_CLOSED;
        }
        self.level = level - 1;
        if self.level == 0 {
            return dec.set_visible_end(self.whole, self.whole.len(), false);
        }
        if self.closed_to <= self.level {
            // The enclosing value was closed too: nothing more of its state may be read.
            let here = dec.position();
            return dec.set_visible_end(self.whole, here, false);
        }
        self.open_chunk_if_any(dec)
    }

    /// A repository id or codebase URL: a string, or an indirection to one read before.
    fn read_repo_string(&mut self, dec: &mut Decoder<'a>) -> Result<String, DecodeError> {
        dec.align(4)?;
        let (pos, at) = (dec.position(), dec.offset());
        if let Some(target) = indirection_if_any(dec)? {
            return self.strings.get(target).cloned().ok_or_else(|| {
                invalid(
                    "repository id indirection does not point back at a repository id or codebase URL",
                    at,
                )
            });
        }
        let s = dec.read_string()?.into_owned();
        self.strings.insert(pos, s.clone());
        Ok(s)
    }

    /// A repository id list: a count and that many ids, or an indirection to a list read before.
    fn read_id_list(&mut self, dec: &mut Decoder<'a>) -> Result<Vec<String>, DecodeError> {
        dec.align(4)?;
        let (pos, at) = (dec.position(), dec.offset());
        if let Some(target) = indirection_if_any(dec)? {
            return self.lists.get(target).cloned().ok_or_else(|| {
                invalid(
                    "repository id list indirection does not point back at a list",
                    at,
                )
            });
        }
        let n = dec.read_seq_len(4)?;
        if n == 0 {
            return Err(invalid("empty repository id list", at));
        }
        let mut ids = Vec::with_capacity(n.min(16));
        for _ in 0..n {
            ids.push(self.read_repo_string(dec)?);
        }
        self.lists.insert(pos, ids.clone());
        Ok(ids)
    }
}

/// What was read at which buffer positions. Reading goes forwards, so entries arrive in
/// order: a sorted vector, appended to and searched by halving, with no hashing.
#[derive(Debug)]
struct ByPosition<T> {
    entries: Vec<(usize, T)>,
}

impl<T> Default for ByPosition<T> {
    fn default() -> Self {
        ByPosition {
            entries: Vec::new(),
        }
    }
}

impl<T> ByPosition<T> {
    fn insert(&mut self, pos: usize, v: T) {
        match self.entries.last() {
            Some(&(last, _)) if last >= pos => {
                // Out of order (a caller reading a stream twice): keep the vector sorted.
                let i = self.entries.partition_point(|e| e.0 < pos);
                if self.entries.get(i).is_some_and(|e| e.0 == pos) {
                    self.entries[i].1 = v;
                } else {
                    self.entries.insert(i, (pos, v));
                }
            }
            _ => self.entries.push((pos, v)),
        }
    }

    fn get(&self, pos: usize) -> Option<&T> {
        let i = self.entries.binary_search_by_key(&pos, |e| e.0).ok()?;
        Some(&self.entries[i].1)
    }
}

/// After `0xffffffff`: the offset long, and the buffer position it points at, which must lie
/// before the indirection.
/// At a repository id, codebase URL or id list (4-aligned): the position of the earlier one
/// an indirection points at, read past; or `None`, the decoder left at the item.
fn indirection_if_any(dec: &mut Decoder<'_>) -> Result<Option<usize>, DecodeError> {
    if dec.clone().read_ulong()? != INDIRECTION_TAG {
        return Ok(None);
    }
    dec.skip(4)?;
    read_indirection(dec).map(Some)
}

fn read_indirection(dec: &mut Decoder<'_>) -> Result<usize, DecodeError> {
    dec.align(4)?;
    let field = dec.position();
    let at = dec.offset();
    let offset = dec.read_long()?;
    // The target starts before the 0xffffffff that precedes the offset.
    if offset > -4 {
        return Err(invalid("indirection offset does not point backwards", at));
    }
    usize::try_from(field as i64 + offset as i64)
        .map_err(|_| invalid("indirection offset points before the stream", at))
}

// ------------------------------------------------------------------------------------------------
// Typed values.

/// A value type instance, as generated code implements it: its type, whether it is chunked,
/// and how to write its state. (Reading is [`ValueFactory`].)
pub trait ValueType: std::any::Any + fmt::Debug + Send + Sync {
    /// The repository id of the most derived type.
    fn repository_id(&self) -> &str;

    /// The repository ids of the bases this value may be truncated to, nearest first; empty
    /// unless the type is `truncatable`. Non-empty makes the value chunked, written with the
    /// list of ids.
    fn truncatable_bases(&self) -> &[&'static str] {
        &[]
    }

    /// Custom-marshalled (`custom valuetype`): always chunked.
    fn is_custom(&self) -> bool {
        false
    }

    /// Writes the state: the root base's members first, down to this type's.
    fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError>;

    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// How a value type is read: what an application registers (generated code provides it) for
/// each repository id it can receive, in [`ValueFactories`].
pub trait ValueFactory: ValueType + Sized {
    const REPOSITORY_ID: &'static str;

    /// Reads the state written by [`ValueType::write_state`].
    fn read_state(input: &mut ValueInput<'_, '_, '_>) -> Result<Self, DecodeError>;
}

/// A value in a [`ValueGraph`]: an index, typed by what it was inserted or read as
/// (`ValueRef<dyn ValueType>` for a value of any type).
pub struct ValueRef<T: ?Sized> {
    index: u32,
    _type: PhantomData<fn() -> Box<T>>,
}

impl<T: ?Sized> ValueRef<T> {
    fn new(index: u32) -> ValueRef<T> {
        ValueRef {
            index,
            _type: PhantomData,
        }
    }

    /// Its index in the graph.
    pub fn index(self) -> u32 {
        self.index
    }

    /// The same value, typed as any value.
    pub fn erase(self) -> ValueRef<dyn ValueType> {
        ValueRef::new(self.index)
    }
}

impl<T: ?Sized> Clone for ValueRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for ValueRef<T> {}
impl<T: ?Sized> PartialEq for ValueRef<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<T: ?Sized> Eq for ValueRef<T> {}
impl<T: ?Sized> std::hash::Hash for ValueRef<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.index.hash(h)
    }
}
impl<T: ?Sized> fmt::Debug for ValueRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueRef({})", self.index)
    }
}

/// The values of one graph (see the module documentation for why an arena).
#[derive(Debug, Default)]
pub struct ValueGraph {
    /// `None` only while a value's state is being read (its slot is reserved first, so that
    /// indirections inside its own state can point at it).
    nodes: Vec<Option<Box<dyn ValueType>>>,
}

impl ValueGraph {
    pub fn new() -> ValueGraph {
        ValueGraph::default()
    }

    pub fn insert<T: ValueType>(&mut self, value: T) -> ValueRef<T> {
        self.nodes.push(Some(Box::new(value)));
        ValueRef::new(self.nodes.len() as u32 - 1)
    }

    /// Values in the graph.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The value, if it is a `T`.
    pub fn get<T: ValueType>(&self, r: ValueRef<T>) -> Option<&T> {
        self.node(r.erase())?.as_any().downcast_ref()
    }

    pub fn get_mut<T: ValueType>(&mut self, r: ValueRef<T>) -> Option<&mut T> {
        self.nodes
            .get_mut(r.index as usize)?
            .as_mut()?
            .as_any_mut()
            .downcast_mut()
    }

    /// The value, whatever its type.
    pub fn node(&self, r: ValueRef<dyn ValueType>) -> Option<&dyn ValueType> {
        self.nodes.get(r.index as usize)?.as_deref()
    }

    /// The value as a `T`, if it is one (for a reference read as any value).
    pub fn downcast<T: ValueType>(&self, r: ValueRef<dyn ValueType>) -> Option<ValueRef<T>> {
        self.node(r)?
            .as_any()
            .is::<T>()
            .then(|| ValueRef::new(r.index))
    }
}

/// Writes typed values from a [`ValueGraph`], sharing what the graph shares. One writer per
/// stream (message body), so that values and repository ids repeat as indirections across
/// the parameters of a request.
#[derive(Debug, Default)]
pub struct ValueWriter {
    core: ValueEncoder,
    codebase: Option<String>,
    chunk_all: bool,
}

impl ValueWriter {
    pub fn new() -> ValueWriter {
        ValueWriter::default()
    }

    /// Sends this codebase URL with every value.
    pub fn with_codebase(mut self, url: impl Into<String>) -> ValueWriter {
        self.codebase = Some(url.into());
        self
    }

    /// Nesting deeper than `limits.max_depth` is refused.
    pub fn with_limits(mut self, limits: ValueLimits) -> ValueWriter {
        self.core.limits = limits;
        self
    }

    /// Chunks every value, not only truncatable and custom ones.
    pub fn chunk_all(mut self, yes: bool) -> ValueWriter {
        self.chunk_all = yes;
        self
    }

    /// Writes `root` (null for `None`) and the values it reaches.
    pub fn write<T: ?Sized>(
        &mut self,
        enc: &mut Encoder,
        graph: &ValueGraph,
        root: Option<ValueRef<T>>,
    ) -> Result<(), EncodeError> {
        ValueOutput {
            enc,
            graph,
            writer: self,
        }
        .write_value(root)
    }
}

/// What a value's [`ValueType::write_state`] writes to: the encoder, and nested values.
pub struct ValueOutput<'w> {
    enc: &'w mut Encoder,
    graph: &'w ValueGraph,
    writer: &'w mut ValueWriter,
}

impl ValueOutput<'_> {
    pub fn encoder(&mut self) -> &mut Encoder {
        self.enc
    }

    /// The graph being written (to read other values' fields).
    pub fn graph(&self) -> &ValueGraph {
        self.graph
    }

    /// A member of value type: null, an indirection to a value written before, or the value.
    pub fn write_value<T: ?Sized>(&mut self, r: Option<ValueRef<T>>) -> Result<(), EncodeError> {
        let Some(r) = r else {
            self.writer.core.write_null(self.enc);
            return Ok(());
        };
        let key = r.index as u64;
        if self.writer.core.write_indirection(self.enc, key)? {
            return Ok(());
        }
        let graph = self.graph;
        let node = graph.node(r.erase()).ok_or(EncodeError::Invalid(
            "value reference to no value of its graph",
        ))?;
        let id = node.repository_id();
        let bases = node.truncatable_bases();
        let list: Vec<&str>;
        let type_info = if bases.is_empty() {
            TypeInfoRef::Single(id)
        } else {
            list = std::iter::once(id).chain(bases.iter().copied()).collect();
            TypeInfoRef::List(&list)
        };
        let chunked = !bases.is_empty() || node.is_custom() || self.writer.chunk_all;
        let codebase = self.writer.codebase.take();
        let token = self.writer.core.begin_value(
            self.enc,
            Some(key),
            codebase.as_deref(),
            type_info,
            chunked,
        );
        self.writer.codebase = codebase;
        let token = token?;
        node.write_state(self)?;
        self.writer.core.end_value(self.enc, token)
    }
}

type ReadFn = fn(&mut ValueInput<'_, '_, '_>) -> Result<Box<dyn ValueType>, DecodeError>;

fn read_boxed<T: ValueFactory>(
    input: &mut ValueInput<'_, '_, '_>,
) -> Result<Box<dyn ValueType>, DecodeError> {
    Ok(Box::new(T::read_state(input)?))
}

/// The value types a receiver knows, by repository id: what a [`ValueReader`] can build.
#[derive(Clone, Default)]
pub struct ValueFactories {
    by_id: HashMap<String, ReadFn>,
}

impl fmt::Debug for ValueFactories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_id.keys()).finish()
    }
}

impl ValueFactories {
    pub fn new() -> ValueFactories {
        ValueFactories::default()
    }

    pub fn register<T: ValueFactory>(&mut self) -> &mut Self {
        self.by_id
            .insert(T::REPOSITORY_ID.to_owned(), read_boxed::<T> as ReadFn);
        self
    }

    pub fn knows(&self, repository_id: &str) -> bool {
        self.by_id.contains_key(repository_id)
    }
}

/// Reads typed values into a [`ValueGraph`]. One reader per stream (message body): later
/// parameters may refer back to values of earlier ones.
pub struct ValueReader<'f, 'a> {
    core: ValueDecoder<'a>,
    factories: &'f ValueFactories,
    graph: ValueGraph,
    /// Node of each value tag read, by ordinal; `None` for one skipped (or being skipped).
    by_ordinal: Vec<Option<u32>>,
    /// Values whose type is checked once read (a cycle may refer to a value not built yet).
    pending_checks: Vec<(u32, std::any::TypeId, &'static str, usize)>,
}

impl<'f, 'a> ValueReader<'f, 'a> {
    pub fn new(factories: &'f ValueFactories, dec: &Decoder<'a>) -> ValueReader<'f, 'a> {
        ValueReader::with_limits(factories, dec, ValueLimits::default())
    }

    pub fn with_limits(
        factories: &'f ValueFactories,
        dec: &Decoder<'a>,
        limits: ValueLimits,
    ) -> ValueReader<'f, 'a> {
        ValueReader {
            core: ValueDecoder::with_limits(dec, limits),
            factories,
            graph: ValueGraph::new(),
            by_ordinal: Vec::new(),
            pending_checks: Vec::new(),
        }
    }

    /// A value whose formal type is `T` and that must be a `T` (or a derived truncatable type
    /// this receiver does not know, truncated to `T`): null, or a `T`. Where values of derived
    /// types this receiver knows may come (a formal type that is not final), read with
    /// [`ValueReader::read_value_base`] and downcast ([`ValueGraph::downcast`]).
    pub fn read_value<T: ValueFactory>(
        &mut self,
        dec: &mut Decoder<'a>,
    ) -> Result<Option<ValueRef<T>>, DecodeError> {
        let at = dec.offset();
        let r = self.read_node(dec, Some(T::REPOSITORY_ID))?;
        if let Some(index) = r {
            self.pending_checks
                .push((index, std::any::TypeId::of::<T>(), T::REPOSITORY_ID, at));
        }
        self.check_types()?;
        Ok(r.map(ValueRef::new))
    }

    /// A value of any type (`ValueBase`, an abstract formal type): the type information on the
    /// wire says which, `formal_id` standing in when there is none.
    pub fn read_value_base(
        &mut self,
        dec: &mut Decoder<'a>,
        formal_id: Option<&str>,
    ) -> Result<Option<ValueRef<dyn ValueType>>, DecodeError> {
        let r = self.read_node(dec, formal_id)?;
        self.check_types()?;
        Ok(r.map(ValueRef::new))
    }

    /// The graph of everything read.
    pub fn graph(&self) -> &ValueGraph {
        &self.graph
    }

    pub fn into_graph(self) -> ValueGraph {
        self.graph
    }

    /// Once the outermost value is complete, every reference must be to a value of its type.
    fn check_types(&mut self) -> Result<(), DecodeError> {
        if self.core.depth > 0 {
            return Ok(());
        }
        for (index, type_id, id, at) in self.pending_checks.drain(..) {
            let node = self
                .graph
                .nodes
                .get(index as usize)
                .and_then(|n| n.as_deref());
            if node.is_some_and(|n| n.as_any().type_id() != type_id) {
                return Err(invalid(
                    "a value member refers to a value of another type than its own",
                    at,
                )
                .in_field("value")
                .in_field(id));
            }
        }
        Ok(())
    }

    fn read_node(
        &mut self,
        dec: &mut Decoder<'a>,
        formal_id: Option<&str>,
    ) -> Result<Option<u32>, DecodeError> {
        let at = dec.offset();
        match self.core.begin(dec)? {
            ValueStart::Null => Ok(None),
            ValueStart::Shared(ordinal) => match self.by_ordinal.get(ordinal) {
                Some(Some(index)) => Ok(Some(*index)),
                _ => Err(invalid(
                    "indirection to a value whose state was skipped (truncated) and cannot be used",
                    at,
                )),
            },
            ValueStart::New(header) => self.read_new(dec, header, formal_id, false),
        }
    }

    /// A new value: built by the factory of the first of its ids this receiver knows, the
    /// rest of its state (if that was a base) skipped. `skipping`: inside state being
    /// skipped, where a value of no known type is skipped too rather than an error.
    fn read_new(
        &mut self,
        dec: &mut Decoder<'a>,
        header: ValueHeader,
        formal_id: Option<&str>,
        skipping: bool,
    ) -> Result<Option<u32>, DecodeError> {
        let ids = header.type_info.ids();
        let known = if ids.is_empty() {
            formal_id.and_then(|id| self.factories.by_id.get(id).map(|f| (0, *f)))
        } else {
            ids.iter()
                .enumerate()
                .find_map(|(i, id)| self.factories.by_id.get(id.as_str()).map(|f| (i, *f)))
        };
        if self.by_ordinal.len() <= header.ordinal {
            self.by_ordinal.resize(header.ordinal + 1, None);
        }
        let (position, read) = match known {
            Some(k) if k.0 == 0 || header.chunked => k,
            _ if skipping && header.chunked => {
                self.skip_known(dec, &header)?;
                return Ok(None);
            }
            _ => {
                let id = ids
                    .first()
                    .map(String::as_str)
                    .or(formal_id)
                    .unwrap_or("(no repository id)");
                return Err(DecodeError::new(
                    DecodeErrorKind::UnknownValueType(id.to_owned()),
                    header.offset,
                ));
            }
        };
        let index = self.graph.nodes.len() as u32;
        self.graph.nodes.push(None);
        self.by_ordinal[header.ordinal] = Some(index);
        let mut input = ValueInput { reader: self, dec };
        let value = read(&mut input).map_err(|e| self.core.explain(e))?;
        self.graph.nodes[index as usize] = Some(value);
        if position == 0 {
            self.core
                .end(dec, &header)
                .map_err(|e| self.core.explain(e))?;
        } else {
            self.skip_known(dec, &header)?;
        }
        Ok(Some(index))
    }

    /// Skips the rest of a value, reading the nested values it can (later indirections may
    /// point at them) and skipping the others.
    fn skip_known(
        &mut self,
        dec: &mut Decoder<'a>,
        header: &ValueHeader,
    ) -> Result<(), DecodeError> {
        while let SkipStep::Nested(nested) = self.core.skip_step(dec, header)? {
            self.read_new(dec, nested, None, true)?;
        }
        Ok(())
    }
}

/// What a [`ValueFactory::read_state`] reads from: the decoder, and nested values.
pub struct ValueInput<'r, 'f, 'a> {
    reader: &'r mut ValueReader<'f, 'a>,
    dec: &'r mut Decoder<'a>,
}

impl<'a> ValueInput<'_, '_, 'a> {
    pub fn decoder(&mut self) -> &mut Decoder<'a> {
        self.dec
    }

    /// A member whose formal type is the value type `T`, holding a `T` (see
    /// [`ValueReader::read_value`]).
    pub fn read_value<T: ValueFactory>(&mut self) -> Result<Option<ValueRef<T>>, DecodeError> {
        self.reader.read_value::<T>(self.dec)
    }

    /// A member of type `ValueBase` or of an abstract value type.
    pub fn read_value_base(
        &mut self,
        formal_id: Option<&str>,
    ) -> Result<Option<ValueRef<dyn ValueType>>, DecodeError> {
        self.reader.read_value_base(self.dec, formal_id)
    }
}

#[doc(hidden)]
pub mod samples;

#[cfg(test)]
mod tests;
