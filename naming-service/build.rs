//! Generates the CosNaming stubs and skeletons from the workspace's `idl/CosNaming.idl`, and
//! the `Greeter` stubs `tests/omniorb.rs` calls an omniORB C++ server with (the library
//! itself does not include them).
fn main() {
    idlc::Builder::new()
        .include("../idl")
        .compile(&["../idl/CosNaming.idl"])
        .expect("idlc failed on idl/CosNaming.idl");
    idlc::Builder::new()
        .compile(&["tests/omniorb/greeter.idl"])
        .expect("idlc failed on tests/omniorb/greeter.idl");
}
