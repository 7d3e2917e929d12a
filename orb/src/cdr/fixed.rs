//! IDL `fixed<digits, scale>` (§15.3.2.8): packed BCD, two digits an octet, most significant
//! first, the last half-octet the sign (0xC positive, 0xD negative). The wire carries only the
//! digits; the scale comes from the IDL type.

use super::{DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder};
use std::fmt;

/// Largest `digits` IDL allows for a fixed type.
pub const MAX_DIGITS: u16 = 31;

/// A decimal fixed-point number: `value × 10^-scale`. 31 digits fit an `i128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Fixed {
    pub value: i128,
    pub scale: u16,
}

impl Fixed {
    pub const fn new(value: i128, scale: u16) -> Fixed {
        Fixed { value, scale }
    }

    /// The same number at another scale; extra digits are truncated toward zero, as the
    /// specification says for assignment to a fixed type with a smaller scale.
    pub fn rescale(self, scale: u16) -> Option<Fixed> {
        let value = if scale >= self.scale {
            let f = 10i128.checked_pow((scale - self.scale) as u32)?;
            self.value.checked_mul(f)?
        } else {
            let f = 10i128.checked_pow((self.scale - scale) as u32)?;
            self.value / f
        };
        Some(Fixed { value, scale })
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.value.unsigned_abs().to_string();
        let sign = if self.value < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

fn wire_len(digits: u16) -> usize {
    // digits + 1 sign half-octet, rounded up to whole octets.
    (digits as usize + 2) / 2
}

impl Encoder {
    /// Writes `v` as a `fixed<digits, scale>`.
    pub fn write_fixed(&mut self, v: &Fixed, digits: u16, scale: u16) -> Result<(), EncodeError> {
        if digits > MAX_DIGITS || scale > digits {
            return Err(EncodeError::Invalid(
                "fixed type must have scale <= digits <= 31",
            ));
        }
        let scaled = v
            .rescale(scale)
            .ok_or_else(|| EncodeError::FixedOverflow(v.to_string(), digits))?;
        let mut mag = scaled.value.unsigned_abs();
        let n = wire_len(digits);
        let mut out = [0u8; 16];
        let nibbles = n * 2;
        // Fill half-octets from the right: sign, then digits least significant first.
        let sign = if scaled.value < 0 { 0xd } else { 0xc };
        let mut set = |i: usize, v: u8| {
            let byte = i / 2;
            if i % 2 == 0 {
                out[byte] |= v << 4;
            } else {
                out[byte] |= v;
            }
        };
        set(nibbles - 1, sign);
        for i in (0..nibbles - 1).rev() {
            set(i, (mag % 10) as u8);
            mag /= 10;
        }
        if mag != 0 {
            return Err(EncodeError::FixedOverflow(v.to_string(), digits));
        }
        self.write_octets(&out[..n]);
        Ok(())
    }
}

impl Decoder<'_> {
    /// Reads a `fixed<digits, scale>`.
    pub fn read_fixed(&mut self, digits: u16, scale: u16) -> Result<Fixed, DecodeError> {
        if digits > MAX_DIGITS || scale > digits {
            return Err(self.error(DecodeErrorKind::Invalid(
                "fixed type must have scale <= digits <= 31",
            )));
        }
        let at = self.offset();
        let bytes = self.take(wire_len(digits))?;
        let bad = || DecodeError::new(DecodeErrorKind::InvalidFixed, at);
        let mut value: i128 = 0;
        let nibbles = bytes.len() * 2;
        for i in 0..nibbles - 1 {
            let b = bytes[i / 2];
            let d = if i % 2 == 0 { b >> 4 } else { b & 0xf };
            if d > 9 {
                return Err(bad());
            }
            value = value * 10 + d as i128;
        }
        let negative = match bytes[bytes.len() - 1] & 0xf {
            0xd | 0xb => true,
            0xc | 0xa | 0xe | 0xf => false,
            _ => return Err(bad()),
        };
        Ok(Fixed {
            value: if negative { -value } else { value },
            scale,
        })
    }
}
