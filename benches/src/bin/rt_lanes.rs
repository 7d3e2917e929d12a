//! RT-CORBA lanes under load: a high-priority client's round trips while one core is hogged by
//! a busy loop and a low-priority client floods the server with CPU-bound requests, with
//! thread-pool lanes (and banded connections) — reading their own connections, and handing
//! requests over from a reader per connection — against a single pool and against a thread
//! per connection, beside the same client's unloaded round trips.
//!
//! ```sh
//! cargo run --release -p rtorb-benches --bin rt_lanes -- [--calls N] [--rounds R]
//! ```
//!
//! Every part runs in a process of its own (this executable again, by role): the server, the
//! hog (a busy loop on core 1), the flood (low-priority threads, priority 0, each on a
//! connection of its own, calling `spin` back to back) and the probe (one thread at priority
//! 30000 calling `ping`, with a pause of 100 µs between calls). Pinned, the server, flood and
//! probe share core 1 with the hog (`taskset -c 1`); unpinned, only the hog is pinned. Every
//! case runs with the ORB's default native priority mapping (`fifo`: `SCHED_FIFO` where the
//! process may, see `orb::rt::mapping`) and without one (`off`), for every process of the
//! case. Each row's figures are the medians over rounds.

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::rt::RtCurrent;
use orb::servant::Servant;
use orb::{ObjectRef, Orb};
use std::any::Any;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOW: i16 = 0;
const HIGH: i16 = 30000;
const FLOOD_THREADS: usize = 4;
/// Iterations of the flood's CPU-bound request (on the order of 100 µs here).
const SPIN: u32 = 200_000;
const BANDS: &str = "0-19999,20000-32767";

struct Work;

impl Servant for Work {
    fn repository_id(&self) -> &'static str {
        "IDL:Bench/Work:1.0"
    }
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id()
    }
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "spin" => {
                let n = args.read_ulong()?;
                let mut x = 0x9e37_79b9_u32;
                for i in 0..n {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                reply.write_ulong(x);
            }
            "ping" => reply.write_ulong(args.read_ulong()?),
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(DispatchStatus::NoException)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn call(obj: &ObjectRef, op: &str, v: u32) -> Result<u32, SystemException> {
    obj.invoke(op, &|e: &mut Encoder| -> Result<(), EncodeError> {
        e.write_ulong(v);
        Ok(())
    })?
    .normal_result(|d| d.read_ulong())
}

fn orb_with(args: &[String]) -> Result<Orb, String> {
    let (orb, _) = Orb::init_from_args(args.iter().cloned()).map_err(|e| e.to_string())?;
    Ok(orb)
}

/// `serve ORB-ARGS...`: prints the reference, serves until its standard input closes.
fn serve(args: &[String]) -> Result<(), String> {
    let orb = orb_with(args)?;
    let obj = orb
        .activate(&orb.root_poa(), Arc::new(Work))
        .map_err(|e| e.to_string())?;
    println!("{}", obj.to_ior_string().map_err(|e| e.to_string())?);
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    orb.shutdown(true);
    Ok(())
}

/// `hog`: a busy loop until killed.
fn hog() -> ! {
    let mut x = 1u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// `flood IOR`: low-priority threads calling `spin` back to back until killed.
fn flood(ior: &str) -> Result<(), String> {
    let orb = orb_with(&[])?;
    let obj = orb.string_to_object(ior).map_err(|e| e.to_string())?;
    let threads: Vec<_> = (0..FLOOD_THREADS)
        .map(|_| {
            let obj = obj.clone();
            std::thread::spawn(move || {
                // A connection each: a pool serves one connection's requests one at a time.
                orb::use_idle_connections(true);
                let _ = RtCurrent::set_the_priority(LOW);
                while call(&obj, "spin", SPIN).is_ok() {}
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// `probe IOR CALLS`: prints the round trips (ns) of `CALLS` pings at priority HIGH.
fn probe(ior: &str, calls: usize) -> Result<(), String> {
    let orb = orb_with(&["-ORBpriorityBands".into(), BANDS.into()])?;
    let obj = orb.string_to_object(ior).map_err(|e| e.to_string())?;
    RtCurrent::set_the_priority(HIGH).map_err(|e| e.to_string())?;
    for i in 0..200 {
        call(&obj, "ping", i).map_err(|e| e.to_string())?;
    }
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        std::thread::sleep(Duration::from_micros(100));
        let t = Instant::now();
        call(&obj, "ping", i as u32).map_err(|e| e.to_string())?;
        samples.push(t.elapsed().as_nanos() as u64);
    }
    let text: Vec<String> = samples.iter().map(u64::to_string).collect();
    println!("{}", text.join(" "));
    Ok(())
}

/// Where a run's processes go, and the native priority mapping they use.
#[derive(Clone, Copy)]
struct Setup {
    /// Everything on core 1 (the hog always is).
    pinned: bool,
    /// `-ORBpriorityMapping` of every process, through the `ORBpriorityMapping` variable.
    mapping: &'static str,
}

/// This executable in role `role`, pinned to core 1 if `setup.pinned`.
fn role(setup: Setup, role: &str, args: &[&str]) -> Command {
    let me = std::env::current_exe().expect("the running executable");
    let mut c = if setup.pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(me);
        c
    } else {
        Command::new(me)
    };
    c.arg(role)
        .args(args)
        .env("ORBpriorityMapping", setup.mapping);
    c
}

/// Kills and reaps a child started here.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

struct Server {
    child: Child,
    ior: String,
}

fn start_server(setup: Setup, orb_args: &[&str]) -> Result<Server, String> {
    let mut child = role(setup, "serve", orb_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the server: {e}"))?;
    let mut line = String::new();
    let out = child.stdout.take().expect("piped");
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| format!("reading the server's reference: {e}"))?;
    if !line.starts_with("IOR:") {
        stop(child);
        return Err(format!("the server printed {line:?}, not a reference"));
    }
    Ok(Server {
        child,
        ior: line.trim().to_owned(),
    })
}

impl Server {
    fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The probe's round trips against a server of `orb_args`, with the hog and flood if `load`.
fn measure(setup: Setup, orb_args: &[&str], load: bool, calls: usize) -> Result<Vec<u64>, String> {
    let server = start_server(setup, orb_args)?;
    let mut helpers = Vec::new();
    if load {
        // The hog is on core 1 whether or not the rest is.
        helpers.push(
            role(
                Setup {
                    pinned: true,
                    ..setup
                },
                "hog",
                &[],
            )
            .spawn()
            .map_err(|e| format!("starting the hog: {e}"))?,
        );
        helpers.push(
            role(setup, "flood", &[&server.ior])
                .spawn()
                .map_err(|e| format!("starting the flood: {e}"))?,
        );
        // Let the flood reach the server before measuring.
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = role(setup, "probe", &[&server.ior, &calls.to_string()])
        .output()
        .map_err(|e| format!("running the probe: {e}"));
    for h in helpers {
        stop(h);
    }
    server.stop();
    let out = out?;
    if !out.status.success() {
        return Err(format!(
            "the probe failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut samples: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    samples.sort_unstable();
    Ok(samples)
}

fn quantile(sorted: &[u64], q: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Lanes reading their own connections: the probe's banded connection goes to the high
/// lane's endpoint, whose thread runs each request as it reads it.
const LANES: &[&str] = &["-ORBlanes", "0:2,20000:1"];
/// The same lanes without endpoints of their own: a thread per connection reads each
/// request and hands it to its lane's queue and threads.
const LANES_HANDOFF: &[&str] = &["-ORBlanes", "0:2,20000:1", "-ORBlaneEndpoints", "0"];
const POOL: &[&str] = &["-ORBthreadStrategy", "pool", "-ORBthreadPoolSize", "3"];
const PER_CONNECTION: &[&str] = &["-ORBthreadStrategy", "connection"];

/// The servers and loads measured, in order: (server args, under load, row name, index of
/// the same server's unloaded row).
const CASES: &[(&[&str], bool, &str, Option<usize>)] = &[
    (
        LANES,
        false,
        "lanes 0:2,20000:1, bands, own endpoints",
        Some(0),
    ),
    (
        LANES,
        true,
        "lanes 0:2,20000:1, bands, own endpoints",
        Some(0),
    ),
    (
        LANES_HANDOFF,
        false,
        "lanes 0:2,20000:1, bands, hand-off",
        Some(2),
    ),
    (
        LANES_HANDOFF,
        true,
        "lanes 0:2,20000:1, bands, hand-off",
        Some(2),
    ),
    (POOL, true, "pool of 3", None),
    (PER_CONNECTION, true, "thread per connection", Some(6)),
    (PER_CONNECTION, false, "thread per connection", Some(6)),
];

/// The row of thread per connection, unloaded: what every median is compared with.
const PER_CONNECTION_UNLOADED: usize = 6;

fn run(calls: usize, rounds: usize) -> Result<(), String> {
    println!(
        "| mapping | placement | server | load | p50 (µs) | p99 (µs) | p99/p50 | p50 / same server unloaded | p50 / thread per connection unloaded |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (mapping, pinned) in [
        ("fifo", true),
        ("fifo", false),
        ("off", true),
        ("off", false),
    ] {
        let setup = Setup { pinned, mapping };
        let place = if pinned {
            "pinned (core 1)"
        } else {
            "unpinned"
        };
        // Per round, per case: (p50, p99).
        let mut figures: Vec<Vec<(f64, f64)>> = Vec::new();
        for _ in 0..rounds {
            let mut round = Vec::new();
            for (args, load, _, _) in CASES {
                let s = measure(setup, args, *load, calls)?;
                round.push((quantile(&s, 0.5) as f64, quantile(&s, 0.99) as f64));
            }
            figures.push(round);
        }
        for (i, (_, load, server, unloaded)) in CASES.iter().enumerate() {
            let load = if *load { "hog + flood" } else { "none" };
            let p50 = median(figures.iter().map(|r| r[i].0).collect());
            let p99 = median(figures.iter().map(|r| r[i].1).collect());
            let spread = median(figures.iter().map(|r| r[i].1 / r[i].0).collect());
            let vs_unloaded = match unloaded {
                Some(u) => format!(
                    "{:.2}",
                    median(figures.iter().map(|r| r[i].0 / r[*u].0).collect())
                ),
                None => "—".to_owned(),
            };
            let vs_tpc = median(
                figures
                    .iter()
                    .map(|r| r[i].0 / r[PER_CONNECTION_UNLOADED].0)
                    .collect(),
            );
            println!(
                "| {mapping} | {place} | {server} | {load} | {:.1} | {:.1} | {spread:.2} | {vs_unloaded} | {vs_tpc:.2} |",
                p50 / 1e3,
                p99 / 1e3
            );
        }
    }
    println!(
        "\n{calls} calls per row and round, {rounds} rounds (medians over rounds); flood: \
         {FLOOD_THREADS} threads at priority {LOW}, spin({SPIN}), on the server's own address; \
         probe at priority {HIGH}, bands {BANDS}."
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("hog") => hog(),
        Some("flood") if args.len() == 2 => flood(&args[1]),
        Some("probe") if args.len() == 3 => match args[2].parse() {
            Ok(n) => probe(&args[1], n),
            Err(_) => Err(format!("probe: {:?} is not a count of calls", args[2])),
        },
        _ => {
            let mut calls = 2000;
            let mut rounds = 3;
            let mut it = args.iter();
            let mut bad = None;
            while let Some(a) = it.next() {
                let v = it
                    .next()
                    .and_then(|v| v.parse::<usize>().ok())
                    .filter(|v| *v > 0);
                match (a.as_str(), v) {
                    ("--calls", Some(v)) => calls = v,
                    ("--rounds", Some(v)) => rounds = v,
                    _ => bad = Some(a.clone()),
                }
            }
            match bad {
                Some(a) => Err(format!(
                    "unexpected argument {a:?}: rt_lanes [--calls N] [--rounds R] (both \
                     positive counts)"
                )),
                None => run(calls, rounds),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rt_lanes: {e}");
            ExitCode::FAILURE
        }
    }
}
