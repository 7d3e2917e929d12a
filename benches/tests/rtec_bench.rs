//! `rtec_bench` runs every section end to end with tiny counts (omniEvents included, as it
//! always is), so the bench cannot rot; its figures are not checked.

use std::process::Command;

#[test]
fn rtec_bench_runs_with_tiny_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_rtec_bench"))
        .args([
            "--events",
            "200",
            "--process-events",
            "20",
            "--pace-us",
            "200",
        ])
        .args(["--burst", "2000", "--daemon-burst", "600", "--rounds", "2"])
        .args([
            "--util-ms",
            "40",
            "--util-steps",
            "10,70",
            "--inversion-ms",
            "40",
        ])
        .args(["--mem-consumers", "10", "--mem-events", "100"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "memory (live heap bytes",
        "per queued event",
        "latency, collocated",
        "latency across processes",
        "twoway cube_long, one every",
        "throughput, collocated",
        "throughput through a channel process",
        "omniEvents ",
        "utilization (paper figs. 15-16)",
        "priority inversion",
    ] {
        assert!(stdout.contains(line), "no {line:?} in\n{stdout}");
    }
    // A row per supplier × consumer case, in both latency tables.
    assert_eq!(stdout.matches("\n  10 ").count(), 8, "{stdout}");
}
