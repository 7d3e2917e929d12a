//! The Rust Tester client: `interop-client [--peer omniorb] [--large] IOR-or-URL [-ORB...
//! value]...` (`--peer omniorb`: the server is omniORB's, see `PeerOrb`). Calls every
//! operation and checks every result, or with `--large` the operations with large values
//! (`check_large`); prints `N/N ops ok`, or names each failed operation and exits with
//! status 1.

use orb::Orb;
use rtorb_interop::{check_all, check_large, interop::TesterRef, PeerOrb};
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
    let usage = "usage: interop-client [--peer omniorb|rtorb] [--large] \
                 IOR-or-corbaloc-or-corbaname [-ORB... value]...";
    let mut peer = PeerOrb::Rtorb;
    let mut large = false;
    let mut target = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--peer" => {
                peer = match it.next().map(String::as_str) {
                    Some("omniorb") => PeerOrb::OmniOrb,
                    Some("rtorb") => PeerOrb::Rtorb,
                    _ => return Err(usage.into()),
                }
            }
            "--large" => large = true,
            t if target.is_none() => target = Some(t),
            _ => return Err(usage.into()),
        }
    }
    let target = target.ok_or(usage)?;
    let obj = orb.string_to_object(target)?;
    let tester =
        TesterRef::narrow(&obj)?.ok_or_else(|| format!("{target} is not an Interop::Tester"))?;
    let version = orb.options().giop_version;
    // Which of the calls with large values omniORB can read depends on whether they come in
    // fragments (see `PeerOrb`).
    let fragmenting = orb.options().fragment_size.is_some();
    let report = if large {
        check_large(&tester, version, peer, fragmenting)
    } else {
        check_all(&tester, version, peer)
    };
    println!("{}", report.summary());
    Ok(report.failed.is_empty())
}
