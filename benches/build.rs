//! The benches' build script. It generates the demux benchmark's interfaces (1, 5, 10, 20, 50 and
//! 100 operations) with idlc, once per demux strategy, into `$OUT_DIR/<strategy>/ops<N>.rs`, and it
//! builds omniORB's side of the comparison benches, linked against the system's omniORB 4 found
//! with pkg-config. Without omniORB's development package and `omniidl` the build fails: the
//! benches print rtorb and omniORB side by side and have no rtorb-only mode.
//!
//! - `omniorb/cubit.idl` → idlc → `$OUT_DIR/cubit.rs`, rtorb's cubit stubs and skeleton.
//! - `omniorb/cdr_bench.cc` → `librtorb_omniorb_bench.a`, the `wire` bench's omniORB half.
//! - `omniorb/cubit.idl` → `omniidl -bcxx` → stubs and skeletons in `OUT_DIR`, compiled once and
//!   used twice: with `omniorb/cubit.cc` in `librtorb_omniorb_cubit.a` (an in-process cubit
//!   server and clients, called by the `cubit` bench and the `cubit_latency` tool), and with
//!   `omniorb/cubit_server_main.cc` in the `cubit_server` executable, whose path the Rust code
//!   gets as `env!("RTORB_CUBIT_SERVER")` (omniORB's server in a process of its own, so that an
//!   omniORB client reaches it over TCP rather than collocated).
//! - `omniorb/values.idl` → `omniidl -bcxx` → with `omniorb/value_bench.cc` in
//!   `librtorb_omniorb_values.a`, the `values` bench's omniORB half.

use omniorb_build::OmniOrb;
use std::path::Path;

include!("demux_names.rs");

fn main() {
    generate_demux_interfaces();
    generate_cubit();
    build_omniorb_comparison();
}

/// rtorb's side of the cubit: the same IDL omniORB's side is built from, through idlc, into
/// `$OUT_DIR/cubit.rs` (included by `src/cubit.rs`).
fn generate_cubit() {
    idlc::Builder::new()
        .compile(&["omniorb/cubit.idl"])
        .unwrap_or_else(|e| panic!("{e}"));
}

fn build_omniorb_comparison() {
    const CDR_BENCH: &str = "omniorb/cdr_bench.cc";
    const CUBIT_IDL: &str = "omniorb/cubit.idl";
    const CUBIT_LIB: &str = "omniorb/cubit.cc";
    const CUBIT_SERVER: &str = "omniorb/cubit_server_main.cc";
    const VALUES_IDL: &str = "omniorb/values.idl";
    const VALUES_BENCH: &str = "omniorb/value_bench.cc";
    for path in [
        "demux_names.rs",
        CDR_BENCH,
        CUBIT_IDL,
        CUBIT_LIB,
        CUBIT_SERVER,
        VALUES_IDL,
        VALUES_BENCH,
        "omniorb/cubit_servant.h",
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let out = omniorb_build::out_dir();

    // Emits the -L/-l flags for libomniDynamic4 (where value types live), libomniORB4 and
    // libomnithread, and hands back the include paths and defines for the C++ compile.
    let omniorb = OmniOrb::probe("the omniORB comparison benches", true);
    let cpp = || {
        let mut build = omniorb.cpp(&out);
        build.opt_level(2).extra_warnings(true).include("omniorb");
        build
    };

    cpp().file(CDR_BENCH).compile("rtorb_omniorb_bench");

    omniorb_build::omniidl(Path::new(VALUES_IDL), &out, &[]);
    cpp()
        .file(VALUES_BENCH)
        .file(out.join("valuesSK.cc"))
        .compile("rtorb_omniorb_values");

    omniorb_build::omniidl(Path::new(CUBIT_IDL), &out, &[]);
    let stubs = cpp().file(out.join("cubitSK.cc")).compile_intermediates();
    cpp()
        .file(CUBIT_LIB)
        .objects(&stubs)
        .compile("rtorb_omniorb_cubit");

    // The server executable: compiled by cc (same flags), linked with the same compiler.
    let mut objects = cpp().file(CUBIT_SERVER).compile_intermediates();
    objects.extend(stubs);
    let exe = out.join("cubit_server");
    omniorb.link_executable(&cpp(), &objects, &exe);
    println!("cargo:rustc-env=RTORB_CUBIT_SERVER={}", exe.display());
}

fn generate_demux_interfaces() {
    let out = omniorb_build::out_dir();
    let idl_dir = out.join("idl");
    std::fs::create_dir_all(&idl_dir).expect("create idl dir");
    let mut files = Vec::new();
    for n in OPERATION_COUNTS {
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
