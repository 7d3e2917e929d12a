//! The design's cubit experiment through rtorb's ORB, side by side with omniORB in one run: one
//! group per operation (`cubit_cube_long`, `cubit_cube_struct`, `cubit_cube_seq` with 4 and
//! 1,024 longs), each timing, in the same run:
//!
//! - `raw_tcp`: a blocking ping-pong of the octets of rtorb's GIOP 1.2 request and reply
//!   against an echo thread — the floor;
//! - `omniorb_to_omniorb`: omniORB's client (a C++ loop in this process) → omniORB's cubit
//!   server process, over TCP loopback — the figure to beat;
//! - `rtorb_to_omniorb`: rtorb's client ORB (an idlc-generated `CubitRef`) → the same omniORB
//!   server process;
//! - `rtorb_giop_{reactive,pool,tpc}`, `rtorb_lite_reactive`, `rtorb_uiop_reactive`: rtorb's
//!   client ORB → rtorb's server process (this executable again: reactive, a thread pool or a
//!   thread per connection)
//!   over GIOP 1.2, GIOP-lite or a Unix socket;
//! - collocated, in the same groups: `plain_rust_call` (a `&dyn Cubit` call), `rtorb_direct`
//!   and `rtorb_thru_poa` (a reference to a servant of the same ORB), `omniorb_collocated`
//!   (omniORB calling its own servant in this process through an object reference);
//! - `cubit_oneway_ping`: the time per oneway `ping`, omniORB's client to its server and
//!   rtorb's client to rtorb's servers (with and without `-ORBonewayBatchMicros`).
//!
//! See `rtorb_benches::cubit` and `omniorb/cubit_ffi.rs` for exactly what each case does; each
//! is checked once (the cube of a known value, every member and element) before it is timed.
//! For medians *and* p99 of single calls, and oneway throughput, run `cargo run --release -p
//! rtorb-benches --bin cubit_latency`.

#[path = "omniorb/cubit_ffi.rs"]
mod omniorb_cubit;

use criterion::{BenchmarkId, Criterion};
use omniorb_cubit::{COLLOCATION_CASES, LATENCY_CASES, ONEWAY_CASES};
use rtorb_benches::cubit::{serve_if_asked, Op};
use std::time::Duration;

fn main() {
    serve_if_asked();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    omniorb_cubit::with_env(|env| {
        for (group, ops) in [
            ("cubit_cube_long", &[Op::CubeLong][..]),
            ("cubit_cube_struct", &[Op::CubeStruct][..]),
            ("cubit_cube_seq", &[Op::CubeSeq(4), Op::CubeSeq(1024)][..]),
        ] {
            let mut g = c.benchmark_group(group);
            for &op in ops {
                for name in LATENCY_CASES.iter().chain(COLLOCATION_CASES) {
                    let mut case = env.case(name, op);
                    case.check();
                    let id = match op {
                        Op::CubeSeq(n) => BenchmarkId::new(*name, n),
                        _ => BenchmarkId::from_parameter(name),
                    };
                    g.bench_function(id, |b| b.iter_custom(|iters| case.run(iters)));
                }
            }
            g.finish();
        }
        // Time per oneway `ping` (a batch of them, then one twoway on the same connection).
        let mut g = c.benchmark_group("cubit_oneway_ping");
        for name in ONEWAY_CASES {
            let mut case = env.oneways(name);
            g.bench_function(*name, |b| b.iter_custom(|iters| case.batch(iters)));
        }
        g.finish();
    });
    c.final_summary();
}
