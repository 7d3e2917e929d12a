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
//!     fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError> {
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

use super::{
    CdrDecode, CdrEncode, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder, ResultExt,
};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

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
#[derive(Debug, Default, Clone)]
pub struct ValueEncoder {
    /// Identity of a value (chosen by the caller) → stream position of its tag: by index for
    /// small identities (a graph's node indices, an `any`'s instance numbers), which is most of
    /// them and needs no hashing.
    dense: Vec<usize>,
    values: HashMap<u64, usize>,
    /// Repository ids and codebase URLs written → stream position of their length.
    strings: HashMap<String, usize>,
    /// The last of them written or referred to, and where: values of one type come together,
    /// and comparing is cheaper than hashing.
    last_string: Option<(String, usize)>,
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
        if let Some((last, target)) = &self.last_string {
            if last == s {
                return write_indirection_to(enc, *target);
            }
        }
        let target = match self.strings.get(s) {
            Some(&target) => {
                write_indirection_to(enc, target)?;
                target
            }
            None => {
                let at = enc.write_string_located(s)?;
                self.strings.insert(s.to_owned(), at);
                at
            }
        };
        match &mut self.last_string {
            Some((last, at)) => {
                last.clear();
                last.push_str(s);
                *at = target;
            }
            None => self.last_string = Some((s.to_owned(), target)),
        }
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
pub struct ValueDecoder {
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

impl ValueDecoder {
    /// For values read from `dec`'s buffer (a whole message or `any`).
    pub fn new(dec: &Decoder<'_>) -> ValueDecoder {
        ValueDecoder::with_limits(dec, ValueLimits::default())
    }

    pub fn with_limits(_dec: &Decoder<'_>, limits: ValueLimits) -> ValueDecoder {
        ValueDecoder::for_limits(limits)
    }

    fn for_limits(limits: ValueLimits) -> ValueDecoder {
        ValueDecoder {
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
    pub fn begin(&mut self, dec: &mut Decoder<'_>) -> Result<ValueStart, DecodeError> {
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
        dec: &mut Decoder<'_>,
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
    pub fn end(&mut self, dec: &mut Decoder<'_>, header: &ValueHeader) -> Result<(), DecodeError> {
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
        dec: &mut Decoder<'_>,
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
        dec: &mut Decoder<'_>,
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
    fn move_to_value(&mut self, dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
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
    fn peek_long(&mut self, dec: &mut Decoder<'_>) -> Result<i32, DecodeError> {
        dec.set_visible_end(dec.whole(), dec.whole().len(), false)?;
        let mut peek = dec.clone();
        peek.read_long()
    }

    /// If the next long is a chunk size, reads it and confines `dec` to the chunk; otherwise
    /// confines `dec` to where it is (no state may be read before a chunk starts).
    fn open_chunk_if_any(&mut self, dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
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
            dec.set_visible_end(dec.whole(), end, true)?;
        } else {
            let here = dec.position();
            dec.set_visible_end(dec.whole(), here, true)?;
        }
        Ok(())
    }

    fn leave_chunk(&mut self, dec: &mut Decoder<'_>) -> Result<(), DecodeError> {
        dec.set_visible_end(dec.whole(), dec.whole().len(), false)
    }

    /// Reads an end tag that must close the value at `level` (and maybe enclosing ones).
    fn read_end_tag(&mut self, dec: &mut Decoder<'_>, level: u32) -> Result<(), DecodeError> {
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
    fn after_end(&mut self, dec: &mut Decoder<'_>, level: u32) -> Result<(), DecodeError> {
        if self.closed_to == level {
            self.closed_to = NOT_CLOSED;
        }
        self.level = level - 1;
        if self.level == 0 {
            return dec.set_visible_end(dec.whole(), dec.whole().len(), false);
        }
        if self.closed_to <= self.level {
            // The enclosing value was closed too: nothing more of its state may be read.
            let here = dec.position();
            return dec.set_visible_end(dec.whole(), here, false);
        }
        self.open_chunk_if_any(dec)
    }

    /// A repository id or codebase URL: a string, or an indirection to one read before.
    fn read_repo_string(&mut self, dec: &mut Decoder<'_>) -> Result<String, DecodeError> {
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
    fn read_id_list(&mut self, dec: &mut Decoder<'_>) -> Result<Vec<String>, DecodeError> {
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

    /// The repository ids of every value type this one derives from, truncatable or not (and
    /// abstract ones): where one of them is the formal type, a value of this type may stand.
    fn base_ids(&self) -> &[&'static str] {
        self.truncatable_bases()
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

/// Whether `node` is of the value type `id` or derives from it.
fn is_a(node: &dyn ValueType, id: &str) -> bool {
    node.repository_id() == id || node.base_ids().contains(&id)
}

/// How a value type is read: what an application registers (generated code provides it) for
/// each repository id it can receive, in [`ValueFactories`].
pub trait ValueFactory: ValueType + Sized {
    const REPOSITORY_ID: &'static str;

    /// Reads the state written by [`ValueType::write_state`].
    fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError>;

    /// Registers this type and the value types its state can hold (generated code lists
    /// them), so that a value read where this type is the formal type needs no registration
    /// by the application. Derived types are not reachable this way: register them
    /// ([`register_value_factory`]) to receive them whole rather than truncated.
    fn register_reachable(factories: &mut ValueFactories) {
        factories.register::<Self>();
    }
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
///
/// A graph may extend a frozen one (its *base*): the values of a message's later parameters
/// can point at those of earlier ones, whose graphs were handed out already
/// ([`ValueHandle`]). Indices run on across the chain, so a [`ValueRef`] means the same value
/// in every graph that extends the one it was made in.
#[derive(Default)]
pub struct ValueGraph {
    base: Option<Arc<ValueGraph>>,
    /// Values in `base` and its own bases: this graph's own are numbered from here.
    offset: u32,
    /// `None` only while a value's state is being read (its slot is reserved first, so that
    /// indirections inside its own state can point at it).
    nodes: Vec<Option<Box<dyn ValueType>>>,
}

impl fmt::Debug for ValueGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueGraph")
            .field("base_values", &self.offset)
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl Drop for ValueGraph {
    /// Unlinks a long chain of bases one at a time: dropping it recursively could overflow
    /// the stack (a message may carry a million values, each a graph extending the last).
    fn drop(&mut self) {
        let mut base = self.base.take();
        while let Some(b) = base {
            base = match Arc::try_unwrap(b) {
                Ok(mut g) => g.base.take(),
                Err(_) => None,
            };
        }
    }
}

impl ValueGraph {
    pub fn new() -> ValueGraph {
        ValueGraph::default()
    }

    /// An empty graph extending `base`: its values are numbered after `base`'s, and references
    /// into `base` stay valid in it.
    pub fn extending(base: Arc<ValueGraph>) -> ValueGraph {
        ValueGraph {
            offset: base.len() as u32,
            base: Some(base),
            nodes: Vec::new(),
        }
    }

    pub fn insert<T: ValueType>(&mut self, value: T) -> ValueRef<T> {
        self.nodes.push(Some(Box::new(value)));
        ValueRef::new(self.offset + self.nodes.len() as u32 - 1)
    }

    /// Values in the graph, its bases' included.
    pub fn len(&self) -> usize {
        self.offset as usize + self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value, if it is a `T`.
    pub fn get<T: ValueType>(&self, r: ValueRef<T>) -> Option<&T> {
        self.node(r.erase())?.as_any().downcast_ref()
    }

    /// The value, if it is a `T` of this graph's own (values of a base graph are frozen).
    pub fn get_mut<T: ValueType>(&mut self, r: ValueRef<T>) -> Option<&mut T> {
        let own = r.index.checked_sub(self.offset)?;
        self.nodes
            .get_mut(own as usize)?
            .as_mut()?
            .as_any_mut()
            .downcast_mut()
    }

    /// The value, whatever its type.
    pub fn node(&self, r: ValueRef<dyn ValueType>) -> Option<&dyn ValueType> {
        self.node_at(r.index)
    }

    fn node_at(&self, index: u32) -> Option<&dyn ValueType> {
        let mut g = self;
        while index < g.offset {
            g = g.base.as_deref()?;
        }
        g.nodes.get((index - g.offset) as usize)?.as_deref()
    }

    /// The value as a `T`, if it is one (for a reference read as any value).
    pub fn downcast<T: ValueType>(&self, r: ValueRef<dyn ValueType>) -> Option<ValueRef<T>> {
        self.node(r)?
            .as_any()
            .is::<T>()
            .then(|| ValueRef::new(r.index))
    }

    /// Reserves the slot of a value whose state is about to be read.
    fn reserve(&mut self) -> u32 {
        self.nodes.push(None);
        self.offset + self.nodes.len() as u32 - 1
    }

    fn fill(&mut self, index: u32, value: Box<dyn ValueType>) {
        if let Some(slot) = index
            .checked_sub(self.offset)
            .and_then(|i| self.nodes.get_mut(i as usize))
        {
            *slot = Some(value);
        }
    }

    fn own_len(&self) -> usize {
        self.nodes.len()
    }
}

/// A value with the graph it lives in: how values stand in data types, parameters and
/// results outside a value's own state (generated code maps an IDL value type `V` there to
/// `Option<ValueHandle<V>>`, `None` being null). Cloning is cheap (the graph is shared).
///
/// Inside a value's state, members of value type are [`ValueRef`]s into the value's graph; a
/// handle met there (in a struct member of a value, say) is *relative*: it has no graph of its
/// own and means the value at its index in the graph being read or written.
pub struct ValueHandle<T: ?Sized> {
    graph: Option<Arc<ValueGraph>>,
    at: ValueRef<T>,
}

impl<T: ?Sized> ValueHandle<T> {
    /// The value `at` of `graph`.
    pub fn new(graph: Arc<ValueGraph>, at: ValueRef<T>) -> ValueHandle<T> {
        ValueHandle {
            graph: Some(graph),
            at,
        }
    }

    /// The value `at` of whatever graph the handle is written in (see the type's documentation).
    pub fn relative(at: ValueRef<T>) -> ValueHandle<T> {
        ValueHandle { graph: None, at }
    }

    /// The graph, `None` for a relative handle.
    pub fn graph(&self) -> Option<&Arc<ValueGraph>> {
        self.graph.as_ref()
    }

    pub fn at(&self) -> ValueRef<T> {
        self.at
    }

    /// The value, whatever its type (`None` for a relative handle: see [`ValueHandle::node_in`]).
    pub fn node(&self) -> Option<&dyn ValueType> {
        self.graph.as_deref()?.node(self.at.erase())
    }

    /// The value, a relative handle's looked up in `graph`.
    pub fn node_in<'g>(&'g self, graph: &'g ValueGraph) -> Option<&'g dyn ValueType> {
        self.graph.as_deref().unwrap_or(graph).node(self.at.erase())
    }

    /// The same value, typed as any value.
    pub fn erase(&self) -> ValueHandle<dyn ValueType> {
        ValueHandle {
            graph: self.graph.clone(),
            at: self.at.erase(),
        }
    }

    /// The same value as a `U` (a derived type, say), if it is one.
    pub fn downcast<U: ValueType>(&self) -> Option<ValueHandle<U>> {
        self.node()?.as_any().is::<U>().then(|| ValueHandle {
            graph: self.graph.clone(),
            at: ValueRef::new(self.at.index),
        })
    }
}

impl<T: ValueType> ValueHandle<T> {
    /// The same value where a base type `B` is expected, if `T` derives from `B`.
    pub fn upcast<B: ValueFactory>(&self) -> Option<ValueHandle<B>> {
        is_a(self.node()?, B::REPOSITORY_ID).then(|| ValueHandle {
            graph: self.graph.clone(),
            at: ValueRef::new(self.at.index),
        })
    }

    /// `value` alone in a graph of its own.
    pub fn from_value(value: T) -> ValueHandle<T> {
        let mut graph = ValueGraph::new();
        let at = graph.insert(value);
        ValueHandle::new(Arc::new(graph), at)
    }

    /// The value, if it is a `T` (a value of a derived type is not: [`ValueHandle::downcast`]).
    pub fn get(&self) -> Option<&T> {
        self.node()?.as_any().downcast_ref()
    }

    /// The value, a relative handle's looked up in `graph`.
    pub fn get_in<'g>(&'g self, graph: &'g ValueGraph) -> Option<&'g T> {
        self.node_in(graph)?.as_any().downcast_ref()
    }
}

impl<T: ?Sized> Clone for ValueHandle<T> {
    fn clone(&self) -> Self {
        ValueHandle {
            graph: self.graph.clone(),
            at: self.at,
        }
    }
}

impl<T: ?Sized> fmt::Debug for ValueHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node() {
            Some(node) => write!(f, "ValueHandle({}: {node:?})", self.at.index),
            None => write!(f, "ValueHandle(relative {})", self.at.index),
        }
    }
}

/// Two handles are equal when their values are: the same state and the same shape of sharing
/// and cycles — what the receiver of each could tell apart, so compared by their encodings.
impl<T: ?Sized + 'static> PartialEq for ValueHandle<T> {
    fn eq(&self, other: &Self) -> bool {
        if self.graph.is_none() || other.graph.is_none() {
            return self.graph.is_none() && other.graph.is_none() && self.at == other.at;
        }
        let encode = |h: &ValueHandle<T>| {
            let mut enc = Encoder::new(super::ByteOrder::BigEndian);
            Some(h.clone())
                .encode(&mut enc)
                .ok()
                .map(|_| enc.into_vec())
        };
        match (encode(self), encode(other)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

// ---- Writing typed values.

/// What an [`Encoder`] keeps of the values written to its stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct WriteStream {
    core: ValueEncoder,
    /// The graphs written from, numbered from 1 (0 is a [`ValueWriter`]'s graph): kept alive
    /// so that no other graph can come to the address that identifies one.
    graphs: Vec<Arc<ValueGraph>>,
    numbers: HashMap<usize, u64>,
    /// The number of the graph of each value whose state is being written, innermost last (0
    /// for a [`ValueWriter`]'s borrowed graph): where a relative handle points.
    current: Vec<u64>,
    codebase: Option<String>,
    chunk_all: bool,
}

impl WriteStream {
    /// Identity of value `index` of `arc` (graph 0 when there is no `Arc`): the number of the
    /// graph in the chain that holds it, and the index.
    fn key(&mut self, arc: Option<&Arc<ValueGraph>>, index: u32) -> u64 {
        let Some(mut g) = arc else {
            return index as u64;
        };
        while index < g.offset {
            match &g.base {
                Some(b) => g = b,
                None => break,
            }
        }
        let number = self.number(g);
        (number << 32) | index as u64
    }

    /// The number of graph `g` in this stream (the last one numbered is checked first: values
    /// of one graph come together).
    fn number(&mut self, g: &Arc<ValueGraph>) -> u64 {
        if let Some(last) = self.graphs.last() {
            if Arc::ptr_eq(last, g) {
                return self.graphs.len() as u64;
            }
        }
        let next = self.graphs.len() as u64 + 1;
        let number = *self
            .numbers
            .entry(Arc::as_ptr(g) as usize)
            .or_insert_with(|| next);
        if number == next {
            self.graphs.push(g.clone());
        }
        number
    }

    /// The graph a relative handle written now points into.
    fn current_graph(&self) -> Option<Arc<ValueGraph>> {
        let number = *self.current.last()?;
        let i = usize::try_from(number).ok()?.checked_sub(1)?;
        self.graphs.get(i).cloned()
    }
}

/// Writes value `index` of `graph` (null for `None`) to `enc`'s stream, with the values it
/// reaches. `arc` is `graph` when it is shared (a handle's), which identifies it across calls.
///
/// A value of exactly the `formal` type (the type the receiver expects there), neither
/// truncatable nor custom nor inside a chunked value, is sent without its repository id, as
/// omniORB sends it: the receiver knows the type, and the id would be four octets at best.
fn write_from(
    enc: &mut Encoder,
    graph: &ValueGraph,
    arc: Option<&Arc<ValueGraph>>,
    index: Option<u32>,
    formal: Option<std::any::TypeId>,
) -> Result<(), EncodeError> {
    let mut stream = enc.take_value_stream();
    let begun = (|| {
        let Some(index) = index else {
            stream.core.write_null(enc);
            return Ok(None);
        };
        let key = stream.key(arc, index);
        if stream.core.write_indirection(enc, key)? {
            return Ok(None);
        }
        let node = graph.node_at(index).ok_or(EncodeError::Invalid(
            "value reference to no value of its graph",
        ))?;
        let id = node.repository_id();
        let bases = node.truncatable_bases();
        let list: Vec<&str>;
        // Not inside truncatable (chunked) state: a receiver that truncates it skips what it
        // cannot name, and could not resolve a later indirection to a value skipped unnamed.
        let exact = formal.is_some_and(|f| node.as_any().type_id() == f)
            && !stream.core.in_chunked_value()
            && !stream.chunk_all;
        let type_info = if bases.is_empty() && exact && !node.is_custom() {
            TypeInfoRef::Implied
        } else if bases.is_empty() {
            TypeInfoRef::Single(id)
        } else {
            list = std::iter::once(id).chain(bases.iter().copied()).collect();
            TypeInfoRef::List(&list)
        };
        let chunked = !bases.is_empty() || node.is_custom() || stream.chunk_all;
        let codebase = stream.codebase.take();
        let token =
            stream
                .core
                .begin_value(enc, Some(key), codebase.as_deref(), type_info, chunked);
        stream.codebase = codebase;
        stream.current.push(key >> 32);
        Ok(Some((token?, node)))
    })();
    enc.put_value_stream(stream);
    let Some((token, node)) = begun? else {
        return Ok(());
    };
    let written = node.write_state(&mut ValueOutput { enc, graph, arc });
    let mut stream = enc.take_value_stream();
    stream.current.pop();
    let ended = written.and_then(|()| stream.core.end_value(enc, token));
    enc.put_value_stream(stream);
    ended
}

/// Writes typed values from a [`ValueGraph`], sharing what the graph shares. One writer per
/// stream (message body), so that values and repository ids repeat as indirections across
/// the parameters of a request. (Generated code writes [`ValueHandle`]s, whose encoder keeps
/// this state itself.)
#[derive(Debug, Default)]
pub struct ValueWriter {
    /// Made on first use; moved into the encoder while writing (no allocation per call).
    stream: Option<Box<WriteStream>>,
}

impl ValueWriter {
    pub fn new() -> ValueWriter {
        ValueWriter::default()
    }

    /// Sends this codebase URL with every value.
    pub fn with_codebase(mut self, url: impl Into<String>) -> ValueWriter {
        self.stream.get_or_insert_default().codebase = Some(url.into());
        self
    }

    /// Nesting deeper than `limits.max_depth` is refused.
    pub fn with_limits(mut self, limits: ValueLimits) -> ValueWriter {
        self.stream.get_or_insert_default().core.limits = limits;
        self
    }

    /// Chunks every value, not only truncatable and custom ones.
    pub fn chunk_all(mut self, yes: bool) -> ValueWriter {
        self.stream.get_or_insert_default().chunk_all = yes;
        self
    }

    /// Writes `root` (null for `None`) and the values it reaches. Every call must be with the
    /// same graph (or one extending it): values are identified by their index.
    pub fn write<T: ?Sized>(
        &mut self,
        enc: &mut Encoder,
        graph: &ValueGraph,
        root: Option<ValueRef<T>>,
    ) -> Result<(), EncodeError> {
        let mine = self.stream.take().unwrap_or_default();
        let outer = enc.replace_value_stream(Some(mine));
        let written = write_from(enc, graph, None, root.map(|r| r.index), None);
        self.stream = enc.replace_value_stream(outer);
        written
    }
}

/// What a value's [`ValueType::write_state`] writes to: the encoder, and nested values.
pub struct ValueOutput<'w> {
    enc: &'w mut Encoder,
    graph: &'w ValueGraph,
    arc: Option<&'w Arc<ValueGraph>>,
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
    pub fn write_value<T: ?Sized + 'static>(
        &mut self,
        r: Option<ValueRef<T>>,
    ) -> Result<(), EncodeError> {
        let formal = std::any::TypeId::of::<T>();
        write_from(
            self.enc,
            self.graph,
            self.arc,
            r.map(|r| r.index),
            Some(formal),
        )
    }
}

impl<T: ?Sized + 'static> CdrEncode for Option<ValueHandle<T>> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        let formal = Some(std::any::TypeId::of::<T>());
        let Some(h) = self else {
            return write_from(enc, &ValueGraph::new(), None, None, None);
        };
        match &h.graph {
            Some(g) => write_from(enc, g, Some(g), Some(h.at.index), formal),
            None => {
                let stream = enc.take_value_stream();
                let current = stream.current_graph();
                enc.put_value_stream(stream);
                match current {
                    Some(g) => write_from(enc, &g, Some(&g), Some(h.at.index), formal),
                    _ => Err(EncodeError::Invalid(
                        "a relative value handle written outside the state of a value of its \
                         graph (give it its graph: ValueHandle::new)",
                    )),
                }
            }
        }
    }
}

// ---- Reading typed values.

type ReadFn = fn(&mut ValueInput<'_, '_>) -> Result<Box<dyn ValueType>, DecodeError>;

fn read_boxed<T: ValueFactory>(
    input: &mut ValueInput<'_, '_>,
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

    /// Registers `T` and what its state can hold, unless `T` is known already (which is what
    /// ends the walk through types that hold themselves).
    pub fn include<T: ValueFactory>(&mut self) -> &mut Self {
        if !self.knows(T::REPOSITORY_ID) {
            T::register_reachable(self);
        }
        self
    }

    pub fn knows(&self, repository_id: &str) -> bool {
        self.by_id.contains_key(repository_id)
    }
}

/// The value types registered for the whole process ([`register_value_factory`]): what a
/// decoder knows besides the types reachable from the formal type it reads.
static REGISTERED: std::sync::LazyLock<parking_lot::RwLock<ValueFactories>> =
    std::sync::LazyLock::new(Default::default);

/// Registers `T` (and what its state can hold) for every value read in this process: how an
/// application receives values of types derived from the formal ones whole, rather than
/// truncated to a base (or refused, when not truncatable). CORBA's
/// `ORB::register_value_factory`.
pub fn register_value_factory<T: ValueFactory>() {
    REGISTERED.write().include::<T>();
}

type CustomWrite =
    Box<dyn Fn(&dyn ValueType, &mut ValueOutput<'_>) -> Result<(), EncodeError> + Send + Sync>;
type CustomRead = Box<
    dyn Fn(&mut ValueInput<'_, '_>) -> Result<Box<dyn std::any::Any>, DecodeError> + Send + Sync,
>;

/// The marshaling of each `custom valuetype`, by repository id ([`register_custom_marshaling`]).
static CUSTOM: std::sync::LazyLock<
    parking_lot::RwLock<HashMap<String, (CustomWrite, CustomRead)>>,
> = std::sync::LazyLock::new(Default::default);

/// How the values of the custom value type `T` are written and read: its state on the wire
/// is whatever the application's `write` writes (in chunks, as custom values always are), and
/// only the application knows how to read it back. Generated code for a `custom valuetype`
/// calls what is registered here; a custom value with nothing registered is refused, never
/// guessed at.
pub fn register_custom_marshaling<T: ValueFactory>(
    write: fn(&T, &mut ValueOutput<'_>) -> Result<(), EncodeError>,
    read: fn(&mut ValueInput<'_, '_>) -> Result<T, DecodeError>,
) {
    let w: CustomWrite = Box::new(move |v, out| match v.as_any().downcast_ref::<T>() {
        Some(v) => write(v, out),
        None => Err(EncodeError::Invalid(
            "custom marshaling registered for another type",
        )),
    });
    let r: CustomRead = Box::new(move |input| Ok(Box::new(read(input)?)));
    CUSTOM.write().insert(T::REPOSITORY_ID.to_owned(), (w, r));
}

/// Writes a custom value with its registered marshaling (generated code's `write_state`).
pub fn write_custom(value: &dyn ValueType, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
    let custom = CUSTOM.read();
    match custom.get(value.repository_id()) {
        Some((write, _)) => write(value, out),
        None => Err(EncodeError::Invalid(
            "a custom value type with no marshaling registered: its state is what the \
             application writes (orb::codegen::register_custom_marshaling)",
        )),
    }
}

/// Reads a custom value with its registered marshaling (generated code's `read_state`).
pub fn read_custom<T: ValueFactory>(input: &mut ValueInput<'_, '_>) -> Result<T, DecodeError> {
    let at = input.dec.offset();
    let custom = CUSTOM.read();
    let Some((_, read)) = custom.get(T::REPOSITORY_ID) else {
        return Err(invalid(
            "a custom value type with no unmarshaling registered: only the application knows \
             its state (orb::codegen::register_custom_marshaling)",
            at,
        ));
    };
    read(input)?
        .downcast::<T>()
        .map(|b| *b)
        .map_err(|_| invalid("custom unmarshaling registered for another type", at))
}

/// A value read whose type is checked once the outermost value is complete (a cycle may refer
/// to a value not built yet).
#[derive(Debug)]
struct PendingCheck {
    index: u32,
    id: &'static str,
    at: usize,
}

/// What a [`Decoder`] keeps of the values read from its stream.
pub(crate) struct ReadStream {
    core: ValueDecoder,
    factories: ValueFactories,
    /// The values of the outermost value being read (and of earlier ones not handed out).
    graph: ValueGraph,
    /// The graph of the values handed out in [`ValueHandle`]s, which `graph` extends.
    frozen: Option<Arc<ValueGraph>>,
    /// Node of each value tag read, by ordinal; `None` for one skipped (or being skipped).
    by_ordinal: Vec<Option<u32>>,
    pending_checks: Vec<PendingCheck>,
    /// The last factory looked up, by repository id: a stream's values are mostly of a few
    /// types, and comparing an id is cheaper than hashing it.
    last_factory: Option<(String, ReadFn)>,
}

impl fmt::Debug for ReadStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadStream")
            .field("values", &self.core.count)
            .field("depth", &self.core.depth)
            .finish_non_exhaustive()
    }
}

impl ReadStream {
    fn new(factories: ValueFactories, limits: ValueLimits) -> ReadStream {
        ReadStream {
            core: ValueDecoder::for_limits(limits),
            factories,
            graph: ValueGraph::new(),
            frozen: None,
            by_ordinal: Vec::new(),
            pending_checks: Vec::new(),
            last_factory: None,
        }
    }

    fn factory(&mut self, id: &str) -> Option<ReadFn> {
        if let Some((last, f)) = &self.last_factory {
            if last == id {
                return Some(*f);
            }
        }
        let f = *self.factories.by_id.get(id)?;
        self.last_factory = Some((id.to_owned(), f));
        Some(f)
    }

    /// For a decoder's own stream: the process's registered types.
    fn registered() -> ReadStream {
        ReadStream::new(REGISTERED.read().clone(), ValueLimits::default())
    }

    /// Once the outermost value is complete, every reference must be to a value of its type.
    fn check_types(&mut self) -> Result<(), DecodeError> {
        if self.core.depth > 0 {
            return Ok(());
        }
        for c in self.pending_checks.drain(..) {
            if let Some(node) = self.graph.node_at(c.index) {
                if !is_a(node, c.id) {
                    return Err(invalid(
                        "a value stands where another type is expected (it is neither that \
                         type nor derived from it)",
                        c.at,
                    )
                    .in_field("value")
                    .in_field(c.id));
                }
            }
        }
        Ok(())
    }

    /// The graph holding every value read so far, shared, for handles to point into.
    fn freeze(&mut self) -> Arc<ValueGraph> {
        if self.graph.own_len() > 0 || self.frozen.is_none() {
            let graph = Arc::new(std::mem::take(&mut self.graph));
            self.graph = ValueGraph::extending(graph.clone());
            self.frozen = Some(graph);
        }
        self.frozen.clone().unwrap_or_default()
    }
}

type SharedStream = Arc<parking_lot::Mutex<ReadStream>>;

type StreamGuard<'s> = parking_lot::MutexGuard<'s, ReadStream>;

/// Reads a value whose formal type is `formal` (`None`: any) through `stream`, checking it is
/// one (or derived from it) when `check`; returns its index in the stream's graph.
///
/// The lock on the stream is held while framing is read and never while a value's state is
/// (a state may hold values, read through the same stream): twice per new value, once for
/// null or an indirection.
fn read_checked(
    stream: &SharedStream,
    dec: &mut Decoder<'_>,
    formal: Option<&str>,
    check: Option<&'static str>,
) -> Result<Option<u32>, DecodeError> {
    let at = dec.offset();
    let mut s = stream.lock();
    let r =
        match s.core.begin(dec)? {
            ValueStart::Null => None,
            ValueStart::Shared(ordinal) => match s.by_ordinal.get(ordinal) {
                Some(Some(index)) => Some(*index),
                _ => return Err(invalid(
                    "indirection to a value whose state was skipped (truncated) and cannot be used",
                    at,
                )),
            },
            ValueStart::New(header) => {
                let (r, again) = read_new(stream, s, dec, header, formal, false)?;
                s = again;
                r
            }
        };
    if let (Some(index), Some(id)) = (r, check) {
        s.pending_checks.push(PendingCheck { index, id, at });
    }
    s.check_types()?;
    Ok(r)
}

/// A new value: built by the factory of the first of its ids this receiver knows, the rest of
/// its state (if that was a base) skipped. `skipping`: inside state being skipped, where a
/// value of no known type is skipped too rather than an error. Takes the lock held and gives
/// it back.
fn read_new<'s>(
    stream: &'s SharedStream,
    mut s: StreamGuard<'s>,
    dec: &mut Decoder<'_>,
    header: ValueHeader,
    formal: Option<&str>,
    skipping: bool,
) -> Result<(Option<u32>, StreamGuard<'s>), DecodeError> {
    let ids = header.type_info.ids();
    let known = if ids.is_empty() {
        formal.and_then(|id| s.factory(id).map(|f| (0, f)))
    } else {
        ids.iter()
            .enumerate()
            .find_map(|(i, id)| s.factory(id).map(|f| (i, f)))
    };
    if s.by_ordinal.len() <= header.ordinal {
        s.by_ordinal.resize(header.ordinal + 1, None);
    }
    let (position, read) = match known {
        Some(k) if k.0 == 0 || header.chunked => k,
        _ if skipping && header.chunked => {
            let s = skip_known(stream, s, dec, &header)?;
            return Ok((None, s));
        }
        _ => {
            let id = ids
                .first()
                .map(String::as_str)
                .or(formal)
                .unwrap_or("(no repository id)");
            return Err(DecodeError::new(
                DecodeErrorKind::UnknownValueType(id.to_owned()),
                header.offset,
            ));
        }
    };
    let index = s.graph.reserve();
    s.by_ordinal[header.ordinal] = Some(index);
    drop(s);
    let read = read(&mut ValueInput { dec, stream });
    let mut s = stream.lock();
    let value = read.map_err(|e| s.core.explain(e))?;
    s.graph.fill(index, value);
    if position == 0 {
        s.core.end(dec, &header).map_err(|e| s.core.explain(e))?;
    } else {
        s = skip_known(stream, s, dec, &header)?;
    }
    Ok((Some(index), s))
}

/// Skips the rest of a value, reading the nested values it can (later indirections may point
/// at them) and skipping the others.
fn skip_known<'s>(
    stream: &'s SharedStream,
    mut s: StreamGuard<'s>,
    dec: &mut Decoder<'_>,
    header: &ValueHeader,
) -> Result<StreamGuard<'s>, DecodeError> {
    loop {
        match s.core.skip_step(dec, header)? {
            SkipStep::Nested(nested) => {
                s = read_new(stream, s, dec, nested, None, true)?.1;
            }
            SkipStep::Done => return Ok(s),
        }
    }
}

/// A value whose formal type is `T`: a `T` or of a type derived from it.
fn read_ref<T: ValueFactory>(
    stream: &SharedStream,
    dec: &mut Decoder<'_>,
) -> Result<Option<ValueRef<T>>, DecodeError> {
    let id = Some(T::REPOSITORY_ID);
    Ok(read_checked(stream, dec, id, id)?.map(ValueRef::new))
}

/// A value of any type, `formal` standing in when the type information is implied.
fn read_base_ref(
    stream: &SharedStream,
    dec: &mut Decoder<'_>,
    formal: Option<&str>,
) -> Result<Option<ValueRef<dyn ValueType>>, DecodeError> {
    Ok(read_checked(stream, dec, formal, None)?.map(ValueRef::new))
}

/// Reads typed values into a [`ValueGraph`]. One reader per stream (message body): later
/// parameters may refer back to values of earlier ones. (Generated code reads
/// [`ValueHandle`]s, whose decoder keeps this state itself.)
pub struct ValueReader {
    stream: SharedStream,
}

impl ValueReader {
    pub fn new(factories: &ValueFactories, dec: &Decoder<'_>) -> ValueReader {
        ValueReader::with_limits(factories, dec, ValueLimits::default())
    }

    pub fn with_limits(
        factories: &ValueFactories,
        _dec: &Decoder<'_>,
        limits: ValueLimits,
    ) -> ValueReader {
        ValueReader {
            stream: Arc::new(parking_lot::Mutex::new(ReadStream::new(
                factories.clone(),
                limits,
            ))),
        }
    }

    /// A value whose formal type is `T` and that must be a `T` or of a type derived from it:
    /// null, or its reference (a value of a derived type this receiver knows is not a `T` to
    /// [`ValueGraph::get`]: see [`ValueGraph::node`]).
    pub fn read_value<T: ValueFactory>(
        &mut self,
        dec: &mut Decoder<'_>,
    ) -> Result<Option<ValueRef<T>>, DecodeError> {
        dec.set_value_stream(self.stream.clone());
        read_ref(&self.stream, dec)
    }

    /// A value of any type (`ValueBase`, an abstract formal type): the type information on the
    /// wire says which, `formal_id` standing in when there is none.
    pub fn read_value_base(
        &mut self,
        dec: &mut Decoder<'_>,
        formal_id: Option<&str>,
    ) -> Result<Option<ValueRef<dyn ValueType>>, DecodeError> {
        dec.set_value_stream(self.stream.clone());
        read_base_ref(&self.stream, dec, formal_id)
    }

    /// The graph of everything read.
    pub fn into_graph(self) -> ValueGraph {
        let mut s = self.stream.lock();
        let graph = std::mem::take(&mut s.graph);
        match (&s.frozen, graph.offset) {
            (Some(frozen), 0) if graph.own_len() == 0 => ValueGraph::extending(frozen.clone()),
            _ => graph,
        }
    }
}

/// What a [`ValueFactory::read_state`] reads from: the decoder, and nested values.
pub struct ValueInput<'r, 'a> {
    dec: &'r mut Decoder<'a>,
    stream: &'r SharedStream,
}

impl<'a> ValueInput<'_, 'a> {
    pub fn decoder(&mut self) -> &mut Decoder<'a> {
        self.dec
    }

    /// A member whose formal type is the value type `T`, holding a `T` or a value of a type
    /// derived from it (see [`ValueReader::read_value`]). `T` must be known to the stream:
    /// what a handle's formal type reaches is ([`ValueFactory::register_reachable`]), and a
    /// [`ValueReader`] knows what it was given.
    pub fn read_value<T: ValueFactory>(&mut self) -> Result<Option<ValueRef<T>>, DecodeError> {
        read_ref(self.stream, self.dec)
    }

    /// A member of type `ValueBase` or of an abstract value type.
    pub fn read_value_base(
        &mut self,
        formal_id: Option<&str>,
    ) -> Result<Option<ValueRef<dyn ValueType>>, DecodeError> {
        read_base_ref(self.stream, self.dec, formal_id)
    }
}

/// A handle read from `dec`'s own stream: outside any value, into the graph of everything
/// read so far; inside a value's state, relative to that value's graph.
fn read_handle<T: ?Sized>(
    dec: &mut Decoder<'_>,
    formal: Option<&'static str>,
    include: Option<fn(&mut ValueFactories)>,
) -> Result<Option<ValueHandle<T>>, DecodeError> {
    let stream = dec.value_stream(ReadStream::registered);
    if let (Some(id), Some(include)) = (formal, include) {
        let mut s = stream.lock();
        if !s.factories.knows(id) {
            include(&mut s.factories);
        }
    }
    let Some(index) = read_checked(&stream, dec, formal, formal)? else {
        return Ok(None);
    };
    let mut s = stream.lock();
    let at = ValueRef::new(index);
    Ok(Some(if s.core.depth > 0 {
        ValueHandle::relative(at)
    } else {
        ValueHandle::new(s.freeze(), at)
    }))
}

impl<'a, T: ValueFactory> CdrDecode<'a> for Option<ValueHandle<T>> {
    /// A null value's tag.
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        read_handle(dec, Some(T::REPOSITORY_ID), Some(T::register_reachable))
    }
}

impl<'a> CdrDecode<'a> for Option<ValueHandle<dyn ValueType>> {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        read_handle(dec, None, None)
    }
}

#[doc(hidden)]
pub mod samples;

#[cfg(test)]
mod tests;
