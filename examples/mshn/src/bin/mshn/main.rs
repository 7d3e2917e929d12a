//! `mshn demo`: the whole MSHN system in this process, N jobs run, a platform's daemon
//! killed mid-run, and the latencies beside the thesis's 132 ms.
//! `mshn --role channel|rss|rrd|sa|daemon|cl`: one component as a process, finding the
//! channel through the naming service on `--naming-port`.

use mshn::bus::Link;
use mshn::cl::{ClientLibrary, Job, JobState};
use mshn::daemon::{Daemon, DaemonOptions};
use mshn::idl::mshn as m;
use mshn::rrd::RequirementsDb;
use mshn::rss::{RssOptions, StatusServer};
use mshn::sa::SchedulingAdvisor;
use mshn::system::{self, System, SystemOptions};
use mshn::trace::Tracer;
use mshn::Error;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod bench;

const USAGE: &str = "\
usage: mshn demo [--jobs N] [--platforms P] [--in-flight K] [--sleep-ms MS]
                 [--heartbeat-ms MS] [--misses N]
       mshn bench [--jobs N] [--only SECTIONS] [--trace] ...   (see `mshn bench --help`)
       mshn --role naming --naming-port PORT
       mshn --role channel --naming-port PORT [--host ADDR] [--ior-file FILE]
                           [--gateway LOCATOR]... [-EC... options]
       mshn --role rss|rrd|sa --naming-port PORT [--rrd-file FILE]
       mshn --role daemon --naming-port PORT --platform ID [--count N] [--cpu C] [--memory MB]
                          [--zero-work]
       mshn --role cl --naming-port PORT [--cpu-share S] [--memory MB] [--deadline-ms D]
                      [--jobs N [--in-flight K] [--trace] | --clients C --jobs N-EACH
                       | --agility PLATFORM:PID,...]
                      -- PROGRAM [ARGS...]
  (component options: --heartbeat-ms MS, --misses N, --exit-with-parent)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => Demo::parse(&args[1..]).and_then(|d| d.run()),
        Some("bench") => bench::Bench::parse(&args[1..]).and_then(|b| b.run()),
        Some("--role") => Role::parse(&args).and_then(|r| r.run()),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Error::new(format!(
            "expected `demo` or `--role ROLE`\n{USAGE}"
        ))),
    };
    if let Err(e) = result {
        eprintln!("mshn: {e}");
        std::process::exit(2);
    }
}

pub(crate) fn value<T: std::str::FromStr>(flag: &str, v: Option<&String>) -> Result<T, Error> {
    let v = v.ok_or_else(|| Error::new(format!("{flag} needs a value")))?;
    v.parse()
        .map_err(|_| Error::new(format!("{flag}: `{v}` is not a valid value")))
}

// ---- demo -----------------------------------------------------------------------------------

struct Demo {
    jobs: usize,
    platforms: usize,
    in_flight: usize,
    sleep_ms: u64,
    heartbeat: Duration,
    misses: u32,
}

impl Demo {
    fn parse(args: &[String]) -> Result<Demo, Error> {
        let mut d = Demo {
            jobs: 200,
            platforms: 3,
            in_flight: 8,
            sleep_ms: 50,
            heartbeat: Duration::from_millis(20),
            misses: 3,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--jobs" => d.jobs = value(a, it.next())?,
                "--platforms" => d.platforms = value(a, it.next())?,
                "--in-flight" => d.in_flight = value(a, it.next())?,
                "--sleep-ms" => d.sleep_ms = value(a, it.next())?,
                "--heartbeat-ms" => d.heartbeat = Duration::from_millis(value(a, it.next())?),
                "--misses" => d.misses = value(a, it.next())?,
                _ => return Err(Error::new(format!("demo: unknown argument `{a}`\n{USAGE}"))),
            }
        }
        if d.jobs < 2 || d.platforms < 2 || d.in_flight == 0 {
            return Err(Error::new(
                "demo: needs at least 2 jobs, 2 platforms and 1 job in flight",
            ));
        }
        if d.heartbeat.is_zero() || d.misses == 0 {
            return Err(Error::new(
                "demo: --heartbeat-ms and --misses must be positive",
            ));
        }
        Ok(d)
    }

    fn run(&self) -> Result<(), Error> {
        let s = System::start(SystemOptions {
            platforms: self.platforms,
            heartbeat: self.heartbeat,
            misses: self.misses,
            ..SystemOptions::default()
        })?;
        let alarms = Tracer::start(&s.link, &[m::RESOURCE_ALARM_EVENT])?;
        let sleep = format!("{}.{:03}", self.sleep_ms / 1000, self.sleep_ms % 1000);
        println!(
            "mshn demo: {} platforms, {} jobs (`sleep {sleep}`, {} in flight), one process: \
             naming service, real-time channel (reactive), CL, SA, RSS, RRD, daemons",
            self.platforms, self.jobs, self.in_flight
        );
        // Warm-up: the first fork/exec and first calls fault pages in; not counted.
        for _ in 0..3 {
            s.cl.wait(
                s.cl.submit(&Job::new("true", &[]))?,
                Duration::from_secs(30),
            )?;
        }
        let job = Job::new("sleep", &[&sleep]);
        let victim = mshn::FIRST_PLATFORM + 1;
        let mut ids = Vec::new();
        let mut open: VecDeque<m::JobId> = VecDeque::new();
        let mut killed: Option<(Instant, usize)> = None;
        for n in 0..self.jobs {
            while open.len() >= self.in_flight {
                let id = open.pop_front().unwrap_or_default();
                s.cl.wait(id, Duration::from_secs(60))?;
            }
            let id = s.cl.submit(&job)?;
            ids.push(id);
            open.push_back(id);
            if killed.is_none() && n + 1 >= self.jobs / 2 {
                // Mid-run, and while the victim runs something, as a crash would find it.
                let d = s.daemon(victim).ok_or_else(|| Error::new("no victim"))?;
                let end = Instant::now() + Duration::from_secs(10);
                while d.running() == 0 && Instant::now() < end {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let running = d.running();
                d.kill();
                killed = Some((Instant::now(), running));
            }
        }
        for id in open {
            s.cl.wait(id, Duration::from_secs(60))?;
        }
        let (kill_at, running_at_kill) = killed.ok_or_else(|| Error::new("nothing killed"))?;
        let states: Vec<JobState> = ids
            .iter()
            .map(|&id| s.cl.state(id).ok_or_else(|| Error::new("a job vanished")))
            .collect::<Result<_, _>>()?;
        let alarm = alarms
            .seen()
            .into_iter()
            .find(|a| a.source == mshn::RSS_SOURCE)
            .ok_or_else(|| Error::new("no alarm was raised"))?;
        let alarm_msg: m::ResourceAlarm = mshn::wire::decode(&alarm.event)?;
        println!(
            "killed the daemon of platform {victim} with {running_at_kill} job(s) running; \
             alarm: {:?} ({})\n",
            alarm_msg.kind, alarm_msg.detail
        );
        // When the RSS published it (the publisher's stamp): in a reactive channel the
        // tracer may be handed the alarm only after the SA and CL have acted on it.
        report(
            &states,
            kill_at,
            mshn::wire::stamp_instant(alarm.stamp_ns),
            self.jobs,
        );
        Ok(())
    }
}

pub(crate) fn percentiles(mut v: Vec<Duration>) -> Option<[Duration; 4]> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    // Nearest rank.
    let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Some([v[0], rank(0.5), rank(0.99), v[v.len() - 1]])
}

pub(crate) fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn report(states: &[JobState], kill_at: Instant, alarm_at: Instant, jobs: usize) {
    println!("job  attempts  platforms  exit");
    let mut once = 0;
    let mut migrated = 0;
    let mut restarted_once = 0;
    for (n, j) in states.iter().enumerate() {
        let platforms: Vec<String> = j.starts.iter().map(|x| x.platform.to_string()).collect();
        let finished: Vec<_> = j.exits.iter().filter(|e| e.0 == j.attempt).collect();
        let exit = match finished.as_slice() {
            [one] => one.2.to_string(),
            [] => "none".into(),
            _ => "many".into(),
        };
        println!(
            "{:<4} {:<9} {:<10} {exit}",
            n + 1,
            j.attempt,
            platforms.join(">")
        );
        if finished.len() == 1 && finished[0].2 == 0 && j.refused.is_none() {
            once += 1;
        }
        if j.attempt > 1 {
            migrated += 1;
            if j.starts.iter().filter(|x| x.attempt == j.attempt).count() == 1 {
                restarted_once += 1;
            }
        }
    }
    println!();
    println!(
        "every job finished exactly once: {} ({once} of {jobs})",
        if once == jobs { "yes" } else { "no" }
    );
    println!("migrated: {migrated} job(s), restarted elsewhere exactly once: {restarted_once}");

    let first: Vec<_> = states
        .iter()
        .filter_map(|j| j.starts.iter().find(|x| x.attempt == 1).map(|x| (j, x)))
        .collect();
    let with_spawn: Vec<Duration> = first.iter().map(|(j, x)| x.at - j.submitted).collect();
    let path: Vec<Duration> = first
        .iter()
        .map(|(j, x)| (x.at - j.submitted).saturating_sub(x.spawn))
        .collect();
    let agility: Vec<Duration> = states
        .iter()
        .filter(|j| j.attempt > 1)
        .filter_map(|j| j.starts.iter().find(|x| x.attempt == j.attempt))
        .map(|x| x.at.saturating_duration_since(alarm_at))
        .collect();
    println!();
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>9}",
        "latency (us)", "min", "median", "p99", "max"
    );
    let row = |what: &str, v: Vec<Duration>| match percentiles(v) {
        Some(p) => println!(
            "{what:<46} {:>9} {:>9} {:>9} {:>9}",
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3])
        ),
        None => println!("{what:<46} {:>9}", "-"),
    };
    let median_path = percentiles(path.clone()).map(|p| p[1]);
    row(
        &format!("submit->running, event path ({} jobs)", path.len()),
        path,
    );
    row("submit->running, with the daemon's fork/exec", with_spawn);
    row(
        &format!("agility: alarm->running elsewhere ({migrated} jobs)"),
        agility,
    );
    println!(
        "{:<46} {:>9}",
        "detection: daemon killed->alarm",
        us(alarm_at.saturating_duration_since(kill_at))
    );
    if let Some(m) = median_path {
        println!(
            "\nthesis (MSHN, 132 ms submit->running) / ours (median event path, {} us) = {:.0}x",
            us(m),
            0.132 / m.as_secs_f64().max(1e-9)
        );
    }
}

/// Watches the parent process: when it is gone (this process handed to another), exits.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    let _ = std::thread::Builder::new()
        .name("mshn-parent-watch".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            if std::os::unix::process::parent_id() != parent {
                eprintln!("mshn: the process that started this one is gone; exiting");
                std::process::exit(3);
            }
        });
}

// ---- roles ----------------------------------------------------------------------------------

struct Role {
    role: String,
    naming_port: u16,
    platform: Option<i32>,
    cpu: f64,
    memory: u32,
    rrd_file: Option<std::path::PathBuf>,
    heartbeat: Duration,
    misses: u32,
    channel_args: Vec<String>,
    job: Option<Job>,
    /// The channel's address (what other hosts' gateways reach).
    host: String,
    ior_file: Option<std::path::PathBuf>,
    /// Peer channels to join by a gateway each.
    gateways: Vec<String>,
    zero_work: bool,
    /// The CL runs this many jobs (and prints one `sample` line each) instead of one.
    jobs: Option<usize>,
    in_flight: usize,
    trace: bool,
    /// Daemons in this process (`--count`), or CLs (`--clients`).
    count: usize,
    clients: Option<usize>,
    /// (platform, pid) of daemons the CL is to kill, one per job (`--agility`).
    victims: Vec<(i32, u32)>,
    /// Exit when the process that started this one is gone (the bench's children: a bench
    /// killed mid-run leaves no components running).
    exit_with_parent: bool,
}

impl Role {
    fn parse(args: &[String]) -> Result<Role, Error> {
        let mut r = Role {
            role: String::new(),
            naming_port: 0,
            platform: None,
            cpu: 1.0,
            memory: 4096,
            rrd_file: None,
            heartbeat: Duration::from_millis(20),
            misses: 3,
            channel_args: vec!["-ECFiltering".into(), "prefix".into()],
            job: None,
            host: "127.0.0.1".into(),
            ior_file: None,
            gateways: Vec::new(),
            zero_work: false,
            jobs: None,
            in_flight: 1,
            trace: false,
            count: 1,
            clients: None,
            victims: Vec::new(),
            exit_with_parent: false,
        };
        let mut job = Job::new("true", &[]);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--role" => r.role = value(a, it.next())?,
                "--naming-port" => r.naming_port = value(a, it.next())?,
                "--platform" => r.platform = Some(value(a, it.next())?),
                "--cpu" => r.cpu = value(a, it.next())?,
                "--memory" => {
                    r.memory = value(a, it.next())?;
                    job.memory_mb = r.memory;
                }
                "--rrd-file" => r.rrd_file = Some(value::<String>(a, it.next())?.into()),
                "--heartbeat-ms" => r.heartbeat = Duration::from_millis(value(a, it.next())?),
                "--misses" => r.misses = value(a, it.next())?,
                "--host" => r.host = value(a, it.next())?,
                "--ior-file" => r.ior_file = Some(value::<String>(a, it.next())?.into()),
                "--gateway" => r.gateways.push(value(a, it.next())?),
                "--zero-work" => r.zero_work = true,
                "--jobs" => r.jobs = Some(value(a, it.next())?),
                "--in-flight" => r.in_flight = value(a, it.next())?,
                "--trace" => r.trace = true,
                "--exit-with-parent" => r.exit_with_parent = true,
                "--count" => r.count = value(a, it.next())?,
                "--clients" => r.clients = Some(value(a, it.next())?),
                "--agility" => {
                    let list: String = value(a, it.next())?;
                    for pair in list.split(',') {
                        let bad = || {
                            Error::new(format!(
                                "--agility: `{pair}` is not PLATFORM:PID (e.g. 201:4242)"
                            ))
                        };
                        let (p, pid) = pair.split_once(':').ok_or_else(bad)?;
                        r.victims.push((
                            p.parse().map_err(|_| bad())?,
                            pid.parse().map_err(|_| bad())?,
                        ));
                    }
                }
                "--cpu-share" => job.cpu_share = value(a, it.next())?,
                "--deadline-ms" => job.deadline = Duration::from_millis(value(a, it.next())?),
                "--" => {
                    let rest: Vec<&String> = it.by_ref().collect();
                    let (p, a) = rest
                        .split_first()
                        .ok_or_else(|| Error::new("`--` must be followed by a program"))?;
                    job.program = p.to_string();
                    job.args = a.iter().map(|s| s.to_string()).collect();
                    r.job = Some(job.clone());
                }
                x if x.starts_with("-EC") => {
                    r.channel_args.push(x.into());
                    r.channel_args.push(value(a, it.next())?);
                }
                _ => return Err(Error::new(format!("unknown argument `{a}`\n{USAGE}"))),
            }
        }
        if r.naming_port == 0 {
            return Err(Error::new("--naming-port is required"));
        }
        if r.heartbeat.is_zero() || r.misses == 0 {
            return Err(Error::new("--heartbeat-ms and --misses must be positive"));
        }
        if r.jobs == Some(0) || r.in_flight == 0 || r.count == 0 || r.clients == Some(0) {
            return Err(Error::new(
                "--jobs, --in-flight, --count and --clients must be positive",
            ));
        }
        Ok(r)
    }

    fn run(self) -> Result<(), Error> {
        if self.exit_with_parent {
            exit_with_parent();
        }
        if self.role == "channel" {
            return self.run_channel();
        }
        if self.role == "naming" {
            return self.run_naming();
        }
        let orb = system::loopback_orb()?;
        // The others wait for the channel to be bound (it may start after them), and find
        // it again by name if it restarts.
        let url = format!("corbaloc::127.0.0.1:{}/NameService", self.naming_port);
        let link = Link::named(&orb, &url, Duration::from_secs(30))?;
        match self.role.as_str() {
            "rss" => {
                let _c = StatusServer::start(
                    &link,
                    RssOptions {
                        heartbeat: self.heartbeat,
                        misses: self.misses,
                    },
                )?;
                self.serve(&orb)
            }
            "rrd" => {
                let _c = RequirementsDb::start(&link, self.rrd_file.clone())?;
                self.serve(&orb)
            }
            "sa" => {
                let _c = SchedulingAdvisor::start(&link)?;
                self.serve(&orb)
            }
            "daemon" => {
                let platform = self
                    .platform
                    .ok_or_else(|| Error::new("--role daemon needs --platform ID"))?;
                // `--count N`: the platforms ID..ID+N, each a daemon of its own, in this process.
                let _daemons = (0..self.count)
                    .map(|k| {
                        let mut o = DaemonOptions::new(platform + k as i32);
                        o.cpu_capacity = self.cpu;
                        o.memory_mb = self.memory;
                        o.heartbeat = self.heartbeat;
                        o.zero_work = self.zero_work;
                        Daemon::start(&link, o)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.serve(&orb)
            }
            "cl" => {
                let job = self
                    .job
                    .clone()
                    .ok_or_else(|| Error::new("--role cl needs `-- PROGRAM [ARGS...]`"))?;
                // Its id from the pid's low bits: CLs in other processes share the channel.
                let id = (std::process::id() & 0x7fff) as u16 + 1;
                if let Some(clients) = self.clients {
                    let per = self.jobs.unwrap_or(1);
                    bench::run_clients(&link, id, clients, &job, per)?.print_lines();
                    return Ok(());
                }
                let cl = ClientLibrary::start(&link, id)?;
                if !self.victims.is_empty() {
                    bench::run_agility(&link, &cl, &self.victims)?.print_lines();
                    return Ok(());
                }
                if let Some(n) = self.jobs {
                    let run = bench::run_jobs(&link, &cl, &job, n, self.in_flight, self.trace)?;
                    run.print_lines();
                    return Ok(());
                }
                let t0 = Instant::now();
                let id = cl.submit(&job)?;
                let st = cl.wait(id, Duration::from_secs(600))?;
                cl.shutdown();
                if let Some(r) = st.refused {
                    return Err(Error::new(format!("job refused: {r}")));
                }
                if let Some(e) = st.start_errors.first() {
                    return Err(Error::new(format!("job did not start: {e}")));
                }
                let start = st.starts.last().map(|s| s.at - t0).unwrap_or_default();
                let exit = st.exits.iter().find(|e| e.0 == st.attempt);
                println!(
                    "job {} ran on platform {} (attempt {}), running {} us after submission, exit {}",
                    id & 0xffff_ffff_ffff,
                    st.platform,
                    st.attempt,
                    us(start),
                    exit.map(|e| e.2.to_string()).unwrap_or_default()
                );
                Ok(())
            }
            other => Err(Error::new(format!("unknown role `{other}`\n{USAGE}"))),
        }
    }

    /// A naming service alone on `--naming-port`: it outlives a channel process that is
    /// killed (a channel that starts its own takes it down when it dies).
    fn run_naming(&self) -> Result<(), Error> {
        let orb = system::unbound_orb()?;
        let (_, port, embedded) = system::naming(&orb, self.naming_port)?;
        let Some(naming) = embedded else {
            return Err(Error::new(format!(
                "a naming service already answers on port {port}"
            )));
        };
        println!("mshn naming: serving on 127.0.0.1:{port}");
        Ok(naming.orb.run()?)
    }

    /// The channel, with the naming service on `--naming-port` if none answers there, bound
    /// as [`mshn::CHANNEL_NAME`]; joined by a gateway to each `--gateway` peer.
    fn run_channel(&self) -> Result<(), Error> {
        let orb = system::unbound_orb_on(&self.host)?;
        let (root, _, _embedded) = system::naming(&orb, self.naming_port)?;
        orb.listen()?;
        let mut ec = event_service::rtec::RtecOptions::default();
        let mut args = self.channel_args.clone();
        if !self.gateways.is_empty() {
            // A gateway learns what to fetch from the peer by observing this channel. When a
            // host's consumers come and go, its gateways change their subscriptions at the
            // peers (and their publications here): in place if the channel allows
            // reconnection, else by a new connection, and events in between are lost.
            args.extend(
                [
                    "-ECObserver",
                    "basic",
                    "-ECConsumerReconnect",
                    "1",
                    "-ECSupplierReconnect",
                    "1",
                ]
                .map(String::from),
            );
        }
        ec.parse_args(args.iter().map(String::as_str))
            .map_err(|e| Error::new(format!("channel options: {e}")))?;
        let channel = event_service::rtec::RtecChannel::start(&orb, ec)?;
        system::bind_channel(&root, channel.object())?;
        if let Some(f) = &self.ior_file {
            // Written whole then renamed: a peer's gateway never reads half of it.
            let tmp = f.with_extension("tmp");
            std::fs::write(&tmp, orb.object_to_string(channel.object())?)?;
            std::fs::rename(&tmp, f)?;
        }
        let options = event_service::rtec::GatewayOptions {
            probe_period: Duration::from_millis(200),
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(500),
        };
        let _gateways = self
            .gateways
            .iter()
            .map(|peer| {
                event_service::rtec::Gateway::start(
                    &orb,
                    channel.reference(),
                    peer,
                    options.clone(),
                )
                .map_err(|e| Error::new(format!("gateway to {peer}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        println!("mshn channel: bound as {}", mshn::CHANNEL_NAME);
        Ok(orb.run()?)
    }

    fn serve(&self, orb: &orb::Orb) -> Result<(), Error> {
        println!("mshn {}: connected", self.role);
        Ok(orb.run()?)
    }
}
