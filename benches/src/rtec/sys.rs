//! The system's clock, CPU affinity and real-time priority, through libc: what the real-time
//! channel's experiments need and the standard library does not give.
#![allow(unsafe_code)]

/// `CLOCK_MONOTONIC` in ns: `Instant` reads the same clock but cannot be written into an
/// event, and the stamp must mean the same in every process.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live timespec the call writes; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn allowed() -> Option<libc::cpu_set_t> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set, and the call writes at most
    // `size_of::<cpu_set_t>()` bytes into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0)
            .then_some(set)
    }
}

pub fn allowed_cpus() -> usize {
    // SAFETY: CPU_COUNT only reads the set.
    allowed().map_or(0, |set| unsafe { libc::CPU_COUNT(&set) } as usize)
}

/// The CPUs a thread was allowed before [`pin_to_one_cpu`], for [`unpin`] to give back.
#[derive(Clone, Copy)]
pub struct Allowed(libc::cpu_set_t);

/// Pins the calling thread (and the threads it starts afterwards) to one CPU: the highest
/// of those allowed (CPU 1 of two, where `taskset -c 1` would put it). Returns it, and the
/// CPUs allowed before.
pub fn pin_to_one_cpu() -> Option<(usize, Allowed)> {
    let set = allowed()?;
    // SAFETY: CPU_ISSET reads the set; CPU_SET writes a cpu below CPU_SETSIZE into a
    // zeroed set; sched_setaffinity reads it.
    unsafe {
        let cpu = (0..libc::CPU_SETSIZE as usize)
            .rev()
            .find(|&c| libc::CPU_ISSET(c, &set))?;
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        (libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one) == 0)
            .then_some((cpu, Allowed(set)))
    }
}

/// Undoes [`pin_to_one_cpu`] for the calling thread: the CPUs it was allowed before (not
/// every CPU: a process started under `taskset` stays within its set, and so do the
/// processes it starts afterwards).
pub fn unpin(before: &Allowed) {
    // SAFETY: sched_setaffinity reads a live cpu_set_t of the size given.
    unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &before.0);
    }
}

/// The calling thread to `SCHED_FIFO` at `offset` above the middle of the range (where
/// the channel's lanes are: lane 0 of 2 is +2, lane 1 is +1); false if refused.
pub fn fifo(offset: i32) -> bool {
    // SAFETY: sched_get_priority_{min,max} read an integer; pthread_setschedparam gets the
    // calling thread's own handle and a live sched_param.
    unsafe {
        let (min, max) = (
            libc::sched_get_priority_min(libc::SCHED_FIFO),
            libc::sched_get_priority_max(libc::SCHED_FIFO),
        );
        let param = libc::sched_param {
            sched_priority: ((min + max) / 2 + offset).clamp(min, max),
        };
        libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) == 0
    }
}

/// Back to normal scheduling for the calling thread.
pub fn normal() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: as in `fifo`.
    unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_OTHER, &param) };
}

/// Whether the calling thread runs `SCHED_FIFO`.
pub fn is_fifo() -> bool {
    // SAFETY: sched_getscheduler(0) only reads the calling thread's policy.
    unsafe { libc::sched_getscheduler(0) == libc::SCHED_FIFO }
}

/// Resident set size, from /proc/self/statm (pages of 4 KiB).
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
