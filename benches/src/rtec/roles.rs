//! The processes of the measurements across processes: this executable again, with [`ROLE`]
//! and its parameters in the environment, talking to the bench by lines.

use super::{
    channel_options, connect_consumer, connect_supplier, parse_dispatching, serving_orb, sys,
    wait_for, Arrivals, Error, Stamping, TYPE,
};
use event_service::comparison;
use event_service::rtec::rtec_event_channel_admin::{EventChannel as _, EventChannelRef};
use event_service::rtec::rtec_event_comm::PushConsumer as _;
use event_service::rtec::{self, RtecChannel};
use event_service::{ChannelOptions, EventChannel};
use orb::transport::{Endpoint, Strategy};
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

/// Set in a role process: which part it plays.
pub const ROLE: &str = "RTORB_RTEC_BENCH_ROLE";

const PREFIX: &str = "RTORB_RTEC_BENCH_";

fn var(name: &str) -> Result<String, Error> {
    std::env::var(format!("{PREFIX}{name}")).map_err(|_| format!("no {PREFIX}{name}").into())
}

fn number(name: &str) -> Result<usize, Error> {
    Ok(var(name)?.parse()?)
}

/// Plays the part [`ROLE`] names, if it is set: call it first thing in `main`, and exit with
/// what it returns.
pub fn run_if_asked() -> Option<Result<(), Error>> {
    let role = std::env::var(ROLE).ok()?;
    Some(match role.as_str() {
        "channel" => channel(),
        "consumers" => consumers(),
        "suppliers" => suppliers(),
        "cos_channel" => cos_channel(),
        other => Err(format!("no role {other:?}").into()),
    })
}

fn stdin_line() -> String {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line
}

/// A channel in a reactive ORB; serves until its stdin closes.
fn channel() -> Result<(), Error> {
    let orb = serving_orb()?;
    let channel = RtecChannel::start(
        &orb,
        channel_options(parse_dispatching(&var("DISPATCHING")?)?, 5),
    )?;
    println!("{}", orb.object_to_string(channel.object())?);
    std::io::stdout().flush()?;
    while !stdin_line().is_empty() {}
    channel.destroy();
    orb.shutdown(true);
    Ok(())
}

/// Our COS event channel (`event_service::EventChannel`, untyped) as the `event-service`
/// daemon serves it: a pool of 64 threads on loopback. Prints its IOR, then serves until it
/// is killed (see [`cos_channel_process`]).
fn cos_channel() -> Result<(), Error> {
    let orb = Orb::init(OrbOptions {
        endpoints: vec![Endpoint::parse("giop:tcp:127.0.0.1:0")?],
        strategy: Strategy::ThreadPool { threads: 64 },
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })?;
    let channel = EventChannel::start(&orb, ChannelOptions::default())?;
    println!("{}", orb.object_to_string(channel.object())?);
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}

/// Starts our COS channel in a process of its own (this executable again, which must call
/// [`run_if_asked`] first): the process, killed when dropped, and the channel's IOR, as
/// `comparison::Channel::connect` takes them.
pub fn cos_channel_process() -> Result<(comparison::Proc, String), Error> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.env(ROLE, "cos_channel");
    comparison::start_process(cmd, "our COS channel process")
}

/// COUNT consumers; on END (after the suppliers are done), waits for every event to reach
/// every consumer and prints each event's latency to the first and last.
fn consumers() -> Result<(), Error> {
    let orb = serving_orb()?;
    let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(&var("IOR")?)?);
    let (count, events) = (number("COUNT")?, number("EVENTS")?);
    let arrivals = Arrivals::new(events);
    for _ in 0..count {
        connect_consumer(&orb, &channel, Stamping(arrivals.clone()), 0)?;
    }
    println!("READY");
    std::io::stdout().flush()?;
    stdin_line();
    // Deliveries may lag far behind (see the report on connections): wait while they
    // progress, and give up after 5 s without one.
    let want = (count * events) as u64;
    let mut seen = arrivals.delivered.load(Ordering::Acquire);
    while seen < want {
        let before = seen;
        let _ = wait_for("more deliveries", Duration::from_secs(5), || {
            arrivals.delivered.load(Ordering::Acquire) != before
        });
        seen = arrivals.delivered.load(Ordering::Acquire);
        if seen == before {
            break;
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (k, (f, l)) in arrivals.first.iter().zip(&arrivals.last).enumerate() {
        writeln!(
            out,
            "L {k} {} {}",
            f.load(Ordering::Relaxed),
            l.load(Ordering::Relaxed)
        )?;
    }
    writeln!(out, "END")?;
    out.flush()?;
    drop(out);
    orb.shutdown(false);
    Ok(())
}

/// COUNT suppliers; on GO, pushes EVENTS events round robin, one every PACE_US.
fn suppliers() -> Result<(), Error> {
    let orb = Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })?;
    let channel = EventChannelRef::unchecked_narrow(orb.string_to_object(&var("IOR")?)?);
    let (count, events) = (number("COUNT")?, number("EVENTS")?);
    let pace = number("PACE_US")? as u64 * 1_000;
    let proxies = (0..count)
        .map(|s| connect_supplier(&channel, s as i32 + 1))
        .collect::<Result<Vec<_>, _>>()?;
    println!("READY");
    std::io::stdout().flush()?;
    stdin_line();
    let mut event = rtec::event(1, TYPE);
    let start = sys::now_ns();
    for k in 0..events {
        let at = start + k as u64 * pace;
        let now = sys::now_ns();
        if at > now {
            std::thread::sleep(Duration::from_nanos(at - now));
        }
        event.header.source = (k % count) as i32 + 1;
        event.data.pad1 = k as i32;
        event.header.creation_time = sys::now_ns();
        proxies[k % count].push(std::slice::from_ref(&event))?;
    }
    // A twoway on the same connection: the oneways before it have been sent.
    let _ = channel.for_suppliers()?;
    println!("DONE");
    std::io::stdout().flush()?;
    orb.shutdown(true);
    Ok(())
}

/// A role process; killed when dropped.
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Process {
    pub fn start(role: &str, vars: &[(&str, &str)]) -> Result<Process, Error> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.env(ROLE, role);
        for (k, v) in vars {
            cmd.env(format!("{PREFIX}{k}"), v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Process {
            child,
            stdin,
            lines,
        })
    }

    pub fn line(&mut self) -> Result<String, Error> {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "a role process fell silent or died".into())
    }

    /// Reads lines up to the first that starts with `prefix`, and returns it.
    pub fn expect(&mut self, prefix: &str) -> Result<String, Error> {
        loop {
            let line = self.line()?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
        }
    }

    pub fn say(&mut self, line: &str) -> Result<(), Error> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        crate::cubit::end_child(&mut self.child, self.stdin.take());
    }
}
