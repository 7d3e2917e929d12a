//! Server throughput with many clients at once: each server in turn gets a number of client
//! threads, each with a client ORB (so a connection) of its own, calling twoway `cube_long`
//! back to back for a while; what counts is all the clients' calls per second and how evenly
//! the server shared itself out (the busiest client's calls over the least busy one's,
//! max/min). The clients are the same rtorb code for every server, so what differs is the
//! server: omniORB's cubit server process in each of its thread models, and rtorb's server
//! processes in each strategy.
//!
//! Used by the `many_clients` tool and the `clients` experiment of the experiments suite.
//! rtorb's servers are the calling executable started again (see
//! [`crate::cubit::serve_if_asked`], which its `main` must call first).

use crate::cubit::{
    client_orb, cubit_ref, Case, Cubit, OmniModel, Op, OrbCase, ServerKind, ServerProcess,
    Transport, X,
};
use crate::measure::{Grouped, Sample};
use crate::report::{ratio, CsvRow};
use std::fmt::Write as _;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// A server measured: omniORB's in one of its thread models, or rtorb's in one of its
/// strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Omniorb(OmniModel),
    Rtorb(ServerKind),
    /// The floor: framing and canned replies, nothing else ([`crate::raw_floor`]).
    RawFloor,
}

/// omniORB's thread per connection, the baseline of the first ratio column.
pub const OMNIORB_TPC: &str = "omniorb_tpc";
/// omniORB's thread pool, the baseline of the second.
pub const OMNIORB_POOL: &str = "omniorb_pool";

impl Server {
    /// omniORB's two models, then rtorb's reactive and adaptive servers, a leader/followers
    /// pool of each of `pool_threads` sizes and thread per connection, then the floor no
    /// server goes under.
    pub fn all(pool_threads: &[usize]) -> Vec<Server> {
        let mut servers = vec![
            Server::Omniorb(OmniModel::ThreadPerConnection),
            Server::Omniorb(OmniModel::Pool),
            Server::Rtorb(ServerKind::Reactive),
            Server::Rtorb(ServerKind::Adaptive),
        ];
        servers.extend(
            pool_threads
                .iter()
                .map(|&n| Server::Rtorb(ServerKind::Pool(n))),
        );
        servers.push(Server::Rtorb(ServerKind::PerConnection));
        servers.push(Server::RawFloor);
        servers
    }

    /// The name of its rows and series.
    pub fn label(self) -> String {
        match self {
            Server::Omniorb(OmniModel::ThreadPerConnection) => OMNIORB_TPC.to_owned(),
            Server::Omniorb(OmniModel::Pool) => OMNIORB_POOL.to_owned(),
            Server::Rtorb(ServerKind::Reactive) => "rtorb_reactive".to_owned(),
            Server::Rtorb(ServerKind::Pool(n)) => format!("rtorb_pool_{n}"),
            Server::Rtorb(ServerKind::Adaptive) => "rtorb_adaptive".to_owned(),
            Server::Rtorb(ServerKind::PerConnection) => "rtorb_tpc".to_owned(),
            Server::RawFloor => "raw_floor".to_owned(),
        }
    }

    /// Starts its process.
    pub fn start(self) -> ServerProcess {
        match self {
            Server::Omniorb(model) => ServerProcess::omniorb_with(model),
            Server::Rtorb(kind) => ServerProcess::rtorb(kind),
            Server::RawFloor => crate::raw_floor::start(),
        }
    }
}

/// What a run measures.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The counts of concurrent clients, in the order they are measured.
    pub clients: Vec<usize>,
    /// Rounds: in each, every server is measured once with every count.
    pub rounds: usize,
    /// How long each measurement lasts.
    pub duration: Duration,
    /// Calls at most per client and measurement, whatever the time.
    pub max_calls: u64,
}

/// One measurement: `clients` clients calling `server` in round `round`.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub server: String,
    pub clients: usize,
    pub round: usize,
    /// All the clients' calls together, per second of the measurement.
    pub calls_per_s: f64,
    /// The calls of the busiest client and of the least busy one.
    pub max_client_calls: u64,
    pub min_client_calls: u64,
}

impl Measurement {
    /// The busiest client's calls over the least busy one's: 1 is a perfectly fair share.
    /// Every client makes at least one call, so this is finite.
    pub fn fairness(&self) -> f64 {
        self.max_client_calls as f64 / self.min_client_calls.max(1) as f64
    }
}

impl CsvRow for Measurement {
    const HEADER: &'static str =
        "server,clients,round,calls_per_s,max_client_calls,min_client_calls";

    fn write_row(&self, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(
            out,
            "{},{},{},{:.1},{},{}",
            self.server,
            self.clients,
            self.round,
            self.calls_per_s,
            self.max_client_calls,
            self.min_client_calls
        )
    }
}

/// Starts every one of `servers`, then measures them in turn by `plan`; `tick` is called
/// after each count of clients of each round (`plan.rounds × plan.clients.len()` times). The
/// servers take turns within a count, so that a burst of load from a neighbour lands on all
/// alike. Stops the servers before it returns.
pub fn run(servers: &[Server], plan: &Plan, tick: &mut dyn FnMut()) -> Vec<Measurement> {
    let started: Vec<(String, ServerProcess)> =
        servers.iter().map(|s| (s.label(), s.start())).collect();
    let mut out = Vec::new();
    for round in 0..plan.rounds {
        for &clients in &plan.clients {
            for (label, process) in &started {
                let (calls_per_s, max_client_calls, min_client_calls) =
                    measure(process.ior(), clients, plan);
                out.push(Measurement {
                    server: label.clone(),
                    clients,
                    round,
                    calls_per_s,
                    max_client_calls,
                    min_client_calls,
                });
            }
            tick();
        }
    }
    out
}

/// `clients` threads calling the cubit at `ior`, each through an ORB of its own, for the
/// plan's duration (or until each has made `plan.max_calls` calls); connecting and a checked
/// first call happen before the clock starts, and every client makes at least one call after
/// it. Returns the calls per second of all of them (from the start to the last client's last
/// reply), and the most and the fewest calls a client made.
fn measure(ior: &str, clients: usize, plan: &Plan) -> (f64, u64, u64) {
    let start = Arc::new(Barrier::new(clients + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (start, stop, ior) = (start.clone(), stop.clone(), ior.to_owned());
            let max = plan.max_calls.max(1);
            std::thread::spawn(move || {
                let orb = client_orb(Transport::Giop, None);
                let target = cubit_ref(&orb, &ior);
                let mut case = OrbCase::new(orb, target, Op::CubeLong);
                case.check();
                start.wait();
                let mut calls = 0u64;
                loop {
                    let got = case.target().cube_long(X).expect("cube_long");
                    std::hint::black_box(got);
                    calls += 1;
                    if calls >= max || stop.load(Ordering::Relaxed) {
                        return (calls, Instant::now());
                    }
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    // Sleeps in slices, so a measurement bounded by `max_calls` ends soon after its clients
    // do; the clients' own clocks say when they did.
    let until = t0 + plan.duration;
    loop {
        let now = Instant::now();
        if now >= until || threads.iter().all(|t| t.is_finished()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5).min(until - now));
    }
    stop.store(true, Ordering::Relaxed);
    let ends: Vec<(u64, Instant)> = threads
        .into_iter()
        .map(|t| t.join().expect("a client thread"))
        .collect();
    let last = ends.iter().map(|&(_, end)| end).max().unwrap_or(t0);
    let elapsed = last.duration_since(t0).as_secs_f64();
    let counts: Vec<u64> = ends.iter().map(|&(calls, _)| calls).collect();
    let total: u64 = counts.iter().sum();
    let max = counts.iter().copied().max().unwrap_or(0);
    let min = counts.iter().copied().min().unwrap_or(0);
    (total as f64 / elapsed.max(1e-9), max, min)
}

/// The calls per second of `measurements` as samples (series: the server, x: the count of
/// clients), for medians, per-round ratios and plots.
pub fn rates(measurements: &[Measurement]) -> Vec<Sample> {
    measurements
        .iter()
        .map(|m| Sample::new(&m.server, m.clients as f64, m.round, m.calls_per_s))
        .collect()
}

/// The fairness (max/min) of `measurements` as samples, like [`rates`].
pub fn fairness(measurements: &[Measurement]) -> Vec<Sample> {
    measurements
        .iter()
        .map(|m| Sample::new(&m.server, m.clients as f64, m.round, m.fairness()))
        .collect()
}

/// A Markdown table, a row per count of clients and server: the median calls per second,
/// the median max/min, and the calls per second over omniORB's thread per connection and
/// over its pool, each the median of the ratios within a round; "–" where a baseline was not
/// measured.
pub fn table(measurements: &[Measurement]) -> String {
    let rates = rates(measurements);
    let spreads = fairness(measurements);
    let (r, f) = (Grouped::new(&rates), Grouped::new(&spreads));
    let mut t = format!(
        "| clients | server | calls/s | max/min | ÷ {OMNIORB_TPC} | ÷ {OMNIORB_POOL} |\n\
         |---:|---|---:|---:|---:|---:|\n"
    );
    for &x in &r.xs {
        for &server in &r.series {
            let Some(rate) = r.median(server, x) else {
                continue;
            };
            let versus = |baseline: &str| {
                r.ratio(server, baseline, x, &rates)
                    .map_or("–".to_owned(), ratio)
            };
            let _ = writeln!(
                t,
                "| {x} | {server} | {rate:.0} | {} | {} | {} |",
                f.median(server, x).map_or("–".to_owned(), ratio),
                versus(OMNIORB_TPC),
                versus(OMNIORB_POOL),
            );
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(server: &str, clients: usize, round: usize, rate: f64, max: u64, min: u64) -> Measurement {
        Measurement {
            server: server.to_owned(),
            clients,
            round,
            calls_per_s: rate,
            max_client_calls: max,
            min_client_calls: min,
        }
    }

    #[test]
    fn the_table_has_medians_fairness_and_per_round_ratios_to_both_omniorb_models() {
        let ms = vec![
            m(OMNIORB_TPC, 8, 0, 100.0, 10, 10),
            m(OMNIORB_POOL, 8, 0, 50.0, 30, 10),
            m("rtorb_reactive", 8, 0, 150.0, 12, 8),
            m(OMNIORB_TPC, 8, 1, 200.0, 10, 10),
            m(OMNIORB_POOL, 8, 1, 400.0, 30, 10),
            m("rtorb_reactive", 8, 1, 200.0, 12, 8),
            m(OMNIORB_TPC, 8, 2, 100.0, 10, 10),
            m(OMNIORB_POOL, 8, 2, 100.0, 30, 10),
            m("rtorb_reactive", 8, 2, 300.0, 12, 8),
        ];
        let t = table(&ms);
        let rows: Vec<&str> = t.lines().collect();
        assert_eq!(
            rows[0],
            "| clients | server | calls/s | max/min | ÷ omniorb_tpc | ÷ omniorb_pool |"
        );
        assert_eq!(rows.len(), 5, "{t}");
        assert_eq!(rows[2], "| 8 | omniorb_tpc | 100 | 1.00 | 1.00 | 1.00 |");
        // Rates 150, 200, 300 (median 200); per round ÷ tpc 1.5, 1, 3 → 1.5, and ÷ pool
        // 3, 0.5, 3 → 3 (the ratio of the medians would be 200 / 100 = 2).
        assert_eq!(rows[4], "| 8 | rtorb_reactive | 200 | 1.50 | 1.50 | 3.00 |");
    }

    #[test]
    fn csv_rows_carry_every_field() {
        let mut out = Vec::new();
        m("rtorb_tpc", 64, 3, 12345.678, 900, 450)
            .write_row(&mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "rtorb_tpc,64,3,12345.7,900,450\n"
        );
        assert_eq!(m("a", 1, 0, 1.0, 6, 3).fairness(), 2.0);
    }

    #[test]
    fn servers_have_distinct_labels() {
        let labels: Vec<String> = Server::all(&[2, 4])
            .into_iter()
            .map(Server::label)
            .collect();
        assert_eq!(
            labels,
            [
                "omniorb_tpc",
                "omniorb_pool",
                "rtorb_reactive",
                "rtorb_adaptive",
                "rtorb_pool_2",
                "rtorb_pool_4",
                "rtorb_tpc",
                "raw_floor"
            ]
        );
    }
}
