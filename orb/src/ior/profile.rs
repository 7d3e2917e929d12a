//! IIOP profiles and multiple-components profiles (CORBA 3.0 §13.6.3, §15.7.2): the parsed view
//! of a [`TaggedProfile`]'s octets, and back.
//!
//! An [`Ior`] keeps its profiles as raw [`TaggedProfile`]s, so profiles of any kind round-trip
//! exactly; these types are how the ORB reads the ones it can use. Decoding here never panics
//! and never allocates more than the input's size justifies.

use super::component::{open_encapsulation, Component};
use super::IorError;
use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder,
    GiopVersion, ResultExt,
};
use crate::iop::{ComponentId, Ior, ProfileId, TaggedComponent, TaggedProfile};

/// `IIOP::ProfileBody_1_0` / `ProfileBody_1_1`: where and under which key an object is reached.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IiopProfile {
    /// The IIOP (= highest GIOP) version the server speaks.
    pub version: GiopVersion,
    pub host: String,
    pub port: u16,
    pub object_key: Vec<u8>,
    /// Always empty for IIOP 1.0, whose profile body has no components.
    pub components: Vec<TaggedComponent>,
}

impl IiopProfile {
    pub fn new(
        version: GiopVersion,
        host: impl Into<String>,
        port: u16,
        object_key: impl Into<Vec<u8>>,
    ) -> IiopProfile {
        IiopProfile {
            version,
            host: host.into(),
            port,
            object_key: object_key.into(),
            components: Vec::new(),
        }
    }

    /// Decodes a `TAG_INTERNET_IOP` profile.
    pub fn from_tagged(p: &TaggedProfile) -> Result<IiopProfile, IorError> {
        if p.tag != ProfileId::INTERNET_IOP {
            return Err(IorError::WrongProfileTag {
                expected: ProfileId::INTERNET_IOP,
                found: p.tag,
            });
        }
        Ok(IiopProfile::decode_body(&p.data)?)
    }

    /// Decodes the encapsulated profile body (the `profile_data` of a `TAG_INTERNET_IOP`
    /// profile); offsets in errors count from its first octet.
    pub fn decode_body(data: &[u8]) -> Result<IiopProfile, DecodeError> {
        let mut dec = open_encapsulation(data).field("iiop_profile")?;
        let p = IiopProfile::decode_fields(&mut dec).field("iiop_profile")?;
        // Versions we know define the whole body: anything after it is a broken profile.
        // A later minor version may append members (§15.7.2 keeps 1.1's layout "for IIOP 1.1
        // and later"), so there we ignore what we cannot know.
        if p.version.minor <= 2 {
            dec.expect_end().field("iiop_profile")?;
        }
        Ok(p)
    }

    fn decode_fields(dec: &mut Decoder<'_>) -> Result<IiopProfile, DecodeError> {
        let at = dec.offset();
        let major = dec.read_octet().field("iiop_version")?;
        let minor = dec.read_octet().field("iiop_version")?;
        // IIOP::Version; every ProfileBody defined so far is major version 1, and a major
        // version change would be free to change the layout that follows.
        if major != 1 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("IIOP major version is not 1"),
                at,
            )
            .in_field("iiop_version"));
        }
        let host = dec.read_string().field("host")?.into_owned();
        let port = dec.read_ushort().field("port")?;
        let object_key = dec.read_octet_seq().field("object_key")?.to_vec();
        // §15.7.2: ProfileBody_1_0 ends with the key; 1.1 and later add the components.
        let components = if minor >= 1 {
            Vec::<TaggedComponent>::decode(dec).field("components")?
        } else {
            Vec::new()
        };
        Ok(IiopProfile {
            version: GiopVersion::new(major, minor),
            host,
            port,
            object_key,
            components,
        })
    }

    /// The encapsulated profile body in `order`.
    pub fn encode_body(&self, order: ByteOrder) -> Result<Vec<u8>, EncodeError> {
        if self.version.minor == 0 && !self.components.is_empty() {
            return Err(EncodeError::Invalid(
                "an IIOP 1.0 profile body has no place for components",
            ));
        }
        let mut enc = Encoder::new(order);
        enc.reserve(32 + self.host.len() + self.object_key.len());
        enc.write_octet(order.flag());
        enc.write_octet(self.version.major);
        enc.write_octet(self.version.minor);
        enc.write_string(&self.host)?;
        enc.write_ushort(self.port);
        enc.write_octet_seq(&self.object_key)?;
        if self.version.minor >= 1 {
            self.components.encode(&mut enc)?;
        }
        Ok(enc.into_vec())
    }

    /// This profile as a `TAG_INTERNET_IOP` tagged profile, its body in `order`.
    pub fn to_tagged(&self, order: ByteOrder) -> Result<TaggedProfile, EncodeError> {
        Ok(TaggedProfile {
            tag: ProfileId::INTERNET_IOP,
            data: self.encode_body(order)?,
        })
    }

    /// The first component with tag `tag`, raw.
    pub fn component(&self, tag: ComponentId) -> Option<&TaggedComponent> {
        self.components.iter().find(|c| c.tag == tag)
    }

    /// The components decoded, unknown ones as [`Component::Other`].
    pub fn decoded_components(&self) -> Result<Vec<Component>, DecodeError> {
        self.components.iter().map(Component::decode).collect()
    }

    /// `TAG_ORB_TYPE`, if present and well formed.
    pub fn orb_type(&self) -> Option<u32> {
        match Component::decode(self.component(ComponentId::ORB_TYPE)?) {
            Ok(Component::OrbType(t)) => Some(t),
            _ => None,
        }
    }

    /// `TAG_CODE_SETS`, if present and well formed.
    pub fn code_sets(&self) -> Option<super::CodeSetComponentInfo> {
        match Component::decode(self.component(ComponentId::CODE_SETS)?) {
            Ok(Component::CodeSets(c)) => Some(c),
            _ => None,
        }
    }

    /// The profile's own address followed by every well-formed `TAG_ALTERNATE_IIOP_ADDRESS`,
    /// in order: where a client may try to connect.
    pub fn addresses(&self) -> Vec<(String, u16)> {
        let mut v = vec![(self.host.clone(), self.port)];
        for c in &self.components {
            if c.tag == ComponentId::ALTERNATE_IIOP_ADDRESS {
                if let Ok(Component::AlternateIiopAddress { host, port }) = Component::decode(c) {
                    v.push((host, port));
                }
            }
        }
        v
    }
}

impl TryFrom<&TaggedProfile> for IiopProfile {
    type Error = IorError;
    fn try_from(p: &TaggedProfile) -> Result<IiopProfile, IorError> {
        IiopProfile::from_tagged(p)
    }
}

/// `IOP::MultipleComponentProfile` (§13.6.3): a profile that is nothing but components, as an
/// encapsulated `sequence<TaggedComponent>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct MultipleComponentProfile {
    pub components: Vec<TaggedComponent>,
}

impl MultipleComponentProfile {
    /// Decodes a `TAG_MULTIPLE_COMPONENTS` profile.
    pub fn from_tagged(p: &TaggedProfile) -> Result<MultipleComponentProfile, IorError> {
        if p.tag != ProfileId::MULTIPLE_COMPONENTS {
            return Err(IorError::WrongProfileTag {
                expected: ProfileId::MULTIPLE_COMPONENTS,
                found: p.tag,
            });
        }
        Ok(MultipleComponentProfile::decode_body(&p.data)?)
    }

    pub fn decode_body(data: &[u8]) -> Result<MultipleComponentProfile, DecodeError> {
        let mut dec = open_encapsulation(data).field("multiple_components")?;
        let components = Vec::<TaggedComponent>::decode(&mut dec).field("multiple_components")?;
        dec.expect_end().field("multiple_components")?;
        Ok(MultipleComponentProfile { components })
    }

    pub fn to_tagged(&self, order: ByteOrder) -> Result<TaggedProfile, EncodeError> {
        let mut enc = Encoder::new(order);
        enc.write_octet(order.flag());
        self.components.encode(&mut enc)?;
        Ok(TaggedProfile {
            tag: ProfileId::MULTIPLE_COMPONENTS,
            data: enc.into_vec(),
        })
    }
}

/// IOR-level conveniences that need profile decoding.
impl Ior {
    /// An IOR with one IIOP profile, encoded in `order`.
    pub fn with_iiop_profile(
        type_id: impl Into<String>,
        profile: &IiopProfile,
        order: ByteOrder,
    ) -> Result<Ior, EncodeError> {
        Ok(Ior {
            type_id: type_id.into(),
            profiles: vec![profile.to_tagged(order)?],
        })
    }

    /// Every `TAG_INTERNET_IOP` profile, decoded, in order; the first broken one is an error.
    pub fn iiop_profiles(&self) -> Result<Vec<IiopProfile>, IorError> {
        self.profiles
            .iter()
            .filter(|p| p.tag == ProfileId::INTERNET_IOP)
            .map(IiopProfile::from_tagged)
            .collect()
    }
}

/// rtorb's own profile for GIOP over a Unix domain socket (`TAG_RTORB_UIOP`), read only by
/// rtorb ORBs (others skip an unknown profile). The body is an encapsulation of the GIOP
/// version, the host the socket lives on (a path means nothing on another machine), the
/// socket's path and the object key:
/// `{ octet major; octet minor; string host; string path; sequence<octet> object_key }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UiopProfile {
    pub version: GiopVersion,
    pub host: String,
    pub path: String,
    pub object_key: Vec<u8>,
}

impl UiopProfile {
    /// Decodes a `TAG_RTORB_UIOP` profile.
    pub fn from_tagged(p: &TaggedProfile) -> Result<UiopProfile, IorError> {
        if p.tag != ProfileId::RTORB_UIOP {
            return Err(IorError::WrongProfileTag {
                expected: ProfileId::RTORB_UIOP,
                found: p.tag,
            });
        }
        let mut dec = open_encapsulation(&p.data).field("uiop_profile")?;
        let major = dec.read_octet().field("major")?;
        let minor = dec.read_octet().field("minor")?;
        let host = dec.read_string().field("host")?.into_owned();
        let path = dec.read_string().field("path")?.into_owned();
        let object_key = dec.read_octet_seq().field("object_key")?.to_vec();
        Ok(UiopProfile {
            version: GiopVersion::new(major, minor),
            host,
            path,
            object_key,
        })
    }

    /// This profile as a tagged profile, its body in `order`.
    pub fn to_tagged(&self, order: ByteOrder) -> Result<TaggedProfile, EncodeError> {
        let mut enc = Encoder::new(order);
        enc.write_octet(order.flag());
        enc.write_octet(self.version.major);
        enc.write_octet(self.version.minor);
        enc.write_string(&self.host)?;
        enc.write_string(&self.path)?;
        enc.write_octet_seq(&self.object_key)?;
        Ok(TaggedProfile {
            tag: ProfileId::RTORB_UIOP,
            data: enc.into_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The profile of `genior IDL:Test/Echo:1.0 localhost 2809 MyKey` (little-endian).
    const GENIOR_PROFILE: &[u8] = &[
        0x01, 0x01, 0x02, 0x00, // byte order LE, IIOP 1.2, pad
        0x0a, 0, 0, 0, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't', 0, // host
        0xf9, 0x0a, // port 2809
        0x05, 0, 0, 0, b'M', b'y', b'K', b'e', b'y', 0, 0, 0, // key + pad
        0x02, 0, 0, 0, // two components
        0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x00, 0x54, 0x54, 0x41, // ORB type
        1, 0, 0, 0, 0x1c, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 5, 9, 1, 1, 0, 1,
        0, 0, 0, 9, 1, 1, 0, // code sets
    ];

    #[test]
    fn decodes_genior_profile_and_reencodes_it_exactly() {
        let p = IiopProfile::decode_body(GENIOR_PROFILE).unwrap();
        assert_eq!(p.version, GiopVersion::V1_2);
        assert_eq!(p.host, "localhost");
        assert_eq!(p.port, 2809);
        assert_eq!(p.object_key, b"MyKey");
        assert_eq!(p.components.len(), 2);
        assert_eq!(p.orb_type(), Some(super::super::OMNIORB_ORB_TYPE));
        assert_eq!(
            p.code_sets(),
            Some(super::super::CodeSetComponentInfo::omniorb_default())
        );
        assert_eq!(
            p.encode_body(ByteOrder::LittleEndian).unwrap(),
            GENIOR_PROFILE
        );
    }

    #[test]
    fn iiop_1_0_body_has_no_components() {
        let p = IiopProfile::new(GiopVersion::V1_0, "h", 1, vec![0xff]);
        let body = p.encode_body(ByteOrder::BigEndian).unwrap();
        // order, 1, 0, pad, len 2, "h\0", port, pad, len 1, key
        assert_eq!(
            body,
            [0, 1, 0, 0, 0, 0, 0, 2, b'h', 0, 0, 1, 0, 0, 0, 1, 0xff]
        );
        assert_eq!(IiopProfile::decode_body(&body).unwrap(), p);
        let mut with = p.clone();
        with.components.push(TaggedComponent {
            tag: ComponentId(99),
            data: vec![],
        });
        assert!(with.encode_body(ByteOrder::BigEndian).is_err());
    }

    #[test]
    fn bad_profiles_are_errors_with_offsets() {
        let mut major2 = GENIOR_PROFILE.to_vec();
        major2[1] = 2;
        let e = IiopProfile::decode_body(&major2).unwrap_err();
        assert_eq!(
            (e.offset(), e.path().as_str()),
            (1, "iiop_profile.iiop_version")
        );

        let e = IiopProfile::decode_body(&GENIOR_PROFILE[..26]).unwrap_err();
        assert_eq!(e.path(), "iiop_profile.object_key");

        let mut trailing = GENIOR_PROFILE.to_vec();
        trailing.push(0);
        let e = IiopProfile::decode_body(&trailing).unwrap_err();
        assert_eq!(e.offset(), GENIOR_PROFILE.len());

        // A later minor version may append members we cannot know.
        let mut v13 = trailing.clone();
        v13[2] = 3;
        assert_eq!(
            IiopProfile::decode_body(&v13).unwrap().version,
            GiopVersion::new(1, 3)
        );

        assert!(IiopProfile::decode_body(&[]).is_err());
        let wrong = TaggedProfile {
            tag: ProfileId::MULTIPLE_COMPONENTS,
            data: GENIOR_PROFILE.to_vec(),
        };
        assert!(matches!(
            IiopProfile::from_tagged(&wrong),
            Err(IorError::WrongProfileTag { .. })
        ));
    }

    #[test]
    fn alternate_addresses_follow_the_main_one() {
        let mut p = IiopProfile::new(GiopVersion::V1_2, "a", 1, b"k".to_vec());
        p.components.push(
            Component::AlternateIiopAddress {
                host: "b".into(),
                port: 2,
            }
            .to_tagged(ByteOrder::BigEndian)
            .unwrap(),
        );
        assert_eq!(p.addresses(), [("a".into(), 1), ("b".into(), 2)]);
    }

    #[test]
    fn multiple_component_profile_round_trips() {
        let m = MultipleComponentProfile {
            components: vec![TaggedComponent {
                tag: ComponentId::ORB_TYPE,
                data: vec![0, 0, 0, 0, 0x41, 0x54, 0x54, 0],
            }],
        };
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let t = m.to_tagged(order).unwrap();
            assert_eq!(MultipleComponentProfile::from_tagged(&t).unwrap(), m);
        }
    }
}
