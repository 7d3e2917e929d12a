//! Each example server with its client: the server started on 127.0.0.1 and an ephemeral
//! port, its IOR read from its first line, the client run against it and its output checked.
//! Servers are killed by pid when a test ends, passing or not.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running example server; killed and reaped on drop.
struct Server {
    child: Child,
    ior: String,
}

impl Server {
    fn start(exe: &str, args: &[&str]) -> Server {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let mut server = Server {
            child,
            ior: String::new(),
        };
        // Read on a thread, so that a server that prints nothing fails the test in bounded
        // time instead of hanging it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{exe} printed no IOR"));
        assert!(line.starts_with("IOR:"), "{exe} printed {line:?}");
        server.ior = line.trim_end().to_owned();
        server
    }

    /// Kills the server and returns what it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(exe: &str, args: &[&str]) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(exe).args(args).output().expect("client runs");
    let out = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        status.success(),
        "{exe} {args:?}: {status}\n{out}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    out
}

const LOOPBACK: [&str; 2] = ["-ORBendPoint", "giop:tcp:127.0.0.1:0"];

#[test]
fn echo_client_gets_its_message_back() {
    let server = Server::start(env!("CARGO_BIN_EXE_echo_server"), &LOOPBACK);
    let out = run(
        env!("CARGO_BIN_EXE_echo_client"),
        &[&server.ior, "Hello from rtorb"],
    );
    assert_eq!(
        out,
        "I said, \"Hello from rtorb\".\nThe Echo object replied, \"Hello from rtorb\".\n"
    );
    let log = server.stop();
    assert!(
        log.contains("upcall with message \"Hello from rtorb\""),
        "{log}"
    );
}

#[test]
fn echo_client_refuses_what_is_not_an_object_reference() {
    let out = Command::new(env!("CARGO_BIN_EXE_echo_client"))
        .arg("IOR:zz")
        .output()
        .expect("client runs");
    assert!(!out.status.success());
}

/// The cubit client checks every result itself and fails on a wrong one.
fn check_cubit_output(out: &str) {
    assert!(out.contains("cube_long(7) = 343\n"), "{out}");
    assert!(
        out.contains("cube_struct(Many { o: 3, l: -1290, s: 21 }) = Many { o: 27, l: "),
        "{out}"
    );
    for what in [
        "cube_long ",
        "cube_struct ",
        "cube_seq of 4 longs ",
        "cube_seq of 1024 longs ",
        "ping (oneway) ",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("no {what:?} line in\n{out}"));
        assert!(line.contains(" ok "), "{line}");
    }
}

#[test]
fn cubit_client_over_giop_and_giop_lite() {
    let server = Server::start(
        env!("CARGO_BIN_EXE_cubit_server"),
        &[
            LOOPBACK[0],
            LOOPBACK[1],
            "-ORBliteEndPoint",
            "giop:tcp:127.0.0.1:0",
            "-ORBthreadStrategy",
            "reactive",
        ],
    );
    let client = env!("CARGO_BIN_EXE_cubit_client");
    let out = run(client, &[&server.ior, "--calls", "20"]);
    check_cubit_output(&out);
    assert!(!out.contains("GIOP-lite"), "{out}");

    let out = run(client, &["-ORBgiopLite", "1", &server.ior, "--calls", "20"]);
    check_cubit_output(&out);
    assert!(out.contains("(GIOP-lite)"), "{out}");

    // 2 × (20 + 1) pings arrived; the server logs each power of two.
    let log = server.stop();
    assert!(log.contains("cubit_server: 32 pings"), "{log}");
}
