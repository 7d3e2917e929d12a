//! A quick run of the experiments suite (`--quick`): every experiment runs, and writes a CSV of
//! samples for every contender, an SVG plot and its section of the report; `--only` narrows the
//! run, and bad arguments fail with a message. Figures from it mean nothing.
//!
//! The clients experiment's CSV has columns of its own (calls per second and the clients'
//! shares rather than a time per operation), checked apart.

use std::path::Path;
use std::process::{Command, Output};

fn experiments(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args(args)
        .output()
        .expect("the experiments binary runs")
}

fn run_ok(args: &[&str]) {
    let out = experiments(args);
    assert!(
        out.status.success(),
        "experiments {args:?} failed: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The experiments and the contenders each must have samples of.
const EXPERIMENTS: [(&str, &[&str]); 8] = [
    ("op_demux", &["perfect", "linear", "binary", "dynamic"]),
    (
        "servant_demux",
        &["vec_floor", "active_demux", "dynamic_hash", "linear"],
    ),
    (
        "poa_depth",
        &["transient", "persistent", "persistent_after_restart"],
    ),
    ("allocator", &["tss", "global", "tss p99", "global p99"]),
    (
        "collocation",
        &[
            "plain_rust_call",
            "omniorb_collocated",
            "rtorb_direct",
            "rtorb_thru_poa",
            "rtorb_none_uiop",
            "rtorb_none_iiop",
        ],
    ),
    ("giop_lite", &["giop", "giop_lite"]),
    (
        "latency",
        &[
            "raw_tcp",
            "omniorb_to_omniorb",
            "rtorb_to_omniorb",
            "rtorb_giop_reactive",
            "rtorb_giop_pool",
            "rtorb_giop_tpc",
            "rtorb_lite_reactive",
            "rtorb_uiop_reactive",
        ],
    ),
    (
        "oneways",
        &[
            "omniorb_to_omniorb",
            "rtorb_giop_reactive",
            "rtorb_giop_pool",
            "rtorb_giop_tpc",
            "rtorb_giop_reactive_batched",
            "rtorb_lite_reactive_batched",
        ],
    ),
];

/// The clients experiment's servers, and its counts of clients in quick mode.
const CLIENTS_SERVERS: [&str; 6] = [
    "omniorb_tpc",
    "omniorb_pool",
    "rtorb_reactive",
    "rtorb_pool_2",
    "rtorb_pool_4",
    "rtorb_tpc",
];
const QUICK_CLIENTS: [usize; 2] = [1, 2];

/// `dir/NAME.svg` is a whole SVG document.
fn check_svg(dir: &Path, name: &str) {
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg")))
        .unwrap_or_else(|e| panic!("{name}.svg: {e}"));
    assert!(svg.starts_with("<svg"), "{name}.svg: {}", &svg[..80]);
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{name}.svg is cut short"
    );
}

/// `dir/clients.csv` has its header and, for every server and count of clients, a row per
/// round with a positive rate and the clients' calls (each client made at least one, the
/// busiest at least as many as the least busy); the plot names every server.
fn check_clients(dir: &Path, rounds: usize) {
    let csv = std::fs::read_to_string(dir.join("clients.csv")).expect("clients.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("server,clients,round,calls_per_s,max_client_calls,min_client_calls")
    );
    let mut seen = std::collections::HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "clients.csv: {line}");
        let clients: usize = f[1].parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        let _round: usize = f[2].parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        let rate: f64 = f[3].parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        let max: u64 = f[4].parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        let min: u64 = f[5].parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(rate.is_finite() && rate > 0.0, "clients.csv: {line}");
        assert!(min >= 1 && max >= min, "clients.csv: {line}");
        *seen.entry((f[0].to_owned(), clients)).or_insert(0) += 1;
    }
    for server in CLIENTS_SERVERS {
        for clients in QUICK_CLIENTS {
            assert_eq!(
                seen.get(&(server.to_owned(), clients)),
                Some(&rounds),
                "clients.csv: rounds of {server} with {clients} clients"
            );
        }
    }
    assert_eq!(
        seen.len(),
        CLIENTS_SERVERS.len() * QUICK_CLIENTS.len(),
        "{csv}"
    );
    check_svg(dir, "clients");
    let svg = std::fs::read_to_string(dir.join("clients.svg")).unwrap();
    for server in CLIENTS_SERVERS {
        assert!(svg.contains(server), "clients.svg has no line of {server}");
    }
}

/// `dir/NAME.csv` has the header and well-formed rows (a positive, finite time) for every one
/// of `series`; `dir/NAME.svg` is an SVG document.
fn check_outputs(dir: &Path, name: &str, series: &[&str]) {
    let csv = std::fs::read_to_string(dir.join(format!("{name}.csv")))
        .unwrap_or_else(|e| panic!("{name}.csv: {e}"));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("series,x,round,ns"), "{name}.csv");
    let mut seen = std::collections::HashSet::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "{name}.csv: {line}");
        fields[1]
            .parse::<f64>()
            .unwrap_or_else(|e| panic!("{name}.csv x: {line}: {e}"));
        fields[2]
            .parse::<usize>()
            .unwrap_or_else(|e| panic!("{name}.csv round: {line}: {e}"));
        let ns: f64 = fields[3]
            .parse()
            .unwrap_or_else(|e| panic!("{name}.csv ns: {line}: {e}"));
        assert!(ns.is_finite() && ns > 0.0, "{name}.csv: {line}");
        seen.insert(fields[0].to_owned());
    }
    for s in series {
        assert!(seen.contains(*s), "{name}.csv has no samples of {s}");
    }
    check_svg(dir, name);
}

#[test]
fn every_experiment_writes_csv_svg_and_its_report_section() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    run_ok(&["--quick", "--out", out.to_str().unwrap()]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.starts_with("# rtorb experiments"), "{report}");
    assert!(report.contains("Machine: "), "{report}");
    for (name, series) in EXPERIMENTS {
        check_outputs(&out, name, series);
    }
    check_clients(&out, 2);
    for name in EXPERIMENTS
        .map(|(name, _)| name)
        .into_iter()
        .chain(["clients"])
    {
        assert!(report.contains(&format!("## {name}: ")), "{report}");
        assert!(report.contains(&format!("]({name}.svg)")), "{report}");
        assert!(report.contains(&format!("]({name}.csv)")), "{report}");
    }
    // The clients table: a row per count and server, each server's ratio to itself 1.
    for clients in QUICK_CLIENTS {
        for server in CLIENTS_SERVERS {
            let prefix = format!("| {clients} | {server} | ");
            let row = report
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no row {prefix}\n{report}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            match server {
                "omniorb_tpc" => assert_eq!(cells[5], "1.00", "{row}"),
                "omniorb_pool" => assert_eq!(cells[6], "1.00", "{row}"),
                _ => {}
            }
        }
    }
    // Each experiment's table has a row per point: at least the first ratio is a number.
    assert!(report.contains("| linear ÷ perfect |"), "{report}");
    assert!(report.contains("| active_demux ÷ vec_floor |"), "{report}");
    assert!(
        report.contains("| rtorb_direct ÷ omniorb_collocated |"),
        "{report}"
    );
    // GIOP-lite's messages are shorter than GIOP 1.2's by its smaller headers, whatever the
    // body: the same saving on every row of the octets table.
    let octets: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("| operation | GIOP 1.2 request |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(octets.len(), 3, "{report}");
    for row in octets {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let n = |i: usize| {
            cells[i]
                .parse::<usize>()
                .unwrap_or_else(|e| panic!("{row}: {e}"))
        };
        assert!(n(3) < n(2) && n(5) < n(4), "{row}");
        assert_eq!((n(6), n(7)), (n(2) - n(3), n(4) - n(5)), "{row}");
    }
}

#[test]
fn only_runs_the_experiments_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run_ok(&[
        "--quick",
        "--only",
        "op_demux",
        "--out",
        out.to_str().unwrap(),
    ]);
    check_outputs(out, "op_demux", EXPERIMENTS[0].1);
    assert!(!out.join("servant_demux.csv").exists());
    assert!(!out.join("poa_depth.csv").exists());
    assert!(!out.join("collocation.csv").exists());
    assert!(!out.join("giop_lite.csv").exists());
    assert!(!out.join("latency.csv").exists());
    assert!(!out.join("clients.csv").exists());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## op_demux: "), "{report}");
    assert!(!report.contains("## collocation"), "{report}");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = experiments(&["--quick", "--only", "no_such", "--out", "/tmp/x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_such") && err.contains("op_demux"), "{err}");

    let out = experiments(&["--quick", "--out", "/proc/cannot/make/this"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--out"), "{err}");
}
