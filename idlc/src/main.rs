//! `idlc`: compiles IDL files to Rust, one `.rs` file per IDL file.
//!
//! ```text
//! idlc [-I DIR]... [-D NAME[=VALUE]]... [--demux perfect|linear|binary|dynamic] [--runtime-crate CRATE] --out DIR FILE.idl...
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
    /// Directory to write the .rs files to.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// IDL files to compile.
    #[arg(required = true, value_name = "FILE.idl")]
    files: Vec<PathBuf>,
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
