//! The naming service daemon: CosNaming on `corbaloc::HOST:PORT/NameService`, durable with
//! `--data-dir`. ORB options (`-ORB...`, omniORB's spelling) may follow the flags.

use clap::Parser;
use naming_service::{daemon, open_store, NamingService};
use orb::{Orb, OrbOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "naming-service", about = "CosNaming (INS) naming service")]
struct Args {
    /// TCP port to listen on (on 127.0.0.1 unless --endpoint says otherwise).
    #[arg(long, default_value_t = 2809)]
    port: u16,
    /// Listen on this endpoint instead (`giop:tcp:HOST:PORT`, `giop:unix:PATH`); repeatable.
    #[arg(long)]
    endpoint: Vec<String>,
    /// Write the root context's IOR to this file once serving.
    #[arg(long)]
    ior_file: Option<PathBuf>,
    /// Keep the naming graph here (write-ahead log + snapshot); in memory when absent.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// ORB options, e.g. `-ORBthreadStrategy pool`.
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    orb_args: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("naming-service: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut options = OrbOptions::from_env()?;
    let mut orb_args = Vec::new();
    if std::env::var_os("ORBthreadStrategy").is_none() {
        // A thread per client connection, unless told otherwise: concurrent changes then
        // wait for the log's fsync side by side and share it (group commit), where a pool
        // of a few threads would cap how many can; and a lone client's call needs no
        // hand-off between threads.
        orb_args.extend(["-ORBthreadStrategy".into(), "connection".into()]);
    }
    if args.endpoint.is_empty() {
        orb_args.extend([
            "-ORBendPoint".into(),
            format!("giop:tcp:127.0.0.1:{}", args.port),
        ]);
    }
    for e in &args.endpoint {
        orb_args.extend(["-ORBendPoint".into(), e.clone()]);
    }
    orb_args.extend(args.orb_args.iter().cloned());
    let rest = options.parse_args(orb_args)?;
    if let Some(extra) = rest.first() {
        return Err(format!("unexpected argument {extra:?}").into());
    }
    daemon::log_to_stderr(&options);
    let orb = Orb::init(options)?;
    let store = open_store(args.data_dir.as_deref())?;
    let service = NamingService::start(&orb, store)?;
    let endpoints = orb.listen()?;
    let ior = orb.object_to_string(service.root())?;
    if let Some(path) = &args.ior_file {
        std::fs::write(path, format!("{ior}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("{ior}");
    // Watched before saying so: a SIGTERM right after "listening on" is a clean stop too.
    let signals = orb.watch_signals()?;
    daemon::say_listening("naming-service", &endpoints);
    if let Some(signal) = signals.run()? {
        eprintln!("naming-service: signal {signal}: shut down");
    }
    // Every change was in the log (fsynced) before its reply; dropping the service closes
    // the log with nothing half-written, as a restart's recovery confirms.
    drop(service);
    Ok(())
}
