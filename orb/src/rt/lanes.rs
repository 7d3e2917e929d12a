//! Thread pools with lanes, and the priority bands of banded connections.
//!
//! A [`LanePool`] has one queue and a fixed set of threads per lane; each lane's threads run
//! at the native priority of the lane's CORBA priority. The connection threads of the
//! server's own address (and those of a lane's own endpoint, for a request of another lane's
//! priority: see [`super::lane_endpoints`]) read requests and hand each to the lane for its
//! priority — the lane of highest priority not
//! above it, the lowest lane for a priority below every lane — so requests of a priority
//! never wait behind those of a lower lane, whose threads the operating system preempts.
//! Within a lane, requests run in the order they came, on as many threads as the lane has
//! (so a lane of several threads may run two requests of one connection at once, and answer
//! them out of order, as GIOP allows). A lane with dynamic threads starts one more whenever a
//! request is queued that no idle thread will take, up to its static and dynamic threads
//! together; a dynamic thread idle for [`DYNAMIC_THREAD_IDLE`] ends, down to the static ones.

use super::{check_priority, Priority, RtCurrent};
use crate::buffers::{self, AllocatorStrategy};
use parking_lot::{Condvar, Mutex};
use std::collections::{HashSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

/// `RTCORBA::ThreadpoolLane`: a lane's priority, the threads it always has, and how many
/// more it may start when busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadpoolLane {
    pub lane_priority: Priority,
    pub static_threads: u32,
    pub dynamic_threads: u32,
}

impl ThreadpoolLane {
    /// The most threads the lane has at once.
    pub fn max_threads(&self) -> u32 {
        self.static_threads + self.dynamic_threads
    }
}

/// The most threads one lane may have.
pub const MAX_LANE_THREADS: u32 = 256;

/// How long a lane's dynamic thread waits for work before it ends.
pub const DYNAMIC_THREAD_IDLE: Duration = Duration::from_secs(10);

/// Reads `-ORBlanes`: `PRIORITY:THREADS` or `PRIORITY:THREADS+DYNAMIC` per lane,
/// comma-separated (`0:2,20000:1+3`), each priority 0 ..= 32767 and different, each lane
/// 1 ..= 256 static threads and at most 256 threads in all. Returned by increasing priority;
/// the error says which lane is wrong and why.
pub fn parse_lanes(spec: &str) -> Result<Vec<ThreadpoolLane>, String> {
    let mut lanes = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let (p, n) = part.split_once(':').ok_or_else(|| {
            format!("lane {part:?} is not PRIORITY:THREADS (a lane of 2 threads at priority 10 is 10:2)")
        })?;
        let (n, d) = n.split_once('+').unwrap_or((n, "0"));
        let lane_priority = p
            .trim()
            .parse::<i32>()
            .ok()
            .and_then(|p| check_priority(p).ok())
            .ok_or_else(|| format!("lane {part:?}: {p:?} is not a priority (0 to 32767)"))?;
        let static_threads = n
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LANE_THREADS).contains(n))
            .ok_or_else(|| {
                format!("lane {part:?}: {n:?} is not a thread count (1 to {MAX_LANE_THREADS})")
            })?;
        let dynamic_threads = d
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| static_threads + d <= MAX_LANE_THREADS)
            .ok_or_else(|| {
                format!(
                    "lane {part:?}: {d:?} is not a count of dynamic threads (0 to {}, \
                     {MAX_LANE_THREADS} threads in all)",
                    MAX_LANE_THREADS - static_threads
                )
            })?;
        if lanes
            .iter()
            .any(|l: &ThreadpoolLane| l.lane_priority == lane_priority)
        {
            return Err(format!(
                "two lanes have priority {lane_priority}: give each lane its own priority"
            ));
        }
        lanes.push(ThreadpoolLane {
            lane_priority,
            static_threads,
            dynamic_threads,
        });
    }
    lanes.sort_by_key(|l| l.lane_priority);
    Ok(lanes)
}

/// `RTCORBA::PriorityBand`: the priorities `low ..= high`, whose calls share a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriorityBand {
    pub low: Priority,
    pub high: Priority,
}

impl PriorityBand {
    pub fn contains(&self, p: Priority) -> bool {
        (self.low..=self.high).contains(&p)
    }
}

/// Reads `-ORBpriorityBands`: `LOW-HIGH` per band, comma-separated
/// (`0-9999,10000-32767`), each within 0 ..= 32767, `LOW <= HIGH`, bands not overlapping.
/// Returned by increasing priority.
pub fn parse_bands(spec: &str) -> Result<Vec<PriorityBand>, String> {
    let mut bands: Vec<PriorityBand> = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let (l, h) = part.split_once('-').ok_or_else(|| {
            format!("band {part:?} is not LOW-HIGH (the priorities 0 to 9999 are 0-9999)")
        })?;
        let prio = |s: &str| {
            s.trim()
                .parse::<i32>()
                .ok()
                .and_then(|p| check_priority(p).ok())
                .ok_or_else(|| format!("band {part:?}: {s:?} is not a priority (0 to 32767)"))
        };
        let (low, high) = (prio(l)?, prio(h)?);
        if low > high {
            return Err(format!(
                "band {part:?} ends below its start: write it LOW-HIGH"
            ));
        }
        let band = PriorityBand { low, high };
        if let Some(other) = bands
            .iter()
            .find(|b| b.contains(low) || b.contains(high) || band.contains(b.low))
        {
            return Err(format!(
                "bands {}-{} and {low}-{high} overlap: a priority must be in one band at most",
                other.low, other.high
            ));
        }
        bands.push(band);
    }
    bands.sort_by_key(|b| b.low);
    Ok(bands)
}

/// Work handed to a lane.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct LaneState {
    queue: VecDeque<Job>,
    stopping: bool,
    /// The lane's threads now, and how many of them wait for work.
    threads: u32,
    idle: u32,
    /// Names the next dynamic thread.
    next_dynamic: u32,
}

#[derive(Default)]
struct LaneQueue {
    state: Mutex<LaneState>,
    ready: Condvar,
}

/// A lane of a pool: its queue and its bounds.
struct Lane {
    config: ThreadpoolLane,
    queue: Arc<LaneQueue>,
}

/// What a pool's threads share: their handles, to join them, and their ids, to know them.
#[derive(Default)]
struct PoolThreads {
    handles: Mutex<Vec<JoinHandle<()>>>,
    ids: Mutex<HashSet<ThreadId>>,
}

/// The lanes of a server, each with its queue and threads.
pub(crate) struct LanePool {
    /// By increasing priority.
    lanes: Vec<Lane>,
    threads: Arc<PoolThreads>,
    allocator: AllocatorStrategy,
    /// How long a dynamic thread waits for work before it ends.
    dynamic_idle: Duration,
}

impl LanePool {
    /// Starts every lane's static threads; `lanes` must be sorted by priority
    /// ([`parse_lanes`] returns them so).
    pub(crate) fn start(
        lanes: &[ThreadpoolLane],
        allocator: AllocatorStrategy,
    ) -> std::io::Result<LanePool> {
        LanePool::start_with_idle(lanes, allocator, DYNAMIC_THREAD_IDLE)
    }

    /// [`LanePool::start`] with dynamic threads that end after `dynamic_idle` without work.
    pub(crate) fn start_with_idle(
        lanes: &[ThreadpoolLane],
        allocator: AllocatorStrategy,
        dynamic_idle: Duration,
    ) -> std::io::Result<LanePool> {
        let pool = LanePool {
            lanes: lanes
                .iter()
                .map(|&config| Lane {
                    config,
                    queue: Arc::default(),
                })
                .collect(),
            threads: Arc::default(),
            allocator,
            dynamic_idle,
        };
        // The static threads are running, set up, when the pool is returned: a thread that
        // the system starts late would otherwise make its set-up (its name, buffers, native
        // priority) in the middle of the first requests.
        let (ready, set_up) = std::sync::mpsc::channel();
        let mut started = 0;
        for lane in &pool.lanes {
            for i in 0..lane.config.static_threads {
                let mut state = lane.queue.state.lock();
                // On failure the pool drops, which stops and joins what started.
                pool.spawn(
                    lane,
                    &mut state,
                    format!("orb-lane-{}-{i}", lane.config.lane_priority),
                    Some(ready.clone()),
                )?;
                started += 1;
            }
        }
        drop(ready);
        for _ in 0..started {
            // An error: every thread that had not said so yet has ended (a panic in its
            // set-up); there is nothing more to wait for.
            if set_up.recv().is_err() {
                break;
            }
        }
        Ok(pool)
    }

    /// Starts a thread for `lane`, counted in its `state` (whose lock the caller holds, so
    /// that a stop cannot come between the decision and the thread's handle being kept).
    ///
    /// The thread says on `ready`, if given, when it is set up and about to take work.
    fn spawn(
        &self,
        lane: &Lane,
        state: &mut LaneState,
        name: String,
        ready: Option<std::sync::mpsc::Sender<()>>,
    ) -> std::io::Result<()> {
        let (q, threads, allocator) = (lane.queue.clone(), self.threads.clone(), self.allocator);
        let (p, statics) = (lane.config.lane_priority, lane.config.static_threads);
        let shrink = (lane.config.dynamic_threads > 0).then_some((statics, self.dynamic_idle));
        let mut handles = self.threads.handles.lock();
        let t = std::thread::Builder::new().name(name).spawn(move || {
            threads.ids.lock().insert(std::thread::current().id());
            lane_thread(p, &q, allocator, shrink, ready);
            threads.ids.lock().remove(&std::thread::current().id());
        })?;
        state.threads += 1;
        handles.retain(|h| !h.is_finished());
        handles.push(t);
        Ok(())
    }

    /// The index of the lane that serves priority `p`: the highest not above it, else the
    /// lowest.
    fn lane_for(&self, p: Priority) -> usize {
        // A pool has a lane at least (`-ORBlanes` takes no empty list).
        super::serving_lane(&self.lanes, |l| l.config.lane_priority, p).unwrap_or(0)
    }

    /// The priority of the lane that serves priority `p`.
    pub(crate) fn lane_priority_for(&self, p: Priority) -> Priority {
        self.lanes[self.lane_for(p)].config.lane_priority
    }

    /// Queues `job` on the lane for priority `p`, starting a dynamic thread for it if no idle
    /// thread will take it and the lane may grow. After [`LanePool::stop`] it runs on the
    /// calling thread instead, so that nothing accepted is dropped unanswered.
    pub(crate) fn submit(&self, p: Priority, job: Job) {
        let lane = &self.lanes[self.lane_for(p)];
        let q = &lane.queue;
        let mut state = q.state.lock();
        if state.stopping {
            drop(state);
            return job();
        }
        state.queue.push_back(job);
        // More queued than idle threads to take them (a woken thread counts as idle until it
        // runs): one more thread, if the lane may have it. Should the system refuse a
        // thread, the lane's others take the job in turn.
        if state.queue.len() > state.idle as usize && state.threads < lane.config.max_threads() {
            let n = state.next_dynamic;
            state.next_dynamic += 1;
            let name = format!("orb-lane-{}-d{n}", lane.config.lane_priority);
            if self.spawn(lane, &mut state, name, None).is_ok() {
                return;
            }
        }
        drop(state);
        q.ready.notify_one();
    }

    /// Tells every lane to finish what it has queued and end.
    pub(crate) fn stop(&self) {
        for lane in &self.lanes {
            lane.queue.state.lock().stopping = true;
            lane.queue.ready.notify_all();
        }
    }

    /// Waits for the lane threads (all but the caller, if it is one).
    pub(crate) fn join(&self) {
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut *self.threads.handles.lock());
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }

    /// Whether the calling thread is one of the lanes'.
    pub(crate) fn is_lane_thread(&self) -> bool {
        self.threads
            .ids
            .lock()
            .contains(&std::thread::current().id())
    }

    /// The threads lane `priority` has now (for tests).
    #[cfg(test)]
    pub(crate) fn lane_threads(&self, priority: Priority) -> u32 {
        self.lanes[self.lane_for(priority)]
            .queue
            .state
            .lock()
            .threads
    }
}

impl Drop for LanePool {
    fn drop(&mut self) {
        self.stop();
        self.join();
    }
}

/// A lane thread's life: runs the lane's jobs as they come; with `shrink` (a lane with
/// dynamic threads: its static threads and the idle time), ends after waiting that long for
/// work while the lane has more threads than its static ones.
fn lane_thread(
    p: Priority,
    q: &LaneQueue,
    allocator: AllocatorStrategy,
    shrink: Option<(u32, Duration)>,
    ready: Option<std::sync::mpsc::Sender<()>>,
) {
    buffers::warm_up(allocator);
    super::mapping::apply_to_current_thread(p);
    super::enter_lane(p);
    debug_assert_eq!(RtCurrent::lane_priority(), Some(p));
    if let Some(ready) = ready {
        let _ = ready.send(());
    }
    loop {
        let job = {
            let mut state = q.state.lock();
            loop {
                if let Some(job) = state.queue.pop_front() {
                    break job;
                }
                if state.stopping {
                    state.threads -= 1;
                    return;
                }
                state.idle += 1;
                let timed_out = match shrink {
                    Some((_, idle)) => q.ready.wait_for(&mut state, idle).timed_out(),
                    None => {
                        q.ready.wait(&mut state);
                        false
                    }
                };
                state.idle -= 1;
                if timed_out
                    && state.queue.is_empty()
                    && shrink.is_some_and(|(statics, _)| state.threads > statics)
                {
                    state.threads -= 1;
                    return;
                }
            }
        };
        // The dispatch catches servants' panics; this keeps the lane's thread should
        // anything else panic.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}
