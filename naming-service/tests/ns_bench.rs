//! `ns_bench` runs end to end with tiny counts (against omniNames, as it always does), so the
//! bench cannot rot; its figures are not checked.

use std::process::Command;

#[test]
fn ns_bench_runs_with_tiny_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_ns_bench"))
        .args(["--resolves", "20", "--binds", "16", "--rounds", "2"])
        .arg("--naming-service")
        .arg(env!("CARGO_BIN_EXE_naming-service"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "resolve of a/b.k/c.obj",
        "bind throughput, 1 client(s)",
        "bind throughput, 8 client(s)",
        "ours durable",
        "ours in memory",
        "omniNames",
    ] {
        assert!(stdout.contains(line), "no {line:?} in\n{stdout}");
    }
    // Every one of our rows has its ratio: 3 measurements × 2 configurations.
    assert_eq!(stdout.matches("÷ omniNames").count(), 6, "{stdout}");
}
