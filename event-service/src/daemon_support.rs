//! What the channel daemons share: the ORB options a daemon serves with, binding its channel
//! in a naming service, and handing out its IOR. Written for `rt-event-service`; `event-service`
//! does the same things in its own main file and can move onto these as they stand.

use naming_service::cos_naming::{Name, NameComponent, NamingContext, NamingContextExtRef};
use orb::{ObjectRef, Orb, OrbOptions};
use std::path::{Path, PathBuf};

/// The flags every channel daemon takes besides its port (`#[command(flatten)]` them).
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Listen on this endpoint instead (`giop:tcp:HOST:PORT`, `giop:unix:PATH`); repeatable.
    #[arg(long)]
    pub endpoint: Vec<String>,
    /// Write the channel's IOR to this file once serving.
    #[arg(long)]
    pub ior_file: Option<PathBuf>,
    /// Bind the channel in the naming service at this URL (`corbaloc::HOST:PORT/NameService`,
    /// an IOR, ...) under --name.
    #[arg(long, requires = "name")]
    pub name_service: Option<String>,
    /// The name to bind the channel under (`a/b.kind`; contexts on the way must exist).
    #[arg(long, requires = "name_service")]
    pub name: Option<String>,
}

/// Why a daemon could not start: bad input (exit status 2: the command line is to change) or a
/// failure once the input was understood (exit status 1).
#[derive(Debug)]
pub enum DaemonError {
    Usage(String),
    Failed(String),
}

impl DaemonError {
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Usage(_) => 2,
            DaemonError::Failed(_) => 1,
        }
    }
}

impl std::fmt::Display for DaemonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DaemonError::Usage(m) | DaemonError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DaemonError {}

impl From<orb::OrbError> for DaemonError {
    fn from(e: orb::OrbError) -> DaemonError {
        DaemonError::Failed(e.to_string())
    }
}

/// The COS channel's thread strategy: a consumer's `pull` holds a server thread until an event
/// comes, so a pool with room for many of them.
pub const POOL_OF_64: &[&str] = &["-ORBthreadStrategy", "pool", "-ORBthreadPoolSize", "64"];

/// The real-time channel's: its suppliers' `push` is oneway, and a pool would run two oneways
/// of one connection at once and could swap them; a thread per connection keeps each
/// supplier's events in the order it sent them, as TAO's reactor does.
pub const THREAD_PER_CONNECTION: &[&str] = &["-ORBthreadStrategy", "connection"];

/// The ORB options of a daemon: `OrbOptions::from_env`, then `threads` (one of the strategies
/// above) unless the environment picks a strategy, `giop:tcp:127.0.0.1:PORT` unless
/// `endpoints` are given, then `orb_args` (`-ORB…`, which may override all of it). Anything in
/// `orb_args` the ORB does not know is a usage error.
pub fn orb_options(
    threads: &[&str],
    port: u16,
    endpoints: &[String],
    orb_args: &[String],
) -> Result<OrbOptions, DaemonError> {
    let mut options = OrbOptions::from_env()
        .map_err(|e| DaemonError::Usage(format!("ORB options in the environment: {e}")))?;
    let mut args: Vec<String> = Vec::new();
    if std::env::var_os("ORBthreadStrategy").is_none() {
        args.extend(threads.iter().map(|a| a.to_string()));
    }
    if endpoints.is_empty() {
        args.extend(["-ORBendPoint".into(), format!("giop:tcp:127.0.0.1:{port}")]);
    }
    for e in endpoints {
        args.extend(["-ORBendPoint".into(), e.clone()]);
    }
    args.extend(orb_args.iter().cloned());
    let rest = options
        .parse_args(args)
        .map_err(|e| DaemonError::Usage(format!("{e} (see -ORB options in the README)")))?;
    if let Some(extra) = rest.first() {
        return Err(DaemonError::Usage(format!(
            "unexpected argument {extra:?} (options that follow the flags must be -ORB… or -EC…)"
        )));
    }
    Ok(options)
}

/// Binds (or rebinds) `obj` under `name` (`a/b.kind`; contexts on the way must exist) in the
/// naming service at `url`.
pub fn bind(orb: &Orb, url: &str, name: &str, obj: &ObjectRef) -> Result<(), DaemonError> {
    let n: Name = orb::ior::parse_string_name(name)
        .map_err(|e| DaemonError::Usage(format!("--name {name:?}: {e}")))?
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect();
    let root = NamingContextExtRef::unchecked_narrow(
        orb.string_to_object(url)
            .map_err(|e| DaemonError::Usage(format!("--name-service {url:?}: {e}")))?,
    );
    root.rebind(&n, obj).map_err(|e| {
        DaemonError::Failed(format!(
            "cannot bind {name:?} in the naming service at {url}: {e}"
        ))
    })
}

/// Writes `ior` to `path` (when asked) and prints it on stdout, the line a script waits for.
pub fn publish_ior(ior: &str, path: Option<&Path>) -> Result<(), DaemonError> {
    if let Some(path) = path {
        std::fs::write(path, format!("{ior}\n")).map_err(|e| {
            DaemonError::Usage(format!(
                "cannot write {}: {e} (--ior-file names a file in an existing directory)",
                path.display()
            ))
        })?;
    }
    println!("{ior}");
    Ok(())
}
