//! The cubit experiments through rtorb's ORB, beside omniORB, in one run:
//!
//! 1. round-trip latency (median and p99 of single calls) of `cube_long`, `cube_struct` and
//!    `cube_seq` with 4 and 1,024 longs: omniORB's client and server processes, a raw TCP
//!    ping-pong of rtorb's octets (the floor), and rtorb's client ORB to omniORB's server and
//!    to rtorb's server processes (GIOP to a reactive, a thread-pool, a thread-per-connection
//!    and an adaptive server, GIOP-lite, UIOP); with the serial twoway calls per second of GIOP and GIOP-lite that come of it;
//! 2. oneway throughput: `ping` calls per second, rtorb (with and without
//!    `-ORBonewayBatchMicros`) against omniORB;
//! 3. collocated calls: rtorb's `Direct` and `ThruPoa` against a plain Rust trait-object call
//!    and omniORB's own collocated call.
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin cubit_latency [-- --rounds R --only CASE ...]
//! ```
//!
//! Cases are interleaved in rounds (each round makes a few calls of every case in turn), so
//! that a burst of load from a neighbour on a shared machine lands on all of them alike
//! rather than on one. Rust cases are timed with `Instant` around each call; omniORB's client
//! is timed in C++ with the same clock (`CLOCK_MONOTONIC`) into a buffer, one FFI call per
//! round, so the FFI crossing is not in any figure. Collocated calls are too short to time one
//! by one (two clock reads cost more than a call), so they are timed in batches.
//!
//! rtorb's servers are this executable started again with `RTORB_CUBIT_SERVE` set (see
//! `rtorb_benches::cubit::serve_if_asked`).

#[path = "../../benches/omniorb/cubit_ffi.rs"]
mod omniorb_cubit;

use clap::Parser;
use omniorb_cubit::{Env, COLLOCATION_CASES, LATENCY_CASES, ONEWAY_BATCH, ONEWAY_CASES};
use rtorb_benches::cubit::{serve_if_asked, Case, Op};
use std::fmt::Write as _;

#[derive(Parser, Debug, Clone)]
#[command(about = "The cubit experiments through rtorb's ORB, beside omniORB, in one run")]
struct Settings {
    /// Rounds of the latency cases: each round makes `--per-round` calls of every case in turn.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Calls of each latency case per round.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    per_round: u64,
    /// Untimed calls of each case first (connections made, caches warm).
    #[arg(long, default_value_t = 1_000)]
    warmup: u64,
    /// Rounds of the oneway cases, each sending `--oneways` pings per case.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    oneway_rounds: u64,
    /// Oneway pings per case and round.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    oneways: u64,
    /// Rounds of the collocated cases, each timing one batch per case.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    colloc_rounds: u64,
    /// Collocated calls per batch.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    colloc_batch: u64,
    /// Run only these cases (repeatable), with the baselines of their tables; sections with
    /// none of them are skipped. Names as printed, e.g. `rtorb_lite_reactive`.
    #[arg(long, value_name = "CASE")]
    only: Vec<String>,
}

const OPS: [Op; 4] = [
    Op::CubeLong,
    Op::CubeStruct,
    Op::CubeSeq(4),
    Op::CubeSeq(1024),
];
const COLLOCATED_OPS: [Op; 3] = [Op::CubeLong, Op::CubeSeq(4), Op::CubeSeq(1024)];

fn main() {
    serve_if_asked();
    let s = Settings::parse();
    for name in &s.only {
        let known = [LATENCY_CASES, COLLOCATION_CASES, ONEWAY_CASES]
            .iter()
            .any(|cases| cases.contains(&name.as_str()));
        if !known {
            eprintln!(
                "cubit_latency: no case named {name:?}; cases: {}",
                [LATENCY_CASES, ONEWAY_CASES, COLLOCATION_CASES]
                    .concat()
                    .join(", ")
            );
            std::process::exit(2);
        }
    }
    omniorb_cubit::with_env(|env| {
        latency(&s, env);
        oneways(&s, env);
        collocation(&s, env);
    });
}

/// The cases of a table to run: its `baselines` first ones always, the others if selected;
/// none if no case beyond the baselines is selected.
fn chosen(s: &Settings, cases: &[&'static str], baselines: usize) -> Vec<&'static str> {
    let picked = |n: &&str| s.only.is_empty() || s.only.iter().any(|o| o == n);
    if !cases.iter().any(picked) {
        return Vec::new();
    }
    cases
        .iter()
        .enumerate()
        .filter(|(i, n)| *i < baselines || picked(n))
        .map(|(_, n)| *n)
        .collect()
}

/// The nanoseconds at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b.max(f64::MIN_POSITIVE)
}

/// Prints a section as it is finished, so a long run shows progress.
fn emit(out: &str) {
    print!("{out}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

fn latency(s: &Settings, env: &Env<'_>) {
    let names = chosen(s, LATENCY_CASES, 2);
    if names.is_empty() {
        return;
    }
    emit(&format!(
        "== round-trip latency: {} calls per case in {} interleaved rounds; µs per call \
         (ratios: median/median, p99/p99)\n",
        s.rounds * s.per_round,
        s.rounds
    ));
    let mut twoway_rates = String::new();
    for op in OPS {
        let mut out = String::new();
        let mut cases: Vec<Box<dyn Case + '_>> = names.iter().map(|n| env.case(n, op)).collect();
        for case in cases.iter_mut() {
            case.check();
            case.run(s.warmup);
        }
        let per_round = s.per_round as usize;
        let mut samples = vec![vec![0u64; per_round * s.rounds as usize]; cases.len()];
        for round in 0..s.rounds as usize {
            let slots = round * per_round..(round + 1) * per_round;
            for (case, ns) in cases.iter_mut().zip(samples.iter_mut()) {
                case.record(&mut ns[slots.clone()]);
            }
        }
        drop(cases);
        // (median, p99, mean) per case.
        let stats: Vec<(u64, u64, f64)> = samples
            .iter_mut()
            .map(|ns| {
                ns.sort_unstable();
                let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64;
                (quantile(ns, 0.5), quantile(ns, 0.99), mean)
            })
            .collect();
        let (floor, omni) = (stats[0], stats[1]);
        let sizes = rtorb_benches::cubit::RawTcp::new(&env.key, op).sizes();
        let _ = writeln!(
            out,
            "\n{}: GIOP 1.2 request {} octets, reply {} octets",
            op.label(),
            sizes.0,
            sizes.1
        );
        let _ = writeln!(
            out,
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "case", "median", "p99", "med/raw", "p99/raw", "med/omni", "p99/omni"
        );
        for (name, &(median, p99, _)) in names.iter().zip(&stats) {
            let _ = writeln!(
                out,
                "{:<22} {:>9.2} {:>9.2} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                name,
                median as f64 / 1e3,
                p99 as f64 / 1e3,
                ratio(median as f64, floor.0 as f64),
                ratio(p99 as f64, floor.1 as f64),
                ratio(median as f64, omni.0 as f64),
                ratio(p99 as f64, omni.1 as f64),
            );
        }
        emit(&out);
        if op == Op::CubeLong {
            for (name, &(_, _, mean)) in names.iter().zip(&stats) {
                let _ = writeln!(
                    twoway_rates,
                    "{:<22} {:>10.0} calls/s",
                    name,
                    1e9 / mean.max(1.0)
                );
            }
        }
    }
    emit(&format!(
        "\n== twoway cube_long calls per second of one serial client (from the means above; \
         GIOP against GIOP-lite is rtorb_giop_reactive against rtorb_lite_reactive)\n\
         {twoway_rates}"
    ));
}

fn oneways(s: &Settings, env: &Env<'_>) {
    let names = chosen(s, ONEWAY_CASES, 2);
    if names.is_empty() {
        return;
    }
    let mut cases: Vec<_> = names.iter().map(|n| env.oneways(n)).collect();
    for case in cases.iter_mut() {
        case.batch(s.warmup);
    }
    let mut rates = vec![Vec::new(); cases.len()];
    for _ in 0..s.oneway_rounds {
        for (case, r) in cases.iter_mut().zip(rates.iter_mut()) {
            let t = case.batch(s.oneways);
            r.push(s.oneways as f64 / t.as_secs_f64().max(1e-9));
        }
    }
    drop(cases);
    let mut out = format!(
        "\n== oneway throughput: {} pings then one cube_long per case and round, {} \
         interleaved rounds; calls/s (median, min, max over rounds); _batched: \
         -ORBonewayBatchMicros {}\n{:<30} {:>12} {:>12} {:>12} {:>9}\n",
        s.oneways,
        s.oneway_rounds,
        ONEWAY_BATCH.as_micros(),
        "case",
        "median",
        "min",
        "max",
        "med/omni"
    );
    let medians: Vec<f64> = rates
        .iter_mut()
        .map(|r| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect();
    for ((name, r), median) in names.iter().zip(&rates).zip(&medians) {
        let _ = writeln!(
            out,
            "{:<30} {:>12.0} {:>12.0} {:>12.0} {:>9.2}",
            name,
            median,
            r[0],
            r[r.len() - 1],
            ratio(*median, medians[0])
        );
    }
    emit(&out);
}

fn collocation(s: &Settings, env: &Env<'_>) {
    let names = chosen(s, COLLOCATION_CASES, 2);
    if names.is_empty() {
        return;
    }
    let mut out = format!(
        "\n== collocated calls: {} rounds of one batch of {} calls per case; ns per call \
         (median and max over batches)\n",
        s.colloc_rounds, s.colloc_batch
    );
    for op in COLLOCATED_OPS {
        let mut cases: Vec<Box<dyn Case + '_>> = names.iter().map(|n| env.case(n, op)).collect();
        for case in cases.iter_mut() {
            case.check();
            case.run(s.warmup);
        }
        let mut per_call = vec![Vec::new(); cases.len()];
        for _ in 0..s.colloc_rounds {
            for (case, v) in cases.iter_mut().zip(per_call.iter_mut()) {
                let t = case.run(s.colloc_batch);
                v.push(t.as_nanos() as f64 / s.colloc_batch as f64);
            }
        }
        drop(cases);
        let stats: Vec<(f64, f64)> = per_call
            .iter_mut()
            .map(|v| {
                v.sort_by(f64::total_cmp);
                (v[v.len() / 2], v[v.len() - 1])
            })
            .collect();
        let _ = writeln!(
            out,
            "\n{}\n{:<22} {:>9} {:>9} {:>10}",
            op.label(),
            "case",
            "median",
            "max",
            "÷plain"
        );
        for (name, &(median, max)) in names.iter().zip(&stats) {
            let _ = writeln!(
                out,
                "{:<22} {:>9.1} {:>9.1} {:>10.2}",
                name,
                median,
                max,
                ratio(median, stats[0].0)
            );
        }
        let find = |n: &str| names.iter().position(|x| *x == n).map(|i| stats[i].0);
        if let Some(direct) = find("rtorb_direct") {
            let _ = writeln!(
                out,
                "rtorb_direct ÷ plain_rust_call = {:.2}",
                ratio(direct, stats[0].0)
            );
        }
        if let Some(thru) = find("rtorb_thru_poa") {
            let _ = writeln!(
                out,
                "rtorb_thru_poa ÷ omniorb_collocated = {:.2}",
                ratio(thru, stats[1].0)
            );
        }
    }
    emit(&out);
}
