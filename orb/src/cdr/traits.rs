//! The traits every CDR-encodable type implements (generated code included), and their
//! implementations for IDL's primitive and template types.
//!
//! | IDL | Rust |
//! |---|---|
//! | `octet`, `boolean` | `u8`, `bool` |
//! | `short` … `unsigned long long` | `i16`, `u16`, `i32`, `u32`, `i64`, `u64` |
//! | `float`, `double`, `long double` | `f32`, `f64`, [`LongDouble`] |
//! | `char`, `wchar` | `char`, [`WChar`] |
//! | `string`, `wstring` | `String` / `Cow<str>` / `&str` (encode), [`WString`] |
//! | `sequence<T>` | `Vec<T>` (`&[u8]` borrowed for octets) |
//! | `T[N][M]` | `[[T; M]; N]` |

use super::{ByteOrder, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder, LongDouble};
use std::borrow::Cow;

/// A value that can be written as CDR.
pub trait CdrEncode {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError>;

    /// Encodes a run of values (a sequence's or array's elements). Primitive types override it
    /// to align once and copy in bulk.
    #[doc(hidden)]
    fn encode_slice(items: &[Self], enc: &mut Encoder) -> Result<(), EncodeError>
    where
        Self: Sized,
    {
        items.iter().try_for_each(|x| x.encode(enc))
    }
}

/// A value that can be read from CDR, possibly borrowing from the input (`'a`).
pub trait CdrDecode<'a>: Sized {
    /// The fewest octets one value can take on the wire (alignment aside), used to refuse a
    /// sequence length the remaining input cannot hold before allocating for it.
    const MIN_WIRE_SIZE: usize;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError>;

    /// Decodes `n` values, `n` already checked against the input by the caller. Primitive
    /// types override it to read in bulk.
    #[doc(hidden)]
    fn decode_vec(dec: &mut Decoder<'a>, n: usize) -> Result<Vec<Self>, DecodeError> {
        // Capacity grows with what was really decoded, so a large `n` backed by few octets of
        // small-on-the-wire elements cannot make us reserve much.
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(Self::decode(dec)?);
        }
        Ok(v)
    }
}

/// Encodes `value` alone into a fresh buffer (alignment origin at its first octet).
pub fn encode_to_vec<T: CdrEncode + ?Sized>(
    value: &T,
    order: ByteOrder,
) -> Result<Vec<u8>, EncodeError> {
    let mut enc = Encoder::new(order);
    value.encode(&mut enc)?;
    Ok(enc.into_vec())
}

/// Decodes one value that must fill `buf` exactly.
pub fn decode_from_slice<'a, T: CdrDecode<'a>>(
    buf: &'a [u8],
    order: ByteOrder,
) -> Result<T, DecodeError> {
    let mut dec = Decoder::new(buf, order);
    let v = T::decode(&mut dec)?;
    dec.expect_end()?;
    Ok(v)
}

macro_rules! number_impls {
    ($($ty:ty, $size:expr, $write:ident, $read:ident;)*) => {$(
        impl CdrEncode for $ty {
            #[inline]
            fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
                enc.$write(*self);
                Ok(())
            }

            fn encode_slice(items: &[Self], enc: &mut Encoder) -> Result<(), EncodeError> {
                if items.is_empty() {
                    return Ok(());
                }
                let enc_order = enc.order();
                enc.align($size);
                if enc_order == ByteOrder::NATIVE {
                    // In our own byte order a run of primitives is its in-memory bytes: one copy.
                    enc.write_octets(bytemuck::cast_slice(items));
                    return Ok(());
                }
                // Elements after an aligned first one are aligned too: no per-element padding,
                // so the run is sized once and filled in a loop the compiler vectorises.
                let out = enc.extend_zeroed(items.len() * $size);
                let chunks = out.chunks_exact_mut($size).zip(items);
                match enc_order {
                    ByteOrder::BigEndian => chunks.for_each(|(c, x)| c.copy_from_slice(&x.to_be_bytes())),
                    ByteOrder::LittleEndian => chunks.for_each(|(c, x)| c.copy_from_slice(&x.to_le_bytes())),
                }
                Ok(())
            }
        }

        impl<'a> CdrDecode<'a> for $ty {
            const MIN_WIRE_SIZE: usize = $size;

            #[inline]
            fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
                dec.$read()
            }

            fn decode_vec(dec: &mut Decoder<'a>, n: usize) -> Result<Vec<Self>, DecodeError> {
                if n == 0 {
                    return Ok(Vec::new());
                }
                dec.align_run($size)?;
                let bytes = dec.take(n * $size)?;
                if dec.order() == ByteOrder::NATIVE {
                    // One copy. Message buffers are normally aligned, so the octets can be viewed
                    // as values directly; an unaligned input takes the zero-then-copy path.
                    return Ok(match bytemuck::try_cast_slice::<u8, $ty>(bytes) {
                        Ok(values) => values.to_vec(),
                        Err(_) => bytemuck::pod_collect_to_vec(bytes),
                    });
                }
                let chunks = bytes.chunks_exact($size);
                Ok(match dec.order() {
                    ByteOrder::BigEndian => chunks.map(|c| <$ty>::from_be_bytes(c.try_into().expect("chunk size"))).collect(),
                    ByteOrder::LittleEndian => chunks.map(|c| <$ty>::from_le_bytes(c.try_into().expect("chunk size"))).collect(),
                })
            }
        }
    )*};
}

number_impls! {
    i16, 2, write_short, read_short;
    u16, 2, write_ushort, read_ushort;
    i32, 4, write_long, read_long;
    u32, 4, write_ulong, read_ulong;
    i64, 8, write_longlong, read_longlong;
    u64, 8, write_ulonglong, read_ulonglong;
    f32, 4, write_float, read_float;
    f64, 8, write_double, read_double;
}

impl CdrEncode for u8 {
    #[inline]
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_octet(*self);
        Ok(())
    }

    fn encode_slice(items: &[Self], enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_octets(items);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for u8 {
    const MIN_WIRE_SIZE: usize = 1;

    #[inline]
    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_octet()
    }

    fn decode_vec(dec: &mut Decoder<'a>, n: usize) -> Result<Vec<Self>, DecodeError> {
        Ok(dec.take(n)?.to_vec())
    }
}

impl CdrEncode for bool {
    #[inline]
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_bool(*self);
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for bool {
    const MIN_WIRE_SIZE: usize = 1;

    #[inline]
    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_bool()
    }
}

impl CdrEncode for char {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_char(*self)
    }
}

impl<'a> CdrDecode<'a> for char {
    const MIN_WIRE_SIZE: usize = 1;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_char()
    }
}

impl CdrEncode for LongDouble {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.align(8);
        match enc.order() {
            ByteOrder::BigEndian => enc.write_octets(&self.0),
            ByteOrder::LittleEndian => {
                let mut b = self.0;
                b.reverse();
                enc.write_octets(&b);
            }
        }
        Ok(())
    }
}

impl<'a> CdrDecode<'a> for LongDouble {
    const MIN_WIRE_SIZE: usize = 16;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.align_run(8)?;
        let mut b = [0u8; 16];
        b.copy_from_slice(dec.take(16)?);
        if dec.order() == ByteOrder::LittleEndian {
            b.reverse();
        }
        Ok(LongDouble(b))
    }
}

impl CdrEncode for str {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(self)
    }
}

impl CdrEncode for String {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(self)
    }
}

impl CdrEncode for Cow<'_, str> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_string(self)
    }
}

/// Length word plus at least the NUL.
const STRING_MIN_WIRE_SIZE: usize = 5;

impl<'a> CdrDecode<'a> for String {
    const MIN_WIRE_SIZE: usize = STRING_MIN_WIRE_SIZE;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_string().map(Cow::into_owned)
    }
}

impl<'a> CdrDecode<'a> for Cow<'a, str> {
    const MIN_WIRE_SIZE: usize = STRING_MIN_WIRE_SIZE;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_string()
    }
}

impl<T: CdrEncode> CdrEncode for [T] {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_length(self.len())?;
        T::encode_slice(self, enc)
    }
}

impl<T: CdrEncode> CdrEncode for Vec<T> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        self.as_slice().encode(enc)
    }
}

impl<'a, T: CdrDecode<'a>> CdrDecode<'a> for Vec<T> {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let n = dec.read_seq_len(T::MIN_WIRE_SIZE)?;
        T::decode_vec(dec, n)
    }
}

/// `sequence<octet>` borrowed from the input: no copy.
impl<'a> CdrDecode<'a> for &'a [u8] {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_octet_seq()
    }
}

impl<T: CdrEncode, const N: usize> CdrEncode for [T; N] {
    /// Arrays carry no length (§15.3.2.6).
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        T::encode_slice(self, enc)
    }
}

impl<'a, T: CdrDecode<'a>, const N: usize> CdrDecode<'a> for [T; N] {
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE * N;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let need = T::MIN_WIRE_SIZE.saturating_mul(N);
        if need > dec.remaining() {
            return Err(dec.error(DecodeErrorKind::Truncated {
                needed: need,
                remaining: dec.remaining(),
            }));
        }
        let v = T::decode_vec(dec, N)?;
        Ok(v.try_into()
            .unwrap_or_else(|_| unreachable!("decode_vec returns N values")))
    }
}

impl<T: CdrEncode + ?Sized> CdrEncode for &T {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        (**self).encode(enc)
    }
}

impl<T: CdrEncode + ?Sized> CdrEncode for Box<T> {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        (**self).encode(enc)
    }
}

impl<'a, T: CdrDecode<'a>> CdrDecode<'a> for Box<T> {
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        T::decode(dec).map(Box::new)
    }
}

/// IDL `wchar` (Rust's `char` is IDL `char`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct WChar(pub char);

impl CdrEncode for WChar {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_wchar(self.0)
    }
}

impl<'a> CdrDecode<'a> for WChar {
    const MIN_WIRE_SIZE: usize = 2;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_wchar().map(WChar)
    }
}

/// IDL `wstring` (Rust's `String` is IDL `string`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct WString(pub String);

impl std::ops::Deref for WString {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for WString {
    fn from(s: &str) -> WString {
        WString(s.to_owned())
    }
}

impl From<String> for WString {
    fn from(s: String) -> WString {
        WString(s)
    }
}

impl CdrEncode for WString {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        enc.write_wstring(&self.0)
    }
}

impl<'a> CdrDecode<'a> for WString {
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        dec.read_wstring().map(WString)
    }
}
