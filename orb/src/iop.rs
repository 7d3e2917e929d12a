//! The IOP module's wire types (CORBA 3.0 §13.6): IORs as sequences of tagged profiles, tagged
//! components and service contexts, kept opaque here.
//!
//! They sit below [`crate::giop`] because GIOP messages carry them (a forwarded IOR, a
//! `TargetAddress`, service contexts) and above [`crate::cdr`]. Interpreting a profile's octets
//! (IIOP hosts and ports, components) is [`crate::ior`]'s job, one layer up.
//!
//! Tags are open newtypes, so ids this ORB does not know survive a round trip unchanged.

use crate::cdr::{CdrDecode, CdrEncode, DecodeError, Decoder, EncodeError, Encoder, ResultExt};

macro_rules! open_id {
    ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $konst:ident = $v:expr, $text:expr;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            $($(#[$cm])* pub const $konst: $name = $name($v);)*

            /// The specification's name for a known id.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $($name::$konst => Some($text),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "0x{:08x}", self.0),
                }
            }
        }
    };
}

open_id!(
    /// `IOP::ProfileId`.
    ProfileId {
        INTERNET_IOP = 0, "TAG_INTERNET_IOP";
        MULTIPLE_COMPONENTS = 1, "TAG_MULTIPLE_COMPONENTS";
        SCCP_IOP = 2, "TAG_SCCP_IOP";
        /// Our own Unix-domain-socket profile (UIOP), only ever read by rtorb ORBs. Taken from
        /// the vendor range so that other ORBs skip it as unknown.
        RTORB_UIOP = 0x5254_4f01, "TAG_RTORB_UIOP";
    }
);

open_id!(
    /// `IOP::ComponentId`.
    ComponentId {
        ORB_TYPE = 0, "TAG_ORB_TYPE";
        CODE_SETS = 1, "TAG_CODE_SETS";
        POLICIES = 2, "TAG_POLICIES";
        ALTERNATE_IIOP_ADDRESS = 3, "TAG_ALTERNATE_IIOP_ADDRESS";
        ASSOCIATION_OPTIONS = 13, "TAG_ASSOCIATION_OPTIONS";
        SEC_NAME = 14, "TAG_SEC_NAME";
        SSL_SEC_TRANS = 20, "TAG_SSL_SEC_TRANS";
        CSI_SEC_MECH_LIST = 33, "TAG_CSI_SEC_MECH_LIST";
        RMI_CUSTOM_MAX_STREAM_FORMAT = 38, "TAG_RMI_CUSTOM_MAX_STREAM_FORMAT";
        /// omniORB's own components, in its vendor range "ATT\x01".."ATT\x04" (0x415454xx, as
        /// omniNames' IORs carry them).
        OMNIORB_BIDIR = 0x4154_5401, "TAG_OMNIORB_BIDIR";
        /// omniORB's own component carrying a Unix socket path.
        OMNIORB_UNIX_TRANS = 0x4154_5402, "TAG_OMNIORB_UNIX_TRANS";
        OMNIORB_PERSISTENT_ID = 0x4154_5403, "TAG_OMNIORB_PERSISTENT_ID";
        OMNIORB_RESTRICTED_CONNECTION = 0x4154_5404, "TAG_OMNIORB_RESTRICTED_CONNECTION";
        /// rtorb's own component: a SHMIOP listener of an rtorb server and the host it is on
        /// (see `orb::TAG_RTORB_SHMIOP`). In rtorb's vendor range ("RTO\x03"), so other ORBs
        /// skip it.
        RTORB_SHMIOP = 0x5254_4f03, "TAG_RTORB_SHMIOP";
        /// rtorb's own component: the listening endpoints of an RT server's thread-pool
        /// lanes, each with its lane's priority (see `orb::rt::lane_endpoints`). Other ORBs
        /// skip it.
        RTORB_LANES = 0x5254_4f04, "TAG_RTORB_LANES";
    }
);

open_id!(
    /// `IOP::ServiceId`, the id of a service context.
    ServiceId {
        TRANSACTION_SERVICE = 0, "TransactionService";
        CODE_SETS = 1, "CodeSets";
        CHAIN_BYPASS_CHECK = 2, "ChainBypassCheck";
        CHAIN_BYPASS_INFO = 3, "ChainBypassInfo";
        LOGICAL_THREAD_ID = 4, "LogicalThreadId";
        BI_DIR_IIOP = 5, "BI_DIR_IIOP";
        SENDING_CONTEXT_RUN_TIME = 6, "SendingContextRunTime";
        INVOCATION_POLICIES = 7, "INVOCATION_POLICIES";
        FORWARDED_IDENTITY = 8, "FORWARDED_IDENTITY";
        UNKNOWN_EXCEPTION_INFO = 9, "UnknownExceptionInfo";
        RT_CORBA_PRIORITY = 10, "RTCorbaPriority";
        RT_CORBA_PRIORITY_RANGE = 11, "RTCorbaPriorityRange";
        FT_GROUP_VERSION = 12, "FT_GROUP_VERSION";
        FT_REQUEST = 13, "FT_REQUEST";
        EXCEPTION_DETAIL_MESSAGE = 14, "ExceptionDetailMessage";
        SECURITY_ATTRIBUTE_SERVICE = 15, "SecurityAttributeService";
    }
);

/// `IOP::TaggedProfile`: a profile id and its octets (for IIOP, an encapsulated ProfileBody).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaggedProfile {
    pub tag: ProfileId,
    pub data: Vec<u8>,
}

/// `IOP::TaggedComponent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaggedComponent {
    pub tag: ComponentId,
    pub data: Vec<u8>,
}

/// `IOP::ServiceContext`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceContext {
    pub id: ServiceId,
    pub data: Vec<u8>,
}

/// `IOP::IOR`: a repository id and the profiles through which the object can be reached. An
/// IOR with no profiles is a nil reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Ior {
    pub type_id: String,
    pub profiles: Vec<TaggedProfile>,
}

impl Ior {
    /// The nil object reference: empty type id, no profiles.
    pub fn nil() -> Ior {
        Ior::default()
    }

    pub fn is_nil(&self) -> bool {
        self.profiles.is_empty()
    }
}

/// Id (4 octets) plus the sequence length (4).
const TAGGED_MIN_WIRE_SIZE: usize = 8;

macro_rules! tagged_impls {
    ($ty:ident, $tag:ident, $id:ident, $tag_field:literal, $data_field:literal) => {
        impl CdrEncode for $ty {
            fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
                enc.write_ulong(self.$tag.0);
                enc.write_octet_seq(&self.data)
            }
        }

        impl<'a> CdrDecode<'a> for $ty {
            const MIN_WIRE_SIZE: usize = TAGGED_MIN_WIRE_SIZE;

            fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
                let $tag = $id(dec.read_ulong().field($tag_field)?);
                let data = dec.read_octet_seq().field($data_field)?.to_vec();
                Ok($ty { $tag, data })
            }
        }
    };
}

tagged_impls!(TaggedProfile, tag, ProfileId, "tag", "profile_data");
tagged_impls!(TaggedComponent, tag, ComponentId, "tag", "component_data");
tagged_impls!(ServiceContext, id, ServiceId, "context_id", "context_data");

impl CdrEncode for Ior {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(&self.type_id)?;
        self.profiles.encode(enc)
    }
}

impl<'a> CdrDecode<'a> for Ior {
    const MIN_WIRE_SIZE: usize = 9;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let type_id = dec.read_string().field("type_id")?.into_owned();
        let profiles = Vec::<TaggedProfile>::decode(dec).field("profiles")?;
        Ok(Ior { type_id, profiles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdr::{decode_from_slice, encode_to_vec, ByteOrder};

    #[test]
    fn ior_round_trips_in_both_byte_orders_keeping_unknown_profiles() {
        let ior = Ior {
            type_id: "IDL:Test/Echo:1.0".into(),
            profiles: vec![
                TaggedProfile {
                    tag: ProfileId::INTERNET_IOP,
                    data: vec![0, 1, 2, 0, 0, 0, 0, 0],
                },
                TaggedProfile {
                    tag: ProfileId(0x1234_5678),
                    data: vec![9; 3],
                },
            ],
        };
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let bytes = encode_to_vec(&ior, order).unwrap();
            assert_eq!(decode_from_slice::<Ior>(&bytes, order).unwrap(), ior);
        }
        assert_eq!(ProfileId(0x1234_5678).to_string(), "0x12345678");
        assert_eq!(ProfileId::INTERNET_IOP.to_string(), "TAG_INTERNET_IOP");
    }

    #[test]
    fn ior_with_absurd_profile_count_is_an_error_not_an_allocation() {
        // type_id "" then a profile count of 2^32-1 in a 12-octet buffer.
        let bytes = [0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        let err = decode_from_slice::<Ior>(&bytes, ByteOrder::BigEndian).unwrap_err();
        assert_eq!(err.offset(), 8);
        assert_eq!(err.path(), "profiles");
    }
}
