//! `ev_bench` runs end to end with tiny counts (against omniEvents, as it always does), so the
//! bench cannot rot; its figures are not checked.

use std::process::Command;

#[test]
fn ev_bench_runs_with_tiny_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_ev_bench"))
        .args(["--events", "20", "--burst", "600", "--rounds", "2"])
        .arg("--event-service")
        .arg(env!("CARGO_BIN_EXE_event-service"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "push latency, 1 consumer:",
        "push latency, 4 consumers (to the last of them):",
        "throughput, 1 supplier to 1 consumer",
        "ours ",
        "omniEvents ",
    ] {
        assert!(stdout.contains(line), "no {line:?} in\n{stdout}");
    }
    // Each of our three rows has its ratio.
    assert_eq!(stdout.matches("÷ omniEvents").count(), 3, "{stdout}");
}
