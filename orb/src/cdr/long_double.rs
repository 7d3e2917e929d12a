//! IDL `long double`: an IEEE 754 binary128 value, 16 octets aligned on 8 (§15.3.1.3).
//!
//! Rust has no stable 128-bit float, so the value is kept as its bits (exactly what the peer
//! sent, returned unchanged) with conversions to and from `f64`.

/// The bits of an IEEE binary128 number, most significant octet first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LongDouble(pub [u8; 16]);

const F64_BIAS: i32 = 1023;
const F128_BIAS: i32 = 16383;

impl LongDouble {
    /// Exact: every f64 is a binary128 value.
    pub fn from_f64(v: f64) -> LongDouble {
        let bits = v.to_bits();
        let sign = (bits >> 63) as u128;
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let mut mant = (bits & ((1u64 << 52) - 1)) as u128;
        let (e128, m128) = match exp {
            0 if mant == 0 => (0u128, 0u128),
            0 => {
                // Subnormal f64: normalise, binary128's range covers it as a normal number.
                let shift = mant.leading_zeros() - (128 - 52);
                mant <<= shift + 1;
                mant &= (1u128 << 52) - 1;
                let e = 1 - F64_BIAS - shift as i32 - 1 + F128_BIAS;
                (e as u128, mant << 60)
            }
            0x7ff => (0x7fff, mant << 60),
            e => ((e - F64_BIAS + F128_BIAS) as u128, mant << 60),
        };
        LongDouble(((sign << 127) | (e128 << 112) | m128).to_be_bytes())
    }

    /// Nearest f64 (rounding toward zero in the mantissa), ±infinity beyond its range.
    pub fn to_f64(self) -> f64 {
        let bits = u128::from_be_bytes(self.0);
        let sign = ((bits >> 127) as u64) << 63;
        let exp = ((bits >> 112) & 0x7fff) as i32;
        let mant = bits & ((1u128 << 112) - 1);
        if exp == 0x7fff {
            let m = (mant >> 60) as u64;
            // Keep NaN a NaN even when its payload lives only in the low bits.
            let m = if mant != 0 && m == 0 { 1 } else { m };
            return f64::from_bits(sign | (0x7ff << 52) | m);
        }
        if exp == 0 && mant == 0 {
            return f64::from_bits(sign);
        }
        let e = exp - F128_BIAS + F64_BIAS;
        if e >= 0x7ff {
            return f64::from_bits(sign | (0x7ff << 52));
        }
        if e <= 0 {
            // Subnormal in f64 (or underflow to zero).
            let shift = 1 - e;
            if shift > 53 {
                return f64::from_bits(sign);
            }
            let full = (mant >> 60) as u64 | (1u64 << 52);
            return f64::from_bits(sign | (full >> shift));
        }
        f64::from_bits(sign | ((e as u64) << 52) | (mant >> 60) as u64)
    }
}
