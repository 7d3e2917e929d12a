//! Tagged components this ORB understands (CORBA 3.0 §13.6.6, §13.10.2.4, §15.7.3), decoded from
//! and encoded to the raw [`TaggedComponent`]s that profiles carry.
//!
//! A decoded [`Component`] is a *view*: profiles keep their components as raw octets, so a
//! component we do not know, or know but would encode differently (another byte order, other
//! padding), survives a round trip unchanged. This module never drops or rewrites a component
//! on its own.

use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, CodeSetId, DecodeError, Decoder, EncodeError, Encoder,
    ResultExt,
};
use crate::iop::{ComponentId, TaggedComponent};

/// omniORB's `TAG_ORB_TYPE` value, "ATT\x00" (from its AT&T Laboratories Cambridge origins).
pub const OMNIORB_ORB_TYPE: u32 = 0x4154_5400;

/// `CONV_FRAME::CodeSetComponent`: a native code set and the conversion code sets an ORB
/// also accepts, for one of `char` or `wchar`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeSetComponent {
    pub native_code_set: CodeSetId,
    pub conversion_code_sets: Vec<CodeSetId>,
}

/// `CONV_FRAME::CodeSetComponentInfo`, the body of `TAG_CODE_SETS` (§13.10.2.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeSetComponentInfo {
    pub for_char_data: CodeSetComponent,
    pub for_wchar_data: CodeSetComponent,
}

impl CodeSetComponentInfo {
    /// What omniORB advertises by default: ISO-8859-1 with UTF-8 for `char`, UTF-16 for `wchar`.
    pub fn omniorb_default() -> CodeSetComponentInfo {
        CodeSetComponentInfo {
            for_char_data: CodeSetComponent {
                native_code_set: CodeSetId::ISO_8859_1,
                conversion_code_sets: vec![CodeSetId::UTF_8],
            },
            for_wchar_data: CodeSetComponent {
                native_code_set: CodeSetId::UTF_16,
                conversion_code_sets: vec![CodeSetId::UTF_16],
            },
        }
    }
}

impl CdrEncode for CodeSetComponent {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_ulong(self.native_code_set.0);
        enc.write_length(self.conversion_code_sets.len())?;
        for cs in &self.conversion_code_sets {
            enc.write_ulong(cs.0);
        }
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for CodeSetComponent {
    const MIN_WIRE_SIZE: usize = 8;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let native_code_set = CodeSetId(dec.read_ulong().field("native_code_set")?);
        let ids = Vec::<u32>::decode(dec).field("conversion_code_sets")?;
        Ok(CodeSetComponent {
            native_code_set,
            conversion_code_sets: ids.into_iter().map(CodeSetId).collect(),
        })
    }
}

impl CdrEncode for CodeSetComponentInfo {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        self.for_char_data.encode(enc)?;
        self.for_wchar_data.encode(enc)
    }
}

impl<'a> CdrDecode<'a> for CodeSetComponentInfo {
    const MIN_WIRE_SIZE: usize = 16;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(CodeSetComponentInfo {
            for_char_data: CodeSetComponent::decode(dec).field("ForCharData")?,
            for_wchar_data: CodeSetComponent::decode(dec).field("ForWcharData")?,
        })
    }
}

/// `SSLIOP::SSL`, the body of `TAG_SSL_SEC_TRANS`: association options and the SSL port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SslSecTrans {
    pub target_supports: u16,
    pub target_requires: u16,
    pub port: u16,
}

/// A tagged component, decoded when this ORB knows its tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// `TAG_ORB_TYPE`: which ORB made the reference (a vendor tag, see [`OMNIORB_ORB_TYPE`]).
    OrbType(u32),
    /// `TAG_CODE_SETS`: the code sets the server speaks.
    CodeSets(CodeSetComponentInfo),
    /// `TAG_ALTERNATE_IIOP_ADDRESS`: one more address where the same object can be reached.
    AlternateIiopAddress { host: String, port: u16 },
    /// `TAG_SSL_SEC_TRANS`: the object is reachable over SSL on `port`.
    SslSecTrans(SslSecTrans),
    /// Any other component, octets untouched.
    Other(TaggedComponent),
}

impl Component {
    /// Decodes `c` if its tag is one of the known ones, else returns it as [`Component::Other`].
    /// The component data must be exactly one encapsulated value.
    pub fn decode(c: &TaggedComponent) -> Result<Component, DecodeError> {
        let data = c.data.as_slice();
        let known = matches!(
            c.tag,
            ComponentId::ORB_TYPE
                | ComponentId::CODE_SETS
                | ComponentId::ALTERNATE_IIOP_ADDRESS
                | ComponentId::SSL_SEC_TRANS
        );
        if !known {
            return Ok(Component::Other(c.clone()));
        }
        let mut dec = open_encapsulation(data).field(component_field(c.tag))?;
        let v = Component::decode_body(c.tag, &mut dec).field(component_field(c.tag))?;
        dec.expect_end().field(component_field(c.tag))?;
        Ok(v)
    }

    /// Reads the body of a known component from `dec` (positioned after the byte-order octet)
    /// without insisting that it fills the encapsulation. Unknown tags give `Other`.
    pub(crate) fn decode_body(
        tag: ComponentId,
        dec: &mut Decoder<'_>,
    ) -> Result<Component, DecodeError> {
        Ok(match tag {
            ComponentId::ORB_TYPE => Component::OrbType(dec.read_ulong().field("orb_type")?),
            ComponentId::CODE_SETS => Component::CodeSets(CodeSetComponentInfo::decode(dec)?),
            ComponentId::ALTERNATE_IIOP_ADDRESS => Component::AlternateIiopAddress {
                host: dec.read_string().field("host")?.into_owned(),
                port: dec.read_ushort().field("port")?,
            },
            ComponentId::SSL_SEC_TRANS => Component::SslSecTrans(SslSecTrans {
                target_supports: dec.read_ushort().field("target_supports")?,
                target_requires: dec.read_ushort().field("target_requires")?,
                port: dec.read_ushort().field("port")?,
            }),
            other => Component::Other(TaggedComponent {
                tag: other,
                data: dec.buffer().to_vec(),
            }),
        })
    }

    pub fn tag(&self) -> ComponentId {
        match self {
            Component::OrbType(_) => ComponentId::ORB_TYPE,
            Component::CodeSets(_) => ComponentId::CODE_SETS,
            Component::AlternateIiopAddress { .. } => ComponentId::ALTERNATE_IIOP_ADDRESS,
            Component::SslSecTrans(_) => ComponentId::SSL_SEC_TRANS,
            Component::Other(c) => c.tag,
        }
    }

    /// Encodes a known component as an encapsulation in `order`; `Other` is returned as is.
    pub fn to_tagged(&self, order: ByteOrder) -> Result<TaggedComponent, EncodeError> {
        let body = |f: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>| {
            let mut enc = Encoder::new(order);
            enc.write_octet(order.flag());
            f(&mut enc)?;
            Ok::<_, EncodeError>(enc.into_vec())
        };
        let data = match self {
            Component::OrbType(t) => body(&|e| {
                e.write_ulong(*t);
                Ok(())
            })?,
            Component::CodeSets(info) => body(&|e| info.encode(e))?,
            Component::AlternateIiopAddress { host, port } => body(&|e| {
                e.write_string(host)?;
                e.write_ushort(*port);
                Ok(())
            })?,
            Component::SslSecTrans(s) => body(&|e| {
                e.write_ushort(s.target_supports);
                e.write_ushort(s.target_requires);
                e.write_ushort(s.port);
                Ok(())
            })?,
            Component::Other(c) => return Ok(c.clone()),
        };
        Ok(TaggedComponent {
            tag: self.tag(),
            data,
        })
    }
}

fn component_field(tag: ComponentId) -> &'static str {
    tag.name().unwrap_or("component_data")
}

/// A decoder over `data`, an encapsulation by itself (offsets count from its first octet).
pub(crate) fn open_encapsulation(data: &[u8]) -> Result<Decoder<'_>, DecodeError> {
    // The byte order given here is never used: the encapsulation's first octet overrides it.
    Decoder::new(data, ByteOrder::BigEndian).encapsulation_of(data, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omniorb_orb_type_component_from_genior_bytes() {
        // From a genior IOR: tag 0, length 8, little-endian encapsulation of 0x41545400.
        let c = TaggedComponent {
            tag: ComponentId::ORB_TYPE,
            data: vec![1, 0, 0, 0, 0x00, 0x54, 0x54, 0x41],
        };
        assert_eq!(
            Component::decode(&c).unwrap(),
            Component::OrbType(OMNIORB_ORB_TYPE)
        );
        assert_eq!(
            Component::OrbType(OMNIORB_ORB_TYPE)
                .to_tagged(ByteOrder::LittleEndian)
                .unwrap(),
            c
        );
    }

    #[test]
    fn omniorb_code_sets_component_from_genior_bytes() {
        let data: Vec<u8> = vec![
            1, 0, 0, 0, // byte order, padding
            0x01, 0x00, 0x01, 0x00, // native ISO-8859-1
            1, 0, 0, 0, 0x01, 0x00, 0x01, 0x05, // [UTF-8]
            0x09, 0x01, 0x01, 0x00, // native UTF-16
            1, 0, 0, 0, 0x09, 0x01, 0x01, 0x00, // [UTF-16]
        ];
        let c = TaggedComponent {
            tag: ComponentId::CODE_SETS,
            data,
        };
        let decoded = Component::decode(&c).unwrap();
        assert_eq!(
            decoded,
            Component::CodeSets(CodeSetComponentInfo::omniorb_default())
        );
        assert_eq!(decoded.to_tagged(ByteOrder::LittleEndian).unwrap(), c);
    }

    #[test]
    fn alternate_address_and_ssl_round_trip_big_endian() {
        for comp in [
            Component::AlternateIiopAddress {
                host: "backup.example".into(),
                port: 2810,
            },
            Component::SslSecTrans(SslSecTrans {
                target_supports: 0x66,
                target_requires: 0x6,
                port: 443,
            }),
        ] {
            let t = comp.to_tagged(ByteOrder::BigEndian).unwrap();
            assert_eq!(t.data[0], 0);
            assert_eq!(Component::decode(&t).unwrap(), comp);
        }
        let ssl = Component::SslSecTrans(SslSecTrans {
            target_supports: 1,
            target_requires: 2,
            port: 3,
        });
        // §15.7.3 SSLIOP::SSL is three ushorts: 1 + 1 pad + 6 octets.
        assert_eq!(
            ssl.to_tagged(ByteOrder::BigEndian).unwrap().data,
            [0, 0, 0, 1, 0, 2, 0, 3]
        );
    }

    #[test]
    fn unknown_components_are_kept_byte_for_byte() {
        let c = TaggedComponent {
            tag: ComponentId::OMNIORB_UNIX_TRANS,
            data: vec![7, 7, 7],
        };
        let d = Component::decode(&c).unwrap();
        assert_eq!(d, Component::Other(c.clone()));
        assert_eq!(d.to_tagged(ByteOrder::BigEndian).unwrap(), c);
    }

    #[test]
    fn broken_components_name_the_field() {
        let c = TaggedComponent {
            tag: ComponentId::CODE_SETS,
            data: vec![0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff],
        };
        let e = Component::decode(&c).unwrap_err();
        assert_eq!(e.path(), "TAG_CODE_SETS.ForCharData.conversion_code_sets");
        assert_eq!(e.offset(), 8);
        let trailing = TaggedComponent {
            tag: ComponentId::ORB_TYPE,
            data: vec![0, 0, 0, 0, 0, 0, 0, 1, 9],
        };
        assert_eq!(Component::decode(&trailing).unwrap_err().offset(), 8);
        let bad_order = TaggedComponent {
            tag: ComponentId::ORB_TYPE,
            data: vec![2, 0, 0, 0, 0, 0, 0, 1],
        };
        assert!(Component::decode(&bad_order).is_err());
    }
}
