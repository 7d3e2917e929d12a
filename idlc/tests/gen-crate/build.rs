//! Compiles the test IDL with every demux strategy, and omniORB's IDL, into OUT_DIR.

use idlc::{Builder, Demux};
use std::path::{Path, PathBuf};

const OMNIORB: &str = "/usr/share/idl/omniORB";

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let idl = manifest.join("../idl");
    for demux in Demux::ALL {
        Builder::new()
            .include(&idl)
            .demux(demux)
            .out_dir(out.join(demux.name()))
            .compile(&[idl.join("echo.idl"), idl.join("ops50.idl")])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    Builder::new()
        .include(&idl)
        .out_dir(&out)
        .compile(&[idl.join("alltypes.idl")])
        .unwrap_or_else(|e| panic!("{e}"));
    omniorb(&out);
}

/// omniORB's COS IDL, as its own IDL compiler sees it.
fn omniorb(out: &Path) {
    let root = Path::new(OMNIORB);
    let mut b = Builder::new();
    b.define("__OMNIIDL__")
        .include(root)
        .include(root.join("COS"))
        .out_dir(out.join("omniorb"));
    b.compile(&[
        root.join("COS/CosNaming.idl"),
        root.join("COS/CosEventComm.idl"),
        root.join("COS/CosEventChannelAdmin.idl"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
}
