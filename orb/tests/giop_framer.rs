//! The framer and fragmentation: streams fed in arbitrary chunks, GIOP 1.1 and 1.2
//! reassembly, size limits, and dialects that never accept each other.

mod giop_common;

use giop_common::{giop_spec, spec_with, Spec};
use orb::cdr::{ByteOrder, GiopVersion};
use orb::giop::{
    fragment_message, Frame, Framer, GiopError, Header, Message, MessageWriter, MsgType,
    Reassembler, RequestHeader,
};
use proptest::prelude::*;

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;

fn request(version: GiopVersion, order: ByteOrder, id: u32, body_len: usize) -> Vec<u8> {
    let header = Header::Request(RequestHeader::new(id, b"object-key", "operation"));
    let mut w = MessageWriter::new(version, order, &header).unwrap();
    for i in 0..body_len {
        w.body().write_octet(i as u8);
    }
    w.finish().unwrap()
}

fn drain(framer: &mut Framer) -> Result<Vec<Frame>, GiopError> {
    let mut out = Vec::new();
    while let Some(f) = framer.poll_message()? {
        out.push(f);
    }
    Ok(out)
}

/// Feeds `stream` in chunks of the given sizes (cycled), collecting every frame.
fn feed(framer: &mut Framer, stream: &[u8], chunks: &[usize]) -> Result<Vec<Frame>, GiopError> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let n = chunks[i % chunks.len()].clamp(1, stream.len() - at);
        framer.push(&stream[at..at + n]);
        at += n;
        i += 1;
        out.extend(drain(framer)?);
    }
    Ok(out)
}

/// Feeds `stream` in reads of the given sizes (cycled) through [`Framer::next_message`], as a
/// server does, checking that each read is used up.
fn feed_reads(
    framer: &mut Framer,
    stream: &[u8],
    chunks: &[usize],
) -> Result<Vec<Frame>, GiopError> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let n = chunks[i % chunks.len()].clamp(1, stream.len() - at);
        let mut input = &stream[at..at + n];
        while let Some(f) = framer.next_message(&mut input)? {
            out.push(f);
        }
        assert!(input.is_empty(), "next_message said None with input left");
        at += n;
        i += 1;
    }
    Ok(out)
}

fn specs_stream(specs: &[Spec]) -> (Vec<Vec<u8>>, Vec<u8>) {
    // Fragment messages have no message to continue here; keep them out of whole streams.
    let msgs: Vec<Vec<u8>> = specs
        .iter()
        .filter(|s| s.header().msg_type() != MsgType::FRAGMENT)
        .map(Spec::encode)
        .collect();
    let stream = msgs.concat();
    (msgs, stream)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn framer_yields_the_same_messages_in_any_chunking(
        specs in prop::collection::vec(giop_spec(), 1..8),
        chunks in prop::collection::vec(1usize..64, 1..10),
    ) {
        let (msgs, stream) = specs_stream(&specs);
        let mut framer = Framer::giop();
        let frames = feed(&mut framer, &stream, &chunks).unwrap();
        let got: Vec<Vec<u8>> = frames.iter().map(|f| f.as_bytes().to_vec()).collect();
        prop_assert_eq!(&got, &msgs);
        prop_assert_eq!(framer.buffered(), 0);
        for f in &frames {
            prop_assert!(f.decode().is_ok());
        }
    }

    #[test]
    fn next_message_yields_the_same_messages_in_any_reads(
        specs in prop::collection::vec(giop_spec(), 1..8),
        chunks in prop::collection::vec(1usize..400, 1..10),
    ) {
        let (msgs, stream) = specs_stream(&specs);
        let mut framer = Framer::giop();
        let frames = feed_reads(&mut framer, &stream, &chunks).unwrap();
        let got: Vec<Vec<u8>> = frames.iter().map(|f| f.as_bytes().to_vec()).collect();
        prop_assert_eq!(&got, &msgs);
        prop_assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn next_message_reassembles_fragments_across_reads(
        a_len in 0usize..400,
        b_len in 0usize..400,
        max in 64usize..160,
        chunks in prop::collection::vec(1usize..300, 1..5),
    ) {
        let a = request(GiopVersion::V1_2, LE, 1, a_len);
        let b = request(GiopVersion::V1_2, BE, 2, b_len);
        let mut stream = Vec::new();
        for f in fragment_message(&a, max).unwrap().iter().chain(&fragment_message(&b, max).unwrap()) {
            stream.extend_from_slice(f);
        }
        let mut framer = Framer::giop();
        let frames = feed_reads(&mut framer, &stream, &chunks).unwrap();
        let got: Vec<Vec<u8>> = frames.into_iter().map(Frame::into_vec).collect();
        prop_assert_eq!(got, vec![a, b]);
    }

    #[test]
    fn lite_framer_yields_the_same_messages_in_any_chunking(
        specs in prop::collection::vec(spec_with(Just(true)), 1..8),
        chunks in prop::collection::vec(1usize..64, 1..10),
        little in any::<bool>(),
    ) {
        let order = if little { LE } else { BE };
        let specs: Vec<Spec> = specs.into_iter().map(|s| Spec { order, ..s }).collect();
        let (msgs, stream) = specs_stream(&specs);
        let mut framer = Framer::lite(order);
        let frames = feed(&mut framer, &stream, &chunks).unwrap();
        let got: Vec<Vec<u8>> = frames.iter().map(|f| f.as_bytes().to_vec()).collect();
        prop_assert_eq!(&got, &msgs);
        for (f, s) in frames.iter().zip(&specs) {
            let msg = f.decode().unwrap();
            prop_assert_eq!(msg.header(), &s.header());
        }
    }

    #[test]
    fn fragmented_1_2_messages_interleave_and_reassemble(
        a_len in 0usize..400,
        b_len in 0usize..400,
        max in 24usize..160,
        order_a in any::<bool>(),
        chunks in prop::collection::vec(1usize..50, 1..5),
    ) {
        let a = request(GiopVersion::V1_2, if order_a { LE } else { BE }, 1, a_len);
        let b = request(GiopVersion::V1_2, BE, 2, b_len);
        let max = max.max(64);
        let fa = fragment_message(&a, max).unwrap();
        let fb = fragment_message(&b, max).unwrap();
        for f in fa.iter().chain(&fb) {
            prop_assert!(f.len() <= max);
        }
        for f in &fa[..fa.len() - 1] {
            prop_assert_eq!(f.len() % 8, 0);
        }
        // Interleave the two requests' fragments one by one.
        let mut stream = Vec::new();
        for i in 0..fa.len().max(fb.len()) {
            if let Some(f) = fa.get(i) { stream.extend_from_slice(f); }
            if let Some(f) = fb.get(i) { stream.extend_from_slice(f); }
        }
        let mut framer = Framer::giop();
        let frames = feed(&mut framer, &stream, &chunks).unwrap();
        prop_assert_eq!(frames.len(), 2);
        let mut got: Vec<Vec<u8>> = frames.into_iter().map(Frame::into_vec).collect();
        got.sort_by_key(|m| Message::decode(m).unwrap().header().request_id());
        prop_assert_eq!(&got[0], &a);
        prop_assert_eq!(&got[1], &b);
    }
}

#[test]
fn many_messages_in_one_read_come_out_in_order() {
    let msgs: Vec<Vec<u8>> = (0..100)
        .map(|i| request(GiopVersion::V1_2, LE, i, (i % 7) as usize))
        .collect();
    let stream = msgs.concat();
    let mut framer = Framer::giop();
    let mut input = &stream[..];
    let mut got = Vec::new();
    while let Some(f) = framer.next_message(&mut input).unwrap() {
        got.push(f.into_vec());
    }
    assert!(input.is_empty());
    assert_eq!(got, msgs);
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn next_message_keeps_a_split_message_and_refuses_an_oversized_one() {
    let a = request(GiopVersion::V1_0, BE, 7, 30);
    let mut framer = Framer::giop();
    // The read ends inside the header, then inside the body.
    for cut in [5, 40] {
        let mut input = &a[..cut];
        assert!(framer.next_message(&mut input).unwrap().is_none());
        assert!(input.is_empty());
        assert_eq!(framer.buffered(), cut);
        let mut rest = &a[cut..];
        let f = framer.next_message(&mut rest).unwrap().unwrap();
        assert_eq!(f.as_bytes(), &a[..]);
        assert!(framer.next_message(&mut rest).unwrap().is_none());
        assert_eq!(framer.buffered(), 0);
    }
    // A header announcing more than the limit fails at once, and the stream stays failed.
    let mut framer = Framer::giop().with_max_message_size(a.len() - 1);
    let mut input = &a[..12];
    assert!(matches!(
        framer.next_message(&mut input),
        Err(GiopError::MessageTooLarge { .. })
    ));
    let mut more = &a[12..];
    assert!(framer.next_message(&mut more).is_err());
}

#[test]
fn one_octet_at_a_time() {
    let msgs = [
        request(GiopVersion::V1_0, BE, 1, 3),
        request(GiopVersion::V1_1, LE, 2, 0),
        request(GiopVersion::V1_2, LE, 3, 17),
        MessageWriter::new(GiopVersion::V1_2, BE, &Header::CloseConnection)
            .unwrap()
            .finish()
            .unwrap(),
    ];
    let stream = msgs.concat();
    let mut framer = Framer::giop();
    let mut got = Vec::new();
    for (i, b) in stream.iter().enumerate() {
        assert!(framer.needed() > 0, "at {i}");
        framer.push(std::slice::from_ref(b));
        got.extend(drain(&mut framer).unwrap());
    }
    assert_eq!(framer.needed(), 12);
    let got: Vec<Vec<u8>> = got.into_iter().map(Frame::into_vec).collect();
    assert_eq!(got, msgs);
}

#[test]
fn a_header_announcing_2_gib_is_rejected_before_the_body() {
    let mut framer = Framer::giop();
    // GIOP 1.2 big-endian Request of 0x8000_0000 octets: only the header arrives.
    framer.push(b"GIOP\x01\x02\x00\x00\x80\x00\x00\x00");
    let err = framer.poll_message().unwrap_err();
    assert_eq!(
        err,
        GiopError::MessageTooLarge {
            size: 12 + 0x8000_0000,
            max: Framer::DEFAULT_MAX_MESSAGE_SIZE
        }
    );
    // The stream is dead: nothing more is buffered and the error repeats.
    framer.push(&[0; 1000]);
    assert_eq!(framer.buffered(), 0);
    assert_eq!(framer.needed(), 0);
    assert_eq!(framer.poll_message().unwrap_err(), err);

    let mut lite = Framer::lite(LE);
    lite.push(&[0, 3, 0, 0, 0, 0, 0, 0x80]);
    assert!(matches!(
        lite.poll_message(),
        Err(GiopError::MessageTooLarge { .. })
    ));
}

#[test]
fn the_size_limit_is_configurable_and_counts_the_header() {
    let msg = request(GiopVersion::V1_2, BE, 1, 20);
    let mut framer = Framer::giop().with_max_message_size(msg.len());
    framer.push(&msg);
    assert_eq!(drain(&mut framer).unwrap().len(), 1);
    let mut framer = Framer::giop().with_max_message_size(msg.len() - 1);
    framer.push(&msg[..12]);
    assert!(matches!(
        framer.poll_message(),
        Err(GiopError::MessageTooLarge { .. })
    ));
}

#[test]
fn reassembly_is_bounded_by_the_limit() {
    let msg = request(GiopVersion::V1_2, BE, 1, 300);
    let frags = fragment_message(&msg, 64).unwrap();
    let mut framer = Framer::giop().with_max_message_size(200);
    let err = feed(&mut framer, &frags.concat(), &[1000]).unwrap_err();
    assert!(
        matches!(err, GiopError::ReassemblyTooLarge { max: 200, .. }),
        "{err}"
    );
}

#[test]
fn truncated_streams_wait_and_garbage_fails() {
    let msg = request(GiopVersion::V1_2, LE, 1, 5);
    let mut framer = Framer::giop();
    framer.push(&msg[..msg.len() - 1]);
    assert!(framer.poll_message().unwrap().is_none());
    assert_eq!(framer.needed(), 1);

    let mut framer = Framer::giop();
    framer.push(b"HTTP/1.1 200 OK\r\n");
    assert_eq!(
        framer.poll_message().unwrap_err(),
        GiopError::BadMagic(*b"HTTP")
    );

    // A future GIOP version: the error says which version to answer MessageError in.
    let mut framer = Framer::giop();
    framer.push(b"GIOP\x01\x03\x00\x00\x00\x00\x00\x00");
    let err = framer.poll_message().unwrap_err();
    assert!(matches!(err, GiopError::UnsupportedVersion { .. }));
    assert_eq!(err.message_error_version(), GiopVersion::V1_2);

    let mut framer = Framer::giop();
    framer.push(b"GIOP\x01\x02\x00\x09\x00\x00\x00\x00");
    assert!(matches!(
        framer.poll_message(),
        Err(GiopError::UnknownMessageType { .. })
    ));
}

#[test]
fn dialects_never_accept_each_other() {
    let giop = request(GiopVersion::V1_0, BE, 1, 4);
    for order in [BE, LE] {
        // Even with a limit large enough for the size that "GIOP" would spell.
        let mut lite = Framer::lite(order).with_max_message_size(usize::MAX);
        lite.push(&giop);
        assert!(matches!(
            lite.poll_message(),
            Err(GiopError::InvalidLiteHeader { .. })
        ));
    }
    let lite_msg = MessageWriter::lite(BE, &Header::Request(RequestHeader::new(1, b"key", "op")))
        .unwrap()
        .finish()
        .unwrap();
    let mut framer = Framer::giop();
    framer.push(&lite_msg);
    assert!(matches!(framer.poll_message(), Err(GiopError::BadMagic(_))));
}

/// Builds a GIOP 1.1 message by hand: header flags, type, and the octets after the header.
fn giop_1_1(order: ByteOrder, more: bool, msg_type: u8, rest: &[u8]) -> Vec<u8> {
    let size = rest.len() as u32;
    let mut m = b"GIOP\x01\x01".to_vec();
    m.push(order.flag() | if more { 2 } else { 0 });
    m.push(msg_type);
    m.extend_from_slice(&match order {
        BE => size.to_be_bytes(),
        LE => size.to_le_bytes(),
    });
    m.extend_from_slice(rest);
    m
}

#[test]
fn giop_1_1_fragments_are_contiguous_and_join() {
    let whole = request(GiopVersion::V1_1, LE, 7, 21);
    // Split after the first 48 octets (in the operation name), then in two Fragments, the
    // second starting with the body: cuts in octet runs, never in a primitive (§15.4.9).
    let (first, rest) = whole.split_at(48);
    let (mid, last) = rest.split_at(12);
    let mut initial = first.to_vec();
    initial[6] |= 2;
    initial[8..12].copy_from_slice(&36u32.to_le_bytes());
    let f1 = giop_1_1(LE, true, 7, mid);
    let f2 = giop_1_1(LE, false, 7, last);

    let mut framer = Framer::giop();
    framer.push(&[initial.clone(), f1.clone(), f2.clone()].concat());
    let frames = drain(&mut framer).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].as_bytes(), &whole[..]);
    let msg = frames[0].decode().unwrap();
    assert!(!msg.more_fragments());
    assert_eq!(msg.header().request_id(), Some(7));

    // Another message between 1.1 fragments breaks contiguity.
    let close = giop_1_1(LE, false, 5, &[]);
    let mut r = Reassembler::new(1 << 20);
    assert_eq!(r.push(initial.clone()), Ok(None));
    assert_eq!(
        r.push(close),
        Err(GiopError::InterleavedFragment {
            msg_type: MsgType::CLOSE_CONNECTION
        })
    );

    // A CancelRequest for the message in progress ends it (§15.4.9).
    let mut r = Reassembler::new(1 << 20);
    assert_eq!(r.push(initial.clone()), Ok(None));
    let cancel = giop_1_1(LE, false, 2, &7u32.to_le_bytes());
    assert_eq!(
        r.push(cancel.clone()).map(|j| j.map(|j| j.bytes)),
        Ok(Some(cancel))
    );
    assert_eq!(r.in_progress(), 0);
    assert_eq!(r.buffered(), 0);
    assert!(matches!(
        r.push(f2.clone()),
        Err(GiopError::FragmentWithoutMessage {
            request_id: None,
            ..
        })
    ));

    // The byte order of a fragment must match its message's.
    let mut r = Reassembler::new(1 << 20);
    r.push(initial.clone()).unwrap();
    assert!(matches!(
        r.push(giop_1_1(BE, false, 7, last)),
        Err(GiopError::FragmentMismatch(_))
    ));

    // 1.1 fragments only Request and Reply.
    let locate = giop_1_1(LE, true, 3, &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(
        Reassembler::new(1 << 20).push(locate),
        Err(GiopError::FragmentNotAllowed { .. })
    ));
}

#[test]
fn fragment_errors() {
    let mut r = Reassembler::new(1 << 20);
    // A 1.2 Fragment for a request nobody started.
    let orphan = b"GIOP\x01\x02\x00\x07\x00\x00\x00\x05\x00\x00\x00\x09\xaa".to_vec();
    assert_eq!(
        r.push(orphan),
        Err(GiopError::FragmentWithoutMessage {
            version: GiopVersion::V1_2,
            request_id: Some(9)
        })
    );
    // GIOP 1.0 has no Fragment message.
    let frag_10 = b"GIOP\x01\x00\x00\x07\x00\x00\x00\x00".to_vec();
    assert_eq!(r.push(frag_10), Err(GiopError::FragmentInGiop10));

    let msg = request(GiopVersion::V1_2, BE, 3, 100);
    let frags = fragment_message(&msg, 64).unwrap();
    // The same request id started twice.
    let mut r = Reassembler::new(1 << 20);
    r.push(frags[0].clone()).unwrap();
    assert_eq!(
        r.push(frags[0].clone()),
        Err(GiopError::DuplicateFragmentedRequest(3))
    );
    // A non-final 1.2 fragment whose length is not a multiple of 8.
    let mut odd = frags[1].clone();
    odd.push(0);
    let size = (odd.len() - 12) as u32;
    odd[8..12].copy_from_slice(&size.to_be_bytes());
    assert!(matches!(
        r.push(odd),
        Err(GiopError::FragmentNotAligned { .. })
    ));
    // A 1.2 CancelRequest drops the request's fragments.
    let cancel = MessageWriter::new(
        GiopVersion::V1_2,
        BE,
        &Header::CancelRequest { request_id: 3 },
    )
    .unwrap()
    .finish()
    .unwrap();
    assert_eq!(
        r.push(cancel.clone()).map(|j| j.map(|j| j.bytes)),
        Ok(Some(cancel))
    );
    assert_eq!((r.in_progress(), r.buffered()), (0, 0));

    // Outgoing: 1.0/1.1 messages are sent whole, and the header must fit the first fragment.
    assert!(fragment_message(&request(GiopVersion::V1_1, BE, 1, 100), 64).is_err());
    assert!(fragment_message(&msg, 23).is_err());
    assert_eq!(
        fragment_message(&msg, msg.len()).unwrap(),
        vec![msg.clone()]
    );
}

#[test]
fn fragments_never_split_the_message_header_or_a_primitive() {
    let msg = request(GiopVersion::V1_2, LE, 5, 200);
    let body_offset = Message::decode(&msg).unwrap().body_offset();
    for max in [64, 72, 100, 128] {
        let frags = fragment_message(&msg, max).unwrap();
        assert!(frags[0].len() >= body_offset, "max {max}");
        let first = Message::decode(&frags[0]).unwrap();
        assert!(first.more_fragments());
        assert_eq!(first.header(), Message::decode(&msg).unwrap().header());
        for (i, f) in frags.iter().enumerate().skip(1) {
            let m = Message::decode(f).unwrap();
            assert_eq!(
                m.header(),
                &Header::Fragment {
                    request_id: Some(5)
                }
            );
            assert_eq!(m.more_fragments(), i + 1 < frags.len());
        }
    }
}
