//! Arbitrary octets pushed, in chunks, into a GIOP or GIOP-lite framer with a small size limit.
//! Every message it yields is decoded; whatever decodes must re-encode into a message that
//! decodes to the same header and body, and the framer must never buffer past its limit. The
//! body of each is then read as a mix of values, through the GIOP 1.1 fragment boundaries of
//! a joined message: errors are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orb::cdr::{ByteOrder, CdrDecode};
use orb::giop::{Frame, Framer, Message};

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
                Ok(Some(frame)) => {
                    check(frame.as_bytes(), lite);
                    read_body(&frame, selector);
                }
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

/// Reads values of every alignment until the body ends or fails to decode.
fn read_body(frame: &Frame, selector: u8) {
    let Ok(msg) = frame.decode() else {
        return;
    };
    let mut dec = msg.body_decoder();
    for i in 0..64usize {
        let ok = match (i * 7 + selector as usize) % 8 {
            0 => dec.read_octet().is_ok(),
            1 => dec.read_short().is_ok(),
            2 => dec.read_long().is_ok(),
            3 => dec.read_double().is_ok(),
            4 => dec.read_string().is_ok(),
            5 => Vec::<f64>::decode(&mut dec).is_ok(),
            6 => Vec::<u16>::decode(&mut dec).is_ok(),
            _ => dec.read_encapsulation().is_ok(),
        };
        if !ok {
            return;
        }
    }
}
