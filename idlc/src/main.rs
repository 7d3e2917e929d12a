//! `idlc`: compiles IDL files to Rust, one `.rs` file per IDL file.
//!
//! ```text
//! idlc [-I DIR]... [-D NAME[=VALUE]]... [--demux perfect|linear|binary|dynamic] [--runtime-crate CRATE]
//!      [--extern FILE.idl=PATH]... [--shared-units PATH] --out DIR FILE.idl...
//! ```
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "idlc", version, about = "Compiles OMG IDL to Rust for rtorb")]
struct Args {
    /// Adds a directory to the #include search path.
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Defines a preprocessor macro.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    define: Vec<String>,
    /// How skeletons look operations up.
    #[arg(long, default_value = "perfect", value_name = "STRATEGY")]
    demux: idlc::Demux,
    /// The crate generated code reaches the runtime through (`rtorb` for the facade).
    #[arg(long, value_name = "CRATE")]
    runtime_crate: Option<String>,
    /// Definitions of an included IDL file are generated elsewhere, at this absolute Rust
    /// path: `--extern CosEventComm.idl=::event_service::generated` (repeatable).
    #[arg(long = "extern", value_name = "FILE.idl=PATH", value_parser = parse_extern)]
    externs: Vec<(PathBuf, String)>,
    /// Generate each definition once, in its own file's output; the outputs are included as
    /// sibling modules under this Rust path, as the `units.rs` written beside them does.
    #[arg(long, value_name = "PATH")]
    shared_units: Option<String>,
    /// Directory to write the .rs files to.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// IDL files to compile.
    #[arg(required = true, value_name = "FILE.idl")]
    files: Vec<PathBuf>,
}

fn parse_extern(s: &str) -> Result<(PathBuf, String), String> {
    match s.split_once('=') {
        Some((file, path)) if !file.is_empty() && !path.is_empty() => {
            Ok((PathBuf::from(file), path.to_owned()))
        }
        _ => Err(format!(
            "expected FILE.idl=RUST_PATH (e.g. CosEventComm.idl=crate::comm), got {s:?}"
        )),
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    let mut b = idlc::Builder::new();
    b.emit_rerun_if_changed(false)
        .demux(args.demux)
        .out_dir(&args.out);
    for i in &args.include {
        b.include(i);
    }
    if let Some(name) = &args.runtime_crate {
        b.runtime_crate(name);
    }
    for (file, path) in &args.externs {
        b.extern_path(file, path);
    }
    if let Some(path) = &args.shared_units {
        b.shared_units(path);
    }
    for d in &args.define {
        b.define(d);
    }
    match b.compile(&args.files) {
        Ok(written) => {
            for w in written {
                println!("{}", w.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("idlc: {e}");
            ExitCode::FAILURE
        }
    }
}
