//! The benches' build script, one function per job:
//! - the demux benchmark's interfaces (1, 5, 10, 20 and 50 operations), compiled by idlc with
//!   every demux strategy into `$OUT_DIR/<strategy>/ops<N>.rs`;
//! - omniORB's side of the comparison benches (`omniorb/*.cc`), linked against the system's
//!   omniORB 4 found with pkg-config. Without omniORB's development package the build fails: the
//!   comparison benches print rtorb and omniORB side by side and have no rtorb-only mode.

use std::path::PathBuf;

/// Operation names shaped like real ones (CosNaming, CosEvent, the design's examples), of
/// varied lengths, made distinct by a counter.
const WORDS: &[&str] = &[
    "resolve",
    "bind_new_context",
    "push",
    "list",
    "connect_push_supplier",
    "get_balance",
    "unbind",
    "obtain_push_consumer",
    "cube_long",
    "to_name",
    "destroy",
    "send_event_batch",
];

/// The operation names of the interface with `n` operations; the benchmark looks up these.
fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}_{i}", WORDS[i % WORDS.len()]))
        .collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    generate_demux_interfaces();
    build_omniorb_comparison();
}

fn generate_demux_interfaces() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let idl_dir = out.join("idl");
    std::fs::create_dir_all(&idl_dir).expect("create idl dir");
    let mut files = Vec::new();
    for n in [1usize, 5, 10, 20, 50] {
        let mut idl = format!("interface Ops{n} {{\n");
        for name in names(n) {
            idl.push_str(&format!("  long {name}(in long a);\n"));
        }
        idl.push_str("};\n");
        let path = idl_dir.join(format!("ops{n}.idl"));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(idl.as_str()) {
            std::fs::write(&path, idl).expect("write idl");
        }
        files.push(path);
    }
    for demux in idlc::Demux::ALL {
        idlc::Builder::new()
            .demux(demux)
            .out_dir(out.join(demux.name()))
            .compile(&files)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn build_omniorb_comparison() {
    const SOURCE: &str = "omniorb/cdr_bench.cc";
    println!("cargo:rerun-if-changed={SOURCE}");

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
