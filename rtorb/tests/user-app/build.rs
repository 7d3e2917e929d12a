//! What the guide says a user's build script is.
fn main() -> Result<(), rtorb::build::Error> {
    rtorb::build::Builder::new()
        .include("idl")
        .compile(&["idl/inventory.idl"])?;
    Ok(())
}
