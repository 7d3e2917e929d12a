//! No heap allocation on the steady-state twoway path (issue #4): a client ORB and a server
//! ORB in this process, over loopback TCP, no collocation, an `add(long, long) -> long`
//! whose arguments and result are fixed-size. Once warmed up, a call allocates nothing —
//! on either side, under each server strategy — when buffers come from the thread-local
//! pools; with `-ORBbufferAllocator global` it does, which shows the count sees them.
//!
//! A counting `#[global_allocator]` counts every allocation of every thread while a call
//! batch runs. This binary holds this one test only, so nothing else allocates meanwhile.
//! With `RTORB_ALLOC_TRACE=1` the first allocations counted are reported with a backtrace.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::transport::Strategy;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant, ServantRef};
use std::alloc::{GlobalAlloc, Layout, System};
use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static TRACE: AtomicBool = AtomicBool::new(false);
static TRACES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread records a backtrace, whose own allocations are not counted.
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

fn counted(size: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    if TRACING.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let n = ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    if TRACE.load(Ordering::Relaxed) && n < 8 {
        TRACING.with(|t| t.set(true));
        let bt = std::backtrace::Backtrace::force_capture();
        let name = std::thread::current().name().map(str::to_owned);
        TRACES
            .lock()
            .unwrap()
            .push(format!("{size} octets on {name:?}:\n{bt}"));
        TRACING.with(|t| t.set(false));
    }
}

// SAFETY: forwards every call unchanged to the system allocator; the counting beside it
// touches only atomics and a thread-local flag (and, when tracing, allocates with the
// flag set, which the count skips).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ID: &str = "IDL:Test/Calc:1.0";

/// `interface Calc { long add(in long a, in long b); }`, written by hand as generated
/// skeletons would be.
struct Calc;

impl Servant for Calc {
    fn repository_id(&self) -> &'static str {
        ID
    }
    fn is_a(&self, id: &str) -> bool {
        id == ID || id == "IDL:omg.org/CORBA/Object:1.0"
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "add" => {
                let a = args.read_long()?;
                let b = args.read_long()?;
                reply.write_long(a.wrapping_add(b));
                Ok(DispatchStatus::NoException)
            }
            _ => Err(SystemException::bad_operation()),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn add(obj: &ObjectRef, a: i32, b: i32) -> i32 {
    obj.invoke("add", &|e: &mut Encoder| -> Result<(), EncodeError> {
        e.write_long(a);
        e.write_long(b);
        Ok(())
    })
    .unwrap()
    .normal_result(|d| d.read_long())
    .unwrap()
}

fn orb(strategy: Strategy, allocator: &str) -> Orb {
    orb_with(strategy, allocator, "")
}

/// An ORB with `args` (`-ORB...` options, space-separated) besides the strategy and allocator.
fn orb_with(strategy: Strategy, allocator: &str, args: &str) -> Orb {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        strategy,
        ..OrbOptions::default()
    };
    let args = format!("-ORBbufferAllocator {allocator} {args}");
    o.parse_args(args.split_whitespace().map(str::to_owned))
        .unwrap();
    Orb::init(o).unwrap()
}

const WARM_UP: i32 = 100;
const CALLS: i32 = 1_000;

/// Allocations made by every thread while `CALLS` calls run, after `WARM_UP` others.
fn allocations_per_batch(strategy: Strategy, allocator: &str) -> usize {
    let label = format!("{strategy:?}, {allocator}");
    allocations_between(orb(strategy, allocator), orb(strategy, allocator), &label)
}

/// [`allocations_per_batch`] between these two ORBs (`label` names them in the traces).
fn allocations_between(server: Orb, client: Orb, label: &str) -> usize {
    let servant: ServantRef = Arc::new(Calc);
    let target = server.activate(&server.root_poa(), servant).unwrap();
    let obj = client
        .string_to_object(&target.to_ior_string().unwrap())
        .unwrap();
    for i in 0..WARM_UP {
        assert_eq!(add(&obj, i, 1), i + 1);
    }
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let mut sum = 0i32;
    for i in 0..CALLS {
        sum = sum.wrapping_add(add(&obj, i, 2));
    }
    COUNTING.store(false, Ordering::SeqCst);
    let n = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(sum, (0..CALLS).map(|i| i + 2).sum::<i32>());
    for t in TRACES.lock().unwrap().drain(..) {
        eprintln!("allocation under {label}: {t}");
    }
    client.shutdown(true);
    server.shutdown(true);
    n
}

/// The count is of the whole process, the test harness's own threads included: one test
/// runs both checks in turn, so that no other test starts or ends (and the harness notes it)
/// while one counts.
#[test]
fn steady_state_calls_do_not_allocate() {
    twoway_calls_do_not_allocate();
    banded_calls_do_not_allocate();
}

fn twoway_calls_do_not_allocate() {
    TRACE.store(
        std::env::var_os("RTORB_ALLOC_TRACE").is_some(),
        Ordering::Relaxed,
    );
    let strategies = [
        Strategy::ThreadPool { threads: 4 },
        Strategy::Reactive,
        Strategy::Adaptive(orb::transport::AdaptivePolicy::default()),
        Strategy::ThreadPerConnection,
    ];
    let mut report = Vec::new();
    for strategy in strategies {
        let tss = allocations_per_batch(strategy, "tss");
        let global = allocations_per_batch(strategy, "global");
        report.push((strategy, tss, global));
    }
    eprintln!("allocations in {CALLS} calls (tss, global): {report:?}");
    for (strategy, tss, global) in report {
        assert_eq!(tss, 0, "{strategy:?}: {tss} allocations in {CALLS} calls");
        // Each call's request, its frame on the server, the reply and its frame.
        assert!(
            global >= CALLS as usize,
            "{strategy:?}: the count missed the global allocator's {global} allocations"
        );
    }
}

fn banded_calls_do_not_allocate() {
    TRACE.store(
        std::env::var_os("RTORB_ALLOC_TRACE").is_some(),
        Ordering::Relaxed,
    );
    // A client thread with a CORBA priority in one of its bands, calling a server with lanes:
    // the call goes on the band's connection to the endpoint of the lane that serves it, whose
    // thread runs it — the path of an RT-CORBA application's every call.
    let server = orb_with(
        Strategy::ThreadPerConnection,
        "tss",
        "-ORBpriorityMapping off -ORBthreadStrategy lanes -ORBlanes 0:1,20000:1",
    );
    let client = orb_with(
        Strategy::ThreadPerConnection,
        "tss",
        "-ORBpriorityMapping off -ORBpriorityBands 0-19999,20000-32767",
    );
    orb::rt::RtCurrent::set_the_priority(25000).unwrap();
    let n = allocations_between(server, client, "lanes and bands, tss");
    orb::rt::RtCurrent::clear();
    assert_eq!(n, 0, "{n} allocations in {CALLS} banded calls");
}
