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
use event_service::comparison::{
    client_orb, rerun_in_private_netns, start_omnievents, start_ours, Channel, Error, OmniEvents,
    WINDOW,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    #[command(flatten)]
    omnievents: OmniEvents,
}

/// Set in the copy of the bench that runs inside the private network namespace.
const IN_NETNS: &str = "RTORB_EV_BENCH_IN_NETNS";

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if std::env::var_os(IN_NETNS).is_some() {
        run(&args)
    } else {
        rerun_in_private_netns(IN_NETNS)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ev_bench: {e}");
            ExitCode::FAILURE
        }
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
    let omni = start_omnievents(&args.omnievents, scratch.path(), &orb)?;
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
