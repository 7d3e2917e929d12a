//! A client host and a server host lose each other (the server's end of their link goes
//! down: packets vanish without an error), then the link heals. Two client threads call
//! throughout, with the ORB's call timeout (`-ORBclientCallTimeOutPeriod`) at 1 s. Calls
//! made during the partition fail with TRANSIENT (COMPLETED_NO), COMM_FAILURE or TIMEOUT
//! (COMPLETED_MAYBE); none outlives its timeout; once healed, calls succeed again with no
//! manual step; the server's execution log has every acknowledged call once and no call
//! that reported COMPLETED_NO. A client started during the partition, whose first call
//! has to connect, is bounded by the same timeout (TIMEOUT, COMPLETED_NO), not by the
//! longer connect timeout.
//!
//! A third client thread sends numbered oneways throughout, on the same connection. Per
//! phase (before, during, after the partition, and after the calls recovered) the test
//! reports how many were sent, executed and lost; none is executed twice or out of order,
//! and every oneway sent once twoways succeed again is executed.
//!
//! CI: one partition of 1 s. `FAULTS_FULL=1`: 1 s, 10 s and 60 s.

use rtorb_faults::oneway::{settle, OnewayAudit, Phase, TABLE_HEADER};
use rtorb_faults::outcome::{now_ms, outcomes, Outcome};
use rtorb_faults::report::{table, Row};
use rtorb_faults::scenario::{hang_ms, is_fault_failure, wait_for_successes, Audit, Scenario};
use std::time::Duration;

/// Half the shortest partition: a call made as the link goes down must time out before the
/// heal (with a timeout as long as the partition, the heal could come just in time and
/// leave no call failed, as one CI run saw).
const CALL_TIMEOUT_MS: u64 = 500;
const CLIENT: usize = 0;
const SERVER: usize = 1;

#[test]
fn calls_fail_cleanly_during_a_partition_and_succeed_after_it_heals() {
    let test = "calls_fail_cleanly_during_a_partition_and_succeed_after_it_heals";
    let Some(s) = Scenario::start(test, 2, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let partitions: &[u64] = if rtorb_faults::full() {
        &[1, 10, 60]
    } else {
        &[1]
    };
    let log = s.path("executed.log");
    let server = s.probe_server(SERVER, 0, &log, &[], &[]).unwrap();
    let mut rows = Vec::new();
    let mut oneway_rows = String::new();
    for &seconds in partitions {
        let prefix = format!("p{seconds}");
        let mut client = s
            .probe_client(
                "the client",
                CLIENT,
                &server.ior,
                &prefix,
                CALL_TIMEOUT_MS,
                &["--threads", "2", "--oneways"],
            )
            .unwrap();
        wait_for_successes(&mut client, 20, 0, Duration::from_secs(30)).unwrap();

        let cut = now_ms();
        s.hosts.partition(CLIENT, SERVER).unwrap();
        // A client whose first call comes during the partition: it has to connect.
        let mut newcomer = s
            .probe_client(
                "the client that connects during the partition",
                CLIENT,
                &server.ior,
                &format!("{prefix}n"),
                CALL_TIMEOUT_MS,
                &["--max-calls", "3"],
            )
            .unwrap();
        std::thread::sleep(Duration::from_secs(seconds));
        s.hosts.heal(CLIENT, SERVER).unwrap();
        newcomer.finish(Duration::from_secs(30)).unwrap();
        let healed = now_ms();
        // TCP retransmits on the connection that was cut with exponential backoff, so the
        // first calls after a long partition may still time out: give it that long again.
        let patience = Duration::from_secs(30 + 2 * seconds);
        wait_for_successes(&mut client, 20, healed, patience).unwrap();
        client.finish(Duration::from_secs(10)).unwrap();

        let all = outcomes(&client.stdout);
        let (oneways, calls): (Vec<Outcome>, Vec<Outcome>) =
            all.into_iter().partition(|o| o.op == "oneway");
        check(&calls, cut, healed);
        let recovered = healed + recovery_ms(&calls, healed);
        let phases = [
            ("before", 0, cut),
            ("during", cut, healed),
            ("healed, calls not yet recovered", healed, recovered),
            ("calls recovered", recovered, u64::MAX),
        ]
        .map(|(label, from_ms, to_ms)| Phase {
            label: label.to_owned(),
            from_ms,
            to_ms,
        });
        oneway_rows.push_str(&oneways_after(
            &oneways,
            &log,
            &phases,
            &format!("partition {seconds} s"),
        ));
        let newcomer = outcomes(&newcomer.stdout);
        let odd: Vec<_> = newcomer.iter().filter(|o| !is_fault_failure(o)).collect();
        assert!(odd.is_empty(), "the newcomer failed oddly: {odd:?}");
        let calls = [calls, newcomer].concat();
        let mut row = Row::of(
            &format!("partition {seconds} s"),
            &calls,
            hang_ms(CALL_TIMEOUT_MS),
        );
        let oneway_row = Row::of("oneways", &oneways, hang_ms(CALL_TIMEOUT_MS));
        assert_eq!(
            oneway_row.hangs, 0,
            "oneways outlived the timeout: {oneways:?}"
        );
        let audit = Audit::of(&calls, &log).unwrap();
        assert!(audit.is_clean(), "{audit:?}");
        row.lost_acknowledged = audit.lost_acknowledged.len();
        assert_eq!(row.hangs, 0, "calls outlived their timeout: {calls:?}");
        println!(
            "partition {seconds} s: calls succeed again {} ms after the heal",
            recovery_ms(&calls, healed)
        );
        rows.push(row);
    }
    print!("{}", table(&rows));
    print!("{TABLE_HEADER}{oneway_rows}");
}

/// Checks what became of `oneways` (the phases' last is the one where every oneway sent
/// must arrive) and returns their table rows under `scenario`.
fn oneways_after(
    oneways: &[Outcome],
    log: &std::path::Path,
    phases: &[Phase],
    scenario: &str,
) -> String {
    let odd: Vec<_> = oneways.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "oneways failed oddly: {odd:?}");
    let last = phases.last().expect("phases");
    let must_arrive: Vec<&str> = oneways
        .iter()
        .filter(|o| o.ok() && o.start_ms >= last.from_ms)
        .map(|o| o.id.as_str())
        .collect();
    assert!(
        !must_arrive.is_empty(),
        "no oneway sent after recovery: {oneways:?}"
    );
    let executed = settle(log, &must_arrive, Duration::from_secs(10)).unwrap();
    let audit = OnewayAudit::of(oneways, &executed, phases);
    assert!(audit.is_clean(), "{audit:?}");
    let after = audit.phase(&last.label).expect("oneways after recovery");
    assert_eq!(
        after.lost, 0,
        "oneways sent after recovery were lost: {audit:?}"
    );
    audit.rows(scenario)
}

/// What the calls around one partition must show.
fn check(calls: &[Outcome], cut: u64, healed: u64) {
    let odd: Vec<_> = calls.iter().filter(|o| !is_fault_failure(o)).collect();
    assert!(odd.is_empty(), "failures no fault explains: {odd:?}");
    let before: Vec<_> = calls.iter().filter(|o| o.end_ms < cut && !o.ok()).collect();
    assert!(before.is_empty(), "failed before the partition: {before:?}");
    let during = calls
        .iter()
        .filter(|o| (cut..healed).contains(&o.start_ms) && !o.ok())
        .count();
    assert!(during > 0, "no call failed during the partition: {calls:?}");
    // Each thread's last calls (the 20 awaited were after the heal) succeeded: recovered.
    let last = calls.last().expect("calls were made");
    assert!(last.ok(), "the last call failed: {last:?}");
}

/// How long after the heal the calls that succeed for good began.
fn recovery_ms(calls: &[Outcome], healed: u64) -> u64 {
    let last_failure_end = calls
        .iter()
        .filter(|o| !o.ok())
        .map(|o| o.end_ms)
        .max()
        .unwrap_or(healed);
    calls
        .iter()
        .filter(|o| o.ok() && o.start_ms >= last_failure_end.max(healed))
        .map(|o| o.start_ms.saturating_sub(healed))
        .min()
        .unwrap_or(0)
}
