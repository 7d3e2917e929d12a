//! Skeleton operation lookup: the four demux strategies idlc can generate (perfect hash, linear
//! search, binary search, a HashMap built on first use) on interfaces of 1, 5, 10, 20 and 50
//! operations. One iteration looks up every operation name of the interface in turn; the
//! figure to quote is the time per iteration divided by the number of operations.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

macro_rules! generated {
    ($($strategy:ident: $($n:literal => $module:ident),*;)*) => {$(
        mod $strategy {
            $(
                #[allow(dead_code)]
                pub mod $module {
                    include!(concat!(env!("OUT_DIR"), "/", stringify!($strategy), "/ops", stringify!($n), ".rs"));
                }
            )*
        }
    )*};
}

generated! {
    perfect: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50;
    linear: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50;
    binary: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50;
    dynamic: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50;
}

include!("../demux_names.rs");

type Lookup = fn(&str) -> Option<usize>;

fn demux(c: &mut Criterion) {
    let tables: [(&str, [(usize, Lookup); 5]); 4] = [
        (
            "perfect",
            [
                (1, perfect::ops1::ops1::operation_index),
                (5, perfect::ops5::ops5::operation_index),
                (10, perfect::ops10::ops10::operation_index),
                (20, perfect::ops20::ops20::operation_index),
                (50, perfect::ops50::ops50::operation_index),
            ],
        ),
        (
            "linear",
            [
                (1, linear::ops1::ops1::operation_index),
                (5, linear::ops5::ops5::operation_index),
                (10, linear::ops10::ops10::operation_index),
                (20, linear::ops20::ops20::operation_index),
                (50, linear::ops50::ops50::operation_index),
            ],
        ),
        (
            "binary",
            [
                (1, binary::ops1::ops1::operation_index),
                (5, binary::ops5::ops5::operation_index),
                (10, binary::ops10::ops10::operation_index),
                (20, binary::ops20::ops20::operation_index),
                (50, binary::ops50::ops50::operation_index),
            ],
        ),
        (
            "dynamic",
            [
                (1, dynamic::ops1::ops1::operation_index),
                (5, dynamic::ops5::ops5::operation_index),
                (10, dynamic::ops10::ops10::operation_index),
                (20, dynamic::ops20::ops20::operation_index),
                (50, dynamic::ops50::ops50::operation_index),
            ],
        ),
    ];
    let mut g = c.benchmark_group("demux");
    for (strategy, sizes) in tables {
        for (n, lookup) in sizes {
            let names = names(n);
            // Every name must be found, by every strategy, before anything is timed.
            for name in &names {
                assert!(lookup(name).is_some(), "{strategy}: {name}");
            }
            assert!(lookup("no_such_operation").is_none());
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
