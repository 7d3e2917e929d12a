//! Real-time priority for the priority lanes' threads: `SCHED_FIFO`, lane 0 the highest,
//! when the process is permitted (root or `CAP_SYS_NICE`); otherwise, said once, normal
//! scheduling (the lanes still serve the highest first through their own threads).
#![allow(unsafe_code)]

use std::sync::Once;

static REFUSED: Once = Once::new();

/// Gives the calling thread the `SCHED_FIFO` priority of `lane` of `lanes`.
pub(crate) fn raise_for_lane(lane: usize, lanes: usize) {
    // SAFETY: sched_get_priority_{min,max} only read their integer argument.
    let (min, max) = unsafe {
        (
            libc::sched_get_priority_min(libc::SCHED_FIFO),
            libc::sched_get_priority_max(libc::SCHED_FIFO),
        )
    };
    if min < 0 || max < min {
        return refused("SCHED_FIFO has no priority range here".into());
    }
    // Lanes share the middle of the range, as TAO's dispatching threads start at its middle.
    let top = (min + max) / 2 + lanes as i32;
    let priority = (top - lane as i32).clamp(min, max);
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: pthread_self() is always a valid handle for the calling thread, and `param`
    // is a live, initialised sched_param for the duration of the call.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    if rc != 0 {
        refused(std::io::Error::from_raw_os_error(rc).to_string());
    }
}

fn refused(why: String) {
    REFUSED.call_once(|| {
        tracing::warn!(
            "real-time event channel: priority lanes run at normal priority (SCHED_FIFO refused: {why})"
        );
    });
}
