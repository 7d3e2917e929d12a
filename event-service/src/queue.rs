//! The bounded queue between the channel and one consumer-side proxy: suppliers never wait on
//! it (when it is full the oldest event goes, and is counted), the proxy's consumer waits for
//! events or for the queue to close.

use orb::typecode::Any;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::time::Duration;

/// What taking an event from the queue found.
#[derive(Debug)]
pub(crate) enum Pop {
    Event(Any),
    /// Nothing now (or, when waiting, within the time given).
    Empty,
    /// The queue was closed: its proxy is disconnected.
    Closed,
}

pub(crate) struct EventQueue {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
}

struct State {
    events: VecDeque<Any>,
    closed: bool,
}

impl EventQueue {
    /// A queue of at most `capacity` events (at least one).
    pub(crate) fn new(capacity: usize) -> EventQueue {
        EventQueue {
            state: Mutex::new(State {
                events: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Appends `event`; returns whether the oldest event was dropped to make room for it. A
    /// closed queue takes nothing (and drops nothing worth counting: nobody would read it).
    pub(crate) fn push(&self, event: Any) -> bool {
        let mut st = self.state.lock();
        if st.closed {
            return false;
        }
        let dropped = st.events.len() >= self.capacity;
        if dropped {
            st.events.pop_front();
        }
        st.events.push_back(event);
        drop(st);
        self.ready.notify_one();
        dropped
    }

    pub(crate) fn try_pop(&self) -> Pop {
        let mut st = self.state.lock();
        match st.events.pop_front() {
            Some(e) => Pop::Event(e),
            None if st.closed => Pop::Closed,
            None => Pop::Empty,
        }
    }

    /// Waits up to `timeout` for an event. A closed queue gives [`Pop::Closed`] at once, even
    /// with events left: they were for a consumer that is gone.
    pub(crate) fn pop_wait(&self, timeout: Duration) -> Pop {
        let mut st = self.state.lock();
        loop {
            if st.closed {
                return Pop::Closed;
            }
            if let Some(e) = st.events.pop_front() {
                return Pop::Event(e);
            }
            if self.ready.wait_for(&mut st, timeout).timed_out() {
                return match st.events.pop_front() {
                    Some(e) if !st.closed => Pop::Event(e),
                    _ if st.closed => Pop::Closed,
                    _ => Pop::Empty,
                };
            }
        }
    }

    /// Waits up to `timeout` for the queue to close; returns whether it has.
    pub(crate) fn wait_closed(&self, timeout: Duration) -> bool {
        let mut st = self.state.lock();
        if !st.closed {
            self.ready.wait_for(&mut st, timeout);
        }
        st.closed
    }

    /// Closes the queue, discarding what it holds, and wakes every waiter.
    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        st.events.clear();
        drop(st);
        self.ready.notify_all();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_so() {
        let q = EventQueue::new(2);
        assert!(!q.push(Any::from(1i32)));
        assert!(!q.push(Any::from(2i32)));
        assert!(q.push(Any::from(3i32)));
        assert_eq!(q.len(), 2);
        for want in [2, 3] {
            match q.try_pop() {
                Pop::Event(e) => assert_eq!(e.as_i32(), Some(want)),
                other => panic!("expected event {want}, got {other:?}"),
            }
        }
        assert!(matches!(q.try_pop(), Pop::Empty));
        assert!(matches!(q.pop_wait(Duration::from_millis(1)), Pop::Empty));
    }

    #[test]
    fn closing_discards_events_and_wakes_a_waiter() {
        let q = std::sync::Arc::new(EventQueue::new(4));
        q.push(Any::from(1i32));
        q.close();
        assert!(matches!(q.try_pop(), Pop::Closed));
        assert!(!q.push(Any::from(2i32)));
        let q2 = std::sync::Arc::new(EventQueue::new(4));
        let waiter = {
            let q2 = q2.clone();
            std::thread::spawn(move || q2.pop_wait(Duration::from_secs(600)))
        };
        q2.close();
        assert!(matches!(waiter.join().unwrap(), Pop::Closed));
        assert!(q2.wait_closed(Duration::from_secs(600)));
    }
}
