//! [`Strategy::Adaptive`](super::Strategy::Adaptive): how many leader/followers threads a
//! reactor server runs, decided while it runs.
//!
//! The policy. One thread serves as the plain reactor does, with no hand-off between threads,
//! for as long as handlers return quickly (what the reactive server is best at: the fewest
//! context switches per request, the most calls with many clients on one core). A monitor
//! thread looks once per [`AdaptivePolicy::promote_after`] (a "tick"): when every thread has
//! been inside one piece of work since before the previous tick (a handler that blocks, or a
//! chain of nested callbacks that each hold a thread), nobody is polling, and one more thread
//! is started; it takes the leadership (the poll) at once, since nobody else wants it. It can
//! only ever add threads while all are stuck, so a steady stream of quick requests never grows
//! the crew, however many connections it comes on. Each [`AdaptivePolicy::retire_after`] the
//! monitor compares the crew with the most threads it needed at any tick of that window (the
//! threads found stuck, plus one to poll) and asks the surplus to end; a thread ends when it
//! next comes for work (the leader is woken for it), never in a handler, and never the last.
//! While the one thread left has been idle for [`PARK_AFTER_IDLE_TICKS`] ticks the monitor
//! sleeps until a thread takes work again, so an idle server costs no wake-ups.
//!
//! No wake-up can be lost between the two sides. A thread records that it has taken work in
//! its [`Slot`] (a store) and then looks whether the monitor sleeps (a load); the monitor says
//! it sleeps (a store) and then looks at every slot (loads) before it does: all sequentially
//! consistent, so one of the two sees the other, and a thread that sees the monitor asleep
//! wakes it under the monitor's lock. A new thread needs no wake-up to find its work: readiness
//! not yet collected stays in the epoll set, work handed back stays in the reactor's queue, and
//! the leadership is free, because every other thread is in a handler.

use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// Ticks the only thread left must have been idle before the monitor stops ticking.
pub(super) const PARK_AFTER_IDLE_TICKS: u64 = 64;

/// How an adaptive server sizes its crew (see [`super::Strategy::Adaptive`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptivePolicy {
    /// The most threads serving at once (`-ORBthreadPoolSize`). A handler that blocks holds
    /// one (a nested callback holds one per level), so this bounds the blocking calls served
    /// at once, as a pool's size does.
    pub max_threads: usize,
    /// How long every thread must have been in its current piece of work before one more is
    /// started (`-ORBadaptivePromoteMicros`), and how often the monitor looks: the longest a
    /// connection waits behind handlers that block is between one and two of these.
    pub promote_after: Duration,
    /// How long threads beyond those needed are kept (`-ORBadaptiveRetireMillis`): the window
    /// over which the monitor counts what was needed.
    pub retire_after: Duration,
}

impl AdaptivePolicy {
    pub const DEFAULT_MAX_THREADS: usize = 64;
    pub const DEFAULT_PROMOTE_AFTER: Duration = Duration::from_millis(1);
    pub const DEFAULT_RETIRE_AFTER: Duration = Duration::from_secs(1);
}

impl Default for AdaptivePolicy {
    fn default() -> AdaptivePolicy {
        AdaptivePolicy {
            max_threads: AdaptivePolicy::DEFAULT_MAX_THREADS,
            promote_after: AdaptivePolicy::DEFAULT_PROMOTE_AFTER,
            retire_after: AdaptivePolicy::DEFAULT_RETIRE_AFTER,
        }
    }
}

/// One thread's place in the crew: its stamp, the monitor's epoch when it took its current
/// piece of work (busy) or when it finished its last one (idle), shifted left one bit, with
/// the low bit for "busy"; and its kernel thread id, to tell a thread that blocks from one
/// that computes or waits for a core.
#[derive(Debug)]
pub(super) struct Slot {
    stamp: AtomicU64,
    /// 0 until the thread has said (or if it could not tell).
    tid: AtomicU64,
    /// `/proc/self/task/TID/stat`, made once so that looking allocates nothing (a server's
    /// steady state allocates nothing, its monitor included).
    stat: std::sync::OnceLock<std::path::PathBuf>,
}

impl Slot {
    fn load(&self) -> (bool, u64) {
        let v = self.stamp.load(Ordering::SeqCst);
        (v & 1 == 1, v >> 1)
    }

    /// Called by the thread itself when it starts.
    pub(super) fn set_thread(&self) {
        // `/proc/thread-self` links to `PID/task/TID`: the id without `unsafe` or libc.
        let tid = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok())
            .unwrap_or(0);
        if tid != 0 {
            let _ = self.stat.set(format!("/proc/self/task/{tid}/stat").into());
        }
        self.tid.store(tid, Ordering::Release);
    }

    /// Whether the kernel has the thread running or ready to run (state `R` in
    /// `/proc/self/task/TID/stat`), as opposed to asleep (blocked in a call that waits). Not
    /// known: asleep, so that the monitor errs towards serving the other connections.
    fn runnable(&self) -> bool {
        if self.tid.load(Ordering::Acquire) == 0 {
            return false;
        }
        let Some(path) = self.stat.get() else {
            return false;
        };
        // `TID (COMM) STATE ...`: COMM is at most 15 octets, but may itself hold parentheses
        // and spaces, so the state follows the last `)`. A short path opens without
        // allocating, and the start of the file fits on the stack.
        let mut buf = [0u8; 128];
        let Ok(n) = std::fs::File::open(path).and_then(|mut f| io::Read::read(&mut f, &mut buf))
        else {
            return false;
        };
        let stat = &buf[..n];
        stat.iter()
            .rposition(|&b| b == b')')
            .and_then(|close| stat.get(close + 2))
            .is_some_and(|&state| state == b'R')
    }
}

/// What the monitor and the threads share, under one lock.
#[derive(Default)]
struct CrewState {
    /// Threads serving (not asked to end, or asked and not yet ended).
    threads: usize,
    /// Their slots, one per thread in `threads`.
    slots: Vec<Arc<Slot>>,
    /// Every thread started, the monitor's included, until joined: retired ones are reaped by
    /// the monitor, the rest joined at shutdown.
    handles: Vec<JoinHandle<()>>,
    /// Threads asked to end.
    to_retire: usize,
    /// A thread took work while the monitor slept.
    kicked: bool,
    stopping: bool,
}

/// The threads of an adaptive server and the policy that sizes them.
pub(super) struct Crew {
    policy: AdaptivePolicy,
    /// The monitor's clock: one more per tick.
    epoch: AtomicU64,
    /// The monitor sleeps until kicked (see the module's note on wake-ups).
    parked: AtomicBool,
    /// `CrewState::to_retire`, readable without the lock by every thread that comes for work.
    to_retire: AtomicUsize,
    state: Mutex<CrewState>,
    monitor: Condvar,
}

/// Starts a thread that serves with the given slot, or says why it could not.
pub(super) type Spawn<'a> = &'a dyn Fn(Arc<Slot>) -> io::Result<JoinHandle<()>>;

impl Crew {
    pub(super) fn new(policy: AdaptivePolicy) -> Crew {
        Crew {
            policy: AdaptivePolicy {
                max_threads: policy.max_threads.max(1),
                promote_after: policy.promote_after.max(Duration::from_micros(1)),
                retire_after: policy.retire_after,
            },
            epoch: AtomicU64::new(1),
            parked: AtomicBool::new(false),
            to_retire: AtomicUsize::new(0),
            state: Mutex::new(CrewState::default()),
            monitor: Condvar::new(),
        }
    }

    /// Starts one more serving thread, counted in the crew before it runs.
    pub(super) fn enlist(&self, spawn: Spawn<'_>) -> io::Result<()> {
        let mut st = self.state.lock();
        self.enlist_locked(&mut st, spawn)
    }

    fn enlist_locked(&self, st: &mut CrewState, spawn: Spawn<'_>) -> io::Result<()> {
        let slot = Arc::new(Slot {
            stamp: AtomicU64::new(self.epoch.load(Ordering::SeqCst) << 1),
            tid: AtomicU64::new(0),
            stat: std::sync::OnceLock::new(),
        });
        let handle = spawn(slot.clone())?;
        st.threads += 1;
        st.slots.push(slot);
        st.handles.push(handle);
        Ok(())
    }

    /// Keeps a thread that is not a serving one (the monitor's) to be joined at shutdown.
    pub(super) fn keep_handle(&self, handle: JoinHandle<()>) {
        self.state.lock().handles.push(handle);
    }

    /// A thread took a piece of work.
    pub(super) fn begin(&self, slot: &Slot) {
        let epoch = self.epoch.load(Ordering::Relaxed);
        slot.stamp.store(epoch << 1 | 1, Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) {
            let mut st = self.state.lock();
            st.kicked = true;
            self.monitor.notify_one();
        }
    }

    /// A thread finished its piece of work.
    pub(super) fn end(&self, slot: &Slot) {
        let epoch = self.epoch.load(Ordering::Relaxed);
        slot.stamp.store(epoch << 1, Ordering::Release);
    }

    /// Whether the thread with this slot, coming for work, is to end instead (it is then
    /// counted out of the crew). Never the last thread.
    pub(super) fn retire(&self, slot: &Arc<Slot>) -> bool {
        if self.to_retire.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut st = self.state.lock();
        if st.to_retire == 0 || st.threads <= 1 || st.stopping {
            return false;
        }
        st.to_retire -= 1;
        self.to_retire.store(st.to_retire, Ordering::Relaxed);
        st.threads -= 1;
        st.slots.retain(|s| !Arc::ptr_eq(s, slot));
        tracing::debug!(target: "orb::server", threads = st.threads,
            "adaptive server: a thread not needed ends");
        true
    }

    /// No thread is started from here on; the monitor ends.
    pub(super) fn stop(&self) {
        let mut st = self.state.lock();
        st.stopping = true;
        self.monitor.notify_all();
    }

    /// Every thread started and not yet joined (call after [`Crew::stop`]).
    pub(super) fn take_handles(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut self.state.lock().handles)
    }

    pub(super) fn is_member(&self, id: ThreadId) -> bool {
        self.state
            .lock()
            .handles
            .iter()
            .any(|h| h.thread().id() == id)
    }

    /// Threads serving now.
    pub(super) fn threads(&self) -> usize {
        self.state.lock().threads
    }

    /// The monitor's loop, until [`Crew::stop`]: `spawn` starts a serving thread, `wake_leader`
    /// wakes the thread blocked in the poll (to see that threads are to end).
    pub(super) fn monitor(&self, spawn: Spawn<'_>, wake_leader: &dyn Fn()) {
        let tick = self.policy.promote_after;
        let window_ticks = (self.policy.retire_after.as_nanos() / tick.as_nanos()).max(1);
        let mut st = self.state.lock();
        let mut next = Instant::now() + tick;
        let mut window_left = window_ticks;
        // The most threads needed at one tick of this window: those stuck, and one to poll.
        let mut needed = 1;
        loop {
            if st.stopping {
                return;
            }
            let now = Instant::now();
            if now < next {
                // Early: woken by a late kick, or spuriously.
                self.monitor.wait_until(&mut st, next);
                continue;
            }
            // Ticks are regular; after a long stall (the machine busy) count from now.
            next = if now - next > tick {
                now + tick
            } else {
                next + tick
            };
            let cur = self.epoch.fetch_add(1, Ordering::SeqCst);
            let (mut stuck, mut quiet) = (0, true);
            for slot in &st.slots {
                let (busy, since) = slot.load();
                // Busy since the tick before this one: a whole tick in one piece of work.
                stuck += usize::from(busy && since < cur);
                quiet &= !busy && since + PARK_AFTER_IDLE_TICKS <= cur;
            }
            // Threads stuck but runnable compute, or wait for a core the machine's other
            // work holds: they come back by themselves, and one more thread would only
            // compete with them (on one core, a hand-off per request). Only a thread asleep in
            // its work (blocked, or waiting for a nested call) calls for another.
            let blocked =
                stuck >= st.threads && st.slots.iter().any(|s| s.load().0 && !s.runnable());
            if st.handles.iter().any(JoinHandle::is_finished) {
                let retired: Vec<JoinHandle<()>>;
                (st.handles, retired) = std::mem::take(&mut st.handles)
                    .into_iter()
                    .partition(|h| !h.is_finished());
                for h in retired {
                    // Ended: the join returns at once.
                    let _ = h.join();
                }
            }
            if blocked {
                // Nobody polls, and the threads that would have come back have not. Pending
                // retirements are called off: every thread is needed.
                st.to_retire = 0;
                self.to_retire.store(0, Ordering::Relaxed);
                if st.threads < self.policy.max_threads {
                    match self.enlist_locked(&mut st, spawn) {
                        Ok(()) => tracing::debug!(target: "orb::server", threads = st.threads,
                            "adaptive server: every thread busy for a tick; one more polls"),
                        Err(e) => tracing::warn!(target: "orb::server", error = %e,
                            "adaptive server: no thread could be started to poll while the \
                             others are busy; trying again next tick"),
                    }
                }
            }
            needed = needed.max((stuck + 1).min(self.policy.max_threads));
            window_left -= 1;
            if window_left == 0 {
                if st.threads > needed {
                    st.to_retire = st.threads - needed;
                    self.to_retire.store(st.to_retire, Ordering::Relaxed);
                    wake_leader();
                }
                needed = 1;
                window_left = window_ticks;
            }
            if quiet && st.threads == 1 {
                st.kicked = false;
                self.parked.store(true, Ordering::SeqCst);
                // A thread that took work before it could see `parked` is seen here.
                if st.slots.iter().any(|s| s.load().0) {
                    self.parked.store(false, Ordering::SeqCst);
                    continue;
                }
                while !st.kicked && !st.stopping {
                    self.monitor.wait(&mut st);
                }
                self.parked.store(false, Ordering::SeqCst);
                // A new interval from now: the thread that kicked counts from here.
                self.epoch.fetch_add(1, Ordering::SeqCst);
                next = Instant::now() + tick;
                window_left = window_ticks;
                needed = 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> Slot {
        Slot {
            stamp: AtomicU64::new(0),
            tid: AtomicU64::new(0),
            stat: std::sync::OnceLock::new(),
        }
    }

    #[test]
    fn a_thread_that_waits_is_told_from_one_that_runs() {
        // Unknown: taken for asleep.
        assert!(!slot().runnable());
        // The thread asking is running.
        let me = slot();
        me.set_thread();
        assert_ne!(me.tid.load(Ordering::Relaxed), 0);
        assert!(me.runnable());
        // A thread blocked in a receive is asleep (once it got there).
        let waiting = Arc::new(slot());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (told_tx, told_rx) = std::sync::mpsc::channel();
        let w = waiting.clone();
        let t = std::thread::spawn(move || {
            w.set_thread();
            told_tx.send(()).unwrap();
            let _ = rx.recv();
        });
        told_rx.recv().unwrap();
        let asleep = (0..10_000).any(|_| {
            std::thread::sleep(Duration::from_millis(1));
            !waiting.runnable()
        });
        assert!(asleep, "the waiting thread was never seen asleep");
        tx.send(()).unwrap();
        t.join().unwrap();
    }
}
