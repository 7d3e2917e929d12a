//! Lane threads run at the native priority their lane's CORBA priority maps to (the
//! default mapping, `fifo`): `SCHED_FIFO` at `1 + p * 97 / 32767` where the process may
//! (CAP_SYS_NICE, or root), else nice values (only those it may take: a thread may always
//! lower its own priority). Checked from inside the servant, through the kernel's own account
//! of the serving thread (`/proc/thread-self/stat`). A binary of its own: the mapping is per
//! process.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::rt::{NativePriorityPolicy, RtCurrent};
use orb::servant::Servant;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions};
use std::any::Any;
use std::sync::Arc;

/// The serving thread's scheduling: (policy, real-time priority, nice).
fn thread_scheduling() -> (u32, u32, i32) {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which may hold spaces), numbered from 3.
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let field = |n: usize| rest[n - 3];
    (
        field(41).parse().unwrap(),
        field(40).parse().unwrap(),
        field(19).parse().unwrap(),
    )
}

/// Whether this process may raise thread priorities (CAP_SYS_NICE, bit 23, effective).
fn may_raise_priorities() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 23) != 0)
}

struct Sched;

impl Servant for Sched {
    fn repository_id(&self) -> &'static str {
        "IDL:Test/Sched:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        _operation: &str,
        _args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        let (policy, rt_priority, nice) = thread_scheduling();
        reply.write_ulong(policy);
        reply.write_ulong(rt_priority);
        reply.write_long(nice);
        let name = std::thread::current().name().unwrap_or("").to_owned();
        reply.write_string(&name).unwrap();
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn scheduling_at(obj: &ObjectRef, p: i16) -> (u32, u32, i32) {
    scheduling_and_thread_at(obj, p).0
}

/// [`scheduling_at`], and the serving thread's name.
fn scheduling_and_thread_at(obj: &ObjectRef, p: i16) -> ((u32, u32, i32), String) {
    // The caller's own thread gets a native priority too: do it on a thread of its own.
    let obj = obj.clone();
    std::thread::spawn(move || {
        RtCurrent::set_the_priority(p).unwrap();
        obj.invoke("sched", &|_: &mut Encoder| -> Result<(), EncodeError> {
            Ok(())
        })
        .unwrap()
        .normal_result(|d| {
            let sched = (d.read_ulong()?, d.read_ulong()?, d.read_long()?);
            Ok((sched, d.read_string()?.into_owned()))
        })
        .unwrap()
    })
    .join()
    .unwrap()
}

const SCHED_OTHER: u32 = 0;
const SCHED_FIFO: u32 = 1;

#[test]
fn lane_threads_get_the_native_priority_of_their_lane() {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    o.parse_args(["-ORBlanes".to_owned(), "0:1,20000:1".to_owned()])
        .unwrap();
    assert_eq!(o.priority_mapping, NativePriorityPolicy::Fifo);
    let server = Orb::init(o).unwrap();
    let obj = server
        .activate(&server.root_poa(), Arc::new(Sched))
        .unwrap();
    let obj = server
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    let low = scheduling_at(&obj, 10);
    let high = scheduling_at(&obj, 30000);
    if may_raise_priorities() {
        let native = |p| u32::from(NativePriorityPolicy::Fifo.native(p).unwrap());
        assert_eq!(low, (SCHED_FIFO, native(0), 0), "the lane of priority 0");
        assert_eq!(
            high,
            (SCHED_FIFO, native(20000), 0),
            "the lane of priority 20000"
        );
        assert!(high.1 > low.1);
    } else {
        // Fallback: nice values, of which only the lowering ones are allowed.
        eprintln!("no CAP_SYS_NICE: checking the nice-value fallback only");
        assert_eq!(low, (SCHED_OTHER, 0, 19), "the lane of priority 0");
        assert_eq!(high.0, SCHED_OTHER);
    }
    server.shutdown(true);
}

#[test]
fn a_lanes_own_connection_threads_get_the_native_priority_of_their_lane() {
    // Banded calls go to each lane's own endpoint, whose connection threads run them.
    let server = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..options(&["-ORBlanes", "0:1,20000:1"])
    })
    .unwrap();
    let client = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..options(&["-ORBpriorityBands", "0-19999,20000-32767"])
    })
    .unwrap();
    let obj = server
        .activate(&server.root_poa(), Arc::new(Sched))
        .unwrap();
    let obj = client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap();
    let (low, low_thread) = scheduling_and_thread_at(&obj, 10);
    let (high, high_thread) = scheduling_and_thread_at(&obj, 30000);
    assert!(low_thread.starts_with("orb-lane-0-conn-"), "{low_thread}");
    assert!(
        high_thread.starts_with("orb-lane-20000-conn-"),
        "{high_thread}"
    );
    if may_raise_priorities() {
        let native = |p| u32::from(NativePriorityPolicy::Fifo.native(p).unwrap());
        assert_eq!(low, (SCHED_FIFO, native(0), 0), "the lane of priority 0");
        assert_eq!(
            high,
            (SCHED_FIFO, native(20000), 0),
            "the lane of priority 20000"
        );
    } else {
        eprintln!("no CAP_SYS_NICE: checking the nice-value fallback only");
        assert_eq!(low, (SCHED_OTHER, 0, 19), "the lane of priority 0");
        assert_eq!(high.0, SCHED_OTHER);
    }
    server.shutdown(true);
}

fn options(args: &[&str]) -> OrbOptions {
    let mut o = OrbOptions::default();
    o.parse_args(args.iter().map(|s| s.to_string())).unwrap();
    o
}
