//! A slow and lossy link: the client calls the server through the harness's proxy (on a host
//! of its own), which delivers every chunk 50 ms ± 20 ms later, and, in the lossy runs, holds
//! 1 % or 10 % of the chunks back a retransmission timeout (200 ms) more, as TCP delivers data
//! whose segment was lost (this machine's kernel has no `netem`). Two client threads call
//! throughout with a 5 s call timeout. Every call must succeed, once (the server's execution
//! log), none outliving its timeout; the table gives the median and p99 of the calls.
//!
//! CI: 4 s per link. `FAULTS_FULL=1`: 30 s.

use rtorb_faults::outcome::{outcomes, Outcome};
use rtorb_faults::report::{table, Row};
use rtorb_faults::scenario::{hang_ms, wait_for_successes, Audit, Scenario};
use std::time::Duration;

const CALL_TIMEOUT_MS: u64 = 5000;
const CLIENT: usize = 0;
const SERVER: usize = 1;
const LINK: usize = 2;

#[test]
fn calls_over_a_slow_lossy_link_all_succeed_and_their_p99_is_reported() {
    let test = "calls_over_a_slow_lossy_link_all_succeed_and_their_p99_is_reported";
    let Some(s) = Scenario::start(test, 3, env!("CARGO_BIN_EXE_faults-agent")).unwrap() else {
        return;
    };
    let seconds = if rtorb_faults::full() { 30 } else { 4 };
    let log = s.path("executed.log");
    let server = s.probe_server(SERVER, 0, &log, &[], &[]).unwrap();
    let upstream = format!("{}:{}", s.hosts.address(SERVER), server.port);
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for loss in [0u32, 1, 10] {
        let loss_arg = loss.to_string();
        let flags = [
            "--delay-ms",
            "50",
            "--jitter-ms",
            "20",
            "--loss-percent",
            &loss_arg,
            "--retransmit-ms",
            "200",
        ];
        let proxy = s.proxy("the slow link", LINK, &upstream, &flags).unwrap();
        let target = proxy.target.clone();
        let prefix = format!("l{loss}");
        let mut client = s
            .probe_client(
                "the client",
                CLIENT,
                &target,
                &prefix,
                CALL_TIMEOUT_MS,
                &["--threads", "2"],
            )
            .unwrap();
        wait_for_successes(&mut client, 2, 0, Duration::from_secs(30)).unwrap();
        std::thread::sleep(Duration::from_secs(seconds));
        client.finish(Duration::from_secs(30)).unwrap();
        drop(proxy);

        let calls = outcomes(&client.stdout);
        let failed: Vec<&Outcome> = calls.iter().filter(|o| !o.ok()).collect();
        assert!(failed.is_empty(), "{loss} % loss: calls failed: {failed:?}");
        let name = format!("delay 50 ± 20 ms, {loss} % loss");
        let mut row = Row::of(&name, &calls, hang_ms(CALL_TIMEOUT_MS));
        let audit = Audit::of(&calls, &log).unwrap();
        assert!(audit.is_clean(), "{audit:?}");
        row.lost_acknowledged = audit.lost_acknowledged.len();
        assert_eq!(row.hangs, 0, "calls outlived their timeout: {calls:?}");
        let (p50, p99) = percentiles(&calls);
        // Each call crosses the link twice (request, reply): at least 2 × (50 - 20) ms.
        assert!(
            p50 >= 60,
            "{name}: a median of {p50} ms is faster than the link allows"
        );
        lines.push(format!(
            "{name}: {} calls, median {p50} ms, p99 {p99} ms",
            calls.len()
        ));
        rows.push(row);
    }
    print!("{}", table(&rows));
    for l in lines {
        println!("{l}");
    }
}

/// The median and 99th percentile of the calls' durations, in ms.
fn percentiles(calls: &[Outcome]) -> (u64, u64) {
    let mut d: Vec<u64> = calls.iter().map(Outcome::duration_ms).collect();
    d.sort_unstable();
    let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}
