//! Arbitrary octets as an `any` (a TypeCode, recursive ones and indirections included, then a
//! value it drives). What decodes must encode, decode again and encode to the same octets; the
//! round-trip checks live in `orb::typecode::fuzz_any` so that unit tests can call them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| orb::typecode::fuzz_any(data));
