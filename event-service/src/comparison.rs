//! What the benches that set our channels beside omniEvents share: starting omniEvents (and a
//! channel in it, made by `eventc`) and our COS daemon as processes of their own, running a
//! bench again inside a network namespace of its own (omniEvents listens on every interface),
//! and a COS supplier and push consumers that time events through either channel.
//! `event-service`'s `ev_bench` and `rtorb-benches`' `rtec_bench` use it; it is not part of
//! the event service's API.

use crate::cos_event_channel_admin::{
    ConsumerAdmin, EventChannel as _, EventChannelRef, ProxyPushConsumer, ProxyPushConsumerRef,
    ProxyPushSupplier, SupplierAdmin,
};
use crate::cos_event_comm::{push_consumer, PushConsumer, PushConsumerRef, PushSupplierRef};
use orb::exception::SystemException;
use orb::typecode::Any;
use orb::{Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Events allowed in flight in the throughput measurement: below both channels' default
/// queue length per consumer (1024 ours, 1023 omniEvents'), which drop the oldest event
/// when full; a supplier running further ahead would measure the drops, not the delivery.
pub const WINDOW: u64 = 512;

pub type Error = Box<dyn std::error::Error>;

/// Runs this bench again, with the same arguments, in a network namespace of its own whose
/// loopback is brought up; its output is this one's.
/// `env` is set in the copy that runs inside, which must then not re-run itself.
pub fn rerun_in_private_netns(env: &str) -> Result<(), Error> {
    let status = in_private_netns(env)?
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

/// The command that runs this executable again, with the same arguments, in a network
/// namespace of its own whose loopback is brought up, `env` set in it: for a caller that
/// wants the copy's output rather than to share it.
pub fn in_private_netns(env: &str) -> Result<Command, Error> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--map-root-user", "--", "sh", "-c"])
        .arg(r#"ip link set lo up && exec "$0" "$@""#)
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(env, "1");
    Ok(cmd)
}

/// A process, killed when dropped.
pub struct Proc {
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Our daemon on a free port; returns once it printed its channel's IOR.
pub fn start_ours(bin: &Path) -> Result<(Proc, String), Error> {
    let port = free_port()?;
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string()]);
    start_process(cmd, &bin.display().to_string())
}

/// Starts `cmd` (a channel, called `what` in errors), its standard output piped; returns once
/// it printed the channel's IOR as its first line.
pub fn start_process(mut cmd: Command, what: &str) -> Result<(Proc, String), Error> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let proc = Proc { child };
    if !line.starts_with("IOR:") {
        return Err(format!("{what} did not start: {line:?}").into());
    }
    Ok((proc, line.trim().to_owned()))
}

/// How omniEvents is started: command-line options a bench flattens into its own.
#[derive(clap::Args, Clone, Debug)]
pub struct OmniEvents {
    /// omniEvents.
    #[arg(long, default_value = "omniEvents")]
    pub omnievents: String,
    /// omniEvents' eventc, which makes its channel.
    #[arg(long, default_value = "eventc")]
    pub eventc: String,
    /// The omniEvents channel's CyclePeriod_ns (`eventc -c`): how long its proxies sleep
    /// between passes over their queues. With omniEvents' own default, 100 ms, that sleep is
    /// nearly all of every event's latency (a median of ~84 ms); 10 µs is about as well as it
    /// does. 0 keeps its default.
    #[arg(long = "omnievents-cycle-ns", default_value_t = 10_000)]
    pub cycle_ns: u64,
}

/// omniEvents on a free port in the foreground, its files in `scratch`, and a channel made in
/// it by eventc (which binds it in a naming service: ours, in this process, for the while).
pub fn start_omnievents(
    args: &OmniEvents,
    scratch: &Path,
    orb: &Orb,
) -> Result<(Proc, String), Error> {
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
        .args(match args.cycle_ns {
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
pub struct Board {
    pub state: Mutex<Arrivals>,
    pub changed: Condvar,
}

#[derive(Default)]
pub struct Arrivals {
    /// Events pushed to any of the consumers, all told.
    pub received: u64,
    /// The latest event's number, how many consumers had it, and when the last of them did.
    pub seq: i32,
    pub copies: usize,
    pub at: Option<Instant>,
}

impl Board {
    /// Waits until `done` holds; an error naming `what` if nothing arrives for 20 s.
    pub fn wait(
        &self,
        what: &str,
        mut done: impl FnMut(&Arrivals) -> bool,
    ) -> Result<Arrivals, Error> {
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
pub struct Consumer(pub Arc<Board>);

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
pub struct Channel {
    pub label: &'static str,
    reference: EventChannelRef,
    supplier: ProxyPushConsumerRef,
    board: Arc<Board>,
    pub consumers: usize,
    next_seq: i32,
    _process: Proc,
}

impl Channel {
    pub fn connect(
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

    pub fn add_consumers(&mut self, orb: &Orb, n: usize) -> Result<(), Error> {
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
    pub fn latencies(&mut self, n: usize, out: &mut Vec<Duration>) -> Result<(), Error> {
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
    pub fn burst(&mut self, n: usize) -> Result<Duration, Error> {
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

/// One ORB for the supplier and every consumer, serving the consumers on loopback.
pub fn client_orb() -> Result<Orb, Error> {
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
