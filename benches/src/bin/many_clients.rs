//! Server throughput with many clients at once, rtorb's server strategies beside omniORB's
//! two thread models, in one run:
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin many_clients [-- --clients 1 --clients 8 ...]
//! ```
//!
//! For each count of clients (default 1, 8 and 64), each server in turn gets that many client
//! threads, each with a client ORB of its own (so a connection of its own), calling twoway
//! `cube_long` back to back for `--seconds` (and at most `--max-calls` calls each). The
//! servers are omniORB's cubit server process with a thread per connection (its default) and
//! with its thread pool, and rtorb's server processes: reactive, adaptive (see
//! `-ORBthreadStrategy adaptive`), a leader/followers pool of each `--pool-threads` size, and
//! thread per connection (`rtorb_benches::many_clients`,
//! which the experiments suite's `clients` experiment runs too).
//!
//! Prints a Markdown table, a row per count and server: the median over `--rounds` rounds of
//! all the clients' calls per second and of the busiest client's calls over the least busy
//! one's (max/min, fairness), and the calls per second over omniORB's in each model (the
//! median of the ratios within a round, in which the servers take turns).
//!
//! rtorb's servers are this executable started again with `RTORB_CUBIT_SERVE` set (see
//! `rtorb_benches::cubit::serve_if_asked`).

use clap::Parser;
use rtorb_benches::cubit::serve_if_asked;
use rtorb_benches::many_clients::{run, table, Plan, Server};
use std::time::Duration;

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
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    rounds: u64,
}

fn main() {
    serve_if_asked();
    let s = Settings::parse();
    if !(s.seconds > 0.0 && s.seconds <= 600.0) {
        eprintln!(
            "many_clients: --seconds {} is out of range: give (0, 600]",
            s.seconds
        );
        std::process::exit(2);
    }
    let pools: Vec<usize> = s.pool_threads.iter().map(|&n| usize::from(n)).collect();
    let plan = Plan {
        clients: s.clients.iter().map(|&n| usize::from(n)).collect(),
        rounds: s.rounds as usize,
        duration: Duration::from_secs_f64(s.seconds),
        max_calls: s.max_calls,
    };
    let measurements = run(&Server::all(&pools), &plan, &mut || {});
    println!(
        "many clients: twoway cube_long back to back, each client its own connection, {} s \
         per measurement, {} rounds; medians, ratios the median of the rounds' own\n",
        s.seconds, s.rounds
    );
    print!("{}", table(&measurements));
}
