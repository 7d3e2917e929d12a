//! Federated real-time channels. IIOP: three channels in three processes (this binary run
//! again as a "node" that obeys commands on its stdin), joined by gateways: exactly-once
//! delivery to the remote consumers that subscribed and to nobody else, a loop of gateways
//! stopped by the ttl, a peer killed with SIGKILL and restarted, a subscription withdrawn.
//! UDP multicast: a sender and a receiver in a network namespace of their own (this binary
//! run again under `unshare -n`), with a fragmented event and a lost fragment.
//!
//! The binary has its own `main` (no libtest harness) because its children are itself: a
//! child is told what to be by an environment variable, before any test runs.

use event_service::rtec::rtec_event_channel_admin::{
    ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, ProxyPushConsumer,
    ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef, SupplierAdmin,
};
use event_service::rtec::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use event_service::rtec::{
    self, ConsumerQosBuilder, FilteringMode, Gateway, GatewayOptions, ObserverStrategy,
    RtecChannel, RtecOptions, SupplierQosBuilder,
};
use orb::exception::SystemException;
use orb::{Orb, OrbOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "rtec_federation/udp.rs"]
mod udp;

const NODE_ENV: &str = "RTEC_FED_NODE";
const DIR_ENV: &str = "RTEC_FED_DIR";
/// More `-EC…` options for a node's channel.
const EC_ARGS_ENV: &str = "RTEC_FED_EC_ARGS";

fn main() {
    if let Ok(name) = std::env::var(NODE_ENV) {
        let dir = PathBuf::from(std::env::var(DIR_ENV).expect("RTEC_FED_DIR"));
        node_main(&name, &dir);
        return;
    }
    if udp::is_child() {
        udp::child_main();
        return;
    }
    let args = Args::parse();
    let tests: &[(&str, fn())] = &[
        (
            "three_channels_deliver_exactly_once_to_subscribers",
            three_channels_deliver_exactly_once_to_subscribers,
        ),
        (
            "a_loop_of_three_gateways_stops_at_the_ttl",
            a_loop_of_three_gateways_stops_at_the_ttl,
        ),
        (
            "a_killed_peer_is_found_again_and_delivery_resumes",
            a_killed_peer_is_found_again_and_delivery_resumes,
        ),
        (
            "a_consumer_leaving_stops_forwarding_of_its_types",
            a_consumer_leaving_stops_forwarding_of_its_types,
        ),
        (
            "reassembly_out_of_order_with_duplicates",
            udp::reassembly_out_of_order_with_duplicates,
        ),
        (
            "reassembly_gives_up_lost_fragments_and_stays_bounded",
            udp::reassembly_gives_up_lost_fragments_and_stays_bounded,
        ),
        (
            "reassembly_refuses_what_is_not_ours",
            udp::reassembly_refuses_what_is_not_ours,
        ),
        ("udp_multicast_federation", udp::udp_multicast_federation),
    ];
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, test) in tests {
        if !args.selects(name) {
            continue;
        }
        if args.list {
            println!("{name}: test");
            continue;
        }
        ran += 1;
        println!("test {name} ...");
        match std::panic::catch_unwind(test) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    if args.list {
        return;
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        ran - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

/// The part of libtest's command line that means something here: filters, `--exact`,
/// `--skip`, `--list`; flags that take a value have it skipped, other flags are ignored.
#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
}

impl Args {
    fn parse() -> Args {
        let mut a = Args::default();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--exact" => a.exact = true,
                "--list" => a.list = true,
                "--skip" => a.skip.extend(it.next()),
                "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                    it.next();
                }
                f if f.starts_with('-') => {}
                f => a.filters.push(f.to_owned()),
            }
        }
        a
    }

    fn selects(&self, name: &str) -> bool {
        let matches = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skip.iter().any(|s| name.contains(s.as_str()))
    }
}

// ---- the node: a channel in a process of its own, driven by lines on stdin ------------------

/// A consumer that keeps what it gets.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<Vec<Event>>>);

impl PushConsumer for Counter {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

fn node_orb() -> Orb {
    let mut options = OrbOptions::default();
    options
        .parse_args([
            "-ORBthreadPoolSize".into(),
            "16".into(),
            "-ORBendPoint".into(),
            "giop:tcp:127.0.0.1:0".into(),
            // A dead peer must not hold a gateway's probe or a push for long.
            "-ORBclientCallTimeOutPeriod".into(),
            "5000".into(),
        ])
        .unwrap();
    Orb::init(options).unwrap()
}

fn node_options() -> RtecOptions {
    let mut o = RtecOptions::default();
    o.filtering(FilteringMode::Prefix);
    o.observer(ObserverStrategy::Basic);
    if let Ok(args) = std::env::var(EC_ARGS_ENV) {
        o.parse_args(args.split_whitespace()).unwrap();
    }
    o
}

/// A [`Counter`] connected to `ch` with `qos`, and its proxy.
fn connect_counter(
    orb: &Orb,
    ch: &EventChannelRef,
    qos: &ConsumerQos,
) -> (Counter, ProxyPushSupplierRef) {
    let counter = Counter::default();
    let obj = orb
        .activate(
            &orb.root_poa(),
            Arc::new(push_consumer::Tie::new(counter.clone())),
        )
        .unwrap();
    let proxy = ch.for_consumers().unwrap().obtain_push_supplier().unwrap();
    proxy
        .connect_push_consumer(&PushConsumerRef::unchecked_narrow(obj), qos)
        .unwrap();
    (counter, proxy)
}

/// A supplier of anything, connected to `ch`.
fn connect_supplier(ch: &EventChannelRef) -> ProxyPushConsumerRef {
    let proxy = ch.for_suppliers().unwrap().obtain_push_consumer().unwrap();
    proxy
        .connect_push_supplier(
            &PushSupplierRef::nil(),
            &SupplierQosBuilder::new().insert(0, 0, 0, 1).build(),
        )
        .unwrap();
    proxy
}

fn ior_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.ior"))
}

/// Commands (one per line; each answered by one line):
/// `gateway PEER`, `consume ID SOURCE TYPE [SOURCE TYPE...]`, `disconnect ID`,
/// `publish SOURCE TYPE TTL COUNT`, `count ID`, `sync`, `gw PEER`, `stats`, `quit`.
fn node_main(name: &str, dir: &Path) {
    let orb = node_orb();
    let channel = RtecChannel::start(&orb, node_options()).unwrap();
    let ch = channel.reference().clone();
    // Written whole, then renamed: a gateway reading it never sees half an IOR.
    let tmp = dir.join(format!("{name}.ior.tmp"));
    std::fs::write(&tmp, channel.object().to_ior_string().unwrap()).unwrap();
    std::fs::rename(&tmp, ior_path(dir, name)).unwrap();

    let supplier = connect_supplier(&ch);
    let mut gateways: HashMap<String, Gateway> = HashMap::new();
    let mut consumers: HashMap<String, (Counter, ProxyPushSupplierRef)> = HashMap::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> i32 { words[i].parse().unwrap() };
        let reply = match words.first().copied() {
            Some("gateway") => {
                let peer = words[1];
                let locator = format!("file://{}", ior_path(dir, peer).display());
                let options = GatewayOptions {
                    probe_period: Duration::from_millis(100),
                    backoff_min: Duration::from_millis(20),
                    backoff_max: Duration::from_millis(400),
                };
                let gw = Gateway::start(&orb, &ch, &locator, options).unwrap();
                gateways.insert(peer.to_owned(), gw);
                "ok".to_owned()
            }
            Some("consume") => {
                let pairs: Vec<(i32, i32)> = (2..words.len())
                    .step_by(2)
                    .map(|i| (num(i), num(i + 1)))
                    .collect();
                let mut b = ConsumerQosBuilder::new();
                if pairs.len() > 1 {
                    b = b.start_disjunction_group(pairs.len() as i32);
                }
                for (s, t) in pairs {
                    b = b.insert(s, t, 0);
                }
                let connected = connect_counter(&orb, &ch, &b.build());
                consumers.insert(words[1].to_owned(), connected);
                "ok".to_owned()
            }
            Some("disconnect") => {
                // The counter stays, to be read after.
                consumers[words[1]].1.disconnect_push_supplier().unwrap();
                "ok".to_owned()
            }
            Some("publish") => {
                let mut e = rtec::event(num(1), num(2));
                e.header.ttl = num(3);
                for _ in 0..num(4) {
                    supplier.push(std::slice::from_ref(&e)).unwrap();
                }
                "ok".to_owned()
            }
            Some("count") => {
                let n = consumers[words[1]].0 .0.lock().unwrap().len();
                format!("{n}")
            }
            Some("types") => {
                let got = consumers[words[1]].0 .0.lock().unwrap().clone();
                got.iter()
                    .map(|e| format!("{}/{}/{}", e.header.source, e.header.r#type, e.header.ttl))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Some("sync") => {
                let deadline = Instant::now() + Duration::from_secs(30);
                while !gateways.values().all(|g| g.stats().synced) {
                    assert!(Instant::now() < deadline, "{name}: gateways never synced");
                    std::thread::sleep(Duration::from_millis(5));
                }
                "ok".to_owned()
            }
            Some("gw") => {
                let s = gateways[words[1]].stats();
                let subscribed: Vec<String> = s
                    .subscribed
                    .iter()
                    .map(|(s, t)| format!("{s}/{t}"))
                    .collect();
                format!(
                    "{} {} {} {} {} {}",
                    s.received,
                    s.forwarded,
                    s.expired,
                    s.connects,
                    s.synced,
                    subscribed.join(",")
                )
            }
            Some("stats") => {
                let s = channel.stats();
                format!("{} {} {}", s.pushed, s.unsubscribed, s.consumers.len())
            }
            Some("quit") => {
                for (_, g) in gateways.drain() {
                    g.shutdown();
                }
                channel.destroy();
                writeln!(out, "bye").unwrap();
                out.flush().unwrap();
                orb.shutdown(true);
                return;
            }
            other => panic!("{name}: unknown command {other:?}"),
        };
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
}

// ---- the test's side of a node -------------------------------------------------------------

struct Node {
    name: String,
    child: Child,
    stdin: ChildStdin,
    /// The node's lines, read by a thread of their own so that a wait for one is bounded.
    lines: Receiver<String>,
}

/// The next line, within a minute: a node that hangs fails the test instead of hanging it.
fn read_line(lines: &Receiver<String>, what: &str) -> String {
    match lines.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no answer from the node"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the node closed its output"),
    }
}

fn reader(stdout: ChildStdout) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Node {
    fn spawn(dir: &Path, name: &str) -> Node {
        Node::spawn_with(dir, name, "")
    }

    /// A node whose channel also takes `ec_args`.
    fn spawn_with(dir: &Path, name: &str, ec_args: &str) -> Node {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(NODE_ENV, name)
            .env(DIR_ENV, dir)
            .env(EC_ARGS_ENV, ec_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = reader(child.stdout.take().unwrap());
        assert_eq!(read_line(&lines, name), "ready");
        Node {
            name: name.to_owned(),
            child,
            stdin,
            lines,
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        read_line(&self.lines, &format!("{}: {command}", self.name))
    }

    fn ok(&mut self, command: &str) {
        assert_eq!(self.ask(command), "ok", "{}: {command}", self.name);
    }

    fn count(&mut self, id: &str) -> usize {
        self.ask(&format!("count {id}")).parse().unwrap()
    }

    /// Pushes are oneway (TAO's IDL): waits for consumer `id` to have `n` events, and
    /// fails if it has more.
    fn expect_count(&mut self, id: &str, n: usize) {
        let name = self.name.clone();
        let mut last = 0;
        wait_until(&format!("{name}'s {id} to get {n} events"), || {
            last = self.count(id);
            last >= n
        });
        assert_eq!(last, n, "{name}'s {id}");
    }

    /// Waits for the gateway pulling from `peer` to show `(received, forwarded, expired)`.
    fn expect_gw(&mut self, peer: &str, expected: (u64, u64, u64)) {
        let name = self.name.clone();
        let mut last = (0, 0, 0);
        // `received` is counted before the push on, `forwarded` after it.
        wait_until(
            &format!("{name}'s gateway from {peer} at {expected:?}"),
            || {
                last = self.gw(peer);
                last.0 >= expected.0 && last.1 + last.2 >= expected.1 + expected.2
            },
        );
        assert_eq!(last, expected, "{name}'s gateway from {peer}");
    }

    /// `(received, forwarded, expired)` of the gateway that pulls from `peer`.
    fn gw(&mut self, peer: &str) -> (u64, u64, u64) {
        let s = self.gw_line(peer);
        let w: Vec<&str> = s.split(' ').collect();
        (
            w[0].parse().unwrap(),
            w[1].parse().unwrap(),
            w[2].parse().unwrap(),
        )
    }

    fn gw_line(&mut self, peer: &str) -> String {
        self.ask(&format!("gw {peer}"))
    }

    fn connects(&mut self, peer: &str) -> u64 {
        self.gw_line(peer)
            .split(' ')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap()
    }

    /// `(pushed, unsubscribed, consumers)` of the node's channel.
    fn stats(&mut self) -> (u64, u64, usize) {
        let s = self.ask("stats");
        let w: Vec<&str> = s.split(' ').collect();
        (
            w[0].parse().unwrap(),
            w[1].parse().unwrap(),
            w[2].parse().unwrap(),
        )
    }

    fn quit(mut self) {
        assert_eq!(self.ask("quit"), "bye");
        let _ = self.child.wait();
    }

    fn kill(mut self) {
        // SIGKILL: the node gets no chance to disconnect anything.
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // A failed test still leaves no process behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Polls `done` for up to 30 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- the tests ------------------------------------------------------------------------------

/// Every channel joined to every other (six gateways), events with a ttl of 1: each
/// subscribed remote consumer gets each event once, straight from its supplier's channel;
/// the copy a neighbour would relay has no ttl left and stops at the next gateway. Then a
/// subscription grows and the gateway reconnects with it.
fn three_channels_deliver_exactly_once_to_subscribers() {
    let dir = scratch();
    let mut a = Node::spawn(dir.path(), "a");
    let mut b = Node::spawn(dir.path(), "b");
    let mut c = Node::spawn(dir.path(), "c");
    for (n, peers) in [
        (&mut a, ["b", "c"]),
        (&mut b, ["a", "c"]),
        (&mut c, ["a", "b"]),
    ] {
        for p in peers {
            n.ok(&format!("gateway {p}"));
        }
    }
    b.ok("consume b1 0 20 1 21");
    c.ok("consume c1 1 21");
    a.ok("consume a1 0 22");
    for n in [&mut a, &mut b, &mut c] {
        n.ok("sync");
    }
    // Each gateway asks for its own channel's consumers' wants only: the other gateways'
    // subscriptions there (is_gateway) are not echoed on.
    let subscribed =
        |n: &mut Node, peer: &str| n.gw_line(peer).rsplit(' ').next().map(str::to_owned);
    assert_eq!(subscribed(&mut b, "a").as_deref(), Some("0/20,1/21"));
    assert_eq!(subscribed(&mut b, "c").as_deref(), Some("0/20,1/21"));
    assert_eq!(subscribed(&mut c, "a").as_deref(), Some("1/21"));
    assert_eq!(subscribed(&mut a, "b").as_deref(), Some("0/22"));
    a.ok("publish 1 20 1 5");
    a.ok("publish 1 21 1 5");
    a.ok("publish 2 21 1 5"); // nobody wants source 2's
    a.ok("publish 1 23 1 5"); // nor type 23
    b.ok("publish 7 22 1 3");
    // What each gateway saw: the relayed copies were refused for their spent ttl.
    b.expect_gw("a", (10, 10, 0));
    c.expect_gw("a", (5, 5, 0));
    c.expect_gw("b", (5, 0, 5));
    b.expect_gw("c", (5, 0, 5));
    a.expect_gw("b", (3, 3, 0));
    b.expect_count("b1", 10);
    c.expect_count("c1", 5);
    a.expect_count("a1", 3);
    assert_eq!(c.ask("types c1"), ["1/21/0"; 5].join(" "));
    assert_eq!(a.gw("c"), (0, 0, 0));
    // Source 2's and type 23's events stopped at a's supplier proxy: no gateway asked.
    assert_eq!(a.stats().1, 10);
    // c wants more: a does not allow consumer reconnection, so c's gateway connects a new
    // proxy with the new QOS (TAO's way) and lets the old one go.
    c.ok("consume c2 0 24");
    c.ok("sync");
    assert_eq!(c.connects("a"), 2);
    assert_eq!(a.stats().2, 3); // b's gateway, c's new one, and a1
    a.ok("publish 1 24 1 2");
    c.expect_count("c2", 2);
    assert_eq!(c.count("c1"), 5);
    for n in [a, b, c] {
        n.quit();
    }
}

/// a ← c ← b ← a: each node pulls from the one before it. An event published at a with a
/// ttl of 4 makes four hops (b, c, a, b) and stops at c's gateway.
fn a_loop_of_three_gateways_stops_at_the_ttl() {
    let dir = scratch();
    let mut a = Node::spawn(dir.path(), "a");
    let mut b = Node::spawn(dir.path(), "b");
    let mut c = Node::spawn(dir.path(), "c");
    a.ok("gateway c");
    b.ok("gateway a");
    c.ok("gateway b");
    for n in [&mut a, &mut b, &mut c] {
        n.ok("consume x 0 30");
    }
    for n in [&mut a, &mut b, &mut c] {
        n.ok("sync");
    }
    a.ok("publish 1 30 4 3");
    c.expect_gw("b", (6, 3, 3));
    b.expect_gw("a", (6, 6, 0));
    a.expect_gw("c", (3, 3, 0));
    a.expect_count("x", 6);
    b.expect_count("x", 6);
    c.expect_count("x", 3);
    let mut ttls: Vec<String> = a.ask("types x").split(' ').map(str::to_owned).collect();
    ttls.sort();
    assert_eq!(
        ttls,
        ["1/30/1", "1/30/1", "1/30/1", "1/30/4", "1/30/4", "1/30/4"]
    );
    // Nothing is still going round: the last hop's gateway saw its copies expire and
    // nothing went on from it.
    assert_eq!(c.gw("b"), (6, 3, 3));
    assert_eq!(a.count("x") + b.count("x") + c.count("x"), 15);
    for n in [a, b, c] {
        n.quit();
    }
}

/// b pulls from a, c pulls from b. b is killed with SIGKILL and started again (its IOR file
/// rewritten with a new port): c's gateway finds the new b by itself, and delivery through
/// both resumes; counts are taken only once the gateways have recovered.
fn a_killed_peer_is_found_again_and_delivery_resumes() {
    let dir = scratch();
    let mut a = Node::spawn(dir.path(), "a");
    let mut b = Node::spawn(dir.path(), "b");
    let mut c = Node::spawn(dir.path(), "c");
    b.ok("gateway a");
    c.ok("gateway b");
    b.ok("consume y 0 40");
    c.ok("consume z 0 41");
    b.ok("sync");
    c.ok("sync");
    a.ok("publish 1 40 1 3");
    b.ok("publish 2 41 1 2");
    b.expect_count("y", 3);
    c.expect_count("z", 2);
    assert_eq!(c.connects("b"), 1);

    b.kill();
    let mut b = Node::spawn(dir.path(), "b");
    b.ok("gateway a");
    b.ok("consume y 0 40");
    b.ok("sync");
    wait_until("c's gateway to reconnect to the new b", || {
        let s = c.gw_line("b");
        let w: Vec<&str> = s.split(' ').collect();
        w[3] == "2" && w[4] == "true"
    });
    a.ok("publish 1 40 1 4");
    b.ok("publish 2 41 1 5");
    b.expect_count("y", 4);
    c.expect_count("z", 7);
    c.expect_gw("b", (7, 7, 0));
    // The dead b's gateway proxy in a is reaped once pushes to it fail: a then serves
    // only the new b's gateway.
    wait_until("a to reap the dead gateway", || {
        a.ok("publish 3 40 0 1");
        a.stats().2 == 1
    });
    for n in [a, b, c] {
        n.quit();
    }
}

/// A consumer on the far side leaves: its types stop being forwarded (they stop at the
/// supplier's proxy, as nobody subscribes to them there any more), the others go on. a
/// allows consumer reconnection, so b's gateway changes its QOS in place (no new
/// connection). A gateway shut down disconnects from the remote channel.
fn a_consumer_leaving_stops_forwarding_of_its_types() {
    let dir = scratch();
    let mut a = Node::spawn_with(dir.path(), "a", "-ECConsumerReconnect 1");
    let mut b = Node::spawn(dir.path(), "b");
    let mut c = Node::spawn(dir.path(), "c");
    b.ok("gateway a");
    c.ok("gateway a");
    b.ok("consume k 0 50");
    b.ok("consume m 0 51");
    c.ok("consume n 0 52");
    b.ok("sync");
    c.ok("sync");
    assert!(b.gw_line("a").ends_with(" 0/50,0/51"), "{}", b.gw_line("a"));
    a.ok("publish 1 50 1 2");
    a.ok("publish 1 51 1 2");
    a.ok("publish 1 52 1 2");
    b.expect_count("k", 2);
    b.expect_count("m", 2);
    c.expect_count("n", 2);
    assert_eq!(a.stats(), (6, 0, 2));

    b.ok("disconnect m");
    b.ok("sync");
    assert!(b.gw_line("a").ends_with(" 0/50"), "{}", b.gw_line("a"));
    assert_eq!(b.connects("a"), 1);
    a.ok("publish 1 50 1 2");
    a.ok("publish 1 51 1 2");
    a.ok("publish 1 52 1 2");
    b.expect_count("k", 4);
    c.expect_count("n", 4);
    b.expect_gw("a", (6, 6, 0));
    assert_eq!(b.count("m"), 2);
    // The two type-51 events went nowhere: stopped at a's supplier proxy.
    assert_eq!(a.stats(), (12, 2, 2));

    // A clean shutdown disconnects b's gateway from a.
    b.quit();
    assert_eq!(a.stats().2, 1);
    for n in [a, c] {
        n.quit();
    }
}
