//! omniORB's side of the `values` bench: a safe handle on `benches/omniorb/value_bench.cc`,
//! built and linked by `benches/build.rs`. The `values` bench target's only `unsafe` code, as
//! `mod.rs` is the `wire` bench's. One FFI call runs a whole batch of iterations.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

extern "C" {
    fn rtorb_omni_values_new(
        next: *const i32,
        other: *const i32,
        n: usize,
        input: *const u8,
        input_len: usize,
    ) -> *mut c_void;
    fn rtorb_omni_values_encode(bench: *mut c_void, iters: u64, checksum: *mut u64) -> i32;
    fn rtorb_omni_values_decode(bench: *mut c_void, iters: u64, checksum: *mut u64) -> i32;
    fn rtorb_omni_values_verify(bench: *mut c_void, checksum: *mut u64) -> i32;
    fn rtorb_omni_values_output(bench: *mut c_void, out: *mut u8, cap: usize) -> usize;
    fn rtorb_omni_values_free(bench: *mut c_void);
}

/// omniORB's copy of the graph (built from index arrays: the node each node's `next` and
/// `other` point at, -1 for null) and the octets it decodes. Freed on drop; used by one thread.
pub struct ValueBench {
    ptr: NonNull<c_void>,
}

impl ValueBench {
    pub fn new(next: &[i32], other: &[i32], input: &[u8]) -> ValueBench {
        assert_eq!(next.len(), other.len(), "one next and one other per node");
        // SAFETY: the pointer/length pairs describe live slices for the duration of the call
        // (`other` is as long as `next`); the C++ copies what it needs, keeps no pointer into
        // them and catches every C++ exception.
        let ptr = unsafe {
            rtorb_omni_values_new(
                next.as_ptr(),
                other.as_ptr(),
                next.len(),
                input.as_ptr(),
                input.len(),
            )
        };
        let ptr = NonNull::new(ptr).expect("omniORB value bench: setup failed");
        ValueBench { ptr }
    }

    /// The wall time of `iters` encodes of the graph.
    pub fn encode(&mut self, iters: u64) -> Duration {
        self.timed(iters, rtorb_omni_values_encode)
    }

    /// The wall time of `iters` decodes (and frees) of the input octets.
    pub fn decode(&mut self, iters: u64) -> Duration {
        self.timed(iters, rtorb_omni_values_decode)
    }

    fn timed(
        &mut self,
        iters: u64,
        run: unsafe extern "C" fn(*mut c_void, u64, *mut u64) -> i32,
    ) -> Duration {
        let mut checksum = 0;
        let start = Instant::now();
        // SAFETY: `self.ptr` came from `rtorb_omni_values_new` and is not yet freed; `&mut
        // self` means no other call uses it meanwhile; `checksum` is a valid `u64` to write.
        let rc = unsafe { run(self.ptr.as_ptr(), iters, &mut checksum) };
        let elapsed = start.elapsed();
        assert_eq!(rc, 0, "omniORB value bench threw");
        std::hint::black_box(checksum);
        elapsed
    }

    /// Decodes the input once: the shape checksum of what omniORB read (see
    /// `shape_checksum` in values.rs).
    pub fn verify(&mut self) -> u64 {
        let mut checksum = 0;
        // SAFETY: as in `timed`.
        let rc = unsafe { rtorb_omni_values_verify(self.ptr.as_ptr(), &mut checksum) };
        assert_eq!(rc, 0, "omniORB value bench threw");
        checksum
    }

    /// The octets of the last encode.
    pub fn output(&mut self) -> Vec<u8> {
        // SAFETY: as in `timed`; a null `out` with `cap` 0 is never written to, and the second
        // call writes at most `buf.len()` octets into `buf`'s allocation.
        unsafe {
            let len = rtorb_omni_values_output(self.ptr.as_ptr(), std::ptr::null_mut(), 0);
            let mut buf = vec![0u8; len];
            let written = rtorb_omni_values_output(self.ptr.as_ptr(), buf.as_mut_ptr(), buf.len());
            assert_eq!(written, len);
            buf
        }
    }
}

impl Drop for ValueBench {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` came from `rtorb_omni_values_new` and is freed exactly once, here.
        unsafe { rtorb_omni_values_free(self.ptr.as_ptr()) }
    }
}
