//! The cubit experiment's latency distribution: every case of the `cubit` bench (see
//! `benches/benches/cubit.rs`), each call timed on its own, and a table per operation of the
//! median and p99 with their ratios to the floor (`raw_tcp`) and to omniORB (`omniorb_to_omniorb`).
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin cubit_latency [-- --calls N]
//! ```
//!
//! The cases are interleaved in rounds (each round makes a few hundred calls of every case in
//! turn), so that a burst of load from a neighbour on a shared machine lands on all of them
//! alike rather than on one. Rust cases are timed with `Instant` around each call; omniORB's
//! client is timed in C++ with the same clock (`CLOCK_MONOTONIC`) into a buffer, one FFI call
//! per round, so the FFI crossing is not in any figure.

#[path = "../../benches/omniorb/cubit_ffi.rs"]
mod omniorb_cubit;

use rtorb_benches::cubit::{reply, request, Op};
use std::fmt::Write as _;

/// How much to run.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// Calls per case and operation.
    calls: usize,
    /// Calls of each case per round.
    per_round: usize,
    /// Untimed calls of each case first (connections made, caches and branch predictors warm).
    warmup: u64,
}

impl Settings {
    fn for_calls(calls: usize) -> Settings {
        Settings {
            calls,
            per_round: 100.min(calls),
            warmup: 1_000,
        }
    }
}

const OPS: [Op; 3] = [Op::CubeLong, Op::CubeSeq(4), Op::CubeSeq(1024)];

fn main() {
    let mut calls = 20_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|v| v.parse::<usize>())) {
            ("--calls", Some(Ok(n))) if n > 0 => calls = n,
            _ => {
                eprintln!("usage: cubit_latency [--calls N]   (default 20000 per case)");
                std::process::exit(2);
            }
        }
    }
    print!("{}", run(Settings::for_calls(calls)));
}

/// The nanoseconds at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Runs every case of every operation and returns the tables.
fn run(s: Settings) -> String {
    let mut out = String::new();
    omniorb_cubit::with_env(|env| {
        let _ = writeln!(
            out,
            "cubit latency: {} calls per case, interleaved in rounds of {}; µs per call \
             (ratios: median/median and p99/p99)",
            s.calls, s.per_round
        );
        for op in OPS {
            let mut cases = env.cases(op);
            for (_, case) in cases.iter_mut() {
                case.check();
                case.run(s.warmup);
            }
            let mut samples = vec![vec![0u64; s.calls]; cases.len()];
            let mut done = 0;
            while done < s.calls {
                let n = s.per_round.min(s.calls - done);
                for ((_, case), ns) in cases.iter_mut().zip(samples.iter_mut()) {
                    case.record(&mut ns[done..done + n]);
                }
                done += n;
            }
            let stats: Vec<(u64, u64)> = samples
                .iter_mut()
                .map(|ns| {
                    ns.sort_unstable();
                    (quantile(ns, 0.5), quantile(ns, 0.99))
                })
                .collect();
            let find = |name: &str| stats[cases.iter().position(|(n, _)| *n == name).unwrap()];
            let (floor, omni) = (find("raw_tcp"), find("omniorb_to_omniorb"));

            let req = request(Vec::new(), 1, &env.key, op, &op.seq_args());
            let rep = reply(&orb::giop::Message::decode(&req).unwrap()).unwrap();
            let _ = writeln!(
                out,
                "\n{}: GIOP 1.2 request {} octets, reply {} octets",
                op.label(),
                req.len(),
                rep.len()
            );
            let _ = writeln!(
                out,
                "{:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "case", "median", "p99", "med/raw", "p99/raw", "med/omni", "p99/omni"
            );
            for ((name, _), &(median, p99)) in cases.iter().zip(&stats) {
                let ratio = |a: u64, b: u64| a as f64 / b as f64;
                let _ = writeln!(
                    out,
                    "{:<34} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                    name,
                    median as f64 / 1e3,
                    p99 as f64 / 1e3,
                    ratio(median, floor.0),
                    ratio(p99, floor.1),
                    ratio(median, omni.0),
                    ratio(p99, omni.1),
                );
            }
            let (colo, plain) = (find("omniorb_collocated"), find("plain_rust_call"));
            let _ = writeln!(
                out,
                "collocation: omniorb_collocated / plain_rust_call = {:.1} (median), {:.1} (p99); \
                 the clock reads around each call are in both",
                colo.0 as f64 / plain.0.max(1) as f64,
                colo.1 as f64 / plain.1.max(1) as f64,
            );
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short run of every case: the tool works (server process started and stopped, every
    /// case checked and timed, the tables printed). Figures from it mean nothing.
    #[test]
    fn every_case_runs() {
        let out = run(Settings {
            calls: 200,
            per_round: 50,
            warmup: 20,
        });
        for op in OPS {
            assert!(out.contains(&op.label()), "{out}");
        }
        assert_eq!(
            out.matches("omniorb_to_omniorb ").count(),
            OPS.len(),
            "{out}"
        );
    }
}
