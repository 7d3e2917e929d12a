//! Skeleton operation lookup: the four demux strategies idlc can generate (perfect hash, linear
//! search, binary search, a HashMap built on first use) on interfaces of 1 to 100 operations
//! (`rtorb_benches::op_demux`). One iteration looks up every operation name of the interface in
//! turn; the figure to quote is the time per iteration divided by the number of operations.
//! The experiments suite (`--bin experiments -- --only op_demux`) plots the same lookups.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rtorb_benches::op_demux::{check, names, strategies};

fn demux(c: &mut Criterion) {
    let mut g = c.benchmark_group("demux");
    for (strategy, sizes) in strategies() {
        for (n, lookup) in sizes {
            let names = names(n);
            // Every name must be found, by every strategy, before anything is timed.
            check(strategy, lookup, &names);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(strategy, n), &names, |b, names| {
                b.iter(|| {
                    for name in names {
                        black_box(lookup(black_box(name.as_str())));
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, demux);
criterion_main!(benches);
