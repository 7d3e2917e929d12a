//! Arbitrary octets pushed, in chunks, into a GIOP or GIOP-lite framer with a small size limit.
//! Every message it yields is decoded; whatever decodes must re-encode into a message that
//! decodes to the same header and body, and the framer must never buffer past its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orb::cdr::ByteOrder;
use orb::giop::{Framer, Message};

const LIMIT: usize = 64 << 10;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let lite = match selector & 3 {
        0 | 1 => None,
        2 => Some(ByteOrder::LittleEndian),
        _ => Some(ByteOrder::BigEndian),
    };
    let mut framer = match lite {
        None => Framer::giop(),
        Some(order) => Framer::lite(order),
    }
    .with_max_message_size(LIMIT);
    let chunk = 1 + (selector >> 2) as usize;
    for piece in stream.chunks(chunk) {
        framer.push(piece);
        loop {
            match framer.poll_message() {
                Ok(Some(frame)) => check(frame.as_bytes(), lite),
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(framer.needed() <= LIMIT);
    }
});

fn decode(bytes: &[u8], lite: Option<ByteOrder>) -> Option<Message<'_>> {
    match lite {
        None => Message::decode(bytes).ok(),
        Some(order) => Message::decode_lite(bytes, order).ok(),
    }
}

fn check(bytes: &[u8], lite: Option<ByteOrder>) {
    let Some(msg) = decode(bytes, lite) else {
        return;
    };
    let again = msg.encode().expect("a decoded message re-encodes");
    let back = decode(&again, lite).expect("a re-encoded message decodes");
    assert_eq!(back.header(), msg.header());
    assert_eq!(back.body(), msg.body());
}
