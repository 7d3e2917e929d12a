//! Dispatching: where and in which thread an event that passed a consumer's filter is pushed
//! to it — in the supplier's thread (reactive), by a pool on one queue (mt), by the
//! consumer's own thread (tpc) or by its priority lane's thread (priority).
//!
//! Every queue is bounded, with high and low water marks and the channel's full policy; a
//! dropped event is counted against the consumer it was for. Events for one consumer leave
//! every strategy in the order they were dispatched, so each supplier's events reach each
//! consumer in the order pushed.

use super::idl::rtec_event_comm::Event;
use super::options::{Dispatching, FullPolicy, RtecOptions};
use super::proxy::SupplierProxy;
use super::rt_thread;
use super::threads::Threads;
use super::Batch;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// One delivery: events for a consumer.
pub(crate) struct Task {
    pub target: Arc<SupplierProxy>,
    pub events: Batch,
}

/// A bounded FIFO. Its depth counts what is queued plus what has been taken but not yet
/// [`BoundedQueue::done`] with, so work moved aside (mt's per-consumer backlog) stays bounded.
pub(crate) struct BoundedQueue<T> {
    state: Mutex<QueueState<T>>,
    ready: Condvar,
    room: Condvar,
    high: usize,
    low: usize,
    policy: FullPolicy,
}

struct QueueState<T> {
    items: VecDeque<T>,
    outstanding: usize,
    /// Set at the high-water mark, cleared at the low one: blocked suppliers wait on it.
    full: bool,
    closed: bool,
}

/// What became of a pushed item.
pub(crate) enum Pushed<T> {
    Queued,
    /// Queued, and this older item was dropped to make room.
    Dropped(T),
    /// The queue is closed: the item comes back.
    Closed(T),
}

impl<T> BoundedQueue<T> {
    pub(crate) fn new(options: &RtecOptions) -> BoundedQueue<T> {
        let high = options.high_water.max(1);
        BoundedQueue {
            state: Mutex::new(QueueState {
                // Preallocated: the steady state never grows it.
                items: VecDeque::with_capacity(high),
                outstanding: 0,
                full: false,
                closed: false,
            }),
            ready: Condvar::new(),
            room: Condvar::new(),
            high,
            low: options.low_water.min(high - 1),
            policy: options.full_policy,
        }
    }

    pub(crate) fn push(&self, item: T) -> Pushed<T> {
        let mut st = self.state.lock();
        if let FullPolicy::Block { max_delay } = self.policy {
            let deadline = Instant::now() + max_delay;
            while (st.full || st.outstanding >= self.high) && !st.closed {
                st.full = true;
                if self.room.wait_until(&mut st, deadline).timed_out() {
                    break;
                }
            }
        }
        if st.closed {
            return Pushed::Closed(item);
        }
        let mut dropped = None;
        if st.outstanding >= self.high {
            match st.items.pop_front() {
                Some(old) => dropped = Some(old),
                // Everything outstanding is being delivered: the newest goes instead.
                None => return Pushed::Dropped(item),
            }
        } else {
            st.outstanding += 1;
        }
        st.items.push_back(item);
        drop(st);
        self.ready.notify_one();
        match dropped {
            Some(old) => Pushed::Dropped(old),
            None => Pushed::Queued,
        }
    }

    /// Waits for an item; `None` once closed. `take` runs under the queue's lock (mt uses it
    /// to keep each consumer's events in order) and may keep the item aside by returning
    /// `None`, in which case the next one is waited for.
    pub(crate) fn pop_with<R>(&self, mut take: impl FnMut(T) -> Option<R>) -> Option<R> {
        let mut st = self.state.lock();
        loop {
            if st.closed {
                return None;
            }
            match st.items.pop_front() {
                Some(item) => {
                    if let Some(r) = take(item) {
                        return Some(r);
                    }
                }
                None => self.ready.wait(&mut st),
            }
        }
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.pop_with(Some)
    }

    /// `n` taken items are done with: room for suppliers.
    pub(crate) fn done(&self, n: usize) {
        let mut st = self.state.lock();
        st.outstanding = st.outstanding.saturating_sub(n);
        if st.full && st.outstanding <= self.low {
            st.full = false;
            drop(st);
            self.room.notify_all();
        }
    }

    /// Ends the queue: what it holds is discarded, waiters wake.
    pub(crate) fn close(&self) -> Vec<T> {
        let mut st = self.state.lock();
        st.closed = true;
        let left: Vec<T> = st.items.drain(..).collect();
        drop(st);
        self.ready.notify_all();
        self.room.notify_all();
        left
    }
}

/// Per consumer, for mt: whether a pool thread is delivering to it, and what waits behind.
#[derive(Default)]
pub(crate) struct MtSlot {
    busy: bool,
    backlog: VecDeque<Batch>,
}

/// The channel's dispatching strategy and its threads.
pub(crate) enum Dispatcher {
    Reactive,
    Mt(Arc<BoundedQueue<Task>>),
    /// Queues are the consumers' own (made by [`Dispatcher::attach`]).
    Tpc,
    Priority(Vec<Arc<BoundedQueue<Task>>>),
}

impl Dispatcher {
    pub(crate) fn start(options: &RtecOptions, threads: &Threads) -> std::io::Result<Dispatcher> {
        Ok(match options.dispatching {
            Dispatching::Reactive => Dispatcher::Reactive,
            Dispatching::Tpc => Dispatcher::Tpc,
            Dispatching::Mt => {
                let q = Arc::new(BoundedQueue::new(options));
                for _ in 0..options.dispatching_threads.max(1) {
                    let q = q.clone();
                    threads.spawn("rtec-mt", move || mt_worker(&q))?;
                }
                Dispatcher::Mt(q)
            }
            Dispatching::Priority => {
                let lanes = options.priority_lanes.max(1);
                let mut queues = Vec::with_capacity(lanes);
                for lane in 0..lanes {
                    let q: Arc<BoundedQueue<Task>> = Arc::new(BoundedQueue::new(options));
                    let worker = q.clone();
                    threads.spawn(&format!("rtec-lane{lane}"), move || {
                        rt_thread::raise_for_lane(lane, lanes);
                        while let Some(t) = worker.pop() {
                            worker.done(1);
                            t.target.queued.fetch_sub(1, Ordering::Relaxed);
                            t.target.deliver(&t.events);
                        }
                    })?;
                    queues.push(q);
                }
                Dispatcher::Priority(queues)
            }
        })
    }

    /// A consumer connected: tpc gives it its queue and thread.
    pub(crate) fn attach(
        &self,
        target: &Arc<SupplierProxy>,
        options: &RtecOptions,
        threads: &Threads,
    ) -> std::io::Result<()> {
        if !matches!(self, Dispatcher::Tpc) {
            return Ok(());
        }
        let mut own = target.own_queue.lock();
        if own.is_some() {
            return Ok(());
        }
        let q: Arc<BoundedQueue<Task>> = Arc::new(BoundedQueue::new(options));
        let worker = q.clone();
        threads.spawn("rtec-tpc", move || {
            while let Some(t) = worker.pop() {
                worker.done(1);
                t.target.queued.fetch_sub(1, Ordering::Relaxed);
                t.target.deliver(&t.events);
            }
        })?;
        *own = Some(q);
        Ok(())
    }

    /// A consumer left: its own queue (tpc) closes, ending its thread.
    pub(crate) fn detach(&self, target: &SupplierProxy) {
        if let Some(q) = target.own_queue.lock().take() {
            let left = q.close();
            target.queued.fetch_sub(left.len(), Ordering::Relaxed);
        }
    }

    /// Hands one event to `target`. Reactive dispatching pushes the caller's event as it is
    /// (no copy, no allocation); the others queue `shared`, made once for every consumer
    /// that takes this event.
    pub(crate) fn dispatch_event(
        &self,
        target: &Arc<SupplierProxy>,
        event: &Event,
        shared: &mut Option<Batch>,
    ) {
        if let Dispatcher::Reactive = self {
            target.deliver(std::slice::from_ref(event));
            return;
        }
        let batch = shared
            .get_or_insert_with(|| Arc::new([event.clone()]))
            .clone();
        self.dispatch(target, batch);
    }

    /// Hands `events` to `target` by the strategy.
    pub(crate) fn dispatch(&self, target: &Arc<SupplierProxy>, events: Batch) {
        let queue = match self {
            Dispatcher::Reactive => {
                target.deliver(&events);
                return;
            }
            Dispatcher::Mt(q) => q.clone(),
            Dispatcher::Tpc => match target.own_queue.lock().clone() {
                Some(q) => q,
                None => return,
            },
            Dispatcher::Priority(lanes) => {
                let lane = target.lane.load(Ordering::Relaxed).min(lanes.len() - 1);
                lanes[lane].clone()
            }
        };
        target.queued.fetch_add(1, Ordering::Relaxed);
        let task = Task {
            target: target.clone(),
            events,
        };
        match queue.push(task) {
            Pushed::Queued => {}
            Pushed::Dropped(old) => {
                old.target.queued.fetch_sub(1, Ordering::Relaxed);
                old.target.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Pushed::Closed(t) => {
                t.target.queued.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Stops every shared queue (the channel is going).
    pub(crate) fn shutdown(&self) {
        let drain = |q: &BoundedQueue<Task>| {
            for t in q.close() {
                t.target.queued.fetch_sub(1, Ordering::Relaxed);
            }
        };
        match self {
            Dispatcher::Mt(q) => drain(q),
            Dispatcher::Priority(lanes) => lanes.iter().for_each(|q| drain(q)),
            Dispatcher::Reactive | Dispatcher::Tpc => {}
        }
    }
}

/// A pool thread of mt: takes tasks in queue order; a task for a consumer another thread is
/// delivering to waits in that consumer's backlog, which the other thread empties before it
/// lets go — so each consumer gets its events in order, one at a time.
fn mt_worker(q: &BoundedQueue<Task>) {
    loop {
        let task = q.pop_with(|t: Task| {
            let mut slot = t.target.mt_slot.lock();
            if slot.busy {
                slot.backlog.push_back(t.events.clone());
                return None;
            }
            slot.busy = true;
            drop(slot);
            Some(t)
        });
        let Some(Task { target, events }) = task else {
            return;
        };
        let mut next = Some(events);
        while let Some(events) = next {
            q.done(1);
            target.queued.fetch_sub(1, Ordering::Relaxed);
            target.deliver(&events);
            let mut slot = target.mt_slot.lock();
            next = slot.backlog.pop_front();
            if next.is_none() {
                slot.busy = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn options(high: usize, low: usize, policy: FullPolicy) -> RtecOptions {
        let mut o = RtecOptions::default();
        o.water_marks(high, low).full_policy(policy);
        o
    }

    #[test]
    fn drop_oldest_keeps_the_newest() {
        let q = BoundedQueue::new(&options(2, 1, FullPolicy::DropOldest));
        assert!(matches!(q.push(1), Pushed::Queued));
        assert!(matches!(q.push(2), Pushed::Queued));
        assert!(matches!(q.push(3), Pushed::Dropped(1)));
        assert_eq!(q.pop(), Some(2));
        q.done(1);
        assert_eq!(q.pop(), Some(3));
        q.done(1);
        assert_eq!(q.close(), Vec::<i32>::new());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn a_blocked_supplier_resumes_at_the_low_water_mark() {
        let max_delay = Duration::from_secs(600);
        let q = Arc::new(BoundedQueue::new(&options(
            2,
            0,
            FullPolicy::Block { max_delay },
        )));
        q.push(1);
        q.push(2);
        let pusher = {
            let q = q.clone();
            std::thread::spawn(move || matches!(q.push(3), Pushed::Queued))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !q.state.lock().full {
            assert!(
                std::time::Instant::now() < deadline,
                "the supplier never blocked"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(q.pop(), Some(1));
        q.done(1);
        // One left: above the low-water mark, so the supplier still waits (the pause only
        // gives a wrong early wake-up the chance to show).
        std::thread::sleep(Duration::from_millis(20));
        assert!(!pusher.is_finished());
        assert_eq!(q.pop(), Some(2));
        q.done(1);
        assert!(pusher.join().unwrap());
        assert_eq!(q.pop(), Some(3));
    }

    #[test]
    fn blocking_gives_up_after_the_max_delay_and_drops() {
        let max_delay = Duration::from_millis(20);
        let q = BoundedQueue::new(&options(1, 0, FullPolicy::Block { max_delay }));
        q.push(1);
        assert!(matches!(q.push(2), Pushed::Dropped(1)));
    }
}
