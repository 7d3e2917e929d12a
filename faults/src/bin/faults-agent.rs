//! What the fault scenarios run inside their hosts (network namespaces):
//!
//! - `serve`: the probe's server, in a PERSISTENT POA on a fixed endpoint, so that a
//!   restarted server answers the references of the one killed; every `execute` appends
//!   its call id to an execution log before replying (`kill -9` leaves the page cache, so
//!   what was executed is there); it is also at `corbaloc::HOST:PORT/probe`; it prints its
//!   IOR, then `listening on giop:tcp:HOST:PORT`;
//! - `call`: a client calling the probe until its standard input closes, one outcome line
//!   per call ([`rtorb_faults::outcome`]); with `--oneways`, one more thread sends numbered
//!   oneways (`note`) beside the twoways, on the same connection;
//! - `naming`: a client binding fresh names in a naming service and resolving the ones it
//!   was told were bound, one outcome line per call;
//! - `supply`: a COS event supplier pushing numbered events (`PREFIX-N`, strings) into a
//!   channel through `event_service::ReconnectingPushSupplier`, one outcome line per push;
//! - `consume`: a COS push consumer of a channel (`event_service::ReconnectingPushConsumer`):
//!   `event ID MS` per event received, `connected N MS` each time it (re)connected;
//! - `soak`: many threads of mixed load (twoways, oneways, naming bind/resolve/unbind, event
//!   pushes, and a consumer of the events): a line per error as it happens, a `progress`
//!   line of counts every few seconds and a `total` line at the end;
//! - `proxy`: the harness's delaying / stalling TCP proxy ([`rtorb_faults::proxy`]).
//!
//! ORB options (`-ORB...`) may follow the flags. Each client stops at the first of: its
//! standard input closing, `--max-calls`, `--max-seconds` (so that a test that dies leaves
//! nothing calling for long).

use clap::{Parser, Subcommand};
use event_service::cos_event_channel_admin::EventChannelRef;
use event_service::{ReconnectOptions, ReconnectingPushConsumer, ReconnectingPushSupplier};
use naming_service::cos_naming::naming_context::{BindError, ResolveError};
use naming_service::cos_naming::{NameComponent, NamingContext, NamingContextExtRef};
use orb::exception::SystemException;
use orb::poa::{IdAssignment, Lifespan, Policy};
use orb::typecode::Any;
use orb::{Orb, OrbOptions};
use rtorb_faults::outcome::{now_ms, Failure, Outcome};
use rtorb_faults::probe::faults::{probe, Octets, Probe, ProbeRef};
use rtorb_faults::proxy::{Proxy, ProxyOptions};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "faults-agent",
    about = "Servers, clients and proxies of the fault scenarios"
)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

/// When a client stops.
#[derive(clap::Args, Clone, Copy)]
struct Bounds {
    /// Stop after this many calls.
    #[arg(long, default_value_t = 1_000_000)]
    max_calls: u64,
    /// Stop after this long.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// Pause between two calls of a thread.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the probe; prints its IOR, then serves until killed.
    Serve {
        /// `giop:tcp:HOST:PORT` (a fixed port, for restarts to keep references valid).
        #[arg(long)]
        endpoint: String,
        /// The execution log: a line per `execute` and `note`, its call id (none: not kept).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Forget this many octets (written, so resident) at every call: the soak's control,
        /// a server that leaks a buffer per call.
        #[arg(long, default_value_t = 0)]
        leak_per_call: usize,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Call the probe at TARGET until told to stop; a line per call.
    Call {
        #[arg(long)]
        target: String,
        /// Call ids are PREFIX-THREAD-N.
        #[arg(long)]
        prefix: String,
        /// Ask for replies of this many octets (`fill`) instead of `execute`.
        #[arg(long)]
        fill: Option<u32>,
        /// Threads calling side by side (on the ORB's one shared connection).
        #[arg(long, default_value_t = 1)]
        threads: u32,
        /// One more thread that sends oneways (`note PREFIX-THREAD-N`, op `oneway` in the
        /// outcome lines) at the same pace.
        #[arg(long)]
        oneways: bool,
        #[command(flatten)]
        bounds: Bounds,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Bind PREFIX-N, resolve an earlier acknowledged name, and again, until told to stop.
    Naming {
        /// The naming service (`corbaloc::HOST:PORT/NameService`).
        #[arg(long)]
        url: String,
        #[arg(long)]
        prefix: String,
        #[command(flatten)]
        bounds: Bounds,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Push events PREFIX-N into the COS event channel CHANNEL until told to stop.
    Supply {
        /// The channel (an IOR, `corbaloc::HOST:PORT/EventChannel`).
        #[arg(long)]
        channel: String,
        #[arg(long)]
        prefix: String,
        /// How long a push keeps trying while the channel is away.
        #[arg(long, default_value_t = 5000)]
        patience_ms: u64,
        /// A real-time channel (`rt-event-service`): events of type 20 whose source is K+1
        /// for the prefix `sK` and whose `pad1` is N; `connected N MS` said on each
        /// (re)connection, as `consume` does.
        #[arg(long)]
        rt: bool,
        #[command(flatten)]
        bounds: Bounds,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Receive the events of the COS event channel CHANNEL until told to stop (the ORB
    /// options must give an endpoint the channel reaches).
    Consume {
        #[arg(long)]
        channel: String,
        /// How often the consumer checks its proxy still exists.
        #[arg(long, default_value_t = 50)]
        check_ms: u64,
        /// A real-time channel: events of type 20, said as `event sK-N` for source K+1 and
        /// `pad1` N.
        #[arg(long)]
        rt: bool,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Mixed load from THREADS threads until told to stop: thread T makes twoway calls
    /// (T % 4 = 0), oneways (1), naming bind/resolve/unbind (2) or COS event pushes (3).
    Soak {
        /// The probe server.
        #[arg(long)]
        probe: String,
        /// The naming service.
        #[arg(long)]
        naming: String,
        /// The COS event channel (a consumer of it runs here too: the ORB options must
        /// give an endpoint the channel reaches).
        #[arg(long)]
        channel: String,
        #[arg(long)]
        prefix: String,
        #[arg(long, default_value_t = 64)]
        threads: u32,
        /// A `progress` line this often.
        #[arg(long, default_value_t = 5)]
        report_secs: u64,
        #[command(flatten)]
        bounds: Bounds,
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        orb_args: Vec<String>,
    },
    /// Carry connections from LISTEN to UPSTREAM, slowed or stuck as asked.
    Proxy {
        #[arg(long)]
        listen: String,
        #[arg(long)]
        upstream: String,
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        #[arg(long, default_value_t = 0)]
        jitter_ms: u64,
        #[arg(long, default_value_t = 0)]
        loss_percent: u32,
        #[arg(long, default_value_t = 200)]
        retransmit_ms: u64,
        /// Never read the server's replies.
        #[arg(long)]
        stall_replies: bool,
    },
}

fn main() -> ExitCode {
    match run(Args::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faults-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn run(cmd: Cmd) -> Res {
    match cmd {
        Cmd::Serve {
            endpoint,
            log,
            leak_per_call,
            orb_args,
        } => serve(&endpoint, log.as_deref(), leak_per_call, orb_args),
        Cmd::Call {
            target,
            prefix,
            fill,
            threads,
            oneways,
            bounds,
            orb_args,
        } => call(&target, &prefix, fill, (threads, oneways), bounds, orb_args),
        Cmd::Naming {
            url,
            prefix,
            bounds,
            orb_args,
        } => naming(&url, &prefix, bounds, orb_args),
        Cmd::Supply {
            channel,
            prefix,
            patience_ms,
            rt,
            bounds,
            orb_args,
        } if rt => rt_events::supply(&channel, &prefix, patience_ms, bounds, orb_args),
        Cmd::Supply {
            channel,
            prefix,
            patience_ms,
            bounds,
            orb_args,
            ..
        } => supply(&channel, &prefix, patience_ms, bounds, orb_args),
        Cmd::Consume {
            channel,
            check_ms,
            rt,
            orb_args,
        } => consume(&channel, check_ms, rt, orb_args),
        Cmd::Soak {
            probe,
            naming,
            channel,
            prefix,
            threads,
            report_secs,
            bounds,
            orb_args,
        } => soak::run(
            &soak::Targets {
                probe,
                naming,
                channel,
            },
            &prefix,
            threads,
            Duration::from_secs(report_secs),
            bounds,
            orb_args,
        ),
        Cmd::Proxy {
            listen,
            upstream,
            delay_ms,
            jitter_ms,
            loss_percent,
            retransmit_ms,
            stall_replies,
        } => {
            let options = ProxyOptions {
                delay: Duration::from_millis(delay_ms),
                jitter: Duration::from_millis(jitter_ms),
                loss_percent,
                retransmit_delay: Duration::from_millis(retransmit_ms),
                stall_replies,
            };
            let proxy = Proxy::start(&listen, &upstream, options)?;
            say(&format!("proxy listening on {}", proxy.local_addr()))?;
            wait_for_end_of_input();
            Ok(())
        }
    }
}

/// A line on standard output, flushed at once: the test reads it as it comes.
fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// Blocks until standard input closes (the test's way to say stop).
fn wait_for_end_of_input() {
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
}

/// The ORB of a client or server: its `-ORB` options, and no other argument.
fn orb_from(args: Vec<String>) -> Result<Orb, Box<dyn std::error::Error>> {
    let mut options = OrbOptions::from_env()?;
    let rest = options.parse_args(args)?;
    if let Some(extra) = rest.first() {
        return Err(format!("unexpected argument {extra:?} (ORB options start with -ORB)").into());
    }
    Ok(Orb::init(options)?)
}

/// The probe: counts and logs what it executes.
struct ProbeImpl {
    log: Option<Mutex<std::fs::File>>,
    executed: AtomicU64,
    leak_per_call: usize,
}

impl ProbeImpl {
    /// What the control server does wrong at every call.
    fn leak(&self) {
        if self.leak_per_call > 0 {
            // Leaked, and seen to be used: an optimised build would otherwise drop an
            // allocation nothing reads (the release control once grew by nothing).
            std::hint::black_box(Vec::leak(vec![0xa5u8; self.leak_per_call]));
        }
    }

    fn record(&self, call_id: &str) -> Result<(), SystemException> {
        self.leak();
        let Some(log) = &self.log else {
            return Ok(());
        };
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        // One write per line (O_APPEND): a kill between two calls never tears one.
        log.write_all(format!("{call_id}\n").as_bytes())
            .map_err(|e| {
                eprintln!("faults-agent: cannot write the execution log: {e}");
                SystemException::new(
                    orb::exception::SystemExceptionKind::PERSIST_STORE,
                    0,
                    orb::codegen::CompletionStatus::No,
                )
            })
    }
}

impl Probe for ProbeImpl {
    fn execute(&self, call_id: &str) -> Result<u64, SystemException> {
        self.record(call_id)?;
        Ok(self.executed.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn note(&self, call_id: &str) -> Result<(), SystemException> {
        self.record(call_id)
    }

    fn fill(&self, size: u32) -> Result<Octets, SystemException> {
        self.leak();
        Ok(vec![0x5a; size as usize])
    }
}

fn serve(
    endpoint: &str,
    log: Option<&std::path::Path>,
    leak_per_call: usize,
    mut orb_args: Vec<String>,
) -> Res {
    orb_args.extend(["-ORBendPoint".to_owned(), endpoint.to_owned()]);
    let orb = orb_from(orb_args)?;
    let log = match log {
        None => None,
        Some(path) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open the execution log {}: {e}", path.display()))?,
        )),
    };
    let root = orb.root_poa();
    // PERSISTENT and a user id: the object key names the POA and the object, not this
    // process, so a restarted server on the same endpoint answers the old references.
    let poa = root.create_poa(
        "Probes",
        Some(root.manager().clone()),
        &[
            Policy::Lifespan(Lifespan::Persistent),
            Policy::IdAssignment(IdAssignment::UserId),
        ],
    )?;
    let servant = probe::servant(ProbeImpl {
        log,
        executed: AtomicU64::new(0),
        leak_per_call,
    });
    let obj = orb.activate_with_id(&poa, b"probe", servant.clone())?;
    // Also at `corbaloc::HOST:PORT/probe`, for a client sent through a proxy.
    orb.register_well_known("probe", servant)?;
    let endpoints = orb.listen()?;
    say(&orb.object_to_string(&obj)?)?;
    for e in endpoints {
        say(&format!("listening on {e}"))?;
    }
    orb.run()?;
    Ok(())
}

/// Calls `once` from `threads` threads until the bounds or the end of standard input,
/// printing each outcome; the calls under way when told to stop finish and are printed.
fn drive(threads: u32, bounds: Bounds, once: impl Fn(u32, u64) -> Outcome + Sync) -> Res {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            wait_for_end_of_input();
            stop.store(true, Ordering::Relaxed);
        });
    }
    let until = Instant::now() + Duration::from_secs(bounds.max_seconds);
    let made = AtomicU64::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (stop, made, once) = (&stop, &made, &once);
                s.spawn(move || -> std::io::Result<()> {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed)
                        && Instant::now() < until
                        && made.fetch_add(1, Ordering::Relaxed) < bounds.max_calls
                    {
                        say(&once(t, n).line())?;
                        n += 1;
                        std::thread::sleep(Duration::from_millis(bounds.interval_ms));
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a calling thread panicked")??;
        }
        Ok(())
    })
}

/// `(threads, oneways)`: twoway threads, and whether one more sends oneways.
fn call(
    target: &str,
    prefix: &str,
    fill: Option<u32>,
    (threads, oneways): (u32, bool),
    bounds: Bounds,
    orb_args: Vec<String>,
) -> Res {
    let orb = orb_from(orb_args)?;
    let probe = ProbeRef::unchecked_narrow(orb.string_to_object(target)?);
    drive(threads + u32::from(oneways), bounds, |t, n| {
        let id = format!("{prefix}-{t}-{n}");
        let start_ms = now_ms();
        let (op, result) = match fill {
            _ if t == threads => ("oneway", probe.note(&id)),
            None => ("execute", probe.execute(&id).map(drop)),
            Some(size) => ("fill", probe.fill(size).map(drop)),
        };
        Outcome {
            op: op.to_owned(),
            id,
            start_ms,
            end_ms: now_ms(),
            result: result.map_err(|e| Failure::system(&e)),
        }
    })
}

fn name(id: &str) -> Vec<NameComponent> {
    vec![NameComponent {
        id: id.to_owned(),
        kind: String::new(),
    }]
}

fn naming(url: &str, prefix: &str, bounds: Bounds, orb_args: Vec<String>) -> Res {
    let orb = orb_from(orb_args)?;
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(url)?);
    // What is bound: any reference will do; the root's own is at hand.
    let bound = orb.string_to_object(url)?;
    let acknowledged = Mutex::new(Vec::<String>::new());
    drive(1, bounds, |_, n| {
        // Even calls bind a fresh name; odd ones resolve one the service said it bound.
        let start_ms = now_ms();
        let earlier = {
            let acked = acknowledged.lock().unwrap_or_else(|e| e.into_inner());
            (!acked.is_empty()).then(|| acked[(n as usize / 2) % acked.len()].clone())
        };
        let (op, id, result) = match (n % 2, earlier) {
            (1, Some(id)) => {
                let result = match root.resolve(&name(&id)) {
                    Ok(_) => Ok(()),
                    Err(ResolveError::System(e)) => Err(Failure::system(&e)),
                    Err(ResolveError::NotFound(_)) => Err(Failure::user("NotFound")),
                    Err(ResolveError::CannotProceed(_)) => Err(Failure::user("CannotProceed")),
                    Err(ResolveError::InvalidName(_)) => Err(Failure::user("InvalidName")),
                };
                ("resolve", id, result)
            }
            _ => {
                let id = format!("{prefix}-{n}");
                let result = root.bind(&name(&id), &bound).map_err(|e| {
                    use BindError as B;
                    match e {
                        B::System(e) => Failure::system(&e),
                        B::AlreadyBound(_) => Failure::user("AlreadyBound"),
                        B::NotFound(_) => Failure::user("NotFound"),
                        B::CannotProceed(_) => Failure::user("CannotProceed"),
                        B::InvalidName(_) => Failure::user("InvalidName"),
                    }
                });
                if result.is_ok() {
                    acknowledged
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(id.clone());
                }
                ("bind", id, result)
            }
        };
        Outcome {
            op: op.to_owned(),
            id,
            start_ms,
            end_ms: now_ms(),
            result,
        }
    })
}

/// The pace of the event clients: quick to notice a restart, quick to try again.
fn reconnect_options(patience_ms: u64, check_ms: u64) -> ReconnectOptions {
    ReconnectOptions {
        retry_interval: Duration::from_millis(20),
        patience: Duration::from_millis(patience_ms),
        check_interval: Duration::from_millis(check_ms),
    }
}

fn supply(
    channel: &str,
    prefix: &str,
    patience_ms: u64,
    bounds: Bounds,
    orb_args: Vec<String>,
) -> Res {
    let orb = orb_from(orb_args)?;
    let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(channel)?);
    let supplier = ReconnectingPushSupplier::new(channel, reconnect_options(patience_ms, 50));
    drive(1, bounds, |_, n| {
        let id = format!("{prefix}-{n}");
        let start_ms = now_ms();
        let result = supplier.push(&Any::from(id.as_str()));
        Outcome {
            op: "push".to_owned(),
            id,
            start_ms,
            end_ms: now_ms(),
            result: result.map_err(|e| Failure::system(&e)),
        }
    })?;
    supplier.disconnect();
    Ok(())
}

fn consume(channel: &str, check_ms: u64, rt: bool, orb_args: Vec<String>) -> Res {
    let orb = orb_from(orb_args)?;
    orb.listen()?;
    let object = orb.string_to_object(channel)?;
    let options = reconnect_options(5000, check_ms);
    let connections: Box<dyn Fn() -> u64> = if rt {
        let consumer = rt_events::consumer(&orb, object, options)?;
        Box::new(move || consumer.connections())
    } else {
        let channel = EventChannelRef::unchecked_narrow(object);
        let consumer = ReconnectingPushConsumer::start(&orb, channel, options, |event| {
            event_received(event.as_str().unwrap_or("(not a string)"))
        })?;
        Box::new(move || consumer.connections())
    };
    say_connections_until_end_of_input(&*connections)
}

/// `event ID MS`, as each event comes.
fn event_received(id: &str) {
    // A consumer that cannot report is of no use: the test sees it end.
    if say(&format!("event {id} {}", now_ms())).is_err() {
        std::process::exit(1);
    }
}

/// Says `connected N MS` each time `connections` grows (a few ms late: a push that starts
/// after the line's time surely found the client connected), until standard input closes.
fn say_connections_until_end_of_input(connections: &dyn Fn() -> u64) -> Res {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            wait_for_end_of_input();
            stop.store(true, Ordering::Relaxed);
        });
    }
    let mut seen = 0;
    while !stop.load(Ordering::Relaxed) {
        let now = connections();
        if now > seen {
            seen = now;
            say(&format!("connected {seen} {}", now_ms()))?;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// The real-time channel's supplier and consumer.
mod rt_events {
    use super::*;
    use event_service::rtec::rtec_event_channel_admin::EventChannelRef;
    use event_service::rtec::{
        self, ConsumerQosBuilder, RtecReconnectingPushConsumer, RtecReconnectingPushSupplier,
        SupplierQosBuilder,
    };

    /// The type of every event of the scenarios (16 and below are the channel's own).
    const TYPE: i32 = 20;

    pub fn supply(
        channel: &str,
        prefix: &str,
        patience_ms: u64,
        bounds: Bounds,
        orb_args: Vec<String>,
    ) -> Res {
        let source = prefix
            .strip_prefix('s')
            .and_then(|k| k.parse::<i32>().ok())
            .map(|k| k + 1)
            .ok_or_else(|| {
                format!("--prefix {prefix:?}: a real-time supplier's is sK (K a number)")
            })?;
        let orb = orb_from(orb_args)?;
        let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(channel)?);
        let supplier = Arc::new(RtecReconnectingPushSupplier::start(
            channel,
            SupplierQosBuilder::new().insert(source, TYPE, 0, 1).build(),
            reconnect_options(patience_ms, 50),
        )?);
        {
            let supplier = supplier.clone();
            std::thread::spawn(move || {
                let _ = say_connections_until_end_of_input(&|| supplier.connections());
            });
        }
        drive(1, bounds, |_, n| {
            let id = format!("{prefix}-{n}");
            let mut event = rtec::event(source, TYPE);
            event.data.pad1 = n as i32;
            let start_ms = now_ms();
            let result = supplier.push(&[event]);
            Outcome {
                op: "push".to_owned(),
                id,
                start_ms,
                end_ms: now_ms(),
                result: result.map_err(|e| Failure::system(&e)),
            }
        })
    }

    pub fn consumer(
        orb: &Orb,
        channel: orb::ObjectRef,
        options: ReconnectOptions,
    ) -> Result<RtecReconnectingPushConsumer, Box<dyn std::error::Error>> {
        Ok(RtecReconnectingPushConsumer::start(
            orb,
            EventChannelRef::unchecked_narrow(channel),
            ConsumerQosBuilder::new().insert_type(TYPE, 0).build(),
            options,
            |events| {
                for e in events {
                    event_received(&format!("s{}-{}", e.header.source - 1, e.data.pad1));
                }
            },
        )?)
    }
}

/// The soak's load.
mod soak {
    use super::*;
    use naming_service::cos_naming::naming_context::UnbindError;

    pub struct Targets {
        pub probe: String,
        pub naming: String,
        pub channel: String,
    }

    /// What the threads did, counted as they go.
    #[derive(Default)]
    struct Counts {
        twoway: AtomicU64,
        oneway: AtomicU64,
        naming: AtomicU64,
        pushed: AtomicU64,
        received: Arc<AtomicU64>,
        errors: AtomicU64,
    }

    impl Counts {
        fn line(&self, what: &str) -> String {
            let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
            format!(
                "{what} twoway {} oneway {} naming {} pushed {} received {} errors {}",
                n(&self.twoway),
                n(&self.oneway),
                n(&self.naming),
                n(&self.pushed),
                n(&self.received),
                n(&self.errors)
            )
        }

        /// Counts an operation's result; an error is said at once.
        fn count(&self, counter: &AtomicU64, op: &str, result: Result<(), String>) {
            match result {
                Ok(()) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Err(why) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    let _ = say(&format!("error {op} {why} {}", now_ms()));
                }
            }
        }
    }

    fn system(e: &SystemException) -> String {
        Failure::system(e).label()
    }

    pub fn run(
        targets: &Targets,
        prefix: &str,
        threads: u32,
        report: Duration,
        bounds: Bounds,
        orb_args: Vec<String>,
    ) -> Res {
        let orb = orb_from(orb_args)?;
        orb.listen()?;
        let probe = ProbeRef::unchecked_narrow(orb.string_to_object(&targets.probe)?);
        let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&targets.naming)?);
        let bound = orb.string_to_object(&targets.probe)?;
        let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(&targets.channel)?);
        let counts = Counts::default();
        let received = counts.received.clone();
        let _consumer = ReconnectingPushConsumer::start(
            &orb,
            channel.clone(),
            reconnect_options(5000, 500),
            move |_| {
                received.fetch_add(1, Ordering::Relaxed);
            },
        )?;
        let stop = AtomicBool::new(false);
        let until = Instant::now() + Duration::from_secs(bounds.max_seconds);
        std::thread::scope(|s| {
            s.spawn(|| {
                wait_for_end_of_input();
                stop.store(true, Ordering::Relaxed);
            });
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(report);
                    let _ = say(&counts.line("progress"));
                }
            });
            for t in 0..threads {
                let (probe, root, bound, channel, counts, stop) =
                    (&probe, &root, &bound, &channel, &counts, &stop);
                s.spawn(move || {
                    let supplier = ReconnectingPushSupplier::new(
                        channel.clone(),
                        reconnect_options(5000, 500),
                    );
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        let id = format!("{prefix}-{t}-{n}");
                        match t % 4 {
                            0 => counts.count(
                                &counts.twoway,
                                "twoway",
                                probe.execute(&id).map(drop).map_err(|e| system(&e)),
                            ),
                            1 => counts.count(
                                &counts.oneway,
                                "oneway",
                                probe.note(&id).map_err(|e| system(&e)),
                            ),
                            2 => counts.count(
                                &counts.naming,
                                "naming",
                                bind_resolve_unbind(root, bound, &id),
                            ),
                            _ => counts.count(
                                &counts.pushed,
                                "push",
                                supplier
                                    .push(&Any::from(id.as_str()))
                                    .map_err(|e| system(&e)),
                            ),
                        }
                        n += 1;
                        std::thread::sleep(Duration::from_millis(bounds.interval_ms));
                    }
                    supplier.disconnect();
                });
            }
        });
        say(&counts.line("total"))?;
        Ok(())
    }

    /// Binds `id`, resolves it and unbinds it.
    fn bind_resolve_unbind(
        root: &NamingContextExtRef,
        bound: &orb::ObjectRef,
        id: &str,
    ) -> Result<(), String> {
        let n = name(id);
        root.bind(&n, bound).map_err(|e| match e {
            BindError::System(e) => format!("bind {}", system(&e)),
            other => format!("bind {other:?}"),
        })?;
        root.resolve(&n).map_err(|e| match e {
            ResolveError::System(e) => format!("resolve {}", system(&e)),
            other => format!("resolve {other:?}"),
        })?;
        root.unbind(&n).map_err(|e| match e {
            UnbindError::System(e) => format!("unbind {}", system(&e)),
            other => format!("unbind {other:?}"),
        })
    }
}
