//! `mshn demo --jobs 20` runs to the end: every job listed once, finished once with exit 0,
//! the killed platform's jobs moved and restarted exactly once, and the latency table.

use std::process::Command;

#[test]
fn the_demo_runs_every_job_exactly_once_and_prints_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_mshn"))
        // Ten missed heartbeats (200 ms) before a platform is dead: a machine busy enough
        // to stall a heartbeat thread for 60 ms must not make the test see a second crash.
        .args(["demo", "--jobs", "20", "--misses", "10"])
        .output()
        .expect("running mshn demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The job table: "n attempts platforms exit", one row per job.
    let start = stdout
        .lines()
        .position(|l| l.starts_with("job  attempts"))
        .expect("no job table");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip(start + 1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 20, "{stdout}");
    let mut migrated = 0;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(r[0], (i + 1).to_string());
        assert_eq!(
            r[3],
            "0",
            "job {} did not finish once with 0:\n{stdout}",
            i + 1
        );
        let attempts: usize = r[1].parse().unwrap();
        let platforms: Vec<&str> = r[2].split('>').collect();
        // At most one start per attempt, never two on one platform; a job that moved
        // left 101 (the killed platform) for another. A job scheduled on 101 between the
        // kill and the alarm never started there: it shows one start, on its new platform.
        assert!(
            !platforms.is_empty() && platforms.len() <= attempts,
            "{r:?}"
        );
        if attempts > 1 {
            assert_eq!(attempts, 2, "{r:?}");
            assert_ne!(platforms[platforms.len() - 1], "101", "{r:?}");
            if platforms.len() == 2 {
                assert_eq!(platforms[0], "101", "{r:?}");
            }
            migrated += 1;
        } else {
            assert_eq!(platforms.len(), 1, "{r:?}");
            assert!(["101", "102", "103"].contains(&platforms[0]), "{r:?}");
        }
    }
    assert!(
        stdout.contains("every job finished exactly once: yes (20 of 20)"),
        "{stdout}"
    );
    let killed_with: usize = stdout
        .split("with ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("no kill line");
    assert!(killed_with >= 1, "{stdout}");
    assert!(migrated >= killed_with, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "migrated: {migrated} job(s), restarted elsewhere exactly once: {migrated}"
        )),
        "{stdout}"
    );
    for row in [
        "submit->running, event path (",
        "submit->running, with the daemon's fork/exec",
        &format!("agility: alarm->running elsewhere ({migrated} jobs)"),
        "detection: daemon killed->alarm",
        "thesis (MSHN, 132 ms submit->running) / ours",
    ] {
        assert!(stdout.contains(row), "no `{row}`:\n{stdout}");
    }
}

#[test]
fn bad_arguments_get_a_clear_error() {
    for (args, want) in [
        (
            &["demo", "--jobs", "many"][..],
            "--jobs: `many` is not a valid value",
        ),
        (
            &["demo", "--frobnicate"][..],
            "demo: unknown argument `--frobnicate`",
        ),
        (&["--role", "sa"][..], "--naming-port is required"),
        (
            &["--role", "cl", "--naming-port", "1", "--"][..],
            "`--` must be followed by a program",
        ),
        (&["launch"][..], "expected `demo` or `--role ROLE`"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mshn"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
