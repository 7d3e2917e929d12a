//! The naming service (the `naming-service` daemon, durable with `--data-dir`) is killed
//! with SIGKILL and restarted on its port over and over while clients on another host bind
//! fresh names and resolve the ones they were told were bound. No acknowledged binding is
//! lost (every resolve of one finds it, and the data directory has it at the end), none is
//! invented (every name there was bound by a call that did not report COMPLETED_NO), and
//! the failures are those of a service that is away: TRANSIENT, COMM_FAILURE, TIMEOUT.
//!
//! CI: 10 kills, 4 clients. `FAULTS_FULL=1`: 100 kills, 8 clients.

use naming_service::store::{Store, ROOT};
use rtorb_faults::outcome::{now_ms, outcomes, Outcome};
use rtorb_faults::process::Proc;
use rtorb_faults::report::{table, Row};
use rtorb_faults::scenario::{hang_ms, is_fault_failure, wait_for_successes, Scenario};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

const CALL_TIMEOUT_MS: u64 = 2000;
const CLIENTS: usize = 0;
const SERVICE: usize = 1;

/// The daemon in the service's host on `port` (0: the system's choice); returns it and
/// its port once it listens.
fn start_daemon(s: &Scenario, program: &Path, port: u16, data: &Path) -> (Proc, u16) {
    let data = data.display().to_string();
    let d = s
        .daemon(SERVICE, program, port, &["--data-dir", &data], false)
        .unwrap();
    (d.proc, d.port)
}

#[test]
fn naming_service_killed_repeatedly_loses_and_invents_no_binding() {
    let test = "naming_service_killed_repeatedly_loses_and_invents_no_binding";
    let Some(s) = Scenario::start(test, 2, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let program = rtorb_faults::workspace_program("naming-service", "naming-service").unwrap();
    let (kills, clients) = if rtorb_faults::full() {
        (100, 8)
    } else {
        (10, 4)
    };
    let data = s.path("naming-data");
    let (mut daemon, port) = start_daemon(&s, &program, 0, &data);
    let url = format!("corbaloc::{}:{port}/NameService", s.hosts.address(SERVICE));
    let timeout = CALL_TIMEOUT_MS.to_string();
    let mut procs: Vec<Proc> = (0..clients)
        .map(|c| {
            let prefix = format!("c{c}");
            let args = [
                "naming",
                "--url",
                &url,
                "--prefix",
                &prefix,
                "--interval-ms",
                "5",
                "-ORBclientCallTimeOutPeriod",
                &timeout,
            ];
            s.agent("a naming client", CLIENTS, &args).unwrap()
        })
        .collect();
    for p in &mut procs {
        wait_for_successes(p, 4, 0, Duration::from_secs(30)).unwrap();
    }
    for k in 0..kills {
        daemon.kill();
        let restarted = now_ms();
        (daemon, _) = start_daemon(&s, &program, port, &data);
        // Every client is served again (bind and resolve) before the next kill.
        for p in &mut procs {
            wait_for_successes(p, 2, restarted, Duration::from_secs(30)).unwrap();
        }
        // The kill lands at another point of the clients' calls each time.
        std::thread::sleep(Duration::from_millis(20 * (k % 7)));
    }
    let mut calls: Vec<Outcome> = Vec::new();
    for p in &mut procs {
        p.finish(Duration::from_secs(10)).unwrap();
        calls.extend(outcomes(&p.stdout));
    }
    // The last kill: what is on disk is what any next run would serve.
    daemon.kill();
    let (store, _) = Store::open(&data).unwrap();
    let on_disk: HashSet<String> = store
        .context(ROOT)
        .expect("the root context")
        .keys()
        .map(|(id, _)| id.clone())
        .collect();

    let binds: HashMap<&str, &Outcome> = calls
        .iter()
        .filter(|o| o.op == "bind")
        .map(|o| (o.id.as_str(), o))
        .collect();
    let lost: Vec<&str> = binds
        .iter()
        .filter(|(id, o)| o.ok() && !on_disk.contains(**id))
        .map(|(id, _)| *id)
        .collect();
    // A name the service acknowledged, then said it did not have.
    let not_found: Vec<&Outcome> = calls
        .iter()
        .filter(|o| o.op == "resolve" && o.result.as_ref().is_err_and(|f| f.kind == "NotFound"))
        .collect();
    let invented: Vec<&String> = on_disk
        .iter()
        .filter(|id| {
            binds.get(id.as_str()).is_none_or(|o| {
                o.result
                    .as_ref()
                    .is_err_and(|f| f.completed == "NO" || !is_fault_failure(o))
            })
        })
        .collect();
    let mut row = Row::of(
        &format!("naming kill -9 x{kills}, {clients} clients"),
        &calls,
        hang_ms(CALL_TIMEOUT_MS),
    );
    row.lost_acknowledged = lost.len() + not_found.len();
    print!("{}", table(&[row.clone()]));
    println!(
        "{} bindings acknowledged, {} on disk, {} invented",
        binds.values().filter(|o| o.ok()).count(),
        on_disk.len(),
        invented.len()
    );
    assert!(lost.is_empty(), "acknowledged, then lost: {lost:?}");
    assert!(
        not_found.is_empty(),
        "acknowledged, then not found: {not_found:?}"
    );
    assert!(invented.is_empty(), "invented: {invented:?}");
    let odd: Vec<_> = calls.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "failures no fault explains: {odd:?}");
    assert_eq!(row.hangs, 0, "calls outlived their timeout");
}
