//! `mshn bench` as a correctness check of the deployments in processes: every job runs
//! exactly once and each one's traced events are the seven-event path in order — on one
//! host (a), and across three network namespaces joined by veth pairs with a channel in
//! each, federated through the channel's gateways (d: SA, RSS, RRD | CL | daemons). The
//! bench's latency figures are printed, never checked.

use mshn::netns::Hosts;
use std::process::{Command, Stdio};
use test_support::skip;

/// Runs `mshn bench --only CONFIG --jobs 20 --trace --misses 25`; both rows (work zero, fork/exec) must
/// say every job ran once along the seven-event path. Returns the bench's pid.
fn bench_checks(config: &str) -> u32 {
    let child = Command::new(env!("CARGO_BIN_EXE_mshn"))
        .args(["bench", "--only", config, "--jobs", "20", "--trace"])
        // Half a second of silence before a daemon is dead: a busy test machine is no crash.
        .args(["--misses", "25"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(&format!("({config})")))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in rows {
        assert!(
            row.ends_with("once 20/20, 7-event path 20/20"),
            "{row}\n{stdout}\n{stderr}"
        );
    }
    pid
}

#[test]
fn processes_on_one_host_run_each_job_once_along_the_seven_event_path() {
    bench_checks("a");
}

#[test]
fn three_namespaces_federated_run_each_job_once_along_the_seven_event_path() {
    if let Some(why) = Hosts::unavailable() {
        skip(
            "three_namespaces_federated_run_each_job_once_along_the_seven_event_path",
            &why,
        );
        return;
    }
    let pid = bench_checks("d");
    // Nothing left behind: the bench deletes its namespaces (named after its pid).
    let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let ours = format!("mshn-{pid}-");
    assert!(
        !String::from_utf8_lossy(&list.stdout)
            .lines()
            .any(|l| l.starts_with(&ours)),
        "namespaces left behind: {}",
        String::from_utf8_lossy(&list.stdout)
    );
}

#[test]
fn bench_refuses_what_it_does_not_know() {
    let out = Command::new(env!("CARGO_BIN_EXE_mshn"))
        .args(["bench", "--only", "e"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown section `e`"), "{stderr}");
}
