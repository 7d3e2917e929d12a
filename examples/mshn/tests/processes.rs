//! Each component as its own process (`mshn --role ...`), finding the channel through the
//! naming service: a job submitted by a CL process runs on a daemon process; the SA process
//! killed and started again, and a job runs again (the others never held a reference to it:
//! the new SA finds the channel by name and picks up the traffic); and the channel process
//! killed under a naming service of its own, started again, and every component on it again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// Children killed by pid when the test ends, however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `mshn --role ...` and waits for its first line (it prints one when connected).
fn role(port: u16, args: &[&str]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mshn"))
        .arg("--role")
        .args(args)
        .args(["--naming-port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("mshn "), "{args:?} said {line:?}");
    c
}

fn cl(port: u16, program: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mshn"))
        .args(["--role", "cl", "--naming-port", &port.to_string(), "--"])
        .args(program)
        .output()
        .unwrap()
}

fn ran(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "cl failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn components_as_processes_and_an_sa_restarted() {
    let port = free_port();
    let mut kids = Children(Vec::new());
    kids.0.push(role(port, &["channel"]));
    // 200 ms of silence before a platform is dead, so that a busy machine is not a crash.
    kids.0.push(role(port, &["rss", "--misses", "10"]));
    kids.0.push(role(port, &["rrd"]));
    kids.0.push(role(port, &["sa"]));
    kids.0.push(role(port, &["daemon", "--platform", "101"]));
    // The RSS connected before the daemon, so it has the daemon's first status report.
    let out = ran(&cl(port, &["true"]));
    assert!(
        out.starts_with("job ")
            && out.contains("ran on platform 101 (attempt 1)")
            && out.trim_end().ends_with("exit 0"),
        "{out}"
    );
    let out = ran(&cl(port, &["sh", "-c", "exit 3"]));
    assert!(out.trim_end().ends_with("exit 3"), "{out}");

    // The SA dies and a new one starts: it finds the channel by name, and jobs run again.
    let mut sa = kids.0.remove(3);
    sa.kill().unwrap();
    sa.wait().unwrap();
    kids.0.push(role(port, &["sa"]));
    let out = ran(&cl(port, &["true"]));
    assert!(out.contains("ran on platform 101 (attempt 1)"), "{out}");
}

/// `mshn --role cl --jobs 1 -- true`: submits until one job has run (at most 30 s: the
/// components may still be finding a restarted channel), then one more; its report.
fn cl_settled(port: u16) -> String {
    ran(&Command::new(env!("CARGO_BIN_EXE_mshn"))
        .args(["--role", "cl", "--naming-port", &port.to_string()])
        .args(["--jobs", "1", "--", "true"])
        .output()
        .unwrap())
}

#[test]
fn a_killed_channel_process_is_replaced_and_found_through_the_naming_service() {
    let port = free_port();
    let mut kids = Children(Vec::new());
    kids.0.push(role(port, &["naming"]));
    kids.0.push(role(port, &["channel"]));
    kids.0.push(role(port, &["rss", "--misses", "10"]));
    kids.0.push(role(port, &["rrd"]));
    kids.0.push(role(port, &["sa"]));
    kids.0.push(role(port, &["daemon", "--platform", "101"]));
    let out = cl_settled(port);
    assert!(out.contains("once 1"), "{out}");

    // SIGKILL: the channel's connections drop, nothing is said. The naming service is
    // another process and keeps the name; the new channel rebinds it.
    let mut channel = kids.0.remove(1);
    channel.kill().unwrap();
    channel.wait().unwrap();
    kids.0.push(role(port, &["channel"]));
    let out = cl_settled(port);
    assert!(
        out.lines().any(|l| l.starts_with("sample 101 ")) && out.contains("once 1"),
        "{out}"
    );
    // A second naming service on the port is refused, with the reason.
    let dup = Command::new(env!("CARGO_BIN_EXE_mshn"))
        .args(["--role", "naming", "--naming-port", &port.to_string()])
        .output()
        .unwrap();
    assert_eq!(dup.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("already answers on port"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
}
