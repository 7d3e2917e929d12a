//! The experiments suite: runs the design's experiments, each beside its comparison in the same
//! run, and writes per experiment a CSV of the raw samples (`NAME.csv`), an SVG plot
//! (`NAME.svg`) and a section of `report.md` (tables of medians and ratios, the plot, the
//! machine).
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin experiments -- [--quick] [--only NAME ...] --out DIR
//! ```
//!
//! The experiments (`--only` names), in the order they run:
//!
//! - `op_demux`: skeleton operation lookup against the number of operations (1–100), for idlc's
//!   perfect hash, linear search, binary search and HashMap (`rtorb_benches::op_demux`);
//! - `servant_demux`: object key → servant against the number of servants (1–100,000), for
//!   active demultiplexing, a hash map and linear search, beside a plain `Vec` floor;
//! - `poa_depth`: object key → POA against the depth of nesting (1–25), for transient,
//!   persistent and pre-restart persistent keys (both in `rtorb_benches::servant_demux`);
//! - `allocator`: message buffers from the thread-local pools (the design's TSS allocator)
//!   against the global allocator, two threads at once on a fragmented, shared heap: median
//!   and p99 of single take+fill+give operations per payload size
//!   (`rtorb_benches::allocator`);
//! - `collocation`: a call to a servant of the same process under `Direct`, `ThruPoa` and `None`
//!   (over UIOP and IIOP), beside omniORB's collocated call and a plain Rust call;
//! - `giop_lite`: GIOP 1.2 against GIOP-lite to a server process, octets and calls per second;
//! - `latency`: the distribution of single twoway `cube_long` calls' round trips for every
//!   case of `omniorb_cubit::LATENCY_CASES` (raw TCP, omniORB, rtorb's server strategies and
//!   transports), as CDFs;
//! - `oneways`: oneway `ping` throughput, omniORB's client and server beside rtorb's server
//!   strategies, unbatched and batched (`-ORBonewayBatchMicros`);
//! - `events`: the real-time event channel's latency (suppliers × consumers, to the first and
//!   the last consumer; collocated and across processes) beside a twoway call, its deadlines
//!   as the utilization grows (priority lanes against one thread), and the COS channel beside
//!   omniEvents (latency and throughput) (`rtorb_benches::rtec`, `event_service::comparison`);
//! - `mshn`: MSHN's submission → start latency in the thesis's four configurations and its
//!   agility, as histograms (`mshn bench --csv`, run as a child process).
//! - `clients`: server throughput and fairness against the number of concurrent clients
//!   (1–64), omniORB's server with a thread per connection and with its thread pool beside
//!   rtorb's server strategies (`rtorb_benches::many_clients`).
//!
//! `--quick` runs every experiment with tiny counts (a smoke test: the figures mean little).
//! Every ratio is the median over rounds of the ratio measured within a round, the contenders
//! of a round being timed one after the other, so that a burst of load from a neighbour on a
//! shared machine spoils one round of all of them rather than one contender's figure.
//!
//! The events experiment runs its collocated parts in this process (where `SCHED_FIFO` may be
//! granted), and its parts across processes in a copy of this executable in a network
//! namespace of its own (`unshare --net --map-root-user`: omniEvents listens on every
//! interface), as `rtec_bench` does; where that namespace cannot be made, or omniEvents is not
//! installed, the report says what was skipped and why. The mshn experiment needs the `mshn`
//! executable (beside this one, or `--mshn PATH`); its configurations (b) and (d) need root
//! (`ip netns`), and `mshn bench` reports them skipped without it.
//!
//! The collocation, GIOP-lite, latency and oneway experiments start the cubit server
//! processes of `omniorb/cubit_ffi.rs` (this executable again for rtorb's, see
//! `rtorb_benches::cubit::serve_if_asked`) and call omniORB's collocated servant in this
//! process; the clients experiment starts server processes of its own the same way.

// Shared with the cubit bench and the cubit_latency tool.
#[path = "../../benches/omniorb/cubit_ffi.rs"]
#[allow(dead_code)]
mod omniorb_cubit;

use clap::{Parser, ValueEnum};
use event_service::comparison;
use indicatif::{ProgressBar, ProgressStyle};
use omniorb_cubit::{Env, LATENCY_CASES, ONEWAY_BATCH, ONEWAY_CASES};
use rtorb_benches::cubit::{
    iiop_key, message_sizes, serve_if_asked, Case, Op, Transport, Uncollocated,
};
use rtorb_benches::many_clients::{self, Measurement, Plan, Server};
use rtorb_benches::measure::{calls_in, quantile, time_batch, Grouped, Sample};
use rtorb_benches::report::{load_average, machine, ns, ratio, table, write_csv};
use rtorb_benches::{allocator, op_demux, plot, rtec, servant_demux};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Runs the design's experiments beside their comparisons: CSV, SVG and a report")]
struct Settings {
    /// Tiny counts, so that every experiment runs in seconds (a smoke test, not figures).
    #[arg(long)]
    quick: bool,
    /// Run only these experiments (repeatable); all of them by default.
    #[arg(long, value_name = "NAME", num_args = 1..)]
    only: Vec<Experiment>,
    /// The directory to write the CSVs, the SVGs and report.md into (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The `mshn` executable for the mshn experiment (by default the one beside this one).
    #[arg(long, value_name = "PATH")]
    mshn: Option<PathBuf>,
}

/// The experiments, in the order they run and are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Experiment {
    /// Operation demux: lookup time against the number of operations, per strategy.
    #[value(name = "op_demux")]
    OpDemux,
    /// Servant demux: key → servant against the number of servants, per active object map.
    #[value(name = "servant_demux")]
    ServantDemux,
    /// POA demux: object key → POA against the depth of POA nesting.
    #[value(name = "poa_depth")]
    PoaDepth,
    /// TSS against the global allocator: buffer take+fill+give on a fragmented, shared heap.
    #[value(name = "allocator")]
    Allocator,
    /// Collocation: a call per collocation strategy, beside omniORB's and a plain Rust call.
    #[value(name = "collocation")]
    Collocation,
    /// GIOP against GIOP-lite: octets per request and reply, and serial calls per second.
    #[value(name = "giop_lite")]
    GiopLite,
    /// Twoway latency distributions: every server strategy beside omniORB and raw TCP.
    #[value(name = "latency")]
    Latency,
    /// Oneway throughput, batched and not, beside omniORB.
    #[value(name = "oneways")]
    Oneways,
    /// Event channels: real-time latency and utilization, COS beside omniEvents.
    #[value(name = "events")]
    Events,
    /// MSHN: submission → start latency and agility, as histograms.
    #[value(name = "mshn")]
    Mshn,
    /// Server throughput and fairness against concurrent clients, beside omniORB's two models.
    #[value(name = "clients")]
    Clients,
}

impl Experiment {
    const ALL: [Experiment; 11] = [
        Experiment::OpDemux,
        Experiment::ServantDemux,
        Experiment::PoaDepth,
        Experiment::Allocator,
        Experiment::Collocation,
        Experiment::GiopLite,
        Experiment::Latency,
        Experiment::Oneways,
        Experiment::Clients,
        Experiment::Events,
        Experiment::Mshn,
    ];

    fn name(self) -> &'static str {
        match self {
            Experiment::OpDemux => "op_demux",
            Experiment::ServantDemux => "servant_demux",
            Experiment::PoaDepth => "poa_depth",
            Experiment::Allocator => "allocator",
            Experiment::Collocation => "collocation",
            Experiment::GiopLite => "giop_lite",
            Experiment::Latency => "latency",
            Experiment::Oneways => "oneways",
            Experiment::Events => "events",
            Experiment::Mshn => "mshn",
            Experiment::Clients => "clients",
        }
    }
}

/// What an experiment hands back once it has written its plot: its raw samples and its
/// report section.
struct Outcome {
    raw: Raw,
    section: String,
}

/// An experiment's raw samples, written as its CSV.
enum Raw {
    /// A time per operation (most experiments).
    Timings(Vec<Sample>),
    /// Calls per second and the clients' shares (the clients experiment).
    Clients(Vec<Measurement>),
}

impl Outcome {
    fn timings(samples: Vec<Sample>, section: String) -> Outcome {
        Outcome {
            raw: Raw::Timings(samples),
            section,
        }
    }

    fn write_csv(&self, path: &std::path::Path) -> std::io::Result<()> {
        match &self.raw {
            Raw::Timings(samples) => write_csv(path, samples),
            Raw::Clients(measurements) => write_csv(path, measurements),
        }
    }
}

type Run = Result<Outcome, Box<dyn std::error::Error>>;

/// The sizes of the servant demux experiment.
fn servant_sizes(quick: bool) -> &'static [usize] {
    if quick {
        &servant_demux::SIZES[..4]
    } else {
        &servant_demux::SIZES
    }
}

/// The operations of the collocation and GIOP-lite experiments; the sample's x is the sequence
/// length, 0 for `cube_long`.
const COLLOCATED_OPS: [Op; 3] = [Op::CubeLong, Op::CubeSeq(4), Op::CubeSeq(1024)];

fn x_of(op: Op) -> f64 {
    match op {
        Op::CubeSeq(n) => n as f64,
        _ => 0.0,
    }
}

fn op_of(x: f64) -> Op {
    match x as usize {
        0 => Op::CubeLong,
        n => Op::CubeSeq(n),
    }
}

/// How many steps of the progress bar an experiment makes.
fn steps(e: Experiment, quick: bool) -> u64 {
    match e {
        Experiment::OpDemux => op_demux::OPERATION_COUNTS.len() as u64,
        Experiment::ServantDemux => servant_sizes(quick).len() as u64,
        Experiment::PoaDepth => servant_demux::DEPTHS.len() as u64,
        Experiment::Allocator => allocator::PAYLOADS.len() as u64,
        Experiment::Collocation | Experiment::GiopLite => COLLOCATED_OPS.len() as u64,
        Experiment::Latency => latency_counts(quick).0 as u64,
        Experiment::Oneways => oneway_counts(quick).0 as u64,
        Experiment::Events => event_steps(quick),
        Experiment::Mshn => 1,
        Experiment::Clients => {
            let plan = clients_plan(quick);
            (plan.rounds * plan.clients.len()) as u64
        }
    }
}

fn main() -> ExitCode {
    serve_if_asked();
    if let Some(role) = rtec::roles::run_if_asked() {
        return match role {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("experiments: an events process: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let s = Settings::parse();
    if std::env::var_os(EVENTS_IN_NETNS).is_some() {
        return match events_in_netns(s.quick) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("experiments: events, in its network namespace: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Err(e) = std::fs::create_dir_all(&s.out) {
        eprintln!(
            "experiments: cannot make the output directory {}: {e}; pass a writable --out DIR",
            s.out.display()
        );
        return ExitCode::from(2);
    }
    let chosen: Vec<Experiment> = Experiment::ALL
        .into_iter()
        .filter(|e| s.only.is_empty() || s.only.contains(e))
        .collect();
    let bar = ProgressBar::new(chosen.iter().map(|&e| steps(e, s.quick)).sum());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let load_at_start = load_average();
    // omniORB has one ORB per process: the cubit environment (omniORB's and rtorb's server
    // processes, omniORB's collocated servant) is started once, if an experiment needs it.
    let needs_env = chosen.iter().any(|e| {
        matches!(
            e,
            Experiment::Collocation
                | Experiment::GiopLite
                | Experiment::Latency
                | Experiment::Oneways
        )
    });
    let sections = if needs_env {
        omniorb_cubit::with_env(|env| run_all(&s, &chosen, Some(env), &bar))
    } else {
        run_all(&s, &chosen, None, &bar)
    };
    let sections = match sections {
        Ok(sections) => sections,
        Err((e, err)) => {
            bar.abandon();
            eprintln!(
                "experiments: {} failed writing into {}: {err}",
                e.name(),
                s.out.display()
            );
            return ExitCode::FAILURE;
        }
    };
    bar.finish_with_message("done");
    let report = report(&s, &sections, started.elapsed(), &load_at_start);
    let path = s.out.join("report.md");
    if let Err(e) = std::fs::write(&path, report) {
        eprintln!("experiments: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("report: {}", path.display());
    ExitCode::SUCCESS
}

/// Runs `chosen` in turn, writing each one's CSV (its plot is written by the experiment), and
/// hands back the report's sections, or the first experiment that failed and why.
fn run_all(
    s: &Settings,
    chosen: &[Experiment],
    env: Option<&Env<'_>>,
    bar: &ProgressBar,
) -> Result<Vec<String>, (Experiment, Box<dyn std::error::Error>)> {
    let mut sections = Vec::new();
    for &e in chosen {
        bar.set_message(e.name());
        let t = Instant::now();
        let mut tick = || bar.inc(1);
        let env = || env.expect("the cubit environment is started for the experiments needing it");
        let outcome = match e {
            Experiment::OpDemux => run_op_demux(s, &mut tick),
            Experiment::ServantDemux => run_servant_demux(s, &mut tick),
            Experiment::PoaDepth => run_poa_depth(s, &mut tick),
            Experiment::Allocator => run_allocator(s, &mut tick),
            Experiment::Collocation => run_collocation(s, env(), &mut tick),
            Experiment::GiopLite => run_giop_lite(s, env(), &mut tick),
            Experiment::Latency => run_latency(s, env(), &mut tick),
            Experiment::Oneways => run_oneways(s, env(), &mut tick),
            Experiment::Events => run_events(s, &mut tick),
            Experiment::Mshn => run_mshn(s, &mut tick),
            Experiment::Clients => run_clients(s, &mut tick),
        };
        let section = outcome
            .and_then(|o| {
                o.write_csv(&s.out.join(format!("{}.csv", e.name())))?;
                Ok(o.section)
            })
            .map_err(|err| (e, err))?;
        sections.push(format!(
            "{section}\nRaw samples: [{name}.csv]({name}.csv). Took {:.1} s.\n",
            t.elapsed().as_secs_f64(),
            name = e.name()
        ));
    }
    Ok(sections)
}

fn report(s: &Settings, sections: &[String], took: Duration, load_at_start: &str) -> String {
    let mut r = String::from("# rtorb experiments\n\n");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let _ = writeln!(
        r,
        "Command: `cargo run --release -p rtorb-benches --bin experiments -- {}`{}\n",
        args.join(" "),
        if s.quick {
            " (quick: tiny counts, a smoke test — the figures mean little)"
        } else {
            ""
        }
    );
    let _ = writeln!(r, "Machine: {}.\n", machine());
    let _ = writeln!(r, "Duration: {:.1} s.\n", took.as_secs_f64());
    let _ = writeln!(
        r,
        "Load average (1, 5, 15 min; other work on the machine): {load_at_start} at the start, \
         {} at the end.\n",
        load_average()
    );
    r.push_str(
        "Figures are medians over rounds, in ns per operation where a section does not say \
         otherwise; a ratio is the median over rounds of the ratio measured within a round (the \
         contenders of a round are timed one after the other).\n",
    );
    for section in sections {
        r.push('\n');
        r.push_str(section);
    }
    r
}

fn run_op_demux(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let (rounds, lookups) = if s.quick { (3, 1_000) } else { (51, 200_000) };
    let samples = op_demux::run(rounds, lookups, tick);
    let g = Grouped::new(&samples);
    plot::lines(
        &s.out.join("op_demux.svg"),
        "Operation demux: name → skeleton entry",
        ("operations in the interface", "ns per lookup"),
        10.0,
        &g,
    )?;
    let section = format!(
        "## op_demux: operation demultiplexing\n\n\
         The skeleton's lookup of an operation name, for idlc's four demux strategies (perfect \
         hash, linear search, binary search, a HashMap built on first use) on generated \
         interfaces of 1 to 100 operations; each round looks up every name of the interface in \
         turn, {lookups} lookups or more, {rounds} rounds. Ratios to the perfect hash.\n\n{}\n\
         ![op_demux](op_demux.svg)\n",
        table(&samples, "operations", |x| format!("{x}"), "perfect")
    );
    Ok(Outcome::timings(samples, section))
}

fn run_servant_demux(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let (rounds, lookups) = if s.quick { (3, 500) } else { (51, 20_000) };
    let samples = servant_demux::run(servant_sizes(s.quick), rounds, lookups, tick);
    let g = Grouped::new(&samples);
    plot::lines(
        &s.out.join("servant_demux.svg"),
        "Servant demux: object key → servant",
        ("active objects in the POA", "ns per lookup"),
        10.0,
        &g,
    )?;
    let section = format!(
        "## servant_demux: servant demultiplexing\n\n\
         Object key → servant through the POA's `dispatch_decision`, keys in a shuffled order \
         spread over all the objects, for each active object map: active demultiplexing, a hash \
         map and a linear search (to {} objects: its setup is O(n²)), beside the floor — a plain \
         `Vec` of the same servants indexed in the same order, each handle cloned; {rounds} \
         rounds of at least {lookups} lookups after as many untimed. Ratios to the floor.\n\n{}\n\
         ![servant_demux](servant_demux.svg)\n",
        servant_demux::LINEAR_MAX,
        table(&samples, "objects", |x| format!("{x}"), "vec_floor")
    );
    Ok(Outcome::timings(samples, section))
}

fn run_allocator(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let (rounds, ops) = if s.quick { (3, 200) } else { (21, 20_000) };
    let samples = allocator::run(rounds, ops, tick);
    let g = Grouped::new(&samples);
    plot::lines(
        &s.out.join("allocator.svg"),
        "Buffers: thread-local pools (tss) against the global heap, 2 threads",
        ("message payload (octets)", "ns per take+fill+give"),
        10.0,
        &g,
    )?;
    let (medians, tails): (Vec<Sample>, Vec<Sample>) = samples
        .iter()
        .cloned()
        .partition(|x| !x.series.ends_with("p99"));
    let section = format!(
        "## allocator: TSS against the global allocator\n\n\
         The design's experiment: a message buffer taken, filled with a payload and given back, \
         on {threads} threads at once, each making an unrelated allocation of a random size \
         (16 B to 8 KiB, 256 kept alive) between two takes, so that the global heap is \
         fragmented and shared; `tss` takes the buffer from the thread's own pool \
         (`-ORBbufferAllocator tss`, the default), `global` allocates it afresh. Each single \
         operation is timed; per round and strategy, {ops} operations per thread, the median \
         and the p99 of them; {rounds} rounds, the strategies one after the other. Ratios to \
         `global`.\n\nMedians:\n\n{}\nSpread (p99):\n\n{}\n![allocator](allocator.svg)\n",
        table(&medians, "payload (B)", |x| format!("{x}"), "global"),
        table(&tails, "payload (B)", |x| format!("{x}"), "global p99"),
        threads = allocator::EXPERIMENT_THREADS,
    );
    Ok(Outcome::timings(samples, section))
}

fn run_poa_depth(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let (rounds, lookups) = if s.quick { (3, 500) } else { (51, 20_000) };
    let samples = servant_demux::run_depths(rounds, lookups, tick);
    let g = Grouped::new(&samples);
    plot::lines(
        &s.out.join("poa_depth.svg"),
        "POA demux: object key → POA and servant, by nesting depth",
        ("depth of the POA below the RootPOA", "ns per lookup"),
        10.0,
        &g,
    )?;
    let section = format!(
        "## poa_depth: POA demultiplexing by depth\n\n\
         Object key → POA → servant through `dispatch_decision` for 100 objects in a POA nested \
         1 to 25 deep below the RootPOA: transient and persistent keys made by the same POA tree \
         (active demultiplexing finds the POA at once), and persistent keys made by an earlier \
         instance of the tree (an ORB restarted: the key's POA path is walked); {rounds} rounds \
         of {lookups} lookups after as many untimed. Ratios to the transient keys.\n\n{}\n\
         ![poa_depth](poa_depth.svg)\n",
        table(&samples, "depth", |x| format!("{x}"), "transient")
    );
    Ok(Outcome::timings(samples, section))
}

/// The collocation experiment's contenders: the first is the baseline of the ratios.
const COLLOCATION_SERIES: [&str; 6] = [
    "plain_rust_call",
    "omniorb_collocated",
    "rtorb_direct",
    "rtorb_thru_poa",
    "rtorb_none_uiop",
    "rtorb_none_iiop",
];

/// Their names under the bars of the plot.
const COLLOCATION_LABELS: [&str; 6] = [
    "plain Rust",
    "omniORB",
    "Direct",
    "ThruPoa",
    "None/UIOP",
    "None/IIOP",
];

fn run_collocation(s: &Settings, env: &Env<'_>, tick: &mut dyn FnMut()) -> Run {
    let (rounds, target) = if s.quick {
        (2, Duration::from_micros(200))
    } else {
        (50, Duration::from_millis(10))
    };
    let mut samples = Vec::new();
    for op in COLLOCATED_OPS {
        let x = x_of(op);
        let cases = COLLOCATION_SERIES
            .iter()
            .map(|&name| {
                let case: Box<dyn Case + '_> = match name {
                    "rtorb_none_uiop" => Box::new(Uncollocated::new(Transport::Uiop, op)),
                    "rtorb_none_iiop" => Box::new(Uncollocated::new(Transport::Giop, op)),
                    other => env.case(other, op),
                };
                (name, case)
            })
            .collect();
        time_cases(cases, x, rounds, target, &mut samples);
        tick();
    }
    let g = Grouped::new(&samples);
    let label = |x: f64| op_of(x).label();
    plot::bars(
        &s.out.join("collocation.svg"),
        "Collocation: one call to a servant of this process",
        "ns per call",
        &g,
        &COLLOCATION_LABELS,
        label,
    )?;
    let mut versus = String::from(
        "| operation | rtorb_direct ÷ omniorb_collocated | rtorb_thru_poa ÷ omniorb_collocated \
         | rtorb_none_uiop ÷ rtorb_direct | rtorb_none_iiop ÷ rtorb_direct |\n|---|---:|---:|---:|---:|\n",
    );
    for &x in &g.xs {
        let _ = write!(versus, "| {} |", label(x));
        for (series, baseline) in [
            ("rtorb_direct", "omniorb_collocated"),
            ("rtorb_thru_poa", "omniorb_collocated"),
            ("rtorb_none_uiop", "rtorb_direct"),
            ("rtorb_none_iiop", "rtorb_direct"),
        ] {
            let cell = g
                .ratio(series, baseline, x, &samples)
                .map_or("–".to_owned(), ratio);
            let _ = write!(versus, " {cell} |");
        }
        versus.push('\n');
    }
    let section = format!(
        "## collocation: calls to a servant in the same process\n\n\
         `cube_long` and `cube_seq` (4 and 1,024 longs) through an idlc-generated reference to \
         a servant of the caller's own ORB under each collocation strategy — `Direct`, \
         `ThruPoa`, and `None`, which goes through the ORB's own transport (a Unix socket, or \
         TCP loopback) — beside omniORB calling its own servant collocated and a plain Rust \
         call through a `&dyn Cubit`; every case checked before it is timed, {rounds} rounds of \
         a batch per case (each batch about {target:?}). Ratios to the plain Rust call.\n\n{}\n\
         Against omniORB collocated, and what collocation saves against no collocation:\n\n{}\n\
         ![collocation](collocation.svg)\n",
        table(&samples, "operation", label, "plain_rust_call"),
        versus
    );
    Ok(Outcome::timings(samples, section))
}

/// Times `cases` (name, case) calling the same operation at point `x`: each checked, then
/// `rounds` rounds of a batch of about `target` per case, one after the other.
fn time_cases(
    cases: Vec<(&str, Box<dyn Case + '_>)>,
    x: f64,
    rounds: usize,
    target: Duration,
    samples: &mut Vec<Sample>,
) {
    let mut cases: Vec<(&str, Box<dyn Case + '_>, u64)> = cases
        .into_iter()
        .map(|(name, mut case)| {
            case.check();
            let batch = calls_in(target, || {
                std::hint::black_box(case.call());
            });
            (name, case, batch)
        })
        .collect();
    for round in 0..rounds {
        for (name, case, batch) in &mut cases {
            let elapsed = time_batch(*batch, || {
                std::hint::black_box(case.call());
            });
            samples.push(Sample::new(
                name,
                x,
                round,
                elapsed.as_nanos() as f64 / *batch as f64,
            ));
        }
    }
}

fn run_giop_lite(s: &Settings, env: &Env<'_>, tick: &mut dyn FnMut()) -> Run {
    let (rounds, target) = if s.quick {
        (2, Duration::from_millis(1))
    } else {
        (50, Duration::from_millis(20))
    };
    let mut samples = Vec::new();
    let mut octets = String::from(
        "| operation | GIOP 1.2 request | GIOP-lite request | GIOP 1.2 reply | GIOP-lite reply \
         | request saved | reply saved |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let key = iiop_key(env.reactive_ior);
    for op in COLLOCATED_OPS {
        let [(giop_req, giop_rep), (lite_req, lite_rep)] = message_sizes(&key, op);
        let _ = writeln!(
            octets,
            "| {} | {giop_req} | {lite_req} | {giop_rep} | {lite_rep} | {} | {} |",
            op.label(),
            giop_req - lite_req,
            giop_rep - lite_rep
        );
        let cases = vec![
            ("giop", env.case("rtorb_giop_reactive", op)),
            ("giop_lite", env.case("rtorb_lite_reactive", op)),
        ];
        time_cases(cases, x_of(op), rounds, target, &mut samples);
        tick();
    }
    let g = Grouped::new(&samples);
    let label = |x: f64| op_of(x).label();
    plot::bars(
        &s.out.join("giop_lite.svg"),
        "GIOP 1.2 against GIOP-lite: a twoway call to a server process",
        "ns per call",
        &g,
        &["GIOP 1.2", "GIOP-lite"],
        label,
    )?;
    let mut rates = String::from(
        "| operation | GIOP 1.2 calls/s | GIOP-lite calls/s | GIOP-lite ÷ GIOP calls/s |\n|---|---:|---:|---:|\n",
    );
    for &x in &g.xs {
        let per_s = |series: &str| {
            g.median(series, x)
                .map_or("–".to_owned(), |ns| format!("{:.0}", 1e9 / ns))
        };
        let speedup = g
            .ratio("giop", "giop_lite", x, &samples)
            .map_or("–".to_owned(), ratio);
        let _ = writeln!(
            rates,
            "| {} | {} | {} | {speedup} |",
            label(x),
            per_s("giop"),
            per_s("giop_lite")
        );
    }
    let section = format!(
        "## giop_lite: GIOP 1.2 against GIOP-lite\n\n\
         rtorb's client ORB calling rtorb's reactive cubit server process over TCP loopback, \
         with GIOP 1.2 and with GIOP-lite (rtorb's reduced framing: an 8-octet header, no \
         service contexts); serial twoway calls, every case checked before it is timed, \
         {rounds} rounds of a batch per case (each batch about {target:?}). Octets of the \
         messages after the first on a connection (which in GIOP 1.2 also carries the code \
         sets):\n\n{octets}\nTime per call, ratios to GIOP 1.2:\n\n{}\nSerial calls per second \
         (from the medians; the ratio is the median of the rounds' own):\n\n{rates}\n\
         ![giop_lite](giop_lite.svg)\n",
        table(&samples, "operation", label, "giop"),
    );
    Ok(Outcome::timings(samples, section))
}

/// The latency experiment's rounds, calls per case and round, and warm-up calls per case.
fn latency_counts(quick: bool) -> (usize, usize, u64) {
    if quick {
        (2, 20, 5)
    } else {
        (100, 100, 1_000)
    }
}

fn run_latency(s: &Settings, env: &Env<'_>, tick: &mut dyn FnMut()) -> Run {
    let (rounds, per_round, warmup) = latency_counts(s.quick);
    let op = Op::CubeLong;
    // Every case checked and warmed up, then rounds of `per_round` single calls of each case
    // in turn, each call timed on its own.
    let mut cases: Vec<(&str, Box<dyn Case + '_>)> = LATENCY_CASES
        .iter()
        .map(|&name| {
            let mut case = env.case(name, op);
            case.check();
            case.run(warmup);
            (name, case)
        })
        .collect();
    let mut samples = Vec::new();
    let mut ns_buf = vec![0u64; per_round];
    for round in 0..rounds {
        for (name, case) in &mut cases {
            case.record(&mut ns_buf);
            samples.extend(
                ns_buf
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| Sample::new(name, i as f64, round, t as f64)),
            );
        }
        tick();
    }
    let series: Vec<(&str, Vec<f64>)> = LATENCY_CASES
        .iter()
        .map(|&name| {
            let v = samples
                .iter()
                .filter(|x| x.series == name)
                .map(|x| x.value)
                .collect();
            (name, v)
        })
        .collect();
    plot::cdf(
        &s.out.join("latency.svg"),
        "Twoway cube_long round trips: cumulative distribution",
        "ns per call",
        &series,
    )?;
    let p50 = |name: &str| {
        series
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(f64::NAN, |(_, v)| quantile(v, 0.5))
    };
    let (omni, raw) = (p50("omniorb_to_omniorb"), p50("raw_tcp"));
    let mut t = String::from(
        "| case | p50 (ns) | p90 (ns) | p99 (ns) | max (ns) | p50 ÷ omniorb_to_omniorb \
         | p50 ÷ raw_tcp |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, v) in &series {
        let _ = writeln!(
            t,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            ns(quantile(v, 0.5)),
            ns(quantile(v, 0.9)),
            ns(quantile(v, 0.99)),
            ns(quantile(v, 1.0)),
            ratio(quantile(v, 0.5) / omni),
            ratio(quantile(v, 0.5) / raw),
        );
    }
    let section = format!(
        "## latency: twoway round trips, by server strategy\n\n\
         Single `cube_long` calls over TCP loopback (UIOP for `rtorb_uiop_reactive`), each timed \
         on its own: a raw ping-pong of rtorb's GIOP octets (the floor), omniORB's client and \
         server processes, rtorb's client to omniORB's server, and rtorb's client to rtorb's \
         server processes (reactive, a two-thread pool, a thread per connection; GIOP 1.2, \
         GIOP-lite, UIOP); every case checked and warmed up ({warmup} calls), then {rounds} \
         rounds of {per_round} calls of each case in turn. Ratios of the medians (p50) over all \
         the calls; the CSV's x is the call's index in its round.\n\n{t}\n\
         ![latency](latency.svg)\n",
    );
    Ok(Outcome::timings(samples, section))
}

/// Rounds and pings per case and round of the oneway experiment.
fn oneway_counts(quick: bool) -> (usize, u64) {
    if quick {
        (2, 200)
    } else {
        (15, 20_000)
    }
}

/// Short names of [`ONEWAY_CASES`] under their bars.
const ONEWAY_LABELS: [&str; 9] = [
    "omniORB",
    "raw TCP",
    "rtorb→omniORB",
    "reactive",
    "pool",
    "per conn.",
    "reactive+batch",
    "lite+batch",
    "shm per conn.",
];

fn run_oneways(s: &Settings, env: &Env<'_>, tick: &mut dyn FnMut()) -> Run {
    let (rounds, pings) = oneway_counts(s.quick);
    let mut cases: Vec<_> = ONEWAY_CASES.iter().map(|&n| (n, env.oneways(n))).collect();
    for (_, case) in cases.iter_mut() {
        case.batch(pings.min(1_000));
    }
    let mut samples = Vec::new();
    for round in 0..rounds {
        for (name, case) in cases.iter_mut() {
            let t = case.batch(pings);
            samples.push(Sample::new(
                name,
                1.0,
                round,
                t.as_nanos() as f64 / pings as f64,
            ));
        }
        tick();
    }
    drop(cases);
    let g = Grouped::new(&samples);
    plot::bars(
        &s.out.join("oneways.svg"),
        "Oneway ping throughput: time per oneway (lower is faster)",
        "ns per oneway",
        &g,
        &ONEWAY_LABELS,
        |_| "ping".to_owned(),
    )?;
    let section = format!(
        "## oneways: oneway throughput, batched and not\n\n\
         {pings} oneway `ping`s then one twoway `cube_long` on the same connection (so the \
         server has taken them all), per case and round, {rounds} rounds, the cases one after \
         the other: omniORB's client to its server process; the floor, the same octets \
         written one `write` each to a thread that only frames them (`raw_tcp`); rtorb's \
         client to omniORB's server; and rtorb's client to rtorb's server processes — \
         reactive, thread pool, thread per connection, and thread per connection over \
         SHMIOP — unbatched, and batched (`-ORBonewayBatchMicros {}`: oneways buffered per connection and written \
         within that bound, before any twoway) over GIOP and GIOP-lite. Time per oneway; a \
         ratio below 1 is more oneways per second than omniORB's (calls/s = 10⁹ ÷ ns).\n\n{}\n\
         ![oneways](oneways.svg)\n",
        ONEWAY_BATCH.as_micros(),
        table(
            &samples,
            "case",
            |_| "ping".to_owned(),
            "omniorb_to_omniorb"
        ),
    );
    Ok(Outcome::timings(samples, section))
}

/// The sizes of rtorb's leader/followers pool in the clients experiment.
const CLIENTS_POOLS: [usize; 2] = [2, 4];

/// The clients experiment's counts of clients, rounds and time per measurement.
fn clients_plan(quick: bool) -> Plan {
    if quick {
        Plan {
            clients: vec![1, 2],
            rounds: 2,
            duration: Duration::from_millis(20),
            max_calls: 200,
        }
    } else {
        Plan {
            clients: vec![1, 2, 4, 8, 16, 32, 64],
            rounds: 5,
            duration: Duration::from_millis(500),
            max_calls: u64::MAX,
        }
    }
}

fn run_clients(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let plan = clients_plan(s.quick);
    let measurements = many_clients::run(&Server::all(&CLIENTS_POOLS), &plan, tick);
    let rates = many_clients::rates(&measurements);
    plot::lines(
        &s.out.join("clients.svg"),
        "Server throughput against concurrent clients (twoway cube_long)",
        (
            "concurrent clients, each its own connection",
            "calls/s, all clients",
        ),
        2.0,
        &Grouped::new(&rates),
    )?;
    let section = format!(
        "## clients: server throughput against concurrent clients\n\n\
         {counts} client threads in turn, each with a client ORB and a connection of its own, \
         calling twoway `cube_long` back to back for {duration:?} per measurement (connected \
         and checked before the clock starts), against each server process in turn: omniORB's \
         cubit server with a thread per connection (`omniorb_tpc`, its default) and with its \
         thread pool (`omniorb_pool`: `-ORBthreadPerConnectionPolicy 0`, the rest at omniORB's \
         defaults), and rtorb's — reactive, a leader/followers pool of {pools:?} threads, \
         thread per connection. The clients are the same rtorb code for every server. \
         {rounds} rounds, in each every count, the servers one after the other. Per count and \
         server, the median of all the clients' calls per second, the median of the busiest \
         client's calls over the least busy one's (max/min: 1 is a fair share), and the calls \
         per second over omniORB's in each model (above 1: more calls than omniORB).\n\n{}\n\
         ![clients](clients.svg)\n",
        many_clients::table(&measurements),
        counts = plan
            .clients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        duration = plan.duration,
        pools = CLIENTS_POOLS,
        rounds = plan.rounds,
    );
    Ok(Outcome {
        raw: Raw::Clients(measurements),
        section,
    })
}

// ---- events -------------------------------------------------------------------------------

/// Set in the copy of this executable that runs the events experiment's loopback parts in a
/// network namespace of its own (as `rtec_bench` does: omniEvents listens on every
/// interface).
const EVENTS_IN_NETNS: &str = "RTORB_EXPERIMENTS_EVENTS_IN_NETNS";

/// The events experiment's counts.
struct EventCounts {
    /// Events timed per collocated latency case.
    collocated: usize,
    /// Events timed per latency case across processes, and the supplier's period (µs).
    across: usize,
    pace_us: u64,
    /// How long each utilization step runs, and the high pair's work steps (% of its period).
    util_ms: u64,
    util_steps: &'static [u32],
    /// COS against omniEvents: events timed per latency case, events per throughput round,
    /// rounds.
    cos_events: usize,
    cos_burst: usize,
    cos_rounds: usize,
}

fn event_counts(quick: bool) -> EventCounts {
    if quick {
        EventCounts {
            collocated: 200,
            across: 20,
            pace_us: 200,
            util_ms: 40,
            util_steps: &[10, 70],
            cos_events: 20,
            cos_burst: 600,
            cos_rounds: 2,
        }
    } else {
        // rtec_bench's and ev_bench's defaults.
        EventCounts {
            collocated: 20_000,
            across: 1_000,
            pace_us: 1_000,
            util_ms: 600,
            util_steps: &[10, 20, 30, 40, 45, 50, 55, 60, 65, 70, 75],
            cos_events: 4_000,
            cos_burst: 40_000,
            cos_rounds: 6,
        }
    }
}

/// The latency cases (suppliers × consumers), each a step of the progress bar collocated and
/// across processes.
const EVENT_CASES: usize = rtec::latency::SUPPLIERS.len() * rtec::latency::CONSUMERS.len();

/// The COS comparison's steps: latency to 1 and to 4 consumers, and throughput.
const COS_STEPS: usize = 3;

fn event_steps(quick: bool) -> u64 {
    (2 * EVENT_CASES + event_counts(quick).util_steps.len() + COS_STEPS) as u64
}

/// Why a copy of this executable cannot run in a network namespace of its own, if it cannot.
fn netns_unavailable() -> Option<String> {
    let probe = std::process::Command::new("unshare")
        .args([
            "--net",
            "--map-root-user",
            "--",
            "ip",
            "link",
            "set",
            "lo",
            "up",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`unshare --net --map-root-user` is not allowed here ({}: {})",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare (util-linux): {e}")),
    }
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The copy in the network namespace: the latency cases across processes and the COS channel
/// beside omniEvents, said on standard output as `tick`, `sample SERIES X ROUND NS` and
/// `skipped WHY` lines for [`run_events`] to read.
fn events_in_netns(quick: bool) -> Result<(), Box<dyn std::error::Error>> {
    let c = event_counts(quick);
    let m = rtec::latency::across_processes(c.across, c.pace_us, &mut || println!("tick"))?;
    for (s, consumers, first, last) in &m.cases {
        for (end, values) in [("first", first), ("last", last)] {
            for (i, v) in values.iter().enumerate() {
                println!("sample procs_s{s}_{end} {consumers} {i} {v}");
            }
        }
    }
    // The twoways ran beside the cases in turn, `c.across` of each kind per case.
    for (name, values) in [("twoway_paced", &m.paced), ("twoway_b2b", &m.back_to_back)] {
        for (i, v) in values.iter().enumerate() {
            let consumers = rtec::latency::CONSUMERS[i / c.across % rtec::latency::CONSUMERS.len()];
            println!("sample {name} {consumers} {i} {v}");
        }
    }
    cos_against_omnievents(&c)
}

/// Our COS channel (a process of its own) beside a channel of omniEvents, as ev_bench sets
/// them: latency to 1 consumer, throughput to 1, latency to the last of 4; the channels take
/// turns within each round.
fn cos_against_omnievents(c: &EventCounts) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(missing) = ["omniEvents", "eventc"].into_iter().find(|p| !on_path(p)) {
        println!(
            "skipped the COS channel beside omniEvents: {missing} is not on PATH (Debian's \
             omnievents package has both omniEvents and eventc)"
        );
        for _ in 0..COS_STEPS {
            println!("tick");
        }
        return Ok(());
    }
    let scratch = tempfile::Builder::new()
        .prefix("experiments-events-")
        .tempdir()?;
    let orb = comparison::client_orb()?;
    let ours = rtec::roles::cos_channel_process()?;
    let omni = comparison::start_omnievents(
        &comparison::OmniEvents {
            omnievents: "omniEvents".into(),
            eventc: "eventc".into(),
            cycle_ns: 10_000,
        },
        scratch.path(),
        &orb,
    )?;
    let mut channels = [
        comparison::Channel::connect(&orb, "ours", ours)?,
        comparison::Channel::connect(&orb, "omniEvents", omni)?,
    ];
    let rounds = c.cos_rounds;
    let latencies = |channels: &mut [comparison::Channel; 2],
                     consumers: usize|
     -> Result<(), Box<dyn std::error::Error>> {
        for ch in channels.iter_mut() {
            ch.latencies(c.cos_events.div_ceil(10), &mut Vec::new())?;
        }
        for round in 0..rounds {
            for i in (0..2).map(|i| (i + round) % 2) {
                let mut v = Vec::new();
                channels[i].latencies(c.cos_events.div_ceil(rounds), &mut v)?;
                for d in v {
                    println!(
                        "sample {}_latency {consumers} {round} {}",
                        COS_SERIES[i],
                        d.as_nanos()
                    );
                }
            }
        }
        println!("tick");
        Ok(())
    };
    latencies(&mut channels, 1)?;
    let per_round = c.cos_burst.div_ceil(rounds);
    for ch in channels.iter_mut() {
        ch.burst(per_round.div_ceil(10))?;
    }
    for round in 0..rounds {
        for i in (0..2).map(|i| (i + round) % 2) {
            let t = channels[i].burst(per_round)?;
            println!(
                "sample {}_per_event 1 {round} {}",
                COS_SERIES[i],
                t.as_nanos() as f64 / per_round as f64
            );
        }
    }
    println!("tick");
    for ch in channels.iter_mut() {
        ch.add_consumers(&orb, 3)?;
    }
    latencies(&mut channels, 4)?;
    // The channels are not destroyed, only their processes killed (as ev_bench does).
    drop(channels);
    orb.shutdown(true);
    Ok(())
}

/// The COS comparison's series: ours, omniEvents'.
const COS_SERIES: [&str; 2] = ["cos_ours", "cos_omnievents"];

/// Runs the copy in the network namespace, reading its samples and skips; ticks as it does.
fn events_across_processes(
    tick: &mut dyn FnMut(),
    samples: &mut Vec<Sample>,
    skipped: &mut Vec<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::BufRead as _;
    if let Some(why) = netns_unavailable() {
        skipped.push(format!(
            "the latency across processes and the COS channel beside omniEvents (they run in \
             a network namespace of their own): {why}"
        ));
        for _ in 0..EVENT_CASES + COS_STEPS {
            tick();
        }
        return Ok(());
    }
    let mut child = comparison::in_private_netns(EVENTS_IN_NETNS)?
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no standard output")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["tick"] => tick(),
            ["sample", series, x, round, ns] => {
                samples.push(Sample::new(series, x.parse()?, round.parse()?, ns.parse()?))
            }
            ["skipped", ..] => skipped.push(line["skipped ".len()..].to_owned()),
            _ => {}
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!(
            "the events experiment's copy in a network namespace ended with {status} (its \
             complaint is above)"
        )
        .into());
    }
    Ok(())
}

fn run_events(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    use rtec::latency::{CONSUMERS, SUPPLIERS};
    use rtec::utilization::{self, Kind, LOW_WORK};
    let c = event_counts(s.quick);
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    // Collocated, in this process: outside any namespace, where SCHED_FIFO may be granted.
    for &sup in &SUPPLIERS {
        for &con in &CONSUMERS {
            let (first, last) = rtec::latency::collocated_case(c.collocated, sup, con)?;
            for (end, values) in [("first", first), ("last", last)] {
                samples.extend(values.iter().enumerate().map(|(i, &v)| {
                    Sample::new(&format!("colloc_s{sup}_{end}"), con as f64, i, v as f64)
                }));
            }
            tick();
        }
    }
    let setup = utilization::prepare();
    let mut steps = Vec::new();
    for &pct in c.util_steps {
        let run = Duration::from_millis(c.util_ms);
        let lanes = utilization::step(Kind::Lanes, setup.per_us, pct, run);
        let single = utilization::step(Kind::Single, setup.per_us, pct, run);
        steps.push((pct, lanes?, single?));
        tick();
    }
    utilization::finish(&setup);
    events_across_processes(tick, &mut samples, &mut skipped)?;

    // Utilization: its own CSV (counts, not times) and figure.
    let mut rows = String::from("kind,pair,high_work_pct,total_utilization_pct,events,missed\n");
    let mut figure: Vec<(&str, Vec<(f64, f64)>)> = [
        "lanes: high",
        "lanes: low",
        "one thread: high",
        "one thread: low",
    ]
    .into_iter()
    .map(|n| (n, Vec::new()))
    .collect();
    let mut util_table = String::from(
        "| high work % | total utilization % | lanes: high missed | lanes: low missed \
         | one thread: high missed | one thread: low missed |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for (pct, lanes, single) in &steps {
        let total = pct + LOW_WORK;
        let pairs = [
            ("lanes", "high", lanes.high_events, lanes.high_missed),
            ("lanes", "low", lanes.low_events, lanes.low_missed),
            ("single", "high", single.high_events, single.high_missed),
            ("single", "low", single.low_events, single.low_missed),
        ];
        let _ = write!(util_table, "| {pct} | {total} |");
        for (k, (kind, pair, events, missed)) in pairs.into_iter().enumerate() {
            let _ = writeln!(rows, "{kind},{pair},{pct},{total},{events},{missed}");
            let share = 100.0 * missed as f64 / events.max(1) as f64;
            figure[k].1.push((f64::from(total), share));
            let _ = write!(util_table, " {missed}/{events} ({share:.0}%) |");
        }
        util_table.push('\n');
    }
    std::fs::write(s.out.join("events_utilization.csv"), rows)?;
    plot::linear_lines(
        &s.out.join("events_utilization.svg"),
        "Deadlines missed as the high-priority work grows: lanes against one thread",
        ("total utilization (%)", "deadlines missed (% of events)"),
        &figure,
        0.0..105.0,
    )?;
    // The highest utilization up to which no high-priority deadline was missed (at that step
    // or any below), per dispatching.
    let kept = |k: usize| {
        steps
            .iter()
            .zip(&figure[k].1)
            .take_while(|(_, &(_, share))| share == 0.0)
            .map(|((pct, _, _), _)| format!("{}%", pct + LOW_WORK))
            .last()
            .unwrap_or_else(|| "none".to_owned())
    };

    // Latency: tables of the collocated and cross-process cases against the twoway.
    let g = Grouped::new(&samples);
    let pooled = |series: &str| -> Vec<f64> {
        g.xs.iter()
            .flat_map(|&x| g.values(series, x).iter().copied())
            .collect()
    };
    let (paced, b2b) = (pooled("twoway_paced"), pooled("twoway_b2b"));
    let us = |v: f64| {
        if v.is_nan() {
            "–".to_owned()
        } else {
            ns(v / 1e3)
        }
    };
    let cell_ratio = |r: f64| {
        if r.is_nan() {
            "–".to_owned()
        } else {
            ratio(r)
        }
    };
    let mut lat_table = String::from(
        "| suppliers | consumers | collocated 1st p50 | 1st p99 | last p50 | last p99 \
         | processes 1st p50 | 1st p99 | last p50 | last p99 | processes 1st p50 ÷ twoway p50 \
         | 1st p99 ÷ twoway p99 | last p50 ÷ twoway p50 |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &sup in &SUPPLIERS {
        for &con in &CONSUMERS {
            let q = |series: String, p: f64| quantile(g.values(&series, con as f64), p);
            let pf = q(format!("procs_s{sup}_first"), 0.5);
            let pf99 = q(format!("procs_s{sup}_first"), 0.99);
            let pl = q(format!("procs_s{sup}_last"), 0.5);
            let _ = writeln!(
                lat_table,
                "| {sup} | {con} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                us(q(format!("colloc_s{sup}_first"), 0.5)),
                us(q(format!("colloc_s{sup}_first"), 0.99)),
                us(q(format!("colloc_s{sup}_last"), 0.5)),
                us(q(format!("colloc_s{sup}_last"), 0.99)),
                us(pf),
                us(pf99),
                us(pl),
                us(q(format!("procs_s{sup}_last"), 0.99)),
                cell_ratio(pf / quantile(&paced, 0.5)),
                cell_ratio(pf99 / quantile(&paced, 0.99)),
                cell_ratio(pl / quantile(&paced, 0.5)),
            );
        }
    }
    let plotted: Vec<Sample> = samples
        .iter()
        .filter(|x| {
            x.series.starts_with("colloc_")
                || x.series.starts_with("procs_")
                || x.series == "twoway_paced"
        })
        .cloned()
        .collect();
    plot::lines(
        &s.out.join("events.svg"),
        "Real-time channel: creation_time → consumer, median",
        ("consumers", "ns"),
        10.0,
        &Grouped::new(&plotted),
    )?;

    // COS beside omniEvents.
    let cos: Vec<Sample> = samples
        .iter()
        .filter(|x| x.series.starts_with("cos_"))
        .cloned()
        .collect();
    let cos_section = if cos.is_empty() {
        "Not measured in this run (see above).\n".to_owned()
    } else {
        let cg = Grouped::new(&cos);
        let mut t = String::from(
            "| measure | ours p50 | ours p99 | omniEvents p50 | omniEvents p99 | ours ÷ omniEvents p50 \
             | ours ÷ omniEvents p99 |\n|---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (label, consumers) in [
            ("latency, 1 consumer (µs)", 1.0),
            ("latency to the last of 4 consumers (µs)", 4.0),
        ] {
            let (o, e) = (
                cg.values("cos_ours_latency", consumers),
                cg.values("cos_omnievents_latency", consumers),
            );
            let _ = writeln!(
                t,
                "| {label} | {} | {} | {} | {} | {} | {} |",
                us(quantile(o, 0.5)),
                us(quantile(o, 0.99)),
                us(quantile(e, 0.5)),
                us(quantile(e, 0.99)),
                cell_ratio(quantile(o, 0.5) / quantile(e, 0.5)),
                cell_ratio(quantile(o, 0.99) / quantile(e, 0.99)),
            );
        }
        let per_s = |series: &str| {
            cg.median(series, 1.0)
                .map_or("–".to_owned(), |ns| format!("{:.0}", 1e9 / ns))
        };
        // Events per second: the inverse of the time per event, so ours ÷ omniEvents' rate is
        // omniEvents' time ÷ ours, per round.
        let rate_ratio = cg
            .ratio("cos_omnievents_per_event", "cos_ours_per_event", 1.0, &cos)
            .map_or("–".to_owned(), ratio);
        let _ = writeln!(
            t,
            "\n| throughput, 1 consumer | ours events/s | omniEvents events/s | ours ÷ omniEvents |\n\
             |---|---:|---:|---:|\n| {} events per round, {} rounds | {} | {} | {rate_ratio} |",
            c.cos_burst.div_ceil(c.cos_rounds),
            c.cos_rounds,
            per_s("cos_ours_per_event"),
            per_s("cos_omnievents_per_event"),
        );
        // The plot: latency panels and the time per event, in µs.
        let bars: Vec<Sample> = cos
            .iter()
            .map(|x| {
                let series = if x.series.starts_with("cos_ours") {
                    "ours"
                } else {
                    "omniEvents"
                };
                let panel = if x.series.ends_with("_per_event") {
                    0.0
                } else {
                    x.x
                };
                Sample::new(series, panel, x.round, x.value / 1e3)
            })
            .collect();
        plot::bars(
            &s.out.join("events_cos.svg"),
            "COS event channel: ours beside omniEvents (medians)",
            "µs",
            &Grouped::new(&bars),
            &["ours", "omniEvents"],
            |x| match x as usize {
                0 => "throughput: µs per event".to_owned(),
                1 => "latency, 1 consumer".to_owned(),
                n => format!("latency to the last of {n}"),
            },
        )?;
        format!("{t}\n![events_cos](events_cos.svg)\n")
    };

    let skips = if skipped.is_empty() {
        String::new()
    } else {
        let mut t = String::from("**Skipped in this run** (nothing of them is shown below):\n\n");
        for why in &skipped {
            let _ = writeln!(t, "- {why}");
        }
        t.push('\n');
        t
    };
    let section = format!(
        "## events: the real-time event channel, and the COS channel beside omniEvents\n\n\
         {skips}**Latency** (`rtorb_benches::rtec::latency`, as `rtec_bench` measures it): an \
         event's `creation_time` (CLOCK_MONOTONIC, written just before `push`) to the start of \
         a consumer's `push`, to the first and to the last of the consumers; collocated (one \
         ORB, `Direct`, reactive dispatching: {} events per case) and across processes \
         (supplier, channel and consumers each a process, reactive, GIOP 1.2 on loopback, one \
         event every {} µs, {} per case), beside a twoway `cube_long` of the same ORB to a \
         reactive server process, one every {} µs, timed beside each case (the ratios' base): \
         p50 {} µs, p99 {} µs; back to back p50 {} µs, p99 {} µs. µs:\n\n{lat_table}\n\
         ![events](events.svg)\n\n\
         **Utilization** (the paper's figures 15–16; `rtorb_benches::rtec::utilization`): a \
         high-priority pair every {} ms and a low-priority pair every {} ms with {LOW_WORK}% \
         work, collocated, every thread on CPU {}, SCHED_FIFO {}; the high pair's work grown \
         step by step, {} ms per step, under priority lanes and under one dispatching thread; \
         deadlines (the period) missed / events. Highest total utilization up to which no \
         high-priority deadline was missed: lanes {}, one thread {}.\n\n{util_table}\n\
         ![events_utilization](events_utilization.svg) (counts: \
         [events_utilization.csv](events_utilization.csv))\n\n\
         **COS channel beside omniEvents** (as `ev_bench`): our untyped COS channel in a \
         process of its own (a pool of 64 threads, as the `event-service` daemon) and a \
         channel of omniEvents (`eventc -c 10000`), the supplier and consumers in one process \
         on loopback, in the same run; latency from the start of `push` to the arrival at the \
         last consumer, one event in flight, {} per case; throughput at most {} events in \
         flight; the channels take turns in each of {} rounds.\n\n{cos_section}",
        c.collocated,
        c.pace_us,
        c.across,
        c.pace_us,
        us(quantile(&paced, 0.5)),
        us(quantile(&paced, 0.99)),
        us(quantile(&b2b, 0.5)),
        us(quantile(&b2b, 0.99)),
        rtec::utilization::HIGH_PERIOD.as_millis(),
        rtec::utilization::LOW_PERIOD.as_millis(),
        setup
            .cpu
            .map_or("? (not pinned)".to_owned(), |c| c.to_string()),
        if setup.fifo {
            "granted"
        } else {
            "refused (every thread at normal priority: the lanes cannot preempt)"
        },
        c.util_ms,
        kept(0),
        kept(2),
        c.cos_events,
        comparison::WINDOW,
        c.cos_rounds,
    );
    Ok(Outcome::timings(samples, section))
}

// ---- mshn -----------------------------------------------------------------------------------

/// The MSHN thesis's submission → start latency, the design's figure.
const THESIS_MS: f64 = 132.0;

/// The deployments of `mshn bench` (its `--only` names) and what they are.
const MSHN_CONFIGS: [(&str, &str); 4] = [
    ("a", "(a) one host, every component a process"),
    ("b", "(b) the daemons remote: 2 network namespaces"),
    ("c", "(c) one process"),
    ("d", "(d) SA+RSS+RRD, CL, daemons: 3 network namespaces"),
];

/// The agility series of `mshn bench --csv` and what they are.
const MSHN_AGILITY: [(&str, &str); 5] = [
    (
        "agility_drop",
        "one process: resource-drop alarm → running elsewhere",
    ),
    (
        "agility_dead",
        "one process: dead alarm → running elsewhere",
    ),
    ("detection", "one process: daemon killed → alarm"),
    (
        "ns_agility_dead",
        "3 namespaces: dead alarm → running elsewhere",
    ),
    (
        "ns_detection",
        "3 namespaces: daemon process killed → alarm",
    ),
];

/// `mshn bench`'s jobs per latency row, agility rounds and missed heartbeats before a
/// daemon is declared dead.
fn mshn_counts(quick: bool) -> (usize, usize, u32) {
    if quick {
        // As its own test: a loaded CI machine must not suspect a live daemon.
        (20, 2, 25)
    } else {
        // As the README's tables (ten misses: pinned, one CPU under load, three once let a
        // live daemon be declared dead).
        (1_000, 20, 10)
    }
}

/// The `mshn` executable: `--mshn`, else the one beside this one.
fn mshn_exe(s: &Settings) -> Result<PathBuf, String> {
    let exe = match &s.mshn {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this executable: {e}"))?
            .with_file_name("mshn"),
    };
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!(
            "no mshn executable at {} (build it beside this one: `cargo build --release -p \
             mshn`, or pass --mshn PATH)",
            exe.display()
        ))
    }
}

fn run_mshn(s: &Settings, tick: &mut dyn FnMut()) -> Run {
    let (jobs, rounds, misses) = mshn_counts(s.quick);
    let exe = match mshn_exe(s) {
        Ok(exe) => exe,
        Err(why) => {
            tick();
            return Ok(Outcome::timings(
                Vec::new(),
                format!(
                    "## mshn: MSHN submission → start latency and agility\n\n\
                     **Skipped in this run**: {why}.\n"
                ),
            ));
        }
    };
    let scratch = tempfile::Builder::new()
        .prefix("experiments-mshn-")
        .tempdir()?;
    let csv = scratch.path().join("mshn.csv");
    let args = [
        "bench".to_owned(),
        "--only".into(),
        "a,b,c,d,agility".into(),
        "--jobs".into(),
        jobs.to_string(),
        "--rounds".into(),
        rounds.to_string(),
        "--misses".into(),
        misses.to_string(),
        "--csv".into(),
        csv.display().to_string(),
    ];
    let out = std::process::Command::new(&exe).args(&args).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A section that failed (a job refused on a loaded machine, say) still leaves the samples
    // of the others in the CSV: they are shown, and the failure is said beside them.
    let failed = if out.status.success() {
        String::new()
    } else if csv.is_file() {
        format!(
            "**`mshn bench` failed** ({}), so what it did not reach is missing below:\n\n\
             ```\n{}\n```\n\n",
            out.status,
            stderr.trim()
        )
    } else {
        return Err(format!(
            "{} {} ended with {}:\n{stdout}\n{stderr}",
            exe.display(),
            args.join(" "),
            out.status,
        )
        .into());
    };
    tick();
    // `series,ns` rows, the series in the order they come.
    let mut samples = Vec::new();
    for (n, line) in std::fs::read_to_string(&csv)?.lines().enumerate().skip(1) {
        let (series, ns) = line.split_once(',').ok_or_else(|| {
            format!(
                "{}: line {}: {line:?} is not `series,ns`",
                csv.display(),
                n + 1
            )
        })?;
        let round = samples
            .iter()
            .filter(|x: &&Sample| x.series == series)
            .count();
        samples.push(Sample::new(series, 0.0, round, ns.parse()?));
    }
    let g = Grouped::new(&samples);
    let values_us =
        |series: &str| -> Vec<f64> { g.values(series, 0.0).iter().map(|v| v / 1e3).collect() };
    let mut t = String::from(
        "| configuration | work | jobs | min | p50 | p99 | max | 132 ms ÷ p50 | 132 ms ÷ p99 \
         |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut medians = Vec::new();
    let mut histograms = String::new();
    for (k, (config, label)) in MSHN_CONFIGS.iter().enumerate() {
        let mut series = Vec::new();
        for (work, name) in [("work_zero", "work zero"), ("fork_exec", "fork/exec")] {
            let v = values_us(&format!("{config}_{work}"));
            if v.is_empty() {
                continue;
            }
            let p50 = quantile(&v, 0.5);
            let _ = writeln!(
                t,
                "| {label} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                v.len(),
                ns(quantile(&v, 0.0)),
                ns(p50),
                ns(quantile(&v, 0.99)),
                ns(quantile(&v, 1.0)),
                ratio(THESIS_MS * 1e3 / p50),
                ratio(THESIS_MS * 1e3 / quantile(&v, 0.99)),
            );
            medians.extend(v.iter().map(|&x| Sample::new(name, (k + 1) as f64, 0, x)));
            series.push((name, v));
        }
        if series.is_empty() {
            continue;
        }
        let file = format!("mshn_{config}.svg");
        plot::histogram(
            &s.out.join(&file),
            &format!("MSHN submit → running: {label}"),
            "µs",
            &series,
            40,
        )?;
        let _ = write!(histograms, "![mshn {config}]({file}) ");
    }
    if medians.is_empty() {
        return Err(format!("{} wrote no latency samples", exe.display()).into());
    }
    plot::bars(
        &s.out.join("mshn.svg"),
        "MSHN submit → running, median per configuration",
        "µs",
        &Grouped::new(&medians),
        &["work zero", "fork/exec"],
        |x| format!("({})", MSHN_CONFIGS[x as usize - 1].0),
    )?;
    let mut agility =
        String::from("| | events | min | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n");
    let mut agility_series = Vec::new();
    for (series, label) in MSHN_AGILITY {
        let v = values_us(series);
        if v.is_empty() {
            continue;
        }
        let _ = writeln!(
            agility,
            "| {label} | {} | {} | {} | {} | {} |",
            v.len(),
            ns(quantile(&v, 0.0)),
            ns(quantile(&v, 0.5)),
            ns(quantile(&v, 0.99)),
            ns(quantile(&v, 1.0)),
        );
        agility_series.push((label, v));
    }
    if !agility_series.is_empty() {
        plot::histogram(
            &s.out.join("mshn_agility.svg"),
            "MSHN agility and detection",
            "µs",
            &agility_series,
            30,
        )?;
        let _ = write!(histograms, "![mshn agility](mshn_agility.svg)");
    }
    let skipped: Vec<&str> = stdout.lines().filter(|l| l.contains("skipped")).collect();
    let skips = if skipped.is_empty() {
        String::new()
    } else {
        format!(
            "**Skipped in this run**, as `mshn bench` said:\n\n```\n{}\n```\n\n",
            skipped.join("\n")
        )
    };
    let section = format!(
        "## mshn: MSHN submission → start latency and agility\n\n\
         {failed}{skips}`mshn bench --only a,b,c,d,agility --jobs {jobs} --rounds {rounds} --misses \
         {misses}` (examples/mshn, run as a child process writing its raw samples with \
         `--csv`): submit → running as the CL measures it, one job in flight, over the \
         thesis's seven-event path, in the thesis's four configurations; *work zero* runs \
         nothing (the thesis's measurement), *fork/exec* runs `true`. µs; the ratio is the \
         thesis's 132 ms over ours:\n\n{t}\n![mshn](mshn.svg)\n\nHistograms per configuration \
         (log x):\n\n{histograms}\n\n**Agility and detection** (jobs `sleep 0.3`; {rounds} \
         rounds; a daemon is dead after {} missed heartbeats of 20 ms in the namespaces, 3 in \
         one process), µs:\n\n{agility}",
        misses
    );
    Ok(Outcome::timings(samples, section))
}
