//! The guide's doctest includes `tests/fixtures/echo.rs` (a doctest has no build script to
//! generate it): it must be what `rtorb::build::Builder` generates from `echo.idl` today.

use std::path::Path;

#[test]
fn the_guide_fixture_is_what_the_builder_generates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (generated, read) = rtorb::build::Builder::new()
        .generate(dir.join("echo.idl"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read, [dir.join("echo.idl")]);
    let checked_in = std::fs::read_to_string(dir.join("echo.rs")).expect("tests/fixtures/echo.rs");
    assert!(
        generated == checked_in,
        "rtorb/tests/fixtures/echo.rs is stale; regenerate it with\n  \
         cargo run -p idlc -- --runtime-crate rtorb --out rtorb/tests/fixtures rtorb/tests/fixtures/echo.idl"
    );
    assert!(
        !generated.contains("::orb::"),
        "generated code names ::rtorb only"
    );
}
