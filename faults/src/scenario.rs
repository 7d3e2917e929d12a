//! What every scenario does alike: its hosts and scratch directory, the agent's server and
//! clients started in a host, waiting for their calls to succeed, and the server's
//! execution log read back.

use crate::netns::Hosts;
use crate::outcome::{outcomes, Outcome};
use crate::process::{Proc, Stream};
use crate::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a process may take to say it is up.
const START_PATIENCE: Duration = Duration::from_secs(30);

/// Past its timeout, how late a call may end before it counts as hung: the scheduler of a
/// two-core machine that other builds load (one call of a 60 s run once ended more than 1 s
/// late), not the ORB. A call that does not honour its timeout waits far longer (a connect
/// timeout, for ever).
pub const GRACE_MS: u64 = 2000;

/// The longest a call with timeout `timeout_ms` may take before it counts as hung.
pub fn hang_ms(timeout_ms: u64) -> u64 {
    timeout_ms + GRACE_MS
}

/// A scenario's hosts, scratch directory and agent program. Declared before the processes
/// started in it, so that they are dropped (killed) first, then the namespaces deleted.
pub struct Scenario {
    pub hosts: Hosts,
    pub scratch: tempfile::TempDir,
    agent: PathBuf,
}

/// A probe server: the process, its IOR and its port.
pub struct Server {
    pub proc: Proc,
    pub ior: String,
    pub port: u16,
}

impl Scenario {
    /// `n` hosts for test `test`, running `agent` (`env!("CARGO_BIN_EXE_faults-agent")`);
    /// `None`, with the reason printed as a skip, when namespaces cannot be made here.
    pub fn start(test: &str, n: usize, agent: &str) -> Result<Option<Scenario>, Error> {
        if let Some(why) = Hosts::unavailable() {
            crate::skip(test, &why);
            return Ok(None);
        }
        let scratch = tempfile::Builder::new()
            .prefix("rtorb-faults-")
            .tempdir()
            .map_err(|e| Error(format!("cannot make a scratch directory: {e}")))?;
        let tag: String = test
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        Ok(Some(Scenario {
            hosts: Hosts::create(crate::netns::OWNER, &tag, n)?,
            scratch,
            agent: PathBuf::from(agent),
        }))
    }

    /// A file in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// `faults-agent ARGS` in host `host`.
    pub fn agent(&self, what: &str, host: usize, args: &[&str]) -> Result<Proc, Error> {
        let mut c = self.hosts.command(host, &self.agent);
        c.args(args);
        Proc::spawn(what, c)
    }

    /// A probe client: `faults-agent call` in host `host`, calling `target` with call ids
    /// `PREFIX-THREAD-N` and the ORB's call timeout at `timeout_ms`; `flags` add to that
    /// (`--threads 4`, `--fill N`, `--max-calls 3`...).
    pub fn probe_client(
        &self,
        what: &str,
        host: usize,
        target: &str,
        prefix: &str,
        timeout_ms: u64,
        flags: &[&str],
    ) -> Result<Proc, Error> {
        let timeout = timeout_ms.to_string();
        let mut args = vec!["call", "--target", target, "--prefix", prefix];
        args.extend(flags);
        // ORB options last: the agent takes them as its trailing arguments.
        args.extend(["-ORBclientCallTimeOutPeriod", &timeout]);
        self.agent(what, host, &args)
    }

    /// `program ARGS` in host `host`.
    pub fn program(
        &self,
        what: &str,
        host: usize,
        program: &Path,
        args: &[&str],
    ) -> Result<Proc, Error> {
        let mut c = self.hosts.command(host, program);
        c.args(args);
        Proc::spawn(what, c)
    }

    /// The probe server in host `host` on `port` (0: the system's choice), logging its
    /// executions to `log`, with ORB options `orb_args` and environment variables `env`;
    /// returns once it serves.
    pub fn probe_server(
        &self,
        host: usize,
        port: u16,
        log: &Path,
        orb_args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, Error> {
        let endpoint = format!("giop:tcp:{}:{port}", self.hosts.address(host));
        let log = log.display().to_string();
        let mut c = self.hosts.command(host, &self.agent);
        c.args(["serve", "--endpoint", &endpoint, "--log", &log])
            .args(orb_args)
            .envs(env.iter().copied());
        let mut proc = Proc::spawn("the probe server", c)?;
        let ior = proc.wait_for(Stream::Out, START_PATIENCE, |l| l.starts_with("IOR:"))?;
        let listening = proc.wait_for(Stream::Out, START_PATIENCE, |l| {
            l.starts_with("listening on giop:tcp:")
        })?;
        let port = port_of(&listening)?;
        Ok(Server { proc, ior, port })
    }
}

/// A daemon of the workspace (`event-service`, `rt-event-service`, `naming-service`) started
/// in a host: the process, the port of its "listening on" line, and the IOR it printed on
/// its standard output, if it prints one.
pub struct Daemon {
    pub proc: Proc,
    pub port: u16,
    pub ior: Option<String>,
}

impl Scenario {
    /// `program --endpoint giop:tcp:ADDR:PORT ARGS` in host `host` (`port` 0: the system's
    /// choice); returns once it said `NAME: listening on` (NAME the program's file name)
    /// and, when `prints_ior`, its IOR.
    pub fn daemon(
        &self,
        host: usize,
        program: &Path,
        port: u16,
        args: &[&str],
        prints_ior: bool,
    ) -> Result<Daemon, Error> {
        let name = program
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error(format!("{} names no program", program.display())))?;
        let endpoint = format!("giop:tcp:{}:{port}", self.hosts.address(host));
        let mut all = vec!["--endpoint", &endpoint];
        all.extend(args);
        let mut proc = self.program(name, host, program, &all)?;
        let ior = if prints_ior {
            Some(proc.find_or_wait(Stream::Out, START_PATIENCE, |l| l.starts_with("IOR:"))?)
        } else {
            None
        };
        let marker = format!("{name}: listening on giop:tcp:");
        let line = proc.find_or_wait(Stream::Err, START_PATIENCE, |l| l.starts_with(&marker))?;
        Ok(Daemon {
            proc,
            port: port_of(&line)?,
            ior,
        })
    }
}

/// The harness's proxy (`faults-agent proxy`) running in a host.
pub struct ProxyHost {
    pub proc: Proc,
    /// Where a probe client reaches the server through it: `corbaloc::HOST:PORT/probe`.
    pub target: String,
}

impl Scenario {
    /// The proxy in host `host`, carrying connections to `upstream` (`ADDR:PORT`) with the
    /// agent's proxy `flags` (`--delay-ms 50`, `--stall-replies`...); returns once it listens.
    pub fn proxy(
        &self,
        what: &str,
        host: usize,
        upstream: &str,
        flags: &[&str],
    ) -> Result<ProxyHost, Error> {
        let listen = format!("{}:0", self.hosts.address(host));
        let mut args = vec!["proxy", "--listen", &listen, "--upstream", upstream];
        args.extend(flags);
        let mut proc = self.agent(what, host, &args)?;
        let line = proc.wait_for(Stream::Out, START_PATIENCE, |l| {
            l.starts_with("proxy listening on ")
        })?;
        let target = format!(
            "corbaloc::{}:{}/probe",
            self.hosts.address(host),
            port_of(&line)?
        );
        Ok(ProxyHost { proc, target })
    }
}

/// The port at the end of a `... giop:tcp:HOST:PORT` line.
pub fn port_of(line: &str) -> Result<u16, Error> {
    line.trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error(format!("no port at the end of {line:?}")))
}

/// Waits until `client` has reported `n` successful calls that started at or after
/// `after_ms` (Unix milliseconds), within `patience`. Oneways do not count: one that
/// returned was only handed to the connection.
pub fn wait_for_successes(
    client: &mut Proc,
    n: usize,
    after_ms: u64,
    patience: Duration,
) -> Result<(), Error> {
    let until = Instant::now() + patience;
    let mut seen = outcomes(&client.stdout)
        .iter()
        .filter(|o| confirmed(o, after_ms))
        .count();
    while seen < n {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error(format!(
                "only {seen} of {n} calls succeeded within {patience:?}; the last outcomes: {:?}",
                client.stdout.iter().rev().take(10).collect::<Vec<_>>()
            )));
        }
        client.wait_for(Stream::Out, left, |l| {
            Outcome::parse(l).is_some_and(|o| confirmed(&o, after_ms))
        })?;
        seen += 1;
    }
    Ok(())
}

/// A twoway call that started at or after `after_ms` and succeeded.
fn confirmed(o: &Outcome, after_ms: u64) -> bool {
    o.ok() && o.op != "oneway" && o.start_ms >= after_ms
}

/// How many times each call id is in a probe server's execution log.
pub fn executions(log: &Path) -> Result<HashMap<String, usize>, Error> {
    let text = std::fs::read_to_string(log).map_err(|e| {
        Error(format!(
            "cannot read the execution log {}: {e}",
            log.display()
        ))
    })?;
    let mut counts = HashMap::new();
    for id in text.lines() {
        *counts.entry(id.to_owned()).or_default() += 1;
    }
    Ok(counts)
}

/// The failures a fault may cause: the peer unreachable, the connection lost, no reply in
/// time. Anything else (a MARSHAL, an UNKNOWN, OBJECT_NOT_EXIST) is a bug the fault showed.
pub fn is_fault_failure(o: &Outcome) -> bool {
    match &o.result {
        Ok(()) => true,
        Err(f) => matches!(
            (f.kind.as_str(), f.completed.as_str()),
            // TIMEOUT may be NO: the deadline can pass before the request is written.
            ("TRANSIENT", "NO") | ("COMM_FAILURE", "MAYBE") | ("TIMEOUT", "NO" | "MAYBE")
        ),
    }
}

/// What a probe server's execution log says of the calls its clients made.
#[derive(Debug, Default)]
pub struct Audit {
    /// Calls reported successful that the log does not have: acknowledged, then lost.
    pub lost_acknowledged: Vec<String>,
    /// Calls reported `COMPLETED_NO` that the log has: run although the client was told not.
    pub ran_though_completed_no: Vec<String>,
    /// Calls the log has more than once: a retry ran a request twice.
    pub ran_twice: Vec<String>,
}

impl Audit {
    /// Checks `outcomes` (of `execute` calls) against the execution counts of `log`.
    pub fn of(outcomes: &[Outcome], log: &Path) -> Result<Audit, Error> {
        let ran = executions(log)?;
        let mut audit = Audit::default();
        for o in outcomes.iter().filter(|o| o.op == "execute") {
            let n = ran.get(&o.id).copied().unwrap_or(0);
            match &o.result {
                Ok(()) if n == 0 => audit.lost_acknowledged.push(o.id.clone()),
                Err(f) if f.completed == "NO" && n > 0 => {
                    audit.ran_though_completed_no.push(o.id.clone())
                }
                _ => {}
            }
        }
        audit.ran_twice = ran
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| id)
            .collect();
        Ok(audit)
    }

    pub fn is_clean(&self) -> bool {
        self.lost_acknowledged.is_empty()
            && self.ran_though_completed_no.is_empty()
            && self.ran_twice.is_empty()
    }
}
