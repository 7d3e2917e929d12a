//! The contract between `idlc` and the ORB: everything code generated from IDL uses, and
//! nothing else. Generated code names the runtime only as `::orb::codegen::...`, so the rest of
//! the ORB can move freely as long as this module keeps its shape (as tonic's `codegen` and
//! capnp's `private` modules do).
//!
//! Besides re-exports it holds the few helpers generated code calls: bound checks, the
//! repository-id check of a user exception, and the run-time half of the perfect hash that
//! skeletons look operations up with (`idlc` computes the other half at generation time and
//! must hash exactly as [`phf_hash`] does; `idlc`'s tests check that they agree).
//!
//! Not for hand-written code: it is `#[doc(hidden)]` and may change with `idlc`.

pub use crate::cdr::local::{LocalRef, Native};
pub use crate::cdr::value::{
    read_custom, register_custom_marshaling, register_value_factory, write_custom, ValueFactories,
    ValueFactory, ValueGraph, ValueHandle, ValueInput, ValueOutput, ValueRef, ValueType,
};
pub use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder,
    Fixed, LongDouble, ResultExt, WChar, WString,
};
pub use crate::exception::{SystemException, SystemExceptionKind, UserException};
pub use crate::giop::CompletionStatus;
pub use crate::iop::Ior;
pub use crate::object::{AbstractRef, ObjectRef, Reply, ReplyOutcome};
pub use crate::servant::{upcast, Servant, ServantRef};
pub use crate::typecode::{Any, AnyError, AnyType, TCKind, TypeCode, UnionLabel, Value};
pub use std::any::Any as StdAny;
pub use std::collections::HashMap;
pub use std::sync::Arc;
pub use std::sync::LazyLock;

/// The repository id every interface implicitly inherits: `_is_a` answers true for it.
pub const OBJECT_REPOSITORY_ID: &str = "IDL:omg.org/CORBA/Object:1.0";

/// What a skeleton's `dispatch` put in the reply encoder: the results of a normal return, or a
/// user exception (its repository id, then its members). System exceptions are the `Err` side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispatchStatus {
    NoException,
    UserException,
}

/// Fails with [`EncodeError::BoundExceeded`] when a bounded sequence or string is too long.
#[inline]
pub fn check_bound(length: usize, bound: u32) -> Result<(), EncodeError> {
    if length > bound as usize {
        return Err(EncodeError::BoundExceeded {
            length,
            bound: bound as usize,
        });
    }
    Ok(())
}

/// [`check_bound`] for a `string<N>` / `wstring<N>`, whose bound counts characters (as
/// [`Decoder::read_bounded_string`] does).
#[inline]
pub fn check_string_bound(s: &str, bound: u32) -> Result<(), EncodeError> {
    // Cheap exit: no string has more characters than octets.
    if s.len() <= bound as usize {
        return Ok(());
    }
    check_bound(s.chars().count(), bound)
}

/// Reads a bounded `wstring<N>`.
pub fn read_bounded_wstring(dec: &mut Decoder<'_>, bound: u32) -> Result<WString, DecodeError> {
    let at = dec.offset();
    let s = dec.read_wstring()?;
    let len = s.chars().count();
    if len > bound as usize {
        return Err(DecodeError::new(
            DecodeErrorKind::BoundExceeded {
                length: len as u64,
                bound: bound as u64,
            },
            at,
        ));
    }
    Ok(WString(s))
}

/// Turns the `N` values decoded for an array into the array.
#[inline]
pub fn into_array<T, const N: usize>(v: Vec<T>, dec: &Decoder<'_>) -> Result<[T; N], DecodeError> {
    v.try_into()
        .map_err(|_| dec.error(DecodeErrorKind::Invalid("array has the wrong length")))
}

/// Reads a user exception's repository id and checks it is `expected`.
pub fn expect_repository_id(dec: &mut Decoder<'_>, expected: &str) -> Result<(), DecodeError> {
    let at = dec.offset();
    let id = dec.read_string()?;
    if id != expected {
        return Err(DecodeError::new(
            DecodeErrorKind::Invalid("unexpected exception repository id"),
            at,
        ));
    }
    Ok(())
}

/// Writes a `string<bound>`.
pub fn encode_bounded_string(enc: &mut Encoder, s: &str, bound: u32) -> Result<(), EncodeError> {
    check_string_bound(s, bound)?;
    enc.write_string(s)
}

/// Writes a `wstring<bound>`.
pub fn encode_bounded_wstring(
    enc: &mut Encoder,
    s: &WString,
    bound: u32,
) -> Result<(), EncodeError> {
    check_string_bound(&s.0, bound)?;
    enc.write_wstring(&s.0)
}

/// Writes a `sequence<T, bound>` of elements that encode themselves.
pub fn encode_bounded_seq<T: CdrEncode>(
    enc: &mut Encoder,
    items: &[T],
    bound: u32,
) -> Result<(), EncodeError> {
    check_bound(items.len(), bound)?;
    items.encode(enc)
}

/// Writes a sequence element by element with `f` (bound 0: unbounded), for elements whose
/// encoding needs more than their Rust type (bounds, `fixed`).
pub fn encode_seq_with<T>(
    enc: &mut Encoder,
    items: &[T],
    bound: u32,
    mut f: impl FnMut(&T, &mut Encoder) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    if bound != 0 {
        check_bound(items.len(), bound)?;
    }
    enc.write_length(items.len())?;
    items.iter().try_for_each(|x| f(x, enc))
}

/// Writes an array element by element with `f` (arrays carry no length).
pub fn encode_array_with<T, const N: usize>(
    enc: &mut Encoder,
    items: &[T; N],
    mut f: impl FnMut(&T, &mut Encoder) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    items.iter().try_for_each(|x| f(x, enc))
}

/// Reads a `string<bound>`.
pub fn decode_bounded_string(dec: &mut Decoder<'_>, bound: u32) -> Result<String, DecodeError> {
    dec.read_bounded_string(bound)
        .map(std::borrow::Cow::into_owned)
}

/// Reads a `sequence<T, bound>` of elements that decode themselves.
pub fn decode_bounded_seq<'a, T: CdrDecode<'a>>(
    dec: &mut Decoder<'a>,
    bound: u32,
) -> Result<Vec<T>, DecodeError> {
    let n = dec.read_bounded_len(T::MIN_WIRE_SIZE, bound)?;
    T::decode_vec(dec, n)
}

/// Reads a sequence element by element with `f` (bound 0: unbounded); `min` is the least
/// wire size of an element, to refuse impossible lengths before allocating.
pub fn decode_seq_with<'a, T>(
    dec: &mut Decoder<'a>,
    bound: u32,
    min: usize,
    mut f: impl FnMut(&mut Decoder<'a>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let n = if bound == 0 {
        dec.read_seq_len(min)?
    } else {
        dec.read_bounded_len(min, bound)?
    };
    let mut v = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        v.push(f(dec)?);
    }
    Ok(v)
}

/// Reads an array element by element with `f`.
pub fn decode_array_with<'a, T, const N: usize>(
    dec: &mut Decoder<'a>,
    min: usize,
    mut f: impl FnMut(&mut Decoder<'a>) -> Result<T, DecodeError>,
) -> Result<[T; N], DecodeError> {
    let need = min.saturating_mul(N);
    if need > dec.remaining() {
        return Err(dec.error(DecodeErrorKind::Truncated {
            needed: need,
            remaining: dec.remaining(),
        }));
    }
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        v.push(f(dec)?);
    }
    into_array(v, dec)
}

/// Maps a failure to encode a reply to the system exception the caller gets: the servant
/// already ran, so it is completed YES.
#[inline]
pub fn reply_ok(r: Result<(), EncodeError>) -> Result<(), SystemException> {
    r.map_err(|e| SystemException::from(e).completed(CompletionStatus::Yes))
}

/// Maps a failure to decode a reply's results to the system exception the caller gets: the
/// servant already ran, so it is completed YES (omniORB: `MARSHAL`, as here).
#[inline]
pub fn reply_decode<T>(r: Result<T, DecodeError>) -> Result<T, SystemException> {
    r.map_err(|e| SystemException::from(e).completed(CompletionStatus::Yes))
}

/// `UNKNOWN` (minor 1, completed YES): the server raised a user exception the operation does
/// not declare.
pub fn unknown_user_exception() -> SystemException {
    SystemException::new(
        crate::exception::SystemExceptionKind::UNKNOWN,
        crate::exception::minor::UNKNOWN_USER_EXCEPTION,
        CompletionStatus::Yes,
    )
}

/// A typed reference's collocated fast path: the implementation behind `obj` as `Arc<I>`
/// when the ORB lets calls to it bypass the transport and the servant implements the
/// interface `id`.
pub fn collocated<I: ?Sized + 'static>(obj: &ObjectRef, id: &str) -> Option<Arc<I>> {
    upcast::<I>(&*obj.collocated_servant()?, id)
}

/// `narrow`: whether `obj` is non-nil and implements `id` (a remote `_is_a` unless the ORB
/// knows the answer locally or the IOR's type id is `id` already).
pub fn narrow_check(obj: &ObjectRef, id: &str) -> Result<bool, SystemException> {
    if obj.is_nil() {
        return Ok(false);
    }
    if obj.type_id() == id {
        return Ok(true);
    }
    obj.is_a(id)
}

/// Encodes a user exception as a reply body (repository id, then members).
pub fn reply_user_exception<E: UserException>(
    enc: &mut Encoder,
    e: &E,
) -> Result<DispatchStatus, SystemException> {
    reply_ok(e.encode(enc))?;
    Ok(DispatchStatus::UserException)
}

/// `_is_a`: reads the repository id asked about and answers with `is_a(id)`.
pub fn reply_is_a(
    args: &mut Decoder<'_>,
    reply: &mut Encoder,
    is_a: impl FnOnce(&str) -> bool,
) -> Result<DispatchStatus, SystemException> {
    let id = args.read_string().field("logical_type_id")?;
    reply.write_bool(is_a(&id));
    Ok(DispatchStatus::NoException)
}

/// `_non_existent`: a servant that is dispatched to exists.
pub fn reply_non_existent(reply: &mut Encoder) -> Result<DispatchStatus, SystemException> {
    reply.write_bool(false);
    Ok(DispatchStatus::NoException)
}

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xd6e8_feb8_6659_fd93;
const K2: u64 = 0xa076_1d64_78bd_642f;

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Eight octets as a little-endian word (zero if out of range, which callers rule out).
#[inline(always)]
fn read8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn read4(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, |w: [u8; 4]| u32::from_le_bytes(w) as u64)
}

/// The perfect hash's key hash: whole eight-octet words folded in by a 64×64→128-bit multiply
/// (wyhash's mixing), the tail read as one overlapping word rather than copied, so a short
/// operation name costs a few multiplies and no call.
#[inline(always)]
pub fn phf_hash(key: &[u8], seed: u64) -> u64 {
    let len = key.len();
    let mut h = seed ^ K0.wrapping_mul(len as u64 + 1);
    let (a, b) = if len > 8 {
        let mut at = 0;
        while at + 8 < len {
            h = fold_mul(h ^ read8(key, at), K1);
            at += 8;
        }
        (read8(key, len - 8), 0)
    } else if len >= 4 {
        (read4(key, 0), read4(key, len - 4))
    } else if len > 0 {
        let b = |i: usize| key.get(i).copied().unwrap_or(0) as u64;
        ((b(0) << 16) | (b(len / 2) << 8) | b(len - 1), 0)
    } else {
        (0, 0)
    };
    fold_mul(h ^ a, K2 ^ b)
}

/// `x` mapped onto `0..n` by a multiply and a shift (Lemire's "fastrange"): a division costs
/// more than everything else in a lookup.
#[inline(always)]
fn reduce(x: u32, n: usize) -> usize {
    ((x as u64 * n as u64) >> 32) as usize
}

/// The table slot of a key with hash `hash` (hash-and-displace, as the `phf` crate does): the
/// hash picks a bucket, the bucket's displacements `(d1, d2)` place the key. `len` is the
/// table's length; a key not in the table lands on some slot whose name then differs.
#[inline(always)]
pub fn phf_slot(hash: u64, displacements: &[(u32, u32)], len: usize) -> usize {
    let g = reduce(fold_mul(hash, K0) as u32, displacements.len());
    let (d1, d2) = displacements.get(g).copied().unwrap_or((0, 0));
    let (f1, f2) = (hash as u32, (hash >> 32) as u32);
    // d2 is spread over the high bits, which are the ones `reduce` keeps.
    let x = f1
        .wrapping_mul(d1)
        .wrapping_add(f2)
        .wrapping_add(d2.wrapping_mul(0x9e37_79b9));
    reduce(x, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_octet_and_the_length() {
        let base = phf_hash(b"echo_string", 1);
        assert_ne!(base, phf_hash(b"echo_strinG", 1));
        assert_ne!(base, phf_hash(b"echo_string\0", 1));
        assert_ne!(base, phf_hash(b"echo_string", 2));
        assert_ne!(phf_hash(b"", 0), phf_hash(b"\0", 0));
    }

    #[test]
    fn slot_is_in_range_even_for_empty_tables() {
        for k in [&b""[..], b"a", b"_is_a", b"a_much_longer_operation_name"] {
            let h = phf_hash(k, 7);
            assert!(phf_slot(h, &[(3, 4), (5, 6)], 7) < 7);
            assert_eq!(phf_slot(h, &[], 0), 0);
            assert_eq!(phf_slot(h, &[], 1), 0);
        }
    }

    #[test]
    fn bounds() {
        assert!(check_bound(3, 3).is_ok());
        assert!(check_bound(4, 3).is_err());
        assert!(check_string_bound("ééé", 3).is_ok());
        assert!(check_string_bound("éééé", 3).is_err());
    }
}
