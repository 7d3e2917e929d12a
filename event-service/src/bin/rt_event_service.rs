//! The real-time event service daemon: one [`RtecChannel`] (TAO's `RtecEventChannelAdmin`) on
//! `corbaloc::HOST:PORT/RtEventChannel`, optionally bound in a naming service. TAO's `-EC…`
//! options and the ORB's `-ORB…` options may follow the flags, in any order.
//! `event-service/RTEC.md` ("Daemon") has the command line and an example session.
//!
//! The channel is in a persistent POA: restarted on the same endpoint (a fixed `--port` or
//! `--endpoint`), the daemon answers the IOR it gave out before. Its proxies die with the
//! process; clients connect again (`event_service::rtec::RtecReconnectingPushSupplier`,
//! `RtecReconnectingPushConsumer`).

use clap::Parser;
use event_service::daemon_support::{self, DaemonError, ServeArgs};
use event_service::rtec::{RtecChannel, RtecOptions, RtecStats};
use orb::Orb;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const NAME: &str = "rt-event-service";

/// The key `corbaloc::HOST:PORT/…` reaches the channel by.
const WELL_KNOWN_KEY: &str = "RtEventChannel";

#[derive(Parser, Debug)]
#[command(
    name = "rt-event-service",
    about = "TAO's real-time event service: one RtecEventChannelAdmin::EventChannel",
    after_help = "Options after the flags: TAO's -EC… (event-service/RTEC.md tables them) \
                  and the ORB's -ORB…, e.g. `-ECDispatching mt -ORBthreadPoolSize 8`."
)]
struct Args {
    /// TCP port to listen on, on 127.0.0.1 (0: one the system picks, named on the
    /// "listening on" line); ignored with --endpoint.
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[command(flatten)]
    serve: ServeArgs,
    /// Every SECONDS (decimals allowed), print each consumer's queue depth and drops on stderr.
    #[arg(long, value_name = "SECONDS", value_parser = parse_period)]
    stats: Option<Duration>,
    /// `-EC…` options for the channel and `-ORB…` options for the ORB, each with its value.
    #[arg(
        allow_hyphen_values = true,
        trailing_var_arg = true,
        value_name = "-EC…|-ORB… VALUE"
    )]
    rest: Vec<String>,
}

/// A positive number of seconds, at most a day: a report period.
fn parse_period(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(secs) if (0.001..=86_400.0).contains(&secs) => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0.001 and 86400 (e.g. 5 or 0.5)"
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Splits what follows the flags into `-EC…` and `-ORB…` options: each option takes the
/// words after it up to the next word that starts with `-`, so values stay with their option
/// and either kind may come first.
fn split_options(rest: &[String]) -> Result<(Vec<String>, Vec<String>), DaemonError> {
    let (mut ec, mut orb) = (Vec::new(), Vec::new());
    // Whose values the plain words are: none yet, the channel's or the ORB's.
    let mut in_ec = None;
    for word in rest {
        if word.to_ascii_lowercase().starts_with("-ec") {
            in_ec = Some(true);
        } else if word.starts_with("-ORB") {
            in_ec = Some(false);
        } else if word.starts_with('-') {
            return Err(DaemonError::Usage(format!(
                "unknown option {word:?}: after the flags only -EC… (channel) and -ORB… (ORB) \
                 options may come; try --help"
            )));
        }
        match in_ec {
            Some(true) => ec.push(word.clone()),
            Some(false) => orb.push(word.clone()),
            None => {
                return Err(DaemonError::Usage(format!(
                    "unexpected argument {word:?}: the daemon takes no positional arguments; \
                     try --help"
                )))
            }
        }
    }
    Ok((ec, orb))
}

fn run(args: Args) -> Result<(), DaemonError> {
    let (ec_args, orb_args) = split_options(&args.rest)?;
    let mut rtec_options = RtecOptions {
        // The IOR printed, written and bound stays valid across restarts on the endpoint.
        persistent: true,
        ..RtecOptions::default()
    };
    rtec_options.parse_args(&ec_args).map_err(|e| {
        DaemonError::Usage(format!(
            "{e} (event-service/RTEC.md tables the -EC options and their values)"
        ))
    })?;
    let options = daemon_support::orb_options(
        daemon_support::THREAD_PER_CONNECTION,
        args.port,
        &args.serve.endpoint,
        &orb_args,
    )?;
    let orb = Orb::init(options)?;
    let channel = Arc::new(
        RtecChannel::start(&orb, rtec_options)
            .map_err(|e| DaemonError::Failed(format!("cannot start the channel: {e}")))?,
    );
    channel.register_well_known(WELL_KNOWN_KEY)?;
    let endpoints = orb.listen()?;
    if let (Some(url), Some(name)) = (&args.serve.name_service, &args.serve.name) {
        daemon_support::bind(&orb, url, name, channel.object())?;
    }
    let ior = orb.object_to_string(channel.object())?;
    daemon_support::publish_ior(&ior, args.serve.ior_file.as_deref())?;
    eprintln!(
        "{NAME}: listening on {}",
        endpoints
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(period) = args.stats {
        let channel = channel.clone();
        std::thread::Builder::new()
            .name("rt-stats".into())
            .spawn(move || report_stats(&channel, period))
            .map_err(|e| DaemonError::Failed(format!("cannot start the stats thread: {e}")))?;
    }
    orb.run()?;
    Ok(())
}

/// Every `period`, one report on stderr until the channel is destroyed.
fn report_stats(channel: &RtecChannel, period: Duration) {
    while !channel.is_destroyed() {
        std::thread::sleep(period);
        // One write for the whole report, so that its lines stay together.
        let _ = std::io::stderr().write_all(stats_report(&channel.stats()).as_bytes());
    }
}

/// A summary line, then a line per consumer in connection order:
///
/// ```text
/// rt-event-service: stats: suppliers 1 consumers 2 pushed 30 unsubscribed 0 dropped 0 reaped 0
/// rt-event-service: stats: consumer 1 proxy 3 lane 0 queued 0 dropped 0 delivered 10
/// ```
fn stats_report(s: &RtecStats) -> String {
    let mut out = format!(
        "{NAME}: stats: suppliers {} consumers {} pushed {} unsubscribed {} dropped {} reaped {}\n",
        s.suppliers,
        s.consumers.len(),
        s.pushed,
        s.unsubscribed,
        s.dropped,
        s.reaped
    );
    for (i, c) in s.consumers.iter().enumerate() {
        let _ = writeln!(
            out,
            "{NAME}: stats: consumer {} proxy {} lane {} queued {} dropped {} delivered {}{}",
            i + 1,
            c.proxy,
            c.lane,
            c.queued,
            c.dropped,
            c.delivered,
            if c.suspended { " suspended" } else { "" }
        );
    }
    out
}
