//! Generates the CosNaming stubs and skeletons from the workspace's `idl/CosNaming.idl`.
fn main() {
    idlc::Builder::new()
        .include("../idl")
        .compile(&["../idl/CosNaming.idl"])
        .expect("idlc failed on idl/CosNaming.idl");
}
