//! The naming service beside omniNames, in one run: resolve latency of a three-component name
//! (median and p99 over single calls) and bind throughput with 1 and 8 clients, for our
//! `naming-service` durable (`--data-dir`: every change `fsync`ed before its reply) and in
//! memory, and for omniNames (which writes its log on every change but never `fsync`s it).
//!
//! ```sh
//! cargo build --release -p naming-service --bins
//! target/release/ns_bench                     # defaults: 20,000 resolves, 4,000 binds per case
//! ```
//!
//! Every server is a process of its own on 127.0.0.1 with its files in a temporary
//! directory, killed when the bench ends. Measurements alternate between the servers in
//! rounds so that drift in the machine's load falls on all of them alike. Ratios are ours ÷
//! omniNames: below 1 is faster for latency, above 1 is more for throughput.

use clap::Parser;
use naming_service::cos_naming::{Name, NameComponent, NamingContext, NamingContextExtRef};
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "ns_bench", about = "Our naming service beside omniNames")]
struct Args {
    /// Resolves timed per server (after as many again to warm up, split over the rounds).
    #[arg(long, default_value_t = 20_000)]
    resolves: usize,
    /// Binds per server and client count (split over the rounds and the clients).
    #[arg(long, default_value_t = 4_000)]
    binds: usize,
    /// Rounds each measurement is split into, alternating the servers (each first in turn).
    #[arg(long, default_value_t = 6)]
    rounds: usize,
    /// Our `naming-service` binary (by default the one beside this one).
    #[arg(long)]
    naming_service: Option<PathBuf>,
    /// omniNames.
    #[arg(long, default_value = "omniNames")]
    omninames: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ns_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

/// A server process, killed when dropped.
struct Server {
    label: &'static str,
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_ours(bin: &Path, label: &'static str, data: Option<&Path>) -> Result<Server, Error> {
    let port = free_port()?;
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string()]);
    if let Some(dir) = data {
        cmd.arg("--data-dir").arg(dir);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let server = Server { label, child, port };
    if !line.starts_with("IOR:") {
        return Err(format!("{} did not start: {line:?}", bin.display()).into());
    }
    Ok(server)
}

fn start_omninames(program: &str, logdir: &Path) -> Result<Server, Error> {
    let port = free_port()?;
    std::fs::create_dir_all(logdir)?;
    let child = Command::new(program)
        .args(["-start", &port.to_string(), "-logdir"])
        .arg(logdir)
        .args(["-ORBendPoint", &format!("giop:tcp:127.0.0.1:{port}")])
        .env("OMNIORB_CONFIG", logdir.join("none.cfg"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let mut server = Server {
        label: "omniNames",
        child,
        port,
    };
    // It listens before its root context exists: wait until the root answers.
    let orb = client_orb()?;
    let root = orb.string_to_object(&corbaloc(port))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && root.locate() == Ok(true) {
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait()? {
            return Err(format!("{program} exited with {status}").into());
        }
        if Instant::now() > deadline {
            return Err(format!("{program} does not answer on port {port}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn corbaloc(port: u16) -> String {
    format!("corbaloc::127.0.0.1:{port}/NameService")
}

fn client_orb() -> Result<Orb, Error> {
    Ok(Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })?)
}

fn name(s: &str) -> Result<Name, Error> {
    Ok(orb::ior::parse_string_name(s)
        .map_err(|e| format!("{s:?}: {e}"))?
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect())
}

/// Some object to bind: a reference nobody needs to reach.
fn an_object(orb: &Orb) -> Result<ObjectRef, Error> {
    Ok(orb.string_to_object("corbaloc::127.0.0.1:1/bench-object")?)
}

/// Makes `a/b.k/c.obj` and the contexts the bind measurements fill.
fn prepare(server: &Server) -> Result<(), Error> {
    let orb = client_orb()?;
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&corbaloc(server.port))?);
    let obj = an_object(&orb)?;
    root.bind_new_context(&name("a")?)?;
    root.bind_new_context(&name("a/b.k")?)?;
    root.bind(&name("a/b.k/c.obj")?, &obj)?;
    for clients in [1, 8] {
        root.bind_new_context(&name(&format!("binds{clients}"))?)?;
    }
    Ok(())
}

/// `n` single resolves of `a/b.k/c.obj`, each timed.
fn resolves(root: &NamingContextExtRef, n: usize, out: &mut Vec<Duration>) -> Result<(), Error> {
    let target = name("a/b.k/c.obj")?;
    for _ in 0..n {
        let t = Instant::now();
        let obj = root.resolve(&target)?;
        out.push(t.elapsed());
        if obj.is_nil() {
            return Err("resolve returned nil".into());
        }
    }
    Ok(())
}

/// `n` binds of fresh names in `binds<clients>`, over `clients` clients each with its own
/// ORB (so its own connection), all started together: the wall time of the slowest, and
/// each bind's time.
fn binds(
    port: u16,
    clients: usize,
    n: usize,
    round: usize,
) -> Result<(Duration, Vec<Duration>), Error> {
    let per = n.div_ceil(clients);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let barrier = barrier.clone();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                type Ready = (Orb, NamingContextExtRef, ObjectRef, Vec<Name>);
                let go = || -> Result<Ready, Error> {
                    let orb = client_orb()?;
                    let root = NamingContextExtRef::unchecked_narrow(
                        orb.string_to_object(&corbaloc(port))?,
                    );
                    // Connected before the clock starts.
                    root.resolve(&name(&format!("binds{clients}"))?)?;
                    let names = (0..per)
                        .map(|i| name(&format!("binds{clients}/r{round}-c{c}-{i}")))
                        .collect::<Result<_, _>>()?;
                    let obj = an_object(&orb)?;
                    // The ORB must outlive the calls: references hold it weakly.
                    Ok((orb, root, obj, names))
                };
                let ready = go();
                barrier.wait();
                let (_orb, root, obj, names) = ready.map_err(|e| e.to_string())?;
                let mut times = Vec::with_capacity(names.len());
                for n in &names {
                    let t = Instant::now();
                    root.bind(n, &obj).map_err(|e| e.to_string())?;
                    times.push(t.elapsed());
                }
                Ok(times)
            })
        })
        .collect();
    barrier.wait();
    let t = Instant::now();
    let mut times = Vec::new();
    for th in threads {
        times.extend(th.join().map_err(|_| "a client panicked")??);
    }
    Ok((t.elapsed(), times))
}

/// The servers' order in round `round`: each goes first in turn, so that whatever favours
/// or hurts the first (or last) of a round falls on all alike.
fn rotated(round: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |i| (i + round) % n)
}

struct Latency {
    median: Duration,
    p99: Duration,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    Latency {
        median: at(50),
        p99: at(99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn run(args: &Args) -> Result<(), Error> {
    if args.resolves == 0 || args.binds == 0 || args.rounds == 0 {
        return Err("--resolves, --binds and --rounds must be at least 1".into());
    }
    let bin = match &args.naming_service {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("cannot find the directory of ns_bench")?
            .join("naming-service"),
    };
    let scratch = tempfile::Builder::new().prefix("ns_bench-").tempdir()?;
    std::fs::write(scratch.path().join("none.cfg"), "")?;
    let servers = [
        start_ours(&bin, "ours durable", Some(&scratch.path().join("ours")))?,
        start_ours(&bin, "ours in memory", None)?,
        start_omninames(&args.omninames, scratch.path())?,
    ];
    for s in &servers {
        prepare(s)?;
    }

    // Resolve: one client per server, kept across rounds; the first pass warms up.
    let orb = client_orb()?;
    let roots: Vec<_> = servers
        .iter()
        .map(|s| {
            orb.string_to_object(&corbaloc(s.port))
                .map(NamingContextExtRef::unchecked_narrow)
        })
        .collect::<Result<_, _>>()?;
    let per_round = args.resolves.div_ceil(args.rounds);
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); servers.len()];
    for root in &roots {
        resolves(root, per_round, &mut Vec::new())?;
    }
    for round in 0..args.rounds {
        for i in rotated(round, servers.len()) {
            resolves(&roots[i], per_round, &mut samples[i])?;
        }
    }
    let lat: Vec<Latency> = samples.into_iter().map(latency).collect();

    // Bind: 1 and 8 clients, rounds alternating the servers.
    let mut rates = Vec::new();
    for clients in [1usize, 8] {
        let per_round = args.binds.div_ceil(args.rounds);
        let mut total = vec![Duration::ZERO; servers.len()];
        let mut each: Vec<Vec<Duration>> = vec![Vec::new(); servers.len()];
        for round in 0..args.rounds {
            for i in rotated(round, servers.len()) {
                let (wall, times) = binds(servers[i].port, clients, per_round, round)?;
                total[i] += wall;
                each[i].extend(times);
            }
        }
        let done = per_round.div_ceil(clients) * clients * args.rounds;
        rates.push((
            clients,
            total
                .iter()
                .map(|t| done as f64 / t.as_secs_f64())
                .collect::<Vec<_>>(),
            each.into_iter().map(latency).collect::<Vec<_>>(),
        ));
    }

    let omni = servers.len() - 1;
    println!(
        "naming service vs omniNames: {} resolves, {} binds per case, {} rounds",
        args.resolves, args.binds, args.rounds
    );
    println!("omniNames writes its log on every change but does not fsync it; \"ours durable\" fsyncs before each reply.");
    println!();
    println!("resolve of a/b.k/c.obj (one client):");
    for (s, l) in servers.iter().zip(&lat) {
        let vs = if s.label == "omniNames" {
            String::new()
        } else {
            format!(
                "   ÷ omniNames: median {:.2}, p99 {:.2}",
                l.median.as_secs_f64() / lat[omni].median.as_secs_f64(),
                l.p99.as_secs_f64() / lat[omni].p99.as_secs_f64()
            )
        };
        println!(
            "  {:<15} median {:>9}  p99 {:>9}{vs}",
            s.label,
            us(l.median),
            us(l.p99)
        );
    }
    for (clients, r, l) in &rates {
        println!();
        println!("bind throughput, {clients} client(s) (and each bind's median and p99):");
        for ((s, rate), l) in servers.iter().zip(r).zip(l) {
            let vs = if s.label == "omniNames" {
                String::new()
            } else {
                format!("   ÷ omniNames: {:.2}", rate / r[omni])
            };
            println!(
                "  {:<15} {:>9.0} binds/s  ({:>9}, {:>9}){vs}",
                s.label,
                rate,
                us(l.median),
                us(l.p99)
            );
        }
    }
    Ok(())
}
