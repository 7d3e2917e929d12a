//! A quick run of the experiments suite (`--quick`): every experiment runs, and writes a CSV of
//! samples for every contender, an SVG plot and its section of the report; `--only` narrows the
//! run, and bad arguments fail with a message. Figures from it mean nothing.
//!
//! The events experiment's parts in a network namespace, and the mshn experiment (which needs
//! the `mshn` executable beside the suite's, as `cargo test --workspace` builds it), may be
//! skipped where they cannot run; then the report must say so and why, and nothing of them
//! may be there.
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
            "rtorb_giop_adaptive",
            "rtorb_lite_reactive",
            "rtorb_uiop_reactive",
        ],
    ),
    (
        "oneways",
        &[
            "omniorb_to_omniorb",
            "raw_tcp",
            "rtorb_to_omniorb",
            "rtorb_giop_reactive",
            "rtorb_giop_pool",
            "rtorb_giop_tpc",
            "rtorb_giop_reactive_batched",
            "rtorb_lite_reactive_batched",
        ],
    ),
];

/// The clients experiment's servers, and its counts of clients in quick mode.
const CLIENTS_SERVERS: [&str; 8] = [
    "omniorb_tpc",
    "omniorb_pool",
    "rtorb_reactive",
    "rtorb_adaptive",
    "rtorb_pool_2",
    "rtorb_pool_4",
    "rtorb_tpc",
    "raw_floor",
];
const QUICK_CLIENTS: [usize; 2] = [1, 2];

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
    check_events(&out, &report);
    check_mshn(&out, &report);
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

/// The report's section of experiment `name`.
fn section<'a>(report: &'a str, name: &str) -> &'a str {
    let start = report
        .find(&format!("## {name}: "))
        .unwrap_or_else(|| panic!("no section {name} in\n{report}"));
    let rest = &report[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

/// The events experiment: the collocated latencies and the utilization steps always; the
/// latencies across processes, the twoways and the COS channel beside omniEvents unless the
/// report says they were skipped.
fn check_events(dir: &Path, report: &str) {
    let text = section(report, "events");
    let mut series = vec![
        "colloc_s1_first",
        "colloc_s1_last",
        "colloc_s10_first",
        "colloc_s10_last",
    ];
    if text.contains("**Skipped in this run**") {
        assert!(
            !dir.join("events_cos.svg").exists(),
            "skipped, yet a COS plot: {text}"
        );
    } else {
        series.extend([
            "procs_s1_first",
            "procs_s10_last",
            "twoway_paced",
            "twoway_b2b",
            "cos_ours_latency",
            "cos_omnievents_latency",
            "cos_ours_per_event",
            "cos_omnievents_per_event",
        ]);
        check_svg(dir, "events_cos");
        assert!(
            text.contains("| latency to the last of 4 consumers (µs) |"),
            "{text}"
        );
    }
    check_outputs(dir, "events", &series);
    check_svg(dir, "events_utilization");
    // A row per latency case (2 supplier counts × 4 consumer counts) of 13 cells.
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("| 1 | ") || l.starts_with("| 10 | "))
            .filter(|l| l.matches('|').count() == 14)
            .count(),
        8,
        "{text}"
    );
    // The utilization counts: a row per step (the quick run's two) and kind, each pair's
    // misses no more than its events, and at least one event per pair and step.
    let csv = std::fs::read_to_string(dir.join("events_utilization.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("kind,pair,high_work_pct,total_utilization_pct,events,missed")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 4, "{csv}");
    for r in &rows {
        let (events, missed): (u64, u64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        assert!(events > 0 && missed <= events, "{csv}");
    }
}

/// The mshn experiment: latency samples of every configuration that ran, work zero and
/// fork/exec, a histogram per configuration; or the reason it was skipped.
fn check_mshn(dir: &Path, report: &str) {
    let text = section(report, "mshn");
    if text.contains("**Skipped in this run**: no mshn executable") {
        assert!(!dir.join("mshn.svg").exists(), "{text}");
        return;
    }
    let mut series = vec!["c_work_zero", "c_fork_exec", "a_work_zero", "a_fork_exec"];
    series.extend(["agility_drop", "agility_dead", "detection"]);
    for config in ["b", "d"] {
        // (b) and (d) need root for their namespaces: where `mshn bench` skipped them, the
        // table has no row of them.
        if text.contains(&format!("\n| ({config}) ")) {
            series.push(if config == "b" {
                "b_work_zero"
            } else {
                "d_fork_exec"
            });
            check_svg(dir, &format!("mshn_{config}"));
        }
    }
    check_outputs(dir, "mshn", &series);
    for config in ["a", "c"] {
        check_svg(dir, &format!("mshn_{config}"));
    }
    check_svg(dir, "mshn_agility");
    assert!(
        text.contains("| (c) one process | work zero | 20 |"),
        "{text}"
    );
}

/// `dir/NAME.svg` is a whole SVG document.
fn check_svg(dir: &Path, name: &str) {
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg")))
        .unwrap_or_else(|e| panic!("{name}.svg: {e}"));
    assert!(svg.starts_with("<svg"), "{name}.svg");
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{name}.svg is cut short"
    );
}

#[test]
fn what_cannot_run_here_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // No unshare (nor omniEvents) on an empty PATH: the events experiment's parts in a network
    // namespace cannot run; no mshn executable where --mshn says.
    let run = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args(["--quick", "--only", "events", "mshn", "--mshn"])
        .arg(out.join("no-such-mshn"))
        .arg("--out")
        .arg(out)
        .env("PATH", out.join("empty"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let events = section(&report, "events");
    assert!(
        events.contains("**Skipped in this run**") && events.contains("cannot run unshare"),
        "{events}"
    );
    check_events(out, &report);
    let csv = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(!csv.contains("procs_") && !csv.contains("cos_"), "{csv}");
    let mshn = section(&report, "mshn");
    assert!(
        mshn.contains("no mshn executable at") && mshn.contains("no-such-mshn"),
        "{mshn}"
    );
    check_mshn(out, &report);
}
