//! Generates the CosEventComm and CosEventChannelAdmin stubs and skeletons from the
//! workspace's `idl/CosEventChannelAdmin.idl` (which includes `CosEventComm.idl`, so one
//! output holds both modules).
fn main() {
    idlc::Builder::new()
        .include("../idl")
        .compile(&["../idl/CosEventChannelAdmin.idl"])
        .expect("idlc failed on idl/CosEventChannelAdmin.idl");
}
