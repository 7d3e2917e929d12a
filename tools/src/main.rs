//! `rtorb`: the rtorb tools under one command.
//!
//! ```text
//! rtorb ior decode [-x] [-o] [-v] IOR|URL|FILE
//! rtorb ior encode --type-id ID --host H --port P (--key KEY | --key-hex HEX) [...]
//! rtorb ns [--ns REF] list|bind|bind-new-context|resolve|unbind|remove-context ...
//! rtorb event push CHANNEL [--data KIND:VALUE] [-n COUNT] [--rate HZ] [-- ORB options]
//! rtorb event pull|watch CHANNEL [-n COUNT] [-- ORB options]
//! ```
//!
//! Each subcommand is a thin face of a library: `rtorb::ior`, `rtorb::naming::admin` (the
//! `nsadmin` tool's own code), the event service's stubs. Failures print one line, `rtorb:
//! what was being done: why`, and exit 1; a command line clap refuses exits 2 with its usage.
#![forbid(unsafe_code)]

mod event;
mod ior;

use clap::{Parser, Subcommand};
use rtorb::naming::admin;
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rtorb",
    version,
    about = "The rtorb tools: IORs, naming, events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decodes or makes IORs.
    #[command(subcommand)]
    Ior(ior::IorCommand),
    /// Administers a naming service (ours or omniNames), as `nsadmin` does.
    Ns {
        /// The naming service: a corbaloc/corbaname/IOR/file:// reference.
        #[arg(long, global = true, default_value = admin::DEFAULT_NS)]
        ns: String,
        #[command(subcommand)]
        command: admin::Command,
    },
    /// Pushes, pulls or watches events on a COS or real-time event channel.
    #[command(subcommand)]
    Event(event::EventCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Ior(c) => ior::run(c)
            .and_then(|text| {
                out.write_all(text.as_bytes())
                    .map_err(|e| format!("write the output: {e}"))
            })
            .map_err(|e| format!("rtorb ior: {e}")),
        Command::Ns { ns, command } => admin::run(ns, command, &mut out)
            .map_err(|e| admin::failure_message("rtorb ns", ns, command, &e)),
        Command::Event(c) => event::run(c, &mut out).map_err(|e| format!("rtorb event: {e}")),
    };
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Octets from hex digits (`0x` optional), for `--key-hex` and `--data octets:HEX`.
pub(crate) fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits).map_err(|e| format!("{e} (two hex digits per octet, `0x` optional)"))
}
