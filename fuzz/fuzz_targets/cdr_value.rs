//! Arbitrary octets as one value of the sample value types (a graph node, a truncatable base and
//! derived pair, a value box), read by a receiver that knows them all or only the base. What
//! decodes must encode, decode again as the same graph and encode to the same octets; the
//! checks live in `orb::cdr::value::samples::fuzz_value` so that unit tests can call them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| orb::cdr::value::samples::fuzz_value(data));
