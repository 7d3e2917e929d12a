//! What the interop tests share: starting a peer process (killed by its pid when dropped, so a
//! failing test leaves nothing running) and running a client to its end.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// A child process, killed (by its pid) and reaped when dropped.
pub struct Proc {
    pub child: Child,
    pub what: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server (a Tester or a ValueTester) and reads the IOR it prints first.
pub fn server(program: &str, args: &[&str]) -> (Proc, String) {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut p = Proc {
        child,
        what: program.to_owned(),
    };
    let stdout = p.child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    // The server prints its IOR once serving, or exits (closing stdout) on failure.
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("reading {}'s IOR: {e}", p.what));
    let ior = line.trim().to_owned();
    if ior.is_empty() {
        // Its stdout closed: it is exiting, and its status says how (its stderr says why).
        let status = p.child.wait();
        panic!("{} exited with {status:?} before printing its IOR", p.what);
    }
    assert!(
        ior.starts_with("IOR:"),
        "{} printed {ior:?} instead of its IOR (exit status {:?})",
        p.what,
        p.child.try_wait()
    );
    (p, ior)
}

/// Runs a client to its end (each bounds its own waits): whether it succeeded, and its output.
pub fn client(program: &str, args: &[&str]) -> (bool, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text.trim().to_owned())
}
