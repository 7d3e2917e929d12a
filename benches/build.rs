//! Builds omniORB's side of the comparison benches (`omniorb/cdr_bench.cc`), linked against the
//! system's omniORB 4 found with pkg-config. Without omniORB's development package the build
//! fails: the wire benches print rtorb and omniORB side by side and have no rtorb-only mode.

fn main() {
    const SOURCE: &str = "omniorb/cdr_bench.cc";
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed=build.rs");

    // Emits the -L/-l flags for libomniORB4 and libomnithread, and hands back the include
    // paths and defines for the C++ compile.
    let omniorb = match pkg_config::Config::new()
        .atleast_version("4.2")
        .probe("omniORB4")
    {
        Ok(lib) => lib,
        Err(e) => panic!(
            "the omniORB comparison benches need libomniorb4-dev (scripts/test.sh installs it): \
             pkg-config cannot find omniORB4 >= 4.2: {e}"
        ),
    };

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file(SOURCE)
        .std("c++11")
        .opt_level(2)
        .warnings(true)
        .extra_warnings(true);
    for path in &omniorb.include_paths {
        build.include(path);
    }
    for (name, value) in &omniorb.defines {
        build.define(name, value.as_deref());
    }
    // Also links the C++ standard library the object needs (libstdc++ with g++).
    build.cpp_link_stdlib(Some("stdc++"));
    build.compile("rtorb_omniorb_bench");
}
