//! The event service daemon: one untyped COS event channel on
//! `corbaloc::HOST:PORT/EventChannel`, optionally bound in a naming service. ORB options
//! (`-ORB...`, omniORB's spelling) may follow the flags.
//!
//! The channel is in a persistent POA: restarted on the same endpoint (a fixed `--port` or
//! `--endpoint`), the daemon answers the IOR it gave out before, for the channel and its
//! admins. Its proxies and the events queued in them are in memory only: they die with the
//! process, and clients connect again (`event_service::ReconnectingPushSupplier`,
//! `ReconnectingPushConsumer`).

use clap::Parser;
use event_service::{ChannelOptions, EventChannel, PullMode};
use naming_service::cos_naming::{Name, NameComponent, NamingContext, NamingContextExtRef};
use naming_service::daemon;
use orb::{Orb, OrbOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "event-service",
    about = "COS event service: one untyped event channel"
)]
struct Args {
    /// TCP port to listen on (on 127.0.0.1 unless --endpoint says otherwise); 11169 is
    /// omniEvents' default too.
    #[arg(long, default_value_t = 11169)]
    port: u16,
    /// Listen on this endpoint instead (`giop:tcp:HOST:PORT`, `giop:unix:PATH`); repeatable.
    #[arg(long)]
    endpoint: Vec<String>,
    /// Write the channel's IOR to this file once serving.
    #[arg(long)]
    ior_file: Option<PathBuf>,
    /// Bind the channel in the naming service at this URL (`corbaloc::HOST:PORT/NameService`,
    /// an IOR, ...) under --name.
    #[arg(long, requires = "name")]
    name_service: Option<String>,
    /// The name to bind the channel under (`a/b.kind`; contexts on the way must exist).
    #[arg(long, requires = "name_service")]
    name: Option<String>,
    /// Events held for each consumer; when full, its oldest event is dropped.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    queue_length: u32,
    /// How the channel gets events from pull suppliers.
    #[arg(long, value_enum, default_value_t = Mode::TryPull)]
    pull_mode: Mode,
    /// Milliseconds between two `try_pull`s of a pull supplier that had nothing.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pull_interval_ms: u64,
    /// Failures in a row (OBJECT_NOT_EXIST, COMM_FAILURE, TRANSIENT) after which a consumer
    /// or pull supplier is disconnected.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    max_failures: u32,
    /// ORB options, e.g. `-ORBthreadPoolSize 64`.
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    orb_args: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Mode {
    TryPull,
    Pull,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("event-service: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut options = OrbOptions::from_env()?;
    let mut orb_args = Vec::new();
    if std::env::var_os("ORBthreadStrategy").is_none() {
        // A consumer's `pull` holds a server thread until an event comes: a pool with room
        // for many of them, unless told otherwise.
        orb_args.extend([
            "-ORBthreadStrategy".into(),
            "pool".into(),
            "-ORBthreadPoolSize".into(),
            "64".into(),
        ]);
    }
    if args.endpoint.is_empty() {
        orb_args.extend([
            "-ORBendPoint".into(),
            format!("giop:tcp:127.0.0.1:{}", args.port),
        ]);
    }
    for e in &args.endpoint {
        orb_args.extend(["-ORBendPoint".into(), e.clone()]);
    }
    orb_args.extend(args.orb_args.iter().cloned());
    let rest = options.parse_args(orb_args)?;
    if let Some(extra) = rest.first() {
        return Err(format!("unexpected argument {extra:?}").into());
    }
    daemon::log_to_stderr(&options);
    let orb = Orb::init(options)?;
    let channel_options = ChannelOptions {
        queue_length: args.queue_length as usize,
        pull_mode: match args.pull_mode {
            Mode::TryPull => PullMode::TryPull,
            Mode::Pull => PullMode::Pull,
        },
        pull_interval: Duration::from_millis(args.pull_interval_ms),
        max_failures: args.max_failures,
        // The IOR printed, written and bound stays valid across restarts on the endpoint.
        persistent: true,
        ..ChannelOptions::default()
    };
    let channel = EventChannel::start(&orb, channel_options)?;
    channel.register_well_known("EventChannel")?;
    let endpoints = orb.listen()?;
    if let (Some(url), Some(name)) = (&args.name_service, &args.name) {
        bind(&orb, url, name, &channel)?;
    }
    let ior = orb.object_to_string(channel.object())?;
    if let Some(path) = &args.ior_file {
        std::fs::write(path, format!("{ior}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("{ior}");
    // Watched before saying so: a SIGTERM right after "listening on" is a clean stop too.
    let signals = orb.watch_signals()?;
    daemon::say_listening("event-service", &endpoints);
    if let Some(signal) = signals.run()? {
        eprintln!("event-service: signal {signal}: shut down");
    }
    Ok(())
}

/// Binds (or rebinds) the channel under `name` in the naming service at `url`.
fn bind(
    orb: &Orb,
    url: &str,
    name: &str,
    channel: &EventChannel,
) -> Result<(), Box<dyn std::error::Error>> {
    let n: Name = orb::ior::parse_string_name(name)
        .map_err(|e| format!("--name {name:?}: {e}"))?
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect();
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(url)?);
    root.rebind(&n, channel.object())
        .map_err(|e| format!("cannot bind {name:?} in the naming service at {url}: {e}"))?;
    Ok(())
}
