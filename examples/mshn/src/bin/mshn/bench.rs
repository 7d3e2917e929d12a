//! `mshn bench`: submit → running latency in four deployments, agility and detection, and
//! the SA's throughput as clients and platforms grow; tables beside the thesis's 132 ms.
//!
//! Deployments (the thesis's four configurations, as this bench maps them):
//! - (a) one host, every component its own process (channel, SA, RSS, RRD, two daemons, CL)
//!   over loopback TCP;
//! - (b) the two daemons (the exec requests' consumers) on a remote host: two network
//!   namespaces, a channel in each, federated by the channel's gateways;
//! - (c) all components in one process (the channel reactive: direct calls);
//! - (d) SA, RSS and RRD on one host, the CL on a second, the daemons on a third: three
//!   namespaces joined pairwise by veth pairs, a channel in each, gateways in a full mesh.
//!
//! (b) and (d) need root (`ip netns`); without it they are reported as skipped, with why.

use super::{percentiles, us, value};
use mshn::bus::Link;
use mshn::cl::{ClientLibrary, Job};
use mshn::idl::mshn as m;
use mshn::netns::Hosts;
use mshn::system::{System, SystemOptions};
use mshn::trace::{is_seven_event_path, Tracer, JOB_TYPES};
use mshn::Error;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELP: &str = "\
usage: mshn bench [--jobs N] [--only SECTIONS] [--rounds R] [--scale-jobs N]
  --jobs N         jobs per latency row (default 1000)
  --only SECTIONS  comma-separated, of: a,b,c,d (latency deployments), agility, scale
                   (default: all)
  --rounds R       kill rounds and resource-drop rounds for agility (default 20)
  --scale-jobs N   jobs per scalability cell (default 2000)
  --misses N       heartbeats (of 20 ms) the RSS misses before a daemon process is dead
                   (default 3; a loaded machine may need more not to suspect live ones)
  --trace          also check each job's seven-event path (deployments a, b, d)
  --csv FILE       also write every latency, agility and detection sample to FILE
                   (`series,ns`; what the experiments suite's `mshn` experiment reads)
Pin it with `taskset -c 1 mshn bench` (its processes inherit the CPU set).";

const THESIS: Duration = Duration::from_millis(132);

/// The CPU share of a latency job. The SA frees a job's share when it hears of its exit,
/// which across hosts may be later than the CL hears of it (another path): a stall of
/// ~12 ms on the daemons' host → SA path once let twenty jobs of 0.1 in a row fill both
/// platforms, and the next was refused. At 0.01 that takes two hundred.
const LATENCY_SHARE: f64 = 0.01;
const WAIT: Duration = Duration::from_secs(60);

pub struct Bench {
    jobs: usize,
    only: Vec<String>,
    rounds: usize,
    scale_jobs: usize,
    trace: bool,
    misses: u32,
    csv: Option<PathBuf>,
    /// Every sample of the latency rows and the agility tables, by series (`a_work_zero`,
    /// `agility_dead`, ...), for `--csv`.
    samples: RefCell<Vec<(String, Duration)>>,
}

impl Bench {
    pub fn parse(args: &[String]) -> Result<Bench, Error> {
        let mut b = Bench {
            jobs: 1000,
            only: ["a", "b", "c", "d", "agility", "scale"]
                .map(String::from)
                .to_vec(),
            rounds: 20,
            scale_jobs: 2000,
            trace: false,
            misses: 3,
            csv: None,
            samples: RefCell::default(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--jobs" => b.jobs = value(a, it.next())?,
                "--rounds" => b.rounds = value(a, it.next())?,
                "--scale-jobs" => b.scale_jobs = value(a, it.next())?,
                "--misses" => b.misses = value(a, it.next())?,
                "--trace" => b.trace = true,
                "--csv" => b.csv = Some(value(a, it.next())?),
                "--only" => {
                    let list: String = value(a, it.next())?;
                    b.only = list.split(',').map(|s| s.trim().to_string()).collect();
                    for s in &b.only {
                        if !["a", "b", "c", "d", "agility", "scale"].contains(&s.as_str()) {
                            return Err(Error::new(format!(
                                "bench: --only: unknown section `{s}`\n{HELP}"
                            )));
                        }
                    }
                }
                "-h" | "--help" => {
                    println!("{HELP}");
                    std::process::exit(0);
                }
                _ => return Err(Error::new(format!("bench: unknown argument `{a}`\n{HELP}"))),
            }
        }
        if b.jobs == 0 || b.rounds == 0 || b.scale_jobs == 0 || b.misses == 0 {
            return Err(Error::new(
                "bench: --jobs, --rounds, --scale-jobs and --misses must be positive",
            ));
        }
        Ok(b)
    }

    fn wants(&self, section: &str) -> bool {
        self.only.iter().any(|s| s == section)
    }

    pub fn run(&self) -> Result<(), Error> {
        let cpus = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("Cpus_allowed_list:")
                        .map(|v| v.trim().to_string())
                })
            })
            .unwrap_or_else(|| "?".into());
        println!(
            "mshn bench: CPUs allowed {cpus}; {} jobs per latency row",
            self.jobs
        );
        let mut failures = Vec::new();
        let sections = self.sections(&mut failures);
        // The samples of what ran, also when a section failed: `--csv` readers say which.
        if let Some(path) = &self.csv {
            self.write_csv(path)?;
        }
        sections?;
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::new(format!("bench: {}", failures.join("; "))))
        }
    }

    fn sections(&self, failures: &mut Vec<String>) -> Result<(), Error> {
        if ["a", "b", "c", "d"].iter().any(|s| self.wants(s)) {
            self.latency(failures)?;
        }
        if self.wants("agility") {
            agility(self.rounds, self)?;
            match Hosts::unavailable() {
                None => agility_deployed(self.rounds, self.misses, self)?,
                Some(why) => println!("agility across namespaces skipped: {why}"),
            }
        }
        if self.wants("scale") {
            scalability(self.scale_jobs, self.misses)?;
        }
        Ok(())
    }

    /// Keeps `samples` of `series` for `--csv`.
    fn record(&self, series: &str, samples: impl IntoIterator<Item = Duration>) {
        self.samples
            .borrow_mut()
            .extend(samples.into_iter().map(|d| (series.to_string(), d)));
    }

    fn write_csv(&self, path: &Path) -> Result<(), Error> {
        let mut out = String::from("series,ns\n");
        for (series, d) in self.samples.borrow().iter() {
            out.push_str(&format!("{series},{}\n", d.as_nanos()));
        }
        std::fs::write(path, out)
            .map_err(|e| Error::new(format!("bench: --csv {}: {e}", path.display())))
    }

    fn latency(&self, failures: &mut Vec<String>) -> Result<(), Error> {
        println!();
        println!(
            "{:<48} {:>8} {:>8} {:>8} {:>9} {:>8}  checks",
            "submit -> running (us)", "min", "median", "p99", "max", "132ms/med"
        );
        let no_ns = Hosts::unavailable();
        for config in ["a", "b", "c", "d"] {
            if !self.wants(config) {
                continue;
            }
            for zero in [true, false] {
                let work = if zero { "work zero" } else { "fork/exec" };
                let label = format!("({config}) {}, {work}", describe(config));
                let run = if config == "c" {
                    in_process(self.jobs, zero, self.trace)
                } else if config != "a" && no_ns.is_some() {
                    println!(
                        "{label:<48} skipped: {}",
                        no_ns.as_deref().unwrap_or_default()
                    );
                    continue;
                } else {
                    deployed(config, self.jobs, zero, self.trace, self.misses)
                };
                match run {
                    Ok(r) => {
                        r.print(&label);
                        let series = format!("{config}_{}", work.replace([' ', '/'], "_"));
                        self.record(&series, r.samples.iter().map(|s| s.1));
                        if r.once != self.jobs || r.seven.is_some_and(|s| s != self.jobs) {
                            failures.push(format!("{label}: a job did not run exactly once"));
                        }
                    }
                    Err(e) => {
                        println!("{label:<48} failed: {e}");
                        failures.push(format!("{label}: {e}"));
                    }
                }
            }
        }
        Ok(())
    }
}

fn describe(config: &str) -> &'static str {
    match config {
        "a" => "one host, processes",
        "b" => "daemons remote (2 ns)",
        "c" => "one process",
        _ => "SA+RSS+RRD | CL | daemons (3 ns)",
    }
}

/// What the CL saw of a run of jobs.
#[derive(Default)]
pub struct Run {
    /// Per job: the platform, submit → running, and the daemon's fork/exec time in that.
    pub samples: Vec<(i32, Duration, Duration)>,
    /// Jobs started once and finished once with exit 0.
    pub once: usize,
    /// Jobs whose traced events were the seven-event path in order (when traced).
    pub seven: Option<usize>,
    /// Jobs per second over the run (several clients at once).
    pub rate: Option<f64>,
    /// Per daemon killed: its dead alarm → its job running elsewhere, and the kill → the
    /// alarm.
    pub agility: Vec<Duration>,
    pub detection: Vec<Duration>,
    /// Alarms the CL heard of.
    pub alarms: Option<usize>,
}

impl Run {
    /// One row: submit → running as the CL measured it (with work zero the daemon spawns
    /// nothing, so that is the events alone; else it includes the daemon's fork/exec).
    fn print(&self, label: &str) {
        let v: Vec<Duration> = self.samples.iter().map(|s| s.1).collect();
        let Some(p) = percentiles(v) else {
            println!("{label:<48} no samples");
            return;
        };
        let n = self.samples.len();
        let seven = self
            .seven
            .map(|s| format!(", 7-event path {s}/{n}"))
            .unwrap_or_default();
        println!(
            "{label:<48} {:>8} {:>8} {:>8} {:>9} {:>8.0}x  once {}/{n}{seven}",
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3]),
            THESIS.as_secs_f64() / p[1].as_secs_f64().max(1e-9),
            self.once
        );
    }

    fn parse(out: &str) -> Result<Run, Error> {
        let mut run = Run::default();
        for line in out.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| -> Result<u64, Error> {
                w.get(i)
                    .and_then(|x| x.parse().ok())
                    .ok_or_else(|| Error::new(format!("the CL's line `{line}` is malformed")))
            };
            match w.first().copied() {
                Some("sample") => run.samples.push((
                    num(1)? as i32,
                    Duration::from_nanos(num(2)?),
                    Duration::from_nanos(num(3)?),
                )),
                Some("once") => run.once = num(1)? as usize,
                Some("seven") => run.seven = Some(num(1)? as usize),
                Some("rate") => run.rate = Some(num(1)? as f64),
                Some("alarms") => run.alarms = Some(num(1)? as usize),
                Some("agility") => run.agility.push(Duration::from_nanos(num(1)?)),
                Some("detection") => run.detection.push(Duration::from_nanos(num(1)?)),
                _ => {}
            }
        }
        Ok(run)
    }

    /// The lines [`Run::parse`] reads.
    pub fn print_lines(&self) {
        for (p, d, s) in &self.samples {
            println!("sample {p} {} {}", d.as_nanos(), s.as_nanos());
        }
        println!("once {}", self.once);
        if let Some(s) = self.seven {
            println!("seven {s}");
        }
        if let Some(r) = self.rate {
            println!("rate {r:.0}");
        }
        if let Some(a) = self.alarms {
            println!("alarms {a}");
        }
        for a in &self.agility {
            println!("agility {}", a.as_nanos());
        }
        for d in &self.detection {
            println!("detection {}", d.as_nanos());
        }
    }
}

/// Submits until one job has run, for at most 30 s: across hosts the gateways learn the
/// subscriptions and the RSS the platforms a little after everything is up.
///
/// A job whose schedule is lost on the way (a gateway not yet subscribed) stays admitted
/// in the SA's ledger for good, so the warm-up jobs demand next to nothing: lost ones must
/// not fill the platforms before the bench starts.
fn warm_up(cl: &ClientLibrary, job: &Job) -> Result<(), Error> {
    let end = Instant::now() + Duration::from_secs(30);
    let mut job = job.clone();
    job.cpu_share = 1e-6;
    job.memory_mb = 0;
    loop {
        let id = cl.submit(&job)?;
        let st = cl.wait_for(id, Duration::from_secs(1), |j| j.is_done());
        if matches!(&st, Ok(j) if j.refused.is_none() && j.start_errors.is_empty()) {
            return Ok(());
        }
        if Instant::now() > end {
            return Err(Error::new(format!(
                "no job ran within 30 s of start (the last: {st:?})"
            )));
        }
    }
}

/// `n` jobs through `cl`, at most `in_flight` at a time, after a warm-up; with `trace`, a
/// tracer on the CL's channel checks each job's events.
pub fn run_jobs(
    link: &Link,
    cl: &ClientLibrary,
    job: &Job,
    n: usize,
    in_flight: usize,
    trace: bool,
) -> Result<Run, Error> {
    let tracer = if trace {
        Some(Tracer::start(link, &JOB_TYPES[..9])?)
    } else {
        None
    };
    warm_up(cl, job)?;
    for _ in 0..3 {
        cl.wait(cl.submit(job)?, WAIT)?;
    }
    let mut ids = Vec::with_capacity(n);
    let mut open = VecDeque::new();
    for _ in 0..n {
        while open.len() >= in_flight {
            if let Some(id) = open.pop_front() {
                cl.wait(id, WAIT)?;
            }
        }
        let id = cl.submit(job)?;
        ids.push(id);
        open.push_back(id);
    }
    for id in open {
        cl.wait(id, WAIT)?;
    }
    let mut run = Run::default();
    for &id in &ids {
        let st = cl.state(id).ok_or_else(|| Error::new("a job vanished"))?;
        if let Some(r) = &st.refused {
            return Err(Error::new(format!("job {id} refused: {r}")));
        }
        if let Some(s) = st.starts.iter().find(|s| s.attempt == 1) {
            run.samples.push((s.platform, s.at - st.submitted, s.spawn));
        }
        if st.starts.len() == 1 && st.exits.len() == 1 && st.exits[0].2 == 0 {
            run.once += 1;
        }
    }
    if let Some(t) = tracer {
        let mut seven = 0;
        for &id in &ids {
            t.wait_for(id, m::EXEC_RESULT_EVENT, 1, Duration::from_secs(10))?;
        }
        // Late duplicates, had there been any, would have arrived by now too.
        std::thread::sleep(Duration::from_millis(200));
        for &id in &ids {
            if is_seven_event_path(&t.path_of(id)) {
                seven += 1;
            } else {
                eprintln!("mshn: job {id}: traced {:?}", t.path_of(id));
            }
        }
        run.seven = Some(seven);
    }
    Ok(run)
}

/// (c): everything in this process.
fn in_process(jobs: usize, zero: bool, trace: bool) -> Result<Run, Error> {
    let s = System::start(SystemOptions {
        platforms: 2,
        zero_work: zero,
        ..SystemOptions::default()
    })?;
    let mut job = Job::new("true", &[]);
    job.cpu_share = LATENCY_SHARE;
    run_jobs(&s.link, &s.cl, &job, jobs, 1, trace)
}

/// A component process of a deployment.
#[derive(Clone, Copy)]
enum Part {
    Sa,
    Rss,
    Rrd,
    /// A process with daemons for the platforms `first..first + count`.
    Daemons(i32, usize),
    /// A process with the daemon of one platform, four times the others' capacity (so the
    /// least loaded: the SA sends the next job there), to be killed.
    Victim(i32),
    Cl,
}

/// The processes of one deployment, killed by pid (and the namespaces deleted) on drop.
struct Deployment {
    exe: PathBuf,
    dir: PathBuf,
    hosts: Option<Hosts>,
    children: Vec<(String, Child)>,
    /// Every host's naming-service port.
    port: String,
    /// The components' standard output, kept open after their first line.
    outputs: Vec<BufReader<std::process::ChildStdout>>,
}

impl Deployment {
    fn command(&self, host: usize) -> Command {
        match &self.hosts {
            Some(h) => h.command(host, &self.exe),
            None => Command::new(&self.exe),
        }
    }

    fn address(&self, host: usize) -> String {
        match &self.hosts {
            Some(h) => h.address(host),
            None => "127.0.0.1".into(),
        }
    }

    fn spawn(&mut self, name: String, host: usize, args: &[String]) -> Result<(), Error> {
        let err = std::fs::File::create(self.dir.join(format!("{name}.err")))?;
        let child = self
            .command(host)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| Error::new(format!("starting {name}: {e}")))?;
        self.children.push((name, child));
        Ok(())
    }

    /// Waits until every process started so far says it is connected (its first line): a
    /// consumer connecting later changes its host's subscriptions while the jobs run.
    fn wait_connected(&mut self) -> Result<(), Error> {
        for k in 0..self.children.len() {
            let Some(stdout) = self.children[k].1.stdout.take() else {
                continue;
            };
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            out.read_line(&mut line)?;
            if !line.starts_with("mshn ") {
                return Err(Error::new(format!(
                    "{} did not start (it said {line:?}):{}",
                    self.children[k].0,
                    self.complaints()
                )));
            }
            self.outputs.push(out);
        }
        Ok(())
    }

    /// What the processes said on standard error, for a failure's report.
    fn complaints(&self) -> String {
        let mut out = String::new();
        for (name, _) in &self.children {
            let text =
                std::fs::read_to_string(self.dir.join(format!("{name}.err"))).unwrap_or_default();
            for line in text.lines().filter(|l| !l.contains("disconnected")).take(5) {
                out.push_str(&format!("\n  {name}: {line}"));
            }
        }
        out
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // MSHN_KEEP=1 keeps the processes' standard error (DIR/NAME.err), to see why.
        if std::env::var_os("MSHN_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn layout(config: &str) -> Vec<Vec<Part>> {
    use Part::*;
    match config {
        "a" => vec![vec![Sa, Rss, Rrd, Daemons(101, 1), Daemons(102, 1), Cl]],
        "b" => vec![
            vec![Sa, Rss, Rrd, Cl],
            vec![Daemons(101, 1), Daemons(102, 1)],
        ],
        _ => vec![
            vec![Sa, Rss, Rrd],
            vec![Cl],
            vec![Daemons(101, 1), Daemons(102, 1)],
        ],
    }
}

/// (a), (b), (d): the layout deployed, the CL running the jobs.
fn deployed(config: &str, jobs: usize, zero: bool, trace: bool, misses: u32) -> Result<Run, Error> {
    let (d, cl) = Deployment::start(&layout(config), zero, misses)?;
    let mut args = vec![
        "--jobs".to_string(),
        jobs.to_string(),
        "--cpu-share".into(),
        LATENCY_SHARE.to_string(),
    ];
    if trace {
        args.push("--trace".into());
    }
    d.run_cl(cl, &args)
}

impl Deployment {
    /// A channel per host (joined by a gateway to every other host's), each part as a
    /// process; and the host where the CL is to run.
    fn start(layout: &[Vec<Part>], zero: bool, misses: u32) -> Result<(Deployment, usize), Error> {
        let hosts = if layout.len() > 1 {
            Some(Hosts::create(mshn::netns::OWNER, "", layout.len())?)
        } else {
            None
        };
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mshn-bench-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // One port for every host's naming service: free here, and free in a new namespace.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
            .to_string();
        let mut d = Deployment {
            exe: std::env::current_exe()?,
            dir,
            hosts,
            children: Vec::new(),
            port,
            outputs: Vec::new(),
        };
        let iors: Vec<PathBuf> = (0..layout.len())
            .map(|i| d.dir.join(format!("channel{i}.ior")))
            .collect();
        for i in 0..layout.len() {
            let mut args: Vec<String> = vec!["--host".into(), d.address(i)];
            args.extend(["--ior-file".into(), iors[i].display().to_string()]);
            for (j, peer) in iors.iter().enumerate() {
                if j != i {
                    args.extend(["--gateway".into(), format!("file://{}", peer.display())]);
                }
            }
            d.spawn_role("channel", format!("channel{i}"), i, &args)?;
        }
        wait_for_files(&iors, &d)?;
        let mut cl = None;
        for (i, parts) in layout.iter().enumerate() {
            for part in parts {
                match *part {
                    Part::Sa => d.spawn_role("sa", "sa".into(), i, &[])?,
                    Part::Rss => {
                        let args = ["--misses".to_string(), misses.to_string()];
                        d.spawn_role("rss", "rss".into(), i, &args)?
                    }
                    Part::Rrd => d.spawn_role("rrd", "rrd".into(), i, &[])?,
                    Part::Daemons(first, count) => {
                        let mut args = vec![
                            "--platform".to_string(),
                            first.to_string(),
                            "--count".into(),
                            count.to_string(),
                        ];
                        if zero {
                            args.push("--zero-work".into());
                        }
                        d.spawn_role("daemon", format!("daemon{first}"), i, &args)?;
                    }
                    Part::Victim(p) => {
                        let args = [
                            "--platform".to_string(),
                            p.to_string(),
                            "--cpu".into(),
                            "4".into(),
                        ];
                        d.spawn_role("daemon", format!("daemon{p}"), i, &args)?;
                    }
                    Part::Cl => cl = Some(i),
                }
            }
        }
        d.wait_connected()?;
        let cl = cl.ok_or_else(|| Error::new("the layout has no CL"))?;
        Ok((d, cl))
    }

    /// The pid of the process started as `name`.
    fn pid_of(&self, name: &str) -> Option<u32> {
        self.children.iter().find(|c| c.0 == name).map(|c| c.1.id())
    }

    fn spawn_role(
        &mut self,
        role: &str,
        name: String,
        host: usize,
        args: &[String],
    ) -> Result<(), Error> {
        let mut all: Vec<String> = [
            "--role",
            role,
            "--naming-port",
            &self.port,
            "--exit-with-parent",
        ]
        .map(String::from)
        .to_vec();
        all.extend_from_slice(args);
        self.spawn(name, host, &all)
    }

    /// A CL process on `host` with `args` (and the program `true`), to its end: what it saw.
    fn run_cl(mut self, host: usize, args: &[String]) -> Result<Run, Error> {
        let mut all: Vec<String> = [
            "--role",
            "cl",
            "--naming-port",
            &self.port,
            "--exit-with-parent",
        ]
        .map(String::from)
        .to_vec();
        all.extend_from_slice(args);
        all.extend(["--", "true"].map(String::from));
        let mut child = self
            .command(host)
            .args(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.dir.join("cl.err"))?)
            .spawn()
            .map_err(|e| Error::new(format!("starting the CL: {e}")))?;
        let mut out = String::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                out.push_str(&line?);
                out.push('\n');
            }
        }
        let status = child.wait()?;
        self.children.push(("cl".into(), child));
        if !status.success() {
            return Err(Error::new(format!(
                "the CL failed ({status}):{}",
                self.complaints()
            )));
        }
        Run::parse(&out)
    }
}

fn wait_for_files(files: &[PathBuf], d: &Deployment) -> Result<(), Error> {
    let end = Instant::now() + Duration::from_secs(30);
    while !files.iter().all(|f: &PathBuf| Path::exists(f)) {
        if Instant::now() > end {
            return Err(Error::new(format!(
                "the channels did not start within 30 s:{}",
                d.complaints()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

// ---- agility --------------------------------------------------------------------------------

/// Rounds of: a resource drop on a platform running jobs (its jobs moved), and a daemon
/// killed while it runs a job (detected, its jobs moved). In one process, real jobs.
fn agility(rounds: usize, bench: &Bench) -> Result<(), Error> {
    let heartbeat = Duration::from_millis(20);
    let misses = 3;
    let mut s = System::start(SystemOptions {
        platforms: 3,
        heartbeat,
        misses,
        ..SystemOptions::default()
    })?;
    let alarms = Tracer::start(&s.link, &[m::RESOURCE_ALARM_EVENT])?;
    let mut job = Job::new("sleep", &["0.3"]);
    job.cpu_share = 0.3;
    let (mut drop_agility, mut dead_agility, mut detection) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // A fresh platform, four times the others' capacity: the least loaded after
        // admission, so the next jobs go there (the SA's policy).
        let platform = 200 + round as i32;
        let d = s.add_platform(platform, 4.0, 4096)?;
        // Resource drop: two jobs on the platform, its capacity cut below one.
        let ids = [s.cl.submit(&job)?, s.cl.submit(&job)?];
        for &id in &ids {
            s.cl.wait_for(id, WAIT, |j| !j.starts.is_empty() || j.is_done())?;
        }
        let before = alarms.seen().len();
        let here: Vec<_> = ids
            .iter()
            .filter(|&&id| s.cl.state(id).is_some_and(|j| j.platform == platform))
            .copied()
            .collect();
        if here.is_empty() {
            return Err(Error::new(format!(
                "round {round}: no job went to platform {platform}"
            )));
        }
        d.set_resources(0.1, 4096);
        drop_agility.extend(moved(&s, &alarms, before, &here)?);
        d.set_resources(4.0, 4096);
        // Killed daemon: one job running there, then the daemon dies.
        let id = s.cl.submit(&job)?;
        s.cl.wait_for(id, WAIT, |j| !j.starts.is_empty() || j.is_done())?;
        if s.cl.state(id).map(|j| j.platform) != Some(platform) {
            return Err(Error::new(format!(
                "round {round}: the job did not go to platform {platform}"
            )));
        }
        let before = alarms.seen().len();
        let killed_at = Instant::now();
        d.kill();
        let (alarm_at, moved_by) = moved_with_alarm(&s, &alarms, before, &[id])?;
        detection.push(alarm_at.saturating_duration_since(killed_at));
        dead_agility.extend(moved_by);
        for id in ids.iter().chain([&id]) {
            s.cl.wait(*id, WAIT)?;
        }
    }
    println!();
    println!(
        "agility and detection, {rounds} rounds, one process, jobs `sleep 0.3` (us)\n{:<48} {:>8} {:>8} {:>8} {:>9}",
        "", "min", "median", "p99", "max"
    );
    let row = |what: &str, v: Vec<Duration>| match percentiles(v.clone()) {
        Some(p) => println!(
            "{:<48} {:>8} {:>8} {:>8} {:>9}",
            format!("{what} ({})", v.len()),
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3])
        ),
        None => println!("{what:<48} -"),
    };
    bench.record("agility_drop", drop_agility.iter().copied());
    bench.record("agility_dead", dead_agility.iter().copied());
    bench.record("detection", detection.iter().copied());
    row("resource drop alarm -> running elsewhere", drop_agility);
    row("daemon dead alarm -> running elsewhere", dead_agility);
    row("detection: daemon killed -> alarm", detection);
    println!(
        "(detection is bounded by the heartbeat: {} misses of {} ms, checked every {} ms)",
        misses,
        heartbeat.as_millis(),
        heartbeat.as_millis() / 4
    );
    Ok(())
}

/// Agility across hosts, (d)'s layout: each round the CL submits a job, which goes to the
/// next victim platform (a daemon process of its own), and kills that process (SIGKILL);
/// the RSS on another host misses its heartbeats and raises the alarm, the SA moves the job,
/// the CL starts it on a survivor. Real jobs (`sleep 0.3`).
fn agility_deployed(rounds: usize, misses: u32, bench: &Bench) -> Result<(), Error> {
    use Part::*;
    let mut daemons = vec![Daemons(101, 2)];
    daemons.extend((0..rounds).map(|r| Victim(200 + r as i32)));
    let layout = [vec![Sa, Rss, Rrd], vec![Cl], daemons];
    let (d, cl) = Deployment::start(&layout, false, misses)?;
    let victims = (0..rounds)
        .map(|r| {
            let p = 200 + r as i32;
            d.pid_of(&format!("daemon{p}"))
                .map(|pid| format!("{p}:{pid}"))
                .ok_or_else(|| Error::new("a victim did not start"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let r = d.run_cl(cl, &["--agility".to_string(), victims.join(",")])?;
    println!();
    println!(
        "agility across namespaces (SA+RSS+RRD | CL | daemons), {rounds} daemon processes killed (us)"
    );
    bench.record("ns_agility_dead", r.agility.iter().copied());
    bench.record("ns_detection", r.detection.iter().copied());
    print_row("daemon dead alarm -> running elsewhere", r.agility);
    print_row("detection: daemon killed -> alarm", r.detection);
    println!(
        "(alarms raised: {} for {rounds} kills; more means live platforms were suspected)",
        r.alarms.unwrap_or_default()
    );
    Ok(())
}

fn print_row(what: &str, v: Vec<Duration>) {
    let n = v.len();
    match percentiles(v) {
        Some(p) => println!(
            "{:<48} {:>8} {:>8} {:>8} {:>9}",
            format!("{what} ({n})"),
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3])
        ),
        None => println!("{what:<48} -"),
    }
}

/// The CL's side of [`agility_deployed`]: `victims` are (platform, pid) pairs.
pub fn run_agility(link: &Link, cl: &ClientLibrary, victims: &[(i32, u32)]) -> Result<Run, Error> {
    let alarms = Tracer::start(link, &[m::RESOURCE_ALARM_EVENT])?;
    warm_up(cl, &Job::new("true", &[]))?;
    let mut job = Job::new("sleep", &["0.3"]);
    job.cpu_share = 0.3;
    let mut run = Run::default();
    let mut ids = Vec::new();
    // Each round kills the victim the job went to (a moved job may be on any of them).
    let mut alive: std::collections::HashMap<i32, u32> = victims.iter().copied().collect();
    for _ in victims {
        // The SA sends a job to a victim (the least loaded) unless it thinks them all dead
        // or full: then the job runs elsewhere, and another is tried.
        let mut tries = 0;
        let (id, st, platform, pid) = loop {
            let id = cl.submit(&job)?;
            ids.push(id);
            let st = cl.wait_for(id, WAIT, |j| !j.starts.is_empty() || j.is_done())?;
            if let Some(pid) = alive.remove(&st.platform) {
                break (id, st.clone(), st.platform, pid);
            }
            tries += 1;
            if tries == 5 {
                return Err(Error::new(format!(
                    "5 jobs in a row went to platforms that are not live victims (the last: {})",
                    st.platform
                )));
            }
            cl.wait(id, WAIT)?;
        };
        let killed_at = Instant::now();
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        if !status.success() {
            return Err(Error::new(format!(
                "kill -KILL {pid} (platform {platform}) failed"
            )));
        }
        let end = Instant::now() + WAIT;
        let alarm = loop {
            let found = alarms.seen().into_iter().find(|a| {
                mshn::wire::decode::<m::ResourceAlarm>(&a.event)
                    .is_ok_and(|x| x.platform == platform)
            });
            if let Some(a) = found {
                break a;
            }
            if Instant::now() > end {
                return Err(Error::new(format!("no alarm for platform {platform}")));
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let alarm_at = mshn::wire::stamp_instant(alarm.stamp_ns);
        run.detection
            .push(alarm_at.saturating_duration_since(killed_at));
        let at_kill = st.attempt;
        let st = cl.wait_for(id, WAIT, |j| {
            j.starts.iter().any(|x| x.attempt > at_kill) || j.is_done()
        })?;
        if let Some(x) = st.starts.iter().find(|x| x.attempt > at_kill) {
            run.agility.push(x.at.saturating_duration_since(alarm_at));
        }
    }
    for id in ids {
        let st = cl.wait(id, WAIT)?;
        if st.exits.iter().any(|e| e.0 == st.attempt && e.2 == 0) {
            run.once += 1;
        }
    }
    // More alarms than kills: a live platform was suspected (its heartbeats late).
    run.alarms = Some(alarms.seen().len());
    Ok(run)
}

/// The times from the alarm after the first `before` alarms to each of `jobs` running on
/// another platform.
fn moved(
    s: &System,
    alarms: &Tracer,
    before: usize,
    jobs: &[m::JobId],
) -> Result<Vec<Duration>, Error> {
    moved_with_alarm(s, alarms, before, jobs).map(|(_, v)| v)
}

fn moved_with_alarm(
    s: &System,
    alarms: &Tracer,
    before: usize,
    jobs: &[m::JobId],
) -> Result<(Instant, Vec<Duration>), Error> {
    let end = Instant::now() + WAIT;
    while alarms.seen().len() <= before {
        if Instant::now() > end {
            return Err(Error::new("no alarm was raised"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    // The RSS's stamp: when it published the alarm (the tracer may hear it after the SA).
    let alarm_at = mshn::wire::stamp_instant(alarms.seen()[before].stamp_ns);
    let mut v = Vec::new();
    for &id in jobs {
        let st = s.cl.wait_for(id, WAIT, |j| {
            j.starts.iter().any(|x| x.attempt > 1) || j.is_done()
        })?;
        if let Some(x) = st.starts.iter().find(|x| x.attempt > 1) {
            v.push(x.at.saturating_duration_since(alarm_at));
        }
    }
    Ok((alarm_at, v))
}

// ---- scalability ----------------------------------------------------------------------------

/// `clients` CLs (ids from `first_id`), each in a thread of its own submitting `per` jobs
/// one after the other; jobs/s over all of them.
pub fn run_clients(
    link: &Link,
    first_id: u16,
    clients: usize,
    job: &Job,
    per: usize,
) -> Result<Run, Error> {
    let cls: Vec<Arc<ClientLibrary>> = (0..clients)
        .map(|c| ClientLibrary::start(link, first_id.wrapping_add(c as u16).max(1)))
        .collect::<Result<_, _>>()?;
    warm_up(&cls[0], job)?;
    // Each client's first job makes its connections; not counted.
    for cl in &cls {
        cl.wait(cl.submit(job)?, WAIT)?;
    }
    let t0 = Instant::now();
    let threads: Vec<_> = cls
        .iter()
        .map(|cl| {
            let (cl, job) = (cl.clone(), job.clone());
            std::thread::spawn(move || -> Result<Run, Error> {
                let mut run = Run::default();
                for _ in 0..per {
                    let st = cl.wait(cl.submit(&job)?, WAIT)?;
                    if let Some(r) = st.refused {
                        return Err(Error::new(format!("refused: {r}")));
                    }
                    if let Some(x) = st.starts.first() {
                        run.samples.push((x.platform, x.at - st.submitted, x.spawn));
                    }
                    if st.starts.len() == 1 && st.exits.len() == 1 && st.exits[0].2 == 0 {
                        run.once += 1;
                    }
                }
                Ok(run)
            })
        })
        .collect();
    let mut all = Run::default();
    for t in threads {
        let r = t
            .join()
            .map_err(|_| Error::new("a client thread panicked"))??;
        all.samples.extend(r.samples);
        all.once += r.once;
    }
    all.rate = Some((per * clients) as f64 / t0.elapsed().as_secs_f64());
    for cl in cls {
        cl.shutdown();
    }
    Ok(all)
}

const CLIENTS: [usize; 3] = [1, 10, 100];
const PLATFORMS: [usize; 3] = [1, 10, 50];

/// A scalability job: small enough that 100 in flight fit on one platform.
fn tiny_job() -> Job {
    let mut job = Job::new("true", &[]);
    job.cpu_share = 0.001;
    job.memory_mb = 1;
    job
}

fn scale_header(what: &str, jobs: usize) {
    println!();
    println!("scalability, {what}, work zero, {jobs} jobs per cell: jobs/s at the SA (median submit -> running us)");
    println!(
        "{:<12} {:>22} {:>22} {:>22}",
        "platforms", "1 client", "10 clients", "100 clients"
    );
}

fn cell(r: &Run, expected: usize) -> String {
    let median = percentiles(r.samples.iter().map(|s| s.1).collect())
        .map(|p| us(p[1]))
        .unwrap_or_default();
    // A job started twice: its platform was suspected dead (heartbeats late under load)
    // and the job moved.
    let lost = if r.once == expected {
        String::new()
    } else {
        format!(" [{} not once]", expected.saturating_sub(r.once))
    };
    format!("{:.0} ({median}){lost}", r.rate.unwrap_or_default())
}

/// Jobs/s at the SA and the median latency, for 1, 10, 100 clients (each a CL of its own,
/// one job in flight) and 1, 10, 50 platforms; work zero. In one process, then with the
/// channel, SA, RSS, RRD, the daemons and the clients each in a process of their own
/// (daemons all in one process, clients all in another).
fn scalability(jobs: usize, misses: u32) -> Result<(), Error> {
    scale_header("one process", jobs);
    for platforms in PLATFORMS {
        let mut s = System::start(SystemOptions {
            platforms: 1,
            zero_work: true,
            ..SystemOptions::default()
        })?;
        for p in 1..platforms {
            s.add_platform(mshn::FIRST_PLATFORM + 1 + p as i32, 1.0, 4096)?;
        }
        let mut cells = Vec::new();
        for (n, clients) in CLIENTS.into_iter().enumerate() {
            let per = jobs.div_ceil(clients);
            let r = run_clients(&s.link, 2 + 100 * n as u16, clients, &tiny_job(), per)?;
            cells.push(cell(&r, per * clients));
        }
        println!(
            "{:<12} {:>22} {:>22} {:>22}",
            platforms, cells[0], cells[1], cells[2]
        );
    }
    use Part::*;
    scale_header("processes on one host (loopback TCP)", jobs);
    for platforms in PLATFORMS {
        let layout = [vec![Sa, Rss, Rrd, Daemons(101, platforms), Cl]];
        scale_row(&layout, platforms, jobs, misses)?;
    }
    match Hosts::unavailable() {
        Some(why) => println!("\nscalability across namespaces skipped: {why}"),
        None => {
            scale_header("SA+RSS+RRD | CL | daemons (3 ns)", jobs);
            for platforms in PLATFORMS {
                let layout = [vec![Sa, Rss, Rrd], vec![Cl], vec![Daemons(101, platforms)]];
                scale_row(&layout, platforms, jobs, misses)?;
            }
        }
    }
    Ok(())
}

/// One row of a process table: 1, 10, 100 clients in one CL process, each cell a fresh
/// deployment of `layout`.
fn scale_row(
    layout: &[Vec<Part>],
    platforms: usize,
    jobs: usize,
    misses: u32,
) -> Result<(), Error> {
    let mut cells = Vec::new();
    for clients in CLIENTS {
        let (d, host) = Deployment::start(layout, true, misses)?;
        let per = jobs.div_ceil(clients);
        let args = [
            "--clients".to_string(),
            clients.to_string(),
            "--jobs".into(),
            per.to_string(),
            "--cpu-share".into(),
            "0.001".into(),
            "--memory".into(),
            "1".into(),
        ];
        let r = d.run_cl(host, &args)?;
        cells.push(cell(&r, per * clients));
    }
    println!(
        "{:<12} {:>22} {:>22} {:>22}",
        platforms, cells[0], cells[1], cells[2]
    );
    Ok(())
}
