//! Generates the Rust side of `idl/interop.idl` with idlc, and builds the omniORB side: the
//! same IDL through `omniidl -bcxx -Wba` (stubs, skeletons and the `any` support `echo_any`
//! needs), then `cpp/server.cc` and `cpp/client.cc` as two executables, linked against the
//! system's omniORB 4 (pkg-config `omniDynamic4`, which brings `omniORB4`). The tests get
//! their paths as `env!("INTEROP_CXX_SERVER")` and `env!("INTEROP_CXX_CLIENT")`. Likewise
//! `idl/values.idl` (objects by value, used by rtorb both through DII and DSI and through
//! idlc's generated code) with `cpp/values_server.cc` and `cpp/values_client.cc`, as
//! `env!("VALUES_CXX_SERVER")` and `env!("VALUES_CXX_CLIENT")`. Without
//! omniORB's development package and `omniidl` the build fails: these are interop tests,
//! with nothing to run without the other ORB.

use omniorb_build::OmniOrb;
use std::path::Path;

const IDL: &str = "idl/interop.idl";
const VALUES_IDL: &str = "idl/values.idl";

fn main() {
    idlc::Builder::new()
        .compile(&[IDL, VALUES_IDL])
        .unwrap_or_else(|e| panic!("{e}"));
    build_omniorb_side();
}

fn build_omniorb_side() {
    for path in [
        "cpp/server.cc",
        "cpp/client.cc",
        "cpp/large.h",
        "cpp/values_server.cc",
        "cpp/values_client.cc",
        VALUES_IDL,
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let cxx_out = omniorb_build::out_dir().join("omniorb");
    std::fs::create_dir_all(&cxx_out).expect("create OUT_DIR/omniorb");

    // Only for the compile flags and the link line of our own executables: nothing of
    // omniORB's is linked into the Rust crate.
    let omniorb = OmniOrb::probe("the interop tests", false);
    let cpp = || {
        let mut build = omniorb.cpp(&cxx_out);
        build.opt_level(1);
        build
    };
    for (idl, stem, programs) in [
        (
            IDL,
            "interop",
            [
                ("cpp/server.cc", "interop_server", "INTEROP_CXX_SERVER"),
                ("cpp/client.cc", "interop_client", "INTEROP_CXX_CLIENT"),
            ],
        ),
        (
            VALUES_IDL,
            "values",
            [
                ("cpp/values_server.cc", "values_server", "VALUES_CXX_SERVER"),
                ("cpp/values_client.cc", "values_client", "VALUES_CXX_CLIENT"),
            ],
        ),
    ] {
        omniorb_build::omniidl(Path::new(idl), &cxx_out, &["-Wba"]);
        // omniidl's skeleton of an abstract interface without operations (values.idl's
        // Thing) leaves its dispatch's parameter unused.
        let stubs = cpp()
            .flag_if_supported("-Wno-unused-parameter")
            .file(cxx_out.join(format!("{stem}SK.cc")))
            .file(cxx_out.join(format!("{stem}DynSK.cc")))
            .compile_intermediates();
        for (source, exe, var) in programs {
            let mut objects = cpp().file(source).compile_intermediates();
            objects.extend(stubs.iter().cloned());
            let exe = cxx_out.join(exe);
            omniorb.link_executable(&cpp(), &objects, &exe);
            println!("cargo:rustc-env={var}={}", exe.display());
        }
    }
}
