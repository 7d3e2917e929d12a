//! The README's first command: the showcase runs to the end with nothing set up, and its ORB
//! section reaches the cubit through the embedded naming service in each of its three ways.

use std::process::Command;

#[test]
fn the_showcase_runs_with_nothing_set_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_showcase"))
        .output()
        .expect("running the showcase");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "showcase failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("started in this process"), "{stdout}");
    for way in [
        "remote, GIOP 1.2 over TCP",
        "remote, GIOP-lite over TCP",
        "collocated (ThruPoa)",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(way))
            .unwrap_or_else(|| panic!("no line for {way}:\n{stdout}"));
        assert!(line.contains("cube_long(7) = 343"), "{line}");
    }
}
