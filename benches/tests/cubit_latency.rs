//! A short run of the `cubit_latency` tool: its server processes start and stop, every case of
//! every section is checked and timed, the tables are printed, and `--only` narrows them.
//! Figures from it mean nothing.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cubit_latency"))
        .args([
            "--rounds",
            "2",
            "--per-round",
            "10",
            "--warmup",
            "5",
            "--oneway-rounds",
            "2",
            "--oneways",
            "50",
            "--colloc-rounds",
            "2",
            "--colloc-batch",
            "10",
        ])
        .args(args)
        .output()
        .expect("cubit_latency runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cubit_latency failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn every_case_of_every_section_runs() {
    let out = run(&[]);
    for op in ["cube_long", "cube_struct", "cube_seq/4", "cube_seq/1024"] {
        assert!(out.contains(&format!("\n{op}: GIOP 1.2 request")), "{out}");
    }
    // Four latency tables and the twoway rates, and for some the oneway table (raw_tcp's
    // there is the oneway floor, rtorb_to_omniorb's tells the client's share).
    for (case, tables) in [
        ("raw_tcp", 6),
        ("omniorb_to_omniorb", 6),
        ("rtorb_to_omniorb", 6),
        ("rtorb_giop_reactive", 6),
        ("rtorb_giop_pool", 6),
        ("rtorb_giop_tpc", 6),
        ("rtorb_giop_adaptive", 5),
        ("rtorb_lite_reactive", 5),
        ("rtorb_uiop_reactive", 5),
    ] {
        let n = out.matches(&format!("\n{case} ")).count();
        assert_eq!(n, tables, "{case}\n{out}");
    }
    for case in ["rtorb_giop_reactive_batched", "rtorb_lite_reactive_batched"] {
        assert_eq!(
            out.matches(&format!("\n{case} ")).count(),
            1,
            "{case}\n{out}"
        );
    }
    // Three tables, and for rtorb's the ratio lines under each.
    for (case, lines) in [
        ("plain_rust_call", 3),
        ("omniorb_collocated", 3),
        ("rtorb_direct", 6),
        ("rtorb_thru_poa", 6),
    ] {
        let n = out.matches(&format!("\n{case} ")).count();
        assert_eq!(n, lines, "{case}\n{out}");
    }
    assert_eq!(out.matches("rtorb_direct ÷ plain_rust_call = ").count(), 3);
    assert_eq!(
        out.matches("rtorb_thru_poa ÷ omniorb_collocated = ")
            .count(),
        3
    );
}

#[test]
fn only_runs_the_cases_named_with_their_baselines() {
    let out = run(&["--only", "rtorb_lite_reactive"]);
    assert!(out.contains("\nrtorb_lite_reactive "), "{out}");
    assert!(out.contains("\nraw_tcp "), "{out}");
    assert!(out.contains("\nomniorb_to_omniorb "), "{out}");
    for absent in [
        "rtorb_giop_pool",
        "rtorb_uiop_reactive",
        "== oneway",
        "== collocated",
    ] {
        assert!(!out.contains(absent), "{absent}\n{out}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_cubit_latency"))
        .args(["--only", "no_such_case"])
        .output()
        .expect("cubit_latency runs");
    assert_eq!(bad.status.code(), Some(2));
}
