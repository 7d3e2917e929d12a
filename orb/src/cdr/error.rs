//! Errors of CDR encoding and decoding.
//!
//! A decode error names what went wrong, the absolute offset in the message where it happened and
//! the path of fields being decoded (`Request.target.object_key`), so a bad peer is easy to
//! diagnose. It is boxed: errors are rare and `Result<T, DecodeError>` stays one word wide.

use super::CodeSetId;
use std::fmt;

/// What went wrong while decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before a value did.
    Truncated { needed: usize, remaining: usize },
    /// A sequence or string length that the remaining octets cannot possibly hold.
    LengthTooLarge { length: u64, remaining: usize },
    /// A bounded sequence or string longer than its bound.
    BoundExceeded { length: u64, bound: u64 },
    /// A boolean octet other than 0 or 1.
    InvalidBoolean(u8),
    /// A string whose length is 0 or whose last octet is not NUL.
    StringNotTerminated,
    /// A string or wstring holding a NUL before its end.
    EmbeddedNul,
    /// Octets that are not valid in the transmission code set.
    InvalidCharacter { codeset: CodeSetId },
    /// A code set this implementation cannot convert.
    UnsupportedCodeSet(CodeSetId),
    /// `wchar`/`wstring` in GIOP 1.0, which has no way to carry them.
    WideCharInGiop10,
    /// An enum value outside the enum's members.
    InvalidEnum(u32),
    /// A fixed-point digit or sign nibble that is not BCD.
    InvalidFixed,
    /// An encapsulation whose byte-order octet is neither 0 nor 1.
    InvalidByteOrder(u8),
    /// Octets left over after a value that must fill its buffer.
    TrailingBytes(usize),
    /// Nested encapsulations or TypeCodes deeper than we are willing to follow.
    TooDeep,
    /// A value type (§15.3.4) whose repository id no factory here knows, and that cannot be
    /// truncated to one that is known.
    UnknownValueType(String),
    /// Where a value was expected: a long that is neither a value tag, null (0) nor an
    /// indirection (0xffffffff).
    InvalidValueTag(u32),
    /// Anything else, described.
    Invalid(&'static str),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            Truncated { needed, remaining } => {
                write!(f, "needs {needed} more octets but only {remaining} remain")
            }
            LengthTooLarge { length, remaining } => write!(
                f,
                "length {length} cannot fit in the {remaining} octets that remain"
            ),
            BoundExceeded { length, bound } => {
                write!(f, "length {length} exceeds the bound {bound}")
            }
            InvalidBoolean(b) => write!(f, "boolean octet {b:#04x} is neither 0 nor 1"),
            StringNotTerminated => f.write_str("string is not NUL-terminated"),
            EmbeddedNul => f.write_str("string contains a NUL before its end"),
            InvalidCharacter { codeset } => {
                write!(f, "invalid character data for code set {codeset}")
            }
            UnsupportedCodeSet(cs) => write!(f, "unsupported code set {cs}"),
            WideCharInGiop10 => f.write_str("wchar/wstring cannot be carried by GIOP 1.0"),
            InvalidEnum(v) => write!(f, "enum value {v} is out of range"),
            InvalidFixed => f.write_str("fixed-point value is not valid packed BCD"),
            InvalidByteOrder(b) => write!(f, "byte-order octet {b:#04x} is neither 0 nor 1"),
            TrailingBytes(n) => write!(f, "{n} unexpected octets after the value"),
            TooDeep => f.write_str("nesting is too deep"),
            UnknownValueType(id) => write!(
                f,
                "value type {id} is unknown here and not truncatable to a known base: register a factory for it"
            ),
            InvalidValueTag(t) => write!(
                f,
                "{t:#010x} is not a value tag (0x7fffff00..=0x7fffffff), null (0) or indirection (0xffffffff)"
            ),
            Invalid(what) => f.write_str(what),
        }
    }
}

/// A decoding failure: what, where (absolute offset) and in which field.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError {
    inner: Box<Inner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: DecodeErrorKind,
    offset: usize,
    /// Innermost field first; `field()` pushes as the error travels outwards.
    path: Vec<&'static str>,
}

impl DecodeError {
    #[cold]
    pub fn new(kind: DecodeErrorKind, offset: usize) -> DecodeError {
        DecodeError {
            inner: Box::new(Inner {
                kind,
                offset,
                path: Vec::new(),
            }),
        }
    }

    pub fn kind(&self) -> &DecodeErrorKind {
        &self.inner.kind
    }

    /// Offset from the start of the message (or of the outermost buffer decoded).
    pub fn offset(&self) -> usize {
        self.inner.offset
    }

    /// The field path, outermost first, joined with dots (`""` when no field was named).
    pub fn path(&self) -> String {
        let mut p: Vec<&str> = self.inner.path.clone();
        p.reverse();
        p.join(".")
    }

    /// Records that the error happened while decoding `field` (called from inner to outer).
    #[cold]
    pub fn in_field(mut self, field: &'static str) -> DecodeError {
        self.inner.path.push(field);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CDR decode error at offset {}", self.inner.offset)?;
        if !self.inner.path.is_empty() {
            write!(f, " in {}", self.path())?;
        }
        write!(f, ": {}", self.inner.kind)
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for DecodeError {}

/// Adds the name of the field being decoded to an error on its way out.
pub trait ResultExt {
    fn field(self, name: &'static str) -> Self;
}

impl<T> ResultExt for Result<T, DecodeError> {
    #[inline]
    fn field(self, name: &'static str) -> Self {
        self.map_err(|e| e.in_field(name))
    }
}

/// A value that cannot be encoded (the caller passed something IDL cannot carry).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("string contains a NUL character, which CDR strings cannot carry")]
    EmbeddedNul,
    #[error("character {0:?} cannot be represented in code set {1}")]
    Unrepresentable(char, CodeSetId),
    #[error("code set {0} is not supported for encoding")]
    UnsupportedCodeSet(CodeSetId),
    #[error("wchar/wstring cannot be carried by GIOP 1.0")]
    WideCharInGiop10,
    #[error("length {length} exceeds the bound {bound}")]
    BoundExceeded { length: usize, bound: usize },
    #[error("length {0} does not fit in a CDR unsigned long")]
    TooLong(usize),
    #[error("fixed-point value {0} has more than {1} digits")]
    FixedOverflow(String, u16),
    #[error("{0}")]
    Invalid(&'static str),
}
