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
//! The measurements of latency and utilization are `rtorb_benches::rtec`'s (the experiments
//! suite's `events` experiment makes them too); this binary prints them, and measures the
//! throughput and memory sections itself.
//!
//! The sections that need loopback servers (across processes, and omniEvents, which listens on
//! every interface) run in a copy of this binary in a network namespace of its own, as
//! `ev_bench` does; the collocated ones run first in this process, outside the namespace,
//! because a user namespace would take away the right to `SCHED_FIFO`.

#![deny(unsafe_code)]

use clap::{Parser, ValueEnum};
use event_service::comparison::{self, Board, OmniEvents, WINDOW};
use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, EventChannel, EventChannelRef, ProxyPushConsumerRef, ProxyPushSupplier,
};
use event_service::rtec::rtec_event_comm::{push_consumer, Event, PushConsumer, PushConsumerRef};
use event_service::rtec::{self, ConsumerQosBuilder, Dispatching, RtecChannel};
use orb::exception::SystemException;
use orb::Orb;
use rtorb_benches::cubit;
use rtorb_benches::rtec::{
    channel_options, collocated_orb, connect_consumer, connect_supplier, dispatching_name, roles,
    sys, wait_for, Counter, Error, DISPATCHINGS, TYPE,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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

fn main() -> ExitCode {
    cubit::serve_if_asked();
    if let Some(role) = roles::run_if_asked() {
        return exit(role);
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

// ---- common pieces ------------------------------------------------------------------------------

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

// ---- 1. latency ---------------------------------------------------------------------------------

mod latency {
    use super::*;
    use rtorb_benches::rtec::latency::{self as measure, CONSUMERS, SUPPLIERS};

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
                let (mut first, mut last) = measure::collocated_case(args.events, s, c)?;
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

    pub fn across_processes(args: &Args) -> Result<(), Error> {
        let mut m = measure::across_processes(args.process_events, args.pace_us, &mut || {})?;
        let b2b = summary(&mut m.back_to_back);
        let tw = summary(&mut m.paced);
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
        for (s, c, mut first, mut last) in m.cases {
            let (f, l) = (summary(&mut first), summary(&mut last));
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
    use rtorb_benches::rtec::utilization::{
        self as measure, Kind, HIGH_PERIOD, LOW_PERIOD, LOW_WORK,
    };

    pub fn run(args: &Args) -> Result<(), Error> {
        let setup = measure::prepare();
        println!();
        println!(
            "utilization (paper figs. 15-16), collocated, every thread on CPU {}; SCHED_FIFO {}; \
             high pair every {} ms, low pair every {} ms with {}% work; spin {:.0} iterations/µs; \
             {} ms per step; missed/events:",
            setup.cpu.map_or("?".to_owned(), |c| c.to_string()),
            if setup.fifo {
                "granted"
            } else {
                "refused (normal priority)"
            },
            HIGH_PERIOD.as_millis(),
            LOW_PERIOD.as_millis(),
            LOW_WORK,
            setup.per_us,
            args.util_ms
        );
        println!(
            "  {:>6} {:>6}   {:>12} {:>12}   {:>12} {:>12}",
            "high%", "total%", "lanes: high", "lanes: low", "single: high", "single: low"
        );
        let run = Duration::from_millis(args.util_ms);
        for &pct in &args.util_steps {
            let lanes = measure::step(Kind::Lanes, setup.per_us, pct, run)?;
            let single = measure::step(Kind::Single, setup.per_us, pct, run)?;
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
        measure::finish(&setup);
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
        let per_us = measure::calibrate();
        for kind in [Kind::Lanes, Kind::Single] {
            let mut r = measure::inversion(kind, per_us, Duration::from_millis(args.inversion_ms))?;
            let s = summary(&mut r.latencies);
            println!(
                "  {:<20} median {:>9} p99 {:>9} max {:>9}   ({} high events, {} flood events, {} \
                 flood delivered)",
                kind.name(),
                us(s.median),
                us(s.p99),
                us(s.max),
                r.latencies.len(),
                r.flooded,
                r.flood_delivered
            );
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
