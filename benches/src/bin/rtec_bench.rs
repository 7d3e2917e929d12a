//! The real-time event channel's experiments (TAO's real-time event service paper), ours beside
//! the comparison measured in the same run:
//!
//! 1. **latency** from an event's `creation_time` to its consumer: 1 and 10 suppliers × 1, 5,
//!    10 and 20 consumers, to the first and to the last consumer; collocated (one process, one
//!    ORB calling `Direct`, reactive dispatching: the supplier's `push` runs every consumer's
//!    `push`) and across processes (supplier, channel and consumers each a process of its own
//!    on loopback), beside a twoway `cube_long` of the same ORB to a reactive server process,
//!    timed in the same run;
//! 2. **throughput** per dispatching strategy (reactive, mt, tpc, priority) to 1 and 4
//!    consumers: collocated, and through the channel in a process of its own beside
//!    omniEvents' COS channel, in the same run;
//! 3. **utilization** (the paper's figures 15–16): a high- and a low-priority supplier/consumer
//!    pair, each consumer spinning a calibrated W µs per event at a fixed rate, the high work
//!    grown until deadlines (the period) are missed, priority lanes against one dispatching
//!    thread; and **priority inversion**: a high-priority pair's latency under a mid-priority
//!    flood, with and without lanes;
//! 4. **memory** per connected consumer and per queued event (live heap bytes, counted by this
//!    binary's global allocator, and RSS), and heap allocations per collocated reactive push.
//!
//! ```sh
//! cargo build --release -p rtorb-benches --bin rtec_bench
//! target/release/rtec_bench                    # every section; --only SECTION, --help
//! taskset -c 1 target/release/rtec_bench       # pinned: every process on one core
//! ```
//!
//! Time stamps: a supplier writes `CLOCK_MONOTONIC` in nanoseconds (not TimeBase's 100 ns
//! units) into `header.creation_time` just before its `push`; a consumer reads the same clock
//! when its `push` starts. The clock is one for every process of the machine, so the
//! difference is the latency across processes too.
//!
//! The sections that need loopback servers (across processes, and omniEvents, which listens on
//! every interface) run in a copy of this binary in a network namespace of its own, as
//! `ev_bench` does; the collocated ones run first in this process, outside the namespace,
//! because a user namespace would take away the right to `SCHED_FIFO`.

#![deny(unsafe_code)]

use clap::{Parser, ValueEnum};
use event_service::comparison::{self, Board, OmniEvents, WINDOW};
use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, EventChannel, EventChannelRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, SupplierAdmin,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplierRef,
};
use event_service::rtec::{
    self, ConsumerQosBuilder, Dispatching, FullPolicy, RtecChannel, RtecOptions,
    SupplierQosBuilder, ACE_ES_EVENT_UNDEFINED,
};
use orb::exception::SystemException;
use orb::transport::{Endpoint, Strategy};
use orb::{CollocationStrategy, Orb, OrbOptions};
use rtorb_benches::cubit::{self, Cubit as _, ServerKind, ServerProcess, Transport};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

#[derive(Parser, Debug, Clone)]
#[command(about = "The real-time event channel's experiments, beside their comparisons")]
struct Args {
    /// Sections to run (repeat the option); all of them by default.
    #[arg(long, value_enum)]
    only: Vec<Section>,
    /// Events timed per collocated latency case (after a tenth as many to warm up).
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Events timed per latency case across processes, one in flight at a time.
    #[arg(long, default_value_t = 1_000)]
    process_events: usize,
    /// The supplier process's period between events, in µs (one event in flight).
    #[arg(long, default_value_t = 1_000)]
    pace_us: u64,
    /// Events pushed per collocated throughput round.
    #[arg(long, default_value_t = 200_000)]
    burst: usize,
    /// Events pushed per throughput round through a channel process (ours and omniEvents).
    #[arg(long, default_value_t = 10_000)]
    daemon_burst: usize,
    /// Rounds of each throughput case, the cases taking turns.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// How long each utilization step runs, in ms.
    #[arg(long, default_value_t = 600)]
    util_ms: u64,
    /// High-priority work steps, in per cent of its period (utilization adds the low pair's).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,20,30,40,45,50,55,60,65,70,75"
    )]
    util_steps: Vec<u32>,
    /// How long the priority inversion runs, in ms, with and without lanes each.
    #[arg(long, default_value_t = 1_000)]
    inversion_ms: u64,
    /// Consumers connected for the memory figure.
    #[arg(long, default_value_t = 1_000)]
    mem_consumers: usize,
    /// Events queued for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    mem_events: usize,
    #[command(flatten)]
    omnievents: OmniEvents,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Section {
    Latency,
    Throughput,
    Utilization,
    Memory,
}

impl Args {
    fn runs(&self, s: Section) -> bool {
        self.only.is_empty() || self.only.contains(&s)
    }
}

/// Set in the copy of the bench that runs in a network namespace of its own.
const IN_NETNS: &str = "RTORB_RTEC_BENCH_IN_NETNS";
/// Set in the processes of the latency experiment across processes: which part each plays.
const ROLE: &str = "RTORB_RTEC_BENCH_ROLE";

/// The event type every supplier pushes and every consumer subscribes to.
const TYPE: i32 = ACE_ES_EVENT_UNDEFINED + 1;

fn main() -> ExitCode {
    cubit::serve_if_asked();
    if let Ok(role) = std::env::var(ROLE) {
        return exit(roles::run(&role));
    }
    let args = Args::parse();
    if std::env::var_os(IN_NETNS).is_some() {
        return exit(in_netns(&args));
    }
    exit(outside(&args))
}

fn exit(r: Result<(), Error>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtec_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The collocated sections, then the copy in the network namespace for the others.
fn outside(args: &Args) -> Result<(), Error> {
    println!(
        "rtec_bench: {} CPU(s) allowed, load average {}",
        sys::allowed_cpus(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if args.runs(Section::Memory) {
        memory::run(args)?;
    }
    if args.runs(Section::Latency) {
        latency::collocated(args)?;
    }
    if args.runs(Section::Throughput) {
        throughput::collocated(args)?;
    }
    if args.runs(Section::Utilization) {
        utilization::run(args)?;
    }
    if args.runs(Section::Latency) || args.runs(Section::Throughput) {
        std::io::stdout().flush()?;
        comparison::rerun_in_private_netns(IN_NETNS)?;
    }
    Ok(())
}

/// The sections across processes, in the network namespace.
fn in_netns(args: &Args) -> Result<(), Error> {
    if args.runs(Section::Latency) {
        latency::across_processes(args)?;
    }
    if args.runs(Section::Throughput) {
        throughput::daemon(args)?;
    }
    Ok(())
}

// ---- counting allocator ---------------------------------------------------------------------

/// Live heap bytes and allocations made, for the memory section: the only way to see what the
/// channel keeps per consumer and per queued event apart from what the rest of the process
/// holds. It costs two relaxed atomic adds per allocation; the collocated reactive push, which
/// the latency section times, makes no allocation at all (the memory section counts them).
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

#[allow(unsafe_code)]
// SAFETY: every method hands its arguments to the system allocator unchanged and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---- the system's clock, CPU affinity and real-time priority ----------------------------------

#[allow(unsafe_code)]
mod sys {
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

    /// Pins the calling thread (and the threads it starts afterwards) to one CPU: the highest
    /// of those allowed (CPU 1 of two, where `taskset -c 1` would put it). Returns it.
    pub fn pin_to_one_cpu() -> Option<usize> {
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
                .then_some(cpu)
        }
    }

    /// Undoes [`pin_to_one_cpu`] for the calling thread: every CPU the process may use.
    pub fn unpin() {
        // SAFETY: as in `pin_to_one_cpu`.
        unsafe {
            let mut all: libc::cpu_set_t = std::mem::zeroed();
            for c in 0..libc::CPU_SETSIZE as usize {
                libc::CPU_SET(c, &mut all);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &all);
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
}

// ---- common pieces ------------------------------------------------------------------------------

/// Median, p99 and maximum of samples in ns.
#[derive(Clone, Copy, Default)]
struct Summary {
    median: u64,
    p99: u64,
    max: u64,
}

fn summary(samples: &mut [u64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    Summary {
        median: at(50),
        p99: at(99),
        max: samples[samples.len() - 1],
    }
}

fn us(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1e3)
}

fn median_f64(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// An ORB whose calls to its own objects are plain calls (`Direct`): the collocated case.
fn collocated_orb() -> Result<Orb, Error> {
    Ok(Orb::init(OrbOptions {
        collocation: CollocationStrategy::Direct,
        ..OrbOptions::default()
    })?)
}

/// An ORB serving on loopback with one reactive thread (as the cubit server it is compared
/// with), never collocating.
fn serving_orb() -> Result<Orb, Error> {
    Ok(Orb::init(OrbOptions {
        endpoints: vec![Endpoint::parse("giop:tcp:127.0.0.1:0")?],
        strategy: match std::env::var("RTORB_RTEC_BENCH_STRATEGY").as_deref() {
            Ok("pool") => Strategy::ThreadPool { threads: 2 },
            Ok("tpc") => Strategy::ThreadPerConnection,
            _ => Strategy::Reactive,
        },
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })?)
}

/// Channel options for `dispatching`; queues block their supplier when full (up to 1 s)
/// rather than drop, so that throughput counts deliveries, not drops.
fn channel_options(dispatching: Dispatching, lanes: usize) -> RtecOptions {
    RtecOptions {
        dispatching,
        dispatching_threads: if dispatching == Dispatching::Mt { 2 } else { 1 },
        priority_lanes: lanes,
        full_policy: FullPolicy::Block {
            max_delay: Duration::from_secs(1),
        },
        ..RtecOptions::default()
    }
}

fn dispatching_name(d: Dispatching) -> &'static str {
    match d {
        Dispatching::Reactive => "reactive",
        Dispatching::Mt => "mt",
        Dispatching::Tpc => "tpc",
        Dispatching::Priority => "priority",
    }
}

fn parse_dispatching(s: &str) -> Result<Dispatching, Error> {
    Ok(match s {
        "reactive" => Dispatching::Reactive,
        "mt" => Dispatching::Mt,
        "tpc" => Dispatching::Tpc,
        "priority" => Dispatching::Priority,
        other => return Err(format!("no dispatching {other:?}").into()),
    })
}

const DISPATCHINGS: [Dispatching; 4] = [
    Dispatching::Reactive,
    Dispatching::Mt,
    Dispatching::Tpc,
    Dispatching::Priority,
];

/// Connects `servant` as a consumer of [`TYPE`] (from any source) at priority `rt_info`.
fn connect_consumer<C: PushConsumer + 'static>(
    orb: &Orb,
    channel: &EventChannelRef,
    servant: C,
    rt_info: i32,
) -> Result<(), Error> {
    connect_consumer_of(orb, channel, servant, TYPE, rt_info)
}

/// Connects `servant` as a consumer of events of type `ty` at priority `rt_info`.
fn connect_consumer_of<C: PushConsumer + 'static>(
    orb: &Orb,
    channel: &EventChannelRef,
    servant: C,
    ty: i32,
    rt_info: i32,
) -> Result<(), Error> {
    let obj = orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(servant)))?;
    let proxy = channel.for_consumers()?.obtain_push_supplier()?;
    let qos = ConsumerQosBuilder::new().insert_type(ty, rt_info).build();
    proxy.connect_push_consumer(&PushConsumerRef::unchecked_narrow(obj), &qos)?;
    Ok(())
}

/// A supplier proxy for events of [`TYPE`] from `source`.
fn connect_supplier(channel: &EventChannelRef, source: i32) -> Result<ProxyPushConsumerRef, Error> {
    connect_supplier_of(channel, source, TYPE)
}

/// A supplier proxy for events of type `ty` from `source`.
fn connect_supplier_of(
    channel: &EventChannelRef,
    source: i32,
    ty: i32,
) -> Result<ProxyPushConsumerRef, Error> {
    let proxy = channel.for_suppliers()?.obtain_push_consumer()?;
    let qos = SupplierQosBuilder::new().insert(source, ty, 0, 1).build();
    proxy.connect_push_supplier(&PushSupplierRef::nil(), &qos)?;
    Ok(proxy)
}

/// Polls `done` until it holds, for at most `limit`.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), Error> {
    let end = Instant::now() + limit;
    while !done() {
        if Instant::now() > end {
            return Err(format!("gave up waiting for {what}").into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Arrivals of numbered events (`data.pad1`) at any number of consumers: the latency to the
/// first and to the last consumer that got each.
struct Arrivals {
    first: Vec<AtomicU64>,
    last: Vec<AtomicU64>,
    delivered: AtomicU64,
}

impl Arrivals {
    fn new(events: usize) -> Arc<Arrivals> {
        Arc::new(Arrivals {
            first: (0..events).map(|_| AtomicU64::new(u64::MAX)).collect(),
            last: (0..events).map(|_| AtomicU64::new(0)).collect(),
            delivered: AtomicU64::new(0),
        })
    }
}

/// A consumer that records when each event reaches it.
#[derive(Clone)]
struct Stamping(Arc<Arrivals>);

impl PushConsumer for Stamping {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        let now = sys::now_ns();
        for e in data {
            let latency = now.saturating_sub(e.header.creation_time);
            if let Some(slot) = usize::try_from(e.data.pad1)
                .ok()
                .and_then(|i| self.0.first.get(i).zip(self.0.last.get(i)))
            {
                slot.0.fetch_min(latency, Ordering::Relaxed);
                slot.1.fetch_max(latency, Ordering::Relaxed);
            }
            self.0.delivered.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

/// A consumer that counts what it gets.
#[derive(Clone)]
struct Counter(Arc<AtomicU64>);

impl PushConsumer for Counter {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.fetch_add(data.len() as u64, Ordering::Release);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

// ---- 1. latency ---------------------------------------------------------------------------------

mod latency {
    use super::*;

    pub const SUPPLIERS: [usize; 2] = [1, 10];
    pub const CONSUMERS: [usize; 4] = [1, 5, 10, 20];

    /// Runs `n` timed events (after `n / 10` to warm up) collocated, round robin over the
    /// suppliers from one thread; returns the latencies to the first and last consumer.
    fn collocated_case(
        n: usize,
        suppliers: usize,
        consumers: usize,
    ) -> Result<(Vec<u64>, Vec<u64>), Error> {
        let orb = collocated_orb()?;
        let channel = RtecChannel::start(&orb, channel_options(Dispatching::Reactive, 5))?;
        let warm = n / 10;
        let arrivals = Arrivals::new(warm + n);
        for _ in 0..consumers {
            connect_consumer(&orb, channel.reference(), Stamping(arrivals.clone()), 0)?;
        }
        let proxies = (0..suppliers)
            .map(|s| connect_supplier(channel.reference(), s as i32 + 1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut event = rtec::event(1, TYPE);
        for k in 0..warm + n {
            event.header.source = (k % suppliers) as i32 + 1;
            event.data.pad1 = k as i32;
            event.header.creation_time = sys::now_ns();
            proxies[k % suppliers].push(std::slice::from_ref(&event))?;
        }
        // Reactive and collocated: every consumer had its event before `push` returned.
        let expected = ((warm + n) * consumers) as u64;
        let got = arrivals.delivered.load(Ordering::Acquire);
        if got != expected {
            return Err(format!("collocated: {got} deliveries, expected {expected}").into());
        }
        let first = arrivals.first[warm..]
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect();
        let last = arrivals.last[warm..]
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect();
        channel.destroy();
        orb.shutdown(true);
        Ok((first, last))
    }

    pub fn collocated(args: &Args) -> Result<(), Error> {
        println!();
        println!(
            "latency, collocated (one ORB, Direct; reactive dispatching), creation_time to the \
             consumer, {} events per case, µs:",
            args.events
        );
        println!(
            "  {:<10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "suppliers",
            "consumers",
            "1st med",
            "1st p99",
            "1st max",
            "last med",
            "last p99",
            "last max"
        );
        for &s in &SUPPLIERS {
            for &c in &CONSUMERS {
                let (mut first, mut last) = collocated_case(args.events, s, c)?;
                let (f, l) = (summary(&mut first), summary(&mut last));
                println!(
                    "  {:<10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                    s,
                    c,
                    us(f.median),
                    us(f.p99),
                    us(f.max),
                    us(l.median),
                    us(l.p99),
                    us(l.max)
                );
            }
        }
        Ok(())
    }

    /// Times `n` twoway `cube_long` calls, back to back or (with `pace_ns`) one per period, as
    /// the supplier process pushes its events.
    fn cubit_calls(
        target: &cubit::CubitRef,
        n: usize,
        pace_ns: u64,
        out: &mut Vec<u64>,
    ) -> Result<(), Error> {
        let start = sys::now_ns();
        for k in 0..n as u64 {
            let now = sys::now_ns();
            if start + k * pace_ns > now {
                std::thread::sleep(Duration::from_nanos(start + k * pace_ns - now));
            }
            let t = sys::now_ns();
            let r = target.cube_long(cubit::X)?;
            out.push(sys::now_ns() - t);
            if r != cubit::X_CUBED {
                return Err(format!("cube_long({}) = {r}", cubit::X).into());
            }
        }
        Ok(())
    }

    pub fn across_processes(args: &Args) -> Result<(), Error> {
        let server = ServerProcess::rtorb(ServerKind::Reactive);
        let client = cubit::client_orb(Transport::Giop, None);
        let target = cubit::cubit_ref(&client, server.ior());
        let (mut back_to_back, mut twoway) = (Vec::new(), Vec::new());
        cubit_calls(&target, args.process_events / 10 + 1, 0, &mut Vec::new())?;
        let mut rows = Vec::new();
        for &s in &SUPPLIERS {
            for &c in &CONSUMERS {
                // The twoways beside each case, so that drift in the load falls on both: back
                // to back, and at the events' pace (each process then sleeps between calls as
                // the channel's do between events: the like-for-like figure).
                cubit_calls(&target, args.process_events, 0, &mut back_to_back)?;
                cubit_calls(
                    &target,
                    args.process_events,
                    args.pace_us * 1_000,
                    &mut twoway,
                )?;
                let (mut first, mut last) = process_case(args, s, c)?;
                rows.push((s, c, summary(&mut first), summary(&mut last)));
            }
        }
        let b2b = summary(&mut back_to_back);
        let tw = summary(&mut twoway);
        println!();
        println!(
            "latency across processes (supplier, channel, consumers each a process; reactive \
             ORBs and dispatching; GIOP 1.2 on loopback), {} events per case, one every {} µs, µs:",
            args.process_events, args.pace_us
        );
        println!(
            "  twoway cube_long, same ORB, reactive server process, back to back: median {} p99 \
             {} max {}",
            us(b2b.median),
            us(b2b.p99),
            us(b2b.max)
        );
        println!(
            "  twoway cube_long, one every {} µs (tw, the ratios' base): median {} p99 {} max {}",
            args.pace_us,
            us(tw.median),
            us(tw.p99),
            us(tw.max)
        );
        println!(
            "  {:<10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}   {:>10} {:>10} {:>11}",
            "suppliers",
            "consumers",
            "1st med",
            "1st p99",
            "1st max",
            "last med",
            "last p99",
            "last max",
            "1st÷tw med",
            "1st÷tw p99",
            "last÷tw med"
        );
        for (s, c, f, l) in rows {
            println!(
                "  {:<10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}   {:>10.2} {:>10.2} {:>11.2}",
                s,
                c,
                us(f.median),
                us(f.p99),
                us(f.max),
                us(l.median),
                us(l.p99),
                us(l.max),
                f.median as f64 / tw.median as f64,
                f.p99 as f64 / tw.p99 as f64,
                l.median as f64 / tw.median as f64
            );
        }
        Ok(())
    }

    /// One case across processes: a channel process, a consumer process with `consumers`
    /// servants, a supplier process with `suppliers` proxies.
    fn process_case(
        args: &Args,
        suppliers: usize,
        consumers: usize,
    ) -> Result<(Vec<u64>, Vec<u64>), Error> {
        let warm = args.process_events / 10;
        let n = warm + args.process_events;
        let mut channel = roles::Process::start("channel", &[("DISPATCHING", "reactive")])?;
        let ior = channel.expect("IOR:")?;
        let mut sink = roles::Process::start(
            "consumers",
            &[
                ("IOR", &ior),
                ("COUNT", &consumers.to_string()),
                ("EVENTS", &n.to_string()),
            ],
        )?;
        sink.expect("READY")?;
        let mut source = roles::Process::start(
            "suppliers",
            &[
                ("IOR", &ior),
                ("COUNT", &suppliers.to_string()),
                ("EVENTS", &n.to_string()),
                ("PACE_US", &args.pace_us.to_string()),
            ],
        )?;
        source.expect("READY")?;
        source.say("GO")?;
        source.expect("DONE")?;
        sink.say("END")?;
        let (mut first, mut last) = (Vec::new(), Vec::new());
        loop {
            let line = sink.line()?;
            if line == "END" {
                break;
            }
            let mut it = line.split_whitespace().skip(1);
            let (Some(k), Some(f), Some(l)) = (it.next(), it.next(), it.next()) else {
                return Err(format!("consumers said {line:?}").into());
            };
            if k.parse::<usize>()? >= warm {
                let (f, l) = (f.parse::<u64>()?, l.parse::<u64>()?);
                if f == u64::MAX {
                    return Err(format!("event {k} never arrived").into());
                }
                first.push(f);
                last.push(l);
            }
        }
        drop((source, sink, channel));
        Ok((first, last))
    }
}

/// The processes of the latency experiment across processes: this binary again, with
/// [`ROLE`] and its parameters in the environment, talking to the bench by lines.
mod roles {
    use super::*;

    const PREFIX: &str = "RTORB_RTEC_BENCH_";

    fn var(name: &str) -> Result<String, Error> {
        std::env::var(format!("{PREFIX}{name}")).map_err(|_| format!("no {PREFIX}{name}").into())
    }

    fn number(name: &str) -> Result<usize, Error> {
        Ok(var(name)?.parse()?)
    }

    pub fn run(role: &str) -> Result<(), Error> {
        match role {
            "channel" => channel(),
            "consumers" => consumers(),
            "suppliers" => suppliers(),
            other => Err(format!("no role {other:?}").into()),
        }
    }

    fn stdin_line() -> String {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        line
    }

    /// A channel in a reactive ORB; serves until its stdin closes.
    fn channel() -> Result<(), Error> {
        let orb = serving_orb()?;
        let channel = RtecChannel::start(
            &orb,
            channel_options(parse_dispatching(&var("DISPATCHING")?)?, 5),
        )?;
        println!("{}", orb.object_to_string(channel.object())?);
        std::io::stdout().flush()?;
        while !stdin_line().is_empty() {}
        channel.destroy();
        orb.shutdown(true);
        Ok(())
    }

    /// COUNT consumers; on END (after the suppliers are done), waits for every event to reach
    /// every consumer and prints each event's latency to the first and last.
    fn consumers() -> Result<(), Error> {
        let orb = serving_orb()?;
        let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(&var("IOR")?)?);
        let (count, events) = (number("COUNT")?, number("EVENTS")?);
        let arrivals = Arrivals::new(events);
        for _ in 0..count {
            connect_consumer(&orb, &channel, Stamping(arrivals.clone()), 0)?;
        }
        println!("READY");
        std::io::stdout().flush()?;
        stdin_line();
        // Deliveries may lag far behind (see the report on connections): wait while they
        // progress, and give up after 5 s without one.
        let want = (count * events) as u64;
        let mut seen = arrivals.delivered.load(Ordering::Acquire);
        while seen < want {
            let before = seen;
            let _ = wait_for("more deliveries", Duration::from_secs(5), || {
                arrivals.delivered.load(Ordering::Acquire) != before
            });
            seen = arrivals.delivered.load(Ordering::Acquire);
            if seen == before {
                break;
            }
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for (k, (f, l)) in arrivals.first.iter().zip(&arrivals.last).enumerate() {
            writeln!(
                out,
                "L {k} {} {}",
                f.load(Ordering::Relaxed),
                l.load(Ordering::Relaxed)
            )?;
        }
        writeln!(out, "END")?;
        out.flush()?;
        drop(out);
        orb.shutdown(false);
        Ok(())
    }

    /// COUNT suppliers; on GO, pushes EVENTS events round robin, one every PACE_US.
    fn suppliers() -> Result<(), Error> {
        let orb = Orb::init(OrbOptions {
            collocation: CollocationStrategy::None,
            ..OrbOptions::default()
        })?;
        let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(&var("IOR")?)?);
        let (count, events) = (number("COUNT")?, number("EVENTS")?);
        let pace = number("PACE_US")? as u64 * 1_000;
        let proxies = (0..count)
            .map(|s| connect_supplier(&channel, s as i32 + 1))
            .collect::<Result<Vec<_>, _>>()?;
        println!("READY");
        std::io::stdout().flush()?;
        stdin_line();
        let mut event = rtec::event(1, TYPE);
        let start = sys::now_ns();
        for k in 0..events {
            let at = start + k as u64 * pace;
            let now = sys::now_ns();
            if at > now {
                std::thread::sleep(Duration::from_nanos(at - now));
            }
            event.header.source = (k % count) as i32 + 1;
            event.data.pad1 = k as i32;
            event.header.creation_time = sys::now_ns();
            proxies[k % count].push(std::slice::from_ref(&event))?;
        }
        // A twoway on the same connection: the oneways before it have been sent.
        let _ = channel.for_suppliers()?;
        println!("DONE");
        std::io::stdout().flush()?;
        orb.shutdown(true);
        Ok(())
    }

    /// A role process; killed when dropped.
    pub struct Process {
        child: Child,
        stdin: Option<ChildStdin>,
        lines: mpsc::Receiver<String>,
    }

    impl Process {
        pub fn start(role: &str, vars: &[(&str, &str)]) -> Result<Process, Error> {
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.env(ROLE, role);
            for (k, v) in vars {
                cmd.env(format!("{PREFIX}{k}"), v);
            }
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()?;
            let stdin = child.stdin.take();
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
            Ok(Process {
                child,
                stdin,
                lines,
            })
        }

        pub fn line(&mut self) -> Result<String, Error> {
            self.lines
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| "a role process fell silent or died".into())
        }

        /// Reads lines up to the first that starts with `prefix`, and returns it.
        pub fn expect(&mut self, prefix: &str) -> Result<String, Error> {
            loop {
                let line = self.line()?;
                if line.starts_with(prefix) {
                    return Ok(line);
                }
            }
        }

        pub fn say(&mut self, line: &str) -> Result<(), Error> {
            let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
            writeln!(stdin, "{line}")?;
            stdin.flush()?;
            Ok(())
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            drop(self.stdin.take());
            for _ in 0..100 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---- 2. throughput --------------------------------------------------------------------------------

mod throughput {
    use super::*;

    /// A collocated channel with one supplier and `consumers` counting consumers.
    struct Collocated {
        _orb: Orb,
        channel: RtecChannel,
        supplier: ProxyPushConsumerRef,
        count: Arc<AtomicU64>,
        consumers: usize,
        pushed: u64,
        rt_supplier: bool,
    }

    impl Collocated {
        fn new(
            dispatching: Dispatching,
            consumers: usize,
            rt_supplier: bool,
        ) -> Result<Collocated, Error> {
            let orb = collocated_orb()?;
            let channel = RtecChannel::start(&orb, channel_options(dispatching, 5))?;
            let count = Arc::new(AtomicU64::new(0));
            for _ in 0..consumers {
                // rt_info 2: the middle lane of five under priority dispatching.
                connect_consumer(&orb, channel.reference(), Counter(count.clone()), 2)?;
            }
            let supplier = connect_supplier(channel.reference(), 1)?;
            Ok(Collocated {
                _orb: orb,
                channel,
                supplier,
                count,
                consumers,
                pushed: 0,
                rt_supplier,
            })
        }

        /// Pushes `n` events back to back; the time until every consumer had them all.
        fn burst(&mut self, n: usize) -> Result<Duration, Error> {
            let event = [rtec::event(1, TYPE)];
            // A real-time supplier runs above the lanes it feeds: else each push wakes a
            // SCHED_FIFO lane thread that preempts it, two context switches per event.
            let raised = self.rt_supplier && sys::fifo(20);
            let t = Instant::now();
            for _ in 0..n {
                self.supplier.push(&event)?;
            }
            if raised {
                sys::normal();
            }
            self.pushed += n as u64;
            let want = self.pushed * self.consumers as u64;
            wait_for("the consumers", Duration::from_secs(60), || {
                self.count.load(Ordering::Acquire) >= want
            })?;
            Ok(t.elapsed())
        }
    }

    pub fn collocated(args: &Args) -> Result<(), Error> {
        let mut cases = Vec::new();
        for (d, rt) in DISPATCHINGS
            .iter()
            .map(|&d| (d, false))
            .chain([(Dispatching::Priority, true)])
        {
            for c in [1, 4] {
                let name = match rt {
                    true => "priority+rt",
                    false => dispatching_name(d),
                };
                cases.push((name, c, Collocated::new(d, c, rt)?, Vec::new()));
            }
        }
        for (_, _, case, _) in cases.iter_mut() {
            case.burst(args.burst / 10 + 1)?;
        }
        for round in 0..args.rounds {
            let n = cases.len();
            for i in (0..n).map(|i| (i + round) % n) {
                let (_, _, case, rates) = &mut cases[i];
                let t = case.burst(args.burst)?;
                rates.push(args.burst as f64 / t.as_secs_f64());
            }
        }
        println!();
        println!(
            "throughput, collocated (one supplier pushing back to back; queues block it when \
             full; mt has 2 threads), {} events per round, {} rounds, events pushed per second:",
            args.burst, args.rounds
        );
        println!("  (priority+rt: the supplier runs SCHED_FIFO above the lanes)");
        println!(
            "  {:<10} {:>9} {:>12} {:>12} {:>12}",
            "dispatch", "consumers", "median", "min", "max"
        );
        for (name, c, case, mut rates) in cases {
            let m = median_f64(&mut rates);
            println!(
                "  {:<10} {:>9} {:>12.0} {:>12.0} {:>12.0}",
                name,
                c,
                m,
                rates[0],
                rates[rates.len() - 1]
            );
            case.channel.destroy();
        }
        Ok(())
    }

    /// A consumer of ours, counting on the same board as the COS consumers.
    #[derive(Clone)]
    struct OnBoard(Arc<Board>);

    impl PushConsumer for OnBoard {
        fn push(&self, data: &[Event]) -> Result<(), SystemException> {
            if let Ok(mut s) = self.0.state.lock() {
                s.received += data.len() as u64;
                s.at = Some(Instant::now());
            }
            self.0.changed.notify_all();
            Ok(())
        }

        fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
            Ok(())
        }
    }

    /// Our channel in a process of its own, its supplier and consumers in this one.
    struct Daemon {
        dispatching: Dispatching,
        _process: roles::Process,
        reference: EventChannelRef,
        supplier: ProxyPushConsumerRef,
        board: Arc<Board>,
        consumers: usize,
    }

    impl Daemon {
        fn start(orb: &Orb, dispatching: Dispatching) -> Result<Daemon, Error> {
            let mut process = roles::Process::start(
                "channel",
                &[("DISPATCHING", dispatching_name(dispatching))],
            )?;
            let ior = process.expect("IOR:")?;
            let reference = EventChannelRef::unchecked_narrow(orb.string_to_object(&ior)?);
            let supplier = connect_supplier(&reference, 1)?;
            let mut d = Daemon {
                dispatching,
                _process: process,
                reference,
                supplier,
                board: Arc::default(),
                consumers: 0,
            };
            d.add_consumers(orb, 1)?;
            Ok(d)
        }

        fn add_consumers(&mut self, orb: &Orb, n: usize) -> Result<(), Error> {
            for _ in 0..n {
                connect_consumer(orb, &self.reference, OnBoard(self.board.clone()), 2)?;
                self.consumers += 1;
            }
            Ok(())
        }

        /// As `comparison::Channel::burst`: `n` events, at most [`WINDOW`] ahead of the
        /// consumers; the time to the last arrival.
        fn burst(&mut self, n: usize) -> Result<Duration, Error> {
            let c = self.consumers as u64;
            let start = self.board.state.lock().map_err(|_| "poisoned")?.received;
            let event = [rtec::event(1, TYPE)];
            let t = Instant::now();
            for sent in 1..=n as u64 {
                self.supplier.push(&event)?;
                if sent >= WINDOW {
                    self.board.wait("the consumers to catch up", |s| {
                        s.received - start > (sent - WINDOW) * c
                    })?;
                }
            }
            let done = self
                .board
                .wait("the burst", |s| s.received - start >= n as u64 * c)?;
            Ok(done.at.ok_or("no arrival time")? - t)
        }
    }

    pub fn daemon(args: &Args) -> Result<(), Error> {
        let scratch = tempfile::Builder::new().prefix("rtec_bench-").tempdir()?;
        let orb = comparison::client_orb()?;
        let omni = comparison::start_omnievents(&args.omnievents, scratch.path(), &orb)?;
        let mut omni = comparison::Channel::connect(&orb, "omniEvents", omni)?;
        let mut ours = DISPATCHINGS
            .iter()
            .map(|&d| Daemon::start(&orb, d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut results = Vec::new();
        for consumers in [1, 4] {
            if consumers > 1 {
                omni.add_consumers(&orb, consumers - 1)?;
                for d in ours.iter_mut() {
                    d.add_consumers(&orb, consumers - 1)?;
                }
            }
            let n = args.daemon_burst;
            omni.burst(n / 10 + 1)?;
            for d in ours.iter_mut() {
                d.burst(n / 10 + 1)?;
            }
            // Per round: omniEvents' rate, and each of ours ÷ it.
            let mut omni_rates = Vec::new();
            let mut ratios: Vec<Vec<f64>> = ours.iter().map(|_| Vec::new()).collect();
            let mut rates: Vec<Vec<f64>> = ours.iter().map(|_| Vec::new()).collect();
            for round in 0..args.rounds {
                let k = ours.len() + 1;
                let mut got = vec![0.0; k];
                for i in (0..k).map(|i| (i + round) % k) {
                    let t = if i == ours.len() {
                        omni.burst(n)?
                    } else {
                        ours[i].burst(n)?
                    };
                    got[i] = n as f64 / t.as_secs_f64();
                }
                let o = got[ours.len()];
                omni_rates.push(o);
                for i in 0..ours.len() {
                    rates[i].push(got[i]);
                    ratios[i].push(got[i] / o);
                }
            }
            results.push((consumers, omni_rates, rates, ratios));
        }
        println!();
        println!(
            "throughput through a channel process (supplier and consumers in the bench process, \
             at most {WINDOW} events in flight), {} events per round, {} rounds; omniEvents' COS \
             channel (eventc -c {}) in the same run:",
            args.daemon_burst, args.rounds, args.omnievents.cycle_ns
        );
        println!(
            "  {:<10} {:>9} {:>12} {:>12} {:>22}",
            "channel", "consumers", "median/s", "min..max/s", "÷ omniEvents min..med..max"
        );
        for (consumers, mut omni_rates, rates, ratios) in results {
            let m = median_f64(&mut omni_rates);
            println!(
                "  {:<10} {:>9} {:>12.0} {:>12}",
                "omniEvents",
                consumers,
                m,
                format!(
                    "{:.0}..{:.0}",
                    omni_rates[0],
                    omni_rates[omni_rates.len() - 1]
                )
            );
            for (d, (mut r, mut q)) in ours.iter().zip(rates.into_iter().zip(ratios)) {
                let m = median_f64(&mut r);
                let mq = median_f64(&mut q);
                println!(
                    "  {:<10} {:>9} {:>12.0} {:>12} {:>22}",
                    format!("ours {}", dispatching_name(d.dispatching)),
                    consumers,
                    m,
                    format!("{:.0}..{:.0}", r[0], r[r.len() - 1]),
                    format!("{:.2}..{:.2}..{:.2}", q[0], mq, q[q.len() - 1])
                );
            }
        }
        drop(ours);
        drop(omni);
        orb.shutdown(true);
        Ok(())
    }
}

// ---- 3. utilization and priority inversion --------------------------------------------------

mod utilization {
    use super::*;

    /// The high-priority pair's period; the low pair's is twice as long (rate monotonic: the
    /// faster pair has the higher priority, as in the paper).
    const HIGH_PERIOD: Duration = Duration::from_millis(5);
    const LOW_PERIOD: Duration = Duration::from_millis(10);
    /// The low-priority consumer's work, in per cent of its period.
    const LOW_WORK: u32 = 30;

    /// Spin iterations per µs of CPU, measured at the highest priority the bench may take.
    fn calibrate() -> f64 {
        let fifo = sys::fifo(10);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            spin(1_000_000);
            best = best.min(t.elapsed().as_secs_f64());
        }
        if fifo {
            sys::normal();
        }
        // 1,000,000 iterations took `best` seconds.
        1.0 / best
    }

    fn spin(iterations: u64) {
        let mut x = 0u64;
        for i in 0..iterations {
            x = black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        black_box(x);
    }

    /// A consumer that works `iterations` per event and counts its deadline misses (done
    /// later than `deadline` after the event's creation).
    struct Worker {
        iterations: u64,
        deadline: u64,
        done: AtomicU64,
        missed: AtomicU64,
        latencies: Mutex<Vec<u64>>,
        /// Raises the dispatching thread that runs it to `SCHED_FIFO` (for the single
        /// dispatcher, whose thread the channel starts at normal priority).
        raise: bool,
    }

    #[derive(Clone)]
    struct Work(Arc<Worker>);

    impl PushConsumer for Work {
        fn push(&self, data: &[Event]) -> Result<(), SystemException> {
            let w = &self.0;
            if w.raise && !sys::is_fifo() {
                sys::fifo(1);
            }
            for e in data {
                let start = sys::now_ns();
                if let Ok(mut l) = w.latencies.lock() {
                    l.push(start.saturating_sub(e.header.creation_time));
                }
                spin(w.iterations);
                if sys::now_ns().saturating_sub(e.header.creation_time) > w.deadline {
                    w.missed.fetch_add(1, Ordering::Relaxed);
                }
                w.done.fetch_add(1, Ordering::Release);
            }
            Ok(())
        }

        fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
            Ok(())
        }
    }

    fn worker(iterations: u64, deadline: Duration, raise: bool) -> Arc<Worker> {
        Arc::new(Worker {
            iterations,
            deadline: deadline.as_nanos() as u64,
            done: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            latencies: Mutex::new(Vec::with_capacity(100_000)),
            raise,
        })
    }

    /// A periodic supplier on a thread of its own, above every dispatching thread (a timer,
    /// as the paper's suppliers were): pushes every `period` until `stop`; returns how many.
    fn periodic(
        proxy: ProxyPushConsumerRef,
        (source, ty): (i32, i32),
        (period, phase): (Duration, Duration),
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<u64> {
        std::thread::spawn(move || {
            sys::fifo(20);
            let mut event = rtec::event(source, ty);
            let start = sys::now_ns() + phase.as_nanos() as u64;
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let at = start + k * period.as_nanos() as u64;
                let now = sys::now_ns();
                if at > now {
                    std::thread::sleep(Duration::from_nanos(at - now));
                }
                event.header.creation_time = sys::now_ns();
                if proxy.push(std::slice::from_ref(&event)).is_err() {
                    break;
                }
                k += 1;
            }
            k
        })
    }

    /// The two dispatchings compared.
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Lanes,
        Single,
    }

    impl Kind {
        fn options(self, lanes: usize) -> RtecOptions {
            match self {
                Kind::Lanes => channel_options(Dispatching::Priority, lanes),
                Kind::Single => {
                    let mut o = channel_options(Dispatching::Mt, 1);
                    o.dispatching_threads = 1;
                    o
                }
            }
        }

        fn name(self) -> &'static str {
            match self {
                Kind::Lanes => "priority lanes",
                Kind::Single => "one thread (mt, 1)",
            }
        }
    }

    struct Step {
        high_events: u64,
        high_missed: u64,
        low_events: u64,
        low_missed: u64,
    }

    fn step(kind: Kind, per_us: f64, high_pct: u32, run: Duration) -> Result<Step, Error> {
        let orb = collocated_orb()?;
        let channel = RtecChannel::start(&orb, kind.options(2))?;
        let iters = |period: Duration, pct: u32| {
            (period.as_secs_f64() * 1e6 * pct as f64 / 100.0 * per_us) as u64
        };
        let raise = kind == Kind::Single;
        let high = worker(iters(HIGH_PERIOD, high_pct), HIGH_PERIOD, raise);
        let low = worker(iters(LOW_PERIOD, LOW_WORK), LOW_PERIOD, raise);
        connect_consumer(&orb, channel.reference(), Work(high.clone()), 0)?;
        // The low pair's own type, so that each consumer gets only its supplier's events.
        connect_consumer_of(&orb, channel.reference(), Work(low.clone()), TYPE + 1, 1)?;
        let high_proxy = connect_supplier(channel.reference(), 1)?;
        let low_proxy = connect_supplier_of(channel.reference(), 2, TYPE + 1)?;
        let stop = Arc::new(AtomicBool::new(false));
        let h = periodic(
            high_proxy,
            (1, TYPE),
            (HIGH_PERIOD, HIGH_PERIOD),
            stop.clone(),
        );
        // Each low event comes just before a high one (the paper's worst case for a dispatcher
        // that cannot preempt): the high event then waits for the low work.
        let l = periodic(
            low_proxy,
            (2, TYPE + 1),
            (LOW_PERIOD, HIGH_PERIOD - Duration::from_micros(100)),
            stop.clone(),
        );
        std::thread::sleep(run);
        stop.store(true, Ordering::Relaxed);
        let (hn, ln) = (
            h.join().map_err(|_| "supplier panicked")?,
            l.join().map_err(|_| "supplier panicked")?,
        );
        // What is still queued after a second counts as missed.
        let _ = wait_for("the queues to drain", Duration::from_secs(1), || {
            high.done.load(Ordering::Acquire) >= hn && low.done.load(Ordering::Acquire) >= ln
        });
        let s = Step {
            high_events: hn,
            high_missed: high.missed.load(Ordering::Relaxed)
                + hn.saturating_sub(high.done.load(Ordering::Acquire)),
            low_events: ln,
            low_missed: low.missed.load(Ordering::Relaxed)
                + ln.saturating_sub(low.done.load(Ordering::Acquire)),
        };
        channel.destroy();
        orb.shutdown(true);
        Ok(s)
    }

    pub fn run(args: &Args) -> Result<(), Error> {
        let cpu = sys::pin_to_one_cpu();
        let fifo = sys::fifo(1);
        if fifo {
            sys::normal();
        }
        let per_us = calibrate();
        println!();
        println!(
            "utilization (paper figs. 15-16), collocated, every thread on CPU {}; SCHED_FIFO {}; \
             high pair every {} ms, low pair every {} ms with {}% work; spin {:.0} iterations/µs; \
             {} ms per step; missed/events:",
            cpu.map_or("?".to_owned(), |c| c.to_string()),
            if fifo {
                "granted"
            } else {
                "refused (normal priority)"
            },
            HIGH_PERIOD.as_millis(),
            LOW_PERIOD.as_millis(),
            LOW_WORK,
            per_us,
            args.util_ms
        );
        println!(
            "  {:>6} {:>6}   {:>12} {:>12}   {:>12} {:>12}",
            "high%", "total%", "lanes: high", "lanes: low", "single: high", "single: low"
        );
        let run = Duration::from_millis(args.util_ms);
        for &pct in &args.util_steps {
            let lanes = step(Kind::Lanes, per_us, pct, run)?;
            let single = step(Kind::Single, per_us, pct, run)?;
            println!(
                "  {:>6} {:>6}   {:>12} {:>12}   {:>12} {:>12}",
                pct,
                pct + LOW_WORK,
                format!("{}/{}", lanes.high_missed, lanes.high_events),
                format!("{}/{}", lanes.low_missed, lanes.low_events),
                format!("{}/{}", single.high_missed, single.high_events),
                format!("{}/{}", single.low_missed, single.low_events),
            );
        }
        inversion(args)?;
        sys::unpin();
        Ok(())
    }

    /// A high-priority pair (every 2 ms, no work) under a mid-priority flood (a supplier
    /// pushing back to back to a consumer working 20 µs per event): the high pair's latency.
    fn inversion(args: &Args) -> Result<(), Error> {
        println!();
        println!(
            "priority inversion: high pair every 2 ms under a mid-priority flood (20 µs of work \
             per event, pushed back to back), {} ms each, high-priority latency µs:",
            args.inversion_ms
        );
        let per_us = calibrate();
        for kind in [Kind::Lanes, Kind::Single] {
            let orb = collocated_orb()?;
            let channel = RtecChannel::start(&orb, kind.options(3))?;
            let raise = kind == Kind::Single;
            let high = worker(0, Duration::from_millis(2), raise);
            let mid = worker((20.0 * per_us) as u64, Duration::from_secs(3600), raise);
            connect_consumer(&orb, channel.reference(), Work(high.clone()), 0)?;
            connect_consumer_of(&orb, channel.reference(), Work(mid.clone()), TYPE + 1, 1)?;
            let high_proxy = connect_supplier(channel.reference(), 1)?;
            let flood_proxy = connect_supplier_of(channel.reference(), 2, TYPE + 1)?;
            let stop = Arc::new(AtomicBool::new(false));
            let flood = {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    // A mid-priority thread: above the single dispatcher (+1), level with
                    // the mid lane (lane 1 of 3 is +2), below the high lane (+3).
                    sys::fifo(2);
                    let event = [rtec::event(2, TYPE + 1)];
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) && flood_proxy.push(&event).is_ok() {
                        n += 1;
                    }
                    n
                })
            };
            // Let the flood fill the queue first.
            std::thread::sleep(Duration::from_millis(50));
            let two = Duration::from_millis(2);
            let h = periodic(high_proxy, (1, TYPE), (two, two), stop.clone());
            std::thread::sleep(Duration::from_millis(args.inversion_ms));
            stop.store(true, Ordering::Relaxed);
            let hn = h.join().map_err(|_| "supplier panicked")?;
            let flooded = flood.join().map_err(|_| "flood panicked")?;
            let _ = wait_for("the high events", Duration::from_secs(5), || {
                high.done.load(Ordering::Acquire) >= hn
            });
            let mut lat = std::mem::take(&mut *high.latencies.lock().map_err(|_| "poisoned")?);
            let s = summary(&mut lat);
            println!(
                "  {:<20} median {:>9} p99 {:>9} max {:>9}   ({} high events, {} flood events, {} \
                 flood delivered)",
                kind.name(),
                us(s.median),
                us(s.p99),
                us(s.max),
                lat.len(),
                flooded,
                mid.done.load(Ordering::Relaxed)
            );
            channel.destroy();
            orb.shutdown(true);
        }
        Ok(())
    }
}

// ---- 4. memory ---------------------------------------------------------------------------------------

mod memory {
    use super::*;

    fn live() -> i64 {
        LIVE.load(Ordering::SeqCst)
    }

    /// A consumer that holds its first push until released, so that what follows queues.
    #[derive(Clone, Default)]
    struct Gate(Arc<(Mutex<(bool, bool)>, Condvar)>);

    impl Gate {
        fn entered(&self) -> bool {
            self.0 .0.lock().map(|g| g.0).unwrap_or(true)
        }

        fn open(&self) {
            if let Ok(mut g) = self.0 .0.lock() {
                g.1 = true;
            }
            self.0 .1.notify_all();
        }
    }

    impl PushConsumer for Gate {
        fn push(&self, _: &[Event]) -> Result<(), SystemException> {
            let (lock, cv) = &*self.0;
            let Ok(mut g) = lock.lock() else {
                return Ok(());
            };
            g.0 = true;
            while !g.1 {
                g = match cv.wait(g) {
                    Ok(g) => g,
                    Err(_) => return Ok(()),
                };
            }
            Ok(())
        }

        fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
            Ok(())
        }
    }

    pub fn run(args: &Args) -> Result<(), Error> {
        println!();
        println!("memory (live heap bytes counted by the allocator; RSS from /proc/self/statm):");
        per_consumer(args)?;
        for d in [Dispatching::Mt, Dispatching::Tpc, Dispatching::Priority] {
            per_event(args, d)?;
        }
        allocations_per_push()?;
        Ok(())
    }

    fn per_consumer(args: &Args) -> Result<(), Error> {
        let n = args.mem_consumers.max(1);
        let orb = collocated_orb()?;
        let channel = RtecChannel::start(&orb, channel_options(Dispatching::Reactive, 5))?;
        // One consumer first, so that one-time growth (tables, the POA's maps) is not counted.
        let count = Arc::new(AtomicU64::new(0));
        connect_consumer(&orb, channel.reference(), Counter(count.clone()), 0)?;
        let admin = channel.reference().for_consumers()?;
        let mut servants = Vec::with_capacity(n);
        let mut proxies = Vec::with_capacity(n);
        let (heap0, rss0) = (live(), sys::rss());
        for _ in 0..n {
            let obj = orb.activate(
                &orb.root_poa(),
                Arc::new(push_consumer::Tie::new(Counter(count.clone()))),
            )?;
            servants.push(PushConsumerRef::unchecked_narrow(obj));
        }
        let (heap1, rss1) = (live(), sys::rss());
        let qos = ConsumerQosBuilder::new().insert_type(TYPE, 0).build();
        for s in &servants {
            let proxy = admin.obtain_push_supplier()?;
            proxy.connect_push_consumer(s, &qos)?;
            proxies.push(proxy);
        }
        let (heap2, rss2) = (live(), sys::rss());
        println!(
            "  per consumer ({n} connected): the channel's proxy, subscription and filter {} B \
             heap ({} B RSS); the consumer servant's activation in the POA besides {} B heap ({} \
             B RSS)",
            (heap2 - heap1) / n as i64,
            (rss2 as i64 - rss1 as i64) / n as i64,
            (heap1 - heap0) / n as i64,
            (rss1 as i64 - rss0 as i64) / n as i64,
        );
        channel.destroy();
        drop((proxies, servants));
        orb.shutdown(true);
        Ok(())
    }

    fn per_event(args: &Args, d: Dispatching) -> Result<(), Error> {
        let m = args.mem_events.max(1);
        let orb = collocated_orb()?;
        let mut options = channel_options(d, 5);
        options.water_marks(m + 16, m / 2 + 1);
        let channel = RtecChannel::start(&orb, options)?;
        let gate = Gate::default();
        connect_consumer(&orb, channel.reference(), gate.clone(), 0)?;
        let supplier = connect_supplier(channel.reference(), 1)?;
        let event = [rtec::event(1, TYPE)];
        supplier.push(&event)?;
        wait_for("the consumer to block", Duration::from_secs(10), || {
            gate.entered()
        })?;
        // One more, so that the queue has made whatever it makes once.
        supplier.push(&event)?;
        let (heap0, rss0) = (live(), sys::rss());
        for _ in 0..m {
            supplier.push(&event)?;
        }
        let (heap1, rss1) = (live(), sys::rss());
        let queued: usize = channel.stats().consumers.iter().map(|c| c.queued).sum();
        println!(
            "  per queued event ({m} pushed, {queued} queued, {} dispatching): {} B heap ({} B RSS)",
            dispatching_name(d),
            (heap1 - heap0) / m as i64,
            (rss1 as i64 - rss0 as i64) / m as i64,
        );
        gate.open();
        channel.destroy();
        orb.shutdown(true);
        Ok(())
    }

    /// Heap allocations made by collocated reactive pushes to 20 consumers.
    fn allocations_per_push() -> Result<(), Error> {
        let orb = collocated_orb()?;
        let channel = RtecChannel::start(&orb, channel_options(Dispatching::Reactive, 5))?;
        let count = Arc::new(AtomicU64::new(0));
        for _ in 0..20 {
            connect_consumer(&orb, channel.reference(), Counter(count.clone()), 0)?;
        }
        let supplier = connect_supplier(channel.reference(), 1)?;
        let event = [rtec::event(1, TYPE)];
        for _ in 0..1_000 {
            supplier.push(&event)?;
        }
        let n = 10_000u64;
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..n {
            supplier.push(&event)?;
        }
        let made = ALLOCATIONS.load(Ordering::SeqCst) - before;
        println!(
            "  heap allocations per collocated reactive push to 20 consumers: {:.3} ({made} in \
             {n} pushes, any thread of the process)",
            made as f64 / n as f64
        );
        channel.destroy();
        orb.shutdown(true);
        Ok(())
    }
}
