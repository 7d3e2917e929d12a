//! Administers a naming service, ours or any other (omniNames), as omniORB's `nameclt` does
//! (the logic is [`naming_service::admin`], shared with `rtorb ns`).

use clap::Parser;
use naming_service::admin::{self, Command, DEFAULT_NS};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "nsadmin", about = "Administer a CosNaming naming service")]
struct Args {
    /// The naming service: a corbaloc/corbaname/IOR/file:// reference.
    #[arg(long, global = true, default_value = DEFAULT_NS)]
    ns: String,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match admin::run(&args.ns, &args.command, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "{}",
                admin::failure_message("nsadmin", &args.ns, &args.command, &e)
            );
            ExitCode::FAILURE
        }
    }
}
