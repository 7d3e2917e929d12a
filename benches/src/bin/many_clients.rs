//! Server throughput with many clients at once, every rtorb server strategy beside omniORB's
//! default server, in one run:
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin many_clients [-- --clients 1 --clients 8 ...]
//! ```
//!
//! For each count of clients (default 1, 8 and 64), each server in turn gets that many client
//! threads, each with a client ORB of its own (so a connection of its own), calling twoway
//! `cube_long` back to back for `--seconds` (and at most `--max-calls` calls each). The
//! servers are omniORB's cubit server process (its default model, a thread per connection)
//! and rtorb's server processes: reactive, a leader/followers pool of each `--pool-threads`
//! size, and thread per connection. The clients are the same rtorb code for every server, so
//! what differs is the server.
//!
//! Reported per server and count: total calls per second and, for fairness, the calls of the
//! busiest client over those of the least busy (max/min); medians over `--rounds` rounds, in
//! which the servers take turns (so a burst of load from a neighbour lands on all alike), and
//! the ratio of the calls per second to omniORB's.
//!
//! rtorb's servers are this executable started again with `RTORB_CUBIT_SERVE` set (see
//! `rtorb_benches::cubit::serve_if_asked`).

use clap::Parser;
use rtorb_benches::cubit::{
    client_orb, cubit_ref, serve_if_asked, Case, Cubit, Op, OrbCase, ServerKind, ServerProcess,
    Transport, X,
};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(about = "Server throughput with many clients, rtorb's strategies beside omniORB")]
struct Settings {
    /// Counts of concurrent clients to measure (repeatable).
    #[arg(long = "clients", default_values_t = [1u16, 8, 64],
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    clients: Vec<u16>,
    /// Sizes of rtorb's leader/followers pool to measure (repeatable).
    #[arg(long = "pool-threads", default_values_t = [2u16, 4],
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pool_threads: Vec<u16>,
    /// How long each measurement lasts.
    #[arg(long, default_value_t = 0.5)]
    seconds: f64,
    /// Calls at most per client and measurement, whatever the time.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_calls: u64,
    /// Rounds; in each, every server is measured once per count of clients.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
}

/// One measurement: calls per second of all clients together, and max/min of their counts.
#[derive(Clone, Copy, Debug)]
struct Sample {
    rate: f64,
    spread: f64,
}

fn main() {
    serve_if_asked();
    let s = Settings::parse();
    if !(s.seconds > 0.0 && s.seconds <= 600.0) {
        eprintln!("many_clients: --seconds must be in (0, 600]");
        std::process::exit(2);
    }
    let mut kinds = vec![ServerKind::Reactive];
    kinds.extend(
        s.pool_threads
            .iter()
            .map(|&n| ServerKind::Pool(usize::from(n))),
    );
    kinds.push(ServerKind::PerConnection);
    let mut servers = vec![("omniorb".to_owned(), ServerProcess::omniorb())];
    for kind in kinds {
        servers.push((label(kind), ServerProcess::rtorb(kind)));
    }
    // samples[count][server]
    let mut samples = vec![vec![Vec::new(); servers.len()]; s.clients.len()];
    for _ in 0..s.rounds {
        for (c, &clients) in s.clients.iter().enumerate() {
            for (i, (_, server)) in servers.iter().enumerate() {
                samples[c][i].push(measure(server.ior(), usize::from(clients), &s));
            }
        }
    }
    let mut out = format!(
        "== many clients: twoway cube_long back to back, each client its own connection, \
         {} s per measurement, {} rounds; median calls/s of all clients together, ÷ omniORB's, \
         and max/min of the clients' calls (fairness)\n{:<16} {:>7} {:>12} {:>9} {:>9}\n",
        s.seconds, s.rounds, "server", "clients", "calls/s", "÷omni", "max/min"
    );
    for (c, &clients) in s.clients.iter().enumerate() {
        let medians: Vec<Sample> = samples[c].iter().map(|v| median(v)).collect();
        for ((name, _), m) in servers.iter().zip(&medians) {
            let _ = writeln!(
                out,
                "{:<16} {:>7} {:>12.0} {:>9.2} {:>9.2}",
                name,
                clients,
                m.rate,
                m.rate / medians[0].rate.max(f64::MIN_POSITIVE),
                m.spread
            );
        }
    }
    print!("{out}");
}

fn label(kind: ServerKind) -> String {
    match kind {
        ServerKind::Reactive => "rtorb_reactive".to_owned(),
        ServerKind::Pool(n) => format!("rtorb_pool_{n}"),
        ServerKind::PerConnection => "rtorb_tpc".to_owned(),
    }
}

/// The median of the rates and, apart, of the spreads.
fn median(v: &[Sample]) -> Sample {
    let mid = |mut x: Vec<f64>| {
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    Sample {
        rate: mid(v.iter().map(|s| s.rate).collect()),
        spread: mid(v.iter().map(|s| s.spread).collect()),
    }
}

/// `clients` threads calling the cubit at `ior`, each through an ORB of its own, for the
/// settings' time; connecting and a checked first call happen before the clock starts.
fn measure(ior: &str, clients: usize, s: &Settings) -> Sample {
    let start = Arc::new(Barrier::new(clients + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (start, stop, ior) = (start.clone(), stop.clone(), ior.to_owned());
            let max = s.max_calls;
            std::thread::spawn(move || {
                let orb = client_orb(Transport::Giop, None);
                let target = cubit_ref(&orb, &ior);
                let mut case = OrbCase::new(orb, target, Op::CubeLong);
                case.check();
                start.wait();
                let mut calls = 0u64;
                while calls < max && !stop.load(Ordering::Relaxed) {
                    let got = case.target().cube_long(X).expect("cube_long");
                    std::hint::black_box(got);
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    // Sleeps in slices, so a run bounded by `--max-calls` ends when its clients do.
    let until = t0 + Duration::from_secs_f64(s.seconds);
    while Instant::now() < until && threads.iter().any(|t| !t.is_finished()) {
        std::thread::sleep(Duration::from_millis(5).min(until - Instant::now().min(until)));
    }
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().expect("a client thread"))
        .collect();
    let elapsed = t0.elapsed().as_secs_f64();
    let total: u64 = counts.iter().sum();
    let (max, min) = (
        *counts.iter().max().expect("a client"),
        *counts.iter().min().expect("a client"),
    );
    Sample {
        rate: total as f64 / elapsed.max(1e-9),
        spread: max as f64 / (min.max(1)) as f64,
    }
}
