//! The COS event daemon (`event-service`, its channel in a persistent POA on a fixed port)
//! is killed with SIGKILL and restarted on its port again and again, while two suppliers on
//! another host push numbered events (`event_service::ReconnectingPushSupplier`) and two
//! push consumers there receive them (`ReconnectingPushConsumer`), all through the IOR the
//! daemon printed on its first run. Suppliers and consumers connect again by themselves.
//! The same with the real-time daemon (`rt-event-service`) and its reconnecting clients
//! (`event_service::rtec::RtecReconnectingPushSupplier`, `...Consumer`), whose pushes are
//! oneways: "acknowledged" is then "sent", and an event is due to a consumer only once
//! its supplier, too, had connected to the run (before, it went to a proxy the restarted
//! channel no longer had, and was dropped unanswered).
//!
//! What the channel promises, and what is checked: a push that returned `Ok` was queued for
//! every consumer connected when it came. So, per consumer, an acknowledged event is
//!
//! - *delivered*;
//! - or pushed before that consumer had connected to the channel's current run: for no one
//!   ("not due"), not a loss;
//! - or *lost in the channel*: queued in the memory of a run that was then killed. These are
//!   reported; for each supplier and run they must be the last events acknowledged (the
//!   channel delivers in order: a hole before a delivered event would be a loss of another
//!   kind);
//! - otherwise *lost acknowledged*, which must be 0: acknowledged by the run still alive at
//!   the end, to a consumer connected, and never delivered.
//!
//! No event is delivered twice, out of its supplier's order, or if its push reported
//! COMPLETED_NO; none is invented. Pushes whose fate was unknown (COMPLETED_MAYBE) are not
//! pushed again by the supplier, and are reported with what became of them.
//!
//! CI: 5 kills of each daemon. `FAULTS_FULL=1`: 50.

use rtorb_faults::outcome::{now_ms, outcomes, Outcome};
use rtorb_faults::process::{Proc, Stream};
use rtorb_faults::scenario::{hang_ms, is_fault_failure, wait_for_successes, Scenario};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

const CLIENTS: usize = 0;
const CHANNEL: usize = 1;
const CALL_TIMEOUT_MS: u64 = 2000;
/// How long a supplier's push keeps trying while the channel is away.
const PATIENCE_MS: u64 = 5000;
const SUPPLIERS: usize = 2;
const CONSUMERS: usize = 2;

/// Which channel a scenario kills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cos,
    Rt,
}

impl Kind {
    fn program(self) -> &'static str {
        match self {
            Kind::Cos => "event-service",
            Kind::Rt => "rt-event-service",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Cos => "COS channel",
            Kind::Rt => "RT channel (oneway pushes)",
        }
    }

    /// The agent's flags for this kind of channel.
    fn flags(self) -> &'static [&'static str] {
        match self {
            Kind::Cos => &[],
            Kind::Rt => &["--rt"],
        }
    }
}

/// The daemon in the channel's host on `port` (0: the system's choice): it, its IOR and
/// its port, once it listens.
fn start_daemon(s: &Scenario, program: &Path, port: u16) -> (Proc, String, u16) {
    let d = s.daemon(CHANNEL, program, port, &[], true).unwrap();
    (d.proc, d.ior.expect("an IOR"), d.port)
}

/// What a consumer printed: the times it (re)connected, and the events with when they came.
#[derive(Default)]
struct Received {
    connected: Vec<u64>,
    events: Vec<String>,
}

fn received(lines: &[String]) -> Received {
    let mut r = Received::default();
    for l in lines {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.as_slice() {
            ["connected", _, ms] => r.connected.push(ms.parse().expect("a time")),
            ["event", id, _] => r.events.push((*id).to_owned()),
            _ => {}
        }
    }
    r
}

/// Waits until consumer `c` has said it connected `n` times.
fn wait_connected(c: &mut Proc, n: usize) {
    let have = received(&c.stdout).connected.len();
    for _ in have..n {
        c.wait_for(Stream::Out, Duration::from_secs(30), |l| {
            l.starts_with("connected ")
        })
        .unwrap();
    }
}

/// `PREFIX-N` → (`PREFIX`, N).
fn supplier_and_number(id: &str) -> (&str, u64) {
    let (s, n) = id.rsplit_once('-').expect("PREFIX-N");
    (s, n.parse().expect("a number"))
}

/// One consumer's account of the acknowledged events.
#[derive(Debug, Default)]
struct Account {
    delivered: usize,
    /// Acknowledged (sent) before the consumer (and, RT, the supplier) had connected to the run.
    not_due: usize,
    lost_in_channel: usize,
    lost_acknowledged: Vec<String>,
    /// Lost in a killed run, though a later event of the same supplier and run came.
    holes: Vec<String>,
    duplicated: Vec<String>,
    reordered: Vec<String>,
    invented: Vec<String>,
    delivered_though_completed_no: Vec<String>,
    /// Of the pushes whose fate was unknown, those this consumer got.
    unknown_delivered: usize,
}

/// An acknowledged event a consumer was due: its number, whether it came, its id.
type Due<'a> = (u64, bool, &'a str);

/// The first of `connected` in the run from `start` to `next`.
fn connected_in(connected: &[u64], start: u64, next: u64) -> Option<u64> {
    connected.iter().find(|&&c| c >= start && c < next).copied()
}

/// Audits what consumer `got` received against the suppliers' `pushes`, the channel's runs
/// starting at `starts` (Unix ms; the first is 0). `suppliers` has, by supplier prefix, when
/// each connected, where that decides what reached the channel (oneway pushes); a supplier
/// not there counts as connected.
fn account(
    pushes: &[Outcome],
    starts: &[u64],
    got: &Received,
    suppliers: &HashMap<String, Vec<u64>>,
) -> Account {
    let mut a = Account::default();
    let mut times: HashMap<&str, usize> = HashMap::new();
    let mut last: HashMap<&str, u64> = HashMap::new();
    for id in &got.events {
        *times.entry(id).or_default() += 1;
        let (supplier, n) = supplier_and_number(id);
        if last.get(supplier).is_some_and(|&prev| n <= prev) {
            a.reordered.push(id.clone());
        }
        last.insert(supplier, n);
    }
    a.duplicated = times
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| (*id).to_owned())
        .collect();
    let by_id: HashMap<&str, &Outcome> = pushes.iter().map(|o| (o.id.as_str(), o)).collect();
    a.invented = times
        .keys()
        .filter(|id| !by_id.contains_key(**id))
        .map(|id| (*id).to_owned())
        .collect();
    // Per (supplier, run): the acknowledged events the consumer was due, in push order,
    // and whether each came.
    let mut due: BTreeMap<(String, usize), Vec<Due>> = BTreeMap::new();
    let last_run = starts.len() - 1;
    for o in pushes {
        let came = times.contains_key(o.id.as_str());
        match &o.result {
            Err(f) if f.completed == "NO" => {
                if came {
                    a.delivered_though_completed_no.push(o.id.clone());
                }
                continue;
            }
            Err(_) => {
                a.unknown_delivered += usize::from(came);
                continue;
            }
            Ok(()) => {}
        }
        if came {
            a.delivered += 1;
        }
        // The run that acknowledged it: the last started before the acknowledgement came.
        let run = starts.iter().rposition(|&s| s <= o.end_ms).unwrap_or(0);
        let next = starts.get(run + 1).copied().unwrap_or(u64::MAX);
        let (supplier, _) = supplier_and_number(&o.id);
        let supplier_in = suppliers
            .get(supplier)
            .map_or(Some(0), |c| connected_in(c, starts[run], next));
        let connected = connected_in(&got.connected, starts[run], next)
            .zip(supplier_in)
            .map(|(c, s)| c.max(s));
        // Strictly after: a push in the very millisecond of the line may have begun before
        // the connect it reports returned (the line comes after it, in the same ms).
        let was_due = connected.is_some_and(|c| o.start_ms > c);
        if !was_due {
            a.not_due += usize::from(!came);
            continue;
        }
        let (supplier, n) = supplier_and_number(&o.id);
        due.entry((supplier.to_owned(), run))
            .or_default()
            .push((n, came, &o.id));
        if !came {
            if run == last_run {
                a.lost_acknowledged.push(o.id.clone());
            } else {
                a.lost_in_channel += 1;
            }
        }
    }
    for ((_, run), mut events) in due {
        if run == last_run {
            continue;
        }
        events.sort();
        // The lost ones of a killed run are its last: none before one that came.
        let last_came = events.iter().rposition(|(_, came, _)| *came);
        if let Some(last_came) = last_came {
            a.holes.extend(
                events[..last_came]
                    .iter()
                    .filter(|(_, came, _)| !came)
                    .map(|(_, _, id)| (*id).to_owned()),
            );
        }
    }
    a
}

#[test]
fn cos_event_channel_killed_and_restarted_loses_no_acknowledged_event_it_kept() {
    killed_and_restarted(
        "cos_event_channel_killed_and_restarted_loses_no_acknowledged_event_it_kept",
        Kind::Cos,
    );
}

#[test]
fn rt_event_channel_killed_and_restarted_loses_no_event_sent_once_reconnected() {
    killed_and_restarted(
        "rt_event_channel_killed_and_restarted_loses_no_event_sent_once_reconnected",
        Kind::Rt,
    );
}

fn killed_and_restarted(test: &str, kind: Kind) {
    let Some(s) = Scenario::start(test, 2, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let program = rtorb_faults::workspace_program("event-service", kind.program()).unwrap();
    let kills = if rtorb_faults::full() { 50 } else { 5 };
    let (mut daemon, ior, port) = start_daemon(&s, &program, 0);
    let timeout = CALL_TIMEOUT_MS.to_string();
    let patience = PATIENCE_MS.to_string();
    let consumer_endpoint = format!("giop:tcp:{}:0", s.hosts.address(CLIENTS));
    let mut consumers: Vec<Proc> = (0..CONSUMERS)
        .map(|_| {
            let mut args = vec!["consume", "--channel", &ior];
            args.extend(kind.flags());
            args.extend([
                "-ORBendPoint",
                &consumer_endpoint,
                "-ORBclientCallTimeOutPeriod",
                &timeout,
            ]);
            s.agent("a consumer", CLIENTS, &args).unwrap()
        })
        .collect();
    for c in &mut consumers {
        wait_connected(c, 1);
    }
    let mut suppliers: Vec<Proc> = (0..SUPPLIERS)
        .map(|i| {
            let prefix = format!("s{i}");
            let mut args = vec![
                "supply",
                "--channel",
                &ior,
                "--prefix",
                &prefix,
                "--patience-ms",
                &patience,
                "--interval-ms",
                "5",
            ];
            args.extend(kind.flags());
            args.extend(["-ORBclientCallTimeOutPeriod", &timeout]);
            s.agent("a supplier", CLIENTS, &args).unwrap()
        })
        .collect();
    for p in &mut suppliers {
        wait_for_successes(p, 10, 0, Duration::from_secs(30)).unwrap();
    }
    let mut starts = vec![0];
    for k in 0..kills {
        daemon.kill();
        // Down a while: pushes meet a refused connection, not only a lost one.
        std::thread::sleep(Duration::from_millis(200));
        let restarted = now_ms();
        (daemon, _, _) = start_daemon(&s, &program, port);
        starts.push(restarted);
        for c in &mut consumers {
            wait_connected(c, k + 2);
        }
        for p in suppliers.iter_mut().filter(|_| kind == Kind::Rt) {
            wait_connected(p, k + 2);
        }
        for p in &mut suppliers {
            wait_for_successes(p, 10, restarted, Duration::from_secs(30)).unwrap();
        }
    }
    let mut pushes: Vec<Outcome> = Vec::new();
    let mut supplier_connected: HashMap<String, Vec<u64>> = HashMap::new();
    for (i, p) in suppliers.iter_mut().enumerate() {
        p.finish(Duration::from_secs(30)).unwrap();
        pushes.extend(outcomes(&p.stdout));
        if kind == Kind::Rt {
            supplier_connected.insert(format!("s{i}"), received(&p.stdout).connected);
        }
    }
    // Since when each supplier's events reach the channel's last run.
    let reaching = |o: &Outcome| {
        let (supplier, _) = supplier_and_number(&o.id);
        supplier_connected
            .get(supplier)
            .and_then(|c| c.last().copied())
            .unwrap_or(0)
    };
    // The last run's acknowledged events on their way to the consumers: let them arrive.
    let until = Instant::now() + Duration::from_secs(10);
    for c in &mut consumers {
        while Instant::now() < until {
            c.drain();
            let got = received(&c.stdout);
            let since = *got.connected.last().expect("connected");
            let arrived = pushes
                .iter()
                .filter(|o| o.ok() && o.start_ms > since.max(reaching(o)))
                .all(|o| got.events.contains(&o.id));
            if arrived {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for c in &mut consumers {
        c.finish(Duration::from_secs(30)).unwrap();
    }
    drop(daemon);

    let odd: Vec<_> = pushes.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "pushes failed oddly: {odd:?}");
    let hang = hang_ms(PATIENCE_MS + CALL_TIMEOUT_MS);
    let hangs: Vec<_> = pushes.iter().filter(|o| o.duration_ms() > hang).collect();
    assert!(
        hangs.is_empty(),
        "pushes outlived their patience: {hangs:?}"
    );
    let acknowledged = pushes.iter().filter(|o| o.ok()).count();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for o in &pushes {
        if let Err(f) = &o.result {
            *failures.entry(f.label()).or_default() += 1;
        }
    }
    println!(
        "| scenario | pushed | acknowledged (COS) / sent (RT) | failures by kind | hangs | consumer | delivered \
         | not due (before reconnecting) | lost in the channel | lost acknowledged | unknown fate, delivered |"
    );
    println!("|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|");
    let mut lost_acknowledged = 0;
    for (i, c) in consumers.iter().enumerate() {
        let got = received(&c.stdout);
        assert_eq!(
            got.connected.len(),
            kills + 1,
            "consumer {i} connected {:?}",
            got.connected
        );
        let a = account(&pushes, &starts, &got, &supplier_connected);
        println!(
            "| {} kill -9 x{kills} | {} | {acknowledged} | {} | {} | {i} | {} | {} | {} | {} | {} |",
            kind.label(),
            pushes.len(),
            failures_text(&failures),
            hangs.len(),
            a.delivered,
            a.not_due,
            a.lost_in_channel,
            a.lost_acknowledged.len(),
            a.unknown_delivered
        );
        assert!(a.duplicated.is_empty(), "consumer {i}: {a:?}");
        assert!(a.reordered.is_empty(), "consumer {i}: {a:?}");
        assert!(a.invented.is_empty(), "consumer {i}: {a:?}");
        assert!(
            a.delivered_though_completed_no.is_empty(),
            "consumer {i}: {a:?}"
        );
        let holes: Vec<&Outcome> = pushes.iter().filter(|o| a.holes.contains(&o.id)).collect();
        assert!(
            a.holes.is_empty(),
            "consumer {i}: {a:?}; the holes' pushes {holes:?}; runs from {starts:?}; \
             consumer connected {:?}; suppliers connected {supplier_connected:?}",
            got.connected
        );
        assert!(a.delivered > 0, "consumer {i}: {a:?}");
        lost_acknowledged += a.lost_acknowledged.len();
        assert!(a.lost_acknowledged.is_empty(), "consumer {i}: {a:?}");
    }
    assert_eq!(lost_acknowledged, 0);
}

fn failures_text(failures: &BTreeMap<String, usize>) -> String {
    if failures.is_empty() {
        return "none".to_owned();
    }
    let parts: Vec<String> = failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

/// The account can fail: a hole in a killed run, an event lost by the run alive at the end,
/// a duplicate and an invented event are all seen.
#[test]
fn the_event_account_sees_what_it_must() {
    let push = |n: u64, start_ms: u64| Outcome {
        op: "push".into(),
        id: format!("s0-{n}"),
        start_ms,
        end_ms: start_ms + 1,
        result: Ok(()),
    };
    // Run 0 from 0, run 1 from 100; the consumer connected at 10 and at 120.
    let pushes: Vec<Outcome> = [5, 20, 30, 40, 110, 130, 140]
        .iter()
        .enumerate()
        .map(|(n, &t)| push(n as u64, t))
        .collect();
    let got = |events: &[&str]| Received {
        connected: vec![10, 120],
        events: events.iter().map(|s| s.to_string()).collect(),
    };
    let none = HashMap::new();
    let clean = account(
        &pushes,
        &[0, 100],
        &got(&["s0-1", "s0-2", "s0-5", "s0-6"]),
        &none,
    );
    assert_eq!(
        (clean.delivered, clean.not_due, clean.lost_in_channel),
        (4, 2, 1)
    );
    assert!(clean.lost_acknowledged.is_empty() && clean.holes.is_empty());
    let bad = account(
        &pushes,
        &[0, 100],
        &got(&["s0-1", "s0-3", "s0-5", "s0-5", "s9-1"]),
        &none,
    );
    assert_eq!(bad.holes, vec!["s0-2".to_string()]);
    assert_eq!(bad.lost_acknowledged, vec!["s0-6".to_string()]);
    assert_eq!(bad.duplicated, vec!["s0-5".to_string()]);
    assert_eq!(bad.invented, vec!["s9-1".to_string()]);
}
