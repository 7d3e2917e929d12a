//! Message buffers from the thread-local pools (`-ORBbufferAllocator tss`, the design's TSS
//! allocator) against fresh ones from the global allocator (`global`), in the same run:
//!
//! - `buffer_take_fill_give/{tss,global}/{threads}x{payload}`: 2 and 4 threads each take a
//!   buffer, write a message-sized payload into it (64 B, 1 KiB, 16 KiB) and give it back,
//!   over and over; between two takes each thread also makes an unrelated allocation of a
//!   random size (16 B to 8 KiB) that replaces one of the 256 it keeps alive, so the global
//!   heap is fragmented and contended the way a busy server's is. Only the take+fill+give is
//!   timed (each one on its own, the clock's cost included alike in both); criterion reports
//!   the mean time per take+fill+give on one thread, with its distribution.
//! - `twoway_add/{tss,global}`: an `add(long, long) -> long` call through the ORB, client and
//!   server ORBs in this process over loopback TCP, no collocation, thread-pool server.
//!
//! Before criterion, a summary run prints the median, p99 and p99.9 of single take+fill+give
//! operations and single calls, tss and global measured in alternating rounds (a burst from a
//! neighbour on this shared machine hits both alike), with the ratios tss ÷ global.
//!
//! `cargo bench -p rtorb-benches --bench allocator` for the full run; without `--bench` (as
//! `cargo test --benches` runs it) a short summary, to prove it works.

use criterion::{black_box, BenchmarkId, Criterion};
use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions, Servant};
use rtorb_benches::allocator::{run_threads, PAYLOADS, STRATEGIES, THREADS};
use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `interface Calc { long add(in long a, in long b); }`, by hand as a skeleton would be.
struct Calc;

impl Servant for Calc {
    fn repository_id(&self) -> &'static str {
        "IDL:Bench/Calc:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id() || id == "IDL:omg.org/CORBA/Object:1.0"
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

/// A client ORB and a server ORB in this process, both with `-ORBbufferAllocator name`.
struct Pair {
    obj: ObjectRef,
    _client: Orb,
    _server: Orb,
}

impl Pair {
    fn new(allocator: &str) -> Pair {
        let orb = || {
            let mut o = OrbOptions {
                collocation: CollocationStrategy::None,
                ..OrbOptions::default()
            };
            o.parse_args(["-ORBbufferAllocator".into(), allocator.into()])
                .unwrap();
            Orb::init(o).unwrap()
        };
        let server = orb();
        let target = server.activate(&server.root_poa(), Arc::new(Calc)).unwrap();
        let client = orb();
        let obj = client
            .string_to_object(&target.to_ior_string().unwrap())
            .unwrap();
        let pair = Pair {
            obj,
            _client: client,
            _server: server,
        };
        assert_eq!(pair.add(40, 2), 42);
        pair
    }

    fn add(&self, a: i32, b: i32) -> i32 {
        self.obj
            .invoke("add", &|e: &mut Encoder| -> Result<(), EncodeError> {
                e.write_long(a);
                e.write_long(b);
                Ok(())
            })
            .unwrap()
            .normal_result(|d| d.read_long())
            .unwrap()
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64
}

/// Median, p99, p99.9 of `times` (ns), less the clock's own median cost.
fn stats(times: &mut [u32], clock: f64) -> [f64; 3] {
    times.sort_unstable();
    [0.5, 0.99, 0.999].map(|p| (percentile(times, p) - clock).max(0.0))
}

/// The median cost of timing nothing: subtracted from the single-operation figures.
fn clock_cost() -> f64 {
    let mut t: Vec<u32> = (0..10_000)
        .map(|_| {
            let s = Instant::now();
            s.elapsed().as_nanos() as u32
        })
        .collect();
    t.sort_unstable();
    percentile(&t, 0.5)
}

fn print_row(case: &str, tss: [f64; 3], global: [f64; 3], unit: f64) {
    println!(
        "{case:<22} {:>9.1} {:>9.1} {:>9.1}   {:>9.1} {:>9.1} {:>9.1}   {:>6.2} {:>6.2}",
        tss[0] / unit,
        tss[1] / unit,
        tss[2] / unit,
        global[0] / unit,
        global[1] / unit,
        global[2] / unit,
        tss[0] / global[0],
        tss[1] / global[1],
    );
}

fn summary(full: bool) {
    let clock = clock_cost();
    let (rounds, ops) = if full { (10, 20_000) } else { (2, 500) };
    println!(
        "take+fill+give with noise allocations between takes; single operations, ns, clock \
         cost {clock:.0} ns subtracted; {} operations per thread and strategy",
        rounds * ops
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9}   {:>9} {:>9} {:>9}   {:>6} {:>6}",
        "threads x payload",
        "tss p50",
        "p99",
        "p99.9",
        "global p50",
        "p99",
        "p99.9",
        "÷ p50",
        "÷ p99"
    );
    for threads in THREADS {
        for payload in PAYLOADS {
            let mut all = [Vec::new(), Vec::new()];
            for _ in 0..rounds {
                for (i, (_, strategy)) in STRATEGIES.iter().enumerate() {
                    for (_, times) in run_threads(*strategy, threads, payload, ops, true) {
                        all[i].extend(times);
                    }
                }
            }
            let [tss, global] = all.map(|mut t| stats(&mut t, clock));
            print_row(&format!("{threads} x {payload} B"), tss, global, 1.0);
        }
    }

    let pairs = STRATEGIES.map(|(name, _)| Pair::new(name));
    let (rounds, per_round) = if full { (400, 50) } else { (4, 50) };
    for p in &pairs {
        for i in 0..1_000 {
            p.add(i, 1);
        }
    }
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (p, t) in pairs.iter().zip(times.iter_mut()) {
            for i in 0..per_round {
                let s = Instant::now();
                black_box(p.add(i, 2));
                t.push(s.elapsed().as_nanos() as u32);
            }
        }
    }
    let [tss, global] = times.map(|mut t| stats(&mut t, clock));
    println!(
        "\ntwoway add(long, long) over loopback TCP, thread-pool server; µs; {} calls each",
        rounds * per_round
    );
    print_row("twoway add", tss, global, 1_000.0);
    println!();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    summary(full);

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut g = c.benchmark_group("buffer_take_fill_give");
    for threads in THREADS {
        for payload in PAYLOADS {
            for (name, strategy) in STRATEGIES {
                g.bench_function(
                    BenchmarkId::new(name, format!("{threads}x{payload}")),
                    |b| {
                        b.iter_custom(|iters| {
                            let per_thread = run_threads(strategy, threads, payload, iters, false);
                            per_thread.iter().map(|(d, _)| *d).sum::<Duration>() / threads as u32
                        })
                    },
                );
            }
        }
    }
    g.finish();

    let mut g = c.benchmark_group("twoway_add");
    for (name, _) in STRATEGIES {
        let pair = Pair::new(name);
        g.bench_function(name, |b| b.iter(|| pair.add(black_box(20), 22)));
    }
    g.finish();
    c.final_summary();
}
