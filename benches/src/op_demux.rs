//! Skeleton operation lookup: the four demux strategies idlc can generate (perfect hash, linear
//! search, binary search, a HashMap built on first use) on generated interfaces of
//! [`OPERATION_COUNTS`] operations (`build.rs` generates them), and the experiment that times
//! them side by side.

use crate::measure::{time_batch, Sample};
use std::hint::black_box;

macro_rules! generated {
    ($($strategy:ident: $($n:literal => $module:ident),*;)*) => {$(
        /// The interfaces idlc generated with this demux strategy.
        pub mod $strategy {
            $(
                pub mod $module {
                    include!(concat!(env!("OUT_DIR"), "/", stringify!($strategy), "/ops", stringify!($n), ".rs"));
                }
            )*
        }
    )*};
}

generated! {
    perfect: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50, 100 => ops100;
    linear: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50, 100 => ops100;
    binary: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50, 100 => ops100;
    dynamic: 1 => ops1, 5 => ops5, 10 => ops10, 20 => ops20, 50 => ops50, 100 => ops100;
}

mod shared_with_build_rs {
    include!("../demux_names.rs");

    pub(super) const COUNTS: [usize; 6] = OPERATION_COUNTS;

    pub(super) fn operation_names(n: usize) -> Vec<String> {
        names(n)
    }
}

/// The numbers of operations of the generated interfaces.
pub const OPERATION_COUNTS: [usize; 6] = shared_with_build_rs::COUNTS;

/// The operation names of the generated interface with `n` operations.
pub fn names(n: usize) -> Vec<String> {
    shared_with_build_rs::operation_names(n)
}

/// A generated skeleton's lookup: operation name → index.
pub type Lookup = fn(&str) -> Option<usize>;

/// Every strategy by name, each with its lookup for every interface size, in
/// [`OPERATION_COUNTS`] order. The first, the perfect hash, is the design's choice and the
/// baseline of the experiment's ratios.
pub fn strategies() -> [(&'static str, [(usize, Lookup); 6]); 4] {
    macro_rules! sizes {
        ($s:ident) => {
            [
                (1, $s::ops1::ops1::operation_index as Lookup),
                (5, $s::ops5::ops5::operation_index),
                (10, $s::ops10::ops10::operation_index),
                (20, $s::ops20::ops20::operation_index),
                (50, $s::ops50::ops50::operation_index),
                (100, $s::ops100::ops100::operation_index),
            ]
        };
    }
    [
        ("perfect", sizes!(perfect)),
        ("linear", sizes!(linear)),
        ("binary", sizes!(binary)),
        ("dynamic", sizes!(dynamic)),
    ]
}

/// Checks that `lookup` finds every one of `names`, each at an index of its own (the order
/// is the strategy's), and rejects an unknown name: a strategy is timed only once it is right.
pub fn check(strategy: &str, lookup: Lookup, names: &[String]) {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        let Some(i) = lookup(name) else {
            panic!("{strategy}: {name} not found");
        };
        assert!(seen.insert(i), "{strategy}: {name} shares index {i}");
    }
    assert_eq!(lookup("no_such_operation"), None, "{strategy}");
}

/// One pass looks up every name of the interface in turn.
fn pass(lookup: Lookup, names: &[String]) {
    for name in names {
        black_box(lookup(black_box(name.as_str())));
    }
}

/// The experiment: for each interface size, `rounds` rounds that time every strategy in turn
/// (so that a neighbour's burst on a shared machine hits all alike), each timing at least
/// `lookups` lookups after as many untimed. One sample per strategy, size and round, in ns
/// per lookup; `tick` is called after each size.
pub fn run(rounds: usize, lookups: usize, tick: &mut dyn FnMut()) -> Vec<Sample> {
    let strategies = strategies();
    let mut samples = Vec::new();
    for (k, n) in OPERATION_COUNTS.into_iter().enumerate() {
        let names = names(n);
        for (strategy, sizes) in &strategies {
            check(strategy, sizes[k].1, &names);
        }
        let passes = lookups.div_ceil(n) as u64;
        for round in 0..rounds {
            for (strategy, sizes) in &strategies {
                let lookup = sizes[k].1;
                let elapsed = time_batch(passes, || pass(lookup, &names));
                samples.push(Sample::new(
                    strategy,
                    n as f64,
                    round,
                    elapsed.as_nanos() as f64 / (passes as usize * n) as f64,
                ));
            }
        }
        tick();
    }
    samples
}
