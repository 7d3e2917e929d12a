//! The one error type of [`crate::ior`]: what went wrong and where.
//!
//! Text input (stringified IORs, `corbaloc:`/`corbaname:` URLs) is located by *character
//! position*: the 0-based index, in characters, of the offending character in the string the
//! caller passed. Octet input is located by the CDR [`DecodeError`]'s offset and field path; when
//! those octets came from a stringified IOR the character position of the first hex digit of the
//! offending octet is given as well.

use crate::cdr::{DecodeError, EncodeError};
use crate::iop::{ComponentId, ProfileId};

/// Why an IOR, profile, component or object URL could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IorError {
    /// The string does not start with a scheme this parser accepts.
    #[error("expected {expected} at character 0")]
    UnknownScheme { expected: &'static str },
    /// A character in the hex part of a stringified IOR that is not a hex digit.
    #[error("invalid hex digit {found:?} at character {position}")]
    InvalidHexDigit { found: char, position: usize },
    /// An odd number of hex digits: the last one has no partner to make an octet with.
    #[error("odd number of hex digits: the digit at character {position} has no partner")]
    OddHexLength { position: usize },
    /// A syntax error in a `corbaloc:` or `corbaname:` URL.
    #[error("{what} at character {position}")]
    Syntax { what: &'static str, position: usize },
    /// The octets are not valid CDR for what they should hold.
    #[error("{source}{}", at_char(.position))]
    Cdr {
        source: DecodeError,
        /// Where the offending octet's hex digits start, when decoding a stringified IOR.
        position: Option<usize>,
    },
    /// A value that cannot be written as CDR (a NUL in a host name, say).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A profile handed to the decoder of another kind of profile.
    #[error("expected a {expected} profile, found {found}")]
    WrongProfileTag {
        expected: ProfileId,
        found: ProfileId,
    },
    /// A component handed to the decoder of another kind of component.
    #[error("expected a {expected} component, found {found}")]
    WrongComponentTag {
        expected: ComponentId,
        found: ComponentId,
    },
    /// A `corbaloc:` URL without an IIOP address cannot become an IOR.
    #[error("the corbaloc URL has no iiop address to build an IOR from")]
    NoIiopAddress,
    /// `rir:` names an initial reference of the local ORB: it has no network address.
    #[error("a corbaloc:rir: URL must be resolved with resolve_initial_references")]
    RirHasNoAddress,
}

fn at_char(position: &Option<usize>) -> String {
    match position {
        Some(p) => format!(" (hex digits at character {p})"),
        None => String::new(),
    }
}

impl IorError {
    /// The character position, for errors found in text.
    pub fn position(&self) -> Option<usize> {
        match self {
            IorError::UnknownScheme { .. } => Some(0),
            IorError::InvalidHexDigit { position, .. }
            | IorError::OddHexLength { position }
            | IorError::Syntax { position, .. } => Some(*position),
            IorError::Cdr { position, .. } => *position,
            _ => None,
        }
    }

    /// The CDR error, for errors found in octets.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match self {
            IorError::Cdr { source, .. } => Some(source),
            _ => None,
        }
    }

    #[cold]
    pub(crate) fn syntax(what: &'static str, input: &str, byte_index: usize) -> IorError {
        IorError::Syntax {
            what,
            position: char_position(input, byte_index),
        }
    }
}

impl From<DecodeError> for IorError {
    fn from(source: DecodeError) -> IorError {
        IorError::Cdr {
            source,
            position: None,
        }
    }
}

/// The character index of byte `byte_index` of `input` (they differ once non-ASCII text precedes).
pub(crate) fn char_position(input: &str, byte_index: usize) -> usize {
    let mut i = byte_index.min(input.len());
    while !input.is_char_boundary(i) {
        i -= 1;
    }
    input[..i].chars().count()
}
