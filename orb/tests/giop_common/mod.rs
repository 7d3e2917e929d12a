//! Shared test helpers for the GIOP integration tests: an owned description of a message from
//! which proptest builds headers that borrow from it.
#![allow(dead_code)]

use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::{
    Header, IorAddressingInfo, LocateReplyHeader, LocateRequestHeader, LocateStatus, Message,
    MessageWriter, ReplyHeader, ReplyStatus, RequestHeader, ResponseFlags, ServiceContexts,
    TargetAddress,
};
use orb::iop::{Ior, ProfileId, ServiceContext, ServiceId, TaggedProfile};
use proptest::prelude::*;
use std::borrow::Cow;

/// Everything a message could hold; [`Spec::header`] keeps what its version can express.
#[derive(Clone, Debug)]
pub struct Spec {
    pub minor: u8,
    pub lite: bool,
    pub order: ByteOrder,
    pub kind: u8,
    pub request_id: u32,
    pub flags: u8,
    pub key: Vec<u8>,
    pub operation: String,
    pub contexts: Vec<ServiceContext>,
    pub principal: Vec<u8>,
    pub target_kind: u8,
    pub profile: TaggedProfile,
    pub ior: Ior,
    pub status: u32,
    pub body: Vec<u8>,
}

impl Spec {
    pub fn version(&self) -> GiopVersion {
        if self.lite {
            GiopVersion::V1_2
        } else {
            GiopVersion::new(1, self.minor)
        }
    }

    fn target(&self) -> TargetAddress<'_> {
        if self.lite || self.minor < 2 {
            return TargetAddress::KeyAddr(&self.key);
        }
        match self.target_kind {
            0 => TargetAddress::KeyAddr(&self.key),
            1 => TargetAddress::ProfileAddr(self.profile.clone()),
            _ => TargetAddress::ReferenceAddr(IorAddressingInfo {
                selected_profile_index: self.request_id ^ 0x5555,
                ior: self.ior.clone(),
            }),
        }
    }

    fn contexts(&self) -> ServiceContexts<'_> {
        if self.lite {
            ServiceContexts::EMPTY
        } else {
            ServiceContexts::from_slice(&self.contexts)
        }
    }

    /// The message type: lite has no Fragment, 1.0 neither.
    pub fn header(&self) -> Header<'_> {
        let kinds = if self.lite || self.minor == 0 { 7 } else { 8 };
        let v = self.version();
        let (reply_statuses, locate_statuses) = if v >= GiopVersion::V1_2 {
            (6, 6)
        } else {
            (4, 3)
        };
        match self.kind % kinds {
            0 => Header::Request(RequestHeader {
                request_id: self.request_id,
                response_flags: if self.lite || self.minor == 2 {
                    ResponseFlags(self.flags)
                } else {
                    ResponseFlags::from_response_expected(self.flags & 1 == 1)
                },
                target: self.target(),
                operation: Cow::Borrowed(&self.operation),
                service_context: self.contexts(),
                requesting_principal: if self.lite || self.minor == 2 {
                    &[]
                } else {
                    &self.principal
                },
            }),
            1 => Header::Reply(ReplyHeader {
                request_id: self.request_id,
                reply_status: ReplyStatus::from_wire(self.status % reply_statuses, v).unwrap(),
                service_context: self.contexts(),
            }),
            2 => Header::CancelRequest {
                request_id: self.request_id,
            },
            3 => Header::LocateRequest(LocateRequestHeader {
                request_id: self.request_id,
                target: self.target(),
            }),
            4 => Header::LocateReply(LocateReplyHeader {
                request_id: self.request_id,
                locate_status: LocateStatus::from_wire(self.status % locate_statuses, v).unwrap(),
            }),
            5 => Header::CloseConnection,
            6 => Header::MessageError,
            _ => Header::Fragment {
                request_id: (self.minor == 2).then_some(self.request_id),
            },
        }
    }

    /// The body, for the message types that have one.
    pub fn body(&self) -> &[u8] {
        match self.header() {
            Header::Request(_)
            | Header::Reply(_)
            | Header::LocateReply(_)
            | Header::Fragment { .. } => &self.body,
            _ => &[],
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let header = self.header();
        let mut w = if self.lite {
            MessageWriter::lite(self.order, &header)
        } else {
            MessageWriter::new(self.version(), self.order, &header)
        }
        .unwrap();
        w.body().write_octets(self.body());
        w.finish().unwrap()
    }

    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Message<'a> {
        if self.lite {
            Message::decode_lite(bytes, self.order).unwrap()
        } else {
            Message::decode(bytes).unwrap()
        }
    }
}

fn order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::BigEndian), Just(ByteOrder::LittleEndian)]
}

fn octets(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

pub fn spec_with(lite: impl Strategy<Value = bool>) -> impl Strategy<Value = Spec> {
    let profile = (any::<u32>(), octets(12)).prop_map(|(t, data)| TaggedProfile {
        tag: ProfileId(t),
        data,
    });
    let ior = (
        "[ -~]{0,20}",
        prop::collection::vec((any::<u32>(), octets(8)), 0..3),
    )
        .prop_map(|(type_id, ps)| Ior {
            type_id,
            profiles: ps
                .into_iter()
                .map(|(t, data)| TaggedProfile {
                    tag: ProfileId(t),
                    data,
                })
                .collect(),
        });
    let contexts = prop::collection::vec(
        (any::<u32>(), octets(10)).prop_map(|(id, data)| ServiceContext {
            id: ServiceId(id),
            data,
        }),
        0..4,
    );
    (
        (0u8..3, lite, order(), 0u8..8, any::<u32>(), any::<u8>()),
        (
            octets(40),
            "[a-zA-Z_\u{a0}-\u{ff}][a-zA-Z0-9_]{0,30}",
            contexts,
            octets(6),
        ),
        (0u8..3, profile, ior, any::<u32>(), octets(40)),
    )
        .prop_map(
            |(
                (minor, lite, order, kind, request_id, flags),
                (key, operation, contexts, principal),
                (target_kind, profile, ior, status, body),
            )| Spec {
                minor,
                lite,
                order,
                kind,
                request_id,
                flags,
                key,
                operation,
                contexts,
                principal,
                target_kind,
                profile,
                ior,
                status,
                body,
            },
        )
}

pub fn spec() -> impl Strategy<Value = Spec> {
    spec_with(any::<bool>())
}

pub fn giop_spec() -> impl Strategy<Value = Spec> {
    spec_with(Just(false))
}
