//! The design's allocator experiment: message buffers from the thread-local pools
//! (`-ORBbufferAllocator tss`, the design's TSS allocator) against fresh ones from the global
//! allocator (`global`), several threads at once, each also making unrelated allocations of
//! random sizes between two takes so that the global heap is fragmented and contended the way
//! a busy server's is. Shared by the criterion bench `allocator` and the experiments suite.

use crate::measure::{median, quantile, Sample};
use orb::buffers::{self, AllocatorStrategy};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

pub const STRATEGIES: [(&str, AllocatorStrategy); 2] = [
    ("tss", AllocatorStrategy::ThreadLocal),
    ("global", AllocatorStrategy::Global),
];
pub const THREADS: [usize; 2] = [2, 4];
pub const PAYLOADS: [usize; 3] = [64, 1024, 16 * 1024];

/// Unrelated allocations each thread keeps alive, one replaced between two takes.
const LIVE: usize = 256;
const NOISE_MIN: usize = 16;
const NOISE_MAX: usize = 8 * 1024;

/// What the rest of a program allocates meanwhile: a thread's live allocations of random
/// sizes, one freed and a new one made at each step.
struct Noise {
    rng: u64,
    live: Vec<Vec<u8>>,
}

impl Noise {
    fn new(seed: u64) -> Noise {
        let mut n = Noise {
            rng: seed | 1,
            live: Vec::with_capacity(LIVE),
        };
        for _ in 0..LIVE {
            let v = n.allocation();
            n.live.push(v);
        }
        n
    }

    /// xorshift64: no dependency, and the same sequence for both strategies.
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Sizes spread evenly over the powers of two between the bounds: many small, some large.
    fn allocation(&mut self) -> Vec<u8> {
        let r = self.next();
        let shift = (r % (NOISE_MAX / NOISE_MIN).trailing_zeros() as u64) as u32;
        let base = NOISE_MIN << shift;
        let size = base + (r >> 32) as usize % base;
        let mut v = Vec::with_capacity(size.min(NOISE_MAX));
        v.push(r as u8);
        v
    }

    fn churn(&mut self) {
        let i = (self.next() >> 40) as usize % LIVE;
        let v = self.allocation();
        self.live[i] = v;
    }
}

#[inline(never)]
pub fn take_fill_give(strategy: AllocatorStrategy, payload: &[u8]) {
    let mut b = buffers::take(strategy);
    b.extend_from_slice(payload);
    black_box(&mut b);
    buffers::give(strategy, b);
}

/// Runs `ops` take+fill+give on each of `threads` threads at once, with noise between them.
/// Returns, per thread, the time its operations took and, if `record`, each one's time.
pub fn run_threads(
    strategy: AllocatorStrategy,
    threads: usize,
    payload: usize,
    ops: u64,
    record: bool,
) -> Vec<(Duration, Vec<u32>)> {
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let start = start.clone();
            std::thread::spawn(move || {
                let data = vec![0x5a_u8; payload];
                let mut noise = Noise::new(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
                for _ in 0..100 {
                    take_fill_give(strategy, &data);
                }
                let mut times = Vec::with_capacity(if record { ops as usize } else { 0 });
                let mut total = Duration::ZERO;
                start.wait();
                for _ in 0..ops {
                    noise.churn();
                    let t = Instant::now();
                    take_fill_give(strategy, &data);
                    let dt = t.elapsed();
                    total += dt;
                    if record {
                        times.push(dt.as_nanos() as u32);
                    }
                }
                (total, times)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// The experiment: `rounds` rounds, each running `ops` take+fill+give per thread on
/// [`EXPERIMENT_THREADS`] threads at once for each payload of [`PAYLOADS`], the strategies
/// one after the other; per round and strategy the median (`tss`, `global`) and the p99
/// (`tss p99`, `global p99`) of the single operations, in ns, at x = the payload's octets.
pub fn run(rounds: usize, ops: u64, tick: &mut dyn FnMut()) -> Vec<Sample> {
    let mut samples = Vec::new();
    for payload in PAYLOADS {
        for round in 0..rounds {
            for (name, strategy) in STRATEGIES {
                let times: Vec<f64> = run_threads(strategy, EXPERIMENT_THREADS, payload, ops, true)
                    .into_iter()
                    .flat_map(|(_, t)| t)
                    .map(f64::from)
                    .collect();
                let x = payload as f64;
                samples.push(Sample::new(name, x, round, median(&times)));
                samples.push(Sample::new(
                    &format!("{name} p99"),
                    x,
                    round,
                    quantile(&times, 0.99),
                ));
            }
        }
        tick();
    }
    samples
}

/// Threads of the experiment: one per core of the machine the figures come from, all
/// allocating at once.
pub const EXPERIMENT_THREADS: usize = 2;
