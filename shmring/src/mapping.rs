//! The shared segment: an anonymous, sealed memfd mapped `MAP_SHARED`, and the only place in
//! the crate with `unsafe` code. Everything else reaches the memory through the bounds-checked
//! accessors here: atomics at fixed, aligned offsets, byte copies in and out, and published
//! octets lent in place for the length of a closure.
//!
//! A memfd has no name in any file system, so a segment cannot outlive the last process that
//! maps it or holds its descriptor: there is nothing to reap after a crash. Its size is sealed
//! (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`) before it is shared, so the peer cannot shrink
//! it under our mapping (an access past the end of a shrunk file would be `SIGBUS`).

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// The seals a segment must carry before this side maps it.
const REQUIRED_SEALS: SealFlags = SealFlags::SHRINK.union(SealFlags::GROW);

/// A shared mapping of a whole memfd, unmapped on drop.
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; every access goes through atomics
// or through raw copies that never form references to the shared bytes, so sharing the value
// between threads adds no aliasing of Rust references.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` only hands out `&AtomicU32`/`&AtomicU64` (which are `Sync`)
// and copies bytes with raw pointer operations.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Creates a memfd of `len` octets named `name` (shown in `/proc/PID/maps` and
    /// `/proc/PID/fd`, for diagnostics only), seals its size and maps it. Returns the mapping
    /// and the descriptor to pass to the peer.
    pub(crate) fn create(name: &str, len: usize) -> io::Result<(Mapping, OwnedFd)> {
        let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        rustix::fs::ftruncate(&fd, len as u64)?;
        rustix::fs::fcntl_add_seals(&fd, REQUIRED_SEALS | SealFlags::SEAL)?;
        let map = Mapping::map_checked(&fd, len)?;
        Ok((map, fd))
    }

    /// Maps a memfd received from a peer, after checking that its size is sealed and that it
    /// is exactly `len` octets long.
    pub(crate) fn open(fd: &OwnedFd, len: usize) -> io::Result<Mapping> {
        let seals = rustix::fs::fcntl_get_seals(fd).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the peer's segment is not a sealable memfd: {e}"),
            )
        })?;
        if !seals.contains(REQUIRED_SEALS) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the peer's segment does not seal its size (F_SEAL_SHRINK | F_SEAL_GROW)",
            ));
        }
        Mapping::map_checked(fd, len)
    }

    /// The size of a memfd received from a peer.
    pub(crate) fn size_of(fd: &OwnedFd) -> io::Result<u64> {
        Ok(rustix::fs::fstat(fd)?.st_size as u64)
    }

    fn map_checked(fd: &OwnedFd, len: usize) -> io::Result<Mapping> {
        let size = Mapping::size_of(fd)?;
        if size != len as u64 || len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("segment of {size} octets, expected {len}"),
            ));
        }
        // `POPULATE`: every page is in place (allocated by the client, which creates the
        // memfd; mapped by the server) before the first message, rather than faulted in by the
        // first message to reach it: a first write to a page of a fresh memfd took ~4 µs here,
        // so on a young connection one small call in ~40 paid it (its ring's next 4 KiB page),
        // until the ring had gone round once. A connection thus holds its rings from its start
        // rather than from its first lap; the size is bounded by `MAX_CAPACITY` and checked
        // above before anything is mapped.
        //
        // SAFETY: a fresh mapping at an address the kernel chooses (null hint, no MAP_FIXED),
        // so it replaces nothing of ours; `len` is the file's sealed size, so every octet of
        // the mapping is backed by the file for the mapping's whole life.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::POPULATE,
                fd.as_fd(),
                0,
            )?
        };
        let base = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(Mapping { base, len })
    }

    fn check(&self, offset: usize, size: usize, align: usize) {
        // The offsets are the crate's own layout constants, validated against the segment's
        // size when it was opened: failing here is a bug in this crate, not bad input.
        assert!(
            offset % align == 0 && offset.checked_add(size).is_some_and(|e| e <= self.len),
            "segment access out of bounds: {size} octets at {offset} of {}",
            self.len
        );
    }

    pub(crate) fn u32_at(&self, offset: usize) -> &AtomicU32 {
        self.check(offset, 4, 4);
        // SAFETY: in bounds and 4-aligned (checked; the base is page-aligned), the memory lives
        // as long as `self`, and it is only ever accessed atomically (by both processes) at
        // this offset.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU32>() }
    }

    pub(crate) fn u64_at(&self, offset: usize) -> &AtomicU64 {
        self.check(offset, 8, 8);
        // SAFETY: as in `u32_at`, 8-aligned.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    /// Copies `src` into the segment at `offset`.
    pub(crate) fn write_bytes(&self, offset: usize, src: &[u8]) {
        self.check(offset, src.len(), 1);
        // SAFETY: the destination is in bounds (checked) and cannot overlap `src`, which is
        // process memory outside the mapping (a `&[u8]` into the mapping is never formed).
        // The ring protocol gives the producer exclusive use of the free part it writes (the
        // consumer reads only below the published tail); a peer breaking that protocol can
        // only garble message octets, which the framing above validates.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.base.as_ptr().add(offset), src.len())
        }
    }

    /// Lends `len` octets of the segment at `offset` to `f`, in place: the zero-copy read.
    ///
    /// Only for octets the peer has published (below the tail read with Acquire ordering),
    /// which the ring protocol forbids it to write until this side hands them back by
    /// publishing its head — after `f` returns, since the head is published by the caller.
    pub(crate) fn with_bytes<R>(&self, offset: usize, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        self.check(offset, len, 1);
        // SAFETY: in bounds (checked), and the memory lives as long as `self`, which the
        // borrow cannot outlive (it ends with `f`). Nothing in this process writes these
        // octets meanwhile: this side writes only the other ring. A peer that follows the
        // ring protocol does not write them either (they are published and not yet handed
        // back); one that breaks it can only change octets of its own messages under our
        // eyes, as it could before a copy — what reads them validates them (GIOP framing).
        let bytes = unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset), len) };
        f(bytes)
    }

    /// Copies octets of the segment at `offset` into `dst`.
    pub(crate) fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
        self.check(offset, dst.len(), 1);
        // SAFETY: the source is in bounds (checked) and cannot overlap `dst`; the octets were
        // published by the producer before the tail this side read with Acquire ordering.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.base.as_ptr().add(offset),
                dst.as_mut_ptr(),
                dst.len(),
            )
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what `mmap` returned, and no reference into the
        // mapping outlives `self` (the accessors borrow `self`).
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}
