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
//! them out of order, as GIOP allows).

use super::{check_priority, Priority, RtCurrent};
use crate::buffers::{self, AllocatorStrategy};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};

/// `RTCORBA::ThreadpoolLane`: a lane's priority and its threads (static ones only: rtorb
/// does not grow lanes with dynamic threads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadpoolLane {
    pub lane_priority: Priority,
    pub static_threads: u32,
}

/// The most threads one lane may have.
pub const MAX_LANE_THREADS: u32 = 256;

/// Reads `-ORBlanes`: `PRIORITY:THREADS` per lane, comma-separated (`0:2,20000:1`), each
/// priority 0 ..= 32767 and different, each lane 1 ..= 256 threads. Returned by increasing
/// priority; the error says which lane is wrong and why.
pub fn parse_lanes(spec: &str) -> Result<Vec<ThreadpoolLane>, String> {
    let mut lanes = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let (p, n) = part.split_once(':').ok_or_else(|| {
            format!("lane {part:?} is not PRIORITY:THREADS (a lane of 2 threads at priority 10 is 10:2)")
        })?;
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
}

#[derive(Default)]
struct LaneQueue {
    state: Mutex<LaneState>,
    ready: Condvar,
}

/// The lanes of a server, each with its queue and threads.
pub(crate) struct LanePool {
    /// By increasing priority.
    lanes: Vec<(Priority, Arc<LaneQueue>)>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    thread_ids: Vec<ThreadId>,
}

impl LanePool {
    /// Starts every lane's threads; `lanes` must be sorted by priority ([`parse_lanes`]
    /// returns them so).
    pub(crate) fn start(
        lanes: &[ThreadpoolLane],
        allocator: AllocatorStrategy,
    ) -> std::io::Result<LanePool> {
        let mut queues = Vec::with_capacity(lanes.len());
        let mut threads = Vec::new();
        let stop_all = |queues: &[(Priority, Arc<LaneQueue>)], threads: Vec<JoinHandle<()>>| {
            for (_, q) in queues {
                q.state.lock().stopping = true;
                q.ready.notify_all();
            }
            for t in threads {
                let _ = t.join();
            }
        };
        for lane in lanes {
            let queue = Arc::new(LaneQueue::default());
            for i in 0..lane.static_threads {
                let q = queue.clone();
                let p = lane.lane_priority;
                let spawned = std::thread::Builder::new()
                    .name(format!("orb-lane-{p}-{i}"))
                    .spawn(move || lane_thread(p, &q, allocator));
                match spawned {
                    Ok(t) => threads.push(t),
                    Err(e) => {
                        queues.push((lane.lane_priority, queue));
                        stop_all(&queues, threads);
                        return Err(e);
                    }
                }
            }
            queues.push((lane.lane_priority, queue));
        }
        Ok(LanePool {
            lanes: queues,
            thread_ids: threads.iter().map(|t| t.thread().id()).collect(),
            threads: Mutex::new(threads),
        })
    }

    /// The index of the lane that serves priority `p`: the highest not above it, else the
    /// lowest.
    fn lane_for(&self, p: Priority) -> usize {
        // A pool has a lane at least (`-ORBlanes` takes no empty list).
        super::serving_lane(&self.lanes, |(lp, _)| *lp, p).unwrap_or(0)
    }

    /// The priority of the lane that serves priority `p`.
    pub(crate) fn lane_priority_for(&self, p: Priority) -> Priority {
        self.lanes[self.lane_for(p)].0
    }

    /// Queues `job` on the lane for priority `p`. After [`LanePool::stop`] it runs on the
    /// calling thread instead, so that nothing accepted is dropped unanswered.
    pub(crate) fn submit(&self, p: Priority, job: Job) {
        let (_, q) = &self.lanes[self.lane_for(p)];
        let mut state = q.state.lock();
        if state.stopping {
            drop(state);
            return job();
        }
        state.queue.push_back(job);
        drop(state);
        q.ready.notify_one();
    }

    /// Tells every lane to finish what it has queued and end.
    pub(crate) fn stop(&self) {
        for (_, q) in &self.lanes {
            q.state.lock().stopping = true;
            q.ready.notify_all();
        }
    }

    /// Waits for the lane threads (all but the caller, if it is one).
    pub(crate) fn join(&self) {
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }

    /// Whether the calling thread is one of the lanes'.
    pub(crate) fn is_lane_thread(&self) -> bool {
        self.thread_ids.contains(&std::thread::current().id())
    }
}

impl Drop for LanePool {
    fn drop(&mut self) {
        self.stop();
        self.join();
    }
}

fn lane_thread(p: Priority, q: &LaneQueue, allocator: AllocatorStrategy) {
    buffers::warm_up(allocator);
    super::mapping::apply_to_current_thread(p);
    super::enter_lane(p);
    debug_assert_eq!(RtCurrent::lane_priority(), Some(p));
    loop {
        let job = {
            let mut state = q.state.lock();
            loop {
                if let Some(job) = state.queue.pop_front() {
                    break job;
                }
                if state.stopping {
                    return;
                }
                q.ready.wait(&mut state);
            }
        };
        // The dispatch catches servants' panics; this keeps the lane's thread should
        // anything else panic.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}
