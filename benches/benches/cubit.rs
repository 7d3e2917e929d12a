//! The design's cubit latency experiment, side by side with omniORB in one run, before rtorb's
//! ORB exists: one group per operation (`cubit_cube_long`; `cubit_cube_seq` with 4 and 1,024
//! longs), each timing, in the same run:
//!
//! - `omniorb_to_omniorb`: omniORB's client (a C++ loop in this process) → omniORB's cubit
//!   server process, over TCP loopback — the figure to beat;
//! - `rtorb_transport_to_omniorb`: a hand-built GIOP 1.2 Request through
//!   `orb::transport::ClientConnection` → the same omniORB server process, the Reply decoded
//!   with `orb::giop`/`orb::cdr` — omniORB's server under rtorb's client;
//! - `rtorb_transport_to_rtorb_{tpc,reactive}`: the same client → an `orb::transport::Server`
//!   (thread-per-connection, reactive) in this process whose handler decodes, cubes and replies
//!   — the precursor of rtorb's ORB path;
//! - `raw_tcp`: a blocking ping-pong of the same octet counts against an echo thread — the
//!   floor;
//! - `omniorb_collocated` beside `plain_rust_call`: omniORB calling its own servant in this
//!   process through an object reference, and a Rust call through a `&dyn` trait object.
//!
//! See `rtorb_benches::cubit` and `omniorb/cubit_ffi.rs` for exactly what each case does; each
//! is checked once (the cube of a known value, every element of a sequence) before it is timed.
//! For medians *and* p99 of single calls, run `cargo run --release -p rtorb-benches --bin
//! cubit_latency`.

#[path = "omniorb/cubit_ffi.rs"]
mod omniorb_cubit;

use criterion::{BenchmarkId, Criterion};
use rtorb_benches::cubit::Op;
use std::time::Duration;

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    omniorb_cubit::with_env(|env| {
        for (group, ops) in [
            ("cubit_cube_long", &[Op::CubeLong][..]),
            ("cubit_cube_seq", &[Op::CubeSeq(4), Op::CubeSeq(1024)][..]),
        ] {
            let mut g = c.benchmark_group(group);
            for &op in ops {
                for (name, mut case) in env.cases(op) {
                    case.check();
                    let id = match op {
                        Op::CubeLong => BenchmarkId::from_parameter(name),
                        Op::CubeSeq(n) => BenchmarkId::new(name, n),
                    };
                    g.bench_function(id, |b| b.iter_custom(|iters| case.run(iters)));
                }
            }
            g.finish();
        }
    });
    c.final_summary();
}
