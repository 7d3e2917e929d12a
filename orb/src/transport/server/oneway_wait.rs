//! How a thread-per-connection reader waits when its peer sends it only oneways.
//!
//! A client sending oneways on a loopback connection wakes the reading thread with each
//! `send`, and when the two share a core the kernel lets the woken reader preempt the sender
//! at once: the reader takes a few messages per wake-up and both pay a context switch for each
//! few (measured: rtorb's connection thread made 2.2× the context switches per oneway of
//! omniORB's server, whose heavier wake-ups happen to let its client run longer). A thread
//! under `SCHED_BATCH` is never let preempt on wake-up (`sched(7)`: the scheduler treats it as
//! CPU-bound), so the sender keeps its core until it blocks or its slice ends, and the reader
//! then frames many messages in one go.
//!
//! So a reader whose last [`ONEWAY_READS_BEFORE_BATCH`] reads brought requests it answered
//! nothing to waits for the next under `SCHED_BATCH`, and goes back to `SCHED_OTHER` as soon as
//! it answers something: for a twoway, wake-up preemption is worth keeping (the reply can be
//! written while the client is still returning from its `send`, which then finds it without
//! sleeping). Only a thread nobody gave a scheduling priority is touched — `SCHED_OTHER` at
//! nice 0 — so RT-CORBA's lanes and adopted request priorities keep theirs; each switch is one
//! `sched_setscheduler` (two system calls to check first), made only on a change of traffic.

use std::cell::Cell;
use std::sync::OnceLock;
use thread_priority::{
    NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
};

/// Reads in a row that brought only messages the thread answered nothing to, before it waits
/// under `SCHED_BATCH`: a client that alternates oneways and twoways never moves it.
pub const ONEWAY_READS_BEFORE_BATCH: u32 = 4;

thread_local! {
    /// Whether this thread was put under `SCHED_BATCH` here.
    static BATCHED: Cell<bool> = const { Cell::new(false) };
    /// Reads in a row after which nothing was answered.
    static UNANSWERED_READS: Cell<u32> = const { Cell::new(0) };
}

/// Before a blocking read: `answered` says whether anything was written on the connection
/// since the thread's last read (a reply, typically).
pub(super) fn before_read(answered: bool) {
    if answered {
        UNANSWERED_READS.with(|n| n.set(0));
        if BATCHED.with(Cell::get) {
            BATCHED.with(|b| b.set(false));
            set_policy(
                NormalThreadSchedulePolicy::Batch,
                NormalThreadSchedulePolicy::Other,
            );
        }
        return;
    }
    let reads = UNANSWERED_READS.with(|n| {
        let reads = n.get().saturating_add(1);
        n.set(reads);
        reads
    });
    if reads == ONEWAY_READS_BEFORE_BATCH && !BATCHED.with(Cell::get) {
        let switched = set_policy(
            NormalThreadSchedulePolicy::Other,
            NormalThreadSchedulePolicy::Batch,
        );
        BATCHED.with(|b| b.set(switched));
    }
}

/// Moves the calling thread from policy `from` at nice 0 to `to` at nice 0; nothing (false)
/// if it is not under `from` at nice 0 — someone else gave it a priority, which stays.
fn set_policy(from: NormalThreadSchedulePolicy, to: NormalThreadSchedulePolicy) -> bool {
    let Ok(ThreadSchedulePolicy::Normal(now)) = thread_priority::thread_schedule_policy() else {
        return false;
    };
    if now != from || rustix::process::getpriority_process(None).ok() != Some(0) {
        return false;
    }
    let Some(nice_zero) = nice_zero() else {
        return false;
    };
    thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Crossplatform(nice_zero),
        ThreadSchedulePolicy::Normal(to),
    )
    .is_ok()
}

/// The `thread-priority` level it maps onto nice 0 (it sets a normal policy's nice value from
/// a 0 ..= 99 level, not directly).
fn nice_zero() -> Option<ThreadPriorityValue> {
    static LEVEL: OnceLock<Option<ThreadPriorityValue>> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let other = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
        (0..=99u8)
            .filter_map(|l| ThreadPriorityValue::try_from(l).ok())
            .find(|&v| ThreadPriority::Crossplatform(v).to_posix(other).ok() == Some(0))
    })
}
