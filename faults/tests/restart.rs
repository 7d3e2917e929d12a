//! The probe server, its object in a PERSISTENT POA on a fixed port, is killed with
//! SIGKILL and restarted on the same port, again and again, while four client threads on
//! another host call it through the reference of its first run. Clients reconnect by
//! themselves; that reference works again after every restart; failures are TRANSIENT
//! (COMPLETED_NO), COMM_FAILURE or TIMEOUT (COMPLETED_MAYBE); the execution log, which
//! every run appends to, has each acknowledged call exactly once and no call that reported
//! COMPLETED_NO.
//!
//! A fifth client thread sends numbered oneways throughout. Those sent while the server
//! is down or just restarted may be lost (written into a connection whose peer is dead);
//! none is executed twice or out of order, and every one sent once twoways succeed again
//! is executed.
//!
//! CI: 3 restarts. `FAULTS_FULL=1`: 30.

use rtorb_faults::oneway::{settle, OnewayAudit, Phase, TABLE_HEADER};
use rtorb_faults::outcome::{now_ms, outcomes, Outcome};
use rtorb_faults::report::{table, Row};
use rtorb_faults::scenario::{hang_ms, is_fault_failure, wait_for_successes, Audit, Scenario};
use std::time::Duration;

const CALL_TIMEOUT_MS: u64 = 2000;
const CLIENT: usize = 0;
const SERVER: usize = 1;

#[test]
fn a_server_killed_and_restarted_is_called_again_through_the_same_reference() {
    let test = "a_server_killed_and_restarted_is_called_again_through_the_same_reference";
    let Some(s) = Scenario::start(test, 2, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let restarts = if rtorb_faults::full() { 30 } else { 3 };
    let log = s.path("executed.log");
    let mut server = s.probe_server(SERVER, 0, &log, &[], &[]).unwrap();
    let (first_ior, port) = (server.ior.clone(), server.port);
    let mut client = s
        .probe_client(
            "the client",
            CLIENT,
            &first_ior,
            "r",
            CALL_TIMEOUT_MS,
            &["--threads", "4", "--interval-ms", "5", "--oneways"],
        )
        .unwrap();
    wait_for_successes(&mut client, 10, 0, Duration::from_secs(30)).unwrap();
    // (killed, serving again) of each restart.
    let mut downs = Vec::new();
    for _ in 0..restarts {
        let killed = now_ms();
        server.proc.kill();
        // Down for a while: calls meet a refused connection, not only a lost one.
        std::thread::sleep(Duration::from_millis(300));
        let restarted = now_ms();
        server = s.probe_server(SERVER, port, &log, &[], &[]).unwrap();
        assert_eq!(server.port, port);
        downs.push((killed, restarted));
        // Calls made through the first run's reference succeed again.
        wait_for_successes(&mut client, 10, restarted, Duration::from_secs(30)).unwrap();
    }
    client.finish(Duration::from_secs(10)).unwrap();

    let (oneways, calls): (Vec<Outcome>, Vec<Outcome>) = outcomes(&client.stdout)
        .into_iter()
        .partition(|o| o.op == "oneway");
    let odd: Vec<_> = calls.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "failures no fault explains: {odd:?}");
    let audit = Audit::of(&calls, &log).unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    let mut row = Row::of(
        &format!("kill -9 and restart x{restarts}"),
        &calls,
        hang_ms(CALL_TIMEOUT_MS),
    );
    row.lost_acknowledged = audit.lost_acknowledged.len();
    assert_eq!(row.hangs, 0, "calls outlived their timeout: {calls:?}");
    print!("{}", table(&[row]));

    let phases = phases(&downs, &calls);
    let oneway_row = Row::of("oneways", &oneways, hang_ms(CALL_TIMEOUT_MS));
    assert_eq!(oneway_row.hangs, 0, "oneways outlived the timeout");
    let odd: Vec<_> = oneways.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "oneways failed oddly: {odd:?}");
    let recovered = |o: &&Outcome| {
        phases
            .iter()
            .any(|p| p.label == RECOVERED && (p.from_ms..p.to_ms).contains(&o.start_ms))
    };
    let must_arrive: Vec<&str> = oneways
        .iter()
        .filter(|o| o.ok())
        .filter(recovered)
        .map(|o| o.id.as_str())
        .collect();
    let executed = settle(&log, &must_arrive, Duration::from_secs(10)).unwrap();
    let audit = OnewayAudit::of(&oneways, &executed, &phases);
    print!(
        "{TABLE_HEADER}{}",
        audit.rows(&format!("kill -9 and restart x{restarts}"))
    );
    assert!(audit.is_clean(), "{audit:?}");
    let after = audit
        .phase(RECOVERED)
        .expect("oneways once calls recovered");
    assert!(after.sent > 0 && after.lost == 0, "{audit:?}");
}

const RECOVERED: &str = "up, calls succeed";

/// The phases of the run: up with calls succeeding (from the first twoway that succeeded
/// after a restart to the next kill), down (kill to serving again), restarted but calls
/// not yet succeeding.
fn phases(downs: &[(u64, u64)], calls: &[Outcome]) -> Vec<Phase> {
    let phase = |label: &str, from_ms, to_ms| Phase {
        label: label.to_owned(),
        from_ms,
        to_ms,
    };
    let mut phases = Vec::new();
    let mut up_from = 0;
    for (i, &(killed, restarted)) in downs.iter().enumerate() {
        phases.push(phase(RECOVERED, up_from, killed));
        phases.push(phase("down", killed, restarted));
        let next_kill = downs.get(i + 1).map_or(u64::MAX, |d| d.0);
        let recovered = calls
            .iter()
            .filter(|o| o.ok() && (restarted..next_kill).contains(&o.start_ms))
            .map(|o| o.start_ms)
            .min()
            .unwrap_or(next_kill);
        phases.push(phase(
            "restarted, calls not yet succeeding",
            restarted,
            recovered,
        ));
        up_from = recovered;
    }
    phases.push(phase(RECOVERED, up_from, u64::MAX));
    phases
}
