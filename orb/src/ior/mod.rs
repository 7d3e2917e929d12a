//! Interoperable object references (CORBA 3.0 §13.6) and object URLs (§13.6.10, the
//! Interoperable Naming Service): what a client needs to know to reach an object, read from and
//! written to the forms people and other ORBs exchange.
//!
//! - [`IiopProfile`], [`MultipleComponentProfile`]: parsed views of an [`Ior`]'s
//!   [`TaggedProfile`](crate::iop::TaggedProfile)s; [`Component`]: of tagged components.
//! - [`parse_ior_string`] / [`Ior::to_ior_string`]: `IOR:` + hex.
//! - [`Corbaloc`], [`Corbaname`]: `corbaloc:` and `corbaname:` URLs; [`parse_object_url`]
//!   takes any of the three forms.
//! - [`describe`]: the text omniORB's `catior` prints, for diagnostics; [`describe_url`]: of
//!   any reference text.
//!
//! The raw wire types stay in [`crate::iop`]: an IOR keeps its profiles and components as
//! octets, so whatever this module does not understand survives a round trip byte for byte.
//! This module is pure: it never does I/O, never resolves names, never panics on input, and
//! never allocates more than its input justifies. Every parse entry point is meant to be fed
//! arbitrary bytes by a fuzzer.

mod component;
mod describe;
mod error;
mod profile;
mod stringified;
mod url;

#[cfg(test)]
mod tests;

pub(crate) use component::open_encapsulation;
pub use component::{
    CodeSetComponent, CodeSetComponentInfo, Component, SslSecTrans, OMNIORB_ORB_TYPE,
};
pub use describe::{describe, describe_url, DescribeOptions};
pub use error::IorError;
pub use profile::{IiopProfile, MultipleComponentProfile, UiopProfile};
pub use stringified::{
    decode_ior_encapsulation, encode_ior_encapsulation, ior_string_octets, parse_ior_string,
};
pub use url::{
    escape, format_string_name, is_unreserved, parse_string_name, unescape_key, Corbaloc,
    Corbaname, IiopAddr, ObjAddr, DEFAULT_IIOP_PORT, DEFAULT_NAMING_KEY,
};

pub use crate::iop::Ior;

/// Any of the strings `ORB::string_to_object` accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectUrl {
    Ior(Ior),
    Corbaloc(Corbaloc),
    Corbaname(Corbaname),
}

/// Parses an `IOR:`, `corbaloc:` or `corbaname:` string, choosing by its scheme (in any case).
pub fn parse_object_url(s: &str) -> Result<ObjectUrl, IorError> {
    let scheme = s.split(':').next().unwrap_or("");
    if scheme.eq_ignore_ascii_case("IOR") {
        parse_ior_string(s).map(ObjectUrl::Ior)
    } else if scheme.eq_ignore_ascii_case("corbaloc") {
        Corbaloc::parse(s).map(ObjectUrl::Corbaloc)
    } else if scheme.eq_ignore_ascii_case("corbaname") {
        Corbaname::parse(s).map(ObjectUrl::Corbaname)
    } else {
        Err(IorError::UnknownScheme {
            expected: "\"IOR:\", \"corbaloc:\" or \"corbaname:\"",
        })
    }
}

impl std::str::FromStr for ObjectUrl {
    type Err = IorError;
    fn from_str(s: &str) -> Result<ObjectUrl, IorError> {
        parse_object_url(s)
    }
}
