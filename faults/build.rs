//! Generates the probe's stubs and skeleton from `idl/probe.idl` into `$OUT_DIR` (included by
//! `src/lib.rs`).
fn main() {
    idlc::Builder::new()
        .include("idl")
        .compile(&["idl/probe.idl"])
        .unwrap_or_else(|e| panic!("{e}"));
}
