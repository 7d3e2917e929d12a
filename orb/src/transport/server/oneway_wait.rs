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
//! So a reader whose last [`ONEWAY_READS_BEFORE_BATCH`] reads were a flood — each brought
//! several messages, or came within [`FLOOD_GAP`] of the one before (a reader that preempts
//! its sender at every `send` reads one message at a time, but at once) — and it answered
//! none of them waits for the next under `SCHED_BATCH`. It goes back to `SCHED_OTHER` as soon
//! as it answers something (for a twoway, wake-up preemption is worth keeping: the reply can
//! be written while the client is still returning from its `send`, which then finds it
//! without sleeping) or a read brings a single message after a pause (oneways that come one
//! at a time, an event channel's pushes say, keep a prompt wake-up: a reader under
//! `SCHED_BATCH` waits for a busy core's current thread to block or end its slice). Only a thread nobody gave a scheduling priority is touched — `SCHED_OTHER`
//! at nice 0 — so RT-CORBA's lanes and adopted request priorities keep theirs; each switch is
//! one `sched_setscheduler` (two system calls to check first), made only on a change of
//! traffic.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use thread_priority::{
    NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
};

/// Reads in a row of a flood the thread answered nothing to, before it waits under
/// `SCHED_BATCH`: a client that alternates oneways and twoways never moves it.
pub const ONEWAY_READS_BEFORE_BATCH: u32 = 4;

/// A read of one message that comes longer than this after the thread's read before is no
/// flood: a sender of oneways one at a time, which keeps its reader's prompt wake-up.
pub const FLOOD_GAP: Duration = Duration::from_micros(200);

thread_local! {
    /// Whether this thread was put under `SCHED_BATCH` here.
    static BATCHED: Cell<bool> = const { Cell::new(false) };
    /// Reads in a row of a flood, none answered.
    static UNANSWERED_READS: Cell<u32> = const { Cell::new(0) };
    /// When the thread last came to read.
    static LAST_READ: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Before a blocking read: `answered` says whether anything was written on the connection
/// since the thread's last read (a reply, typically), `messages` how many whole messages the
/// thread framed since then.
pub(super) fn before_read(answered: bool, messages: u32) {
    if answered {
        // No clock read: a twoway's reader pays nothing for this.
        LAST_READ.with(|l| l.set(None));
        back_to_other();
    } else {
        unanswered_read(messages, Instant::now());
    }
}

/// A read of `messages` answered by nothing, the clock read at `now`.
fn unanswered_read(messages: u32, now: Instant) {
    let last = LAST_READ.with(|l| l.replace(Some(now)));
    let prompt = last.is_some_and(|last| now.saturating_duration_since(last) <= FLOOD_GAP);
    if messages < 2 && !prompt {
        back_to_other();
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

/// Starts the count of flood reads again, and puts the thread back under `SCHED_OTHER` if it
/// was put under `SCHED_BATCH` here.
fn back_to_other() {
    UNANSWERED_READS.with(|n| n.set(0));
    if BATCHED.with(|b| b.replace(false)) {
        set_policy(
            NormalThreadSchedulePolicy::Batch,
            NormalThreadSchedulePolicy::Other,
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use thread_priority::ThreadSchedulePolicy::Normal;

    /// The calling thread's policy.
    fn policy() -> NormalThreadSchedulePolicy {
        match thread_priority::thread_schedule_policy() {
            Ok(Normal(p)) => p,
            other => panic!("not a normal policy: {other:?}"),
        }
    }

    /// Runs `f` on a thread of its own: the state is per thread.
    fn on_a_fresh_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().unwrap();
    }

    const BATCH: NormalThreadSchedulePolicy = NormalThreadSchedulePolicy::Batch;
    const OTHER: NormalThreadSchedulePolicy = NormalThreadSchedulePolicy::Other;

    #[test]
    fn prompt_single_message_reads_are_a_flood() {
        on_a_fresh_thread(|| {
            let t = Instant::now();
            let step = Duration::from_micros(10);
            for i in 0..ONEWAY_READS_BEFORE_BATCH {
                assert_eq!(policy(), OTHER, "read {i}");
                unanswered_read(1, t + step * (i + 1));
            }
            // The first read has no read before it, so it starts the count at none.
            unanswered_read(1, t + step * 10);
            assert_eq!(policy(), BATCH);
            // A reader under SCHED_BATCH reads many at once, however long it waited.
            unanswered_read(300, t + Duration::from_millis(3));
            assert_eq!(policy(), BATCH);
            // An answer puts it back.
            before_read(true, 1);
            assert_eq!(policy(), OTHER);
        });
    }

    #[test]
    fn single_messages_after_pauses_are_no_flood() {
        on_a_fresh_thread(|| {
            let t = Instant::now();
            for i in 0..10 {
                unanswered_read(1, t + Duration::from_millis(i));
                assert_eq!(policy(), OTHER, "read {i}");
            }
            // Under SCHED_BATCH after a flood, the first single message after a pause puts it
            // back.
            for i in 0..=ONEWAY_READS_BEFORE_BATCH {
                unanswered_read(5, t + Duration::from_millis(20 + u64::from(i)));
            }
            assert_eq!(policy(), BATCH);
            unanswered_read(1, t + Duration::from_millis(40));
            assert_eq!(policy(), OTHER);
        });
    }
}
