//! The Rust Tester client: `interop-client [--peer omniorb] IOR-or-URL [-ORB... value]...`
//! (`--peer omniorb`: the server is omniORB's, see `PeerOrb`). Calls every
//! operation and checks every result; prints `N/N ops ok`, or names each failed operation
//! and exits with status 1.

use orb::Orb;
use rtorb_interop::{check_all, interop::TesterRef, PeerOrb};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("interop-client: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let (orb, rest) = Orb::init_from_args(std::env::args().skip(1))?;
    let usage = "usage: interop-client [--peer omniorb|rtorb] IOR-or-corbaloc-or-corbaname \
                 [-ORB... value]...";
    let (peer, target) = match rest.as_slice() {
        [t] => (PeerOrb::Rtorb, t),
        [flag, p, t] if flag == "--peer" => match p.as_str() {
            "omniorb" => (PeerOrb::OmniOrb, t),
            "rtorb" => (PeerOrb::Rtorb, t),
            _ => return Err(usage.into()),
        },
        _ => return Err(usage.into()),
    };
    let obj = orb.string_to_object(target)?;
    let tester =
        TesterRef::narrow(&obj)?.ok_or_else(|| format!("{target} is not an Interop::Tester"))?;
    let report = check_all(&tester, orb.options().giop_version, peer);
    println!("{}", report.summary());
    Ok(report.failed.is_empty())
}
