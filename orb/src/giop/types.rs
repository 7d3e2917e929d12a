//! The small wire types GIOP message headers and bodies are made of (§15.4.2–§15.4.6):
//! response flags, reply and locate statuses, target addresses, borrowed service context lists
//! and the body of a system exception.

use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder,
    GiopVersion, ResultExt,
};
use crate::iop::{Ior, ServiceContext, ServiceId, TaggedProfile};
use std::borrow::Cow;
use std::fmt;

/// `response_flags` of a GIOP 1.2 Request (a boolean `response_expected` before 1.2).
///
/// Open: bits this ORB does not know survive a round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ResponseFlags(pub u8);

impl ResponseFlags {
    /// `SYNC_NONE` / `SYNC_WITH_TRANSPORT`: a oneway, no Reply.
    pub const NONE: ResponseFlags = ResponseFlags(0);
    /// `SYNC_WITH_SERVER`: the server replies before invoking the target.
    pub const SYNC_WITH_SERVER: ResponseFlags = ResponseFlags(1);
    /// `SYNC_WITH_TARGET`: a normal twoway request.
    pub const SYNC_WITH_TARGET: ResponseFlags = ResponseFlags(3);

    /// §15.4.2.1: the least significant bit says whether a Reply is expected at all.
    pub fn response_expected(self) -> bool {
        self.0 & 1 != 0
    }

    /// The flags GIOP 1.0/1.1's `response_expected` boolean stands for.
    pub fn from_response_expected(expected: bool) -> ResponseFlags {
        if expected {
            ResponseFlags::SYNC_WITH_TARGET
        } else {
            ResponseFlags::NONE
        }
    }
}

macro_rules! closed_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $variant:ident = $v:expr, $text:expr, $since:expr;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant = $v,)*
        }

        impl $name {
            /// The value from its wire form, if `version` defines it.
            pub fn from_wire(v: u32, version: GiopVersion) -> Option<$name> {
                match v {
                    $($v if version >= $since => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The first GIOP version that defines this value.
            pub fn since(self) -> GiopVersion {
                match self {
                    $($name::$variant => $since,)*
                }
            }

            /// The specification's name.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub(crate) fn decode_in(dec: &mut Decoder<'_>, version: GiopVersion) -> Result<$name, DecodeError> {
                let at = dec.offset();
                let v = dec.read_ulong().field($field)?;
                $name::from_wire(v, version).ok_or_else(|| {
                    DecodeError::new(DecodeErrorKind::InvalidEnum(v), at).in_field($field)
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

const V1_0: GiopVersion = GiopVersion::V1_0;
const V1_2: GiopVersion = GiopVersion::V1_2;

closed_enum!(
    /// `GIOP::ReplyStatusType` (§15.4.3.1).
    ReplyStatus, "reply_status" {
        NoException = 0, "NO_EXCEPTION", V1_0;
        UserException = 1, "USER_EXCEPTION", V1_0;
        SystemException = 2, "SYSTEM_EXCEPTION", V1_0;
        LocationForward = 3, "LOCATION_FORWARD", V1_0;
        /// Body: the IOR to use from now on.
        LocationForwardPerm = 4, "LOCATION_FORWARD_PERM", V1_2;
        /// Body: the [`AddressingDisposition`] the server wants.
        NeedsAddressingMode = 5, "NEEDS_ADDRESSING_MODE", V1_2;
    }
);

closed_enum!(
    /// `GIOP::LocateStatusType` (§15.4.6.1).
    LocateStatus, "locate_status" {
        UnknownObject = 0, "UNKNOWN_OBJECT", V1_0;
        ObjectHere = 1, "OBJECT_HERE", V1_0;
        /// Body: an IOR.
        ObjectForward = 2, "OBJECT_FORWARD", V1_0;
        ObjectForwardPerm = 3, "OBJECT_FORWARD_PERM", V1_2;
        /// Body: a [`SystemExceptionBody`].
        LocSystemException = 4, "LOC_SYSTEM_EXCEPTION", V1_2;
        /// Body: an [`AddressingDisposition`].
        LocNeedsAddressingMode = 5, "LOC_NEEDS_ADDRESSING_MODE", V1_2;
    }
);

closed_enum!(
    /// `CORBA::CompletionStatus`: how far the failed operation got.
    CompletionStatus, "completed" {
        Yes = 0, "COMPLETED_YES", V1_0;
        No = 1, "COMPLETED_NO", V1_0;
        Maybe = 2, "COMPLETED_MAYBE", V1_0;
    }
);

impl CdrEncode for ReplyStatus {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_ulong(*self as u32);
        Ok(())
    }
}

impl CdrEncode for LocateStatus {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_ulong(*self as u32);
        Ok(())
    }
}

impl CdrEncode for CompletionStatus {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_ulong(*self as u32);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for CompletionStatus {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        CompletionStatus::decode_in(dec, V1_0)
    }
}

/// `GIOP::AddressingDisposition`: which [`TargetAddress`] form a server wants (the body of a
/// `NEEDS_ADDRESSING_MODE` reply). Open, like the short it is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressingDisposition(pub i16);

impl AddressingDisposition {
    pub const KEY_ADDR: AddressingDisposition = AddressingDisposition(0);
    pub const PROFILE_ADDR: AddressingDisposition = AddressingDisposition(1);
    pub const REFERENCE_ADDR: AddressingDisposition = AddressingDisposition(2);
}

impl CdrEncode for AddressingDisposition {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_short(self.0);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for AddressingDisposition {
    const MIN_WIRE_SIZE: usize = 2;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_short().map(AddressingDisposition)
    }
}

/// `GIOP::IORAddressingInfo`: a whole IOR and which of its profiles the client used.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IorAddressingInfo {
    pub selected_profile_index: u32,
    pub ior: Ior,
}

impl CdrEncode for IorAddressingInfo {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_ulong(self.selected_profile_index);
        self.ior.encode(enc)
    }
}

impl<'a> CdrDecode<'a> for IorAddressingInfo {
    const MIN_WIRE_SIZE: usize = 4 + Ior::MIN_WIRE_SIZE;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let selected_profile_index = dec.read_ulong().field("selected_profile_index")?;
        let ior = Ior::decode(dec).field("ior")?;
        Ok(IorAddressingInfo {
            selected_profile_index,
            ior,
        })
    }
}

/// `GIOP::TargetAddress` (GIOP 1.2): the object a Request or LocateRequest is for. Before 1.2
/// the target is always an object key.
///
/// The key is borrowed from the message; the other two forms are rare (a server asks for them
/// with `NEEDS_ADDRESSING_MODE`) and are decoded into owned IOP types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetAddress<'a> {
    KeyAddr(&'a [u8]),
    ProfileAddr(TaggedProfile),
    ReferenceAddr(IorAddressingInfo),
}

impl<'a> TargetAddress<'a> {
    pub fn disposition(&self) -> AddressingDisposition {
        match self {
            TargetAddress::KeyAddr(_) => AddressingDisposition::KEY_ADDR,
            TargetAddress::ProfileAddr(_) => AddressingDisposition::PROFILE_ADDR,
            TargetAddress::ReferenceAddr(_) => AddressingDisposition::REFERENCE_ADDR,
        }
    }

    /// The object key, when the target is given as one.
    pub fn object_key(&self) -> Option<&'a [u8]> {
        match self {
            TargetAddress::KeyAddr(k) => Some(k),
            _ => None,
        }
    }
}

impl CdrEncode for TargetAddress<'_> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        self.disposition().encode(enc)?;
        match self {
            TargetAddress::KeyAddr(key) => enc.write_octet_seq(key),
            TargetAddress::ProfileAddr(p) => p.encode(enc),
            TargetAddress::ReferenceAddr(info) => info.encode(enc),
        }
    }
}

impl<'a> CdrDecode<'a> for TargetAddress<'a> {
    const MIN_WIRE_SIZE: usize = 8;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let at = dec.offset();
        let disc = AddressingDisposition(dec.read_short().field("discriminator")?);
        Ok(match disc {
            AddressingDisposition::KEY_ADDR => {
                TargetAddress::KeyAddr(dec.read_octet_seq().field("object_key")?)
            }
            AddressingDisposition::PROFILE_ADDR => {
                TargetAddress::ProfileAddr(TaggedProfile::decode(dec).field("profile")?)
            }
            AddressingDisposition::REFERENCE_ADDR => {
                TargetAddress::ReferenceAddr(IorAddressingInfo::decode(dec).field("ior")?)
            }
            AddressingDisposition(other) => {
                return Err(
                    DecodeError::new(DecodeErrorKind::InvalidEnum(other as u16 as u32), at)
                        .in_field("discriminator"),
                )
            }
        })
    }
}

/// The body of a `SYSTEM_EXCEPTION` reply (and of a `LOC_SYSTEM_EXCEPTION` locate reply):
/// §15.4.3.2 sends the repository id, the minor code and the completion status.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SystemExceptionBody<'a> {
    /// E.g. `IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0`.
    pub exception_id: Cow<'a, str>,
    pub minor: u32,
    pub completed: CompletionStatus,
}

impl CdrEncode for SystemExceptionBody<'_> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(&self.exception_id)?;
        enc.write_ulong(self.minor);
        self.completed.encode(enc)
    }
}

impl<'a> CdrDecode<'a> for SystemExceptionBody<'a> {
    const MIN_WIRE_SIZE: usize = 13;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let exception_id = dec.read_string().field("exception_id")?;
        let minor = dec.read_ulong().field("minor")?;
        let completed = CompletionStatus::decode(dec)?;
        Ok(SystemExceptionBody {
            exception_id,
            minor,
            completed,
        })
    }
}

/// One service context, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceContextRef<'a> {
    pub id: ServiceId,
    pub data: &'a [u8],
}

/// `IOP::ServiceContextList` as a view: either the octets of a received message, validated
/// once when the header was decoded and walked lazily afterwards (no allocation per request),
/// or a slice of owned contexts to send.
#[derive(Clone, Copy)]
pub struct ServiceContexts<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// `count` contexts start at `buf[start]`; alignment counts from `buf[0]`, as in every
    /// [`Decoder`], or from the GIOP 1.1 fragment they are in.
    Wire {
        buf: &'a [u8],
        fragment_starts: &'a [u32],
        start: usize,
        count: u32,
        order: ByteOrder,
    },
    Slice(&'a [ServiceContext]),
}

impl<'a> ServiceContexts<'a> {
    /// No service contexts.
    pub const EMPTY: ServiceContexts<'static> = ServiceContexts {
        repr: Repr::Slice(&[]),
    };

    pub fn from_slice(contexts: &'a [ServiceContext]) -> ServiceContexts<'a> {
        ServiceContexts {
            repr: Repr::Slice(contexts),
        }
    }

    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Wire { count, .. } => count as usize,
            Repr::Slice(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> ServiceContextIter<'a> {
        ServiceContextIter {
            inner: match self.repr {
                // Most requests carry none: no decoder to set up for them (a server looks
                // for a few contexts in every request).
                Repr::Wire { count: 0, .. } => IterRepr::Slice([].iter()),
                Repr::Wire {
                    buf,
                    fragment_starts,
                    start,
                    count,
                    order,
                } => {
                    let mut dec = Decoder::new_at(buf, start, order);
                    dec.set_fragments(fragment_starts);
                    IterRepr::Wire(dec, count)
                }
                Repr::Slice(s) => IterRepr::Slice(s.iter()),
            },
        }
    }

    /// The data of the first context with `id`. Most requests carry none, and a server looks
    /// for a few in every request: an empty list answers without an iterator's set-up.
    pub fn get(&self, id: ServiceId) -> Option<&'a [u8]> {
        if self.is_empty() {
            return None;
        }
        self.iter().find(|c| c.id == id).map(|c| c.data)
    }

    /// Owned copies, to keep beyond the message buffer.
    pub fn to_vec(&self) -> Vec<ServiceContext> {
        self.iter()
            .map(|c| ServiceContext {
                id: c.id,
                data: c.data.to_vec(),
            })
            .collect()
    }
}

impl Default for ServiceContexts<'_> {
    fn default() -> Self {
        ServiceContexts::EMPTY
    }
}

impl<'a> From<&'a [ServiceContext]> for ServiceContexts<'a> {
    fn from(s: &'a [ServiceContext]) -> Self {
        ServiceContexts::from_slice(s)
    }
}

impl<'a> From<&'a Vec<ServiceContext>> for ServiceContexts<'a> {
    fn from(s: &'a Vec<ServiceContext>) -> Self {
        ServiceContexts::from_slice(s)
    }
}

impl PartialEq for ServiceContexts<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ServiceContexts<'_> {}

impl fmt::Debug for ServiceContexts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &ServiceContexts<'a> {
    type Item = ServiceContextRef<'a>;
    type IntoIter = ServiceContextIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over [`ServiceContexts`].
pub struct ServiceContextIter<'a> {
    inner: IterRepr<'a>,
}

enum IterRepr<'a> {
    Wire(Decoder<'a>, u32),
    Slice(std::slice::Iter<'a, ServiceContext>),
}

impl<'a> Iterator for ServiceContextIter<'a> {
    type Item = ServiceContextRef<'a>;

    fn next(&mut self) -> Option<ServiceContextRef<'a>> {
        match &mut self.inner {
            IterRepr::Wire(dec, left) => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                // Validated when the list was decoded, so these reads cannot fail; if they
                // somehow did, ending the iteration is the only answer that cannot panic.
                let id = ServiceId(dec.read_ulong().ok()?);
                let data = dec.read_octet_seq().ok()?;
                Some(ServiceContextRef { id, data })
            }
            IterRepr::Slice(it) => it.next().map(|c| ServiceContextRef {
                id: c.id,
                data: &c.data,
            }),
        }
    }
}

impl CdrEncode for ServiceContexts<'_> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_length(self.len())?;
        // A list being sent is a slice (most often empty): written without an iterator's set-up.
        if let Repr::Slice(contexts) = self.repr {
            for c in contexts {
                enc.write_ulong(c.id.0);
                enc.write_octet_seq(&c.data)?;
            }
            return Ok(());
        }
        for c in self.iter() {
            enc.write_ulong(c.id.0);
            enc.write_octet_seq(c.data)?;
        }
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for ServiceContexts<'a> {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        // Each context is at least an id and a length: 8 octets.
        let count = dec.read_seq_len(8)?;
        let start = dec.position();
        for _ in 0..count {
            dec.read_ulong().field("context_id")?;
            dec.read_octet_seq().field("context_data")?;
        }
        Ok(ServiceContexts {
            repr: Repr::Wire {
                buf: dec.buffer(),
                fragment_starts: dec.fragment_starts(),
                start,
                // read_seq_len returned a value read from a ulong.
                count: count as u32,
                order: dec.order(),
            },
        })
    }
}
