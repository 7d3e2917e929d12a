//! Soak: 64 client threads on one host put mixed load on real server processes on another —
//! twoway calls and oneways to the probe server, bind/resolve/unbind in the naming service
//! (in memory), pushes into the COS event daemon and a consumer of its events — for
//! `FAULTS_SOAK_SECS` seconds (300 by default: CI's five minutes; an hour is
//! `FAULTS_SOAK_SECS=3600`). Every few seconds the test reads each server's resident memory,
//! threads and open descriptors from `/proc`; after a warm-up it fits a least-squares line
//! through each series and bounds its slope:
//!
//! - RSS: [`RSS_BOUND_KIB_PER_MIN`]. A server that leaks one small buffer per call exceeds it
//!   many times over at these rates: the test computes what a 64-octet leak per call would
//!   give at the call rate measured, checks the bound is below that, and shows it on a control
//!   server that really leaks ([`CONTROL_LEAK`] octets per call), whose slope must exceed it;
//! - threads and fds: [`COUNT_BOUND_PER_MIN`]: one thread or descriptor kept per connection
//!   or per second would exceed it.
//!
//! No operation may fail: the clients report each error as it happens.

use rtorb_faults::metrics::{sample, trends, Sample};
use rtorb_faults::process::{Proc, Stream};
use rtorb_faults::scenario::{Daemon, Scenario};
use std::time::{Duration, Instant};

const CLIENTS: usize = 0;
const SERVERS: usize = 1;
const THREADS: &str = "64";
/// Each client thread's pause between two operations.
const INTERVAL_MS: &str = "2";
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The RSS slope allowed after the warm-up. Allocators settle slowly (arenas, caches): a few
/// hundred KiB of drift over minutes is theirs. A leak of 64 octets per call is at least
/// 40 times this at the rates of this machine's debug build (checked below on the rate
/// measured).
const RSS_BOUND_KIB_PER_MIN: f64 = 512.0;
/// The thread and descriptor slopes allowed: the servers' connections do not come and go
/// under this load, so their counts stay put; one kept per minute would exceed it.
const COUNT_BOUND_PER_MIN: f64 = 0.5;
/// What the control server forgets at every call.
const CONTROL_LEAK: &str = "64";
const CONTROL_SECS: u64 = 40;

/// How long to soak: `FAULTS_SOAK_SECS`, else 300 s.
fn soak_secs() -> u64 {
    match std::env::var("FAULTS_SOAK_SECS") {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            panic!("FAULTS_SOAK_SECS={v:?}: a number of seconds was expected (e.g. 3600)")
        }),
        Err(_) => 300,
    }
}

/// The samples of this long at the start are left out of the trends: connections made,
/// pools and caches filled.
fn warm_up_s(secs: u64) -> f64 {
    (secs as f64 / 5.0).max(20.0)
}

/// The probe server in the servers' host, with `extra` flags; it and its IOR.
fn probe_server(s: &Scenario, extra: &[&str]) -> (Proc, String) {
    let endpoint = format!("giop:tcp:{}:0", s.hosts.address(SERVERS));
    let mut args = vec!["serve", "--endpoint", &endpoint];
    args.extend(extra);
    let mut p = s.agent("the probe server", SERVERS, &args).unwrap();
    let ior = p
        .wait_for(Stream::Out, Duration::from_secs(30), |l| {
            l.starts_with("IOR:")
        })
        .unwrap();
    (p, ior)
}

/// The soak's clients against `probe`, `naming` and `channel`, for at most `secs`.
fn clients(s: &Scenario, probe: &str, naming: &str, channel: &str, secs: u64) -> Proc {
    let endpoint = format!("giop:tcp:{}:0", s.hosts.address(CLIENTS));
    // Past the soak, so that they stop on being told, not by themselves.
    let max = (secs + 600).to_string();
    let args = [
        "soak",
        "--probe",
        probe,
        "--naming",
        naming,
        "--channel",
        channel,
        "--prefix",
        "k",
        "--threads",
        THREADS,
        "--interval-ms",
        INTERVAL_MS,
        "--max-seconds",
        &max,
        "-ORBendPoint",
        &endpoint,
        "-ORBclientCallTimeOutPeriod",
        "10000",
    ];
    s.agent("the soak's clients", CLIENTS, &args).unwrap()
}

/// Samples `servers` every [`SAMPLE_EVERY`] for `secs`, failing as soon as `client` reports
/// an error.
fn watch(servers: &[(&str, u32)], client: &mut Proc, secs: u64) -> Vec<Vec<Sample>> {
    let start = Instant::now();
    let mut samples = vec![Vec::new(); servers.len()];
    loop {
        let at = start.elapsed().as_secs_f64();
        for (i, (what, pid)) in servers.iter().enumerate() {
            let s = sample(*pid, at).unwrap_or_else(|e| panic!("{what}: {e}"));
            samples[i].push(s);
        }
        client.drain();
        let errors: Vec<&String> = client
            .stdout
            .iter()
            .filter(|l| l.starts_with("error "))
            .collect();
        assert!(errors.is_empty(), "the clients failed: {errors:?}");
        if at >= secs as f64 {
            return samples;
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

/// The counts of the clients' `total` line: twoway, oneway, naming, pushed, received, errors.
fn totals(client: &Proc) -> [u64; 6] {
    let line = client
        .stdout
        .iter()
        .find(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("no total line: {:?}", client.stdout));
    let w: Vec<&str> = line.split_whitespace().collect();
    let n = |key: &str| -> u64 {
        let i = w.iter().position(|x| *x == key).expect(key);
        w[i + 1].parse().expect("a count")
    };
    [
        n("twoway"),
        n("oneway"),
        n("naming"),
        n("pushed"),
        n("received"),
        n("errors"),
    ]
}

#[test]
fn soak_of_64_clients_leaves_every_server_flat() {
    let test = "soak_of_64_clients_leaves_every_server_flat";
    let Some(s) = Scenario::start(test, 2, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let secs = soak_secs();
    let naming_program =
        rtorb_faults::workspace_program("naming-service", "naming-service").unwrap();
    let event_program = rtorb_faults::workspace_program("event-service", "event-service").unwrap();
    let (mut probe, probe_ior) = probe_server(&s, &[]);
    let naming: Daemon = s.daemon(SERVERS, &naming_program, 0, &[], false).unwrap();
    let events: Daemon = s.daemon(SERVERS, &event_program, 0, &[], true).unwrap();
    let naming_url = format!(
        "corbaloc::{}:{}/NameService",
        s.hosts.address(SERVERS),
        naming.port
    );
    let channel = events.ior.clone().expect("the channel's IOR");
    let mut client = clients(&s, &probe_ior, &naming_url, &channel, secs);
    let servers = [
        ("probe server", probe.pid()),
        ("naming-service", naming.proc.pid()),
        ("event-service", events.proc.pid()),
    ];
    let samples = watch(&servers, &mut client, secs);
    client.finish(Duration::from_secs(60)).unwrap();
    let [twoway, oneway, naming_ops, pushed, received, errors] = totals(&client);
    let errors_said: Vec<&String> = client
        .stdout
        .iter()
        .filter(|l| l.starts_with("error "))
        .collect();
    assert!(errors == 0 && errors_said.is_empty(), "{errors_said:?}");
    assert!(
        twoway > 0 && oneway > 0 && naming_ops > 0 && pushed > 0 && received > 0,
        "every kind of load ran: {:?}",
        client.stdout.last()
    );
    println!(
        "soak {secs} s, {THREADS} client threads: {twoway} twoways, {oneway} oneways, \
         {naming_ops} bind/resolve/unbind, {pushed} events pushed, {received} received, \
         {errors} errors"
    );

    let warm_up = warm_up_s(secs);
    println!(
        "| server | RSS start → end (MiB) | RSS slope (KiB/min) | threads | threads slope (/min) \
         | fds | fds slope (/min) |"
    );
    println!("|---|---|---:|---|---:|---|---:|");
    let mut over = Vec::new();
    for ((what, _), series) in servers.iter().zip(&samples) {
        let (rss, threads, fds) = trends(series, warm_up);
        let kept: Vec<&Sample> = series.iter().filter(|s| s.at_s >= warm_up).collect();
        let (first, last) = (kept[0], kept[kept.len() - 1]);
        println!(
            "| {what} | {:.1} → {:.1} | {rss:.1} | {} → {} | {threads:.2} | {} → {} | {fds:.2} |",
            first.rss_kib as f64 / 1024.0,
            last.rss_kib as f64 / 1024.0,
            first.threads,
            last.threads,
            first.fds,
            last.fds
        );
        if rss > RSS_BOUND_KIB_PER_MIN || threads > COUNT_BOUND_PER_MIN || fds > COUNT_BOUND_PER_MIN
        {
            over.push(format!(
                "{what}: RSS {rss:.1} KiB/min, threads {threads:.2}/min, fds {fds:.2}/min"
            ));
        }
    }
    // The bound catches a small leak per call at the rate measured: 64 octets a call.
    let calls_per_min = (twoway + oneway) as f64 / (secs as f64 / 60.0);
    let small_leak = calls_per_min * 64.0 / 1024.0;
    println!(
        "the probe server took {calls_per_min:.0} calls/min: a 64-octet leak per call would \
         grow it {small_leak:.0} KiB/min, against the bound of {RSS_BOUND_KIB_PER_MIN} KiB/min"
    );
    assert!(
        small_leak > 4.0 * RSS_BOUND_KIB_PER_MIN,
        "too few calls for the bound to catch a small leak: {calls_per_min:.0}/min"
    );
    assert!(over.is_empty(), "slopes over their bounds: {over:?}");

    // The control: the same load on a probe server that leaks CONTROL_LEAK octets per call.
    probe.kill();
    let (control, control_ior) = probe_server(&s, &["--leak-per-call", CONTROL_LEAK]);
    let mut client = clients(&s, &control_ior, &naming_url, &channel, CONTROL_SECS);
    let samples = watch(&[("control", control.pid())], &mut client, CONTROL_SECS);
    client.finish(Duration::from_secs(60)).unwrap();
    let (rss, _, _) = trends(&samples[0], warm_up_s(CONTROL_SECS) / 2.0);
    println!(
        "control (a server forgetting {CONTROL_LEAK} octets per call): RSS slope {rss:.0} KiB/min"
    );
    assert!(
        rss > RSS_BOUND_KIB_PER_MIN,
        "the leaking control stayed within the bound ({rss:.0} KiB/min): the check cannot fail"
    );
}
