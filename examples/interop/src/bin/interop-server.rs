//! The Rust Tester server: `interop-server [--dsi] [--ior-file PATH] [--bind NAME] [-ORB... value]...`.
//! With `--dsi` the Tester is `rtorb_interop::dsi::DsiTester`, a DSI servant, instead of the
//! generated skeleton.
//! Prints its IOR on stdout (and writes it to PATH), binds it as NAME (`a/b.kind`) in the
//! naming service `-ORBInitRef NameService=...` names when asked, and serves until killed.

use naming_service::cos_naming::{
    naming_context, NamingContext, NamingContextExt, NamingContextExtRef,
};
use orb::Orb;
use rtorb_interop::dsi::DsiTester;
use rtorb_interop::{interop, TesterImpl};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("interop-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (orb, rest) = Orb::init_from_args(std::env::args().skip(1))?;
    let mut ior_file = None;
    let mut bind = None;
    let mut dsi = false;
    let mut it = rest.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--ior-file" => ior_file = Some(it.next().ok_or("--ior-file needs a path")?),
            "--bind" => bind = Some(it.next().ok_or("--bind needs a name")?),
            "--dsi" => dsi = true,
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    let servant = if dsi {
        orb::dynamic::dynamic_servant(DsiTester::new(orb.clone()))
    } else {
        interop::tester::servant(TesterImpl::new(orb.clone()))
    };
    let obj = orb.activate(&orb.root_poa(), servant)?;
    let ior = orb.object_to_string(&obj)?;
    if let Some(name) = bind {
        let ns =
            NamingContextExtRef::unchecked_narrow(orb.resolve_initial_references("NameService")?);
        let n = ns.to_name(&name).map_err(|e| format!("{name}: {e}"))?;
        // Make the contexts on the way (`a/b` needs context `a`), keeping those that exist.
        for len in 1..n.len() {
            match ns.bind_new_context(&n[..len]) {
                Ok(_) | Err(naming_context::BindNewContextError::AlreadyBound(_)) => {}
                Err(e) => return Err(format!("making the contexts of {name}: {e}").into()),
            }
        }
        ns.rebind(&n, &obj)
            .map_err(|e| format!("binding {name}: {e}"))?;
    }
    if let Some(path) = ior_file {
        std::fs::write(&path, format!("{ior}\n"))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ior}")?;
    out.flush()?;
    drop(out);
    orb.run()?;
    Ok(())
}
