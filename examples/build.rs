//! Generates the examples' stubs and skeletons from `idl/echo.idl` and `idl/cubit.idl` into
//! `$OUT_DIR` (included by `src/lib.rs`).
fn main() {
    idlc::Builder::new()
        .include("idl")
        .compile(&["idl/echo.idl", "idl/cubit.idl"])
        .unwrap_or_else(|e| panic!("{e}"));
}
