//! A short run of the `many_clients` tool: every server process starts and stops (omniORB's
//! in both its thread models), every server is measured with every count of clients, and the
//! table says so. Figures from it mean nothing.

use std::process::Command;

#[test]
fn every_server_is_measured_with_every_count_of_clients() {
    let out = Command::new(env!("CARGO_BIN_EXE_many_clients"))
        .args([
            "--clients",
            "1",
            "--clients",
            "3",
            "--pool-threads",
            "2",
            "--seconds",
            "0.05",
            "--max-calls",
            "200",
            "--rounds",
            "2",
        ])
        .output()
        .expect("many_clients runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "many_clients failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let servers = [
        "omniorb_tpc",
        "omniorb_pool",
        "rtorb_reactive",
        "rtorb_adaptive",
        "rtorb_pool_2",
        "rtorb_tpc",
    ];
    for server in servers {
        for clients in [1, 3] {
            let row = stdout
                .lines()
                .find(|l| {
                    let mut cells = l.split('|').map(str::trim).skip(1);
                    cells.next() == Some(&clients.to_string()) && cells.next() == Some(server)
                })
                .unwrap_or_else(|| panic!("no row for {server} with {clients}\n{stdout}"));
            // calls/s, max/min, ÷ omniORB's two models: numbers; every client made a call,
            // and a server's ratio to itself is 1.
            let cells: Vec<f64> = row
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .skip(2)
                .map(|c| c.parse().unwrap_or_else(|_| panic!("{row}")))
                .collect();
            assert_eq!(cells.len(), 4, "{row}");
            assert!(cells[0] > 0.0 && cells[1] >= 1.0, "{row}");
            assert!(cells[2] > 0.0 && cells[3] > 0.0, "{row}");
            match server {
                "omniorb_tpc" => assert_eq!(cells[2], 1.0, "{row}"),
                "omniorb_pool" => assert_eq!(cells[3], 1.0, "{row}"),
                _ => {}
            }
        }
    }
    assert!(!stdout.contains("rtorb_pool_4"), "{stdout}");
}

#[test]
fn bad_settings_are_refused() {
    for args in [
        &["--seconds", "0"][..],
        &["--clients", "0"],
        &["--pool-threads", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_many_clients"))
            .args(args)
            .output()
            .expect("many_clients runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
