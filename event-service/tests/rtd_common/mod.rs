//! For the tests of `rt-event-service`: the daemon as a child process (killed by pid when
//! dropped), its stderr kept line by line, an in-process naming service, and a push consumer
//! of real-time events that keeps every event whole.
#![allow(dead_code)]

use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, ProxyPushConsumer,
    ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplierRef,
};
use event_service::rtec::SupplierQosBuilder;
use orb::exception::SystemException;
use orb::{Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DAEMON: &str = env!("CARGO_BIN_EXE_rt-event-service");

/// Polls `done` until it holds; panics (naming `what`) if it never does. For waiting on
/// other processes' progress, never for timing anything.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The first line `pipe` gives (empty at its end), and the pipe for the rest; panics after 30
/// s without one, so that a program that hangs fails its test instead of stalling it (the
/// caller's guard then kills the program, which ends the reading thread too).
pub fn first_line<R: std::io::Read + Send + 'static>(pipe: R) -> (String, BufReader<R>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("a child process printed no line in 30 s")
}

/// `rt-event-service`, killed (SIGKILL) and reaped when dropped.
pub struct RtDaemon {
    child: Child,
    pub ior: String,
    /// The port of its first endpoint, from its "listening on" line.
    pub port: u16,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for RtDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RtDaemon {
    /// Starts it on a port of the system's choosing with `extra` arguments; returns once it
    /// printed its IOR and the line saying where it listens.
    pub fn start(extra: &[&str]) -> RtDaemon {
        let mut child = Command::new(DAEMON)
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let kept = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                match line {
                    Ok(l) => kept.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
        });
        let mut daemon = RtDaemon {
            child,
            ior: String::new(),
            port: 0,
            stderr,
        };
        let (line, _) = first_line(stdout);
        if !line.starts_with("IOR:") {
            // It is exiting: all of its stderr, then the failure.
            let _ = reader.join();
            panic!(
                "rt-event-service printed {line:?}; stderr: {:?}",
                daemon.stderr()
            );
        }
        daemon.ior = line.trim().to_owned();
        let prefix = "rt-event-service: listening on giop:tcp:127.0.0.1:";
        let mut port = None;
        wait_until("the \"listening on\" line", || {
            port = daemon.stderr().iter().find_map(|l| {
                l.strip_prefix(prefix)
                    .map(|rest| rest.split(',').next().unwrap().parse::<u16>().unwrap())
            });
            port.is_some()
        });
        daemon.port = port.unwrap();
        daemon
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn corbaloc(&self) -> String {
        format!("corbaloc::127.0.0.1:{}/RtEventChannel", self.port)
    }

    /// The counters of its latest complete `--stats` report: the summary line's `name value`
    /// pairs, then each consumer line's.
    pub fn latest_stats(&self) -> Option<Stats> {
        let lines = self.stderr();
        let prefix = "rt-event-service: stats: ";
        let at = lines
            .iter()
            .rposition(|l| l.starts_with(&format!("{prefix}suppliers ")))?;
        let summary = pairs(lines[at].strip_prefix(prefix).unwrap());
        let expect = summary.iter().find(|(k, _)| k == "consumers").unwrap().1 as usize;
        let consumers: Vec<_> = lines[at + 1..]
            .iter()
            .filter_map(|l| l.strip_prefix(prefix)?.strip_prefix("consumer "))
            .take(expect)
            .map(|l| pairs(&format!("consumer {l}")))
            .collect();
        // The report is one write; a reader may still see only its first lines.
        (consumers.len() == expect).then_some(Stats { summary, consumers })
    }

    /// Waits for a report whose summary says `pushed` events came in.
    pub fn stats_after(&self, pushed: u64) -> Stats {
        let mut got = None;
        wait_until(&format!("a --stats report with pushed {pushed}"), || {
            got = self.latest_stats().filter(|s| s.get("pushed") == pushed);
            got.is_some()
        });
        got.unwrap()
    }
}

/// One `--stats` report.
#[derive(Debug)]
pub struct Stats {
    pub summary: Vec<(String, u64)>,
    pub consumers: Vec<Vec<(String, u64)>>,
}

impl Stats {
    pub fn get(&self, name: &str) -> u64 {
        get(&self.summary, name)
    }
}

pub fn get(pairs: &[(String, u64)], name: &str) -> u64 {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {pairs:?}"))
        .1
}

/// `name value name value ...`, the numeric values only.
fn pairs(line: &str) -> Vec<(String, u64)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .chunks(2)
        .filter_map(|c| Some((c[0].to_owned(), c.get(1)?.parse().ok()?)))
        .collect()
}

/// Runs the daemon with `args` to its end (for arguments it must refuse).
pub fn run(args: &[&str]) -> Output {
    Command::new(DAEMON).args(args).output().unwrap()
}

/// An ORB serving on 127.0.0.1 whose calls all go over TCP, a thread per connection: the
/// channel's `push` to a consumer is oneway, and a pool could run two of them at once.
pub fn client_orb() -> Orb {
    let mut options = OrbOptions::default();
    options
        .parse_args([
            "-ORBthreadStrategy".into(),
            "connection".into(),
            "-ORBendPoint".into(),
            "giop:tcp:127.0.0.1:0".into(),
        ])
        .unwrap();
    options.collocation = orb::CollocationStrategy::None;
    Orb::init(options).unwrap()
}

/// A push supplier connected to `channel` (a nil one: it is never told anything) that
/// publishes `publications`, `(source, type)` each.
pub fn connect_supplier(
    channel: &EventChannelRef,
    publications: impl IntoIterator<Item = (i32, i32)>,
) -> ProxyPushConsumerRef {
    let proxy = channel
        .for_suppliers()
        .unwrap()
        .obtain_push_consumer()
        .unwrap();
    let qos = publications
        .into_iter()
        .fold(SupplierQosBuilder::new(), |q, (source, ty)| {
            q.insert(source, ty, 0, 1)
        });
    proxy
        .connect_push_supplier(&PushSupplierRef::nil(), &qos.build())
        .unwrap();
    proxy
}

/// A push consumer that keeps every event it is pushed.
#[derive(Clone, Default)]
pub struct Keeper(Arc<KeeperInner>);

#[derive(Default)]
pub struct KeeperInner {
    events: Mutex<Vec<Event>>,
    disconnects: AtomicUsize,
}

impl Keeper {
    pub fn activate(&self, orb: &Orb) -> PushConsumerRef {
        let obj = orb
            .activate(
                &orb.root_poa(),
                Arc::new(push_consumer::Tie::new(self.clone())),
            )
            .unwrap();
        PushConsumerRef::unchecked_narrow(obj)
    }

    /// Connects it to `channel` with `qos`.
    pub fn connect(
        &self,
        orb: &Orb,
        channel: &EventChannelRef,
        qos: &ConsumerQos,
    ) -> ProxyPushSupplierRef {
        let proxy = channel
            .for_consumers()
            .unwrap()
            .obtain_push_supplier()
            .unwrap();
        proxy
            .connect_push_consumer(&self.activate(orb), qos)
            .unwrap();
        proxy
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.events.lock().unwrap().clone()
    }

    /// `(type, source, pad1)` of each event, in arrival order.
    pub fn headers(&self) -> Vec<(i32, i32, i32)> {
        self.events()
            .iter()
            .map(|e| (e.header.r#type, e.header.source, e.data.pad1))
            .collect()
    }

    pub fn wait_count(&self, n: usize) {
        wait_until(&format!("{n} events"), || {
            self.0.events.lock().unwrap().len() >= n
        });
    }

    pub fn disconnects(&self) -> usize {
        self.0.disconnects.load(Ordering::SeqCst)
    }
}

impl PushConsumer for Keeper {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.events.lock().unwrap().extend_from_slice(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        self.0.disconnects.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
