//! The timeout generator: every timeout designator of every consumer is a timer in one
//! binary heap (preallocated; scheduling, re-arming and cancelling are O(log n)), fired by
//! one thread that hands each expiry to its consumer's proxy.

use super::threads::Threads;
use parking_lot::{Condvar, Mutex};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// What a timer fires into.
pub(crate) trait TimerTarget: Send + Sync + 'static {
    /// Timer `slot` of the target expired (its kind is TAO's timeout event type).
    fn fire(&self, slot: usize, kind: i32);
}

/// A timer's handle: its slab index and the generation it was made in (a stale handle
/// cancels nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerId {
    index: usize,
    generation: u64,
}

struct Timer<T> {
    due: Instant,
    period: Duration,
    /// Periodic timers come back after `period`; one-shot ones go.
    periodic: bool,
    target: Weak<T>,
    slot: usize,
    kind: i32,
    generation: u64,
    /// Where it is in the heap.
    pos: usize,
}

struct Heap<T> {
    slab: Vec<Option<Timer<T>>>,
    free: Vec<usize>,
    /// Slab indices, ordered as a binary min-heap on `due`.
    heap: Vec<usize>,
    generation: u64,
    stopped: bool,
}

impl<T> Heap<T> {
    fn due(&self, h: usize) -> Instant {
        self.slab[self.heap[h]]
            .as_ref()
            .map_or(Instant::now(), |t| t.due)
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        for p in [a, b] {
            let i = self.heap[p];
            if let Some(t) = self.slab[i].as_mut() {
                t.pos = p;
            }
        }
    }

    fn up(&mut self, mut p: usize) {
        while p > 0 {
            let parent = (p - 1) / 2;
            if self.due(p) >= self.due(parent) {
                break;
            }
            self.swap(p, parent);
            p = parent;
        }
    }

    fn down(&mut self, mut p: usize) {
        loop {
            let (l, r) = (2 * p + 1, 2 * p + 2);
            let mut least = p;
            if l < self.heap.len() && self.due(l) < self.due(least) {
                least = l;
            }
            if r < self.heap.len() && self.due(r) < self.due(least) {
                least = r;
            }
            if least == p {
                return;
            }
            self.swap(p, least);
            p = least;
        }
    }

    /// Moves the timer at heap position `p` to where its (changed) due time belongs.
    fn fix(&mut self, p: usize) {
        let i = self.heap[p];
        self.up(p);
        if let Some(t) = self.slab[i].as_ref() {
            let p = t.pos;
            self.down(p);
        }
    }

    fn remove_at(&mut self, p: usize) -> Option<Timer<T>> {
        let last = self.heap.len() - 1;
        self.swap(p, last);
        let i = self.heap.pop()?;
        if p < self.heap.len() {
            self.fix(p);
        }
        self.free.push(i);
        self.slab[i].take()
    }

    fn get(&mut self, id: TimerId) -> Option<&mut Timer<T>> {
        self.slab
            .get_mut(id.index)?
            .as_mut()
            .filter(|t| t.generation == id.generation)
    }
}

pub(crate) struct Timers<T> {
    heap: Mutex<Heap<T>>,
    wake: Condvar,
}

impl<T: TimerTarget> Timers<T> {
    /// The generator and its thread.
    pub(crate) fn start(capacity: usize, threads: &Threads) -> std::io::Result<Arc<Timers<T>>> {
        let timers = Arc::new(Timers {
            heap: Mutex::new(Heap {
                slab: Vec::with_capacity(capacity),
                free: Vec::with_capacity(capacity),
                heap: Vec::with_capacity(capacity),
                generation: 0,
                stopped: false,
            }),
            wake: Condvar::new(),
        });
        let t = timers.clone();
        threads.spawn("rtec-timers", move || t.run())?;
        Ok(timers)
    }

    /// A timer for `target`'s `slot`, first due after `period`.
    pub(crate) fn schedule(
        &self,
        target: Weak<T>,
        slot: usize,
        kind: i32,
        period: Duration,
        periodic: bool,
    ) -> TimerId {
        let mut h = self.heap.lock();
        h.generation += 1;
        let generation = h.generation;
        let pos = h.heap.len();
        let timer = Timer {
            due: Instant::now() + period,
            period,
            periodic,
            target,
            slot,
            kind,
            generation,
            pos,
        };
        let index = match h.free.pop() {
            Some(i) => {
                h.slab[i] = Some(timer);
                i
            }
            None => {
                h.slab.push(Some(timer));
                h.slab.len() - 1
            }
        };
        h.heap.push(index);
        h.up(pos);
        let first = h.heap[0] == index;
        drop(h);
        if first {
            self.wake.notify_one();
        }
        TimerId { index, generation }
    }

    /// Pushes the timer's next expiry a whole period from now (a deadline met).
    pub(crate) fn rearm(&self, id: TimerId) {
        let mut h = self.heap.lock();
        let Some(t) = h.get(id) else { return };
        t.due = Instant::now() + t.period;
        let p = t.pos;
        h.fix(p);
    }

    pub(crate) fn cancel(&self, id: TimerId) {
        let mut h = self.heap.lock();
        let Some(t) = h.get(id) else { return };
        let p = t.pos;
        h.remove_at(p);
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.lock().heap.len()
    }

    /// Ends the thread; timers left never fire.
    pub(crate) fn stop(&self) {
        let mut h = self.heap.lock();
        h.stopped = true;
        h.heap.clear();
        h.slab.clear();
        h.free.clear();
        drop(h);
        self.wake.notify_all();
    }

    fn run(&self) {
        let mut fired: Vec<(Weak<T>, usize, i32)> = Vec::new();
        loop {
            {
                let mut h = self.heap.lock();
                loop {
                    if h.stopped {
                        return;
                    }
                    let now = Instant::now();
                    let next = h
                        .heap
                        .first()
                        .map(|&i| (i, h.slab[i].as_ref().map_or(now, |t| t.due)));
                    let first = match next {
                        Some((i, due)) if due <= now => i,
                        // Nothing due: deliver what fired before waiting for more.
                        _ if !fired.is_empty() => break,
                        Some((_, due)) => {
                            self.wake.wait_until(&mut h, due);
                            continue;
                        }
                        None => {
                            self.wake.wait(&mut h);
                            continue;
                        }
                    };
                    let t = h.slab[first].as_mut().expect("a heap entry is in the slab");
                    fired.push((t.target.clone(), t.slot, t.kind));
                    if t.periodic {
                        // From the due time, not from now: a late tick does not shift the
                        // rest; one missed entirely is not made up twice.
                        t.due = (t.due + t.period).max(now);
                        h.fix(0);
                    } else {
                        h.remove_at(0);
                    }
                    if fired.len() >= 64 {
                        break;
                    }
                }
            }
            // Outside the lock: a target's delivery may schedule, re-arm or cancel timers.
            for (target, slot, kind) in fired.drain(..) {
                if let Some(t) = target.upgrade() {
                    t.fire(slot, kind);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl TimerTarget for Count {
        fn fire(&self, _: usize, _: i32) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_heap_orders_rearms_and_cancels() {
        let threads = Threads::default();
        let timers = Timers::<Count>::start(4, &threads).unwrap();
        let target = Arc::new(Count::default());
        let w = Arc::downgrade(&target);
        let hour = Duration::from_secs(3600);
        let ids: Vec<TimerId> = (0..10)
            .map(|i| timers.schedule(w.clone(), i, 5, hour * (10 - i as u32), true))
            .collect();
        assert_eq!(timers.len(), 10);
        for id in ids.iter().step_by(2) {
            timers.cancel(*id);
        }
        timers.cancel(ids[0]); // stale: nothing
        timers.rearm(ids[1]);
        assert_eq!(timers.len(), 5);
        // A short one-shot fires once, and the heap still holds the five long ones.
        timers.schedule(w, 99, 4, Duration::from_millis(1), false);
        let deadline = Instant::now() + Duration::from_secs(30);
        while target.0.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the timer never fired");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(timers.len(), 5);
        timers.stop();
        assert_eq!(threads.join_all(), 1);
        assert_eq!(target.0.load(Ordering::SeqCst), 1);
    }
}
