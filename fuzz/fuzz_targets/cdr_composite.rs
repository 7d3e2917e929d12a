//! Decodes arbitrary octets as a composite IDL value (a struct of strings, wide strings, nested
//! sequences, arrays, fixed and long double) in every byte order and GIOP version; whatever
//! decodes must encode and decode back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orb::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, Decoder, EncodeError, Encoder, Fixed,
    GiopVersion, LongDouble, ResultExt, WChar, WString,
};

#[derive(Debug, PartialEq)]
struct Composite {
    flag: bool,
    id: u16,
    name: String,
    wide: WString,
    letter: WChar,
    grid: [[i32; 2]; 3],
    readings: Vec<u64>,
    names: Vec<Vec<String>>,
    blob: Vec<u8>,
    price: Fixed,
    big: LongDouble,
}

impl CdrEncode for Composite {
    fn encode(&self, e: &mut Encoder) -> Result<(), EncodeError> {
        self.flag.encode(e)?;
        self.id.encode(e)?;
        self.name.encode(e)?;
        self.wide.encode(e)?;
        self.letter.encode(e)?;
        self.grid.encode(e)?;
        self.readings.encode(e)?;
        self.names.encode(e)?;
        self.blob.encode(e)?;
        e.write_fixed(&self.price, 9, 2)?;
        self.big.encode(e)
    }
}

impl<'a> CdrDecode<'a> for Composite {
    const MIN_WIRE_SIZE: usize = 1;

    fn decode(d: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(Composite {
            flag: CdrDecode::decode(d).field("flag")?,
            id: CdrDecode::decode(d).field("id")?,
            name: CdrDecode::decode(d).field("name")?,
            wide: CdrDecode::decode(d).field("wide")?,
            letter: CdrDecode::decode(d).field("letter")?,
            grid: CdrDecode::decode(d).field("grid")?,
            readings: CdrDecode::decode(d).field("readings")?,
            names: CdrDecode::decode(d).field("names")?,
            blob: CdrDecode::decode(d).field("blob")?,
            price: d.read_fixed(9, 2).field("price")?,
            big: CdrDecode::decode(d).field("big")?,
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let order = ByteOrder::from_flag(selector);
    let version = if selector & 2 == 0 {
        GiopVersion::V1_2
    } else {
        GiopVersion::V1_1
    };
    let mut d = Decoder::new(bytes, order);
    d.set_version(version);
    let Ok(value) = Composite::decode(&mut d) else {
        return;
    };
    let mut e = Encoder::new(order);
    e.set_version(version);
    value.encode(&mut e).expect("a decoded value encodes");
    let mut d = Decoder::new(e.as_bytes(), order);
    d.set_version(version);
    let again = Composite::decode(&mut d).expect("our own encoding decodes");
    assert_eq!(again, value);
});
