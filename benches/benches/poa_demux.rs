//! Request demultiplexing in the object adapter (after TAO's active demultiplexing papers; the
//! servants, key rings and maps are `rtorb_benches::servant_demux`'s, which the experiments
//! suite plots):
//! object key → servant for 1 to 100,000 active objects in each active object map strategy (the
//! linear one to 10,000), and key → POA for POAs nested 1 to 25 deep. Active demultiplexing should cost the same at every
//! size and depth; the linear map grows with the number of objects, the hash map with little
//! but hashing.
//!
//! The keys are looked up in a shuffled order spread over the whole set (so the slots touched
//! are not the ones just touched, unlike one hot key), but read from one contiguous buffer in
//! that order, as a real ORB reads a key it has just received.
//!
//! Before criterion, a summary times key → servant through active demultiplexing and the hash
//! map beside the floor — a plain `Vec` of the same servants indexed in the same order, each
//! handle cloned as the POA clones it — in alternating rounds of the same run, so that a
//! neighbour's burst on this shared machine hits all alike, and prints the ratios to the floor.
//!
//! `cargo bench -p rtorb-benches --bench poa_demux` for the full run (`-- zzz` for the summary
//! alone: a criterion filter that matches no case); without `--bench` (as `cargo test
//! --benches` runs it) a short summary, to prove it works.

use criterion::{black_box, BenchmarkId, Criterion};
use orb::poa::{AomStrategy, PoaTree};
use rtorb_benches::measure::median;
use rtorb_benches::servant_demux::{
    check_ring, depth_ring, populated, servants, time_round, KeyRing, DEPTHS, DEPTH_CASES, S, SEED,
    SIZES,
};

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Checks every key reaches its own servant, then times `dispatch_decision` going round the ring.
fn bench_ring(
    g: &mut Group<'_>,
    (name, param): (&str, usize),
    strategy: AomStrategy,
    tree: &PoaTree<S>,
    ring: &KeyRing,
) {
    check_ring(tree, ring, strategy);
    g.bench_with_input(BenchmarkId::new(name, param), ring, |b, ring| {
        let mut i = 0;
        b.iter(|| {
            let (s, e) = ring.bounds[i];
            i += 1;
            if i == ring.bounds.len() {
                i = 0;
            }
            black_box(tree.dispatch_decision(black_box(&ring.octets[s..e])));
        })
    });
}

/// The side-by-side summary (see the module's doc).
fn summary(full: bool) {
    // Short rounds, many of them: a burst from a neighbour spoils few. A round makes at least
    // one pass over all the servants.
    let (rounds, lookups) = if full { (31, 20_000) } else { (3, 2_000) };
    println!(
        "key -> servant, keys in shuffled order; {rounds} alternating rounds of max({lookups}, \
         servants) lookups after as many untimed; ns per lookup in the fastest round (the \
         least disturbed by neighbours), its ratio to the floor's fastest, and the median \
         (min-max) of the rounds' own ratios"
    );
    println!(
        "{:>9} {:>7} {:>7} {:>7} {:>7} {:>18} {:>7} {:>18}",
        "servants", "floor", "demux", "hash", "demux÷", "rounds", "hash÷", "rounds"
    );
    for n in SIZES {
        let servants: Vec<S> = servants(n);
        let (demux, demux_keys) = populated(AomStrategy::ActiveDemux, &servants);
        let (hash, hash_keys) = populated(AomStrategy::DynamicHash, &servants);
        let demux_ring = KeyRing::new(&demux_keys, SEED);
        let hash_ring = KeyRing::new(&hash_keys, SEED);
        check_ring(&demux, &demux_ring, AomStrategy::ActiveDemux);
        check_ring(&hash, &hash_ring, AomStrategy::DynamicHash);
        let order: Vec<usize> = demux_ring.expected.iter().map(|&i| i as usize).collect();
        let mut t = [Vec::new(), Vec::new(), Vec::new()];
        let mut at = [0; 3];
        let lookups = lookups.max(n);
        let lookup = |tree: &PoaTree<S>, ring: &KeyRing, i: usize| {
            let (s, e) = ring.bounds[i];
            black_box(tree.dispatch_decision(black_box(&ring.octets[s..e])));
        };
        for _ in 0..rounds {
            t[0].push(time_round(n, lookups, &mut at[0], |i| {
                black_box(servants[black_box(order[i])].clone());
            }));
            t[1].push(time_round(n, lookups, &mut at[1], |i| {
                lookup(&demux, &demux_ring, i)
            }));
            t[2].push(time_round(n, lookups, &mut at[2], |i| {
                lookup(&hash, &hash_ring, i)
            }));
        }
        let fastest = t.clone().map(|v| v.into_iter().fold(f64::MAX, f64::min));
        let rounds = |k: usize| {
            let r: Vec<f64> = t[k].iter().zip(&t[0]).map(|(a, f)| a / f).collect();
            let (lo, hi) = r
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            format!("{:.2} ({:.2}-{:.2})", median(&r), lo, hi)
        };
        println!(
            "{n:>9} {:>7.1} {:>7.1} {:>7.1} {:>7.2} {:>18} {:>7.2} {:>18}",
            fastest[0],
            fastest[1],
            fastest[2],
            fastest[1] / fastest[0],
            rounds(1),
            fastest[2] / fastest[0],
            rounds(2),
        );
    }
    println!();
}

fn key_to_servant(c: &mut Criterion) {
    let mut g = c.benchmark_group("poa_demux_servants");
    // Every map gets the same servants, allocated one after the other before any activation,
    // so that the figures differ by what the maps touch, not by where the allocator happened
    // to put the servants between the maps' own allocations.
    let servants: Vec<Vec<S>> = SIZES.iter().map(|&n| servants(n)).collect();
    // The floor: reaching a servant among n in the same spread order and cloning its handle,
    // with no key at all — what any active object map must pay for the memory it touches.
    for (n, servants) in SIZES.into_iter().zip(&servants) {
        let ring = KeyRing::new(&vec![Vec::new(); n], SEED);
        let order: Vec<usize> = ring.expected.iter().map(|&i| i as usize).collect();
        g.bench_with_input(
            BenchmarkId::new("floor_vec_index", n),
            &order,
            |b, order| {
                let mut i = 0;
                b.iter(|| {
                    let s = servants[order[i]].clone();
                    i += 1;
                    if i == order.len() {
                        i = 0;
                    }
                    black_box(s);
                })
            },
        );
    }
    for (name, strategy) in [
        ("active_demux", AomStrategy::ActiveDemux),
        ("dynamic_hash", AomStrategy::DynamicHash),
        ("linear", AomStrategy::Linear),
    ] {
        for (n, servants) in SIZES.into_iter().zip(&servants) {
            // Making a linear map's 100,000 keys is itself O(n²) (each id_to_reference
            // searches the map): half a minute of setup to learn that a lookup costs ~0.3 ms.
            if strategy == AomStrategy::Linear && n > 10_000 {
                continue;
            }
            let (tree, keys) = populated(strategy, servants);
            let ring = KeyRing::new(&keys, SEED);
            bench_ring(&mut g, (name, n), strategy, &tree, &ring);
        }
    }
    g.finish();
}

fn key_to_poa(c: &mut Criterion) {
    let mut g = c.benchmark_group("poa_demux_depth");
    // The last case, for contrast: a persistent key from an earlier ORB instance walks the
    // path (the slow path), which grows with the depth.
    for case in DEPTH_CASES {
        for depth in DEPTHS {
            let (tree, ring) = depth_ring(case, depth);
            bench_ring(
                &mut g,
                (case, depth),
                AomStrategy::ActiveDemux,
                &tree,
                &ring,
            );
        }
    }
    g.finish();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    summary(full);
    // A shared two-core machine: short, repeated measurements rather than long ones.
    let mut c = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args();
    key_to_servant(&mut c);
    key_to_poa(&mut c);
    c.final_summary();
}
