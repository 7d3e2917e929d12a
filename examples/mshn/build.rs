//! Generates the MSHN event structs from `idl/Mshn.idl` into `$OUT_DIR` (included by
//! `src/lib.rs`).
fn main() {
    idlc::Builder::new()
        .include("../../idl")
        .compile(&["../../idl/Mshn.idl"])
        .unwrap_or_else(|e| panic!("{e}"));
}
