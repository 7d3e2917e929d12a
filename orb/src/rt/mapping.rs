//! `RTCORBA::PriorityMapping`: CORBA priorities (0 ..= 32767) onto the operating system's.
//!
//! One policy per process (`-ORBpriorityMapping`, set by the last ORB initialised), applied
//! to a thread when it sets its [`RtCurrent`](super::RtCurrent) priority and to each lane
//! thread at its lane's priority. Linear, as TAO's default (`Direct`/`Linear`) mappings:
//!
//! | policy | native priority of CORBA priority `p` |
//! |---|---|
//! | `fifo`, `rr` | `SCHED_FIFO` / `SCHED_RR` at `1 + p * 97 / 32767` (1 ..= 98; 99 is left to the kernel's own threads) |
//! | `nice` | `SCHED_OTHER` at the nice value `thread-priority` gives its level `p * 99 / 32767` (19 for 0 down to -20 for 32767) |
//! | `off` | unchanged |
//!
//! Real-time policies and negative nice values need `CAP_SYS_NICE` (or root). Where the
//! process lacks it, `fifo`/`rr` fall back to `nice`, and a nice value the process may not
//! take leaves the thread as it is; each fallback is said once, as a `tracing` warning.

use super::Priority;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use thread_priority::{
    NormalThreadSchedulePolicy, RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue,
    ThreadSchedulePolicy,
};

/// How CORBA priorities become native thread priorities (`-ORBpriorityMapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NativePriorityPolicy {
    /// Native priorities are left alone: lanes still have their own threads and queues.
    Off,
    /// Nice values under `SCHED_OTHER`.
    Nice,
    /// `SCHED_FIFO` real-time priorities, falling back to nice values (the default).
    #[default]
    Fifo,
    /// `SCHED_RR` real-time priorities, falling back to nice values.
    RoundRobin,
}

impl NativePriorityPolicy {
    /// The option's spelling: `off`, `nice`, `fifo` or `rr`.
    pub fn parse(s: &str) -> Option<NativePriorityPolicy> {
        match s {
            "off" => Some(NativePriorityPolicy::Off),
            "nice" => Some(NativePriorityPolicy::Nice),
            "fifo" => Some(NativePriorityPolicy::Fifo),
            "rr" => Some(NativePriorityPolicy::RoundRobin),
            _ => None,
        }
    }

    /// The native value CORBA priority `p` maps to: a real-time priority (1 ..= 98) for
    /// `fifo`/`rr`, `thread-priority`'s 0 ..= 99 level (mapped by it onto nice 19 ..= -20)
    /// for `nice`, `None` for `off`.
    pub fn native(self, p: Priority) -> Option<u8> {
        let p = i32::from(p.max(0));
        let v = match self {
            NativePriorityPolicy::Off => return None,
            NativePriorityPolicy::Nice => p * 99 / i32::from(super::MAX_PRIORITY),
            NativePriorityPolicy::Fifo | NativePriorityPolicy::RoundRobin => {
                1 + p * 97 / i32::from(super::MAX_PRIORITY)
            }
        };
        u8::try_from(v).ok()
    }
}

static POLICY: RwLock<NativePriorityPolicy> = RwLock::new(NativePriorityPolicy::Fifo);
static WARNED_REALTIME: AtomicBool = AtomicBool::new(false);
static WARNED_NICE: AtomicBool = AtomicBool::new(false);

/// Sets the process's mapping (by [`crate::Orb::init`], from its options).
pub(crate) fn set_policy(policy: NativePriorityPolicy) {
    *POLICY.write() = policy;
}

/// The process's mapping now.
pub fn policy() -> NativePriorityPolicy {
    *POLICY.read()
}

/// Gives the calling thread the native priority CORBA priority `p` maps to under the
/// process's policy; returns the policy that took effect (`Off` if none could).
pub fn apply_to_current_thread(p: Priority) -> NativePriorityPolicy {
    let policy = policy();
    let realtime = match policy {
        NativePriorityPolicy::Off => return NativePriorityPolicy::Off,
        NativePriorityPolicy::Nice => None,
        NativePriorityPolicy::Fifo => Some(RealtimeThreadSchedulePolicy::Fifo),
        NativePriorityPolicy::RoundRobin => Some(RealtimeThreadSchedulePolicy::RoundRobin),
    };
    if let Some(rt) = realtime {
        match set(policy.native(p), ThreadSchedulePolicy::Realtime(rt)) {
            Ok(()) => return policy,
            Err(e) => {
                if !WARNED_REALTIME.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "cannot give threads real-time priorities (needs CAP_SYS_NICE): \
                         using nice values instead"
                    );
                }
            }
        }
    }
    let normal = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
    match set(NativePriorityPolicy::Nice.native(p), normal) {
        Ok(()) => NativePriorityPolicy::Nice,
        Err(e) => {
            if !WARNED_NICE.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    error = %e,
                    priority = p,
                    "cannot give a thread the nice value of its CORBA priority (a lower nice \
                     needs CAP_SYS_NICE): native priorities left as they are"
                );
            }
            NativePriorityPolicy::Off
        }
    }
}

fn set(level: Option<u8>, policy: ThreadSchedulePolicy) -> Result<(), thread_priority::Error> {
    let level = level.ok_or(thread_priority::Error::Priority("no native priority"))?;
    let value = ThreadPriorityValue::try_from(level)
        .map_err(|_| thread_priority::Error::Priority("native priority out of range"))?;
    thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Crossplatform(value),
        policy,
    )
}

thread_local! {
    /// The CORBA priority whose native priority the thread was last given by [`adopt`].
    static ADOPTED: std::cell::Cell<Option<Priority>> = const { std::cell::Cell::new(None) };
}

/// Gives the calling thread the native priority of `p` unless it has it already: a server
/// thread reading a connection takes the priority of the requests on it, so that reading a
/// low-priority flood does not compete with high-priority work (with banded connections, a
/// connection's requests are all of one band).
pub(crate) fn adopt(p: Priority) {
    if ADOPTED.with(|a| a.replace(Some(p))) != Some(p) {
        apply_to_current_thread(p);
    }
}
