//! Our event channel beside omniEvents', in one run: event latency from a push supplier to 1
//! and to 4 push consumers (median and p99 over single events, one in flight at a time), and
//! the throughput of a supplier pushing to one consumer.
//!
//! ```sh
//! cargo build --release -p event-service --bins
//! target/release/ev_bench          # defaults: 4,000 events per latency case, 40,000 for throughput
//! ```
//!
//! Each channel is a process of its own: our `event-service` daemon, and a channel `eventc`
//! makes in `omniEvents`. The supplier and the consumers are in this process, on one ORB,
//! talking to both channels over loopback TCP. omniEvents listens on every interface (its
//! `-p PORT` makes the endpoint `giop:::PORT`, and an `-ORBendPoint` beside it clashes with
//! that), so the bench runs itself again in a network namespace of its own (`unshare --net
//! --map-root-user`) whose only interface is loopback, with both channels and everything
//! they talk to: nothing listens on any other address.
//!
//! Measurements alternate between the channels in rounds so that drift in the machine's load
//! falls on both alike. Ratios are ours ÷ omniEvents: below 1 is faster for latency, above 1 is
//! more for throughput.

use clap::Parser;
use event_service::cos_event_channel_admin::{
    ConsumerAdmin, EventChannel as _, EventChannelRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, SupplierAdmin,
};
use event_service::cos_event_comm::{
    push_consumer, PushConsumer, PushConsumerRef, PushSupplierRef,
};
use orb::exception::SystemException;
use orb::typecode::Any;
use orb::{Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "ev_bench", about = "Our event channel beside omniEvents'")]
struct Args {
    /// Events timed per channel in each latency case (after a tenth as many to warm up).
    #[arg(long, default_value_t = 4_000)]
    events: usize,
    /// Events per channel pushed for throughput (split over the rounds).
    #[arg(long, default_value_t = 40_000)]
    burst: usize,
    /// Rounds each measurement is split into, alternating the channels (each first in turn).
    #[arg(long, default_value_t = 6)]
    rounds: usize,
    /// Our `event-service` binary (by default the one beside this one).
    #[arg(long)]
    event_service: Option<PathBuf>,
    /// omniEvents.
    #[arg(long, default_value = "omniEvents")]
    omnievents: String,
    /// omniEvents' eventc, which makes its channel.
    #[arg(long, default_value = "eventc")]
    eventc: String,
    /// The omniEvents channel's CyclePeriod_ns (`eventc -c`): how long its proxies sleep
    /// between passes over their queues. With omniEvents' own default, 100 ms, that sleep is
    /// nearly all of every event's latency (a median of ~84 ms); 10 µs is about as well as it
    /// does. 0 keeps its default.
    #[arg(long, default_value_t = 10_000)]
    omnievents_cycle_ns: u64,
}

/// Set in the copy of the bench that runs inside the private network namespace.
const IN_NETNS: &str = "RTORB_EV_BENCH_IN_NETNS";

/// Events allowed in flight in the throughput measurement: below both channels' default
/// queue length per consumer (1024 ours, 1023 omniEvents'), which drop the oldest event
/// when full; a supplier running further ahead would measure the drops, not the delivery.
const WINDOW: u64 = 512;

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if std::env::var_os(IN_NETNS).is_some() {
        run(&args)
    } else {
        rerun_in_private_netns()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ev_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

/// Runs this bench again, with the same arguments, in a network namespace of its own whose
/// loopback is brought up; its output is this one's.
fn rerun_in_private_netns() -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let status = Command::new("unshare")
        .args(["--net", "--map-root-user", "--", "sh", "-c"])
        .arg(r#"ip link set lo up && exec "$0" "$@""#)
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(IN_NETNS, "1")
        .status()
        .map_err(|e| format!("cannot run unshare (util-linux): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the bench in its own network namespace ended with {status} (it needs \
             `unshare --net --map-root-user` and `ip` from iproute2)"
        )
        .into())
    }
}

/// A process, killed when dropped.
struct Proc {
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Our daemon on a free port; returns once it printed its channel's IOR.
fn start_ours(bin: &Path) -> Result<(Proc, String), Error> {
    let port = free_port()?;
    let mut child = Command::new(bin)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let proc = Proc { child };
    if !line.starts_with("IOR:") {
        return Err(format!("{} did not start: {line:?}", bin.display()).into());
    }
    Ok((proc, line.trim().to_owned()))
}

/// omniEvents on a free port in the foreground, its files in `scratch`, and a channel made in
/// it by eventc (which binds it in a naming service: ours, in this process, for the while).
fn start_omnievents(args: &Args, scratch: &Path, orb: &Orb) -> Result<(Proc, String), Error> {
    let port = free_port()?;
    let data = scratch.join("omnievents-data");
    std::fs::create_dir_all(&data)?;
    let config = scratch.join("omniORB.cfg");
    // An empty configuration, so that no /etc/omniORB.cfg changes what omniORB does.
    std::fs::write(&config, "")?;
    let child = Command::new(&args.omnievents)
        .args(["-f", "-p", &port.to_string(), "-l"])
        .arg(&data)
        .arg("-t")
        .arg(scratch.join("omnievents-trace"))
        .env("OMNIORB_CONFIG", &config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", args.omnievents))?;
    let mut proc = Proc { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = proc.child.try_wait()? {
            return Err(format!("{} exited with {status}", args.omnievents).into());
        }
        if Instant::now() > deadline {
            return Err(format!("{} does not listen on port {port}", args.omnievents).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ns_port = free_port()?;
    let (_root, _naming) = naming_service::connect_or_start(orb, ns_port, None)?;
    let out = Command::new(&args.eventc)
        .args(["-v", "-n", "ev_bench"])
        .args(match args.omnievents_cycle_ns {
            0 => vec![],
            ns => vec!["-c".to_owned(), ns.to_string()],
        })
        .args([
            "-ORBInitRef",
            &format!("NameService=corbaloc::127.0.0.1:{ns_port}/NameService"),
        ])
        .arg(format!("corbaloc::127.0.0.1:{port}/omniEvents"))
        .env("OMNIORB_CONFIG", &config)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", args.eventc))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ior = stdout
        .lines()
        .find(|l| l.starts_with("IOR:"))
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            format!(
                "{} did not make a channel ({}): {stdout}{}",
                args.eventc,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    Ok((proc, ior.to_owned()))
}

/// What the consumers of one channel have been pushed: every consumer's `push` records here
/// the arrival of the event numbered in its `any`.
#[derive(Default)]
struct Board {
    state: Mutex<Arrivals>,
    changed: Condvar,
}

#[derive(Default)]
struct Arrivals {
    /// Events pushed to any of the consumers, all told.
    received: u64,
    /// The latest event's number, how many consumers had it, and when the last of them did.
    seq: i32,
    copies: usize,
    at: Option<Instant>,
}

impl Board {
    /// Waits until `done` holds; an error naming `what` if nothing arrives for 20 s.
    fn wait(&self, what: &str, mut done: impl FnMut(&Arrivals) -> bool) -> Result<Arrivals, Error> {
        let mut state = self.state.lock().map_err(|_| "a consumer panicked")?;
        while !done(&state) {
            let before = state.received;
            let (next, timeout) = self
                .changed
                .wait_timeout(state, Duration::from_secs(20))
                .map_err(|_| "a consumer panicked")?;
            state = next;
            if timeout.timed_out() && state.received == before {
                return Err(format!("no event arrived for 20 s, waiting for {what}").into());
            }
        }
        Ok(Arrivals {
            received: state.received,
            seq: state.seq,
            copies: state.copies,
            at: state.at,
        })
    }
}

#[derive(Clone)]
struct Consumer(Arc<Board>);

impl PushConsumer for Consumer {
    fn push(&self, data: &Any) -> Result<(), push_consumer::PushError> {
        let now = Instant::now();
        let seq = data.as_i32().unwrap_or(-1);
        if let Ok(mut s) = self.0.state.lock() {
            s.received += 1;
            if s.seq == seq {
                s.copies += 1;
            } else {
                s.seq = seq;
                s.copies = 1;
            }
            s.at = Some(now);
        }
        self.0.changed.notify_all();
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

/// One channel as the bench sees it: its supplier proxy and the consumers connected so far.
struct Channel {
    label: &'static str,
    reference: EventChannelRef,
    supplier: ProxyPushConsumerRef,
    board: Arc<Board>,
    consumers: usize,
    next_seq: i32,
    _process: Proc,
}

impl Channel {
    fn connect(
        orb: &Orb,
        label: &'static str,
        (process, ior): (Proc, String),
    ) -> Result<Channel, Error> {
        let reference = EventChannelRef::unchecked_narrow(orb.string_to_object(&ior)?);
        let supplier = reference.for_suppliers()?.obtain_push_consumer()?;
        supplier.connect_push_supplier(&PushSupplierRef::nil())?;
        let mut channel = Channel {
            label,
            reference,
            supplier,
            board: Arc::default(),
            consumers: 0,
            next_seq: 1,
            _process: process,
        };
        channel.add_consumers(orb, 1)?;
        Ok(channel)
    }

    fn add_consumers(&mut self, orb: &Orb, n: usize) -> Result<(), Error> {
        let admin = self.reference.for_consumers()?;
        for _ in 0..n {
            let obj = orb.activate(
                &orb.root_poa(),
                Arc::new(push_consumer::Tie::new(Consumer(self.board.clone()))),
            )?;
            admin
                .obtain_push_supplier()?
                .connect_push_consumer(&PushConsumerRef::unchecked_narrow(obj))?;
            self.consumers += 1;
        }
        Ok(())
    }

    /// `n` events one at a time, each timed from the start of `push` to its arrival at the
    /// last of the consumers.
    fn latencies(&mut self, n: usize, out: &mut Vec<Duration>) -> Result<(), Error> {
        for _ in 0..n {
            let seq = self.next_seq;
            self.next_seq += 1;
            let event = Any::from(seq);
            let t = Instant::now();
            self.supplier.push(&event)?;
            let consumers = self.consumers;
            let done = self.board.wait(&format!("event {seq}"), |s| {
                s.seq == seq && s.copies == consumers
            })?;
            out.push(done.at.ok_or("an arrival without a time")? - t);
        }
        Ok(())
    }

    /// `n` events pushed back to back (at most [`WINDOW`] ahead of the consumer): the time
    /// from the first push to the last arrival.
    fn burst(&mut self, n: usize) -> Result<Duration, Error> {
        let start = self
            .board
            .state
            .lock()
            .map_err(|_| "a consumer panicked")?
            .received;
        let t = Instant::now();
        for sent in 1..=n as u64 {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.supplier.push(&Any::from(seq))?;
            if sent >= WINDOW {
                self.board.wait("the consumer to catch up", |s| {
                    s.received - start > sent - WINDOW
                })?;
            }
        }
        let done = self
            .board
            .wait(&format!("{n} events"), |s| s.received - start >= n as u64)?;
        Ok(done.at.ok_or("an arrival without a time")? - t)
    }
}

/// The channels' order in round `round`: each goes first in turn.
fn rotated(round: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |i| (i + round) % n)
}

struct Latency {
    median: Duration,
    p99: Duration,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    Latency {
        median: at(50),
        p99: at(99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// One ORB for the supplier and every consumer, serving the consumers on loopback.
fn client_orb() -> Result<Orb, Error> {
    let mut options = OrbOptions::default();
    let rest = options.parse_args([
        "-ORBendPoint".into(),
        "giop:tcp:127.0.0.1:0".into(),
        "-ORBthreadPoolSize".into(),
        "16".into(),
    ])?;
    if !rest.is_empty() {
        return Err(format!("ORB options left over: {rest:?}").into());
    }
    Ok(Orb::init(options)?)
}

fn latency_case(channels: &mut [Channel], args: &Args) -> Result<Vec<Latency>, Error> {
    let per_round = args.events.div_ceil(args.rounds);
    for c in channels.iter_mut() {
        c.latencies(args.events.div_ceil(10), &mut Vec::new())?;
    }
    let mut samples: Vec<Vec<Duration>> = channels.iter().map(|_| Vec::new()).collect();
    for round in 0..args.rounds {
        for i in rotated(round, channels.len()) {
            channels[i].latencies(per_round, &mut samples[i])?;
        }
    }
    Ok(samples.into_iter().map(latency).collect())
}

fn run(args: &Args) -> Result<(), Error> {
    if args.events == 0 || args.burst == 0 || args.rounds == 0 {
        return Err("--events, --burst and --rounds must be at least 1".into());
    }
    let bin = match &args.event_service {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("cannot find the directory of ev_bench")?
            .join("event-service"),
    };
    let scratch = tempfile::Builder::new().prefix("ev_bench-").tempdir()?;
    let orb = client_orb()?;
    let ours = start_ours(&bin)?;
    let omni = start_omnievents(args, scratch.path(), &orb)?;
    let mut channels = [
        Channel::connect(&orb, "ours", ours)?,
        Channel::connect(&orb, "omniEvents", omni)?,
    ];

    let one = latency_case(&mut channels, args)?;

    let per_round = args.burst.div_ceil(args.rounds);
    for c in channels.iter_mut() {
        c.burst(per_round.div_ceil(10))?;
    }
    let mut total = [Duration::ZERO; 2];
    for round in 0..args.rounds {
        for i in rotated(round, channels.len()) {
            total[i] += channels[i].burst(per_round)?;
        }
    }
    let rates: Vec<f64> = total
        .iter()
        .map(|t| (per_round * args.rounds) as f64 / t.as_secs_f64())
        .collect();

    for c in channels.iter_mut() {
        c.add_consumers(&orb, 3)?;
    }
    let four = latency_case(&mut channels, args)?;

    println!(
        "event channel vs omniEvents: {} events per latency case, {} for throughput, {} rounds",
        args.events, args.burst, args.rounds
    );
    for (title, lat) in [
        ("push latency, 1 consumer:", &one),
        ("push latency, 4 consumers (to the last of them):", &four),
    ] {
        println!();
        println!("{title}");
        for (c, l) in channels.iter().zip(lat) {
            let vs = if c.label == "omniEvents" {
                String::new()
            } else {
                format!(
                    "   ÷ omniEvents: median {:.3}, p99 {:.3}",
                    l.median.as_secs_f64() / lat[1].median.as_secs_f64(),
                    l.p99.as_secs_f64() / lat[1].p99.as_secs_f64()
                )
            };
            println!(
                "  {:<11} median {:>9}  p99 {:>9}{vs}",
                c.label,
                us(l.median),
                us(l.p99)
            );
        }
    }
    println!();
    println!("throughput, 1 supplier to 1 consumer (at most {WINDOW} events in flight):");
    for (c, rate) in channels.iter().zip(&rates) {
        let vs = if c.label == "omniEvents" {
            String::new()
        } else {
            format!("   ÷ omniEvents: {:.2}", rate / rates[1])
        };
        println!("  {:<11} {:>9.0} events/s{vs}", c.label, rate);
    }
    // The channels are not destroyed, only their processes killed: omniEvents' `destroy` now
    // and then never replied (seen once in six runs), and the bench is not about it.
    drop(channels);
    orb.shutdown(true);
    Ok(())
}
