//! The processes of a scenario: started (in a namespace, through [`crate::netns::Hosts`]),
//! their output lines collected as they come, stopped by pid — SIGKILL when the scenario
//! says so, and always when the guard is dropped, however the test ends.

use crate::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Which of a child's streams a line came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Out,
    Err,
}

/// A child process, killed (SIGKILL) and reaped when dropped.
pub struct Proc {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<(Stream, String)>,
    /// Every line of its standard output read so far.
    pub stdout: Vec<String>,
    /// Every line of its standard error read so far.
    pub stderr: Vec<String>,
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
    /// Starts `command` with its three streams piped; `what` names it in errors.
    pub fn spawn(what: &str, mut command: Command) -> Result<Proc, Error> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error(format!("cannot start {what} ({command:?}): {e}")))?;
        let (tx, rx) = mpsc::channel();
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(Error(format!("{what}: its output was not piped")));
        };
        forward(out, Stream::Out, tx.clone());
        forward(err, Stream::Err, tx);
        Ok(Proc {
            what: what.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines: rx,
            stdout: Vec::new(),
            stderr: Vec::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn keep(&mut self, stream: Stream, line: &str) {
        match stream {
            Stream::Out => self.stdout.push(line.to_owned()),
            Stream::Err => self.stderr.push(line.to_owned()),
        }
    }

    /// Waits up to `patience` for a line on `stream` that `want` accepts, and returns it;
    /// an error with all the child said if it ends or stays silent that long first.
    pub fn wait_for(
        &mut self,
        stream: Stream,
        patience: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, Error> {
        let until = Instant::now() + patience;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((s, line)) => {
                    self.keep(s, &line);
                    if s == stream && want(&line) {
                        return Ok(line);
                    }
                }
                Err(e) => {
                    let why = match e {
                        mpsc::RecvTimeoutError::Timeout => format!("silent for {patience:?}"),
                        mpsc::RecvTimeoutError::Disconnected => "ended".to_owned(),
                    };
                    return Err(Error(format!(
                        "{} {why} before the line awaited; its stdout: {:?}; its stderr: {:?}",
                        self.what, self.stdout, self.stderr
                    )));
                }
            }
        }
    }

    /// The first line on `stream` that `want` accepts, among those read so far or, if none
    /// is, the next to come within `patience`: for a line that may have come while another
    /// stream's was awaited.
    pub fn find_or_wait(
        &mut self,
        stream: Stream,
        patience: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, Error> {
        self.drain();
        let kept = match stream {
            Stream::Out => &self.stdout,
            Stream::Err => &self.stderr,
        };
        match kept.iter().find(|l| want(l)) {
            Some(l) => Ok(l.clone()),
            None => self.wait_for(stream, patience, want),
        }
    }

    /// Takes in the lines that came so far, without waiting.
    pub fn drain(&mut self) {
        while let Ok((s, line)) = self.lines.try_recv() {
            self.keep(s, &line);
        }
    }

    /// Writes a line to its standard input.
    pub fn send(&mut self, line: &str) -> Result<(), Error> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| Error(format!("{}: its standard input is closed", self.what)))?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| Error(format!("{}: writing to its standard input: {e}", self.what)))
    }

    /// Closes its standard input (the agent's clients stop after the call under way), waits
    /// up to `patience` for it to exit and reads all it wrote. An error, and SIGKILL, if it
    /// does not exit in time or exits with a failure.
    pub fn finish(&mut self, patience: Duration) -> Result<(), Error> {
        drop(self.stdin.take());
        let until = Instant::now() + patience;
        loop {
            let status = self
                .child
                .try_wait()
                .map_err(|e| Error(format!("{}: waiting for it: {e}", self.what)))?;
            if let Some(status) = status {
                // The forwarding threads end at end of file: take every last line.
                while let Ok((s, line)) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.keep(s, &line);
                }
                if !status.success() {
                    return Err(Error(format!(
                        "{} exited with {status}; its stderr: {:?}",
                        self.what, self.stderr
                    )));
                }
                return Ok(());
            }
            if Instant::now() >= until {
                self.kill();
                return Err(Error(format!(
                    "{} did not exit within {patience:?} of being told to stop (killed); \
                     its stderr: {:?}",
                    self.what, self.stderr
                )));
            }
            self.drain();
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`, and reaped: it is gone when this returns.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its resident set (`VmRSS` of `/proc/PID/status`), in KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path)
            .map_err(|e| Error(format!("{}: reading {path}: {e}", self.what)))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .ok_or_else(|| Error(format!("{}: no VmRSS in {path}", self.what)))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}
