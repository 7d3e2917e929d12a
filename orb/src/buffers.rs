//! Message buffers from a thread-local pool (the design's thread-specific-storage allocator):
//! a thread that sends request after request, or serves them, reuses the same few buffers,
//! with no lock and no call into the global allocator, however many other threads allocate at
//! the same time. [`AllocatorStrategy::Global`] takes a fresh buffer each time instead, for
//! comparison.
//!
//! Every layer that makes or consumes a message uses it: the invocation layer encodes requests
//! into pooled buffers and the server replies; the GIOP [`Framer`](crate::giop::Framer) cuts
//! received messages into them; the transport gives a sent message's buffer back once it is
//! written; a [`Frame`](crate::giop::Frame) or a [`Reply`](crate::object::Reply) gives its
//! buffer back when dropped. A buffer goes back to the pool of the thread that lets go of it,
//! which is nearly always the one that took it (a caller reads and drops its own reply; a
//! server thread reads a request, runs it and writes the reply).

use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Where message buffers come from (`-ORBbufferAllocator tss|global`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AllocatorStrategy {
    /// Thread-local pools of buffers, reused call after call (the design's TSS allocator).
    #[default]
    ThreadLocal,
    /// A fresh buffer from the global allocator for each message, freed after it.
    Global,
}

/// Buffers kept per thread: a request, its reply and a nested call's pair in flight.
const POOL_DEPTH: usize = 4;
/// Buffers that grew past this are dropped rather than kept, so one huge message does not pin
/// its memory in every thread that ever sent one.
const MAX_KEPT_CAPACITY: usize = 1 << 20;
/// What a new buffer starts with: most messages fit without growing. Smaller buffers given
/// back are dropped: whoever took one would only have to grow it.
const INITIAL_CAPACITY: usize = 512;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer to write a message into: the calling thread's last one given back, or a
/// new one.
#[inline]
pub fn take(strategy: AllocatorStrategy) -> Vec<u8> {
    if strategy == AllocatorStrategy::ThreadLocal {
        if let Some(buf) = POOL.try_with(|p| p.borrow_mut().pop()).ok().flatten() {
            return buf;
        }
    }
    Vec::with_capacity(INITIAL_CAPACITY)
}

/// Gives a buffer back once its message is sent or read: kept in the calling thread's pool
/// (under [`AllocatorStrategy::ThreadLocal`], while the pool has room), else freed.
#[inline]
pub fn give(strategy: AllocatorStrategy, mut buf: Vec<u8>) {
    if strategy != AllocatorStrategy::ThreadLocal
        || !(INITIAL_CAPACITY..=MAX_KEPT_CAPACITY).contains(&buf.capacity())
    {
        return;
    }
    buf.clear();
    // During thread teardown the pool may be gone: the buffer is then simply freed.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_DEPTH {
            // Room for the whole depth at once: the pool's own storage is allocated once.
            let len = p.len();
            p.reserve_exact(POOL_DEPTH - len);
            p.push(buf);
        }
    });
}

/// Fills the calling thread's pool with buffers for a message and its reply (under
/// [`AllocatorStrategy::ThreadLocal`]), for a thread that serves requests to call when it
/// starts: a server thread that happens to get its first request late (a pool thread the
/// others outran) then does not allocate on it.
pub fn warm_up(strategy: AllocatorStrategy) {
    if strategy != AllocatorStrategy::ThreadLocal {
        return;
    }
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        let len = p.len();
        p.reserve_exact(POOL_DEPTH.saturating_sub(len));
        while p.len() < 2 {
            p.push(Vec::with_capacity(INITIAL_CAPACITY));
        }
    });
}

/// A buffer that goes back to the pool of the thread that drops it (see [`give`]).
pub struct Buffer {
    bytes: Vec<u8>,
    strategy: AllocatorStrategy,
}

impl Buffer {
    /// An empty buffer from [`take`].
    #[inline]
    pub fn take(strategy: AllocatorStrategy) -> Buffer {
        Buffer {
            bytes: take(strategy),
            strategy,
        }
    }

    /// `bytes`, to be given back with `strategy` when dropped.
    pub fn from_vec(bytes: Vec<u8>, strategy: AllocatorStrategy) -> Buffer {
        Buffer { bytes, strategy }
    }

    /// The bytes, no longer pooled.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    pub fn strategy(&self) -> AllocatorStrategy {
        self.strategy
    }
}

impl Drop for Buffer {
    #[inline]
    fn drop(&mut self) {
        // An emptied buffer (`into_vec`) has no capacity, which `give` ignores.
        give(self.strategy, std::mem::take(&mut self.bytes));
    }
}

impl Deref for Buffer {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

impl Clone for Buffer {
    fn clone(&self) -> Buffer {
        let mut bytes = take(self.strategy);
        bytes.extend_from_slice(&self.bytes);
        Buffer {
            bytes,
            strategy: self.strategy,
        }
    }
}

impl PartialEq for Buffer {
    fn eq(&self, other: &Buffer) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Buffer {}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.bytes.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool_len() -> usize {
        POOL.with(|p| p.borrow().len())
    }

    #[test]
    fn a_thread_gets_its_own_buffer_back() {
        let mut b = take(AllocatorStrategy::ThreadLocal);
        b.extend_from_slice(&[1; 100]);
        let ptr = b.as_ptr();
        give(AllocatorStrategy::ThreadLocal, b);
        let again = take(AllocatorStrategy::ThreadLocal);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
    }

    #[test]
    fn a_warmed_up_thread_has_buffers_for_a_message_and_its_reply() {
        std::thread::spawn(|| {
            warm_up(AllocatorStrategy::Global);
            assert_eq!(pool_len(), 0);
            warm_up(AllocatorStrategy::ThreadLocal);
            warm_up(AllocatorStrategy::ThreadLocal);
            assert_eq!(pool_len(), 2);
            assert_eq!(POOL.with(|p| p.borrow().capacity()), POOL_DEPTH);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn global_strategy_small_and_huge_buffers_are_not_pooled() {
        std::thread::spawn(|| {
            give(
                AllocatorStrategy::Global,
                Vec::with_capacity(INITIAL_CAPACITY),
            );
            give(AllocatorStrategy::ThreadLocal, Vec::new());
            give(AllocatorStrategy::ThreadLocal, vec![0; 10]);
            give(
                AllocatorStrategy::ThreadLocal,
                Vec::with_capacity(MAX_KEPT_CAPACITY + 1),
            );
            assert_eq!(pool_len(), 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_dropped_buffer_goes_back_to_the_dropping_threads_pool() {
        let b = std::thread::spawn(|| {
            let mut b = Buffer::take(AllocatorStrategy::ThreadLocal);
            b.extend_from_slice(b"message");
            b
        })
        .join()
        .unwrap();
        std::thread::spawn(move || {
            let ptr = b.as_ptr();
            drop(b);
            assert_eq!(pool_len(), 1);
            let again = take(AllocatorStrategy::ThreadLocal);
            assert_eq!(again.as_ptr(), ptr);
            // Taken out of the pool for good: nothing goes back.
            let v = Buffer::take(AllocatorStrategy::ThreadLocal).into_vec();
            assert_eq!(pool_len(), 0);
            drop(Buffer::take(AllocatorStrategy::Global));
            assert_eq!(pool_len(), 0);
            drop(v);
        })
        .join()
        .unwrap();
    }
}
