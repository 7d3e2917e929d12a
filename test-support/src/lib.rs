//! What the workspace's tests and benches share:
//!
//! - [`skip`]: how a test that cannot run here says so (and is counted by `scripts/test.sh`).
//! - [`netns`]: hosts as network namespaces of this machine joined by veth pairs, with
//!   partitions and heals (`faults`, `examples/mshn`).
#![forbid(unsafe_code)]

pub mod netns;

/// Says why a test did not run: `skipped: TEST: WHY` on stdout, and in the file
/// `scripts/test.sh` collects skips from (`RTORB_SKIP_LOG`), since a passing test's output
/// is captured and never shown.
pub fn skip(test: &str, why: &str) {
    let line = format!("skipped: {test}: {why}");
    println!("{line}");
    if let Some(log) = std::env::var_os("RTORB_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}
