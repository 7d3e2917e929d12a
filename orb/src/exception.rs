//! CORBA exceptions as Rust values: the standard system exceptions (CORBA 3.0 §4.12.3) and the
//! trait every IDL-defined (user) exception implements.
//!
//! A [`SystemException`] is what an operation fails with when the ORB, not the application,
//! says no: its kind says what the caller should do (retry on `TRANSIENT`, give up on
//! `OBJECT_NOT_EXIST`, ...), its completion status how far the operation got. On the wire it
//! is a [`SystemExceptionBody`]. Minor codes follow omniORB's where omniORB has one for the
//! same condition, so logs read the same on both sides of an interoperability test.
//!
//! This module is pure data and conversions: no I/O, no panics.

use crate::cdr::{CdrEncode, DecodeError, DecodeErrorKind, EncodeError};
use crate::giop::{CompletionStatus, SystemExceptionBody};
use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

macro_rules! system_exceptions {
    ($($variant:ident = $name:literal,)*) => {
        /// Which standard system exception: `CORBA::BAD_PARAM`, `CORBA::MARSHAL`, ...
        ///
        /// Closed over the standard set: CORBA 3.0 §4.12.4 says a system exception a client
        /// does not know is to be raised as `UNKNOWN`, which [`SystemException::from`] a
        /// [`SystemExceptionBody`] does (keeping minor code and completion status).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types)] // the specification's names, as every ORB spells them
        #[non_exhaustive]
        pub enum SystemExceptionKind {
            $($variant,)*
        }

        impl SystemExceptionKind {
            /// Every standard system exception, in the specification's order.
            pub const ALL: &'static [SystemExceptionKind] = &[$(SystemExceptionKind::$variant,)*];

            /// The IDL name, `BAD_PARAM`.
            pub fn name(self) -> &'static str {
                match self {
                    $(SystemExceptionKind::$variant => $name,)*
                }
            }

            /// The repository id, `IDL:omg.org/CORBA/BAD_PARAM:1.0`.
            pub fn repository_id(self) -> &'static str {
                match self {
                    $(SystemExceptionKind::$variant => concat!("IDL:omg.org/CORBA/", $name, ":1.0"),)*
                }
            }

            /// The kind with this repository id, if it is a standard one.
            pub fn from_repository_id(id: &str) -> Option<SystemExceptionKind> {
                match id {
                    $(concat!("IDL:omg.org/CORBA/", $name, ":1.0") => Some(SystemExceptionKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

system_exceptions! {
    UNKNOWN = "UNKNOWN",
    BAD_PARAM = "BAD_PARAM",
    NO_MEMORY = "NO_MEMORY",
    IMP_LIMIT = "IMP_LIMIT",
    COMM_FAILURE = "COMM_FAILURE",
    INV_OBJREF = "INV_OBJREF",
    NO_PERMISSION = "NO_PERMISSION",
    INTERNAL = "INTERNAL",
    MARSHAL = "MARSHAL",
    INITIALIZE = "INITIALIZE",
    NO_IMPLEMENT = "NO_IMPLEMENT",
    BAD_TYPECODE = "BAD_TYPECODE",
    BAD_OPERATION = "BAD_OPERATION",
    NO_RESOURCES = "NO_RESOURCES",
    NO_RESPONSE = "NO_RESPONSE",
    PERSIST_STORE = "PERSIST_STORE",
    BAD_INV_ORDER = "BAD_INV_ORDER",
    TRANSIENT = "TRANSIENT",
    FREE_MEM = "FREE_MEM",
    INV_IDENT = "INV_IDENT",
    INV_FLAG = "INV_FLAG",
    INTF_REPOS = "INTF_REPOS",
    BAD_CONTEXT = "BAD_CONTEXT",
    OBJ_ADAPTER = "OBJ_ADAPTER",
    DATA_CONVERSION = "DATA_CONVERSION",
    OBJECT_NOT_EXIST = "OBJECT_NOT_EXIST",
    TRANSACTION_REQUIRED = "TRANSACTION_REQUIRED",
    TRANSACTION_ROLLEDBACK = "TRANSACTION_ROLLEDBACK",
    INVALID_TRANSACTION = "INVALID_TRANSACTION",
    INV_POLICY = "INV_POLICY",
    CODESET_INCOMPATIBLE = "CODESET_INCOMPATIBLE",
    REBIND = "REBIND",
    TIMEOUT = "TIMEOUT",
    TRANSACTION_UNAVAILABLE = "TRANSACTION_UNAVAILABLE",
    TRANSACTION_MODE = "TRANSACTION_MODE",
    BAD_QOS = "BAD_QOS",
    INVALID_ACTIVITY = "INVALID_ACTIVITY",
    ACTIVITY_COMPLETED = "ACTIVITY_COMPLETED",
    ACTIVITY_REQUIRED = "ACTIVITY_REQUIRED",
}

impl fmt::Display for SystemExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Minor codes: the OMG's standard ones (vendor id `OMG\0`) and omniORB's (`AT\0\0`), which we
/// reuse for the same conditions so that both ORBs report a failure alike.
pub mod minor {
    /// The OMG's vendor minor code id, `0x4f4d0000`.
    pub const OMG_VMCID: u32 = 0x4f4d_0000;
    /// omniORB's vendor minor code id, `0x41540000`.
    pub const OMNIORB_VMCID: u32 = 0x4154_0000;

    /// BAD_OPERATION: the target has no operation or attribute of that name
    /// (omniORB's `BAD_OPERATION_UnRecognisedOperationName`).
    pub const BAD_OPERATION_UNKNOWN_OPERATION: u32 = OMNIORB_VMCID | 38;
    /// MARSHAL: the request or reply ended before a value did (`MARSHAL_PassEndOfMessage`).
    pub const MARSHAL_PASS_END_OF_MESSAGE: u32 = OMNIORB_VMCID | 10;
    /// MARSHAL: a sequence longer than its bound or than the message (`MARSHAL_SequenceIsTooLong`).
    pub const MARSHAL_SEQUENCE_TOO_LONG: u32 = OMNIORB_VMCID | 18;
    /// MARSHAL: a string without its terminating NUL (`MARSHAL_StringNotEndWithNull`).
    pub const MARSHAL_STRING_NOT_END_WITH_NULL: u32 = OMNIORB_VMCID | 22;
    /// MARSHAL: an enum value out of range (`MARSHAL_InvalidEnumValue`).
    pub const MARSHAL_INVALID_ENUM_VALUE: u32 = OMNIORB_VMCID | 26;
    /// MARSHAL: a fixed-point value that is not packed BCD (`MARSHAL_InvalidFixedValue`).
    pub const MARSHAL_INVALID_FIXED_VALUE: u32 = OMNIORB_VMCID | 42;
    /// MARSHAL: wide characters sent over GIOP 1.0 (OMG standard minor 6, omniORB's
    /// `MARSHAL_WCharSentByGIOP10Server`).
    pub const MARSHAL_WCHAR_IN_GIOP_1_0: u32 = OMG_VMCID | 6;
    /// MARSHAL: a GIOP 1.0 client asked to send wide characters, which that version cannot
    /// carry (OMG standard minor 5, omniORB's `MARSHAL_WCharSentByGIOP10Client`); the request
    /// is not sent.
    pub const MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT: u32 = OMG_VMCID | 5;
    /// MARSHAL: a value type no factory here can build, nor truncate to a known base (OMG
    /// standard minor 1, omniORB's `MARSHAL_NoValueFactory`).
    pub const MARSHAL_NO_VALUE_FACTORY: u32 = OMG_VMCID | 1;
    /// MARSHAL: a message longer than CDR can describe (`MARSHAL_MessageTooLong`).
    pub const MARSHAL_MESSAGE_TOO_LONG: u32 = OMNIORB_VMCID | 93;
    /// BAD_PARAM: a string longer than its bound (`BAD_PARAM_StringIsTooLong`).
    pub const BAD_PARAM_STRING_TOO_LONG: u32 = OMNIORB_VMCID | 100;
    /// BAD_PARAM: a sequence longer than its bound (`BAD_PARAM_SequenceIsTooLong`).
    pub const BAD_PARAM_SEQUENCE_TOO_LONG: u32 = OMNIORB_VMCID | 101;
    /// BAD_PARAM: a union whose discriminator selects another member
    /// (`BAD_PARAM_WrongUnionMemberSelected`).
    pub const BAD_PARAM_WRONG_UNION_MEMBER: u32 = OMNIORB_VMCID | 107;
    /// BAD_PARAM: a fixed-point value that does not fit its type
    /// (`BAD_PARAM_InvalidFixedPointLimits`).
    pub const BAD_PARAM_INVALID_FIXED_LIMITS: u32 = OMNIORB_VMCID | 109;
    /// DATA_CONVERSION: a character the transmission code set cannot carry (OMG minor 1).
    pub const DATA_CONVERSION_CHAR: u32 = OMG_VMCID | 1;
    /// UNKNOWN: the server raised a user exception the operation does not declare
    /// (`UNKNOWN_UserException`).
    pub const UNKNOWN_USER_EXCEPTION: u32 = OMG_VMCID | 1;
    /// OBJECT_NOT_EXIST: the object key names no object of this server (`_NoMatch`).
    pub const OBJECT_NOT_EXIST_NO_MATCH: u32 = OMG_VMCID | 1;
    /// INV_OBJREF: an invocation on a nil reference (`_InvokeOnNilObjRef`).
    pub const INV_OBJREF_NIL: u32 = OMNIORB_VMCID | 48;
    /// TRANSIENT: the IOR has no profile this ORB can use (`_NoUsableProfile`).
    pub const TRANSIENT_NO_USABLE_PROFILE: u32 = OMG_VMCID | 2;
    /// TRANSIENT: too many LOCATION_FORWARDs in a row (`_FailedOnForwarded`).
    pub const TRANSIENT_FAILED_ON_FORWARDED: u32 = OMNIORB_VMCID | 1;
    /// TRANSIENT: connecting to the server failed (`_ConnectFailed`).
    pub const TRANSIENT_CONNECT_FAILED: u32 = OMNIORB_VMCID | 2;
    /// TRANSIENT: the connection closed before the request could have run
    /// (`_ConnectionClosed`).
    pub const TRANSIENT_CONNECTION_CLOSED: u32 = OMNIORB_VMCID | 17;
    /// COMM_FAILURE: the connection broke after the request was sent (`_WaitingForReply`).
    pub const COMM_FAILURE_WAITING_FOR_REPLY: u32 = OMNIORB_VMCID | 7;
    /// COMM_FAILURE: results that do not decode (`_UnMarshalResults`).
    pub const COMM_FAILURE_UNMARSHAL_RESULTS: u32 = OMNIORB_VMCID | 6;
    /// TIMEOUT: no reply within the request timeout (`_CallTimedOutOnClient`).
    pub const TIMEOUT_CALL_TIMED_OUT: u32 = OMNIORB_VMCID | 8;
    /// MARSHAL: a reply over the client's maximum message size
    /// (`_MessageSizeExceedLimitOnClient`).
    pub const MARSHAL_MESSAGE_SIZE_EXCEED_LIMIT_ON_CLIENT: u32 = OMNIORB_VMCID | 11;
    /// BAD_INV_ORDER: the ORB has been shut down (`_ORBHasShutdown`).
    pub const BAD_INV_ORDER_ORB_HAS_SHUTDOWN: u32 = OMG_VMCID | 4;

    /// The name of a minor code of `kind` that this ORB raises: omniORB's name (without the
    /// kind's prefix) for the codes it shares with omniORB, so that a log reads like
    /// omniORB's. Minor codes are per kind (OMG minor 1 means something else for each).
    pub fn name(kind: super::SystemExceptionKind, minor: u32) -> Option<&'static str> {
        use super::SystemExceptionKind as K;
        Some(match (kind, minor) {
            (K::BAD_OPERATION, BAD_OPERATION_UNKNOWN_OPERATION) => "UnRecognisedOperationName",
            (K::MARSHAL, MARSHAL_PASS_END_OF_MESSAGE) => "PassEndOfMessage",
            (K::MARSHAL, MARSHAL_SEQUENCE_TOO_LONG) => "SequenceIsTooLong",
            (K::MARSHAL, MARSHAL_STRING_NOT_END_WITH_NULL) => "StringNotEndWithNull",
            (K::MARSHAL, MARSHAL_INVALID_ENUM_VALUE) => "InvalidEnumValue",
            (K::MARSHAL, MARSHAL_INVALID_FIXED_VALUE) => "InvalidFixedValue",
            (K::MARSHAL, MARSHAL_WCHAR_IN_GIOP_1_0) => "WCharSentByGIOP10Server",
            (K::MARSHAL, MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT) => "WCharSentByGIOP10Client",
            (K::MARSHAL, MARSHAL_MESSAGE_TOO_LONG) => "MessageTooLong",
            (K::MARSHAL, MARSHAL_NO_VALUE_FACTORY) => "NoValueFactory",
            (K::MARSHAL, MARSHAL_MESSAGE_SIZE_EXCEED_LIMIT_ON_CLIENT) => {
                "MessageSizeExceedLimitOnClient"
            }
            (K::BAD_PARAM, BAD_PARAM_STRING_TOO_LONG) => "StringIsTooLong",
            (K::BAD_PARAM, BAD_PARAM_SEQUENCE_TOO_LONG) => "SequenceIsTooLong",
            (K::BAD_PARAM, BAD_PARAM_WRONG_UNION_MEMBER) => "WrongUnionMemberSelected",
            (K::BAD_PARAM, BAD_PARAM_INVALID_FIXED_LIMITS) => "InvalidFixedPointLimits",
            (K::DATA_CONVERSION, DATA_CONVERSION_CHAR) => "CannotMapChar",
            (K::UNKNOWN, UNKNOWN_USER_EXCEPTION) => "UserException",
            (K::OBJECT_NOT_EXIST, OBJECT_NOT_EXIST_NO_MATCH) => "NoMatch",
            (K::INV_OBJREF, INV_OBJREF_NIL) => "InvokeOnNilObjRef",
            (K::TRANSIENT, TRANSIENT_NO_USABLE_PROFILE) => "NoUsableProfile",
            (K::TRANSIENT, TRANSIENT_FAILED_ON_FORWARDED) => "FailedOnForwarded",
            (K::TRANSIENT, TRANSIENT_CONNECT_FAILED) => "ConnectFailed",
            (K::TRANSIENT, TRANSIENT_CONNECTION_CLOSED) => "ConnectionClosed",
            (K::COMM_FAILURE, COMM_FAILURE_WAITING_FOR_REPLY) => "WaitingForReply",
            (K::COMM_FAILURE, COMM_FAILURE_UNMARSHAL_RESULTS) => "UnMarshalResults",
            (K::TIMEOUT, TIMEOUT_CALL_TIMED_OUT) => "CallTimedOutOnClient",
            (K::BAD_INV_ORDER, BAD_INV_ORDER_ORB_HAS_SHUTDOWN) => "ORBHasShutdown",
            _ => return None,
        })
    }
}

/// A standard CORBA system exception: kind, minor code and completion status, and — when the
/// ORB knows it — the address of the peer it came from or could not reach.
///
/// Its `Display` is written for the person reading a log: the minor code's name where it is
/// one of ours (omniORB's names for omniORB's codes), and a hint of what to check:
/// `TRANSIENT (minor ConnectFailed 0x41540002, COMPLETED_NO): nothing listens at
/// 127.0.0.1:2809 — is the server running?`.
///
/// Equality and hashing look at kind, minor code and completion status only: the peer is
/// context, not identity (the same failure from two replicas is the same failure).
#[derive(Clone, Copy, Debug)]
pub struct SystemException {
    pub kind: SystemExceptionKind,
    pub minor: u32,
    pub completed: CompletionStatus,
    peer: Option<SocketAddr>,
    cause: Cause,
}

/// What the ORB saw beyond the minor code, when that changes the advice (a refused
/// connection and one that timed out are both `TRANSIENT_ConnectFailed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// Nothing more is known.
    Unknown,
    /// The peer refused the connection: nothing listens there.
    ConnectionRefused,
    /// The connection attempt got no answer within the connect timeout.
    ConnectTimedOut,
}

impl PartialEq for SystemException {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, self.minor, self.completed) == (other.kind, other.minor, other.completed)
    }
}

impl Eq for SystemException {}

impl std::hash::Hash for SystemException {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.kind, self.minor, self.completed).hash(state)
    }
}

impl std::error::Error for SystemException {}

impl fmt::Display for SystemException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (minor ", self.kind)?;
        if let Some(name) = minor::name(self.kind, self.minor) {
            write!(f, "{name} ")?;
        }
        write!(f, "{:#010x}, {})", self.minor, self.completed)?;
        match self.hint() {
            Some(hint) => write!(f, ": {hint}"),
            None => Ok(()),
        }
    }
}

/// Where a hint names the peer: its address, or words for it when the ORB does not know it.
struct Peer(Option<SocketAddr>);

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("the server's address"),
        }
    }
}

impl SystemException {
    fn write_hint(&self, f: &mut String) -> fmt::Result {
        use fmt::Write;
        use SystemExceptionKind as K;
        let e = self;
        let peer = Peer(e.peer);
        match (e.kind, e.minor) {
            (K::TRANSIENT, minor::TRANSIENT_CONNECT_FAILED) => match e.cause {
                Cause::ConnectTimedOut => write!(
                    f,
                    "no answer from {peer} within the connect timeout \
                     (-ORBclientConnectTimeOutPeriod) — is the host reachable?"
                ),
                _ => write!(f, "nothing listens at {peer} — is the server running?"),
            },
            (K::TRANSIENT, minor::TRANSIENT_CONNECTION_CLOSED) => write!(
                f,
                "the connection to {peer} closed before the request could run — \
                 is the server restarting or shutting down?"
            ),
            (K::TRANSIENT, minor::TRANSIENT_NO_USABLE_PROFILE) => {
                f.write_str("the reference has no address this ORB can use (no IIOP profile)")
            }
            (K::TRANSIENT, minor::TRANSIENT_FAILED_ON_FORWARDED) => {
                f.write_str("LOCATION_FORWARD replies went round in a loop")
            }
            (K::COMM_FAILURE, minor::COMM_FAILURE_WAITING_FOR_REPLY) => write!(
                f,
                "the connection to {peer} broke while waiting for the reply; \
                 the operation may or may not have run"
            ),
            (K::TIMEOUT, minor::TIMEOUT_CALL_TIMED_OUT) => write!(
                f,
                "no reply from {peer} within the call timeout; the operation may still \
                 run there (raise it with -ORBclientCallTimeOutPeriod MS or \
                 ObjectRef::with_timeout)"
            ),
            (K::OBJECT_NOT_EXIST, _) => f.write_str(
                "the server does not know this object: deactivated, or a stale reference \
                 from an earlier run of a server without persistent references",
            ),
            (K::BAD_OPERATION, minor::BAD_OPERATION_UNKNOWN_OPERATION) => f.write_str(
                "the object has no operation of that name — do client and server use the \
                 same IDL, and is the reference of the type you think?",
            ),
            (K::INV_OBJREF, minor::INV_OBJREF_NIL) => f.write_str("the reference is nil"),
            (K::BAD_INV_ORDER, minor::BAD_INV_ORDER_ORB_HAS_SHUTDOWN) => {
                f.write_str("the ORB has been shut down")
            }
            (K::UNKNOWN, minor::UNKNOWN_USER_EXCEPTION) => f.write_str(
                "the server raised a user exception the operation does not declare \
                 (different IDL on the two sides?)",
            ),
            _ => match e.peer {
                Some(a) => write!(f, "from {a}"),
                None => Ok(()),
            },
        }
    }
}

impl SystemException {
    pub const fn new(kind: SystemExceptionKind, minor: u32, completed: CompletionStatus) -> Self {
        SystemException {
            kind,
            minor,
            completed,
            peer: None,
            cause: Cause::Unknown,
        }
    }

    /// The same exception, saying which peer it came from or could not reach.
    pub const fn with_peer(self, peer: SocketAddr) -> Self {
        SystemException {
            peer: Some(peer),
            ..self
        }
    }

    /// The same exception, with what the ORB saw beyond the minor code.
    pub const fn with_cause(self, cause: Cause) -> Self {
        SystemException { cause, ..self }
    }

    /// The peer the exception came from or could not reach, when the ORB knows it.
    pub const fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// What the ORB saw beyond the minor code.
    pub const fn cause(&self) -> Cause {
        self.cause
    }

    /// The minor code's name, where it is one the ORB knows (`ConnectFailed`).
    pub fn minor_name(&self) -> Option<&'static str> {
        minor::name(self.kind, self.minor)
    }

    /// Advice for the reader (what `Display` shows after the colon), if the ORB has some.
    pub fn hint(&self) -> Option<String> {
        let mut hint = String::new();
        self.write_hint(&mut hint).ok()?;
        (!hint.is_empty()).then_some(hint)
    }

    /// `BAD_OPERATION`, completed NO: what a skeleton answers for an operation name its
    /// interface does not have.
    pub const fn bad_operation() -> Self {
        SystemException::new(
            SystemExceptionKind::BAD_OPERATION,
            minor::BAD_OPERATION_UNKNOWN_OPERATION,
            CompletionStatus::No,
        )
    }

    /// `NO_IMPLEMENT`, completed NO.
    pub const fn no_implement() -> Self {
        SystemException::new(SystemExceptionKind::NO_IMPLEMENT, 0, CompletionStatus::No)
    }

    /// The same exception with another completion status: a skeleton marks failures that
    /// happen after the servant ran as completed YES.
    pub const fn completed(self, completed: CompletionStatus) -> Self {
        SystemException { completed, ..self }
    }

    pub fn repository_id(&self) -> &'static str {
        self.kind.repository_id()
    }

    /// The wire form, for a `SYSTEM_EXCEPTION` reply body.
    pub fn to_body(&self) -> SystemExceptionBody<'static> {
        SystemExceptionBody {
            exception_id: Cow::Borrowed(self.kind.repository_id()),
            minor: self.minor,
            completed: self.completed,
        }
    }
}

impl From<SystemExceptionBody<'_>> for SystemException {
    /// A repository id that is not a standard system exception becomes `UNKNOWN` (CORBA 3.0
    /// §4.12.4), minor code and completion status kept.
    fn from(body: SystemExceptionBody<'_>) -> Self {
        let kind = SystemExceptionKind::from_repository_id(&body.exception_id)
            .unwrap_or(SystemExceptionKind::UNKNOWN);
        SystemException::new(kind, body.minor, body.completed)
    }
}

impl From<&SystemException> for SystemExceptionBody<'static> {
    fn from(e: &SystemException) -> Self {
        e.to_body()
    }
}

impl From<SystemException> for SystemExceptionBody<'static> {
    fn from(e: SystemException) -> Self {
        e.to_body()
    }
}

impl From<DecodeError> for SystemException {
    /// Input that does not decode is `MARSHAL`, completed NO: nothing ran yet.
    fn from(e: DecodeError) -> Self {
        use DecodeErrorKind as K;
        let minor = match e.kind() {
            K::Truncated { .. } => minor::MARSHAL_PASS_END_OF_MESSAGE,
            K::LengthTooLarge { .. } | K::BoundExceeded { .. } => minor::MARSHAL_SEQUENCE_TOO_LONG,
            K::StringNotTerminated => minor::MARSHAL_STRING_NOT_END_WITH_NULL,
            K::InvalidEnum(_) => minor::MARSHAL_INVALID_ENUM_VALUE,
            K::UnknownValueType(_) => minor::MARSHAL_NO_VALUE_FACTORY,
            K::InvalidFixed => minor::MARSHAL_INVALID_FIXED_VALUE,
            K::WideCharInGiop10 => minor::MARSHAL_WCHAR_IN_GIOP_1_0,
            _ => 0,
        };
        SystemException::new(SystemExceptionKind::MARSHAL, minor, CompletionStatus::No)
    }
}

impl From<EncodeError> for SystemException {
    /// A value IDL cannot carry is the caller's `BAD_PARAM` (or `DATA_CONVERSION` for a
    /// character the code set lacks); a limit of CDR or GIOP itself is `MARSHAL`. Completed NO,
    /// as for arguments a client could not send; a skeleton that fails to encode a reply marks
    /// it completed YES with [`SystemException::completed`].
    fn from(e: EncodeError) -> Self {
        use SystemExceptionKind as K;
        let (kind, minor) = match e {
            EncodeError::BoundExceeded { .. } => (K::BAD_PARAM, minor::BAD_PARAM_SEQUENCE_TOO_LONG),
            EncodeError::FixedOverflow(..) => (K::BAD_PARAM, minor::BAD_PARAM_INVALID_FIXED_LIMITS),
            EncodeError::Unrepresentable(..) => (K::DATA_CONVERSION, minor::DATA_CONVERSION_CHAR),
            EncodeError::EmbeddedNul | EncodeError::Invalid(_) => (K::BAD_PARAM, 0),
            EncodeError::WideCharInGiop10 => (K::MARSHAL, minor::MARSHAL_WCHAR_IN_GIOP_1_0),
            EncodeError::TooLong(_) => (K::MARSHAL, minor::MARSHAL_MESSAGE_TOO_LONG),
            EncodeError::UnsupportedCodeSet(_) => (K::MARSHAL, 0),
        };
        SystemException::new(kind, minor, CompletionStatus::No)
    }
}

/// An exception defined in IDL. On the wire (the body of a `USER_EXCEPTION` reply, CORBA 3.0
/// §15.4.3.2) it is its repository id followed by its members: that is what its
/// [`CdrEncode`] impl writes, and what its `CdrDecode` impl reads (checking the id).
pub trait UserException: CdrEncode + fmt::Debug + Send + Sync + 'static {
    /// `IDL:omg.org/CosNaming/NamingContext/NotFound:1.0`.
    fn repository_id(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdr::{decode_from_slice, encode_to_vec, ByteOrder, Decoder};

    #[test]
    fn repository_ids_round_trip_for_every_kind() {
        assert_eq!(SystemExceptionKind::ALL.len(), 39);
        for &k in SystemExceptionKind::ALL {
            assert_eq!(
                k.repository_id(),
                format!("IDL:omg.org/CORBA/{}:1.0", k.name())
            );
            assert_eq!(
                SystemExceptionKind::from_repository_id(k.repository_id()),
                Some(k)
            );
        }
        assert_eq!(
            SystemExceptionKind::BAD_PARAM.repository_id(),
            "IDL:omg.org/CORBA/BAD_PARAM:1.0"
        );
    }

    #[test]
    fn body_round_trip_and_unknown_ids_become_unknown() {
        let e = SystemException::new(
            SystemExceptionKind::OBJECT_NOT_EXIST,
            minor::OMG_VMCID | 2,
            CompletionStatus::Maybe,
        );
        let bytes = encode_to_vec(&e.to_body(), ByteOrder::BigEndian).unwrap();
        let body: SystemExceptionBody<'_> =
            decode_from_slice(&bytes, ByteOrder::BigEndian).unwrap();
        assert_eq!(SystemException::from(body), e);

        let vendor = SystemExceptionBody {
            exception_id: "IDL:example.com/Vendor/OOPS:1.0".into(),
            minor: 7,
            completed: CompletionStatus::Yes,
        };
        let got = SystemException::from(vendor);
        assert_eq!(got.kind, SystemExceptionKind::UNKNOWN);
        assert_eq!((got.minor, got.completed), (7, CompletionStatus::Yes));
    }

    #[test]
    fn decode_errors_are_marshal_completed_no() {
        let mut dec = Decoder::new(&[0, 0], ByteOrder::BigEndian);
        let err = dec.read_ulong().unwrap_err();
        let e = SystemException::from(err);
        assert_eq!(e.kind, SystemExceptionKind::MARSHAL);
        assert_eq!(e.minor, minor::MARSHAL_PASS_END_OF_MESSAGE);
        assert_eq!(e.completed, CompletionStatus::No);
    }

    #[test]
    fn encode_errors_are_bad_param_or_marshal() {
        let bound = SystemException::from(EncodeError::BoundExceeded {
            length: 3,
            bound: 2,
        });
        assert_eq!(bound.kind, SystemExceptionKind::BAD_PARAM);
        assert_eq!(
            SystemException::from(EncodeError::TooLong(usize::MAX)).kind,
            SystemExceptionKind::MARSHAL
        );
    }

    #[test]
    fn display_names_kind_minor_and_completion() {
        let s = SystemException::bad_operation().to_string();
        assert!(
            s.starts_with(
                "BAD_OPERATION (minor UnRecognisedOperationName 0x41540026, COMPLETED_NO): "
            ),
            "{s}"
        );
        let odd = SystemException::new(
            SystemExceptionKind::NO_RESOURCES,
            7,
            CompletionStatus::Maybe,
        );
        assert_eq!(
            odd.to_string(),
            "NO_RESOURCES (minor 0x00000007, COMPLETED_MAYBE)"
        );
    }

    #[test]
    fn display_names_the_peer_and_says_what_to_check() {
        let peer: SocketAddr = "127.0.0.1:2809".parse().unwrap();
        let e = SystemException::new(
            SystemExceptionKind::TRANSIENT,
            minor::TRANSIENT_CONNECT_FAILED,
            CompletionStatus::No,
        )
        .with_peer(peer);
        assert_eq!(
            e.to_string(),
            "TRANSIENT (minor ConnectFailed 0x41540002, COMPLETED_NO): nothing listens at \
             127.0.0.1:2809 — is the server running?"
        );
        let slow = e.with_cause(Cause::ConnectTimedOut).to_string();
        assert!(
            slow.contains("no answer from 127.0.0.1:2809 within the connect timeout"),
            "{slow}"
        );
        // The peer is context: the same failure from anywhere compares equal.
        assert_eq!(e, e.with_peer("10.0.0.1:1".parse().unwrap()));
        let other =
            SystemException::new(SystemExceptionKind::NO_RESOURCES, 7, CompletionStatus::No)
                .with_peer(peer);
        assert!(
            other
                .to_string()
                .ends_with("COMPLETED_NO): from 127.0.0.1:2809"),
            "{other}"
        );
    }
}
