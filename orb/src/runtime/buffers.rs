//! Message buffers from a thread-local pool (the design's thread-specific-storage allocator):
//! a thread that sends request after request reuses the same few buffers, with no lock and no
//! call into the global allocator, however many other threads allocate at the same time.
//! [`AllocatorStrategy::Global`] takes a fresh buffer each time instead, for comparison.

use super::AllocatorStrategy;
use std::cell::RefCell;

/// Buffers kept per thread: enough for a request and a nested call's request in flight.
const POOL_DEPTH: usize = 4;
/// Buffers that grew past this are dropped rather than kept, so one huge message does not pin
/// its memory in every thread that ever sent one.
const MAX_KEPT_CAPACITY: usize = 1 << 20;
/// What a new buffer starts with: most requests fit without growing.
const INITIAL_CAPACITY: usize = 512;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer to encode a message into.
#[inline]
pub(crate) fn take(strategy: AllocatorStrategy) -> Vec<u8> {
    if strategy == AllocatorStrategy::ThreadLocal {
        if let Some(buf) = POOL.try_with(|p| p.borrow_mut().pop()).ok().flatten() {
            return buf;
        }
    }
    Vec::with_capacity(INITIAL_CAPACITY)
}

/// Gives a buffer back once its message is sent.
#[inline]
pub(crate) fn give(strategy: AllocatorStrategy, mut buf: Vec<u8>) {
    if strategy != AllocatorStrategy::ThreadLocal || buf.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    buf.clear();
    // During thread teardown the pool may be gone: the buffer is then simply freed.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_DEPTH {
            p.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn global_strategy_and_huge_buffers_are_not_pooled() {
        give(AllocatorStrategy::Global, vec![0; 10]);
        give(
            AllocatorStrategy::ThreadLocal,
            Vec::with_capacity(MAX_KEPT_CAPACITY + 1),
        );
        std::thread::spawn(|| {
            give(AllocatorStrategy::Global, Vec::with_capacity(64));
            assert_eq!(POOL.with(|p| p.borrow().len()), 0);
        })
        .join()
        .unwrap();
    }
}
