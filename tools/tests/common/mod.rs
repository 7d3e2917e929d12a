//! For the tests of the `rtorb` command: the workspace's daemons (`naming-service`,
//! `event-service`, `rt-event-service`) as child processes on ports of the system's choosing,
//! killed by pid when dropped, and the command itself, in the foreground or the background.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

pub const RTORB: &str = env!("CARGO_BIN_EXE_rtorb");

/// How long a child may take to say something before its test fails (rather than hangs).
const PATIENCE: Duration = Duration::from_secs(60);

/// The path of a daemon of another workspace package. Cargo builds only this package's
/// binaries for its tests, so the daemons are built here, once per test binary, by the cargo
/// running the tests, into the same target directory (nothing is rebuilt when fresh).
pub fn daemon_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .ok_or("the test binary is not in target/<profile>/deps")?
            .to_path_buf();
        let target_dir = profile_dir.parent().ok_or("no target directory")?;
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(other) => other.to_owned(),
            None => return Err("no profile directory".into()),
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--profile", &profile, "--target-dir"])
            .arg(target_dir)
            .args(["-p", "naming-service", "-p", "event-service"])
            .args(["--bin", "naming-service", "--bin", "event-service"])
            .args(["--bin", "rt-event-service"])
            .status()
            .map_err(|e| format!("run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of the daemons failed: {status}"));
        }
        Ok(profile_dir)
    });
    match dir {
        Ok(d) => d.join(name),
        Err(e) => panic!("cannot build the daemons the rtorb command is tested with: {e}"),
    }
}

/// A child process killed (SIGKILL) and reaped when dropped, however its test ends.
pub struct Proc {
    pub child: Child,
    /// Lines of its stdout and stderr as they come, each tagged with its stream.
    lines: mpsc::Receiver<(Stream, String)>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Out,
    Err,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward(pipe: impl Read + Send + 'static, stream: Stream, tx: mpsc::Sender<(Stream, String)>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send((stream, line)).is_err() {
                break;
            }
        }
    });
}

impl Proc {
    pub fn spawn(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Proc {
        let mut child = Command::new(program.as_ref())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", program.as_ref()));
        let (tx, rx) = mpsc::channel();
        forward(child.stdout.take().unwrap(), Stream::Out, tx.clone());
        forward(child.stderr.take().unwrap(), Stream::Err, tx);
        Proc {
            child,
            lines: rx,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// Waits for a line on `stream` that `want` accepts; returns it. Panics, with all the
    /// child said, if the child ends or stays silent too long first.
    pub fn wait_for(&mut self, stream: Stream, want: impl Fn(&str) -> bool) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok((s, line)) => {
                    match s {
                        Stream::Out => self.stdout.push(line.clone()),
                        Stream::Err => self.stderr.push(line.clone()),
                    }
                    if s == stream && want(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no awaited line ({e:?}); stdout {:?}, stderr {:?}",
                    self.stdout, self.stderr
                ),
            }
        }
    }

    /// Waits for the child to end by itself; everything it printed, and its status.
    pub fn finish(mut self) -> (std::process::ExitStatus, Vec<String>, Vec<String>) {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok((Stream::Out, line)) => self.stdout.push(line),
                Ok((Stream::Err, line)) => self.stderr.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "the child did not end; stdout {:?}, stderr {:?}",
                    self.stdout, self.stderr
                ),
            }
        }
        let status = self.child.wait().expect("wait for the child");
        (
            status,
            std::mem::take(&mut self.stdout),
            std::mem::take(&mut self.stderr),
        )
    }
}

/// A daemon started with `--port 0`: its IOR (its first line on stdout).
pub fn start_daemon(name: &str, extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let mut daemon = Proc::spawn(daemon_binary(name), &args);
    let ior = daemon.wait_for(Stream::Out, |l| l.starts_with("IOR:"));
    (daemon, ior)
}

/// Runs `rtorb args` to its end.
pub fn rtorb(args: &[&str]) -> Output {
    Command::new(RTORB).args(args).output().expect("run rtorb")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `rtorb args`, which must succeed; its stdout.
pub fn rtorb_ok(args: &[&str]) -> String {
    let out = rtorb(args);
    assert!(
        out.status.success(),
        "rtorb {args:?} failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}
