//! The probe server, its object in a PERSISTENT POA on a fixed port, is killed with
//! SIGKILL and restarted on the same port, again and again, while four client threads on
//! another host call it through the reference of its first run. Clients reconnect by
//! themselves; that reference works again after every restart; failures are TRANSIENT
//! (COMPLETED_NO), COMM_FAILURE or TIMEOUT (COMPLETED_MAYBE); the execution log, which
//! every run appends to, has each acknowledged call exactly once and no call that reported
//! COMPLETED_NO.
//!
//! CI: 3 restarts. `FAULTS_FULL=1`: 30.

use rtorb_faults::outcome::{now_ms, outcomes};
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
            &["--threads", "4", "--interval-ms", "5"],
        )
        .unwrap();
    wait_for_successes(&mut client, 10, 0, Duration::from_secs(30)).unwrap();
    for _ in 0..restarts {
        server.proc.kill();
        // Down for a while: calls meet a refused connection, not only a lost one.
        std::thread::sleep(Duration::from_millis(300));
        let restarted = now_ms();
        server = s.probe_server(SERVER, port, &log, &[], &[]).unwrap();
        assert_eq!(server.port, port);
        // Calls made through the first run's reference succeed again.
        wait_for_successes(&mut client, 10, restarted, Duration::from_secs(30)).unwrap();
    }
    client.finish(Duration::from_secs(10)).unwrap();

    let calls = outcomes(&client.stdout);
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
}
