//! Serves a `Store`, prints its IOR on a line of its own, and serves until SIGTERM.
use rtorb::Orb;
use rtorb_user_app::{inventory::inventory::store, StoreImpl};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, _) = Orb::init_from_args(std::env::args().skip(1))?;
    let obj = orb.activate(&orb.root_poa(), store::servant(StoreImpl::default()))?;
    let watch = orb.watch_signals()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", orb.object_to_string(&obj)?)?;
    out.flush()?;
    drop(out);
    watch.run()?;
    Ok(())
}
