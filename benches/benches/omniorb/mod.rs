//! omniORB's side of the comparison: a safe handle on the C++ benches of
//! `benches/omniorb/cdr_bench.cc`, built and linked by `benches/build.rs`.
//!
//! This is the benches crate's only `unsafe` code (its library is `forbid(unsafe_code)`; this
//! module belongs to the `wire` bench target, which is not). Each C++ bench is prepared once,
//! outside the timed region, and then runs a whole batch of iterations per call, so that the
//! cost of crossing the FFI boundary does not distort nanosecond figures; criterion times the
//! batches with `iter_custom` (see [`Bench::time`]).

use std::ffi::c_void;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

/// What a [`Bench`] measures; the values are `Kind` in `cdr_bench.cc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Kind {
    /// `seq >>= stream` of a `CORBA::LongSeq` into a rewound `cdrMemoryStream`.
    SeqEncode = 0,
    /// `seq <<= stream` into a fresh `CORBA::LongSeq` from a read-only `cdrMemoryStream`.
    SeqDecode = 1,
    /// Stringified IOR to `IOP::IOR`, as `omniObjRef::_fromString` does before building the
    /// object reference.
    IorDecode = 2,
    /// [`Kind::IorDecode`], then `IIOP::unmarshalProfile` of the first profile.
    IorAndProfile = 3,
    /// `CORBA::ORB::string_to_object` (and release): [`Kind::IorDecode`] plus building an
    /// object reference, which rtorb's benches do not do.
    StringToObject = 4,
    /// A GIOP 1.2 `cube_seq` Request marshalled field by field into a `cdrMemoryStream`, then
    /// unmarshalled as omniORB's server does.
    Request = 5,
}

extern "C" {
    fn rtorb_omni_bench_new(
        kind: i32,
        values: *const i32,
        nvalues: usize,
        input: *const u8,
        input_len: usize,
        swapped: i32,
    ) -> *mut c_void;
    fn rtorb_omni_bench_run(bench: *mut c_void, iters: u64, checksum: *mut u64) -> i32;
    fn rtorb_omni_bench_verify(bench: *mut c_void, checksum: *mut u64) -> i32;
    fn rtorb_omni_bench_output(bench: *mut c_void, out: *mut u8, cap: usize) -> usize;
    fn rtorb_omni_bench_free(bench: *mut c_void);
}

/// A prepared omniORB bench, owned: freed on drop. Not `Send`: an omniORB stream is used by
/// one thread at a time, and criterion never moves a bench to another thread.
pub struct Bench {
    ptr: NonNull<c_void>,
    kind: Kind,
}

impl Bench {
    /// Prepares a bench of `kind`. `values`: the `sequence<long>` to encode ([`Kind::SeqEncode`],
    /// [`Kind::Request`]); `input`: the octets to decode ([`Kind::SeqDecode`]), the object key
    /// ([`Kind::Request`]) or the stringified IOR (the IOR kinds); `swapped`: use the byte order
    /// that is not this machine's (the sequence kinds).
    pub fn new(kind: Kind, values: &[i32], input: &[u8], swapped: bool) -> Bench {
        // SAFETY: the pointer/length pairs describe live slices for the duration of the call
        // (an empty slice's dangling pointer is never read: the C++ copies `len` elements);
        // the C++ copies what it needs and keeps no pointer into them, and catches every C++
        // exception so none unwinds into Rust.
        let ptr = unsafe {
            rtorb_omni_bench_new(
                kind as i32,
                values.as_ptr(),
                values.len(),
                input.as_ptr(),
                input.len(),
                i32::from(swapped),
            )
        };
        let ptr =
            NonNull::new(ptr).unwrap_or_else(|| panic!("omniORB bench {kind:?}: setup failed"));
        Bench { ptr, kind }
    }

    /// Runs `iters` iterations; returns a checksum of what they produced, which the caller
    /// must use (`black_box`) so that the work cannot be optimised away.
    pub fn run(&mut self, iters: u64) -> u64 {
        let mut checksum = 0;
        // SAFETY: `self.ptr` came from `rtorb_omni_bench_new` and is not yet freed; `&mut self`
        // means no other call uses it meanwhile; `checksum` is a valid `u64` to write.
        let rc = unsafe { rtorb_omni_bench_run(self.ptr.as_ptr(), iters, &mut checksum) };
        assert_eq!(rc, 0, "omniORB bench {:?} threw", self.kind);
        checksum
    }

    /// Criterion's `iter_custom` routine: the wall time of one batch of `iters` iterations.
    pub fn time(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let checksum = self.run(iters);
        let elapsed = start.elapsed();
        std::hint::black_box(checksum);
        elapsed
    }

    /// Runs one iteration and returns a checksum over all of its result (what each kind sums
    /// is documented beside its `*_once` function in `cdr_bench.cc`).
    pub fn verify(&mut self) -> u64 {
        let mut checksum = 0;
        // SAFETY: as in `run`.
        let rc = unsafe { rtorb_omni_bench_verify(self.ptr.as_ptr(), &mut checksum) };
        assert_eq!(rc, 0, "omniORB bench {:?} threw", self.kind);
        checksum
    }

    /// The octets the last iteration wrote ([`Kind::SeqEncode`] and [`Kind::Request`]).
    pub fn output(&mut self) -> Vec<u8> {
        // SAFETY: as in `run`; a null `out` with `cap` 0 is never written to, and the second
        // call writes at most `buf.len()` octets into `buf`'s allocation.
        unsafe {
            let len = rtorb_omni_bench_output(self.ptr.as_ptr(), std::ptr::null_mut(), 0);
            let mut buf = vec![0u8; len];
            let written = rtorb_omni_bench_output(self.ptr.as_ptr(), buf.as_mut_ptr(), buf.len());
            assert_eq!(written, len);
            buf
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` came from `rtorb_omni_bench_new` and is freed exactly once, here.
        unsafe { rtorb_omni_bench_free(self.ptr.as_ptr()) }
    }
}
