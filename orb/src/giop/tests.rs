//! Byte-literal tests: every message type in every version and both byte orders, written by
//! hand from §15.4 (offsets in the comments count from the first octet of the message).

use super::*;
use crate::cdr::{ByteOrder, CdrEncode, Encoder, GiopVersion};
use crate::iop::{Ior, ServiceContext, ServiceId, TaggedProfile};
use std::borrow::Cow;

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;
const V10: GiopVersion = GiopVersion::V1_0;
const V11: GiopVersion = GiopVersion::V1_1;
const V12: GiopVersion = GiopVersion::V1_2;

/// Hex octets; whitespace and `|` are ignored and `'text'` stands for its ASCII octets.
fn hex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let end = rest[1..].find('\'').expect("closing quote") + 1;
            out.extend_from_slice(&rest.as_bytes()[1..end]);
            rest = &rest[end + 1..];
        } else if c.is_whitespace() || c == '|' {
            rest = &rest[1..];
        } else {
            out.push(u8::from_str_radix(&rest[..2], 16).expect("hex digit pair"));
            rest = &rest[2..];
        }
    }
    out
}

/// `Some(order)` is GIOP-lite.
struct Case {
    name: &'static str,
    version: GiopVersion,
    lite: Option<ByteOrder>,
    order: ByteOrder,
    header: Header<'static>,
    body: fn(&mut Encoder),
    expected: &'static str,
}

fn no_body(_: &mut Encoder) {}
fn long_7(e: &mut Encoder) {
    e.write_long(7)
}
fn long_9(e: &mut Encoder) {
    e.write_long(9)
}
fn octet_7f(e: &mut Encoder) {
    e.write_octet(0x7f)
}
fn data_123(e: &mut Encoder) {
    e.write_octets(&[1, 2, 3])
}
fn string_idl_x(e: &mut Encoder) {
    e.write_string("IDL:X:1.0").unwrap()
}
fn nil_ior(e: &mut Encoder) {
    Ior::nil().encode(e).unwrap()
}
fn ior_x(e: &mut Encoder) {
    Ior {
        type_id: "IDL:X:1.0".into(),
        profiles: vec![TaggedProfile {
            tag: crate::iop::ProfileId::INTERNET_IOP,
            data: vec![1, 2, 3],
        }],
    }
    .encode(e)
    .unwrap()
}
fn object_not_exist(e: &mut Encoder) {
    SystemExceptionBody {
        exception_id: "IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0".into(),
        minor: 0x4f4d_0001,
        completed: CompletionStatus::No,
    }
    .encode(e)
    .unwrap()
}
fn sys_ex_x_maybe(e: &mut Encoder) {
    SystemExceptionBody {
        exception_id: "IDL:X:1.0".into(),
        minor: 1,
        completed: CompletionStatus::Maybe,
    }
    .encode(e)
    .unwrap()
}
fn sys_ex_x_yes(e: &mut Encoder) {
    SystemExceptionBody {
        exception_id: "IDL:X:1.0".into(),
        minor: 1,
        completed: CompletionStatus::Yes,
    }
    .encode(e)
    .unwrap()
}
fn addr_profile(e: &mut Encoder) {
    AddressingDisposition::PROFILE_ADDR.encode(e).unwrap()
}
fn addr_reference(e: &mut Encoder) {
    AddressingDisposition::REFERENCE_ADDR.encode(e).unwrap()
}

fn request(flags: ResponseFlags) -> Header<'static> {
    Header::Request(RequestHeader {
        response_flags: flags,
        ..RequestHeader::new(5, b"abc", "op")
    })
}

fn reply(status: ReplyStatus) -> Header<'static> {
    Header::Reply(ReplyHeader {
        request_id: 5,
        reply_status: status,
        service_context: ServiceContexts::EMPTY,
    })
}

fn locate_reply(status: LocateStatus) -> Header<'static> {
    Header::LocateReply(LocateReplyHeader {
        request_id: 5,
        locate_status: status,
    })
}

fn locate_request(target: TargetAddress<'static>) -> Header<'static> {
    Header::LocateRequest(LocateRequestHeader {
        request_id: 5,
        target,
    })
}

static CONTEXT_1: [ServiceContext; 1] = [ServiceContext {
    id: ServiceId::CODE_SETS,
    data: Vec::new(),
}];

fn cases() -> Vec<Case> {
    let twoway = ResponseFlags::SYNC_WITH_TARGET;
    let g = |name, version, order, header, body, expected| Case {
        name,
        version,
        lite: None,
        order,
        header,
        body,
        expected,
    };
    let l = |name, order, header, body, expected| Case {
        name,
        version: V12,
        lite: Some(order),
        order,
        header,
        body,
        expected,
    };
    vec![
        // Request 1.0: service_context, request_id, response_expected, (3 padding octets),
        // object_key, operation, requesting_principal; the body follows without alignment.
        g("request 1.0 BE", V10, BE, request(twoway), no_body,
          "47494f50 0100 00 00 00000020 | 00000000 | 00000005 | 01 000000 | 00000003 616263 00 \
           | 00000003 6f7000 00 | 00000000"),
        g("request 1.0 LE", V10, LE, request(twoway), no_body,
          "47494f50 0100 01 00 20000000 | 00000000 | 05000000 | 01 000000 | 03000000 616263 00 \
           | 03000000 6f7000 00 | 00000000"),
        g("request 1.0 BE oneway with body", V10, BE, request(ResponseFlags::NONE), long_7,
          "47494f50 0100 00 00 00000024 | 00000000 | 00000005 | 00 000000 | 00000003 616263 00 \
           | 00000003 6f7000 00 | 00000000 | 00000007"),
        // Request 1.1: the same layout, the padding after response_expected became reserved.
        g("request 1.1 BE", V11, BE, request(twoway), no_body,
          "47494f50 0101 00 00 00000020 | 00000000 | 00000005 | 01 000000 | 00000003 616263 00 \
           | 00000003 6f7000 00 | 00000000"),
        g("request 1.1 LE", V11, LE, request(twoway), long_9,
          "47494f50 0101 01 00 24000000 | 00000000 | 05000000 | 01 000000 | 03000000 616263 00 \
           | 03000000 6f7000 00 | 00000000 | 09000000"),
        // Request 1.2: request_id, response_flags, reserved[3], TargetAddress (short
        // discriminator, 2 padding octets, key), operation, service_context, body at 8.
        g("request 1.2 BE with body", V12, BE, request(twoway), long_7,
          "47494f50 0102 00 00 00000028 | 00000005 | 03 000000 | 0000 0000 | 00000003 616263 00 \
           | 00000003 6f7000 00 | 00000000 | 00000000 | 00000007"),
        g("request 1.2 LE without body", V12, LE, request(twoway), no_body,
          "47494f50 0102 01 00 20000000 | 05000000 | 03 000000 | 0000 0000 | 03000000 616263 00 \
           | 03000000 6f7000 00 | 00000000"),
        g("request 1.2 BE oneway with a service context", V12, BE,
          Header::Request(RequestHeader {
              response_flags: ResponseFlags::NONE,
              service_context: ServiceContexts::from_slice(&CONTEXT_1),
              ..RequestHeader::new(5, b"abc", "op")
          }),
          octet_7f,
          "47494f50 0102 00 00 0000002d | 00000005 | 00 000000 | 0000 0000 | 00000003 616263 00 \
           | 00000003 6f7000 00 | 00000001 00000001 00000000 | 00000000 | 7f"),
        g("request 1.2 LE ProfileAddr", V12, LE,
          Header::Request(RequestHeader {
              request_id: 9,
              response_flags: ResponseFlags::SYNC_WITH_SERVER,
              target: TargetAddress::ProfileAddr(TaggedProfile {
                  tag: crate::iop::ProfileId::INTERNET_IOP,
                  data: vec![0xaa, 0xbb],
              }),
              ..RequestHeader::new(5, b"", "op")
          }),
          octet_7f,
          "47494f50 0102 01 00 25000000 | 09000000 | 01 000000 | 0100 0000 | 00000000 02000000 aabb \
           | 0000 | 03000000 6f7000 00 | 00000000 | 7f"),
        g("request 1.2 BE ReferenceAddr", V12, BE,
          Header::Request(RequestHeader {
              request_id: 1,
              target: TargetAddress::ReferenceAddr(IorAddressingInfo {
                  selected_profile_index: 0,
                  ior: Ior::nil(),
              }),
              ..RequestHeader::new(5, b"", "op")
          }),
          no_body,
          "47494f50 0102 00 00 00000028 | 00000001 | 03 000000 | 0002 0000 | 00000000 \
           | 00000001 00 000000 00000000 | 00000003 6f7000 00 | 00000000"),
        // Reply 1.0/1.1: service_context, request_id, reply_status, body.
        g("reply 1.0 BE", V10, BE, reply(ReplyStatus::NoException), long_9,
          "47494f50 0100 00 01 00000010 | 00000000 | 00000005 | 00000000 | 00000009"),
        g("reply 1.0 LE", V10, LE, reply(ReplyStatus::NoException), long_9,
          "47494f50 0100 01 01 10000000 | 00000000 | 05000000 | 00000000 | 09000000"),
        g("reply 1.0 BE LOCATION_FORWARD", V10, BE, reply(ReplyStatus::LocationForward), nil_ior,
          "47494f50 0100 00 01 00000018 | 00000000 | 00000005 | 00000003 | 00000001 00 000000 00000000"),
        g("reply 1.1 BE USER_EXCEPTION", V11, BE, reply(ReplyStatus::UserException), string_idl_x,
          "47494f50 0101 00 01 0000001a | 00000000 | 00000005 | 00000001 | 0000000a 'IDL:X:1.0' 00"),
        g("reply 1.1 LE USER_EXCEPTION", V11, LE, reply(ReplyStatus::UserException), string_idl_x,
          "47494f50 0101 01 01 1a000000 | 00000000 | 05000000 | 01000000 | 0a000000 'IDL:X:1.0' 00"),
        g("reply 1.1 LE SYSTEM_EXCEPTION", V11, LE, reply(ReplyStatus::SystemException), sys_ex_x_yes,
          "47494f50 0101 01 01 24000000 | 00000000 | 05000000 | 02000000 | 0a000000 'IDL:X:1.0' 00 \
           0000 | 01000000 | 00000000"),
        // Reply 1.2: request_id, reply_status, service_context, body aligned to 8.
        g("reply 1.2 BE SYSTEM_EXCEPTION", V12, BE, reply(ReplyStatus::SystemException),
          object_not_exist,
          "47494f50 0102 00 01 00000040 | 00000005 | 00000002 | 00000000 \
           | 00000027 'IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0' 00 | 00 | 4f4d0001 | 00000001"),
        g("reply 1.2 LE SYSTEM_EXCEPTION", V12, LE, reply(ReplyStatus::SystemException),
          object_not_exist,
          "47494f50 0102 01 01 40000000 | 05000000 | 02000000 | 00000000 \
           | 27000000 'IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0' 00 | 00 | 01004d4f | 01000000"),
        g("reply 1.2 LE LOCATION_FORWARD_PERM", V12, LE, reply(ReplyStatus::LocationForwardPerm),
          ior_x,
          "47494f50 0102 01 01 2b000000 | 05000000 | 04000000 | 00000000 | 0a000000 'IDL:X:1.0' 00 \
           | 0000 | 01000000 | 00000000 03000000 010203"),
        g("reply 1.2 BE NEEDS_ADDRESSING_MODE", V12, BE, reply(ReplyStatus::NeedsAddressingMode),
          addr_profile,
          "47494f50 0102 00 01 0000000e | 00000005 | 00000005 | 00000000 | 0001"),
        g("reply 1.2 LE without body", V12, LE, reply(ReplyStatus::NoException), no_body,
          "47494f50 0102 01 01 0c000000 | 05000000 | 00000000 | 00000000"),
        g("reply 1.2 BE padded body", V12, BE,
          Header::Reply(ReplyHeader {
              request_id: 5,
              reply_status: ReplyStatus::NoException,
              service_context: ServiceContexts::from_slice(&CONTEXT_1),
          }),
          long_7,
          "47494f50 0102 00 01 00000018 | 00000005 | 00000000 | 00000001 00000001 00000000 \
           | 00000007"),
        // CancelRequest: request_id.
        g("cancel 1.0 BE", V10, BE, Header::CancelRequest { request_id: 5 }, no_body,
          "47494f50 0100 00 02 00000004 | 00000005"),
        g("cancel 1.0 LE", V10, LE, Header::CancelRequest { request_id: 5 }, no_body,
          "47494f50 0100 01 02 04000000 | 05000000"),
        g("cancel 1.1 LE", V11, LE, Header::CancelRequest { request_id: 5 }, no_body,
          "47494f50 0101 01 02 04000000 | 05000000"),
        g("cancel 1.2 BE", V12, BE, Header::CancelRequest { request_id: 5 }, no_body,
          "47494f50 0102 00 02 00000004 | 00000005"),
        // LocateRequest 1.0/1.1: request_id, object_key; 1.2: request_id, TargetAddress.
        g("locate request 1.0 BE", V10, BE, locate_request(TargetAddress::KeyAddr(b"abc")), no_body,
          "47494f50 0100 00 03 0000000b | 00000005 | 00000003 616263"),
        g("locate request 1.1 LE", V11, LE, locate_request(TargetAddress::KeyAddr(b"abc")), no_body,
          "47494f50 0101 01 03 0b000000 | 05000000 | 03000000 616263"),
        g("locate request 1.2 BE", V12, BE, locate_request(TargetAddress::KeyAddr(b"abc")), no_body,
          "47494f50 0102 00 03 0000000f | 00000005 | 0000 0000 | 00000003 616263"),
        g("locate request 1.2 LE ProfileAddr", V12, LE,
          locate_request(TargetAddress::ProfileAddr(TaggedProfile {
              tag: crate::iop::ProfileId::INTERNET_IOP,
              data: vec![0xaa],
          })),
          no_body,
          "47494f50 0102 01 03 11000000 | 05000000 | 0100 0000 | 00000000 01000000 aa"),
        // LocateReply: request_id, locate_status, body (aligned to 8 in 1.2).
        g("locate reply 1.0 BE", V10, BE, locate_reply(LocateStatus::ObjectHere), no_body,
          "47494f50 0100 00 04 00000008 | 00000005 | 00000001"),
        g("locate reply 1.0 LE", V10, LE, locate_reply(LocateStatus::UnknownObject), no_body,
          "47494f50 0100 01 04 08000000 | 05000000 | 00000000"),
        g("locate reply 1.1 LE OBJECT_FORWARD", V11, LE, locate_reply(LocateStatus::ObjectForward),
          nil_ior,
          "47494f50 0101 01 04 14000000 | 05000000 | 02000000 | 01000000 00 000000 00000000"),
        g("locate reply 1.2 BE OBJECT_FORWARD", V12, BE, locate_reply(LocateStatus::ObjectForward),
          nil_ior,
          "47494f50 0102 00 04 00000018 | 00000005 | 00000002 | 00000000 | 00000001 00 000000 00000000"),
        g("locate reply 1.2 LE OBJECT_FORWARD_PERM", V12, LE,
          locate_reply(LocateStatus::ObjectForwardPerm), nil_ior,
          "47494f50 0102 01 04 18000000 | 05000000 | 03000000 | 00000000 | 01000000 00 000000 00000000"),
        g("locate reply 1.2 LE LOC_SYSTEM_EXCEPTION", V12, LE,
          locate_reply(LocateStatus::LocSystemException), sys_ex_x_maybe,
          "47494f50 0102 01 04 24000000 | 05000000 | 04000000 | 00000000 | 0a000000 'IDL:X:1.0' 00 \
           | 0000 | 01000000 | 02000000"),
        g("locate reply 1.2 BE LOC_NEEDS_ADDRESSING_MODE", V12, BE,
          locate_reply(LocateStatus::LocNeedsAddressingMode), addr_reference,
          "47494f50 0102 00 04 0000000e | 00000005 | 00000005 | 00000000 | 0002"),
        g("locate reply 1.2 LE without body", V12, LE, locate_reply(LocateStatus::UnknownObject),
          no_body, "47494f50 0102 01 04 08000000 | 05000000 | 00000000"),
        // CloseConnection and MessageError are the GIOP header alone.
        g("close 1.0 BE", V10, BE, Header::CloseConnection, no_body, "47494f50 0100 00 05 00000000"),
        g("close 1.1 LE", V11, LE, Header::CloseConnection, no_body, "47494f50 0101 01 05 00000000"),
        g("close 1.2 LE", V12, LE, Header::CloseConnection, no_body, "47494f50 0102 01 05 00000000"),
        g("close 1.2 BE", V12, BE, Header::CloseConnection, no_body, "47494f50 0102 00 05 00000000"),
        g("error 1.0 LE", V10, LE, Header::MessageError, no_body, "47494f50 0100 01 06 00000000"),
        g("error 1.1 BE", V11, BE, Header::MessageError, no_body, "47494f50 0101 00 06 00000000"),
        g("error 1.2 LE", V12, LE, Header::MessageError, no_body, "47494f50 0102 01 06 00000000"),
        // Fragment 1.1: the data follows the GIOP header; 1.2: request_id first.
        g("fragment 1.1 BE", V11, BE, Header::Fragment { request_id: None }, data_123,
          "47494f50 0101 00 07 00000003 | 010203"),
        g("fragment 1.1 LE", V11, LE, Header::Fragment { request_id: None }, data_123,
          "47494f50 0101 01 07 03000000 | 010203"),
        g("fragment 1.2 BE", V12, BE, Header::Fragment { request_id: Some(5) }, data_123,
          "47494f50 0102 00 07 00000007 | 00000005 | 010203"),
        g("fragment 1.2 LE", V12, LE, Header::Fragment { request_id: Some(5) }, data_123,
          "47494f50 0102 01 07 07000000 | 05000000 | 010203"),
        // GIOP-lite: type, flags, 2 reserved, size; Request: request_id, key, operation.
        l("lite request BE", BE, request(twoway), long_7,
          "00 03 0000 00000018 | 00000005 | 00000003 616263 00 | 00000003 6f7000 00 | 00000007"),
        l("lite request LE", LE, request(twoway), long_7,
          "00 03 0000 18000000 | 05000000 | 03000000 616263 00 | 03000000 6f7000 00 | 07000000"),
        l("lite oneway BE", BE, request(ResponseFlags::NONE), no_body,
          "00 00 0000 00000013 | 00000005 | 00000003 616263 00 | 00000003 6f7000"),
        l("lite reply LE", LE, reply(ReplyStatus::NoException), long_9,
          "01 00 0000 0c000000 | 05000000 | 00000000 | 09000000"),
        l("lite reply BE SYSTEM_EXCEPTION", BE, reply(ReplyStatus::SystemException), sys_ex_x_yes,
          "01 00 0000 00000020 | 00000005 | 00000002 | 0000000a 'IDL:X:1.0' 00 0000 | 00000001 \
           | 00000000"),
        l("lite cancel BE", BE, Header::CancelRequest { request_id: 5 }, no_body,
          "02 00 0000 00000004 | 00000005"),
        l("lite locate request LE", LE, locate_request(TargetAddress::KeyAddr(b"abc")), no_body,
          "03 00 0000 0b000000 | 05000000 | 03000000 616263"),
        l("lite locate reply BE", BE, locate_reply(LocateStatus::ObjectHere), no_body,
          "04 00 0000 00000008 | 00000005 | 00000001"),
        l("lite close LE", LE, Header::CloseConnection, no_body, "05 00 0000 00000000"),
        l("lite error BE", BE, Header::MessageError, no_body, "06 00 0000 00000000"),
    ]
}

fn write(case: &Case) -> Vec<u8> {
    let mut w = match case.lite {
        Some(order) => MessageWriter::lite(order, &case.header),
        None => MessageWriter::new(case.version, case.order, &case.header),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    (case.body)(w.body());
    w.finish().unwrap()
}

#[test]
fn every_message_type_encodes_to_the_hand_computed_bytes() {
    for case in cases() {
        let expected = hex(case.expected);
        let bytes = write(&case);
        assert_eq!(bytes, expected, "{}", case.name);
    }
}

#[test]
fn every_message_type_decodes_from_the_hand_computed_bytes_and_back() {
    for case in cases() {
        let expected = hex(case.expected);
        let msg = match case.lite {
            Some(order) => Message::decode_lite(&expected, order),
            None => Message::decode(&expected),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(msg.header(), &case.header, "{}", case.name);
        assert_eq!(msg.version(), case.version, "{}", case.name);
        assert_eq!(msg.order(), case.order, "{}", case.name);
        assert_eq!(msg.is_lite(), case.lite.is_some(), "{}", case.name);
        assert!(!msg.more_fragments());
        // The body is what the case encoded after the header; before 1.2 (and in lite) it
        // starts right after the header, so the padding its first value needs is part of it.
        let mut body = Encoder::new(case.order);
        (case.body)(&mut body);
        assert!(msg.body().ends_with(body.as_bytes()), "{}", case.name);
        let padding = msg.body().len() - body.len();
        assert!(padding < 8 && (padding == 0 || case.version < V12 || case.lite.is_some()));
        assert_eq!(msg.encode().unwrap(), expected, "{}", case.name);
    }
}

#[test]
fn body_helpers_decode_exceptions_forwards_and_dispositions() {
    let by_name = |name: &str| {
        let case = cases().into_iter().find(|c| c.name == name).unwrap();
        hex(case.expected)
    };
    let bytes = by_name("reply 1.2 LE SYSTEM_EXCEPTION");
    let ex = Message::decode(&bytes).unwrap().system_exception().unwrap();
    assert_eq!(ex.exception_id, "IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0");
    assert!(matches!(ex.exception_id, Cow::Borrowed(_)));
    assert_eq!(
        (ex.minor, ex.completed),
        (0x4f4d_0001, CompletionStatus::No)
    );

    let bytes = by_name("reply 1.2 LE LOCATION_FORWARD_PERM");
    let ior = Message::decode(&bytes).unwrap().forward_ior().unwrap();
    assert_eq!(ior.type_id, "IDL:X:1.0");
    assert_eq!(ior.profiles[0].data, [1, 2, 3]);

    let bytes = by_name("locate reply 1.2 BE LOC_NEEDS_ADDRESSING_MODE");
    let d = Message::decode(&bytes)
        .unwrap()
        .addressing_disposition()
        .unwrap();
    assert_eq!(d, AddressingDisposition::REFERENCE_ADDR);

    // The body decoder counts alignment from the message start.
    let bytes = by_name("reply 1.2 BE padded body");
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(msg.body_offset(), 32);
    assert_eq!(msg.body_decoder().read_long().unwrap(), 7);
    let bytes = by_name("request 1.2 BE oneway with a service context");
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(msg.body_offset(), 56);
    assert_eq!(msg.body_decoder().read_octet().unwrap(), 0x7f);
    let bytes = by_name("request 1.0 BE oneway with body");
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(msg.body_offset(), 44);
    assert_eq!(msg.body_decoder().read_long().unwrap(), 7);
}

#[test]
fn service_contexts_are_borrowed_and_iterated_lazily() {
    let header = Header::Request(RequestHeader {
        service_context: ServiceContexts::from_slice(&[]),
        ..RequestHeader::new(1, b"k", "op")
    });
    let contexts = [
        ServiceContext {
            id: ServiceId::CODE_SETS,
            data: vec![0, 0, 0, 0, 0, 1, 0, 1],
        },
        ServiceContext {
            id: ServiceId(0x4f4d_0000),
            data: vec![9; 3],
        },
    ];
    let mut header = header;
    if let Header::Request(r) = &mut header {
        r.service_context = ServiceContexts::from_slice(&contexts);
    }
    for version in [V10, V11, V12] {
        let bytes = MessageWriter::new(version, LE, &header)
            .unwrap()
            .finish()
            .unwrap();
        let msg = Message::decode(&bytes).unwrap();
        let Header::Request(r) = msg.header() else {
            panic!("not a request")
        };
        assert_eq!(r.service_context.len(), 2);
        assert_eq!(
            r.service_context.get(ServiceId(0x4f4d_0000)),
            Some(&[9u8; 3][..])
        );
        assert_eq!(r.service_context.to_vec(), contexts);
        // Borrowed: the context data points into the message buffer.
        let data = r.service_context.get(ServiceId::CODE_SETS).unwrap();
        let range = bytes.as_ptr_range();
        assert!(range.contains(&data.as_ptr()));
        assert!(matches!(r.operation, Cow::Borrowed(_)));
    }
}

#[test]
fn versions_refuse_what_they_cannot_express() {
    let key_only = |v| {
        MessageWriter::new(
            v,
            BE,
            &Header::Request(RequestHeader {
                target: TargetAddress::ProfileAddr(TaggedProfile {
                    tag: crate::iop::ProfileId::INTERNET_IOP,
                    data: vec![],
                }),
                ..RequestHeader::new(1, b"", "op")
            }),
        )
        .unwrap_err()
    };
    assert!(matches!(
        key_only(V10),
        GiopEncodeError::NotInVersion { .. }
    ));
    assert!(matches!(
        key_only(V11),
        GiopEncodeError::NotInVersion { .. }
    ));
    let perm = MessageWriter::new(V11, BE, &reply(ReplyStatus::LocationForwardPerm)).unwrap_err();
    assert!(matches!(perm, GiopEncodeError::NotInVersion { .. }));
    let principal = Header::Request(RequestHeader {
        requesting_principal: b"me",
        ..RequestHeader::new(1, b"", "op")
    });
    assert!(MessageWriter::new(V12, BE, &principal).is_err());
    assert!(MessageWriter::lite(BE, &principal).is_err());
    assert!(MessageWriter::new(V10, BE, &Header::Fragment { request_id: None }).is_err());
    assert!(MessageWriter::new(V12, BE, &Header::Fragment { request_id: None }).is_err());
    assert!(MessageWriter::lite(BE, &Header::Fragment { request_id: None }).is_err());
    let mut w = MessageWriter::new(V10, BE, &request(ResponseFlags::NONE)).unwrap();
    w.set_more_fragments(true);
    assert!(w.finish().is_err());
    assert!(MessageWriter::new(GiopVersion::new(1, 3), BE, &Header::CloseConnection).is_err());
}

#[test]
fn status_values_newer_than_the_version_are_decode_errors() {
    // A 1.1 reply with LOCATION_FORWARD_PERM (4), which 1.2 added.
    let bytes = hex("47494f50 0101 00 01 0000000c | 00000000 | 00000005 | 00000004");
    let err = Message::decode(&bytes).unwrap_err();
    let GiopError::Decode { msg_type, source } = &err else {
        panic!("{err}")
    };
    assert_eq!(*msg_type, MsgType::REPLY);
    assert_eq!(source.offset(), 20);
    assert_eq!(source.path(), "reply_status");
    // A 1.0 locate reply with OBJECT_FORWARD_PERM.
    let bytes = hex("47494f50 0100 00 04 00000008 | 00000005 | 00000003");
    assert!(Message::decode(&bytes).is_err());
    // An unknown TargetAddress discriminator names the field and offset.
    let bytes = hex("47494f50 0102 00 03 00000006 | 00000005 | 0007");
    let GiopError::Decode { source, .. } = Message::decode(&bytes).unwrap_err() else {
        panic!()
    };
    assert_eq!(
        (source.offset(), source.path()),
        (16, "target.discriminator".to_string())
    );
}

#[test]
fn header_errors_are_specific() {
    let bad_magic = hex("47494f51 0100 00 05 00000000");
    assert_eq!(
        Message::decode(&bad_magic).unwrap_err(),
        GiopError::BadMagic(*b"GIOQ")
    );
    for (major, minor) in [(1, 3), (2, 0), (0, 9)] {
        let mut b = hex("47494f50 0100 00 05 00000000");
        b[4] = major;
        b[5] = minor;
        let err = Message::decode(&b).unwrap_err();
        assert_eq!(
            err,
            GiopError::UnsupportedVersion {
                received: GiopVersion::new(major, minor),
                supported: V12
            }
        );
        // §15.4.1: answer with MessageError in the highest version we support.
        assert_eq!(err.message_error_version(), V12);
    }
    let reserved_flag = hex("47494f50 0102 04 05 00000000");
    assert!(matches!(
        Message::decode(&reserved_flag),
        Err(GiopError::InvalidFlags { flags: 4, .. })
    ));
    // GIOP 1.0's byte_order is a boolean: the more-fragments bit does not exist.
    let more_in_10 = hex("47494f50 0100 02 00 00000000");
    assert!(matches!(
        Message::decode(&more_in_10),
        Err(GiopError::InvalidFlags { .. })
    ));
    let fragment_in_10 = hex("47494f50 0100 00 07 00000000");
    assert_eq!(
        Message::decode(&fragment_in_10),
        Err(GiopError::FragmentInGiop10)
    );
    let unknown = hex("47494f50 0102 00 08 00000000");
    assert!(matches!(
        Message::decode(&unknown),
        Err(GiopError::UnknownMessageType {
            msg_type: MsgType(8),
            ..
        })
    ));
    let trailing = hex("47494f50 0102 00 05 00000001 00");
    assert!(matches!(
        Message::decode(&trailing),
        Err(GiopError::UnexpectedBody {
            offset: 12,
            len: 1,
            ..
        })
    ));
    let short = hex("47494f50 0102 00 05 00000004 0000");
    assert!(matches!(
        Message::decode(&short),
        Err(GiopError::SizeMismatch {
            announced: 4,
            actual: 2
        })
    ));
    assert!(matches!(
        Message::decode(b"GIOP"),
        Err(GiopError::Incomplete {
            needed: 12,
            available: 4
        })
    ));
}

#[test]
fn truncated_headers_name_the_field_and_offset() {
    // A 1.0 request whose object key length says 0x100 octets but only 3 follow.
    let bytes =
        hex("47494f50 0100 00 00 00000013 | 00000000 | 00000005 | 01 000000 | 00000100 616263");
    let GiopError::Decode { source, .. } = Message::decode(&bytes).unwrap_err() else {
        panic!()
    };
    assert_eq!(source.offset(), 24);
    assert_eq!(source.path(), "object_key");
}

#[test]
fn lite_header_rejects_giop_and_garbage() {
    let giop = hex("47494f50 0100 00 05 00000000");
    assert!(matches!(
        Message::decode_lite(&giop, BE),
        Err(GiopError::InvalidLiteHeader { .. })
    ));
    for bad in [
        "07 00 0000 00000000",
        "05 00 0100 00000000",
        "01 03 0000 00000000",
    ] {
        assert!(Message::decode_lite(&hex(bad), BE).is_err(), "{bad}");
    }
    let lite = hex("02 00 0000 00000004 | 00000005");
    assert!(matches!(
        Message::decode(&lite),
        Err(GiopError::BadMagic(_))
    ));
}

/// The typical request of the design's cubit benchmark: a 12-octet object key, operation
/// `cube_long`, one `long` argument and no service contexts.
fn cube_long_request(lite: bool, version: GiopVersion) -> Vec<u8> {
    let key = [0x5a; 12];
    let header = Header::Request(RequestHeader::new(42, &key, "cube_long"));
    let mut w = if lite {
        MessageWriter::lite(ByteOrder::NATIVE, &header)
    } else {
        MessageWriter::new(version, ByteOrder::NATIVE, &header)
    }
    .unwrap();
    w.body().write_long(3);
    w.finish().unwrap()
}

#[test]
fn giop_lite_saves_at_least_15_octets_per_request() {
    let lite = cube_long_request(true, V12).len();
    let giop: Vec<usize> = [V10, V11, V12]
        .into_iter()
        .map(|v| cube_long_request(false, v).len())
        .collect();
    // 1.0/1.1: 12 header + 4 contexts + 4 id + 4 flag/reserved + 16 key + 14 operation
    // + 2 padding + 4 principal + 4 argument = 64; 1.2 adds 4 octets of TargetAddress and body
    // alignment = 68; lite: 8 header + 4 id + 16 key + 14 operation + 2 padding + 4 = 48.
    assert_eq!(giop, [64, 64, 68]);
    assert_eq!(lite, 48);
    for g in giop {
        assert!(g - lite >= 15, "GIOP {g} vs lite {lite}");
    }
}

/// A request started from a kept prefix is, octet for octet, the request written whole with
/// its own id — in every version and byte order, with and without a reply expected, with a
/// body or none; a GIOP 1.0/1.1 request with contexts (its id after them) keeps none.
#[test]
fn a_request_started_from_a_kept_prefix_is_the_request_written_whole() {
    let key = b"an object key".to_vec();
    let contexts = [ServiceContext {
        id: ServiceId::CODE_SETS,
        data: vec![1, 2, 3],
    }];
    let header = |id: u32, flags: ResponseFlags, with_contexts: bool| {
        Header::Request(RequestHeader {
            request_id: id,
            response_flags: flags,
            target: TargetAddress::KeyAddr(&key),
            operation: Cow::Borrowed("an_operation"),
            service_context: if with_contexts {
                ServiceContexts::from_slice(&contexts)
            } else {
                ServiceContexts::EMPTY
            },
            requesting_principal: &[],
        })
    };
    let bodies: [fn(&mut Encoder); 3] = [no_body, long_7, string_idl_x];
    for version in [GiopVersion::V1_0, GiopVersion::V1_1, GiopVersion::V1_2] {
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            for flags in [ResponseFlags::NONE, ResponseFlags::SYNC_WITH_TARGET] {
                for with_contexts in [false, true] {
                    let first =
                        MessageWriter::new(version, order, &header(1, flags, with_contexts))
                            .unwrap();
                    let mut prefix = RequestPrefix::default();
                    let kept = first.keep_request_prefix(&mut prefix);
                    assert_eq!(
                        kept,
                        !with_contexts || version.minor >= 2,
                        "{version:?} contexts {with_contexts}"
                    );
                    if !kept {
                        continue;
                    }
                    for body in bodies {
                        for id in [0, 7, 0xdead_beef] {
                            let mut whole = MessageWriter::new(
                                version,
                                order,
                                &header(id, flags, with_contexts),
                            )
                            .unwrap();
                            body(whole.body());
                            let mut started = prefix.start(Vec::with_capacity(3), id);
                            body(started.body());
                            let mut started_whole = prefix.start_whole(Vec::new(), id);
                            body(started_whole.body());
                            let whole = whole.finish().unwrap();
                            assert_eq!(
                                started.finish().unwrap(),
                                whole,
                                "{version:?} {order:?} {flags:?} id {id}"
                            );
                            assert_eq!(
                                started_whole.finish().unwrap(),
                                whole,
                                "{version:?} {order:?} {flags:?} id {id}: whole"
                            );
                        }
                    }
                }
            }
        }
    }
    // Not a request, or a body begun: nothing kept.
    let mut prefix = RequestPrefix::default();
    let reply = MessageWriter::new(
        GiopVersion::V1_2,
        ByteOrder::BigEndian,
        &reply(ReplyStatus::NoException),
    )
    .unwrap();
    assert!(!reply.keep_request_prefix(&mut prefix));
    let mut begun = MessageWriter::new(
        GiopVersion::V1_2,
        ByteOrder::BigEndian,
        &header(1, ResponseFlags::NONE, false),
    )
    .unwrap();
    long_7(begun.body());
    assert!(!begun.keep_request_prefix(&mut prefix));
}
